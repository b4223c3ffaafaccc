"""Exact fused multiply-adds on NumPy arrays: ``RN(a * b + c)``, rounded once, as torch's CPU
kernels compute ``add(alpha=)``, ``addcmul`` and ``lerp`` (compiled with FMA contraction).

NumPy has no FMA. Two emulations, each on one chunk (``CHUNK`` elements) at a time so that its
scratch stays in cache:

- ``fma32`` (float32): the product of two float32 numbers is exact in float64, so
  ``v = float64(a) * b + float64(c)`` rounds once, and rounding ``v`` to float32 gives the FMA
  unless ``v`` landed exactly on a float32 rounding midpoint (double rounding; one shift and one
  ``min`` find any) or in float32's subnormal range, where the midpoints lie elsewhere (the
  float64 -> float32 cast then raises NumPy's underflow flag, which ``errors()`` notes for free;
  outside it ``c`` is searched for small enough values). Those rare elements are redone with an
  error-free sum and round-to-odd. Seven array passes.
- ``fma64`` (float64): Dekker's exact product, Knuth's exact sum, then round-to-odd (Boldo and
  Melquiond, "Emulation of FMA and correctly rounded sums", 2008), all in preallocated scratch:
  about 35 passes. It is exact while no intermediate overflows or underflows; a chunk where
  one did (flagged by ``errors()``, else found by looking) has its extreme elements redone
  with exact rational arithmetic.

``fma`` applies either to arrays of any layout, with scalars and broadcasting.
"""

from __future__ import annotations

import math
import threading
from fractions import Fraction

import numpy as np

from .._mt19937 import _round_to_odd, _two_sum

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
CHUNK = 32768  # elements: a float32 chunk's float64 scratch (3 x 256 KB) stays in the L2 cache
_I64_MIN = np.iinfo(np.int64).min
_ONE32 = np.uint32(1)
_35, _63 = np.int64(35), np.int64(63)
_TINY32 = np.uint32(7 << 24)  # float32 bits of 2**-120, shifted left by one (the sign dropped)
_TINY64 = np.uint64((898 << 53) + 1)  # just above the float64 bits of 2**-125, shifted left by one
_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's constant, splits a float64 into two 26-bit halves
_MIN, _MAX = np.minimum.reduce, np.maximum.reduce  # ndarray.min() adds two Python layers


