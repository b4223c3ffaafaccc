"""Pictures of the backward graph, with no external program: text, Mermaid, DOT, SVG, HTML."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from .graph import GEdge, GNode, Graph, as_graph
from .html import html_page
from .svg import render_svg
from .text import dot, mermaid, tree_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..autograd.explanation import Explanation
    from ..tensor import Tensor

    Target = Tensor | Sequence[Tensor] | Explanation | Graph

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = [
    "GEdge", "GNode", "Graph", "Picture", "draw", "graph_of", "html_page", "to_dot",
    "to_html", "to_mermaid", "to_svg", "to_text",
]


def graph_of(target: Target, lang: str = "en", names: dict | None = None) -> Graph:
    """The drawable graph of tensor(s), an ``Explanation`` or a ``Graph``.

    >>> import leafgrad
    >>> x = leafgrad.ones(2, requires_grad=True)
    >>> [n.title for n in graph_of((x * 3).sum()).nodes]
    ['t1', 'SumBackward0', 'MulBackward0', 'x']
    """
    from ..autograd.explanation import Explanation
    from .graph import from_tensor

    if isinstance(target, (Graph, Explanation)):
        return as_graph(target, lang)
    if names is None:
        f = sys._getframe(1)
        while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
            f = f.f_back
        names = {**f.f_globals, **f.f_locals} if f is not None else {}
    return from_tensor(target, lang, names)


def to_text(target: Target, lang: str = "en", names: dict | None = None) -> str:
    """The graph as an indented text tree, output first.

    >>> import leafgrad
    >>> x = leafgrad.ones(2, requires_grad=True); y = (x * 3).sum()
    >>> print(to_text(y).splitlines()[1])
    └─ SumBackward0  y = t1.sum()  []  · grad 1
    """
    return tree_text(graph_of(target, lang, names))


def to_mermaid(target: Target, lang: str = "en", names: dict | None = None) -> str:
    """The graph as Mermaid flowchart source.

    >>> import leafgrad
    >>> to_mermaid(leafgrad.ones(1, requires_grad=True).sum()).splitlines()[0]
    'flowchart TB'
    """
    return mermaid(graph_of(target, lang, names))


def to_dot(target: Target, lang: str = "en", names: dict | None = None) -> str:
    """The graph as Graphviz DOT source.

    >>> import leafgrad
    >>> to_dot(leafgrad.ones(1, requires_grad=True).sum()).splitlines()[0]
    'digraph leafgrad {'
    """
    return dot(graph_of(target, lang, names))


def to_svg(target: Target, lang: str = "en", names: dict | None = None) -> str:
    """The graph as a self-contained SVG document, laid out by leafgrad itself.

    >>> import leafgrad
    >>> to_svg(leafgrad.ones(1, requires_grad=True).sum()).startswith("<svg")
    True
    """
    return render_svg(graph_of(target, lang, names))


def to_html(target: Target, lang: str = "en", path: str | None = None,
            names: dict | None = None) -> str:
    """A single-file HTML page that draws the graph and steps through its backward pass.

    Returns the page; with ``path`` also writes it there.

    >>> import leafgrad
    >>> "<svg" in to_html(leafgrad.ones(1, requires_grad=True).sum())
    True
    """
    from ..autograd.explanation import Explanation

    page = html_page(target if isinstance(target, Explanation) else
                     graph_of(target, lang, names), lang=lang)
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
    return page


class Picture:
    """A graph picture for notebooks: shows as SVG in Jupyter, as the text tree elsewhere."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def _repr_svg_(self) -> str:
        return render_svg(self.graph)

    def __repr__(self) -> str:
        return tree_text(self.graph)

    def svg(self) -> str:
        """The SVG document."""
        return render_svg(self.graph)

    def save(self, path: str) -> str:
        """Write the picture: ``.svg``, ``.html``, ``.dot``, ``.mmd`` or text, by extension."""
        ext = path.rsplit(".", 1)[-1].lower()
        text = {"svg": render_svg, "html": html_page, "dot": dot, "gv": dot, "mmd": mermaid}.get(
            ext, tree_text)(self.graph)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path


def draw(target: Target, lang: str = "en", names: dict | None = None) -> Picture:
    """A ``Picture`` of the graph behind tensor(s) or an ``Explanation``.

    >>> import leafgrad
    >>> x = leafgrad.ones(2, requires_grad=True)
    >>> draw((x * x).sum()).svg().count('class="node ')
    4
    """
    return Picture(graph_of(target, lang, names))
