"""``torch.backends.mkl``: Intel MKL, which leafgrad does not use."""

from __future__ import annotations

__all__ = ["is_available"]


def is_available() -> bool:
    """False: leafgrad computes with NumPy and does not use Intel MKL.

    >>> is_available()
    False
    """
    return False
