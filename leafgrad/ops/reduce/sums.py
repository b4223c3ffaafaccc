"""Sums, means and products (sum, mean, nansum, nanmean, prod, all, any, count_nonzero) and
the helpers every reduction uses."""

from __future__ import annotations

import numpy as np

from ...autograd.node import Op
from ...backend import array_module, as_array
from ...backend import mean as _mean
from ...dtypes import as_dtype
from ...tensor import Tensor, _wrap, _wrap_dim
from .. import dual
from .._apply import record_unary

_new = object.__new__


def _dims(dim, ndim: int, op: str) -> tuple | None:
    """Normalise ``dim`` (None, an int, or a sequence) to a sorted tuple of non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return None  # NOTE: PyTorch treats dim=() / [] as a full reduction
        ds = tuple(_wrap_dim(d, ndim, op) for d in dim)
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"dim {ds[0]} appears multiple times in the list of dims")
    else:
        ds = (_wrap_dim(dim, ndim, op),)
    if ndim == 0:
        return ()
    return tuple(sorted(ds))


class Sum(Op):
    name_ = "SumBackward0"
    forward_text = "{x}.sum()"
    scalar = ("sum",)
    formula = {"x": "expand_back(grad, in_shape, dims, keepdim)"}
    save_inputs = False
    __slots__ = ("dims", "keepdim", "in_shape", "dtype")

    def forward(self, x):
        ax = self.dims
        out = x.sum(axis=ax, keepdims=self.keepdim, dtype=self.dtype)
        return out

    def backward(self, grad):
        return dual.expand_back(grad, self.in_shape, self.dims, self.keepdim)


class SumDim(Sum):
    name_ = "SumBackward1"
    scalar = None
    __slots__ = ()

    def _narrate_forward(self, s) -> str:
        return _dim_call(self, s["x"], "sum")


class Mean(Op):
    name_ = "MeanBackward0"
    forward_text = "{x}.mean()"
    scalar = ("mean",)
    formula = {"x": "expand_back(grad, in_shape, dims, keepdim) / n"}
    save_inputs = False
    __slots__ = ("dims", "keepdim", "in_shape", "n")

    def forward(self, x):
        with np.errstate(invalid="ignore", divide="ignore"):
            return _mean(x, axis=self.dims, keepdims=self.keepdim)

    def backward(self, grad):
        # NOTE: PyTorch's mean_backward: sum's gradient (a broadcast), then divided: a new,
        # contiguous array, as PyTorch's (a kernel that reads the layout, batch norm's
        # backward, then takes the same path); the same values as dividing first
        return dual.expand_back(grad, self.in_shape, self.dims, self.keepdim) / self.n


class MeanDim(Mean):
    name_ = "MeanBackward1"
    scalar = None
    __slots__ = ()

    def _narrate_forward(self, s) -> str:
        return _dim_call(self, s["x"], "mean")


def _dim_call(fn, x: str, method: str) -> str:
    """``x.sum(dim=1, keepdim=True)`` as explain writes a reduction over dims."""
    d = fn.dims
    dims = str(d[0]) if d is not None and len(d) == 1 else str(d)
    return f"{x}.{method}(dim={dims}" + (", keepdim=True)" if fn.keepdim else ")")


def _sum_dtype(x: Tensor, dtype):
    if dtype is not None:
        return as_dtype(dtype).np
    if x._data.dtype.kind in "biu":
        return np.int64  # NOTE: PyTorch sums bool/integer tensors as int64
    return None


def sum(x: Tensor, dim=None, keepdim: bool = False, dtype=None,  # noqa: A001
        by_dim: bool = False) -> Tensor:
    """Sum of elements over all dims or the given ones.

    >>> import leafgrad
    >>> sum(leafgrad.ones(2, 3), 1)
    tensor([3., 3.])
    """
    d = x._data
    dims = _dims(dim, d.ndim, "sum")
    # (by_dim: the dim overload was called, if with dim=None: PyTorch's SumBackward1)
    fn = _new(SumDim if dim is not None or by_dim else Sum)
    fn.dims = dims
    fn.keepdim = keepdim
    fn.in_shape = d.shape
    fn.dtype = _sum_dtype(x, dtype)
    if dtype is not None and x._rg and as_dtype(dtype).np != d.dtype:
        x = x.to(as_dtype(dtype))
        fn.dtype = None
    return record_unary(fn, x, fn.forward(x._data))


def mean(x: Tensor, dim=None, keepdim: bool = False, dtype=None, by_dim: bool = False) -> Tensor:
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
    fn = _new(MeanDim if dim is not None or by_dim else Mean)
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
        g = dual.expand_back(grad, self.in_shape, self.dims, self.keepdim)
        return dual.where(np.isnan(dual.raw(x)), 0.0, g)


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
    return record_unary(fn, x, as_array(fn.forward(d)))


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
    return nansum(x, dim, keepdim) / _wrap(as_array(cnt).astype(d.dtype, copy=False))


# -- prod ------------------------------------------------------------------------------------------
class Prod(Op):
    name_ = "ProdBackward0"
    formula = {"x": "prod_backward(expand_back(grad, in_shape, dims, keepdim), x, out, dims, "
                    "keepdim)"}
    save_output = True
    __slots__ = ("dims", "keepdim", "in_shape", "dtype")

    def forward(self, x):
        return as_array(x.prod(axis=self.dims, keepdims=self.keepdim, dtype=self.dtype))

    def backward(self, grad):
        (x,) = self.saved(grad)
        out = self.result(grad)
        g = dual.expand_back(grad, self.in_shape, self.dims, self.keepdim)
        return _prod_backward(g, x, out, self.dims, self.keepdim)


class ProdDim(Prod):
    name_ = "ProdBackward1"
    __slots__ = ()


def _prod_backward(g, x, out, dims, keepdim: bool):
    """prod's gradient (dual), PyTorch's prod_backward case by case, so that infinities and
    zeros meet the same products: ``g`` itself for a 0-d input;
    ``g * (out / x)`` when the input has no zero; else ``g`` times the product of the other
    elements of each slice, from exclusive cumulative products from both ends (no division;
    differentiable again), for every slice once the input holds a zero anywhere. A full
    reduction with two or more zeros, outside a graph of the
    backward, is zeros (PyTorch's shortcut)."""
    xr = dual.raw(x)
    shape = xr.shape
    dim = None if dims is None else dims[0] % xr.ndim if xr.ndim else 0
    if xr.ndim == 0:
        return g
    zero = xr == 0
    if not zero.any():
        outk = dual.expand(dual.keep_dims(out, shape, dims, keepdim), shape)
        return g * (outk / x)
    if dim is not None:
        # NOTE: one element along dim: PyTorch returns grad itself (no graph back to x)
        return g if shape[dim] == 1 else g * _exclusive_prods(x, dim)
    if not isinstance(g, Tensor) and int(zero.sum()) > 1:
        return array_module(xr).zeros(shape, dtype=dual.raw(g).dtype)
    if xr.size == 1:
        return g
    flat = x.reshape(-1) if isinstance(x, Tensor) else xr.reshape(-1)
    return g * _exclusive_prods(flat, 0).reshape(shape)


def _exclusive_prods(x, dim: int):
    """For each element, the product of the others along ``dim``: products of the elements
    before it times products of those after it (PyTorch's prod_safe_zeros_backward)."""
    xr = dual.raw(x)
    n = xr.shape[dim]
    if n == 0:
        return x
    one_shape = xr.shape[:dim] + (1,) + xr.shape[dim + 1:]
    ones = dual.zeros(x, one_shape) + 1
    head = (slice(None),) * dim
    before = dual.cumprod(dual.cat([ones, x[head + (slice(0, n - 1),)]], dim), dim)
    rest = dual.flip(x[head + (slice(1, n),)], (dim,))
    after = dual.flip(dual.cumprod(dual.cat([ones, rest], dim), dim), (dim,))
    return before * after


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
    fn.dtype = _sum_dtype(x, dtype)  # NOTE: dtype=torch.bool gives a bool result, as PyTorch
    return record_unary(fn, x, fn.forward(d))


# -- all / any / count_nonzero ---------------------------------------------------------------------
def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element (over ``dim``) is non-zero.

    >>> import leafgrad
    >>> all(leafgrad.tensor([1, 0]))
    tensor(False)
    """
    d = x._data
    dims = _dims(dim, d.ndim, "all")
    out = as_array(np.all(d, axis=dims, keepdims=keepdim))
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
    out = as_array(np.any(d, axis=dims, keepdims=keepdim))
    return _wrap(out.astype(np.uint8) if d.dtype == np.uint8 else out)


def count_nonzero(x: Tensor, dim=None) -> Tensor:
    """Number of non-zero elements (over ``dim``), as int64.

    >>> import leafgrad
    >>> count_nonzero(leafgrad.tensor([1, 0, 2]))
    tensor(2)
    """
    d = x._data
    dims = _dims(dim, d.ndim, "count_nonzero")
    # (d != 0).sum, not np.count_nonzero: that returns a Python int for a full count
    return _wrap(as_array((d != 0).sum(axis=dims, dtype=np.int64)))
