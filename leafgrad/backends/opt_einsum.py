"""``torch.backends.opt_einsum``: contraction-order optimisation for ``einsum``.

leafgrad's ``einsum`` does not use the opt_einsum package; ``enabled`` is kept for scripts.
"""

from __future__ import annotations

__all__ = ["enabled", "is_available", "strategy"]

enabled = False
strategy = None


def is_available() -> bool:
    """False: leafgrad's einsum does not use opt_einsum.

    >>> is_available()
    False
    """
    return False
