"""The stepper: ``backward_steps`` yields a backward pass one node at a time, in engine order.

There is no second walker: the steps come from the engine itself (``engine.drive`` with a dry
``engine.Pass``: every node's work, hooks included, as a plain ``backward()`` does it, but
nothing freed and no ``.grad`` written), observed by a ``StepMaker``; ``explaining()`` observes
the real pass the same way. So the numbers are bit for bit the engine's. Also here: how
numbers, arrays and shapes are written in narration, and ``Snap``, a value kept for narration.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..backend import to_numpy
from ..locale import strings
from . import engine as _engine
from . import sites as _sites
from .grad_mode import state as _grad_state
from .node import RELEASED, Node

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["Snap", "Step", "backward_steps", "fmt_array", "fmt_num", "fmt_shape", "sub"]

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_ELEMENTS = 16  # tensors up to this many elements are shown number by number
_SNAP_LIMIT = 1 << 16  # values larger than this are kept as summary statistics only
_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


# -- numbers as text --------------------------------------------------------------------------
def fmt_num(v) -> str:
    """A number as a teacher writes it: ``2``, ``-0.5``, ``0.1``, ``1.235e+04``.

    >>> fmt_num(2.0), fmt_num(-0.0), fmt_num(0.1), fmt_num(True)
    ('2', '0', '0.1', 'True')
    """
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    f = float(v)
    if f != f or f in (float("inf"), float("-inf")):
        return str(f)
    if f == 0:
        return "0"
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    return f"{f:.4g}"


def _paren(v) -> str:
    return f"({fmt_num(v)})"


def fmt_array(a, max_elements: int = MAX_ELEMENTS, lang: str = "en") -> str:
    """Small arrays as nested lists of numbers; large ones as shape and summary statistics.

    >>> fmt_array(np.array([[2.0, 0.0], [-2.0, 2.0]]))
    '[[2, 0], [-2, 2]]'
    """
    if isinstance(a, Snap):
        return a.text(max_elements, lang)
    a = np.asarray(a)
    if a.size > max_elements:
        return _stats(a, lang)
    return _nested(a)


def _nested(a) -> str:
    if a.ndim == 0:
        return fmt_num(a)
    return "[" + ", ".join(_nested(s) for s in a) + "]"


def _stats(a, lang: str) -> str:
    S = strings(lang)
    if a.size == 0:
        return S["stats_empty"].format(shape=fmt_shape(a.shape))
    f = a.astype(np.float64) if a.dtype.kind in "fiub" else a
    with np.errstate(all="ignore"):
        return S["stats"].format(shape=fmt_shape(a.shape), mean=fmt_num(f.mean()),
                                 std=fmt_num(f.std()), min=fmt_num(f.min()),
                                 max=fmt_num(f.max()))


def fmt_shape(shape) -> str:
    """A shape as ``torch.Size`` lists it.

    >>> fmt_shape((2, 2)), fmt_shape(())
    ('[2, 2]', '[]')
    """
    return "[" + ", ".join(str(d) for d in shape) + "]"


def sub(i: int) -> str:
    """An integer in subscript digits.

    >>> "x" + sub(12)
    'x₁₂'
    """
    return str(i).translate(_SUB)


class Snap:
    """A value kept for narration: a copy when small, summary statistics when large.

    Saved tensors can be freed or changed in place after the walk (an optimizer step), so what
    the narration shows is copied when it is taken.
    """

    __slots__ = ("shape", "dtype", "array", "_stats")

    def __init__(self, a) -> None:
        a = np.asarray(to_numpy(a))  # narration reads host copies (a device array is copied)
        self.shape = a.shape
        self.dtype = a.dtype
        if a.size <= _SNAP_LIMIT:
            self.array = np.array(a, copy=True)
            self._stats = None
        else:
            self.array = None
            self._stats = {lang: _stats(a, lang) for lang in ("en", "zh")}

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def text(self, max_elements: int = MAX_ELEMENTS, lang: str = "en") -> str:
        """The value as narration shows it."""
        if self.array is None:
            return self._stats[lang]
        return fmt_array(self.array, max_elements, lang)


# -- the stepper --------------------------------------------------------------------------------
@dataclass(eq=False)
class Step:
    """One node of the backward pass, as the engine runs it.

    ``grad_output`` is the gradient arriving at the node (the sum over ``contributions``, one
    per consumer); ``grad_inputs`` what it sends to each input, already summed back to the
    input's shape (``grad_inputs_raw`` is before that automatic step). For an
    ``AccumulateGrad`` step, ``leaf`` is the tensor and ``grad_before`` / ``grad_after`` its
    ``.grad`` before and after the (narrated, not performed) accumulation.
    """

    index: int
    node: Node
    name: str
    site: object | None
    grad_output: object | None
    contributions: list = field(default_factory=list)
    keys: tuple = ()
    edges: tuple = ()
    saved: dict = field(default_factory=dict)
    output: object | None = None
    grad_inputs: tuple = ()
    grad_inputs_raw: tuple = ()
    local: tuple | None = None
    jacobian: dict | None = None
    leaf: object | None = None
    grad_before: object | None = None
    grad_after: object | None = None
    hooks: bool = False
    retained: list = field(default_factory=list)
    total: int = 0
    inputs: tuple | None = None  # the forward inputs the node saved (names for constants)

    @property
    def saved_tensors(self) -> dict:
        """The values the node saved for its backward (``x``/``a``/``b``, ``out``), as Tensors."""
        return {k: _wrap(v.array) for k, v in self.saved.items() if v.array is not None}

    @property
    def _single(self) -> bool:
        return self.node._nout == 1

    @property
    def is_leaf(self) -> bool:
        """True for an ``AccumulateGrad`` step (the chain reaches a leaf)."""
        return self.leaf is not None


def _wrap(a):
    from ..tensor import _wrap as w

    return None if a is None else w(a)


def _as_tuple(r) -> tuple:
    return r if r.__class__ is tuple else (r,)


class _NoGrad:
    """Grad mode off and NumPy warnings silenced around one node's backward (as the engine)."""

    def __enter__(self):
        self.prev = _grad_state.enabled
        _grad_state.enabled = False
        self.err = np.errstate(all="ignore")
        self.err.__enter__()

    def __exit__(self, *exc):
        self.err.__exit__(*exc)
        _grad_state.enabled = self.prev


