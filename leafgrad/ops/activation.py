"""Activation ops (``nn.functional``'s elementwise nonlinearities) as fused nodes.

Each op is one node with PyTorch's name (``GeluBackward0``, ``EluBackward0``...). Backward
formulas are written with the dual helpers below, so they run on arrays in a plain backward and
on Tensors (recorded, hence differentiable again) under ``create_graph``.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import state
from ..autograd.node import _IGNORE, Op, _quiet_off, _quiet_on
from ..backend import array_module
from ..tensor import Tensor, _wrap
from . import dual, lastbits
from ._apply import record, record_kernel, record_unary
from .elementwise import _erf_f
from .elementwise.special import _erf_f32, _erf_f32_into
from .reduce.diff import _mul_scalar

__all__ = [
    "hardtanh", "hardtanh_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu",
    "selu_", "celu", "celu_", "gelu", "silu", "mish", "softplus", "softsign", "hardsigmoid",
    "hardswish", "hardshrink", "softshrink", "tanhshrink", "threshold", "threshold_", "prelu",
    "rrelu", "rrelu_", "glu", "logsigmoid",
]

_new = object.__new__
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# -- dual helpers: the same call on an array or a Tensor ------------------------------------------
def _raw(x):
    """The array behind ``x`` (conditions of ``where`` are raw boolean arrays)."""
    return x._data if isinstance(x, Tensor) else x


def _exp(x):
    return x.exp() if isinstance(x, Tensor) else lastbits.exp(x)


def _tanh(x):
    return x.tanh() if isinstance(x, Tensor) else lastbits.tanh(x)


def _sigmoid(x):
    return x.sigmoid() if isinstance(x, Tensor) else lastbits.sigmoid(x)


def _erf(x):
    return x.erf() if isinstance(x, Tensor) else _gelu_erf(x)


def _gelu_erf(x):
    """erf inside exact GELU: float32 / float16 through the fast float32 erf (within 2 ulp of
    the correctly rounded value; PyTorch's own GELU erf is an approximation we could not pin
    down, so no exact route matches it better), float64 through the C library."""
    if x.dtype.itemsize <= 4:
        return _erf_f32(x).astype(x.dtype, copy=False)
    return _erf_f(x)


# -- PyTorch's fused CPU kernels, on raw arrays ---------------------------------------------------
# Each computes as the kernel does (float16 in float32, rounded once at the end; products fused
# into additions where the compiled kernel fuses them), so the last bits are PyTorch's wherever
# its exp/tanh agree with the correctly rounded ones (leafgrad.ops.lastbits).
def _kernel(fn):
    """Run ``fn`` on float32 copies of float16 arrays and round its result once."""
    def run(x, *rest):
        w = lastbits.opmath(x)
        with np.errstate(all="ignore"):
            out = fn(w, *(lastbits.opmath(r) if hasattr(r, "dtype") else r for r in rest))
        return out.astype(x.dtype, copy=False)
    run.__name__ = fn.__name__
    return run


@_kernel
def _softplus_raw(x, beta: float, threshold: float):
    """log1p(exp(βx)) / β, x itself past ``threshold`` (PyTorch's softplus kernel)."""
    bx = x * beta
    return array_module(x).where(bx > threshold, x, lastbits.log1p(lastbits.exp(bx)) / beta)


@_kernel
def _softplus_backward_raw(x, g, beta: float, threshold: float):
    """g·z / (z + 1) with z = exp(βx), g itself past ``threshold``."""
    bx = x * beta
    z = lastbits.exp(bx)
    return array_module(x).where(bx > threshold, g, g * z / (z + 1))


@_kernel
def _logsigmoid_raw(x):
    """min(x, 0) − log1p(exp(−|x|)): no overflow for large |x| (PyTorch's kernel)."""
    xp = array_module(x)
    return xp.minimum(x, 0) - lastbits.log1p(lastbits.exp(-xp.abs(x)))


def _logsigmoid_backward_raw(x, g):
    """g·(m − s·z/(1 + z)), z = exp(−|x|), (m, s) = (1, 1) for x < 0 else (0, −1)."""
    xp = array_module(x)
    w = lastbits.opmath(x)
    # NOTE: z is the forward's buffer in PyTorch, kept in the input's dtype (rounded for half)
    z = lastbits.opmath(lastbits.exp(-xp.abs(w)).astype(x.dtype, copy=False))
    q = z / (1 + z)
    with np.errstate(all="ignore"):  # NOTE: 0 - (-1)·q is q exactly
        return (lastbits.opmath(g) * xp.where(w < 0, 1 - q, q)).astype(x.dtype, copy=False)


@_kernel
def _silu_backward_raw(x, g):
    """g·s·(1 + x·(1 − s)), s = sigmoid(x), with the inner product fused."""
    s = 1 / (1 + lastbits.exp(-x))
    return g * s * lastbits.fma(x, 1 - s, x.dtype.type(1))


@_kernel
def _mish_raw(x):
    """x·tanh(log1p(exp(x)))."""
    return x * lastbits.tanh(lastbits.log1p(lastbits.exp(x)))


@_kernel
def _mish_backward_raw(x, g):
    """g·(t + x·s·(1 − t²)), t = tanh(softplus(x)), s = sigmoid(x), products fused."""
    one = x.dtype.type(1)
    s = 1 / (1 + lastbits.exp(-x))
    t = lastbits.tanh(lastbits.log1p(lastbits.exp(x)))
    return g * lastbits.fma(x * s, lastbits.fma(-t, t, one), t)


_SQRT1_2 = 0.7071067811865476  # M_SQRT1_2
_GELU_PDF = 2 / math.sqrt(math.pi) * _SQRT1_2 * 0.5  # M_2_SQRTPI * M_SQRT1_2 * 0.5
_GELU_BETA = math.sqrt(2) * (2 / math.sqrt(math.pi)) * 0.5  # M_SQRT2 * M_2_SQRTPI * 0.5
_GELU_KAPPA = 0.044715


@_kernel
def _gelu_raw(x, approximate: str):
    """x·Φ(x) (erf form), or 0.5·x·(1 + tanh(β(x + κx³))) with κx³ + x fused."""
    t = x.dtype.type
    if approximate == "tanh":
        inner = t(_GELU_BETA) * lastbits.fma(t(_GELU_KAPPA), x * x * x, x)
        return t(0.5) * x * (1 + lastbits.tanh(inner))
    return x * t(0.5) * (1 + _gelu_erf(x * t(_SQRT1_2)))


@_kernel
def _gelu_backward_raw(x, g, approximate: str):
    """PyTorch's GeluBackward kernel: its operation order, with its fused products."""
    t = x.dtype.type
    one = t(1)
    if approximate == "tanh":
        x_sq = x * x
        th = lastbits.tanh(t(_GELU_BETA) * lastbits.fma(t(_GELU_KAPPA), x_sq * x, x))
        left_derivative = t(0.5) * (1 + th)
        tanh_derivative = lastbits.fma(-th, th, one)
        # NOTE: 3 * kappa is rounded in the working dtype first, as the kernel's two constants
        inner_derivative = t(_GELU_BETA) * lastbits.fma(t(3) * t(_GELU_KAPPA), x_sq, one)
        return g * (left_derivative + t(0.5) * x * tanh_derivative * inner_derivative)
    cdf = t(0.5) * (1 + _gelu_erf(x * t(_SQRT1_2)))
    pdf = t(_GELU_PDF) * lastbits.exp(x * x * t(-0.5))
    return g * lastbits.fma(x, pdf, cdf)


def _check_float(x: Tensor, name: str) -> None:
    if x._data.dtype.kind != "f":
        raise NotImplementedError(
            f'"{name}" not implemented for \'{_c10_name(x)}\'\nWhy: {name} is a function of '
            "real numbers; convert the input first (x.float()).")


def _c10_name(x: Tensor) -> str:
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool", "float16": "Half", "float32": "Float", "float64": "Double"}[
        x._data.dtype.name]


