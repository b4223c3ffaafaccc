"""Array kernels for the optimizers: each reproduces the rounding of one PyTorch CPU op, in place.

PyTorch's CPU kernels are compiled with FMA contraction, and several call ``vec::fmadd``
explicitly, so ``add(a, b, alpha=s)``, ``addcmul``, and ``lerp`` round once where a plain NumPy
expression rounds twice. NumPy has no fused multiply-add, so ``fma`` below emulates it exactly:

- float32: the product of two float32 numbers is exact in float64, so only the float64 sum
  rounds; rounding that to float32 is then correct unless the sum landed exactly on a float32
  midpoint (or in float32's subnormal range). Those rare elements are redone with an error-free
  sum and round-to-odd (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums", 2008).
- float64: Dekker's exact product and Knuth's exact sum, then round-to-odd (``fma64``).
- float16: PyTorch computes in float32 ("opmath") and rounds the result; so does this.

Scalars are rounded to the tensor's compute type first, as ATen does (``Scalar.to<opmath_t>``).
Every function writes into ``out`` (which may be one of its inputs) and returns nothing; none of
them touches autograd.
"""

from __future__ import annotations

import threading

import numpy as np

from .._mt19937 import _round_to_odd, _two_sum, fma64
from ..backend import array_module

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_I64_MIN = np.iinfo(np.int64).min
_TINY32_KEY = np.uint32((7 << 24) - 1)  # float32 bits of 2**-120, shifted left by one, minus 1
_TINY_KEY = np.uint64((898 << 53) + 1)  # just above the float64 bits of 2**-125 shifted left by one


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
    n = int(np.prod(shape))
    key = (slot, np.dtype(dtype))
    buf = _SCRATCH.bufs.get(key)
    if buf is None or buf.size < n:
        buf = _SCRATCH.bufs[key] = np.empty(n, dtype)
    return buf[:n].reshape(shape)


def temp(slot: str, like):
    """A scratch array shaped like ``like`` (same dtype), reused across calls: for an update's
    temporaries, which die before the next parameter's update."""
    return _scratch(slot, like.shape, like.dtype, array_module(like))


_CHUNK = 32768  # elements: the float64 scratch of one chunk (256 KB) stays in a core's L2 cache


def _fma32(a, b, c, out) -> None:
    """``out = RN32(a * b + c)`` for float32 ``a``, ``b``, ``c`` (arrays or scalars)."""
    n = out.size
    if n > 2 * _CHUNK and out.flags.c_contiguous:
        # seven passes over the data: in chunks they run from cache, not from memory
        flat = [x.reshape(-1) if _full(x, out) else x for x in (a, b, c)]
        if all(f.ndim == 1 or not isinstance(f, np.ndarray) or f.size == 1 for f in flat):
            o = out.reshape(-1)
            for i in range(0, n, _CHUNK):
                j = slice(i, i + _CHUNK)
                _fma32_block(*(f[j] if _full(f, o) else f for f in flat), o[j])
            return
    _fma32_block(a, b, c, out)


def _full(x, out) -> bool:
    """Whether ``x`` is an array of ``out``'s shape laid out as ``out`` (C order)."""
    return (isinstance(x, np.ndarray) and x.shape == out.shape and x.ndim > 0
            and x.flags.c_contiguous)


def _fma32_block(a, b, c, out) -> None:
    xp = array_module(out)
    if out.ndim == 0:  # work on 1-element views (NumPy turns 0-d results into scalars)
        a, b, c, out = (x.reshape(1) if getattr(x, "ndim", 1) == 0 and isinstance(x, xp.ndarray)
                        else x for x in (a, b, c, out))
    shape = out.shape
    s = _scratch("s", shape, F64, xp)
    xp.multiply(a, b, out=s, dtype=F64)  # exact: 24 + 24 significant bits fit in 53
    xp.add(s, c, out=s, dtype=F64)       # the only rounding so far
    bits = s.view(np.int64)
    t = _scratch("t", shape, np.int64, xp)
    # A float32 midpoint has 0b1 followed by 28 zeros in the float64 mantissa's low 29 bits:
    # shifted to the top that is the smallest int64, so one min() finds any of them.
    xp.left_shift(bits, 35, out=t)
    suspect = bool(t.size) and t.min() == _I64_MIN
    if not suspect and t.size:
        suspect = _maybe_tiny(c, bits, t, xp)
    if suspect:  # rare: redo the flagged elements exactly, reading c before out overwrites it
        u = xp.left_shift(bits, 1).view(np.uint64)
        idx = xp.nonzero((xp.left_shift(bits, 35) == _I64_MIN)
                         | ((u < _TINY_KEY) & (u != 0)))
        p = xp.multiply(xp.broadcast_to(a, shape)[idx], xp.broadcast_to(b, shape)[idx],
                        dtype=F64)
        hi, err = _two_sum(p, xp.asarray(xp.broadcast_to(c, shape)[idx], dtype=F64))
        fixes = _round_to_odd(hi, err).astype(F32)
        xp.copyto(out, s, casting="same_kind")
        out[idx] = fixes
    else:
        xp.copyto(out, s, casting="same_kind")


def _maybe_tiny(c, bits, t, xp) -> bool:
    """Whether a result may be a double-rounded float32 subnormal.

    float32's subnormals have their midpoints elsewhere than the check above looks. A float64
    sum ``p + c`` that is inexact (the only way to double-round) and below 2**-125 needs both
    terms tiny: a cancelling sum of terms within a factor of 2 is exact (its bits span at most
    49), and otherwise ``|p + c| >= max(|p|, |c|) / 2``. So it is enough to look at ``c``, a
    float32 array: any nonzero ``|c| < 2**-120``? (4-byte passes instead of 8-byte ones.)
    """
    if isinstance(c, np.ndarray) and c.dtype == F32 and c.flags.c_contiguous and xp is np:
        u = _scratch("u", c.shape, np.uint32)
        np.left_shift(c.view(np.uint32), np.uint32(1), out=u)  # the sign shifted out
        u -= np.uint32(1)                                       # zero wraps to the largest
        return bool(u.size) and u.min() < _TINY32_KEY
    # anything else: look at the float64 sums themselves (nonzero |s| <= 2**-125)
    xp.left_shift(bits, 1, out=t)
    u = t.view(np.uint64)
    return bool(u.min() < _TINY_KEY and ((u < _TINY_KEY) & (u != 0)).any())


def fma(a, b, c, out) -> None:
    """``out = a * b + c`` rounded once in ``out``'s dtype (a contracted ATen kernel).

    >>> import numpy as np
    >>> out = np.zeros(1, np.float32)
    >>> fma(np.float32(0.1), np.float32(3), np.float32(-0.3), out); out  # unfused: 0.0
    array([-7.450581e-09], dtype=float32)
    """
    dt = out.dtype
    if dt == F64:
        r = fma64(a, b, c)
        out[...] = r
    elif dt == F32:
        _fma32(a, b, c, out)
    elif dt == F16:
        tmp = array_module(out).empty(out.shape, F32)
        _fma32(_up(a), _up(b), _up(c), tmp)
        out[...] = tmp
    else:
        raise TypeError(f"optimizer kernels need a floating dtype, got {dt}")


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
