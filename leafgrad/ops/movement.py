"""Shape and indexing ops: views (reshape, transpose, permute, select, slice...) and gathers."""

from __future__ import annotations

import numpy as np

from ..autograd.node import Op
from ..backend import array_module
from ..tensor import Tensor, _wrap, _wrap_dim
from . import dual
from ._apply import record, record_unary

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
    formula = {"x": "grad.transpose(dim0, dim1)"}
    save_inputs = False
    __slots__ = ("dim0", "dim1")

    def forward(self, x):
        return array_module(x).swapaxes(x, self.dim0, self.dim1)

    def backward(self, grad):
        return dual.transpose(grad, self.dim0, self.dim1)


class TOp(Transpose):
    name_ = "TBackward0"
    __slots__ = ()

    def backward(self, grad):
        return dual.t(grad)


class Permute(Op):
    name_ = "PermuteBackward0"
    formula = {"x": "grad.permute(inverse(dims))"}
    save_inputs = False
    __slots__ = ("dims",)

    def forward(self, x):
        return x.transpose(self.dims)

    def backward(self, grad):
        inv = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inv[d] = i
        return dual.permute(grad, tuple(inv))


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


# -- indexing ------------------------------------------------------------------------------------
class Select(Op):
    name_ = "SelectBackward0"
    formula = {"x": "embed(grad, in_shape, (slice(None),) * dim + (index,))"}
    save_inputs = False
    __slots__ = ("dim", "index", "in_shape")

    def forward(self, x):
        return x[(slice(None),) * self.dim + (self.index,)]

    def backward(self, grad):
        return dual.embed(grad, self.in_shape, (slice(None),) * self.dim + (self.index,))


class Slice(Op):
    name_ = "SliceBackward0"
    formula = {"x": "embed(grad, in_shape, (slice(None),) * dim + (sl,))"}
    save_inputs = False
    __slots__ = ("dim", "sl", "in_shape")

    def forward(self, x):
        return x[(slice(None),) * self.dim + (self.sl,)]

    def backward(self, grad):
        return dual.embed(grad, self.in_shape, (slice(None),) * self.dim + (self.sl,))


class Alias(Op):
    name_ = "AliasBackward0"
    formula = {"x": "grad"}
    save_inputs = False
    __slots__ = ()

    def forward(self, x):
        return x.view()

    def backward(self, grad):
        return grad


class Index(Op):
    """Advanced (integer-array / boolean-mask) indexing: a gather, not a view."""

    name_ = "IndexBackward0"
    formula = {"x": "embed(grad, in_shape, index, True)"}
    save_inputs = False
    __slots__ = ("index", "in_shape")

    def forward(self, x):
        return x[self.index]

    def backward(self, grad):
        return dual.embed(grad, self.in_shape, self.index, accumulate=True)


class Embed(Op):
    """The backward of an indexing op: a zero tensor with ``grad`` written at ``index``."""

    name_ = "IndexBackwardBackward0"
    formula = {"x": "grad[index]"}
    save_inputs = False
    __slots__ = ("index", "shape", "accumulate")

    def forward(self, g):
        xp = array_module(g)
        out = xp.zeros(self.shape, dtype=g.dtype)
        if self.accumulate:
            xp.add.at(out, self.index, g)
        else:
            out[self.index] = g
        return out

    def backward(self, grad):
        return dual.gather(grad, self.index)


def _embed(grad: Tensor, shape: tuple, index, accumulate: bool = False) -> Tensor:
    fn = _new(Embed)
    fn.index, fn.shape, fn.accumulate = index, shape, accumulate
    return record_unary(fn, grad, fn.forward(grad._data))


def _gather(x: Tensor, index) -> Tensor:
    fn = _new(Index)
    fn.index, fn.in_shape = index, x._data.shape
    return record_unary(fn, x, fn.forward(x._data))


