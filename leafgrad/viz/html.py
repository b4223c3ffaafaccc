"""A single-file HTML page (inline CSS and JS, no network) that steps through a backward pass.

The page draws the graph as inline SVG and reveals the pass one node at a time: the node that
runs is highlighted, its gradient appears, and the narration of the step is shown beside it.
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


def _json_script(obj) -> str:
    # "</" must not appear inside a <script> element; JSON allows "<\\/" as an escape
    return json.dumps(obj, ensure_ascii=False).replace("</", "<\\/")


def html_page(target, lang: str | None = None) -> str:
    """The page for a ``Graph``, an ``Explanation`` or tensor(s), as one HTML string."""
    from ..autograd.explanation import Explanation

    if isinstance(target, Explanation):
        g = as_graph(target, lang or target.lang)
        narration = target.text(lang or target.lang)
    else:
        g = target if isinstance(target, Graph) else as_graph(target, lang)
        narration = ""
    lang = lang or g.lang
    S = strings(lang)
    svg = render_svg(g, interactive=True)
    steps = [{"node": s["node"], "text": s["text"]} for s in g.steps]
    text = {"step": S["viz_step"], "start": S["viz_start"], "done": S["viz_done"]}
    full = f"<details><summary>{escape(S['viz_full'])}</summary><pre id='lg-full'>" \
           f"{escape(narration)}</pre></details>" if narration else ""
    return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}">
<head>
<meta charset="utf-8">
<meta name="generator" content="leafgrad">
<title>{escape(g.title)}</title>
<style>{CSS}</style>
</head>
<body data-step="0" data-total="{len(steps)}" data-nodes="{len(g.nodes)}">
<header><h1>{escape(g.title)}</h1><div class="legend">{escape(S["viz_legend"])}</div></header>
<main>
<section id="graph">
<div id="zoom"><button id="lg-zin" type="button" title="+">+</button><button id="lg-zout"
 type="button" title="-">−</button><button id="lg-fit"
 type="button">{escape(S["viz_fit"])}</button></div>
{svg}
</section>
<aside id="panel">
<div id="controls"><button id="lg-prev" type="button">{escape(S["viz_prev"])}</button><button
 id="lg-next" type="button">{escape(S["viz_next"])}</button><button id="lg-play"
 type="button">{escape(S["viz_play"])}</button><button id="lg-reset"
 type="button">{escape(S["viz_reset"])}</button></div>
<div id="counter"></div>
<div id="narration"></div>
{full}
</aside>
</main>
<script type="application/json" id="lg-steps">{_json_script(steps)}</script>
<script type="application/json" id="lg-text">{_json_script(text)}</script>
<script>{JS}</script>
</body>
</html>
"""
