"""Free functions (``leafgrad.add(a, b)``...) that forward to the Tensor methods."""

from __future__ import annotations

from .ops.elementwise import where
from .tensor import Tensor


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


def sum(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001, A002
    """Sum over all elements or ``dim``."""
    return input.sum(dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """Mean over all elements or ``dim``."""
    return input.mean(dim, keepdim, dtype=dtype)


def matmul(input, other, *, out=None) -> Tensor:  # noqa: A002
    """Matrix product with broadcasting."""
    return input.matmul(other)


def mm(input, mat2, *, out=None) -> Tensor:  # noqa: A002
    """Product of two matrices."""
    return input.mm(mat2)


def reshape(input, shape) -> Tensor:  # noqa: A002
    """Same elements in a new shape."""
    return input.reshape(shape)


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # noqa: A002
    """Merge a range of dims into one."""
    return input.flatten(start_dim, end_dim)


def transpose(input, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """Swap two dims."""
    return input.transpose(dim0, dim1)


def t(input) -> Tensor:  # noqa: A002
    """Transpose a tensor of at most 2 dims."""
    return input.t()


def permute(input, dims) -> Tensor:  # noqa: A002
    """Reorder dims."""
    return input.permute(dims)


def squeeze(input, dim=None) -> Tensor:  # noqa: A002
    """Remove size-1 dims."""
    return input.squeeze(dim)


def unsqueeze(input, dim: int) -> Tensor:  # noqa: A002
    """Insert a size-1 dim."""
    return input.unsqueeze(dim)


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

__all__ = ["where", "add", "sub", "mul", "div", "pow"]
