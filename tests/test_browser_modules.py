"""Module-grouped pages and monitor reports in a real headless browser (tests/cdp.py), on wide
models built from nn.Modules: a 12-layer MLP (nn.Sequential), a 2-layer LSTM unrolled over 5
steps (cells of nn.Linear; nn.LSTM too once it exists), and a small CNN. Set
LEAFGRAD_REQUIRE_BROWSER=1 (CI does) to fail instead of skipping when there is no browser or no
CJK font."""

from __future__ import annotations

import os
import shutil

import pytest
from cdp import Browser, assert_cjk_glyphs, has_cjk_font

import leafgrad
from leafgrad import nn
from leafgrad.autograd import explaining

REQUIRE = os.environ.get("LEAFGRAD_REQUIRE_BROWSER") == "1"
W, H = 1200, 800


def _missing(msg: str):
    if REQUIRE:
        pytest.fail(msg)
    pytest.skip(msg)


class LSTMCell(nn.Module):
    """One LSTM step made of two nn.Linear modules (nn.LSTM is not in leafgrad yet)."""

    def __init__(self, n_in: int, hidden: int) -> None:
        super().__init__()
        self.ih = nn.Linear(n_in, 4 * hidden)
        self.hh = nn.Linear(hidden, 4 * hidden)

    def forward(self, x, h, c):
        i, f, g, o = (self.ih(x) + self.hh(h)).chunk(4, dim=1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c


class LSTM2(nn.Module):
    def __init__(self, n_in: int = 3, hidden: int = 3) -> None:
        super().__init__()
        self.cells = nn.ModuleList([LSTMCell(n_in, hidden), LSTMCell(hidden, hidden)])
        self.head = nn.Linear(hidden, 2)

    def forward(self, xs):
        hs = [leafgrad.zeros(xs.shape[1], 3) for _ in self.cells]
        cs = [leafgrad.zeros(xs.shape[1], 3) for _ in self.cells]
        for t in range(xs.shape[0]):
            inp = xs[t]
            for k, cell in enumerate(self.cells):
                hs[k], cs[k] = cell(inp, hs[k], cs[k])
                inp = hs[k]
        return self.head(inp)


def mlp12():
    layers, d = [], 6
    for _ in range(12):
        layers += [nn.Linear(d, 6), nn.ReLU()]
    layers.append(nn.Linear(6, 3))
    return nn.Sequential(*layers), leafgrad.randn(4, d), leafgrad.tensor([0, 1, 2, 1])


def lstm():
    return LSTM2(), leafgrad.randn(5, 2, 3), leafgrad.tensor([0, 1])


def cnn():
    if not hasattr(nn, "Conv2d"):
        pytest.skip("nn.Conv2d is not in leafgrad yet (branch nnconv)")
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3),
                        nn.ReLU(), nn.Flatten(), nn.Linear(4 * 2 * 2, 3))
    return net, leafgrad.randn(2, 1, 10, 10), leafgrad.tensor([0, 2])


class TorchLSTM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(3, 3, num_layers=2)
        self.head = nn.Linear(3, 2)

    def forward(self, xs):
        out, _ = self.rnn(xs)
        return self.head(out[-1])


def nn_lstm():
    if not hasattr(nn, "LSTM"):
        pytest.skip("nn.LSTM is not in leafgrad yet (branch seq)")
    return TorchLSTM(), leafgrad.randn(5, 2, 3), leafgrad.tensor([0, 1])


BUILD = {"mlp": mlp12, "lstm": lstm, "cnn": cnn, "nn_lstm": nn_lstm}


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
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("modules")


_cache: dict = {}


def page_of(name: str, out_dir, lang: str = "en"):
    key = (name, lang)
    if key not in _cache:
        leafgrad.manual_seed(0)
        model, x, y = BUILD[name]()
        with explaining() as rec:
            loss = nn.CrossEntropyLoss()(model(x), y)
            loss.backward()
        path = out_dir / f"{name}-{lang}.html"
        rec.last.save_html(str(path), lang)
        _cache[key] = (path.as_uri(), rec.last)
    return _cache[key]


INSIDE = """(function(){  // every drawn box of the current view inside the pane?
  var pane = document.getElementById('graph').getBoundingClientRect(), out = [];
  document.querySelectorAll('#graph g.node').forEach(function(g){
    var r = g.getBoundingClientRect();
    if (!(r.left >= pane.left - 1 && r.right <= pane.right + 1 && r.top >= pane.top - 1 &&
          r.bottom <= pane.bottom + 1)) { out.push(g.getAttribute('data-node')); }
  });
  return out; })()"""


