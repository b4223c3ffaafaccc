"""Explain by module: the steps of a backward pass grouped by the ``nn.Module`` call that made
their nodes, each group narrated as what the layer's backward computes, with its numbers.

Which call made a node is recorded with the node's creation site (``sites.state.scope``, pushed
by ``Module.__call__`` only while sites are recorded). A top-level module that called others
(the model) is not a group itself: its children are the groups, labelled as
``named_modules`` names them (``Sequential/0: Linear(4→3)``). A module called more than once
gives one group per call (``#2``, ``#3``...); its parameters sit in the group of its first call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...locale import module_notes, strings
from .. import flowstats
from ..node import AccumulateGrad
from ..stepper import Step, fmt_array, fmt_num, fmt_shape


@dataclass(eq=False)
class ModuleGroup:
    """One module call of the forward pass and the backward steps of the nodes it made.

    ``steps`` are this call's own steps (ops it ran itself, and the leaves of its module's
    parameters); ``children`` the module calls it made; ``params`` its module's parameters as
    ``(name, parameter, leaf step or None)``.
    """

    module: object
    call: int
    path: str
    label: str
    name: str = ""  # the module's dotted name in its model ("0", "features.0"; "" for a model)
    parent: ModuleGroup | None = None
    children: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    params: list = field(default_factory=list)
    index: int = 0

    @property
    def kind(self) -> str:
        """The module's class name (``Linear``)."""
        return type(self.module).__name__

    def all_steps(self) -> list[Step]:
        """This call's steps and those of every call inside it, in the engine's order."""
        out = list(self.steps)
        for c in self.children:
            out += c.all_steps()
        return sorted(out, key=lambda s: s.index)

    def ancestors(self) -> list[ModuleGroup]:
        """The enclosing groups, outermost first."""
        out = []
        g = self.parent
        while g is not None:
            out.insert(0, g)
            g = g.parent
        return out


def _cls(m) -> str:
    return type(m).__name__


def _size(v) -> str:
    v = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    return "×".join(str(d) for d in v)


# the short description after a module's class name in a group's label, by class name
_SHORT = {
    "Linear": lambda m: f"{m.in_features}→{m.out_features}" + ("" if m.bias is not None
                                                               else ", no bias"),
    "Bilinear": lambda m: f"{m.in1_features}, {m.in2_features}→{m.out_features}",
    "_ConvNd": lambda m: f"{m.in_channels}→{m.out_channels}, {_size(m.kernel_size)}",
    "_BatchNorm": lambda m: f"{m.num_features}",
    "_InstanceNorm": lambda m: f"{m.num_features}",
    "LayerNorm": lambda m: _size(m.normalized_shape),
    "RMSNorm": lambda m: _size(m.normalized_shape),
    "GroupNorm": lambda m: f"{m.num_groups} groups, {m.num_channels}",
    "Embedding": lambda m: f"{m.num_embeddings}×{m.embedding_dim}",
    "EmbeddingBag": lambda m: f"{m.num_embeddings}×{m.embedding_dim}",
    "_DropoutNd": lambda m: f"p={fmt_num(m.p)}",
    "LeakyReLU": lambda m: f"{fmt_num(m.negative_slope)}",
    "RNNBase": lambda m: f"{m.input_size}→{m.hidden_size}, {m.num_layers} layers"
    if m.num_layers > 1 else f"{m.input_size}→{m.hidden_size}",
    "RNNCellBase": lambda m: f"{m.input_size}→{m.hidden_size}",
    "_MaxPoolNd": lambda m: _size(m.kernel_size),
    "_AvgPoolNd": lambda m: _size(m.kernel_size),
}


def short_label(m) -> str:
    """``Linear(784→256)``: a module's class and its few defining sizes.

    >>> from leafgrad import nn
    >>> short_label(nn.Linear(784, 256)), short_label(nn.ReLU())
    ('Linear(784→256)', 'ReLU')
    """
    for cls in type(m).__mro__:
        f = _SHORT.get(cls.__name__)
        if f is not None:
            try:
                return f"{_cls(m)}({f(m)})"
            except (AttributeError, TypeError):
                break
    return _cls(m)


