"""Free functions of the shape area (``leafgrad.cat``, ``leafgrad.gather``, ...) and its
creation helpers (``logspace``, ``tril_indices``, ``meshgrid``)."""

from __future__ import annotations

import warnings

from ... import dtypes as _dt
from ..._dims import NO_DIM as _NO_DIM
from ..._out import out_variant


def _link() -> None:
    """Import what this module needs from modules that import it (docs/design.md, "The import
    cycle"); run once by leafgrad.tensor when Tensor exists."""
    global Tensor, _ops
    from ...ops import movement as _ops
    from ...tensor import Tensor


def reshape(input, shape) -> Tensor:  # noqa: A002
    """Same elements in a new shape."""
    return input.reshape(shape)


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # noqa: A002
    """Merge a range of dims into one."""
    return input.flatten(start_dim, end_dim)


def transpose(input, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """Swap two dims."""
    return input.transpose(dim0, dim1)


def t(input) -> Tensor:  # noqa: A002
    """Transpose a tensor of at most 2 dims."""
    return input.t()


def permute(input, dims) -> Tensor:  # noqa: A002
    """Reorder dims."""
    return input.permute(dims)


def squeeze(input, dim=_NO_DIM) -> Tensor:  # noqa: A002
    """Remove size-1 dims."""
    return input.squeeze(dim)


def unsqueeze(input, dim: int) -> Tensor:  # noqa: A002
    """Insert a size-1 dim."""
    return input.unsqueeze(dim)


def swapaxes(input, axis0: int, axis1: int) -> Tensor:  # noqa: A002
    """Swap two dims (alias of transpose)."""
    return input.transpose(axis0, axis1)


swapdims = swapaxes


def unflatten(input, dim: int, sizes) -> Tensor:  # noqa: A002
    """Split one dim into several.

    >>> import leafgrad
    >>> leafgrad.unflatten(leafgrad.zeros(6), 0, (2, 3)).shape
    torch.Size([2, 3])
    """
    return input.unflatten(dim, sizes)


def movedim(input, source, destination) -> Tensor:  # noqa: A002
    """Move dims to new positions (a view)."""
    return input.movedim(source, destination)


moveaxis = movedim


def broadcast_to(input, size) -> Tensor:  # noqa: A002
    """Expand to ``size`` by broadcasting (a view)."""
    return input.broadcast_to(size)


def broadcast_tensors(*tensors) -> tuple:
    """Expand all tensors to their common broadcast shape.

    >>> import leafgrad
    >>> [t.shape for t in leafgrad.broadcast_tensors(leafgrad.zeros(2, 1), leafgrad.zeros(3))]
    [torch.Size([2, 3]), torch.Size([2, 3])]
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return _ops.broadcast_tensors(*tensors)


def broadcast_shapes(*shapes):
    """The broadcast shape of several shapes.

    >>> import leafgrad
    >>> leafgrad.broadcast_shapes((2, 1), (3,))
    torch.Size([2, 3])
    """
    from ...size import Size

    return Size(_ops.broadcast_shapes(*shapes))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None) -> Tensor:  # noqa: A002
    """Repeat each element consecutively (``repeat_interleave(repeats)`` repeats arange)."""
    if repeats is None:  # torch.repeat_interleave(repeats_tensor)
        from ...creation import arange

        return arange(input._data.shape[0]).repeat_interleave(input)
    return input.repeat_interleave(repeats, dim, output_size=output_size)


def tile(input, dims) -> Tensor:  # noqa: A002
    """Repeat the tensor along each dim (counts padded with leading ones)."""
    return input.tile(dims)


def flip(input, dims) -> Tensor:  # noqa: A002
    """Reverse the order along ``dims``.

    >>> import leafgrad
    >>> leafgrad.flip(leafgrad.tensor([1, 2, 3]), [0])
    tensor([3, 2, 1])
    """
    return input.flip(dims)


def fliplr(input) -> Tensor:  # noqa: A002
    """Reverse the order along dim 1."""
    return input.fliplr()


def flipud(input) -> Tensor:  # noqa: A002
    """Reverse the order along dim 0."""
    return input.flipud()


def roll(input, shifts, dims=None) -> Tensor:  # noqa: A002
    """Rotate elements along dims."""
    return input.roll(shifts, dims)


def rot90(input, k: int = 1, dims=(0, 1)) -> Tensor:  # noqa: A002
    """Rotate by 90 degrees in a plane."""
    return input.rot90(k, dims)


@out_variant(error=TypeError)
def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate along an existing dim.

    >>> import leafgrad
    >>> leafgrad.cat([leafgrad.zeros(1, 2), leafgrad.ones(2, 2)]).shape
    torch.Size([3, 2])
    """
    return _ops.cat(tensors, dim)


concat = concatenate = cat


@out_variant(error=TypeError)
def stack(tensors, dim: int = 0) -> Tensor:
    """Stack same-shape tensors along a new dim.

    >>> import leafgrad
    >>> leafgrad.stack([leafgrad.zeros(2), leafgrad.ones(2)], 1).shape
    torch.Size([2, 2])
    """
    return _ops.stack(tensors, dim)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (a tuple for several)."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (a tuple for several)."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims (a tuple for several).

    >>> import leafgrad
    >>> leafgrad.atleast_3d(leafgrad.zeros(4)).shape
    torch.Size([1, 4, 1])
    """
    return _atleast(tensors, 3)


def _atleast(tensors, n: int):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_ops.atleast(t_, n) for t_ in tensors[0])
    if len(tensors) == 1:
        return _ops.atleast(tensors[0], n)
    return tuple(_ops.atleast(t_, n) for t_ in tensors)


@out_variant(error=TypeError)
def hstack(tensors) -> Tensor:
    """Concatenate along dim 1 (dim 0 for 1-d tensors)."""
    ts = [_ops.atleast(t_, 1) for t_ in tensors]
    return _ops.cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


@out_variant(error=TypeError)
def vstack(tensors) -> Tensor:
    """Concatenate along dim 0 after making each tensor at least 2-d."""
    return _ops.cat([_ops.atleast(t_, 2) for t_ in tensors], 0)


@out_variant(error=TypeError)
def dstack(tensors) -> Tensor:
    """Concatenate along dim 2 after making each tensor at least 3-d."""
    return _ops.cat([_ops.atleast(t_, 3) for t_ in tensors], 2)


@out_variant(error=TypeError)
def column_stack(tensors) -> Tensor:
    """Stack 0-d/1-d tensors as columns, concatenating the rest along dim 1."""
    ts = [t_.reshape(t_._data.size, 1) if t_._data.ndim <= 1 else t_ for t_ in tensors]
    return _ops.cat(ts, 1)


def split(tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into pieces of a size, or of listed sizes (views).

    >>> import leafgrad
    >>> [p.tolist() for p in leafgrad.split(leafgrad.arange(5), 2)]
    [[0, 1], [2, 3], [4]]
    """
    return tensor.split(split_size_or_sections, dim)


def tensor_split(input, indices_or_sections, dim: int = 0) -> tuple:  # noqa: A002
    """Split at indices or into n nearly equal parts (views)."""
    return input.tensor_split(indices_or_sections, dim)


def chunk(input, chunks: int, dim: int = 0) -> tuple:  # noqa: A002
    """At most ``chunks`` equal pieces (views)."""
    return input.chunk(chunks, dim)


def unbind(input, dim: int = 0) -> tuple:  # noqa: A002
    """The slices along ``dim``."""
    return input.unbind(dim)


def narrow(input, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    """A narrowed view along ``dim``."""
    return input.narrow(dim, start, length)


def select(input, dim: int, index: int) -> Tensor:  # noqa: A002
    """The slice at ``index`` along ``dim``."""
    return input.select(dim, index)


@out_variant(rule="exact")
def index_select(input, dim: int, index) -> Tensor:  # noqa: A002
    """Entries along ``dim`` at ``index``."""
    return input.index_select(dim, index)


@out_variant(rule="exact", alias="refuse")
def gather(input, dim: int, index, *, sparse_grad: bool = False) -> Tensor:  # noqa: A002
    """Values picked along ``dim`` by ``index``.

    >>> import leafgrad
    >>> leafgrad.gather(leafgrad.tensor([[1, 2], [3, 4]]), 1, leafgrad.tensor([[1], [0]]))
    tensor([[2],
            [3]])
    """
    return input.gather(dim, index)


@out_variant(rule="exact")
def take(input, index) -> Tensor:  # noqa: A002
    """Elements of the flattened tensor at ``index``."""
    return input.take(index)


@out_variant(rule="exact", alias="refuse")
def take_along_dim(input, indices, dim=None) -> Tensor:  # noqa: A002
    """Values at ``indices`` along ``dim``."""
    return input.take_along_dim(indices, dim)


@out_variant(rule="exact")
def scatter(input, dim: int, index, src=None, *, value=None, reduce=None) -> Tensor:  # noqa: A002
    """A copy with ``src`` written at ``index`` along ``dim``."""
    return input.scatter(dim, index, src, value=value, reduce=reduce)


@out_variant(rule="exact")
def scatter_add(input, dim: int, index, src) -> Tensor:  # noqa: A002
    """A copy with ``src`` added at ``index`` along ``dim``."""
    return input.scatter_add(dim, index, src)


@out_variant(rule="exact")
def scatter_reduce(input, dim: int, index, src, reduce: str, *,  # noqa: A002
                   include_self: bool = True) -> Tensor:
    """Reduce ``src`` into a copy of ``input`` at ``index``."""
    return input.scatter_reduce(dim, index, src, reduce, include_self=include_self)


@out_variant(rule="exact")
def index_add(input, dim: int, index, source, *, alpha=1) -> Tensor:  # noqa: A002
    """A copy with ``alpha * source`` added at ``index`` along ``dim``."""
    return input.index_add(dim, index, source, alpha=alpha)


@out_variant(rule="exact")
def index_copy(input, dim: int, index, source) -> Tensor:  # noqa: A002
    """A copy with slices at ``index`` replaced from ``source``."""
    return input.index_copy(dim, index, source)


def index_fill(input, dim: int, index, value) -> Tensor:  # noqa: A002
    """A copy with slices at ``index`` set to ``value``."""
    return input.index_fill(dim, index, value)


def index_put(input, indices, values, accumulate: bool = False) -> Tensor:  # noqa: A002
    """A copy with ``values`` put at ``indices``."""
    return input.index_put(indices, values, accumulate)


def masked_fill(input, mask, value) -> Tensor:  # noqa: A002
    """A copy with ``value`` where ``mask`` is true."""
    return input.masked_fill(mask, value)


@out_variant(rule="exact")
def masked_select(input, mask) -> Tensor:  # noqa: A002
    """The elements where ``mask`` is true (1-d)."""
    return input.masked_select(mask)


def masked_scatter(input, mask, source) -> Tensor:  # noqa: A002
    """A copy with the true places of ``mask`` filled from ``source``."""
    return input.masked_scatter(mask, source)


@out_variant(rule="exact")
def nonzero(input, *, as_tuple: bool = False):  # noqa: A002
    """Indices of the non-zero elements.

    >>> import leafgrad
    >>> leafgrad.nonzero(leafgrad.tensor([0, 3, 0, 4]))
    tensor([[1],
            [3]])
    """
    return input.nonzero(as_tuple=as_tuple)


def argwhere(input) -> Tensor:  # noqa: A002
    """Indices of the non-zero elements as an (n, ndim) tensor."""
    return input.argwhere()


@out_variant(rule="exact")
def tril(input, diagonal: int = 0) -> Tensor:  # noqa: A002
    """Lower triangle."""
    return input.tril(diagonal)


@out_variant(rule="exact")
def triu(input, diagonal: int = 0) -> Tensor:  # noqa: A002
    """Upper triangle."""
    return input.triu(diagonal)


@out_variant(rule="exact")
def diag(input, diagonal: int = 0) -> Tensor:  # noqa: A002
    """Diagonal matrix from a vector, or a matrix's diagonal."""
    return input.diag(diagonal)


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The diagonal over two dims (a view)."""
    return input.diagonal(offset, dim1, dim2)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """The last dim on the diagonal of two new dims."""
    return input.diag_embed(offset, dim1, dim2)


def diagflat(input, offset: int = 0) -> Tensor:  # noqa: A002
    """The flattened input as a matrix diagonal."""
    return input.diagflat(offset)


def trace(input) -> Tensor:  # noqa: A002
    """Sum of the main diagonal.

    >>> import leafgrad
    >>> leafgrad.trace(leafgrad.eye(3))
    tensor(3.)
    """
    return input.trace()


@out_variant(rule="exact")
def sort(input, dim: int = -1, descending: bool = False, *, stable: bool = False):  # noqa: A002
    """Sorted values and indices (a named tuple)."""
    return input.sort(dim, descending, stable=stable)


@out_variant(rule="exact", needs=('stable',))
def argsort(input, dim: int = -1, descending: bool = False, *, stable: bool = False):  # noqa: A002
    """Indices that sort along ``dim``."""
    return input.argsort(dim, descending, stable=stable)


@out_variant(rule="exact")
def msort(input) -> Tensor:  # noqa: A002
    """Values sorted along dim 0."""
    return input.msort()


@out_variant(rule="exact")
def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The k largest (or smallest) values and their indices."""
    return input.topk(k, dim, largest, sorted)


@out_variant(rule="exact")
def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """The k-th smallest value and its index."""
    return input.kthvalue(k, dim, keepdim)


def unique(input, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):
    """Distinct values, optionally with inverse indices and counts.

    >>> import leafgrad
    >>> leafgrad.unique(leafgrad.tensor([3, 1, 3]))
    tensor([1, 3])
    """
    return input.unique(sorted, return_inverse, return_counts, dim)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
                       dim=None):
    """Runs of equal consecutive values collapsed."""
    return input.unique_consecutive(return_inverse, return_counts, dim)


def bincount(input, weights=None, minlength: int = 0) -> Tensor:  # noqa: A002
    """Count of each non-negative integer value.

    >>> import leafgrad
    >>> leafgrad.bincount(leafgrad.tensor([0, 2, 2]))
    tensor([1, 0, 2])
    """
    return input.bincount(weights, minlength)


@out_variant(rule="exact")
def histc(input, bins: int = 100, min=0, max=0) -> Tensor:  # noqa: A002
    """Histogram with equal-width bins."""
    return input.histc(bins, min, max)


@out_variant(rule="exact")
def histogram(input, bins=100, *, range=None, weight=None,  # noqa: A002
              density: bool = False):
    """(hist, bin_edges): a histogram of ``input`` with ``bins`` equal bins (or given edges).

    >>> import leafgrad
    >>> histogram(leafgrad.tensor([1., 2., 1., 4.]), bins=3).hist
    tensor([2., 1., 1.])
    """
    return input.histogram(bins, range=range, weight=weight, density=density)


@out_variant(rule="exact")
def searchsorted(sorted_sequence, values, *, out_int32: bool = False, right: bool = False,
                 side=None, sorter=None) -> Tensor:
    """Insertion indices that keep ``sorted_sequence`` sorted.

    >>> import leafgrad
    >>> leafgrad.searchsorted(leafgrad.tensor([1, 3, 5]), leafgrad.tensor([3, 6]))
    tensor([1, 3])
    """
    return _ops.searchsorted(sorted_sequence, values, out_int32=out_int32, right=right,
                             side=side, sorter=sorter)


@out_variant(rule="exact")
def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False) -> Tensor:  # noqa: A002
    """Bucket index of each value."""
    return _ops.bucketize(input, boundaries, out_int32=out_int32, right=right)


