"""Linear-algebra Tensor methods: matmul and friends."""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["matmul", "mm"]

if TYPE_CHECKING:
    from ..tensor import Tensor

_ops = None  # the op module; it imports Tensor, so _bind() loads it once Tensor exists


class LinalgMethods:
    """Tensor methods for linear algebra (mixed into Tensor)."""

    __slots__ = ()

    # -- linear algebra --------------------------------------------------------------------
    def matmul(self, other: Tensor) -> Tensor:
        """Matrix product with NumPy/PyTorch broadcasting rules (``@``)."""
        return _ops.matmul(self, other)

    def mm(self, other: Tensor) -> Tensor:
        """Product of two 2-d matrices."""
        return _ops.mm(self, other)

    def __matmul__(self, other) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other) -> Tensor:
        return _as_tensor_like(other, self).matmul(self)


def _bind() -> None:
    """Load the op module (called by leafgrad.tensor once the Tensor class is defined)."""
    global _ops, Tensor
    from ..tensor import Tensor as _Tensor

    Tensor = _Tensor
    from ..ops import linalg as ops

    _ops = ops


def _as_tensor_like(v, like):
    from ..tensor import Tensor

    if isinstance(v, Tensor):
        return v
    from ..creation import as_tensor

    return as_tensor(v, device=like.device)


# -- free functions (leafgrad.add(a, b), ...) ------------------------------------------------


def matmul(input, other, *, out=None) -> Tensor:  # noqa: A002
    """Matrix product with broadcasting."""
    return input.matmul(other)


def mm(input, mat2, *, out=None) -> Tensor:  # noqa: A002
    """Product of two matrices."""
    return input.mm(mat2)
