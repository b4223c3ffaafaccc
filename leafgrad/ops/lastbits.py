"""Elementwise math on raw arrays, rounded where PyTorch's CPU kernels round (the last bits).

NumPy's float32 ``exp``, ``tanh``, ``log``... (its own SIMD code) are correctly rounded in only
60-90% of elements; PyTorch's kernels (MKL, Sleef) in 92-99.9%, so a long float32 computation
drifts from PyTorch's numbers. Three rules bring ours to PyTorch's bits wherever that is cheap:

1. **float32 and float16 transcendental functions are evaluated in float64 and rounded once**
   (``in_float64``): the correctly rounded result, which is PyTorch's in all but the elements
   where PyTorch's own function is off by an ulp (see ``docs/last_bits.md`` for the figures).
   float64 uses the C library where it agrees with PyTorch more often than NumPy's SIMD code.
2. **Fused kernels round as PyTorch's do**: a float16 kernel computes in float32 and rounds once
   at the end (``opmath``); a product feeding an addition inside a kernel is fused (``fma``)
   where PyTorch's compiled kernel fuses it (``tanh_backward``: ``g * (1 - y*y)`` with
   ``1 - y*y`` rounded once); a number multiplying a float16 tensor keeps float32 precision
   (``scale``).
3. **Backward formulas follow PyTorch's order of operations** (derivatives.yaml), so the same
   roundings happen in the same order: the op modules call these kernels for it.

Every function takes the array module of its input (``leafgrad.backend.array_module``), so
CuPy arrays stay on their device (the C-library float64 path is NumPy's only).

>>> import numpy as np
>>> float(exp(np.array([1.0], np.float32))[0]) == float(np.float32(np.exp(1.0)))
True
"""

from __future__ import annotations

import functools
import os

import numpy as np

from .. import _libm
from ..autograd.node import _IGNORE, _quiet_off, _quiet_on
from ..backend import array_module

__all__ = [
    "sign", "in_float64", "fma", "scale", "divide", "opmath", "LN2", "LN10",
    "exp", "log", "tanh", "expm1", "log1p", "log2", "log10", "exp2", "sinh", "cosh",
    "arcsin", "arccos", "arctan", "arctan2", "sigmoid", "rsqrt", "power", "power_tensor",
    "rpower",
    "tanh_backward", "sigmoid_backward", "lane_sum", "lane_tree", "vector_bytes",
]

_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
LN2 = 0.6931471805599453  # M_LN2, as derivatives.yaml writes it
LN10 = 2.3025850929940456  # M_LN10 (math.log(10) is one ulp above it)
_BLOCK = 1 << 16  # elements per float64 scratch block: 512 KiB, stays in cache
_ONE64 = np.ones((), np.float64)  # 1.0 as a 0-d array: NumPy's Python-number path is slower


def _float64_blocks(fn, x: np.ndarray, more: tuple) -> np.ndarray:
    """``fn`` over float64 copies of ``x`` (and of the arrays in ``more``, of x's shape) in
    cache-sized blocks, written back in x's dtype: no full-size float64 temporaries, whose
    allocation (page faults) costs more than the arithmetic on big arrays."""
    out = np.empty(x.shape, x.dtype)
    src, dst = x.reshape(-1), out.reshape(-1)
    bufs = [np.empty(_BLOCK, np.float64) for _ in range(1 + sum(np.ndim(m) > 0 for m in more))]
    flat = [m.reshape(-1) if np.ndim(m) else m for m in more]
    for i in range(0, src.size, _BLOCK):
        k = min(_BLOCK, src.size - i)
        b = bufs[0][:k]
        np.copyto(b, src[i:i + k])
        args, j = [], 1
        for m in flat:
            if np.ndim(m):
                np.copyto(bufs[j][:k], m[i:i + k])
                args.append(bufs[j][:k])
                j += 1
            else:
                args.append(m)
        fn(b, *args, out=b)
        np.copyto(dst[i:i + k], b, casting="same_kind")
    return out


