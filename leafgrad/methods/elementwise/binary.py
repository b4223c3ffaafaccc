"""Free functions of the elementwise area taking several tensors (``leafgrad.maximum``,
``leafgrad.clamp``, ``leafgrad.lerp``, ...) and PyTorch's aliases."""

from __future__ import annotations

from ... import dtypes as _dt
from ..._dims import check_tensor_input, tensor_input
from ..._out import out_variant
from .arith import _t, abs, div, mul, neg, sub
from .mixin import _lerp_args, _need_tensors
from .unary import acos, asin, asinh, atan, atanh, erf, trunc


def _link() -> None:
    """Import what this module needs from modules that import it (docs/design.md, "The import
    cycle"); run once by leafgrad.tensor when Tensor exists."""
    global Tensor, _ops, _to_float
    from ...ops import elementwise as _ops
    from ...ops.elementwise import _to_float
    from ...tensor import Tensor


@out_variant()
def floor_divide(input, other) -> Tensor:  # noqa: A002
    """``input // other``, rounding toward minus infinity.

    >>> import leafgrad
    >>> leafgrad.floor_divide(leafgrad.tensor([7, -7]), 2)
    tensor([ 3, -4])
    """
    return _t(input, other).floor_divide(other)


@out_variant()
def remainder(input, other) -> Tensor:  # noqa: A002
    """Python-style modulus: the result has the sign of ``other``.

    >>> import leafgrad
    >>> leafgrad.remainder(leafgrad.tensor([7, -7]), 3)
    tensor([1, 2])
    """
    return _t(input, other).remainder(other)


@out_variant()
def fmod(input, other) -> Tensor:  # noqa: A002
    """C-style modulus: the result has the sign of ``input``.

    >>> import leafgrad
    >>> leafgrad.fmod(leafgrad.tensor([7, -7]), 3)
    tensor([ 1, -1])
    """
    return _t(input).fmod(other)


@out_variant(rule="exact")
def float_power(input, exponent) -> Tensor:  # noqa: A002
    """``input ** exponent`` computed in float64.

    >>> import leafgrad
    >>> leafgrad.float_power(leafgrad.tensor([2, 3]), 2)
    tensor([4., 9.], dtype=torch.float64)
    """
    if not isinstance(input, Tensor):
        return _float_power_rscalar(input, exponent)
    return input.float_power(exponent)


@out_variant()
def atan2(input, other) -> Tensor:  # noqa: A002
    """``atan(input / other)`` in the quadrant of (other, input).

    >>> import leafgrad
    >>> leafgrad.atan2(leafgrad.tensor([1.0]), leafgrad.tensor([-1.0]))
    tensor([2.3562])
    """
    return _t(input).atan2(other)


@out_variant()
def maximum(input, other) -> Tensor:  # noqa: A002
    """Elementwise maximum; nan propagates.

    >>> import leafgrad
    >>> leafgrad.maximum(leafgrad.tensor([1., 4.]), leafgrad.tensor([3., 2.]))
    tensor([3., 4.])
    """
    return _t(input).maximum(other)


@out_variant()
def minimum(input, other) -> Tensor:  # noqa: A002
    """Elementwise minimum; nan propagates.

    >>> import leafgrad
    >>> leafgrad.minimum(leafgrad.tensor([1., 4.]), leafgrad.tensor([3., 2.]))
    tensor([1., 2.])
    """
    return _t(input).minimum(other)


@out_variant()
def fmax(input, other) -> Tensor:  # noqa: A002
    """Elementwise maximum that ignores nan.

    >>> import leafgrad
    >>> leafgrad.fmax(leafgrad.tensor([1., float('nan')]), leafgrad.tensor([3., 2.]))
    tensor([3., 2.])
    """
    return _t(input).fmax(other)


