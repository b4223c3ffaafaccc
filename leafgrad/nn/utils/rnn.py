"""``nn.utils.rnn``: variable-length batches for the recurrent layers: ``PackedSequence``,
``pack_padded_sequence`` / ``pad_packed_sequence``, ``pack_sequence`` / ``unpack_sequence``,
``pad_sequence`` / ``unpad_sequence``, ``invert_permutation``.

A packed sequence stores the time steps one after the other, each holding only the sequences
still running (longest first): ``batch_sizes[t]`` rows for step t. The recurrent layers walk it
without computing on padding, and their final states are each sequence's own last state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


class PackedSequence_(NamedTuple):  # noqa: N801 - PyTorch's name
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


def _bind(optional, fn):
    return None if optional is None else fn(optional)


class PackedSequence(PackedSequence_):
    """Data and batch sizes of a packed batch of sequences (made by ``pack_padded_sequence`` or
    ``pack_sequence``, accepted by RNN, LSTM and GRU).

    >>> import leafgrad
    >>> p = pack_sequence([leafgrad.tensor([1., 2., 3.]), leafgrad.tensor([4., 5.])])
    >>> p.data, p.batch_sizes
    (tensor([1., 4., 2., 5., 3.]), tensor([2, 2, 1]))
    """

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None, unsorted_indices: Tensor | None = None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data[0], data[1]
        elif batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never be "
                "created manually. They should be instantiated by functions like pack_sequence "
                "and pack_padded_sequences in nn.utils.rnn. "
                "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same packed sequence with its data converted (``Tensor.to``'s arguments)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def move(t):
            return t.to(data.device)

        return type(self)(data, self.batch_sizes, _bind(self.sorted_indices, move),
                          _bind(self.unsorted_indices, move))

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The packed sequence on a CUDA device."""
        kwargs.setdefault("device", "cuda")
        return self.to(*args, **kwargs)

    def cpu(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The packed sequence on the CPU."""
        kwargs["device"] = "cpu"
        return self.to(*args, **kwargs)

    def double(self) -> PackedSequence:
        """Data as float64."""
        from ... import float64

        return self.to(dtype=float64)

    def float(self) -> PackedSequence:
        """Data as float32."""
        from ... import float32

        return self.to(dtype=float32)

    def half(self) -> PackedSequence:
        """Data as float16."""
        from ... import float16

        return self.to(dtype=float16)

    def long(self) -> PackedSequence:
        """Data as int64."""
        from ... import int64

        return self.to(dtype=int64)

    def int(self) -> PackedSequence:
        """Data as int32."""
        from ... import int32

        return self.to(dtype=int32)

    def short(self) -> PackedSequence:
        """Data as int16."""
        from ... import int16

        return self.to(dtype=int16)

    def char(self) -> PackedSequence:
        """Data as int8."""
        from ... import int8

        return self.to(dtype=int8)

    def byte(self) -> PackedSequence:
        """Data as uint8."""
        from ... import uint8

        return self.to(dtype=uint8)

    @property
    def is_cuda(self) -> bool:
        """Whether the data is on a CUDA device."""
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        """Whether the data is in pinned memory (never, on the CPU)."""
        return False

    def pin_memory(self) -> PackedSequence:
        """Pinned memory needs an accelerator, as in PyTorch."""
        raise RuntimeError(
            "Cannot access accelerator device when none is available.\nWhy: pinned (page-locked) "
            "memory only speeds up copies to a GPU; leafgrad computes on the CPU here.")


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (None stays None).

    >>> import leafgrad
    >>> invert_permutation(leafgrad.tensor([2, 0, 1]))
    tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    from ...creation import arange, empty_like

    out = empty_like(permutation)
    out.scatter_(0, permutation, arange(0, permutation.numel(), device=permutation.device))
    return out


def _lengths_array(lengths) -> np.ndarray:
    from ... import int64

    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            raise RuntimeError(
                f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D "
                f"cpu {_type_word(lengths)} tensor\nWhy: it holds one length per sequence.")
        return lengths.to(dtype=int64)._data
    return np.asarray(list(lengths), dtype=np.int64).reshape(-1)


def _type_word(t: Tensor) -> str:
    return {"int64": "Long", "int32": "Int", "float32": "Float", "float64": "Double",
            "bool": "Bool"}.get(t.dtype.name, t.dtype.name)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) batch (``batch_first``: (B, T, *)) of sequences of the given
    ``lengths``; with ``enforce_sorted=False`` the lengths may come in any order.

    >>> import leafgrad
    >>> x = leafgrad.tensor([[1., 4.], [2., 5.], [3., 0.]])
    >>> pack_padded_sequence(x, [3, 2]).data
    tensor([1., 4., 2., 5., 3.])
    """
    from ... import tensor as _tensor
    from ...methods.shape import sort
    from ...ops.rnn_packing import pack_rows

    lens = _lengths_array(lengths)
    sorted_indices = None
    if not enforce_sorted:
        lens_t, sorted_indices = sort(_tensor(lens), descending=True)
        lens = lens_t._data
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    return _pack(input, lens, batch_first, sorted_indices, pack_rows)


def _pack(input: Tensor, lens: np.ndarray, batch_first: bool, sorted_indices, pack_rows):
    from ... import tensor as _tensor

    if input.dim() < 2:
        raise RuntimeError(
            f"pack_padded_sequence: expected the input to have a time and a batch dim, got a "
            f"{input.dim()}-D tensor\nWhy: the input is a padded batch of sequences, (T, B, *) "
            "or, with batch_first=True, (B, T, *).")
    T, B = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    if lens.shape[0] != B:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lens.shape[0]} "
            f"(batch_size={B})\nWhy: there is one length per sequence of the batch "
            f"(dim {0 if batch_first else 1} of the input).")
    if B and lens.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0\nWhy: an empty sequence has no step to pack; drop it from the batch.")
    if B and (np.diff(lens) > 0).any():
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
            "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
            "sidestep this requirement if you do not need ONNX exportability.\nWhy: a packed "
            "batch keeps the longest sequences first, so that each step's rows are a prefix.")
    if B and lens[0] > T:
        raise RuntimeError(
            f"pack_padded_sequence: a sequence length ({int(lens[0])}) exceeds the padded length "
            f"of the input ({T})\nWhy: each length counts steps present in the input; check the "
            "lengths and batch_first.")
    steps = int(lens[0]) if B else 0
    batch_sizes = (lens[None, :] > np.arange(steps)[:, None]).sum(1).astype(np.int64)
    data = pack_rows(input, batch_sizes, batch_first)
    return PackedSequence(data, _tensor(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None) -> tuple:
    """Undo ``pack_padded_sequence``: ``(padded, lengths)``, padded with ``padding_value`` to
    the longest sequence (or ``total_length``), in the original batch order.

    >>> import leafgrad
    >>> p = pack_sequence([leafgrad.tensor([1., 2., 3.]), leafgrad.tensor([4., 5.])])
    >>> pad_packed_sequence(p, batch_first=True)
    (tensor([[1., 2., 3.],
            [4., 5., 0.]]), tensor([3, 2]))
    """
    from ... import tensor as _tensor
    from ...creation import full

    bs = sequence.batch_sizes._data.astype(np.int64)
    max_len = bs.shape[0]
    if total_length is not None:
        if total_length < max_len:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{max_len}")
        max_len = total_length
    data = sequence.data
    B = int(bs[0]) if bs.shape[0] else 0
    lens = (bs[None, :] > np.arange(B)[:, None]).sum(1).astype(np.int64)
    t_idx = np.repeat(np.arange(bs.shape[0]), bs)
    b_idx = np.concatenate([np.arange(b) for b in bs]) if bs.shape[0] else t_idx
    shape = (B, max_len) if batch_first else (max_len, B)
    out = full(shape + tuple(data.shape[1:]), padding_value, dtype=data.dtype,
               device=data.device)
    index = (_tensor(b_idx), _tensor(t_idx)) if batch_first else (_tensor(t_idx), _tensor(b_idx))
    out[index] = data
    lengths = _tensor(lens)
    if sequence.unsorted_indices is not None:
        out = out.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices]
    return out, lengths


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack variable-length sequences (L_i, *) into (T, B, *) (or (B, T, *)), padding with
    ``padding_value``; differentiable.

    >>> import leafgrad
    >>> pad_sequence([leafgrad.ones(2), leafgrad.ones(1)], batch_first=True)
    tensor([[1., 1.],
            [1., 0.]])
    """
    from ...creation import full
    from ...methods.shape import cat, stack

    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    max_len = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        short = max_len - s.shape[0]
        if short:
            pad = full((short,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype,
                       device=s.device)
            s = cat([s, pad] if padding_side == "right" else [pad, s], 0)
        rows.append(s)
    return stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list:
    """Split a padded batch back into its sequences (PyTorch transposes a time-major input in
    place first, and so does this).

    >>> import leafgrad
    >>> unpad_sequence(leafgrad.ones(2, 3), leafgrad.tensor([3, 1]), batch_first=True)
    [tensor([1., 1., 1.]), tensor([1.])]
    """
    from ...creation import arange

    if not batch_first:
        padded_sequences.transpose_(0, 1)
    max_length = padded_sequences.shape[1]
    idx = arange(max_length, device=padded_sequences.device)
    return [seq[idx < length] for seq, length in zip(padded_sequences, lengths)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) sequences (longest first, unless ``enforce_sorted=False``).

    >>> import leafgrad
    >>> pack_sequence([leafgrad.ones(1), leafgrad.ones(2)], enforce_sorted=False).batch_sizes
    tensor([2, 1])
    """
    from ... import as_tensor

    lengths = as_tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences a packed sequence holds (in the order they were packed).

    >>> import leafgrad
    >>> unpack_sequence(pack_sequence([leafgrad.ones(2), leafgrad.ones(1)]))
    [tensor([1., 1.]), tensor([1.])]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
