"""What the narration calls each tensor, and how each node reads as mathematics (its local
derivative, and the whole function element by element for small graphs)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..node import AccumulateGrad, NotSaved
from ..stepper import (
    _SUP,
    MAX_ELEMENTS,
    _keys,
    fmt_num,
    fmt_shape,
    sub,
)

if TYPE_CHECKING:
    pass


# -- names ------------------------------------------------------------------------------------
class _Names:
    """What to call each tensor in the narration: the user's variable names, else t1, t2, ...

    A name the caller's code binds as a loop target (``for p in model.parameters()``) is kept
    only as a last resort: after the loop it names whatever the last iteration left there.
    Better names can be suggested before the labels are fixed (``suggest``): a module
    parameter's qualified name, the name an input had in the user's code when it was used.
    """

    def __init__(self, scopes: Sequence[dict], loops: frozenset = frozenset()) -> None:
        from ...tensor import Tensor

        self.leaf: dict = {}  # id(tensor) -> name
        self.node: dict = {}  # (node, output nr) -> name
        self.tensors: dict = {}  # (node, output nr) -> the named non-leaf tensor
        self._keep: list = []  # keeps scanned tensors alive so their ids stay unique
        self._loose: dict = {}  # loop-target names: used only when nothing better is found
        self.modules: dict = {}  # id(module) -> the caller's name for it
        self._module_objs: dict = {}  # id(module) -> the module
        for scope in scopes:
            for k, v in scope.items():
                if k.startswith("_"):
                    continue
                if not isinstance(v, Tensor):
                    if hasattr(v, "named_parameters") and hasattr(v, "_modules") and \
                            k not in loops:
                        self._put(self.modules, id(v), k)
                        self._module_objs[id(v)] = v
                    continue
                self._keep.append(v)
                key = id(v) if v.grad_fn is None else (v.grad_fn, v._out_nr)
                if k in loops:
                    self._put(self._loose, key, k)
                elif v.grad_fn is None:
                    self._put(self.leaf, key, k)
                else:
                    self._put(self.node, key, k)
                    self.tensors[key] = v
        self._n = 0

    @staticmethod
    def _put(d: dict, key, name: str) -> None:
        old = d.get(key)
        if old is None or len(name) < len(old):
            d[key] = name

    def taken(self) -> set:
        """The names in use."""
        return set(self.leaf.values()) | set(self.node.values())

    def suggest(self, key, name: str, tensor=None) -> bool:
        """Name the leaf ``id(t)`` or the output ``(node, nr)`` ``name`` unless it has a name."""
        d = self.node if isinstance(key, tuple) else self.leaf
        if key in d or name in self.taken():
            return False
        d[key] = name
        if tensor is not None:
            self._keep.append(tensor)
        return True

    def of_leaf(self, t) -> str:
        n = self.leaf.get(id(t))
        if n is None:
            self._keep.append(t)
            n = self.leaf[id(t)] = self._loose_or_fresh(id(t))
        return n

    def of_output(self, fn, nr: int = 0) -> str:
        if fn.__class__ is AccumulateGrad:
            return self.of_leaf(fn.variable)
        n = self.node.get((fn, nr))
        if n is None:
            n = self.node[(fn, nr)] = self._loose_or_fresh((fn, nr))
        return n

    def _loose_or_fresh(self, key) -> str:
        n = self._loose.get(key)
        if n is not None and n not in self.taken():
            return n
        return self._fresh()

    def _fresh(self) -> str:
        while True:
            self._n += 1
            n = f"t{self._n}"
            if n not in self.leaf.values() and n not in self.node.values():
                return n


def loop_targets(frame) -> frozenset:
    """The names bound as loop targets (``for``, comprehensions) in ``frame``'s source file."""
    import ast
    import linecache

    if frame is None:
        return frozenset()
    fname = frame.f_code.co_filename
    src = "".join(linecache.getlines(fname, frame.f_globals))
    hit = _LOOPS.get((fname, hash(src)))
    if hit is not None:
        return hit
    out: set = set()
    try:
        tree = ast.parse(src)
    except (SyntaxError, ValueError):
        tree = None
    if tree is not None:
        for node in ast.walk(tree):
            target = node.target if isinstance(node, (ast.For, ast.AsyncFor,
                                                      ast.comprehension)) else None
            if target is not None:
                out.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    res = _LOOPS[(fname, hash(src))] = frozenset(out)
    return res