def group_modules(steps: list[Step]) -> tuple[list[ModuleGroup], dict]:
    """The module groups of a pass (forward order) and each step's innermost group.

    >>> import leafgrad
    >>> from leafgrad.autograd.stepper import backward_steps
    >>> m = leafgrad.nn.Sequential(leafgrad.nn.Linear(2, 2), leafgrad.nn.Tanh())
    >>> with leafgrad.autograd.recording_sites():
    ...     y = m(leafgrad.ones(1, 2)).sum()
    >>> [g.label for g in group_modules(list(backward_steps(y)))[0]]
    ['Sequential/0: Linear(2→2)', 'Sequential/1: Tanh']
    """
    entries: dict = {}  # call number -> (module, parent call, root module)
    for s in steps:
        if s.is_leaf or s.site is None or not getattr(s.site, "scope", ()):
            continue
        prev = None
        root = s.site.scope[0][0]
        for m, c in s.site.scope:
            if c not in entries:
                entries[c] = (m, prev, root)
            prev = c
    if not entries:
        return [], {}
    parents = {p for _, p, _ in entries.values() if p is not None}
    dissolved = {c for c, (_, p, _) in entries.items() if p is None and c in parents}
    names: dict = {}  # id(root) -> {id(module): dotted name}
    for _m, _p, root in entries.values():
        if id(root) not in names:
            try:
                names[id(root)] = {id(sub): n for n, sub in root.named_modules()}
            except (AttributeError, TypeError):
                names[id(root)] = {}
    groups: dict = {}
    for c in sorted(entries):  # call numbers grow as calls begin: parents come first
        m, p, root = entries[c]
        if c in dissolved:
            continue
        parent = groups.get(p)
        dotted = names[id(root)].get(id(m))
        if p is None:
            path = _cls(m)
        elif dotted:
            path = _cls(root) + "/" + dotted.replace(".", "/")
        else:
            path = (parent.path if parent is not None else _cls(root)) + "/" + _cls(m)
        g = ModuleGroup(m, c, path, "", dotted or "", parent)
        groups[c] = g
        if parent is not None:
            parent.children.append(g)
    ordered = [groups[c] for c in sorted(groups)]
    calls: dict = {}
    for g in ordered:
        calls.setdefault(id(g.module), []).append(g)
    for i, g in enumerate(ordered):
        g.index = i
        same = calls[id(g.module)]
        suffix = f" #{same.index(g) + 1}" if len(same) > 1 else ""
        short = short_label(g.module)
        g.label = (short if g.parent is None and "/" not in g.path else
                   f"{g.path}: {short}") + suffix
    owner: dict = {}
    for s in steps:
        if s.is_leaf or s.site is None or not getattr(s.site, "scope", ()):
            continue
        g = groups.get(s.site.scope[-1][1])
        if g is not None:
            owner[s] = g
            g.steps.append(s)
    leaf_steps = {id(s.leaf): s for s in steps if s.is_leaf}
    placed: set = set()
    for g in ordered:
        if id(g.module) in placed:
            continue
        placed.add(id(g.module))
        for pname, p in getattr(g.module, "_parameters", {}).items():
            if p is None:
                continue
            ls = leaf_steps.get(id(p))
            g.params.append((pname, p, ls))
            if ls is not None and ls not in owner:
                owner[ls] = g
                g.steps.append(ls)
    for g in ordered:
        g.steps.sort(key=lambda s: s.index)
    return ordered, owner


