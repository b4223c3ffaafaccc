"""Order statistics: median, nanmedian, mode, quantile, nanquantile."""

from __future__ import annotations

import numpy as np

from ..._dims import NO_DIM
from ...autograd.node import Op
from ...backend import accumulate, array_module
from ...tensor import Tensor, _wrap, _wrap_dim
from .. import dual
from .._apply import record_unary
from .extrema import MaxAll, MedianDim, Mode, NanmedianDim, _values_indices
from .multi import return_type
from .sums import _empty_check, _new


# -- median / nanmedian / mode ---------------------------------------------------------------------
class Median(MaxAll):
    name_ = "MedianBackward0"
    __slots__ = ()


class Nanmedian(MaxAll):
    name_ = "NanmedianBackward0"
    __slots__ = ()


def _median_along(d, dim: int, ignore_nan: bool):
    """Keepdim-shaped lower median and its index along ``dim``."""
    order = np.argsort(d, axis=dim, kind="stable")  # NaNs sort last
    n = d.shape[dim]
    xp = array_module(d)
    if ignore_nan:
        cnt = (~np.isnan(d)).sum(axis=dim, keepdims=True) if d.dtype.kind == "f" else \
            np.full_like(np.take(order, [0], dim), n)
        k = np.where(cnt > 0, (cnt - 1) // 2, 0)
    else:
        k = xp.full(np.take(order, [0], dim).shape, (n - 1) // 2)
        if d.dtype.kind == "f":
            has_nan = np.isnan(d).any(axis=dim, keepdims=True)
            first_nan = (n - np.isnan(d).sum(axis=dim, keepdims=True))
            k = np.where(has_nan, first_nan, k)
    idx = np.take_along_axis(order, k, dim)
    return np.take_along_axis(d, idx, dim), idx


def _bool_refused(d, dim, op: str) -> bool:
    """Whether PyTorch's dtype error comes first for a bool median: not for an empty reduction
    (its own error, or an all-elements median of nothing) nor for dim=None (a TypeError)."""
    if dim is NO_DIM:
        return d.size > 0
    if dim is None:
        return False
    return not (d.ndim and d.shape[_wrap_dim(dim, d.ndim, op)] == 0)


def median(x: Tensor, dim=NO_DIM, keepdim: bool = False, _nan: bool = False):
    """Lower median of all elements, or (values, indices) along ``dim``.

    >>> import leafgrad
    >>> median(leafgrad.tensor([3., 1., 2., 4.]))
    tensor(2.)
    """
    d = x._data
    op = "nanmedian" if _nan else "median"
    if d.dtype.kind == "b" and _bool_refused(d, dim, op):
        raise NotImplementedError(
            f"\"{'median_cpu' if dim is NO_DIM else 'median_out'}\" not implemented for 'Bool'"
            f"\nWhy: PyTorch has no {op} of bool tensors; convert first, e.g. x.long().")
    if dim is None:
        raise TypeError(f"{op}(): argument 'dim' must be int, not NoneType\nWhy: leave dim out "
                        "for the median of all elements.")
    if dim is NO_DIM:
        if d.size == 0:
            return _wrap(array_module(d).asarray(np.nan, dtype=d.dtype))
        v, _ = _median_along(d.reshape(-1), 0, _nan)
        return record_unary(_new(Nanmedian if _nan else Median), x, v.reshape(()))
    dm = _wrap_dim(dim, d.ndim, op)
    if d.ndim == 0:
        v, i = d, array_module(d).zeros((), np.int64)
    else:
        _empty_check(d, (dm,), op)
        v, i = _median_along(d, dm, _nan)
    return _values_indices(NanmedianDim if _nan else MedianDim, x, dm, keepdim, v, i,
                           return_type(op))


def nanmedian(x: Tensor, dim=NO_DIM, keepdim: bool = False):
    """Lower median ignoring NaNs, or (values, indices) along ``dim``.

    >>> import leafgrad
    >>> nanmedian(leafgrad.tensor([3., float('nan'), 1.]))
    tensor(1.)
    """
    return median(x, dim, keepdim, _nan=True)


def mode(x: Tensor, dim: int = -1, keepdim: bool = False):
    """Most frequent value along ``dim`` (the smallest among ties) and its last index.

    >>> import leafgrad
    >>> mode(leafgrad.tensor([1., 2., 2., 3.])).values
    tensor(2.)
    """
    d = x._data
    dm = _wrap_dim(dim, d.ndim, "mode")
    if d.ndim == 0:
        return _values_indices(Mode, x, 0, keepdim, d, array_module(d).zeros((), np.int64),
                               return_type("mode"))
    _empty_check(d, (dm,), "mode")
    a = np.moveaxis(d, dm, -1)
    order = np.argsort(a, axis=-1, kind="stable")
    s = np.take_along_axis(a, order, -1)
    n = s.shape[-1]
    xp = array_module(d)
    pos = xp.arange(n)
    new = xp.ones(s.shape, bool)
    new[..., 1:] = s[..., 1:] != s[..., :-1]
    start = accumulate("maximum", np.where(new, pos, 0), -1)
    run = pos - start + 1
    end = np.argmax(run, axis=-1)[..., None]  # the longest run ends here (first: smallest value)
    # NOTE: PyTorch returns the last index at which the mode occurs
    val = np.take_along_axis(s, end, -1)
    idx = np.where(a == val, pos, -1).max(axis=-1, keepdims=True)
    val, idx = np.moveaxis(val, -1, dm), np.moveaxis(idx, -1, dm)
    return _values_indices(Mode, x, dm, keepdim, val, idx, return_type("mode"))


# -- quantile --------------------------------------------------------------------------------------
class Quantile(Op):
    name_ = "QuantileBackward0"
    formula = {"x": "embed(grad.reshape(out_shape) * (1.0 - w), in_shape, lo, True) + "
                    "embed(grad.reshape(out_shape) * w, in_shape, hi, True)"}
    save_inputs = False
    saved_state = ("lo", "hi", "w")  # PyTorch's graph saves sort indices: no second backward
    __slots__ = ("in_shape", "lo", "hi", "w", "dim", "out_shape")

    def forward(self, x):
        return x

    def backward(self, grad):
        g = grad.reshape(self.out_shape)  # (Q, ..., 1) along the moved-last reduced axis
        w = self.w
        a = dual.embed(g * (1.0 - w), self.in_shape, self.lo, True)
        b = dual.embed(g * w, self.in_shape, self.hi, True)
        return a + b


@np.errstate(all="ignore")  # inf - inf between neighbours is nan silently, as in torch
def quantile(x: Tensor, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear",
             _nan: bool = False) -> Tensor:
    """The ``q``-th quantiles over ``dim`` (all elements when None), as PyTorch interpolates.

    >>> import leafgrad
    >>> quantile(leafgrad.tensor([1., 2., 3., 4.]), 0.5)
    tensor(2.5000)
    """
    op = "nanquantile" if _nan else "quantile"
    d = x._data
    if d.dtype.kind != "f":
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype\n"
                           "Why: quantiles interpolate between elements; convert first.")
    qd = q._data if isinstance(q, Tensor) else array_module(d).asarray(q, dtype=d.dtype)
    if qd.ndim > 1:
        raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
    if ((qd < 0) | (qd > 1)).any():
        raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"{op}() interpolation must be one of linear, lower, higher, midpoint "
                         f"or nearest. Got {interpolation}")
    if dim is None:
        a = d.reshape(1, -1)
        dm = None
    else:
        dm = _wrap_dim(dim, d.ndim, op)
        a = np.moveaxis(d.reshape(d.shape or (1,)), dm if d.ndim else 0, -1)
        a = a.reshape(a.shape)
    if a.shape[-1] == 0:
        raise IndexError(f"{op}() input tensor must be non-empty")
    n = a.shape[-1]
    order = np.argsort(a, axis=-1, kind="stable")
    s = np.take_along_axis(a, order, -1)
    nan = np.isnan(a)
    cnt = (n - nan.sum(axis=-1, keepdims=True)) if _nan else array_module(d).full(
        a.shape[:-1] + (1,), n)
    qv = qd.reshape((-1,) + (1,) * a.ndim).astype(np.float64)
    rank = qv * np.maximum(cnt - 1, 0)
    lo = np.floor(rank)
    hi = np.ceil(rank)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = np.round(rank)
    w = (rank - lo) if interpolation == "linear" else np.where(
        hi > lo, 0.5, 0.0) if interpolation == "midpoint" else np.zeros_like(rank)
    lo = lo.astype(np.int64)
    hi = hi.astype(np.int64)
    sq = np.broadcast_to(s, (qv.shape[0],) + s.shape)
    vlo = np.take_along_axis(sq, lo, -1)
    vhi = np.take_along_axis(sq, hi, -1)
    w = w.astype(d.dtype)
    # NOTE: PyTorch interpolates with lerp (b - (b - a) * (1 - w) once w >= 0.5)
    val = np.where(w < 0.5, vlo + w * (vhi - vlo), vhi - (vhi - vlo) * (1 - w))
    bad = nan.any(axis=-1, keepdims=True) if not _nan else (cnt == 0)
    val = np.where(bad, np.nan, val).astype(d.dtype)  # (Q, ..., 1)
    # index into the moved array for the gradient (positions in the unsorted slice)
    olo = np.take_along_axis(np.broadcast_to(order, sq.shape), lo, -1)
    ohi = np.take_along_axis(np.broadcast_to(order, sq.shape), hi, -1)
    # output shape
    if dm is None:
        red = (1,) * d.ndim if keepdim else ()
    else:
        red = list(d.shape)
        if d.ndim:
            if keepdim:
                red[dm] = 1
            else:
                red.pop(dm)
        red = tuple(red)
    qshape = () if qd.ndim == 0 else (qd.shape[0],)
    out = val.reshape(qshape + red)
    fn = _new(Quantile)
    fn.in_shape = d.shape
    fn.out_shape = val.shape
    fn.w = w
    if dm is None:
        fn.lo = _flat_index(olo, d.shape)
        fn.hi = _flat_index(ohi, d.shape)
    else:
        fn.lo = _moved_index(olo, d.shape, dm)
        fn.hi = _moved_index(ohi, d.shape, dm)
    return record_unary(fn, x, out.copy())


def _flat_index(i, shape: tuple):
    """Index tuple into ``shape`` for flat positions ``i`` (shape (Q, 1, 1))."""
    return np.unravel_index(i, shape) if shape else ()


def _moved_index(i, shape: tuple, dm: int):
    """Index tuple into ``shape`` for positions ``i`` of shape (Q, *other dims, 1)."""
    if not shape:
        return ()
    q = i.shape[0]
    other = [s for k, s in enumerate(shape) if k != dm]
    parts = []
    nd = len(shape)
    # the grad array is (Q, *other, 1); map each of its positions to an input position
    j = 0
    for k in range(nd):
        if k == dm:
            parts.append(i)
        else:
            shp = [1] * (len(other) + 2)
            shp[1 + j] = other[j]
            parts.append(array_module(i).arange(other[j]).reshape(shp))
            j += 1
    del q
    return tuple(np.broadcast_arrays(*parts))


def nanquantile(x: Tensor, q, dim=None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """Like quantile, ignoring NaNs.

    >>> import leafgrad
    >>> nanquantile(leafgrad.tensor([1., float('nan'), 3.]), 0.5)
    tensor(2.)
    """
    return quantile(x, q, dim, keepdim, interpolation=interpolation, _nan=True)
