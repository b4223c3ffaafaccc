"""Storages: PyTorch's names for dtypes, and where a tensor's memory lives (shared by its views).

A leafgrad tensor holds a NumPy array; a view and its base hold arrays over one buffer. PyTorch
saves a *storage* (a flat typed buffer) once and each tensor as (storage, offset, size, stride).
``memory_root`` finds the array that owns a tensor's buffer, so tensors sharing memory can be
saved, pickled and deep-copied sharing one storage, as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt

# PyTorch's legacy typed-storage class names (what torch.save pickles) <-> leafgrad dtypes
STORAGE_NAMES: dict[str, _dt.dtype] = {
    "FloatStorage": _dt.float32, "DoubleStorage": _dt.float64, "HalfStorage": _dt.float16,
    "LongStorage": _dt.int64, "IntStorage": _dt.int32, "ShortStorage": _dt.int16,
    "CharStorage": _dt.int8, "ByteStorage": _dt.uint8, "BoolStorage": _dt.bool,
}
STORAGE_OF: dict[_dt.dtype, str] = {d: n for n, d in STORAGE_NAMES.items()}

# What PyTorch can put in a checkpoint that leafgrad cannot hold, with the dtype to name
UNSUPPORTED_STORAGES = {
    "BFloat16Storage": "bfloat16", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128", "QInt8Storage": "qint8", "QInt32Storage": "qint32",
    "QUInt8Storage": "quint8", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
}
UNSUPPORTED_DTYPES = {
    "bfloat16", "complex32", "complex64", "complex128", "cfloat", "cdouble", "chalf",
    "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
    "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "qint8", "qint32", "quint8",
    "quint4x2", "quint2x4", "bits1x8", "bits2x4", "bits4x2", "bits8", "bits16",
    *(f"int{i}" for i in range(1, 8)), *(f"uint{i}" for i in range(1, 8)),
}


def unsupported_dtype_error(name: str) -> TypeError:
    """The error for a PyTorch dtype leafgrad has no counterpart for."""
    return TypeError(
        f"the checkpoint holds torch.{name} data, which leafgrad tensors cannot hold\n"
        f"Why: leafgrad's tensors are {', '.join(d.name for d in _dt.ALL)}; converting silently "
        "would change the values. Convert in PyTorch before saving, e.g. "
        "{k: v.float() for k, v in state_dict.items()}."
    )


def data_pointer(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def byte_bounds(a: np.ndarray) -> tuple[int, int]:
    """[low, high) addresses of the bytes an array can touch (empty arrays touch none)."""
    lo = hi = data_pointer(a)
    if a.size == 0:
        return lo, lo
    for n, st in zip(a.shape, a.strides):
        if st < 0:
            lo += (n - 1) * st
        else:
            hi += (n - 1) * st
    return lo, hi + a.itemsize


def memory_root(a: np.ndarray) -> np.ndarray | None:
    """The contiguous array whose memory holds ``a`` (``a``'s owner, or ``a``); None if unknown.

    >>> base = np.arange(6.0); memory_root(base[2:].reshape(2, 2)) is base
    True
    """
    root = a
    b = a.base
    while b is not None:
        if isinstance(b, np.ndarray):
            root, b = b, b.base
        elif isinstance(getattr(b, "base", None), np.ndarray) and hasattr(
                b, "__array_interface__"):
            b = b.base  # as_strided wraps its base in a DummyArray holding the real base
        else:
            break
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        return None
    lo, hi = byte_bounds(a)
    start = data_pointer(root)
    if a.size and not (start <= lo and hi <= start + root.nbytes):
        return None
    return root


def flat_bytes(root: np.ndarray) -> np.ndarray:
    """A 1-D uint8 view of a contiguous array's whole buffer, in memory order."""
    return root.ravel(order="K").view(np.uint8) if root.ndim else root.reshape(1).view(np.uint8)


def is_overlapping(shape, strides) -> bool:
    """Whether some two elements of a strided layout share memory (sufficient test)."""
    dims = sorted((abs(st), n) for n, st in zip(shape, strides) if n > 1)
    extent = 1
    for st, n in dims:
        if st < extent:
            return True
        extent = st * n
    return False