def _node_backward(fn, g):
    """``fn``'s input gradients for output gradient ``g`` (raw arrays), before and after fitting."""
    with _NoGrad():
        single = fn._nout == 1
        raw = _as_tuple(fn.backward(g) if single else fn.backward(*g))
        fitted = _engine._fit(fn, raw, g) if fn._meta is not None else raw
    return raw, fitted


def _freed_error(fn) -> RuntimeError:
    s = _sites.site_of(fn)
    where = "" if s is None else (f" (the node {fn.name()} was created at "
                                  f"{os.path.basename(s.filename)}:{s.lineno}: {s.line})")
    return RuntimeError(
        f"explain: the saved tensors of this graph were already freed by a backward() call{where}"
        ".\nWhy: backward() frees what each node saved as soon as it has used it. Explain the "
        "graph before calling backward(), pass retain_graph=True to backward(), or run your "
        "code inside `with leafgrad.autograd.explaining():`, which narrates each backward pass "
        "as it runs."
    )


def _saved_snaps(fn) -> dict:
    out = {}
    inputs = fn.inputs
    if inputs is not None:
        for k, v in zip(fn.formula or (), inputs):
            if hasattr(v, "_data"):
                out[k] = Snap(v._data)
            elif isinstance(v, (int, float, bool, np.ndarray, np.generic)):
                out[k] = Snap(v)
    if fn._out is not None:
        out["out"] = Snap(fn._out)
    return out


