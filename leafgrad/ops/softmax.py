"""Softmax family: ``softmax`` / ``log_softmax`` as fused, overflow-free nodes; softmin and
gumbel_softmax built on them."""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.grad_mode import state
from ..autograd.node import Op
from ..backend import array_module
from ..tensor import Tensor, _wrap
from ._apply import record_unary

__all__ = ["softmax", "log_softmax", "softmin", "gumbel_softmax"]

_new = object.__new__


def _sum_keep(x, dim: int | None):
    """Sum over ``dim`` keeping it, for arrays and Tensors (``None``: a 0-d input)."""
    if isinstance(x, Tensor):
        return x.sum(dim, keepdim=True) if dim is not None else x * 1
    return x.sum(axis=dim, keepdims=True)


def _exp(x):
    return x.exp() if isinstance(x, Tensor) else array_module(x).exp(x)


class Softmax(Op):
    name_ = "SoftmaxBackward0"
    same_shape = True
    formula = {"x": "out * (grad - (grad * out).sum(dim, keepdim=True))"}
    save_inputs = False
    save_output = True
    __slots__ = ("dim",)

    def forward(self, x):
        xp = array_module(x)
        # NOTE: shifting by the max keeps exp in range (logits of 1e4 do not overflow)
        e = x - x.max(axis=self.dim, keepdims=True)
        xp.exp(e, out=e)
        e /= e.sum(axis=self.dim, keepdims=True)
        return e

    def backward(self, grad):
        y = self.result(grad)
        return y * (grad - _sum_keep(grad * y, self.dim))


class LogSoftmax(Op):
    name_ = "LogSoftmaxBackward0"
    same_shape = True
    formula = {"x": "grad - out.exp() * grad.sum(dim, keepdim=True)"}
    save_inputs = False
    save_output = True
    __slots__ = ("dim",)

    def forward(self, x):
        xp = array_module(x)
        s = x - x.max(axis=self.dim, keepdims=True)
        lse = xp.log(xp.exp(s).sum(axis=self.dim, keepdims=True))
        s -= lse
        return s

    def backward(self, grad):
        return grad - _exp(self.result(grad)) * _sum_keep(grad, self.dim)


def _get_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_like(cls, input: Tensor, dim, dtype, name: str) -> Tensor:
    if dim is None:
        dim = _get_softmax_dim(name, input.dim(), stacklevel=4)
    if dtype is not None:
        input = input.to(dtype)
    x = input._data
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f'"{name}_lastdim_kernel_impl" not implemented for \'{_c10(x)}\'\nWhy: {name} '
            "divides by a sum of exponentials; pass dtype=torch.float32 or convert the input.")
    nd = max(x.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got "
            f"{dim})")
    fn = _new(cls)
    fn.dim = dim % nd
    if x.ndim == 0:
        out = fn.forward(x.reshape(1)).reshape(())
        fn.dim = None  # backward of a 0-d input: sums over nothing
    elif x.size == 0:
        out = x.copy()
    else:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = fn.forward(x)
    if not state.enabled:
        return _wrap(out)
    return record_unary(fn, input, out)


def _c10(x) -> str:
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(x.dtype.name, x.dtype.name)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (computed after subtracting the max: no overflow).

    >>> import leafgrad
    >>> softmax(leafgrad.tensor([1.0, 1.0, 10000.0]), dim=0)
    tensor([0., 0., 1.])
    """
    return _softmax_like(Softmax, input, dim, dtype, "softmax")


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """x − logsumexp(x) along ``dim``, stable for large logits.

    >>> import leafgrad
    >>> log_softmax(leafgrad.tensor([0.0, 10000.0]), dim=0)
    tensor([-10000.,      0.])
    """
    return _softmax_like(LogSoftmax, input, dim, dtype, "log_softmax")


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(−x) along ``dim``.

    >>> import leafgrad
    >>> softmin(leafgrad.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), stacklevel=3)
    if dtype is not None:
        input = input.to(dtype)
    return softmax(-input, dim)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """Softmax of (logits + Gumbel noise) / tau; ``hard`` gives one-hot values with the soft
    gradient (straight-through). The noise is drawn as PyTorch draws it (``exponential_``).

    >>> import leafgrad
    >>> _ = leafgrad.manual_seed(0); gumbel_softmax(leafgrad.zeros(3), hard=True).sum()
    tensor(1.)
    """
    from ..creation import empty_like, zeros_like

    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -empty_like(logits).exponential_().log()
    gumbels = (logits + gumbels) / tau
    y_soft = softmax(gumbels, dim)
    if hard:
        index = y_soft.max(dim, keepdim=True)[1]
        y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
        return y_hard - y_soft.detach() + y_soft
    return y_soft
