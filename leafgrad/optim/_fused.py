"""The float32 updates of SGD and Adam/AdamW, done chunk by chunk, with an exact FMA per chunk.

Every operation of these updates is elementwise, so doing all of an update's operations on one
chunk of a parameter before moving to the next chunk gives exactly the numbers that doing each
operation over the whole parameter gives (the same roundings, in the same order, per element).
It is faster: a chunk's parameter, gradient, state and float64 scratch stay in the core's cache
between the update's dozen passes instead of streaming from memory for each.

``fma32`` is the one fused multiply-add (``RN32(a * b + c)``, what torch's CPU kernels compute
for ``add(alpha=)``, ``addcmul`` and ``lerp``): the product of two float32 numbers is exact in
float64, so ``v = float64(a) * b + float64(c)`` rounds once; rounding ``v`` to float32 then
gives the correctly rounded FMA unless ``v`` landed exactly on a float32 rounding midpoint (the
double rounding case, found with one shift and one ``min``) or in float32's subnormal range
(the float64 -> float32 cast raises NumPy's underflow flag exactly then, which ``errors()``
turns into a note at no cost; outside it, ``c`` is searched for values small enough). Chunks
with such elements have them redone with an error-free sum and round-to-odd.

These functions take flat, C-contiguous float32 NumPy arrays (``usable`` says when the caller's
arrays qualify); everything else goes through ``_kernels``, op by op.
"""

from __future__ import annotations

import threading

import numpy as np

from .._mt19937 import _round_to_odd, _two_sum

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
CHUNK = 32768  # elements: the float64 scratch of a chunk (2 x 256 KB) stays in the L2 cache
_I64_MIN = np.iinfo(np.int64).min
_ONE32 = np.uint32(1)
_35 = np.int64(35)
_TINY32 = np.uint32(7 << 24)  # float32 bits of 2**-120, shifted left by one (the sign dropped)
_TINY64 = np.uint64((898 << 53) + 1)  # just above the float64 bits of 2**-125, shifted left by one
_MIN = np.minimum.reduce  # ndarray.min() goes through two Python layers first


class _Work(threading.local):
    """Per-thread scratch arrays of one chunk, allocated once (fresh pages cost more than the
    arithmetic: the kernel zero-fills each one)."""

    def __init__(self) -> None:
        self.size = 0
        self.under = False  # set when a float op underflowed (see ``errors``)
        self.armed = False  # inside ``errors()``, where underflows set ``under``

    def get(self) -> _Work:
        if self.size != CHUNK:  # CHUNK is a module setting (tests make it small)
            self.size = CHUNK
            self.s = np.empty(CHUNK, F64)      # the float64 sums
            self.u = np.empty(CHUNK, F64)      # a float64 operand (last: c)
            self.k = np.empty(CHUNK, np.int64)  # the midpoint keys
            self.w = np.empty(CHUNK, np.uint32)  # the subnormal check's keys
            self.d = np.empty(CHUNK, F32)      # float32 temporaries of an update
            self.q = np.empty(CHUNK, F32)
        return self


_WORK = _Work()


def usable(*arrays) -> bool:
    """Whether these arrays can take the chunked path: NumPy float32, C-contiguous.

    >>> usable(np.zeros(3, np.float32)), usable(np.zeros(3))
    (True, False)
    """
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != F32 or not a.flags.c_contiguous:
            return False
    return True


