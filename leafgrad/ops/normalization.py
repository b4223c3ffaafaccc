"""Normalisation: batch / layer / group norm as fused nodes (PyTorch's ``Native*Backward0``);
instance norm through batch norm, RMS norm and local response norm composed of core ops.

Statistics are computed in float64 and rounded once (PyTorch accumulates float32 batch-norm
statistics in double on the CPU too). Backward formulas recompute the statistics from the
saved input when a graph of the backward is built, so second derivatives are exact.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import no_grad, state
from ..autograd.node import Op
from ..backend import array_module
from ..backend import mean as _mean
from ..tensor import Tensor, _wrap
from . import batchnorm_cpu as _bn
from . import lastbits
from ._apply import record
from .movement.strides import row_major, suggested, suggested_perm

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm",
           "local_response_norm"]

_new = object.__new__


def _scale_shift(x, mean, rstd, w, b, shape):
    """``x * alpha + beta`` with ``alpha = rstd * w``, ``beta = b - mean * alpha``: PyTorch's
    batch/instance/group-norm kernels fold the statistics and the affine parameters into one
    scale and shift per channel, so their roundings and their inf/NaN (``inf - inf`` in beta
    where ``(x - mean) * w`` would be finite) are these, not those of ``(x - mean) * rstd * w``.
    """
    alpha = rstd if w is None else rstd * w.reshape(shape)
    beta = -(mean * alpha) if b is None else b.reshape(shape) - mean * alpha
    y = x * alpha
    y += beta
    return y


def xp_repeat(a, k: int):
    """(n, g, 1) statistics repeated to (n, g * k, 1): one per channel of each group."""
    return a.repeat(k, axis=1) if k > 1 else a


def _mean_keep(x, axes: tuple):
    if isinstance(x, Tensor):
        return x.mean(axes, keepdim=True)
    return _mean(x, axis=axes, keepdims=True)


def _sum_keep(x, axes: tuple):
    if isinstance(x, Tensor):
        return x.sum(axes, keepdim=True)
    return x.sum(axis=axes, keepdims=True)


def _stats(x, axes: tuple, eps: float):
    """(mean, 1/sqrt(biased var + eps)) over ``axes``, kept; float64 inside for arrays."""
    if isinstance(x, Tensor):
        mean = _mean_keep(x, axes)
        var = _mean_keep((x - mean) * (x - mean), axes)
        return mean, (var + eps).rsqrt()
    x64 = x.astype(np.float64)  # a fresh copy (also of a float64 x): worked on in place
    mean = _mean(x64, axis=axes, keepdims=True)
    # NOTE: in place (d = x64 - mean, then d * d): the same roundings as the out-of-place
    # expressions, without two more float64 temporaries of x's size (W8: 9 layer norms a step)
    np.subtract(x64, mean, out=x64)
    np.multiply(x64, x64, out=x64)
    var = _mean(x64, axis=axes, keepdims=True)
    return mean.astype(x.dtype), (1.0 / np.sqrt(var + eps)).astype(x.dtype)


def _norm_backward(grad, x, w, mean, rstd, axes: tuple, w_shape: tuple, w_axes: tuple,
                   needs: tuple):
    """Gradients of y = (x − mean)·rstd·w + b where mean and rstd are statistics of x over
    ``axes`` (batch norm in training, layer norm, group norm)."""
    xhat = (x - mean) * rstd
    gw = gb = None
    if needs[1]:
        gw = _sum_keep(grad * xhat, w_axes).reshape(w_shape)
    if needs[2]:
        gb = _sum_keep(grad, w_axes).reshape(w_shape)
    gx = None
    if needs[0]:
        gxhat = grad * w if w is not None else grad
        gx = rstd * (gxhat - _mean_keep(gxhat, axes) - xhat * _mean_keep(gxhat * xhat, axes))
    return gx, gw, gb


class NativeBatchNorm(Op):
    """Batch norm; in training the statistics come from the batch (and depend on x)."""

    name_ = "NativeBatchNormBackward0"
    formula = {"x": "batch_norm_grad(grad, x, w, b, training, eps, running_mean, running_var)[0]",
               "w": "batch_norm_grad(grad, x, w, b, training, eps, running_mean, running_var)[1]",
               "b": "batch_norm_grad(grad, x, w, b, training, eps, running_mean, running_var)[2]"}
    saved_for = ((0, 1, 2), (0, 1, 2), ())  # PyTorch saves input and weight, not the bias
    __slots__ = ("training", "eps", "running_mean", "running_var", "_mean", "_rstd", "_has_w",
                 "_var_sum")

    def forward(self, x, w, b):
        shape = _channel_shape(x)
        self._var_sum = None  # the kernels' variance sum: batch_norm takes it for the update
        if _kernel_applies(x, w, b, None if self.training else self.running_var):
            # PyTorch's contiguous NCHW kernels, to the last bit (batchnorm_cpu.py)
            if self.training:
                mean, invstd, self._var_sum = _bn.stats(x, self.eps)
                self._mean, self._rstd = mean.reshape(shape), invstd.reshape(shape)
            else:
                mean = self.running_mean
                invstd = _bn.eval_invstd(self.running_var, self.eps, forward=True)
                self._mean = mean.reshape(shape)
                self._rstd = _bn.eval_invstd(self.running_var, self.eps, False).reshape(shape)
            return _bn.transform(x, mean, invstd, w, b)
        axes = _bn_axes(x)
        if self.training:
            mean, rstd = _stats(x, axes, self.eps)
        else:
            shape = _channel_shape(x)
            mean = self.running_mean.reshape(shape).astype(x.dtype, copy=False)
            rstd = (1.0 / np.sqrt(self.running_var.astype(np.float64) + self.eps)).astype(
                x.dtype).reshape(shape)
        self._mean, self._rstd = mean, rstd
        return _scale_shift(x, mean, rstd, w, b, shape)

    def backward(self, grad):
        x, w, b = self.saved(grad)
        return _bn_backward(grad, x, w, self.training, self.eps, self._mean, self._rstd,
                            self.needs_input_grad)


def _kernel_applies(x, w, b, running_var) -> bool:
    """Whether PyTorch's contiguous kernels apply (batchnorm_cpu.applies), with parameters and
    running statistics of x's dtype."""
    return _bn.applies(x) and all(p is None or (p.__class__ is np.ndarray and p.dtype == x.dtype)
                                  for p in (w, b, running_var))


