"""Distances: pairwise_distance, cosine_similarity, cdist (``CdistBackward0``), pdist
(``PdistBackward0``), normalize."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad, state
from ..autograd.node import Op, make_node
from ..backend import array_module, ufunc_at
from ..tensor import Tensor, _wrap
from ._apply import record
from .elementwise import _record_not_implemented

__all__ = ["pairwise_distance", "cosine_similarity", "cdist", "pdist", "normalize"]

_new = object.__new__


def _pnorm(diff, p: float, axis: int):
    """The p-norm of ``diff`` along ``axis`` (p = 0 counts nonzeros, p = inf takes the max)."""
    a = np.abs(diff)
    if p == 0:
        return (a != 0).sum(axis=axis).astype(diff.dtype)
    if p == np.inf:
        return a.max(axis=axis) if a.shape[axis] else array_module(a).zeros(
            tuple(np.delete(a.shape, axis)), diff.dtype)
    if p == 1:
        return a.sum(axis=axis)
    if p == 2:
        return np.sqrt((a * a).sum(axis=axis))
    return (a ** p).sum(axis=axis) ** (1.0 / p)


def _pnorm_grad(diff, dist, p: float):
    """d dist / d diff for each pair (``dist`` has the reduced axis kept, last)."""
    if p == 0:
        return np.zeros_like(diff)
    if p == 1:
        return np.sign(diff)
    with np.errstate(invalid="ignore", divide="ignore"):
        if p == np.inf:
            g = np.sign(diff) * (np.abs(diff) == dist)
        elif p == 2:
            g = diff / dist
        else:
            g = np.sign(diff) * np.abs(diff) ** (p - 1) / dist ** (p - 1)
    return np.where(dist == 0, 0, g).astype(diff.dtype, copy=False)


class Cdist(Op):
    """‖x1_i − x2_j‖_p for every pair of rows (batched over leading dims)."""

    name_ = "CdistBackward0"
    # grad_ij times d‖x1_i − x2_j‖_p, summed over j (for x1) or, negated, over i (for x2)
    formula = {"x1": "cdist_grad(grad, x1, x2, p)[0]", "x2": "cdist_grad(grad, x1, x2, p)[1]"}
    save_output = True  # PyTorch saves the result too: an in-place change to it is refused
    __slots__ = ("p",)

    def forward(self, x1, x2):
        diff = x1[..., :, None, :] - x2[..., None, :, :]
        return _pnorm(diff, self.p, -1).astype(x1.dtype, copy=False)

    def backward(self, grad):
        if isinstance(grad, Tensor):
            return _not_implemented("_cdist_backward", self, grad)
        x1, x2 = self.saved(grad)
        diff = x1[..., :, None, :] - x2[..., None, :, :]
        dist = _pnorm(diff, self.p, -1)[..., None]
        g = _pnorm_grad(diff, dist, self.p) * grad[..., None]
        need = self.needs_input_grad
        return (g.sum(-2) if need[0] else None,
                -g.sum(-3) if need[1] else None)


class Pdist(Op):
    """‖x_i − x_j‖_p for i < j (the upper triangle, row by row)."""

    name_ = "PdistBackward0"
    # each pair's grad times d‖x_i − x_j‖_p, added to row i and subtracted from row j
    formula = {"x": "pdist_grad(grad, x, p)"}
    save_output = True  # PyTorch saves the result too
    __slots__ = ("p", "_i", "_j")

    def forward(self, x):
        n = x.shape[0]
        self._i, self._j = array_module(x).triu_indices(n, 1)
        diff = x[self._i] - x[self._j]
        return _pnorm(diff, self.p, -1).astype(x.dtype, copy=False)

    def backward(self, grad):
        if isinstance(grad, Tensor):
            return _not_implemented("_pdist_backward", self, grad)
        (x,) = self.saved(grad)
        diff = x[self._i] - x[self._j]
        dist = _pnorm(diff, self.p, -1)[:, None]
        g = _pnorm_grad(diff, dist, self.p) * grad[:, None]
        out = np.zeros_like(x)
        ufunc_at("add", out, self._i, g)
        ufunc_at("subtract", out, self._j, g)
        return out


def _not_implemented(what: str, fn, grad: Tensor):
    """In a graph of the backward (create_graph), a node PyTorch cannot differentiate again."""
    with no_grad():
        raw = fn.backward(grad._data)
    raw = raw if isinstance(raw, tuple) else (raw,)
    outs = tuple(None if r is None else _record_not_implemented(what, (grad,), r) for r in raw)
    return outs if len(outs) > 1 else outs[0]


def _cdist_grad(grad: Tensor, x1: Tensor, x2: Tensor, p: float) -> tuple:
    fn = make_node(Cdist, ((1, 0), (1, 0)))
    fn.p, fn.inputs = p, (x1, x2)
    return tuple(_wrap(g) for g in fn.backward(grad._data))


def _pdist_grad(grad: Tensor, x: Tensor, p: float) -> Tensor:
    fn = make_node(Pdist, ((1, 0),))
    fn.p, fn.inputs = p, (x,)
    fn.forward(x._data)
    return _wrap(fn.backward(grad._data))


FORMULA_HELPERS = {"cdist_grad": _cdist_grad, "pdist_grad": _pdist_grad}


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """Pairwise p-norm distances between the rows of ``x1`` (…, P, M) and ``x2`` (…, R, M).

    >>> import leafgrad
    >>> cdist(leafgrad.tensor([[0.0, 0.0]]), leafgrad.tensor([[3.0, 4.0], [1.0, 0.0]]))
    tensor([[5., 1.]])
    """
    a, b = x1._data, x2._data
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D"
                           if a.ndim < 2 else
                           f"cdist only supports at least 2D tensors, X2 got: {b.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: "
            f"{b.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if a.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}")
    fn = _new(Cdist)
    fn.p = float(p)
    out = fn.forward(a, b)
    return record(fn, (x1, x2), out) if state.enabled else _wrap(out)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """Distances between all pairs of rows of a 2-d tensor (upper triangle, flattened).

    >>> import leafgrad
    >>> pdist(leafgrad.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
    tensor([5.0000, 1.0000, 4.2426])
    """
    x = input._data
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    fn = _new(Pdist)
    fn.p = float(p)
    out = fn.forward(x)
    return record(fn, (input,), out) if state.enabled else _wrap(out)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """‖x1 − x2 + eps‖_p over the last dim (broadcasting), as PyTorch computes it.

    >>> import leafgrad
    >>> pairwise_distance(leafgrad.tensor([[3.0, 4.0]]), leafgrad.zeros(1, 2), eps=0.0)
    tensor([5.])
    """
    output_dim = max(x1.dim(), x2.dim())
    innermost = output_dim - 1
    return (x1 - x2 + eps).norm(p, innermost if output_dim else None, keepdim)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (each norm clamped at eps).

    >>> import leafgrad
    >>> cosine_similarity(leafgrad.tensor([[1.0, 0.0]]), leafgrad.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    from .. import linalg
    from ..methods.shape import broadcast_tensors

    a, b = broadcast_tensors(x1, x2)
    if a.dtype.is_floating_point is False:
        a, b = a.float(), b.float()
    # NOTE: PyTorch divides each input by its own (clamped) norm before the dot product, and
    # clamps under no_grad: the gradient treats the clamp as the identity.
    na = linalg.vector_norm(a, 2, dim=dim, keepdim=True).clone()
    nb = linalg.vector_norm(b, 2, dim=dim, keepdim=True).clone()
    with no_grad():
        na.clamp_min_(eps)
        nb.clamp_min_(eps)
    return ((a / na) * (b / nb)).sum(dim)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """``input / max(‖input‖_p, eps)`` along ``dim``.

    >>> import leafgrad
    >>> normalize(leafgrad.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    res = input / denom
    if out is not None:
        return out.copy_(res)
    return res
