"""Extremes: max, min, amax, amin, aminmax, argmax, argmin."""

from __future__ import annotations

import numpy as np

from ...autograd.node import Op
from ...backend import array_module, as_array
from ...tensor import Tensor, _wrap, _wrap_dim
from .. import dual
from .._apply import record_unary
from .multi import _outs, record_multi, return_type
from .sums import _empty_check, _new, _setup


# -- max / min / amax / amin / aminmax -------------------------------------------------------------
def _even_back(grad, x, out, dims, keepdim: bool, in_shape: tuple):
    """Spread ``grad`` evenly over the elements equal to the reduced value (ties share it).

    NOTE: PyTorch's evenly_distribute_backward / amax backward: ties split the gradient.
    """
    xr = dual.raw(x)
    outk = dual.keep_dims(dual.raw(out), in_shape, dims, keepdim)
    mask = (xr == outk) | (np.isnan(xr) & np.isnan(outk))
    count = mask.sum(axis=dims, keepdims=True).astype(xr.dtype)
    if not keepdim:
        count = count.reshape(np.shape(dual.raw(grad)))
    g = dual.expand_back(grad / count, in_shape, dims, keepdim)
    return dual.where(mask, g, 0.0)


def _count_back(grad, x, out, dims, keepdim: bool, in_shape: tuple):
    """``grad / count * (x == out)``: amax/amin/aminmax's backward (PyTorch's
    scale_grad_by_count), ties share the gradient.

    NOTE: unlike max()/min() of all elements, NaN never equals the result here, so a slice
    whose extreme is NaN gets grad / 0 * 0 = NaN everywhere, and an infinite upstream gradient
    gives NaN off the extremes (inf * 0) -- PyTorch's numbers, not a masked zero.
    """
    xr = dual.raw(x)
    mask = xr == dual.keep_dims(dual.raw(out), in_shape, dims, keepdim)
    count = mask.sum(axis=dims, keepdims=True).astype(xr.dtype)
    if not keepdim:
        count = count.reshape(np.shape(dual.raw(grad)))
    with np.errstate(divide="ignore", invalid="ignore"):
        g = dual.expand_back(grad / count, in_shape, dims, keepdim)
        return g * mask.astype(xr.dtype)


class MaxAll(Op):
    name_ = "MaxBackward1"
    formula = {"x": "even_back(grad, x, out, None, False, tuple(x.shape))"}
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return as_array(x.max())

    def backward(self, grad):
        (x,) = self.saved(grad)
        return _even_back(grad, x, self.result(grad), None, False, dual.raw(x).shape)


class MinAll(MaxAll):
    name_ = "MinBackward1"
    __slots__ = ()

    def forward(self, x):
        return as_array(x.min())


class Amax(Op):
    name_ = "AmaxBackward0"
    formula = {"x": "count_back(grad, x, out, dims, keepdim, in_shape)"}
    save_output = True
    __slots__ = ("dims", "keepdim", "in_shape")

    def forward(self, x):
        return as_array(x.max(axis=self.dims, keepdims=self.keepdim))

    def backward(self, grad):
        (x,) = self.saved(grad)
        return _count_back(grad, x, self.result(grad), self.dims, self.keepdim, self.in_shape)


class Amin(Amax):
    name_ = "AminBackward0"
    __slots__ = ()

    def forward(self, x):
        return as_array(x.min(axis=self.dims, keepdims=self.keepdim))


def _max_all(cls, x: Tensor, op: str) -> Tensor:
    d = x._data
    _empty_check(d, None, op)
    return record_unary(_new(cls), x, cls.forward(None, d))