def _bn_axes(x) -> tuple:
    return (0,) + tuple(range(2, x.ndim))


def _channel_shape(x) -> tuple:
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _bn_backward(grad, x, w, training: bool, eps: float, mean, rstd, needs: tuple):
    if not isinstance(grad, Tensor) and _kernel_applies(x, w, None, None) and getattr(
            mean, "dtype", None) == x.dtype and grad.shape == x.shape:
        if _bn.applies(x, grad):  # PyTorch's contiguous kernel, to the last bit
            return _bn.backward(grad, x, w, mean.reshape(-1), rstd.reshape(-1), training, needs)
        if x.dtype == np.float32 and grad.__class__ is np.ndarray:  # its strided template
            return _bn.backward(grad, x, w, mean.reshape(-1), rstd.reshape(-1), training,
                                needs, contiguous=False)
    axes = _bn_axes(x)
    shape = _channel_shape(x)
    wv = w.reshape(shape) if w is not None else None
    c = (x.shape[1],)
    if isinstance(grad, Tensor):
        if training:
            mean, rstd = _stats(x, axes, eps)  # as functions of x: exact second derivatives
        else:
            mean, rstd = _wrap(mean), _wrap(rstd)
    if training:
        return _norm_backward(grad, x, wv, mean, rstd, axes, c, axes, needs)
    # eval: the statistics are constants
    xhat = (x - mean) * rstd
    gx = grad * (rstd * wv if wv is not None else rstd) if needs[0] else None
    gw = _sum_keep(grad * xhat, axes).reshape(c) if needs[1] else None
    gb = _sum_keep(grad, axes).reshape(c) if needs[2] else None
    return gx, gw, gb


