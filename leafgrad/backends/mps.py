"""``torch.backends.mps``: Apple's Metal backend, which leafgrad does not have."""

from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False: leafgrad has no MPS device.

    >>> is_available()
    False
    """
    return False


def is_built() -> bool:
    """False: leafgrad has no MPS device.

    >>> is_built()
    False
    """
    return False