class _Work(threading.local):
    """Per-thread scratch arrays of one chunk, allocated once (fresh pages cost more than the
    arithmetic: the kernel zero-fills each one), and the floating-point error notes."""

    def __init__(self) -> None:
        self.size = 0
        self.under = False  # an operation underflowed (noted inside ``errors()``)
        self.fperr = False  # an operation underflowed, overflowed or was invalid (ditto)
        self.armed = False  # inside ``errors()``

    def get(self) -> _Work:
        if self.size != CHUNK:  # CHUNK is a module setting (tests make it small)
            self.size = CHUNK
            self.s = np.empty(CHUNK, F64)      # fma32: the float64 sums
            self.u = np.empty(CHUNK, F64)      # fma32: a float64 operand (last: c)
            self.k = np.empty(CHUNK, np.int64)  # fma32: the midpoint keys
            self.w = np.empty(CHUNK, np.uint32)  # fma32: the subnormal search's keys
            self.d = np.empty(CHUNK, F32)      # float32 temporaries of an update
            self.q = np.empty(CHUNK, F32)
            half = max(CHUNK // 2, 1)  # fma64 needs ten 8-byte arrays: half the chunk
            self.x = [np.empty(half, F64) for _ in range(9)]
            self.k64 = np.empty(half, np.int64)
            self.flags = np.empty(half, bool)
        return self


_WORK = _Work()


def _on_fperr(kind: str, flag: int) -> None:
    w = _WORK
    w.fperr = True
    if kind == "underflow":
        w.under = True


class errors:
    """The floating-point error state the kernels run in: torch's inf and nan results come
    without NumPy warnings, and underflows, overflows and invalid operations are noted (the
    kernels' checks read the notes instead of searching the arrays).

    >>> with errors(): x = np.float32([3e38]) * np.float32(2)  # no RuntimeWarning
    >>> x
    array([inf], dtype=float32)
    """

    def __enter__(self) -> errors:
        if _EXTOBJ is not None:
            self._state = _EXTOBJ[0].set(_EXTOBJ[1])
        else:
            self._state = np.errstate(over="call", under="call", invalid="call",
                                      divide="ignore", call=_on_fperr)
            self._state.__enter__()
        self._armed = _WORK.armed
        _WORK.armed = _FLAGS_WORK
        return self

    def __exit__(self, *exc) -> None:
        _WORK.armed = self._armed
        if _EXTOBJ is not None:
            _EXTOBJ[0].reset(self._state)
        else:
            self._state.__exit__(*exc)


def _extobj():
    """(NumPy's error-state context variable, the state ``errors`` sets), made once: setting a
    prepared state is two C calls where ``np.errstate`` builds it anew (a third of an
    optimizer's small-tensor update); None on a NumPy without the context variable."""
    try:  # NumPy >= 2
        from numpy._core._ufunc_config import _extobj_contextvar as var  # noqa: PLC0415
    except ImportError:
        return None
    with np.errstate(over="call", under="call", invalid="call", divide="ignore", call=_on_fperr):
        return var, var.get()


_EXTOBJ = _extobj()


# -- float32 ---------------------------------------------------------------------------------

def fma32(out, a, b, c, work=None) -> None:
    """``out = RN32(a * b + c)`` for 1-d float32 arrays of one chunk at most.

    ``b`` is a float32 array or a Python float holding a float32 value; ``out`` may be ``c``'s
    array (not ``a``'s or ``b``'s).

    >>> out = np.zeros(1, np.float32)
    >>> fma32(out, np.float32([0.1]), 3.0, np.float32([-0.3])); out  # unfused: 0.0
    array([-7.450581e-09], dtype=float32)
    """
    w = work or _WORK.get()
    n = out.shape[0]
    s, u, keys = w.s[:n], w.u[:n], w.k[:n]
    np.copyto(s, a)  # float32 -> float64 copies are exact
    if isinstance(b, np.ndarray):
        np.copyto(u, b)
        np.multiply(s, u, out=s)  # exact: 24 + 24 significant bits fit in 53
    else:
        np.multiply(s, b, out=s)
    np.copyto(u, c)  # kept: c itself may be overwritten before a fix needs it
    np.add(s, u, out=s)  # the only rounding so far
    # A float32 midpoint has 0b1 followed by 28 zeros in the float64 mantissa's low 29 bits:
    # shifted to the top that is the smallest int64, so one min finds any of them.
    np.left_shift(s.view(np.int64), _35, out=keys)
    if _MIN(keys) == _I64_MIN or (not w.armed and _has_tiny(c, w.w[:n])):
        _fix32(out, a, b, u, s)
        return
    w.under = False
    np.copyto(out, s, casting="same_kind")
    if w.under:  # a result rounded into float32's subnormal range: maybe double-rounded
        _fix32(out, a, b, u, s)


def _has_tiny(c, keys) -> bool:
    """Whether ``c`` has a nonzero element below 2**-120 in magnitude.

    Only then can ``a * b + c`` fall in float32's subnormal range inexactly: an inexact float64
    sum below 2**-125 needs both terms that small (terms within a factor of 2 cancel exactly;
    otherwise the sum is at least half the larger term).
    """
    np.left_shift(c.view(np.uint32), _ONE32, out=keys)  # |c|'s bits, ordered as |c|
    m = _MIN(keys)
    if m >= _TINY32:
        return False
    if m != 0:
        return True
    np.subtract(keys, _ONE32, out=keys)  # zeros are present: they wrap to the largest key
    return bool(_MIN(keys) < _TINY32 - _ONE32)


def _fix32(out, a, b, c64, s) -> None:
    """Round ``s`` into ``out``, redoing its midpoint and tiny elements exactly (rare).

    ``c64`` holds ``c`` in float64 (``out`` may have been ``c``); ``a`` and ``b`` are intact.
    """
    bits = s.view(np.int64)
    mag = np.left_shift(bits, 1).view(np.uint64)
    idx = np.nonzero((np.left_shift(bits, 35) == _I64_MIN) | ((mag < _TINY64) & (mag != 0)))
    bi = b[idx] if isinstance(b, np.ndarray) else b
    p = np.multiply(a[idx], bi, dtype=F64)
    hi, err = _two_sum(p, c64[idx])
    fixes = _round_to_odd(hi, err).astype(F32)  # round-to-odd, then once more: correct
    np.copyto(out, s, casting="same_kind")
    out[idx] = fixes


# -- float64 ---------------------------------------------------------------------------------

def fma64(out, a, b, c, work=None) -> None:
    """``out = RN64(a * b + c)`` for 1-d float64 arrays of half a chunk at most.

    ``b`` is a float64 array or a Python float; ``out`` may be ``c``'s array (not ``a``'s or
    ``b``'s).

    >>> out = np.zeros(1)
    >>> fma64(out, np.array([0.1]), 10.0, np.array([-1.0])); out  # unfused: 0.0
    array([5.55111512e-17])
    """
    w = work or _WORK.get()
    n = out.shape[0]
    ph, ah, al, t, pl, th, e, bh, bl = (x[:n] for x in w.x)
    w.fperr = False
    np.multiply(a, b, out=ph)
    _split(a, ah, al, t)  # a == ah + al, 26 bits each, so the four partial products are exact
    if isinstance(b, np.ndarray):
        _split(b, bh, bl, t)
    else:
        bh, bl = _split_scalar(b)
    np.multiply(ah, bh, out=pl)  # Dekker: pl = a * b - ph exactly
    np.subtract(pl, ph, out=pl)
    np.multiply(ah, bl, out=t)
    np.add(pl, t, out=pl)
    np.multiply(al, bh, out=t)
    np.add(pl, t, out=pl)
    np.multiply(al, bl, out=t)
    np.add(pl, t, out=pl)
    # Knuth's TwoSum: th + tl == c + ph exactly. The low parts are kept negated (-tl in ah,
    # then -v in al) and subtracted at the end: an exact zero low part is then +0, and
    # th - (+0) keeps th's sign where th + (+0) would turn an exact -0 result into +0.
    np.add(c, ph, out=th)
    np.subtract(th, c, out=t)
    np.subtract(th, t, out=ah)
    np.subtract(ah, c, out=ah)  # -(c - (th - t))
    np.subtract(t, ph, out=t)   # -(ph - t)
    np.add(ah, t, out=ah)       # -tl
    # -v = -tl - pl rounded to odd (-v in al, its rounding error in e), then one last rounding
    np.subtract(ah, pl, out=al)
    np.subtract(al, ah, out=t)
    np.subtract(al, t, out=e)
    np.subtract(ah, e, out=e)
    np.add(pl, t, out=t)        # -((-pl) - t)
    np.subtract(e, t, out=e)
    _round_to_odd_(al, e, w.k64[:n], w.flags[:n])  # symmetric: rounds -v as v, negated
    special = w.fperr if w.armed else _has_extremes(a, b, c, ph, t)
    np.subtract(th, al, out=th)
    if special:  # an intermediate overflowed or underflowed somewhere in the chunk (rare)
        _fix64(th, a, b, c, ph)
    np.copyto(out, th)


def _split(x, hi, lo, tmp) -> None:
    """Veltkamp's split: ``x == hi + lo`` with 26 significant bits in each."""
    np.multiply(x, _SPLIT, out=tmp)
    np.subtract(tmp, x, out=hi)
    np.subtract(tmp, hi, out=hi)
    np.subtract(x, hi, out=lo)


def _split_scalar(x: float) -> tuple[float, float]:
    t = _SPLIT * x
    hi = t - (t - x)
    return hi, x - hi


def _round_to_odd_(v, err, k, inexact) -> None:
    """In place: ``v`` (a rounded-to-nearest sum whose exact error is ``err``) rounded to odd.

    As integers: truncate toward zero (one less where ``v`` was rounded away from zero, which
    is where ``err`` has the opposite sign), then set the last bit where inexact. ``k`` (int64)
    and ``inexact`` (bool) are scratch.
    """
    vb = v.view(np.int64)
    np.bitwise_xor(vb, err.view(np.int64), out=k)
    np.right_shift(k, _63, out=k)  # -1 where the signs differ, else 0
    np.not_equal(err, 0.0, out=inexact)
    np.multiply(k, inexact, out=k)
    np.add(vb, k, out=vb)
    np.bitwise_or(vb, inexact, out=vb)


def _has_extremes(a, b, c, ph, tmp) -> bool:
    """Whether an intermediate of ``fma64`` may have overflowed or underflowed (outside
    ``errors()``): any non-finite value, |a| or |b| >= 2**995, |c| or |a*b| >= 2**1021, or a
    nonzero |a*b| < 2**-900."""
    for x in (a, b, c, ph):
        if isinstance(x, np.ndarray):
            np.abs(x, out=tmp)
            big = 2.0**995 if x is a or x is b else 2.0**1021
            if not _MAX(tmp) < big:  # nan compares false
                return True
        elif not abs(x) < 2.0**995:
            return True
    np.abs(ph, out=tmp)
    tmp[tmp == 0] = np.inf
    return bool(_MIN(tmp) < 2.0**-900)


def _fix64(r, a, b, c, ph) -> None:
    """Redo, with exact rational arithmetic, the elements of ``r`` whose inputs are extreme
    enough that ``fma64``'s error-free transformations may not have been error-free."""
    bb = b if isinstance(b, np.ndarray) else np.full(a.shape, b)
    aph = np.abs(ph)
    extreme = ~((np.abs(a) < 2.0**995) & (np.abs(bb) < 2.0**995) & (np.abs(c) < 2.0**1021)
                & (aph < 2.0**1021) & ((aph >= 2.0**-900) | (ph == 0)))
    for i in np.flatnonzero(extreme):
        r[i] = _fma_exact(float(a[i]), float(bb[i]), float(c[i]))


def _fma_exact(x: float, y: float, z: float) -> float:
    """``x * y + z`` rounded once, through Python's exact fractions (IEEE's rules for inf/nan).

    >>> _fma_exact(1e308, 10.0, -math.inf), _fma_exact(0.1, 10.0, -1.0)
    (-inf, 5.551115123125783e-17)
    """
    if not (math.isfinite(x) and math.isfinite(y)):
        return x * y + z  # inf or nan products: as an FMA (the product is exact here)
    if not math.isfinite(z):
        return z + 0.0
    exact = Fraction(x) * Fraction(y) + Fraction(z)
    if exact == 0:  # an exact zero is +0 unless both terms are -0 (or a zero product + -0)
        return (x * y) + z
    try:
        return float(exact)  # correctly rounded (CPython's integer true division)
    except OverflowError:
        return math.inf if exact > 0 else -math.inf


# -- any layout ------------------------------------------------------------------------------

def fma(out, a, b, c) -> None:
    """``out = a * b + c`` rounded once in ``out``'s dtype (float32 or float64 NumPy arrays);
    ``a``, ``b``, ``c`` are arrays broadcasting to ``out`` or numbers already of its dtype.

    >>> out = np.zeros(2, np.float32)
    >>> fma(out, np.float32(0.1), np.float32([3, 3]), np.float32(-0.3)); out
    array([-7.450581e-09, -7.450581e-09], dtype=float32)
    """
    dt = out.dtype
    if (c is out and dt is F32 and a.__class__ is np.ndarray and a.dtype is F32
            and 0 < out.size <= CHUNK and a.shape == out.shape and out.flags.c_contiguous
            and a.flags.c_contiguous and (b.__class__ is float or b.__class__ is np.float32)
            and not np.may_share_memory(out, a)):
        # NOTE: the optimizer update ``p.add_(g, alpha=a)`` on a small float32 parameter
        # (one chunk, nothing to broadcast or copy): straight to the kernel, whose Python
        # layers below would otherwise cost more than its arithmetic
        flat = out.reshape(-1)
        with errors():
            fma32(flat, a.reshape(-1), float(F32.type(b)), flat)  # b rounded as _operand does
        return
    kernel, step = (fma32, CHUNK) if dt == F32 else (fma64, max(CHUNK // 2, 1))
    shape = out.shape
    if out.size == 0:
        return
    a, b, c = (_operand(x, shape, dt) for x in (a, b, c))
    if not isinstance(a, np.ndarray):
        a, b = b, a  # the kernels want an array first factor
        if not isinstance(a, np.ndarray):
            a = np.full(out.size, a, dt)
    if not isinstance(c, np.ndarray):
        c = np.full(out.size, c, dt)
    # the kernels write out chunk by chunk: out may be c itself, but overlap no other operand
    direct = (out.flags.c_contiguous and not _overlaps(out, a) and not _overlaps(out, b)
              and (not _overlaps(out, c) or _same(out, c)))
    dst = out.reshape(-1) if direct else np.empty(out.size, dt)
    with errors():
        for i in range(0, dst.shape[0], step):
            j = slice(i, i + step)
            kernel(dst[j], a[j], b[j] if isinstance(b, np.ndarray) else b, c[j])
    if not direct:
        np.copyto(out, dst.reshape(shape))


def _overlaps(out, x) -> bool:
    return isinstance(x, np.ndarray) and np.may_share_memory(out, x)


def _same(out, x) -> bool:
    """Whether flat ``x`` is ``out``'s memory, element for element."""
    return (x.__array_interface__["data"][0] == out.__array_interface__["data"][0]
            and x.size == out.size and x.flags.c_contiguous)


def _operand(x, shape, dt):
    """A kernel operand: one number as a Python float, else a flat C-ordered array of
    ``shape`` (a view when the layout allows)."""
    if not isinstance(x, np.ndarray) or x.size == 1:
        return float(np.asarray(x, dt).reshape(()))
    if x.shape != shape:
        x = np.broadcast_to(x, shape)
    return np.ascontiguousarray(x, dt).reshape(-1)


# -- whether NumPy reports what the checks rely on -------------------------------------------

def _flags_work() -> bool:
    """Whether this NumPy raises its floating-point flags where the kernels need them: an
    underflow in a float64 -> float32 cast (NumPy >= 1.24 reports errors in casts) and in
    float64 arithmetic, overflow, and invalid operations; checked once, on arrays of several
    lengths (SIMD loops and their tails), before ``errors()`` trusts them.
    """
    def flagged(fn, n, pos, value) -> bool:
        x = np.ones(n)
        x[pos] = value
        _WORK.under = _WORK.fperr = False
        fn(x)
        return _WORK.under if value == 3 * 2.0**-151 else _WORK.fperr

    tests = [(lambda x: np.copyto(np.empty(x.size, F32), x, casting="same_kind"), 3 * 2.0**-151),
             (lambda x: np.multiply(x, 2.0**-1000, out=x), (1 + 2.0**-52) * 2.0**-70),
             (lambda x: np.add(x, x, out=x), 1.5 * 2.0**1023),
             (lambda x: np.subtract(x, x * np.inf), np.inf)]
    ok = True
    with np.errstate(over="call", under="call", invalid="call", call=_on_fperr):
        for fn, value in tests:
            for n in (1, 3, 8, 17, 100, 4099):
                for pos in {0, n // 2, n - 1}:
                    ok = ok and flagged(fn, n, pos, value)
    _WORK.under = _WORK.fperr = False
    return ok


_FLAGS_WORK = _flags_work()
