"""Losses with their own nodes: nll_loss / cross_entropy, mse, smooth L1, Huber, binary cross
entropy (with logits), soft margin; plus l1 and the reduction helpers the other losses share."""

from __future__ import annotations

import functools
import warnings

import numpy as np

from ..autograd.grad_mode import state
from ..autograd.node import Op
from ..backend import array_module
from ..tensor import Tensor, _wrap
from . import dual, lastbits
from ._apply import record, record_kernel, record_unary
from .activation import _logsigmoid_raw, _raw, _sigmoid
from .inplace_view import _dense
from .softmax import log_softmax

__all__ = [
    "nll_loss", "cross_entropy", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "soft_margin_loss",
]

_new = object.__new__
_REDUCTIONS = ("none", "mean", "sum")


# -- reductions -----------------------------------------------------------------------------------
def legacy_reduction(size_average, reduce, emit_warning: bool = True) -> str:
    """The ``reduction`` string for the deprecated ``size_average`` / ``reduce`` arguments."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def check_reduction(reduction: str) -> str:
    """Raise PyTorch's ValueError for an unknown reduction."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    """Apply ``reduction`` to an elementwise loss (``apply_loss_reduction`` in ATen)."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _reduce_raw(loss, reduction: str):
    if reduction == "mean":
        return loss.mean(dtype=loss.dtype) if loss.size else array_module(loss).asarray(
            np.nan, loss.dtype)
    if reduction == "sum":
        return loss.sum(dtype=loss.dtype)
    return loss


def _grad_scale(grad, reduction: str, n: int, shape: tuple):
    """The incoming gradient spread over the elementwise loss of ``shape``."""
    if reduction == "none":
        return grad
    g = dual.expand(grad, shape)
    return g / n if reduction == "mean" else g


def _size_warning(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", stacklevel=3)


def _reduction_arg(size_average, reduce, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    return check_reduction(reduction)


# -- negative log likelihood ----------------------------------------------------------------------
class NllLoss(Op):
    """−w[t]·input[n, t] for each sample, reduced (ATen's nll_loss: input (C,) or (N, C))."""

    name_ = "NllLossBackward0"
    formula = {"x": "nll_backward(grad, x, target, weight, ignore_index, reduction)"}
    __slots__ = ("target", "weight", "ignore_index", "reduction", "_index", "_w", "_total",
                 "in_shape", "_counted", "_refuse")

    def forward(self, x):
        xp = array_module(x)
        # x is (C,), (N, C) or (N, C, H, W) (NllLoss2d); the target has x's shape less dim 1
        t = self.target
        ignored = t == self.ignore_index
        self._counted = None
        if self.weight is None and not ignored.any():  # the common case: every target counts
            safe, w = t, xp.ones(t.shape, dtype=x.dtype)
        else:
            self._counted = ~ignored if ignored.any() else None
            safe = xp.where(ignored, 0, t)
            w = self.weight[safe] if self.weight is not None else xp.ones(t.shape, x.dtype)
            w = xp.where(ignored, w.dtype.type(0), w)
        self._index = _class_index(xp, safe)
        self._w = w
        losses = -(x[self._index] * w)
        if ignored.any():
            # an ignored sample is never read (PyTorch): its inf/NaN must not reach the result
            losses = xp.where(ignored, losses.dtype.type(0), losses)
        if self.reduction == "none":
            return losses
        total = w.sum(dtype=x.dtype)
        self._total = total
        s = losses.sum(dtype=x.dtype)
        if self.reduction == "sum":
            return xp.asarray(s)
        with np.errstate(invalid="ignore", divide="ignore"):
            return xp.asarray(s / total)  # NOTE: all targets ignored gives 0/0 = nan (PyTorch)

    def backward(self, grad):
        if self._refuse is not None:
            raise RuntimeError(self._refuse)
        g = _nll_backward(self, grad)
        if isinstance(grad, Tensor):
            from .activation import zero_path

            g = zero_path(g, self.saved(grad)[0])  # d/dx of the gradient is 0 (PyTorch: zeros)
        return g


class NllLoss2d(NllLoss):
    """nll_loss2d: input (N, C, H, W), target (N, H, W)."""

    name_ = "NllLoss2DBackward0"
    __slots__ = ("_strided",)

    def backward(self, grad):
        if self._strided:
            # NOTE: PyTorch's nll_loss2d backward makes its result with zeros_like(input),
            # which keeps a dense input's strides, then requires it contiguous
            raise RuntimeError(
                "grad_input must be contiguous\nWhy: PyTorch's nll_loss2d backward refuses a "
                "4-d input that is dense but not contiguous (permuted or transposed); pass "
                "input.contiguous() to the loss.")
        return super().backward(grad)


def _class_index(xp, t) -> tuple:
    """The index reading input[n, t[n, ...], ...] for every target element: the target in the
    class dim (1, or 0 for a 1-d input) and broadcasting positions in the others."""
    if t.ndim == 0:
        return (t,)
    nd = t.ndim
    pos = [xp.arange(n).reshape((1,) * k + (n,) + (1,) * (nd - k - 1))
           for k, n in enumerate(t.shape)]
    return (pos[0], t, *pos[1:])


def _nll_backward(fn, grad):
    w = fn._w
    if fn.reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            w = w / fn._total
    if isinstance(grad, Tensor):
        vals = grad * _wrap(-w) if fn.reduction == "none" else _wrap(-w) * grad
    else:
        vals = -w * grad
    if fn._counted is not None:
        # NOTE: PyTorch skips an ignored target (its gradient stays 0), it does not multiply by
        # a zero weight: an inf or nan upstream gradient must not become nan there
        vals = dual.where(fn._counted, vals, 0)
    return dual.embed(vals, fn.in_shape, fn._index)


def _nll_formula(grad, x, target, weight, ignore_index, reduction):
    """nll_loss's gradient recomputed from scratch (what the node's formula prints)."""
    fn = _new(NllLoss)
    fn.target, fn.weight, fn.ignore_index, fn.reduction = target, weight, ignore_index, reduction
    fn.in_shape = x.shape
    fn.forward(x._data)
    return _nll_backward(fn, grad)


def _scale_formula(grad, reduction: str, x):
    return _grad_scale(grad, reduction, x.numel(), tuple(x.shape))


def _weight_formula(w):
    return 1 if w is None else _wrap(w)


def _logsigmoid_formula(x):
    from .activation import logsigmoid

    return logsigmoid(x)


FORMULA_HELPERS = {"nll_backward": _nll_formula, "scale": _scale_formula, "wt": _weight_formula,
                   "logsigmoid": _logsigmoid_formula}


def _c10(dt) -> str:
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool", "float16": "Half", "float32": "Float", "float64": "Double"}.get(
        dt.name, dt.name)


def _check_target_dtype(t) -> None:
    if t.dtype.kind not in "iu" or t.dtype.name not in ("int64", "uint8"):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {_c10(t.dtype)}\nWhy: these "
            "targets are class indices; for class probabilities pass a float target of the "
            "input's shape to cross_entropy, otherwise convert with target.long().")