def clone(input, *, memory_format=None) -> Tensor:  # noqa: A002
    """A copy recorded in the graph (CloneBackward0)."""
    return input.clone()


# -- creation helpers of this area -----------------------------------------------------------
@out_variant(rule="dtype", resize_warns=False)
def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` points from ``base**start`` to ``base**end``, evenly spaced in the exponent.

    >>> import leafgrad
    >>> leafgrad.logspace(0, 2, 3)
    tensor([  1.,  10., 100.])
    """
    import numpy as np

    from ...creation import tensor

    dt = _dt.as_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    if dt.np.kind == "b":
        raise NotImplementedError("\"logspace_cpu\" not implemented for 'Bool'\nWhy: powers of "
                                  "a base are numbers, not truth values; pass a numeric dtype.")
    # NOTE: torch computes in double and casts (integer dtypes truncate)
    vals = np.power(float(base), np.linspace(float(start), float(end), int(steps)))
    return tensor(vals.astype(dt.np), dtype=dt, device=device, requires_grad=requires_grad)


def _tri_indices(row: int, col: int, offset: int, upper: bool, dtype):
    import numpy as np

    from ...creation import tensor

    r, c = np.triu_indices(row, offset, col) if upper else np.tril_indices(row, offset, col)
    dt = _dt.as_dtype(dtype) if dtype is not None else _dt.int64
    return tensor(np.stack([r, c]).astype(dt.np).reshape(2, -1), dtype=dt)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """Row and column indices of the lower triangle of a row x col matrix (2 x n).

    >>> import leafgrad
    >>> leafgrad.tril_indices(2, 2)
    tensor([[0, 1, 1],
            [0, 0, 1]])
    """
    return _tri_indices(row, col, offset, False, dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """Row and column indices of the upper triangle of a row x col matrix (2 x n)."""
    return _tri_indices(row, col, offset, True, dtype)


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-d tensors (``indexing='ij'`` by default, as torch today).

    >>> import leafgrad
    >>> [g.shape for g in leafgrad.meshgrid(leafgrad.zeros(2), leafgrad.zeros(3), indexing="ij")]
    [torch.Size([2, 3]), torch.Size([2, 3])]
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            "torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: " + indexing)
    ts = list(tensors)
    for t_ in ts:
        if t_._data.ndim > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t_}")
    ts = [t_.reshape(-1) for t_ in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    n = len(ts)
    shape = tuple(t_._data.shape[0] for t_ in ts)
    grids = [t_.reshape(tuple(-1 if k == i else 1 for k in range(n))).expand(shape)
             for i, t_ in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)