def select(x: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, with that dim removed (a view)."""
    n = x._data.ndim
    if n == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, n, "select")
    size = x._data.shape[d]
    if not -size <= index < size:
        raise IndexError(
            f"index {index} is out of bounds for dimension {d} with size {size}"
        )
    return _view_op(Select, x, dim=d, index=index % size if size else index,
                    in_shape=x._data.shape)


def _slice(x: Tensor, dim: int, s: slice) -> Tensor:
    if s.step is not None and s.step <= 0:
        raise ValueError("step must be greater than zero")
    return _view_op(Slice, x, dim=dim, sl=s, in_shape=x._data.shape)


def _is_advanced(i) -> bool:
    return isinstance(i, (list, np.ndarray)) or (isinstance(i, Tensor) and i._data.ndim > 0) or (
        isinstance(i, Tensor) and i._data.dtype.kind == "b")


def _norm_advanced(i):
    if isinstance(i, Tensor):
        a = i._data
    else:
        a = np.asarray(i)
    if a.dtype.kind == "f":
        raise IndexError(
            "tensors used as indices must be long, int, byte or bool tensors\nWhy: an index "
            "names positions, which are whole numbers; cast with .long()."
        )
    if a.dtype.kind not in "biu" and a.size:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if a.dtype == np.uint8:
        a = a.astype(bool)  # NOTE: PyTorch treats a uint8 index as a (deprecated) mask
    if a.size == 0 and a.dtype.kind not in "b":
        a = a.astype(np.int64)
    return a


def getitem(x: Tensor, index) -> Tensor:
    """``x[index]`` with ints, slices, None, Ellipsis, and integer/boolean index arrays."""
    if not isinstance(index, tuple):
        if isinstance(index, slice):
            return _slice_checked(x, 0, index)
        if index is Ellipsis:
            return _view_op(Alias, x)
        index = (index,)
    # Ellipsis -> explicit full slices
    n_real = sum(1 for i in index if i is not None and i is not Ellipsis and not (
        isinstance(i, (Tensor, np.ndarray)) and np.asarray(
            i._data if isinstance(i, Tensor) else i).dtype.kind == "b"))
    n_real += sum(np.asarray(i._data if isinstance(i, Tensor) else i).ndim for i in index if (
        isinstance(i, (Tensor, np.ndarray)) and np.asarray(
            i._data if isinstance(i, Tensor) else i).dtype.kind == "b"))
    if sum(1 for i in index if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if n_real > x._data.ndim:
        raise IndexError(
            f"too many indices for tensor of dimension {x._data.ndim}"
        )
    expanded = []
    for i in index:
        if i is Ellipsis:
            expanded.extend([slice(None)] * (x._data.ndim - n_real))
        else:
            expanded.append(i)
    out = x
    dim = 0
    adv = []  # (position in the result, index array) for advanced parts
    has_adv = False
    for i in expanded:
        if i is None:
            out = unsqueeze(out, dim)
            adv.append(slice(None))
            dim += 1
        elif isinstance(i, bool):
            # NOTE: x[True] adds a dim, x[False] adds an empty one (as PyTorch/NumPy)
            out = unsqueeze(out, dim)
            if not i:
                out = _slice(out, dim, slice(0, 0))
            adv.append(slice(None))
            dim += 1
        elif isinstance(i, slice):
            if not (i.start in (None, 0) and i.stop is None and i.step in (None, 1)):
                out = _slice_checked(out, dim, i)
            adv.append(slice(None))
            dim += 1
        elif _is_advanced(i):
            a = _norm_advanced(i)
            adv.append(a)
            has_adv = True
            dim += a.ndim if a.dtype.kind == "b" else 1
        else:
            try:
                k = int(i.item() if isinstance(i, Tensor) else i.__index__())
            except (AttributeError, TypeError):
                raise IndexError(
                    "only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                    f"Variables are valid indices (got {type(i).__name__})"
                ) from None
            out = select(out, dim, k)
    if has_adv:
        while adv and isinstance(adv[-1], slice):
            adv.pop()
        idx = tuple(adv)
        try:
            return _gather(out, idx)
        except IndexError as e:
            raise IndexError(str(e).replace("axis", "dimension")) from None
    if out is x:
        return _view_op(Alias, x) if expanded else _slice(x, 0, slice(None))
    return out


def _slice_checked(x: Tensor, dim: int, s: slice) -> Tensor:
    if x._data.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    return _slice(x, dim, s)


class IndexPut(Op):
    """``x[index] = value`` recorded out of place (PyTorch shows the node as CopySlices)."""

    name_ = "CopySlices"
    op_name = "setitem"
    formula = {"a": "put(grad, index, 0.0)", "b": "grad[index]"}
    save_inputs = False
    __slots__ = ("index",)

    def forward(self, a, b):
        out = a.copy()
        out[self.index] = b
        return out

    def backward(self, grad):
        nf = self.next_functions
        ga = gb = None
        if nf[0][0] is not None:
            ga = dual.put(grad, self.index, 0)
        if nf[1][0] is not None:
            gb = dual.gather(grad, self.index)
        return ga, gb


def _put(x: Tensor, index, value: Tensor) -> Tensor:
    fn = _new(IndexPut)
    fn.index = index
    vd = value._data
    return record(fn, (x, value), fn.forward(x._data, vd))


def _raw_index(x: Tensor, index):
    """Translate a Tensor index expression to a NumPy one (for writes)."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for i in index:
        if isinstance(i, Tensor):
            out.append(_norm_advanced(i) if (i._data.ndim or i._data.dtype.kind == "b")
                       else int(i.item()))
        elif isinstance(i, list):
            out.append(_norm_advanced(i))
        elif isinstance(i, slice) and i.step is not None and i.step <= 0:
            raise ValueError("step must be greater than zero")
        else:
            out.append(i)
    return tuple(out)


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value``; differentiable on non-leaf tensors (recorded as CopySlices)."""
    from ..autograd.grad_mode import state

    idx = _raw_index(x, index)
    v = value if isinstance(value, Tensor) else None
    if state.enabled and (x._rg or (v is not None and v._rg)):
        x._check_inplace("setitem")
        if v is None:
            v = _wrap(np.asarray(value, dtype=x._data.dtype))
        elif v._data.dtype != x._data.dtype:
            v = v.to(x.dtype)
        x._inplace_from(_put(x, idx, v), "setitem")
        return
    vd = v._data if v is not None else value
    try:
        x._data[idx] = vd
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None
    except ValueError as e:
        raise RuntimeError(
            f"setitem: {e}; the value's shape must broadcast to the indexed region"
        ) from None
    x._bump_version()
