"""The HTML stepper page in a real headless browser (Debian's ``chromium``).

The page loads from a file with no network, draws every node (the script checks each box's
laid-out size and reports it in ``data-drawn``), and ``?steps=N`` advances the pass. Set
LEAFGRAD_REQUIRE_BROWSER=1 (CI does) to make a missing browser a failure instead of a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from cdp import png_pixels as _png_pixels

import leafgrad
from leafgrad.autograd.explanation import explain
from leafgrad.autograd.sites import recording_sites

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--mute-audio"]


@pytest.fixture(scope="module")
def browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    msg = "no headless chromium found (apt-get install -y chromium)"
    if os.environ.get("LEAFGRAD_REQUIRE_BROWSER") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    with recording_sites():
        a = leafgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        b = leafgrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
        w = leafgrad.tensor([[1.0], [2.0], [-1.0]], requires_grad=True)
        h = a * b + a
        y = (h @ w).mean()
    ex = explain(y, names={"a": a, "b": b, "w": w, "h": h, "y": y})
    path = tmp_path_factory.mktemp("page") / "graph.html"
    ex.save_html(str(path))
    return path, ex


def _run(browser: str, tmp: str, *args: str) -> subprocess.CompletedProcess:
    cmd = [browser, *FLAGS, f"--user-data-dir={tmp}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def _dom(browser: str, tmp_path, url: str) -> str:
    r = _run(browser, str(tmp_path / "profile"), "--virtual-time-budget=3000", "--dump-dom", url)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def _body(dom: str) -> dict:
    m = re.search(r"<body([^>]*)>", dom)
    assert m, dom[:500]
    return dict(re.findall(r'(data-[\w-]+)="([^"]*)"', m.group(1)))


def test_page_loads_and_draws_every_node(browser, page, tmp_path):
    path, ex = page
    dom = _dom(browser, tmp_path, path.as_uri())
    body = _body(dom)
    n = len(ex.graph().nodes)
    assert body["data-ready"] == "1"  # the script ran to its end
    assert body["data-nodes"] == str(n) == "8"
    assert body["data-drawn"] == str(n)  # every node box has a laid-out, non-empty size
    assert body["data-step"] == "0"
    assert dom.count('class="node ') == n


def test_stepping_advances(browser, page, tmp_path):
    path, ex = page
    dom = _dom(browser, tmp_path, path.as_uri() + "?steps=4")
    body = _body(dom)
    assert body["data-step"] == "4" and body["data-total"] == str(len(ex.steps))
    states = dict(re.findall(r'<g class="node [^"]*" id="(\w+)"[^>]*data-step="\d+" '
                             r'data-state="(\w+)"', dom))
    steps = dict(re.findall(r'<g class="node [^"]*" id="(\w+)"[^>]*data-step="(\d+)"', dom))
    assert states and set(states) == set(steps)
    for nid, k in steps.items():
        want = "done" if int(k) < 4 else ("active" if int(k) == 4 else "pending")
        assert states[nid] == want, (nid, k, states[nid])
    # the panel shows the narration of step 4 (step 3 is w's AccumulateGrad: the engine
    # accumulates a leaf as soon as its gradient is complete, and the steps are its pass)
    narration = re.search(r'<div id="narration">(.*?)</div>', dom, re.S).group(1)
    assert "Step 4 of 7: AddBackward0" in narration
    assert "created at test_browser.py:" in narration
    assert re.search(r'id="counter">Step 4 / 7<', dom)
    # past the end it stops at the last step
    body = _body(_dom(browser, tmp_path, path.as_uri() + "?steps=99"))
    assert body["data-step"] == str(len(ex.steps))


def test_screenshot_shows_the_graph_and_the_running_node(browser, page, tmp_path):
    path, ex = page
    shot = tmp_path / "graph.png"
    r = _run(browser, str(tmp_path / "profile"), "--window-size=1000,700",
             f"--screenshot={shot}", "--virtual-time-budget=3000", path.as_uri() + "?steps=2")
    assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
    keep = os.environ.get("LEAFGRAD_SCREENSHOT")  # set it to a path to look at the picture
    if keep:
        shutil.copy(shot, keep)
    px = _png_pixels(shot.read_bytes())
    assert px.shape == (700, 1000, 3)
    colours = {tuple(c) for c in px[::4, ::4].reshape(-1, 3)}
    assert len(colours) > 30  # text, boxes and lines, not a blank page

    def count(rgb):
        return int(np.all(px == np.array(rgb), axis=-1).sum())

    assert count((0xD6, 0xE8, 0xFF)) > 2000  # the leaves' blue boxes
    assert count((0xD9, 0xF2, 0xD0)) > 500  # the output's green box
    assert count((0xFF, 0xE7, 0xA3)) > 1000  # the gold box of the node running at step 2
