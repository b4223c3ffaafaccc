"""``torch.nn.functional``: the functional form of every layer, activation and loss.

The functions live beside their op classes in ``leafgrad/ops/`` (one file per family); this
module gathers them under PyTorch's names.
"""

from __future__ import annotations

from ..ops.activation import (
    celu,
    celu_,
    elu,
    elu_,
    gelu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    logsigmoid,
    mish,
    prelu,
    relu6,
    rrelu,
    rrelu_,
    selu,
    selu_,
    silu,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from ..ops.distance import cosine_similarity, normalize, pairwise_distance, pdist
from ..ops.dropout import (
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from ..ops.embedding import embedding, embedding_bag, one_hot
from ..ops.linear import bilinear, linear
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
)
from ..ops.loss_extra import (
    cosine_embedding_loss,
    ctc_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    kl_div,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from ..ops.normalization import (
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    local_response_norm,
    rms_norm,
)
from ..ops.softmax import gumbel_softmax, log_softmax, softmax, softmin

from ..ops.attention import scaled_dot_product_attention  # isort: skip
from ._attention import multi_head_attention_forward  # isort: skip
from ..tensor import Tensor

# -- spatial family (conv, pooling, padding, interpolation, fold): leafgrad/ops/conv*.py ----------


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0).

    >>> import leafgrad
    >>> relu(leafgrad.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return input.relu_() if inplace else input.relu()


def relu_(input: Tensor) -> Tensor:
    """In-place ``relu``.

    >>> import leafgrad
    >>> relu_(leafgrad.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return input.relu_()


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


__all__ = [
    # activations
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_",
    "celu", "celu_", "gelu", "silu", "mish", "softplus", "softsign", "hardtanh", "hardtanh_",
    "hardsigmoid", "hardswish", "hardshrink", "softshrink", "tanhshrink", "threshold",
    "threshold_", "prelu", "rrelu", "rrelu_", "glu", "logsigmoid", "sigmoid", "tanh",
    "softmax", "log_softmax", "softmin", "gumbel_softmax",
    # dropout
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
    # linear, embedding
    "linear", "bilinear", "embedding", "embedding_bag", "one_hot",
    # normalisation
    "batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm",
    "local_response_norm", "normalize",
    # distances
    "cosine_similarity", "pairwise_distance", "pdist",
    # losses
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "poisson_nll_loss",
    "gaussian_nll_loss", "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
    "ctc_loss",
    # attention (seq)
    "scaled_dot_product_attention", "multi_head_attention_forward",
]

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
