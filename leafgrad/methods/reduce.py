"""Reduction Tensor methods: sum, mean and (with the op surface) the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["mean", "sum"]

if TYPE_CHECKING:
    from ..tensor import Tensor

_ops = None  # the op module; it imports Tensor, so _bind() loads it once Tensor exists


class ReductionMethods:
    """Tensor methods for reductions (mixed into Tensor)."""

    __slots__ = ()

    # -- reductions ------------------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
        """Sum of all elements, or over ``dim`` (an int or a tuple of ints).

        >>> import leafgrad
        >>> leafgrad.tensor([[1, 2], [3, 4]]).sum(0)
        tensor([4, 6])
        """
        return _ops.sum(self, dim, keepdim, dtype)

    def mean(self, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
        """Mean of all elements, or over ``dim``."""
        return _ops.mean(self, dim, keepdim, dtype)


def _bind() -> None:
    """Load the op module (called by leafgrad.tensor once the Tensor class is defined)."""
    global _ops, Tensor
    from ..tensor import Tensor as _Tensor

    Tensor = _Tensor
    from ..ops import reduce as ops

    _ops = ops


# -- free functions (leafgrad.add(a, b), ...) ------------------------------------------------


def sum(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001, A002
    """Sum over all elements or ``dim``."""
    return input.sum(dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """Mean over all elements or ``dim``."""
    return input.mean(dim, keepdim, dtype=dtype)
