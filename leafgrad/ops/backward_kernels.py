"""PyTorch's fused backward kernels as ops of their own (``tanh_backward``; sigmoid's is
``SigmoidBackward`` in ops/elementwise/core.py), recorded when a backward formula runs on Tensors
(``create_graph=True``).

NOTE: the first derivative of tanh is one kernel in PyTorch, ``grad * (1 - y*y)`` with ``1 - y*y``
rounded once, and a double backward records one node for it (``TanhBackwardBackward0``). Written
with Tensor operators it would be three nodes (two products, one subtraction), each a full op's
cost, and its last bits would differ from the plain backward's. These ops compute the kernel on
arrays (leafgrad.ops.lastbits, the same function the plain backward calls) and differentiate it
with PyTorch's formulas (derivatives.yaml).
"""

from __future__ import annotations

from ..autograd.node import Op
from ..tensor import Tensor
from . import lastbits
from ._apply import record2

__all__ = ["tanh_backward"]

_new = object.__new__


class TanhBackward(Op):
    """``g * (1 - y*y)``: the gradient of ``y = tanh(x)`` from the output's gradient ``g``."""

    name_ = "TanhBackwardBackward0"
    formula = {"g": "tanh_backward(grad, y)", "y": "grad * (-2 * y * g)"}
    saved_for = ((1,), (0, 1))  # PyTorch saves both; g's gradient reads y only
    __slots__ = ()

    def forward(self, g, y):
        return lastbits.tanh_backward(g, y)

    def backward(self, grad):
        g, y = self.saved(grad)
        need = self.needs_input_grad
        return (tanh_backward(grad, y) if need[0] else None,
                grad * (-2 * y * g) if need[1] else None)


def _apply(cls, g, y):
    if g.__class__ is Tensor or isinstance(g, Tensor):
        fn = _new(cls)
        return record2(fn, g, y, fn.forward(g._data, y._data))
    return cls.forward.__wrapped__(None, g, y)


def tanh_backward(g, y):
    """``g * (1 - y*y)`` as PyTorch's kernel, on arrays or (recorded) on Tensors.

    >>> import numpy as np
    >>> tanh_backward(np.ones(2, np.float32), np.full(2, 0.5, np.float32))
    array([0.75, 0.75], dtype=float32)
    """
    return _apply(TanhBackward, g, y)