def _run(cls, x: Tensor, name: str, **params) -> Tensor:
    """Run unary op ``cls`` (attributes ``params``) on ``x`` and record it."""
    _check_float(x, name)
    fn = _new(cls)
    for k, v in params.items():
        setattr(fn, k, v)
    out = fn.forward(x._data)
    if not state.enabled:
        return _wrap(out)
    return record_unary(fn, x, out)


def _inplace(x: Tensor, result: Tensor, op: str) -> Tensor:
    """Write ``result`` into ``x`` and give ``x`` its history (PyTorch's ``inplace=True``)."""
    return x._inplace_from(result, op)


class ZeroPath(Op):
    """``g`` unchanged, with ``x`` attached by a zero derivative.

    The backward of a piecewise-linear op (or of nll_loss) depends on its input only through a
    mask, so its derivative with respect to that input is zero, and PyTorch returns that zero
    (not None) from a double backward. This node keeps the path so leafgrad does too.
    """

    name_ = "ZeroPathBackward"
    formula = {"g": "grad", "x": "grad * 0"}
    save_inputs = False
    __slots__ = ()

    def forward(self, g, x):
        return g

    def backward(self, grad):
        need = self.needs_input_grad
        return (grad if need[0] else None,
                grad * 0 if need[1] else None)


def zero_path(g, x):
    """``g``, linked to ``x`` with a zero derivative when building a graph of the backward."""
    if not isinstance(g, Tensor) or not isinstance(x, Tensor) or not x._rg:
        return g
    fn = _new(ZeroPath)
    return record(fn, (g, x), g._data)


# -- piecewise-linear ---------------------------------------------------------------------------
class Hardtanh(Op):
    name_ = "HardtanhBackward0"
    same_shape = True
    formula = {"x": "where((x <= min_val) | (x >= max_val), grad * 0, grad)"}
    __slots__ = ("min_val", "max_val")

    def forward(self, x):
        return array_module(x).clip(x, self.min_val, self.max_val).astype(x.dtype, copy=False)

    def backward(self, grad):
        (x,) = self.saved(grad)
        r = _raw(x)
        # NOTE: PyTorch's gradient is 0 at the bounds themselves; the mask is written as the
        # flat region (x <= min or x >= max) so that a NaN input passes the gradient, as the
        # formula of PyTorch's hardtanh_backward does (its vectorized kernel disagrees, see
        # docs/design.md "NaN inputs of piecewise ops")
        return zero_path(dual.where((r <= self.min_val) | (r >= self.max_val), 0, grad), x)


class LeakyRelu(Op):
    name_ = "LeakyReluBackward0"
    same_shape = True
    formula = {"x": "where(x > 0, grad, grad * negative_slope)"}
    __slots__ = ("negative_slope",)

    def forward(self, x):
        return array_module(x).where(x > 0, x, x * self.negative_slope).astype(x.dtype,
                                                                               copy=False)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return zero_path(dual.where(_raw(x) > 0, grad, grad * self.negative_slope), x)


