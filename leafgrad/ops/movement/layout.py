"""Rearranging ops: unflatten, movedim, narrow, diagonal, diag, trace, tril/triu, repeat, flip,
roll, rot90."""

from __future__ import annotations

import numpy as np

from ...autograd.node import Op
from ...backend import array_module, as_array
from ...tensor import Tensor, _wrap_dim
from .. import dual
from .._apply import record_unary
from .indexing import Alias, Slice
from .strides import preserve, row_major, suggested
from .views import Permute, _ax_slice, _infer_shape, _new, _view_op, reshape, view


# -- views: unflatten / movedim / narrow / diagonal / unfold -------------------------------------
def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one may be -1); a view."""
    s = x._data.shape
    if not s:
        raise RuntimeError(
            "unflatten got an unexpected error: Dimension specified as 0 but tensor has no "
            "dimensions\nWhy: unflatten splits an existing dim; a 0-d tensor has none.")
    d = _wrap_dim(dim, len(s), "unflatten")
    sizes = tuple(int(k) for k in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    inner = _infer_shape(sizes, s[d]) if len(s) else sizes
    # (splitting one dim is always a view: PyTorch's unflatten is view(), ViewBackward0)
    return view(x, s[:d] + inner + s[d + 1:])


def movedim(x: Tensor, source, destination) -> Tensor:
    """Move dims ``source`` to positions ``destination`` (a permute view)."""
    n = x._data.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)"
        )
    src = tuple(_wrap_dim(d, n, "movedim") for d in src)
    dst = tuple(_wrap_dim(d, n, "movedim") for d in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError("movedim: repeated dim in `source` or `destination`")
    if not n:
        return _view_op(Alias, x)  # NOTE: PyTorch's movedim of a 0-d tensor is an alias
    order = [None] * n
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    rest = iter(i for i in range(n) if i not in src)
    order = tuple(o if o is not None else next(rest) for o in order)
    return _view_op(Permute, x, dims=order)


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``length`` elements of dim ``dim`` from ``start`` (a view)."""
    s = x._data.shape
    if not s:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, len(s), "narrow")
    start = int(start.item() if isinstance(start, Tensor) else start)
    if not -s[d] <= start <= s[d]:
        raise IndexError(
            f"start out of range (expected to be in range of [{-s[d]}, {s[d]}], but got {start})"
        )
    if start < 0:
        start += s[d]
    if length < 0 or start + length > s[d]:
        raise RuntimeError(
            f"start ({start}) + length ({length}) exceeds dimension size ({s[d]})."
        )
    return _view_op(Slice, x, dim=d, sl=slice(start, start + length), in_shape=s)


def _diag_view(a, offset: int, d1: int, d2: int):
    """A writeable strided view of the diagonal (moved to the last dim), as torch.diagonal."""
    sl = [_ax_slice] * a.ndim
    if offset >= 0:
        sl[d2] = slice(offset, None)
    else:
        sl[d1] = slice(-offset, None)
    sub = a[tuple(sl)]
    s, st = sub.shape, sub.strides
    n = min(s[d1], s[d2])
    keep = [k for k in range(a.ndim) if k not in (d1, d2)]
    shape = tuple(s[k] for k in keep) + (n,)
    if sub.size == 0:
        return array_module(a).zeros(shape, dtype=a.dtype)
    strides = tuple(st[k] for k in keep) + (st[d1] + st[d2],)
    return array_module(a).lib.stride_tricks.as_strided(sub, shape, strides)


class Diagonal(Op):
    name_ = "DiagonalBackward0"
    formula = {"x": "diag_scatter(grad, in_shape, offset, d1, d2)"}
    save_inputs = False
    __slots__ = ("offset", "d1", "d2", "in_shape")

    def forward(self, x):
        return _diag_view(x, self.offset, self.d1, self.d2)

    def backward(self, grad):
        return dual.diag_scatter(grad, self.in_shape, self.offset, self.d1, self.d2)


class DiagonalCopy(Diagonal):
    """torch.diag of a matrix: the diagonal as a new tensor."""

    name_ = "DiagonalBackward0_copy"
    __slots__ = ()

    def forward(self, x):
        return _diag_view(x, self.offset, self.d1, self.d2).copy()


class DiagScatter(Op):
    """Zeros of ``shape`` with ``grad`` on a diagonal (diagonal's backward; diag_embed)."""

    name_ = "DiagonalBackwardBackward0"
    formula = {"x": "grad.diagonal(offset, d1, d2)"}
    save_inputs = False
    __slots__ = ("shape", "offset", "d1", "d2")

    @staticmethod
    def scatter(g, shape, offset, d1, d2):
        out = array_module(g).zeros(shape, dtype=g.dtype)
        v = _diag_view(out, offset, d1, d2)
        if v.size:
            v[...] = g
        return out

    def forward(self, g):
        return self.scatter(g, self.shape, self.offset, self.d1, self.d2)

    def backward(self, grad):
        return dual.diagonal(grad, self.offset, self.d1, self.d2)