def in_float64(fn, x, *more):
    """``fn`` evaluated on float64 values of ``x`` (and ``more``), rounded once to x's dtype.

    The one place where "compute float32 in float64, round once" lives: for float16 and float32
    arrays the result is the correctly rounded value of the (float64-accurate) function;
    float64 arrays go to ``fn`` unchanged. ``fn`` is a ufunc of x's array module.

    >>> y = in_float64(np.exp, np.array([0.5], np.float32))
    >>> y.dtype, bool(y[0] == np.float32(np.exp(np.float64(np.float32(0.5)))))
    (dtype('float32'), True)
    """
    dt = x.dtype
    if dt == _F64 or dt.kind != "f":
        return fn(x, *more)
    xp = array_module(x)
    token = _quiet_on(_IGNORE)  # inf and nan are values here, as in PyTorch (a cheap errstate)
    try:
        if xp is np and x.size > _BLOCK and x.flags.c_contiguous and all(
                np.ndim(m) == 0 or (np.shape(m) == x.shape and m.flags.c_contiguous)
                for m in more):
            return _float64_blocks(fn, x, more)
        if not more:
            y = xp.asarray(x, dtype=xp.float64)  # an array, also for a NumPy scalar
            return fn(y, out=y).astype(dt)
        args = [x.astype(xp.float64)] + [m.astype(xp.float64) if hasattr(m, "astype") else m
                                         for m in more]
        return fn(*args).astype(dt)
    finally:
        _quiet_off(token)


def fma(a, b, c):
    """``a * b + c`` rounded once (a fused multiply-add), for float16/32/64 arrays.

    PyTorch's compiled CPU kernels fuse such products into the addition (the compiler contracts
    them into FMA instructions), so their bits differ from two NumPy operations. This is the
    exact kernel the optimizers use (``leafgrad.optim._kernels.fma``): float32 through float64
    with its rare double-rounding midpoints redone, float64 by error-free transformations and
    round-to-odd, float16 in float32 and rounded once more, as PyTorch's opmath does.

    >>> y = np.array([0.9999], np.float32)
    >>> exact = np.float32(1 - np.float64(y[0]) ** 2)
    >>> bool(fma(-y, y, np.float32(1))[0] == exact), bool(1 - y[0] * y[0] == exact)
    (True, False)
    """
    global _fma_into
    # NOTE: the operands are arrays or NumPy scalars of one float dtype (the kernels' own)
    arr = a if getattr(a, "ndim", 0) else (b if getattr(b, "ndim", 0) else c)
    if not getattr(arr, "ndim", 0):  # all 0-d: an array (a device's) decides, not a scalar
        arr = next((v for v in (a, b, c) if hasattr(v, "ndim") and not isinstance(v, np.generic)),
                   arr)
    if _fma_into is None:  # the optimizers' package, loaded when first needed (import time)
        from ..optim._kernels import fma as _fma_into
    xp = array_module(arr)
    out = xp.empty(np.broadcast_shapes(*(np.shape(v) for v in (a, b, c))), arr.dtype)
    _fma_into(a, b, c, out)
    return out


_fma_into = None  # leafgrad.optim._kernels.fma once loaded (see fma)


def scale(x, s: float):
    """``x * s`` for a Python number ``s``, as PyTorch multiplies a tensor by a scalar.

    float16 computes in float32 ("opmath") and rounds once; NumPy would round ``s`` to half
    first. Tensors (a graph of the backward) use the recorded op, which does the same.

    >>> float(scale(np.array([1.0], np.float16), 0.1)[0]) == float(np.float16(np.float32(0.1)))
    True
    """
    if _is_half(x):
        return (x.astype(np.float32) * np.float32(s)).astype(_F16)
    return x * s


def _is_half(x) -> bool:
    """An array (not a Tensor: its ops round as PyTorch's already) of float16."""
    dt = getattr(x, "dtype", None)
    return isinstance(dt, np.dtype) and dt == _F16


def divide(x, s: float):
    """``x / s`` for a Python number ``s``, as PyTorch divides a tensor by a scalar (float16 in
    float32, rounded once).

    >>> divide(np.array([1.0], np.float16), 3000)
    array([0.0003333], dtype=float16)
    """
    if _is_half(x):
        return (x.astype(np.float32) / np.float32(s)).astype(_F16)
    return x / s