@out_variant()
def fmin(input, other) -> Tensor:  # noqa: A002
    """Elementwise minimum that ignores nan.

    >>> import leafgrad
    >>> leafgrad.fmin(leafgrad.tensor([1., float('nan')]), leafgrad.tensor([3., 2.]))
    tensor([1., 2.])
    """
    return _t(input).fmin(other)


@out_variant()
def hypot(input, other) -> Tensor:  # noqa: A002
    """``sqrt(input**2 + other**2)``.

    >>> import leafgrad
    >>> leafgrad.hypot(leafgrad.tensor([3.]), leafgrad.tensor([4.]))
    tensor([5.])
    """
    return _t(input).hypot(other)


@out_variant()
def xlogy(input, other) -> Tensor:  # noqa: A002
    """``input * log(other)``, 0 where ``input == 0``.

    >>> import leafgrad
    >>> leafgrad.xlogy(leafgrad.tensor([0., 2.]), leafgrad.tensor([0., 1.]))
    tensor([0., 0.])
    """
    if not isinstance(input, Tensor):
        return _xlogy_rscalar(input, other)
    return input.xlogy(other)


@out_variant()
def logaddexp(input, other) -> Tensor:  # noqa: A002
    """``log(exp(input) + exp(other))`` without overflow.

    >>> import leafgrad
    >>> leafgrad.logaddexp(leafgrad.tensor([0.]), leafgrad.tensor([0.]))
    tensor([0.6931])
    """
    return _t(input).logaddexp(other)


@out_variant()
def logaddexp2(input, other) -> Tensor:  # noqa: A002
    """``log2(2**input + 2**other)`` without overflow.

    >>> import leafgrad
    >>> leafgrad.logaddexp2(leafgrad.tensor([1.]), leafgrad.tensor([1.]))
    tensor([2.])
    """
    return _t(input).logaddexp2(other)


@out_variant()
def copysign(input, other) -> Tensor:  # noqa: A002
    """``|input|`` with the sign of ``other``.

    >>> import leafgrad
    >>> leafgrad.copysign(leafgrad.tensor([1., 2.]), -1.0)
    tensor([-1., -2.])
    """
    return _t(input).copysign(other)


