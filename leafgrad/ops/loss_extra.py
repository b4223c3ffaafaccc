"""More losses: divergence and likelihood losses, margin/ranking/embedding losses (composed as
PyTorch composes them), multi-class margin losses and CTC (their own nodes)."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import no_grad, state
from ..autograd.node import Op
from ..backend import array_module, as_array, like, to_numpy, ufunc_at
from ..backend import mean as _mean
from ..tensor import Tensor, _wrap
from ._apply import record_unary
from .distance import _not_implemented, pairwise_distance
from .loss import _c10, _reduction_arg, check_reduction, reduce_loss

__all__ = [
    "kl_div", "poisson_nll_loss", "gaussian_nll_loss", "margin_ranking_loss",
    "hinge_embedding_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
    "multilabel_margin_loss", "cosine_embedding_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "ctc_loss",
]

_new = object.__new__


# -- divergence / likelihood ----------------------------------------------------------------------
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target ‖ exp(input)) pointwise: target·(log target − input); ``batchmean`` divides
    the sum by the batch size (the mathematical KL divergence).

    >>> import leafgrad
    >>> kl_div(leafgrad.tensor([[0.5, 0.5]]).log(), leafgrad.tensor([[0.5, 0.5]]),
    ...        reduction="batchmean")
    tensor(0.)
    """
    import warnings

    from ..methods.elementwise import xlogy

    if size_average is not None or reduce is not None:
        red = _reduction_arg(size_average, reduce, "mean")
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support "
                "size.'batchmean' divides only by the batch size, and aligns with the KL div "
                "math definition.'mean' will be changed to behave the same as 'batchmean' in the "
                "next major release.", stacklevel=2)
        red = "sum" if reduction == "batchmean" else check_reduction(reduction)
    if log_target:
        out = target.exp() * (target - input)
    else:
        out = xlogy(target, target) - target * input
    out = reduce_loss(out, red)
    if reduction == "batchmean" and input.dim() != 0:
        out = out / input.size()[0]
    return out


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log likelihood: exp(input) − target·input (``log_input``), else
    input − target·log(input + eps); ``full`` adds Stirling's term for targets > 1.

    >>> import leafgrad
    >>> poisson_nll_loss(leafgrad.tensor([0.0]), leafgrad.tensor([1.0]))
    tensor(1.)
    """
    reduction = _reduction_arg(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return reduce_loss(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Gaussian negative log likelihood ½(log var + (input − target)²/var), var clamped at eps
    (the clamp does not stop the gradient, as in PyTorch).

    >>> import leafgrad
    >>> gaussian_nll_loss(leafgrad.tensor([1.0]), leafgrad.tensor([1.0]), leafgrad.tensor([1.0]))
    tensor(0.)
    """
    from ..creation import ones_like

    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.size()) != tuple(input.size()):
        if tuple(input.size()[:-1]) == tuple(var.size()):
            var = var.unsqueeze(-1)
        elif input.ndim == var.ndim and sum(
                y for x, y in zip(input.size(), var.size()) if x != y) == 1:
            pass  # heteroscedastic: one variance shared along a dim
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)


