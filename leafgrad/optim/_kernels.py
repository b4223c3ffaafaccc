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

import numpy as np

from .._mt19937 import _round_to_odd, _two_sum, fma64
from ..backend import array_module

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_I64_MIN = np.iinfo(np.int64).min
_TINY_KEY = np.uint64((898 << 53) - 1)  # float64 bits of 2**-125, shifted left by one, minus 1


def opmath(dt: np.dtype) -> np.dtype:
    """The type PyTorch's CPU kernels compute a ``dt`` op in (float32 for half precision)."""
    return F32 if dt == F16 else dt


def scalar(x, dt: np.dtype):
    """A Python number rounded to the compute type of ``dt`` (``Scalar.to<opmath_t>()``)."""
    return opmath(dt).type(x)


def _fma32(a, b, c, out) -> None:
    """``out = RN32(a * b + c)`` for float32 ``a``, ``b``, ``c`` (arrays or scalars)."""
    xp = array_module(out)
    if out.ndim == 0:  # work on 1-element views (NumPy turns 0-d results into scalars)
        a, b, c, out = (x.reshape(1) if getattr(x, "ndim", 1) == 0 and isinstance(x, xp.ndarray)
                        else x for x in (a, b, c, out))
    s = xp.multiply(a, b, dtype=F64)  # exact: 24 + 24 significant bits fit in 53
    s = xp.add(s, c, out=s if s.shape == out.shape else None, dtype=F64)
    if s.shape != out.shape:
        s = xp.broadcast_to(s, out.shape).copy()
    bits = s.view(np.int64)
    # A float32 midpoint has 0b1 followed by 28 zeros in the float64 mantissa's low 29 bits:
    # shifted to the top that is the smallest int64, so one min() finds any of them.
    mid = xp.left_shift(bits, 35)
    # float32's subnormals have their midpoints elsewhere: flag every nonzero |s| <= 2**-125
    # (sign shifted out; zero wraps to the largest uint64).
    tiny = xp.left_shift(bits, 1).view(np.uint64)
    tiny -= np.uint64(1)
    fixes = None
    if s.size and (mid.min() == _I64_MIN or tiny.min() < _TINY_KEY):
        idx = xp.nonzero((mid == _I64_MIN) | (tiny < _TINY_KEY))
        p = xp.multiply(xp.broadcast_to(a, out.shape)[idx], xp.broadcast_to(b, out.shape)[idx],
                        dtype=F64)
        cc = xp.asarray(xp.broadcast_to(c, out.shape)[idx], dtype=F64)
        hi, err = _two_sum(p, cc)
        fixes = _round_to_odd(hi, err).astype(F32)  # read c before out (maybe c) is written
    xp.copyto(out, s, casting="same_kind")
    if fixes is not None:
        out[idx] = fixes


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
    diff = np.subtract(_up(end), _up(start), dtype=opmath(dt))
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
        vt1 = np.multiply(_up(t1), scalar(value, dt), dtype=opmath(dt))
        fma(vt1, _up(t2), _up(x), out)


def addcdiv(out, x, t1, t2, value=1.0) -> None:
    """``x.addcdiv(t1, t2, value=v)``: ``x + (v * t1) / t2`` (a division: nothing to fuse)."""
    dt = out.dtype
    ot = opmath(dt)
    if value == 1:
        q = np.divide(_up(t1), _up(t2), dtype=ot)
    else:
        q = np.multiply(_up(t1), scalar(value, dt), dtype=ot)
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
