"""A narrated backward pass: ``explain`` (text in English or Chinese, HTML), ``explaining``.

The numbers come from the stepper (``backward_steps``), which runs each node's backward exactly
as the engine would, without freeing or accumulating anything; this module turns its steps into
a teacher's narration, and captures the backward passes of running code.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import sys
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..locale import op_notes, strings
from . import engine as _engine
from . import sites as _sites
from .node import AccumulateGrad
from .stepper import (  # noqa: F401 - re-exported: the stepper is part of explain's API
    _SUP,
    MAX_ELEMENTS,
    Snap,
    Step,
    _elementwise,
    _keys,
    _paren,
    _roots,
    _user_frame,
    _walk,
    backward_steps,
    fmt_array,
    fmt_num,
    fmt_shape,
    sub,
)

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = [
    "Explanation", "Recorder", "Step", "backward_steps", "explain", "explaining",
]


# -- names ------------------------------------------------------------------------------------
class _Names:
    """What to call each tensor in the narration: the user's variable names, else t1, t2, ..."""

    def __init__(self, scopes: Sequence[dict]) -> None:
        from ..tensor import Tensor

        self.leaf: dict = {}  # id(tensor) -> name
        self.node: dict = {}  # (node, output nr) -> name
        self.tensors: dict = {}  # (node, output nr) -> the named non-leaf tensor
        self._keep: list = []  # keeps scanned tensors alive so their ids stay unique
        for scope in scopes:
            for k, v in scope.items():
                if not isinstance(v, Tensor) or k.startswith("_"):
                    continue
                self._keep.append(v)
                if v.grad_fn is None:
                    self._put(self.leaf, id(v), k)
                else:
                    self._put(self.node, (v.grad_fn, v._out_nr), k)
                    self.tensors[(v.grad_fn, v._out_nr)] = v
        self._n = 0

    @staticmethod
    def _put(d: dict, key, name: str) -> None:
        old = d.get(key)
        if old is None or len(name) < len(old):
            d[key] = name

    def of_leaf(self, t) -> str:
        n = self.leaf.get(id(t))
        if n is None:
            self._keep.append(t)
            n = self.leaf[id(t)] = self._fresh()
        return n

    def of_output(self, fn, nr: int = 0) -> str:
        if fn.__class__ is AccumulateGrad:
            return self.of_leaf(fn.variable)
        n = self.node.get((fn, nr))
        if n is None:
            n = self.node[(fn, nr)] = self._fresh()
        return n

    def _fresh(self) -> str:
        while True:
            self._n += 1
            n = f"t{self._n}"
            if n not in self.leaf.values() and n not in self.node.values():
                return n


# -- how each node reads as mathematics ---------------------------------------------------------
def _pow_local(e, x: str) -> str:
    if e == 0:
        return "0"
    if e == 1:
        return "1"
    if e == 2:
        return f"2·{x}"
    e1 = e - 1
    return f"{fmt_num(e)}·{x}" + (str(int(e1)).translate(_SUP) if float(e1).is_integer() and
                                   0 < e1 < 10 else f"^{fmt_num(e1)}")


def _alpha(fn) -> str:
    return fmt_num(getattr(fn, "alpha", 1))


# local derivative ∂out/∂input of elementwise nodes, with {x}/{a}/{b}/{out} element strings
_LOCAL: dict[str, dict[str, Callable]] = {
    "AddBackward0": {"a": lambda fn, s: "1", "b": lambda fn, s: _alpha(fn)},
    "SubBackward0": {"a": lambda fn, s: "1", "b": lambda fn, s: "-" + _alpha(fn)},
    "RsubBackward0": {"a": lambda fn, s: "-1", "b": lambda fn, s: "1"},
    "RsubBackward1": {"x": lambda fn, s: "-1"},
    "MulBackward0": {"a": lambda fn, s: s["b"], "b": lambda fn, s: s["a"]},
    "DivBackward0": {"a": lambda fn, s: f"1/{s['b']}", "b": lambda fn, s: f"-{s['a']}/{s['b']}²"},
    "NegBackward0": {"x": lambda fn, s: "-1"},
    "PowBackward0": {"x": lambda fn, s: _pow_local(fn.exponent, s["x"])},
    "PowBackward1": {"a": lambda fn, s: f"{s['b']}·{s['a']}^({s['b']} - 1)",
                     "b": lambda fn, s: f"{s['out']}·ln {s['a']}"},
    "PowBackward2": {"x": lambda fn, s: f"{s['out']}·ln {fmt_num(fn.base)}"},
    "ReciprocalBackward0": {"x": lambda fn, s: f"-{s['out']}²"},
    "ExpBackward0": {"x": lambda fn, s: f"e^{s['x']}"},
    "LogBackward0": {"x": lambda fn, s: f"1/{s['x']}"},
    "SinBackward0": {"x": lambda fn, s: f"cos {s['x']}"},
    "CosBackward0": {"x": lambda fn, s: f"-sin {s['x']}"},
    "TanhBackward0": {"x": lambda fn, s: f"1 - tanh²{s['x']}"},
    "SigmoidBackward0": {"x": lambda fn, s: f"σ({s['x']})·(1 - σ({s['x']}))"},
    "ReluBackward0": {"x": lambda fn, s: f"[{s['x']} > 0]"},
    "SqrtBackward0": {"x": lambda fn, s: f"1/(2√{s['x']})"},
    "AbsBackward0": {"x": lambda fn, s: f"sign {s['x']}"},
    "SignBackward0": {"x": lambda fn, s: "0"},
    "CloneBackward0": {"x": lambda fn, s: "1"},
}

