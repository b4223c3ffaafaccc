"""The graph drawn as self-contained SVG: boxes from ``layout.layered_layout``, orthogonal edges.

Box text is wrapped, never cut inside a number: a long value wraps at the commas between its
numbers and, past a few lines, ends with "…" after a whole number. No Graphviz program is needed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html import escape

from ..locale import strings
from .graph import GNode, Graph
from .layout import layered_layout

FONT = 12  # px, the body text
TITLE_FONT = 13
LINE = 16  # px between text baselines
PAD_X, PAD_Y = 10, 8
MARGIN = 16
MAX_CHARS = 44  # a row wraps past this many characters (CJK characters count double)
VALUE_LINES = 3  # a value or gradient shows at most this many rows
FILL = {"op": "#eeeeee", "leaf": "#d6e8ff", "output": "#d9f2d0"}
STROKE = {"op": "#666666", "leaf": "#2f6db5", "output": "#3c8a2e"}


def text_width(text: str, size: float = FONT, bold: bool = False) -> float:
    """Approximate rendered width of ``text`` in px (CJK characters count double)."""
    w = 0.0
    for c in text:
        if unicodedata.east_asian_width(c) in "WF":
            w += size
        elif c in "il.,:;|!'[]()· ":
            w += size * 0.36
        elif c.isupper() or c in "mwMW@":
            w += size * 0.75
        else:
            w += size * 0.6
    return w * (1.1 if bold else 1.0)


def _cols(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# a value breaks after a separator between numbers: ", " (and the Chinese "，" / "：")
_BREAK = re.compile(r"(?<=, )|(?<=，)|(?<=：)|(?<=: )")


def wrap_value(text: str, width: int = MAX_CHARS, max_lines: int = VALUE_LINES) -> list[str]:
    """``text`` in rows of at most ``width`` columns, broken only between numbers.

    A number longer than a row gets a row of its own; past ``max_lines`` rows the last kept row
    ends with " …" after a whole number.

    >>> wrap_value("grad [[0.75, 0, -1.5], [0.75, 0, -1.5]]", 20)
    ['grad [[0.75, 0,', '-1.5], [0.75, 0,', '-1.5]]']
    >>> wrap_value("[1.25, 2.5, 3.75, 5.125, 6.5]", 12, 2)
    ['[1.25, 2.5,', '3.75, …']
    """
    tokens = [t for t in _BREAK.split(text) if t]
    rows: list[str] = []
    for tok in tokens:
        if rows and _cols(rows[-1] + tok.rstrip()) <= width:
            rows[-1] += tok
        else:
            rows.append(tok)
    if len(rows) > max_lines:
        rows = rows[:max_lines]
        last = [t for t in _BREAK.split(rows[-1]) if t]
        while len(last) > 1 and _cols("".join(last).rstrip() + " …") > width:
            last.pop()
        rows[-1] = "".join(last).rstrip() + " …"
    return [r.rstrip() if i < len(rows) - 1 else r for i, r in enumerate(rows)]


def _wrap_words(text: str, width: int = MAX_CHARS, max_lines: int = 2) -> list[str]:
    """Plain text in at most ``max_lines`` rows, broken at spaces; the rest shown as "…"."""
    rows: list[str] = []
    for word in text.split(" "):
        if rows and _cols(rows[-1] + " " + word) <= width:
            rows[-1] += " " + word
        else:
            rows.append(word)
    if len(rows) > max_lines:
        rows = rows[:max_lines]
        rows[-1] = rows[-1] + " …"
    return rows


def node_lines(n: GNode, lang: str) -> list[tuple[str, str]]:
    """The text rows of a node box as ``(css class, text)``: title first."""
    S = strings(lang)
    rows = [("title", n.title)]
    if n.kind == "op":
        rows += [("sub", t) for t in _wrap_words(n.subtitle)]
        rows.append(("shape", n.shape))
    else:
        kind = S["viz_leaf"] if n.kind == "leaf" else S["viz_output"]
        rows.append(("sub", f"{kind} {n.shape}"))
    if n.value is not None:
        rows += [("value", t) for t in wrap_value(f"{S['viz_value']} {n.value}")]
    if n.grad is not None:
        rows += [("grad", t) for t in wrap_value(f"{S['viz_grad']} {n.grad}")]
    return rows


@dataclass
class Box:
    """A node's place: centre x, top y, width and height."""

    x: float
    y: float
    w: float
    h: float


def node_size(n: GNode, lang: str) -> tuple[float, float]:
    """The width and height of ``n``'s box."""
    rows = node_lines(n, lang)
    w = max(text_width(t, TITLE_FONT if c == "title" else FONT, c == "title") for c, t in rows)
    return w + 2 * PAD_X, len(rows) * LINE + 2 * PAD_Y


