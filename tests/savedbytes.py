"""Bytes a backward graph holds in saved tensors, for leafgrad and for torch (the oracle).

Both walkers count each distinct block of memory once (a view keeps its whole base alive, so
the base is what is counted): torch's by the storage behind every ``grad_fn._saved_*`` tensor,
leafgrad's by the root array behind every array a node keeps for its backward (the inputs it
saved, its result, arrays in its own slots such as masks and indices). Used by
tests/test_saved_bytes.py and benchmarks/w5_memory.py.
"""

from __future__ import annotations

import numpy as np

# Node slots that are graph structure or bookkeeping, not saved values.
_NOT_SAVED = frozenset({"next_functions", "_x", "_site", "_meta", "needs_input_grad", "_vers",
                        "_out_vc", "__weakref__", "variable"})


def _nodes(roots, children):
    seen, stack, out = set(), [r for r in roots if r is not None], []
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        out.append(n)
        stack.extend(c for c in children(n) if c is not None)
    return out


def torch_saved(outputs) -> dict:
    """``{storage address: bytes}`` of every tensor saved by the graph behind ``outputs``."""
    import torch

    blocks: dict = {}

    def add(v):
        if isinstance(v, torch.Tensor):
            s = v.untyped_storage()
            blocks[s.data_ptr()] = s.nbytes()
        elif isinstance(v, (list, tuple)):
            for e in v:
                add(e)

    for n in _nodes([o.grad_fn for o in outputs], lambda n: [f for f, _ in n.next_functions]):
        for name in dir(n):
            if name.startswith("_saved_"):
                try:
                    add(getattr(n, name))
                except RuntimeError:  # an undefined optional tensor
                    pass
    return blocks


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _slots(cls) -> list[str]:
    names = []
    for k in cls.__mro__:
        s = k.__dict__.get("__slots__", ())
        names.extend([s] if isinstance(s, str) else s)
    return names


def leafgrad_saved(outputs) -> dict:
    """``{array address: bytes}`` of every array saved by the leafgrad graph behind ``outputs``."""
    import leafgrad

    blocks: dict = {}

    def add(v):
        if isinstance(v, leafgrad.Tensor):
            v = v._data
        if isinstance(v, np.ndarray):
            r = _root(v)
            if r.size:
                blocks[r.__array_interface__["data"][0]] = r.nbytes
        elif isinstance(v, (list, tuple)):
            for e in v:
                add(e)

    for n in _nodes([o.grad_fn for o in outputs], lambda n: [f for f, _ in n.next_functions]):
        for name in _slots(type(n)):
            if name in _NOT_SAVED:
                continue
            v = getattr(n, name, None)
            add(v)
    return blocks


def saved_nbytes(outputs, lib: str) -> int:
    """Total bytes of the distinct blocks the graph behind ``outputs`` saved (``lib``: which)."""
    blocks = (torch_saved if lib == "torch" else leafgrad_saved)(outputs)
    return sum(blocks.values())
