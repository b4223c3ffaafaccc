"""Packing a padded batch of sequences: the gather node behind ``pack_padded_sequence``
(PyTorch's ``PackPaddedSequenceBackward0``)."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import state
from ..autograd.node import Op
from ..backend import like
from ..tensor import Tensor, _wrap
from . import dual
from ._apply import record_unary

__all__ = ["pack_rows"]

_new = object.__new__


class PackPaddedSequence(Op):
    """Rows of a padded (T, B, *) / (B, T, *) input, step by step, the running sequences of
    each step only; the gradient goes back to those rows (zeros on the padding)."""

    name_ = "PackPaddedSequenceBackward0"
    formula = {"input": "embed(grad, (rows,) + grad.shape[1:], index).reshape(in_shape)"}
    save_inputs = False
    __slots__ = ("index", "rows", "in_shape")

    def forward(self, x):
        return x.reshape((self.rows,) + x.shape[2:])[self.index]

    def backward(self, grad):
        g = dual.embed(grad, (self.rows,) + tuple(grad.shape[1:]), self.index)
        return g.reshape(self.in_shape)


def pack_rows(input: Tensor, batch_sizes: np.ndarray, batch_first: bool) -> Tensor:
    """The packed data of ``input`` for (non-increasing) ``batch_sizes`` (checked by the caller).

    >>> import leafgrad
    >>> pack_rows(leafgrad.tensor([[1., 4.], [2., 5.], [3., 0.]]), np.array([2, 2, 1]), False)
    tensor([1., 4., 2., 5., 3.])
    """
    x = input._data
    T, B = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
    t_idx = np.repeat(np.arange(batch_sizes.shape[0]), batch_sizes)
    b_idx = np.concatenate([np.arange(b) for b in batch_sizes]) if batch_sizes.shape[0] \
        else t_idx
    fn = _new(PackPaddedSequence)
    # placed once on the input's device (batch_sizes is a CPU tensor, as in torch)
    fn.index = like(b_idx * T + t_idx if batch_first else t_idx * B + b_idx, x)
    fn.rows = T * B
    fn.in_shape = x.shape
    out = fn.forward(x)
    return record_unary(fn, input, out) if state.enabled else _wrap(out)

