"""Graph pictures: text tree, Mermaid, DOT, SVG (well-formed, every node), HTML page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

import leafgrad
from leafgrad import viz
from leafgrad.autograd.explanation import explain
from leafgrad.viz.svg import layout

SVG_NS = "{http://www.w3.org/2000/svg}"


def model():
    a = leafgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = leafgrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    w = leafgrad.tensor([[1.0], [2.0], [-1.0]], requires_grad=True)
    h = a * b + a
    y = (h @ w).mean()
    return y, {"a": a, "b": b, "w": w, "h": h, "y": y}


EXPECTED = {"y", "MeanBackward0", "MmBackward0", "AddBackward0", "MulBackward0", "a", "b", "w"}


def test_graph_has_every_node_with_values_and_grads():
    y, names = model()
    g = viz.graph_of(y, names=names)
    assert {n.title for n in g.nodes} == EXPECTED
    a = next(n for n in g.nodes if n.title == "a")
    assert a.kind == "leaf" and a.shape == "[2, 3]"
    assert a.value == "[[1, 2, 3], [4, 5, 6]]"
    assert a.grad == "[[0.75, 0, -1.5], [0.75, 0, -1.5]]"
    mm = next(n for n in g.nodes if n.title == "MmBackward0")
    assert mm.subtitle == "t1 = h @ w" and mm.grad == "[[0.5], [0.5]]"
    assert len(g.edges) == 8  # out->mean, mean->mm, mm->{add, w}, add->{mul, a}, mul->{a, b}
    assert names["a"].grad is None  # drawing runs no backward


def test_text_tree_shows_shared_nodes_once():
    y, names = model()
    tree = viz.to_text(y, names=names)
    lines = tree.splitlines()
    assert lines[0].startswith("y  (output)  []")
    assert "└─ MeanBackward0  y = t1.mean()" in lines[1]
    assert sum("a  (leaf)" in ln for ln in lines) == 1
    assert any("a  (shared, shown above)" in ln for ln in lines)


def test_mermaid_and_dot_mention_every_node_and_edge():
    y, names = model()
    g = viz.graph_of(y, names=names)
    mm = viz.to_mermaid(g)
    dt = viz.to_dot(g)
    assert mm.startswith("flowchart TB")
    assert dt.startswith("digraph leafgrad {") and dt.rstrip().endswith("}")
    for n in g.nodes:
        assert re.search(rf"^\s+{n.id}[\[\(]", mm, re.M)
        assert re.search(rf"^\s+{n.id} \[label=", dt, re.M)
    for e in g.edges:
        assert f"{e.src} -->" in mm
        assert f"{e.src} -> {e.dst}" in dt
    assert dt.count("{") == dt.count("}")


def test_svg_is_well_formed_and_draws_every_node():
    y, names = model()
    svg = viz.to_svg(y, names=names)
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == f"{SVG_NS}svg"
    groups = [g for g in root.iter(f"{SVG_NS}g") if "node" in g.get("class", "").split()]
    assert len(groups) == len(EXPECTED)
    titles = {g.findall(f"{SVG_NS}text")[0].text for g in groups}
    assert titles == EXPECTED
    assert all(g.find(f"{SVG_NS}rect") is not None for g in groups)
    assert len([p for p in root.iter(f"{SVG_NS}path") if p.get("class") == "edge"]) == 8


def test_layout_has_no_overlaps_and_puts_outputs_above_leaves():
    y, names = model()
    g = viz.graph_of(y, names=names)
    boxes, lines, width, height = layout(g)
    items = list(boxes.items())
    for i, (ka, a) in enumerate(items):
        assert 0 <= a.x - a.w / 2 and a.x + a.w / 2 <= width + 1e-6
        assert 0 <= a.y and a.y + a.h <= height + 1e-6
        for kb, b in items[i + 1:]:
            disjoint = (abs(a.x - b.x) * 2 >= a.w + b.w - 1e-6 or a.y + a.h <= b.y or
                        b.y + b.h <= a.y)
            assert disjoint, (ka, kb)
    by_title = {n.title: boxes[n.id] for n in g.nodes}
    assert by_title["y"].y < by_title["MeanBackward0"].y < by_title["MmBackward0"].y
    assert by_title["MulBackward0"].y < by_title["b"].y
    for pts in lines.values():  # every edge runs downwards
        assert pts[0][1] < pts[-1][1]


def test_long_chain_lays_out_quickly():
    x = leafgrad.ones(2, requires_grad=True)
    y = x
    for _ in range(150):
        y = y.sin() * 1.0
    svg = viz.to_svg(y.sum())
    assert svg.count('class="node ') == 303  # the output, sum, 300 ops, the leaf


def test_html_page_is_self_contained():
    y, names = model()
    page = viz.to_html(explain(y, names=names))
    assert page.startswith("<!DOCTYPE html>")
    assert 'data-nodes="8"' in page and 'data-total="7"' in page
    # no network: no external scripts, styles, images or fonts
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(http" not in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "window.leafgradStep" in page and "[?&]steps=" in page
    assert page.count('class="node ') == 8


def test_chinese_picture_and_picture_object(tmp_path):
    y, names = model()
    pic = viz.draw(y, lang="zh", names=names)
    assert "梯度" in pic.svg()
    assert "叶子" in repr(pic)
    assert pic._repr_svg_().startswith("<svg")
    for ext in ("svg", "html", "dot", "mmd", "txt"):
        path = pic.save(str(tmp_path / f"g.{ext}"))
        assert open(path, encoding="utf-8").read()
    ET.parse(str(tmp_path / "g.svg"))


def test_structure_only_after_backward_frees_the_graph():
    y, names = model()
    y.backward()
    g = viz.graph_of(y, names=names)  # saved tensors are gone: shapes and names still drawn
    assert {n.title for n in g.nodes} == EXPECTED
    ET.fromstring(viz.to_svg(g))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_explanation_renders_svg(lang):
    y, names = model()
    ET.fromstring(explain(y, lang=lang, names=names).to_svg())
