"""Wide graphs in a real headless browser: the page fits them, zooms, pans and follows the pass.

One Chromium (driven over the DevTools pipe, see tests/cdp.py) serves every page of this
module. The graphs: a 12-layer ReLU MLP and a 2-layer LSTM unrolled over 5 steps, both written
with raw ops. Set LEAFGRAD_REQUIRE_BROWSER=1 (CI does) to fail instead of skipping when there is
no browser (or, for the Chinese page, no CJK font).
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from cdp import Browser, assert_cjk_glyphs, has_cjk_font, png_pixels
from wide_graphs import lstm, mlp

from leafgrad.autograd.explanation import explain
from leafgrad.autograd.sites import recording_sites

REQUIRE = os.environ.get("LEAFGRAD_REQUIRE_BROWSER") == "1"
W, H = 1200, 800  # the window


def _missing(msg: str):
    if REQUIRE:
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="module")
def chromium():
    path = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
    if path is None:
        _missing("no headless chromium found (apt-get install -y chromium)")
    b = Browser(path)
    yield b
    b.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    d = tmp_path_factory.mktemp("wide")
    out = {}
    for name, build in (("mlp", mlp), ("lstm", lstm)):
        with recording_sites():
            loss, names = build()
        ex = explain(loss, names=names)
        for lang in ("en", "zh") if name == "mlp" else ("en",):
            path = d / f"{name}-{lang}.html"
            ex.save_html(str(path), lang)
            out[name, lang] = (path.as_uri(), ex)
    return out


# the geometry the tests measure themselves, from the browser's layout
RECTS = """(function(){
  var pane = document.getElementById('graph').getBoundingClientRect();
  var nodes = Array.prototype.map.call(document.querySelectorAll('#graph g.node'), function(g){
    var r = g.getBoundingClientRect();
    return {id: g.id, kind: g.getAttribute('data-kind'), l: r.left, r: r.right, t: r.top,
            b: r.bottom};
  });
  return {pane: {l: pane.left, r: pane.right, t: pane.top, b: pane.bottom}, nodes: nodes};
})()"""


def _inside(n: dict, pane: dict) -> bool:
    return (n["l"] >= pane["l"] - 1 and n["r"] <= pane["r"] + 1 and n["t"] >= pane["t"] - 1
            and n["b"] <= pane["b"] + 1)


def _near(px: np.ndarray, rgb, tol: int = 12) -> float:
    """The fraction of pixels within ``tol`` of colour ``rgb`` (boxes drawn small blend a bit)."""
    return float(np.all(np.abs(px - np.array(rgb)) <= tol, axis=-1).mean()) if px.size else 0.0


def _count(px: np.ndarray, rgb) -> int:
    return int(np.all(px == np.array(rgb), axis=-1).sum())


@pytest.mark.parametrize("name", ["mlp", "lstm"])
def test_wide_graph_fits_the_pane_at_load(chromium, pages, name):
    url, ex = pages[name, "en"]
    page = chromium.open(url, W, H)
    try:
        assert page.body("ready") == "1"
        n = len(ex.graph().nodes)
        assert page.body("nodes") == page.body("drawn") == str(n)
        geo = page.js(RECTS)
        pane = geo["pane"]
        assert pane["r"] - pane["l"] > 0.6 * W  # the side panel leaves the graph most room
        outside = [g["id"] for g in geo["nodes"] if not _inside(g, pane)]
        assert outside == [] and page.body("fit") == "1"
        # and the boxes really are painted: the output's green box, the leaves' blue ones
        px = png_pixels(page.screenshot())
        assert px.shape == (H, W, 3)
        top = min(geo["nodes"], key=lambda g: g["t"])
        bottom = max(geo["nodes"], key=lambda g: g["b"])
        assert top["kind"] == "output" and bottom["kind"] == "leaf"
        for box, rgb in ((top, (0xD9, 0xF2, 0xD0)), (bottom, (0xD6, 0xE8, 0xFF))):
            y0, y1 = int(box["t"]) + 1, int(box["b"]) - 1
            x0, x1 = int(box["l"]) + 1, int(box["r"]) - 1
            assert _near(px[y0:y1, x0:x1], rgb) > 0.3, box
    finally:
        page.close()


def test_stepping_keeps_the_running_node_on_screen_and_readable(chromium, pages):
    url, ex = pages["lstm", "en"]
    page = chromium.open(url, W, H)
    try:
        total = len(ex.steps)
        assert total > 100
        misses = page.js("""(function(){
          var pane = document.getElementById('graph').getBoundingClientRect(), bad = [];
          for (var k = 1; k <= TOTAL; k++) {
            window.leafgradStep();
            var g = document.querySelector('#graph g.node[data-state="active"]');
            var r = g.querySelector('rect').getBoundingClientRect();
            var ok = r.left >= pane.left - 1 && r.right <= pane.right + 1 &&
                     r.top >= pane.top - 1 && r.bottom <= pane.bottom + 1 && r.height >= 40;
            if (!ok) { bad.push([k, g.id, r.left, r.top, r.width, r.height]); }
          }
          return bad;
        })()""".replace("TOTAL", str(total)))
        assert misses == []
        assert page.body("step") == str(total) and page.body("active-visible") == "1"
    finally:
        page.close()
    page = chromium.open(url + "?steps=60", W, H)  # stepped on load, from the address
    try:
        assert page.body("step") == "60" and page.body("active-visible") == "1"
        assert float(page.body("zoom")) >= 0.75
        px = png_pixels(page.screenshot())
        assert _count(px, (0xFF, 0xE7, 0xA3)) > 3000  # the gold box, big enough to read
    finally:
        page.close()


def test_wheel_zooms_about_the_pointer_drag_pans_buttons_fit(chromium, pages):
    url, _ = pages["lstm", "en"]
    page = chromium.open(url, W, H)
    try:
        zoom0 = float(page.body("zoom"))
        under = """(function(x, y){  // the drawing point under viewport point (x, y)
          var svg = document.querySelector('#graph svg'), p = svg.createSVGPoint();
          var cam = document.getElementById('lg-cam');
          p.x = x; p.y = y; var q = p.matrixTransform(cam.getScreenCTM().inverse());
          return [q.x, q.y]; })(%d, %d)"""
        before = page.js(under % (300, 400))
        page.wheel(300, 400, -200)
        page.wheel(300, 400, -200)
        zoom1 = float(page.body("zoom"))
        assert zoom1 > zoom0 * 1.25
        after = page.js(under % (300, 400))
        assert abs(after[0] - before[0]) < 2 / zoom1 and abs(after[1] - before[1]) < 2 / zoom1
        grabbed = page.js(under % (500, 500))
        page.drag(500, 500, 400, 450)  # what was under (500, 500) is now under (400, 450)
        dropped = page.js(under % (400, 450))
        assert abs(dropped[0] - grabbed[0]) < 2 / zoom1 and abs(dropped[1] - grabbed[1]) < 2 / zoom1
        page.js("document.getElementById('lg-zin').click()")
        assert float(page.body("zoom")) > zoom1 * 1.3
        page.js("document.getElementById('lg-fit').click()")
        assert abs(float(page.body("zoom")) - zoom0) < 1e-3
        geo = page.js(RECTS)
        assert all(_inside(g, geo["pane"]) for g in geo["nodes"])
    finally:
        page.close()


def test_panel_never_squeezes_the_graph(chromium, pages):
    url, ex = pages["lstm", "en"]
    page = chromium.open(url, W, H)
    try:
        sizes = """(function(){
          var g = document.getElementById('graph').getBoundingClientRect();
          var p = document.getElementById('panel').getBoundingClientRect();
          return [g.width, g.height, p.width, p.left >= g.right, document.body.scrollWidth]; })()"""
        g0 = page.js(sizes)
        longest = max(range(len(ex.steps)), key=lambda i: len(ex.step_text(ex.steps[i])))
        page.js(f"for (var i = 0; i <= {longest}; i++) window.leafgradStep();")
        g1 = page.js(sizes)
        assert g1 == g0  # the longest narration changes no size
        assert g0[2] <= 440 and g0[3] and g0[4] <= W
        assert g0[0] >= W - 440 - 40 and g0[1] >= H - 120
    finally:
        page.close()
    narrow = chromium.open(url, 700, 900)  # a narrow window puts the panel under the graph
    try:
        g, p = narrow.js("""[document.getElementById('graph').getBoundingClientRect().toJSON(),
          document.getElementById('panel').getBoundingClientRect().toJSON()]""")
        assert g["width"] >= 650 and p["top"] >= g["bottom"]
        assert narrow.body("fit") == "1"
    finally:
        narrow.close()


def test_chinese_page_renders_glyphs_not_boxes(chromium, pages):
    if not has_cjk_font():
        _missing("no CJK font (apt-get install -y fonts-noto-cjk)")
    url, _ = pages["mlp", "zh"]
    page = chromium.open(url, W, H)
    try:
        page.js("window.leafgradStep()")
        assert_cjk_glyphs(page, "header h1", ["反", "向", "传", "播"])
    finally:
        page.close()
