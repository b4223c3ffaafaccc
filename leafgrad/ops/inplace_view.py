"""In-place ops on views of tensors in the graph: PyTorch's CopySlices and AsStrided nodes.

When ``v`` is a view of ``base`` and ``v.mul_(2)`` runs while ``base`` (or the other operand)
requires grad, the base's history is rewritten as PyTorch does: ``base.grad_fn`` becomes a
``CopySlices`` node that wraps the in-place op's node (its gradient for the viewed region comes
from that node, the rest passes through to the base's old history), and ``v.grad_fn`` becomes an
``AsStridedBackward0`` reading the region out of the new base. The region is described by the
view's geometry relative to its base (shape, strides and offset), as PyTorch's as_strided does.
"""

from __future__ import annotations

import numpy as np

from ..autograd.node import EPOCH, NONE_EDGE, Op, edge, make_node
from ..backend import array_module, as_strided, data_ptr, like, scatter_add, writeable
from ..tensor import Tensor, _wrap
from . import dual

_new = object.__new__


def _overlapping(shape: tuple, strides: tuple) -> bool:
    """Whether some two elements of a strided layout may share memory: False when each stride
    (smallest first) reaches past every position the smaller ones span (then none do)."""
    reach = 0  # the largest offset the dims seen so far reach
    for st, n in sorted((abs(st), n) for n, st in zip(shape, strides) if n > 1):
        if st <= reach:
            return True
        reach += (n - 1) * st
    return False


def _positions(shape: tuple, strides: tuple, offset: int) -> np.ndarray:
    """The storage position (in elements) of every element of a strided layout."""
    pos = np.full(shape, offset, dtype=np.int64)
    for k, (n, st) in enumerate(zip(shape, strides)):
        if n > 1 and st:
            pos += (np.arange(n, dtype=np.int64) * st).reshape((n,) + (1,) * (len(shape) - k - 1))
    return pos


