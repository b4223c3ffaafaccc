"""The picture-ready graph: nodes with shapes, values and gradients, edges along next_functions."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..autograd.explanation.modules import blocked_all
from ..autograd.node import AccumulateGrad
from ..locale import strings


@dataclass
class GNode:
    """One box of the picture: an output tensor, an op node, or a leaf (its AccumulateGrad)."""

    id: str
    kind: str  # "output" | "op" | "leaf"
    title: str  # PowBackward0, or the tensor's name for outputs and leaves
    subtitle: str  # t1 = x.pow(2), or "leaf" / "output"
    shape: str
    value: str | None = None
    grad: str | None = None
    step: int = 0  # the backward step that runs this node (0: before the first step)
    site: str | None = None
    detail: str = ""  # the narration of this node's step (plain text)
    group: str | None = None  # the innermost module group holding it (GGroup.id)
    note: str | None = None  # a remark drawn in the box (a ReLU that blocked every gradient)
    hists: list = field(default_factory=list)  # group boxes: (label, counts) per parameter
    members: int = 0  # group boxes: how many nodes the box stands for


@dataclass
class GGroup:
    """A module call: its label, enclosing group, the nodes it made itself, its parameters'
    rows (text) and gradient histograms, and its module-level narration."""

    id: str
    label: str
    parent: str | None
    nodes: list[str] = field(default_factory=list)
    rows: list = field(default_factory=list)  # (text, histogram counts or None) per parameter
    text: str = ""
    first: int = 0  # its first backward step


@dataclass
class GEdge:
    """An edge of the backward graph: from a node to one of its inputs' nodes."""

    src: str
    dst: str
    label: str = ""


@dataclass
class Graph:
    """Nodes and edges of a backward graph, ready to be drawn (text, Mermaid, DOT, SVG, HTML)."""

    nodes: list[GNode] = field(default_factory=list)
    edges: list[GEdge] = field(default_factory=list)
    title: str = ""
    lang: str = "en"
    steps: list[dict] = field(default_factory=list)  # per step: node id, heading, text
    groups: list[GGroup] = field(default_factory=list)  # module calls, forward order

    def node(self, nid: str) -> GNode:
        """The node with id ``nid``."""
        for n in self.nodes:
            if n.id == nid:
                return n
        raise KeyError(nid)

    def children(self, nid: str) -> list[GEdge]:
        """The edges leaving ``nid``, in input order."""
        return [e for e in self.edges if e.src == nid]


def from_explanation(ex, lang: str | None = None) -> Graph:
    """The graph of an ``Explanation``: every node its pass runs, with values and gradients."""
    from ..autograd.stepper import Snap, fmt_shape

    lang = lang or ex.lang
    S = strings(lang)
    me = ex.max_elements
    g = Graph(title=S["viz_title"].format(out=ex.root_label), lang=lang)
    ids: dict = {}
    values: dict = {}
    for s in ex.steps:  # forward values, wherever the graph kept them
        if s.is_leaf:
            continue
        for i, k in enumerate(s.keys):
            nxt, nr = s.edges[i]
            if nxt is not None and k in s.saved:
                values.setdefault((nxt, nr), s.saved[k])
        if "out" in s.saved:
            values.setdefault((s.node, 0), s.saved["out"])
    for key, t in ex.names.tensors.items():
        values.setdefault(key, Snap(t._data))
    for s in ex.steps:  # what the node's site kept while explaining (nodes that save nothing)
        v = getattr(s.site, "value", None) if s.site is not None and not s.is_leaf else None
        if v is not None and s._single:
            values.setdefault((s.node, 0), v)

    def val(snap):
        return None if snap is None else snap.text(me, lang)

    for i, (t, seed) in enumerate(zip(ex.outputs, ex.seeds)):
        nid = f"out{i}"
        label = ex.names.of_leaf(t) if t.grad_fn is None else ex.names.of_output(t.grad_fn,
                                                                                t._out_nr)
        g.nodes.append(GNode(nid, "output", label, S["viz_output"], fmt_shape(t.shape),
                             value=val(ex._output_snaps[i]), grad=val(seed), step=0))
    for s in ex.steps:
        nid = f"n{len(ids)}"
        ids[s.node] = nid
        text = ex.step_text(s, lang)
        head = text.splitlines()[0] if text else s.name
        g.steps.append({"node": nid, "head": head, "text": text})
        if s.is_leaf:
            nm = ex.names.of_leaf(s.leaf)
            grad = s.grad_after._data if s.grad_after is not None else None
            g.nodes.append(GNode(nid, "leaf", nm, f"{S['viz_leaf']} · AccumulateGrad",
                                 fmt_shape(s.leaf.shape), value=val(s.saved.get("x")),
                                 grad=None if grad is None else Snap(grad).text(me, lang),
                                 step=s.index, detail=text))
            continue
        shape = "?"
        if s.grad_output is not None:
            shape = fmt_shape(s.grad_output._data.shape) if s._single else ", ".join(
                "?" if v is None else fmt_shape(v._data.shape) for v in s.grad_output)
        site = None
        if s.site is not None:
            import os

            site = f"{os.path.basename(s.site.filename)}:{s.site.lineno}: {s.site.line}"
        gout = s.grad_output._data if s.grad_output is not None and s._single else None
        if shape == "?" and (s.node, 0) in values:
            shape = fmt_shape(values[(s.node, 0)].shape)
        g.nodes.append(GNode(nid, "op", s.name, ex.forward_text(s), shape,
                             value=val(values.get((s.node, 0))),
                             grad=None if gout is None else Snap(gout).text(me, lang),
                             step=s.index, site=site, detail=text,
                             note=S["viz_blocked"] if blocked_all(s) else None))
    for i, t in enumerate(ex.outputs):
        fn = t.grad_fn
        if fn is None:
            from ..autograd.node import accumulate_node

            fn = accumulate_node(t)
        if fn in ids:
            g.edges.append(GEdge(f"out{i}", ids[fn], ""))
    for s in ex.steps:
        if s.is_leaf:
            continue
        for i, (nxt, _) in enumerate(s.edges):
            if nxt is not None and nxt in ids:
                g.edges.append(GEdge(ids[s.node], ids[nxt], ex.input_label(s, i)))
    _add_groups(g, ex, ids, lang)
    return g