def fma32(out, a, b, c, work=None) -> None:
    """``out = RN32(a * b + c)`` rounded once, for 1-d float32 arrays of one chunk at most.

    ``b`` is a float32 array or a Python float holding a float32 value; ``out`` may be ``c``'s
    array (not ``a``'s or ``b``'s). Inside ``errors()`` the subnormal check is free (the cast
    reports underflows); outside it costs two passes over ``c``.

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
    if _MIN(keys) == _I64_MIN:
        _exact_fix(out, a, b, u, s)
        return
    if not w.armed:  # outside ``errors()`` (or a NumPy that does not flag casts): look
        if _has_tiny(c, w.w[:n]):
            _exact_fix(out, a, b, u, s)
            return
    w.under = False
    np.copyto(out, s, casting="same_kind")
    if w.under:  # a result rounded into float32's subnormal range: maybe double-rounded
        _exact_fix(out, a, b, u, s)


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


def _exact_fix(out, a, b, c64, s) -> None:
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


def _on_underflow(kind: str, flag: int) -> None:
    _WORK.under = True


class errors:
    """The floating-point error state the kernels run in: overflows and invalid results give
    torch's inf and nan without warnings, and underflows are noted for ``fma32``.

    >>> with errors(): x = np.float32([3e38]) * np.float32(2)  # no RuntimeWarning
    >>> x
    array([inf], dtype=float32)
    """

    def __enter__(self) -> errors:
        self._state = np.errstate(over="ignore", invalid="ignore", divide="ignore",
                                  under="call", call=_on_underflow)
        self._state.__enter__()
        self._armed = _WORK.armed
        _WORK.armed = _CASTS_REPORT_UNDERFLOW
        return self

    def __exit__(self, *exc) -> None:
        _WORK.armed = self._armed
        self._state.__exit__(*exc)


def _casts_report_underflow() -> bool:
    """Whether this NumPy flags an underflow in a float64 -> float32 cast (NumPy >= 1.24 does).

    ``fma32`` relies on it to find results in float32's subnormal range, so it is checked
    once, on arrays of several lengths (SIMD loops and their tails), before it is trusted.
    """
    ok = True
    with np.errstate(under="call", call=_on_underflow):
        for n in (1, 3, 8, 17, 100, 4099):
            for pos in {0, n // 2, n - 1}:
                x = np.ones(n)
                x[pos] = 3 * 2.0**-151  # between float32 subnormals: inexact
                _WORK.under = False
                np.copyto(np.empty(n, F32), x, casting="same_kind")
                ok = ok and _WORK.under
    _WORK.under = False
    return ok


def add(out, a, b, alpha: float, work=None) -> None:
    """``torch.add(a, b, alpha=alpha)`` on float32 chunks: ``fma(b, alpha, a)``."""
    if alpha == 1:
        np.add(a, b, out=out)
    elif alpha == -1:
        np.subtract(a, b, out=out)
    else:
        fma32(out, b, f32(alpha), a, work)


def f32(x) -> float:
    """A Python number rounded to float32 (``Scalar.to<float>()``), as a Python float.

    >>> f32(0.1)
    0.10000000149011612
    """
    return float(np.float32(x))


# -- SGD -------------------------------------------------------------------------------------

def sgd(p, g, buf, *, lr, weight_decay, momentum, dampening, nesterov, maximize, first):
    """One ``torch.optim.SGD`` update of a flat float32 parameter ``p`` (torch's op order).

    ``buf`` is the flat momentum buffer (``None`` without momentum); ``first`` says it is new
    and gets the gradient (torch's ``clone(grad)``).
    """
    w = _WORK.get()
    mom = np.float32(momentum)
    for i in range(0, p.shape[0], CHUNK):
        j = slice(i, i + CHUNK)
        pc, gc = p[j], g[j]
        n = pc.shape[0]
        d, q = w.d[:n], w.q[:n]
        if maximize:
            np.negative(gc, out=d)
            gc = d
        if weight_decay != 0:
            add(q, gc, pc, weight_decay, w)
            gc = q
        if momentum != 0:
            bc = buf[j]
            if first:
                np.copyto(bc, gc)
            else:
                np.multiply(bc, mom, out=bc)
                add(bc, bc, gc, 1 - dampening, w)
            if nesterov:
                t = d if gc is q else q  # a scratch that does not hold the gradient
                add(t, gc, bc, momentum, w)
                gc = t
            else:
                gc = bc
        add(pc, pc, gc, -lr, w)


# -- Adam / AdamW ----------------------------------------------------------------------------

def adam(p, g, m, v, vmax, *, lr, beta1, beta2, eps, weight_decay, decoupled, maximize,
         step_size, bias_correction2_sqrt):
    """One ``torch.optim.Adam`` update (AdamW's with ``decoupled``) of flat float32 arrays.

    ``m``, ``v``, ``vmax``: ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq`` (``None`` without
    AMSGrad); ``step_size`` and ``bias_correction2_sqrt`` are torch's Python floats.
    """
    w = _WORK.get()
    decay = np.float32(1 - lr * weight_decay) if decoupled else None
    wgt = f32(1 - beta1)  # lerp's weight: torch's lerp takes one of two forms by its size
    small = abs(wgt) < 0.5
    wgt_m1 = float(np.float32(wgt) - np.float32(1))
    b2 = np.float32(beta2)
    val = 1 - beta2
    val32 = np.float32(val)
    bc2 = np.float32(bias_correction2_sqrt)
    eps32 = np.float32(eps)
    nstep = np.float32(-step_size)
    for i in range(0, p.shape[0], CHUNK):
        j = slice(i, i + CHUNK)
        pc, gc, mc, vc = p[j], g[j], m[j], v[j]
        n = pc.shape[0]
        d, q = w.d[:n], w.q[:n]
        if maximize:
            np.negative(gc, out=q)
            gc = q
        if weight_decay != 0:
            if decoupled:
                np.multiply(pc, decay, out=pc)
            else:
                add(q, gc, pc, weight_decay, w)
                gc = q
        # exp_avg.lerp_(grad, 1 - beta1)
        np.subtract(gc, mc, out=d)
        if small:
            fma32(mc, d, wgt, mc, w)
        else:
            fma32(mc, d, wgt_m1, gc, w)
        # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        np.multiply(vc, b2, out=vc)
        if val == 1:
            fma32(vc, gc, gc, vc, w)
        else:
            np.multiply(gc, val32, out=d)
            fma32(vc, d, gc, vc, w)
        # denom = (sqrt(v) / bias_correction2_sqrt).add_(eps); param.addcdiv_(m, denom, -step)
        if vmax is not None:
            xc = vmax[j]
            np.maximum(xc, vc, out=xc)
            np.sqrt(xc, out=d)
        else:
            np.sqrt(vc, out=d)
        np.divide(d, bc2, out=d)
        np.add(d, eps32, out=d)
        if step_size == -1:  # addcdiv with value 1 divides only
            np.divide(mc, d, out=d)
        else:
            np.multiply(mc, nstep, out=q)
            np.divide(q, d, out=d)
        np.add(pc, d, out=pc)


_CASTS_REPORT_UNDERFLOW = _casts_report_underflow()
