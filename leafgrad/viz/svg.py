"""A layered layout of the graph (outputs on top, leaves below) drawn as self-contained SVG.

The layout is a small Sugiyama scheme: longest-path layers, virtual points on long edges,
barycentre sweeps against crossings, then x positions relaxed towards each node's neighbours.
No Graphviz program is needed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from html import escape

from ..locale import strings
from .graph import GNode, Graph

FONT = 12  # px, the body text
TITLE_FONT = 13
LINE = 16  # px between text baselines
PAD_X, PAD_Y = 10, 8
GAP_X, GAP_Y = 28, 46
MARGIN = 16
MAX_CHARS = 44
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


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def node_lines(n: GNode, lang: str) -> list[tuple[str, str]]:
    """The text rows of a node box as ``(css class, text)``: title first."""
    S = strings(lang)
    rows = [("title", n.title)]
    if n.kind == "op":
        rows.append(("sub", n.subtitle))
        rows.append(("shape", n.shape))
    else:
        kind = S["viz_leaf"] if n.kind == "leaf" else S["viz_output"]
        rows.append(("sub", f"{kind} {n.shape}"))
    if n.value is not None:
        rows.append(("value", f"{S['viz_value']} {n.value}"))
    if n.grad is not None:
        rows.append(("grad", f"{S['viz_grad']} {n.grad}"))
    return [(c, _clip(t)) for c, t in rows]


@dataclass
class Box:
    """A node's place: centre x, top y, width and height."""

    x: float
    y: float
    w: float
    h: float


def layout(g: Graph) -> tuple[dict[str, Box], dict[int, list[tuple[float, float]]], float, float]:
    """Place every node; returns boxes by id, each edge's polyline, and the picture's size."""
    ids = [n.id for n in g.nodes]
    if not ids:
        return {}, {}, 2 * MARGIN, 2 * MARGIN
    size = {}
    for n in g.nodes:
        rows = node_lines(n, g.lang)
        w = max(text_width(t, TITLE_FONT if c == "title" else FONT, c == "title")
                for c, t in rows)
        size[n.id] = (w + 2 * PAD_X, len(rows) * LINE + 2 * PAD_Y)
    succ: dict[str, list[str]] = {i: [] for i in ids}
    pred: dict[str, list[str]] = {i: [] for i in ids}
    for e in g.edges:
        succ[e.src].append(e.dst)
        pred[e.dst].append(e.src)
    # 1. layers by longest path from the sources (Kahn's order, no recursion)
    layer = {i: 0 for i in ids}
    indeg = {i: len(pred[i]) for i in ids}
    queue = [i for i in ids if indeg[i] == 0]
    seen = 0
    while queue:
        v = queue.pop(0)
        seen += 1
        for w in succ[v]:
            layer[w] = max(layer[w], layer[v] + 1)
            indeg[w] -= 1
            if indeg[w] == 0:
                queue.append(w)
    # 2. virtual points on edges that skip layers
    vnodes: dict[str, tuple[float, float]] = {}
    chains: dict[int, list[str]] = {}
    vsucc = {i: [] for i in ids}
    vpred = {i: [] for i in ids}
    for k, e in enumerate(g.edges):
        path = [e.src]
        for lvl in range(layer[e.src] + 1, layer[e.dst]):
            v = f"v{k}_{lvl}"
            vnodes[v] = (2.0, 2.0)
            layer[v] = lvl
            vsucc[v], vpred[v] = [], []
            path.append(v)
        path.append(e.dst)
        for a, b in zip(path, path[1:]):
            vsucc[a].append(b)
            vpred[b].append(a)
        chains[k] = path
    size.update(vnodes)
    nlayers = max(layer.values()) + 1
    rows: list[list[str]] = [[] for _ in range(nlayers)]
    # initial order: depth-first from the sources, so children start under their parents
    placed: set = set()
    stack = [i for i in reversed(ids) if not vpred[i]]
    while stack:
        v = stack.pop()
        if v in placed:
            continue
        placed.add(v)
        rows[layer[v]].append(v)
        stack.extend(reversed(vsucc[v]))
    for v in list(ids) + list(vnodes):
        if v not in placed:
            rows[layer[v]].append(v)
    # 3. barycentre sweeps against crossings
    pos = {v: i for row in rows for i, v in enumerate(row)}
    for sweep in range(8):
        rng = range(1, nlayers) if sweep % 2 == 0 else range(nlayers - 2, -1, -1)
        for li in rng:
            nb = vpred if sweep % 2 == 0 else vsucc

            def bary(v, nb=nb):
                ps = [pos[u] for u in nb[v]]
                return sum(ps) / len(ps) if ps else pos[v]

            rows[li].sort(key=bary)
            for i, v in enumerate(rows[li]):
                pos[v] = i
    # 4. x: pack each row, then relax towards neighbours keeping the order and the gaps
    x: dict[str, float] = {}
    for row in rows:
        cx = 0.0
        for v in row:
            w = size[v][0]
            x[v] = cx + w / 2
            cx += w + GAP_X
    for it in range(24):
        down = it % 2 == 0
        order = rows if down else list(reversed(rows))
        for row in order:
            want = {}
            for v in row:
                nbrs = (vpred[v] + vsucc[v]) if it > 12 else (vpred[v] if down else vsucc[v])
                want[v] = sum(x[u] for u in nbrs) / len(nbrs) if nbrs else x[v]
            _place_row(row, want, x, size)
    minx = min(x[v] - size[v][0] / 2 for v in x)
    for v in x:
        x[v] += MARGIN - minx
    # 5. y from the layers' heights
    heights = [max((size[v][1] for v in row), default=0) for row in rows]
    tops = []
    cy = MARGIN
    for h in heights:
        tops.append(cy)
        cy += h + GAP_Y
    boxes = {}
    for v in ids:
        li = layer[v]
        w, h = size[v]
        boxes[v] = Box(x[v], tops[li] + (heights[li] - h) / 2, w, h)
    lines: dict[int, list[tuple[float, float]]] = {}
    for k, path in chains.items():
        a, b = boxes[path[0]], boxes[path[-1]]
        pts = [(a.x, a.y + a.h)]
        for v in path[1:-1]:
            li = layer[v]
            pts.append((x[v], tops[li]))
            pts.append((x[v], tops[li] + heights[li]))
        pts.append((b.x, b.y))
        lines[k] = pts
    width = max(b.x + b.w / 2 for b in boxes.values()) + MARGIN
    width = max(width, max((x[v] for v in vnodes), default=0) + MARGIN)
    height = cy - GAP_Y + MARGIN
    return boxes, lines, width, height


