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

# -- spatial: convolution, pooling, padding, interpolation, pixel shuffle, fold -------------------
from ..ops.conv import *  # noqa: E402,F403
from ..ops.conv import __all__ as _conv_all  # noqa: E402
from ..ops.interpolate import *  # noqa: E402,F403
from ..ops.interpolate import __all__ as _interpolate_all  # noqa: E402
from ..ops.pooling import *  # noqa: E402,F403
from ..ops.pooling import __all__ as _pooling_all  # noqa: E402
from ..ops.spatial import *  # noqa: E402,F403
from ..ops.spatial import __all__ as _spatial_all  # noqa: E402

__all__ += [*_conv_all, *_pooling_all, *_spatial_all, *_interpolate_all]