def _bn_formula(grad, x, w, b, training, eps, running_mean, running_var):
    fn = _new(NativeBatchNorm)
    fn.training, fn.eps, fn.running_mean, fn.running_var = training, eps, running_mean, \
        running_var
    fn.forward(x._data, None if w is None else w._data, getattr(b, "_data", None))  # b: unsaved
    needs = (True, w is not None, b is not None)
    with no_grad():
        out = _bn_backward(grad._data, x._data, None if w is None else w._data, training, eps,
                           fn._mean, fn._rstd, needs)
    return tuple(None if o is None else _wrap(o) for o in out)


class NativeLayerNorm(Op):
    name_ = "NativeLayerNormBackward0"
    formula = {"x": "layer_norm_grad(grad, x, w, b, n, eps)[0]",
               "w": "layer_norm_grad(grad, x, w, b, n, eps)[1]",
               "b": "layer_norm_grad(grad, x, w, b, n, eps)[2]"}
    __slots__ = ("n", "eps", "_mean", "_rstd", "_xhat")

    def forward(self, x, w, b):
        axes = tuple(range(x.ndim - self.n, x.ndim))
        mean, rstd = _stats(x, axes, self.eps)
        self._mean, self._rstd = mean, rstd
        y = x - mean
        y *= rstd
        self._xhat = None
        if w is not None:
            # NOTE: x̂ = (x − mean)·rstd is kept for the first backward, which needs it and
            # would recompute it (two passes); y = x̂·w into a new array rounds as y *= w does
            self._xhat = y
            xp = array_module(y)
            y = xp.multiply(y, w, out=xp.empty_like(y))
        if b is not None:
            y += b
        return y

    def backward(self, grad):
        x, w, b = self.saved(grad)
        needs = self.needs_input_grad
        xhat = self._xhat
        if needs[0] and not isinstance(grad, Tensor) and not (
                array_module(grad).isfinite(grad).all() and array_module(x).isfinite(x).all()
                and (w is None or array_module(w).isfinite(w).all())):
            gx = _ln_backward_nonfinite(grad, x, w, self.n, self._mean, self._rstd)
            _, gw, gb = _ln_backward(grad, x, w, self.n, self.eps, self._mean, self._rstd,
                                     (False,) + tuple(needs[1:]))
            if gw is not None:
                gw = _ln_weight_grad_nonfinite(grad, x, w, self.n, self._mean, self._rstd)
            return gx, gw, gb
        if xhat is not None and not isinstance(grad, Tensor) and type(grad) is np.ndarray \
                and grad.shape == xhat.shape:
            self._xhat = None  # a second backward (retain_graph) recomputes it
            return _ln_backward_xhat(grad, xhat, w, self.n, self._rstd, needs)
        return _ln_backward(grad, x, w, self.n, self.eps, self._mean, self._rstd, needs)


def _ln_backward_xhat(grad, xhat, w, n: int, rstd, needs: tuple):
    """``_norm_backward`` for layer norm on arrays, from the forward's x̂, with the same
    operations in the same order (so the same bits), in place where a temporary is free."""
    nd = xhat.ndim
    axes = tuple(range(nd - n, nd))
    w_axes = tuple(range(nd - n))
    gw = gb = gx = None
    if needs[1]:
        gw = (grad * xhat).sum(axis=w_axes, keepdims=True).reshape(w.shape)
    if needs[2]:
        gb = grad.sum(axis=w_axes, keepdims=True).reshape(xhat.shape[nd - n:])
    if needs[0]:
        gxhat = grad * w
        t = gxhat * xhat
        m2 = _mean(t, axis=axes, keepdims=True)
        m1 = _mean(gxhat, axis=axes, keepdims=True)
        gxhat -= m1
        np.multiply(xhat, m2, out=t)
        gxhat -= t
        gx = np.multiply(rstd, gxhat, out=gxhat)
    return gx, gw, gb


