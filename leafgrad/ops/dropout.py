"""Dropout family. Masks are drawn exactly as PyTorch's CPU kernel draws them
(``empty_like(x).bernoulli_(1 - p)``, then ``div_(1 - p)``, then a multiply), so the same seed
gives the same mask; the node is the multiply's (``MulBackward0``), as in PyTorch."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..backend import array_module, move
from ..tensor import Tensor, _wrap

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]

_ALPHA = 1.7580993408473766  # SELU's alpha · scale


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise(input: Tensor, p: float, feature: bool, scaled: bool = False) -> np.ndarray:
    """The 0/1 keep mask in the input's dtype; per channel (N, C, 1, ...) for feature dropout.
    ``scaled``: the mask already divided by (1 − p), as ``_scaled_mask`` makes it."""
    from ..random import _is_dense, _iter_order, bernoulli_mask

    x = input._data
    if feature:
        shape = (x.shape[0], x.shape[1]) + (1,) * (x.ndim - 2)
        mask = bernoulli_mask(shape, 1 - p)
    else:
        order = _iter_order(x)
        if order is None or not _is_dense(x):
            mask = bernoulli_mask(x.shape, 1 - p)
        else:
            # NOTE: PyTorch's noise is empty_like(x), which keeps a transposed / permuted
            # input's layout, and bernoulli_ fills it in memory order: draw in that order
            mask = bernoulli_mask(tuple(x.shape[d] for d in order), 1 - p)
            mask = np.transpose(mask, np.argsort(order))
    # drawn on the CPU generator (as docs/random.md says for CUDA), then put beside the input
    if scaled:
        return move(_scaled_mask(mask, x.dtype, p), input.device)
    return move(mask.astype(x.dtype), input.device)


def _scaled_mask(mask: np.ndarray, dtype, p: float) -> np.ndarray:
    """``mask.astype(dtype) / (1 − p)``, PyTorch's ``noise.div_(1 - p)`` in the dtype.

    float32 / float64: one pass, ``mask · (1 / (1 − p))``: 1/c and 0/c are exactly the products
    1·(1/c) and 0·(1/c) for c = 1 − p > 0 (each rounded once), so the same bits as the
    conversion and the division (two passes; W8 draws 13 masks a step). Other dtypes divide.
    """
    dt = np.dtype(dtype)
    if (dt == np.float32 or dt == np.float64) and p < 1:
        t = dt.type
        return np.multiply(mask, t(1) / t(1 - p), dtype=dt)
    noise = mask.astype(dt)
    noise /= dt.type(1 - p)
    return noise


def _dropout_impl(input: Tensor, p: float, train: bool, feature: bool, alpha: bool,
                  inplace: bool) -> Tensor:
    if p == 0 or not train or input.numel() == 0:
        return input
    if feature and input.dim() < 2:
        raise RuntimeError(
            "Feature dropout requires at least 2 dimensions in the input\nWhy: it drops whole "
            "channels (dim 1) of each sample (dim 0).")
    x = input._data
    if p == 1:
        zero = _wrap(array_module(x).zeros((), x.dtype))
        return input.mul_(zero) if inplace else input * zero
    noise = _noise(input, p, feature, scaled=not alpha)
    if alpha:
        a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
        b = _wrap(((noise - 1) * x.dtype.type(_ALPHA * a) + x.dtype.type(_ALPHA * a * p))
                  .astype(x.dtype, copy=False))
        noise *= x.dtype.type(a)
        out = input.mul_(_wrap(noise)) if inplace else input * _wrap(noise)
        return out.add_(b) if inplace else out + b
    # NOTE: divided by (1 - p) in the tensor's dtype (in _noise), as PyTorch's noise.div_(1 - p)
    return input.mul_(_wrap(noise)) if inplace else input * _wrap(noise)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1 − p).

    >>> import leafgrad
    >>> _ = leafgrad.manual_seed(0); dropout(leafgrad.ones(6), 0.5)
    tensor([0., 0., 2., 0., 0., 0.])
    """
    _check_p(p)
    return _dropout_impl(input, p, training, False, False, inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) inputs.

    >>> import leafgrad
    >>> dropout1d(leafgrad.ones(2, 3), 0.5, training=False).shape
    torch.Size([2, 3])
    """
    _check_p(p)
    nd = input.dim()
    if nd not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    batched = nd == 3
    if not batched:
        input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    out = _dropout_impl(input, p, training, True, False, inplace)
    if not batched:
        out = out.squeeze_(0) if inplace else out.squeeze(0)
    return out


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) inputs.

    >>> import leafgrad
    >>> dropout2d(leafgrad.ones(1, 2, 2, 2), training=False).shape
    torch.Size([1, 2, 2, 2])
    """
    _check_p(p)
    nd = input.dim()
    if nd not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if nd == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _dropout_impl(input, p, training, True, False, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs.

    >>> import leafgrad
    >>> dropout3d(leafgrad.ones(1, 2, 1, 1, 1), training=False).shape
    torch.Size([1, 2, 1, 1, 1])
    """
    _check_p(p)
    nd = input.dim()
    if nd not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    batched = nd == 5
    if not batched:
        input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    out = _dropout_impl(input, p, training, True, False, inplace)
    if not batched:
        out = out.squeeze_(0) if inplace else out.squeeze(0)
    return out


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's self-normalising mean and variance.

    >>> import leafgrad
    >>> alpha_dropout(leafgrad.ones(2), 0.5)
    tensor([1., 1.])
    """
    _check_p(p)
    return _dropout_impl(input, p, training, False, True, inplace)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels.

    >>> import leafgrad
    >>> feature_alpha_dropout(leafgrad.ones(1, 2), 0.5).shape
    torch.Size([1, 2])
    """
    _check_p(p)
    return _dropout_impl(input, p, training, True, True, inplace)