# the forward expression of each node, with input labels {x}/{a}/{b}
_FORWARD: dict[str, Callable] = {
    "AddBackward0": lambda fn, s: f"{s['a']} + {s['b']}" if _alpha(fn) == "1"
    else f"{s['a']} + {_alpha(fn)} * {s['b']}",
    "SubBackward0": lambda fn, s: f"{s['a']} - {s['b']}" if _alpha(fn) == "1"
    else f"{s['a']} - {_alpha(fn)} * {s['b']}",
    "RsubBackward0": lambda fn, s: f"{s['b']} - {s['a']}",
    "RsubBackward1": lambda fn, s: f"{fmt_num(fn.other)} - {s['x']}",
    "MulBackward0": lambda fn, s: f"{s['a']} * {s['b']}",
    "DivBackward0": lambda fn, s: f"{s['a']} / {s['b']}",
    "NegBackward0": lambda fn, s: f"-{s['x']}",
    "PowBackward0": lambda fn, s: f"{s['x']}.pow({fmt_num(fn.exponent)})",
    "PowBackward1": lambda fn, s: f"{s['a']} ** {s['b']}",
    "PowBackward2": lambda fn, s: f"{fmt_num(fn.base)} ** {s['x']}",
    "ReciprocalBackward0": lambda fn, s: f"{s['x']}.reciprocal()",
    "MmBackward0": lambda fn, s: f"{s['a']} @ {s['b']}",
    "MatmulBackward0": lambda fn, s: f"{s['a']} @ {s['b']}",
    "MvBackward0": lambda fn, s: f"{s['a']} @ {s['b']}",
    "DotBackward0": lambda fn, s: f"{s['a']}.dot({s['b']})",
    "SumBackward0": lambda fn, s: f"{s['x']}.sum()",
    "SumBackward1": lambda fn, s: f"{s['x']}.sum(dim={_dims(fn)}"
    + (", keepdim=True)" if fn.keepdim else ")"),
    "MeanBackward0": lambda fn, s: f"{s['x']}.mean()",
    "MeanBackward1": lambda fn, s: f"{s['x']}.mean(dim={_dims(fn)}"
    + (", keepdim=True)" if fn.keepdim else ")"),
    "ViewBackward0": lambda fn, s: f"{s['x']}.view({_tup(fn.shape)})",
    "UnsafeViewBackward0": lambda fn, s: f"{s['x']}.reshape({_tup(fn.shape)})",
    "TransposeBackward0": lambda fn, s: f"{s['x']}.transpose({fn.dim0}, {fn.dim1})",
    "TBackward0": lambda fn, s: f"{s['x']}.t()",
    "PermuteBackward0": lambda fn, s: f"{s['x']}.permute({_tup(fn.dims)})",
    "UnsqueezeBackward0": lambda fn, s: f"{s['x']}.unsqueeze({fn.dim})",
    "ExpandBackward0": lambda fn, s: f"{s['x']}.expand({_tup(fn.shape)})",
    "CloneBackward0": lambda fn, s: f"{s['x']}.clone()",
}
for _n in ("Exp", "Log", "Sin", "Cos", "Tanh", "Sigmoid", "Relu", "Sqrt", "Abs", "Sign"):
    _FORWARD[f"{_n}Backward0"] = (lambda m: lambda fn, s: f"{s['x']}.{m}()")(_n.lower())


def _tup(t) -> str:
    return ", ".join(str(v) for v in t) if isinstance(t, (tuple, list)) else str(t)


def _dims(fn) -> str:
    d = fn.dims
    return str(d[0]) if d is not None and len(d) == 1 else str(d)


def _params(fn) -> dict:
    """The op's parameters (slot attributes that are not engine state)."""
    out = {}
    for cls in type(fn).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if slot.startswith("_") or slot in ("inputs", "next_functions", "variable"):
                continue
            if hasattr(fn, slot):
                out[slot] = getattr(fn, slot)
    return out


def _fmt_param(v) -> str:
    if isinstance(v, np.ndarray):
        return f"<{v.dtype} array {fmt_shape(v.shape)}>"
    if isinstance(v, (float, np.floating)):
        return fmt_num(v)
    if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        return str(np.dtype(v))
    return repr(v)


def _formula_with(text: str, subst: dict) -> str:
    """Replace the names in a formula (grad, x, a, b, out) by labels from ``subst``."""
    return re.sub(r"\b(grad|out|x|a|b)\b", lambda m: subst.get(m.group(1), m.group(1)), text)


# -- the whole function, element by element (small graphs only) ---------------------------------
_PREC_SUM, _PREC_PROD, _PREC_POW, _PREC_ATOM = 0, 1, 2, 3
_UNARY = {"ExpBackward0": "exp", "LogBackward0": "ln", "SinBackward0": "sin",
          "CosBackward0": "cos", "TanhBackward0": "tanh", "SigmoidBackward0": "σ",
          "ReluBackward0": "relu", "SqrtBackward0": "√", "AbsBackward0": "abs"}


def _wrap_prec(e, prec: int) -> str:
    return f"({e[0]})" if e[1] < prec else e[0]