def _check_weight(weight, n_classes: int, spatial: bool) -> None:
    if weight is None or (weight.ndim == 1 and weight.shape[0] == n_classes):
        return
    if spatial:  # nll_loss2d's check names no sizes
        raise RuntimeError(
            "weight tensor should be defined either for all or no classes\nWhy: there are "
            f"{n_classes} classes (input dim 1) and the weight has shape {list(weight.shape)}.")
    raise RuntimeError(
        f"weight tensor should be defined either for all {n_classes} classes or no classes "
        f"but got weight tensor of shape: {list(weight.shape)}")


def _check_bounds(t, ignore_index: int, n_classes: int) -> None:
    if not t.size or (t.min() >= 0 and t.max() < n_classes):
        return
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if bad.any():
        v = int(t[bad].flat[0])
        raise IndexError(
            f"Target {v} is out of bounds.\nWhy: there are {n_classes} classes, so class "
            f"indices run from 0 to {n_classes - 1} (ignore_index={ignore_index} is skipped).")


def _check_nll_shapes(x, t) -> None:
    """ATen's nll_loss_nd checks, then nll_loss's (1-d, 2-d) or nll_loss2d's (4-d)."""
    if x.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x.ndim})")
    if x.ndim != 1:
        if t.ndim == 0:
            if x.shape[0] == 0:
                raise IndexError("Dimension specified as 0 but tensor has no dimensions\nWhy: "
                                 "the target is 0-d; with a batch dim it needs one entry per "
                                 "sample.")
            raise ValueError(
                f"Expected input batch_size ({x.shape[0]}) to match target batch_size (0).")
        if x.shape[0] != t.shape[0]:
            raise ValueError(
                f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
                f"({t.shape[0]}).")
    if x.ndim <= 2:
        if t.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        _check_target_dtype(t)
        if x.ndim == 1 and t.ndim == 1 and t.shape[0] != 1:
            raise ValueError(
                f"For 1D input, 1D target must have size 1, but got target size: {t.shape[0]}")
    elif x.ndim == 4:
        if t.ndim != 3:
            raise RuntimeError(
                "only batches of spatial targets supported (3D tensors) but got targets of "
                f"dimension: {t.ndim}")
        _check_target_dtype(t)
        if t.shape != (x.shape[0],) + x.shape[2:]:
            raise RuntimeError(
                f"size mismatch (got input: {list(x.shape)} , target: {list(t.shape)}\nWhy: "
                "with spatial dims the target has the input's shape without the class dim "
                "(dim 1).")
    else:
        if t.shape[1:] != x.shape[2:]:
            raise RuntimeError(
                f"Expected target size {[x.shape[0], *x.shape[2:]]}, got {list(t.shape)}\n"
                "Why: with spatial dims the target has the input's shape without the class "
                "dim (dim 1).")
        _check_target_dtype(t)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean") -> Tensor:
    """Negative log likelihood of class-index targets given log-probabilities (class dim 1).

    The graph is ATen's nll_loss_nd: NllLossBackward0 on a 1-d or 2-d input,
    NllLoss2DBackward0 on a 4-d one; any other input is made contiguous and viewed as
    (N, C, 1, -1) for nll_loss2d, and with ``reduction='none'`` the result is a view of its
    output (so an in-place op on it goes through CopySlices, as in PyTorch).

    >>> import leafgrad
    >>> lp = leafgrad.tensor([[-0.5, -1.0], [-2.0, -0.1]])
    >>> nll_loss(lp, leafgrad.tensor([0, 1]))
    tensor(0.3000)
    """
    reduction = _reduction_arg(size_average, reduce, reduction)
    x, t = input._data, target._data
    _check_nll_shapes(x, t)
    if x.ndim in (1, 2, 4):
        refuse = None
        if x.ndim == 1 and t.ndim == 1 and x.shape[0] != 1:
            # NOTE: PyTorch's forward reads a 1-d input with a (1,) target as one sample; its
            # backward checks the sizes and refuses
            refuse = (f"size mismatch (got input: {list(x.shape)}, target: {list(t.shape)})\n"
                      "Why: a 1-d input is one sample, so its target is 0-d (a class index); "
                      "pass target[0] or input.unsqueeze(0).")
        # (a 1-d input's target is 0-d or (1,): the loss is 0-d)
        return _nll(input, t.reshape(()) if x.ndim == 1 else t, weight, ignore_index,
                    reduction, refuse)
    n, c = x.shape[:2]
    out_size = (n,) + x.shape[2:]
    flat = input.contiguous()
    flat = flat.view(n, c, 1, -1) if x.size else flat.view(n, c, 0, 0)
    t = t.reshape(n, 1, -1) if t.size else t.reshape(n, 0, 0)
    out = _nll(flat, t, weight, ignore_index, reduction)
    return out.view(out_size) if reduction == "none" else out