def layout(g: Graph) -> tuple[dict[str, Box], dict[int, list[tuple[float, float]]], float, float]:
    """Place every node; returns boxes by id, each edge's polyline, and the picture's size."""
    sizes = {n.id: node_size(n, g.lang) for n in g.nodes}
    placed = layered_layout([n.id for n in g.nodes], sizes, [(e.src, e.dst) for e in g.edges])
    boxes = {k: Box(*b) for k, b in placed.boxes.items()}
    lines = {k: pts for k, pts in enumerate(placed.lines) if pts}
    return boxes, lines, placed.width, placed.height


def _path(pts: list[tuple[float, float]], r: float = 5.0) -> str:
    """An orthogonal polyline with its corners rounded (radius at most ``r``)."""
    d = f"M{pts[0][0]:.1f},{pts[0][1]:.1f}"
    for i in range(1, len(pts) - 1):
        (x0, y0), (x1, y1), (x2, y2) = pts[i - 1], pts[i], pts[i + 1]
        a = min(r, (abs(x1 - x0) + abs(y1 - y0)) / 2, (abs(x2 - x1) + abs(y2 - y1)) / 2)
        ux, uy = _unit(x1 - x0, y1 - y0)
        vx, vy = _unit(x2 - x1, y2 - y1)
        d += f" L{x1 - ux * a:.1f},{y1 - uy * a:.1f} Q{x1:.1f},{y1:.1f} " \
             f"{x1 + vx * a:.1f},{y1 + vy * a:.1f}"
    d += f" L{pts[-1][0]:.1f},{pts[-1][1]:.1f}"
    return d


def _unit(dx: float, dy: float) -> tuple[float, float]:
    n = (dx * dx + dy * dy) ** 0.5
    return (dx / n, dy / n) if n else (0.0, 0.0)


def render_svg(g: Graph, interactive: bool = False) -> str:
    """The graph as a standalone SVG document (every node a ``<g class="node">``).

    With ``interactive`` the nodes carry the data attributes the HTML stepper uses, and the
    drawing sits in one ``<g id="lg-cam">`` that the page moves and scales (a transform on a
    group costs the browser no new layout; a new viewBox re-lays out every text).
    """
    boxes, lines, width, height = layout(g)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" class="leafgrad-graph" '
           'font-family="DejaVu Sans, Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, '
           'PingFang SC, Helvetica, Arial, sans-serif">',
           f"<title>{escape(g.title)}</title>",
           '<defs><marker id="lg-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="#777777"/></marker></defs>',
           "<style>.node text{fill:#222222}.node .title{font-weight:bold}"
           ".node .grad{fill:#9a4d00}.edge{fill:none;stroke:#888888;stroke-width:1.3}"
           ".elabel{fill:#666666;font-size:10px}</style>"]
    if interactive:
        out.append('<g id="lg-cam">')
    steps = {n.id: n.step for n in g.nodes}
    for k, e in enumerate(g.edges):
        pts = lines.get(k)
        if not pts:
            continue
        attrs = f' data-src="{e.src}" data-dst="{e.dst}" data-step="{steps[e.src]}"' \
            if interactive else ""
        out.append(f'<g class="edge-g"{attrs}><path class="edge" d="{_path(pts)}" '
                   'marker-end="url(#lg-arrow)"/>')
        if e.label:  # beside the edge where it leaves its source
            x0, y0 = pts[0]
            label = e.label if len(e.label) <= 24 else e.label[:23] + "…"
            out.append(f'<text class="elabel" x="{x0 + 4:.1f}" y="{y0 + 11:.1f}">'
                       f'{escape(label)}</text>')
        out.append("</g>")
    for n in g.nodes:
        b = boxes[n.id]
        attrs = f' data-step="{n.step}" data-state="pending"' if interactive else ""
        out.append(f'<g class="node kind-{n.kind}" id="{escape(n.id)}" '
                   f'data-kind="{n.kind}"{attrs}>')
        tip = "\n".join(t for t in (n.title, n.subtitle, n.site, n.detail) if t)
        out.append(f"<title>{escape(tip)}</title>")
        rx = 14 if n.kind == "leaf" else 5
        out.append(f'<rect x="{b.x - b.w / 2:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" '
                   f'height="{b.h:.1f}" rx="{rx}" fill="{FILL[n.kind]}" '
                   f'stroke="{STROKE[n.kind]}" stroke-width="1.2"/>')
        for r, (cls, t) in enumerate(node_lines(n, g.lang)):
            size = TITLE_FONT if cls == "title" else FONT
            y = b.y + PAD_Y + LINE * r + LINE * 0.75
            out.append(f'<text class="{cls}" x="{b.x:.1f}" y="{y:.1f}" text-anchor="middle" '
                       f'font-size="{size}">{escape(t)}</text>')
        out.append("</g>")
    if interactive:
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