def _scalar_form(root_fn, root_nr: int, names: _Names, limit: int = 160) -> str | None:
    """``x₁² + x₂² + ...``: the output written in the leaves' elements, when the graph is small.

    Only elementwise ops and full reductions are spelled out; anything else gives None.
    """
    memo: dict = {}
    budget = [4000]

    def elems(fn, nr):
        key = (fn, nr)
        if key in memo:
            return memo[key]
        memo[key] = None  # a cycle cannot happen, but a failure is remembered
        r = _elems(fn)
        memo[key] = r
        return r

    def leaf_elems(t):
        n = names.of_leaf(t)
        size = t._data.size
        if size > MAX_ELEMENTS:
            return None
        if t._data.ndim == 0:
            return np.array([(n, _PREC_ATOM)], dtype=object).reshape(())
        flat = [(f"{n}{sub(i + 1)}", _PREC_ATOM) for i in range(size)]
        out = np.empty(size, dtype=object)
        out[:] = flat
        return out.reshape(t._data.shape)

    def const_elems(v):
        a = np.asarray(v._data if hasattr(v, "_data") else v)
        if a.size > MAX_ELEMENTS:
            return None
        out = np.empty(a.shape, dtype=object)
        for idx in np.ndindex(*a.shape):
            f = fmt_num(a[idx])
            out[idx] = (f, _PREC_ATOM if not f.startswith("-") else _PREC_SUM)
        return out

    def _elems(fn):
        if fn.__class__ is AccumulateGrad:
            return leaf_elems(fn.variable)
        name = fn.name()
        keys = _keys(fn)
        args = []
        for i, (nxt, nr) in enumerate(fn.next_functions):
            if nxt is not None:
                e = elems(nxt, nr)
            elif fn.inputs is not None and i < len(fn.inputs):
                e = const_elems(fn.inputs[i])
            else:
                return None
            if e is None:
                return None
            args.append(e)
        s = dict(zip(keys, args))
        try:
            return _combine(fn, name, s)
        except (KeyError, ValueError, AttributeError, TypeError):
            return None

    def _combine(fn, name, s):
        def bin_(op, prec, a, b, right_prec=None):
            a, b = np.broadcast_arrays(a, b)
            out = np.empty(a.shape, dtype=object)
            for idx in np.ndindex(*a.shape):
                out[idx] = (f"{_wrap_prec(a[idx], prec)}{op}"
                            f"{_wrap_prec(b[idx], right_prec or prec)}", prec)
            return out

        def map_(f):
            x = s["x"]
            out = np.empty(x.shape, dtype=object)
            for idx in np.ndindex(*x.shape):
                out[idx] = f(x[idx])
            return out

        if name == "AddBackward0" and _alpha(fn) == "1":
            return bin_(" + ", _PREC_SUM, s["a"], s["b"])
        if name == "SubBackward0" and _alpha(fn) == "1":
            return bin_(" - ", _PREC_SUM, s["a"], s["b"], _PREC_PROD)
        if name == "MulBackward0":
            return bin_("·", _PREC_PROD, s["a"], s["b"], _PREC_POW)
        if name == "DivBackward0":
            return bin_("/", _PREC_PROD, s["a"], s["b"], _PREC_POW)
        if name == "NegBackward0":
            return map_(lambda e: (f"-{_wrap_prec(e, _PREC_POW)}", _PREC_SUM))
        if name == "PowBackward0":
            ex = fn.exponent
            sup = (str(int(ex)).translate(_SUP) if float(ex).is_integer() and 0 <= ex < 10
                   else f"^{fmt_num(ex)}")
            return map_(lambda e: (f"{_wrap_prec(e, _PREC_ATOM)}{sup}", _PREC_POW))
        if name in _UNARY:
            f = _UNARY[name]
            if name == "AbsBackward0":
                return map_(lambda e: (f"|{e[0]}|", _PREC_ATOM))
            return map_(lambda e: (f"{f}({e[0]})", _PREC_ATOM))
        if name in ("SumBackward0", "MeanBackward0"):
            x = s["x"]
            terms = [x[idx] for idx in np.ndindex(*x.shape)]
            if not terms:
                return None
            text = " + ".join(_wrap_prec(t, _PREC_PROD) for t in terms)
            if len(text) > budget[0]:
                return None
            if name == "MeanBackward0":
                r = (f"({text})/{len(terms)}", _PREC_PROD) if len(terms) > 1 else terms[0]
            else:
                r = (text, _PREC_SUM) if len(terms) > 1 else terms[0]
            out = np.empty((), dtype=object)
            out[()] = r
            return out
        return None

    e = elems(root_fn, root_nr)
    if e is None or e.size != 1:
        return None
    text = e.reshape(-1)[0][0]
    return text if len(text) <= limit else None