class DiagEmbed(DiagScatter):
    name_ = "DiagEmbedBackward0"
    __slots__ = ()


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal over dims ``dim1, dim2`` as the last dim (a view)."""
    n = x._data.ndim
    d1, d2 = _wrap_dim(dim1, n, "diagonal"), _wrap_dim(dim2, n, "diagonal")
    if n < 2:
        raise RuntimeError(f"diagonal dimensions requires ndim larger than 1, got {n}")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _view_op(Diagonal, x, offset=offset, d1=d1, d2=d2, in_shape=x._data.shape)


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Put the last dim of ``x`` on the diagonal of new dims ``dim1, dim2``."""
    s = x._data.shape
    n = len(s) + 1
    d1, d2 = _wrap_dim(dim1, n, "diag_embed"), _wrap_dim(dim2, n, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    m = (s[-1] if s else 1) + abs(offset)
    rest = list(s[:-1])
    shape = []
    for k in range(n + 0):
        if k in (d1, d2):
            shape.append(m)
        elif rest:
            shape.append(rest.pop(0))
    fn = _new(DiagEmbed)
    fn.shape, fn.offset, fn.d1, fn.d2 = tuple(shape), offset, d1, d2
    if not s:
        x = reshape(x, (1,))
    return record_unary(fn, x, fn.forward(x._data))


def diag(x: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002 - PyTorch's name
    """A 1-d tensor to a diagonal matrix, or a matrix's diagonal as a 1-d tensor."""
    n = x._data.ndim
    if n == 1:
        return diag_embed(x, diagonal, 0, 1)
    if n != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {n}D")
    fn = _new(DiagonalCopy)
    fn.offset, fn.d1, fn.d2, fn.in_shape = diagonal, 0, 1, x._data.shape
    return record_unary(fn, x, fn.forward(x._data))


class Trace(Op):
    name_ = "TraceBackward0"
    formula = {"x": "diag_scatter(grad.expand(n), in_shape, 0, 0, 1)"}
    save_inputs = False
    __slots__ = ("in_shape", "n")

    def forward(self, x):
        return x.trace()

    def backward(self, grad):
        return dual.diag_scatter(dual.expand(grad, (self.n,)), self.in_shape, 0, 0, 1)


def trace(x: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix."""
    s = x._data.shape
    if len(s) != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {len(s)}")
    fn = _new(Trace)
    fn.in_shape, fn.n = s, min(s)
    out = x._data.trace()
    if x._data.dtype.kind in "biu":
        out = as_array(out).astype(np.int64)  # NOTE: torch.trace of integers is int64
    return record_unary(fn, x, as_array(out))


class Tril(Op):
    name_ = "TrilBackward0"
    formula = {"x": "grad.tril(k)"}
    save_inputs = False
    same_shape = True
    __slots__ = ("k",)
    upper = False

    def forward(self, x):
        xp = array_module(x)
        # PyTorch's tril/triu allocate their result row-major (NumPy's keeps x's order)
        return row_major(xp.triu(x, self.k) if self.upper else xp.tril(x, self.k))

    def backward(self, grad):
        return dual.tri(grad, self.k, self.upper)


class Triu(Tril):
    name_ = "TriuBackward0"
    formula = {"x": "grad.triu(k)"}
    __slots__ = ()
    upper = True


def _tri(cls, x: Tensor, k: int) -> Tensor:
    if x._data.ndim < 2:
        raise RuntimeError(
            f"{cls.__qualname__.lower()}: input tensor must have at least 2 dimensions"
        )
    fn = _new(cls)
    fn.k = int(k)
    return record_unary(fn, x, fn.forward(x._data))


def tril(x: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """Lower triangle (elements above diagonal ``diagonal`` zeroed)."""
    return _tri(Tril, x, diagonal)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """Upper triangle (elements below diagonal ``diagonal`` zeroed)."""
    return _tri(Triu, x, diagonal)


# -- repeat / flip / roll / rot90 ------------------------------------------------------------------
class Repeat(Op):
    name_ = "RepeatBackward0"
    formula = {"x": "grad.reshape(split_shape).sum(rep_axes).reshape(in_shape)"}
    save_inputs = False
    __slots__ = ("reps", "in_shape", "split_shape", "rep_axes")

    def forward(self, x):
        return row_major(array_module(x).tile(x, self.reps))

    def backward(self, grad):
        return dual.sum(grad.reshape(self.split_shape), self.rep_axes).reshape(self.in_shape)


def repeat(x: Tensor, reps: tuple) -> Tensor:
    """Tile ``x`` ``reps`` times along each dim (``reps`` may add leading dims)."""
    s = x._data.shape
    if len(reps) < len(s):
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of "
            "tensor\nWhy: repeat needs a count for every dim; use tile() to pad with ones."
        )
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(reps)}: "
                           f"{list(reps)}")
    full = (1,) * (len(reps) - len(s)) + s
    split, axes = [], []
    for k, (r, n) in enumerate(zip(reps, full)):
        axes.append(2 * k)
        split += [r, n]
    fn = _new(Repeat)
    fn.reps, fn.in_shape, fn.split_shape, fn.rep_axes = tuple(reps), s, tuple(split), tuple(axes)
    # PyTorch's repeat writes into a row-major result (np.tile keeps x's order)
    return record_unary(fn, x, row_major(array_module(x._data).tile(x._data.reshape(full), reps)))


def tile(x: Tensor, reps: tuple) -> Tensor:
    """``repeat`` with ``reps`` padded by leading ones to the tensor's ndim."""
    reps = tuple(reps)
    n = x._data.ndim
    if len(reps) < n:
        reps = (1,) * (n - len(reps)) + reps
    return repeat(x, reps)


class Flip(Op):
    name_ = "FlipBackward0"
    formula = {"x": "grad.flip(dims)"}
    save_inputs = False
    same_shape = True
    __slots__ = ("dims",)

    def forward(self, x):
        # PyTorch's flip is a TensorIterator copy: x's layout (preserve_format)
        return preserve(array_module(x).flip(x, self.dims).copy(order="K"), x)

    def backward(self, grad):
        return dual.flip(grad, self.dims)


def flip(x: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch)."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    n = x._data.ndim
    ds = tuple(_wrap_dim(d, n, "flip") for d in dims)
    if len(set(ds)) != len(ds):
        raise RuntimeError(f"dims has duplicates, original dims: {list(dims)}")
    fn = _new(Flip)
    fn.dims = ds if n else ()
    return record_unary(fn, x, fn.forward(x._data))


class Roll(Op):
    name_ = "RollBackward0"
    formula = {"x": "grad.roll(tuple(-k for k in shifts), dims)"}
    save_inputs = False
    same_shape = True
    __slots__ = ("shifts", "dims")

    def forward(self, x):
        if self.dims is None:
            return row_major(array_module(x).roll(x, self.shifts))
        out = array_module(x).roll(x, self.shifts, self.dims)
        # PyTorch rolls one dim at a time: a shift that is a multiple of the size is a
        # row-major clone, another one a cat of two slices (x.suggest_memory_format(): row-major
        # unless channels-last); NumPy's result keeps x's order
        if all(k % x.shape[d] for k, d in zip(self.shifts, self.dims)):
            return suggested(out, x)
        return row_major(out)

    def backward(self, grad):
        neg = tuple(-k for k in self.shifts)
        if self.dims is None:
            return dual.roll(grad.reshape(-1), neg, (0,)).reshape(grad.shape)
        return dual.roll(grad, neg, self.dims)


def roll(x: Tensor, shifts, dims=None) -> Tensor:
    """Rotate elements along ``dims`` by ``shifts`` (the flattened tensor when dims is None)."""
    sh = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    fn = _new(Roll)
    if not sh:
        raise RuntimeError("`shifts` required\nWhy: roll needs at least one shift.")
    if x._data.size == 0:  # NOTE: PyTorch's kernel returns a copy before checking the dims
        fn.shifts, fn.dims = (0,), None
        return record_unary(fn, x, x._data.copy())
    if dims is None:
        if len(sh) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:0\n"
                               "Why: without dims, roll shifts the flattened tensor once.")
        fn.shifts, fn.dims = sh[0:1], None
        fn.shifts = (sh[0],)
        return record_unary(fn, x, row_major(array_module(x._data).roll(x._data, sh[0])))
    ds = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(sh) != len(ds):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(sh)}, dims:{len(ds)}\nWhy: roll "
            "takes one shift per dim.")
    if not x._data.ndim:  # PyTorch names the dim as given
        raise IndexError(f"Dimension specified as {ds[0]} but tensor has no dimensions")
    fn.shifts, fn.dims = sh, tuple(_wrap_dim(d, x._data.ndim, "roll") for d in ds)
    return record_unary(fn, x, fn.forward(x._data))


