"""Reductions: sum and mean over all elements or chosen dims."""

from __future__ import annotations

import builtins

import numpy as np

from ..autograd.node import Op
from ..dtypes import as_dtype
from ..tensor import Tensor, _wrap, _wrap_dim
from ._apply import record_unary
from .dual import embed, expand, sign, unsqueeze, where

_new = object.__new__


def _dims(dim, ndim: int, op: str) -> tuple | None:
    """Normalise ``dim`` (None, an int, or a sequence) to a sorted tuple of non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return None  # NOTE: PyTorch treats dim=() / [] as a full reduction
        ds = tuple(_wrap_dim(int(d), ndim, op) for d in dim)
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"dim {ds[0]} appears multiple times in the list of dims")
    else:
        ds = (_wrap_dim(int(dim), ndim, op),)
    if ndim == 0:
        return ()
    return tuple(sorted(ds))


def _expand_back(grad, in_shape: tuple, dims: tuple | None, keepdim: bool):
    """Broadcast a reduction's gradient back over the reduced dims (a view, no copy)."""
    if dims is not None and not keepdim and dims:
        shape = list(in_shape)
        for d in dims:
            shape[d] = 1
        grad = grad.reshape(tuple(shape))
    return expand(grad, in_shape)


class Sum(Op):
    name_ = "SumBackward0"
    formula = {"x": "expand_back(grad, in_shape, dims, keepdim)"}
    save_inputs = False
    __slots__ = ("dims", "keepdim", "in_shape", "dtype")

    def forward(self, x):
        ax = self.dims
        out = x.sum(axis=ax, keepdims=self.keepdim, dtype=self.dtype)
        return out

    def backward(self, grad):
        return _expand_back(grad, self.in_shape, self.dims, self.keepdim)


class SumDim(Sum):
    name_ = "SumBackward1"
    __slots__ = ()


class Mean(Op):
    name_ = "MeanBackward0"
    formula = {"x": "expand_back(grad / n, in_shape, dims, keepdim)"}
    save_inputs = False
    __slots__ = ("dims", "keepdim", "in_shape", "n")

    def forward(self, x):
        with np.errstate(invalid="ignore", divide="ignore"):
            return x.mean(axis=self.dims, keepdims=self.keepdim)

    def backward(self, grad):
        return _expand_back(grad / self.n, self.in_shape, self.dims, self.keepdim)


class MeanDim(Mean):
    name_ = "MeanBackward1"
    __slots__ = ()


def _sum_dtype(x: Tensor, dtype):
    if dtype is not None:
        return as_dtype(dtype).np
    if x._data.dtype.kind in "biu":
        return np.int64  # NOTE: PyTorch sums bool/integer tensors as int64
    return None


