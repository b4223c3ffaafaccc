"""Special functions on NumPy arrays (erf, erfinv, lgamma, digamma, polygamma), no SciPy at run
time."""

from __future__ import annotations

import math

import numpy as np

from ...backend import array_module, is_device_array

# -- special functions on NumPy arrays (no SciPy at runtime) -------------------------------------
_SQRT_PI = math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / _SQRT_PI


def _erf_series(x):
    """erf for |x| < 1.5: 2/sqrt(pi) e^-x^2 sum x (2x^2)^n / (1*3*...*(2n+1)), terms all > 0."""
    x2 = x * x
    term = x.copy()
    s = x.copy()
    for n in range(30):
        term *= (2.0 / (2 * n + 3)) * x2
        s += term
    return _TWO_OVER_SQRT_PI * np.exp(-x2) * s


def _erfc_cf(a):
    """erfc for a >= 1.5 by Laplace's continued fraction, evaluated backwards."""
    k_max = 100 if (a < 3.0).any() else 40  # fewer terms suffice once every a >= 3
    f = a.copy()
    for k in range(k_max, 0, -1):
        f = a + (k / 2.0) / f
    return np.exp(-a * a) / _SQRT_PI / f


# A fast erf for float32 arrays (exact GELU uses it): least-squares fits (made with math.erf on
# Chebyshev nodes) of erf(x)/x in u = x² on |x| < 0.9, and of erfc(x)·exp(x²) in t = 1/(1 + x)
# on [0.9, 4] (erf rounds to ±1 in float32 past 3.92), evaluated in float32. Within 2 ulp of
# the correctly rounded float32 erf everywhere (PyTorch's own is within 1; ``_erf_np`` is
# correctly rounded); about 12 passes over the array instead of the ~90 of the float64 series,
# which made exact GELU the slowest op of a Transformer (13x faster on 0.5M elements).
_ERF_SMALL = np.array([-0.0006106989573940291, 0.005015357350107285, -0.026781339779552424,
                       0.11282212116593804, -0.37612530639449093, 1.12837915502688],
                      dtype=np.float32)
_ERFC_LARGE = np.array([-0.5210361989525789, 1.1059104675488192, -0.4180729876512379,
                        -0.7408528106514937, 0.46352855864971637, 0.5279648652299996,
                        0.5679414881088827, -0.00016062720850778666], dtype=np.float32)


def _erf_f32(x):
    """erf of a float32 array in float32 arithmetic, within 2 ulp (see the note above)."""
    shape = x.shape
    xp = array_module(x)
    x = xp.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    return _erf_f32_into(x, xp.empty_like(x), xp.empty_like(x)).reshape(shape)


def _erf_f32_into(x, p, s):
    """``_erf_f32`` of a flat float32 array ``x`` written into ``p`` (returned); ``s`` is
    scratch of x's size. Elementwise, so a block of an array gets the whole array's bits."""
    np.multiply(x, x, out=s)
    np.multiply(s, _ERF_SMALL[0], out=p)
    for c in _ERF_SMALL[1:-1]:
        p += c
        p *= s
    p += _ERF_SMALL[-1]
    p *= x
    a = np.abs(x, out=s)
    big = np.flatnonzero(a >= np.float32(0.9))
    if big.size:
        ab = np.minimum(a[big], np.float32(4.0))
        t = ab + 1
        np.reciprocal(t, out=t)
        q = t * _ERFC_LARGE[0]
        for c in _ERFC_LARGE[1:-1]:
            q += c
            q *= t
        q += _ERFC_LARGE[-1]
        np.multiply(ab, ab, out=ab)
        np.negative(ab, out=ab)
        np.exp(ab, out=ab)
        q *= ab
        np.subtract(1, q, out=q)
        p[big] = np.copysign(q, x[big])
    return p


def _erf_np(x):
    """erf on an array, float64 inside; relative error ~1e-16 (checked against torch)."""
    z = x.astype(np.float64, copy=False)
    out = np.empty_like(z)
    with np.errstate(all="ignore"):
        a = np.abs(z)
        small = a < 1.5
        out[small] = _erf_series(z[small])
        big = ~small
        if big.any():
            out[big] = np.copysign(1.0 - _erfc_cf(a[big]), z[big])
    return out.astype(x.dtype, copy=False)


def _erfc_np(x):
    """erfc on an array; large x by the continued fraction, so no 1 - erf cancellation."""
    z = x.astype(np.float64, copy=False)
    out = np.empty_like(z)
    with np.errstate(all="ignore"):
        a = np.abs(z)
        small = a < 1.5
        out[small] = 1.0 - _erf_series(z[small])
        big = ~small
        if big.any():
            c = _erfc_cf(a[big])
            out[big] = np.where(z[big] > 0, c, 2.0 - c)
    return out.astype(x.dtype, copy=False)