class Geometry:
    """Where a view's elements sit in the memory of its base (or of the tensor it was taken
    from by as_strided): shapes, strides and offsets in elements, as PyTorch's as_strided.

    Both layouts are read into one zeroed buffer standing for the memory. When the view's
    elements overlap (an expand) the gradient sums over each memory location, and when the
    base's do, it is shared among the base's elements there (PyTorch's as_strided_backward).
    """

    __slots__ = ("base_shape", "base_strides", "base_off", "shape", "strides", "offset", "dtype",
                 "span", "simple", "_pos")

    def __init__(self, base: np.ndarray, view: np.ndarray, shape=None, strides=None,
                 offset=None) -> None:
        item = base.itemsize
        self.dtype = base.dtype
        self.base_shape = base.shape
        self.base_strides = tuple(st // item for st in base.strides)
        if shape is None:  # the view is an array: measure it against the base
            shape = view.shape
            strides = tuple(st // item for st in view.strides)
            offset = (data_ptr(view) - data_ptr(base)) // item
        self.shape, self.strides, self.offset = tuple(shape), tuple(strides), offset
        self.base_off = 0
        lo = min(0, offset) if _size(shape) else 0
        if lo < 0:  # as_strided may start before the tensor it was taken from
            self.base_off, self.offset = -lo, offset - lo
        self.span = max(_reach(self.base_shape, self.base_strides, self.base_off),
                        _reach(self.shape, self.strides, self.offset), 1)
        self.simple = (self.base_off == 0 and min(self.base_strides, default=0) >= 0 and
                       min(self.strides, default=0) >= 0 and
                       not _overlapping(self.shape, self.strides) and
                       not _overlapping(self.base_shape, self.base_strides))
        self._pos = None

    def _buffers(self, a):
        buf = array_module(a).zeros(self.span, dtype=a.dtype)
        it = buf.itemsize
        whole = as_strided(buf, self.base_shape, tuple(st * it for st in self.base_strides))
        region = as_strided(buf[self.offset:], self.shape, tuple(st * it for st in self.strides))
        return whole, region

    def positions(self) -> tuple:
        """Storage positions of the base's and the view's elements (general path)."""
        if self._pos is None:
            self._pos = (_positions(self.base_shape, self.base_strides, self.base_off),
                         _positions(self.shape, self.strides, self.offset))
        return self._pos

    def gather(self, a: np.ndarray) -> np.ndarray:
        """The region of a base-shaped array (a copy)."""
        if self.simple:
            whole, region = self._buffers(a)
            whole[...] = a
            return region.copy()
        pb, pv = self.positions()
        buf = array_module(a).zeros(self.span, dtype=a.dtype)
        buf[pb] = a  # (host position arrays index device arrays, as in CuPy)
        return buf[pv]

    def scatter(self, g: np.ndarray) -> np.ndarray:
        """A base-shaped array of zeros with ``g`` in the region (summed where the region's
        elements share memory, shared out where the base's do)."""
        if self.simple:
            whole, region = self._buffers(g)
            region[...] = g
            return whole.copy()  # (np.ascontiguousarray would make a 0-d array 1-d)
        pb, pv = self.positions()
        buf = array_module(g).zeros(self.span, dtype=g.dtype)
        scatter_add(buf, pv, g)
        out = buf[pb]
        if _overlapping(self.base_shape, self.base_strides):
            count = np.bincount(pb.ravel(), minlength=self.span)[pb]
            out = out / like(count.astype(out.dtype), out)
        return out

    def put(self, a: np.ndarray, v) -> np.ndarray:
        """A copy of base-shaped ``a`` with the region replaced by ``v``."""
        if self.simple:
            whole, region = self._buffers(a)
            whole[...] = a
            region[...] = v
            return whole.copy()  # (np.ascontiguousarray would make a 0-d array 1-d)
        pb, pv = self.positions()
        buf = array_module(a).zeros(self.span, dtype=a.dtype)
        buf[pb] = a
        buf[pv] = v
        return buf[pb]


def _size(shape: tuple) -> int:
    n = 1
    for k in shape:
        n *= k
    return n


def _reach(shape: tuple, strides: tuple, offset: int) -> int:
    """One past the last storage position a strided layout touches (0 when empty)."""
    if not _size(shape):
        return 0
    return offset + 1 + sum((n - 1) * st for n, st in zip(shape, strides) if st > 0)


class AsStrided(Op):
    """The view's new node after an in-place change: reads its region out of the base."""

    name_ = "AsStridedBackward0"
    formula = {"x": "as_strided_scatter(grad, geometry)"}
    save_inputs = False
    __slots__ = ("geometry",)

    def forward(self, base):
        return self.geometry.gather(base)

    def backward(self, grad):
        if isinstance(grad, Tensor):
            return _by_geometry(AsStridedScatter, self.geometry, grad)
        return self.geometry.scatter(grad)


class AsStridedScatter(Op):
    """The backward of AsStrided, recorded when building a graph of the backward."""

    name_ = "AsStridedScatterBackward0"
    formula = {"x": "as_strided(grad, geometry)"}
    save_inputs = False
    __slots__ = ("geometry",)

    def forward(self, g):
        return self.geometry.scatter(g)

    def backward(self, grad):
        if isinstance(grad, Tensor):
            return _by_geometry(AsStrided, self.geometry, grad)
        return self.geometry.gather(grad)


class CopySlices(Op):
    """The base's node after an in-place op on one of its views (wraps that op's node)."""

    name_ = "CopySlices"
    formula = {"base": "grad outside the view; op's gradient, applied to grad[view], inside"}
    save_inputs = False
    saved_state = ("op",)  # PyTorch frees the wrapped node after backward: no second one
    __slots__ = ("geometry", "op")

    def backward(self, grad):
        from ..autograd.engine import _fit

        op, geo = self.op, self.geometry
        if 0 not in geo.shape and any(st == 0 and n > 1 for n, st in zip(geo.shape, geo.strides)):
            # (an empty region has no two elements, so none share memory)
            # NOTE: PyTorch writes the op's gradient into the view's region of the base's
            # gradient with copy_, which refuses a region whose elements share memory
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation.\nWhy: an in-place op changed an expanded view, whose elements share "
                "memory, so its gradient cannot be written back into the base's.")
        if op._vers is not None:
            # NOTE: the epoch moved with this very in-place op, so the check always runs; the
            # view's old value was replaced by a copy (original_self), its other operands were
            # not: one sharing the view's memory is refused as modified, as in PyTorch
            op._check_saved()
        if isinstance(grad, Tensor):
            region = _by_geometry(AsStrided, geo, grad)
        else:
            region = geo.gather(grad)
        res = op.backward(region)
        res = res if res.__class__ is tuple else (res,)
        if op._meta is not None:
            res = _fit(op, res, region)
        first = res[0]
        if isinstance(grad, Tensor):
            out = grad if first is None else _view_put(grad, first, geo)
        else:
            out = geo.put(grad, 0 if first is None else first)
        return (out,) + tuple(res[1:])


class ViewPut(Op):
    """``a`` with the view region replaced by ``v`` (CopySlices' backward, as a graph)."""

    name_ = "CopySlices"
    formula = {"a": "grad outside the view, 0 inside", "v": "grad[view]"}
    save_inputs = False
    __slots__ = ("geometry",)

    def forward(self, a, v):
        return self.geometry.put(a, v)

    def backward(self, grad):
        geo = self.geometry
        g = grad._data if isinstance(grad, Tensor) else grad
        mask = geo.put(array_module(g).ones(geo.base_shape, dtype=geo.dtype), 0)
        if isinstance(grad, Tensor):
            return grad * _wrap(mask), _by_geometry(AsStrided, geo, grad)
        return grad * mask, geo.gather(grad)


def _by_geometry(cls, geo: Geometry, g: Tensor) -> Tensor:
    """Run AsStrided / AsStridedScatter on a Tensor, recorded (a graph of the backward)."""
    fn = _new(cls)
    fn.geometry = geo
    return _record1(fn, g, fn.forward(g._data))


def _record1(fn, x: Tensor, out) -> Tensor:
    from ._apply import record_unary

    return record_unary(fn, x, out)


def _view_put(a: Tensor, v: Tensor, geo: Geometry) -> Tensor:
    from ._apply import record

    fn = _new(ViewPut)
    fn.geometry = geo
    return record(fn, (a, v), fn.forward(a._data, v._data))


# -- how a view was made (PyTorch's CreationMeta): what in-place changes it allows --------------
CREATION_DEFAULT = 0  # an ordinary view
CREATION_NO_GRAD = 1  # taken under no_grad: in-place changes with grad mode on are refused
CREATION_MULTI = 2    # an output of split/chunk/unbind (several views of one node): same

_MULTI_TAIL = (" This view is the output of a function that returns multiple views. Such functions "
               "do not allow the output views to be modified inplace. You should replace the "
               "inplace operation by an out-of-place one.")
_NO_GRAD_TAIL = (" Given that this use case is ambiguous and error-prone, it is forbidden. You can "
                 "clarify your code by moving both the view and the inplace either both inside the "
                 "no_grad block (if you don't want the inplace to be tracked) or both outside (if "
                 "you want the inplace to be tracked).")


def _view_error(view: Tensor, indirect: bool) -> RuntimeError:
    """PyTorch's error for an in-place change that a view's creation does not allow
    (handle_view_on_rebase): directly on the view, or (``indirect``) on its base or a sibling."""
    from ..autograd.node import _strip_backward

    x = view._x
    fn = view._fn
    what = "its base or another view of its base has been" if indirect else "is being"
    if x.creation == CREATION_NO_GRAD or fn is None:
        prefix = (f"Output {view._out_nr} of {_strip_backward(fn.name())} is a view of a view "
                  "which was created in" if fn is not None else "A view was created in")
        msg = f"{prefix} no_grad mode and {what} modified inplace with grad mode enabled."
    else:
        msg = f"Output {view._out_nr} of {_strip_backward(fn.name())} is a view and {what} " \
              "modified inplace."
    if x.creation == CREATION_MULTI:
        msg += _MULTI_TAIL + ("\nWhy: split/chunk/unbind record one node for all their outputs, "
                              "and it cannot be rewritten for one of them; use torch.narrow or "
                              "indexing to take the piece instead, or clone() it.")
    else:
        msg += _NO_GRAD_TAIL + ("\nWhy: autograd did not record how the view was taken, so it "
                                "cannot tell what the in-place change does to the base's "
                                "gradient.")
    return RuntimeError(msg)


def check_view_inplace(view: Tensor, base: Tensor, op: str) -> None:
    """PyTorch's errors for an in-place change to a view that autograd cannot track (its
    check_inplace, when some operand requires grad and grad mode is on)."""
    if view._x.creation:
        raise _view_error(view, indirect=False)
    if base._fn is None and (base._rg or view._rg or view._fn is not None):
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            f"operation.\nWhy: {op} would overwrite part of a leaf whose gradient autograd "
            "accumulates; do it inside `with torch.no_grad():`, or clone the leaf first."
        )


