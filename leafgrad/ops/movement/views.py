"""Views: reshape/view, transposes, permute, squeeze/unsqueeze, expand."""

from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import state
from ...autograd.node import Op
from ...backend import array_module
from ...tensor import Tensor, _wrap_dim
from .. import dual
from .._apply import record_unary
from ..inplace_view import CREATION_DEFAULT, CREATION_NO_GRAD

_new = object.__new__


def _as_view(t: Tensor, x: Tensor, creation: int = CREATION_DEFAULT) -> Tensor:
    """Mark ``t`` as a view of ``x``: same base and version counter (in-place shows through).

    ``creation``: how the view was made (ops/inplace_view.py); under no_grad it is
    CREATION_NO_GRAD, and a view of a view keeps its parent's unless it has its own, as PyTorch's
    propagate_creation_meta.
    """
    xx = x._x
    if xx is not None and xx.base is not None:
        base = xx.base
        creation = creation or xx.creation
    else:
        base = x
    if not state.enabled:
        creation = CREATION_NO_GRAD
    e = t._extras()
    e.base = base
    vc = t._vc = base._shared_vc()
    e.seen = vc.v
    e.creation = creation
    return t


def _view_op(cls, x: Tensor, **params) -> Tensor:
    fn = _new(cls)
    for k, v in params.items():
        setattr(fn, k, v)
    return _as_view(record_unary(fn, x, fn.forward(x._data)), x)