def amax(x: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (all dims by default); ties share the gradient.

    >>> import leafgrad
    >>> amax(leafgrad.tensor([[1., 5.], [3., 2.]]), 0)
    tensor([3., 5.])
    """
    return _amax(Amax, x, dim, keepdim, "amax")


def amin(x: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (all dims by default); ties share the gradient.

    >>> import leafgrad
    >>> amin(leafgrad.tensor([[1., 5.], [3., 2.]]), 0)
    tensor([1., 2.])
    """
    return _amax(Amin, x, dim, keepdim, "amin")


def _amax(cls, x: Tensor, dim, keepdim: bool, op: str) -> Tensor:
    fn = _new(cls)
    d = _setup(fn, x, dim, keepdim, op)
    _empty_check(d, fn.dims, op)
    return record_unary(fn, x, fn.forward(d))


class _IndexSelectBack:
    """Mixin: the gradient goes to the element whose index the op returned (value selection)."""

    __slots__ = ()

    def backward(self, grad):
        return _select_back(grad, self.index, self.dim, self.keepdim, self.in_shape)


def _index_tuple(idx, dim: int):
    """An advanced index placing ``idx`` (keepdim-shaped or full) on ``dim``, aranges elsewhere."""
    nd = idx.ndim
    xp = array_module(idx)
    out = []
    for k in range(nd):
        if k == dim:
            out.append(idx)
        else:
            shp = [1] * nd
            shp[k] = idx.shape[k]
            out.append(xp.arange(idx.shape[k]).reshape(shp))
    return tuple(out)


def _select_back(grad, idx, dim: int, keepdim: bool, in_shape: tuple, accumulate: bool = False):
    """Zeros of ``in_shape`` with ``grad`` written at ``idx`` along ``dim`` (dual).

    NOTE: PyTorch's value_selecting_reduction_backward: only the returned index gets gradient.
    """
    if len(in_shape) == 0:
        return grad
    if not keepdim:
        grad = dual.unsqueeze(grad, dim)
        idx = np.expand_dims(idx, dim)
    return dual.embed(grad, in_shape, _index_tuple(idx, dim), accumulate)


class MaxDim(_IndexSelectBack, Op):
    name_ = "MaxBackward0"
    formula = {"x": "select_back(grad, index, dim, keepdim, in_shape)"}
    save_inputs = False
    saved_state = ("index",)  # PyTorch saves the indices: a second backward is refused
    __slots__ = ("dim", "keepdim", "in_shape", "index")

    def forward(self, x):
        return x


class MinDim(MaxDim):
    name_ = "MinBackward0"
    __slots__ = ()


class MedianDim(MaxDim):
    name_ = "MedianBackward1"
    __slots__ = ()


class NanmedianDim(MaxDim):
    name_ = "NanmedianBackward1"
    __slots__ = ()


class Mode(MaxDim):
    name_ = "ModeBackward0"
    __slots__ = ()


def _values_indices(cls, x: Tensor, dim: int, keepdim: bool, values, idx, rtype):
    """Record a value-selecting reduction (values differentiable, indices plain int64)."""
    fn = _new(cls)
    fn.dim = dim
    fn.keepdim = keepdim
    fn.in_shape = x._data.shape
    if not keepdim and x._data.ndim:
        values = np.squeeze(values, dim)
        idx = np.squeeze(idx, dim)
    if not x._data.ndim:
        values = as_array(values).copy()  # NOTE: not a view in PyTorch: fresh memory, not x's
    fn.index = idx
    v = record_unary(fn, x, as_array(values))
    return rtype(v, _wrap(as_array(idx).astype(np.int64, copy=False)))


def _argext(d, dim: int, which: str):
    """Keepdim-shaped index and value of the max/min along ``dim`` (NaN wins, as PyTorch)."""
    if d.ndim == 0:
        return d, array_module(d).zeros((), np.int64)
    nan = np.isnan(d) if d.dtype.kind == "f" else None
    if nan is not None and nan.any():
        idx = np.where(nan.any(axis=dim, keepdims=True),
                       np.argmax(nan, axis=dim, keepdims=True),
                       (np.argmax if which == "max" else np.argmin)(
                           np.where(nan, 0, d), axis=dim, keepdims=True))
    else:
        idx = (np.argmax if which == "max" else np.argmin)(d, axis=dim, keepdims=True)
    return np.take_along_axis(d, idx, dim), idx


def max_dim(x: Tensor, dim, keepdim: bool, which: str = "max"):
    """``max(dim)`` / ``min(dim)``: a (values, indices) named tuple."""
    d = x._data
    dm = _wrap_dim(dim, d.ndim, which)
    _empty_check(d, (dm,) if d.ndim else (), which)
    v, i = _argext(d, dm, which)
    return _values_indices(MaxDim if which == "max" else MinDim, x, dm, keepdim, v, i,
                           return_type(which))


def max(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """Largest element, or (values, indices) along ``dim``.

    >>> import leafgrad
    >>> max(leafgrad.tensor([1., 3., 2.]))
    tensor(3.)
    """
    if dim is None:
        return _max_all(MaxAll, x, "max")
    return max_dim(x, dim, keepdim, "max")


def min(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """Smallest element, or (values, indices) along ``dim``.

    >>> import leafgrad
    >>> min(leafgrad.tensor([1., 3., 2.]))
    tensor(1.)
    """
    if dim is None:
        return _max_all(MinAll, x, "min")
    return max_dim(x, dim, keepdim, "min")


class Aminmax(Op):
    name_ = "AminmaxBackward0"
    formula = {"x": "count_back(grad_min, x, min, dims, keepdim, in_shape) + "
                    "count_back(grad_max, x, max, dims, keepdim, in_shape)"}
    _nout = 2
    saved_outputs = (0, 1)  # PyTorch saves min and max (and self)
    saved_state = ("outs",)
    __slots__ = ("dims", "keepdim", "in_shape", "outs")

    def forward(self, x):  # noqa: D102
        return (as_array(x.min(axis=self.dims, keepdims=self.keepdim)),
                as_array(x.max(axis=self.dims, keepdims=self.keepdim)))

    def backward(self, gmin, gmax):
        g0 = gmin if gmin is not None else gmax
        (x,) = self.saved(g0)
        mn, mx = _outs(self, g0)
        r = None
        if gmin is not None:
            r = _count_back(gmin, x, mn, self.dims, self.keepdim, self.in_shape)
        if gmax is not None:
            b = _count_back(gmax, x, mx, self.dims, self.keepdim, self.in_shape)
            r = b if r is None else r + b
        return r


def aminmax(x: Tensor, *, dim=None, keepdim: bool = False):
    """(min, max) over all elements or ``dim``, as a named tuple.

    >>> import leafgrad
    >>> aminmax(leafgrad.tensor([1., 3., 2.])).max
    tensor(3.)
    """
    fn = _new(Aminmax)
    d = _setup(fn, x, dim, keepdim, "aminmax")
    _empty_check(d, fn.dims, "aminmax")
    mn, mx = fn.forward(d)
    return return_type("aminmax")(*record_multi(fn, (x,), (mn, mx)))


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (of the flattened tensor when ``dim`` is None).

    >>> import leafgrad
    >>> argmax(leafgrad.tensor([1., 3., 2.]))
    tensor(1)
    """
    return _argmaxmin(x, dim, keepdim, "max")


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (of the flattened tensor when ``dim`` is None).

    >>> import leafgrad
    >>> argmin(leafgrad.tensor([1., 3., 2.]))
    tensor(0)
    """
    return _argmaxmin(x, dim, keepdim, "min")


def _argmaxmin(x: Tensor, dim, keepdim: bool, which: str) -> Tensor:
    d = x._data
    op = "arg" + which
    if d.dtype == np.bool_:
        raise RuntimeError(f"{op}(): does not support bool input\nWhy: convert first (x.int()).")
    if dim is None:
        _empty_check(d, None, op)
        _, i = _argext(d.reshape(-1), 0, which)
        i = i.reshape(()) if not keepdim else i.reshape((1,) * d.ndim)
        return _wrap(as_array(i).astype(np.int64, copy=False))
    dm = _wrap_dim(dim, d.ndim, op)
    _empty_check(d, (dm,) if d.ndim else (), op)
    _, i = _argext(d, dm, which)
    if not keepdim and d.ndim:
        i = np.squeeze(i, dm)
    return _wrap(as_array(i).astype(np.int64, copy=False))