# -- the narration -----------------------------------------------------------------------------
class Explanation:
    """The narrated backward pass of a graph: prints as text, renders as HTML in Jupyter.

    Build one with ``explain(output)``. ``steps`` holds the ``Step`` records; ``grads`` maps
    each leaf reached (by identity) to the gradient the pass gives it; ``text()``, ``html()``,
    ``to_svg()`` and ``save_html(path)`` render it.
    """

    def __init__(self, outputs, seeds, steps: list[Step], names: _Names, lang: str = "en",
                 max_elements: int = MAX_ELEMENTS, scalar_form: str | None = None,
                 seed_given: bool = False) -> None:
        self.outputs = outputs
        self.seeds = [Snap(s) for s in seeds]
        self.steps = steps
        self.names = names
        self.lang = lang
        self.max_elements = max_elements
        self.scalar_form = scalar_form
        self.seed_given = seed_given
        self.applied = False
        self._output_snaps = [Snap(t._data) for t in outputs]
        for s in steps:  # labels are fixed now, in the engine's order
            if s.is_leaf:
                names.of_leaf(s.leaf)
            else:
                names.of_output(s.node)

    # -- data --------------------------------------------------------------------------------
    @property
    def grads(self) -> dict:
        """``{id(leaf): gradient}`` for every leaf the pass reaches (see ``grad_of``)."""
        return {id(s.leaf): s.grad_after for s in self.steps if s.is_leaf}

    def grad_of(self, leaf):
        """The ``.grad`` that ``leaf`` has after this backward pass, as narrated."""
        for s in self.steps:
            if s.is_leaf and s.leaf is leaf:
                return s.grad_after
        return None

    @property
    def root_label(self) -> str:
        """What the narration calls the output (``z``)."""
        if len(self.outputs) == 1:
            t = self.outputs[0]
            if t.grad_fn is None:
                return self.names.of_leaf(t)
            return self.names.of_output(t.grad_fn, t._out_nr)
        return "L"

    def label_of_step(self, step: Step) -> str:
        """The name of the tensor a step's node produced (or of its leaf)."""
        if step.is_leaf:
            return self.names.of_leaf(step.leaf)
        if not step._single:
            return ", ".join(self.names.of_output(step.node, nr) for nr in range(step.node._nout))
        return self.names.of_output(step.node)

    def input_label(self, step: Step, i: int) -> str:
        """The name of input ``i`` of a step's node."""
        nxt, nr = step.edges[i]
        if nxt is not None:
            return self.names.of_output(nxt, nr)
        t = step.inputs[i] if step.inputs is not None and i < len(step.inputs) else None
        if t is not None and hasattr(t, "_data"):
            n = self.names.leaf.get(id(t)) if t.grad_fn is None else \
                self.names.node.get((t.grad_fn, t._out_nr))
            if n is not None:
                return n
        v = step.saved.get(step.keys[i]) if i < len(step.keys) else None
        if v is not None and v.size == 1 and v.array is not None:
            return fmt_num(v.array.reshape(-1)[0])
        return "c"

    def forward_text(self, step: Step) -> str:
        """``t1 = x.pow(2)``: how the node's output was computed."""
        if step.is_leaf:
            return self.names.of_leaf(step.leaf)
        s = {k: self.input_label(step, i) for i, k in enumerate(step.keys)}
        f = _FORWARD.get(step.name)
        try:
            expr = f(step.node, s) if f else None
        except (KeyError, AttributeError, TypeError):
            expr = None
        if expr is None:
            op = step.name.removesuffix("Backward0").removesuffix("Backward1")
            expr = f"{op.lower()}({', '.join(s.values())})"
        return f"{self.label_of_step(step)} = {expr}"

    def general_forms(self) -> dict:
        """``{leaf name: '2·xᵢ'}`` where one elementwise step gives a leaf's whole gradient."""
        out = {}
        for s in self.steps:
            if s.is_leaf and len(s.contributions) == 1 and s.contributions[0][0] is not None:
                src = next((p for p in self.steps if p.node is s.contributions[0][0]), None)
                if src is not None:
                    g = self._general(src, s)
                    if g is not None:
                        out[self.names.of_leaf(s.leaf)] = g
        return out

    def _general(self, step: Step, leaf_step: Step) -> str | None:
        """The chain-rule product in general form when the incoming gradient is uniform."""
        if step.local is None or step.name not in _LOCAL or step.grad_output is None:
            return None
        g = step.grad_output._data
        if g.size == 0 or not np.all(g == g.reshape(-1)[0]):
            return None
        for i, (nxt, _) in enumerate(step.edges):
            if nxt is leaf_step.node:
                key = step.keys[i]
                if step.grad_inputs_raw[i] is None or \
                        step.grad_inputs_raw[i]._data.shape != leaf_step.leaf._data.shape:
                    return None
                local = self._local_text(step, key, symbolic=True)
                if local is None:
                    return None
                c = g.reshape(-1)[0]
                return local if c == 1 else f"{fmt_num(c)} × {local}"
        return None

    def _elem_strings(self, step: Step, idx, symbolic: bool) -> dict:
        s = {}
        for i, k in enumerate(step.keys):
            if symbolic:
                lab = self.input_label(step, i)
                const = step.edges[i][0] is None and re.fullmatch(r"-?[\d.e+]+", lab)
                s[k] = lab if const else f"{lab}ᵢ"  # a Python number has no elements
            else:
                v = step.saved.get(k)
                if v is not None and v.array is not None:
                    a = np.broadcast_to(v.array, step.grad_output._data.shape) \
                        if v.array.ndim <= step.grad_output._data.ndim else None
                    if a is not None:
                        s[k] = _paren(a[idx])
        out = step.saved.get("out")
        if symbolic:
            s["out"] = f"{self.label_of_step(step)}ᵢ"
        elif out is not None and out.array is not None:
            s["out"] = _paren(out.array[idx])
        return s

    def _local_text(self, step: Step, key: str, symbolic: bool, idx=None) -> str | None:
        f = _LOCAL.get(step.name, {}).get(key)
        if f is None:
            return None
        try:
            return f(step.node, self._elem_strings(step, idx, symbolic))
        except (KeyError, AttributeError, TypeError):
            return None

    # -- rendering ---------------------------------------------------------------------------
    def blocks(self, lang: str | None = None) -> list[tuple[str, str]]:
        """The narration as ``(kind, text)`` blocks: title, p, step, line, eq, val."""
        lang = lang or self.lang
        S = strings(lang)
        notes = op_notes(lang)
        me = self.max_elements
        root = self.root_label
        out: list[tuple[str, str]] = []
        n = len(self.steps)
        out.append(("title", S["title"].format(out=root, n=n,
                                               steps=S["step_one" if n == 1 else "step_many"])))
        leaves = [s for s in self.steps if s.is_leaf]
        nonleaf = [s for s in self.steps if not s.is_leaf]
        if leaves:
            out.append(("p", S["intro_leaves"].format(
                names=", ".join(f"{self.names.of_leaf(s.leaf)} {fmt_shape(s.leaf.shape)}"
                                for s in leaves))))
        if nonleaf:
            out.append(("p", S["intro_nonleaves"].format(
                names=", ".join(f"{self.forward_text(s)} ({s.name})" for s in nonleaf))))
        small = [s for s in leaves if 1 < s.leaf._data.size <= me]
        if small:
            items = []
            for s in small:
                nm = self.names.of_leaf(s.leaf)
                k = s.leaf._data.size
                elems = ", ".join(f"{nm}{sub(i + 1)}" for i in range(k)) if k <= 4 else \
                    f"{nm}{sub(1)}, …, {nm}{sub(k)}"
                items.append(S["notation_item"].format(elems=elems, name=nm))
            out.append(("p", S["notation"].format(
                items=S["list_sep"].join(items), name=self.names.of_leaf(small[0].leaf),
                out=root)))
        if self.scalar_form:
            out.append(("eq", S["scalar_form"].format(out=root, expr=self.scalar_form)))
        if not any(s.site is not None for s in nonleaf) and nonleaf:
            out.append(("p", S["no_sites"]))
        for s in self.steps:
            out.extend(self._step_blocks(s, S, notes, root, lang))
        out.append(("step", S["result_head"]))
        general = self.general_forms()
        for s in leaves:
            nm = self.names.of_leaf(s.leaf)
            if s.grad_after is None:
                out.append(("line", S["result_none"].format(name=nm)))
                continue
            out.append(("val", _hang(S["result_leaf"].format(name=nm, repr="\0"),
                                     repr(s.grad_after))))
            if nm in general:
                out.append(("eq", S["result_general"].format(out=root, name=nm,
                                                             expr=general[nm])))
        for s in nonleaf:
            if s.retained:
                g = s.grad_output
                if g is not None and s._single:
                    out.append(("val", _hang(S["result_leaf"].format(
                        name=self.names.of_output(s.node), repr="\0"), repr(g))))
        if self.applied:
            out.append(("p", S["applied"]))
        else:
            out.append(("p", S["not_applied"].format(out=root)))
        return out

    def step_blocks(self, step: Step, lang: str | None = None) -> list[tuple[str, str]]:
        """The narration of one step as ``(kind, text)`` blocks."""
        lang = lang or self.lang
        return self._step_blocks(step, strings(lang), op_notes(lang), self.root_label, lang)

    def _step_blocks(self, s: Step, S: dict, notes: dict, root: str, lang: str) -> list:
        me = self.max_elements
        b: list[tuple[str, str]] = []
        n = len(self.steps)
        if s.is_leaf:
            nm = self.names.of_leaf(s.leaf)
            b.append(("step", S["acc_head"].format(i=s.index, n=n, name=nm)))
            b.append(("line", S["acc_what"].format(name=nm)))
            b.extend(self._incoming(s, S, root, lang))
            if s.hooks:
                b.append(("line", S["hook"]))
            if s.grad_after is None:
                b.append(("line", S["no_grad_arrived"]))
            elif s.grad_before is None:
                b.append(("line", S["acc_new"].format(
                    name=nm, val=fmt_array(s.grad_after._data, me, lang))))
            else:
                b.append(("line", S["acc_add"].format(
                    name=nm, old=fmt_array(s.grad_before._data, me, lang),
                    new=fmt_array(s.grad_output._data, me, lang),
                    val=fmt_array(s.grad_after._data, me, lang))))
            return b
        label = self.label_of_step(s)
        b.append(("step", S["step_head"].format(i=s.index, n=n, name=s.name,
                                                forward=self.forward_text(s))))
        if s.site is not None:
            b.append(("line", S["site"].format(
                where=f"{os.path.basename(s.site.filename)}:{s.site.lineno}",
                line=s.site.line)))
        ins = []
        for i in range(len(s.keys)):
            nxt, _ = s.edges[i]
            lab = self.input_label(s, i)
            shp = self._input_shape(s, i)
            kind = S["leaf_word"] if nxt is not None and nxt.__class__ is AccumulateGrad else (
                S["const_word"] if nxt is None else S["nonleaf_word"])
            ins.append(S["input_item"].format(label=lab, shape=shp, kind=kind)
                       .replace("  ", " "))
        oshape = "?"
        if s.grad_output is not None:
            oshape = fmt_shape(s.grad_output._data.shape) if s._single else ", ".join(
                "?" if g is None else fmt_shape(g._data.shape) for g in s.grad_output)
        b.append(("line", S["shapes"].format(inputs=S["comma"].join(ins), out=label,
                                             shape=oshape)))
        b.extend(self._incoming(s, S, root, lang))
        if s.hooks:
            b.append(("line", S["hook"]))
        if s.grad_output is None:
            b.append(("line", S["no_grad_arrived"]))
            return b
        if s.retained and s._single:
            b.append(("line", S["retained"].format(
                name=self.names.of_output(s.node), val=fmt_array(s.grad_output._data, me, lang))))
        note = notes.get(s.name)
        if note is not None:
            try:
                b.append(("line", S["local"].format(expr=note.format(**self._note_args(s)))))
            except (KeyError, IndexError, ValueError):
                pass
        params = {k: v for k, v in _params(s.node).items() if k not in ("cond",)}
        # no-break spaces keep "exponent = 2" on one line when the text is wrapped
        ptxt = ", ".join(f"{k}\u00a0=\u00a0{_fmt_param(v)}" for k, v in params.items())
        for i, k in enumerate(s.keys):
            nxt, _ = s.edges[i]
            lab = self.input_label(s, i)
            if nxt is None:
                number = re.fullmatch(r"-?[\d.e+]+", lab) is not None
                b.append(("line", S["no_grad_number" if number else "no_grad_input"].format(
                    inp=lab)))
                continue
            b.extend(self._chain(s, i, k, lab, label, root, S, ptxt, lang))
        return b

    def _note_args(self, s: Step) -> dict:
        args = {k: (_tup(v) if isinstance(v, tuple) else _fmt_param(v))
                for k, v in _params(s.node).items()}
        for k in ("in_shape", "shape"):
            v = getattr(s.node, k, None)
            if isinstance(v, tuple):
                args[k] = fmt_shape(v)
        if "dims" in args and s.node.dims is not None:
            args["dims"] = _tup(s.node.dims)
        n = getattr(s.node, "n", None)
        if n:
            args["inv"] = fmt_num(1 / n)
        args["out"] = self.label_of_step(s)
        for i, k in enumerate(s.keys):
            args[k] = self.input_label(s, i)
        return args

    def _input_shape(self, s: Step, i: int) -> str:
        if i < len(s.grad_inputs) and s.grad_inputs[i] is not None:
            return fmt_shape(s.grad_inputs[i]._data.shape)
        v = s.saved.get(s.keys[i]) if i < len(s.keys) else None
        if v is not None and v.shape != ():
            return fmt_shape(v.shape)
        return ""

    def _incoming(self, s: Step, S: dict, root: str, lang: str) -> list:
        me = self.max_elements
        b = []
        if s.grad_output is None:
            return b
        if not s._single:
            for nr, g in enumerate(s.grad_output):
                lab = self.names.of_output(s.node, nr)
                if g is None:
                    b.append(("line", S["unused_output"].format(out=lab)))
                else:
                    b.append(("line", S["incoming"].format(root=root, out=lab,
                                                           val=fmt_array(g._data, me, lang))))
            return b
        lab = self.label_of_step(s)
        val = fmt_array(s.grad_output._data, me, lang)
        seeded = any(src is None for src, _ in s.contributions)
        if seeded and len(s.contributions) == 1:
            key = "seed_given" if self.seed_given else "seed_scalar"
            b.append(("line", S[key].format(out=root, val=val)))
            return b
        b.append(("line", S["incoming"].format(root=root, out=lab, val=val)))
        if len(s.contributions) > 1:
            terms = " + ".join(fmt_array(g._data, me, lang) for _, g in s.contributions)
            b.append(("line", S["paths"].format(out=lab, k=len(s.contributions), terms=terms,
                                                val=val)))
        return b

    def _chain(self, s: Step, i: int, k: str, lab: str, label: str, root: str, S: dict,
               ptxt: str, lang: str) -> list:
        me = self.max_elements
        b = []
        nxt, _ = s.edges[i]
        raw = s.grad_inputs_raw[i] if i < len(s.grad_inputs_raw) else None
        fit = s.grad_inputs[i] if i < len(s.grad_inputs) else None
        if raw is None:
            b.append(("line", S["no_grad_input"].format(inp=lab)))
            return b
        formula = s.node.formula.get(k) if getattr(s.node, "formula", None) else None
        g = s.grad_output._data if s._single else None
        ew = g is not None and _elementwise(s.node) and raw._data.shape == g.shape
        elementwise = ew and s.local is not None and s.local[i] is not None
        sym = self._local_text(s, k, symbolic=True) if ew else None
        if sym is not None:
            b.append(("line", S["local_elem"].format(out=label, inp=lab, expr=sym)))
        if formula and (ew or s.name not in op_notes(lang)):
            b.append(("line", S["formula" if k != lab else "formula_same"].format(
                key=k, inp=lab, formula=formula, params=f"  ({ptxt})" if ptxt else "")))
        if elementwise and g.size <= me:
            gen = self._general(s, _FakeLeaf(nxt, raw)) if sym is not None else None
            if gen is not None:
                c = g.reshape(-1)[0]
                gen = S["chain_general" if c == 1 else "chain_general_c"].format(
                    c=fmt_num(c), local=sym, expr=gen)
            b.append(("line", S["chain_elem_head"].format(root=root, inp=lab, out=label,
                                                          general=gen or "")))
            flat_g = g.reshape(-1)
            flat_r = raw._data.reshape(-1)
            flat_l = np.broadcast_to(s.local[i], g.shape).reshape(-1)
            broadcast = fit is not None and fit._data.shape != g.shape
            src = np.broadcast_to(np.arange(fit._data.size).reshape(fit._data.shape),
                                  g.shape).reshape(-1) if broadcast else None
            for j, idx in enumerate(np.ndindex(*g.shape)):
                loc = self._local_text(s, k, symbolic=False, idx=idx)
                if loc is None:
                    loc = _paren(flat_l[j])
                elif loc != fmt_num(flat_l[j]) and not re.fullmatch(r"-?[\d.]+", loc):
                    loc = f"{loc}"
                target = f"∂{root}/∂{lab}{sub(j + 1)}" if not broadcast else \
                    S["elem_copy"].format(root=root, inp=lab, j=sub(int(src[j]) + 1),
                                          out=label, k=sub(j + 1))
                b.append(("eq", f"{target} = {fmt_num(flat_g[j])} × {loc} = "
                                f"{fmt_num(flat_r[j])}"))
        else:
            subst = {"grad": f"∂{root}/∂{label}", "out": label}
            for j, kk in enumerate(s.keys):
                subst[kk] = self.input_label(s, j)
            if formula and s._single and _readable(formula, s.keys):
                b.append(("line", S["chain"].format(root=root, inp=lab,
                                                    expr=_formula_with(formula, subst),
                                                    val=fmt_array(raw._data, me, lang))))
            else:
                b.append(("line", S["chain_value"].format(root=root, inp=lab,
                                                          val=fmt_array(raw._data, me, lang))))
        if fit is not None and fit._data.shape != raw._data.shape:
            b.append(("line", S["broadcast"].format(
                inp=lab, small=fmt_shape(fit._data.shape), big=fmt_shape(raw._data.shape),
                before=fmt_array(raw._data, me, lang), after=fmt_array(fit._data, me, lang))))
        elif fit is not None and fit._data.dtype != raw._data.dtype:
            b.append(("line", S["cast"].format(inp=lab, dtype=str(fit._data.dtype))))
        if fit is not None:
            if nxt.__class__ is AccumulateGrad:
                target = S["target_leaf"].format(name=self.names.of_leaf(nxt.variable))
            else:
                target = S["target_node"].format(node=nxt.name(), name=lab)
            b.append(("line", S["sends"].format(root=root, inp=lab, target=target,
                                                val=fmt_array(fit._data, me, lang))))
        return b

    def text(self, lang: str | None = None, width: int = 96) -> str:
        """The narration as plain text."""
        lang = lang or self.lang
        return _render_text(self.blocks(lang), width, lang)

    def step_text(self, step: Step, lang: str | None = None, width: int = 0) -> str:
        """The narration of one step as plain text (``width`` 0: lines are not wrapped)."""
        lang = lang or self.lang
        return _render_text(self.step_blocks(step, lang), width, lang)

    def html(self, lang: str | None = None, graph: bool = True) -> str:
        """The narration as an HTML fragment (with the graph as inline SVG)."""
        lang = lang or self.lang
        parts = ['<div class="leafgrad-explain" style="font-family:sans-serif;line-height:1.4">']
        if graph:
            try:
                parts.append(f'<div style="overflow:auto">{self.to_svg(lang=lang)}</div>')
            except Exception:  # noqa: BLE001 - a picture must never hide the narration
                pass
        for kind, t in self.blocks(lang):
            e = html.escape(t)
            if kind == "title":
                parts.append(f"<h3>{e}</h3>")
            elif kind == "step":
                parts.append(f'<h4 style="margin-bottom:2px">{e}</h4>')
            elif kind == "p":
                parts.append(f"<p>{e}</p>")
            elif kind == "line":
                parts.append(f'<div style="margin-left:1em">{e}</div>')
            elif kind == "eq":
                parts.append(f'<div style="margin-left:2em;font-family:monospace">{e}</div>')
            elif kind == "val":
                parts.append(f'<pre style="margin-left:1em">{e}</pre>')
        parts.append("</div>")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.html()

    def graph(self):
        """The graph of this pass, with shapes, values and gradients (``leafgrad.viz.Graph``)."""
        from ..viz.graph import from_explanation

        return from_explanation(self)

    def to_svg(self, lang: str | None = None) -> str:
        """The graph as a self-contained SVG picture."""
        from ..viz.svg import render_svg

        return render_svg(self.graph())

    def to_html_page(self, lang: str | None = None) -> str:
        """A single-file HTML page that draws the graph and steps through the backward pass."""
        from ..viz.html import html_page

        return html_page(self, lang=lang or self.lang)

    def save_html(self, path: str, lang: str | None = None) -> str:
        """Write ``to_html_page`` to ``path`` and return the path."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_html_page(lang))
        return path


def _hang(template: str, block: str) -> str:
    """Put a multi-line ``block`` where ``\\0`` is in ``template``, aligning its later lines."""
    head, _, tail = template.partition("\0")
    pad = " " * len(head)
    lines = block.splitlines() or [""]
    return "\n".join([head + lines[0]] + [pad + ln for ln in lines[1:]]) + tail


class _FakeLeaf:
    """What ``_general`` needs of a leaf step: its node and (for the shape check) a tensor."""

    def __init__(self, node, g) -> None:
        self.node = node
        self.leaf = g


def _render_text(blocks: list, width: int, lang: str) -> str:
    lines: list[str] = []
    for kind, t in blocks:
        if kind == "title":
            lines += [t, "=" * min(_width(t), width)]
        elif kind == "step":
            lines += ([""] if lines and lines[-1] else []) + [t]
        elif kind == "p":
            lines += _fill(t, width, "", lang) + [""]
        elif kind == "line":
            lines += _fill(t, width, "  ", lang)
        elif kind == "eq":
            lines.append("    " + t)
        elif kind == "val":
            lines += ["  " + ln for ln in t.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _width(t: str) -> int:
    """Columns ``t`` takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in t)