def _place_row(row: list[str], want: dict, x: dict, size: dict) -> None:
    """Move a row's nodes towards their wanted x without overlaps or changing their order.

    One pass pushes right from the left end, one pushes left from the right end; both keep the
    gaps, and so does their average (the constraints are linear), which splits the difference.
    """
    n = len(row)
    if not n:
        return
    sep = [(size[row[i]][0] + size[row[i + 1]][0]) / 2 + GAP_X for i in range(n - 1)]
    left = [want[v] for v in row]
    for i in range(1, n):
        left[i] = max(left[i], left[i - 1] + sep[i - 1])
    right = [want[v] for v in row]
    for i in range(n - 2, -1, -1):
        right[i] = min(right[i], right[i + 1] - sep[i])
    for i, v in enumerate(row):
        x[v] = (left[i] + right[i]) / 2


def _path(pts: list[tuple[float, float]]) -> str:
    d = f"M{pts[0][0]:.1f},{pts[0][1]:.1f}"
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        my = (y0 + y1) / 2
        d += f" C{x0:.1f},{my:.1f} {x1:.1f},{my:.1f} {x1:.1f},{y1:.1f}"
    return d


def render_svg(g: Graph, interactive: bool = False) -> str:
    """The graph as a standalone SVG document (every node a ``<g class="node">``).

    With ``interactive`` the nodes carry the data attributes the HTML stepper uses.
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
    steps = {n.id: n.step for n in g.nodes}
    for k, e in enumerate(g.edges):
        pts = lines.get(k)
        if not pts:
            continue
        attrs = f' data-src="{e.src}" data-dst="{e.dst}" data-step="{steps[e.src]}"' \
            if interactive else ""
        out.append(f'<g class="edge-g"{attrs}><path class="edge" d="{_path(pts)}" '
                   'marker-end="url(#lg-arrow)"/>')
        if e.label:
            (x0, y0), (x1, y1) = pts[0], pts[1]
            out.append(f'<text class="elabel" x="{(x0 + x1) / 2 + 4:.1f}" '
                       f'y="{(y0 + y1) / 2:.1f}">{escape(_clip(e.label))}</text>')
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
    out.append("</svg>")
    return "\n".join(out)
