"""Unary floating ops: roots, exponentials and logarithms, trigonometric and hyperbolic
functions, special functions, rounding."""

from __future__ import annotations

import math

import numpy as np

from ...autograd.node import Op
from ...tensor import Tensor
from .. import dual, lastbits
from .dispatch import _to_float, _unary, _unary_with
from .special import (
    _SQRT_PI,
    _TWO_OVER_SQRT_PI,
    _digamma_np,
    _erf_f,
    _erfc_f,
    _erfinv_np,
    _lgamma_np,
    _polygamma_np,
)


# == the full elementwise surface ================================================================
# Helpers for backward formulas beyond leafgrad.ops.dual, in its style: a Tensor method when the
# formula builds a graph (create_graph), the NumPy function on raw arrays otherwise.
# -- unary float ops ------------------------------------------------------------------------------
class _UnaryFloat(Op):
    """Base for unary ops that save their input; subclasses give forward, backward, formula."""

    elementwise = True
    same_shape = True
    __slots__ = ()


class Rsqrt(_UnaryFloat):
    name_ = "RsqrtBackward0"
    formula = {"x": "-0.5 * grad * out ** 3"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return lastbits.rsqrt(x)

    def backward(self, grad):
        out = self.result(grad)
        # NOTE: PyTorch's order: -0.5 * grad * out.pow(3) (pow(3) is out * out * out)
        if isinstance(out, Tensor):
            return -0.5 * grad * (out * out * out)
        return lastbits.scale(grad, -0.5) * lastbits.power(out, 3)


class Exp2(_UnaryFloat):
    name_ = "Exp2Backward0"
    formula = {"x": "grad * out * math.log(2)"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return lastbits.exp2(x)

    def backward(self, grad):
        return lastbits.scale(grad * self.result(grad), lastbits.LN2)


class Expm1(_UnaryFloat):
    name_ = "Expm1Backward0"
    formula = {"x": "grad * (out + 1)"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return lastbits.expm1(x)

    def backward(self, grad):
        return grad * (self.result(grad) + 1)


class Log2(_UnaryFloat):
    name_ = "Log2Backward0"
    formula = {"x": "grad / (x * math.log(2))"}
    __slots__ = ()

    def forward(self, x):
        return lastbits.log2(x)

    def backward(self, grad):
        return grad / lastbits.scale(self.saved(grad)[0], lastbits.LN2)


class Log10(_UnaryFloat):
    name_ = "Log10Backward0"
    formula = {"x": "grad / (x * 2.3025850929940456)"}
    __slots__ = ()

    def forward(self, x):
        return lastbits.log10(x)

    def backward(self, grad):
        # NOTE: PyTorch's M_LN10, one ulp below math.log(10)
        return grad / lastbits.scale(self.saved(grad)[0], lastbits.LN10)


class Log1p(_UnaryFloat):
    name_ = "Log1PBackward0"
    formula = {"x": "grad / (x + 1)"}
    __slots__ = ()

    def forward(self, x):
        return lastbits.log1p(x)

    def backward(self, grad):
        return grad / (self.saved(grad)[0] + 1)


class Tan(_UnaryFloat):
    name_ = "TanBackward0"
    formula = {"x": "grad * (1 + out * out)"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return np.tan(x)

    def backward(self, grad):
        out = self.result(grad)
        return grad * (out * out + 1)


class Asin(_UnaryFloat):
    name_ = "AsinBackward0"
    formula = {"x": "grad * (-x * x + 1).rsqrt()"}
    __slots__ = ()

    def forward(self, x):
        return lastbits.arcsin(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad * dual.rsqrt(-x * x + 1)


class Acos(_UnaryFloat):
    name_ = "AcosBackward0"
    formula = {"x": "grad * -(-x * x + 1).rsqrt()"}
    __slots__ = ()

    def forward(self, x):
        return lastbits.arccos(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad * -dual.rsqrt(-x * x + 1)


class Atan(_UnaryFloat):
    name_ = "AtanBackward0"
    formula = {"x": "grad / (x * x + 1)"}
    __slots__ = ()

    def forward(self, x):
        return lastbits.arctan(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad / (x * x + 1)


class Sinh(_UnaryFloat):
    name_ = "SinhBackward0"
    formula = {"x": "grad * x.cosh()"}
    __slots__ = ()

    def forward(self, x):
        return lastbits.sinh(x)

    def backward(self, grad):
        return grad * dual.cosh(self.saved(grad)[0])


class Cosh(_UnaryFloat):
    name_ = "CoshBackward0"
    formula = {"x": "grad * x.sinh()"}
    __slots__ = ()

    def forward(self, x):
        return lastbits.cosh(x)

    def backward(self, grad):
        return grad * dual.sinh(self.saved(grad)[0])


class Asinh(_UnaryFloat):
    name_ = "AsinhBackward0"
    formula = {"x": "grad / (x * x + 1).sqrt()"}
    __slots__ = ()

    def forward(self, x):
        return np.arcsinh(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad / dual.sqrt(x * x + 1)


class Acosh(_UnaryFloat):
    name_ = "AcoshBackward0"
    formula = {"x": "grad / (x * x - 1).sqrt()"}
    __slots__ = ()

    def forward(self, x):
        with np.errstate(invalid="ignore"):
            return np.arccosh(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad / dual.sqrt(x * x - 1)


class Atanh(_UnaryFloat):
    name_ = "AtanhBackward0"
    formula = {"x": "grad / (1 - x * x)"}
    __slots__ = ()

    def forward(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.arctanh(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad / (-(x * x) + 1)


class Logit(_UnaryFloat):
    name_ = "LogitBackward0"
    formula = {"x": "where((x < 0) | (x > 1), math.nan, grad / (x * (1 - x))) if eps is None "
                    "else where((x < eps) | (x > 1 - eps), 0.0, grad / (x * (1 - x)))"}
    __slots__ = ("eps",)

    def forward(self, x):
        if self.eps is not None:
            x = np.clip(x, self.eps, 1 - self.eps)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x / (1 - x))

    def backward(self, grad):
        (x,) = self.saved(grad)
        xr = dual.raw(x)
        # NOTE: PyTorch's gradient outside the domain is NaN without eps (logit is undefined
        # there, whatever the upstream gradient), 0 outside [eps, 1 - eps] with eps.
        lo, hi, fill = (0.0, 1.0, math.nan) if self.eps is None else (
            self.eps, 1 - self.eps, 0.0)
        den = x * (-x + 1)
        if isinstance(x, Tensor):
            # PyTorch's differentiable form: where(lo <= x <= hi, grad / (x (1 - x)), fill)
            return dual.where((xr >= lo) & (xr <= hi), grad / den, fill)
        # PyTorch's kernel: NaN x falls through to grad / (x (1 - x)), and x = ±0 gives
        # grad * inf (the + 0.0 turns a -0 denominator into +0)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = grad / (den + 0.0)
        return np.where((xr < lo) | (xr > hi), fill, g).astype(g.dtype, copy=False)


class Erf(_UnaryFloat):
    name_ = "ErfBackward0"
    formula = {"x": "grad * 2 / math.sqrt(math.pi) * (-x * x).exp()"}
    __slots__ = ()

    def forward(self, x):
        return _erf_f(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return lastbits.scale(dual.exp(-(x * x)), _TWO_OVER_SQRT_PI) * grad


class Erfc(_UnaryFloat):
    name_ = "ErfcBackward0"
    formula = {"x": "-grad * 2 / math.sqrt(math.pi) * (-x * x).exp()"}
    __slots__ = ()

    def forward(self, x):
        return _erfc_f(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return lastbits.scale(dual.exp(-(x * x)), -_TWO_OVER_SQRT_PI) * grad


class Erfinv(_UnaryFloat):
    name_ = "ErfinvBackward0"
    formula = {"x": "grad * math.sqrt(math.pi) / 2 * (x.erfinv() ** 2).exp()"}
    __slots__ = ()  # NOTE: PyTorch saves the input (not the result) and recomputes erfinv

    def forward(self, x):
        return _erfinv_np(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        out = x.erfinv() if isinstance(x, Tensor) else _erfinv_np(x)
        return grad * (dual.exp(out * out) * (_SQRT_PI / 2))


class Lgamma(_UnaryFloat):
    name_ = "LgammaBackward0"
    formula = {"x": "grad * x.digamma()"}
    __slots__ = ()

    def forward(self, x):
        return _lgamma_np(x)

    def backward(self, grad):
        return grad * dual.digamma(self.saved(grad)[0])


class Digamma(_UnaryFloat):
    name_ = "DigammaBackward0"
    formula = {"x": "grad * x.polygamma(1)"}
    __slots__ = ()

    def forward(self, x):
        return _digamma_np(x)

    def backward(self, grad):
        return grad * dual.polygamma(1, self.saved(grad)[0])


class Polygamma(_UnaryFloat):
    name_ = "PolygammaBackward0"
    formula = {"x": "grad * x.polygamma(n + 1)"}
    __slots__ = ("n",)

    def forward(self, x):
        return _polygamma_np(self.n, x)

    def backward(self, grad):
        return grad * dual.polygamma(self.n + 1, self.saved(grad)[0])


def polygamma(n: int, x: Tensor) -> Tensor:
    """The n-th derivative of digamma (``torch.polygamma(n, x)``)."""
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n; got n = {n}")
    x = _to_float(x)
    if n == 0:
        return _unary(Digamma, x)
    return _unary_with(Polygamma, x, n=int(n))


class _Piecewise(Op):
    """Piecewise-constant unary op (floor, ceil, ...): PyTorch's gradient is zero everywhere."""

    elementwise = True
    same_shape = True
    formula = {"x": "grad * 0"}
    save_inputs = False
    __slots__ = ()

    def backward(self, grad):
        return dual.zeros_like(grad)


class Floor(_Piecewise):
    name_ = "FloorBackward0"
    __slots__ = ()

    def forward(self, x):
        return np.floor(x)


class Ceil(_Piecewise):
    name_ = "CeilBackward0"
    __slots__ = ()

    def forward(self, x):
        return np.ceil(x)


class Trunc(_Piecewise):
    name_ = "TruncBackward0"
    __slots__ = ()

    def forward(self, x):
        return np.trunc(x)


class Round(_Piecewise):
    name_ = "RoundBackward0"
    __slots__ = ()

    def forward(self, x):
        return np.rint(x)  # NOTE: round half to even, as PyTorch's nearbyint


class RoundDecimals(_Piecewise):
    name_ = "RoundBackward1"
    __slots__ = ("decimals",)

    def forward(self, x):
        # NOTE: PyTorch computes nearbyint(x * 10**d) / 10**d (x / 10**-d for d < 0), as NumPy
        with np.errstate(all="ignore"):
            return np.round(x, self.decimals)


class Sgn(_Piecewise):
    name_ = "SgnBackward0"
    __slots__ = ()

    def forward(self, x):
        return x.copy() if x.dtype.kind == "b" else lastbits.sign(x)


class Frac(Op):
    name_ = "FracBackward0"
    elementwise = True
    same_shape = True
    formula = {"x": "grad"}
    save_inputs = False
    __slots__ = ()

    def forward(self, x):
        return x - np.trunc(x)

    def backward(self, grad):
        return grad


class _Scale(Op):
    """``x * factor`` for a constant (deg2rad, rad2deg)."""

    elementwise = True
    same_shape = True
    save_inputs = False
    __slots__ = ()
    factor = 1.0

    def forward(self, x):
        return x * x.dtype.type(self.factor)

    def backward(self, grad):
        return grad * self.factor


class Deg2Rad(_Scale):
    name_ = "Deg2RadBackward0"
    formula = {"x": "grad * (math.pi / 180)"}
    factor = math.pi / 180
    __slots__ = ()


class Rad2Deg(_Scale):
    name_ = "Rad2DegBackward0"
    formula = {"x": "grad * (180 / math.pi)"}
    factor = 180 / math.pi
    __slots__ = ()


class NanToNum(Op):
    name_ = "NanToNumBackward0"
    elementwise = True
    same_shape = True
    formula = {"x": "grad * x.isfinite()"}
    __slots__ = ("nan", "posinf", "neginf")

    def forward(self, x):
        return np.nan_to_num(x, nan=self.nan, posinf=self.posinf, neginf=self.neginf)

    def backward(self, grad):
        # NOTE: PyTorch multiplies (grad * isfinite(x)), so a nan/inf grad stays nan where x is not
        return grad * np.isfinite(dual.raw(self.saved(grad)[0]))


class Sinc(_UnaryFloat):
    name_ = "SincBackward0"
    formula = {"x": "where(x == 0, 0.0, grad * ((math.pi * x).cos() * math.pi * x - "
                    "(math.pi * x).sin()) / (math.pi * x * x))"}
    __slots__ = ()

    def forward(self, x):
        return np.sinc(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        px = x * math.pi
        g = grad * ((dual.cos(px) * px - dual.sin(px)) / (px * x))
        return dual.where(dual.raw(x) == 0, 0.0, g)
