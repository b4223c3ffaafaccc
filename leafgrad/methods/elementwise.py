"""Elementwise Tensor methods: arithmetic, math functions, comparisons, bitwise operators."""

from __future__ import annotations

import operator

import numpy as _np

from .. import dtypes as _dt
from ..autograd.grad_mode import _NoGrad
from ..autograd.grad_mode import state as _grad_state
from ..dtypes import FROM_NP

__all__: list[str] = []  # filled in at the end of the module


def _link() -> None:
    """Import what this module needs from modules that import it (docs/design.md, "The import
    cycle"); run once by leafgrad.tensor when Tensor exists. The hot paths' helpers and op
    classes are module globals: one lookup per use."""
    global Tensor, _wrap, _as_tensor, _ops, _binary, _unary, _to_float
    global _Add, _Sub, _Mul, _Div, _Neg, _Exp, _Log, _Sin, _Cos, _Tanh, _Sigmoid, _Relu, _Sqrt
    global _Abs, _PowTensor
    from ..creation import as_tensor as _as_tensor
    from ..ops import elementwise as _ops
    from ..ops.elementwise import Abs as _Abs
    from ..ops.elementwise import Add as _Add
    from ..ops.elementwise import Cos as _Cos
    from ..ops.elementwise import Div as _Div
    from ..ops.elementwise import Exp as _Exp
    from ..ops.elementwise import Log as _Log
    from ..ops.elementwise import Mul as _Mul
    from ..ops.elementwise import Neg as _Neg
    from ..ops.elementwise import PowTensor as _PowTensor
    from ..ops.elementwise import Relu as _Relu
    from ..ops.elementwise import Sigmoid as _Sigmoid
    from ..ops.elementwise import Sin as _Sin
    from ..ops.elementwise import Sqrt as _Sqrt
    from ..ops.elementwise import Sub as _Sub
    from ..ops.elementwise import Tanh as _Tanh
    from ..ops.elementwise import _binary, _to_float, _unary
    from ..tensor import Tensor, _wrap