def opmath(x):
    """The working precision of a PyTorch kernel: float16 arrays become float32.

    >>> opmath(np.ones(1, np.float16)).dtype
    dtype('float32')
    """
    return x.astype(np.float32) if x.dtype == _F16 else x


# -- transcendental functions -----------------------------------------------------------------
# float64: the C library where it agrees with torch more often than NumPy's SIMD loops (measured
# per function: docs/last_bits.md); NumPy's own loops otherwise.
_LIBM64 = {"exp": _libm.exp}
_NP = {name: getattr(np, name) for name in (
    "exp", "log", "tanh", "expm1", "log1p", "log2", "log10", "exp2", "sinh", "cosh", "arcsin",
    "arccos", "arctan")}


def _unary(name: str, x):
    dt = x.dtype
    if (dt is _F32 or dt is _F16) and type(x) is np.ndarray and x.size <= _BLOCK:
        token = _quiet_on(_IGNORE)  # the common small case, inline (W1: per-op overhead)
        try:
            y = x.astype(np.float64)
            return _NP[name](y, out=y).astype(dt)
        finally:
            _quiet_off(token)
    xp = array_module(x)
    fn = getattr(xp, name)
    if dt == _F64:
        token = _quiet_on(_IGNORE)
        try:
            return _LIBM64[name](x) if xp is np and name in _LIBM64 else fn(x)
        finally:
            _quiet_off(token)
    return in_float64(fn, x)


def unary_in_op(name: str, x):
    """``_unary`` for an Op's forward, which runs with NumPy quiet already (the dispatchers and
    Op's wrapper see to it): the small float32 case without switching NumPy's error state again.

    >>> unary_in_op("tanh", np.zeros(1, np.float32))
    array([0.], dtype=float32)
    """
    dt = x.dtype
    if (dt is _F32 or dt is _F16) and type(x) is np.ndarray and x.size <= _BLOCK:
        y = x.astype(np.float64)
        return _NP[name](y, out=y).astype(dt)
    return _unary(name, x)


def sign(x):
    """Elementwise sign, 0 at NaN as PyTorch's kernel (NumPy's sign of NaN is NaN).

    >>> sign(np.array([-2.0, np.nan, 3.0])).tolist()
    [-1.0, 0.0, 1.0]
    """
    xp = array_module(x)
    out = xp.sign(x)
    if out.dtype.kind in "fc":
        out = xp.where(xp.isnan(x), 0, out).astype(out.dtype, copy=False)
    return out


def exp(x):
    """e**x.

    >>> exp(np.zeros(1, np.float32))
    array([1.], dtype=float32)
    """
    return _unary("exp", x)


def log(x):
    """Natural logarithm.

    >>> log(np.ones(1, np.float32))
    array([0.], dtype=float32)
    """
    return _unary("log", x)


def tanh(x):
    """Hyperbolic tangent.

    >>> tanh(np.zeros(1, np.float32))
    array([0.], dtype=float32)
    """
    return _unary("tanh", x)


def expm1(x):
    """e**x - 1.

    >>> expm1(np.zeros(1, np.float32))
    array([0.], dtype=float32)
    """
    return _unary("expm1", x)


def log1p(x):
    """log(1 + x).

    >>> log1p(np.zeros(1, np.float32))
    array([0.], dtype=float32)
    """
    return _unary("log1p", x)


def log2(x):
    """Base-2 logarithm.

    >>> log2(np.full(1, 8, np.float32))
    array([3.], dtype=float32)
    """
    return _unary("log2", x)


def log10(x):
    """Base-10 logarithm.

    >>> log10(np.full(1, 100, np.float32))
    array([2.], dtype=float32)
    """
    return _unary("log10", x)


def exp2(x):
    """2**x.

    >>> exp2(np.full(1, 3, np.float32))
    array([8.], dtype=float32)
    """
    return _unary("exp2", x)