def _nll(input: Tensor, t, weight: Tensor | None, ignore_index: int,
         reduction: str, refuse: str | None = None) -> Tensor:
    """One NllLossBackward0 (input (C,) or (N, C)) or NllLoss2DBackward0 (input (N, C, H, W))."""
    x = input._data
    n_classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    w = weight._data if weight is not None else None
    _check_weight(w, n_classes, x.ndim == 4)
    _check_bounds(t, ignore_index, n_classes)
    if w is not None and w.dtype != x.dtype:
        w = w.astype(x.dtype)
    if x.ndim == 4:
        fn = _new(NllLoss2d)
        fn._strided = not x.flags.c_contiguous and _dense(x)
    else:
        fn = _new(NllLoss)
    fn.target, fn.weight, fn.ignore_index, fn.reduction = t, w, ignore_index, reduction
    fn.in_shape, fn._refuse = x.shape, refuse
    out = fn.forward(x)
    return record_unary(fn, input, out) if state.enabled else _wrap(out)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over dim 1 then nll_loss; or, when ``target`` has the input's shape, the
    cross entropy with class probabilities. Logits of any size are safe (no overflow).

    >>> import leafgrad
    >>> cross_entropy(leafgrad.tensor([[1e4, 0.0]]), leafgrad.tensor([1]))
    tensor(10000.)
    """
    reduction = _reduction_arg(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    x, t = input._data, target._data
    class_dim = 0 if x.ndim == 1 else 1
    if x.ndim == 0:
        raise RuntimeError(
            "cross_entropy(): expected an input of at least 1 dimension (the classes), got a "
            "0-d tensor\nWhy: the input holds one score per class.")
    if tuple(x.shape) == tuple(t.shape):
        if t.dtype.kind != "f":
            raise RuntimeError(
                f"Expected floating point type for target with class probabilities, got "
                f"{_c10(t.dtype)}\nWhy: a target of the input's shape is read as class "
                "probabilities; pass class indices of shape (N,) for hard labels.")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_prob(input, target, weight, reduction, label_smoothing,
                                   class_dim)
    lsm = log_softmax(input, class_dim)
    if label_smoothing > 0:
        return _cross_entropy_smoothed(lsm, target, weight, reduction, ignore_index,
                                       label_smoothing, class_dim)
    return nll_loss(lsm, target, weight, None, ignore_index, None, reduction)


def _class_view(weight: Tensor, ndim: int, class_dim: int) -> Tensor:
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.view(shape)


def _cross_entropy_prob(input, target, weight, reduction, label_smoothing, class_dim):
    n_classes = input.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.shape[0] != n_classes):
        raise RuntimeError(
            f"weight tensor should be defined either for all {n_classes} classes or no classes "
            f"but got weight tensor of shape: {list(weight.shape)}")
    lsm = log_softmax(input, class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    prod = lsm * target
    if weight is not None:
        prod = prod * _class_view(weight, input.dim(), class_dim)
    if reduction == "mean":
        n = input.numel() // n_classes if input.numel() else 0
        return -prod.sum() / n
    if reduction == "sum":
        return -prod.sum()
    return -prod.sum(class_dim)


def _cross_entropy_smoothed(lsm, target, weight, reduction, ignore_index, label_smoothing,
                            class_dim):
    n_classes = lsm.shape[class_dim]
    nll = nll_loss(lsm, target, weight, None, ignore_index, None, reduction)
    ignore_mask = target == ignore_index
    if weight is not None:
        smooth = -(lsm * _class_view(weight, lsm.dim(), class_dim)).sum(class_dim)
    else:
        smooth = -lsm.sum(class_dim)
    smooth = smooth.masked_fill(ignore_mask, 0.0)
    if reduction == "mean":
        if weight is not None:
            keep = target.masked_select(~ignore_mask).flatten()
            ret = smooth.sum() / weight.gather(0, keep).sum()
        else:
            ret = smooth.sum() / (~ignore_mask).sum()
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return nll * (1 - label_smoothing) + ret * (label_smoothing / n_classes)


# -- regression losses ----------------------------------------------------------------------------
class _PairLoss(Op):
    """An elementwise loss of (input, target), reduced; both inputs may require grad.

    NOTE: as PyTorch, each input's gradient is the loss's backward kernel on (grad, that
    input, the other one): the target's is ``*_loss_backward(grad, target, input)``, not the
    input's negated. With create_graph each is one node (``HuberLossBackwardBackward0``...)
    differentiated with derivatives.yaml's formulas (``_PairLossBackward``).
    """

    __slots__ = ("reduction",)
    backward_op: type  # its backward kernel as an op (set below each pair)

    def forward(self, x, t):
        return _reduce_raw(self._elementwise(x, t), self.reduction)

    def _param(self):
        return None

    def backward(self, grad):
        x, t = self.saved(grad)
        need = self.needs_input_grad
        op, p = self.backward_op, self._param()
        return (_loss_backward(op, grad, x, t, self.reduction, p) if need[0] else None,
                _loss_backward(op, grad, t, x, self.reduction, p) if need[1] else None)


class _PairLossBackward(Op):
    """``grad_output`` times the loss's slope at (a, b), scaled by the reduction: PyTorch's
    ``*_loss_backward(grad_output, a, b)`` kernel, ``a`` the input whose gradient this is and
    ``b`` the other one. Its own backward is derivatives.yaml's: the second derivative is a
    constant times ``grad * grad_output`` (times a 0/1 mask for the piecewise losses; the mask
    is multiplied, as PyTorch does, so an infinite ``grad_output`` gives NaN in the flat parts)."""

    __slots__ = ("reduction", "param")

    @staticmethod
    def slope(a, b, p):
        raise NotImplementedError

    def forward(self, g, a, b):
        scaled = _grad_scale(g, self.reduction, a.size, a.shape)
        with np.errstate(invalid="ignore", over="ignore"):
            return self.slope(a, b, self.param) * scaled

    def backward(self, grad):
        g, a, b = self.saved(grad)
        need = self.needs_input_grad
        gg = gab = None
        if need[0]:
            gg = self._grad_output_grad(grad, g, a, b)
        if need[1] or need[2]:
            gab = self._second(grad * g, a, b)
            if self.reduction == "mean":
                gab = gab / _raw(a).size
        return gg, gab if need[1] else None, -gab if need[2] else None

    def _grad_output_grad(self, grad, g, a, b):
        # (full-shaped: summed to grad_output's shape by the engine, as PyTorch's
        # validate_outputs does)
        return _loss_backward(type(self), grad, a, b, self.reduction, self.param)

    def _second(self, v, a, b):
        raise NotImplementedError


def _loss_backward(op: type, g, a, b, reduction: str, param):
    """``op``'s kernel on (g, a, b): arrays in, an array out; with a Tensor among them, one
    recorded node (a backward run with create_graph)."""
    fn = _new(op)
    fn.reduction, fn.param = reduction, param
    return record_kernel(fn, (g, a, b))


def _mask(v, a, b, bound: float):
    """``v * (|a - b| < bound)``: the quadratic zone's 0/1 mask, multiplied (PyTorch)."""
    ra = _raw(a)
    m = (array_module(ra).abs(ra - _raw(b)) < bound).astype(_raw(v).dtype)
    return v * (_wrap(m) if isinstance(v, Tensor) else m)