_LOOPS: dict = {}


# -- how each node reads as mathematics ---------------------------------------------------------
# What explain says about an op lives on its class (``Op.local``, ``forward_text``, ``scalar``,
# ``elementwise``); this section fills those templates in.
def pow_local(e, x: str) -> str:
    """``x ** e``'s local derivative written per element: ``3·x²``."""
    if e == 0:
        return "0"
    if e == 1:
        return "1"
    if e == 2:
        return f"2·{x}"
    e1 = e - 1
    return f"{fmt_num(e)}·{x}" + (str(int(e1)).translate(_SUP) if float(e1).is_integer() and
                                   0 < e1 < 10 else f"^{fmt_num(e1)}")


class _Fields(dict):
    """A template's fields: the given labels, else the node's parameter of that name, written
    as explain writes it (numbers by ``fmt_num``, tuples as ``2, 3``)."""

    def __init__(self, fn, labels: dict) -> None:
        super().__init__(labels)
        self.fn = fn

    def __missing__(self, key: str) -> str:
        v = getattr(self.fn, key)
        if isinstance(v, (tuple, list)):
            return _tup(v)
        if isinstance(v, (int, float, np.number)):
            return fmt_num(v)
        return str(v)


def forward_expr(fn, labels: dict) -> str | None:
    """How the node's output was computed, with its inputs' ``labels`` (None if not known)."""
    try:
        return fn._narrate_forward(_Fields(fn, labels))
    except (KeyError, AttributeError, TypeError):
        return None


def local_text(fn, key: str, elems: dict) -> str | None:
    """The local derivative of the node's output with respect to input ``key``, per element."""
    try:
        return fn._narrate_local(key, _Fields(fn, elems))
    except (KeyError, AttributeError, TypeError):
        return None


def _tup(t) -> str:
    return ", ".join(str(v) for v in t) if isinstance(t, (tuple, list)) else str(t)


def _params(fn) -> dict:
    """The op's parameters (slot attributes that are not engine state)."""
    out = {}
    for cls in type(fn).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if slot.startswith("_") or slot in ("inputs", "next_functions", "variable",
                                                "needs_input_grad"):
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
_PREC = {"sum": _PREC_SUM, "product": _PREC_PROD, "power": _PREC_POW}


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
        if isinstance(v, NotSaved):
            return None  # the node did not keep this value (saved_for)
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

        kind = getattr(fn, "scalar", None)
        if kind is None:
            return None
        if kind[0] == "infix":
            if fmt_num(getattr(fn, "alpha", 1)) != "1":
                return None  # a + alpha·b is not spelled out
            _, sym, prec, right = kind
            return bin_(sym, _PREC[prec], s["a"], s["b"], _PREC[right])
        if kind[0] == "neg":
            return map_(lambda e: (f"-{_wrap_prec(e, _PREC_POW)}", _PREC_SUM))
        if kind[0] == "pow":
            ex = fn.exponent
            sup = (str(int(ex)).translate(_SUP) if float(ex).is_integer() and 0 <= ex < 10
                   else f"^{fmt_num(ex)}")
            return map_(lambda e: (f"{_wrap_prec(e, _PREC_ATOM)}{sup}", _PREC_POW))
        if kind[0] == "call":
            return map_(lambda e: (f"{kind[1]}({e[0]})", _PREC_ATOM))
        if kind[0] == "abs":
            return map_(lambda e: (f"|{e[0]}|", _PREC_ATOM))
        if kind[0] in ("sum", "mean"):
            x = s["x"]
            terms = [x[idx] for idx in np.ndindex(*x.shape)]
            if not terms:
                return None
            text = " + ".join(_wrap_prec(t, _PREC_PROD) for t in terms)
            if len(text) > budget[0]:
                return None
            if kind[0] == "mean":
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