def sinh(x):
    """Hyperbolic sine.

    >>> sinh(np.zeros(1, np.float32))
    array([0.], dtype=float32)
    """
    return _unary("sinh", x)


def cosh(x):
    """Hyperbolic cosine.

    >>> cosh(np.zeros(1, np.float32))
    array([1.], dtype=float32)
    """
    return _unary("cosh", x)


def arcsin(x):
    """Inverse sine.

    >>> arcsin(np.zeros(1, np.float32))
    array([0.], dtype=float32)
    """
    return _unary("arcsin", x)


def arccos(x):
    """Inverse cosine.

    >>> arccos(np.ones(1, np.float32))
    array([0.], dtype=float32)
    """
    return _unary("arccos", x)


def arctan(x):
    """Inverse tangent.

    >>> arctan(np.zeros(1, np.float32))
    array([0.], dtype=float32)
    """
    return _unary("arctan", x)


def arctan2(y, x):
    """The angle of the point (x, y), for two arrays of one float dtype.

    >>> arctan2(np.zeros(1, np.float32), np.ones(1, np.float32))
    array([0.], dtype=float32)
    """
    xp = array_module(y)
    return in_float64(xp.arctan2, y, x)


def sigmoid(x):
    """1 / (1 + exp(-x)) as PyTorch's kernel computes it: the exponential, then two roundings.

    >>> sigmoid(np.zeros(1, np.float32))
    array([0.5], dtype=float32)
    """
    w = opmath(x)
    e = exp(-w)  # NOTE: exp(-x) overflows to inf for x < -88 and 1 / (1 + inf) = 0 is right
    e += 1
    if e.ndim:
        array_module(e).reciprocal(e, out=e)
    else:
        e = 1 / e
    return e.astype(x.dtype, copy=False)