def sum(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A001
    """Sum of elements over all dims or the given ones.

    >>> import leafgrad
    >>> sum(leafgrad.ones(2, 3), 1)
    tensor([3., 3.])
    """
    d = x._data
    dims = _dims(dim, d.ndim, "sum")
    fn = _new(SumDim if dim is not None else Sum)
    fn.dims = dims
    fn.keepdim = keepdim
    fn.in_shape = d.shape
    fn.dtype = _sum_dtype(x, dtype)
    if dtype is not None and x._rg and as_dtype(dtype).np != d.dtype:
        x = x.to(as_dtype(dtype))
        fn.dtype = None
    return record_unary(fn, x, fn.forward(x._data))


def mean(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Mean over all dims or the given ones (floating dtypes only, as in PyTorch).

    >>> import leafgrad
    >>> mean(leafgrad.tensor([[1., 2.], [3., 4.]]), 0)
    tensor([2., 3.])
    """
    if dtype is not None:
        x = x.to(as_dtype(dtype))
    d = x._data
    if d.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {x.dtype.name.capitalize()}\nWhy: the mean of integers is "
            "generally fractional; convert first, e.g. x.float().mean(), or pass dtype=."
        )
    dims = _dims(dim, d.ndim, "mean")
    fn = _new(MeanDim if dim is not None else Mean)
    fn.dims = dims
    fn.keepdim = keepdim
    fn.in_shape = d.shape
    if dims is None:
        n = d.size
    else:
        n = 1
        for k in dims:
            n *= d.shape[k]
    fn.n = n
    out = fn.forward(d)
    return record_unary(fn, x, out)



# ================================================================================================
# The rest of the reductions. Backward formulas use operators, leafgrad.ops.dual and the dual
# helpers below (each works on raw arrays in a plain backward and on Tensors with create_graph).
# ================================================================================================


def _raw(x):
    """The raw array of a Tensor (constants derived from saved values: masks, counts)."""
    return x._data if isinstance(x, Tensor) else x


def _exp(x):
    """Elementwise e**x (dual)."""
    return x.exp() if isinstance(x, Tensor) else np.exp(x)


def _dsum(x, dims, keepdim: bool = False):
    """Sum over ``dims`` (dual)."""
    if isinstance(x, Tensor):
        return sum(x, dims, keepdim)
    return x.sum(axis=dims, keepdims=keepdim)


def _dcumsum(x, dim: int):
    """Cumulative sum along ``dim`` (dual)."""
    return cumsum(x, dim) if isinstance(x, Tensor) else np.cumsum(x, axis=dim)


def _dcumprod(x, dim: int):
    """Cumulative product along ``dim`` (dual)."""
    return cumprod(x, dim) if isinstance(x, Tensor) else np.cumprod(x, axis=dim)


def _rev_cumsum(x, dim: int):
    """Sum from each position to the end along ``dim`` (dual)."""
    if isinstance(x, Tensor):
        return expand(_dsum(x, (dim,), True), x._data.shape) - _dcumsum(x, dim) + x
    return np.flip(np.cumsum(np.flip(x, dim), axis=dim), dim)


def _keep(a, in_shape: tuple, dims, keepdim: bool):
    """A reduced array in keepdim form (size 1 on the reduced dims)."""
    if keepdim:
        return a
    shape = [1 if (dims is None or k in dims) else s for k, s in enumerate(in_shape)]
    return a.reshape(tuple(shape))


def _float_np(x: Tensor):
    return x._data if x._data.dtype.kind == "f" else x._data.astype(np.float32)


def _nelem(shape: tuple, dims) -> int:
    n = 1
    for k, s in enumerate(shape):
        if dims is None or k in dims:
            n *= s
    return n


def _setup(fn, x: Tensor, dim, keepdim: bool, op: str):
    d = x._data
    fn.dims = _dims(dim, d.ndim, op)
    fn.keepdim = keepdim
    fn.in_shape = d.shape
    return d


def _empty_check(d, dims, op: str) -> None:
    """PyTorch's errors for a max/min-like reduction over nothing (no identity element)."""
    if d.size != 0:
        return
    why = ("\nWhy: a max/min of nothing is undefined; use a non-empty tensor or reduce over a "
           "dim of non-zero size.")
    if op == "aminmax":
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity" + why)
    if dims is None:
        # NOTE: PyTorch raises RuntimeError here, but IndexError for argmax/argmin
        cls = IndexError if op.startswith("arg") else RuntimeError
        raise cls(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                  "Specify the reduction dim with the 'dim' argument." + why)
    bad = [k for k in dims if d.shape[k] == 0]
    if bad:
        raise IndexError(f"{op}(): Expected reduction dim {bad[0]} to have non-zero size." + why)


# -- nansum ----------------------------------------------------------------------------------------
class Nansum(Op):
    name_ = "NansumBackward0"
    formula = {"x": "where(isnan(x), 0.0, expand_back(grad, in_shape, dims, keepdim))"}
    __slots__ = ("dims", "keepdim", "in_shape", "dtype")

    def forward(self, x):
        return np.nansum(x, axis=self.dims, keepdims=self.keepdim, dtype=self.dtype)

    def backward(self, grad):
        (x,) = self.saved(grad)
        g = _expand_back(grad, self.in_shape, self.dims, self.keepdim)
        return where(np.isnan(_raw(x)), 0.0, g)


def nansum(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Sum treating NaN as zero.

    >>> import leafgrad
    >>> nansum(leafgrad.tensor([1., float('nan'), 2.]))
    tensor(3.)
    """
    if dtype is not None:
        x = x.to(as_dtype(dtype))
    fn = _new(Nansum)
    d = _setup(fn, x, dim, keepdim, "nansum")
    fn.dtype = _sum_dtype(x, None)
    return record_unary(fn, x, np.asarray(fn.forward(d)))


def nanmean(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Mean of the non-NaN elements (``nansum / count``, as PyTorch composes it).

    >>> import leafgrad
    >>> nanmean(leafgrad.tensor([1., float('nan'), 2.]))
    tensor(1.5000)
    """
    if dtype is not None:
        x = x.to(as_dtype(dtype))
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"nanmean(): expected input to have floating point or complex dtype but got "
            f"{x.dtype.name.capitalize()}\nWhy: the mean of integers is generally fractional; "
            "convert first (x.float())."
        )
    d = x._data
    dims = _dims(dim, d.ndim, "nanmean")
    cnt = (~np.isnan(d)).sum(axis=dims, keepdims=keepdim)
    return nansum(x, dim, keepdim) / _wrap(np.asarray(cnt, dtype=d.dtype))


# -- prod ------------------------------------------------------------------------------------------
class Prod(Op):
    name_ = "ProdBackward0"
    formula = {"x": "expand_back(grad, in_shape, dims, keepdim) * "
                    "prod_others(x, out, dims, keepdim)"}
    save_output = True
    __slots__ = ("dims", "keepdim", "in_shape", "dtype")

    def forward(self, x):
        return np.asarray(x.prod(axis=self.dims, keepdims=self.keepdim, dtype=self.dtype))

    def backward(self, grad):
        (x,) = self.saved(grad)
        out = self.result(grad)
        g = _expand_back(grad, self.in_shape, self.dims, self.keepdim)
        return g * _prod_others(x, out, self.dims, self.keepdim)


class ProdDim(Prod):
    name_ = "ProdBackward1"
    __slots__ = ()


def _prod_others(x, out, dims, keepdim: bool):
    """For each element, the product of the other elements of its reduced slice (dual).

    NOTE: as PyTorch's prod_backward, exact with zeros: one zero in a slice gets the product of
    the rest, and with two or more zeros every element gets 0 (no division by zero).
    """
    xr = _raw(x)
    shape = xr.shape
    outk = expand(_keep(out, shape, dims, keepdim), shape)
    zero = xr == 0
    if not zero.any():
        return outk / x
    nz = zero.sum(axis=dims, keepdims=True)
    nonzero_prod = _dprod(where(zero, 1.0, x) if isinstance(x, Tensor) else np.where(zero, 1, x),
                          dims)
    safe = where(zero, 1.0, x) if isinstance(x, Tensor) else np.where(zero, 1, x)
    at_zero = expand(nonzero_prod, shape) * np.broadcast_to(nz == 1, shape)
    return where(zero, at_zero, outk / safe)


def _dprod(x, dims):
    """Product over ``dims`` keeping them (dual)."""
    if isinstance(x, Tensor):
        return prod(x, dims, True) if dims is None or len(dims) <= 1 else _wrap_prod(x, dims)
    return x.prod(axis=dims, keepdims=True)


def _wrap_prod(x, dims):
    for d in dims:
        x = prod(x, d, True)
    return x


def prod(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Product of elements over all dims or one dim.

    >>> import leafgrad
    >>> prod(leafgrad.tensor([[1., 2.], [3., 4.]]), 1)
    tensor([ 2., 12.])
    """
    if dtype is not None:
        x = x.to(as_dtype(dtype))
    fn = _new(ProdDim if dim is not None else Prod)
    d = _setup(fn, x, dim, keepdim, "prod")
    if dim is None:
        fn.keepdim = False
    fn.dtype = _sum_dtype(x, None)
    return record_unary(fn, x, fn.forward(d))


# -- max / min / amax / amin / aminmax -------------------------------------------------------------
def _even_back(grad, x, out, dims, keepdim: bool, in_shape: tuple):
    """Spread ``grad`` evenly over the elements equal to the reduced value (ties share it).

    NOTE: PyTorch's evenly_distribute_backward / amax backward: ties split the gradient.
    """
    xr = _raw(x)
    outk = _keep(_raw(out), in_shape, dims, keepdim)
    mask = (xr == outk) | (np.isnan(xr) & np.isnan(outk))
    count = mask.sum(axis=dims, keepdims=True).astype(xr.dtype)
    if not keepdim:
        count = count.reshape(np.shape(_raw(grad)))
    g = _expand_back(grad / count, in_shape, dims, keepdim)
    return where(mask, g, 0.0)


class MaxAll(Op):
    name_ = "MaxBackward1"
    formula = {"x": "even_back(grad, x, out, None, False, tuple(x.shape))"}
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return np.asarray(x.max())

    def backward(self, grad):
        (x,) = self.saved(grad)
        return _even_back(grad, x, self.result(grad), None, False, _raw(x).shape)


class MinAll(MaxAll):
    name_ = "MinBackward1"
    __slots__ = ()

    def forward(self, x):
        return np.asarray(x.min())


class Amax(Op):
    name_ = "AmaxBackward0"
    formula = {"x": "even_back(grad, x, out, dims, keepdim, in_shape)"}
    save_output = True
    __slots__ = ("dims", "keepdim", "in_shape")

    def forward(self, x):
        return np.asarray(x.max(axis=self.dims, keepdims=self.keepdim))

    def backward(self, grad):
        (x,) = self.saved(grad)
        return _even_back(grad, x, self.result(grad), self.dims, self.keepdim, self.in_shape)


class Amin(Amax):
    name_ = "AminBackward0"
    __slots__ = ()

    def forward(self, x):
        return np.asarray(x.min(axis=self.dims, keepdims=self.keepdim))


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
    out = []
    for k in range(nd):
        if k == dim:
            out.append(idx)
        else:
            shp = [1] * nd
            shp[k] = idx.shape[k]
            out.append(np.arange(idx.shape[k]).reshape(shp))
    return tuple(out)


def _select_back(grad, idx, dim: int, keepdim: bool, in_shape: tuple, accumulate: bool = False):
    """Zeros of ``in_shape`` with ``grad`` written at ``idx`` along ``dim`` (dual).

    NOTE: PyTorch's value_selecting_reduction_backward: only the returned index gets gradient.
    """
    if len(in_shape) == 0:
        return grad
    if not keepdim:
        grad = unsqueeze(grad, dim)
        idx = np.expand_dims(idx, dim)
    return embed(grad, in_shape, _index_tuple(idx, dim), accumulate)


class MaxDim(_IndexSelectBack, Op):
    name_ = "MaxBackward0"
    formula = {"x": "select_back(grad, index, dim, keepdim, in_shape)"}
    save_inputs = False
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
    fn.index = idx
    v = record_unary(fn, x, np.asarray(values))
    return rtype(v, _wrap(np.asarray(idx, dtype=np.int64)))


def _argext(d, dim: int, which: str):
    """Keepdim-shaped index and value of the max/min along ``dim`` (NaN wins, as PyTorch)."""
    if d.ndim == 0:
        return d, np.zeros((), np.int64)
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
    dm = _wrap_dim(int(dim), d.ndim, which)
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
    formula = {"x": "even_back(grad_min, x, min, dims, keepdim, in_shape) + "
                    "even_back(grad_max, x, max, dims, keepdim, in_shape)"}
    _nout = 2
    __slots__ = ("dims", "keepdim", "in_shape", "outs")

    def forward(self, x):  # noqa: D102
        return (np.asarray(x.min(axis=self.dims, keepdims=self.keepdim)),
                np.asarray(x.max(axis=self.dims, keepdims=self.keepdim)))

    def backward(self, gmin, gmax):
        g0 = gmin if gmin is not None else gmax
        (x,) = self.saved(g0)
        mn, mx = _outs(self, g0)
        r = None
        if gmin is not None:
            r = _even_back(gmin, x, mn, self.dims, self.keepdim, self.in_shape)
        if gmax is not None:
            b = _even_back(gmax, x, mx, self.dims, self.keepdim, self.in_shape)
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
        return _wrap(np.asarray(i, dtype=np.int64))
    dm = _wrap_dim(int(dim), d.ndim, op)
    _empty_check(d, (dm,) if d.ndim else (), op)
    _, i = _argext(d, dm, which)
    if not keepdim and d.ndim:
        i = np.squeeze(i, dm)
    return _wrap(np.asarray(i, dtype=np.int64))


# -- var / std -------------------------------------------------------------------------------------
def _correction(unbiased, correction) -> float:
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


class Var(Op):
    name_ = "VarBackward0"
    formula = {"x": "expand_back(grad, in_shape, dims, keepdim) * ratio(2.0, n - correction) "
                    "* (x - x.mean(dims, True))"}
    __slots__ = ("dims", "keepdim", "in_shape", "correction", "n")

    def forward(self, x):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(x.var(axis=self.dims, keepdims=self.keepdim,
                                    ddof=self.correction))

    def _centered(self, x):
        if isinstance(x, Tensor):
            return x - mean(x, self.dims, True)
        return x - x.mean(axis=self.dims, keepdims=True)

    def backward(self, grad):
        (x,) = self.saved(grad)
        g = _expand_back(grad, self.in_shape, self.dims, self.keepdim)
        return g * _ratio(2.0, self.n - self.correction) * self._centered(x)


class Std(Var):
    name_ = "StdBackward0"
    formula = {"x": "expand_back(grad / out, in_shape, dims, keepdim) * "
                    "ratio(1.0, n - correction) * (x - x.mean(dims, True))"}
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return np.sqrt(Var.forward(self, x))

    def backward(self, grad):
        (x,) = self.saved(grad)
        out = self.result(grad)
        # NOTE: as PyTorch, std of one element (correction 1) is nan and so is its gradient
        g = _expand_back(grad / out, self.in_shape, self.dims, self.keepdim)
        return g * _ratio(1.0, self.n - self.correction) * self._centered(x)


def _ratio(a: float, b: float) -> float:
    """``a / b`` with IEEE results for ``b <= 0`` (inf, as PyTorch's var of too few elements)."""
    with np.errstate(divide="ignore"):
        return float(np.float64(a) / np.float64(builtins.max(b, 0)))


class VarMean(Var):
    name_ = "VarMeanBackward0"
    formula = {"x": "expand_back(grad_var, in_shape, dims, keepdim) * "
                    "ratio(2.0, n - correction) * (x - x.mean(dims, True)) + "
                    "expand_back(grad_mean / n, in_shape, dims, keepdim)"}
    _nout = 2
    __slots__ = ("outs",)

    def forward(self, x):
        return (Var.forward(self, x), np.asarray(x.mean(axis=self.dims, keepdims=self.keepdim)))

    def backward(self, gv, gm):
        r = None
        if gv is not None:
            r = self._first(gv)
        if gm is not None:
            b = _expand_back(gm / self.n, self.in_shape, self.dims, self.keepdim)
            r = b if r is None else r + b
        return r

    def _first(self, g):
        return Var.backward(self, g)


class StdMean(VarMean):
    name_ = "StdMeanBackward0"
    __slots__ = ()

    def forward(self, x):
        v, m = VarMean.forward(self, x)
        return np.sqrt(v), m

    def _first(self, g):
        (x,) = self.saved(g)
        out = _outs(self, g)[0]
        ge = _expand_back(g / out, self.in_shape, self.dims, self.keepdim)
        return ge * _ratio(1.0, self.n - self.correction) * self._centered(x)


def _var_args(args: tuple, dim, unbiased, keepdim):
    """Accept var(x, dim, unbiased, keepdim), var(x, unbiased) and keywords, as PyTorch."""
    args = list(args)
    if args and isinstance(args[0], bool):
        unbiased = args.pop(0)
    elif args:
        dim = args.pop(0)
    if args:
        unbiased = args.pop(0)
    if args:
        keepdim = args.pop(0)
    return dim, unbiased, keepdim


def var(x: Tensor, *args, dim=None, unbiased=None, keepdim: bool = False, correction=None,
        _cls=None):
    """Variance over all dims or ``dim`` (``correction=1``: Bessel's, as PyTorch's default).

    >>> import leafgrad
    >>> var(leafgrad.tensor([1., 2., 3., 4.]))
    tensor(1.6667)
    """
    dim, unbiased, keepdim = _var_args(args, dim, unbiased, keepdim)
    cls = _cls or Var
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"{cls.__qualname__.lower()}(): input dtype should be either floating point or "
            f"complex dtypes. Got {x.dtype.name.capitalize()} instead.\nWhy: convert first "
            "(x.float())."
        )
    fn = _new(cls)
    d = _setup(fn, x, dim, keepdim, "var")
    fn.correction = _correction(unbiased, correction)
    fn.n = _nelem(d.shape, fn.dims)
    out = fn.forward(d)
    if cls._nout == 2:
        return tuple(record_multi(fn, (x,), out))
    return record_unary(fn, x, out)


def std(x: Tensor, *args, **kw) -> Tensor:
    """Standard deviation over all dims or ``dim`` (``correction=1`` by default).

    >>> import leafgrad
    >>> std(leafgrad.tensor([1., 2., 3., 4.]))
    tensor(1.2910)
    """
    return var(x, *args, _cls=Std, **kw)


def var_mean(x: Tensor, *args, **kw) -> tuple:
    """(variance, mean) in one pass.

    >>> import leafgrad
    >>> var_mean(leafgrad.tensor([1., 3.]))[1]
    tensor(2.)
    """
    return var(x, *args, _cls=VarMean, **kw)


def std_mean(x: Tensor, *args, **kw) -> tuple:
    """(standard deviation, mean) in one pass.

    >>> import leafgrad
    >>> std_mean(leafgrad.tensor([1., 3.]))[0]
    tensor(1.4142)
    """
    return var(x, *args, _cls=StdMean, **kw)


# -- vector norm -----------------------------------------------------------------------------------
class VectorNorm(Op):
    name_ = "LinalgVectorNormBackward0"
    formula = {"x": "norm_backward(grad, x, out, ord, dims, keepdim, in_shape)"}
    save_output = True
    __slots__ = ("dims", "keepdim", "in_shape", "ord")

    def forward(self, x):
        p, ax, kd = self.ord, self.dims, self.keepdim
        a = np.abs(x)
        if p == 2:
            return np.sqrt((a * a).sum(axis=ax, keepdims=kd))
        if p == np.inf:
            return a.max(axis=ax, keepdims=kd, initial=0) if a.size else np.zeros(
                np.sum(a, axis=ax, keepdims=kd).shape, a.dtype)
        if p == -np.inf:
            return a.min(axis=ax, keepdims=kd)
        if p == 0:
            return (a != 0).sum(axis=ax, keepdims=kd).astype(x.dtype)
        if p == 1:
            return a.sum(axis=ax, keepdims=kd)
        with np.errstate(divide="ignore"):
            return (a ** p).sum(axis=ax, keepdims=kd) ** (1.0 / p)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return _norm_backward(grad, x, self.result(grad), self.ord, self.dims, self.keepdim,
                              self.in_shape)


def _norm_backward(grad, x, out, p, dims, kd, shape):
    """Gradient of a vector p-norm (dual)."""
    xr = _raw(x)
    sgn = sign(x)
    if p == 0:
        return x * 0.0
    if p == 1:
        return _expand_back(grad, shape, dims, kd) * sgn
    if p in (np.inf, -np.inf):
        return _even_back(grad, x * sgn, out, dims, kd, shape) * sgn
    outk = expand(_keep(out, shape, dims, kd), shape)
    zero = expand(_keep(_raw(out), shape, dims, kd) == 0, shape)
    # NOTE: PyTorch's norm_backward: the gradient at a zero norm is 0, not nan
    safe = where(zero, 1.0, outk)
    g = _expand_back(grad, shape, dims, kd)
    if p == 2:
        return where(zero, 0.0, g * x / safe)
    absx = x * sgn
    if p < 1 and (xr == 0).any():
        absx = where(xr == 0, 1.0, absx)
    return where(zero, 0.0, g * sgn * absx ** (p - 1) / safe ** (p - 1))


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The ``ord``-norm of ``x`` viewed as a vector (or of each slice over ``dim``).

    >>> import leafgrad
    >>> vector_norm(leafgrad.tensor([3., 4.]))
    tensor(5.)
    """
    if dtype is not None:
        x = x.to(as_dtype(dtype))
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{x.dtype.name.capitalize()}\nWhy: norms are real-valued; convert first (x.float()).")
    fn = _new(VectorNorm)
    d = _setup(fn, x, dim, keepdim, "linalg.vector_norm")
    fn.ord = float(ord)
    if fn.ord < 0 and d.size == 0:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor "
                           "because the operation does not have an identity")
    return record_unary(fn, x, np.asarray(fn.forward(d)))


def norm(x: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """``torch.norm``: the Frobenius / ``p``-norm over all dims or ``dim``.

    >>> import leafgrad
    >>> norm(leafgrad.tensor([3., 4.]))
    tensor(5.)
    """
    if p == "fro" or p is None:
        p = 2
    elif p == "nuc":
        from . import linalg as _linalg

        return _linalg.matrix_norm(x, "nuc", dim if dim is not None else (-2, -1), keepdim)
    if isinstance(dim, int):
        dim = (dim,)
    return vector_norm(x, p, dim, keepdim, dtype=dtype)


# -- logsumexp -------------------------------------------------------------------------------------
class Logsumexp(Op):
    name_ = "LogsumexpBackward0"
    formula = {"x": "expand_back(grad, in_shape, dims, keepdim) * "
                    "(x - expand_back(out, in_shape, dims, keepdim)).exp()"}
    save_output = True
    __slots__ = ("dims", "keepdim", "in_shape")

    def forward(self, x):
        ax = self.dims
        if x.size == 0:
            return np.log(np.exp(x).sum(axis=ax, keepdims=self.keepdim))
        m = x.max(axis=ax, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # NOTE: -inf / inf slices as PyTorch (no nan)
        with np.errstate(divide="ignore"):
            s = np.log(np.exp(x - m).sum(axis=ax, keepdims=True)) + m
        return s if self.keepdim else s.reshape(
            tuple(n for k, n in enumerate(x.shape) if not (ax is None or k in ax)))

    def backward(self, grad):
        (x,) = self.saved(grad)
        out = self.result(grad)
        shape = self.in_shape
        return _expand_back(grad, shape, self.dims, self.keepdim) * _exp(
            x - expand(_keep(out, shape, self.dims, self.keepdim), shape))


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed stably.

    >>> import leafgrad
    >>> logsumexp(leafgrad.tensor([0., 0.]), 0)
    tensor(0.6931)
    """
    x = x if x._data.dtype.kind == "f" else x.to(_default_float())
    fn = _new(Logsumexp)
    d = _setup(fn, x, dim, keepdim, "logsumexp")
    return record_unary(fn, x, np.asarray(fn.forward(d)))


def _default_float():
    from ..dtypes import get_default_dtype

    return get_default_dtype()


# -- cumulative ------------------------------------------------------------------------------------
class Cumsum(Op):
    name_ = "CumsumBackward0"
    formula = {"x": "rev_cumsum(grad, dim)"}
    save_inputs = False
    __slots__ = ("dim", "dtype")

    def forward(self, x):
        return np.cumsum(x, axis=self.dim, dtype=self.dtype)

    def backward(self, grad):
        return _rev_cumsum(grad, self.dim) if _raw(grad).ndim else grad


def _scan_setup(x: Tensor, dim, op: str):
    d = x._data
    dm = _wrap_dim(int(dim), d.ndim, op)
    if d.ndim == 0:
        return d.reshape(1), 0
    return d, dm


def cumsum(x: Tensor, dim, *, dtype=None) -> Tensor:
    """Cumulative sum along ``dim`` (bool/int inputs give int64, as PyTorch).

    >>> import leafgrad
    >>> cumsum(leafgrad.tensor([1, 2, 3]), 0)
    tensor([1, 3, 6])
    """
    return _scan(Cumsum, x, dim, dtype, "cumsum")


def _scan(cls, x: Tensor, dim, dtype, op: str) -> Tensor:
    """Run a cumulative op (cumsum / cumprod) along ``dim``, with PyTorch's dtype rules."""
    if dtype is not None:
        x = x.to(as_dtype(dtype))
    d, dm = _scan_setup(x, dim, op)
    fn = _new(cls)
    fn.dim = dm
    fn.dtype = _sum_dtype(x, None)
    return record_unary(fn, x, fn.forward(d).reshape(x._data.shape))


class Cumprod(Op):
    name_ = "CumprodBackward0"
    formula = {"x": "cumprod_backward(grad, x, out, dim)"}
    save_output = True
    __slots__ = ("dim", "dtype")

    def forward(self, x):
        return np.cumprod(x, axis=self.dim, dtype=self.dtype)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return _cumprod_backward(grad, x, self.result(grad), self.dim)


def _cumprod_backward(grad, x, out, dim: int):
    """Gradient of cumprod along ``dim`` (dual)."""
    xr = _raw(x)
    if xr.ndim == 0:
        return grad
    zero = xr == 0
    if not zero.any():
        return _rev_cumsum(grad * out, dim) / x
    # NOTE: exact with zeros as PyTorch's cumprod_backward: before the first zero z of a
    # slice the quotient formula holds; at z the gradient is the sum of grad times the
    # products with x_z left out; after z it is 0.
    n = xr.shape[dim]
    pos = np.arange(n).reshape([n if k == dim else 1 for k in range(xr.ndim)])
    z = np.where(zero.any(axis=dim, keepdims=True), np.argmax(zero, axis=dim,
                                                              keepdims=True), n)
    before, at = pos < z, pos == z
    safe = where(before, x, 1.0) if isinstance(x, Tensor) else np.where(before, x, 1)
    a = _rev_cumsum(grad * out, dim) / safe
    x1 = where(at, 1.0, x) if isinstance(x, Tensor) else np.where(at, 1, x)
    b = _rev_cumsum(grad * _dcumprod(x1, dim), dim)
    return where(before, a, where(np.broadcast_to(at, xr.shape), b, 0.0))


def cumprod(x: Tensor, dim, *, dtype=None) -> Tensor:
    """Cumulative product along ``dim``.

    >>> import leafgrad
    >>> cumprod(leafgrad.tensor([1., 2., 3.]), 0)
    tensor([1., 2., 6.])
    """
    return _scan(Cumprod, x, dim, dtype, "cumprod")


class Cummax(MaxDim):
    name_ = "CummaxBackward0"
    formula = {"x": "select_back(grad, index, dim, True, in_shape, True)"}
    __slots__ = ()

    def backward(self, grad):
        return _select_back(grad, self.index, self.dim, True, self.in_shape, accumulate=True)


class Cummin(Cummax):
    name_ = "CumminBackward0"
    __slots__ = ()


def cummax(x: Tensor, dim, _which: str = "max"):
    """Running maximum along ``dim`` and the index where it was reached.

    >>> import leafgrad
    >>> cummax(leafgrad.tensor([1., 3., 2.]), 0).values
    tensor([1., 3., 3.])
    """
    d, dm = _scan_setup(x, dim, "cum" + _which)
    acc = np.maximum if _which == "max" else np.minimum
    vals = acc.accumulate(d, axis=dm) if d.size else d.copy()
    n = d.shape[dm] if d.ndim else 1
    pos = np.arange(n).reshape([n if k == dm else 1 for k in range(d.ndim)])
    hit = (d == vals)
    if d.dtype.kind == "f":
        hit |= np.isnan(d)
    # NOTE: PyTorch's cummax/cummin index moves to the latest position that equals the running
    # extreme (ties take the later index)
    idx = np.maximum.accumulate(np.where(hit, pos, 0), axis=dm) if d.size else \
        np.zeros(d.shape, np.int64)
    shape = x._data.shape
    fn = _new(Cummax if _which == "max" else Cummin)
    fn.dim = dm
    fn.keepdim = True
    fn.in_shape = d.shape
    fn.index = idx
    v = record_unary(fn, x, vals.reshape(shape))
    return return_type("cum" + _which)(v, _wrap(idx.astype(np.int64).reshape(shape)))


def cummin(x: Tensor, dim):
    """Running minimum along ``dim`` and the index where it was reached.

    >>> import leafgrad
    >>> cummin(leafgrad.tensor([3., 1., 2.]), 0).values
    tensor([3., 1., 1.])
    """
    return cummax(x, dim, "min")


class Logcumsumexp(Op):
    name_ = "LogcumsumexpBackward0"
    formula = {"x": "logcumsumexp_backward(grad, x, out, dim)"}
    save_output = True
    __slots__ = ("dim",)

    def forward(self, x):
        if x.size == 0:
            return x.copy()
        m = x.max(axis=self.dim, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore", over="ignore"):
            return np.log(np.cumsum(np.exp(x - m), axis=self.dim)) + m

    def backward(self, grad):
        (x,) = self.saved(grad)
        return _logcumsumexp_backward(grad, x, self.result(grad), self.dim)


def _logcumsumexp_backward(grad, x, out, dim: int):
    """Gradient of logcumsumexp along ``dim`` (dual)."""
    if _raw(x).ndim == 0:
        return grad
    # shifted by the slice max so that exp neither overflows nor underflows needlessly
    m = _raw(x).max(axis=dim, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    return _rev_cumsum(grad * _exp(m - out), dim) * _exp(x - m)


def logcumsumexp(x: Tensor, dim) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``dim``, computed stably.

    >>> import leafgrad
    >>> logcumsumexp(leafgrad.tensor([0., 0.]), 0)
    tensor([0.0000, 0.6931])
    """
    x = x if x._data.dtype.kind == "f" else x.to(_default_float())
    d, dm = _scan_setup(x, dim, "logcumsumexp")
    fn = _new(Logcumsumexp)
    fn.dim = dm
    return record_unary(fn, x, fn.forward(d).reshape(x._data.shape))


# -- all / any / count_nonzero ---------------------------------------------------------------------
def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element (over ``dim``) is non-zero.

    >>> import leafgrad
    >>> all(leafgrad.tensor([1, 0]))
    tensor(False)
    """
    d = x._data
    dims = _dims(dim, d.ndim, "all")
    out = np.asarray(np.all(d, axis=dims, keepdims=keepdim))
    # NOTE: PyTorch keeps uint8 for uint8 inputs, bool otherwise
    return _wrap(out.astype(np.uint8) if d.dtype == np.uint8 else out)


def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element (over ``dim``) is non-zero.

    >>> import leafgrad
    >>> any(leafgrad.tensor([1, 0]))
    tensor(True)
    """
    d = x._data
    dims = _dims(dim, d.ndim, "any")
    out = np.asarray(np.any(d, axis=dims, keepdims=keepdim))
    return _wrap(out.astype(np.uint8) if d.dtype == np.uint8 else out)


def count_nonzero(x: Tensor, dim=None) -> Tensor:
    """Number of non-zero elements (over ``dim``), as int64.

    >>> import leafgrad
    >>> count_nonzero(leafgrad.tensor([1, 0, 2]))
    tensor(2)
    """
    d = x._data
    dims = _dims(dim, d.ndim, "count_nonzero")
    return _wrap(np.asarray(np.count_nonzero(d, axis=dims), dtype=np.int64))


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
    if ignore_nan:
        cnt = (~np.isnan(d)).sum(axis=dim, keepdims=True) if d.dtype.kind == "f" else \
            np.full_like(np.take(order, [0], dim), n)
        k = np.where(cnt > 0, (cnt - 1) // 2, 0)
    else:
        k = np.full(np.take(order, [0], dim).shape, (n - 1) // 2)
        if d.dtype.kind == "f":
            has_nan = np.isnan(d).any(axis=dim, keepdims=True)
            first_nan = (n - np.isnan(d).sum(axis=dim, keepdims=True))
            k = np.where(has_nan, first_nan, k)
    idx = np.take_along_axis(order, k, dim)
    return np.take_along_axis(d, idx, dim), idx


def median(x: Tensor, dim=None, keepdim: bool = False, _nan: bool = False):
    """Lower median of all elements, or (values, indices) along ``dim``.

    >>> import leafgrad
    >>> median(leafgrad.tensor([3., 1., 2., 4.]))
    tensor(2.)
    """
    d = x._data
    op = "nanmedian" if _nan else "median"
    if dim is None:
        if d.size == 0:
            return _wrap(np.asarray(np.nan, dtype=d.dtype))
        v, _ = _median_along(d.reshape(-1), 0, _nan)
        return record_unary(_new(Nanmedian if _nan else Median), x, v.reshape(()))
    dm = _wrap_dim(int(dim), d.ndim, op)
    if d.ndim == 0:
        v, i = d, np.zeros((), np.int64)
    else:
        _empty_check(d, (dm,), op)
        v, i = _median_along(d, dm, _nan)
    return _values_indices(NanmedianDim if _nan else MedianDim, x, dm, keepdim, v, i,
                           return_type(op))


def nanmedian(x: Tensor, dim=None, keepdim: bool = False):
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
    dm = _wrap_dim(int(dim), d.ndim, "mode")
    if d.ndim == 0:
        return _values_indices(Mode, x, 0, keepdim, d, np.zeros((), np.int64), return_type("mode"))
    _empty_check(d, (dm,), "mode")
    a = np.moveaxis(d, dm, -1)
    order = np.argsort(a, axis=-1, kind="stable")
    s = np.take_along_axis(a, order, -1)
    n = s.shape[-1]
    pos = np.arange(n)
    new = np.ones(s.shape, bool)
    new[..., 1:] = s[..., 1:] != s[..., :-1]
    start = np.maximum.accumulate(np.where(new, pos, 0), axis=-1)
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
    __slots__ = ("in_shape", "lo", "hi", "w", "dim", "out_shape")

    def forward(self, x):
        return x

    def backward(self, grad):
        g = grad.reshape(self.out_shape)  # (Q, ..., 1) along the moved-last reduced axis
        w = self.w
        a = embed(g * (1.0 - w), self.in_shape, self.lo, True)
        b = embed(g * w, self.in_shape, self.hi, True)
        return a + b


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
    qd = q._data if isinstance(q, Tensor) else np.asarray(q, dtype=d.dtype)
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
        dm = _wrap_dim(int(dim), d.ndim, op)
        a = np.moveaxis(d.reshape(d.shape or (1,)), dm if d.ndim else 0, -1)
        a = a.reshape(a.shape)
    if a.shape[-1] == 0:
        raise IndexError(f"{op}() input tensor must be non-empty")
    n = a.shape[-1]
    order = np.argsort(a, axis=-1, kind="stable")
    s = np.take_along_axis(a, order, -1)
    nan = np.isnan(a)
    cnt = (n - nan.sum(axis=-1, keepdims=True)) if _nan else np.full(a.shape[:-1] + (1,), n)
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
            parts.append(np.arange(other[j]).reshape(shp))
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


# -- diff / trapezoid ------------------------------------------------------------------------------
def _concat(parts: list, dim: int) -> Tensor:
    """Differentiable concatenation along ``dim`` built from Embed (no cat dependency)."""
    shape = list(parts[0]._data.shape)
    shape[dim] = builtins.sum(p._data.shape[dim] for p in parts)
    out = None
    start = 0
    for p in parts:
        n = p._data.shape[dim]
        idx = tuple(slice(start, start + n) if k == dim else slice(None)
                    for k in range(len(shape)))
        e = _embed_t(p, tuple(shape), idx)
        out = e if out is None else out + e
        start += n
    return out


def _embed_t(p: Tensor, shape: tuple, idx) -> Tensor:
    from .movement import _embed

    if p._rg:
        return _embed(p, shape, idx)
    z = np.zeros(shape, p._data.dtype)
    z[idx] = p._data
    return _wrap(z)


def diff(x: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """n-th forward difference along ``dim`` (``x[1:] - x[:-1]``).

    >>> import leafgrad
    >>> diff(leafgrad.tensor([1, 4, 9]))
    tensor([3, 5])
    """
    d = x._data
    if d.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    dm = _wrap_dim(int(dim), d.ndim, "diff")
    if prepend is not None or append is not None:
        parts = ([prepend_t(prepend, x, dm)] if prepend is not None else []) + [x] + (
            [prepend_t(append, x, dm)] if append is not None else [])
        x = _concat(parts, dm)
    for _ in range(n):
        m = x._data.shape[dm]
        if m == 0:
            break
        hi = tuple(slice(1, None) if k == dm else slice(None) for k in range(x._data.ndim))
        lo = tuple(slice(None, -1) if k == dm else slice(None) for k in range(x._data.ndim))
        if x._data.dtype == np.bool_:
            x = _wrap(x._data[hi] ^ x._data[lo])
        else:
            x = x[hi] - x[lo]
    return x


def prepend_t(e, x: Tensor, dm: int) -> Tensor:
    """``prepend``/``append`` as a tensor shaped to concatenate with ``x`` along ``dm``."""
    d = x._data
    e = e if isinstance(e, Tensor) else _wrap(np.asarray(e, d.dtype))
    if e._data.ndim == 0:
        shp = list(d.shape)
        shp[dm] = 1
        e = e.expand(tuple(shp))
    return e


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Integral of ``y`` along ``dim`` by the trapezoidal rule (spacing ``dx`` or points ``x``).

    >>> import leafgrad
    >>> trapezoid(leafgrad.tensor([1., 2., 3.]))
    tensor(4.)
    """
    d = y._data
    dm = _wrap_dim(int(dim), d.ndim, "trapezoid")
    n = d.shape[dm] if d.ndim else 0
    if n == 0:
        return y.sum(dm) * 0 if d.ndim else _wrap(np.zeros((), d.dtype))
    nd = d.ndim
    hi = tuple(slice(1, None) if k == dm else slice(None) for k in range(nd))
    lo = tuple(slice(None, -1) if k == dm else slice(None) for k in range(nd))
    pair = y[hi] + y[lo]
    if x is not None and isinstance(x, Tensor):
        xd = x._data
        if xd.ndim == 1:
            shp = [1] * nd
            shp[dm] = xd.shape[0]
            x = x.reshape(tuple(shp))
            xhi, xlo = hi, lo
        else:
            xdm = _wrap_dim(int(dim), xd.ndim, "trapezoid")
            xhi = tuple(slice(1, None) if k == xdm else slice(None) for k in range(xd.ndim))
            xlo = tuple(slice(None, -1) if k == xdm else slice(None) for k in range(xd.ndim))
        return ((x[xhi] - x[xlo]) * pair).sum(dm) / 2
    spacing = 1 if dx is None else (dx if x is None else x)
    return pair.sum(dm) * (spacing / 2)


# -- named-tuple returns and multi-output recording ------------------------------------------------
_FIELDS = {
    "max": ("values", "indices"), "min": ("values", "indices"),
    "median": ("values", "indices"), "nanmedian": ("values", "indices"),
    "mode": ("values", "indices"), "cummax": ("values", "indices"),
    "cummin": ("values", "indices"), "aminmax": ("min", "max"),
    "linalg_slogdet": ("sign", "logabsdet"), "slogdet": ("sign", "logabsdet"),
    "linalg_qr": ("Q", "R"), "linalg_svd": ("U", "S", "Vh"),
    "linalg_eigh": ("eigenvalues", "eigenvectors"),
    "linalg_lstsq": ("solution", "residuals", "rank", "singular_values"),
    "triangular_solve": ("solution", "cloned_coefficient"),
    "linalg_cholesky_ex": ("L", "info"), "linalg_inv_ex": ("inverse", "info"),
}
_TYPES: dict = {}


def return_type(name: str):
    """The named-tuple class PyTorch returns as ``torch.return_types.<name>``."""
    cls = _TYPES.get(name)
    if cls is None:
        import collections

        base = collections.namedtuple(name, _FIELDS[name])

        def __repr__(self) -> str:  # noqa: N807
            body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
            return f"torch.return_types.{name}(\n{body})"

        cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                                   "__module__": "torch.return_types"})
        _TYPES[name] = cls
    return cls


def record_multi(fn, inputs: tuple, outs: tuple) -> list:
    """Record an op with several differentiable outputs (``fn._nout``); raw outputs are kept
    in ``fn.outs`` for backward (read with ``_outs``)."""
    from ._apply import record

    t0 = record(fn, inputs, outs[0])
    ts = [t0]
    for k, o in enumerate(outs[1:], 1):
        t = _wrap(np.asarray(o))
        if t0.grad_fn is fn:
            t._rg = True
            t.grad_fn = fn
            t._out_nr = k
        ts.append(t)
    if t0.grad_fn is fn:
        fn.outs = tuple(t._data for t in ts)
    return ts


def _outs(fn, grad) -> tuple:
    """The saved outputs of a multi-output op in ``grad``'s form (Tensors linked to ``fn`` when
    building a graph, so their use in the formula is differentiated too)."""
    if fn.outs is None:
        from ..autograd.node import FREED_MSG

        raise RuntimeError(FREED_MSG.format(name=fn.name()))
    if not isinstance(grad, Tensor):
        return fn.outs
    from ..autograd.grad_mode import state

    res = []
    for k, o in enumerate(fn.outs):
        t = _wrap(o)
        if state.enabled:
            t._rg = True
            t.grad_fn = fn
            t._out_nr = k
        res.append(t)
    return tuple(res)



def _isnan(x):
    return np.isnan(_raw(x))


# Helpers the op formulas above call (added to leafgrad.autograd.formula's namespace).
FORMULA_HELPERS = {
    "isnan": _isnan, "prod_others": _prod_others, "even_back": _even_back,
    "select_back": _select_back, "ratio": _ratio, "norm_backward": _norm_backward,
    "rev_cumsum": _rev_cumsum, "cumprod_backward": _cumprod_backward,
    "logcumsumexp_backward": _logcumsumexp_backward,
}
