"""leafgrad: a PyTorch-compatible tensor library with reverse-mode autograd, on NumPy."""

from __future__ import annotations

import builtins as _builtins

# Tensor first: the op modules (and leafgrad.random) import it while it finishes loading.
from .tensor import Tensor  # isort: skip
from . import autograd, random  # isort: skip
from ._tensor_str import get_printoptions, printoptions, set_printoptions
from .autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .backend import device
from .creation import (
    arange,
    as_tensor,
    asarray,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import (
    bool,
    can_cast,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
)
from .functions import (
    abs,
    absolute,
    add,
    cos,
    div,
    divide,
    eq,
    exp,
    flatten,
    ge,
    gt,
    le,
    log,
    lt,
    matmul,
    mean,
    mm,
    mul,
    multiply,
    ne,
    neg,
    negative,
    permute,
    pow,
    reciprocal,
    relu,
    reshape,
    rsub,
    sigmoid,
    sign,
    sin,
    sqrt,
    squeeze,
    sub,
    subtract,
    sum,
    t,
    tanh,
    transpose,
    true_divide,
    unsqueeze,
    where,
)
from .random import (
    Generator,
    bernoulli,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    multinomial,
    normal,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)
from .size import Size

__version__ = "0.1.0"

__all__ = [
    "abs", "absolute", "add", "arange", "as_tensor", "asarray", "autograd", "bernoulli", "bool",
    "can_cast", "cos", "default_generator", "device", "div", "divide", "double", "dtype",
    "empty", "empty_like", "enable_grad", "eq", "exp", "eye", "flatten", "float", "float16",
    "float32", "float64", "from_numpy", "full", "full_like", "ge", "Generator",
    "get_default_dtype", "get_printoptions", "get_rng_state", "gt", "half", "inference_mode",
    "initial_seed", "int", "int16", "int32", "int64", "int8", "is_grad_enabled",
    "is_inference_mode_enabled", "is_tensor", "le", "linspace", "log", "long", "lt",
    "manual_seed", "matmul", "mean", "mm", "mul", "multinomial", "multiply", "ne", "neg",
    "negative", "no_grad", "normal", "numel", "ones", "ones_like", "permute", "pow",
    "printoptions", "promote_types", "rand", "rand_like", "randint", "randint_like", "randn",
    "randn_like", "random", "randperm", "reciprocal", "relu", "reshape", "result_type", "rsub",
    "seed", "set_default_dtype", "set_grad_enabled", "set_printoptions", "set_rng_state",
    "short", "sigmoid", "sign", "sin", "Size", "sqrt", "squeeze", "sub", "subtract", "sum", "t",
    "tanh", "Tensor", "tensor", "transpose", "true_divide", "uint8", "unsqueeze", "where",
    "zeros", "zeros_like",
]


def is_tensor(obj) -> _builtins.bool:
    """True if ``obj`` is a leafgrad Tensor.

    >>> is_tensor(tensor(1.0))
    True
    """
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> _builtins.int:  # noqa: A002
    """Number of elements of a tensor.

    >>> numel(zeros(2, 3))
    6
    """
    return input.numel()

