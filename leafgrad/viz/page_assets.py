"""The stepper page's inline CSS and JavaScript (kept apart from the Python that fills it in).

The graph pane is a fixed-size viewport; the camera is the transform of the drawing's group
(``#lg-cam``), so moving it re-lays out nothing, and the panes are size-contained, so a new
narration does not re-lay out the graph either. At load the camera fits the whole graph; the
wheel zooms about the pointer, a drag pans, the buttons (and + - 0) zoom and fit, and each step
brings the node it runs into view, zooming in when the node would be too small to read. The
side panel has a fixed width and scrolls on its own, so it never squeezes the graph; on a
narrow window it moves below the graph. A module-grouped graph comes as several drawings
(``<template id="lg-view-KEY">``, see ``views``); one at a time is cloned into the pane.
"""

CSS = """
*{box-sizing:border-box}
html,body{height:100%}
body{font-family:"DejaVu Sans","Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",
  "PingFang SC",Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa;
  display:flex;flex-direction:column}
header{flex:0 0 auto;padding:8px 16px;background:#fff;border-bottom:1px solid #ddd}
header h1{font-size:17px;margin:0 0 3px 0}
.legend{font-size:12px;color:#555}
main{flex:1 1 auto;min-height:0;display:flex;gap:10px;padding:10px}
main{contain:strict}
#graph{position:relative;flex:1 1 0;min-width:0;min-height:0;background:#fff;contain:strict;
  border:1px solid #ddd;border-radius:6px;overflow:hidden;cursor:grab;touch-action:none}
#graph.dragging{cursor:grabbing}
#graph > svg{display:block;width:100%;height:100%}
#zoom{position:absolute;right:8px;top:8px;display:flex;gap:4px;z-index:2}
#zoom button{font-size:15px;min-width:32px;padding:3px 8px;background:#fff;
  border:1px solid #bbb;border-radius:4px;cursor:pointer}
#panel{flex:0 0 clamp(280px,34vw,440px);min-height:0;overflow:auto;background:#fff;
  border:1px solid #ddd;border-radius:6px;padding:10px}
#controls button{font-size:14px;margin:0 4px 6px 0;padding:4px 10px}
#counter{font-weight:bold;margin:4px 0 8px 0}
#narration,#lg-full{white-space:pre-wrap;overflow-wrap:anywhere;font-size:12.5px;
  line-height:1.45;font-family:"DejaVu Sans Mono",Menlo,Consolas,"Noto Sans Mono CJK SC",
  "WenQuanYi Micro Hei Mono",monospace}
.node[data-state="pending"] .grad{visibility:hidden}
.node[data-state="active"] > rect{stroke:#d18a00;stroke-width:3;fill:#ffe7a3}
.node[data-state="done"] > rect{stroke-width:1.8}
.node[data-state="partial"] > rect{stroke:#d18a00;stroke-width:2;stroke-dasharray:6 3}
.kind-group,.frame .flabel{cursor:pointer}
#lg-diag pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px}
#narration .lg-module{color:#4a3a73;border-left:3px solid #8a6cc4;padding-left:6px;
  margin-bottom:8px}
.edge-g[data-flowed="1"] .edge{stroke:#d18a00;stroke-width:2}
@media (max-width:760px){html,body{height:auto}main{flex-direction:column;contain:none}
  #graph{flex:0 0 62vh}#panel{flex:0 0 auto}}
"""

