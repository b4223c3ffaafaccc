"""leafgrad: a PyTorch-compatible tensor library with reverse-mode autograd, on NumPy."""

from __future__ import annotations

import builtins as _builtins

# Tensor first: the op modules (and leafgrad.random) import it while it finishes loading.
from .tensor import Tensor  # isort: skip
from . import autograd, linalg, methods, random  # isort: skip
from ._tensor_str import get_printoptions, printoptions, set_printoptions
from ._version import __version__ as __version__
from .autograd.anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled
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
    bfloat16,
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
from .methods.elementwise import *  # noqa: F403 - each area module lists its names in __all__
from .methods.linalg import *  # noqa: F403
from .methods.reduce import *  # noqa: F403
from .methods.shape import *  # noqa: F403
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

from .ops.distance import cdist  # isort: skip

# torch.softmax / torch.log_softmax take out= (torch.nn.functional's do not); ops.softmax is
# what nn.functional exports, and it is loaded at start-up anyway
from ._out import out_variant as _out_variant  # isort: skip
from .ops.softmax import log_softmax, softmax  # isort: skip

softmax = _out_variant("softmax", rule="exact")(softmax)
log_softmax = _out_variant("log_softmax", rule="exact")(log_softmax)

# Loaded on first use (PEP 562 __getattr__ below), so that `import leafgrad` stays light:
# name -> the module that defines it (None: the name is a submodule of leafgrad).
_LAZY = {name: None for name in ("nn", "optim", "serialization", "utils", "viz")}
_LAZY.update(save="serialization", load="serialization", from_dlpack="utils.dlpack")
# torch's top-level aliases of nn.functional ops (torch.cdist, ...)
_LAZY.update(dict.fromkeys((
    "alpha_dropout", "celu", "cosine_similarity", "dropout", "feature_alpha_dropout",
    "group_norm", "layer_norm", "pairwise_distance", "pdist", "prelu", "rrelu", "selu"),
    "nn.functional"))

__all__ = [
    "arange", "as_tensor", "asarray", "autograd", "bernoulli", "bool", "can_cast",
    "default_generator", "device", "double", "dtype", "empty", "empty_like", "enable_grad",
    "eye", "float", "float16", "float32", "float64", "from_numpy", "full", "full_like",
    "Generator", "get_default_dtype", "get_printoptions", "get_rng_state", "half",
    "inference_mode", "initial_seed", "int", "int16", "int32", "int64", "int8",
    "is_grad_enabled", "is_inference_mode_enabled", "is_tensor", "linspace", "long",
    "manual_seed", "multinomial", "no_grad", "normal", "numel", "ones", "ones_like",
    "printoptions", "promote_types", "rand", "rand_like", "randint", "randint_like", "randn",
    "randn_like", "random", "randperm", "result_type", "seed", "set_default_dtype",
    "set_grad_enabled", "set_printoptions", "set_rng_state", "short", "Size", "tensor",
    "Tensor", "uint8", "zeros", "zeros_like",
]
__all__ += ["cdist", "linalg", "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "bfloat16",
            "softmax", "log_softmax"]
__all__ += list(_LAZY)  # nn, optim, utils, viz, serialization, save, load, ...
# and every area module's free functions
for _area in (methods.elementwise, methods.linalg, methods.reduce, methods.shape):
    __all__ += _area.__all__
del _area


# `type(t)` prints <class 'leafgrad.Tensor'>, as torch's prints <class 'torch.Tensor'>
for _cls in (Tensor, Size, device, dtype):
    _cls.__module__ = "leafgrad"
del _cls


def __getattr__(name: str):
    """nn, optim, save, torch.cuda, FloatTensor, set_num_threads...: loaded on first use."""
    mod = _LAZY.get(name, "")
    if mod != "":
        import importlib

        value = importlib.import_module(f"leafgrad.{mod or name}")
        if mod is not None:
            value = getattr(value, name)
        globals()[name] = value
        return value
    from ._compat import lazy_attribute

    return lazy_attribute(name)


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



# PyTorch's parser refuses a number (list, array) where a function's `input` is a Tensor: one
# check for every public function, at the boundary (out= functions make it in leafgrad._out)
from ._dims import guard_tensor_inputs as _guard  # noqa: E402
from ._out import _NUMBER_FIRST  # noqa: E402

_guard(globals(), _NUMBER_FIRST)
del _guard
