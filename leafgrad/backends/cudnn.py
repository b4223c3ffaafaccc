"""``torch.backends.cudnn``: settable flags with PyTorch's defaults; cuDNN itself is not used.

``cudnn.benchmark = True`` and ``cudnn.deterministic = True`` are accepted and change nothing:
leafgrad's results do not depend on them (its convolutions are deterministic).

>>> benchmark, deterministic, enabled
(False, False, True)
"""

from __future__ import annotations

__all__ = ["allow_tf32", "benchmark", "deterministic", "enabled", "is_available", "version"]

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: leafgrad does not use cuDNN.

    >>> is_available()
    False
    """
    return False


def version() -> None:
    """None, as on a PyTorch build without cuDNN.

    >>> version() is None
    True
    """
    return None
