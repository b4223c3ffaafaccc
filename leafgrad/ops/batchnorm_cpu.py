"""Batch norm on arrays as PyTorch's CPU kernels compute it, to the last bit.

For a C-contiguous float32/float64 input whose channels hold more than one element each per
sample (``image_size > 1``: the NCHW case of a conv net) PyTorch runs the kernels of
``aten/src/ATen/native/cpu/batch_norm_kernel.cpp``: per channel, the same sums in the same
order, with its compiler's fused multiply-adds. Reproduced here (and tested bit for bit):

- statistics: a sequential double sum for the mean, rounded to the dtype; the variance sum of
  ``(x - mean)²`` in the dtype, accumulated in double (float64: the products are fused into
  the sum for a plane's odd last element, as the compiler's two-wide loop leaves it);
  ``invstd = 1 / sqrt(var_sum / N + eps)`` in double, rounded.
- output: ``fma(x, alpha, beta)`` with ``alpha = invstd·w``, ``beta = fma(-mean, alpha, b)``.
- backward: per sample and channel a vectorised reduction of ``dy`` and of ``(x - mean)·dy``
  (ATen's ``reduce_all``/``map2_reduce_all`` at AVX2 width: lanes summed down the plane, the
  remainder fused into the first lanes, then across the lanes), accumulated in double over
  the batch; ``dx = fma(-(x - mean), k, dy - mean(dy))·invstd·w``.

Everything else (more than ``EXACT_ELEMENTS`` elements, one channel (PyTorch's float64 kernel
then sums otherwise, not reproduced), another layout, ``image_size == 1``,
whose PyTorch kernel sums in float per thread so its bits depend on PyTorch's thread count,
float16, other array modules) takes the formulas in ``normalization.py``, equal to within
rounding.
"""

from __future__ import annotations

import numpy as np

from .lastbits import fma, lane_tree

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
# ATen registers its batch-norm kernels up to AVX2 only: 32-byte vectors even on AVX-512
_VECTOR_BYTES = 32


# NOTE: the reproduction costs about twice the plain formulas (its fused multiply-adds and
# ordered sums: a (32, 64, 28, 28) float32 batch norm step 25 ms against 12 ms, PyTorch's
# 4.6 ms); above this many elements the plain formulas run, equal to within rounding
EXACT_ELEMENTS = 1 << 20


