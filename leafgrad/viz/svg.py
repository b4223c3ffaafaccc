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
FILL = {"op": "#eeeeee", "leaf": "#d6e8ff", "output": "#d9f2d0", "group": "#f3ecff"}
STROKE = {"op": "#666666", "leaf": "#2f6db5", "output": "#3c8a2e", "group": "#6b4fa3"}
BARS = 12  # histogram bars in a group box
BAR_W = 6.0


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
    if n.kind == "group":
        rows.append(("sub", n.subtitle))
        for text, counts in n.hists:
            rows.append(("param", text))
            if counts is not None:
                rows.append(("bars", ""))
        return rows
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
    if n.note:
        rows += [("note", t) for t in _wrap_words(n.note)]
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
    if any(c == "bars" for c, _ in rows):
        w = max(w, BARS * BAR_W)
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


def _bars(counts: list[int], cx: float, top: float) -> str:
    """A small histogram: one bar per bin, heights relative to the largest bin."""
    peak = max(counts) or 1
    x0 = cx - len(counts) * BAR_W / 2
    h = LINE - 3
    parts = [f'<rect x="{x0:.1f}" y="{top + 1:.1f}" width="{len(counts) * BAR_W:.1f}" '
             f'height="{h:.1f}" fill="#ffffff" stroke="#c9bde3" stroke-width="0.6"/>']
    for i, c in enumerate(counts):
        bh = h * c / peak
        if bh > 0:
            parts.append(f'<rect class="bar" x="{x0 + i * BAR_W + 0.5:.1f}" '
                         f'y="{top + 1 + h - bh:.1f}" width="{BAR_W - 1:.1f}" height="{bh:.1f}"'
                         ' fill="#8a6cc4"/>')
    return "<g class=\"hist\">" + "".join(parts) + "</g>"


def _frame(gid: str, label: str, members: list[str], boxes: dict, prefix: str) -> list[str]:
    """A dashed frame, with its label, around the boxes of an open group (if nothing else is
    inside it)."""
    inside = [boxes[m] for m in members if m in boxes]
    if not inside:
        return []
    pad = 8.0
    x0 = min(b.x - b.w / 2 for b in inside) - pad
    x1 = max(b.x + b.w / 2 for b in inside) + pad
    y0 = min(b.y for b in inside) - pad - LINE
    y1 = max(b.y + b.h for b in inside) + pad
    mset = set(members)
    for k, b in boxes.items():
        if k not in mset and b.x + b.w / 2 > x0 and b.x - b.w / 2 < x1 and \
                b.y + b.h > y0 and b.y < y1:
            return []  # another box would sit inside the frame: no frame is clearer
    return [f'<g class="frame" id="{escape(prefix)}F{escape(gid)}" data-group="{escape(gid)}">'
            f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
            'rx="8" fill="#faf7ff" stroke="#6b4fa3" stroke-width="1" stroke-dasharray="5 3"/>'
            f'<text class="flabel" x="{x0 + 6:.1f}" y="{y0 + LINE * 0.8:.1f}" font-size="{FONT}">'
            f'{escape(label)} ▾</text></g>']


def _unit(dx: float, dy: float) -> tuple[float, float]:
    n = (dx * dx + dy * dy) ** 0.5
    return (dx / n, dy / n) if n else (0.0, 0.0)


def render_svg(g: Graph, interactive: bool = False, prefix: str | None = "",
               frames: list | None = None) -> str:
    """The graph as a standalone SVG document (every node a ``<g class="node">``).

    With ``interactive`` the nodes carry the data attributes the HTML stepper uses, and the
    drawing sits in one ``<g id="lg-cam">`` that the page moves and scales (a transform on a
    group costs the browser no new layout; a new viewBox re-lays out every text). ``prefix``
    goes before element ids (None: none, and no narration in the tooltips, for a page whose
    panel shows it); ``frames`` are
    ``(group id, label, member node ids)``: a labelled frame is drawn around the members of
    each open module group whose members no other box overlaps.
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
           ".node .grad{fill:#9a4d00}.node .note{fill:#b00020}.node .param{fill:#4a3a73}"
           ".flabel{fill:#4a3a73;font-weight:bold}"
           ".edge{fill:none;stroke:#888888;stroke-width:1.3}"
           ".elabel{fill:#666666;font-size:10px}</style>"]
    if interactive:
        out.append(f'<g id="{prefix or ""}lg-cam" class="lg-cam">')
    for gid, label, members in frames or ():
        out.extend(_frame(gid, label, members, boxes, prefix or ""))
    steps = {n.id: n.step for n in g.nodes}
    titles = {n.id: n.title for n in g.nodes if n.kind == "leaf"}
    for k, e in enumerate(g.edges):
        pts = lines.get(k)
        if not pts:
            continue
        attrs = f' data-src="{e.src}" data-dst="{e.dst}" data-step="{steps[e.src]}"' \
            if interactive else ""
        out.append(f'<g class="edge-g"{attrs}><path class="edge" d="{_path(pts)}" '
                   'marker-end="url(#lg-arrow)"/>')
        if e.label and titles.get(e.dst) != e.label:  # beside the edge where it leaves its
            # source; an edge into a leaf would only repeat the name written in the leaf's box
            x0, y0 = pts[0]
            label = e.label if len(e.label) <= 24 else e.label[:23] + "…"
            out.append(f'<text class="elabel" x="{x0 + 4:.1f}" y="{y0 + 11:.1f}">'
                       f'{escape(label)}</text>')
        out.append("</g>")
    for n in g.nodes:
        b = boxes[n.id]
        attrs = f' data-step="{n.step}" data-state="pending" data-node="{escape(n.id)}"' \
            if interactive else ""
        if n.group is not None:
            attrs += f' data-group="{escape(n.group)}"'
        out.append(f'<g class="node kind-{n.kind}" id="{escape((prefix or "") + n.id)}" '
                   f'data-kind="{n.kind}"{attrs}>')
        # the page shows the narration in its panel: its drawings' tooltips leave it out
        tip = "\n".join(t for t in (n.title, n.subtitle, n.site,
                                    None if prefix is None else n.detail) if t)
        out.append(f"<title>{escape(tip)}</title>")
        rx = 14 if n.kind == "leaf" else 5
        out.append(f'<rect x="{b.x - b.w / 2:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" '
                   f'height="{b.h:.1f}" rx="{rx}" fill="{FILL[n.kind]}" '
                   f'stroke="{STROKE[n.kind]}" stroke-width="1.2"/>')
        hists = iter([c for _, c in n.hists if c is not None])
        for r, (cls, t) in enumerate(node_lines(n, g.lang)):
            size = TITLE_FONT if cls == "title" else FONT
            y = b.y + PAD_Y + LINE * r + LINE * 0.75
            if cls == "bars":
                out.append(_bars(next(hists), b.x, b.y + PAD_Y + LINE * r))
                continue
            out.append(f'<text class="{cls}" x="{b.x:.1f}" y="{y:.1f}" text-anchor="middle" '
                       f'font-size="{size}">{escape(t)}</text>')
        out.append("</g>")
    if interactive:
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