def _ln_backward_nonfinite(grad, x, w, n: int, mean, rstd):
    """x's gradient as PyTorch's CPU layer-norm kernel forms it, for an inf or NaN in ``grad``,
    ``x`` or ``w``: ``rstd·g + b·x + c`` from the row sums ``ds = Σ g·x`` and ``db = Σ g``
    (``g = grad·w``), so an infinity spreads over its row as in PyTorch (the centred formula
    used otherwise, equal for finite values, spreads it differently)."""
    nd = x.ndim
    axes = tuple(range(nd - n, nd))
    with np.errstate(all="ignore"):
        g = grad * w if w is not None else grad
        ds = _sum_keep(g * x, axes)
        db = _sum_keep(g, axes)
        scale = x.dtype.type(1.0 / math.prod(x.shape[nd - n:])) if x.size else 0
        b = (db * mean - ds) * rstd * rstd * rstd * scale
        c = -b * mean - db * rstd * scale
        return (rstd * g + b * x + c).astype(x.dtype, copy=False)


def _ln_weight_grad_nonfinite(grad, x, w, n: int, mean, rstd):
    """w's gradient as PyTorch's CPU layer-norm kernel forms it, for an inf or NaN: each row
    adds ``dy·fma(rstd, x, -rstd·mean)``, whose x̂ is a rounding residual, not 0, where x equals
    its row's mean (a row of one element), so an infinite dy gives ±inf there, not inf·0."""
    xp = array_module(x)
    with np.errstate(all="ignore"):
        r, m = xp.broadcast_to(rstd, x.shape), xp.broadcast_to(mean, x.shape)
        xhat = lastbits.fma(r, x, -(r * m))
        return _sum_keep(grad * xhat, tuple(range(x.ndim - n))).reshape(w.shape)


def _ln_backward(grad, x, w, n: int, eps: float, mean, rstd, needs: tuple):
    nd = x.ndim
    axes = tuple(range(nd - n, nd))
    if isinstance(grad, Tensor):
        mean, rstd = _stats(x, axes, eps)
    w_axes = tuple(range(nd - n))
    w_shape = tuple(x.shape[nd - n:])
    return _norm_backward(grad, x, w, mean, rstd, axes, w_shape, w_axes, needs)


def _ln_formula(grad, x, w, b, n, eps):
    fn = _new(NativeLayerNorm)
    fn.n, fn.eps = n, eps
    fn.forward(x._data, None if w is None else w._data, getattr(b, "_data", None))  # b: unsaved
    with no_grad():
        out = _ln_backward(grad._data, x._data, None if w is None else w._data, n, eps,
                           fn._mean, fn._rstd, (True, w is not None, b is not None))
    return tuple(None if o is None else _wrap(o) for o in out)


class NativeGroupNorm(Op):
    name_ = "NativeGroupNormBackward0"
    formula = {"x": "group_norm_grad(grad, x, w, b, groups, eps)[0]",
               "w": "group_norm_grad(grad, x, w, b, groups, eps)[1]",
               "b": "group_norm_grad(grad, x, w, b, groups, eps)[2]"}
    saved_for = ((0, 1, 2), (0, 1, 2), ())
    __slots__ = ("groups", "eps", "_mean", "_rstd")

    def forward(self, x, w, b):
        n, c = x.shape[:2]
        xg = x.reshape(n, self.groups, -1)
        mean, rstd = _stats(xg, (2,), self.eps)
        self._mean, self._rstd = mean, rstd
        if w is None and b is None:  # (measured: more bits as torch's than x * rstd + shift)
            return ((xg - mean) * rstd).reshape(x.shape)
        # per (sample, channel) scale and shift, as PyTorch's group-norm kernel forms them
        cg = c // self.groups
        m = xp_repeat(mean, cg)
        r = xp_repeat(rstd, cg)
        y = _scale_shift(x.reshape(n, c, -1), m, r, w, b, (1, c, 1))
        return y.reshape(x.shape)

    def backward(self, grad):
        x, w, b = self.saved(grad)
        needs = self.needs_input_grad
        return _gn_backward(grad, x, w, self.groups, self.eps, self._mean, self._rstd, needs)


