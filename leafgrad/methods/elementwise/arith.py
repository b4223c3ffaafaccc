"""Free functions of the elementwise area (``leafgrad.add(a, b)``, ...): arithmetic,
comparisons, ``where`` (``out=`` is leafgrad._out's, for every free function)."""

from __future__ import annotations

from ..._dims import tensor_input
from ..._out import out_variant


def _link() -> None:
    """Import what this module needs from modules that import it (docs/design.md, "The import
    cycle"); run once by leafgrad.tensor when Tensor exists."""
    global Tensor, _as_tensor, _ops
    from ...creation import as_tensor as _as_tensor
    from ...ops import elementwise as _ops
    from ...tensor import Tensor


def _t(x, like=None, floating: bool = False) -> Tensor:
    """``x`` as a Tensor. A Python number that meets Tensor ``like`` is PyTorch's wrapped
    number (``ops.elementwise.wrapped_number``): it takes the dtype the op computes in
    (``div(0.001, float64_tensor)`` computes with the double 0.001, not with 0.001 rounded to
    the default float32; ``floating``: the op computes integers in the default float)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(like, Tensor) and isinstance(x, int | float):
        return _ops.wrapped_number(x, like, floating)
    return _as_tensor(x)


@out_variant()
def add(input, other, *, alpha=1) -> Tensor:  # noqa: A002
    """``input + alpha * other``.

    >>> import leafgrad
    >>> add(leafgrad.tensor([1, 2]), 3)
    tensor([4, 5])
    """
    return _t(input, other).add(other, alpha=alpha)


@out_variant()
def sub(input, other, *, alpha=1) -> Tensor:  # noqa: A002
    """``input - alpha * other``."""
    return _t(input, other).sub(other, alpha=alpha)


@tensor_input
def rsub(input, other, *, alpha=1) -> Tensor:  # noqa: A002
    """``other - alpha * input``."""
    return (_t(other, input).sub(input, alpha=alpha) if alpha.__class__ is not int or alpha != 1
            else _t(input).__rsub__(other))


@out_variant()
def mul(input, other) -> Tensor:  # noqa: A002
    """Elementwise product."""
    return _t(input, other).mul(other)


@out_variant()
def div(input, other, *, rounding_mode=None) -> Tensor:  # noqa: A002
    """Elementwise true division."""
    return _t(input, other, rounding_mode is None).div(other, rounding_mode=rounding_mode)


@out_variant()
def pow(input, exponent) -> Tensor:  # noqa: A001, A002
    """``input ** exponent``; ``input`` may be a Python number when ``exponent`` is a tensor."""
    if not isinstance(input, Tensor):
        return _t(exponent).__rpow__(input)
    return input.pow(exponent)


@out_variant(rule="exact")
def neg(input) -> Tensor:  # noqa: A002
    """``-input``."""
    return input.neg()


@out_variant()
def reciprocal(input) -> Tensor:  # noqa: A002
    """``1 / input``."""
    return input.reciprocal()


@out_variant()
def exp(input) -> Tensor:  # noqa: A002
    """Elementwise e**x."""
    return input.exp()


@out_variant()
def log(input) -> Tensor:  # noqa: A002
    """Elementwise natural log."""
    return input.log()


@out_variant()
def sin(input) -> Tensor:  # noqa: A002
    """Elementwise sine."""
    return input.sin()


@out_variant()
def cos(input) -> Tensor:  # noqa: A002
    """Elementwise cosine."""
    return input.cos()


@out_variant()
def tanh(input) -> Tensor:  # noqa: A002
    """Elementwise tanh."""
    return input.tanh()


@out_variant()
def sigmoid(input) -> Tensor:  # noqa: A002
    """Elementwise logistic sigmoid."""
    return input.sigmoid()


@tensor_input
def relu(input) -> Tensor:  # noqa: A002
    """Elementwise max(x, 0)."""
    return input.relu()


@out_variant()
def sqrt(input) -> Tensor:  # noqa: A002
    """Elementwise square root."""
    return input.sqrt()


@out_variant(rule="exact")
def abs(input) -> Tensor:  # noqa: A001, A002
    """Elementwise absolute value."""
    return input.abs()


@out_variant(rule="exact")
def sign(input) -> Tensor:  # noqa: A002
    """Elementwise sign."""
    return input.sign()


@out_variant()
def eq(input, other) -> Tensor:  # noqa: A002
    """Elementwise ==."""
    return input.eq(other)


@out_variant()
def ne(input, other) -> Tensor:  # noqa: A002
    """Elementwise !=."""
    return input.ne(other)


@out_variant()
def lt(input, other) -> Tensor:  # noqa: A002
    """Elementwise <."""
    return input.lt(other)


@out_variant()
def le(input, other) -> Tensor:  # noqa: A002
    """Elementwise <=."""
    return input.le(other)


@out_variant()
def gt(input, other) -> Tensor:  # noqa: A002
    """Elementwise >."""
    return input.gt(other)


@out_variant()
def ge(input, other) -> Tensor:  # noqa: A002
    """Elementwise >=."""
    return input.ge(other)




_MISSING = object()


@out_variant(rule="exact")
def where(condition, input=_MISSING, other=_MISSING) -> Tensor:  # noqa: A002
    """Elementwise select: ``input`` where ``condition`` holds, else ``other``.

    >>> import leafgrad
    >>> leafgrad.where(leafgrad.tensor([True, False]), leafgrad.tensor([1., 2.]), 0.0)
    tensor([1., 0.])
    """
    if input is _MISSING:
        return condition.nonzero(as_tuple=True) if isinstance(condition, Tensor) else None
    return _ops.where(condition, input, other)
