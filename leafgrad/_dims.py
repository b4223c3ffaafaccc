"""Dimension and shape-argument helpers shared by Tensor methods and ops."""

from __future__ import annotations

import operator


def _contiguous_strides(shape) -> tuple:
    st = []
    acc = 1
    for d in reversed(shape):
        st.append(acc)
        acc *= max(d, 1)
    return tuple(reversed(st))


def _wrap_dim(dim: int, ndim: int, op: str) -> int:
    """Normalise a possibly negative dim, with PyTorch's IndexError for one out of range."""
    n = max(ndim, 1)  # NOTE: PyTorch lets a 0-d tensor use dim 0 / -1
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
            f"\nWhy: {op} was asked for dim {dim} of a {ndim}-d tensor; dims count from 0, and "
            "negative dims count from the end."
        )
    return dim + n if dim < 0 else dim


def parse_dims(dims: tuple) -> tuple:
    """Accept ``permute(1, 0)`` and ``permute((1, 0))``."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return tuple(dims[0])
    return tuple(dims)


def parse_size_neg(args: tuple) -> tuple:
    """Like parse_size but allows -1 entries (reshape/view/expand)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for d in args:
        try:
            out.append(operator.index(d))
        except TypeError:
            raise TypeError(
                f"shape must be a sequence of ints, but got an element of type {type(d).__name__}"
            ) from None
    return tuple(out)