def _gn_backward_nonfinite(grad, x, w, groups: int, mean, rstd, needs: tuple):
    """Group norm's gradients as PyTorch's CPU kernel forms them, for an inf or NaN in
    ``grad`` or ``x``: from the per-channel sums ``ds = Σ grad·x`` and ``db = Σ grad``
    (``dγ = Σ_n (ds − db·mean)·rstd``, ``dx = rstd·γ·grad + c2·x + c3``), so an infinity
    spreads as in PyTorch; equal to the centred formula for finite values."""
    shape = x.shape
    n, c = shape[:2]
    d = c // groups
    with np.errstate(all="ignore"):
        g3 = grad.reshape(n, c, -1)
        x3 = x.reshape(n, c, -1)
        ds = (g3 * x3).sum(axis=2)  # (n, c)
        db = g3.sum(axis=2)
        m = mean.reshape(n, groups, 1)
        r = rstd.reshape(n, groups, 1)
        gx = gw = gb = None
        if needs[0]:
            gam = (w if w is not None else array_module(x).ones(c, x.dtype)).reshape(
                1, groups, d)
            ds_v = (ds.reshape(n, groups, d) * gam).sum(axis=2, keepdims=True)
            db_v = (db.reshape(n, groups, d) * gam).sum(axis=2, keepdims=True)
            s = x.dtype.type(1.0 / (d * x3.shape[2])) if x.size else 0
            c2 = (db_v * m - ds_v) * r * r * r * s
            c3 = -c2 * m - db_v * r * s
            c1 = (r * gam).reshape(n, c, 1)
            xg = x3.reshape(n, groups, -1)
            gx = (c1 * g3).reshape(n, groups, -1) + c2 * xg + c3
            gx = gx.reshape(shape).astype(x.dtype, copy=False)
        if needs[1]:
            gw = ((ds.reshape(n, groups, d) - db.reshape(n, groups, d) * m) * r).sum(
                axis=0).reshape(c).astype(x.dtype, copy=False)
        if needs[2]:
            gb = db.sum(axis=0).astype(x.dtype, copy=False)
    return gx, gw, gb


def _gn_backward(grad, x, w, groups: int, eps: float, mean, rstd, needs: tuple):
    shape = x.shape
    n, c = shape[:2]
    if not isinstance(grad, Tensor) and not (
            array_module(grad).isfinite(grad).all() and array_module(x).isfinite(x).all()):
        return _gn_backward_nonfinite(grad, x, w, groups, mean, rstd, needs)
    wv = w.reshape(_channel_shape(x)) if w is not None else None
    gw = gb = None
    xg = x.reshape(n, groups, -1)
    if isinstance(grad, Tensor):
        mean, rstd = _stats(xg, (2,), eps)
    xhat = ((xg - mean) * rstd).reshape(shape)
    red = (0,) + tuple(range(2, len(shape)))
    if needs[1]:
        gw = _sum_keep(grad * xhat, red).reshape((c,))
    if needs[2]:
        gb = _sum_keep(grad, red).reshape((c,))
    gx = None
    if needs[0]:
        gxhat = (grad * wv if wv is not None else grad).reshape(n, groups, -1)
        xh = xhat.reshape(n, groups, -1)
        gx = (rstd * (gxhat - _mean_keep(gxhat, (2,)) - xh * _mean_keep(gxhat * xh, (2,)))
              ).reshape(shape)
    return gx, gw, gb


def _gn_formula(grad, x, w, b, groups, eps):
    fn = _new(NativeGroupNorm)
    fn.groups, fn.eps = groups, eps
    fn.forward(x._data, None if w is None else w._data, getattr(b, "_data", None))  # b: unsaved
    with no_grad():
        out = _gn_backward(grad._data, x._data, None if w is None else w._data, groups, eps,
                           fn._mean, fn._rstd, (True, w is not None, b is not None))
    return tuple(None if o is None else _wrap(o) for o in out)


FORMULA_HELPERS = {"batch_norm_grad": _bn_formula, "layer_norm_grad": _ln_formula,
                   "group_norm_grad": _gn_formula}


def _raw_or_none(t):
    return None if t is None else t._data