def _add_groups(g: Graph, ex, ids: dict, lang: str) -> None:
    """The module groups of an explanation, and each node's innermost group."""
    from ..autograd import flowstats
    from ..autograd.explanation.modules import group_blocks
    from ..autograd.explanation.narration import _render_text
    from ..autograd.stepper import fmt_num, fmt_shape

    groups = ex.modules
    if not groups:
        return
    S = strings(lang)
    gid = {id(grp): f"g{grp.index}" for grp in groups}
    byid = {n.id: n for n in g.nodes}
    for grp in groups:
        gg = GGroup(gid[id(grp)], grp.label, gid[id(grp.parent)] if grp.parent else None)
        for s in grp.steps:
            nid = ids.get(s.node)
            if nid is not None:
                gg.nodes.append(nid)
                byid[nid].group = gg.id
        every = grp.all_steps()
        gg.first = min((s.index for s in every), default=0)
        for pname, p, ls in grp.params:
            gr = ls.grad_output._data if ls is not None and ls.grad_output is not None else None
            norm = fmt_num(flowstats.norm(p._data))
            if gr is None:
                gg.rows.append((S["viz_param_none"].format(name=pname, shape=fmt_shape(p.shape),
                                                           norm=norm), None))
                continue
            gg.rows.append((S["viz_param"].format(name=pname, shape=fmt_shape(p.shape),
                                                  norm=norm, gnorm=fmt_num(flowstats.norm(gr))),
                            flowstats.histogram(gr, 12)[0]))
        gg.text = _render_text(group_blocks(ex, grp, S, lang, grp.index + 1, len(groups)), 0,
                               lang)
        g.groups.append(gg)


def from_tensor(t, lang: str = "en", names: dict | None = None) -> Graph:
    """The graph behind tensor(s) ``t``: narrated (values, gradients) while the graph is intact.

    A non-scalar output is seeded with ones for the picture's gradients. When the saved tensors
    are gone (backward already ran), the structure alone is drawn.
    """
    from ..autograd import explanation as _ex
    from ..tensor import Tensor

    tensors = (t,) if isinstance(t, Tensor) else tuple(t)
    scopes = [names] if names is not None else []
    grads = None
    if any(x._data.size != 1 for x in tensors):
        from .. import ones_like

        grads = tuple(ones_like(x) for x in tensors)
    try:
        ex = _ex._explain(tensors, grads, _ex._Names(scopes), lang, _ex.MAX_ELEMENTS)
    except RuntimeError:
        return _structure(tensors, lang, _ex._Names(scopes))
    return from_explanation(ex, lang)


def _structure(tensors, lang: str, names) -> Graph:
    """Nodes and edges only (for a graph whose saved tensors were freed)."""
    from ..autograd.stepper import fmt_shape

    S = strings(lang)
    g = Graph(title=S["viz_title"].format(out=", ".join(
        names.of_output(t.grad_fn, t._out_nr) if t.grad_fn is not None else names.of_leaf(t)
        for t in tensors)), lang=lang)
    ids: dict = {}
    order: list = []
    stack = [t.grad_fn for t in tensors if t.grad_fn is not None]
    while stack:
        fn = stack.pop()
        if fn in ids:
            continue
        ids[fn] = f"n{len(ids)}"
        order.append(fn)
        stack.extend(n for n, _ in reversed(fn.next_functions) if n is not None)
    for i, t in enumerate(tensors):
        label = names.of_output(t.grad_fn, t._out_nr) if t.grad_fn is not None else \
            names.of_leaf(t)
        g.nodes.append(GNode(f"out{i}", "output", label, S["viz_output"], fmt_shape(t.shape)))
        if t.grad_fn in ids:
            g.edges.append(GEdge(f"out{i}", ids[t.grad_fn]))
    for k, fn in enumerate(order):
        if fn.__class__ is AccumulateGrad:
            g.nodes.append(GNode(ids[fn], "leaf", names.of_leaf(fn.variable), S["viz_leaf"],
                                 fmt_shape(fn.variable.shape), step=k + 1))
            continue
        g.nodes.append(GNode(ids[fn], "op", fn.name(), names.of_output(fn), "?", step=k + 1))
        for nxt, nr in fn.next_functions:
            if nxt is not None:
                g.edges.append(GEdge(ids[fn], ids[nxt], names.of_output(nxt, nr)
                                     if nxt.__class__ is not AccumulateGrad
                                     else names.of_leaf(nxt.variable)))
    return g


def as_graph(target, lang: str | None = None) -> Graph:
    """A ``Graph`` from a Graph, an ``Explanation``, or tensor(s)."""
    from ..autograd.explanation import Explanation

    if isinstance(target, Graph):
        return target
    if isinstance(target, Explanation):
        return from_explanation(target, lang)
    return from_tensor(target, lang or "en")