def _readable(formula: str, keys: tuple) -> bool:
    """True when a formula names only grad, out and the inputs (no op parameters or helpers)."""
    names = set(re.findall(r"(?<![.\w])[A-Za-z_]\w*", formula))
    return names <= {"grad", "out", *keys}


def _fill(t: str, width: int, indent: str, lang: str) -> list[str]:
    if lang != "en" or width <= 0:  # CJK text has no spaces to break at; leave lines whole
        return [indent + t]
    return textwrap.wrap(t, width, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False) or [indent]


def explain(output: Tensor | Sequence[Tensor], gradient=None, *, lang: str = "en",
            backward: bool = False, retain_graph: bool | None = None,
            names: dict | None = None, max_elements: int = MAX_ELEMENTS) -> Explanation:
    """Narrate the backward pass of ``output``, step by step, without changing any ``.grad``.

    ``lang`` is ``"en"`` or ``"zh"``. ``names`` maps variable names to tensors (by default the
    caller's variables). With ``backward=True`` the real ``backward()`` runs afterwards.

    >>> import leafgrad
    >>> x = leafgrad.tensor([[1.0, 0.], [-1., 1.]], requires_grad=True)
    >>> z = x.pow(2).sum()
    >>> e = explain(z)
    >>> "z = x₁² + x₂² + x₃² + x₄²" in e.text(), x.grad is None
    (True, True)
    """
    from ..tensor import Tensor

    strings(lang)  # fail early on an unknown language
    tensors = (output,) if isinstance(output, Tensor) else tuple(output)
    if names is None:
        f = sys._getframe(1)
        scopes = [f.f_globals, f.f_locals]
    else:
        scopes = [names]
    ex = _explain(tensors, gradient, _Names(scopes), lang, max_elements)
    if backward:
        _engine.backward(tensors, gradient, retain_graph=retain_graph)
        ex.applied = True
    return ex


