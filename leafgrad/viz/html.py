"""A single-file HTML page (inline CSS and JS, no network) that steps through a backward pass.

The page draws the graph as inline SVG and reveals the pass one node at a time: the node that
runs is highlighted, its gradient appears, and the narration of the step is shown beside it.
``?steps=N`` in the URL runs N steps on load; ``window.leafgradStep()`` runs one. The body
carries ``data-step``, ``data-total``, ``data-nodes`` and, once the script has checked that
every node box was laid out by the browser, ``data-drawn`` (what the browser test reads).
"""

from __future__ import annotations

import json
from html import escape

from ..locale import strings
from .graph import Graph, as_graph
from .svg import render_svg

_CSS = """
body{font-family:"DejaVu Sans","Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",
  "PingFang SC",Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:10px 16px;background:#fff;border-bottom:1px solid #ddd}
header h1{font-size:18px;margin:0 0 4px 0}
.legend{font-size:12px;color:#555}
main{display:flex;gap:12px;padding:12px;align-items:flex-start}
#graph{flex:1 1 auto;overflow:auto;background:#fff;border:1px solid #ddd;border-radius:6px;
  padding:6px;min-width:200px}
#panel{flex:0 0 420px;background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px}
#controls button{font-size:14px;margin:0 4px 6px 0;padding:4px 10px}
#counter{font-weight:bold;margin:4px 0 8px 0}
#narration{white-space:pre-wrap;font-size:12.5px;line-height:1.45;font-family:"DejaVu Sans Mono",
  Menlo,Consolas,"Noto Sans Mono CJK SC","WenQuanYi Micro Hei Mono",monospace;max-height:70vh;
  overflow:auto}
.node[data-state="pending"] .grad{visibility:hidden}
.node[data-state="active"] rect{stroke:#d18a00;stroke-width:3;fill:#ffe7a3}
.node[data-state="done"] rect{stroke-width:1.8}
.edge-g[data-flowed="1"] .edge{stroke:#d18a00;stroke-width:2}
"""

_JS = """
(function(){
  var STEPS = JSON.parse(document.getElementById('lg-steps').textContent);
  var TEXT = JSON.parse(document.getElementById('lg-text').textContent);
  var body = document.body, cur = 0, timer = null;
  var nodes = Array.prototype.slice.call(document.querySelectorAll('#graph g.node'));
  var edges = Array.prototype.slice.call(document.querySelectorAll('#graph g.edge-g'));
  function render(){
    body.setAttribute('data-step', String(cur));
    nodes.forEach(function(g){
      var s = parseInt(g.getAttribute('data-step'), 10);
      var state = s < cur || (s === 0 && cur > 0) ? 'done' : (s === cur && cur > 0 ? 'active'
                  : 'pending');
      g.setAttribute('data-state', state);
    });
    edges.forEach(function(e){
      var s = parseInt(e.getAttribute('data-step'), 10);
      e.setAttribute('data-flowed', cur > 0 && s <= cur ? '1' : '0');
    });
    document.getElementById('counter').textContent =
      TEXT.step + ' ' + cur + ' / ' + STEPS.length;
    var n = document.getElementById('narration');
    if (cur === 0) { n.textContent = TEXT.start; }
    else { n.textContent = STEPS[cur - 1].text + (cur === STEPS.length ? '\\n\\n' + TEXT.done
                                                                        : ''); }
  }
  function step(){ if (cur < STEPS.length) { cur += 1; render(); } return cur; }
  function back(){ if (cur > 0) { cur -= 1; render(); } return cur; }
  function reset(){ cur = 0; if (timer) { clearInterval(timer); timer = null; } render(); }
  function play(){
    if (timer) { clearInterval(timer); timer = null; return; }
    if (cur >= STEPS.length) { cur = 0; }
    timer = setInterval(function(){ if (step() >= STEPS.length) { clearInterval(timer);
      timer = null; } }, 900);
  }
  window.leafgradStep = step; window.leafgradBack = back; window.leafgradReset = reset;
  document.getElementById('lg-next').onclick = step;
  document.getElementById('lg-prev').onclick = back;
  document.getElementById('lg-reset').onclick = reset;
  document.getElementById('lg-play').onclick = play;
  document.addEventListener('keydown', function(ev){
    if (ev.key === 'ArrowRight') { step(); } else if (ev.key === 'ArrowLeft') { back(); }
  });
  // the browser test reads data-drawn: how many node boxes have a real laid-out size
  var drawn = 0;
  nodes.forEach(function(g){ var b = g.getBBox(); if (b.width > 0 && b.height > 0) { drawn++; } });
  body.setAttribute('data-drawn', String(drawn));
  render();
  var m = /[?&]steps=(\\d+)/.exec(window.location.search);
  if (m) { var k = parseInt(m[1], 10); for (var i = 0; i < k; i++) { step(); } }
  body.setAttribute('data-ready', '1');
})();
"""


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
<style>{_CSS}</style>
</head>
<body data-step="0" data-total="{len(steps)}" data-nodes="{len(g.nodes)}">
<header><h1>{escape(g.title)}</h1><div class="legend">{escape(S["viz_legend"])}</div></header>
<main>
<section id="graph">
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
<script>{_JS}</script>
</body>
</html>
"""
