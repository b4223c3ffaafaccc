"""``torch.accelerator``: the device-neutral accelerator API, answered from ``torch.cuda``.

The usual script line ``device = torch.accelerator.current_accelerator() or torch.device("cpu")``
picks ``cuda`` where CuPy sees a GPU and ``cpu`` elsewhere.

>>> import leafgrad
>>> leafgrad.accelerator.current_accelerator() in (None, leafgrad.device("cuda"))
True
"""

from __future__ import annotations

from . import cuda as _cuda
from .backend import device as _device

__all__ = ["current_accelerator", "current_device_index", "device_count", "empty_cache",
           "is_available", "set_device_index", "synchronize"]


def _need() -> None:
    if not _cuda.is_available():
        raise RuntimeError(
            "Cannot access accelerator device when none is available. (leafgrad's accelerator "
            "is CUDA through CuPy: pip install leafgrad[gpu] on a machine with an NVIDIA GPU; "
            "check torch.accelerator.is_available() first)")


def is_available() -> bool:
    """True when an accelerator (CUDA through CuPy) is present.

    >>> isinstance(is_available(), bool)
    True
    """
    return _cuda.is_available()


def current_accelerator(check_available: bool = False):
    """``device('cuda')`` when CUDA is available, else None.

    >>> current_accelerator() in (None, _device("cuda"))
    True
    """
    return _device("cuda") if _cuda.is_available() else None


def device_count() -> int:
    """Number of accelerator devices.

    >>> device_count() >= 0
    True
    """
    return _cuda.device_count()


def current_device_index() -> int:
    """Index of the current accelerator device (RuntimeError without one, as PyTorch)."""
    _need()
    return _cuda.current_device()


def set_device_index(device) -> None:
    """Make ``device`` the current accelerator device (RuntimeError without one, as PyTorch)."""
    _need()
    _cuda.set_device(device)


def synchronize(device=None) -> None:
    """Wait for the accelerator (RuntimeError without one, as PyTorch)."""
    _need()
    _cuda.synchronize(device)


def empty_cache() -> None:
    """Free the accelerator's cached memory (RuntimeError without one, as PyTorch)."""
    _need()
    _cuda.empty_cache()
