"""``torch.cpu``: the CPU device's module (``torch.cpu.amp.autocast``, ``is_available``...).

>>> import leafgrad
>>> leafgrad.cpu.is_available(), leafgrad.cpu.device_count()
(True, 1)
"""

from __future__ import annotations

from . import amp

__all__ = ["amp", "current_device", "device_count", "is_available", "synchronize"]


def is_available() -> bool:
    """Always True.

    >>> is_available()
    True
    """
    return True


def device_count() -> int:
    """1, as PyTorch.

    >>> device_count()
    1
    """
    return 1


def current_device() -> str:
    """``'cpu'``, as PyTorch.

    >>> current_device()
    'cpu'
    """
    return "cpu"


def synchronize(device=None) -> None:
    """Nothing to wait for: CPU work is synchronous.

    >>> synchronize()
    """
