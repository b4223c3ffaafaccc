"""Dimension, shape and argument-type helpers shared by Tensor methods and ops."""

from __future__ import annotations

import operator


def _contiguous_strides(shape) -> tuple:
    st = []
    acc = 1
    for d in reversed(shape):
        st.append(acc)
        acc *= max(d, 1)
    return tuple(reversed(st))


def _wrap_dim(dim: int, ndim: int, op: str) -> int:
    """Normalise a possibly negative dim, with PyTorch's IndexError for one out of range and
    its TypeError for one that is not an integer (a float dim is never truncated)."""
    if dim.__class__ is not int:
        dim = check_dim_type(dim, op)
    n = max(ndim, 1)  # NOTE: PyTorch lets a 0-d tensor use dim 0 / -1
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
            f"\nWhy: {op} was asked for dim {dim} of a {ndim}-d tensor; dims count from 0, and "
            "negative dims count from the end."
        )
    return dim + n if dim < 0 else dim


def check_dim_type(dim, op: str, name: str = "dim") -> int:
    """``dim`` as an int, or PyTorch's TypeError (a float, a bool, None...)."""
    if isinstance(dim, bool) or not hasattr(dim, "__index__"):
        raise TypeError(
            f"{op}(): argument '{name}' must be int, not {type(dim).__name__}\nWhy: a dimension "
            "is counted in whole steps; pass an int such as 0 or -1.")
    return operator.index(dim)


def broadcast_mismatch(a_shape: tuple, b_shape: tuple, op: str) -> RuntimeError:
    """PyTorch's error for shapes that do not broadcast (``a`` the destination or first
    operand), naming the first dim, from the right, where they disagree."""
    na, nb = len(a_shape), len(b_shape)
    n = max(na, nb)
    for k in range(1, n + 1):
        sa = a_shape[-k] if k <= na else 1
        sb = b_shape[-k] if k <= nb else 1
        if sa != sb and sa != 1 and sb != 1:
            return RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                f"non-singleton dimension {n - k}\nWhy: {op} broadcasts {list(b_shape)} to "
                f"{list(a_shape)}; sizes must be equal or 1, aligned from the right.")
    return RuntimeError(
        f"output with shape {list(a_shape)} doesn't match the broadcast shape "
        f"{list(np_broadcast(a_shape, b_shape))}\nWhy: {op} writes into a tensor of shape "
        f"{list(a_shape)}; the other operand may not add dimensions to it.")


def np_broadcast(a: tuple, b: tuple) -> tuple:
    """The broadcast shape of two shapes that do broadcast."""
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    return tuple(x if y == 1 else y for x, y in zip(a, b))


def parse_dims(dims: tuple) -> tuple:
    """Accept ``permute(1, 0)`` and ``permute((1, 0))``."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return tuple(dims[0])
    return tuple(dims)


def parse_size_neg(args: tuple) -> tuple:
    """Like parse_size but allows -1 entries (reshape/view/expand)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for d in args:
        try:
            out.append(operator.index(d))
        except TypeError:
            raise TypeError(
                f"shape must be a sequence of ints, but got an element of type {type(d).__name__}"
            ) from None
    return tuple(out)


def not_a_tensor(op: str, name: str, pos: int, value, why: str) -> TypeError:
    """PyTorch's parser error for a non-Tensor where a Tensor argument is required.

    >>> str(not_a_tensor("addcmul_", "tensor1", 1, 1.0, "it multiplies tensors."))[:59]
    "addcmul_(): argument 'tensor1' (position 1) must be Tensor,"
    """
    return TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not "
                     f"{type(value).__name__}\nWhy: {why}")


_tensor_type = None


def check_tensor_input(fname: str, x, pos: int = 1) -> None:
    """PyTorch's argument parser: ``input`` must be a Tensor (not a number, list or array).

    >>> check_tensor_input("sin", 1.0)
    Traceback (most recent call last):
    TypeError: sin(): argument 'input' (position 1) must be Tensor, not float
    Why: sin works on tensors; wrap the value first, e.g. torch.tensor(value).
    """
    global _tensor_type
    if _tensor_type is None:
        from .tensor import Tensor as _tensor_type
    if not isinstance(x, _tensor_type):
        raise not_a_tensor(fname, "input", pos, x, f"{fname} works on tensors; wrap the value "
                           "first, e.g. torch.tensor(value).")


def tensor_input(f):
    """Decorate a free function (no ``out=``) whose first argument PyTorch types as Tensor.

    >>> @tensor_input
    ... def positive(input): return input
    >>> positive(2)
    Traceback (most recent call last):
    TypeError: positive(): argument 'input' (position 1) must be Tensor, not int
    Why: positive works on tensors; wrap the value first, e.g. torch.tensor(value).
    """
    import functools

    name = f.__name__

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        check_tensor_input(name, args[0] if args else kwargs.get("input"))
        return f(*args, **kwargs)

    wrapper.__tensor_input__ = True
    return wrapper


def guard_tensor_inputs(namespace: dict, number_first: frozenset) -> None:
    """Give every public function in ``namespace`` whose first parameter is ``input`` PyTorch's
    parser check (``tensor_input``), except those in ``number_first`` and those checked already
    (``out=`` functions check in leafgrad._out). Run once on the package namespace, so a new
    function is covered without a decorator.

    >>> ns = {"flip": lambda input, dims: input, "where": lambda condition: condition}
    >>> guard_tensor_inputs(ns, frozenset())
    >>> ns["flip"](1.0, (0,))
    Traceback (most recent call last):
    TypeError: <lambda>(): argument 'input' (position 1) must be Tensor, not float
    Why: <lambda> works on tensors; wrap the value first, e.g. torch.tensor(value).
    """
    for name, f in list(namespace.items()):
        if name.startswith("_") or name in number_first or not callable(f):
            continue
        inner = f  # through decorators (functools.wraps) to the function itself
        while not (hasattr(inner, "__tensor_input__") or hasattr(inner, "__out_variant__")):
            if not hasattr(inner, "__wrapped__"):
                break
            inner = inner.__wrapped__
        code = getattr(inner, "__code__", None)  # (co_varnames, not inspect: import time)
        if (code is None or hasattr(inner, "__tensor_input__") or
                hasattr(inner, "__out_variant__") or code.co_argcount < 1 or
                code.co_varnames[0] != "input"):
            continue
        namespace[name] = tensor_input(f)


class _NoDim:
    """``dim`` not given (median(x), PyTorch's overload without dim), where an explicit
    ``dim=None`` is refused as PyTorch's parser refuses it."""

    def __repr__(self) -> str:
        return "<all dims>"


NO_DIM = _NoDim()