# -- reshape / view ------------------------------------------------------------------------------
def _infer_shape(shape: tuple, numel: int) -> tuple:
    neg = [i for i, d in enumerate(shape) if d == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for d in shape:
        if d < -1:
            raise RuntimeError(f"invalid shape dimension {d}")
    if neg:
        rest = 1
        for d in shape:
            if d != -1:
                rest *= d
        if rest == 0 or numel % rest:
            raise RuntimeError(
                f"shape '{list(shape)}' is invalid for input of size {numel}\nWhy: a reshape keeps "
                "every element, so the product of the new sizes must equal the old one."
            )
        shape = tuple(numel // rest if d == -1 else d for d in shape)
    n = 1
    for d in shape:
        n *= d
    if n != numel:
        raise RuntimeError(
            f"shape '{list(shape)}' is invalid for input of size {numel}\nWhy: a reshape keeps "
            "every element, so the product of the new sizes must equal the old one."
        )
    return shape


class View(Op):
    name_ = "ViewBackward0"
    forward_text = "{x}.view({shape})"
    formula = {"x": "grad.reshape(in_shape)"}
    save_inputs = False
    __slots__ = ("shape", "in_shape")

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, grad):
        return grad.reshape(self.in_shape)


class UnsafeView(View):
    """A reshape that had to copy (the input's layout did not allow a view)."""

    name_ = "UnsafeViewBackward0"
    forward_text = "{x}.reshape({shape})"
    __slots__ = ()


class ReshapeAlias(View):
    """A reshape of a non-contiguous tensor that the layout allows as a view (PyTorch's
    _reshape_alias; a contiguous one is a plain view)."""

    name_ = "ReshapeAliasBackward0"
    forward_text = "{x}.reshape({shape})"
    __slots__ = ()


def _viewable(a, shape) -> bool:
    try:
        a.view().shape = shape  # NumPy refuses when the strides cannot express it
        return True
    except AttributeError:
        return False


def reshape(x: Tensor, shape: tuple) -> Tensor:
    """Same elements, new shape; a view when the layout allows, else a copy.

    >>> import leafgrad
    >>> reshape(leafgrad.arange(6), (2, -1)).shape
    torch.Size([2, 3])
    """
    d = x._data
    shape = _infer_shape(shape, d.size)
    if _viewable(d, shape):
        return _view_op(View if d.flags.c_contiguous else ReshapeAlias, x, shape=shape,
                        in_shape=d.shape)
    fn = _new(UnsafeView)
    fn.shape, fn.in_shape = shape, d.shape
    return record_unary(fn, x, array_module(d).ascontiguousarray(d).reshape(shape))


def view(x: Tensor, shape: tuple) -> Tensor:
    """A view with a new shape; raises when the memory layout cannot express it."""
    d = x._data
    shape = _infer_shape(shape, d.size)
    if not _viewable(d, shape):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead.\n"
            "Why: a view reuses the same memory, and after a transpose/permute the elements are "
            "no longer in the order the new shape needs; reshape() copies when it must."
        )
    return _view_op(View, x, shape=shape, in_shape=d.shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one (a reshape)."""
    s = x._data.shape
    if not s:
        return reshape(x, (1,))
    a = _wrap_dim(start_dim, len(s), "flatten")
    b = _wrap_dim(end_dim, len(s), "flatten")
    if a > b:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if a == b:
        return x
    n = 1
    for k in s[a:b + 1]:
        n *= k
    return reshape(x, s[:a] + (n,) + s[b + 1:])


# -- transposes ----------------------------------------------------------------------------------
class Transpose(Op):
    name_ = "TransposeBackward0"
    forward_text = "{x}.transpose({dim0}, {dim1})"
    formula = {"x": "grad.transpose(dim0, dim1)"}
    save_inputs = False
    __slots__ = ("dim0", "dim1")

    def forward(self, x):
        if x.ndim < 2:
            return x.view()  # t() of a 0-d or 1-d tensor, transpose(0, 0): the same elements
        return array_module(x).swapaxes(x, self.dim0, self.dim1)

    def backward(self, grad):
        if self.dim0 == self.dim1:
            return grad
        return dual.transpose(grad, self.dim0, self.dim1)


class TOp(Transpose):
    name_ = "TBackward0"
    forward_text = "{x}.t()"
    __slots__ = ()

    def backward(self, grad):
        if grad.ndim < 2:
            return grad
        return dual.t(grad)


class Permute(Op):
    name_ = "PermuteBackward0"
    forward_text = "{x}.permute({dims})"
    formula = {"x": "grad.permute(inverse(dims))"}
    save_inputs = False
    __slots__ = ("dims",)

    def forward(self, x):
        return x.transpose(self.dims)

    def backward(self, grad):
        return dual.permute(grad, dual.inverse(self.dims))


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view)."""
    n = x._data.ndim
    a, b = _wrap_dim(dim0, n, "transpose"), _wrap_dim(dim1, n, "transpose")
    return _view_op(Transpose, x, dim0=a, dim1=b)


def t(x: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dims (a view)."""
    n = x._data.ndim
    if n > 2:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 dimensions, but self is {n}D\nWhy: for more dims "
            "the transpose is ambiguous; use transpose(dim0, dim1), permute(...) or .mT."
        )
    if n < 2:
        return _view_op(TOp, x, dim0=0, dim1=0)
    return _view_op(TOp, x, dim0=0, dim1=1)


class TInplace(TOp):
    """``x.t_()``'s node (PyTorch names the in-place variant TBackward1)."""

    name_ = "TBackward1"
    forward_text = "{x}.t_()"
    __slots__ = ()


class TransposeInplace(Transpose):
    name_ = "TransposeBackward1"
    forward_text = "{x}.transpose_({dim0}, {dim1})"
    __slots__ = ()


def permute(x: Tensor, dims: tuple) -> Tensor:
    """Reorder dims (a view)."""
    n = x._data.ndim
    if len(dims) != n:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
            f"to len(dims) = {len(dims)}"
        )
    ds = tuple(_wrap_dim(d, n, "permute") for d in dims)
    if len(set(ds)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _view_op(Permute, x, dims=ds)


# -- squeeze / unsqueeze / expand ------------------------------------------------------------------
class Unsqueeze(Op):
    name_ = "UnsqueezeBackward0"
    forward_text = "{x}.unsqueeze({dim})"
    formula = {"x": "grad.squeeze(dim)"}
    save_inputs = False
    __slots__ = ("dim",)

    def forward(self, x):
        return array_module(x).expand_dims(x, self.dim)

    def backward(self, grad):
        return dual.squeeze(grad, self.dim)


class Squeeze(Op):
    name_ = "SqueezeBackward0"
    formula = {"x": "grad.reshape(in_shape)"}
    save_inputs = False
    __slots__ = ("dims", "in_shape")

    def forward(self, x):
        return x.reshape(tuple(s for i, s in enumerate(x.shape) if i not in self.dims))

    def backward(self, grad):
        return grad.reshape(self.in_shape)


class SqueezeDim(Squeeze):
    name_ = "SqueezeBackward1"
    __slots__ = ()


class SqueezeDims(Squeeze):
    name_ = "SqueezeBackward2"
    __slots__ = ()


class UnsqueezeInplace(Unsqueeze):
    name_ = "UnsqueezeBackward1"
    forward_text = "{x}.unsqueeze_({dim})"
    __slots__ = ()


class SqueezeInplace(Squeeze):
    name_ = "SqueezeBackward3"
    __slots__ = ()


class SqueezeDimInplace(Squeeze):
    name_ = "SqueezeBackward4"
    __slots__ = ()


class SqueezeDimsInplace(Squeeze):
    name_ = "SqueezeBackward5"
    __slots__ = ()


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` (a view)."""
    d = _wrap_dim(dim, x._data.ndim + 1, "unsqueeze")
    return _view_op(Unsqueeze, x, dim=d)


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Drop size-1 dims: all of them, or those among ``dim`` (a view)."""
    s = x._data.shape
    if dim is None:
        cls, dims = Squeeze, tuple(i for i, k in enumerate(s) if k == 1)
    elif isinstance(dim, (tuple, list)):
        cls = SqueezeDims
        wrapped = [_wrap_dim(d, len(s), "squeeze") for d in dim]
        for k, i in enumerate(wrapped):
            if i in wrapped[:k]:
                raise RuntimeError(f"dim {i} appears multiple times in the list of dims\nWhy: "
                                   "squeeze takes each dim once.")
        dims = tuple(i for i in wrapped if s and s[i] == 1)
    else:
        cls = SqueezeDim
        i = _wrap_dim(dim, len(s), "squeeze")
        dims = (i,) if s and s[i] == 1 else ()
    return _view_op(cls, x, dims=dims, in_shape=s)


class Expand(Op):
    name_ = "ExpandBackward0"
    forward_text = "{x}.expand({shape})"
    formula = {"x": "sum_to(grad, in_shape)"}
    save_inputs = False
    __slots__ = ("shape", "in_shape")

    def forward(self, x):
        shape = self.shape
        lead = len(shape) - x.ndim
        if x.__class__ is np.ndarray and all(
                n == 1 or x.shape[k - lead] == n for k, n in enumerate(shape) if k >= lead) and \
                all(n == 1 for n in shape[:lead]):
            # NOTE: nothing is repeated: a writeable view, as PyTorch's (broadcast_to's views are
            # read-only, which is right only where elements share memory)
            strides = (0,) * lead + x.strides
            return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=x.flags.writeable)
        return array_module(x).broadcast_to(x, shape)

    def backward(self, grad):
        return dual.sum_to(grad, self.in_shape, self)


def expand(x: Tensor, sizes: tuple) -> Tensor:
    """Broadcast to ``sizes`` without copying (-1 keeps a dim's size); a read-only view."""
    s = x._data.shape
    if len(sizes) < len(s):
        raise RuntimeError(
            f"expand({x.type()}{{{list(s)}}}, size={list(sizes)}): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor "
            f"({len(s)})"
        )
    lead = len(sizes) - len(s)
    shape = []
    for i, n in enumerate(sizes):
        if i < lead:
            if n < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({n}) isn't allowed in a leading, "
                    "non-existing dimension 0"
                )
            shape.append(n)
            continue
        cur = s[i - lead]
        if n == -1:
            n = cur
        if cur != n and cur != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({n}) must match the existing size ({cur}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(s)}\nWhy: expand only repeats dims of size 1."
            )
        shape.append(n)
    return _view_op(Expand, x, shape=tuple(shape), in_shape=s)


def expand_to(x: Tensor, shape: tuple) -> Tensor:
    """Expand ``x`` to ``shape`` only when it differs."""
    if x._data.shape == tuple(shape):
        return x
    return expand(x, tuple(shape))


# ================================================================================================
# The rest of the shape / indexing / joining surface.
# Backward formulas below follow the two-mode rule: operators, basic slicing (grad[sl], which
# works on arrays and Tensors alike) and the dual helpers (dual.* and the _d_* ones here).
# ================================================================================================
_ax_slice = slice(None)


# -- as_strided ----------------------------------------------------------------------------------
def _storage_of(d):
    """``(root, offset)``: the contiguous array holding ``d``'s memory and where ``d`` starts in
    it, in elements (PyTorch's storage and storage_offset)."""
    from ...serialization._storage import data_pointer, memory_root

    root = memory_root(d) if isinstance(d, np.ndarray) else None
    if root is None:
        return d, 0
    return root, (data_pointer(d) - data_pointer(root)) // d.itemsize


def storage_offset(x: Tensor) -> int:
    """Where ``x`` starts in its memory, in elements (0 unless ``x`` is a view into it)."""
    return _storage_of(x._data)[1]


def as_strided(x: Tensor, size, stride, storage_offset=None) -> Tensor:
    """A view of ``x``'s memory with the given sizes, strides and offset (all in elements).

    >>> import leafgrad
    >>> as_strided(leafgrad.arange(6.), (2, 2), (1, 2), 1)
    tensor([[1., 3.],
            [2., 4.]])
    """
    from ..inplace_view import AsStrided, Geometry

    size = tuple(int(k) for k in size)
    stride = tuple(int(k) for k in stride)
    if len(size) != len(stride):
        raise RuntimeError(
            f"mismatch in length of strides and shape\nWhy: as_strided needs one stride per "
            f"dimension; got {len(size)} sizes and {len(stride)} strides.")
    if any(k < 0 for k in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: "
                           f"{list(size)}")
    if any(k < 0 for k in stride):
        raise RuntimeError(
            f"as_strided: Negative strides are not supported at the moment, got strides: "
            f"{list(stride)}")
    d = x._data
    root, own = _storage_of(d)
    off = own if storage_offset is None else int(storage_offset)
    if off < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {off}")
    need = (off + 1 + sum((n - 1) * st for n, st in zip(size, stride))) if all(size) else 0
    if need > root.size:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {off}, and "
            f"itemsize {d.itemsize} requiring a storage size of {need * d.itemsize} are out of "
            f"bounds for storage of size {root.size * d.itemsize}\nWhy: as_strided reads the "
            "tensor's memory directly, and these sizes and strides reach past its end.")
    flat = root.ravel(order="K")  # memory order, a view (the root is contiguous)
    start = flat[min(off, flat.size):]
    out = np.lib.stride_tricks.as_strided(start, size, tuple(k * d.itemsize for k in stride))
    fn = _new(AsStrided)
    fn.geometry = Geometry(d, out, size, stride, off - own)
    return _as_view(record_unary(fn, x, out), x)
