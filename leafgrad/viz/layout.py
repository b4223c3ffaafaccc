"""A layered (Sugiyama) layout with orthogonal edges, in plain Python.

The steps are the classic ones:

1. **Layers**: longest path from the sources, then each node moved to whichever end of its
   free range shortens its edges (a cheap stand-in for network simplex that keeps a leaf right
   under its only consumer and pulls a many-input node down to its inputs).
2. **Dummy nodes** on every edge that spans more than one layer, so a long edge is a chain of
   short ones and gets its own narrow column.
3. **Order within layers**: depth-first initial order, then weighted-median sweeps down and up
   with adjacent-swap transposition; the order with the fewest crossings is kept.
4. **x coordinates**: Brandes–Köpf (four vertical alignments to medians, compaction of aligned
   blocks, balanced by the average of the two median candidates), with the variable widths of
   the boxes as separations; long edges' dummy chains are aligned first, so they run straight.
5. **Edges**: orthogonal. A hop between adjacent layers drops vertically from its source's
   port, runs horizontally on its own track in the channel between the layers, and drops into
   its target's port; a hop whose ends overlap horizontally is one straight vertical segment.

Written here rather than taken from a library so that leafgrad keeps NumPy as its only
dependency and every page it writes lays out the same way with nothing installed; the graphs
it draws have hundreds, not hundreds of thousands, of nodes.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

__all__ = ["Placed", "layered_layout"]

GAP_X = 28.0  # px between neighbouring boxes
GAP_DUMMY = 10.0  # px between an edge's column and its neighbours
DUMMY_W = 2.0
GAP_Y = 40.0  # px of channel between layers, before tracks are added
TRACK = 7.0  # px between the horizontal runs of a channel
PORT_GAP = 9.0  # px between two edges entering or leaving one box side
MARGIN = 16.0


@dataclass
class Placed:
    """The layout: node boxes (centre x, top y, w, h), one polyline per edge, the size."""

    boxes: dict[str, tuple[float, float, float, float]]
    lines: list[list[tuple[float, float]]]
    width: float
    height: float
    layer: dict[str, int]


# -- 1. layers -----------------------------------------------------------------------------------
def _break_cycles(ids: list[str], edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The edges with those closing a cycle reversed (an iterative depth-first search)."""
    succ: dict[str, list[str]] = {v: [] for v in ids}
    for a, b in edges:
        succ[a].append(b)
    state: dict[str, int] = {}
    back: set = set()
    for root in ids:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            v, it = stack[-1]
            for w in it:
                s = state.get(w)
                if s is None:
                    state[w] = 1
                    stack.append((w, iter(succ[w])))
                    break
                if s == 1:
                    back.add((v, w))
            else:
                state[v] = 2
                stack.pop()
    return [(b, a) if (a, b) in back else (a, b) for a, b in edges]