def _run_norm(fn, input: Tensor, weight, bias) -> Tensor:
    x = input._data
    if x.dtype.kind != "f":
        raise RuntimeError(f"{type(fn).__qualname__}: expected a floating-point input, got "
                           f"{input.dtype}")
    w, b = _raw_or_none(weight), _raw_or_none(bias)
    # PyTorch's layouts: layer norm writes a row-major result; batch and group norm one in
    # x.suggest_memory_format() (channels-last kept, any other layout row-major)
    out = fn.forward(x, w, b)
    out = row_major(out) if isinstance(fn, NativeLayerNorm) else suggested(out, x)
    if not state.enabled:
        return _wrap(out)
    return record(fn, (input, weight, bias), out)


def _verify_batch_size(size) -> None:
    size_prods = size[0]
    for i in range(len(size) - 2):
        size_prods *= size[i + 2]
    if size_prods == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {size}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) by batch statistics (training) or running ones (eval);
    in training the running statistics are updated in place.

    >>> import leafgrad
    >>> batch_norm(leafgrad.tensor([[1.0], [3.0]]), None, None, training=True)
    tensor([[-1.0000],
            [ 1.0000]])
    """
    if momentum is None or isinstance(momentum, bool):
        raise TypeError(f"batch_norm(): argument 'momentum' (position 7) must be float, not "
                        f"{type(momentum).__name__}")
    if training:
        _verify_batch_size(input.size())
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    x = input._data
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected a 2D or higher input (N, C, ...), got "
                         f"{x.ndim}D of shape {list(x.shape)}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(
                f"{name} should contain {c} elements not {t.numel()}\nWhy: batch norm keeps one "
                "value per channel (dim 1 of the input); check num_features against the input's "
                "channels.")
    use_batch = training or running_mean is None or running_var is None
    if not use_batch and (running_mean is None or running_var is None):
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    fn = _new(NativeBatchNorm)
    fn.training, fn.eps = use_batch, eps
    fn.running_mean = None if running_mean is None else running_mean._data
    fn.running_var = None if running_var is None else running_var._data
    out = _run_norm(fn, input, weight, bias)
    var_sum, fn._var_sum = fn._var_sum, None  # (not kept by the node: PyTorch saves no such)
    if training and running_mean is not None and running_var is not None:
        _update_running(x, running_mean, running_var, momentum,
                        None if var_sum is None else (fn._mean.reshape(-1), var_sum))
    return out


def _update_running(x, running_mean: Tensor, running_var: Tensor, momentum: float,
                    stats=None) -> None:
    """running = m·batch + (1 − m)·running (unbiased variance), in place, in float64 and
    rounded once, as PyTorch's CPU kernel does (``stats``: the forward's (mean, var_sum) from
    PyTorch's kernels, when it computed them)."""
    rm, rv = running_mean._data, running_var._data
    if _kernel_applies(x, rm, rv, None):
        if stats is not None:
            mean, var_sum = stats
        else:
            mean, _, var_sum = _bn.stats(x, 0.0)
        with no_grad():
            _bn.update_running(rm, rv, mean, var_sum, x.size // x.shape[1], momentum)
            running_mean._bump_version()
            running_var._bump_version()
        return
    axes = _bn_axes(x)
    n = x.size // x.shape[1]
    x64 = x.astype(np.float64)
    mean = _mean(x64, axis=axes)
    var_sum = ((x64 - mean.reshape(_channel_shape(x))) ** 2).sum(axis=axes)
    with np.errstate(divide="ignore", invalid="ignore"):
        unbiased = var_sum / (n - 1)
    m = float(momentum)
    with no_grad():
        rm, rv = running_mean._data, running_var._data
        rm[...] = (m * mean + (1 - m) * rm.astype(np.float64)).astype(rm.dtype)
        rv[...] = (m * unbiased + (1 - m) * rv.astype(np.float64)).astype(rv.dtype)
        running_mean._bump_version()
        running_var._bump_version()


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims.

    >>> import leafgrad
    >>> layer_norm(leafgrad.tensor([[1.0, 3.0]]), (2,))
    tensor([[-1.0000,  1.0000]])
    """
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    x = input._data
    n = len(normalized_shape)
    if n == 0 or x.shape[x.ndim - n:] != normalized_shape or x.ndim < n:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
            f"{list(x.shape)}\nWhy: layer norm normalises the last dims, which must equal "
            "normalized_shape.")
    for t in (weight, bias):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise RuntimeError(
                f"Expected weight to be of same shape as normalized_shape, but got weight of "
                f"shape {list(t.shape)} and normalized_shape = {list(normalized_shape)}")
    fn = _new(NativeLayerNorm)
    fn.n, fn.eps = n, eps
    return _run_norm(fn, input, weight, bias)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise groups of channels (dim 1 split into ``num_groups``) per sample.

    >>> import leafgrad
    >>> group_norm(leafgrad.tensor([[[1.0], [3.0]]]), 1).flatten()
    tensor([-1.0000,  1.0000])
    """
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    _verify_batch_size([input.size(0) * input.size(1) // num_groups, num_groups]
                       + list(input.size()[2:]))
    c = input.shape[1]
    if c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(input.shape)} and num_groups={num_groups}")
    for t in (weight, bias):
        if t is not None and t.numel() != c:
            raise RuntimeError(
                f"Expected weight to be a vector of size equal to the number of channels in "
                f"input, but got weight of shape {list(t.shape)} and input of shape "
                f"{list(input.shape)}")
    fn = _new(NativeGroupNorm)
    fn.groups, fn.eps = num_groups, eps
    return _run_norm(fn, input, weight, bias)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial dims (batch norm on (1, N·C, …)).

    >>> import leafgrad
    >>> instance_norm(leafgrad.tensor([[[1.0, 3.0]]]))
    tensor([[[-1.0000,  1.0000]]])
    """
    if use_input_stats:
        size = input.size()
        prod = 1
        for s in size[2:]:
            prod *= s
        if prod == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input "
                             f"size {size}")
    shape = tuple(input.shape)
    n, c = shape[:2]
    x = input.reshape((1, n * c) + shape[2:])
    rm = running_mean.repeat(n) if running_mean is not None else None
    rv = running_var.repeat(n) if running_var is not None else None
    w = weight.repeat(n) if weight is not None else None
    b = bias.repeat(n) if bias is not None else None
    out = batch_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
    if use_input_stats:
        with no_grad():
            if running_mean is not None:
                running_mean.copy_(rm.view(n, c).mean(0))
            if running_var is not None:
                running_var.copy_(rv.view(n, c).mean(0))
    return out.view(shape)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x²) + eps) over the trailing dims, times ``weight`` (eps defaults to the
    dtype's machine epsilon, as PyTorch).

    >>> import leafgrad
    >>> rms_norm(leafgrad.tensor([[3.0, 4.0]]), (2,))
    tensor([[0.8485, 1.1314]])
    """
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    n = len(normalized_shape)
    if tuple(input.shape[input.dim() - n:]) != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
            f"{list(input.shape)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.dim() - n, input.dim()))
    r = (input.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    out = input * r
    if weight is not None:
        out = out * weight
    if suggested_perm(input._data) is None and not out._data.flags.c_contiguous:
        # PyTorch ends with result.contiguous(input.suggest_memory_format()): a CloneBackward0
        # into row-major memory unless the input is channels-last
        out = out.contiguous()
    return out


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """x / (k + α·mean of x² over ``size`` neighbouring channels)^β.

    >>> import leafgrad
    >>> local_response_norm(leafgrad.ones(1, 2, 1), 2, alpha=1.0, k=0.0, beta=1.0).flatten()
    tensor([2., 1.])
    """
    from ..creation import zeros
    from ..methods.shape import cat

    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sq = input * input
    c = input.shape[1]
    before, after = size // 2, (size - 1) // 2
    # the channel window, zero-padded as PyTorch's pad + avg_pool does
    pad_shape = list(input.shape)
    parts = []
    if before:
        pad_shape[1] = before
        parts.append(zeros(pad_shape, dtype=input.dtype, device=input.device))
    parts.append(sq)
    if after:
        pad_shape[1] = after
        parts.append(zeros(pad_shape, dtype=input.dtype, device=input.device))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    acc = padded.narrow(1, 0, c)
    for j in range(1, size):
        acc = acc + padded.narrow(1, j, c)
    div = (acc / size * alpha + k).pow(beta)
    return input / div

