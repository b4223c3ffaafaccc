"""Elementwise Tensor methods: arithmetic, math functions, comparisons, bitwise operators."""

from __future__ import annotations

import operator

import numpy as _np

from ... import dtypes as _dt
from ..._dims import not_a_tensor as _not_a_tensor
from ...autograd.grad_mode import _NoGrad
from ...autograd.grad_mode import state as _grad_state
from ...autograd.node import _IGNORE, _quiet_off, _quiet_on
from ...backend import array_module as _array_module
from ...backend import writeable as _writeable
from ...dtypes import FROM_NP
from .arith import _t


def _link() -> None:
    """Import what this module needs from modules that import it (docs/design.md, "The import
    cycle"); run once by leafgrad.tensor when Tensor exists. The hot paths' helpers and op
    classes are module globals: one lookup per use."""
    global Tensor, _wrap, _ops, _binary, _unary, _to_float, _check_overlap
    global _Add, _Sub, _Mul, _Div, _Neg, _Exp, _Log, _Sin, _Cos, _Tanh, _Sigmoid, _Relu, _Sqrt
    global _Abs, _PowTensor
    from ...ops import elementwise as _ops
    from ...ops.elementwise import Abs as _Abs
    from ...ops.elementwise import Add as _Add
    from ...ops.elementwise import Cos as _Cos
    from ...ops.elementwise import Div as _Div
    from ...ops.elementwise import Exp as _Exp
    from ...ops.elementwise import Log as _Log
    from ...ops.elementwise import Mul as _Mul
    from ...ops.elementwise import Neg as _Neg
    from ...ops.elementwise import PowTensor as _PowTensor
    from ...ops.elementwise import Relu as _Relu
    from ...ops.elementwise import Sigmoid as _Sigmoid
    from ...ops.elementwise import Sin as _Sin
    from ...ops.elementwise import Sqrt as _Sqrt
    from ...ops.elementwise import Sub as _Sub
    from ...ops.elementwise import Tanh as _Tanh
    from ...ops.elementwise import _binary, _to_float, _unary
    from ...ops.inplace_view import check_overlap as _check_overlap
    from ...tensor import Tensor, _wrap


def _need_tensors(op: str, args: dict, first: int) -> None:
    """PyTorch's argument parser: these arguments are Tensors; a number is a TypeError."""
    for k, (name, v) in enumerate(args.items()):
        if not isinstance(v, Tensor):
            raise _not_a_tensor(op, name, first + k, v, f"{op} multiplies or divides two "
                                "tensors elementwise; wrap a number with torch.tensor(...).")


def _lerp_args(op: str, lead: tuple, end, weight) -> None:
    """PyTorch's lerp overloads: (Tensor end, Tensor weight) or (Tensor end, Number weight)."""
    if not isinstance(end, Tensor):
        got = ", ".join((*lead, type(end).__name__, type(weight).__name__))
        pre = "Tensor input, " if lead else ""
        raise TypeError(f"{op}() received an invalid combination of arguments - got ({got}), but "
                        f"expected one of:\n * ({pre}Tensor end, Tensor weight)\n * ({pre}Tensor "
                        "end, Number weight)\nWhy: end must be a tensor; wrap a number with "
                        "torch.tensor(...).")


# In-place ops that refuse any overlap of an operand with the written tensor, not only a
# partial one (PyTorch's at::assert_no_overlap); the others are TensorIterator ops, except those
# that read their value before writing (a 0-d value's item(), masked_scatter_'s source) and check
# no operand.
_STRICT_OVERLAP = frozenset(("index_add_", "index_copy_", "index_put_", "scatter_",
                             "scatter_add_", "scatter_reduce_", "put_"))
_NO_OVERLAP_CHECK = frozenset(("masked_fill_", "index_fill_", "masked_scatter_"))


