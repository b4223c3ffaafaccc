"""Embeddings: ``embedding`` (``EmbeddingBackward0``), ``embedding_bag``
(``EmbeddingBagBackward0``), ``one_hot``."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad, state
from ..autograd.node import Op, make_node
from ..backend import array_module, like, scatter_add, to_numpy
from ..tensor import Tensor, _wrap
from . import dual
from ._apply import record, record_unary
from .distance import _not_implemented

__all__ = ["embedding", "embedding_bag", "one_hot"]

_new = object.__new__


class Embedding(Op):
    """Rows of the weight picked by integer indices; the gradient adds back into those rows."""

    name_ = "EmbeddingBackward0"
    # grad rows added into the rows they came from (padding row skipped, ÷ count by frequency)
    formula = {"weight": "embedding_grad(grad, indices, padding_idx, scale_grad_by_freq, "
                         "num_weights)"}
    save_inputs = False
    saved_state = ("indices",)  # PyTorch saves the indices: a second backward is refused
    __slots__ = ("indices", "padding_idx", "scale_grad_by_freq", "num_weights")

    def forward(self, w):
        return w[self.indices]

    def backward(self, grad):
        return _embedding_backward(grad, self.indices, self.num_weights, self.padding_idx,
                                   self.scale_grad_by_freq)


def _embedding_backward(grad, indices, num_weights: int, padding_idx: int, by_freq: bool):
    idx = indices.reshape(-1)
    g = grad.reshape((idx.shape[0], grad.shape[-1]))
    keep = idx != padding_idx
    if by_freq:
        counts = np.bincount(idx, minlength=num_weights)
        scale = (1.0 / counts[idx]).astype(_dtype(g))
        keep = keep * scale
    if padding_idx >= 0 or by_freq:
        k = keep[:, None].astype(_dtype(g))
        g = g * (_wrap(k) if isinstance(g, Tensor) else k)
    return dual.embed(g, (num_weights, grad.shape[-1]), (idx,), accumulate=True)


def _dtype(g):
    return g._data.dtype if isinstance(g, Tensor) else g.dtype


def _embedding_formula(grad, indices, padding_idx, scale_grad_by_freq, num_weights):
    return _embedding_backward(grad, indices, num_weights, padding_idx, scale_grad_by_freq)


def _check_indices(input: Tensor, name: str) -> np.ndarray:
    idx = input._data
    if idx.dtype.name not in ("int64", "int32"):
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got torch.{_type_name(input)} instead (while checking "
            f"arguments for {name})\nWhy: indices pick rows of the weight; convert them with "
            ".long().")
    return idx


def _type_name(t: Tensor) -> str:
    from ..autograd.node import _type_name

    return _type_name(t)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of ``weight`` at the integer indices ``input`` (any shape).

    >>> import leafgrad
    >>> embedding(leafgrad.tensor([[0, 2]]), leafgrad.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]))
    tensor([[[1., 1.],
             [3., 3.]]])
    """
    n = weight.size(0)
    if padding_idx is not None:
        if padding_idx > 0 and padding_idx >= n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            if padding_idx < -n:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = n + padding_idx
    else:
        padding_idx = -1
    if sparse:
        raise NotImplementedError(
            "embedding(sparse=True): leafgrad has no sparse tensors\nWhy: a sparse gradient "
            "needs a sparse tensor type; use sparse=False (the dense gradient is the same).")
    idx = _check_indices(input, "embedding")
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(
            f"index out of range in self\nWhy: the embedding has {n} rows (indices 0 to "
            f"{n - 1}), but an index is {int(idx.max() if idx.max() >= n else idx.min())}.")
    if max_norm is not None:
        _renorm(weight, idx, max_norm, norm_type)
    fn = _new(Embedding)
    fn.indices = idx.astype(np.int64, copy=False)
    fn.padding_idx, fn.scale_grad_by_freq, fn.num_weights = padding_idx, scale_grad_by_freq, n
    out = fn.forward(weight._data)
    return record_unary(fn, weight, out) if state.enabled else _wrap(out)


