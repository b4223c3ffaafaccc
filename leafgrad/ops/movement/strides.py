"""PyTorch's result layouts (strides) for ops whose NumPy result is laid out otherwise.

A non-view result's strides are semantics wherever code reads memory order: ``contiguous()``
returns the tensor itself when it is already contiguous (so an in-place op on that result
changes the original), ``stride()`` and ``is_contiguous()`` are public, ``view`` and
``as_strided`` read memory, and the preserve-format factories (``empty_like``, ``rand_like``...)
copy the input's layout, which the generator then fills in memory order. NumPy lays results
out by its own rules (fancy indexing and ``np.flip`` keep the source's order, reductions and
``moveaxis`` follow their axes), so the ops re-lay their results with the three rules PyTorch's
kernels use:

- ``row_major``: ``at::empty(sizes)`` / ``LEGACY_CONTIGUOUS_MEMORY_FORMAT`` (softmax, layer
  norm, roll, repeat, tril/triu, scatter-style ops);
- ``preserve``: ``empty_like(x)`` with ``torch.preserve_format`` (clone-like ops: flip, sort,
  index_fill): ``x``'s strides when ``x`` is non-overlapping and dense, else
  ``infer_dense_strides`` (``x``'s dims ordered by stride, a stride 0 left in place);
- ``suggested``: ``empty_like(x, x.suggest_memory_format())`` (batch norm, group norm, cat):
  channels-last when ``x``'s strides say so (4-d and 5-d), else row-major.

Every helper takes a fresh result array (no other array shares its memory) and returns it
unchanged when its layout already agrees, so the common contiguous case costs a flag test.
"""

from __future__ import annotations

from ...backend import array_module

__all__ = ["copy_preserve", "dense_perm", "empty_in", "is_dense", "like_perm", "preserve",
           "relaid", "reorder", "row_major", "suggested", "suggested_perm"]


def _elem_strides(a) -> tuple:
    # NOTE: a NumPy view may have negative strides (PyTorch never does; the op that made it
    # copied): the magnitude orders the dims as PyTorch orders the copy's
    return tuple(abs(s) // a.itemsize if a.itemsize else 0 for s in a.strides)


def reorder(shape: tuple, ops: list) -> list:
    """``TensorIterator::reorder_dimensions`` (and ``infer_dense_strides`` with one operand):
    the dims, fastest first, by an insertion sort on the operands' strides (a stride 0 is
    ambiguous and defers to the next operand; equal strides put the smaller dim first)."""
    def should_swap(d0: int, d1: int) -> int:
        for st in ops:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 < s1:
                return -1
            if s0 > s1:
                return 1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    n = len(shape)
    perm = list(range(n - 1, -1, -1))
    for i in range(1, n):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return perm


def is_dense(a) -> bool:
    """``is_non_overlapping_and_dense``: the elements fill a block of memory without gaps."""
    st = _elem_strides(a)
    dims = sorted((d for d in range(a.ndim) if a.shape[d] > 1), key=lambda d: st[d])
    expected = 1
    for d in dims:
        if st[d] != expected:
            return False
        expected *= a.shape[d]
    return True


def dense_perm(a) -> list:
    """The dim order (fastest first) of ``empty_like(a)`` under ``torch.preserve_format``."""
    # NOTE: for a dense input this reproduces its strides (size-1 dims aside, whose stride
    # nothing reads); for another it is infer_dense_strides
    return reorder(a.shape, [_elem_strides(a)])


def _channels_last(shape: tuple, st: tuple, order: tuple) -> bool:
    """``is_channels_last_strides_{2,3}d_s{4,5}``, ambiguity rules included."""
    if st[1] == 0:
        return False  # a trivial channel dim: NCHW
    lo = 0
    for d in order:
        if shape[d] == 0 or st[d] < lo:
            return False
        if d == 0 and lo == st[1]:
            return False  # N111-like: ambiguous, NCHW
        lo = st[d] * shape[d] if shape[d] > 1 else st[d]
    return True


def suggested_perm(a) -> list | None:
    """``suggest_memory_format``: channels-last's dim order for a 4-d/5-d array whose strides
    are channels-last's, else None (row-major)."""
    if a.ndim == 4 and _channels_last(a.shape, _elem_strides(a), (1, 3, 2, 0)):
        return [1, 3, 2, 0]
    if a.ndim == 5 and _channels_last(a.shape, _elem_strides(a), (1, 4, 3, 2, 0)):
        return [1, 4, 3, 2, 0]
    return None


def _agrees(y, perm: list) -> bool:
    st = _elem_strides(y)
    acc = 1
    for d in perm:
        n = y.shape[d]
        if n > 1 and st[d] != acc:
            return False
        acc *= max(n, 1)
    return True


def empty_in(shape: tuple, perm: list | None, dtype, xp):
    """An uninitialised array of ``shape`` whose dims run fastest-first in ``perm``."""
    if perm is None:
        return xp.empty(shape, dtype=dtype)
    rev = perm[::-1]
    buf = xp.empty(tuple(shape[d] for d in rev), dtype=dtype)
    return buf.transpose(tuple(rev.index(d) for d in range(len(shape))))


def relaid(y, perm: list | None):
    """``y`` laid out with dims fastest-first in ``perm`` (None: row-major); ``y`` itself when
    it already is."""
    if y.ndim < 2 or y.size < 2:
        return y
    if perm is None:
        if y.flags.c_contiguous:
            return y
    elif _agrees(y, perm):
        return y
    out = empty_in(y.shape, perm, y.dtype, array_module(y))
    out[...] = y
    return out


def row_major(y):
    """``y`` row-major (PyTorch's ``at::empty`` result)."""
    return relaid(y, None)


def preserve(y, x):
    """``y`` (of ``x``'s shape) laid out as ``empty_like(x)`` is: preserve_format."""
    if x.flags.c_contiguous and y.flags.c_contiguous:
        return y
    return relaid(y, dense_perm(x))


def suggested(y, x):
    """``y`` laid out in ``x.suggest_memory_format()`` (row-major unless channels-last)."""
    return relaid(y, suggested_perm(x) if y.ndim == x.ndim else None)


def copy_preserve(a):
    """A fresh copy of ``a`` laid out as ``a.clone()`` is (preserve_format)."""
    if a.flags.c_contiguous:
        return a.copy()
    out = empty_in(a.shape, dense_perm(a), a.dtype, array_module(a))
    out[...] = a
    return out


def like_perm(a, memory_format=None) -> list | None:
    """The dim order (fastest first; None: row-major) of ``empty_like(a, memory_format=...)``,
    which every ``*_like`` factory allocates (and the random ones then fill in memory order).

    ``memory_format`` is read by its name, as ``torch.preserve_format`` (the default) or any
    object printing as one of PyTorch's formats (or its bare name: ``"contiguous"``)."""
    name = "preserve" if memory_format is None else str(memory_format).split(".")[-1]
    name = name.removesuffix("_format")  # ("contiguous" as leafgrad's callers spell it)
    if name == "preserve":
        return dense_perm(a) if not a.flags.c_contiguous else None
    if name == "contiguous":
        return None
    rank = {"channels_last": 4, "channels_last_3d": 5}.get(name)
    if rank is None:
        raise RuntimeError(
            f"unsupported memory format {memory_format}\nWhy: the *_like factories take "
            "torch.preserve_format, torch.contiguous_format, torch.channels_last or "
            "torch.channels_last_3d.")
    if a.ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {name} format\nWhy: "
                           f"{name} orders the dims of a {rank}-d tensor only.")
    return [1, 3, 2, 0] if rank == 4 else [1, 4, 3, 2, 0]