class _Again:
    """The out-of-place op of an in-place one, recomputed from the current values (no graph)."""

    __slots__ = ("method", "args", "kwargs")

    def __init__(self, method, args, kwargs) -> None:
        self.method, self.args, self.kwargs = method, args, kwargs

    def __call__(self):
        with _NoGrad():
            return self.method(*self.args, **self.kwargs)


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
        if alpha.__class__ is not int or alpha != 1:  # (alpha=True/1.0: checked there)
            return _ops.add_alpha(_ops.AddAlpha, self, other, alpha)
        return _binary(_Add, self, other)

    def sub(self, other, *, alpha=1) -> Tensor:
        """``self - alpha * other``, broadcasting."""
        _no_bool_sub(self, other)
        if alpha.__class__ is not int or alpha != 1:  # (alpha=True/1.0: checked there)
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
        """In-place ``self += alpha * other``.

        >>> import leafgrad
        >>> leafgrad.tensor([1.0, 2.0]).add_(leafgrad.tensor([1.0, 1.0]), alpha=2)
        tensor([3., 4.])
        """
        if _write_in_place(self, other, "add_", alpha):
            return self
        return self._inplace(self.add, "add_", other, alpha=alpha)

    def sub_(self, other, *, alpha=1) -> Tensor:
        """In-place ``self -= alpha * other`` (an optimizer's ``p.sub_(g, alpha=lr)``)."""
        if _write_in_place(self, other, "sub_", alpha):
            return self
        return self._inplace(self.sub, "sub_", other, alpha=alpha)

    def mul_(self, other) -> Tensor:
        """In-place ``self *= other``."""
        if _write_in_place(self, other, "mul_"):
            return self
        return self._inplace(self.mul, "mul_", other)

    def div_(self, other, *, rounding_mode=None) -> Tensor:
        """In-place ``self /= other``."""
        if rounding_mode is None and _write_in_place(self, other, "div_"):
            return self
        return self._inplace(self.div, "div_", other, rounding_mode=rounding_mode)

    def pow_(self, exponent) -> Tensor:
        """In-place ``self **= exponent``."""
        return self._inplace(self.pow, "pow_", exponent)

    def neg_(self) -> Tensor:
        """In-place negation."""
        if _write_unary(self, "negative"):
            return self
        return self._inplace(self.neg, "neg_")

    def _inplace(self, method, name: str, *args, **kwargs) -> Tensor:
        # _inplace_from checks PyTorch's in-place guards and memory overlap, writes, and bumps
        # the version; the guards run first, as PyTorch's check_inplace, before computing
        operands = args + tuple(kwargs.values()) if kwargs else args
        checked = () if name in _NO_OVERLAP_CHECK else operands
        if checked:
            # NOTE: before computing, as PyTorch checks overlap before broadcasting shapes
            _check_overlap(self, checked, name, name in _STRICT_OVERLAP)
        if _grad_state.enabled and (self.requires_grad or any(
                isinstance(a, Tensor) and a.requires_grad for a in operands)):
            self._check_inplace(name, True)
            return self._inplace_from(method(*args, **kwargs), name, checked,
                                      name in _STRICT_OVERLAP, _Again(method, args, kwargs))
        with _NoGrad():
            result = method(*args, **kwargs)
        # nothing to record: checks, write, version
        return self._inplace_from(result, name, checked, name in _STRICT_OVERLAP,
                                  _Again(method, args, kwargs))

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

    def where(self, condition, y) -> Tensor:
        """``self`` where ``condition`` holds, else ``y`` (``torch.where(condition, self, y)``).

        >>> import leafgrad
        >>> leafgrad.tensor([1., 2.]).where(leafgrad.tensor([True, False]), 0.0)
        tensor([1., 0.])
        """
        return _ops.where(condition, self, y)

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
        _lerp_args("lerp", (), end, weight)
        return _ops.lerp(self, end, weight)

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002
        """In-place ``clamp`` (gradient clipping's ``g.clamp_(-c, c)``)."""
        if _write_clamp(self, min, max):
            return self
        return self._inplace(self.clamp, "clamp_", min, max)

    def lerp_(self, end: Tensor, weight) -> Tensor:
        """In-place ``lerp``."""
        _lerp_args("lerp_", (), end, weight)
        if weight.__class__ in (int, float) and _write_fused(self, "lerp_", (end,), weight):
            return self
        return self._inplace(self.lerp, "lerp_", end, weight)

    def addcmul_(self, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
        """In-place ``addcmul`` (Adam's ``exp_avg_sq.addcmul_(g, g, value=1 - beta2)``)."""
        _need_tensors("addcmul_", {"tensor1": tensor1, "tensor2": tensor2}, 1)
        if _write_fused(self, "addcmul_", (tensor1, tensor2), value):
            return self
        return self._inplace(self.addcmul, "addcmul_", tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
        """In-place ``addcdiv``."""
        _need_tensors("addcdiv_", {"tensor1": tensor1, "tensor2": tensor2}, 1)
        if _write_fused(self, "addcdiv_", (tensor1, tensor2), value):
            return self
        return self._inplace(self.addcdiv, "addcdiv_", tensor1, tensor2, value=value)

    def addcmul(self, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
        """``self + value * tensor1 * tensor2``."""
        _need_tensors("addcmul", {"tensor1": tensor1, "tensor2": tensor2}, 1)
        return _ops._ternary(_ops.Addcmul, "addcmul", (self, tensor1, tensor2), value=value)

    def addcdiv(self, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
        """``self + value * tensor1 / tensor2``."""
        _need_tensors("addcdiv", {"tensor1": tensor1, "tensor2": tensor2}, 1)
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

    # NOTE: a number on the left is PyTorch's wrapped number (in self's dtype: ``3 << int8`` is
    # int8), never a tensor of its own default dtype (``_t(other, self)``)
    def __rlshift__(self, other) -> Tensor:
        return _ops.shift(_t(other, self), self, True)

    def __rrshift__(self, other) -> Tensor:
        return _ops.shift(_t(other, self), self, False)

    __floordiv__ = floor_divide

    def __rfloordiv__(self, other) -> Tensor:
        o = _t(other, self)
        return _ops.floor_divide(o, self) if not self._rg else _ops._record_not_implemented(
            "floor_divide", (self,), _ops.floor_divide(o, self.detach())._data)

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


_WRITE_DTYPES = frozenset((_np.dtype(_np.float32), _np.dtype(_np.float64)))
_kernels = None  # leafgrad.optim._kernels, loaded on the first update with an alpha


def _write_in_place(self, other, name: str, alpha=1) -> bool:
    """Compute ``self <name> other`` straight into self's array, when nothing is recorded.

    The common optimizer update (a contiguous float32/float64 tensor with a same-dtype tensor
    of its shape, or a Python number, outside autograd): NumPy writes into self's own memory
    (``out=``), with no result array and no copy. Anything else returns False and takes the
    general path (``_inplace``), which computes out of place and copies back: it has the dtype,
    broadcast, internal-overlap and autograd rules. The version bump and the overlap check are
    kept here; the values are the general path's (``add``/``sub`` with ``alpha`` round once,
    as ATen's fused multiply-add, through the optimizers' kernels).
    """
    global _kernels
    data = self._data
    if data.dtype not in _WRITE_DTYPES or not data.flags.c_contiguous or not _writeable(data):
        return False
    oc = other.__class__
    if oc is Tensor or isinstance(other, Tensor):  # a Parameter too
        od = other._data
        if od.dtype != data.dtype or (od.shape != data.shape and od.ndim):
            return False
        if _grad_state.enabled and (self.requires_grad or other.requires_grad):
            return False
        _check_overlap(self, (other,), name)  # PyTorch refuses a partial overlap
    elif (oc is float or oc is int) and alpha == 1:
        od = other
        if _grad_state.enabled and self.requires_grad:
            return False
    else:
        return False
    if alpha.__class__ is bool or alpha != 1 and (
            alpha.__class__ not in (int, float) or type(data) is not _np.ndarray):
        return False  # the fused kernels are NumPy's (another array module: the general path)
    xp = _array_module(data)
    token = _quiet_on(_IGNORE)  # inf and nan are values, as in PyTorch: no NumPy warnings
    try:
        if name == "add_" or name == "sub_":
            if alpha == 1:
                (xp.add if name == "add_" else xp.subtract)(data, od, out=data)
            else:
                if _kernels is None:
                    from ...optim import _kernels
                _kernels.add(data, data, od, alpha if name == "add_" else -alpha)
        elif name == "mul_":
            xp.multiply(data, od, out=data)
        else:
            xp.divide(data, od, out=data)
    finally:
        _quiet_off(token)
    self._bump_version()
    return True


def _write_clamp(self, lo, hi) -> bool:
    """``clamp_`` with number bounds straight into self's array (float, contiguous, nothing
    recorded): Clamp's forward, ``maximum`` then ``minimum`` with the bounds in self's dtype."""
    data = self._data
    if (data.dtype not in _WRITE_DTYPES or not data.flags.c_contiguous
            or not _writeable(data) or (lo is None and hi is None)
            or (lo is not None and lo.__class__ not in (int, float))
            or (hi is not None and hi.__class__ not in (int, float))
            or (_grad_state.enabled and self.requires_grad)):
        return False
    xp = _array_module(data)
    token = _quiet_on(_IGNORE)
    try:
        if lo is not None:
            xp.maximum(data, data.dtype.type(lo), out=data)
        if hi is not None:
            xp.minimum(data, data.dtype.type(hi), out=data)
    finally:
        _quiet_off(token)
    self._bump_version()
    return True


def _write_fused(self, name: str, tensors: tuple, number) -> bool:
    """``lerp_``/``addcmul_``/``addcdiv_`` straight into self's array, when nothing is recorded
    and every operand is a NumPy array of self's dtype and shape (or 0-d): the optimizers'
    kernels (``optim._kernels``), which round as ATen does, write into self (see
    ``_write_in_place``). Anything else returns False and takes the general path."""
    global _kernels
    data = self._data
    if (type(data) is not _np.ndarray or data.dtype not in _WRITE_DTYPES
            or not data.flags.c_contiguous or not _writeable(data)
            or number.__class__ not in (int, float)):
        return False
    for t in tensors:
        if not isinstance(t, Tensor):
            return False
        d = t._data
        if type(d) is not _np.ndarray or d.dtype != data.dtype or (d.shape != data.shape
                                                                    and d.ndim):
            return False
    if _grad_state.enabled and (self.requires_grad or any(t.requires_grad for t in tensors)):
        return False
    _check_overlap(self, tensors, name)  # PyTorch refuses a partial overlap
    if _kernels is None:
        from ...optim import _kernels
    from ...optim import _fma

    with _fma.errors():  # inf and nan are values, as in PyTorch: no NumPy warnings
        if name == "lerp_":
            _kernels.lerp(data, data, tensors[0]._data, number)
        else:
            getattr(_kernels, name[:-1])(data, data, tensors[0]._data, tensors[1]._data, number)
    self._bump_version()
    return True


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
    if bd.__class__ is int and a._data.dtype.kind in "iu":
        # NOTE: PyTorch wraps an out-of-range Python int into the tensor's dtype here too
        # (int32 <= 2**31 compares with -2**31), as in arithmetic (_operands)
        info = _np.iinfo(a._data.dtype)
        if not info.min <= bd <= info.max:
            bd = a._data.dtype.type((bd - info.min) % (1 << info.bits) + info.min)
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


# Unary ops whose forward (float dtypes) is this one NumPy ufunc: in place, the ufunc writes
# into self's array (``out=``) when nothing is recorded, the same arithmetic without a copy.
_UFUNC_OF = {"neg": "negative", "negative": "negative", "abs": "absolute",
             "absolute": "absolute", "sin": "sin", "cos": "cos", "sqrt": "sqrt"}


def _write_unary(self, ufunc: str) -> bool:
    data = self._data
    if (data.dtype not in _WRITE_DTYPES or not data.flags.c_contiguous
            or not _writeable(data) or (_grad_state.enabled and self.requires_grad)):
        return False
    token = _quiet_on(_IGNORE)  # sqrt(-1) is nan, silently, as in PyTorch
    try:
        getattr(_array_module(data), ufunc)(data, out=data)
    finally:
        _quiet_off(token)
    self._bump_version()
    return True


def _make_inplace(name: str):
    ufunc = _UFUNC_OF.get(name)

    def method(self, *args, **kwargs) -> Tensor:
        if ufunc is not None and not args and not kwargs and _write_unary(self, ufunc):
            return self
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
