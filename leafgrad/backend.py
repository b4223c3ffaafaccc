"""Devices and the array module ``xp``: NumPy on the CPU, CuPy on CUDA (the only cupy import)."""

from __future__ import annotations

import numpy as np

_cupy = None  # imported on first use so that `import leafgrad` stays NumPy-only and fast


def _get_cupy():
    global _cupy
    if _cupy is None:
        try:
            import cupy  # noqa: PLC0415 - optional dependency, imported lazily
        except ImportError as e:
            raise RuntimeError(
                "device='cuda' needs CuPy: install leafgrad[gpu] (pip install cupy-cuda12x); "
                "CUDA tensors live in CuPy arrays the way CPU tensors live in NumPy arrays"
            ) from e
        _cupy = cupy
    return _cupy


class device:
    """Where a tensor's memory lives: ``device('cpu')`` or ``device('cuda', 0)``.

    >>> device("cpu"), str(device("cuda:1"))
    (device(type='cpu'), 'cuda:1')
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None):  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int):
            type, index = "cuda", type
        elif ":" in type:
            type, idx = type.split(":", 1)
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type}"
            )
        self.type = type
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        # NOTE: like torch.device, a device never equals a string (device('cpu') != 'cpu')
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))


CPU = device("cpu")


def as_device(d) -> device:
    """Normalise a device argument (str, int, device or None meaning cpu).

    >>> as_device(None)
    device(type='cpu')
    """
    if d is None:
        return CPU
    if isinstance(d, device):
        return d
    return device(d)


def is_cupy_array(a) -> bool:
    """True when ``a`` is a CuPy array (without importing CuPy if it was never used)."""
    return _cupy is not None and isinstance(a, _cupy.ndarray)


def array_module(a):
    """The array module (``numpy`` or ``cupy``) that owns array ``a``.

    >>> array_module(np.zeros(1)).__name__
    'numpy'
    """
    return _cupy if is_cupy_array(a) else np


def xp_for(dev: device):
    """The array module for a device."""
    return np if dev.type == "cpu" else _get_cupy()


def device_of(a) -> device:
    """The device an array lives on."""
    if is_cupy_array(a):
        return device("cuda", a.device.id)
    return CPU


def to_numpy(a) -> np.ndarray:
    """A NumPy view (CPU) or copy (GPU) of an array."""
    return a.get() if is_cupy_array(a) else a


def move(a, dev: device):
    """Return ``a`` on device ``dev`` (no copy when it is already there)."""
    if dev.type == "cpu":
        return to_numpy(a)
    cp = _get_cupy()
    with cp.cuda.Device(dev.index or 0):
        return cp.asarray(a)
