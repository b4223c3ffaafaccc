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
                # NOTE: leafgrad.ops.lastbits pads a kernel's buffer by two elements and returns
                # a view of the rest (a float64 exp / sigmoid result): count what is used
                n = v.nbytes if r.ndim == 1 and v.flags.c_contiguous and \
                    r.size - v.size <= 2 else r.nbytes
                blocks[r.__array_interface__["data"][0]] = max(
                    n, blocks.get(r.__array_interface__["data"][0], 0))
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


def saved_blocks(outputs, lib: str) -> dict:
    """``{address: bytes}`` of the distinct blocks the graph behind ``outputs`` saved."""
    return (torch_saved if lib == "torch" else leafgrad_saved)(outputs)


def saved_nbytes(outputs, lib: str) -> int:
    """Total bytes of the distinct blocks the graph behind ``outputs`` saved (``lib``: which)."""
    blocks = (torch_saved if lib == "torch" else leafgrad_saved)(outputs)
    return sum(blocks.values())


# -- the table: every op-table row, saved bytes in leafgrad and torch ---------------------------
def _row_inputs(op, shapes, dtype: str, seed: int = 1) -> list:
    rng = np.random.default_rng(seed)
    lo, hi = op.domain
    return [np.asarray(rng.uniform(lo, hi, size=s).astype(dtype)) for s in shapes]


def _patterns(n: int) -> list[tuple[bool, ...]]:
    """Which inputs require grad: all of them, then each alone (what the other's gradient needs
    decides what a node saves: ``x * w`` with only ``x`` requiring grad saves ``w`` alone)."""
    pats = [(True,) * n]
    if n > 1:
        pats += [tuple(j == i for j in range(n)) for i in range(n)]
    return pats


def row_saved(op, shapes, dtype: str, pattern) -> tuple[int, int] | None:
    """(leafgrad bytes, torch bytes) saved by the graph of op-table row ``op`` on ``shapes``,
    inputs requiring grad by ``pattern``; None when torch does not run it or records nothing."""
    import torch

    import leafgrad

    arrs = _row_inputs(op, shapes, dtype)
    th = [torch.tensor(a.copy(), requires_grad=r) for a, r in zip(arrs, pattern)]
    try:
        t_out = op.fn(torch, *th)
    except Exception:
        return None
    t_outs = [o for o in (t_out if isinstance(t_out, (list, tuple)) else [t_out])
              if isinstance(o, torch.Tensor) and o.grad_fn is not None]
    if not t_outs:
        return None
    lg = [leafgrad.tensor(a.copy(), requires_grad=r) for a, r in zip(arrs, pattern)]
    l_out = op.fn(leafgrad, *lg)
    l_outs = [o for o in (l_out if isinstance(l_out, (list, tuple)) else [l_out])
              if isinstance(o, leafgrad.Tensor) and o.grad_fn is not None]
    return saved_nbytes(l_outs, "leafgrad"), saved_nbytes(t_outs, "torch")


def table(ops, dtype: str = "float64"):
    """Yield (row name, pattern, leafgrad bytes, torch bytes) for the first sample of each row."""
    for op in ops:
        if not op.grad:
            continue
        dt = dtype if dtype in op.dtypes else op.dtypes[0]
        samples = list(op.shapes())
        # a sample of non-empty, at least 1-d inputs, where one exists (0-d results may be
        # views of a kernel's scratch buffer, which says nothing about what a node saves)
        shapes = next((s for s in samples if all(len(d) and all(d) for d in s)), samples[0])
        for pat in _patterns(len(shapes)):
            r = row_saved(op, shapes, dt, pat)
            if r is not None:
                yield op.name, pat, r[0], r[1]
