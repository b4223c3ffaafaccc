"""``nn.utils.rnn.pad_sequence`` (packed sequences come with the recurrent layers)."""

from __future__ import annotations

from collections.abc import Iterable

from ...tensor import Tensor

__all__ = ["pad_sequence"]


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