def _explain(tensors, gradient, names: _Names, lang: str, max_elements: int) -> Explanation:
    roots, seeds = _roots(tensors, gradient)
    form = None
    if len(tensors) == 1 and tensors[0]._data.size == 1 and gradient is None:
        fn, nr = roots[0]
        form = _scalar_form(fn, nr, names)
    steps = list(_walk(roots, seeds, MAX_ELEMENTS))
    return Explanation(tensors, seeds, steps, names, lang, max_elements, form,
                       seed_given=gradient is not None)


# -- capturing the backward passes of running code ---------------------------------------------
class Recorder:
    """What ``explaining()`` captured: ``last`` (the last backward pass) and ``count``."""

    def __init__(self, lang: str, keep: int) -> None:
        self.lang = lang
        self.keep = keep
        self.explanations: list[Explanation] = []
        self.count = 0
        self.errors: list[str] = []

    @property
    def last(self) -> Explanation | None:
        """The explanation of the most recent backward pass, or None."""
        return self.explanations[-1] if self.explanations else None

    def _capture(self, tensors, grads, frame) -> None:
        self.count += 1
        scopes = [frame.f_globals, frame.f_locals] if frame is not None else []
        seeds_given = None
        if any(g is not None for g in grads):
            seeds_given = tuple(grads)
        ex = _explain(tuple(tensors), seeds_given, _Names(scopes), self.lang, MAX_ELEMENTS)
        self.explanations.append(ex)
        del self.explanations[:-self.keep]