def _move_retained(t: Tensor, old, new) -> None:
    """retain_grad() follows a tensor to its new node (PyTorch moves the retains_grad hook)."""
    if old is not None and t._x is not None and t._x.retains_grad and old._x is not None:
        ref = old._x.retained.pop(t._out_nr, None)
        if ref is not None:
            new._extras().retained[0] = ref


def set_history(t: Tensor, fn) -> None:
    """Make ``fn`` (a node with one output) ``t``'s grad_fn after an in-place op on ``t``."""
    _move_retained(t, t._fn, fn)
    t._fn = fn
    t._out_nr = 0
    t._rg = True


def refresh_view(view: Tensor) -> None:
    """A view's grad_fn, regenerated when its memory changed in place since it was set.

    PyTorch's rule (VariableHooks::grad_fn): when the version counter the view shares with its
    base has moved since the view's node was made, through the base or any view of it, the view
    reads its region out of the base's current history (``AsStridedBackward0``); a view whose
    creation forbids it (no_grad, split/unbind) raises instead.
    """
    x = view._x
    base = x.base
    if view._fn is None and not base._rg:
        return
    v = view._vc.v
    if x.seen == v:
        return
    if x.creation:
        raise _view_error(view, indirect=True)
    av = make_node(AsStrided, (edge(base) if base._rg else NONE_EDGE,))
    av.geometry = Geometry(base._data, view._data)
    set_history(view, av)
    x.seen = v