def _libm_map(fn, x):
    """The C library's ``fn`` (through ``math``) on each element of a float64 array."""
    z = np.asarray(x, dtype=np.float64)
    return np.fromiter(map(fn, z.ravel().tolist()), np.float64, z.size).reshape(z.shape)


def _erf_f(x):
    """erf as the ops compute it: float64 by the C library (~60 ns an element; PyTorch's MKL and
    Sleef agree with it in 93-98% of elements, with the series above in 35-82%), float32 and
    float16 by the series in float64, rounded once."""
    if x.dtype == np.float64 and x.__class__ is not np.ndarray and is_device_array(x):
        return _erf_np(x)  # the C library is the host's: a device array takes the series
    if x.dtype == np.float64:
        return _libm_map(math.erf, x)
    return _erf_np(x)


def _erfc_f(x):
    """erfc as the ops compute it (see ``_erf_f``)."""
    if x.dtype == np.float64 and x.__class__ is not np.ndarray and is_device_array(x):
        return _erfc_np(x)
    if x.dtype == np.float64:
        return _libm_map(math.erfc, x)
    return _erfc_np(x)


def _erfinv_np(y):
    """erfinv: Winitzki's closed form as a start, then Newton steps on erf (or erfc near +-1)."""
    z = y.astype(np.float64, copy=False)
    with np.errstate(all="ignore"):
        a = np.abs(z)
        w = np.log((1.0 - a) * (1.0 + a))
        t = 2.0 / (math.pi * 0.147) + w / 2.0
        x = np.sqrt(np.sqrt(t * t - w / 0.147) - t)
        hi = a > 0.5
        for _ in range(4):
            # NOTE: near |y| = 1 the residual is taken as (1 - y) - erfc(x): both terms are exact
            # enough there, where erf(x) - y would lose every digit.
            r = np.where(hi, (1.0 - a) - _erfc_np(x), _erf_np(x) - a)
            x = x - r / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = np.where(a == 1.0, np.inf, np.where(a > 1.0, np.nan, x))
        out = np.copysign(x, z)
    return out.astype(y.dtype, copy=False)


# Stirling series for lgamma: B_2k / (2k (2k-1)), k = 1..8
_LGAMMA_C = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156,
             -3617 / 122400)
# asymptotic series for digamma: B_2k / (2k), k = 1..7
_DIGAMMA_C = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)
# Bernoulli numbers B_2k, k = 1..8 (Hurwitz zeta by Euler-Maclaurin)
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
_SHIFT = 10.0  # recurrences move arguments up to here, where the asymptotic series are exact


def _shift_up(w, each):
    """Move every element of ``w`` up by 1 until it reaches _SHIFT, calling ``each(w, mask)``."""
    w = w.copy()
    while True:
        m = w < _SHIFT
        if not m.any():
            return w
        each(w, m)
        w[m] += 1.0


def _lgamma_pos(w):
    """lgamma for w >= 0.5."""
    p = np.ones_like(w)

    def mul(v, m):
        p[m] *= v[m]

    w = _shift_up(w, mul)
    r = 1.0 / w
    r2 = r * r
    s = np.zeros_like(w)
    for c in reversed(_LGAMMA_C):
        s = s * r2 + c
    return (w - 0.5) * np.log(w) - w + 0.5 * math.log(2 * math.pi) + s * r - np.log(p)


def _sinpi(x):
    """sin(pi x) with the argument reduced exactly first (x - 2 round(x / 2))."""
    return np.sin(math.pi * (x - 2.0 * np.round(x / 2.0)))


def _lgamma_np(x):
    """lgamma (log |Gamma(x)|); reflection below 0.5, recurrence and Stirling's series above."""
    z = x.astype(np.float64, copy=False)
    out = np.empty_like(z)
    with np.errstate(all="ignore"):
        fin = np.isfinite(z)
        pos = fin & (z >= 0.5)
        neg = fin & ~pos
        out[pos] = _lgamma_pos(z[pos])
        zn = z[neg]
        out[neg] = np.log(math.pi / np.abs(_sinpi(zn))) - _lgamma_pos(1.0 - zn)
        out[~fin] = np.where(np.isnan(z[~fin]), np.nan, np.inf)
        out[(z <= 0) & (z == np.floor(z))] = np.inf  # poles of Gamma
        out[(z == 1) | (z == 2)] = 0.0
    return out.astype(x.dtype, copy=False)


def _digamma_pos(w):
    acc = np.zeros_like(w)

    def sub(v, m):
        acc[m] -= 1.0 / v[m]

    w = _shift_up(w, sub)
    r2 = 1.0 / (w * w)
    s = np.zeros_like(w)
    for c in reversed(_DIGAMMA_C):
        s = s * r2 + c
    return acc + np.log(w) - 0.5 / w - s * r2


