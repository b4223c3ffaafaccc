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