def rebase_history(view: Tensor, result: Tensor) -> None:
    """Rewrite the base's and ``view``'s history after ``view`` took ``result``'s values
    (called after the version bump of the in-place op)."""
    x = view._x
    base = x.base
    geo = Geometry(base._data, view._data)
    op = result._fn
    # the base's old history, then the in-place op's other inputs (its first was the view)
    cs = make_node(CopySlices, ((edge(base) if base._rg else NONE_EDGE),) +
                   tuple(op.next_functions[1:]))
    cs.geometry = geo
    cs.op = op
    cs._vers = EPOCH.v
    set_history(base, cs)
    av = make_node(AsStrided, ((cs, 0),))
    av.geometry = geo
    set_history(view, av)
    x.seen = view._vc.v


# -- memory overlap (PyTorch's at::get_overlap_status and the checks built on it) ---------------
_OVERLAP_MSG = (
    "unsupported operation: some elements of the input tensor and the written-to tensor refer to "
    "a single memory location. Please clone() the tensor before performing the operation.\n"
    "Why: {op} writes into memory that it also reads through another layout, so the result "
    "would depend on the order in which elements are visited."
)


def _dense(a: np.ndarray) -> bool:
    """PyTorch's is_non_overlapping_and_dense: the elements fill a block, in some dim order."""
    item = a.itemsize
    need = 1
    for st, n in sorted((st // item, n) for n, st in zip(a.shape, a.strides) if n >= 2):
        if st != need:
            return False
        need *= n
    return True


def _bounds(a: np.ndarray) -> tuple:
    lo = data_ptr(a)
    return lo, lo + a.size * a.itemsize


def overlap_status(a: Tensor, b: Tensor) -> str:
    """"full", "partial", "no" or "too hard" (PyTorch's MemOverlapStatus) for two tensors."""
    if a is b:
        return "full"
    da, db = a._data, b._data
    if da.size == 0 or db.size == 0 or not np.may_share_memory(da, db):
        return "no"
    if not (_dense(da) and _dense(db)):
        return "too hard"  # PyTorch accepts these (the result is its kernel's order)
    (a0, a1), (b0, b1) = _bounds(da), _bounds(db)
    if a0 == b0 and a1 == b1:
        # the same elements: in the same layout (PyTorch compares the strides; NumPy's strides
        # of size-1 dims are arbitrary, so those are skipped)
        same = da.ndim == db.ndim and all(
            sa == sb for n, sa, sb in zip(da.shape, da.strides, db.strides) if n > 1)
        return "full" if same else "partial"
    return "partial" if a0 < b1 and b0 < a1 else "no"


def check_overlap(out: Tensor, operands, op: str, strict: bool = False) -> None:
    """Refuse an in-place write into ``out`` that reads overlapping memory, as PyTorch does.

    TensorIterator ops (arithmetic, copy_) refuse a partial overlap; ``strict`` ops (index_put_,
    index_add_, scatter_...: at::assert_no_overlap) refuse a full one too.

    >>> import leafgrad
    >>> x = leafgrad.ones(2, 2)
    >>> check_overlap(x, (x.t(),), "mul_")
    Traceback (most recent call last):
    ...
    RuntimeError: unsupported operation: some elements of the input tensor and the written-to \
tensor refer to a single memory location. Please clone() the tensor before performing the \
operation.
    Why: mul_ writes into memory that it also reads through another layout, so the result would \
depend on the order in which elements are visited.
    """
    for o in operands:
        if o.__class__ is not Tensor and not isinstance(o, Tensor):
            continue
        st = overlap_status(out, o)
        if st == "partial" or (strict and st == "full"):
            raise RuntimeError(_OVERLAP_MSG.format(op=op))


# Writes that do not read the written tensor: PyTorch lets them through a tensor whose elements
# share memory (the last write wins, in the same order in NumPy).
_PURE_WRITES = frozenset(("fill_", "zero_", "copy_", "setitem", "index_put_"))
# ...and these even through an expand (stride 0), where the others refuse.
_EXPAND_WRITES = frozenset(("fill_", "zero_", "index_put_"))


def sharing_counts(d: np.ndarray) -> np.ndarray:
    """For each element of ``d``, how many elements of ``d`` share its memory location."""
    pos = _positions(d.shape, tuple(st // d.itemsize for st in d.strides), 0)
    pos = pos - pos.min()
    return np.bincount(pos.ravel())[pos]


def writable_target(t: Tensor, op: str, repeatable: bool = False,
                    through_expand: bool | None = None) -> np.ndarray:
    """The array to write ``op``'s result into: ``t``'s, after PyTorch's internal-overlap checks.

    An expand (a stride 0) is refused with PyTorch's error except by fill_ of a number, zero_
    and index_put_, which write through it (NumPy's expand is read-only: a writeable alias is
    made); ``through_expand`` says so where the op's name does not (fill_ of a tensor). Other
    overlapping layouts (unfold windows with step < size) are accepted by PyTorch with a result
    that depends on its kernel's order for read-modify-write ops; leafgrad follows it when
    every element gets the same update (``repeatable``: the caller applies the op once per
    element sharing a location, as PyTorch's kernel does) and refuses the others.
    """
    d = t._data
    if d.flags.c_contiguous or d.size <= 1:
        pass  # no two elements share memory
    elif any(st == 0 and n > 1 for n, st in zip(d.shape, d.strides)):
        if not (op in _EXPAND_WRITES if through_expand is None else through_expand):
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to "
                "a single memory location. Please clone() the tensor before performing the "
                f"operation.\nWhy: {op} writes into an expanded view, where several elements are "
                "one value in memory; clone() gives each its own.")
    elif op not in _PURE_WRITES and not repeatable and not _dense(d) and _overlapping(
            d.shape, tuple(st // d.itemsize for st in d.strides)):
        raise RuntimeError(
            f"unsupported operation: {op} reads and writes a tensor some of whose elements refer "
            "to a single memory location (e.g. windows of unfold with step < size). Please "
            "clone() the tensor before performing the operation.\nWhy: the result would depend "
            "on the order in which the elements are visited (PyTorch's is its kernel's); "
            "leafgrad refuses rather than give a different one.")
    if writeable(d):
        return d  # (device memory always is)
    from .movement.views import _storage_of

    root, off = _storage_of(d)
    if root is d or not root.flags.writeable:
        return d  # NumPy raises the read-only error below
    return as_strided(root.ravel(order="K")[off:], d.shape, d.strides)


__all__ = ["AsStrided", "CopySlices", "Geometry", "check_overlap", "check_view_inplace",
           "overlap_status", "rebase_history", "refresh_view", "set_history"]


class CopyFrom(Op):
    """``self.copy_(src)``: the result is ``src`` broadcast to self's shape and cast to its dtype;
    self's old values get no gradient."""

    name_ = "CopyBackwards"
    formula = {"a": "grad * 0", "b": "grad"}
    save_inputs = False
    __slots__ = ()

    def forward(self, a, b):
        return np.broadcast_to(b, a.shape).astype(a.dtype)

    def backward(self, grad):
        need = self.needs_input_grad
        return (dual.zeros_like(grad) if need[0] else None,
                grad if need[1] else None)


class Fill(Op):
    """``self.fill_(value)`` / ``zero_()``: constant result, zero gradient to the old values."""

    name_ = "FillBackward2"
    formula = {"x": "grad * 0"}
    same_shape = True
    save_inputs = False
    __slots__ = ("value",)

    def forward(self, x):
        return array_module(x).full(x.shape, self.value, dtype=x.dtype)

    def backward(self, grad):
        return dual.zeros_like(grad)


class Zero(Fill):
    name_ = "ZeroBackward0"
    __slots__ = ()


class FillTensor(Op):
    """``self.fill_(value)`` with a 0-d tensor value: the value gets the sum of the gradient."""

    name_ = "FillBackward3"
    formula = {"x": "grad * 0", "value": "grad.sum()"}
    save_inputs = False
    __slots__ = ()

    def forward(self, x, v):
        # (v is a 0-d array on x's device: broadcast, then a fresh array in x's dtype)
        return array_module(x).broadcast_to(v, x.shape).astype(x.dtype)

    def backward(self, grad):
        need = self.needs_input_grad
        return (grad * 0 if need[0] else None,
                dual.sum(grad, None) if need[1] else None)


def copy_from(a: Tensor, b: Tensor) -> Tensor:
    """The recorded out-of-place form of ``a.copy_(b)`` (first input ``a``, as PyTorch's)."""
    from ._apply import record

    fn = _new(CopyFrom)
    try:
        out = fn.forward(a._data, b._data)
    except ValueError:
        from .._dims import broadcast_mismatch

        raise broadcast_mismatch(a._data.shape, b._data.shape, "copy_") from None
    return record(fn, (a, b), out)


def fill(a: Tensor, value, zero: bool = False) -> Tensor:
    """The recorded out-of-place form of ``a.fill_(value)`` / ``a.zero_()`` (``value`` a number
    or a 0-d tensor, which then gets a gradient)."""
    if isinstance(value, Tensor):
        from ._apply import record

        fn = _new(FillTensor)
        return record(fn, (a, value), fn.forward(a._data, value._data.astype(a._data.dtype)))
    fn = _new(Zero if zero else Fill)
    fn.value = value
    return _record1(fn, a, fn.forward(a._data))