# -- names ------------------------------------------------------------------------------------
def suggest_names(steps: list[Step], names, groups: list[ModuleGroup] = ()) -> None:
    """Name what the user's variables do not: module parameters by their qualified names
    (``0.weight``), a module call's output after the module (``0.out``), other tensors by the
    names they had where the user's code used them."""
    calls: dict = {}
    for g in groups:
        calls.setdefault(id(g.module), []).append(g)
    for g in groups:
        if not g.name:
            continue
        same = calls[id(g.module)]
        nm = f"{g.name}.out" + (f"_{same.index(g) + 1}" if len(same) > 1 else "")
        for s, _ in boundary(g)[0]:
            if not s._single:
                continue
            names.suggest((s.node, 0), nm)
            break
    roots: dict = {}
    for s in steps:
        if not s.is_leaf and s.site is not None and getattr(s.site, "scope", ()):
            r = s.site.scope[0][0]
            roots.setdefault(id(r), r)
    for r in roots.values():
        try:
            for qn, p in r.named_parameters():
                names.suggest(id(p), qn, p)
        except (AttributeError, TypeError):
            pass
    # no module scope recorded: the caller's name of a model prefixes its parameters' names
    for mid, m in getattr(names, "_module_objs", {}).items():
        try:
            for qn, p in m.named_parameters():
                names.suggest(id(p), f"{names.modules[mid]}.{qn}", p)
        except (AttributeError, TypeError):
            pass
    # the names inputs had where they were used; a name used for several tensors gets _1, _2...
    seen: dict = {}  # name -> [key, ...] in forward order
    tensors: dict = {}
    for s in sorted((s for s in steps if not s.is_leaf and s.site is not None),
                    key=lambda s: s.site.seq):
        for i, nm in enumerate(getattr(s.site, "names", ()) or ()):
            if nm is None or i >= len(s.edges):
                continue
            nxt, nr = s.edges[i]
            if nxt is None:
                t = s.inputs[i] if s.inputs is not None and i < len(s.inputs) else None
                if t is None or not hasattr(t, "_data"):
                    continue
                key = id(t)
            elif nxt.__class__ is AccumulateGrad:
                t, key = nxt.variable, id(nxt.variable)
            else:
                t, key = None, (nxt, nr)
            keys = seen.setdefault(nm, [])
            if key not in keys:
                keys.append(key)
                tensors[key] = t
    for nm, keys in seen.items():
        if len(keys) == 1:
            names.suggest(keys[0], nm, tensors[keys[0]])
        else:
            for k, key in enumerate(keys, 1):
                names.suggest(key, f"{nm}_{k}", tensors[key])


# -- module-level narration -------------------------------------------------------------------
class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def brief(a, lang: str = "en", max_elements: int = 4) -> str:
    """A gradient or value in a few words: its numbers when tiny, else shape and norm.

    >>> brief(np.array([3.0, 4.0])), brief(np.ones((2, 3)))
    ('[3, 4]', 'shape [2, 3], norm 2.449')
    """
    a = np.asarray(a)
    if a.size <= max_elements:
        return fmt_array(a, max_elements, lang)
    return strings(lang)["mod_brief"].format(shape=fmt_shape(a.shape),
                                             norm=fmt_num(flowstats.norm(a)))


def note_for(module, lang: str) -> str:
    """The sentence saying what ``module``'s backward computes (by class, then base classes).

    >>> from leafgrad import nn
    >>> note_for(nn.Conv2d(1, 1, 3), "en").startswith("each output is the kernel's dot product")
    True
    """
    notes = module_notes(lang)
    for cls in type(module).__mro__:
        n = notes.get(cls.__name__)
        if n is not None:
            return n
    return notes["_default"]


def boundary(group: ModuleGroup) -> tuple[list, list]:
    """``(incoming, outgoing)``: the gradients entering the group's outputs, as
    ``(step, gradient)``, and those it sends to inputs outside it, as ``(step, i, gradient)``."""
    steps = group.all_steps()
    inside = {s.node for s in steps}
    incoming, outgoing = [], []
    for s in steps:
        if s.is_leaf:
            continue
        for src, g in s.contributions:
            if src is None or src not in inside:
                incoming.append((s, g))
        for i, (nxt, _) in enumerate(s.edges):
            if nxt is None or nxt in inside:
                continue
            g = s.grad_inputs[i] if i < len(s.grad_inputs) else None
            outgoing.append((s, i, g))
    return incoming, outgoing