class MseLoss(_PairLoss):
    name_ = "MseLossBackward0"
    formula = {"x": "2 * (x - t) * scale(grad, reduction, x)",
               "t": "2 * (t - x) * scale(grad, reduction, x)"}
    __slots__ = ()

    def _elementwise(self, x, t):
        d = x - t
        return d * d


class MseLossBackward(_PairLossBackward):
    """mse_loss_backward: ``2 (a - b) · grad_output`` (/ numel for 'mean')."""

    name_ = "MseLossBackwardBackward0"
    formula = {"g": "2 * (a - b) * scale(grad, reduction, a)",
               "a": "2 * scale(grad * g, reduction, a)",
               "b": "-2 * scale(grad * g, reduction, a)"}
    __slots__ = ()

    @staticmethod
    def slope(a, b, p):
        return (a - b) * 2

    def _second(self, v, a, b):
        return 2 * v  # mse_loss_double_backward


class SmoothL1Loss(_PairLoss):
    name_ = "SmoothL1LossBackward0"
    formula = {"x": "((x - t) / beta).clamp(-1, 1) * scale(grad, reduction, x)",
               "t": "((t - x) / beta).clamp(-1, 1) * scale(grad, reduction, x)"}
    __slots__ = ("beta",)

    def _elementwise(self, x, t):
        xp = array_module(x)
        z = xp.abs(x - t)
        return xp.where(z < self.beta, 0.5 * z * z / self.beta, z - 0.5 * self.beta).astype(
            x.dtype, copy=False)

    def _param(self):
        return self.beta