def _renorm(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale the referenced rows whose norm exceeds ``max_norm`` down to it, in place
    (PyTorch's ``embedding_renorm_``; not recorded by autograd)."""
    rows = np.unique(idx.reshape(-1))
    w = weight._data
    sub = w[rows].astype(np.float64)
    if norm_type == np.inf:
        norms = np.abs(sub).max(1)
    else:
        norms = (np.abs(sub) ** norm_type).sum(1) ** (1.0 / norm_type)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        with no_grad():
            w[rows[big]] = w[rows[big]] * scale[:, None]
            weight._bump_version()


class EmbeddingBag(Op):
    """Sum / mean / max of the embedding rows of each bag."""

    name_ = "EmbeddingBagBackward0"
    formula = {"weight": "embedding_bag_grad(grad, weight, per_sample_weights, indices, bag_of, "
                         "mode, counts, argmax, num_weights, keep)[0]",
               "per_sample_weights": "embedding_bag_grad(grad, weight, per_sample_weights, "
                                     "indices, bag_of, mode, counts, argmax, num_weights, "
                                     "keep)[1]"}
    # PyTorch saves the indices and offsets, and the weight only for per_sample_weights' gradient
    saved_for = ((1,), (0,))
    saved_state = ("indices",)
    __slots__ = ("indices", "bag_of", "mode", "counts", "argmax", "num_weights", "psw",
                 "keep", "nbags")

    def forward(self, w, psw=None):
        idx, bag = self.indices, self.bag_of
        d = w.shape[1]
        xp = array_module(w)
        out = xp.zeros((self.nbags, d), w.dtype)
        rows = w[idx] * self.keep[:, None]
        if psw is not None:
            rows = rows * psw[:, None]
        if self.mode == "max":
            self.argmax = xp.full((self.nbags, d), -1, np.int64)
            started = xp.zeros(self.nbags, bool)
            for j in range(idx.shape[0]):  # bags are short; a Python loop over indices is clear
                if not self.keep[j]:
                    continue
                # NOTE: as PyTorch's kernel, a bag's first row sets the max (a NaN or -inf
                # there stays) and a later row replaces it only if greater (NaN never is)
                better = (rows[j] > out[bag[j]]) | ~started[bag[j]]
                started[bag[j]] = True
                out[bag[j]] = np.where(better, rows[j], out[bag[j]])
                self.argmax[bag[j]] = np.where(better, idx[j], self.argmax[bag[j]])
            return out
        scatter_add(out, bag, rows)
        if self.mode == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                out = np.where(self.counts[:, None] > 0, out / np.maximum(self.counts, 1)[:, None],
                               0).astype(w.dtype)
        return out

    def backward(self, grad):
        if isinstance(grad, Tensor):
            return _not_implemented("_embedding_bag_backward", self, grad)
        return _bag_backward(self, grad, self.saved(grad))


def _bag_backward(fn, grad, saved):
    w, psw = saved
    need = fn.needs_input_grad
    gw = gp = None
    if fn.mode == "max":
        gw = array_module(grad).zeros((fn.num_weights, grad.shape[1]), grad.dtype)
        b, c = np.nonzero(fn.argmax >= 0)
        scatter_add(gw, (fn.argmax[b, c], c), grad[b, c])
        return gw, None
    g = grad[fn.bag_of]
    if fn.mode == "mean":
        g = g / np.maximum(fn.counts, 1)[fn.bag_of][:, None]
    g = g * fn.keep[:, None]
    if need[0]:
        gw = array_module(grad).zeros((fn.num_weights, grad.shape[1]), grad.dtype)
        scatter_add(gw, fn.indices, g * psw[:, None] if psw is not None else g)
    if need[1]:
        gp = (g * w[fn.indices]).sum(1)
    return gw, gp


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sum, mean or max of embedding rows per bag (2-d input: one bag per row; 1-d input with
    ``offsets``: bags start at the offsets).

    >>> import leafgrad
    >>> w = leafgrad.tensor([[1.0], [2.0], [4.0]])
    >>> embedding_bag(leafgrad.tensor([0, 1, 2]), w, leafgrad.tensor([0, 2]), mode="sum")
    tensor([[3.],
            [4.]])
    """
    if per_sample_weights is not None and tuple(input.size()) != tuple(
            per_sample_weights.size()):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, "
            f"then it must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.dim()}")
    idx = _check_indices(input, "embedding_bag")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a "
                "mini-batch of fixed length sequences. However, found offsets of type "
                f"{type(offsets)}")
        nb, length = idx.shape
        starts = np.arange(0, idx.size, length) if length else np.zeros(nb, np.int64)
        idx = idx.reshape(-1)
        include_last_offset = False
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = offsets._data.astype(np.int64)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if sparse:
        raise NotImplementedError("embedding_bag(sparse=True): leafgrad has no sparse tensors")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    n = weight.size(0)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"index out of range in self\nWhy: the embedding has {n} rows.")
    if max_norm is not None:
        _renorm(weight, idx, max_norm, norm_type)
    nbags = len(starts) - 1 if include_last_offset else len(starts)
    # the bookkeeping (the bag of each index, counts) is computed on the host from the offsets
    # (short Python-sized arrays) and placed on the weight's device
    starts, hidx = to_numpy(starts), to_numpy(idx)
    bounds = np.append(starts, idx.size) if not include_last_offset else starts
    bag_of = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))[:idx.size]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    keep = (hidx != padding_idx) if padding_idx is not None else np.ones(idx.shape, bool)
    w = weight._data
    fn = _new(EmbeddingBag)
    fn.indices, fn.bag_of, fn.mode, fn.num_weights = idx.astype(np.int64), like(bag_of, w), mode, n
    fn.keep, fn.nbags, fn.argmax = like(keep.astype(w.dtype), w), nbags, None
    fn.counts = like(np.bincount(bag_of, weights=keep, minlength=nbags)[:nbags], w)
    psw = per_sample_weights._data if per_sample_weights is not None else None
    out = fn.forward(weight._data, psw)
    if not state.enabled:
        return _wrap(out)
    return record(fn, (weight, per_sample_weights), out)


def _bag_formula(grad, weight, per_sample_weights, indices, bag_of, mode, counts, argmax,
                 num_weights, keep):
    # NOTE: an input the node did not save (NotSaved) has no _data; no gradient asked reads it
    psw = getattr(per_sample_weights, "_data", per_sample_weights)
    fn = make_node(EmbeddingBag, ((1, 0), (None, 0) if psw is None else (1, 0)))
    fn.indices, fn.bag_of, fn.mode, fn.counts, fn.argmax = indices, bag_of, mode, counts, argmax
    fn.num_weights, fn.keep = num_weights, keep
    out = _bag_backward(fn, grad._data, (getattr(weight, "_data", weight), psw))
    return tuple(None if o is None else _wrap(o) for o in out)


FORMULA_HELPERS = {"embedding_bag_grad": _bag_formula, "embedding_grad": _embedding_formula}


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding along a new last dim.

    >>> import leafgrad
    >>> one_hot(leafgrad.tensor([0, 2]))
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    x = tensor._data
    if x.dtype.name != "int64":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if x.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(x.max()) + 1
    if x.size:
        if x.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if x.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    return _wrap((x[..., None] == array_module(x).arange(num_classes)).astype(np.int64))