def facts(group: ModuleGroup, lang: str) -> dict:
    """The numbers a module note names: gradients in and out, parameter gradients, and what
    the layer's activations did (ReLU blocking, sigmoid/tanh saturation, dropout)."""
    S = strings(lang)
    incoming, outgoing = boundary(group)
    v: dict = {}
    gin_arr = gout_arr = None
    if incoming:
        gout_arr = incoming[0][1]._data if incoming[0][1] is not None else None
        if gout_arr is not None:
            v["gout"] = S["mod_val"].format(val=brief(gout_arr, lang))
    try:
        own = {id(p) for p in group.module.parameters()}
    except (AttributeError, TypeError):
        own = set()
    grads = [g._data for s, i, g in outgoing if g is not None and not (
        s.edges[i][0].__class__ is AccumulateGrad and id(s.edges[i][0].variable) in own)]
    if grads:
        gin_arr = grads[0]
        v["gin"] = S["mod_val"].format(val=brief(gin_arr, lang))
    for pname, _p, ls in group.params:
        if ls is not None and ls.grad_output is not None:
            v[f"g_{pname}"] = S["mod_val"].format(val=brief(ls.grad_output._data, lang))
    if gin_arr is not None and gout_arr is not None and gin_arr.shape == gout_arr.shape:
        a, b = flowstats.norm(gin_arr), flowstats.norm(gout_arr)
        if b > 0 and np.isfinite(a):
            v["ratio"] = fmt_num(a / b)
    for s in group.steps:
        out = None if s.is_leaf else value_of(s)
        if out is None:
            continue
        if s.name in ("ReluBackward0", "Relu6Backward0", "HardtanhBackward0") and out.size:
            blocked = int((out <= 0).sum()) if s.name == "ReluBackward0" else None
            if blocked is not None:
                v["blocked"] = S["mod_blocked"].format(
                    k=blocked, n=out.size, pct=f"{100 * blocked / out.size:.0f}%")
                dead, units = flowstats.dead_units(out)
                if dead:
                    v["dead"] = S["mod_dead"].format(dead=dead, units=units)
        elif s.name in ("SigmoidBackward0", "TanhBackward0") and out.size:
            kind = "sigmoid" if s.name == "SigmoidBackward0" else "tanh"
            v["sat"] = f"{100 * flowstats.saturated(kind, out):.0f}%"
    if group.kind.endswith("Loss"):
        for s, _ in incoming:
            val = value_of(s)
            if val is not None and val.size == 1:
                v["value"] = fmt_num(val.reshape(-1)[0])
    return v


def group_blocks(ex, group: ModuleGroup, S: dict, lang: str, number: int,
                 count: int) -> list[tuple[str, str]]:
    """The narration of one module call: what its backward computes, with its numbers."""
    root = ex.root_label
    b: list[tuple[str, str]] = []
    b.append(("step", S["mod_head"].format(i=number, n=count, label=group.label,
                                           steps=_ranges([s.index for s in group.steps]))))
    sites = [s.site for s in group.steps if not s.is_leaf and s.site is not None]
    if sites:
        import os

        st = min(sites, key=lambda x: x.seq)
        b.append(("line", S["site"].format(where=f"{os.path.basename(st.filename)}:{st.lineno}",
                                           line=st.line)))
    vals = _Blank(facts(group, lang))
    vals["L"] = root
    try:
        b.append(("line", S["mod_what"].format(note=note_for(group.module, lang).format_map(vals))))
    except (KeyError, IndexError, ValueError):
        pass
    incoming, outgoing = boundary(group)
    for s, g in incoming:
        if g is None:
            continue
        if any(src is None for src, _ in s.contributions) and len(s.contributions) == 1:
            b.append(("line", S["mod_seed"].format(out=ex.label_of_step(s), L=root)))
        else:
            b.append(("line", S["mod_in"].format(L=root, out=ex.label_of_step(s),
                                                 val=brief(g._data, lang, ex.max_elements))))
    for pname, p, ls in group.params:
        b.extend(param_lines(ex, pname, p, ls, S, lang))
    try:  # its own parameters: their lines above say what reaches them
        own = {id(p) for p in group.module.parameters()}
    except (AttributeError, TypeError):
        own = set()
    for s, i, g in outgoing:
        nxt, _ = s.edges[i]
        if g is None or (nxt.__class__ is AccumulateGrad and id(nxt.variable) in own):
            continue
        lab = ex.input_label(s, i)
        target = _target(ex, nxt, S)
        b.append(("line", S["mod_sends"].format(L=root, inp=lab, target=target,
                                                val=brief(g._data, lang, ex.max_elements))))
    for s in group.steps:
        if not s.is_leaf and blocked_all(s):
            b.append(("line", S["relu_blocked_all"].format(out=ex.label_of_step(s),
                                                           inp=ex.input_label(s, 0))))
    return b