class SmoothL1LossBackward(_PairLossBackward):
    """smooth_l1_loss_backward: ``clamp((a - b) / beta, -1, 1) · grad_output``."""

    name_ = "SmoothL1LossBackwardBackward0"
    formula = {"g": "((a - b) / param).clamp(-1, 1) * scale(grad, reduction, a)",
               "a": "scale(grad * g, reduction, a) * ((a - b).abs() < param) / param",
               "b": "-scale(grad * g, reduction, a) * ((a - b).abs() < param) / param"}
    __slots__ = ()

    @staticmethod
    def slope(a, b, beta):
        d = a - b
        # NOTE: constants in the flat parts, not d * 0 ± 1: an infinite difference there has
        # slope ±1 (inf * 0 would make it NaN)
        return dual.where(d <= -beta, -1.0, dual.where(d >= beta, 1.0, d / beta))

    def _second(self, v, a, b):
        return _mask(v, a, b, self.param) / self.param  # smooth_l1_loss_double_backward


class HuberLoss(_PairLoss):
    name_ = "HuberLossBackward0"
    formula = {"x": "(x - t).clamp(-delta, delta) * scale(grad, reduction, x)",
               "t": "(t - x).clamp(-delta, delta) * scale(grad, reduction, x)"}
    __slots__ = ("delta",)

    def _elementwise(self, x, t):
        xp = array_module(x)
        z = xp.abs(x - t)
        return xp.where(z < self.delta, 0.5 * z * z, self.delta * (z - 0.5 * self.delta)).astype(
            x.dtype, copy=False)

    def _param(self):
        return self.delta


class HuberLossBackward(_PairLossBackward):
    """huber_loss_backward: ``clamp(a - b, -delta, delta) · grad_output``."""

    name_ = "HuberLossBackwardBackward0"
    formula = {"g": "(a - b).clamp(-param, param) * scale(grad, reduction, a)",
               "a": "scale(grad * g, reduction, a) * ((a - b).abs() < param)",
               "b": "-scale(grad * g, reduction, a) * ((a - b).abs() < param)"}
    __slots__ = ()

    @staticmethod
    def slope(a, b, delta):
        d = a - b
        return dual.where(d <= -delta, -float(delta), dual.where(d >= delta, float(delta), d))

    def _grad_output_grad(self, grad, g, a, b):
        if self.reduction == "none":
            return super()._grad_output_grad(grad, g, a, b)
        # huber_loss_double_backward_grad_output: the slope at grad_output = 1, times grad,
        # summed to grad_output's 0-d shape
        r = _raw(g)
        ones = array_module(r).ones(r.shape, dtype=r.dtype)
        return (_loss_backward(HuberLossBackward, ones, a, b, self.reduction, self.param)
                * grad).sum()

    def _second(self, v, a, b):
        return _mask(v, a, b, self.param)  # huber_loss_double_backward


