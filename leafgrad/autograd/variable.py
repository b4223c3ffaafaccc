"""``torch.autograd.Variable``: the pre-0.4 wrapper, now a way of spelling a Tensor.

``Variable(t)`` returns a tensor sharing ``t``'s memory, detached from its graph, with
``requires_grad`` as given, and every Tensor is an instance of ``Variable``, as in PyTorch.

>>> import leafgrad
>>> v = Variable(leafgrad.ones(2), requires_grad=True)
>>> v.requires_grad, v.is_leaf, isinstance(leafgrad.zeros(1), Variable)
(True, True, True)
"""

from __future__ import annotations

import warnings

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        from ..tensor import Tensor  # noqa: PLC0415

        return isinstance(obj, Tensor)


class _ExecutionEngine:
    """``Variable._execution_engine``: the engine's method that scripts call on it."""

    @staticmethod
    def queue_callback(callback) -> None:
        """Call ``callback()`` when the backward pass now running has finished."""
        from .engine import queue_callback  # noqa: PLC0415

        queue_callback(callback)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False)``: ``data`` as a leaf tensor (see the module)."""

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        from ..tensor import Tensor  # noqa: PLC0415

        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` "
                          "instead.", UserWarning, stacklevel=2)
        if data is None:
            from ..creation import empty  # noqa: PLC0415

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out


Variable._execution_engine = _ExecutionEngine()
