"""The layered layout: no overlaps, straight spines, orthogonal edges that avoid boxes, few
crossings, and box text that never cuts a number."""

from __future__ import annotations

import re

import pytest
from wide_graphs import lstm, mlp

from leafgrad.autograd.explanation import explain
from leafgrad.viz.layout import _crossings, _order, layered_layout
from leafgrad.viz.svg import layout, node_lines, wrap_value


def _laid_out(build):
    loss, names = build()
    g = explain(loss, names=names).graph()
    return g, layout(g)


@pytest.fixture(scope="module", params=["mlp", "lstm"])
def wide(request):
    return (request.param, *_laid_out({"mlp": mlp, "lstm": lstm}[request.param]))


def test_boxes_never_overlap_and_layers_go_down(wide):
    _, g, (boxes, lines, width, height) = wide
    items = sorted(boxes.items(), key=lambda kv: kv[1].y)
    for i, (ka, a) in enumerate(items):
        assert 0 <= a.x - a.w / 2 and a.x + a.w / 2 <= width + 1e-6
        assert 0 <= a.y and a.y + a.h <= height + 1e-6
        for kb, b in items[i + 1:]:
            if b.y >= a.y + a.h:
                break
            assert abs(a.x - b.x) * 2 >= a.w + b.w - 1e-6, (ka, kb)
    for k, e in enumerate(g.edges):  # every edge leaves its source's bottom, enters a top
        pts = lines[k]
        src, dst = boxes[e.src], boxes[e.dst]
        assert pts[0][1] == pytest.approx(src.y + src.h) and pts[-1][1] == pytest.approx(dst.y)
        assert abs(pts[0][0] - src.x) <= src.w / 2 and abs(pts[-1][0] - dst.x) <= dst.w / 2


def test_edges_are_orthogonal_and_cross_no_box(wide):
    _, g, (boxes, lines, _, _) = wide
    for k, e in enumerate(g.edges):
        pts = lines[k]
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            assert x0 == pytest.approx(x1) or y0 == pytest.approx(y1)  # no diagonal drift
            for nid, b in boxes.items():  # a segment may touch only its own two ends' boxes
                if nid in (e.src, e.dst):
                    continue
                inside_x = b.x - b.w / 2 + 0.5 < max(x0, x1) and min(x0, x1) < b.x + b.w / 2 - 0.5
                inside_y = b.y + 0.5 < max(y0, y1) and min(y0, y1) < b.y + b.h - 0.5
                assert not (inside_x and inside_y), (e.src, e.dst, nid)


def test_the_mlp_spine_is_one_straight_column():
    g, (boxes, lines, width, _) = _laid_out(mlp)
    ops = [n for n in g.nodes if n.kind != "leaf"]
    assert len(ops) == 3 + 12 * 3  # loss, mean, pow; mm, add, relu per layer
    assert len({round(boxes[n.id].x, 3) for n in ops}) == 1
    spine = {n.id for n in ops}
    straight = [lines[k] for k, e in enumerate(g.edges) if e.src in spine and e.dst in spine]
    assert straight and all(len(pts) == 2 for pts in straight)  # one vertical segment each
    assert width < 800  # the leaves hang beside the spine, they do not push it sideways


def test_long_edges_run_straight_through_their_dummies():
    # a -> b -> c -> d plus a -> d: the long edge gets its own column, no bends in between
    sizes = {v: (60.0, 30.0) for v in "abcd"}
    p = layered_layout(list("abcd"), sizes, [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")])
    long = p.lines[3]
    verticals = [(x0, y0, y1) for (x0, y0), (x1, y1) in zip(long, long[1:]) if x0 == x1]
    tallest = max(abs(y1 - y0) for _, y0, y1 in verticals)
    assert tallest > p.boxes["c"][1] + p.boxes["c"][3] - p.boxes["b"][1]  # spans b and c
    assert len(long) <= 6  # at most two bends: out of a, into d


def test_ordering_removes_avoidable_crossings():
    # two parents whose children start in the crossed order
    rows = [["p", "q"], ["y", "x"]]
    up = {"p": [], "q": [], "x": ["p"], "y": ["q"]}
    down = {"p": ["x"], "q": ["y"], "x": [], "y": []}
    assert _crossings(rows[0], {"y": 0, "x": 1}, down) == 1
    best = _order(rows, up, down)
    pos = {v: i for i, v in enumerate(best[1])}
    assert _crossings(best[0], pos, down) == 0


def test_values_wrap_between_numbers_and_never_cut_one(wide):
    _, g, _ = wide
    number = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
    for n in g.nodes:
        rows = node_lines(n, g.lang)
        for cls, full in (("value", n.value), ("grad", n.grad)):
            if full is None:
                continue
            shown = " ".join(t for c, t in rows if c == cls)
            assert len([c for c, _ in rows if c == cls]) <= 3
            whole = f"{cls} {full}"
            if shown.endswith(" …"):  # abbreviated: a whole-number prefix of the value
                kept = shown[:-2]
                assert whole.startswith(kept)
                rest = whole[len(kept):]
                assert kept.endswith(",") or rest[:1] in ",]"  # cut after a whole number
            else:
                assert shown == whole
            for t in (t for c, t in rows if c == cls):
                for m in number.finditer(t):  # every number shown is a number of the value
                    assert m.group() in number.findall(full) or m.group() in full


def test_wrap_value_keeps_long_numbers_whole():
    rows = wrap_value("[-0.000123456789, 12345678.5, 3]", width=8, max_lines=5)
    assert rows == ["[-0.000123456789,", "12345678.5,", "3]"]