def _jacobian(fn, g, fitted: tuple, keys: tuple, limit: int) -> dict | None:
    """Local Jacobians ∂out/∂input (shape out.shape + input.shape) by one-hot backward calls."""
    if fn._nout != 1 or g.size > limit:
        return None
    jac = {}
    for k, r in zip(keys, fitted):
        if r is not None and r.size <= limit:
            jac[k] = np.zeros(g.shape + r.shape, dtype=r.dtype)
    if not jac:
        return None
    for idx in np.ndindex(*g.shape):
        e = np.zeros_like(g)
        e[idx] = 1
        _, rows = _node_backward(fn, e)
        for k, r in zip(keys, rows):
            if k in jac and r is not None:
                jac[k][idx] = r
    return {k: _wrap(v + 0) for k, v in jac.items()}  # + 0 turns -0. into 0.


def _local(fn, g) -> tuple | None:
    """For an elementwise node: each input's local derivative, element by element."""
    if fn._nout != 1 or not fn.elementwise:
        return None
    raw, _ = _node_backward(fn, np.ones_like(g))
    return tuple(None if r is None else np.array(r, copy=True) for r in raw)


def _keys(fn) -> tuple:
    keys = tuple(fn.formula) if getattr(fn, "formula", None) else ()
    n = len(fn.next_functions)
    if len(keys) != n:
        keys = ("x",) if n == 1 else tuple(f"input{i}" for i in range(n))
    return keys


def _user_frame():
    """The innermost frame outside the leafgrad package (the user's code)."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    return f


def backward_steps(outputs: Tensor | Sequence[Tensor], gradient=None, *,
                   jacobian_limit: int = MAX_ELEMENTS) -> Iterator[Step]:
    """Yield the backward pass of ``outputs`` one node at a time, in the engine's order.

    Nothing is accumulated and nothing is freed. Each ``Step`` carries the node, the incoming
    gradient, the saved tensors, the local Jacobian (tensors up to ``jacobian_limit`` elements)
    and the gradients the node sends on.

    >>> import leafgrad
    >>> x = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> [s.name for s in backward_steps((x * x).sum())]
    ['SumBackward0', 'MulBackward0', 'AccumulateGrad']
    """
    roots, seeds = _roots(outputs, gradient)
    return _walk(roots, seeds, jacobian_limit)


def _roots(outputs, gradient):
    from ..tensor import Tensor

    tensors = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    if gradient is None:
        grads = (None,) * len(tensors)
    elif isinstance(gradient, Tensor):
        grads = (gradient,)
    else:
        grads = tuple(gradient)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(tensors)} outputs and {len(grads)} gradients")
    seeds = _engine.make_root_grads(tensors, grads, False)
    return _engine.graph_roots(tensors), [g._data for g in seeds]


def _walk(roots, seeds, jacobian_limit: int) -> Iterator[Step]:
    """The steps of a dry pass: the engine's scheduler and node work, writing nothing."""
    deps = _engine.count_consumers(roots)
    maker = StepMaker(jacobian_limit, len(deps))
    maker.seed(roots, seeds)
    p = _engine.Pass(create_graph=False, retain_graph=True, accumulate=False, dry=True)
    p.observe = maker
    try:
        _engine.drive(roots, [np.array(g, copy=True) for g in seeds], deps, p)
    except RuntimeError:
        freed = next((fn for fn in deps if getattr(fn, "_vers", None) is RELEASED), None)
        if freed is not None:
            raise _freed_error(freed) from None
        raise
    return iter(maker.steps)


def _arr(v):
    """A gradient as an array (a pass with create_graph carries Tensors)."""
    return v if v is None or not hasattr(v, "_data") else v._data