MseLoss.backward_op = MseLossBackward
SmoothL1Loss.backward_op = SmoothL1LossBackward
HuberLoss.backward_op = HuberLossBackward


def _pair_loss(cls, input: Tensor, target: Tensor, reduction: str, **params) -> Tensor:
    from ..methods.shape import broadcast_tensors

    x, t = broadcast_tensors(input, target) if tuple(input.shape) != tuple(target.shape) \
        else (input, target)
    xd, td = x._data, t._data
    if xd.dtype != td.dtype:
        # NOTE: as PyTorch: mse/smooth_l1 compute in the promoted dtype, soft_margin in the
        # input's; huber computes in the input's and refuses in backward (its kernel's check)
        if cls in (MseLoss, SmoothL1Loss):
            from ..dtypes import _result_type

            dt = _result_type(x, t)
            x, t = (v if v.dtype == dt else v.to(dt) for v in (x, t))
        elif cls is SoftMarginLoss or cls is HuberLoss and not (state.enabled and (
                x.requires_grad or t.requires_grad)):
            t = t.to(x.dtype)
        elif cls is HuberLoss:
            return _huber_mixed().apply(x, t, reduction, params["delta"])
        else:
            raise RuntimeError(
                f"Found dtype {_c10(td.dtype)} but expected {_c10(xd.dtype)}\nWhy: the loss's "
                "input and target must share a dtype; convert the target "
                "(target.to(input.dtype)).")
        xd, td = x._data, t._data
    fn = _new(cls)
    fn.reduction = reduction
    for k, v in params.items():
        setattr(fn, k, v)
    with np.errstate(invalid="ignore"):
        out = fn.forward(xd, td)
    return record(fn, (x, t), out) if state.enabled else _wrap(out)


@functools.cache
def _huber_mixed():
    """huber_loss with a target of another dtype: PyTorch's forward runs (in the input's
    dtype), its backward refuses the mix (built on first use: autograd.function loads late)."""
    from ..autograd.function import Function
    from ..autograd.grad_mode import no_grad

    class HuberLossBackward0(Function):
        @staticmethod
        def forward(ctx, x, t, reduction, delta):
            ctx.dtypes = (t.dtype, x.dtype)
            with no_grad():
                return huber_loss(x, t.to(x.dtype), reduction=reduction, delta=delta)

        @staticmethod
        def backward(ctx, grad):
            found, want = ctx.dtypes
            raise RuntimeError(
                f"Found dtype {_c10(found.np)} but expected {_c10(want.np)}\nWhy: huber_loss's "
                "backward needs the target in the input's dtype; convert it "
                "(target.to(input.dtype)).")

    return HuberLossBackward0


def _weighted(loss: Tensor, weight: Tensor, input: Tensor, reduction: str,
              normalise: bool) -> Tensor:
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / weight.sum() if normalise else loss.mean()


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error.

    >>> import leafgrad
    >>> mse_loss(leafgrad.tensor([1.0, 2.0]), leafgrad.tensor([0.0, 0.0]))
    tensor(2.5000)
    """
    _size_warning(input, target)
    reduction = _reduction_arg(size_average, reduce, reduction)
    if weight is not None:
        from ..methods.shape import broadcast_tensors

        x, t = broadcast_tensors(input, target)
        return _weighted((x - t) ** 2, weight, input, reduction, normalise=True)
    return _pair_loss(MseLoss, input, target, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error.

    >>> import leafgrad
    >>> l1_loss(leafgrad.tensor([1.0, -2.0]), leafgrad.tensor([0.0, 0.0]))
    tensor(1.5000)
    """
    from ..methods.shape import broadcast_tensors

    _size_warning(input, target)
    reduction = _reduction_arg(size_average, reduce, reduction)
    x, t = broadcast_tensors(input, target)
    if weight is not None:
        return _weighted((x - t).abs(), weight, input, reduction, normalise=True)
    return reduce_loss((x - t).abs(), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5·d²/β where |d| < β, else |d| − β/2 (d = input − target).

    >>> import leafgrad
    >>> smooth_l1_loss(leafgrad.tensor([0.5, 3.0]), leafgrad.tensor([0.0, 0.0]))
    tensor(1.3125)
    """
    _size_warning(input, target)
    reduction = _reduction_arg(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)
    return _pair_loss(SmoothL1Loss, input, target, reduction, beta=beta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5·d² where |d| < δ, else δ·(|d| − δ/2).

    >>> import leafgrad
    >>> huber_loss(leafgrad.tensor([0.5, 3.0]), leafgrad.tensor([0.0, 0.0]))
    tensor(1.3125)
    """
    _size_warning(input, target)
    check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta. Got "
                           f"{delta}")
    if weight is not None:
        loss = _pair_loss(HuberLoss, input, target, "none", delta=delta)
        return _weighted(loss, weight, input, reduction, normalise=False)
    return _pair_loss(HuberLoss, input, target, reduction, delta=delta)


