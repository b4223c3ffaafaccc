"""Shape and indexing Tensor methods: views, reshapes, transposes, indexing."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from .. import dtypes as _dt
from .._dims import _wrap_dim, parse_dims, parse_size_neg

__all__ = ["flatten", "permute", "reshape", "squeeze", "t", "transpose", "unsqueeze"]

if TYPE_CHECKING:
    from ..tensor import Tensor

_ops = None  # the op module; it imports Tensor, so _bind() loads it once Tensor exists


class ShapeMethods:
    """Tensor methods for shape and indexing ops (mixed into Tensor)."""

    __slots__ = ()

    # -- shape -----------------------------------------------------------------------------
    def reshape(self, *shape) -> Tensor:
        """The same elements in a new shape (a view when possible). One dim may be -1."""
        return _ops.reshape(self, parse_size_neg(shape))

    def view(self, *shape) -> Tensor:
        """A view with a new shape; fails when the memory layout does not allow it."""
        if len(shape) == 1 and isinstance(shape[0], _dt.dtype):
            raise NotImplementedError("view(dtype) is not supported yet; use .to(dtype)")
        return _ops.view(self, parse_size_neg(shape))

    def view_as(self, other: Tensor) -> Tensor:
        """View with ``other``'s shape."""
        return self.view(other._data.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        """Reshape to ``other``'s shape."""
        return self.reshape(other._data.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dims ``start_dim..end_dim`` into one."""
        return _ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions (a view)."""
        return _ops.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def t(self) -> Tensor:
        """Transpose a tensor of at most 2 dims."""
        return _ops.t(self)

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """All dims reversed (PyTorch recommends mT for matrices)."""
        if self._data.ndim != 2:
            warnings.warn(
                "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                "deprecated and it will throw an error in a future release. Consider `x.mT` to "
                "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
                "to reverse the dimensions of a tensor.", UserWarning, stacklevel=2,
            )
        return _ops.permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The last two dims swapped (batched matrix transpose)."""
        if self._data.ndim < 2:
            raise RuntimeError(
                f"tensor.mT is only supported on matrices or batches of matrices. Got "
                f"{self._data.ndim}-D tensor."
            )
        return self.transpose(-2, -1)

    def permute(self, *dims) -> Tensor:
        """Reorder dimensions (a view)."""
        return _ops.permute(self, parse_dims(dims))

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a dimension of size 1."""
        return _ops.unsqueeze(self, dim)

    def squeeze(self, dim=None) -> Tensor:
        """Remove dimensions of size 1 (all, or those in ``dim``)."""
        return _ops.squeeze(self, dim)

    def expand(self, *sizes) -> Tensor:
        """Broadcast size-1 dims to larger sizes without copying (-1 keeps a size)."""
        return _ops.expand(self, parse_size_neg(sizes))

    def expand_as(self, other: Tensor) -> Tensor:
        """Expand to ``other``'s shape."""
        return self.expand(other._data.shape)

    def unbind(self, dim: int = 0) -> tuple:
        """The slices along ``dim`` as a tuple of tensors."""
        d = _wrap_dim(dim, self._data.ndim, "unbind")
        return tuple(_ops.select(self, d, i) for i in range(self._data.shape[d]))

    def __getitem__(self, index) -> Tensor:
        return _ops.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        _ops.setitem(self, index, value)


def _bind() -> None:
    """Load the op module (called by leafgrad.tensor once the Tensor class is defined)."""
    global _ops, Tensor
    from ..tensor import Tensor as _Tensor

    Tensor = _Tensor
    from ..ops import movement as ops

    _ops = ops


# -- free functions (leafgrad.add(a, b), ...) ------------------------------------------------


def reshape(input, shape) -> Tensor:  # noqa: A002
    """Same elements in a new shape."""
    return input.reshape(shape)


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # noqa: A002
    """Merge a range of dims into one."""
    return input.flatten(start_dim, end_dim)


def transpose(input, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """Swap two dims."""
    return input.transpose(dim0, dim1)


def t(input) -> Tensor:  # noqa: A002
    """Transpose a tensor of at most 2 dims."""
    return input.t()


def permute(input, dims) -> Tensor:  # noqa: A002
    """Reorder dims."""
    return input.permute(dims)


def squeeze(input, dim=None) -> Tensor:  # noqa: A002
    """Remove size-1 dims."""
    return input.squeeze(dim)


def unsqueeze(input, dim: int) -> Tensor:  # noqa: A002
    """Insert a size-1 dim."""
    return input.unsqueeze(dim)
