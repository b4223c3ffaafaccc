"""Array kernels for the optimizers: each reproduces the rounding of one PyTorch CPU op, in place.

PyTorch's CPU kernels are compiled with FMA contraction, and several call ``vec::fmadd``
explicitly, so ``add(a, b, alpha=s)``, ``addcmul``, and ``lerp`` round once where a plain NumPy
expression rounds twice. NumPy has no fused multiply-add; ``_fma`` emulates it exactly (float32
through float64 with a midpoint check, float64 with error-free transformations and
round-to-odd). float16 is computed as PyTorch computes it: in float32 ("opmath"), then rounded.

Scalars are rounded to the tensor's compute type first, as ATen does (``Scalar.to<opmath_t>``).
Every function writes into ``out`` (which may be one of its inputs) and returns nothing; none of
them touches autograd. SGD and Adam run their float32 updates through ``_fused`` instead, chunk
by chunk, with these same roundings.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from ..backend import array_module, to_numpy
from . import _fma

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)


def opmath(dt: np.dtype) -> np.dtype:
    """The type PyTorch's CPU kernels compute a ``dt`` op in (float32 for half precision)."""
    return F32 if dt == F16 else dt


def scalar(x, dt: np.dtype):
    """A Python number rounded to the compute type of ``dt`` (``Scalar.to<opmath_t>()``)."""
    return opmath(dt).type(x)


class _Scratch(threading.local):
    """Per-thread scratch arrays, grown to the largest size seen: a float64 sum of a million
    elements is 8 MB, and allocating it afresh on every step costs more than the arithmetic
    (the kernel zero-fills every new page)."""

    def __init__(self) -> None:
        self.bufs: dict = {}


_SCRATCH = _Scratch()


def _scratch(slot: str, shape, dtype, xp=np):
    if xp is not np:
        return xp.empty(shape, dtype)
    n = math.prod(shape)
    key = (slot, np.dtype(dtype))
    buf = _SCRATCH.bufs.get(key)
    if buf is None or buf.size < n:
        buf = _SCRATCH.bufs[key] = np.empty(n, dtype)
    return buf[:n].reshape(shape)


def temp(slot: str, like):
    """A scratch array shaped like ``like`` (same dtype), reused across calls: for an update's
    temporaries, which die before the next parameter's update."""
    return _scratch(slot, like.shape, like.dtype, array_module(like))


def fma(a, b, c, out) -> None:
    """``out = a * b + c`` rounded once in ``out``'s dtype (a contracted ATen kernel).

    >>> import numpy as np
    >>> out = np.zeros(1, np.float32)
    >>> fma(np.float32(0.1), np.float32(3), np.float32(-0.3), out); out  # unfused: 0.0
    array([-7.450581e-09], dtype=float32)
    """
    dt = out.dtype
    if dt not in (F16, F32, F64):
        raise TypeError(f"optimizer kernels need a floating dtype, got {dt}")
    if array_module(out) is not np:  # another backend: the same arithmetic, on the host
        host = np.empty(out.shape, dt)
        fma(*(to_numpy(x) if hasattr(x, "shape") and not isinstance(x, np.ndarray | np.generic)
              else x for x in (a, b, c)), host)
        out[...] = array_module(out).asarray(host)
    elif dt == F16:
        tmp = array_module(out).empty(out.shape, F32)
        _fma.fma(tmp, _up(a), _up(b), _up(c))
        out[...] = tmp
    else:
        _fma.fma(out, a, b, c)


def _up(x):
    """Half-precision inputs of an opmath (float32) computation."""
    if isinstance(x, np.ndarray | np.generic) and x.dtype == F16:
        return x.astype(F32)
    return x


# -- one function per ATen op, in PyTorch's order of operations ----------------------------------

def add(out, a, b, alpha=1.0) -> None:
    """``torch.add(a, b, alpha=alpha)``: ``fmadd(b, alpha, a)``, one rounding."""
    if alpha == 1:
        np.add(a, b, out=out)
    elif alpha == -1:
        np.subtract(a, b, out=out)
    else:
        fma(b, scalar(alpha, out.dtype), a, out)


def mul_scalar(out, a, s) -> None:
    """``a.mul(s)`` for a Python number ``s``."""
    dt = out.dtype
    if dt == F16:
        out[...] = np.multiply(a, scalar(s, dt), dtype=F32)
    else:
        np.multiply(a, scalar(s, dt), out=out)


def div_scalar(out, a, s) -> None:
    """``a.div(s)`` for a Python number ``s`` (a true division, not a reciprocal multiply)."""
    dt = out.dtype
    if dt == F16:
        out[...] = np.divide(a, scalar(s, dt), dtype=F32)
    else:
        np.divide(a, scalar(s, dt), out=out)


def add_scalar(out, a, s) -> None:
    """``a.add(s)`` for a Python number ``s``."""
    dt = out.dtype
    if dt == F16:
        out[...] = np.add(a, scalar(s, dt), dtype=F32)
    else:
        np.add(a, scalar(s, dt), out=out)


def lerp(out, start, end, weight) -> None:
    """``start.lerp(end, weight)`` for a Python number: ATen's two-sided form, one FMA.

    ``|w| < 0.5``: ``start + w * (end - start)``; else ``end - (1 - w) * (end - start)``.
    """
    dt = out.dtype
    w = scalar(weight, dt)
    diff = _scratch("diff", out.shape, opmath(dt), array_module(out))
    np.subtract(_up(end), _up(start), out=diff, dtype=opmath(dt))
    if abs(w) < 0.5:
        fma(w, diff, _up(start), out)
    else:
        fma(w - opmath(dt).type(1), diff, _up(end), out)


def addcmul(out, x, t1, t2, value=1.0) -> None:
    """``x.addcmul(t1, t2, value=v)``: ``x + (v * t1) * t2`` with the last two steps fused."""
    dt = out.dtype
    if value == 1:
        fma(_up(t1), _up(t2), _up(x), out)
    else:
        vt1 = _scratch("vt1", out.shape, opmath(dt), array_module(out))
        np.multiply(_up(t1), scalar(value, dt), out=vt1, dtype=opmath(dt))
        fma(vt1, _up(t2), _up(x), out)


def addcdiv(out, x, t1, t2, value=1.0) -> None:
    """``x.addcdiv(t1, t2, value=v)``: ``x + (v * t1) / t2`` (a division: nothing to fuse)."""
    dt = out.dtype
    ot = opmath(dt)
    q = _scratch("q", out.shape, ot, array_module(out))
    if value == 1:
        np.divide(_up(t1), _up(t2), out=q, dtype=ot)
    else:
        np.multiply(_up(t1), scalar(value, dt), out=q, dtype=ot)
        np.divide(q, _up(t2), out=q)
    if dt == F16:
        out[...] = np.add(_up(x), q, dtype=F32)
    else:
        np.add(x, q, out=out)


def sqrt(out, a) -> None:
    """``a.sqrt()``: IEEE's correctly rounded square root (see ``docs/optim.md`` on MKL)."""
    np.sqrt(a, out=out)


def nd(a):
    """``a`` itself, or a 1-element view of a 0-d array (NumPy's ``out=`` needs an array)."""
    return a if a.ndim else a.reshape(1)
