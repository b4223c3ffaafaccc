"""Autograd Functions of nn.parallel (torch's ``nn.modules._functions.SyncBatchNorm``)."""

from __future__ import annotations

import numpy as np

from ...autograd.function import Function, once_differentiable
from ...tensor import _wrap

__all__ = ["SyncBatchNorm"]


def _axes(a: np.ndarray) -> tuple:
    return (0,) + tuple(range(2, a.ndim))


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape((1, -1) + (1,) * (ndim - 2))




class SyncBatchNorm(Function):
    """The node (``SyncBatchNormBackward``, as PyTorch names it) that synchronises the ranks."""

    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, eps, momentum, group,
                world_size):
        from ... import distributed as dist

        a = input._data
        axes = _axes(a)
        channels = a.shape[1]
        count = a.size // channels if channels else 0
        if count:
            mean_r = a.mean(axis=axes)
            m2_r = ((a - _per_channel(mean_r, a.ndim)) ** 2).sum(axis=axes)
        else:
            mean_r = m2_r = np.zeros(channels, a.dtype)
        mine = np.stack([mean_r, m2_r, np.full(channels, count, a.dtype)]).astype(a.dtype)
        allv = _wrap(np.empty((world_size,) + mine.shape, a.dtype))
        dist.all_gather_into_tensor(allv, _wrap(mine), group=group)
        stats = allv._data[allv._data[:, 2, 0] >= 1]  # ranks with an empty batch do not count
        counts = stats[:, 2, :1]
        n = counts.sum()
        mean = (counts * stats[:, 0]).sum(axis=0) / n
        m2 = (stats[:, 1] + counts * (stats[:, 0] - mean) ** 2).sum(axis=0)
        var = m2 / n
        invstd = 1.0 / np.sqrt(var + eps)
        xhat = (a - _per_channel(mean, a.ndim)) * _per_channel(invstd, a.ndim)
        out = xhat
        if weight is not None:
            out = out * _per_channel(weight._data, a.ndim)
        if bias is not None:
            out = out + _per_channel(bias._data, a.ndim)
        if running_mean is not None:
            running_mean._data[...] = (1 - momentum) * running_mean._data + momentum * mean
            running_mean._bump_version()
        if running_var is not None:
            unbiased = m2 / (n - 1) if n > 1 else np.full_like(m2, np.nan)
            running_var._data[...] = (1 - momentum) * running_var._data + momentum * unbiased
            running_var._bump_version()
        ctx.xhat, ctx.invstd, ctx.n, ctx.group = xhat, invstd, n, group
        ctx.save_for_backward(weight)
        return _wrap(np.asarray(out, dtype=a.dtype))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        from ... import distributed as dist

        (weight,) = ctx.saved_tensors
        g = grad._data
        xhat = ctx.xhat
        axes = _axes(g)
        sum_dy = g.sum(axis=axes)
        sum_dy_xhat = (g * xhat).sum(axis=axes)
        grad_weight = _wrap(sum_dy_xhat.astype(g.dtype)) if ctx.needs_input_grad[1] else None
        grad_bias = _wrap(sum_dy.astype(g.dtype)) if ctx.needs_input_grad[2] else None
        grad_input = None
        if ctx.needs_input_grad[0]:
            both = _wrap(np.stack([sum_dy, sum_dy_xhat]).astype(g.dtype))
            dist.all_reduce(both, group=ctx.group)  # every rank's batch shares the statistics
            sum_dy, sum_dy_xhat = both._data / ctx.n
            scale = ctx.invstd if weight is None else ctx.invstd * weight._data
            dx = _per_channel(scale, g.ndim) * (
                g - _per_channel(sum_dy, g.ndim) - xhat * _per_channel(sum_dy_xhat, g.ndim))
            grad_input = _wrap(np.asarray(dx, dtype=g.dtype))
        return grad_input, grad_weight, grad_bias, None, None, None, None, None, None