class ElementwiseMethods:
    """Tensor methods for elementwise ops (mixed into Tensor)."""

    __slots__ = ()

    # -- arithmetic ------------------------------------------------------------------------
    def add(self, other, *, alpha=1) -> Tensor:
        """``self + alpha * other``, broadcasting.

        >>> import leafgrad
        >>> leafgrad.tensor([1, 2]).add(1, alpha=2)
        tensor([3, 4])
        """
        if alpha != 1:
            return _ops.add_alpha(_ops.AddAlpha, self, other, alpha)
        return _binary(_Add, self, other)

    def sub(self, other, *, alpha=1) -> Tensor:
        """``self - alpha * other``, broadcasting."""
        _no_bool_sub(self, other)
        if alpha != 1:
            return _ops.add_alpha(_ops.SubAlpha, self, other, alpha)
        return _binary(_Sub, self, other)

    subtract = sub

    def mul(self, other) -> Tensor:
        """Elementwise product, broadcasting."""
        return _binary(_Mul, self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None) -> Tensor:
        """Elementwise division; ``rounding_mode`` 'trunc' or 'floor' rounds the quotient."""
        if rounding_mode is not None:
            return _ops.div_rounded(self, other, rounding_mode)
        if other.__class__ is int and self._data.dtype.kind in "iub":
            # NOTE: true division is float: PyTorch does not wrap an out-of-range Python int
            # into the integer dtype first (int8 tensor / 1000 is 0.003, not -0.125)
            return _binary(_Div, self.to(_dt.get_default_dtype()), other)
        return _binary(_Div, self, other)

    divide = true_divide = div

    def neg(self) -> Tensor:
        """``-self``."""
        return _unary(_Neg, self)

    negative = neg

    def pow(self, exponent) -> Tensor:
        """``self ** exponent`` with a scalar or tensor exponent.

        >>> import leafgrad
        >>> leafgrad.tensor([1.0, 2.0]).pow(2)
        tensor([1., 4.])
        """
        if isinstance(exponent, Tensor):
            return _binary(_PowTensor, self, exponent)
        return _ops._pow_scalar(self, exponent)

    def reciprocal(self) -> Tensor:
        """``1 / self``."""
        return _unary(_ops.Reciprocal, _to_float(self))

    def exp(self) -> Tensor:
        """Elementwise e**x."""
        return _unary(_Exp, _to_float(self))

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return _unary(_Log, _to_float(self))

    def sin(self) -> Tensor:
        """Elementwise sine."""
        return _unary(_Sin, _to_float(self))

    def cos(self) -> Tensor:
        """Elementwise cosine."""
        return _unary(_Cos, _to_float(self))

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent."""
        return _unary(_Tanh, _to_float(self))

    def sigmoid(self) -> Tensor:
        """Elementwise logistic function 1 / (1 + e**-x)."""
        return _unary(_Sigmoid, _to_float(self))

    def relu(self) -> Tensor:
        """Elementwise max(x, 0)."""
        return _unary(_Relu, self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return _unary(_Sqrt, _to_float(self))

    def abs(self) -> Tensor:
        """Elementwise absolute value."""
        return _unary(_Abs, self)

    absolute = abs

    def sign(self) -> Tensor:
        """Elementwise sign: -1, 0 or 1."""
        return _unary(_ops.Sign, self)

    def add_(self, other, *, alpha=1) -> Tensor:
        """In-place ``self += alpha * other``."""
        return self._inplace(self.add, "add_", other, alpha=alpha)

    def sub_(self, other, *, alpha=1) -> Tensor:
        """In-place ``self -= alpha * other``."""
        return self._inplace(self.sub, "sub_", other, alpha=alpha)

    def mul_(self, other) -> Tensor:
        """In-place ``self *= other``."""
        return self._inplace(self.mul, "mul_", other)

    def div_(self, other, *, rounding_mode=None) -> Tensor:
        """In-place ``self /= other``."""
        return self._inplace(self.div, "div_", other, rounding_mode=rounding_mode)

    def pow_(self, exponent) -> Tensor:
        """In-place ``self **= exponent``."""
        return self._inplace(self.pow, "pow_", exponent)

    def neg_(self) -> Tensor:
        """In-place negation."""
        return self._inplace(self.neg, "neg_")

    def _inplace(self, method, name: str, *args, **kwargs) -> Tensor:
        # _inplace_from checks PyTorch's in-place guards, writes, and bumps the version
        if _grad_state.enabled and (self._rg or any(
                isinstance(a, Tensor) and a._rg for a in args)):
            return self._inplace_from(method(*args, **kwargs), name)
        with _NoGrad():
            result = method(*args, **kwargs)
        return self._inplace_from(result, name)  # nothing to record: checks, write, version

    __add__ = add

    def __radd__(self, other) -> Tensor:
        return _binary(_Add, self, other)

    def __iadd__(self, other) -> Tensor:
        return self.add_(other)

    __sub__ = sub

    def __rsub__(self, other) -> Tensor:
        # NOTE: PyTorch records ``2 - x`` as RsubBackward1 (scalar) / RsubBackward0 (tensor)
        _no_bool_sub(self, other)
        return _ops.rsub(self, other)

    def __isub__(self, other) -> Tensor:
        return self.sub_(other)

    __mul__ = mul

    def __rmul__(self, other) -> Tensor:
        return _binary(_Mul, self, other)

    def __imul__(self, other) -> Tensor:
        return self.mul_(other)

    __truediv__ = div

    def __rtruediv__(self, other) -> Tensor:
        # NOTE: PyTorch computes ``2 / x`` as ``x.reciprocal() * 2`` (MulBackward0 over
        # ReciprocalBackward0); keep the same graph so grad_fn names match.
        return self.reciprocal() * other

    def __itruediv__(self, other) -> Tensor:
        return self.div_(other)

    __pow__ = pow

    def __rpow__(self, other) -> Tensor:
        return _ops._rpow_scalar(self, other)

    def __ipow__(self, other) -> Tensor:
        return self.pow_(other)

    __neg__ = neg

    def positive(self) -> Tensor:
        """Returns self (``+x``); bool tensors are refused, as in PyTorch."""
        if self._data.dtype.kind == "b":
            raise RuntimeError(
                "The `+` operator, on a bool tensor is not supported.\nWhy: PyTorch refuses "
                "arithmetic on bool tensors; convert first, e.g. x.long().")
        return self

    __pos__ = positive

    __abs__ = abs

    # -- comparisons (not differentiable) --------------------------------------------------
    def eq(self, other) -> Tensor:
        """Elementwise ``==`` as a bool tensor."""
        return _compare(operator.eq, self, other, "eq")

    def ne(self, other) -> Tensor:
        """Elementwise ``!=`` as a bool tensor."""
        return _compare(operator.ne, self, other, "ne")

    def lt(self, other) -> Tensor:
        """Elementwise ``<`` as a bool tensor."""
        return _compare(operator.lt, self, other, "lt")

    def le(self, other) -> Tensor:
        """Elementwise ``<=`` as a bool tensor."""
        return _compare(operator.le, self, other, "le")

    def gt(self, other) -> Tensor:
        """Elementwise ``>`` as a bool tensor."""
        return _compare(operator.gt, self, other, "gt")

    def ge(self, other) -> Tensor:
        """Elementwise ``>=`` as a bool tensor."""
        return _compare(operator.ge, self, other, "ge")

    __eq__, __ne__, __lt__, __le__, __gt__, __ge__ = eq, ne, lt, le, gt, ge

    def bitwise_and(self, other) -> Tensor:
        """Elementwise AND of bool/integer tensors (``&``)."""
        return _ops.bitwise(operator.and_, self, other, "bitwise_and")

    def bitwise_or(self, other) -> Tensor:
        """Elementwise OR of bool/integer tensors (``|``)."""
        return _ops.bitwise(operator.or_, self, other, "bitwise_or")

    def bitwise_xor(self, other) -> Tensor:
        """Elementwise XOR of bool/integer tensors (``^``)."""
        return _ops.bitwise(operator.xor, self, other, "bitwise_xor")

    def bitwise_not(self) -> Tensor:
        """Elementwise NOT (``~``): logical for bool, two's complement for integers."""
        if self._data.dtype.kind == "f":
            raise _ops._not_impl_dtype("bitwise_not_cpu", self._data.dtype)
        return _wrap(~self._data)

    __and__, __or__, __xor__ = bitwise_and, bitwise_or, bitwise_xor

    def __invert__(self) -> Tensor:
        if self._data.dtype.kind == "f":
            raise TypeError(
                "~ (operator.invert) is only implemented on integer and Boolean-type tensors\n"
                "Why: ~ flips bits; for a float mask compare first, e.g. ~(x > 0).")
        return self.bitwise_not()
    __rand__, __ror__, __rxor__ = bitwise_and, bitwise_or, bitwise_xor

    def equal(self, other: Tensor) -> bool:
        """True when shapes and all values are equal."""
        return self._data.shape == other._data.shape and bool((self._data == other._data).all())

    # -- the full elementwise surface ------------------------------------------------------
    def square(self) -> Tensor:
        """``self ** 2`` (recorded as PowBackward0, as in PyTorch)."""
        # NOTE: square of a bool tensor is int64 in PyTorch (pow of bool is refused)
        x = self if self._data.dtype.kind != "b" else self.to(_dt.int64)
        return _ops._pow_scalar(x, 2)

    def sgn(self) -> Tensor:
        """Sign (for real tensors, the same as ``sign``)."""
        return _unary(_ops.Sgn, self)

    def rsqrt(self) -> Tensor:
        """``1 / sqrt(self)``."""
        return _unary(_ops.Rsqrt, _to_float(self))

    def logit(self, eps=None) -> Tensor:
        """``log(p / (1 - p))``; with ``eps``, ``p`` is clamped to ``[eps, 1 - eps]`` first."""
        return _ops._unary_with(_ops.Logit, _to_float(self), eps=eps)

    def polygamma(self, n: int) -> Tensor:
        """The n-th derivative of digamma."""
        return _ops.polygamma(n, self)

    def floor(self) -> Tensor:
        """Round down (integer tensors are returned as a copy)."""
        return _rounding(self, _ops.Floor, "floor_vml_cpu")

    def ceil(self) -> Tensor:
        """Round up."""
        return _rounding(self, _ops.Ceil, "ceil_vml_cpu")

    def trunc(self) -> Tensor:
        """Round toward zero."""
        return _rounding(self, _ops.Trunc, "trunc_vml_cpu")

    fix = trunc

    def round(self, *, decimals: int = 0) -> Tensor:
        """Round half to even, to ``decimals`` decimal places."""
        if decimals:
            if self._data.dtype.kind != "f":
                raise _ops._not_impl_dtype("round_cpu", self._data.dtype)
            return _ops._unary_with(_ops.RoundDecimals, self, decimals=decimals)
        return _rounding(self, _ops.Round, "round_vml_cpu")

    def frac(self) -> Tensor:
        """``self - trunc(self)``."""
        if self._data.dtype.kind != "f":
            raise _ops._not_impl_dtype("frac_cpu", self._data.dtype)
        return _unary(_ops.Frac, self)

    def clamp(self, min=None, max=None) -> Tensor:  # noqa: A002
        """Limit values to ``[min, max]`` (numbers or tensors)."""
        return _ops.clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min) -> Tensor:  # noqa: A002
        """``max(self, min)``."""
        return _ops.clamp_min(self, min)

    def clamp_max(self, max) -> Tensor:  # noqa: A002
        """``min(self, max)``."""
        return _ops.clamp_max(self, max)

    def maximum(self, other: Tensor) -> Tensor:
        """Elementwise maximum (nan propagates)."""
        return _binary(_ops.Maximum, self, _tensor_arg(other, "maximum"))

    def minimum(self, other: Tensor) -> Tensor:
        """Elementwise minimum (nan propagates)."""
        return _binary(_ops.Minimum, self, _tensor_arg(other, "minimum"))

    def fmax(self, other: Tensor) -> Tensor:
        """Elementwise maximum ignoring nan."""
        return _binary(_ops.Fmax, self, _tensor_arg(other, "fmax"))

    def fmin(self, other: Tensor) -> Tensor:
        """Elementwise minimum ignoring nan."""
        return _binary(_ops.Fmin, self, _tensor_arg(other, "fmin"))

    def atan2(self, other: Tensor) -> Tensor:
        """Elementwise ``atan(self / other)`` in the right quadrant."""
        return _binary(_ops.Atan2, self, _tensor_arg(other, "atan2"))

    arctan2 = atan2

    def hypot(self, other: Tensor) -> Tensor:
        """Elementwise ``sqrt(self**2 + other**2)``."""
        other = _tensor_arg(other, "hypot")
        _float_only(self, "hypot_cpu", other)
        return _binary(_ops.Hypot, self, other)

    def logaddexp(self, other: Tensor) -> Tensor:
        """``log(exp(self) + exp(other))`` without overflow."""
        other = _tensor_arg(other, "logaddexp")
        _float_only(self, "logaddexp_cpu", other)
        return _binary(_ops.Logaddexp, self, other)

    def logaddexp2(self, other: Tensor) -> Tensor:
        """``log2(2**self + 2**other)`` without overflow."""
        other = _tensor_arg(other, "logaddexp2")
        _float_only(self, "logaddexp2_cpu", other)
        return _binary(_ops.Logaddexp2, self, other)

    def xlogy(self, other) -> Tensor:
        """``self * log(other)``, 0 where ``self == 0``."""
        if isinstance(other, Tensor):
            return _binary(_ops.Xlogy, self, other)
        x = _to_float(self)
        return _ops._unary_with(_ops.XlogyScalarOther, x, other=other)

    def copysign(self, other) -> Tensor:
        """``|self|`` with the sign of ``other``."""
        if isinstance(other, Tensor):
            return _binary(_ops.Copysign, self, other)
        return _ops._unary_with(_ops.CopysignScalar, _to_float(self), other=other)

    def remainder(self, other) -> Tensor:
        """Python-style modulus (the result has the sign of ``other``)."""
        return _mod(self, other, _ops.Remainder, _ops.RemainderScalar, "remainder_cpu")

    def fmod(self, other) -> Tensor:
        """C-style modulus (the result has the sign of ``self``)."""
        return _mod(self, other, _ops.Fmod, _ops.FmodScalar, "fmod_cpu")

    def floor_divide(self, other) -> Tensor:
        """``self // other`` rounded toward minus infinity."""
        return _ops.floor_divide(self, other)

    def float_power(self, exponent) -> Tensor:
        """``self ** exponent`` computed in float64."""
        x = self.to(_dt.float64)
        if isinstance(exponent, Tensor):
            return x.pow(exponent.to(_dt.float64))
        return x.pow(float(exponent) if isinstance(exponent, bool) else exponent)

    def lerp(self, end: Tensor, weight) -> Tensor:
        """``self + weight * (end - self)``."""
        return _ops.lerp(self, end, weight)

    def addcmul(self, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
        """``self + value * tensor1 * tensor2``."""
        return _ops._ternary(_ops.Addcmul, "addcmul", (self, tensor1, tensor2), value=value)

    def addcdiv(self, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
        """``self + value * tensor1 / tensor2``."""
        return _ops.addcdiv(self, tensor1, tensor2, value)

    def nan_to_num(self, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
        """Replace nan, +inf and -inf by finite numbers (the dtype's extremes by default)."""
        if self._data.dtype.kind != "f":
            return self.clone()
        return _ops._unary_with(_ops.NanToNum, self, nan=nan, posinf=posinf, neginf=neginf)

    def heaviside(self, values: Tensor) -> Tensor:
        """Step function: 0 below 0, ``values`` at 0, 1 above."""
        return _ops.heaviside(self, values)

    def isclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:
        """``|self - other| <= atol + rtol * |other|`` as a bool tensor."""
        return _ops.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:
        """True when every element is close (see ``isclose``)."""
        return bool(self.isclose(other, rtol, atol, equal_nan)._data.all())

    def isnan(self) -> Tensor:
        """True where the value is nan."""
        return _ops._bool_unary(_np.isnan, self)

    def isinf(self) -> Tensor:
        """True where the value is +-inf."""
        return _ops._bool_unary(_np.isinf, self)

    def isfinite(self) -> Tensor:
        """True where the value is neither nan nor inf."""
        return _ops._bool_unary(_np.isfinite, self)

    def isposinf(self) -> Tensor:
        """True where the value is +inf."""
        return _ops._bool_unary(_isposinf, self)

    def isneginf(self) -> Tensor:
        """True where the value is -inf."""
        return _ops._bool_unary(_isneginf, self)

    def isreal(self) -> Tensor:
        """True everywhere (leafgrad has no complex dtypes)."""
        return _ops._bool_unary(_np.isreal, self)

    def signbit(self) -> Tensor:
        """True where the sign bit is set (including -0.0)."""
        return _ops._bool_unary(_np.signbit, self)

    def logical_not(self) -> Tensor:
        """Elementwise NOT, as a bool tensor."""
        return _ops._bool_unary(_np.logical_not, self)

    def logical_and(self, other: Tensor) -> Tensor:
        """Elementwise AND of truth values, as a bool tensor."""
        return _ops.logical(_np.logical_and, self, other, "logical_and")

    def logical_or(self, other: Tensor) -> Tensor:
        """Elementwise OR of truth values, as a bool tensor."""
        return _ops.logical(_np.logical_or, self, other, "logical_or")

    def logical_xor(self, other: Tensor) -> Tensor:
        """Elementwise XOR of truth values, as a bool tensor."""
        return _ops.logical(_np.logical_xor, self, other, "logical_xor")

    def bitwise_left_shift(self, other) -> Tensor:
        """``self << other``."""
        return _ops.shift(self, other, True)

    def bitwise_right_shift(self, other) -> Tensor:
        """``self >> other``."""
        return _ops.shift(self, other, False)

    __lshift__, __rshift__ = bitwise_left_shift, bitwise_right_shift

    def __rlshift__(self, other) -> Tensor:
        return _ops.shift(_t(other), self, True)

    def __rrshift__(self, other) -> Tensor:
        return _ops.shift(_t(other), self, False)

    __floordiv__ = floor_divide

    def __rfloordiv__(self, other) -> Tensor:
        return _ops.floor_divide(_t(other), self) if not self._rg else _ops._record_not_implemented(
            "floor_divide", (self,), _ops.floor_divide(_t(other), self.detach())._data)

    __mod__ = remainder

    def __rmod__(self, other) -> Tensor:
        return _ops.rmod(self, other)

    def __ifloordiv__(self, other) -> Tensor:
        return self._inplace(self.floor_divide, "floor_divide_", other)

    def __imod__(self, other) -> Tensor:
        return self._inplace(self.remainder, "remainder_", other)

    def __ilshift__(self, other) -> Tensor:
        return self._inplace(self.bitwise_left_shift, "bitwise_left_shift_", other)

    def __irshift__(self, other) -> Tensor:
        return self._inplace(self.bitwise_right_shift, "bitwise_right_shift_", other)

    def __iand__(self, other) -> Tensor:
        return self._inplace(self.bitwise_and, "bitwise_and_", other)

    def __ior__(self, other) -> Tensor:
        return self._inplace(self.bitwise_or, "bitwise_or_", other)

    def __ixor__(self, other) -> Tensor:
        return self._inplace(self.bitwise_xor, "bitwise_xor_", other)


def _no_bool_sub(a, b) -> None:
    """PyTorch refuses ``-`` whenever either side is a bool tensor or a Python bool."""
    if a._data.dtype.kind == "b" or b.__class__ is bool or (
            isinstance(b, Tensor) and b._data.dtype.kind == "b"):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def _compare(op, a, b, name: str):
    bd = b._data if isinstance(b, Tensor) else b
    try:
        return _wrap(op(a._data, bd))
    except ValueError:
        raise _ops.broadcast_error(name, a, b) from None


# Unary floating ops generated from one table: method name -> (op class name, what it computes).
# Integer and bool inputs compute in the default float dtype, as in PyTorch.
_FLOAT_UNARY = {
    "exp2": ("Exp2", "2 ** x"), "expm1": ("Expm1", "exp(x) - 1, exact near 0"),
    "log2": ("Log2", "base-2 logarithm"), "log10": ("Log10", "base-10 logarithm"),
    "log1p": ("Log1p", "log(1 + x), exact near 0"), "tan": ("Tan", "tangent"),
    "asin": ("Asin", "inverse sine"), "acos": ("Acos", "inverse cosine"),
    "atan": ("Atan", "inverse tangent"), "sinh": ("Sinh", "hyperbolic sine"),
    "cosh": ("Cosh", "hyperbolic cosine"), "asinh": ("Asinh", "inverse hyperbolic sine"),
    "acosh": ("Acosh", "inverse hyperbolic cosine"),
    "atanh": ("Atanh", "inverse hyperbolic tangent"), "erf": ("Erf", "error function"),
    "erfc": ("Erfc", "complementary error function 1 - erf(x)"),
    "erfinv": ("Erfinv", "inverse error function"), "lgamma": ("Lgamma", "log |Gamma(x)|"),
    "digamma": ("Digamma", "derivative of lgamma"), "sinc": ("Sinc", "sin(pi x) / (pi x)"),
    "deg2rad": ("Deg2Rad", "degrees to radians"), "rad2deg": ("Rad2Deg", "radians to degrees"),
}
_ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
            "arccosh": "acosh", "arctanh": "atanh"}


def _make_float_unary(name: str, cls_name: str, what: str):
    def method(self) -> Tensor:
        return _unary(getattr(_ops, cls_name), _to_float(self))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Elementwise {what}."
    return method


for _name, (_cls, _what) in _FLOAT_UNARY.items():
    setattr(ElementwiseMethods, _name, _make_float_unary(_name, _cls, _what))
for _alias, _name in _ALIASES.items():
    setattr(ElementwiseMethods, _alias, getattr(ElementwiseMethods, _name))


def _make_inplace(name: str):
    def method(self, *args, **kwargs) -> Tensor:
        return self._inplace(getattr(self, name), name + "_", *args, **kwargs)

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place ``{name}``."
    return method


# In-place variants PyTorch has (x.exp_(), x.clamp_(0, 1), ...); add_/mul_/... are written out.
_INPLACE = (
    *_FLOAT_UNARY, *_ALIASES, "abs", "absolute", "sign", "sgn", "reciprocal", "sqrt", "rsqrt",
    "square", "exp", "log", "sin", "cos", "tanh", "sigmoid", "relu", "logit", "floor", "ceil",
    "round", "trunc", "fix", "frac", "clamp", "clip", "clamp_min", "clamp_max", "fmod",
    "remainder", "floor_divide", "float_power", "lerp", "addcmul", "addcdiv", "hypot", "xlogy",
    "copysign", "nan_to_num", "heaviside", "atan2", "arctan2", "true_divide", "divide",
    "subtract", "multiply", "negative", "polygamma", "logical_and", "logical_or", "logical_xor",
    "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "bitwise_left_shift", "bitwise_right_shift", "eq", "ne", "lt", "le", "gt", "ge",
)
for _name in _INPLACE:
    if _name + "_" not in ElementwiseMethods.__dict__:
        setattr(ElementwiseMethods, _name + "_", _make_inplace(_name))
del _name, _cls, _what, _alias


def _rounding(x, cls, kernel: str):
    kind = x._data.dtype.kind
    if kind == "b":
        raise _ops._not_impl_dtype(kernel, x._data.dtype)
    if kind in "iu":
        return x.clone()  # NOTE: PyTorch's floor/ceil/round/trunc of an integer tensor: a copy
    return _unary(cls, x)


def _tensor_arg(other, name: str):
    if not isinstance(other, Tensor):
        raise TypeError(
            f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}"
            f"\nWhy: PyTorch's {name} takes two tensors; wrap the number, e.g. "
            f"torch.tensor({other!r}).")
    return other


def _float_only(a, kernel: str, b=None):
    dt = a._data.dtype if b is None else _dt.result_type(a, b).np
    if dt.kind != "f":
        raise _ops._not_impl_dtype(kernel, dt)


def _mod(x, other, cls, scalar_cls, kernel: str):
    if isinstance(other, Tensor):
        if x._data.dtype.kind == "b" and other._data.dtype.kind == "b":
            raise _ops._not_impl_dtype(kernel, x._data.dtype)
        return _binary(cls, x, other)
    if not isinstance(other, (int, float, bool)):
        return _binary(cls, x, _t(other))
    xd, od = _ops._operands(x, other)
    if xd.dtype.kind == "b":
        raise _ops._not_impl_dtype(kernel, xd.dtype)
    if xd is not x._data:
        x = x.to(FROM_NP[xd.dtype])
    return _ops._unary_with(scalar_cls, x, other=od)


def _isposinf(a):
    return _np.isposinf(a) if a.dtype.kind == "f" else _np.zeros(a.shape, bool)


def _isneginf(a):
    return _np.isneginf(a) if a.dtype.kind == "f" else _np.zeros(a.shape, bool)


# -- free functions (leafgrad.add(a, b), ...) ------------------------------------------------


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else _as_tensor(x)


def _out(res: Tensor, out, name: str) -> Tensor:
    """Write ``res`` into ``out=`` (resized when its shape differs, as PyTorch does)."""
    if out is None:
        return res
    if _grad_state.enabled and (res._rg or out._rg):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad.\nWhy: out= writes into an "
            "existing tensor outside the graph; call it without out= (or under no_grad()).")
    if not _dt.can_cast(FROM_NP[res._data.dtype], out.dtype):
        raise RuntimeError(
            f"result type {FROM_NP[res._data.dtype].name.capitalize()} can't be cast to the "
            f"desired output type {out.dtype.name.capitalize()}")
    if out._data.shape == res._data.shape:
        out._data[...] = res._data
    else:
        out._data = res._data.astype(out._data.dtype)
    out._bump_version()
    return out


