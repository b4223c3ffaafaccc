"""The layer classes, one file per family (as PyTorch's ``torch/nn/modules``)."""

from .activation import ReLU, Sigmoid, Tanh
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .flatten import Flatten, Unflatten
from .linear import Bilinear, Identity, Linear
from .module import Module

__all__ = [
    "Module",
    # containers
    "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
    # linear and shape
    "Identity", "Linear", "Bilinear", "Flatten", "Unflatten",
    # activations
    "ReLU", "Sigmoid", "Tanh",
]

# -- spatial family (conv, pooling, padding, pixel shuffle, upsampling, fold)
from .conv import *  # noqa: E402,F403
from .conv import __all__ as _conv_all  # noqa: E402
from .fold import *  # noqa: E402,F403
from .fold import __all__ as _fold_all  # noqa: E402
from .padding import *  # noqa: E402,F403
from .padding import __all__ as _padding_all  # noqa: E402
from .pixelshuffle import *  # noqa: E402,F403
from .pixelshuffle import __all__ as _pixelshuffle_all  # noqa: E402
from .pooling import *  # noqa: E402,F403
from .pooling import __all__ as _pooling_all  # noqa: E402
from .upsampling import *  # noqa: E402,F403
from .upsampling import __all__ as _upsampling_all  # noqa: E402

__all__ += [*_conv_all, *_pooling_all, *_padding_all, *_pixelshuffle_all, *_upsampling_all,
            *_fold_all]