# -- binary classification ------------------------------------------------------------------------
class BinaryCrossEntropy(Op):
    name_ = "BinaryCrossEntropyBackward0"
    formula = {"x": "scale(grad, reduction, x) * wt(weight) * (x - t) / ((1 - x) * x)"
                    ".clamp_min(1e-12)",
               "t": "scale(grad, reduction, x) * wt(weight) * ((1 - x).log() - x.log())"}
    __slots__ = ("reduction", "weight")

    def forward(self, x, t):
        xp = array_module(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            # NOTE: PyTorch clamps each log at -100, so x = 0 or 1 gives a finite loss
            lx = xp.maximum(xp.log(x), -100)
            l1x = xp.maximum(xp.log1p(-x), -100)
        loss = -((t * (lx - l1x)) + l1x)
        if self.weight is not None:
            loss = loss * self.weight
        return _reduce_raw(loss.astype(x.dtype, copy=False), self.reduction)

    def backward(self, grad):
        x, t = self.saved(grad)
        rx = _raw(x)
        g = _grad_scale(grad, self.reduction, rx.size, rx.shape)
        w = self.weight
        if w is not None and isinstance(grad, Tensor):
            w = _wrap(w)
        need = self.needs_input_grad
        gx = gt = None
        if need[0]:
            denom = (1 - x) * x
            denom = denom.clamp_min(1e-12) if isinstance(denom, Tensor) else \
                array_module(denom).maximum(denom, 1e-12)
            gx = g * (x - t) / denom
            if w is not None:
                gx = gx * w
        if need[1]:
            if isinstance(x, Tensor):
                lx = x.log().clamp_min(-100)
                l1x = (1 - x).log().clamp_min(-100)
            else:
                with np.errstate(divide="ignore"):
                    lx = np.maximum(np.log(x), -100)
                    l1x = np.maximum(np.log1p(-x), -100)
            gt = g * (l1x - lx)
            if w is not None:
                gt = gt * w
        return gx, gt


class BinaryCrossEntropyWithLogits(Op):
    name_ = "BinaryCrossEntropyWithLogitsBackward0"
    formula = {"x": "scale(grad, reduction, x) * wt(weight) * (((wt(pos_weight) - 1) * t + 1) "
                    "* x.sigmoid() - wt(pos_weight) * t)",
               "t": "scale(grad, reduction, x) * wt(weight) * (-x - (wt(pos_weight) - 1) * "
                    "logsigmoid(x))"}
    __slots__ = ("reduction", "weight", "pos_weight")

    def forward(self, x, t):
        # NOTE: log σ(x) = min(x, 0) − log1p(exp(−|x|)): finite for any logit (PyTorch's kernel)
        logsig = _logsigmoid_raw(x)
        if self.pos_weight is not None:
            lw = (self.pos_weight - 1) * t + 1
            loss = (1 - t) * x - lw * logsig
        else:
            loss = (1 - t) * x - logsig
        if self.weight is not None:
            loss = loss * self.weight
        return _reduce_raw(loss.astype(x.dtype, copy=False), self.reduction)

    def backward(self, grad):
        x, t = self.saved(grad)
        rx = _raw(x)
        if not isinstance(grad, Tensor):
            return self._backward_raw(grad, x, t)
        g = _grad_scale(grad, self.reduction, rx.size, rx.shape)  # a graph of the backward
        pw = _wrap(self.pos_weight) if self.pos_weight is not None else None
        w = _wrap(self.weight) if self.weight is not None else None
        need = self.needs_input_grad
        gx = gt = None
        if need[0]:
            s = _sigmoid(x)
            gx = (((pw - 1) * t + 1) * s - pw * t) if pw is not None else s - t
            gx = gx * g
            if w is not None:
                gx = gx * w
        if need[1]:
            from .activation import logsigmoid

            gt = -x - (pw - 1) * logsigmoid(x) if pw is not None else -x
            gt = gt * g
            if w is not None:
                gt = gt * w
        return gx, gt

    def _backward_raw(self, grad, x, t):
        """PyTorch's order: the elementwise derivative times grad, times weight, then / n."""
        xp = array_module(x)
        g = grad if self.reduction == "none" else xp.broadcast_to(grad, x.shape)
        pw, w = self.pos_weight, self.weight
        need = self.needs_input_grad

        def finish(d):
            d = d * g
            if w is not None:
                d = d * w
            return lastbits.divide(d, x.size) if self.reduction == "mean" else d

        gx = gt = None
        if need[0]:
            if pw is None:
                gx = finish(_sigmoid(x) - t)
            else:
                pt = pw * t
                gx = finish((pt + 1 - t) * _sigmoid(x) - pt)
        if need[1]:
            gt = finish(-x if pw is None else _logsigmoid_raw(-x) - _logsigmoid_raw(x) * pw)
        return gx, gt


def _expand_weight(weight: Tensor | None, shape: tuple, dtype):
    if weight is None:
        return None
    w = weight._data
    if w.dtype != dtype:
        w = w.astype(dtype)
    return np.broadcast_to(w, np.broadcast_shapes(w.shape, shape))


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """−w·(t·log x + (1 − t)·log(1 − x)), logs clamped at −100 as in PyTorch.

    >>> import leafgrad
    >>> binary_cross_entropy(leafgrad.tensor([0.5, 1.0]), leafgrad.tensor([1.0, 1.0]))
    tensor(0.3466)
    """
    reduction = _reduction_arg(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}) is deprecated. Please ensure they have the same size.")
    x, t = input._data, target._data
    if x.size and ((x < 0) | (x > 1) | np.isnan(x)).any():
        raise RuntimeError(
            "all elements of input should be between 0 and 1\nWhy: binary_cross_entropy takes "
            "probabilities; for raw scores (logits) use binary_cross_entropy_with_logits, which "
            "is also numerically safer.")
    fn = _new(BinaryCrossEntropy)
    fn.reduction = reduction
    fn.weight = _expand_weight(weight, x.shape, x.dtype)
    out = fn.forward(x, t.astype(x.dtype, copy=False))
    return record(fn, (input, target), out) if state.enabled else _wrap(out)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross entropy in one stable step; ``pos_weight`` weighs positives.

    >>> import leafgrad
    >>> binary_cross_entropy_with_logits(leafgrad.tensor([1e4, -1e4]), leafgrad.tensor([1.0, 0.0]))
    tensor(0.)
    """
    reduction = _reduction_arg(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    x, t = input._data, target._data
    fn = _new(BinaryCrossEntropyWithLogits)
    fn.reduction = reduction
    fn.weight = _expand_weight(weight, x.shape, x.dtype)
    fn.pos_weight = None
    if pos_weight is not None:
        pw = pos_weight._data.astype(x.dtype, copy=False)
        try:
            np.broadcast_shapes(pw.shape, x.shape)
        except ValueError:
            raise RuntimeError(
                f"The size of tensor a ({pw.shape[-1]}) must match the size of tensor b "
                f"({x.shape[-1]}) at non-singleton dimension {x.ndim - 1}\nWhy: pos_weight "
                "has one weight per class (the last dim of the input).") from None
        fn.pos_weight = pw
    with np.errstate(over="ignore"):
        out = fn.forward(x, t.astype(x.dtype, copy=False))
    return record(fn, (input, target), out) if state.enabled else _wrap(out)


class SoftMarginLoss(Op):
    name_ = "SoftMarginLossBackward0"
    formula = {"x": "-t * (-(x * t)).sigmoid() * scale(grad, reduction, x)",
               "t": "-x * (-(x * t)).sigmoid() * scale(grad, reduction, x)"}
    __slots__ = ("reduction",)

    def forward(self, x, t):
        xp = array_module(x)
        z = -x * t
        # NOTE: log(1 + exp(z)) without overflow (PyTorch's log1p(exp(z)) gives inf past ~88)
        loss = xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))
        return _reduce_raw(loss.astype(x.dtype, copy=False), self.reduction)

    def backward(self, grad):
        x, t = self.saved(grad)
        rx = _raw(x)
        g = _grad_scale(grad, self.reduction, rx.size, rx.shape)
        s = _sigmoid(-(x * t)) * g
        need = self.needs_input_grad
        return (-t * s if need[0] else None,
                -x * s if need[1] else None)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(−y·x)) for targets y in {−1, 1}.

    >>> import leafgrad
    >>> soft_margin_loss(leafgrad.tensor([0.0]), leafgrad.tensor([1.0]))
    tensor(0.6931)
    """
    reduction = _reduction_arg(size_average, reduce, reduction)
    if state.enabled and isinstance(target, Tensor) and target.requires_grad:
        # NOTE: PyTorch has no derivative for the target here and refuses at the call
        raise RuntimeError(
            "The function 'soft_margin_loss' is not differentiable with respect to argument "
            "'target'. This input cannot have requires_grad True.\nWhy: PyTorch defines no "
            "gradient for soft_margin_loss's target; pass target.detach().")
    return _pair_loss(SoftMarginLoss, input, target, reduction)