class StepMaker:
    """Observes a backward pass (``engine.Pass.observe``) and keeps a ``Step`` per node."""

    def __init__(self, jacobian_limit: int, total: int) -> None:
        self.jacobian_limit = jacobian_limit
        self.total = total
        self.steps: list[Step] = []
        self.sources: dict = {}  # node -> [(from node or None for the seed, output nr, grad)]

    def seed(self, roots, seeds) -> None:
        """Record the seeds as the roots' first contributions."""
        for (fn, nr), g in zip(roots, seeds):
            self.sources.setdefault(fn, []).append((None, nr, np.array(_arr(g), copy=True)))

    def _sent(self, fn, results) -> None:
        for (nxt, nr), gi in zip(fn.next_functions, results):
            if nxt is not None and gi is not None:
                self.sources.setdefault(nxt, []).append((fn, nr, _arr(gi)))

    def node(self, fn, g, raw, fitted) -> None:
        """A node ran (``g`` None: no gradient reached it); what it received and sent."""
        g = _arr(g) if fn._nout == 1 or g is None else [_arr(v) for v in g]
        raw = None if raw is None else tuple(_arr(r) for r in raw)
        fitted = tuple(_arr(r) for r in fitted)
        self.steps.append(_make_step(fn, g, raw, fitted, len(self.steps) + 1,
                                     self.sources.get(fn, []), self.jacobian_limit, self.total))
        self._sent(fn, fitted)

    def leaf(self, fn, g) -> None:
        """An AccumulateGrad node: ``g`` (hooks run, cast to the leaf's dtype) or None."""
        self.steps.append(_leaf_step(fn, _arr(g), len(self.steps) + 1,
                                     self.sources.get(fn, []), self.total))


def _hooks_and_retained(fn) -> tuple[bool, list]:
    x = fn._x
    hooks = x is not None and bool(x.pre_hooks or x.hooks or any(x.tensor_hooks.values()))
    retained = []
    if x is not None:
        for ref in x.retained.values():
            t = ref()
            if t is not None:
                retained.append(t)
    return hooks, retained


def _leaf_step(fn, g, index: int, srcs: list, total: int) -> Step:
    hooks, _ = _hooks_and_retained(fn)
    var = fn.variable
    if var._x is not None and var._x.hooks:
        hooks = True
    old = var._grad
    before = None if old is None else _wrap(np.array(old._data, copy=True))
    after = None if g is None else _wrap(np.array(g, copy=True) if old is None else old._data + g)
    step = Step(index, fn, "AccumulateGrad", None, _wrap(g),
                [(src, _wrap(gi)) for src, _, gi in srcs], leaf=var, grad_before=before,
                grad_after=after, hooks=hooks, total=total)
    step.saved = {"x": Snap(var._data)}
    return step


def _make_step(fn, g, raw, fitted, index: int, srcs: list, jacobian_limit: int,
               total: int) -> Step:
    hooks, retained = _hooks_and_retained(fn)
    contributions = [(src, _wrap(gi)) for src, _, gi in srcs]
    keys = _keys(fn)
    edges = tuple(fn.next_functions)
    if raw is None:  # no gradient reached the node: it sends none
        step = Step(index, fn, fn.name(), _sites.site_of(fn), None, contributions, keys, edges,
                    hooks=hooks, retained=retained, total=total)
        step.saved = _saved_snaps(fn) if fn._vers is not RELEASED else {}
        step.grad_inputs = step.grad_inputs_raw = fitted
        return step
    single = fn._nout == 1
    local = _local(fn, g) if single and g.size <= MAX_ELEMENTS else None
    jac = _jacobian(fn, g, fitted, keys, jacobian_limit) if jacobian_limit else None
    gout = _wrap(g) if single else tuple(_wrap(v) for v in g)
    return Step(index, fn, fn.name(), _sites.site_of(fn), gout, contributions, keys, edges,
                saved=_saved_snaps(fn),
                output=_wrap(fn._out) if fn._out is not None else None,
                grad_inputs=tuple(_wrap(r) for r in fitted),
                grad_inputs_raw=tuple(_wrap(r) for r in raw), local=local, jacobian=jac,
                hooks=hooks, retained=retained, total=total, inputs=fn.inputs)
