"""Reusable arrays for the large buffers of fused nodes (recurrent layers, attention).

NOTE: a fresh multi-megabyte NumPy array costs a page fault per 4 KiB page on first touch, and
glibc hands such blocks back to the system when they are freed (and trims the heap), so a
training loop that allocates and frees the same few large buffers every step faults on all of
them, every step: ~1,900 faults a step on the W7 LSTM, a sixth of its time. Buffers that never
leave a node (its temporaries, and the state it saves for backward, once the node is gone) are
taken from and given back to this pool instead. The pool holds at most ``MAX_BYTES``; beyond
that, arrays are simply freed.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["take", "give", "clear", "Saved"]

MAX_BYTES = 64 << 20
_MIN_BYTES = 64 << 10  # smaller arrays come from NumPy's own small-block cache

_free: dict = {}
_held = [0]
_lock = threading.Lock()


def take(shape: tuple, dtype, xp=np):
    """An uninitialised array of ``shape`` and ``dtype`` (recycled when one is free)."""
    dtype = np.dtype(dtype)
    if xp is np:
        key = (tuple(shape), dtype)
        with _lock:
            stack = _free.get(key)
            if stack:
                a = stack.pop()
                _held[0] -= a.nbytes
                return a
    return xp.empty(shape, dtype)


def give(*arrays) -> None:
    """Hand arrays back for reuse; the caller must hold no other reference to them (views of
    them included)."""
    with _lock:
        for a in arrays:
            if a.__class__ is not np.ndarray or a.nbytes < _MIN_BYTES or a.base is not None:
                continue
            if _held[0] + a.nbytes > MAX_BYTES:
                continue
            _free.setdefault((a.shape, a.dtype), []).append(a)
            _held[0] += a.nbytes


def clear() -> None:
    """Drop every pooled array (the memory goes back to the system)."""
    with _lock:
        _free.clear()
        _held[0] = 0


class Saved:
    """What a node keeps for its backward: ``arrays`` go back to the pool when the node drops
    it (after a backward that does not retain the graph, or when the graph is freed)."""

    __slots__ = ("arrays", "recycle")

    def __init__(self, arrays: tuple, recycle: tuple = ()) -> None:
        self.arrays = arrays
        self.recycle = recycle  # the arrays nothing outside the node refers to

    def __del__(self) -> None:
        if give is not None:  # not during interpreter shutdown
            give(*(a for a in self.recycle if a is not None))