def _ranges(ix: list[int]) -> str:
    """``3, 8–9``: step numbers with runs joined."""
    out: list[str] = []
    for i in sorted(ix):
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in out)


def value_of(s: Step):
    """The forward value a step's node produced: saved by the node, else kept by its site."""
    if s.is_leaf:
        return s.leaf._data
    if s.output is not None and s._single:
        return s.output._data
    v = getattr(s.site, "value", None) if s.site is not None else None
    return v.array if v is not None else None


def param_lines(ex, pname: str, p, ls, S: dict, lang: str) -> list[tuple[str, str]]:
    """A parameter's line: its shape and norm, its gradient's norm and a small histogram."""
    data = p._data
    if ls is None or ls.grad_output is None:
        return [("line", S["mod_param_none"].format(name=pname, shape=fmt_shape(data.shape),
                                                    norm=fmt_num(flowstats.norm(data))))]
    g = ls.grad_output._data
    counts, lo, hi = flowstats.histogram(g, 8)
    return [("line", S["mod_param"].format(
        L=ex.root_label, name=pname, shape=fmt_shape(data.shape),
        norm=fmt_num(flowstats.norm(data)),
        gnorm=fmt_num(flowstats.norm(g)), hist=flowstats.sparkline(counts),
        lo=fmt_num(lo), hi=fmt_num(hi)))]


def _target(ex, nxt, S: dict) -> str:
    if nxt.__class__ is AccumulateGrad:
        return S["target_leaf"].format(name=ex.names.of_leaf(nxt.variable))
    for s in ex.steps:
        if s.node is nxt:
            g = ex.group_of(s)
            if g is not None:
                return g.label
            return S["target_node"].format(node=nxt.name(), name=ex.names.of_output(nxt))
    return nxt.name()


def blocked_all(s: Step) -> bool:
    """True for a ReLU step that let no gradient through although gradient arrived.

    >>> import leafgrad
    >>> from leafgrad.autograd.stepper import backward_steps
    >>> x = leafgrad.tensor([-1.0, -2.0], requires_grad=True)
    >>> [blocked_all(s) for s in backward_steps(x.relu().sum())]
    [False, True, False]
    """
    if s.name != "ReluBackward0" or s.grad_output is None or not s.grad_inputs:
        return False
    gi = s.grad_inputs[0]
    g = s.grad_output._data
    return gi is not None and g.size > 0 and bool(np.any(g != 0)) and \
        not bool(np.any(gi._data != 0))


def module_blocks(ex, lang: str) -> list[tuple[str, str]]:
    """The narration of a pass at module level: one part per module call, in the engine's
    order, and the steps no module made narrated one by one."""
    S = strings(lang)
    groups = [g for g in ex.modules if g.steps]
    out: list[tuple[str, str]] = []
    n = len(ex.steps)
    out.append(("title", S["mod_title"].format(out=ex.root_label, n=n, k=len(groups),
                                               steps=S["step_one" if n == 1 else "step_many"])))
    out.append(("p", S["mod_intro"].format(
        labels=S["list_sep"].join(g.label for g in ex.modules))))
    units: list = []
    for g in groups:
        units.append((min(s.index for s in g.steps), g))
    for s in ex.steps:
        if ex.group_of(s) is None:
            units.append((s.index, s))
    units.sort(key=lambda u: u[0])
    k = 0
    for _, u in units:
        if isinstance(u, ModuleGroup):
            k += 1
            out.extend(group_blocks(ex, u, S, lang, k, len(groups)))
        else:
            out.extend(ex.step_blocks(u, lang))
    out.append(("step", S["result_head"]))
    for s in ex.steps:
        if not s.is_leaf:
            continue
        nm = ex.names.of_leaf(s.leaf)
        if s.grad_after is None:
            out.append(("line", S["result_none"].format(name=nm)))
        else:
            out.append(("line", S["mod_result"].format(
                name=nm, val=brief(s.grad_after._data, lang, ex.max_elements))))
    out.append(("p", S["mod_expand"]))
    if ex.applied:
        out.append(("p", S["applied"]))
    else:
        out.append(("p", S["not_applied"].format(out=ex.root_label)))
    return out
