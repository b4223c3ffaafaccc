"""``torch.nn.functional``: the functional form of every layer, activation and loss.

The functions live beside their op classes in ``leafgrad/ops/`` (one file per family); this
module gathers them under PyTorch's names.
"""

from __future__ import annotations

# -- linear ---------------------------------------------------------------------------------------
from ..ops.linear import bilinear, linear
from ..tensor import Tensor


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0).

    >>> import leafgrad
    >>> relu(leafgrad.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return input.relu_() if inplace else input.relu()


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent.

    >>> import leafgrad
    >>> tanh(leafgrad.tensor([0.0]))
    tensor([0.])
    """
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    """Logistic sigmoid.

    >>> import leafgrad
    >>> sigmoid(leafgrad.tensor([0.0]))
    tensor([0.5000])
    """
    return input.sigmoid()


__all__ = ["linear", "bilinear", "relu", "tanh", "sigmoid"]
