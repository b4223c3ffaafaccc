"""Softmax family: ``softmax`` / ``log_softmax`` as fused, overflow-free nodes; softmin and
gumbel_softmax built on them."""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.grad_mode import state
from ..autograd.node import Op
from ..backend import array_module
from ..tensor import Tensor, _wrap
from . import lastbits
from ._apply import record_unary
from .movement.strides import row_major

__all__ = ["softmax", "log_softmax", "softmin", "gumbel_softmax"]

_new = object.__new__


def _sum_keep(x, dim: int | None):
    """Sum over ``dim`` keeping it, for arrays and Tensors (``None``: a 0-d input)."""
    if isinstance(x, Tensor):
        return x.sum(dim, keepdim=True) if dim is not None else x * 1
    return x.sum(axis=dim, keepdims=True)


def _exp(x):
    return x.exp() if isinstance(x, Tensor) else lastbits.exp(x)


# NOTE: PyTorch's softmax kernels work in the input's dtype (float16 in float32, rounded once),
# sum with its vector lanes (lastbits.lane_sum) and, along the last dim, multiply by the
# reciprocal of the sum where other dims divide by it; the last bits follow each choice.
def _softmax_raw(x, dim: int):
    w = lastbits.opmath(x)
    e = lastbits.exp(w - w.max(axis=dim, keepdims=True))
    s = lastbits.lane_sum(e, dim)
    if dim == x.ndim - 1:
        e *= 1 / s
    else:
        e /= s
    return e.astype(x.dtype, copy=False)


def _log_softmax_raw(x, dim: int):
    w = lastbits.opmath(x)
    m = w.max(axis=dim, keepdims=True)
    s = lastbits.lane_sum(lastbits.exp(w - m), dim)
    return (w - m - lastbits.log(s)).astype(x.dtype, copy=False)


def _softmax_backward_raw(g, y, dim: int):
    gw, yw = lastbits.opmath(g), lastbits.opmath(y)
    if dim == y.ndim - 1:
        dot = lastbits.lane_sum(gw * yw, dim)
    else:  # NOTE: down the other dims the kernel fuses each product into the running sum
        dot = _fused_dot(gw, yw, dim)
    return ((gw - dot) * yw).astype(y.dtype, copy=False)


def _fused_dot(a, b, dim: int):
    """Sum of a·b along ``dim`` as fma(a_i, b_i, acc), in order (keeps ``dim``)."""
    xp = array_module(a)
    a, b = xp.moveaxis(a, dim, 0), xp.moveaxis(b, dim, 0)
    acc = a[0] * b[0]
    for i in range(1, a.shape[0]):
        acc = lastbits.fma(a[i], b[i], acc)
    return xp.expand_dims(acc, dim)


def _log_softmax_backward_raw(g, y, dim: int):
    gw, yw = lastbits.opmath(g), lastbits.opmath(y)
    s = lastbits.lane_sum(gw, dim)
    # NOTE: grad - exp(out) * sum(grad) with the product fused, as the kernel compiles it
    return lastbits.fma(-lastbits.exp(yw), s, gw).astype(y.dtype, copy=False)


class Softmax(Op):
    name_ = "SoftmaxBackward0"
    same_shape = True
    formula = {"x": "out * (grad - (grad * out).sum(dim, keepdim=True))"}
    save_inputs = False
    save_output = True
    __slots__ = ("dim",)

    def forward(self, x):
        # NOTE: shifting by the max keeps exp in range (logits of 1e4 do not overflow)
        return _softmax_raw(x, self.dim)

    def backward(self, grad):
        y = self.result(grad)
        if not isinstance(y, Tensor) and self.dim is not None:
            return _softmax_backward_raw(grad, y, self.dim)
        return y * (grad - _sum_keep(grad * y, self.dim))


class LogSoftmax(Op):
    name_ = "LogSoftmaxBackward0"
    same_shape = True
    formula = {"x": "grad - out.exp() * grad.sum(dim, keepdim=True)"}
    save_inputs = False
    save_output = True
    __slots__ = ("dim",)

    def forward(self, x):
        return _log_softmax_raw(x, self.dim)

    def backward(self, grad):
        y = self.result(grad)
        if not isinstance(y, Tensor) and self.dim is not None:
            return _log_softmax_backward_raw(grad, y, self.dim)
        return grad - _exp(y) * _sum_keep(grad, self.dim)


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
            # PyTorch's softmax kernels write a row-major result whatever x's layout (its
            # contiguous() aliases it, rand_like fills it in row order)
            out = row_major(fn.forward(x))
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
