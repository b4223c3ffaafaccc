"""Free functions of the elementwise area (``leafgrad.add(a, b)``, ...): arithmetic,
comparisons, ``where``; the ``out=`` helper the area's functions share."""

from __future__ import annotations

from ... import dtypes as _dt
from ...autograd.grad_mode import state as _grad_state
from ...dtypes import FROM_NP


def _link() -> None:
    """Import what this module needs from modules that import it (docs/design.md, "The import
    cycle"); run once by leafgrad.tensor when Tensor exists."""
    global Tensor, _as_tensor, _ops
    from ...creation import as_tensor as _as_tensor
    from ...ops import elementwise as _ops
    from ...tensor import Tensor


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