@pytest.mark.parametrize("name", ["mlp", "lstm", "cnn", "nn_lstm"])
def test_module_page_fits_and_every_group_opens(chromium, out_dir, name):
    url, ex = page_of(name, out_dir)
    page = chromium.open(url, W, H)
    try:
        assert page.body("ready") == "1" and page.body("view") == "top"
        groups = int(page.body("groups"))
        assert groups == len(ex.modules) > 1
        assert page.body("fit") == "1" and page.body("drawn") == page.body("view-nodes")
        assert page.js(INSIDE) == []
        views = page.js("window.leafgradViews")
        assert views[0] == "top" and views[-1] == "all" and len(views) == groups + 2
        # open every module: its own nodes are drawn, and the view fits the pane when fitted
        bad = page.js("""(function(){
          var meta = JSON.parse(document.getElementById('lg-meta').textContent), bad = [];
          window.leafgradViews.forEach(function(v){
            window.leafgradShow(v);
            var fit = document.body.getAttribute('data-fit');
            var drawn = document.body.getAttribute('data-drawn');
            var n = document.body.getAttribute('data-view-nodes');
            var missing = Object.keys(meta.nodeGroup).filter(function(nid){
              return meta.nodeGroup[nid] === v &&
                     !document.querySelector('#graph g.node[data-node="' + nid + '"]'); });
            if (fit !== '1' || drawn !== n || missing.length) { bad.push([v, fit, missing]); }
          });
          return bad; })()""")
        assert bad == []
        # a real click on a closed module's box opens it
        page.js("window.leafgradShow('top'); window.leafgradFit();")
        box = page.js("""(function(){ var g = document.querySelector('#graph g.kind-group');
          var r = g.getBoundingClientRect();
          return [g.getAttribute('data-node'), r.left + r.width / 2, r.top + 8]; })()""")
        page.drag(box[1], box[2], box[1], box[2], steps=1)
        assert page.body("view") == box[0][1:]
    finally:
        page.close()


@pytest.mark.parametrize("view", ["top", "all"])
def test_stepping_shows_the_running_node_or_its_module(chromium, out_dir, view):
    url, ex = page_of("lstm", out_dir)
    page = chromium.open(url + f"?view={view}", W, H)
    try:
        total = len(ex.steps)
        assert total > 100 and page.body("view") == view
        misses = page.js("""(function(){
          var pane = document.getElementById('graph').getBoundingClientRect(), bad = [];
          for (var k = 1; k <= TOTAL; k++) {
            window.leafgradStep();
            var g = document.querySelector('#graph g.node[data-state="active"]');
            if (!g) { bad.push([k, 'none']); continue; }
            var r = g.querySelector('rect').getBoundingClientRect();
            if (!(r.left >= pane.left - 1 && r.right <= pane.right + 1 &&
                  r.top >= pane.top - 1 && r.bottom <= pane.bottom + 1 && r.height >= 20)) {
              bad.push([k, g.getAttribute('data-node')]); }
          }
          return bad; })()""".replace("TOTAL", str(total)))
        assert misses == []
        assert page.body("active-visible") == "1"
        # the panel shows the module's narration above the node's
        assert page.js("document.querySelector('#narration .lg-module') !== null")
    finally:
        page.close()


def test_chinese_module_page_renders_glyphs(chromium, out_dir):
    if not has_cjk_font():
        _missing("no CJK font (apt-get install -y fonts-noto-cjk)")
    url, _ = page_of("mlp", out_dir, "zh")
    page = chromium.open(url, W, H)
    try:
        page.js("window.leafgradStep()")
        assert_cjk_glyphs(page, "header h1", ["反", "向", "传", "播"])
        assert_cjk_glyphs(page, "#narration .lg-module", ["模", "块"])
    finally:
        page.close()


def _report(out_dir, lang: str) -> str:
    path = out_dir / f"monitor-{lang}.html"
    if not path.exists():
        leafgrad.manual_seed(0)
        model, x, y = mlp12()
        opt = leafgrad.optim.SGD(model.parameters(), lr=0.1)
        with leafgrad.utils.monitor(model, opt, path=str(path), lang=lang, quiet=True):
            for _ in range(8):
                opt.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                opt.step()
    return path.as_uri()


@pytest.mark.parametrize("width", [1200, 700])
def test_monitor_report_fits_the_window(chromium, out_dir, width):
    page = chromium.open(_report(out_dir, "en"), width, H)
    try:
        geo = page.js("""(function(){
          var charts = Array.prototype.map.call(document.querySelectorAll('svg.chart'),
            function(s){ var r = s.getBoundingClientRect();
              return [s.id, r.left, r.right, r.height,
                      s.querySelectorAll('.series').length]; });
          return {scroll: document.documentElement.scrollWidth, charts: charts}; })()""")
        assert geo["scroll"] <= width
        ids = [c[0] for c in geo["charts"]]
        assert ids == ["lg-loss", "lg-flow", "lg-ratio", "lg-bars"]
        for _, left, right, height, _ in geo["charts"]:
            assert left >= 0 and right <= width and height > 100
        assert geo["charts"][1][4] == 13  # one line per layer with parameters
        assert page.js("document.querySelectorAll('#lg-diagnosis table tr').length") == 14
    finally:
        page.close()


def test_chinese_monitor_report_renders_glyphs(chromium, out_dir):
    if not has_cjk_font():
        _missing("no CJK font (apt-get install -y fonts-noto-cjk)")
    page = chromium.open(_report(out_dir, "zh"), W, H)
    try:
        assert_cjk_glyphs(page, "header h1", ["训", "练", "监", "视"])
    finally:
        page.close()
