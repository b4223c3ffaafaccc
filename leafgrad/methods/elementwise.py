"""Elementwise Tensor methods: arithmetic, math functions, comparisons, bitwise operators."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING

from .. import dtypes as _dt
from ..autograd.grad_mode import _NoGrad
from ..autograd.grad_mode import state as _grad_state
from ..dtypes import FROM_NP

__all__ = [
    "abs", "absolute", "add", "cos", "div", "divide", "eq", "exp", "ge", "gt", "le", "log",
    "lt", "mul", "multiply", "ne", "neg", "negative", "pow", "reciprocal", "relu", "rsub",
    "sigmoid", "sign", "sin", "sqrt", "sub", "subtract", "tanh", "true_divide", "where",
]

if TYPE_CHECKING:
    from ..tensor import Tensor

_ops = None  # the op module; it imports Tensor, so _bind() loads it once Tensor exists


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
        return _ops._binary(_ops.Add, self, other)

    def sub(self, other, *, alpha=1) -> Tensor:
        """``self - alpha * other``, broadcasting."""
        if alpha != 1:
            return _ops.add_alpha(_ops.SubAlpha, self, other, alpha)
        return _ops._binary(_ops.Sub, self, other)

    subtract = sub

    def mul(self, other) -> Tensor:
        """Elementwise product, broadcasting."""
        return _ops._binary(_ops.Mul, self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None) -> Tensor:
        """Elementwise true division (``rounding_mode`` comes with the full op surface)."""
        if rounding_mode is not None:
            raise NotImplementedError(
                "div(rounding_mode=...) is part of the full op surface, not implemented yet; "
                "use (a / b).floor() or .trunc() for now"
            )
        return _ops._binary(_ops.Div, self, other)

    divide = true_divide = div

    def neg(self) -> Tensor:
        """``-self``."""
        return _ops._unary(_ops.Neg, self)

    negative = neg

    def pow(self, exponent) -> Tensor:
        """``self ** exponent`` with a scalar or tensor exponent.

        >>> import leafgrad
        >>> leafgrad.tensor([1.0, 2.0]).pow(2)
        tensor([1., 4.])
        """
        if isinstance(exponent, Tensor):
            return _ops._binary(_ops.PowTensor, self, exponent)
        return _ops._pow_scalar(self, exponent)

    def reciprocal(self) -> Tensor:
        """``1 / self``."""
        return _ops._unary(_ops.Reciprocal, _ops._to_float(self))

    def exp(self) -> Tensor:
        """Elementwise e**x."""
        return _ops._unary(_ops.Exp, _ops._to_float(self))

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return _ops._unary(_ops.Log, _ops._to_float(self))

    def sin(self) -> Tensor:
        """Elementwise sine."""
        return _ops._unary(_ops.Sin, _ops._to_float(self))

    def cos(self) -> Tensor:
        """Elementwise cosine."""
        return _ops._unary(_ops.Cos, _ops._to_float(self))

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent."""
        return _ops._unary(_ops.Tanh, _ops._to_float(self))

    def sigmoid(self) -> Tensor:
        """Elementwise logistic function 1 / (1 + e**-x)."""
        return _ops._unary(_ops.Sigmoid, _ops._to_float(self))

    def relu(self) -> Tensor:
        """Elementwise max(x, 0)."""
        return _ops._unary(_ops.Relu, self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return _ops._unary(_ops.Sqrt, _ops._to_float(self))

    def abs(self) -> Tensor:
        """Elementwise absolute value."""
        return _ops._unary(_ops.Abs, self)

    absolute = abs

    def sign(self) -> Tensor:
        """Elementwise sign: -1, 0 or 1."""
        return _ops._unary(_ops.Sign, self)

    def add_(self, other, *, alpha=1) -> Tensor:
        """In-place ``self += alpha * other``."""
        return self._inplace(self.add, "add_", other, alpha=alpha)

    def sub_(self, other, *, alpha=1) -> Tensor:
        """In-place ``self -= alpha * other``."""
        return self._inplace(self.sub, "sub_", other, alpha=alpha)

    def mul_(self, other) -> Tensor:
        """In-place ``self *= other``."""
        return self._inplace(self.mul, "mul_", other)

    def div_(self, other) -> Tensor:
        """In-place ``self /= other``."""
        return self._inplace(self.div, "div_", other)

    def pow_(self, exponent) -> Tensor:
        """In-place ``self **= exponent``."""
        return self._inplace(self.pow, "pow_", exponent)

    def neg_(self) -> Tensor:
        """In-place negation."""
        return self._inplace(self.neg, "neg_")

    def _inplace(self, method, name: str, *args, **kwargs) -> Tensor:
        self._check_inplace(name)
        if _grad_state.enabled and (self._rg or any(
                isinstance(a, Tensor) and a._rg for a in args)):
            return self._inplace_from(method(*args, **kwargs), name)
        with _NoGrad():
            res = method(*args, **kwargs)._data
        if res.dtype != self._data.dtype and not _dt.can_cast(FROM_NP[res.dtype], self.dtype):
            raise RuntimeError(
                f"result type {FROM_NP[res.dtype].name.capitalize()} can't be cast to the desired "
                f"output type {self.dtype.name.capitalize()}\nWhy: {name} writes into the "
                f"existing {self.dtype} tensor; use the out-of-place op to get a new tensor."
            )
        if res.shape != self._data.shape:
            raise RuntimeError(
                f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                f"{list(res.shape)}"
            )
        self._data[...] = res
        self._bump_version()
        return self

    __add__ = add

    def __radd__(self, other) -> Tensor:
        return _ops._binary(_ops.Add, self, other)

    def __iadd__(self, other) -> Tensor:
        return self.add_(other)

    __sub__ = sub

    def __rsub__(self, other) -> Tensor:
        # NOTE: PyTorch records ``2 - x`` as RsubBackward1 (scalar) / RsubBackward0 (tensor)
        return _ops.rsub(self, other)

    def __isub__(self, other) -> Tensor:
        return self.sub_(other)

    __mul__ = mul

    def __rmul__(self, other) -> Tensor:
        return _ops._binary(_ops.Mul, self, other)

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

    def __pos__(self) -> Tensor:
        return self

    def positive(self) -> Tensor:
        """Returns self (``+x``)."""
        return self

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
            raise TypeError("~ (bitwise_not) is only supported for integer and bool tensors")
        return _ops._wrap(~self._data)

    __and__, __or__, __xor__, __invert__ = bitwise_and, bitwise_or, bitwise_xor, bitwise_not
    __rand__, __ror__, __rxor__ = bitwise_and, bitwise_or, bitwise_xor

    def equal(self, other: Tensor) -> bool:
        """True when shapes and all values are equal."""
        return self._data.shape == other._data.shape and bool((self._data == other._data).all())


def _bind() -> None:
    """Load the op module (called by leafgrad.tensor once the Tensor class is defined)."""
    global _ops, Tensor
    from ..tensor import Tensor as _Tensor

    Tensor = _Tensor
    from ..ops import elementwise as ops

    _ops = ops


def _compare(op, a, b, name: str):
    from ..tensor import Tensor, _wrap

    bd = b._data if isinstance(b, Tensor) else b
    try:
        return _wrap(op(a._data, bd))
    except ValueError:
        raise _ops.broadcast_error(name, a, b) from None


# -- free functions (leafgrad.add(a, b), ...) ------------------------------------------------


def _t(x) -> Tensor:
    if isinstance(x, Tensor):
        return x
    from .creation import as_tensor

    return as_tensor(x)


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



def where(condition, input, other) -> Tensor:  # noqa: A002
    """Elementwise select: ``input`` where ``condition`` holds, else ``other``.

    >>> import leafgrad
    >>> leafgrad.where(leafgrad.tensor([True, False]), leafgrad.tensor([1., 2.]), 0.0)
    tensor([1., 0.])
    """
    return _ops.where(condition, input, other)


subtract, multiply, divide, true_divide = sub, mul, div, div
negative, absolute = neg, abs
