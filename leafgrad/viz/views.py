"""Views of a module-grouped graph: which module groups are drawn closed (one box each).

The page cannot lay out a graph itself (the layout is Python), so it carries one drawing per
view it can show: every group closed (``top``), each group open with its enclosing groups (and
everything else closed), and every group open (``all``). Opening a group switches to its view;
that is linear in the number of groups, where arbitrary open/closed combinations would not be.
"""

from __future__ import annotations

from dataclasses import replace

from ..locale import strings
from .graph import GEdge, GNode, Graph

MAX_VIEWS = 40  # past this many groups only ``top`` and ``all`` are drawn (page size)


def chain(g: Graph, gid: str | None) -> list[str]:
    """The group ``gid`` and its enclosing groups, innermost first."""
    parents = {gg.id: gg.parent for gg in g.groups}
    out = []
    while gid is not None:
        out.append(gid)
        gid = parents.get(gid)
    return out


def view_keys(g: Graph) -> list[str]:
    """The views a page carries: ``top``, one per group (``g3``) and ``all``.

    >>> from leafgrad.viz.graph import GGroup
    >>> view_keys(Graph(groups=[GGroup("g0", "Linear", None)])), view_keys(Graph())
    (['top', 'g0', 'all'], ['all'])
    """
    if not g.groups:
        return ["all"]
    keys = ["top"]
    if len(g.groups) <= MAX_VIEWS:
        keys += [gg.id for gg in g.groups]
    return keys + ["all"]


def closed_in(g: Graph, key: str) -> set[str]:
    """The groups drawn closed in view ``key``."""
    if key == "all":
        return set()
    everything = {gg.id for gg in g.groups}
    if key == "top":
        return everything
    return everything - set(chain(g, key))


def view_graph(g: Graph, closed: set[str]) -> tuple[Graph, list]:
    """``g`` with each outermost closed group drawn as one box; and the frames of open groups
    as ``(group id, label, member ids)``."""
    S = strings(g.lang)
    groups = {gg.id: gg for gg in g.groups}
    rep: dict[str, str] = {}
    for n in g.nodes:
        top = None
        for gid in chain(g, n.group):  # innermost first: the last closed one is outermost
            if gid in closed:
                top = gid
        rep[n.id] = n.id if top is None else f"G{top}"
    members: dict[str, list] = {}
    for n in g.nodes:
        if rep[n.id] != n.id:
            members.setdefault(rep[n.id], []).append(n)
    nodes: list[GNode] = []
    made: set = set()
    for n in g.nodes:
        r = rep[n.id]
        if r == n.id:
            nodes.append(n)
            continue
        if r in made:
            continue
        made.add(r)
        gg = groups[r[1:]]
        inner = members[r]
        nodes.append(GNode(r, "group", gg.label, S["viz_group_sub"].format(k=len(inner)), "",
                           step=min((m.step for m in inner), default=0), group=gg.parent,
                           hists=list(gg.rows), members=len(inner),
                           detail=gg.text))
    edges: list[GEdge] = []
    seen: dict = {}
    for e in g.edges:
        a, b = rep[e.src], rep[e.dst]
        if a == b:
            continue
        k = seen.get((a, b))
        if k is None:
            seen[(a, b)] = len(edges)
            edges.append(GEdge(a, b, e.label))
        elif edges[k].label != e.label:
            edges[k] = replace(edges[k], label="")
    frames = []
    for gg in g.groups:
        if gg.id in closed or any(p in closed for p in chain(g, gg.parent)):
            continue
        inside = [n.id for n in nodes if gg.id in chain(g, n.group if n.kind != "group"
                                                           else n.id[1:])]
        frames.append((gg.id, gg.label, inside))
    return Graph(nodes, edges, g.title, g.lang, g.steps, g.groups), frames


def group_steps(g: Graph) -> dict[str, list[int]]:
    """Every backward step of each group, its inner groups' included."""
    step_of = {n.id: n.step for n in g.nodes}
    out: dict[str, list[int]] = {gg.id: [] for gg in g.groups}
    node_group = {n.id: n.group for n in g.nodes}
    for nid, gid in node_group.items():
        for c in chain(g, gid):
            out[c].append(step_of[nid])
    return {k: sorted(v) for k, v in out.items()}