class Rot90(Op):
    name_ = "Rot90Backward0"
    formula = {"x": "grad.rot90(-k, dims)"}
    save_inputs = False
    __slots__ = ("k", "dims")

    def forward(self, x):
        # PyTorch's composition, whose layout code may read (as_strided, rand_like): k = 1, 3
        # flip one dim (a copy in x's layout) then transpose (a view); k = 2 flips both; k = 0
        # is a contiguous clone
        xp = array_module(x)
        d0, d1 = self.dims
        if self.k == 0:
            return x.copy()
        if self.k == 2:
            return preserve(xp.flip(x, (d0, d1)).copy(order="K"), x)
        flipped = preserve(xp.flip(x, d1 if self.k == 1 else d0).copy(order="K"), x)
        return xp.swapaxes(flipped, d0, d1)

    def backward(self, grad):
        return dual.rot90(grad, -self.k, self.dims)


def rot90(x: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``."""
    dims = tuple(dims)
    n = x._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if n < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {n}")
    ds = tuple(_wrap_dim(d, n, "rot90") for d in dims)
    if ds[0] == ds[1]:
        raise RuntimeError(
            f"expected rotation dims to be different, but got dim0 = {ds[0]} and dim1 = {ds[1]}")
    fn = _new(Rot90)
    fn.k, fn.dims = int(k) % 4, ds
    return record_unary(fn, x, fn.forward(x._data))
