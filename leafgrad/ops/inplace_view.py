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

from ..autograd.node import NONE_EDGE, Op, edge, make_node
from ..tensor import Tensor, _wrap
from . import dual

_as_strided = np.lib.stride_tricks.as_strided
_new = object.__new__


class Geometry:
    """Where a view's elements sit inside its base's memory."""

    __slots__ = ("base_shape", "base_strides", "span", "shape", "strides", "offset", "dtype")

    def __init__(self, base: np.ndarray, view: np.ndarray) -> None:
        item = base.itemsize
        self.dtype = base.dtype
        self.base_shape, self.base_strides = base.shape, base.strides
        self.shape, self.strides = view.shape, view.strides
        self.span = 1 + sum((n - 1) * abs(s) // item for n, s in zip(base.shape, base.strides)
                            if n > 0) if base.size else 0
        self.offset = (view.__array_interface__["data"][0] -
                       base.__array_interface__["data"][0]) // item

    def _buffers(self, dtype=None):
        buf = np.zeros(max(self.span, 1), dtype=dtype or self.dtype)
        whole = _as_strided(buf, self.base_shape, self._strides(self.base_strides, buf))
        region = _as_strided(buf[self.offset:], self.shape, self._strides(self.strides, buf))
        return whole, region

    def _strides(self, strides, buf):
        # the geometry was measured in the base's itemsize; rescale for another dtype
        return tuple(s // self.dtype.itemsize * buf.itemsize for s in strides)

    def gather(self, a: np.ndarray) -> np.ndarray:
        """The region of a base-shaped array (a copy)."""
        whole, region = self._buffers(a.dtype)
        whole[...] = a
        return region.copy()

    def scatter(self, g: np.ndarray) -> np.ndarray:
        """A base-shaped array of zeros with ``g`` in the region."""
        whole, region = self._buffers(g.dtype)
        region[...] = g
        return np.ascontiguousarray(whole)

    def put(self, a: np.ndarray, v) -> np.ndarray:
        """A copy of base-shaped ``a`` with the region replaced by ``v``."""
        whole, region = self._buffers(a.dtype)
        whole[...] = a
        region[...] = v
        return np.ascontiguousarray(whole)


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
    __slots__ = ("geometry", "op")

    def backward(self, grad):
        from ..autograd.engine import _fit

        op, geo = self.op, self.geometry
        vers = op._vers
        # NOTE: the epoch moved with this very in-place op: only a recorded state is checked
        if vers is not None and vers.__class__ is not int:
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
        mask = geo.put(np.ones(geo.base_shape, dtype=geo.dtype), 0)
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


def check_view_inplace(view: Tensor, base: Tensor, op: str) -> None:
    """PyTorch's errors for in-place changes to views that autograd cannot track."""
    if base._rg and base.grad_fn is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            f"operation.\nWhy: {op} would overwrite part of a leaf whose gradient autograd "
            "accumulates; do it inside `with torch.no_grad():`, or clone the leaf first."
        )
    if base._rg and view.grad_fn is None:
        raise RuntimeError(
            "A view was created in no_grad mode and is being modified inplace with grad mode "
            "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You "
            "can clarify your code by moving both the view and the inplace either both inside "
            "the no_grad block (if you don't want the inplace to be tracked) or both outside (if "
            "you want the inplace to be tracked)."
        )


def refresh_view(view: Tensor) -> None:
    """Give a view whose base's history was rewritten (by an in-place op through another view)
    a node reading from the new base, as PyTorch regenerates it (AsStridedBackward0)."""
    x = view._x
    base = x.base
    bx = base._x
    if bx is None or bx.rebases == x.seen:
        return
    x.seen = bx.rebases
    av = make_node(AsStrided, ((base.grad_fn, base._out_nr),))
    av.geometry = Geometry(base._data, view._data)
    view.grad_fn = av
    view._out_nr = 0
    view._rg = True


def rebase_history(view: Tensor, base: Tensor, result: Tensor) -> None:
    """Rewrite ``base``'s and ``view``'s history after ``view`` took ``result``'s values."""
    geo = Geometry(base._data, view._data)
    op = result.grad_fn
    # the base's old history, then the in-place op's other inputs (its first was the view)
    cs = make_node(CopySlices, ((edge(base) if base._rg else NONE_EDGE),) +
                   tuple(op.next_functions[1:]))
    cs.geometry = geo
    cs.op = op
    base.grad_fn = cs
    base._out_nr = 0
    base._rg = True
    bx = base._extras()
    bx.rebases += 1
    view._x.seen = bx.rebases
    av = make_node(AsStrided, ((cs, 0),))
    av.geometry = geo
    view.grad_fn = av
    view._out_nr = 0
    view._rg = True


__all__ = ["AsStrided", "CopySlices", "Geometry", "check_view_inplace", "rebase_history"]


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
        return np.full(x.shape, self.value, dtype=x.dtype)

    def backward(self, grad):
        return dual.zeros_like(grad)


class Zero(Fill):
    name_ = "ZeroBackward0"
    __slots__ = ()


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
    """The recorded out-of-place form of ``a.fill_(value)`` / ``a.zero_()``."""
    fn = _new(Zero if zero else Fill)
    fn.value = value
    return _record1(fn, a, fn.forward(a._data))