# -- margin and embedding losses ------------------------------------------------------------------
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, −y·(x1 − x2) + margin).

    >>> import leafgrad
    >>> margin_ranking_loss(leafgrad.tensor([1.0]), leafgrad.tensor([2.0]), leafgrad.tensor([1.0]))
    tensor(1.)
    """
    reduction = _reduction_arg(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    return reduce_loss((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin − x) where y = −1.

    >>> import leafgrad
    >>> hinge_embedding_loss(leafgrad.tensor([0.3, 0.3]), leafgrad.tensor([1.0, -1.0]))
    tensor(0.5000)
    """
    from ..creation import zeros_like
    from .elementwise import where

    reduction = _reduction_arg(size_average, reduce, reduction)
    zeros = zeros_like(input)
    margin_clamp = (margin - input).clamp_min(0)
    out = where(target != 1, margin_clamp, zeros) + where(target != -1, input, zeros)
    return reduce_loss(out, reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Per-class logistic loss averaged over classes.

    >>> import leafgrad
    >>> multilabel_soft_margin_loss(leafgrad.zeros(1, 2), leafgrad.tensor([[1.0, 0.0]]))
    tensor(0.6931)
    """
    from .activation import logsigmoid

    if size_average is not None or reduce is not None:
        reduction = _reduction_arg(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return reduce_loss(loss, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """1 − cos(x1, x2) where y = 1, max(0, cos − margin) where y = −1.

    >>> import leafgrad
    >>> cosine_embedding_loss(leafgrad.tensor([[1.0, 0.0]]), leafgrad.tensor([[0.0, 1.0]]),
    ...                       leafgrad.tensor([1.0]))
    tensor(1.)
    """
    from ..creation import zeros_like
    from .elementwise import where

    reduction = _reduction_arg(size_average, reduce, reduction)
    if input1.dim() != input2.dim():
        raise RuntimeError(
            f"cosine_embedding_loss : All input tensors should have same dimension but got "
            f"sizes: input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    targ_dim = target.dim()
    if targ_dim not in (0, 1) or input1.dim() != targ_dim + 1:
        raise RuntimeError(
            f"{input1.dim()}D target tensor expects {targ_dim + 1}D input tensors, but found "
            f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}."
            if targ_dim in (0, 1) else
            f"{targ_dim}D target tensor expected, multi-target not supported")
    d = targ_dim  # the feature dim: 1 for batches, 0 for single vectors
    eps = 1e-12
    prod_sum = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + eps
    mag2 = (input2 * input2).sum(d) + eps
    cos = prod_sum / (mag1 * mag2).sqrt()
    zeros = zeros_like(cos)
    out = where(target == 1, 1 - cos, zeros) + where(target == -1, (cos - margin).clamp_min(0),
                                                     zeros)
    return reduce_loss(out, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) − d(a, n) + margin) with the pairwise p-norm distance.

    >>> import leafgrad
    >>> triplet_margin_loss(leafgrad.zeros(1, 2), leafgrad.zeros(1, 2), leafgrad.ones(1, 2))
    tensor(0.)
    """
    reduction = _reduction_arg(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) != 1:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative "
            f"{dims[2]}D inputs")
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        from ..methods.elementwise import minimum

        dist_neg = minimum(dist_neg, pairwise_distance(positive, negative, p, eps))
    return reduce_loss((margin + dist_pos - dist_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """Triplet margin loss with any distance function (default: pairwise_distance).

    >>> import leafgrad
    >>> triplet_margin_with_distance_loss(leafgrad.zeros(1, 2), leafgrad.zeros(1, 2),
    ...                                   leafgrad.ones(1, 2))
    tensor(0.)
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative "
            f"{dims[2]}D inputs")
    dist = distance_function if distance_function is not None else pairwise_distance
    dist_pos = dist(anchor, positive)
    dist_neg = dist(anchor, negative)
    if swap:
        from ..methods.elementwise import minimum

        dist_neg = minimum(dist_neg, dist(positive, negative))
    return reduce_loss((margin + dist_pos - dist_neg).clamp_min(0), reduction)


# -- multi-class margin losses --------------------------------------------------------------------
class MultiMarginLoss(Op):
    """Σ_{j≠y} max(0, w_y·(margin − x_y + x_j))^p / C per sample."""

    name_ = "MultiMarginLossBackward0"
    formula = {"x": "multi_margin_grad(grad, x, target, p, margin, weight, reduction)"}
    save_inputs = True
    __slots__ = ("target", "p", "margin", "weight", "reduction")

    def _parts(self, x):
        rows = array_module(x).arange(x.shape[0])
        z = self.margin - x[rows, self.target][:, None] + x
        mask = z > 0
        mask[rows, self.target] = False
        w = self.weight[self.target][:, None] if self.weight is not None else None
        return rows, z, mask, w

    def forward(self, x):
        _, z, mask, w = self._parts(x)
        h = np.where(mask, z if self.p == 1 else z * z, 0)
        if w is not None:
            h = h * w
        per = h.sum(1) / x.shape[1]
        return _reduce(per.astype(x.dtype, copy=False), self.reduction)

    def backward(self, grad):
        if isinstance(grad, Tensor):
            return _not_implemented("multi_margin_loss_backward", self, grad)
        (x,) = self.saved(grad)
        rows, z, mask, w = self._parts(x)
        n, c = x.shape
        g = _per_sample(grad, self.reduction, n) / c
        h = np.where(mask, 1 if self.p == 1 else 2 * z, 0) * g[:, None]
        if w is not None:
            h = h * w
        h[rows, self.target] = -h.sum(1)
        return h.astype(x.dtype, copy=False)


class MultilabelMarginLoss(Op):
    """Σ_{j ∈ targets} Σ_{k ∉ targets} max(0, 1 − (x_j − x_k)) / C per sample."""

    name_ = "MultilabelMarginLossBackward0"
    formula = {"x": "multilabel_margin_grad(grad, x, target, reduction)"}
    __slots__ = ("target", "reduction", "_is_target")

    def _pairs(self, x):
        n, c = x.shape
        t = self.target
        xp = array_module(x)
        valid = np.cumprod(t >= 0, axis=1).astype(bool)  # targets up to the first -1
        is_target = xp.zeros((n, c), bool)
        r, k = np.nonzero(valid)
        is_target[r, t[r, k]] = True
        self._is_target = is_target
        # z[i, j, d] = 1 - x[i, t_ij] + x[i, d] for valid targets j and non-target classes d
        xt = np.where(valid, x[xp.arange(n)[:, None], np.where(valid, t, 0)], 0)
        z = 1 - xt[:, :, None] + x[:, None, :]
        active = valid[:, :, None] & ~is_target[:, None, :] & (z > 0)
        return z, active, valid

    def forward(self, x):
        z, active, _ = self._pairs(x)
        per = np.where(active, z, 0).sum((1, 2)) / x.shape[1]
        return _reduce(per.astype(x.dtype, copy=False), self.reduction)

    def backward(self, grad):
        if isinstance(grad, Tensor):
            return _not_implemented("multilabel_margin_loss_backward", self, grad)
        (x,) = self.saved(grad)
        n, c = x.shape
        _, active, valid = self._pairs(x)
        g = _per_sample(grad, self.reduction, n) / c
        a = active.astype(x.dtype)
        out = a.sum(1) * g[:, None]  # +g for each active (target, d) at d
        minus = a.sum(2) * g[:, None]  # −g at each target position
        t = np.where(valid, self.target, 0)
        ufunc_at("subtract", out, (np.repeat(array_module(x).arange(n), t.shape[1]),
                                   t.reshape(-1)), (minus * valid).reshape(-1))
        return out.astype(x.dtype, copy=False)


def _reduce(per, reduction: str):
    if reduction == "mean":
        return as_array(_mean(per, dtype=per.dtype))
    if reduction == "sum":
        return as_array(per.sum(dtype=per.dtype))
    return per


def _per_sample(grad, reduction: str, n: int):
    if reduction == "none":
        return grad
    g = np.broadcast_to(grad, (n,))
    return g / n if reduction == "mean" else g


def _margin_grad(cls, grad, x, **attrs):
    fn = _new(cls)
    for k, v in attrs.items():
        setattr(fn, k, v)
    fn.inputs = (x,)
    return _wrap(fn.backward(grad._data))


def _ctc_formula(grad, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    fn = _new(CtcLoss)
    fn.targets, fn.input_lengths, fn.target_lengths = targets, input_lengths, target_lengths
    fn.blank, fn.zero_infinity, fn.inputs = blank, zero_infinity, (log_probs,)
    fn.forward(log_probs._data)
    return _wrap(fn.backward(grad._data))


FORMULA_HELPERS = {
    "ctc_grad": _ctc_formula,
    "multi_margin_grad": lambda grad, x, target, p, margin, weight, reduction: _margin_grad(
        MultiMarginLoss, grad, x, target=target, p=p, margin=margin, weight=weight,
        reduction=reduction),
    "multilabel_margin_grad": lambda grad, x, target, reduction: _margin_grad(
        MultilabelMarginLoss, grad, x, target=target, reduction=reduction),
}


def _as_batch(input: Tensor, target: Tensor, name: str):
    """(N, C) input and target views; a 1-d input is one sample."""
    if input.dim() == 1:
        return input.unsqueeze(0), target._data.reshape(1, -1) if target.dim() else \
            target._data.reshape(1)
    if input.dim() != 2:
        raise RuntimeError(f"{name}: expected a 1-d or 2-d input (classes last), got "
                           f"{input.dim()}-d of shape {list(input.shape)}")
    return input, target._data


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss (p = 1 or 2), optionally weighted per class.

    >>> import leafgrad
    >>> multi_margin_loss(leafgrad.tensor([[0.1, 0.2, 0.4, 0.8]]), leafgrad.tensor([3]))
    tensor(0.3250)
    """
    reduction = _reduction_arg(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    x2, t = _as_batch(input, target, "multi_margin_loss")
    n, c = x2.shape
    t = t.reshape(-1)
    if t.shape[0] != n:
        raise RuntimeError(
            f"inconsistent target size, expected {n} but got {list(target.shape)}")
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {_c10(t.dtype)}")
    if ((t < 0) | (t >= c)).any():
        raise RuntimeError("target out of range\nWhy: class indices run from 0 to "
                           f"{c - 1}.")
    fn = _new(MultiMarginLoss)
    fn.target, fn.p, fn.margin, fn.reduction = t, p, margin, reduction
    fn.weight = weight._data.astype(x2._data.dtype) if weight is not None else None
    out = fn.forward(x2._data)
    if reduction == "none" and input.dim() == 1:
        out = out.reshape(())
        res = record_unary(fn, x2, out.reshape(1)) if state.enabled else _wrap(out.reshape(1))
        return res.reshape(())
    return record_unary(fn, x2, out) if state.enabled else _wrap(out)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss; each target row lists class indices, ended by −1.

    >>> import leafgrad
    >>> multilabel_margin_loss(leafgrad.tensor([[0.1, 0.2, 0.4, 0.8]]),
    ...                        leafgrad.tensor([[3, 0, -1, 1]]))
    tensor(0.8500)
    """
    reduction = _reduction_arg(size_average, reduce, reduction)
    x2, t = _as_batch(input, target, "multilabel_margin_loss")
    n, c = x2.shape
    t = t.reshape(n, -1) if t.ndim else t.reshape(1, 1)
    if t.shape != (n, c):
        raise RuntimeError(
            f"inconsistent target size: {list(target.shape)} for input of size: "
            f"{list(input.shape)}")
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {_c10(t.dtype)}")
    if ((t < -1) | (t >= c)).any():
        raise RuntimeError(f"multilabel_margin_loss: target values must lie in [-1, {c - 1}] "
                           "(-1 ends a sample's list of classes)")
    fn = _new(MultilabelMarginLoss)
    fn.target, fn.reduction = t, reduction
    out = fn.forward(x2._data)
    res = record_unary(fn, x2, out) if state.enabled else _wrap(out)
    if reduction == "none" and input.dim() == 1:
        return res.reshape(())
    return res


# -- connectionist temporal classification --------------------------------------------------------
class CtcLoss(Op):
    """Per-sample CTC negative log likelihood (forward-backward in log space)."""

    name_ = "CtcLossBackward0"
    # exp(log_probs) − exp(log Σ_{s: l'_s = c} α_t(s)β_t(s) + nll − log_probs), times grad
    formula = {"log_probs": "ctc_grad(grad, log_probs, targets, input_lengths, target_lengths, "
                            "blank, zero_infinity)"}
    __slots__ = ("targets", "input_lengths", "target_lengths", "blank", "zero_infinity",
                 "_nll", "_alpha")

    def _ext(self, b: int):
        tl = self.target_lengths[b]
        lab = np.full(2 * tl + 1, self.blank, dtype=np.int64)
        lab[1::2] = self.targets[b][:tl]
        return lab

    def forward(self, lp):
        # lp: (T, N, C). NOTE: the recursion is a Python loop over samples and time steps; on
        # another device it runs on a host copy (one transfer each way), not step by step there
        n = lp.shape[1]
        lp64 = to_numpy(lp).astype(np.float64)
        nll = np.empty(n)
        self._alpha = []
        for b in range(n):
            a = _ctc_alpha(lp64[:, b], self._ext(b), int(self.input_lengths[b]))
            self._alpha.append(a)
            length = int(self.input_lengths[b])
            s = a.shape[1]
            last = a[length - 1, s - 1] if length else (0.0 if s == 1 else -np.inf)
            if s > 1 and length:
                last = np.logaddexp(last, a[length - 1, s - 2])
            nll[b] = -last
        self._nll = nll
        return like(nll.astype(lp.dtype), lp)

    def backward(self, grad):
        if isinstance(grad, Tensor):
            return _not_implemented("_ctc_loss_backward", self, grad)
        (lp,) = self.saved(grad)
        lp64 = to_numpy(lp).astype(np.float64)
        grad = to_numpy(grad)
        out = np.zeros_like(lp64)
        for b in range(lp.shape[1]):
            length = int(self.input_lengths[b])
            nll = self._nll[b]
            if self.zero_infinity and np.isinf(nll):
                continue
            ext = self._ext(b)
            alpha = self._alpha[b]
            beta = _ctc_beta(lp64[:, b], ext, length)
            ab = alpha + beta  # (T, S)
            lcab = np.full((lp.shape[0], lp.shape[2]), -np.inf)
            for s, c in enumerate(ext):
                lcab[:, c] = np.logaddexp(lcab[:, c], ab[:, s])
            with np.errstate(over="ignore", invalid="ignore"):
                g = np.exp(lp64[:, b]) - np.exp(lcab + nll - lp64[:, b])
            g[length:] = 0
            out[:, b] = g * grad[b]
        return like(out.astype(lp.dtype), lp)


def _ctc_alpha(lp, ext, length: int):
    """log α_t(s) over the extended label sequence (blanks between and around labels)."""
    s_len = len(ext)
    alpha = np.full((lp.shape[0], s_len), -np.inf)
    if length == 0:
        return alpha
    alpha[0, 0] = lp[0, ext[0]]
    if s_len > 1:
        alpha[0, 1] = lp[0, ext[1]]
    # s may come from s - 2 when it is a label different from the label before it
    skip = np.zeros(s_len, bool)
    skip[2:] = (ext[2:] != ext[0]) & (ext[2:] != ext[:-2])
    for t in range(1, length):
        prev = alpha[t - 1]
        a = prev.copy()
        a[1:] = np.logaddexp(a[1:], prev[:-1])
        a[2:] = np.where(skip[2:], np.logaddexp(a[2:], prev[:-2]), a[2:])
        alpha[t] = a + lp[t, ext]
    return alpha


def _ctc_beta(lp, ext, length: int):
    s_len = len(ext)
    beta = np.full((lp.shape[0], s_len), -np.inf)
    if length == 0:
        return beta
    beta[length - 1, s_len - 1] = lp[length - 1, ext[-1]]
    if s_len > 1:
        beta[length - 1, s_len - 2] = lp[length - 1, ext[-2]]
    skip = np.zeros(s_len, bool)
    skip[:-2] = (ext[:-2] != ext[2:]) & (ext[:-2] != ext[0])
    for t in range(length - 2, -1, -1):
        nxt = beta[t + 1]
        b = nxt.copy()
        b[:-1] = np.logaddexp(b[:-1], nxt[1:])
        b[:-2] = np.where(skip[:-2], np.logaddexp(b[:-2], nxt[2:]), b[:-2])
        beta[t] = b + lp[t, ext]
    return beta


def _lengths(v, n: int, name: str) -> np.ndarray:
    arr = to_numpy(v._data) if isinstance(v, Tensor) else np.asarray(v)
    arr = arr.reshape(-1).astype(np.int64)
    if arr.shape[0] != n:
        raise RuntimeError(f"{name} must be of size batch_size ({n}), got {arr.shape[0]}")
    return arr


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist Temporal Classification loss over (T, N, C) log-probabilities.

    >>> import leafgrad
    >>> lp = leafgrad.tensor([[[0.0, -1e9]], [[-1e9, 0.0]]])  # certain: blank then class 1
    >>> ctc_loss(lp, leafgrad.tensor([[1]]), [2], [1])
    tensor(0.)
    """
    check_reduction(reduction)
    lp = log_probs._data
    unbatched = lp.ndim == 2
    if lp.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss: log_probs must be 2-d (T, C) or 3-d (T, N, C), got "
                           f"{lp.ndim}-d")
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        lp = log_probs._data
    t_max, n, c = lp.shape
    il = _lengths(input_lengths, n, "input_lengths")
    tl = _lengths(target_lengths, n, "target_lengths")
    tg = to_numpy(targets._data) if isinstance(targets, Tensor) else np.asarray(targets)
    if unbatched and tg.ndim == 1:
        tg = tg.reshape(1, -1)
    if tg.ndim == 1:  # concatenated targets
        offs = np.concatenate([[0], np.cumsum(tl)])
        rows = [tg[offs[b]:offs[b + 1]] for b in range(n)]
    else:
        rows = [tg[b] for b in range(n)]
    for b in range(n):
        if il[b] > t_max or il[b] < 0:
            raise RuntimeError(f"Expected input_lengths to have value at most {t_max}, but got "
                               f"value {il[b]} (while checking arguments for ctc_loss_cpu)")
        if tl[b] > len(rows[b]):
            raise RuntimeError(f"Expected tensor to have size at least {tl[b]} at dimension 1, "
                               f"but got size {len(rows[b])} for argument #2 'targets'")
    if not 0 <= blank < c:
        raise RuntimeError("blank must be in label range")
    fn = _new(CtcLoss)
    fn.targets = [np.asarray(r, np.int64) for r in rows]
    fn.input_lengths, fn.target_lengths, fn.blank = il, tl, blank
    fn.zero_infinity = zero_infinity
    out = fn.forward(lp)
    per = record_unary(fn, log_probs, out) if state.enabled else _wrap(out)
    if zero_infinity:
        from ..creation import zeros_like
        from .elementwise import where

        # NOTE: as PyTorch: where(loss == inf, 0, loss); the node also zeroes their gradient
        per = where(per == float("inf"), zeros_like(per), per)
    if reduction == "mean":
        from ..creation import tensor as _tensor

        lens = _tensor(np.maximum(tl, 1).astype(lp.dtype), device=log_probs.device)
        return (per / lens).mean()
    if reduction == "sum":
        return per.sum()
    return per[0] if unbatched else per