def _layers(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    succ: dict[str, list[str]] = {v: [] for v in ids}
    pred: dict[str, list[str]] = {v: [] for v in ids}
    for a, b in edges:
        if a != b:
            succ[a].append(b)
            pred[b].append(a)
    layer = {v: 0 for v in ids}
    indeg = {v: len(pred[v]) for v in ids}
    queue = [v for v in ids if indeg[v] == 0]
    order = []
    while queue:  # Kahn's order: each node goes one below its lowest predecessor
        v = queue.pop()
        order.append(v)
        for w in succ[v]:
            layer[w] = max(layer[w], layer[v] + 1)
            indeg[w] -= 1
            if indeg[w] == 0:
                queue.append(w)
    # promotion: a node with more edges below than above moves as far down as it may
    for _ in range(4):
        moved = False
        for v in reversed(order):
            if not succ[v] or len(succ[v]) <= len(pred[v]):
                continue
            lo = min(layer[w] for w in succ[v]) - 1
            if lo > layer[v]:
                layer[v] = lo
                moved = True
        if not moved:
            break
    return layer


# -- 3. order ------------------------------------------------------------------------------------
def _crossings(upper: list[str], lower_pos: dict[str, int], down: dict[str, list[str]]) -> int:
    """Crossings between two adjacent layers: inversions among the edges sorted by upper end."""
    seq = []
    for u in upper:
        seq.extend(sorted(lower_pos[w] for w in down[u]))
    n = len(lower_pos)
    tree = [0] * (n + 1)
    total = 0
    for k, p in enumerate(seq):  # Fenwick tree: how many earlier edges end to the right of p
        i, below = p + 1, 0
        while i > 0:
            below += tree[i]
            i -= i & -i
        total += k - below
        i = p + 1
        while i <= n:
            tree[i] += 1
            i += i & -i
    return total


def _median(ps: list[int]) -> float:
    """Gansner's weighted median of sorted neighbour positions (-1: no neighbours)."""
    m = len(ps)
    if m == 0:
        return -1.0
    h = m // 2
    if m % 2:
        return float(ps[h])
    if m == 2:
        return (ps[0] + ps[1]) / 2
    left, right = ps[h - 1] - ps[0], ps[-1] - ps[h]
    if left + right == 0:
        return (ps[h - 1] + ps[h]) / 2
    return (ps[h - 1] * right + ps[h] * left) / (left + right)


def _order(rows: list[list[str]], up: dict, down: dict) -> list[list[str]]:
    def total(rs):
        pos = [{v: i for i, v in enumerate(r)} for r in rs]
        return sum(_crossings(rs[i], pos[i + 1], down) for i in range(len(rs) - 1))

    best = [list(r) for r in rows]
    best_c = total(best)
    cur = [list(r) for r in rows]
    stale = 0
    for sweep in range(24):
        if best_c == 0 or stale >= 4:  # done, or four sweeps in a row found nothing better
            break
        downward = sweep % 2 == 0
        rng = range(1, len(cur)) if downward else range(len(cur) - 2, -1, -1)
        for li in rng:
            ref = cur[li - 1] if downward else cur[li + 1]
            nb = up if downward else down
            rpos = {v: i for i, v in enumerate(ref)}
            keys = {}
            for i, v in enumerate(cur[li]):
                m = _median(sorted(rpos[w] for w in nb[v]))
                keys[v] = (m if m >= 0 else i - 0.5, i)  # no neighbours: stay about here
            cur[li].sort(key=keys.__getitem__)
        if sweep % 2:  # after each down-and-up pair: local swaps (the costlier step)
            _transpose(cur, up, down)
        c = total(cur)
        if c < best_c:
            best, best_c, stale = [list(r) for r in cur], c, 0
        else:
            stale += 1
    if best_c:
        _transpose(best, up, down)
    return best


def _transpose(rows: list[list[str]], up: dict, down: dict) -> None:
    """Swap neighbours in a layer while that lowers the crossings with both adjacent layers."""
    pos = {v: i for r in rows for i, v in enumerate(r)}

    for _ in range(4):
        improved = False
        for r in rows:
            if len(r) < 2:
                continue
            # the adjacent layers do not move while this one is worked on: sort once
            nbr = {v: (sorted(pos[w] for w in up[v]), sorted(pos[w] for w in down[v]))
                   for v in r}

            def cross(u: str, v: str, nbr=nbr) -> int:  # crossings of u's and v's edges, u left
                c = 0
                for side in (0, 1):
                    pv = nbr[v][side]
                    if pv:
                        c += sum(bisect.bisect_left(pv, a) for a in nbr[u][side])
                return c

            for i in range(len(r) - 1):
                u, v = r[i], r[i + 1]
                if cross(u, v) > cross(v, u):
                    r[i], r[i + 1] = v, u
                    pos[u], pos[v] = i + 1, i
                    improved = True
        if not improved:
            break


# -- 4. x coordinates (Brandes–Köpf) ----------------------------------------------------------
def _type1_conflicts(rows: list[list[str]], up: dict, dummy: set) -> set:
    """Edges that cross an inner segment (dummy to dummy): they must not be aligned."""
    marked: set = set()
    for li in range(1, len(rows)):
        prev, layer = rows[li - 1], rows[li]
        ppos = {v: i for i, v in enumerate(prev)}
        k0, scan = 0, 0
        for i, v in enumerate(layer):
            inner = next((u for u in up[v] if u in dummy), None) if v in dummy else None
            if inner is None and i != len(layer) - 1:
                continue
            k1 = ppos[inner] if inner is not None else len(prev) - 1
            for s in layer[scan:i + 1]:
                for u in up[s]:
                    p = ppos[u]
                    if (p < k0 or p > k1) and not (u in dummy and s in dummy):
                        marked.add((u, s))
            scan, k0 = i + 1, k1
    return marked


def _align(rows: list[list[str]], nb: dict, conflicts: set) -> dict[str, str]:
    """Each node's block root: nodes aligned to a median neighbour of the previous layer."""
    root = {v: v for r in rows for v in r}
    align = dict(root)
    pos = {v: i for r in rows for i, v in enumerate(r)}
    for r in rows[1:]:
        last = -1
        for v in r:
            ws = sorted(nb[v], key=pos.__getitem__)
            if not ws:
                continue
            mid = (len(ws) - 1) / 2
            for k in range(math.floor(mid), math.ceil(mid) + 1):
                w = ws[k]
                if align[v] != v:
                    break
                if last < pos[w] and (w, v) not in conflicts and (v, w) not in conflicts:
                    align[w] = v
                    root[v] = root[w]
                    align[v] = root[v]
                    last = pos[w]
    return root


def _compact(rows: list[list[str]], root: dict, sep) -> dict[str, float]:
    """Leftmost x of every block, then each block pulled right as far as its neighbours allow."""
    succ: dict[str, dict[str, float]] = {}
    pred: dict[str, dict[str, float]] = {}
    for r in rows:
        for u, v in zip(r, r[1:]):
            a, b = root[u], root[v]
            d = sep(u, v)
            if succ.setdefault(a, {}).get(b, -1.0) < d:
                succ[a][b] = d
                pred.setdefault(b, {})[a] = d
    blocks = list(dict.fromkeys(root[v] for r in rows for v in r))
    indeg = {b: len(pred.get(b, ())) for b in blocks}
    queue = [b for b in blocks if indeg[b] == 0]
    order = []
    while queue:
        b = queue.pop()
        order.append(b)
        for c in succ.get(b, ()):
            indeg[c] -= 1
            if indeg[c] == 0:
                queue.append(c)
    if len(order) != len(blocks):  # cannot happen for a consistent alignment; stay safe
        order = blocks
    x: dict[str, float] = {}
    for b in order:
        x[b] = max((x.get(a, 0.0) + d for a, d in pred.get(b, {}).items()), default=0.0)
    for b in reversed(order):
        out = succ.get(b)
        if out:
            x[b] = max(x[b], min(x[c] - d for c, d in out.items()))
    return {v: x[root[v]] for r in rows for v in r}


def _brandes_koepf(rows: list[list[str]], up: dict, down: dict, width: dict,
                   dummy: set) -> dict[str, float]:
    def sep(u: str, v: str) -> float:
        gap = GAP_DUMMY if (u in dummy or v in dummy) else GAP_X
        return (width[u] + width[v]) / 2 + gap

    conflicts = _type1_conflicts(rows, up, dummy)
    # a sink hanging off a node that also has a real continuation (a weight beside the layer
    # that uses it) is never aligned with it: the continuation keeps the straight line, in all
    # four passes alike, instead of the passes disagreeing and their average drifting sideways
    for r in rows:
        for v in r:
            if v in dummy or down[v] or len(up[v]) != 1:
                continue
            u = up[v][0]
            if any(w != v and (w in dummy or down[w]) for w in down[u]):
                conflicts.add((u, v))
    results = []
    for vertical in ("up", "down"):
        for horizontal in ("left", "right"):
            rs = rows if vertical == "up" else rows[::-1]
            if horizontal == "right":
                rs = [r[::-1] for r in rs]
            nb = up if vertical == "up" else down
            root = _align(rs, nb, conflicts)
            if horizontal == "right":
                x = _compact(rs, root, lambda u, v: sep(v, u))
                x = {v: -p for v, p in x.items()}
            else:
                x = _compact(rs, root, sep)
            results.append((horizontal, x))
    spans = []
    for _, x in results:
        lo = min(x[v] - width[v] / 2 for v in x)
        hi = max(x[v] + width[v] / 2 for v in x)
        spans.append((hi - lo, lo, hi))
    narrow = min(range(4), key=lambda i: spans[i][0])
    _, nlo, nhi = spans[narrow]
    for i, (horizontal, x) in enumerate(results):
        shift = nlo - spans[i][1] if horizontal == "left" else nhi - spans[i][2]
        for v in x:
            x[v] += shift
    final = {}
    for v in results[0][1]:
        c = sorted(x[v] for _, x in results)
        final[v] = (c[1] + c[2]) / 2
    for r in rows:  # the balanced average may, rarely, bring two boxes too close: push apart
        for u, v in zip(r, r[1:]):
            final[v] = max(final[v], final[u] + sep(u, v))
    return final


# -- the whole layout ----------------------------------------------------------------------------
def layered_layout(ids: list[str], sizes: dict[str, tuple[float, float]],
                   edges: list[tuple[str, str]]) -> Placed:
    """Lay out a directed graph top to bottom; ``edges`` are ``(source, target)`` pairs.

    >>> p = layered_layout(["a", "b", "c"], {"a": (40, 20), "b": (40, 20), "c": (40, 20)},
    ...                    [("a", "b"), ("a", "c"), ("b", "c")])
    >>> p.layer == {"a": 0, "b": 1, "c": 2}, p.boxes["a"][1] < p.boxes["b"][1] < p.boxes["c"][1]
    (True, True)
    """
    if not ids:
        return Placed({}, [], 2 * MARGIN, 2 * MARGIN, {})
    dag = _break_cycles(ids, edges)
    layer = _layers(ids, dag)
    width = {v: sizes[v][0] for v in ids}
    up: dict[str, list[str]] = {v: [] for v in ids}
    down: dict[str, list[str]] = {v: [] for v in ids}
    dummy: set = set()
    chains: list[list[str]] = []
    for k, (a, b) in enumerate(dag):
        if a == b:
            chains.append([a])
            continue
        path = [a]
        for li in range(layer[a] + 1, layer[b]):
            d = f"\0{k}:{li}"
            dummy.add(d)
            layer[d] = li
            width[d] = DUMMY_W
            up[d], down[d] = [], []
            path.append(d)
        path.append(b)
        for u, v in zip(path, path[1:]):
            down[u].append(v)
            up[v].append(u)
        chains.append(path)
    nlayers = max(layer.values()) + 1
    rows: list[list[str]] = [[] for _ in range(nlayers)]
    seen: set = set()
    for src in [v for v in ids if not up[v]]:  # depth-first: children start under parents
        stack = [src]
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            rows[layer[v]].append(v)
            stack.extend(reversed(down[v]))
    for v in list(ids) + sorted(dummy):
        if v not in seen:
            rows[layer[v]].append(v)
    rows = _order(rows, up, down)
    x = _brandes_koepf(rows, up, down, width, dummy)
    lo = min(x[v] - width[v] / 2 for v in x)
    for v in x:
        x[v] += MARGIN - lo
    height = {v: (sizes[v][1] if v in sizes else 0.0) for v in x}
    row_h = [max((height[v] for v in r if v not in dummy), default=0.0) for r in rows]
    return _route(ids, sizes, dag, edges, chains, rows, layer, x, row_h, dummy)


def _route(ids, sizes, dag, edges, chains, rows, layer, x, row_h, dummy) -> Placed:
    """Ports, channel tracks and the y of every layer; then each edge's orthogonal polyline."""
    def span(v):  # the x range where an edge may attach to v
        if v in dummy:
            return x[v], x[v]
        half = max(sizes[v][0] / 2 - 8, 0)
        return x[v] - half, x[v] + half

    hops = []  # (chain index, hop index, upper end, lower end)
    for k, path in enumerate(chains):
        for h, (a, b) in enumerate(zip(path, path[1:])):
            hops.append((k, h, a, b))
    want_out, want_in = {}, {}
    for hop in hops:
        _, _, a, b = hop
        (al, ar), (bl, br) = span(a), span(b)
        lo, hi = max(al, bl), min(ar, br)
        if lo <= hi:  # the ends overlap: one straight drop near the nearer centre
            c = min(max((x[a] + x[b]) / 2, lo), hi)
            want_out[hop] = want_in[hop] = c
        else:
            want_out[hop] = min(max(x[b], al), ar)
            want_in[hop] = min(max(x[a], bl), br)
    port_out = _spread(hops, want_out, 2, span, dummy, other=3)
    port_in = _spread(hops, want_in, 3, span, dummy, other=2)
    # tracks: left-edge channel routing, one channel between each pair of layers
    tracks: dict = {}
    ntracks = [0] * len(rows)
    by_channel: dict[int, list] = {}
    for hop in hops:
        if abs(port_out[hop] - port_in[hop]) > 0.5:
            by_channel.setdefault(layer[hop[2]], []).append(hop)
    for li, hs in by_channel.items():
        ends: list[float] = []
        for hop in sorted(hs, key=lambda h: (min(port_out[h], port_in[h]),
                                             max(port_out[h], port_in[h]))):
            a, b = sorted((port_out[hop], port_in[hop]))
            t = next((i for i, e in enumerate(ends) if e + PORT_GAP <= a), None)
            if t is None:
                t = len(ends)
                ends.append(b)
            else:
                ends[t] = b
            tracks[hop] = t
        ntracks[li] = len(ends)
    tops = []
    y = MARGIN
    for li, h in enumerate(row_h):
        tops.append(y)
        y += h + GAP_Y + max(ntracks[li] - 1, 0) * TRACK
    height = y - GAP_Y - max(ntracks[-1] - 1, 0) * TRACK + MARGIN
    boxes = {}
    for v in ids:
        w, h = sizes[v]
        li = layer[v]
        boxes[v] = (x[v], tops[li] + (row_h[li] - h) / 2, w, h)

    def bottom(v):
        if v in dummy:
            return tops[layer[v]] + row_h[layer[v]]
        return boxes[v][1] + boxes[v][3]

    def top(v):
        return tops[layer[v]] if v in dummy else boxes[v][1]

    lines: list[list[tuple[float, float]]] = [[] for _ in edges]
    hop_of = {hop[:2]: hop for hop in hops}
    for k, path in enumerate(chains):
        if len(path) < 2:
            continue
        pts: list[tuple[float, float]] = []
        for h in range(len(path) - 1):
            hop = hop_of[(k, h)]
            a, b = hop[2], hop[3]
            xo, xi = port_out[hop], port_in[hop]
            if not pts:
                pts.append((xo, bottom(a)))
            elif abs(pts[-1][0] - xo) > 0.5:
                pts.append((xo, pts[-1][1]))
            if hop in tracks:
                li = layer[a]
                ch_top = tops[li] + row_h[li]
                ty = ch_top + GAP_Y / 2 + tracks[hop] * TRACK
                pts.append((xo, ty))
                pts.append((xi, ty))
            pts.append((xi, top(b)))
            if b in dummy:
                pts.append((xi, bottom(b)))
        if dag[k] != edges[k]:  # drawn against a reversed edge: the arrow keeps its meaning
            pts.reverse()
        lines[k] = _dedupe(pts)
    width = max(max(b[0] + b[2] / 2 for b in boxes.values()),
                max((x[v] for v in dummy), default=0.0)) + MARGIN
    return Placed(boxes, lines, width, height, {v: layer[v] for v in ids})


def _spread(hops, want: dict, end: int, span, dummy: set, other: int) -> dict:
    """Ports on one side of each box, in the order of their wanted x, ``PORT_GAP`` apart."""
    side: dict[str, list] = {}
    for hop in hops:
        side.setdefault(hop[end], []).append(hop)
    port = {}
    for v, hs in side.items():
        if v in dummy or len(hs) == 1:
            for h in hs:
                port[h] = want[h]
            continue
        hs.sort(key=lambda h: (want[h], h[other]))
        lo, hi = span(v)
        p = [min(max(want[h], lo), hi) for h in hs]
        for i in range(1, len(p)):  # push right to open the gaps, then back inside the box
            p[i] = max(p[i], p[i - 1] + PORT_GAP)
        p[-1] = min(p[-1], hi)
        for i in range(len(p) - 2, -1, -1):
            p[i] = min(p[i], p[i + 1] - PORT_GAP)
        if p[0] < lo:  # more edges than fit PORT_GAP apart: share the side evenly
            p = [lo + (hi - lo) * i / (len(p) - 1) for i in range(len(p))]
        for h, q in zip(hs, p):
            port[h] = q
    return port


def _dedupe(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The polyline without repeated points or middle points of straight runs."""
    out: list[tuple[float, float]] = []
    for p in pts:
        if out and abs(out[-1][0] - p[0]) < 1e-6 and abs(out[-1][1] - p[1]) < 1e-6:
            continue
        if len(out) >= 2:
            (x0, y0), (x1, y1) = out[-2], out[-1]
            if (abs(x0 - x1) < 1e-6 and abs(x1 - p[0]) < 1e-6) or \
                    (abs(y0 - y1) < 1e-6 and abs(y1 - p[1]) < 1e-6):
                out[-1] = p  # the same vertical or horizontal run: extend it
                continue
        out.append(p)
    return out