def add(input, other, *, alpha=1, out=None) -> Tensor:  # noqa: A002
    """``input + alpha * other``.

    >>> import leafgrad
    >>> add(leafgrad.tensor([1, 2]), 3)
    tensor([4, 5])
    """
    return _t(input).add(other, alpha=alpha)


def sub(input, other, *, alpha=1, out=None) -> Tensor:  # noqa: A002
    """``input - alpha * other``."""
    return _t(input).sub(other, alpha=alpha)


def rsub(input, other, *, alpha=1) -> Tensor:  # noqa: A002
    """``other - alpha * input``."""
    return _t(other).sub(input, alpha=alpha) if alpha != 1 else _t(input).__rsub__(other)


def mul(input, other, *, out=None) -> Tensor:  # noqa: A002
    """Elementwise product."""
    return _t(input).mul(other)


def div(input, other, *, rounding_mode=None, out=None) -> Tensor:  # noqa: A002
    """Elementwise true division."""
    return _t(input).div(other, rounding_mode=rounding_mode)


def pow(input, exponent, *, out=None) -> Tensor:  # noqa: A001, A002
    """``input ** exponent``; ``input`` may be a Python number when ``exponent`` is a tensor."""
    if not isinstance(input, Tensor):
        return _t(exponent).__rpow__(input)
    return input.pow(exponent)