@out_variant(rule="exact")
def heaviside(input, values) -> Tensor:  # noqa: A002
    """Step function: 0 below 0, ``values`` at 0, 1 above.

    >>> import leafgrad
    >>> leafgrad.heaviside(leafgrad.tensor([-1., 0., 2.]), leafgrad.tensor([0.5]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    return _t(input).heaviside(values)


@out_variant()
def logical_and(input, other) -> Tensor:  # noqa: A002
    """Elementwise AND of truth values, as a bool tensor.

    >>> import leafgrad
    >>> leafgrad.logical_and(leafgrad.tensor([1, 0]), leafgrad.tensor([2, 2]))
    tensor([ True, False])
    """
    return _t(input).logical_and(other)


@out_variant()
def logical_or(input, other) -> Tensor:  # noqa: A002
    """Elementwise OR of truth values, as a bool tensor.

    >>> import leafgrad
    >>> leafgrad.logical_or(leafgrad.tensor([1, 0]), leafgrad.tensor([0, 0]))
    tensor([ True, False])
    """
    return _t(input).logical_or(other)


@out_variant()
def logical_xor(input, other) -> Tensor:  # noqa: A002
    """Elementwise XOR of truth values, as a bool tensor.

    >>> import leafgrad
    >>> leafgrad.logical_xor(leafgrad.tensor([1, 0]), leafgrad.tensor([1, 1]))
    tensor([False,  True])
    """
    return _t(input).logical_xor(other)


@out_variant()
def bitwise_and(input, other) -> Tensor:  # noqa: A002
    """Elementwise bitwise AND of integer/bool tensors.

    >>> import leafgrad
    >>> leafgrad.bitwise_and(leafgrad.tensor([12]), leafgrad.tensor([10]))
    tensor([8])
    """
    return _t(input, other).bitwise_and(other)


@out_variant()
def bitwise_or(input, other) -> Tensor:  # noqa: A002
    """Elementwise bitwise OR of integer/bool tensors.

    >>> import leafgrad
    >>> leafgrad.bitwise_or(leafgrad.tensor([12]), leafgrad.tensor([10]))
    tensor([14])
    """
    return _t(input, other).bitwise_or(other)


@out_variant()
def bitwise_xor(input, other) -> Tensor:  # noqa: A002
    """Elementwise bitwise XOR of integer/bool tensors.

    >>> import leafgrad
    >>> leafgrad.bitwise_xor(leafgrad.tensor([12]), leafgrad.tensor([10]))
    tensor([6])
    """
    return _t(input, other).bitwise_xor(other)


@out_variant()
def bitwise_left_shift(input, other) -> Tensor:  # noqa: A002
    """``input << other``.

    >>> import leafgrad
    >>> leafgrad.bitwise_left_shift(leafgrad.tensor([1, 3]), 2)
    tensor([ 4, 12])
    """
    return _t(input, other).bitwise_left_shift(other)


@out_variant()
def bitwise_right_shift(input, other) -> Tensor:  # noqa: A002
    """``input >> other`` (arithmetic for signed integers).

    >>> import leafgrad
    >>> leafgrad.bitwise_right_shift(leafgrad.tensor([8, -8]), 2)
    tensor([ 2, -2])
    """
    return _t(input, other).bitwise_right_shift(other)


@out_variant(rule="exact")
def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001, A002
    """Round half to even, to ``decimals`` decimal places.

    >>> import leafgrad
    >>> leafgrad.round(leafgrad.tensor([0.5, 1.5, 1.26]), decimals=1)
    tensor([0.5000, 1.5000, 1.3000])
    """
    return _t(input).round(decimals=decimals)


@out_variant(rule="cast_with_tensors")
def clamp(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A001, A002
    """Limit values to ``[min, max]``; bounds are numbers or tensors.

    >>> import leafgrad
    >>> leafgrad.clamp(leafgrad.tensor([-1., 0.5, 2.]), 0, 1)
    tensor([0.0000, 0.5000, 1.0000])
    """
    return _t(input).clamp(min, max)


clip = clamp


@out_variant(rule="cast_with_tensors")
def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A001, A002
    """``max(input, min)``.

    >>> import leafgrad
    >>> leafgrad.clamp_min(leafgrad.tensor([-1., 2.]), 0)
    tensor([0., 2.])
    """
    return _t(input).clamp_min(min)


@out_variant(rule="cast_with_tensors")
def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A001, A002
    """``min(input, max)``.

    >>> import leafgrad
    >>> leafgrad.clamp_max(leafgrad.tensor([-1., 2.]), 0)
    tensor([-1.,  0.])
    """
    return _t(input).clamp_max(max)


@out_variant()
def lerp(input: Tensor, end: Tensor, weight) -> Tensor:  # noqa: A002
    """``input + weight * (end - input)``.

    >>> import leafgrad
    >>> leafgrad.lerp(leafgrad.tensor([0., 1.]), leafgrad.tensor([10., 11.]), 0.5)
    tensor([5., 6.])
    """
    if not isinstance(input, Tensor) or not isinstance(end, Tensor):
        _lerp_args("lerp", (type(input).__name__,), end, weight)
        _need_tensors("lerp", {"input": input}, 1)
    return input.lerp(end, weight)


@out_variant()
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:  # noqa: A002
    """``input + value * tensor1 * tensor2``.

    >>> import leafgrad
    >>> leafgrad.addcmul(leafgrad.tensor([1.]), leafgrad.tensor([2.]), leafgrad.tensor([3.]))
    tensor([7.])
    """
    _need_tensors("addcmul", {"input": input, "tensor1": tensor1, "tensor2": tensor2}, 1)
    return input.addcmul(tensor1, tensor2, value=value)


@out_variant()
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:  # noqa: A002
    """``input + value * tensor1 / tensor2``.

    >>> import leafgrad
    >>> leafgrad.addcdiv(leafgrad.tensor([1.]), leafgrad.tensor([3.]), leafgrad.tensor([2.]))
    tensor([2.5000])
    """
    _need_tensors("addcdiv", {"input": input, "tensor1": tensor1, "tensor2": tensor2}, 1)
    return input.addcdiv(tensor1, tensor2, value=value)


@out_variant(rule="exact")
def nan_to_num(input: Tensor, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:  # noqa: A002
    """Replace nan, +inf and -inf by finite numbers.

    >>> import leafgrad
    >>> leafgrad.nan_to_num(leafgrad.tensor([float('nan'), 1.0, float('inf')]), posinf=9.0)
    tensor([0., 1., 9.])
    """
    return _t(input).nan_to_num(nan, posinf, neginf)


@out_variant()
def polygamma(n: int, input: Tensor) -> Tensor:  # noqa: A002
    """The n-th derivative of digamma.

    >>> import leafgrad
    >>> leafgrad.polygamma(1, leafgrad.tensor([1.0]))
    tensor([1.6449])
    """
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}\nWhy: n is the order of the derivative.")
    check_tensor_input("polygamma", input, 2)
    return _ops.polygamma(n, input)


@out_variant()
def logit(input: Tensor, eps=None) -> Tensor:  # noqa: A002
    """``log(p / (1 - p))``, ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given.

    >>> import leafgrad
    >>> leafgrad.logit(leafgrad.tensor([0.5, 1.0]), eps=0.1)
    tensor([0.0000, 2.1972])
    """
    return _t(input).logit(eps)


@tensor_input
def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:  # noqa: A002
    """``|input - other| <= atol + rtol * |other|`` as a bool tensor.

    >>> import leafgrad
    >>> leafgrad.isclose(leafgrad.tensor([1.0, 2.0]), leafgrad.tensor([1.0 + 1e-9, 2.1]))
    tensor([ True, False])
    """
    return _t(input).isclose(other, rtol, atol, equal_nan)


@tensor_input
def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:  # noqa: A002
    """True when every element of ``input`` is close to ``other`` (see ``isclose``).

    >>> import leafgrad
    >>> leafgrad.allclose(leafgrad.tensor([1.0]), leafgrad.tensor([1.0 + 1e-9]))
    True
    """
    return _t(input).allclose(other, rtol, atol, equal_nan)


@tensor_input
def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """True when both tensors have the same shape and values.

    >>> import leafgrad
    >>> leafgrad.equal(leafgrad.tensor([1, 2]), leafgrad.tensor([1, 2]))
    True
    """
    return _t(input).equal(other)


@out_variant(rule="exact")
def bitwise_not(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise NOT: logical for bool, two's complement for integers.

    >>> import leafgrad
    >>> leafgrad.bitwise_not(leafgrad.tensor([0, 5]))
    tensor([-1, -6])
    """
    return _t(input).bitwise_not()


def _xlogy_rscalar(x, other: Tensor) -> Tensor:
    return _ops._unary_with(_ops.XlogyScalarSelf, _to_float(_t(other)), self_=x)


def _float_power_rscalar(base, exponent: Tensor) -> Tensor:
    return _t(exponent).to(_dt.float64).__rpow__(base)


@out_variant()
def acosh(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``acosh`` (see ``Tensor.acosh``).

    >>> import leafgrad
    >>> leafgrad.acosh(leafgrad.tensor([1.0, 2.0]))
    tensor([0.0000, 1.3170])
    """
    return _t(input).acosh()


# NOTE: PyTorch's aliases (arcsin for asin, ...); the doctest lives on the canonical name.
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
arctan2, fix, special_erf = atan2, trunc, erf
subtract, multiply, divide, true_divide = sub, mul, div, div
negative, absolute = neg, abs
