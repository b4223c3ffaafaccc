"""Shape and indexing Tensor methods: views, reshapes, transposes, indexing."""

from __future__ import annotations

import warnings

from ... import dtypes as _dt
from ..._dims import NO_DIM as _NO_DIM
from ..._dims import parse_dims, parse_size_neg
from ...autograd.node import keep_recorded_shape as _keep_recorded_shape


def _link() -> None:
    """Import what this module needs from modules that import it (docs/design.md, "The import
    cycle"); run once by leafgrad.tensor when Tensor exists."""
    global Tensor, _ops, _set_history
    from ...ops import movement as _ops
    from ...ops.inplace_view import set_history as _set_history
    from ...tensor import Tensor


class ShapeMethods:
    """Tensor methods for shape and indexing ops (mixed into Tensor)."""

    __slots__ = ()

    # -- shape -----------------------------------------------------------------------------
    def reshape(self, *shape) -> Tensor:
        """The same elements in a new shape (a view when possible). One dim may be -1."""
        return _ops.reshape(self, parse_size_neg(shape))

    def view(self, *shape) -> Tensor:
        """A view with a new shape; fails when the memory layout does not allow it."""
        if len(shape) == 1 and isinstance(shape[0], _dt.dtype):
            raise NotImplementedError("view(dtype) is not supported yet; use .to(dtype)")
        return _ops.view(self, parse_size_neg(shape))

    def view_as(self, other: Tensor) -> Tensor:
        """View with ``other``'s shape."""
        return self.view(other._data.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        """Reshape to ``other``'s shape."""
        return self.reshape(other._data.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dims ``start_dim..end_dim`` into one."""
        return _ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions (a view)."""
        return _ops.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def t(self) -> Tensor:
        """Transpose a tensor of at most 2 dims."""
        return _ops.t(self)

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """All dims reversed (PyTorch recommends mT for matrices)."""
        if self._data.ndim != 2:
            warnings.warn(
                "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                "deprecated and it will throw an error in a future release. Consider `x.mT` to "
                "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
                "to reverse the dimensions of a tensor.", UserWarning, stacklevel=2,
            )
        return _ops.permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The last two dims swapped (batched matrix transpose)."""
        if self._data.ndim == 0:
            # NOTE: PyTorch 2.13 returns a 0-d tensor itself, with a deprecation warning
            warnings.warn("Tensor.mT is deprecated on 0-D tensors. This function is the identity "
                          "in these cases.", UserWarning, stacklevel=2)
            return self
        if self._data.ndim < 2:
            raise RuntimeError(
                f"tensor.mT is only supported on matrices or batches of matrices. Got "
                f"{self._data.ndim}-D tensor."
            )
        return self.transpose(-2, -1)

    def permute(self, *dims) -> Tensor:
        """Reorder dimensions (a view)."""
        return _ops.permute(self, parse_dims(dims))

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a dimension of size 1."""
        return _ops.unsqueeze(self, dim)

    # -- in-place shape changes: the tensor itself takes the view's shape and strides ----------
    def _reshape_inplace(self, name: str, view: Tensor, node=None) -> Tensor:
        """Make this tensor take ``view``'s layout (same memory); in the graph, its node becomes
        the view op's, renamed as PyTorch names the in-place variant (``node``)."""
        x = self._x
        is_view = x is not None and x.base is not None
        if self._rg or (is_view and self.requires_grad):
            self._check_inplace(name, True)  # a leaf, or a view PyTorch does not let change
        fn = view._fn
        if fn is None and self._fn is not None:  # not recorded (no_grad): keep what was
            _keep_recorded_shape(self, self._data.shape)
        self._data = view._data
        self._bump_version()
        if fn is not None and node is not None:
            fn.__class__ = node  # e.g. TBackward0 -> TBackward1 (same slots, same backward)
        if fn is not None:
            _set_history(self, fn)
            if is_view:
                x.seen = self._vc.v  # its node is current: no regeneration
        return self

    def unsqueeze_(self, dim: int) -> Tensor:
        """In-place :meth:`unsqueeze`.

        >>> import leafgrad
        >>> x = leafgrad.ones(2, requires_grad=True) * 1; x.unsqueeze_(0).grad_fn.name()
        'UnsqueezeBackward1'
        """
        return self._reshape_inplace("unsqueeze_", _ops.unsqueeze(self, dim),
                                     _ops.UnsqueezeInplace)

    def squeeze_(self, dim=_NO_DIM) -> Tensor:
        """In-place :meth:`squeeze`."""
        dim = _squeeze_dim(dim, "squeeze_")
        node = (_ops.SqueezeInplace if dim is None else _ops.SqueezeDimsInplace
                if isinstance(dim, (tuple, list)) else _ops.SqueezeDimInplace)
        return self._reshape_inplace("squeeze_", self.squeeze(dim) if dim is not None
                                     else self.squeeze(), node)

    def t_(self) -> Tensor:
        """In-place :meth:`t`."""
        return self._reshape_inplace("t_", self.t(), _ops.TInplace)

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        """In-place :meth:`transpose`."""
        return self._reshape_inplace("transpose_", self.transpose(dim0, dim1),
                                     _ops.TransposeInplace)

    def swapdims_(self, dim0: int, dim1: int) -> Tensor:
        """In-place :meth:`swapdims`."""
        return self._reshape_inplace("swapdims_", self.transpose(dim0, dim1),
                                     _ops.TransposeInplace)

    swapaxes_ = swapdims_

    def squeeze(self, dim=_NO_DIM) -> Tensor:
        """Remove dimensions of size 1 (all, or those in ``dim``)."""
        return _ops.squeeze(self, _squeeze_dim(dim, "squeeze"))

    def expand(self, *sizes) -> Tensor:
        """Broadcast size-1 dims to larger sizes without copying (-1 keeps a size)."""
        return _ops.expand(self, parse_size_neg(sizes))

    def expand_as(self, other: Tensor) -> Tensor:
        """Expand to ``other``'s shape."""
        return self.expand(other._data.shape)

    def unflatten(self, dim: int, sizes) -> Tensor:
        """Split dim ``dim`` into ``sizes`` (a view)."""
        return _ops.unflatten(self, dim, sizes)

    def movedim(self, source, destination) -> Tensor:
        """Move dims ``source`` to positions ``destination`` (a view)."""
        return _ops.movedim(self, source, destination)

    moveaxis = movedim

    def broadcast_to(self, size) -> Tensor:
        """Expand to ``size`` by broadcasting (a view)."""
        return _ops.expand(self, parse_size_neg((size,)))

    def repeat(self, *sizes) -> Tensor:
        """Tile the tensor ``sizes`` times along each dim (a copy).

        >>> import leafgrad
        >>> leafgrad.tensor([1, 2]).repeat(2)
        tensor([1, 2, 1, 2])
        """
        return _ops.repeat(self, parse_size_neg(sizes))

    def tile(self, *dims) -> Tensor:
        """``repeat`` with the counts padded by leading ones."""
        return _ops.tile(self, parse_size_neg(dims))

    def repeat_interleave(self, repeats, dim=None, *, output_size=None) -> Tensor:
        """Repeat each element ``repeats`` times in a row."""
        return _ops.repeat_interleave(self, repeats, dim, output_size)

    def flip(self, *dims) -> Tensor:
        """Reverse the order along ``dims``."""
        return _ops.flip(self, parse_dims(dims))

    def fliplr(self) -> Tensor:
        """Reverse the order along dim 1."""
        if self._data.ndim < 2:
            raise RuntimeError("Input must be >= 2-d.")
        return _ops.flip(self, (1,))

    def flipud(self) -> Tensor:
        """Reverse the order along dim 0."""
        if self._data.ndim < 1:
            raise RuntimeError("Input must be >= 1-d.")
        return _ops.flip(self, (0,))

    def roll(self, shifts, dims=None) -> Tensor:
        """Rotate elements along ``dims`` by ``shifts``."""
        return _ops.roll(self, shifts, dims)

    def rot90(self, k: int = 1, dims=(0, 1)) -> Tensor:
        """Rotate by 90 degrees ``k`` times in the plane ``dims``."""
        return _ops.rot90(self, k, dims)

    def split(self, split_size, dim: int = 0) -> tuple:
        """Pieces of size ``split_size`` (or of the listed sizes) along ``dim`` (views)."""
        return _ops.split(self, split_size, dim)

    def tensor_split(self, indices_or_sections, dim: int = 0) -> tuple:
        """Split at indices, or into n nearly equal parts (views)."""
        return _ops.tensor_split(self, indices_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """At most ``chunks`` equal pieces along ``dim`` (views)."""
        return _ops.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple:
        """The slices along ``dim`` as a tuple of tensors (views)."""
        return _ops.unbind(self, dim)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """``length`` elements of ``dim`` from ``start`` (a view)."""
        return _ops.narrow(self, dim, start, length)

    def select(self, dim: int, index: int) -> Tensor:
        """The slice at ``index`` along ``dim``, without that dim (a view)."""
        return _ops.select(self, dim, int(index))

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        """Entries along ``dim`` at ``index``."""
        return _ops.index_select(self, dim, index)

    def gather(self, dim: int, index: Tensor) -> Tensor:
        """Values picked along ``dim`` by ``index``."""
        return _ops.gather(self, dim, index)

    def take(self, index: Tensor) -> Tensor:
        """Elements of the flattened tensor at ``index``."""
        return _ops.take(self, index)

    def take_along_dim(self, indices: Tensor, dim=None) -> Tensor:
        """Values at ``indices`` along ``dim``."""
        return _ops.take_along_dim(self, indices, dim)

    def scatter(self, dim: int, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:
        """A copy with ``src`` (or ``value``) written at ``index`` along ``dim``."""
        return _ops.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self, dim: int, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:
        """In-place ``scatter``."""
        return self._inplace(self.scatter, "scatter_", dim, index, src, value=value,
                             reduce=reduce)

    def scatter_add(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        """A copy with ``src`` added at ``index`` along ``dim``."""
        return _ops.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        """In-place ``scatter_add``."""
        return self._inplace(self.scatter_add, "scatter_add_", dim, index, src)

    def scatter_reduce(self, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                       include_self: bool = True) -> Tensor:
        """Reduce ``src`` into a copy at ``index`` (sum, prod, mean, amax, amin)."""
        return _ops.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def scatter_reduce_(self, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                        include_self: bool = True) -> Tensor:
        """In-place ``scatter_reduce``."""
        return self._inplace(self.scatter_reduce, "scatter_reduce_", dim, index, src, reduce,
                             include_self=include_self)

    def index_add(self, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
        """A copy with ``alpha * source`` added at ``index`` along ``dim``."""
        return _ops.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
        """In-place ``index_add``."""
        return self._inplace(self.index_add, "index_add_", dim, index, source, alpha=alpha)

    def index_copy(self, dim: int, index: Tensor, source: Tensor) -> Tensor:
        """A copy with slices at ``index`` along ``dim`` taken from ``source``."""
        return _ops.index_copy(self, dim, index, source)

    def index_copy_(self, dim: int, index: Tensor, source: Tensor) -> Tensor:
        """In-place ``index_copy``."""
        return self._inplace(self.index_copy, "index_copy_", dim, index, source)

    def index_fill(self, dim: int, index: Tensor, value) -> Tensor:
        """A copy with slices at ``index`` along ``dim`` set to ``value``."""
        return _ops.index_fill(self, dim, index, value)

    def index_fill_(self, dim: int, index: Tensor, value) -> Tensor:
        """In-place ``index_fill``."""
        return self._inplace(self.index_fill, "index_fill_", dim, index, value)

    def index_put(self, indices, values, accumulate: bool = False) -> Tensor:
        """A copy with ``values`` put (or added) at the advanced index ``indices``."""
        return _ops.index_put(self, indices, values, accumulate)

    def index_put_(self, indices, values, accumulate: bool = False) -> Tensor:
        """In-place ``index_put``."""
        return self._inplace(self.index_put, "index_put_", indices, values, accumulate)

    def masked_fill(self, mask: Tensor, value) -> Tensor:
        """A copy with ``value`` where ``mask`` is true.

        >>> import leafgrad
        >>> leafgrad.tensor([1., 2.]).masked_fill(leafgrad.tensor([True, False]), 0.)
        tensor([0., 2.])
        """
        return _ops.masked_fill(self, mask, value)

    def masked_fill_(self, mask: Tensor, value) -> Tensor:
        """In-place ``masked_fill``."""
        return self._inplace(self.masked_fill, "masked_fill_", mask, value)

    def masked_select(self, mask: Tensor) -> Tensor:
        """The elements where ``mask`` is true (1-d)."""
        return _ops.masked_select(self, mask)

    def masked_scatter(self, mask: Tensor, source: Tensor) -> Tensor:
        """A copy with the true places of ``mask`` filled from ``source`` in order."""
        return _ops.masked_scatter(self, mask, source)

    def masked_scatter_(self, mask: Tensor, source: Tensor) -> Tensor:
        """In-place ``masked_scatter``."""
        return self._inplace(self.masked_scatter, "masked_scatter_", mask, source)

    def nonzero(self, *, as_tuple: bool = False):
        """Indices of non-zero elements."""
        return _ops.nonzero(self, as_tuple)

    def argwhere(self) -> Tensor:
        """Indices of non-zero elements as an (n, ndim) tensor."""
        return _ops.nonzero(self, False)

    def tril(self, diagonal: int = 0) -> Tensor:
        """Lower triangle."""
        return _ops.tril(self, diagonal)

    def tril_(self, diagonal: int = 0) -> Tensor:
        """In-place ``tril``."""
        return self._inplace(self.tril, "tril_", diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        """Upper triangle."""
        return _ops.triu(self, diagonal)

    def triu_(self, diagonal: int = 0) -> Tensor:
        """In-place ``triu``."""
        return self._inplace(self.triu, "triu_", diagonal)

    def diag(self, diagonal: int = 0) -> Tensor:
        """Diagonal matrix from a vector, or a matrix's diagonal."""
        return _ops.diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The diagonal over ``dim1, dim2`` as the last dim (a view)."""
        return _ops.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        """The last dim placed on the diagonal of two new dims."""
        return _ops.diag_embed(self, offset, dim1, dim2)

    def diagflat(self, offset: int = 0) -> Tensor:
        """The flattened tensor as the diagonal of a matrix."""
        return _ops.diag_embed(self.reshape(-1), offset, 0, 1)

    def trace(self) -> Tensor:
        """Sum of the main diagonal."""
        return _ops.trace(self)

    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False):
        """Sorted values and their indices (a named tuple).

        >>> import leafgrad
        >>> leafgrad.tensor([3, 1, 2]).sort().indices
        tensor([1, 2, 0])
        """
        return _ops.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
        """Indices that sort along ``dim``."""
        return _ops.argsort(self, dim, descending, stable)

    def msort(self) -> Tensor:
        """Values sorted along dim 0."""
        return _ops.sort(self, 0)[0]

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
        """The ``k`` largest (or smallest) values and their indices."""
        return _ops.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False):
        """The ``k``-th smallest value along ``dim`` and its index."""
        return _ops.kthvalue(self, k, dim, keepdim)

    def unique(self, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
               return_counts: bool = False, dim=None):
        """Distinct values (and optionally inverse indices and counts)."""
        return _ops.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse: bool = False, return_counts: bool = False,
                           dim=None):
        """Runs of equal consecutive values collapsed to one."""
        return _ops.unique_consecutive(self, return_inverse, return_counts, dim)

    def bincount(self, weights=None, minlength: int = 0) -> Tensor:
        """Count of each non-negative integer value."""
        return _ops.bincount(self, weights, minlength)

    def histc(self, bins: int = 100, min=0, max=0) -> Tensor:  # noqa: A002
        """Histogram with equal-width bins."""
        return _ops.histc(self, bins, min, max)

    def histogram(self, bins=100, *, range=None, weight=None,  # noqa: A002
                  density: bool = False):
        """(hist, bin_edges) of this tensor's values (``bins``: a count or the edges)."""
        return _ops.histogram(self, bins, range=range, weight=weight, density=density)

    def as_strided(self, size, stride, storage_offset=None) -> Tensor:
        """A view of this tensor's memory with the given sizes, strides and offset (elements).

        >>> import leafgrad
        >>> leafgrad.arange(4.).as_strided((2, 2), (1, 1))
        tensor([[0., 1.],
                [1., 2.]])
        """
        return _ops.as_strided(self, size, stride, storage_offset)

    def storage_offset(self) -> int:
        """Where this tensor starts in its memory, in elements.

        >>> import leafgrad
        >>> leafgrad.arange(4.)[1:].storage_offset()
        1
        """
        return _ops.storage_offset(self)

    def ravel(self) -> Tensor:
        """The elements as a 1-d tensor (a view when the layout allows)."""
        return _ops.reshape(self, (-1,))

    # -- complex-number views of a real tensor: PyTorch returns the tensor itself ---------------
    @property
    def real(self) -> Tensor:
        """The real part: this tensor itself (leafgrad's tensors are real)."""
        return self

    @property
    def imag(self) -> Tensor:
        """Raises: a real tensor has no imaginary part (PyTorch's error)."""
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")

    def conj(self) -> Tensor:
        """The complex conjugate: this tensor itself for real dtypes."""
        return self

    resolve_conj = resolve_neg = conj

    def is_conj(self) -> bool:
        """False: real tensors carry no conjugate bit."""
        return False

    def is_neg(self) -> bool:
        """False: real tensors carry no negative bit."""
        return False

    @property
    def mH(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The conjugate transpose of (a batch of) matrices: ``mT`` for real tensors."""
        if self._data.ndim < 2:
            if self._data.ndim == 0:
                return self  # NOTE: as PyTorch 2.13 (the identity on 0-d tensors)
            raise RuntimeError(
                f"tensor.mH is only supported on matrices or batches of matrices. Got "
                f"{self._data.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The conjugate transpose of a matrix: ``t()`` for a real one."""
        if self._data.ndim not in (0, 2):
            raise RuntimeError(
                f"tensor.H is only supported on matrices (2-D tensors). Got "
                f"{self._data.ndim}-D tensor.")
        return self if self._data.ndim == 0 else self.transpose(0, 1)

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """Sliding windows of ``size`` along ``dimension`` as a new last dim."""
        return _ops.unfold(self, dimension, size, step)

    def __getitem__(self, index) -> Tensor:
        return _ops.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        _ops.setitem(self, index, value)


def _squeeze_dim(dim, op: str):
    """``dim`` for ops.squeeze: None when not given; an explicit None is PyTorch's TypeError."""
    if dim is _NO_DIM:
        return None
    if dim is None:
        raise TypeError(f"{op}() received an invalid combination of arguments - got (NoneType)"
                        "\nWhy: leave dim out to squeeze every size-1 dim.")
    return dim
