"""A single-file HTML page (inline CSS and JS, no network) that steps through a backward pass.

The page draws the graph as inline SVG and reveals the pass one node at a time: the node that
runs is highlighted, its gradient appears, and the narration of the step is shown beside it.
A graph made by ``nn.Module`` calls is drawn module by module (see ``views``): each module a
box until opened; ``window.leafgradShow(view)`` switches views, ``data-view`` names the one
shown and ``data-groups`` counts the modules.
The graph fits its pane at load, zooms (wheel, buttons, + and -) and pans (drag), and each step
brings its node into view. ``?steps=N`` in the URL runs N steps on load;
``window.leafgradStep()`` runs one. The body carries ``data-step``, ``data-total``,
``data-nodes``, and what the browser test reads: ``data-drawn`` (node boxes the browser laid
out), ``data-fit`` (all of them inside the pane at load), ``data-active-visible`` (the running
node on screen) and ``data-zoom`` (screen px per drawing unit).
"""

from __future__ import annotations

import json
from html import escape

from ..locale import strings
from .graph import Graph, as_graph
from .page_assets import CSS, JS
from .svg import render_svg
from .views import closed_in, group_steps, view_graph, view_keys


def _json_script(obj) -> str:
    # "</" must not appear inside a <script> element; JSON allows "<\\/" as an escape
    return json.dumps(obj, ensure_ascii=False).replace("</", "<\\/")


def html_page(target, lang: str | None = None, diagnosis=None) -> str:
    """The page for a ``Graph``, an ``Explanation`` or tensor(s), as one HTML string.

    A graph whose nodes were made by ``nn.Module`` calls opens with every module closed (one
    box each, with its parameters and their gradients); clicking a box opens it, down to its
    nodes. ``diagnosis`` (text) adds a gradient-flow section to the side panel; for an
    ``Explanation`` of a model it is computed (``leafgrad.autograd.diagnose``).
    """
    from ..autograd.explanation import Explanation

    if isinstance(target, Explanation):
        g = as_graph(target, lang or target.lang)
        narration = target.text(lang or target.lang)
        if diagnosis is None and target.modules:
            try:
                from ..autograd.gradflow import diagnose_explanation

                diagnosis = diagnose_explanation(target, lang=lang or target.lang)
            except Exception:  # noqa: BLE001 - a diagnosis must never hide the page
                diagnosis = None
    else:
        g = target if isinstance(target, Graph) else as_graph(target, lang)
        narration = ""
    lang = lang or g.lang
    S = strings(lang)
    keys = view_keys(g)
    views = []
    inline = ""
    for key in keys:
        vg, frames = view_graph(g, closed_in(g, key))
        svg = render_svg(vg, interactive=True, prefix=None, frames=frames)
        if len(keys) == 1:
            inline = svg  # no modules: one drawing, in the page itself
        else:
            views.append(f'<template id="lg-view-{key}" data-nodes="{len(vg.nodes)}">{svg}'
                         "</template>")
    node_group = {n.id: n.group for n in g.nodes if n.group is not None}
    steps = [{"node": s["node"], "text": s["text"]} for s in g.steps]
    groups = {gg.id: {"label": gg.label, "parent": gg.parent, "text": gg.text}
              for gg in g.groups}
    meta = {"views": keys, "start": keys[0], "nodeGroup": node_group, "groups": groups,
            "groupSteps": group_steps(g)}
    text = {"step": S["viz_step"], "start": S["viz_start"], "done": S["viz_done"],
            "hint": S["viz_group_hint"]}
    full = f"<details><summary>{escape(S['viz_full'])}</summary><pre id='lg-full'>" \
           f"{escape(narration)}</pre></details>" if narration else ""
    if diagnosis is not None and not isinstance(diagnosis, str):
        diagnosis = diagnosis.html(lang)  # a GradientReport
    elif diagnosis:
        diagnosis = f"<pre>{escape(diagnosis)}</pre>"
    diag = f"<details id='lg-diag' open><summary>{escape(S['viz_diag'])}</summary>" \
           f"{diagnosis}</details>" if diagnosis else ""
    group_buttons = "" if not g.groups else (
        f'<button id="lg-open" type="button">{escape(S["viz_expand_all"])}</button>'
        f'<button id="lg-close" type="button">{escape(S["viz_collapse_all"])}</button>')
    return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}">
<head>
<meta charset="utf-8">
<meta name="generator" content="leafgrad">
<title>{escape(g.title)}</title>
<style>{CSS}</style>
</head>
<body data-step="0" data-total="{len(steps)}" data-nodes="{len(g.nodes)}"
 data-groups="{len(g.groups)}">
<header><h1>{escape(g.title)}</h1><div class="legend">{escape(S["viz_legend"])}</div></header>
<main>
<section id="graph">
<div id="zoom">{group_buttons}<button id="lg-zin" type="button" title="+">+</button><button
 id="lg-zout" type="button" title="-">−</button><button id="lg-fit"
 type="button">{escape(S["viz_fit"])}</button></div>
{inline}
</section>
<aside id="panel">
<div id="controls"><button id="lg-prev" type="button">{escape(S["viz_prev"])}</button><button
 id="lg-next" type="button">{escape(S["viz_next"])}</button><button id="lg-play"
 type="button">{escape(S["viz_play"])}</button><button id="lg-reset"
 type="button">{escape(S["viz_reset"])}</button></div>
<div id="counter"></div>
<div id="narration"></div>
{diag}
{full}
</aside>
</main>
{"".join(views)}
<script type="application/json" id="lg-steps">{_json_script(steps)}</script>
<script type="application/json" id="lg-meta">{_json_script(meta)}</script>
<script type="application/json" id="lg-text">{_json_script(text)}</script>
<script>{JS}</script>
</body>
</html>
"""