JS = """
(function(){
  var STEPS = JSON.parse(document.getElementById('lg-steps').textContent);
  var TEXT = JSON.parse(document.getElementById('lg-text').textContent);
  var META = JSON.parse(document.getElementById('lg-meta').textContent);
  var body = document.body, cur = 0, timer = null;
  var pane = document.getElementById('graph');
  var svg = null, cam = null, W = 1, H = 1, view = null;
  var nodes = [], edges = [], byNode = {}, nodeStep = [], edgeStep = [], nodeState = [],
      edgeState = [];
  var k = 1, tx = 0, ty = 0;
  var READABLE = 0.75;  // px per drawing unit below which a step zooms in to its node
  var MIN_K = 0.02, MAX_K = 4;

  // -- the camera --------------------------------------------------------------------------
  function paneSize(){
    return {w: Math.max(pane.clientWidth, 1), h: Math.max(pane.clientHeight, 1)};
  }
  function apply(){
    cam.setAttribute('transform', 'matrix(' + k + ' 0 0 ' + k + ' ' + tx + ' ' + ty + ')');
    body.setAttribute('data-zoom', k.toFixed(4));
  }
  function fit(){  // the whole drawing, centred; never enlarged past its natural size
    var p = paneSize(), m = 8;
    k = Math.min((p.w - 2 * m) / W, (p.h - 2 * m) / H, 1);
    tx = (p.w - W * k) / 2; ty = (p.h - H * k) / 2;
    apply();
  }
  function fitBox(bb){  // a region of the drawing, as large as fits (at most natural size)
    var p = paneSize(), m = 16;
    var k2 = Math.min((p.w - 2 * m) / bb.width, (p.h - 2 * m) / bb.height, 1);
    centreOn(bb.x + bb.width / 2, bb.y + bb.height / 2, Math.max(k2, k));
  }
  function zoomAt(f, sx, sy){  // f > 1 zooms in, about the pane point (sx, sy)
    var k2 = Math.min(Math.max(k * f, MIN_K), MAX_K);
    tx = sx - (sx - tx) * k2 / k; ty = sy - (sy - ty) * k2 / k; k = k2;
    apply();
  }
  function centreOn(cx, cy, k2){
    var p = paneSize();
    k = k2; tx = p.w / 2 - cx * k; ty = p.h / 2 - cy * k;
    apply();
  }
  function panePoint(ev){
    var r = pane.getBoundingClientRect();
    return {x: ev.clientX - r.left, y: ev.clientY - r.top};
  }
  pane.addEventListener('wheel', function(ev){
    ev.preventDefault();
    var pt = panePoint(ev);
    zoomAt(ev.deltaY < 0 ? 1.15 : 1 / 1.15, pt.x, pt.y);
  }, {passive: false});
  var drag = null;
  pane.addEventListener('pointerdown', function(ev){
    if (ev.button !== 0 || ev.target.closest('button')) { return; }
    drag = {x: ev.clientX, y: ev.clientY, tx: tx, ty: ty, target: ev.target, moved: false};
    pane.classList.add('dragging');
    if (pane.setPointerCapture) { pane.setPointerCapture(ev.pointerId); }
  });
  pane.addEventListener('pointermove', function(ev){
    if (!drag) { return; }
    if (Math.abs(ev.clientX - drag.x) + Math.abs(ev.clientY - drag.y) > 4) { drag.moved = true; }
    tx = drag.tx + ev.clientX - drag.x; ty = drag.ty + ev.clientY - drag.y;
    apply();
  });
  function endDrag(){ drag = null; pane.classList.remove('dragging'); }
  pane.addEventListener('pointerup', function(){
    var d = drag; endDrag();
    if (!d || d.moved || !d.target || !d.target.closest) { return; }
    var box = d.target.closest('g.kind-group');  // a click on a module opens it
    if (box) { show(box.getAttribute('data-node').slice(1), true); return; }
    var frame = d.target.closest('g.frame');  // a click on an open module closes it
    if (frame) {
      var gid = frame.getAttribute('data-group'), parent = META.groups[gid].parent;
      show(parent && hasView(parent) ? parent : 'top', false);
    }
  });
  pane.addEventListener('pointercancel', endDrag);
  function zoomButton(f){ var p = paneSize(); zoomAt(f, p.w / 2, p.h / 2); }
  document.getElementById('lg-zin').onclick = function(){ zoomButton(1.4); };
  document.getElementById('lg-zout').onclick = function(){ zoomButton(1 / 1.4); };
  document.getElementById('lg-fit').onclick = fit;
  var openAll = document.getElementById('lg-open'), closeAll = document.getElementById('lg-close');
  if (openAll) { openAll.onclick = function(){ show('all', false); }; }
  if (closeAll) { closeAll.onclick = function(){ show('top', false); }; }

  // -- bringing the running node into view -------------------------------------------------
  function inView(g){  // is the node's box wholly on screen, inside the pane?
    var a = g.getBoundingClientRect(), b = pane.getBoundingClientRect();
    return a.width > 0 && a.left >= b.left - 1 && a.right <= b.right + 1 &&
           a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  }
  function follow(g){
    var bb = g.getBBox(), p = paneSize();
    var most = Math.min((p.w - 16) / bb.width, (p.h - 16) / bb.height);  // the box still fits
    var cx = bb.x + bb.width / 2, cy = bb.y + bb.height / 2;
    if (k < READABLE) {  // too small to read: zoom in to natural size, at most
      centreOn(cx, cy, Math.max(Math.min(1, most), k));
    } else if (!inView(g)) {
      centreOn(cx, cy, Math.min(k, most));
    }
  }

  // -- views: which modules are open ---------------------------------------------------------
  function hasView(key){ return !!document.getElementById('lg-view-' + key); }
  // a graph with no modules carries its one drawing inline, not in a template
  function show(key, focus){
    var tpl = document.getElementById('lg-view-' + key), inline = pane.querySelector('svg');
    if (tpl) {
      if (svg) { pane.removeChild(svg); }
      svg = document.importNode(tpl.content.querySelector('svg'), true);
      pane.appendChild(svg);
    } else if (inline && !svg) {  // a graph with no modules: its one drawing is in the page
      svg = inline;
    } else { return false; }
    view = key;
    body.setAttribute('data-view', key);
    cam = svg.querySelector('.lg-cam');
    W = parseFloat(svg.getAttribute('width')); H = parseFloat(svg.getAttribute('height'));
    svg.removeAttribute('viewBox');  // the camera is cam's transform: screen = k * drawing + t
    nodes = Array.prototype.slice.call(svg.querySelectorAll('g.node'));
    edges = Array.prototype.slice.call(svg.querySelectorAll('g.edge-g'));
    byNode = {};
    nodes.forEach(function(g){ byNode[g.getAttribute('data-node')] = g; });
    nodeStep = nodes.map(function(g){ return parseInt(g.getAttribute('data-step'), 10); });
    edgeStep = edges.map(function(e){ return parseInt(e.getAttribute('data-step'), 10); });
    nodeState = nodes.map(function(){ return ''; });
    edgeState = edges.map(function(){ return ''; });
    fit();
    measure();
    var frame = focus ? svg.querySelector('g.frame[data-group="' + key + '"]') : null;
    if (frame) { fitBox(frame.getBBox()); }
    render(false);
    return true;
  }
  function measure(){
    // what the browser test reads: every node box laid out (data-drawn), all of them inside
    // the pane after a fit (data-fit), and after each step whether the running node shows
    var drawn = 0, fitted = 0;
    nodes.forEach(function(g){
      var b = g.getBBox();
      if (b.width > 0 && b.height > 0) { drawn++; }
      if (inView(g)) { fitted++; }
    });
    body.setAttribute('data-view-nodes', String(nodes.length));
    body.setAttribute('data-drawn', String(drawn));
    body.setAttribute('data-fit', fitted === nodes.length ? '1' : '0');
  }
  function elementFor(nid){  // the node's box, or the closed module's box that holds it
    if (byNode[nid]) { return byNode[nid]; }
    var gid = META.nodeGroup[nid], found = null;
    while (gid) {
      if (byNode['G' + gid]) { found = byNode['G' + gid]; }
      gid = META.groups[gid].parent;
    }
    return found;
  }

  // -- the steps ------------------------------------------------------------------------------
  function stateOf(i){
    var g = nodes[i], nid = g.getAttribute('data-node');
    if (g.getAttribute('data-kind') === 'group') {
      var st = META.groupSteps[nid.slice(1)] || [];
      if (cur === 0 || !st.length) { return 'pending'; }
      if (st.indexOf(cur) >= 0) { return 'active'; }
      if (st[st.length - 1] < cur) { return 'done'; }
      return st[0] < cur ? 'partial' : 'pending';
    }
    var s = nodeStep[i];
    return s < cur || (s === 0 && cur > 0) ? 'done' : (s === cur && cur > 0 ? 'active'
           : 'pending');
  }
  function render(doFollow){
    // touch only what changed: a step changes two nodes, not the whole drawing
    body.setAttribute('data-step', String(cur));
    for (var i = 0; i < nodes.length; i++) {
      var st = stateOf(i);
      if (st !== nodeState[i]) { nodes[i].setAttribute('data-state', st); nodeState[i] = st; }
    }
    for (var j = 0; j < edges.length; j++) {
      var f = cur > 0 && edgeStep[j] <= cur ? '1' : '0';
      if (f !== edgeState[j]) { edges[j].setAttribute('data-flowed', f); edgeState[j] = f; }
    }
    document.getElementById('counter').textContent =
      TEXT.step + ' ' + cur + ' / ' + STEPS.length;
    var n = document.getElementById('narration');
    n.textContent = '';
    if (cur === 0) {
      n.textContent = TEXT.start + (META.views.length > 1 ? ' ' + TEXT.hint : '');
    } else {
      var nid = STEPS[cur - 1].node, gid = META.nodeGroup[nid];
      if (gid) {
        var m = document.createElement('div');
        m.className = 'lg-module';
        m.textContent = META.groups[gid].text;
        n.appendChild(m);
      }
      var t = document.createElement('div');
      t.textContent = STEPS[cur - 1].text + (cur === STEPS.length ? '\\n\\n' + TEXT.done : '');
      n.appendChild(t);
    }
    var active = cur > 0 ? elementFor(STEPS[cur - 1].node) : null;
    if (active && doFollow !== false) { follow(active); }
    body.setAttribute('data-active-visible', active ? (inView(active) ? '1' : '0') : '');
  }
  function step(){ if (cur < STEPS.length) { cur += 1; render(); } return cur; }
  function back(){ if (cur > 0) { cur -= 1; render(); } return cur; }
  function reset(){ cur = 0; if (timer) { clearInterval(timer); timer = null; } fit(); render(); }
  function play(){
    if (timer) { clearInterval(timer); timer = null; return; }
    if (cur >= STEPS.length) { cur = 0; }
    timer = setInterval(function(){ if (step() >= STEPS.length) { clearInterval(timer);
      timer = null; } }, 900);
  }
  window.leafgradStep = step; window.leafgradBack = back; window.leafgradReset = reset;
  window.leafgradFit = fit; window.leafgradShow = function(key){ return show(key, true); };
  window.leafgradViews = META.views;
  document.getElementById('lg-next').onclick = step;
  document.getElementById('lg-prev').onclick = back;
  document.getElementById('lg-reset').onclick = reset;
  document.getElementById('lg-play').onclick = play;
  document.addEventListener('keydown', function(ev){
    if (ev.key === 'ArrowRight') { step(); } else if (ev.key === 'ArrowLeft') { back(); }
    else if (ev.key === '+' || ev.key === '=') { zoomButton(1.4); }
    else if (ev.key === '-') { zoomButton(1 / 1.4); } else if (ev.key === '0') { fit(); }
  });
  show(META.start, false);
  var v = /[?&]view=([\\w-]+)/.exec(window.location.search);
  if (v) { show(v[1], true); }
  var m = /[?&]steps=(\\d+)/.exec(window.location.search);
  if (m) { var n = parseInt(m[1], 10); for (var i = 0; i < n; i++) { step(); } }
  window.addEventListener('resize', function(){ if (cur === 0) { fit(); } else { render(); } });
  body.setAttribute('data-ready', '1');
})();
"""
