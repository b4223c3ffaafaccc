"""Views: reshape/view, transposes, permute, squeeze/unsqueeze, expand."""

from __future__ import annotations

import numpy as np

from ...autograd.node import Op
from ...backend import array_module
from ...tensor import Tensor, _wrap_dim
from .. import dual
from .._apply import record_unary

_new = object.__new__


def _as_view(t: Tensor, x: Tensor) -> Tensor:
    """Mark ``t`` as a view of ``x``: same base and version counter (in-place shows through)."""
    base = x._x.base if x._x is not None and x._x.base is not None else x
    t._extras().base = base
    t._vc = base._shared_vc()
    x._vc = base._vc
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
        return _view_op(View, x, shape=shape, in_shape=d.shape)
    fn = _new(UnsafeView)
    fn.shape, fn.in_shape = shape, d.shape
    return record_unary(fn, x, np.ascontiguousarray(d).reshape(shape) if isinstance(
        d, np.ndarray) else d.reshape(shape))


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
        return array_module(x).swapaxes(x, self.dim0, self.dim1)

    def backward(self, grad):
        return dual.transpose(grad, self.dim0, self.dim1)


class TOp(Transpose):
    name_ = "TBackward0"
    forward_text = "{x}.t()"
    __slots__ = ()

    def backward(self, grad):
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
    if n == 0:
        return _view_op(View, x, shape=(), in_shape=())
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
        dims = tuple(i for i in (_wrap_dim(d, len(s), "squeeze") for d in dim) if s and s[i] == 1)
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
        return array_module(x).broadcast_to(x, self.shape)

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
