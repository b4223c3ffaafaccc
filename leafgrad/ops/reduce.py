"""Reductions: sum and mean over all elements or chosen dims."""

from __future__ import annotations

import numpy as np

from ..autograd.node import Op
from ..dtypes import as_dtype
from ..tensor import Tensor, _wrap_dim
from ._apply import record_unary
from .dual import expand

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