_recorders: list[Recorder] = []
_original_run_backward = None


def _capturing_run_backward(tensors, grads, retain_graph, create_graph, inputs=None,
                            accumulate=True, allow_unused=True):
    if accumulate and inputs is None and _recorders:
        rec = _recorders[-1]
        try:
            frame = _user_frame()
            # the engine's seeds for scalar outputs are ones: narrate them as backward() does
            given = [None if (g._data.size == 1 and t._data.size == 1 and float(g._data) == 1)
                     else g for t, g in zip(tensors, grads)]
            rec._capture(tensors, given, frame)
        except Exception as e:  # noqa: BLE001 - the real pass below reports real errors
            rec.errors.append(str(e))
    out = _original_run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs,
                                 accumulate=accumulate, allow_unused=allow_unused)
    if accumulate and inputs is None and _recorders and _recorders[-1].explanations:
        _recorders[-1].explanations[-1].applied = True
    return out


@contextlib.contextmanager
def explaining(lang: str = "en", keep: int = 1):
    """Record creation sites and capture each backward pass run inside the block.

    >>> import leafgrad
    >>> with explaining() as rec:
    ...     x = leafgrad.tensor([1.0, -2.0], requires_grad=True)
    ...     (x * x).sum().backward()
    >>> rec.last.grad_of(x)
    tensor([ 2., -4.])
    """
    global _original_run_backward
    strings(lang)
    rec = Recorder(lang, keep)
    if not _recorders:
        _original_run_backward = _engine.run_backward
        _engine.run_backward = _capturing_run_backward
    _recorders.append(rec)
    try:
        with _sites.recording_sites():
            yield rec
    finally:
        _recorders.remove(rec)
        if not _recorders:
            _engine.run_backward = _original_run_backward