def rsqrt(x):
    """1 / sqrt(x), each rounded (float16 in float32, rounded once).

    >>> rsqrt(np.full(1, 4, np.float32))
    array([0.5], dtype=float32)
    """
    xp = array_module(x)
    w = opmath(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (1 / xp.sqrt(w)).astype(x.dtype, copy=False)


def power(x, e):
    """``x ** e`` for a Python-number exponent, as PyTorch's pow kernel computes it.

    The exponents 2, 3, 0.5, -0.5, -1, -2 are products, square roots and reciprocals (one
    rounding each, float16 in float32); any other exponent is the correctly rounded power of
    x and the exponent as a double (float32 and float64: PyTorch's kernel takes it with
    ``exp_scalar.to<double>()`` and its element loop calls ``std::pow(float, double)``) or
    rounded to half (float16: ``exp_scalar.to<Half>()``, an error past half's range).

    NOTE: never the exponent rounded to float32: an odd integer exponent past 2**24 (2**31 - 1)
    would round to an even one, turning the sign of a negative base's power and of pow's
    derivative (which passes e - 1). torch's SIMD blocks (16+ elements, Sleef powf) take the
    exponent in float32, so a long float32 tensor's full blocks can differ there; leafgrad
    follows the element loop, what torch gives on short tensors and on every block's tail.

    >>> power(np.full(1, 3, np.float32), 3), power(np.full(1, 4, np.float32), -0.5)
    (array([27.], dtype=float32), array([0.5], dtype=float32))
    >>> power(np.full(1, -1, np.float32), 2**31 - 1)
    array([-1.], dtype=float32)
    """
    dt = x.dtype
    if dt.kind != "f":
        return x ** e
    if dt != _F16:  # the common cases first, without casts
        if e == 2:
            return x * x
        if e == 3:
            return x * x * x
    xp = array_module(x)
    w = opmath(x)
    with np.errstate(all="ignore"):
        if e == 2:
            r = w * w
        elif e == 3:
            r = w * w * w
        elif e == 0.5 and dt != _F16:
            # (half has no sqrt shortcut in PyTorch: its pow of -0.0 and -inf differs, +0/inf)
            r = xp.sqrt(w)
        elif e == -0.5 and dt != _F16:
            r = 1 / xp.sqrt(w)
        elif e == -1:
            r = 1 / w
        elif e == -2:
            r = 1 / (w * w)
        elif dt == _F16:
            return x ** _half_exponent(e)  # NOTE: half's kernel takes the exponent as a half
        elif dt == _F64:
            return x ** float(e)
        else:
            return in_float64(xp.power, x, float(e))
    return r.astype(dt, copy=False)


def _half_exponent(e):
    """Python-number exponent ``e`` as float16, or PyTorch's error where it is finite and past
    half's range (``exp_scalar.to<Half>()`` is a checked conversion: 65504.5 is refused, not
    rounded to 65504 or to inf).

    >>> _half_exponent(3)
    np.float16(3.0)
    """
    if abs(e) > 65504 and abs(e) != float("inf"):
        raise RuntimeError(
            "value cannot be converted to type c10::Half without overflow\nWhy: a float16 "
            "tensor's pow takes its exponent as a float16, whose largest finite value is 65504 "
            "(pow's derivative passes exponent - 1); convert the tensor first, e.g. x.float().")
    return _F16.type(e)


def power_tensor(a, b):
    """``a ** b`` for two arrays: float32 correctly rounded (through float64).

    >>> power_tensor(np.full(1, 2, np.float32), np.full(1, 0.5, np.float32))
    array([1.4142135], dtype=float32)
    """
    rt = np.result_type(a, b)
    if rt == _F32:
        with np.errstate(all="ignore"):
            return in_float64(array_module(a).power, a, b)
    if rt.kind in "iu":
        return int_power(a, b)
    return a ** b


def int_power(a, b):
    """Integer ``a ** b`` as PyTorch computes it: a negative exponent gives 1 for a base of 1,
    +-1 for -1 (by the exponent's parity) and 0 otherwise, where NumPy refuses the whole array.

    >>> int_power(np.array([2, -1, 1, 3]), np.array([-1, -3, -2, 2]))
    array([ 0, -1,  1,  9])
    """
    xp = array_module(a if hasattr(a, "dtype") else b)
    neg = b < 0
    if not xp.any(neg):
        return a ** b
    r = a ** xp.where(neg, 0, b)
    one = xp.ones((), r.dtype)
    alt = xp.where(a == 1, one, xp.where(a == -1, xp.where(b % 2 == 0, one, -one), 0 * one))
    return xp.where(neg, alt, r).astype(r.dtype, copy=False)


def rpower(base: float, x):
    """``base ** x`` for a Python-number base: float32 correctly rounded, the base rounded to
    float32 first (PyTorch's kernel takes it in x's dtype).

    >>> rpower(2, np.full(1, 3, np.float32))
    array([8.], dtype=float32)
    """
    with np.errstate(all="ignore"):
        if x.dtype == _F32:
            xp = array_module(x)
            b = float(np.float32(base))
            return in_float64(lambda v, out=None: xp.power(b, v, out=out), x)
        if x.dtype.kind in "iu" and isinstance(base, int):
            info = np.iinfo(x.dtype)  # NOTE: PyTorch wraps an out-of-range base (-1 -> 255)
            return int_power(x.dtype.type((base - info.min) % (1 << info.bits) + info.min), x)
        return base ** x


# -- fused backward kernels ---------------------------------------------------------------------
def tanh_backward(g, y):
    """``g * (1 - y*y)`` with ``1 - y*y`` fused (PyTorch's tanh_backward kernel).

    >>> tanh_backward(np.ones(1, np.float32), np.zeros(1, np.float32))
    array([1.], dtype=float32)
    """
    dt = g.dtype
    if dt is _F32 and y.dtype is _F32 and type(y) is np.ndarray and y.size <= _BLOCK:
        # NOTE: fma's float32 case inline, in four NumPy calls (small tensors: per-op overhead):
        # y*y is exact in float64, 1 - y*y rounded there, then once more to float32 as fma does
        r = y.astype(np.float64)
        np.multiply(r, r, out=r)
        np.subtract(_ONE64, r, out=r)
        return g * r.astype(_F32)
    if dt == _F16:
        g32, y32 = g.astype(np.float32), y.astype(np.float32)
        return (g32 * (1 - y32 * y32)).astype(_F16)
    return g * fma(-y, y, dt.type(1))


def sigmoid_backward(g, y):
    """``g * (1 - y) * y`` in PyTorch's order (its sigmoid_backward kernel).

    >>> sigmoid_backward(np.ones(1, np.float32), np.full(1, 0.5, np.float32))
    array([0.25], dtype=float32)
    """
    return g * (1 - y) * y


# -- reductions inside kernels --------------------------------------------------------------------
def vector_bytes() -> int:
    """The width of PyTorch's CPU vectors here: 64 bytes with AVX-512, else 32.

    PyTorch's fused kernels (softmax) sum along the last dim lane by lane in vectors of this
    width and then across the lanes, so the order of the additions, and the last bits of the
    sum, depend on it. ``ATEN_CPU_CAPABILITY`` sets it as it sets PyTorch's.

    >>> vector_bytes() in (32, 64)
    True
    """
    cap = os.environ.get("ATEN_CPU_CAPABILITY", "").lower()
    if cap:
        return 64 if cap.startswith("avx512") else 32
    return _cpu_vector_bytes()


@functools.cache
def _cpu_vector_bytes() -> int:
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as feats
    avx512 = all(feats.get(k) for k in ("AVX512F", "AVX512BW", "AVX512VL", "AVX512DQ"))
    return 64 if avx512 else 32


def lane_sum(a, axis: int, times=None, width: int | None = None):
    """Sum along ``axis`` (kept as size 1) in the order of PyTorch's vectorised kernels.

    Along the last axis (PyTorch's ``reduce_all``): whole vectors are added lane by lane, the
    remainder into the first lanes, then across the lanes (``lane_tree``); fewer elements than
    a vector are added in order. Along any other axis each lane runs down
    the axis in order. NumPy's pairwise sum would round differently. With ``times``, the sum
    of ``a * times`` (``map2_reduce_all``): products rounded, except the remainder's, which
    its compiled kernel fuses into the lanes. ``width``: the vector's bytes (default
    ``vector_bytes()``; a kernel ATen registers up to AVX2 only has 32).

    >>> lane_sum(np.arange(5, dtype=np.float32).reshape(1, 5), 1)
    array([[10.]], dtype=float32)
    """
    xp = array_module(a)
    axis = axis % a.ndim
    terms = a if times is None else a * times
    if xp is not np:  # NOTE: a GPU sums in its own order; PyTorch's CPU lanes do not apply
        return terms.sum(axis=axis, keepdims=True)
    if axis != a.ndim - 1:  # NOTE: NumPy reduces a non-inner axis in order, lane by lane
        return xp.add.reduce(terms, axis=axis, keepdims=True)
    n = a.shape[-1]
    lanes = (width or vector_bytes()) // a.dtype.itemsize
    if n < lanes:
        return xp.add.accumulate(terms, axis=-1)[..., -1:]
    full = n - n % lanes
    lead = terms.shape[:-1]
    acc = xp.add.reduce(terms[..., :full].reshape(lead + (full // lanes, lanes)), axis=-2)
    if full < n:
        t = n - full
        if times is None:
            acc[..., :t] += a[..., full:]
        else:
            acc[..., :t] = fma(a[..., full:], np.broadcast_to(times, terms.shape)[..., full:],
                               acc[..., :t])
    return lane_tree(acc)[..., None]


def lane_tree(acc):
    """The sum across the last axis of a vector of lanes, as ATen's ``vec_reduce_all`` adds
    them: float32 by its shuffle tree (halves, then quarters...), any other dtype lane after
    lane in order (ATen has no SIMD tree for them).

    >>> float(lane_tree(np.array([1e16, 1.0, -1e16, 1.0])))
    1.0
    """
    if acc.dtype != _F32:
        out = acc[..., 0]
        for k in range(1, acc.shape[-1]):
            out = out + acc[..., k]
        return out
    while acc.shape[-1] > 1:
        h = acc.shape[-1] // 2
        acc = acc[..., :h] + acc[..., h:]
    return acc[..., 0]

