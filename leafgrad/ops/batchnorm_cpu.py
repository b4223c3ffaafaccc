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

from .lastbits import fma, lane_sum

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


def _channel_columns(p):
    """(batch, channel, plane) as a new (batch · plane, channel) array: each channel a column,
    its elements in PyTorch's order (always a copy: the caller works in it)."""
    return p.transpose(0, 2, 1).copy().reshape(-1, p.shape[1])


def _column_sums64(rows):
    """Each column of ``rows`` summed in order, in double, as a C loop's running sum.

    NOTE: a reduction over a non-inner axis adds row after row, so each column runs in order
    (tested against a cumulative sum in tests/test_batchnorm_bits.py); in a column-major
    array the columns would be the inner axis, summed pairwise, hence C order first.
    """
    if not rows.flags.c_contiguous:
        rows = rows.copy(order="C")
    return np.add.reduce(rows, axis=0, dtype=np.float64)


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
    mean = (_column_sums64(rows) / n_total).astype(dt)
    if dt == _F32:
        rows -= mean  # (rows is a private copy)
        rows *= rows  # float products, summed in double
        var_sum = _column_sums64(rows).astype(dt)
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
        return _column_sums64(_channel_columns(sq))
    acc = np.zeros(d.shape[1])
    for k in range(d.shape[0]):
        body = _column_sums64(np.concatenate([acc[None, :], sq[k, :, :plane - 1].T]))
        acc = fma(d[k, :, plane - 1], d[k, :, plane - 1], body)
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
    ``map2_reduce_all`` of ``a·b``, at the batch-norm kernels' vector width."""
    return lane_sum(a, -1, times=b, width=_VECTOR_BYTES)[..., 0]


def backward(grad, x, w, mean, invstd, training: bool, needs: tuple, contiguous: bool = True):
    """(dx, dw, db) of PyTorch's backward; ``mean``/``invstd`` per channel (the saved
    statistics in training, the running mean and ``eval_invstd(..., forward=False)`` else).

    ``contiguous``: its kernel for a gradient laid out as the input (per sample and channel a
    vectorised reduction in the dtype, then in double down the batch; ``dx`` fused as
    ``fma(-(x - mean), k, dy - mean(dy))``). Otherwise (float32; a broadcast gradient, from a
    sum) its generic template: ``dotp`` a serial double sum of float products, the
    gradient's sum in the dtype, ``dx = (dy - sum/N) - (x - mean)·k``, each step rounded.
    """
    dt = x.dtype
    g = _planes(grad if contiguous else np.ascontiguousarray(grad))
    d = _planes(x) - mean[None, :, None]
    n_total = x.size // x.shape[1]
    if contiguous:
        s = np.add.reduce(plane_sums(g).astype(np.float64), axis=0)
        dotp = np.add.reduce(plane_sums(d, g).astype(np.float64), axis=0)
    else:
        dotp = _column_sums64(_channel_columns(d * g))
        # NOTE: PyTorch's at::sum; NumPy's order here
        s = np.add.reduce(np.moveaxis(g, 1, 0).reshape(g.shape[1], -1), axis=-1)
    gx = gw = gb = None
    if needs[0]:
        inv = invstd[None, :, None]
        wv = dt.type(1) if w is None else w[None, :, None]
        if not training:
            r = g
        else:
            k = ((dotp.astype(dt) * invstd) * invstd) / dt.type(n_total)
            if contiguous:
                grad_mean = (s / n_total).astype(dt)
                r = fma(-d, np.broadcast_to(k[None, :, None], d.shape),
                        g - grad_mean[None, :, None])
            else:
                r = (g - (s / dt.type(n_total))[None, :, None]) - d * k[None, :, None]
        gx = ((r * inv) * wv).reshape(x.shape)
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
    running_var[...] = (np.float64(m) * unbiased
                        + (one_m * running_var).astype(np.float64)).astype(running_var.dtype)