def neg(input) -> Tensor:  # noqa: A002
    """``-input``."""
    return input.neg()


def reciprocal(input) -> Tensor:  # noqa: A002
    """``1 / input``."""
    return input.reciprocal()


def exp(input) -> Tensor:  # noqa: A002
    """Elementwise e**x."""
    return input.exp()


def log(input) -> Tensor:  # noqa: A002
    """Elementwise natural log."""
    return input.log()


def sin(input) -> Tensor:  # noqa: A002
    """Elementwise sine."""
    return input.sin()


def cos(input) -> Tensor:  # noqa: A002
    """Elementwise cosine."""
    return input.cos()


def tanh(input) -> Tensor:  # noqa: A002
    """Elementwise tanh."""
    return input.tanh()


def sigmoid(input) -> Tensor:  # noqa: A002
    """Elementwise logistic sigmoid."""
    return input.sigmoid()


def relu(input) -> Tensor:  # noqa: A002
    """Elementwise max(x, 0)."""
    return input.relu()


def sqrt(input) -> Tensor:  # noqa: A002
    """Elementwise square root."""
    return input.sqrt()


def abs(input) -> Tensor:  # noqa: A001, A002
    """Elementwise absolute value."""
    return input.abs()


def sign(input) -> Tensor:  # noqa: A002
    """Elementwise sign."""
    return input.sign()


