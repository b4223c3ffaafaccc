"""``torch.backends.cpu``."""

from __future__ import annotations

__all__ = ["get_cpu_capability"]


def get_cpu_capability() -> str:
    """The ATen CPU capability whose kernels leafgrad's random numbers reproduce.

    ``'AVX2'``, ``'AVX512'`` or ``'DEFAULT'``, as PyTorch reports it (see docs/random.md).

    >>> get_cpu_capability() in ("AVX2", "AVX512", "DEFAULT")
    True
    """
    from .._mt19937 import CAPABILITY  # noqa: PLC0415

    return CAPABILITY.upper()