class Threshold(Op):
    name_ = "ThresholdBackward0"
    same_shape = True
    formula = {"x": "where(x <= threshold, grad * 0, grad)"}
    __slots__ = ("threshold", "value")

    def forward(self, x):
        xp = array_module(x)
        # NOTE: x <= threshold, not x > threshold: a NaN input stays NaN (PyTorch)
        return xp.where(x <= self.threshold, xp.asarray(self.value, x.dtype), x).astype(
            x.dtype, copy=False)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return zero_path(dual.where(_raw(x) <= self.threshold, 0, grad), x)


class Hardshrink(Op):
    name_ = "HardshrinkBackward0"
    same_shape = True
    formula = {"x": "where((x >= -lambd) & (x <= lambd), grad * 0, grad)"}
    __slots__ = ("lambd",)

    def forward(self, x):
        xp = array_module(x)
        return xp.where((x >= -self.lambd) & (x <= self.lambd), xp.zeros((), x.dtype), x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        r = _raw(x)
        return zero_path(dual.where((r >= -self.lambd) & (r <= self.lambd), 0, grad), x)


class Softshrink(Op):
    name_ = "SoftshrinkBackward0"
    same_shape = True
    formula = {"x": "where((x >= -lambd) & (x <= lambd), grad * 0, grad)"}
    __slots__ = ("lambd",)

    def forward(self, x):
        xp = array_module(x)
        lam = x.dtype.type(self.lambd)
        # NOTE: 0 inside [-lambd, lambd], else shifted toward 0: a NaN stays NaN (PyTorch)
        return xp.where((x >= -lam) & (x <= lam), xp.zeros((), x.dtype),
                        xp.where(x > lam, x - lam, x + lam))

    def backward(self, grad):
        (x,) = self.saved(grad)
        r = _raw(x)
        return zero_path(dual.where((r >= -self.lambd) & (r <= self.lambd), 0, grad), x)


class Hardsigmoid(Op):
    name_ = "HardsigmoidBackward0"
    same_shape = True
    formula = {"x": "where((x > -3) & (x < 3), grad * float32(1 / 6), grad * 0)"}
    __slots__ = ()

    def forward(self, x):
        xp = array_module(x)
        return (xp.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    def backward(self, grad):
        (x,) = self.saved(grad)
        r = _raw(x)
        # NOTE: PyTorch multiplies by 1/6 rounded to float32, even for float64 tensors
        sixth = r.dtype.type(np.float32(1.0) / np.float32(6.0))
        return zero_path(dual.where((r > -3) & (r < 3), grad * sixth, 0), x)


class Hardswish(Op):
    name_ = "HardswishBackward0"
    same_shape = True
    formula = {"x": "where(x <= -3, grad * 0, where(x < 3, grad * (x / 3 + 0.5), grad))"}
    __slots__ = ()

    def forward(self, x):
        xp = array_module(x)
        return (x * xp.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    def backward(self, grad):
        (x,) = self.saved(grad)
        r = _raw(x)
        # NOTE: PyTorch's hardswish_backward: 0 for x <= -3, the slope for -3 < x < 3, and
        # grad for x >= 3 (and for a NaN input, which fails both comparisons)
        # (grad masked before the product: PyTorch's double backward is where(-3 < x < 3,
        # grad * gg / 3, 0), an exact 0 outside even for an inf or NaN grad)
        mid = (r > -3) & (r < 3)
        return dual.where(r <= -3, 0, dual.where(mid, dual.where(mid, grad, 0) * (x / 3 + 0.5),
                                                 grad))


# -- smooth ---------------------------------------------------------------------------------------
class Elu(Op):
    """elu / selu (``EluBackward0``): scale·x for x > 0, else scale·α·(exp(input_scale·x) − 1)."""

    name_ = "EluBackward0"
    same_shape = True
    formula = {"x": "where(x <= 0, grad * input_scale * scale * alpha * "
                    "(x * input_scale).exp(), grad * scale)"}
    __slots__ = ("alpha", "scale", "input_scale")

    def forward(self, x):
        return _elu_raw(x, self.alpha, self.scale, self.input_scale)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return _elu_backward(grad, x, self.alpha, self.scale, self.input_scale)


class EluBackward(Op):
    """elu's backward as one op with PyTorch's derivatives (``EluBackwardBackward0``): for the
    input, ``elu_backward(gg·g·input_scale, x) · (x < 0)`` (elu_double_backward), the mask
    multiplied last as PyTorch does (an infinite gradient where x >= 0 gives NaN there)."""

    name_ = "EluBackwardBackward0"
    formula = {"g": "where(x <= 0, grad * input_scale * scale * alpha * "
                    "(x * input_scale).exp(), grad * scale)",
               "x": "where(x <= 0, grad * g * input_scale * input_scale * scale * alpha * "
                    "(x * input_scale).exp(), grad * g * input_scale * scale) * (x < 0)"}
    __slots__ = ("alpha", "scale", "input_scale")

    def forward(self, g, x):
        return _elu_backward_raw(x, g, self.alpha, self.scale, self.input_scale)

    def backward(self, grad):
        g, x = self.saved(grad)
        need = self.needs_input_grad
        a, sc, isc = self.alpha, self.scale, self.input_scale
        gg = gx = None
        if need[0]:
            gg = _elu_backward(grad, x, a, sc, isc)
        if need[1]:
            v = grad * g * isc
            inner = _elu_backward(v, x, a, sc, isc)
            neg = (dual.raw(x) < 0).astype(dual.raw(v).dtype)
            gx = inner * (_wrap(neg) if isinstance(inner, Tensor) else neg)
        return gg, gx


def _elu_backward(grad, x, alpha: float, scale: float, input_scale: float):
    """``elu_backward(grad, x)``: the fused kernel, or one EluBackwardBackward0 node."""
    return _fused_backward(EluBackward, _elu_backward_raw, grad, x, alpha=alpha, scale=scale,
                           input_scale=input_scale)


def _fused_backward(cls, raw, grad, x, **attrs):
    """``raw(x, grad, *attrs)``, one of PyTorch's fused backward kernels, on arrays; with a
    Tensor operand (create_graph) recorded as one ``cls`` node, PyTorch's *BackwardBackward0
    with its own derivatives (so a second derivative has PyTorch's node and NaN/inf routes)."""
    if not isinstance(grad, Tensor) and not isinstance(x, Tensor):
        return raw(x, grad, *attrs.values())  # (the first-order pass: no node object)
    fn = _new(cls)
    for name, value in attrs.items():
        setattr(fn, name, value)
    return record_kernel(fn, (grad, x))


@_kernel
def _elu_raw(x, alpha: float, scale: float, input_scale: float):
    """scale·x for x > 0, else expm1(input_scale·x)·(α·scale) (PyTorch's elu kernel)."""
    t = x.dtype.type
    neg = lastbits.expm1(x * t(input_scale)) * t(alpha * scale)
    return array_module(x).where(x > 0, x * t(scale), neg)


@_kernel
def _elu_backward_raw(x, g, alpha: float, scale: float, input_scale: float):
    """g·input_scale·(α·scale)·exp(input_scale·x) for x ≤ 0, else (NaN too) g·scale."""
    t = x.dtype.type
    neg = g * t(input_scale) * t(alpha * scale) * lastbits.exp(x * t(input_scale))
    return array_module(x).where(x <= 0, neg, g * t(scale))


class Celu(Elu):
    name_ = "CeluBackward0"
    __slots__ = ()


class Gelu(Op):
    name_ = "GeluBackward0"
    same_shape = True
    # d/dx x·Φ(x) = Φ(x) + x·φ(x); the tanh form differentiates its own approximation
    formula = {"x": "gelu_backward(grad, x, approximate)"}
    __slots__ = ("approximate", "cdf")

    def forward(self, x):
        if self.approximate != "tanh" and x.dtype == np.float32:
            # NOTE: Φ(x) is kept for the first backward (erf is the costly part of both
            # passes); a second backward (retain_graph) or a graph of the backward recomputes it
            if type(x) is np.ndarray and x.size > _GELU_BLOCK:
                out, self.cdf = _gelu_erf_f32_blocks(x)
                return out
            t = x.dtype.type
            cdf = t(0.5) * (1 + _gelu_erf(x * t(_SQRT1_2)))
            self.cdf = cdf
            return x * cdf
        return _gelu_raw(x, self.approximate)

    def backward(self, grad):
        x = self.saved(grad)[0]
        cdf = getattr(self, "cdf", None)
        if cdf is not None and not isinstance(grad, Tensor):
            self.cdf = None
            if type(x) is np.ndarray and x.size > _GELU_BLOCK and type(grad) is np.ndarray \
                    and grad.dtype == x.dtype and grad.shape == x.shape:
                return _gelu_backward_f32_blocks(x, cdf, grad)
            t = x.dtype.type
            pdf = t(_GELU_PDF) * lastbits.exp(x * x * t(-0.5))
            return grad * lastbits.fma(x, pdf, cdf)  # as _gelu_backward_raw, Φ(x) reused
        return _gelu_backward(grad, x, self.approximate)

    def __getattr__(self, name: str):
        if name == "cdf":
            return None
        return super().__getattr__(name)


_GELU_BLOCK = 1 << 16  # elements per block of the float32 GELU: its temporaries stay in cache


def _gelu_erf_f32_blocks(x):
    """(x·Φ(x), Φ(x)) of a big float32 array, Φ(x) = 0.5·(1 + erf(x·√½)), computed block by
    block with the same float32 operations as the whole-array expression (so the same bits):
    the ~25 passes of the erf and the product over cache-sized blocks, not over the array
    (W8's MLP: 0.5M elements a layer, ~1.5x faster)."""
    xp = array_module(x)
    src = xp.ascontiguousarray(x).reshape(-1)
    n = src.size
    out, cdf = xp.empty(n, np.float32), xp.empty(n, np.float32)
    z, e, s = (xp.empty(_GELU_BLOCK, np.float32) for _ in range(3))
    r2, half = np.float32(_SQRT1_2), np.float32(0.5)
    token = _quiet_on(_IGNORE)  # inf and nan are values here (as the whole-array route)
    try:
        for i in range(0, n, _GELU_BLOCK):
            k = min(_GELU_BLOCK, n - i)
            xb = src[i:i + k]
            zb = np.multiply(xb, r2, out=z[:k])
            eb = _erf_f32_into(zb, e[:k], s[:k])
            eb += 1
            cb = np.multiply(eb, half, out=cdf[i:i + k])
            np.multiply(xb, cb, out=out[i:i + k])
    finally:
        _quiet_off(token)
    return out.reshape(x.shape), cdf.reshape(x.shape)


def _gelu_backward_f32_blocks(x, cdf, grad):
    """grad·fma(x, φ(x), Φ(x)) for big float32 arrays, φ(x) = c·exp(−x²/2) with exp in float64
    rounded once (``lastbits.exp``) and the fma through float64 (exact product, one rounding):
    the operations of the whole-array route, block by block, with the float64 conversions done
    by the ufuncs themselves (``dtype=float64``) instead of separate copies."""
    xp = array_module(x)
    src, cs = xp.ascontiguousarray(x).reshape(-1), xp.ascontiguousarray(cdf).reshape(-1)
    gs = xp.ascontiguousarray(grad).reshape(-1)
    n = src.size
    out = xp.empty(n, np.float32)
    q = xp.empty(_GELU_BLOCK, np.float32)
    d = xp.empty(_GELU_BLOCK, np.float64)
    m_half, c_pdf = np.float32(-0.5), np.float32(_GELU_PDF)
    token = _quiet_on(_IGNORE)
    try:
        for i in range(0, n, _GELU_BLOCK):
            k = min(_GELU_BLOCK, n - i)
            xb, qb, db, ob = src[i:i + k], q[:k], d[:k], out[i:i + k]
            np.multiply(xb, xb, out=qb)
            qb *= m_half
            np.exp(qb, out=db, dtype=np.float64)
            np.copyto(qb, db, casting="same_kind")
            qb *= c_pdf  # φ(x), float32
            np.multiply(xb, qb, out=db, dtype=np.float64)  # exact
            db += cs[i:i + k]
            np.copyto(ob, db, casting="same_kind")
            ob *= gs[i:i + k]
    finally:
        _quiet_off(token)
    return out.reshape(x.shape)


def _gelu_backward(grad, x, approximate: str):
    return _fused_backward(GeluBackward, _gelu_backward_raw, grad, x, approximate=approximate)


class GeluBackward(Op):
    """gelu's backward as one op with PyTorch's derivatives (``GeluBackwardBackward0``): for
    the input, ``gg · g · d²gelu/dx²`` is one product (differentiating the first derivative's
    terms one by one gave inf - inf = NaN for an infinite gradient)."""

    name_ = "GeluBackwardBackward0"
    formula = {"g": "gelu_backward(grad, x, approximate)",
               "x": "gelu_double_backward(grad, g, x, approximate)"}
    __slots__ = ("approximate",)

    def forward(self, g, x):
        return _gelu_backward_raw(x, g, self.approximate)

    def backward(self, grad):
        g, x = self.saved(grad)
        need = self.needs_input_grad
        return (_gelu_backward(grad, x, self.approximate) if need[0] else None,
                _gelu_double_backward(grad, g, x, self.approximate) if need[1] else None)


def _gelu_double_backward(gg, g, x, approximate: str):
    """PyTorch's gelu_double_backward: ``gg · g · gelu''(x)`` (dual)."""
    if approximate == "tanh":
        beta = math.sqrt(2.0) * (2 / math.sqrt(math.pi)) * 0.5
        kappa = 0.044715
        inner = (x + x * x * x * kappa) * beta
        t = _tanh(inner)
        sech = 1 / dual.cosh(inner)
        f = x * 0.5
        gt = 1 - t * t
        h = (1 + x * x * (3 * kappa)) * beta
        fgh = gt * 0.5 * h
        gfh = f * h * ((sech * 2) * (-sech * t) * h)
        hfg = f * gt * (x * (6 * kappa * beta))
        return gg * g * (fgh + fgh + gfh + hfg)
    sq = x * x
    pdf = _exp(sq * -0.5) * _GELU_PDF
    return gg * g * (pdf * 2 - sq * pdf)


class Silu(Op):
    name_ = "SiluBackward0"
    same_shape = True
    formula = {"x": "grad * x.sigmoid() * (1 + x * (1 - x.sigmoid()))"}
    __slots__ = ()

    def forward(self, x):
        return _silu_raw(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        if not isinstance(x, Tensor):
            return _silu_backward_raw(x, grad)
        s = _sigmoid(x)
        return grad * s * (1 + x * (1 - s))


@_kernel
def _silu_raw(x):
    """x / (1 + exp(−x)) (PyTorch's silu kernel divides; x·sigmoid(x) rounds once more)."""
    return x / (1 + lastbits.exp(-x))


class Mish(Op):
    name_ = "MishBackward0"
    same_shape = True
    formula = {"x": "grad * (x.exp().log1p().tanh() + x * x.sigmoid() * "
                    "(1 - x.exp().log1p().tanh() ** 2))"}
    __slots__ = ()

    def forward(self, x):
        return _mish_raw(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        if not isinstance(x, Tensor):
            return _mish_backward_raw(x, grad)
        t = _tanh(softplus(x))
        return grad * (t + x * _sigmoid(x) * (1 - t * t))


class Softplus(Op):
    name_ = "SoftplusBackward0"
    same_shape = True
    formula = {"x": "where(x * beta > threshold, grad, grad * (x * beta).sigmoid())"}
    __slots__ = ("beta", "threshold")

    def forward(self, x):
        return _softplus_raw(x, self.beta, self.threshold)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return _softplus_backward(grad, x, self.beta, self.threshold)


def _softplus_backward(grad, x, beta: float, threshold: float):
    return _fused_backward(SoftplusBackward, _softplus_backward_raw, grad, x, beta=beta,
                           threshold=threshold)


class SoftplusBackward(Op):
    """softplus's backward as one op with PyTorch's derivatives (``SoftplusBackwardBackward0``):
    for the input, softplus_double_backward ``sigmoid_backward(gg·g, σ(βx)) · (βx < threshold)
    · β``, the mask multiplied as PyTorch does (strictly below the threshold, where the forward
    and first backward switch at ``βx > threshold``: at βx == threshold the second derivative
    is 0; an infinite gradient past it gives NaN)."""

    name_ = "SoftplusBackwardBackward0"
    formula = {"g": "softplus_backward(grad, x, beta, threshold)",
               "x": "grad * g * s * (1 - s) * (x * beta < threshold) * beta, s = (x * beta)"
                    ".sigmoid()"}
    __slots__ = ("beta", "threshold")

    def forward(self, g, x):
        return _softplus_backward_raw(x, g, self.beta, self.threshold)

    def backward(self, grad):
        g, x = self.saved(grad)
        need = self.needs_input_grad
        beta, th = self.beta, self.threshold
        gx = None
        if need[1]:
            s = _sigmoid(x * beta)
            below = (dual.raw(x) * beta < th).astype(dual.raw(s).dtype)
            inner = grad * g * ((1 - s) * s)
            if isinstance(inner, Tensor):  # (ATen's mul by a Scalar: MulBackward1)
                gx = _mul_scalar(inner * _wrap(below), beta)
            else:
                gx = inner * below * beta
        return (_softplus_backward(grad, x, beta, th) if need[0] else None), gx


class LogSigmoid(Op):
    name_ = "LogSigmoidBackward0"
    same_shape = True
    formula = {"x": "grad * (-x).sigmoid()"}
    __slots__ = ()

    def forward(self, x):
        return _logsigmoid_raw(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        if not isinstance(x, Tensor):
            return _logsigmoid_backward_raw(x, grad)
        return grad * _sigmoid(-x)


class Glu(Op):
    name_ = "GluBackward0"
    formula = {"x": "glu_backward(grad, x, dim)"}
    __slots__ = ("dim",)

    def forward(self, x):
        a, b = array_module(x).split(x, 2, axis=self.dim)
        return (a * _sigmoid(b)).astype(x.dtype, copy=False)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return _glu_backward(grad, x, self.dim)


def _glu_backward(grad, x, dim: int):
    return _fused_backward(GluBackward, _glu_backward_raw, grad, x, dim=dim)


def _glu_backward_raw(x, grad, dim: int):
    a, b = array_module(x).split(x, 2, axis=dim)
    s = _sigmoid(b)
    return array_module(x).concatenate([grad * s, grad * a * s * (1 - s)], axis=dim)


class GluBackward(Op):
    """glu's backward as one op with PyTorch's derivatives (``GluBackwardBackward0``):
    glu_double_backward for the input and glu_double_backward_grad_output for the gradient,
    in their order of products (an inf or NaN meets the same factors as in PyTorch)."""

    name_ = "GluBackwardBackward0"
    formula = {"g": "glu_double_backward_grad_output(grad, x, dim)",
               "x": "glu_double_backward(grad, g, x, dim)"}
    __slots__ = ("dim",)

    def forward(self, g, x):
        return _glu_backward_raw(x, g, self.dim)

    def backward(self, grad):
        g, x = self.saved(grad)
        need = self.needs_input_grad
        return (_glu_double_backward_grad_output(grad, x, self.dim) if need[0] else None,
                _glu_double_backward(grad, g, x, self.dim) if need[1] else None)


def _halves(t, dim: int):
    return t.chunk(2, dim) if isinstance(t, Tensor) else array_module(t).split(t, 2, axis=dim)


def _cat(parts, dim: int):
    if any(isinstance(p, Tensor) for p in parts):
        from ..methods.shape import cat

        return cat([p if isinstance(p, Tensor) else _wrap(p) for p in parts], dim)
    return array_module(parts[0]).concatenate(parts, axis=dim)


def _glu_double_backward(gg, go, x, dim: int):
    """PyTorch's glu_double_backward (dual): the gate's curvature on the second half."""
    a, b = _halves(x, dim)
    s = _sigmoid(b)
    one_sub = 1 - s
    sig_one_sub = s * one_sub
    gg_a, gg_b = _halves(gg, dim)
    first = gg_b * go * sig_one_sub
    second_order = sig_one_sub * one_sub - s * sig_one_sub
    second = (gg_b * a) * go * second_order + gg_a * go * sig_one_sub
    return _cat([first, second], dim)


def _glu_double_backward_grad_output(gg, x, dim: int):
    """PyTorch's glu_double_backward_grad_output: ``gg * glu_backward(ones, x)``, halves
    summed."""
    a, _ = _halves(x, dim)
    ones = array_module(_raw(a)).ones(_raw(a).shape, dtype=_raw(x).dtype)
    t = gg * _glu_backward(ones, x, dim)
    t1, t2 = _halves(t, dim)
    return t1 + t2


def _prelu_weight(w, x):
    """The weight viewed to broadcast against ``x`` (one slope per channel, dim 1)."""
    return w.reshape(Prelu._shape(_raw(x), _raw(w)))


# formula helpers (see leafgrad.autograd.formula)
FORMULA_HELPERS = {"glu_backward": _glu_backward, "prelu_weight": _prelu_weight,
                   "glu_double_backward": _glu_double_backward,
                   "glu_double_backward_grad_output": _glu_double_backward_grad_output,
                   "float32": lambda v: float(np.float32(v)),
                   "gelu_backward": _gelu_backward,
                   "gelu_double_backward": _gelu_double_backward}


class Prelu(Op):
    """PReLU: the weight has one slope per channel (dim 1) or one shared slope."""

    name_ = "PreluKernelBackward0"
    formula = {"x": "where(x > 0, grad, prelu_weight(w, x) * grad)",
               "w": "sum_to(where(x > 0, grad * 0, x * grad), prelu_weight(w, x).shape)"
                    ".reshape(w.shape)"}
    __slots__ = ()

    @staticmethod
    def _shape(x, w) -> tuple:
        if w.size == 1 or x.ndim < 2:
            return (1,) * x.ndim if x.ndim else ()
        return (1, w.size) + (1,) * (x.ndim - 2)

    def forward(self, x, w):
        wv = w.reshape(self._shape(x, w))
        return array_module(x).where(x > 0, x, x * wv).astype(x.dtype, copy=False)

    def backward(self, grad):
        x, w = self.saved(grad)
        need = self.needs_input_grad
        r = _raw(x)
        wv = _prelu_weight(w, x)
        shape = wv.shape
        # NOTE: PyTorch's double-backward node takes (grad, x, w) whichever are needed: gx
        # depends on x only through the mask and gw on w not at all, yet a second derivative
        # with respect to them is zeros, not None (zero_path keeps those links)
        gx = zero_path(dual.where(r > 0, grad, grad * wv), x) if need[0] else None
        gw = None
        if need[1]:
            gw = zero_path(dual.sum_to(dual.where(r > 0, 0, x * grad), shape).reshape(w.shape),
                           w)
        return gx, gw


class RreluWithNoise(Op):
    """rrelu: x·noise for x ≤ 0, where noise is the eval slope or a per-element uniform draw."""

    name_ = "RreluWithNoiseBackward0"
    same_shape = True
    formula = {"x": "where(x > 0, grad, grad * noise)"}
    __slots__ = ("noise",)

    def forward(self, x):
        return array_module(x).where(x > 0, x, x * self.noise).astype(x.dtype, copy=False)

    def backward(self, grad):
        (x,) = self.saved(grad)
        noise = self.noise
        if isinstance(grad, Tensor) and isinstance(noise, np.ndarray):
            noise = _wrap(noise)
        return zero_path(dual.where(_raw(x) > 0, grad, grad * noise), x)


# -- public functions ---------------------------------------------------------------------------
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """Clamp into ``[min_val, max_val]`` (gradient 0 outside and at the bounds).

    >>> import leafgrad
    >>> hardtanh(leafgrad.tensor([-2.0, 0.5, 3.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    out = _run(Hardtanh, input, "hardtanh", min_val=min_val, max_val=max_val)
    return _inplace(input, out, "hardtanh_") if inplace else out


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh``.

    >>> import leafgrad
    >>> hardtanh_(leafgrad.tensor([-2.0, 3.0]))
    tensor([-1.,  1.])
    """
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6).

    >>> import leafgrad
    >>> relu6(leafgrad.tensor([-1.0, 3.0, 8.0]))
    tensor([0., 3., 6.])
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, else ``negative_slope``·x.

    >>> import leafgrad
    >>> leaky_relu(leafgrad.tensor([-1.0, 2.0]), 0.1)
    tensor([-0.1000,  2.0000])
    """
    out = _run(LeakyRelu, input, "leaky_relu", negative_slope=negative_slope)
    return _inplace(input, out, "leaky_relu_") if inplace else out


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place ``leaky_relu``.

    >>> import leafgrad
    >>> leaky_relu_(leafgrad.tensor([-1.0]), 0.5)
    tensor([-0.5000])
    """
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, else α·(exp(x) − 1).

    >>> import leafgrad
    >>> elu(leafgrad.tensor([-1.0, 2.0]))
    tensor([-0.6321,  2.0000])
    """
    out = _run(Elu, input, "elu", alpha=alpha, scale=1.0, input_scale=1.0)
    return _inplace(input, out, "elu_") if inplace else out


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``elu``.

    >>> import leafgrad
    >>> elu_(leafgrad.tensor([0.5]))
    tensor([0.5000])
    """
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale·elu(x, α) with the self-normalising constants.

    >>> import leafgrad
    >>> selu(leafgrad.tensor([-1.0, 1.0]))
    tensor([-1.1113,  1.0507])
    """
    out = _run(Elu, input, "selu", alpha=_SELU_ALPHA, scale=_SELU_SCALE, input_scale=1.0)
    return _inplace(input, out, "selu_") if inplace else out


def selu_(input: Tensor) -> Tensor:
    """In-place ``selu``.

    >>> import leafgrad
    >>> selu_(leafgrad.tensor([1.0]))
    tensor([1.0507])
    """
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, α·(exp(x/α) − 1)).

    >>> import leafgrad
    >>> celu(leafgrad.tensor([-1.0, 1.0]), 2.0)
    tensor([-0.7869,  1.0000])
    """
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError\nWhy: celu divides x by alpha; alpha must be "
                           "nonzero.")
    out = _run(Celu, input, "celu", alpha=alpha, scale=1.0, input_scale=1.0 / alpha)
    return _inplace(input, out, "celu_") if inplace else out


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu``.

    >>> import leafgrad
    >>> celu_(leafgrad.tensor([1.0]))
    tensor([1.])
    """
    return celu(input, alpha, inplace=True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x·Φ(x) (``approximate='tanh'``: the tanh approximation).

    >>> import leafgrad
    >>> gelu(leafgrad.tensor([-1.0, 1.0]))
    tensor([-0.1587,  0.8413])
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh.\nWhy: got "
                           f"{approximate!r}")
    return _run(Gelu, input, "GeluKernelImpl", approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·sigmoid(x) (swish).

    >>> import leafgrad
    >>> silu(leafgrad.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7311])
    """
    out = _run(Silu, input, "silu")
    return _inplace(input, out, "silu_") if inplace else out


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x)).

    >>> import leafgrad
    >>> mish(leafgrad.tensor([1.0]))
    tensor([0.8651])
    """
    out = _run(Mish, input, "mish")
    return _inplace(input, out, "mish_") if inplace else out


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(βx))/β, linear once βx > threshold.

    >>> import leafgrad
    >>> softplus(leafgrad.tensor([0.0, 30.0]))
    tensor([ 0.6931, 30.0000])
    """
    return _run(Softplus, input, "softplus", beta=beta, threshold=threshold)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|).

    >>> import leafgrad
    >>> softsign(leafgrad.tensor([1.0, -3.0]))
    tensor([ 0.5000, -0.7500])
    """
    return input / (input.abs() + 1)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """clip(x/6 + 1/2, 0, 1).

    >>> import leafgrad
    >>> hardsigmoid(leafgrad.tensor([-4.0, 0.0, 4.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    out = _run(Hardsigmoid, input, "hardsigmoid")
    return _inplace(input, out, "hardsigmoid_") if inplace else out


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·hardsigmoid(x).

    >>> import leafgrad
    >>> hardswish(leafgrad.tensor([-4.0, 1.0, 4.0]))
    tensor([-0.0000,  0.6667,  4.0000])
    """
    out = _run(Hardswish, input, "hardswish")
    return _inplace(input, out, "hardswish_") if inplace else out


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > λ, else 0.

    >>> import leafgrad
    >>> hardshrink(leafgrad.tensor([-1.0, 0.2, 0.7]))
    tensor([-1.0000,  0.0000,  0.7000])
    """
    return _run(Hardshrink, input, "hardshrink", lambd=lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x − λ·sign(x) where |x| > λ, else 0.

    >>> import leafgrad
    >>> softshrink(leafgrad.tensor([-1.0, 0.2, 0.7]))
    tensor([-0.5000,  0.0000,  0.2000])
    """
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _run(Softshrink, input, "softshrink", lambd=lambd)


def tanhshrink(input: Tensor) -> Tensor:
    """x − tanh(x).

    >>> import leafgrad
    >>> tanhshrink(leafgrad.tensor([1.0]))
    tensor([0.2384])
    """
    return input - input.tanh()


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``.

    >>> import leafgrad
    >>> threshold(leafgrad.tensor([0.5, 2.0]), 1.0, -1.0)
    tensor([-1.,  2.])
    """
    out = _run(Threshold, input, "threshold", threshold=threshold, value=value)
    return _inplace(input, out, "threshold_") if inplace else out


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold``.

    >>> import leafgrad
    >>> threshold_(leafgrad.tensor([0.5]), 1.0, 0.0)
    tensor([0.])
    """
    return globals()["threshold"](input, threshold, value, inplace=True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, else weight·x, with one learnable slope per channel (dim 1) or one shared.

    >>> import leafgrad
    >>> prelu(leafgrad.tensor([[-1.0, 2.0]]), leafgrad.tensor([0.25]))
    tensor([[-0.2500,  2.0000]])
    """
    _check_float(input, "prelu")
    x, w = input._data, weight._data
    if w.size != 1:
        channels = x.shape[1] if x.ndim >= 2 else 1
        if w.ndim != 1 or w.size != channels:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers "
                f"= {w.size} and channel size = {channels}.\nWhy: PReLU has one slope per "
                "channel (dim 1 of the input) or a single shared slope.")
    fn = _new(Prelu)
    out = fn.forward(x, w)
    return record(fn, (input, weight), out) if state.enabled else _wrap(out)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Leaky ReLU with slope (lower+upper)/2 in eval; a random slope per element in training.

    >>> import leafgrad
    >>> rrelu(leafgrad.tensor([-1.0, 1.0]))
    tensor([-0.2292,  1.0000])
    """
    _check_float(input, "rrelu")
    x = input._data
    if training:
        from ..random import uniform_array

        # NOTE: PyTorch draws one double uniform per element that is <= 0, in memory order
        neg = x <= 0
        xp = array_module(x)
        noise = xp.ones(x.shape, dtype=x.dtype)
        k = int(neg.sum())
        if k:
            draws = uniform_array((k,), np.float64, lower, upper).astype(x.dtype)
            noise[neg] = xp.asarray(draws)
        out = _run(RreluWithNoise, input, "rrelu", noise=noise)
    else:
        out = _run(RreluWithNoise, input, "rrelu", noise=(lower + upper) / 2)
    return _inplace(input, out, "rrelu_") if inplace else out


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """In-place ``rrelu``.

    >>> import leafgrad
    >>> rrelu_(leafgrad.tensor([2.0]))
    tensor([2.])
    """
    return rrelu(input, lower, upper, training, inplace=True)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a·sigmoid(b) where a, b are the two halves of ``input`` along ``dim``.

    >>> import leafgrad
    >>> glu(leafgrad.tensor([[1.0, 0.0]]))
    tensor([[0.5000]])
    """
    _check_float(input, "glu")
    x = input._data
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim + x.ndim if dim < 0 else dim
    if x.shape[d] % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {d} is size {x.shape[d]}\nWhy: glu "
            "splits that dim into two equal halves (values and gates).")
    fn = _new(Glu)
    fn.dim = d
    out = fn.forward(x)
    return record(fn, (input,), out) if state.enabled else _wrap(out)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), computed without overflow.

    >>> import leafgrad
    >>> logsigmoid(leafgrad.tensor([0.0, -200.0]))
    tensor([  -0.6931, -200.0000])
    """
    return _run(LogSigmoid, input, "log_sigmoid_forward")