def eq(input, other) -> Tensor:  # noqa: A002
    """Elementwise ==."""
    return input.eq(other)


def ne(input, other) -> Tensor:  # noqa: A002
    """Elementwise !=."""
    return input.ne(other)


def lt(input, other) -> Tensor:  # noqa: A002
    """Elementwise <."""
    return input.lt(other)


def le(input, other) -> Tensor:  # noqa: A002
    """Elementwise <=."""
    return input.le(other)


def gt(input, other) -> Tensor:  # noqa: A002
    """Elementwise >."""
    return input.gt(other)


def ge(input, other) -> Tensor:  # noqa: A002
    """Elementwise >=."""
    return input.ge(other)


subtract, multiply, divide, true_divide = sub, mul, div, div
negative, absolute = neg, abs


_MISSING = object()


def where(condition, input=_MISSING, other=_MISSING) -> Tensor:  # noqa: A002
    """Elementwise select: ``input`` where ``condition`` holds, else ``other``.

    >>> import leafgrad
    >>> leafgrad.where(leafgrad.tensor([True, False]), leafgrad.tensor([1., 2.]), 0.0)
    tensor([1., 0.])
    """
    if input is _MISSING:
        return condition.nonzero(as_tuple=True) if isinstance(condition, Tensor) else None
    return _ops.where(condition, input, other)