def _digamma_np(x):
    """digamma; NOTE: PyTorch returns -inf at +0, +inf at -0 and nan at negative integers."""
    z = x.astype(np.float64, copy=False)
    out = np.empty_like(z)
    with np.errstate(all="ignore"):
        pos = z >= 0.5
        out[pos] = _digamma_pos(z[pos])
        neg = ~pos & ~np.isnan(z)
        zn = z[neg]
        r = zn - np.round(zn)
        out[neg] = _digamma_pos(1.0 - zn) - math.pi / np.tan(math.pi * r)
        out[np.isnan(z)] = np.nan
        out[z == 0] = np.copysign(np.inf, -z[z == 0])
        out[(z < 0) & (z == np.floor(z))] = np.nan
        out[z == -np.inf] = np.nan
    return out.astype(x.dtype, copy=False)


def _zeta_shifted(s: int, w):
    """Hurwitz zeta(s, w) for w >= 0.5 (recurrence up to _SHIFT, then Euler-Maclaurin)."""
    acc = np.zeros_like(w)

    def add(v, m):
        acc[m] += v[m] ** -s

    w = _shift_up(w, add)
    tail = w ** (1 - s) / (s - 1) + 0.5 * w ** -s
    fact = 1.0  # (2k)!
    rising = float(s)  # s (s+1) ... (s+2k-2)
    wp = w ** (-s - 1)
    for k, b in enumerate(_BERNOULLI, start=1):
        fact *= (2 * k - 1) * (2 * k)
        tail = tail + b / fact * rising * wp
        rising *= (s + 2 * k - 1) * (s + 2 * k)
        wp = wp / (w * w)
    return acc + tail


def _trigamma_np(x):
    """trigamma by PyTorch's own algorithm (calc_trigamma), so digamma's gradient matches it.

    NOTE: PyTorch's trigamma is accurate to ~1e-10 relative only (six recurrence steps and a
    short asymptotic series); a more exact value would disagree with torch's gradients.
    """
    # NOTE: in the kernel's precision, float32 for float32 and float16 (opmath), with pi
    # rounded to it: at a pole sin(pi * x) is then pi's rounding residual, and torch's
    # float32 trigamma(-1) is 1.29e15, not the float64 route's 6.6e32 (fuzz seed 4001361)
    ft = np.float64 if x.dtype == np.float64 else np.float32
    z = x.astype(ft, copy=False)
    one, pi = ft(1), ft(math.pi)
    with np.errstate(all="ignore"):
        refl = z < ft(0.5)
        s = np.sin((pi * z).astype(np.float64)).astype(ft)  # (sinf: sin correctly rounded)
        result = np.where(refl, -(pi * pi) / (s * s), ft(0))
        w = np.where(refl, one - z, z)
        for _ in range(6):
            result += one / (w * w)
            w = w + one
        ixx = one / (w * w)
        result += (one + one / (ft(2) * w)
                   + ixx * (one / ft(6) - ixx * (one / ft(30) - ixx * (one / ft(42))))) / w
        out = np.where(refl, -result, result)
    return out.astype(x.dtype, copy=False)


def _polygamma_np(n: int, x):
    """polygamma(n, x) for n >= 1: (-1)^(n+1) n! zeta(n + 1, x)."""
    if n == 0:
        return _digamma_np(x)
    if n == 1:
        return _trigamma_np(x)
    z = x.astype(np.float64, copy=False)
    out = np.empty_like(z)
    sign_fact = (-1.0) ** (n + 1) * math.factorial(n)
    with np.errstate(all="ignore"):
        pos = z >= 0.5
        out[pos] = sign_fact * _zeta_shifted(n + 1, z[pos])
        neg = ~pos & np.isfinite(z)
        zn = z[neg]
        if n == 1:  # reflection: psi1(1 - x) + psi1(x) = pi^2 / sin^2(pi x)
            out[neg] = (math.pi / _sinpi(zn)) ** 2 - _zeta_shifted(2, 1.0 - zn)
        else:  # recurrence psi_n(x) = psi_n(x + 1) + (-1)^(n+1) n! / x^(n+1), up to 0.5
            acc = np.zeros_like(zn)
            w = zn.copy()
            while (w < 0.5).any():
                m = w < 0.5
                acc[m] += w[m] ** -(n + 1)
                w[m] += 1.0
            out[neg] = sign_fact * (acc + _zeta_shifted(n + 1, w))
        out[np.isnan(z)] = np.nan
        # the poles 0, -1, -2...: zeta(n + 1, x) is +inf there, -0.0 included (the recurrence's
        # (-0.0) ** -(n + 1) would give the opposite sign for even n)
        out[(z <= 0) & (z == np.floor(z))] = math.copysign(math.inf, sign_fact)
        # NOTE: PyTorch's zeta(n + 1, x) (Cephes) is NaN at x = inf and a pole (inf) at -inf
        out[z == np.inf] = np.nan
        out[z == -np.inf] = math.copysign(math.inf, sign_fact)
    return out.astype(x.dtype, copy=False)