def applies(x, *others) -> bool:
    """Whether ``x`` (and ``others``: the gradient) take PyTorch's contiguous NCHW kernels."""
    if not (x.__class__ is np.ndarray and x.dtype in (_F32, _F64) and x.ndim > 2
            and x.flags.c_contiguous and 0 < x.size <= EXACT_ELEMENTS and x.shape[1] > 1
            and x.size // (x.shape[0] * x.shape[1]) > 1):
        return False
    return all(o.__class__ is np.ndarray and o.dtype == x.dtype and o.shape == x.shape
               and o.flags.c_contiguous for o in others)


def _planes(x):
    """``x`` as (batch, channel, plane)."""
    return x.reshape(x.shape[0], x.shape[1], -1)


def _by_channel(a):
    """(batch, channel, plane) as (channel, batch · plane): each channel's elements in order."""
    return np.moveaxis(a, 1, 0).reshape(a.shape[1], -1)


def _channel_columns(p):
    """(batch, channel, plane) as a new (batch · plane, channel) array: each channel a column,
    its elements in PyTorch's order (always a copy: the caller works in it)."""
    return p.transpose(0, 2, 1).copy().reshape(-1, p.shape[1])


def _sequential_sum64(a):
    """Sums along the last axis, in order, in double (a running sum, as a C loop adds)."""
    if not a.shape[-1]:
        return np.zeros(a.shape[:-1])
    return np.cumsum(a, axis=-1, dtype=np.float64)[..., -1]


def stats(x, eps: float):
    """(mean, invstd, var_sum) per channel, as PyTorch's training forward computes them.

    >>> m, s, v = stats(np.arange(8, dtype=np.float32).reshape(1, 2, 4), 0.0)
    >>> m.tolist(), v.tolist()
    ([1.5, 5.5], [5.0, 5.0])
    """
    dt = x.dtype
    p = _planes(x)
    n_total = x.size // x.shape[1]
    rows = _channel_columns(p)
    # NOTE: a reduction over a non-inner axis adds row after row: each channel in order, as
    # PyTorch's running sums (tested against cumsum in tests/test_batchnorm_bits.py)
    mean = (np.add.reduce(rows, axis=0, dtype=np.float64) / n_total).astype(dt)
    if dt == _F32:
        rows -= mean  # (rows is a private copy)
        rows *= rows  # float products, summed in double
        var_sum = np.add.reduce(rows, axis=0, dtype=np.float64).astype(dt)
    else:
        var_sum = _var_sum64(p - mean[None, :, None])
    var = var_sum / dt.type(n_total)  # PyTorch: var_sum / n in the dtype, then double
    invstd = (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(dt)
    return mean, invstd, var_sum


def _var_sum64(d):
    """float64 ``Σ (x - mean)²`` over (batch, plane) in order: the compiler's two-wide loop
    adds rounded squares, and its scalar remainder (a plane's odd last element) fuses the
    square into the sum."""
    sq = d * d
    plane = d.shape[2]
    if plane % 2 == 0:
        return _sequential_sum64(_by_channel(sq))
    acc = np.zeros(d.shape[1])
    for k in range(d.shape[0]):
        body = np.concatenate([acc[:, None], sq[k, :, :plane - 1]], axis=1)
        acc = fma(d[k, :, plane - 1], d[k, :, plane - 1], _sequential_sum64(body))
    return acc


def transform(x, mean, invstd, w, b):
    """``x·alpha + beta`` per channel, fused: PyTorch's forward from the statistics."""
    dt = x.dtype
    alpha = invstd if w is None else invstd * w
    beta = fma(-mean, alpha, dt.type(0) if b is None else b)
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return fma(x, alpha.reshape(shape), beta.reshape(shape))


def eval_invstd(running_var, eps: float, forward: bool):
    """``1 / sqrt(running_var + eps)``: the forward kernel works in the dtype (eps rounded to
    it), the backward kernel in double, rounded after."""
    dt = running_var.dtype
    if forward:
        return dt.type(1) / np.sqrt(running_var + dt.type(eps))
    return (1.0 / np.sqrt(running_var.astype(np.float64) + eps)).astype(dt)


def plane_sums(a, b=None):
    """Per plane (the last axis), ATen's ``reduce_all`` of ``a``, or with ``b`` its
    ``map2_reduce_all`` of ``a·b``: whole vectors added lane by lane (products rounded), the
    remainder added (fused, for products) into the first lanes, then across the lanes; fewer
    elements than a vector are added in order."""
    n = a.shape[-1]
    lanes = _VECTOR_BYTES // a.itemsize
    if n < lanes:
        terms = a if b is None else a * b
        return np.add.accumulate(terms, axis=-1)[..., -1]
    full = n - n % lanes
    body = a[..., :full] if b is None else a[..., :full] * b[..., :full]
    # NOTE: a reduction over a non-inner axis runs in order, lane by lane
    acc = np.add.reduce(body.reshape(a.shape[:-1] + (full // lanes, lanes)), axis=-2)
    if full < n:
        t = n - full
        if b is None:
            acc[..., :t] += a[..., full:]
        else:
            acc[..., :t] = fma(a[..., full:], b[..., full:], acc[..., :t])
    return lane_tree(acc)


def backward(grad, x, w, mean, invstd, training: bool, needs: tuple):
    """(dx, dw, db) of PyTorch's contiguous kernel; ``mean``/``invstd`` per channel (the saved
    statistics in training, the running mean and ``eval_invstd(..., forward=False)`` else)."""
    dt = x.dtype
    g, p = _planes(grad), _planes(x)
    d = p - mean[None, :, None]
    n_total = x.size // x.shape[1]
    # per sample and channel in the dtype, then in double down the batch (in order)
    s = np.add.reduce(plane_sums(g).astype(np.float64), axis=0)
    dotp = np.add.reduce(plane_sums(d, g).astype(np.float64), axis=0)
    gx = gw = gb = None
    wv = dt.type(1) if w is None else w[None, :, None]
    if needs[0]:
        inv = invstd[None, :, None]
        if training:
            k = ((dotp.astype(dt) * invstd) * invstd) / dt.type(n_total)
            grad_mean = (s / n_total).astype(dt)
            r = fma(-d, np.broadcast_to(k[None, :, None], d.shape), g - grad_mean[None, :, None])
            gx = ((r * inv) * wv).reshape(x.shape)
        else:
            gx = ((g * inv) * wv).reshape(x.shape)
    if needs[1]:
        gw = (dotp * invstd.astype(np.float64)).astype(dt)
    if needs[2]:
        gb = s.astype(dt)
    return gx, gw, gb


def backward_strided(grad, x, w, mean, invstd, training: bool, needs: tuple):
    """float32 (dx, dw, db) of PyTorch's generic backward (``batch_norm_backward_cpu_template``),
    which it runs when the gradient is not contiguous like the input (a broadcast one, from a
    sum or a mean): ``dotp`` a serial double sum of float products; the gradient's sum in the
    dtype; ``dx = ((dy - sum/N) - (x - mean)·k)·invstd·w``, each step rounded."""
    dt = x.dtype
    g = np.ascontiguousarray(grad).reshape(x.shape[0], x.shape[1], -1)
    d = _planes(x) - mean[None, :, None]
    n_total = x.size // x.shape[1]
    dotp = _sequential_sum64(_by_channel(d * g))
    s = np.add.reduce(_by_channel(g), axis=-1)  # NOTE: PyTorch's at::sum; NumPy's order here
    gx = gw = gb = None
    if needs[0]:
        inv = invstd[None, :, None]
        wv = dt.type(1) if w is None else w[None, :, None]
        if training:
            k = ((dotp.astype(dt) * invstd) * invstd) / dt.type(n_total)
            gi = d * k[None, :, None]
            grad_mean = s / dt.type(n_total)
            gx = (((g - grad_mean[None, :, None]) - gi) * inv) * wv
        else:
            gx = (g * inv) * wv
        gx = gx.reshape(x.shape)
    if needs[1]:
        gw = (dotp * invstd.astype(np.float64)).astype(dt)
    if needs[2]:
        gb = s.astype(dt)
    return gx, gw, gb


def update_running(running_mean, running_var, mean, var_sum, n_total: int,
                   momentum: float) -> None:
    """PyTorch's running-statistics update, in place: in the dtype for the mean; the unbiased
    variance (``var_sum / (n - 1)`` in the dtype) weighted in double."""
    dt = running_mean.dtype
    m = dt.type(momentum)
    one_m = dt.type(1) - m
    running_mean[...] = m * mean.astype(dt) + one_m * running_mean
    with np.errstate(divide="ignore", invalid="ignore"):
        unbiased = (var_sum.astype(dt) / dt.type(n_total - 1)).astype(np.float64)
    rv = running_var
    running_var[...] = (np.float64(m) * unbiased + (one_m * rv).astype(np.float64)).astype(
        rv.dtype)