def exp2(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``exp2`` (see ``Tensor.exp2``).

    >>> import leafgrad
    >>> leafgrad.exp2(leafgrad.tensor([0.5, 1.0]))
    tensor([1.4142, 2.0000])
    """
    return _out(_t(input).exp2(), out, "exp2")


def expm1(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``expm1`` (see ``Tensor.expm1``).

    >>> import leafgrad
    >>> leafgrad.expm1(leafgrad.tensor([0.5, 1.0]))
    tensor([0.6487, 1.7183])
    """
    return _out(_t(input).expm1(), out, "expm1")


def log2(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``log2`` (see ``Tensor.log2``).

    >>> import leafgrad
    >>> leafgrad.log2(leafgrad.tensor([0.5, 1.0]))
    tensor([-1.,  0.])
    """
    return _out(_t(input).log2(), out, "log2")


def log10(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``log10`` (see ``Tensor.log10``).

    >>> import leafgrad
    >>> leafgrad.log10(leafgrad.tensor([0.5, 1.0]))
    tensor([-0.3010,  0.0000])
    """
    return _out(_t(input).log10(), out, "log10")


def log1p(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``log1p`` (see ``Tensor.log1p``).

    >>> import leafgrad
    >>> leafgrad.log1p(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4055, 0.6931])
    """
    return _out(_t(input).log1p(), out, "log1p")


def tan(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``tan`` (see ``Tensor.tan``).

    >>> import leafgrad
    >>> leafgrad.tan(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5463, 1.5574])
    """
    return _out(_t(input).tan(), out, "tan")


def asin(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``asin`` (see ``Tensor.asin``).

    >>> import leafgrad
    >>> leafgrad.asin(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5236, 1.5708])
    """
    return _out(_t(input).asin(), out, "asin")


def acos(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``acos`` (see ``Tensor.acos``).

    >>> import leafgrad
    >>> leafgrad.acos(leafgrad.tensor([0.5, 1.0]))
    tensor([1.0472, 0.0000])
    """
    return _out(_t(input).acos(), out, "acos")


def atan(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``atan`` (see ``Tensor.atan``).

    >>> import leafgrad
    >>> leafgrad.atan(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4636, 0.7854])
    """
    return _out(_t(input).atan(), out, "atan")


def sinh(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``sinh`` (see ``Tensor.sinh``).

    >>> import leafgrad
    >>> leafgrad.sinh(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5211, 1.1752])
    """
    return _out(_t(input).sinh(), out, "sinh")


def cosh(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``cosh`` (see ``Tensor.cosh``).

    >>> import leafgrad
    >>> leafgrad.cosh(leafgrad.tensor([0.5, 1.0]))
    tensor([1.1276, 1.5431])
    """
    return _out(_t(input).cosh(), out, "cosh")


def asinh(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``asinh`` (see ``Tensor.asinh``).

    >>> import leafgrad
    >>> leafgrad.asinh(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4812, 0.8814])
    """
    return _out(_t(input).asinh(), out, "asinh")


def atanh(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``atanh`` (see ``Tensor.atanh``).

    >>> import leafgrad
    >>> leafgrad.atanh(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5493,    inf])
    """
    return _out(_t(input).atanh(), out, "atanh")


def erf(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``erf`` (see ``Tensor.erf``).

    >>> import leafgrad
    >>> leafgrad.erf(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5205, 0.8427])
    """
    return _out(_t(input).erf(), out, "erf")


def erfc(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``erfc`` (see ``Tensor.erfc``).

    >>> import leafgrad
    >>> leafgrad.erfc(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4795, 0.1573])
    """
    return _out(_t(input).erfc(), out, "erfc")


def erfinv(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``erfinv`` (see ``Tensor.erfinv``).

    >>> import leafgrad
    >>> leafgrad.erfinv(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4769,    inf])
    """
    return _out(_t(input).erfinv(), out, "erfinv")


def lgamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``lgamma`` (see ``Tensor.lgamma``).

    >>> import leafgrad
    >>> leafgrad.lgamma(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5724, 0.0000])
    """
    return _out(_t(input).lgamma(), out, "lgamma")


def digamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``digamma`` (see ``Tensor.digamma``).

    >>> import leafgrad
    >>> leafgrad.digamma(leafgrad.tensor([0.5, 1.0]))
    tensor([-1.9635, -0.5772])
    """
    return _out(_t(input).digamma(), out, "digamma")


def sinc(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``sinc`` (see ``Tensor.sinc``).

    >>> import leafgrad
    >>> leafgrad.sinc(leafgrad.tensor([0.5, 1.0]))
    tensor([ 6.3662e-01, -2.7828e-08])
    """
    return _out(_t(input).sinc(), out, "sinc")


def deg2rad(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``deg2rad`` (see ``Tensor.deg2rad``).

    >>> import leafgrad
    >>> leafgrad.deg2rad(leafgrad.tensor([0.5, 1.0]))
    tensor([0.0087, 0.0175])
    """
    return _out(_t(input).deg2rad(), out, "deg2rad")


def rad2deg(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``rad2deg`` (see ``Tensor.rad2deg``).

    >>> import leafgrad
    >>> leafgrad.rad2deg(leafgrad.tensor([0.5, 1.0]))
    tensor([28.6479, 57.2958])
    """
    return _out(_t(input).rad2deg(), out, "rad2deg")


def rsqrt(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``rsqrt`` (see ``Tensor.rsqrt``).

    >>> import leafgrad
    >>> leafgrad.rsqrt(leafgrad.tensor([0.5, 1.0]))
    tensor([1.4142, 1.0000])
    """
    return _out(_t(input).rsqrt(), out, "rsqrt")


def sgn(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``sgn`` (see ``Tensor.sgn``).

    >>> import leafgrad
    >>> leafgrad.sgn(leafgrad.tensor([0.5, 1.0]))
    tensor([1., 1.])
    """
    return _out(_t(input).sgn(), out, "sgn")


def square(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``square`` (see ``Tensor.square``).

    >>> import leafgrad
    >>> leafgrad.square(leafgrad.tensor([0.5, 1.0]))
    tensor([0.2500, 1.0000])
    """
    return _out(_t(input).square(), out, "square")


def floor(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``floor`` (see ``Tensor.floor``).

    >>> import leafgrad
    >>> leafgrad.floor(leafgrad.tensor([0.5, 1.0]))
    tensor([0., 1.])
    """
    return _out(_t(input).floor(), out, "floor")


def ceil(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``ceil`` (see ``Tensor.ceil``).

    >>> import leafgrad
    >>> leafgrad.ceil(leafgrad.tensor([0.5, 1.0]))
    tensor([1., 1.])
    """
    return _out(_t(input).ceil(), out, "ceil")


def trunc(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``trunc`` (see ``Tensor.trunc``).

    >>> import leafgrad
    >>> leafgrad.trunc(leafgrad.tensor([0.5, 1.0]))
    tensor([0., 1.])
    """
    return _out(_t(input).trunc(), out, "trunc")


def frac(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``frac`` (see ``Tensor.frac``).

    >>> import leafgrad
    >>> leafgrad.frac(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5000, 0.0000])
    """
    return _out(_t(input).frac(), out, "frac")


def isnan(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``isnan`` (see ``Tensor.isnan``).

    >>> import leafgrad
    >>> leafgrad.isnan(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _out(_t(input).isnan(), out, "isnan")


def isinf(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``isinf`` (see ``Tensor.isinf``).

    >>> import leafgrad
    >>> leafgrad.isinf(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _out(_t(input).isinf(), out, "isinf")


def isfinite(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``isfinite`` (see ``Tensor.isfinite``).

    >>> import leafgrad
    >>> leafgrad.isfinite(leafgrad.tensor([0.5, 1.0]))
    tensor([True, True])
    """
    return _out(_t(input).isfinite(), out, "isfinite")


def isposinf(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``isposinf`` (see ``Tensor.isposinf``).

    >>> import leafgrad
    >>> leafgrad.isposinf(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _out(_t(input).isposinf(), out, "isposinf")


def isneginf(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``isneginf`` (see ``Tensor.isneginf``).

    >>> import leafgrad
    >>> leafgrad.isneginf(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _out(_t(input).isneginf(), out, "isneginf")


def isreal(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``isreal`` (see ``Tensor.isreal``).

    >>> import leafgrad
    >>> leafgrad.isreal(leafgrad.tensor([0.5, 1.0]))
    tensor([True, True])
    """
    return _out(_t(input).isreal(), out, "isreal")


def signbit(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``signbit`` (see ``Tensor.signbit``).

    >>> import leafgrad
    >>> leafgrad.signbit(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _out(_t(input).signbit(), out, "signbit")


def logical_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``logical_not`` (see ``Tensor.logical_not``).

    >>> import leafgrad
    >>> leafgrad.logical_not(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _out(_t(input).logical_not(), out, "logical_not")


def positive(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``positive`` (see ``Tensor.positive``).

    >>> import leafgrad
    >>> leafgrad.positive(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5000, 1.0000])
    """
    return _out(_t(input).positive(), out, "positive")


def floor_divide(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input // other``, rounding toward minus infinity.

    >>> import leafgrad
    >>> leafgrad.floor_divide(leafgrad.tensor([7, -7]), 2)
    tensor([ 3, -4])
    """
    return _out(_t(input).floor_divide(other), out, "floor_divide")


def remainder(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Python-style modulus: the result has the sign of ``other``.

    >>> import leafgrad
    >>> leafgrad.remainder(leafgrad.tensor([7, -7]), 3)
    tensor([1, 2])
    """
    if not isinstance(input, Tensor):
        return _out(_t(other).__rmod__(input), out, "remainder")
    return _out(input.remainder(other), out, "remainder")


def fmod(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """C-style modulus: the result has the sign of ``input``.

    >>> import leafgrad
    >>> leafgrad.fmod(leafgrad.tensor([7, -7]), 3)
    tensor([ 1, -1])
    """
    return _out(_t(input).fmod(other), out, "fmod")


def float_power(input, exponent, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input ** exponent`` computed in float64.

    >>> import leafgrad
    >>> leafgrad.float_power(leafgrad.tensor([2, 3]), 2)
    tensor([4., 9.], dtype=torch.float64)
    """
    if not isinstance(input, Tensor):
        return _out(_float_power_rscalar(input, exponent), out, "float_power")
    return _out(input.float_power(exponent), out, "float_power")


def atan2(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``atan(input / other)`` in the quadrant of (other, input).

    >>> import leafgrad
    >>> leafgrad.atan2(leafgrad.tensor([1.0]), leafgrad.tensor([-1.0]))
    tensor([2.3562])
    """
    return _out(_t(input).atan2(other), out, "atan2")


def maximum(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise maximum; nan propagates.

    >>> import leafgrad
    >>> leafgrad.maximum(leafgrad.tensor([1., 4.]), leafgrad.tensor([3., 2.]))
    tensor([3., 4.])
    """
    return _out(_t(input).maximum(other), out, "maximum")


def minimum(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise minimum; nan propagates.

    >>> import leafgrad
    >>> leafgrad.minimum(leafgrad.tensor([1., 4.]), leafgrad.tensor([3., 2.]))
    tensor([1., 2.])
    """
    return _out(_t(input).minimum(other), out, "minimum")


def fmax(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise maximum that ignores nan.

    >>> import leafgrad
    >>> leafgrad.fmax(leafgrad.tensor([1., float('nan')]), leafgrad.tensor([3., 2.]))
    tensor([3., 2.])
    """
    return _out(_t(input).fmax(other), out, "fmax")


def fmin(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise minimum that ignores nan.

    >>> import leafgrad
    >>> leafgrad.fmin(leafgrad.tensor([1., float('nan')]), leafgrad.tensor([3., 2.]))
    tensor([1., 2.])
    """
    return _out(_t(input).fmin(other), out, "fmin")


def hypot(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``sqrt(input**2 + other**2)``.

    >>> import leafgrad
    >>> leafgrad.hypot(leafgrad.tensor([3.]), leafgrad.tensor([4.]))
    tensor([5.])
    """
    return _out(_t(input).hypot(other), out, "hypot")


def xlogy(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input * log(other)``, 0 where ``input == 0``.

    >>> import leafgrad
    >>> leafgrad.xlogy(leafgrad.tensor([0., 2.]), leafgrad.tensor([0., 1.]))
    tensor([0., 0.])
    """
    if not isinstance(input, Tensor):
        return _out(_xlogy_rscalar(input, other), out, "xlogy")
    return _out(input.xlogy(other), out, "xlogy")


def logaddexp(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``log(exp(input) + exp(other))`` without overflow.

    >>> import leafgrad
    >>> leafgrad.logaddexp(leafgrad.tensor([0.]), leafgrad.tensor([0.]))
    tensor([0.6931])
    """
    return _out(_t(input).logaddexp(other), out, "logaddexp")


def logaddexp2(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``log2(2**input + 2**other)`` without overflow.

    >>> import leafgrad
    >>> leafgrad.logaddexp2(leafgrad.tensor([1.]), leafgrad.tensor([1.]))
    tensor([2.])
    """
    return _out(_t(input).logaddexp2(other), out, "logaddexp2")


def copysign(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``|input|`` with the sign of ``other``.

    >>> import leafgrad
    >>> leafgrad.copysign(leafgrad.tensor([1., 2.]), -1.0)
    tensor([-1., -2.])
    """
    return _out(_t(input).copysign(other), out, "copysign")


def heaviside(input, values, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Step function: 0 below 0, ``values`` at 0, 1 above.

    >>> import leafgrad
    >>> leafgrad.heaviside(leafgrad.tensor([-1., 0., 2.]), leafgrad.tensor([0.5]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    return _out(_t(input).heaviside(values), out, "heaviside")


def logical_and(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise AND of truth values, as a bool tensor.

    >>> import leafgrad
    >>> leafgrad.logical_and(leafgrad.tensor([1, 0]), leafgrad.tensor([2, 2]))
    tensor([ True, False])
    """
    return _out(_t(input).logical_and(other), out, "logical_and")


def logical_or(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise OR of truth values, as a bool tensor.

    >>> import leafgrad
    >>> leafgrad.logical_or(leafgrad.tensor([1, 0]), leafgrad.tensor([0, 0]))
    tensor([ True, False])
    """
    return _out(_t(input).logical_or(other), out, "logical_or")


def logical_xor(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise XOR of truth values, as a bool tensor.

    >>> import leafgrad
    >>> leafgrad.logical_xor(leafgrad.tensor([1, 0]), leafgrad.tensor([1, 1]))
    tensor([False,  True])
    """
    return _out(_t(input).logical_xor(other), out, "logical_xor")


def bitwise_and(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise bitwise AND of integer/bool tensors.

    >>> import leafgrad
    >>> leafgrad.bitwise_and(leafgrad.tensor([12]), leafgrad.tensor([10]))
    tensor([8])
    """
    return _out(_t(input).bitwise_and(other), out, "bitwise_and")


def bitwise_or(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise bitwise OR of integer/bool tensors.

    >>> import leafgrad
    >>> leafgrad.bitwise_or(leafgrad.tensor([12]), leafgrad.tensor([10]))
    tensor([14])
    """
    return _out(_t(input).bitwise_or(other), out, "bitwise_or")


def bitwise_xor(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise bitwise XOR of integer/bool tensors.

    >>> import leafgrad
    >>> leafgrad.bitwise_xor(leafgrad.tensor([12]), leafgrad.tensor([10]))
    tensor([6])
    """
    return _out(_t(input).bitwise_xor(other), out, "bitwise_xor")


def bitwise_left_shift(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input << other``.

    >>> import leafgrad
    >>> leafgrad.bitwise_left_shift(leafgrad.tensor([1, 3]), 2)
    tensor([ 4, 12])
    """
    return _out(_t(input).bitwise_left_shift(other), out, "bitwise_left_shift")


def bitwise_right_shift(input, other, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input >> other`` (arithmetic for signed integers).

    >>> import leafgrad
    >>> leafgrad.bitwise_right_shift(leafgrad.tensor([8, -8]), 2)
    tensor([ 2, -2])
    """
    return _out(_t(input).bitwise_right_shift(other), out, "bitwise_right_shift")


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:  # noqa: A001, A002
    """Round half to even, to ``decimals`` decimal places.

    >>> import leafgrad
    >>> leafgrad.round(leafgrad.tensor([0.5, 1.5, 1.26]), decimals=1)
    tensor([0.5000, 1.5000, 1.3000])
    """
    return _out(_t(input).round(decimals=decimals), out, "round")


def clamp(input: Tensor, min=None, max=None, *, out: Tensor | None = None) -> Tensor:  # noqa: A001, A002
    """Limit values to ``[min, max]``; bounds are numbers or tensors.

    >>> import leafgrad
    >>> leafgrad.clamp(leafgrad.tensor([-1., 0.5, 2.]), 0, 1)
    tensor([0.0000, 0.5000, 1.0000])
    """
    return _out(_t(input).clamp(min, max), out, "clamp")


clip = clamp


def clamp_min(input: Tensor, min, *, out: Tensor | None = None) -> Tensor:  # noqa: A001, A002
    """``max(input, min)``.

    >>> import leafgrad
    >>> leafgrad.clamp_min(leafgrad.tensor([-1., 2.]), 0)
    tensor([0., 2.])
    """
    return _out(_t(input).clamp_min(min), out, "clamp_min")


def clamp_max(input: Tensor, max, *, out: Tensor | None = None) -> Tensor:  # noqa: A001, A002
    """``min(input, max)``.

    >>> import leafgrad
    >>> leafgrad.clamp_max(leafgrad.tensor([-1., 2.]), 0)
    tensor([-1.,  0.])
    """
    return _out(_t(input).clamp_max(max), out, "clamp_max")


def lerp(input: Tensor, end: Tensor, weight, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input + weight * (end - input)``.

    >>> import leafgrad
    >>> leafgrad.lerp(leafgrad.tensor([0., 1.]), leafgrad.tensor([10., 11.]), 0.5)
    tensor([5., 6.])
    """
    return _out(_t(input).lerp(end, weight), out, "lerp")


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1,
            out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input + value * tensor1 * tensor2``.

    >>> import leafgrad
    >>> leafgrad.addcmul(leafgrad.tensor([1.]), leafgrad.tensor([2.]), leafgrad.tensor([3.]))
    tensor([7.])
    """
    return _out(_t(input).addcmul(tensor1, tensor2, value=value), out, "addcmul")


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1,
            out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input + value * tensor1 / tensor2``.

    >>> import leafgrad
    >>> leafgrad.addcdiv(leafgrad.tensor([1.]), leafgrad.tensor([3.]), leafgrad.tensor([2.]))
    tensor([2.5000])
    """
    return _out(_t(input).addcdiv(tensor1, tensor2, value=value), out, "addcdiv")


def nan_to_num(input: Tensor, nan: float = 0.0, posinf=None, neginf=None, *,
               out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Replace nan, +inf and -inf by finite numbers.

    >>> import leafgrad
    >>> leafgrad.nan_to_num(leafgrad.tensor([float('nan'), 1.0, float('inf')]), posinf=9.0)
    tensor([0., 1., 9.])
    """
    return _out(_t(input).nan_to_num(nan, posinf, neginf), out, "nan_to_num")


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The n-th derivative of digamma.

    >>> import leafgrad
    >>> leafgrad.polygamma(1, leafgrad.tensor([1.0]))
    tensor([1.6449])
    """
    return _out(_ops.polygamma(n, _t(input)), out, "polygamma")


def logit(input: Tensor, eps=None, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``log(p / (1 - p))``, ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given.

    >>> import leafgrad
    >>> leafgrad.logit(leafgrad.tensor([0.5, 1.0]), eps=0.1)
    tensor([0.0000, 2.1972])
    """
    return _out(_t(input).logit(eps), out, "logit")


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:  # noqa: A002
    """``|input - other| <= atol + rtol * |other|`` as a bool tensor.

    >>> import leafgrad
    >>> leafgrad.isclose(leafgrad.tensor([1.0, 2.0]), leafgrad.tensor([1.0 + 1e-9, 2.1]))
    tensor([ True, False])
    """
    return _t(input).isclose(other, rtol, atol, equal_nan)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:  # noqa: A002
    """True when every element of ``input`` is close to ``other`` (see ``isclose``).

    >>> import leafgrad
    >>> leafgrad.allclose(leafgrad.tensor([1.0]), leafgrad.tensor([1.0 + 1e-9]))
    True
    """
    return _t(input).allclose(other, rtol, atol, equal_nan)


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """True when both tensors have the same shape and values.

    >>> import leafgrad
    >>> leafgrad.equal(leafgrad.tensor([1, 2]), leafgrad.tensor([1, 2]))
    True
    """
    return _t(input).equal(other)


def bitwise_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise NOT: logical for bool, two's complement for integers.

    >>> import leafgrad
    >>> leafgrad.bitwise_not(leafgrad.tensor([0, 5]))
    tensor([-1, -6])
    """
    return _out(_t(input).bitwise_not(), out, "bitwise_not")


def _xlogy_rscalar(x, other: Tensor) -> Tensor:
    return _ops._unary_with(_ops.XlogyScalarSelf, _to_float(_t(other)), self_=x)


def _float_power_rscalar(base, exponent: Tensor) -> Tensor:
    return _t(exponent).to(_dt.float64).__rpow__(base)


def acosh(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``acosh`` (see ``Tensor.acosh``).

    >>> import leafgrad
    >>> leafgrad.acosh(leafgrad.tensor([1.0, 2.0]))
    tensor([0.0000, 1.3170])
    """
    return _out(_t(input).acosh(), out, "acosh")


# NOTE: PyTorch's aliases (arcsin for asin, ...); the doctest lives on the canonical name.
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
arctan2, fix, special_erf = atan2, trunc, erf
subtract, multiply, divide, true_divide = sub, mul, div, div
negative, absolute = neg, abs

__all__ = [
    "abs", "absolute", "acos", "acosh", "add", "addcdiv", "addcmul", "allclose", "arccos",
    "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "asin", "asinh", "atan",
    "atan2", "atanh", "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "ceil", "clamp", "clamp_max", "clamp_min", "clip",
    "copysign", "cos", "cosh", "deg2rad", "digamma", "div", "divide", "eq", "equal", "erf",
    "erfc", "erfinv", "exp", "exp2", "expm1", "fix", "float_power", "floor", "floor_divide",
    "fmax", "fmin", "fmod", "frac", "ge", "gt", "heaviside", "hypot", "isclose", "isfinite",
    "isinf", "isnan", "isneginf", "isposinf", "isreal", "le", "lerp", "lgamma", "log", "log10",
    "log1p", "log2", "logaddexp", "logaddexp2", "logical_and", "logical_not", "logical_or",
    "logical_xor", "logit", "lt", "maximum", "minimum", "mul", "multiply", "nan_to_num", "ne",
    "neg", "negative", "polygamma", "positive", "pow", "rad2deg", "reciprocal", "relu",
    "remainder", "round", "rsqrt", "rsub", "sgn", "sigmoid", "sign", "signbit", "sin", "sinc",
    "sinh", "sqrt", "square", "sub", "subtract", "tan", "tanh", "true_divide", "trunc", "where",
    "xlogy",
]
