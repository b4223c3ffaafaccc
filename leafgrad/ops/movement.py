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
    formula = {"a": "put(grad, index, 0.0)", "b": "sum_to(grad[index], vshape)"}
    save_inputs = False
    __slots__ = ("index", "vshape")

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
            # NOTE: the value may broadcast to the region; sum back to its own shape here, since
            # the engine only un-broadcasts against the output's shape
            gb = dual.sum_to(dual.gather(grad, self.index), self.vshape, self, 1)
        return ga, gb


def _put(x: Tensor, index, value: Tensor) -> Tensor:
    fn = _new(IndexPut)
    fn.index = index
    vd = value._data
    fn.vshape = vd.shape
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


def _whole_basic(shape: tuple, idx: tuple) -> bool:
    """True when the non-array parts of ``idx`` are ``...`` or full slices (no view is taken)."""
    if Ellipsis in [i for i in idx if not isinstance(i, np.ndarray)]:
        k = next(n for n, i in enumerate(idx) if i is Ellipsis)
        return _whole_basic(shape, idx[:k]) and _whole_basic(shape[::-1], idx[k + 1:][::-1])
    dim = 0
    for i in idx:
        if isinstance(i, np.ndarray):
            dim += i.ndim if i.dtype == np.bool_ else 1
            continue
        if not isinstance(i, slice) or dim >= len(shape):
            return False
        if i.indices(shape[dim]) != (0, shape[dim], 1):
            return False
        dim += 1
    return True


def _split_ints(idx: tuple, ndim: int):
    """``(basic, rest)`` when ``idx`` mixes integers with index arrays, else None.

    NOTE: PyTorch applies integer indices first, as selects, then the rest to the result; NumPy
    treats such integers as index arrays, which moves the indexed dims to the front when the
    array indices are separated (``x[0, :, [1, 2]]``). Writing through ``x[basic]`` (a view)
    with ``rest`` gives PyTorch's layout.
    """
    def is_int(i):
        return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))

    if not (any(is_int(i) for i in idx) and any(isinstance(i, np.ndarray) for i in idx)):
        return None
    used = sum(0 if (i is None or i is Ellipsis) else (
        i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1) for i in idx)
    basic, rest = [], []
    for i in idx:
        if i is Ellipsis:
            basic += [slice(None)] * (ndim - used)
            rest += [slice(None)] * (ndim - used)
        elif i is None:
            rest.append(None)
        elif is_int(i):
            basic.append(int(i))
        elif isinstance(i, np.ndarray) and i.dtype == np.bool_:
            basic += [slice(None)] * i.ndim
            rest.append(i)
        else:
            basic.append(slice(None))
            rest.append(i)
    return tuple(basic), tuple(rest)


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value``; differentiable on non-leaf tensors (recorded as CopySlices)."""
    from ..autograd.grad_mode import state

    idx = _raw_index(x, index)
    split = _split_ints(idx, x._data.ndim)
    if split is not None:
        basic, rest = split
        # write through the view x[basic] (a view of x: in-place history goes to x's base)
        setitem(getitem(x, basic), rest, value)
        return
    v = value if isinstance(value, Tensor) else None
    if state.enabled and (x._rg or (v is not None and v._rg)):
        x._check_inplace("setitem")
        if v is None:
            v = _wrap(np.asarray(value, dtype=x._data.dtype))
        elif v._data.dtype != x._data.dtype:
            v = v.to(x.dtype)
        # NOTE: PyTorch records basic-index writes as CopySlices and advanced ones (arrays,
        # masks) as index_put_ (IndexPutBackward0)
        adv = any(isinstance(i, np.ndarray) for i in idx) and _whole_basic(x._data.shape, idx)
        x._inplace_from(_write(IndexPutOp, x, idx, v) if adv else _put(x, idx, v), "setitem")
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


# ================================================================================================
# The rest of the shape / indexing / joining surface.
# Backward formulas below follow the two-mode rule: operators, basic slicing (grad[sl], which
# works on arrays and Tensors alike) and the dual helpers (dual.* and the _d_* ones here).
# ================================================================================================
_ax_slice = slice(None)


def _is_t(g) -> bool:
    return isinstance(g, Tensor)


def _d_zeros(like, shape: tuple):
    """Zeros in ``like``'s form (Tensor or array) and dtype."""
    if isinstance(like, Tensor):
        return _wrap(array_module(like._data).zeros(shape, dtype=like._data.dtype))
    return array_module(like).zeros(shape, dtype=like.dtype)


def _d_sum(g, axes: tuple, keepdim: bool = False):
    if not axes:
        return g
    if isinstance(g, Tensor):
        return g.sum(tuple(axes), keepdim)
    return g.sum(axis=tuple(axes), keepdims=keepdim)


def _d_flip(g, dims: tuple):
    return flip(g, dims) if isinstance(g, Tensor) else array_module(g).flip(g, dims)


def _d_roll(g, shifts: tuple, dims: tuple):
    return roll(g, shifts, dims) if isinstance(g, Tensor) else array_module(g).roll(
        g, shifts, dims)


def _d_rot90(g, k: int, dims: tuple):
    return rot90(g, k, dims) if isinstance(g, Tensor) else array_module(g).rot90(g, k, dims)


def _d_cat(gs: list, dim: int):
    if any(isinstance(g, Tensor) for g in gs):
        return cat([g if isinstance(g, Tensor) else _wrap(g) for g in gs], dim)
    return array_module(gs[0]).concatenate(gs, axis=dim)


def _d_stack(gs: list, dim: int):
    if any(isinstance(g, Tensor) for g in gs):
        return stack([g if isinstance(g, Tensor) else _wrap(g) for g in gs], dim)
    return array_module(gs[0]).stack(gs, axis=dim)


def _d_tri(g, k: int, upper: bool):
    if isinstance(g, Tensor):
        return triu(g, k) if upper else tril(g, k)
    xp = array_module(g)
    return xp.triu(g, k) if upper else xp.tril(g, k)


def _d_diagonal(g, offset: int, d1: int, d2: int):
    return diagonal(g, offset, d1, d2) if isinstance(g, Tensor) else _diag_view(
        g, offset, d1, d2)


def _d_diag_scatter(g, shape: tuple, offset: int, d1: int, d2: int):
    if isinstance(g, Tensor):
        fn = _new(DiagScatter)
        fn.shape, fn.offset, fn.d1, fn.d2 = shape, offset, d1, d2
        return record_unary(fn, g, fn.forward(g._data))
    return DiagScatter.scatter(g, shape, offset, d1, d2)


def _scatter_add_raw(g, index, shape: tuple):
    """Zeros of ``shape`` plus ``g`` added at ``index`` (repeats accumulate)."""
    xp = array_module(g)
    out = xp.zeros(shape, dtype=g.dtype)
    xp.add.at(out, index, g)
    return out


# -- structseq-like named tuples (torch.return_types.*) ------------------------------------------
def _return_type(name: str, fields: tuple):
    import collections

    base = collections.namedtuple(name, fields)

    def __repr__(self) -> str:  # noqa: N807
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"torch.return_types.{name}(\n{body})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__})
    cls.__module__ = "torch.return_types"
    return cls


SortResult = _return_type("sort", ("values", "indices"))
TopkResult = _return_type("topk", ("values", "indices"))
KthvalueResult = _return_type("kthvalue", ("values", "indices"))


# -- views: unflatten / movedim / narrow / diagonal / unfold -------------------------------------
def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one may be -1); a view."""
    s = x._data.shape
    d = _wrap_dim(dim, len(s), "unflatten")
    sizes = tuple(int(k) for k in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    inner = _infer_shape(sizes, s[d]) if len(s) else sizes
    return reshape(x, s[:d] + inner + s[d + 1:])


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
    order = [None] * n
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    rest = iter(i for i in range(n) if i not in src)
    order = tuple(o if o is not None else next(rest) for o in order)
    return _view_op(Permute, x, dims=order) if n else _view_op(Alias, x)


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
        return _d_diag_scatter(grad, self.in_shape, self.offset, self.d1, self.d2)


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
        return _d_diagonal(grad, self.offset, self.d1, self.d2)


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
        return _d_diag_scatter(dual.expand(grad, (self.n,)), self.in_shape, 0, 0, 1)


def trace(x: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix."""
    s = x._data.shape
    if len(s) != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {len(s)}")
    fn = _new(Trace)
    fn.in_shape, fn.n = s, min(s)
    out = x._data.trace()
    if x._data.dtype.kind in "biu":
        out = np.asarray(out, dtype=np.int64)  # NOTE: torch.trace of integers is int64
    return record_unary(fn, x, np.asarray(out))


class Tril(Op):
    name_ = "TrilBackward0"
    formula = {"x": "grad.tril(k)"}
    save_inputs = False
    same_shape = True
    __slots__ = ("k",)
    upper = False

    def forward(self, x):
        xp = array_module(x)
        return xp.triu(x, self.k) if self.upper else xp.tril(x, self.k)

    def backward(self, grad):
        return _d_tri(grad, self.k, self.upper)


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
        return array_module(x).tile(x, self.reps)

    def backward(self, grad):
        return _d_sum(grad.reshape(self.split_shape), self.rep_axes).reshape(self.in_shape)


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
    return record_unary(fn, x, array_module(x._data).tile(x._data.reshape(full), reps))


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
        return array_module(x).flip(x, self.dims).copy()

    def backward(self, grad):
        return _d_flip(grad, self.dims)


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
            return array_module(x).roll(x, self.shifts)
        return array_module(x).roll(x, self.shifts, self.dims)

    def backward(self, grad):
        neg = tuple(-k for k in self.shifts)
        if self.dims is None:
            return _d_roll(grad.reshape(-1), neg, (0,)).reshape(grad.shape)
        return _d_roll(grad, neg, self.dims)


def roll(x: Tensor, shifts, dims=None) -> Tensor:
    """Rotate elements along ``dims`` by ``shifts`` (the flattened tensor when dims is None)."""
    sh = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    fn = _new(Roll)
    if dims is None:
        if len(sh) != 1:
            raise RuntimeError(f"roll: shifts and dims must align. shifts: {len(sh)}, dims: 0")
        fn.shifts, fn.dims = sh[0:1], None
        fn.shifts = (sh[0],)
        out = array_module(x._data).roll(x._data, sh[0])
        return record_unary(fn, x, out)
    ds = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(sh) != len(ds):
        raise RuntimeError(
            f"roll: shifts and dimensions must align. shifts: {len(sh)}, dims:{len(ds)}")
    fn.shifts, fn.dims = sh, tuple(_wrap_dim(d, x._data.ndim, "roll") for d in ds)
    return record_unary(fn, x, fn.forward(x._data))


class Rot90(Op):
    name_ = "Rot90Backward0"
    formula = {"x": "grad.rot90(-k, dims)"}
    save_inputs = False
    __slots__ = ("k", "dims")

    def forward(self, x):
        return array_module(x).rot90(x, self.k, self.dims).copy()

    def backward(self, grad):
        return _d_rot90(grad, -self.k, self.dims)


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


# -- joining -----------------------------------------------------------------------------------
def _joinable(tensors, op: str) -> list:
    ts = list(tensors)
    if not ts:
        raise RuntimeError(f"{op}(): expected a non-empty list of Tensors")
    for k, t_ in enumerate(ts):
        if not isinstance(t_, Tensor):
            raise TypeError(
                f"{op}(): argument 'tensors' must be tuple of Tensors, not "
                f"{type(t_).__name__} (at position {k})")
    from ..dtypes import FROM_NP, promote_types

    dt = ts[0].dtype
    for t_ in ts[1:]:
        dt = promote_types(dt, t_.dtype)
    return [t_ if t_._data.dtype == dt.np else t_.to(FROM_NP[dt.np]) for t_ in ts]


class Cat(Op):
    name_ = "CatBackward0"
    save_inputs = False
    __slots__ = ("dim", "parts")

    @property
    def formula(self) -> dict:
        """One entry per concatenated tensor: its slice of ``grad``."""
        return {f"tensors[{i}]": f"grad.narrow(dim, {o}, {n})"
                for i, (o, n) in enumerate(self.parts)}

    def forward(self, *xs):
        return array_module(xs[0]).concatenate(xs, axis=self.dim)

    def backward(self, grad):
        pre = (_ax_slice,) * self.dim
        return tuple(grad[pre + (slice(o, o + n),)] if nf[0] is not None else None
                     for (o, n), nf in zip(self.parts, self.next_functions))


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate tensors along an existing dim."""
    ts = _joinable(tensors, "cat")
    # NOTE: PyTorch still skips 1-d empty tensors (legacy) whatever the other shapes are
    live = [t_ for t_ in ts if t_._data.shape != (0,)] or ts[:1]
    for k, t_ in enumerate(live):
        if t_._data.ndim == 0:
            raise RuntimeError(
                f"zero-dimensional tensor (at position {k}) cannot be concatenated")
    ref = live[0]._data.shape
    d = _wrap_dim(dim, len(ref), "cat")
    for k, t_ in enumerate(live):
        s = t_._data.shape
        if len(s) != len(ref):
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {len(ref)} and {len(s)}")
        for j in range(len(ref)):
            if j != d and s[j] != ref[j]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref[j]} but got size {s[j]} for tensor number {k} in the list.")
    fn = _new(Cat)
    fn.dim = d
    parts, o = [], 0
    for t_ in live:
        n = t_._data.shape[d]
        parts.append((o, n))
        o += n
    fn.parts = tuple(parts)
    return record(fn, tuple(live), fn.forward(*[t_._data for t_ in live]))


class Stack(Op):
    name_ = "StackBackward0"
    save_inputs = False
    __slots__ = ("dim", "n")

    @property
    def formula(self) -> dict:
        """One entry per stacked tensor: its slice of ``grad``."""
        return {f"tensors[{i}]": f"grad.select(dim, {i})" for i in range(self.n)}

    def forward(self, *xs):
        return array_module(xs[0]).stack(xs, axis=self.dim)

    def backward(self, grad):
        pre = (_ax_slice,) * self.dim
        return tuple(grad[pre + (i,)] if nf[0] is not None else None
                     for i, nf in enumerate(self.next_functions))


def stack(tensors, dim: int = 0) -> Tensor:
    """Stack same-shape tensors along a new dim."""
    ts = _joinable(tensors, "stack")
    ref = ts[0]._data.shape
    for k, t_ in enumerate(ts):
        if t_._data.shape != ref:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(ref)} at entry 0 "
                f"and {list(t_._data.shape)} at entry {k}")
    fn = _new(Stack)
    fn.dim, fn.n = _wrap_dim(dim, len(ref) + 1, "stack"), len(ts)
    return record(fn, tuple(ts), fn.forward(*[t_._data for t_ in ts]))


def atleast(x: Tensor, n: int) -> Tensor:
    """``x`` with at least ``n`` dims (torch.atleast_1d/2d/3d's rules)."""
    s = x._data.shape
    if len(s) >= n:
        return x
    if not s:
        return reshape(x, (1,) * n)
    if n == 2 or len(s) == 2:
        return unsqueeze(x, 0) if n == 2 else unsqueeze(x, -1)
    return unsqueeze(unsqueeze(x, 0), -1)  # 1-d to 3-d: (1, n, 1)


# -- splitting (several outputs, one node) ------------------------------------------------
class Split(Op):
    name_ = "SplitBackward0"
    # one output's share; the node concatenates every output's gradient (zeros for unused ones)
    formula = {"x": "embed(grad, in_shape, (slice(None),) * dim + (slice(0, sizes[0]),))"}
    save_inputs = False
    __slots__ = ("dim", "sizes", "in_shape", "_nout")

    def forward(self, x):
        pre = (_ax_slice,) * self.dim
        out, o = [], 0
        for n in self.sizes:
            out.append(x[pre + (slice(o, o + n),)])
            o += n
        return out

    def backward(self, *grads):
        ref = next(g for g in grads if g is not None)
        shape = list(self.in_shape)
        parts = []
        for k, n in enumerate(self.sizes):
            g = grads[k] if k < len(grads) else None
            if g is None:
                shape[self.dim] = n
                g = _d_zeros(ref, tuple(shape))
            parts.append(g)
        return _d_cat(parts, self.dim)


class SplitWithSizes(Split):
    name_ = "SplitWithSizesBackward0"
    __slots__ = ()


class Unbind(Split):
    name_ = "UnbindBackward0"
    formula = {"x": "embed(grad, in_shape, (slice(None),) * dim + (0,))"}
    __slots__ = ()

    def forward(self, x):
        pre = (_ax_slice,) * self.dim
        return [x[pre + (i,)] for i in range(len(self.sizes))]

    def backward(self, *grads):
        ref = next(g for g in grads if g is not None)
        shape = self.in_shape[:self.dim] + self.in_shape[self.dim + 1:]
        parts = [grads[k] if k < len(grads) and grads[k] is not None else _d_zeros(ref, shape)
                 for k in range(len(self.sizes))]
        return _d_stack(parts, self.dim)


def _multi(cls, x: Tensor, dim: int, sizes: tuple) -> tuple:
    from ..autograd.grad_mode import state

    fn = _new(cls)
    fn.dim, fn.sizes, fn.in_shape = dim, tuple(sizes), x._data.shape
    fn._nout = len(sizes)
    arrays = fn.forward(x._data)
    if not arrays:
        return ()
    first = _as_view(record_unary(fn, x, arrays[0]), x)
    outs = [first]
    rg = first.grad_fn is fn and state.enabled
    for k, a in enumerate(arrays[1:], 1):
        t_ = _as_view(_wrap(a), x)
        if rg:
            t_._rg, t_.grad_fn, t_._out_nr = True, fn, k
        outs.append(t_)
    return tuple(outs)


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into chunks of a given size, or of the listed sizes, along ``dim`` (views)."""
    s = x._data.shape
    if not s:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, len(s), "split")
    n = s[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = tuple(int(k) for k in split_size_or_sections)
        if sum(sizes) != n or any(k < 0 for k in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={list(sizes)}")
        return _multi(SplitWithSizes, x, d, sizes)
    k = int(split_size_or_sections)
    if k < 0 or (k == 0 and n != 0):
        raise RuntimeError(
            f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
    if n == 0:
        sizes = (0,)
    else:
        sizes = tuple(min(k, n - o) for o in range(0, n, k))
    return _multi(Split, x, d, sizes)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into (at most) ``chunks`` pieces of equal size, the last possibly smaller."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    s = x._data.shape
    if not s:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, len(s), "chunk")
    size = -(-s[d] // chunks)
    if size == 0:
        return split(x, 1 if s[d] == 0 else size, d) if s[d] else _multi(
            Split, x, d, (0,) * chunks)
    return split(x, size, d)


def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, each without that dim (views)."""
    s = x._data.shape
    if not s:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, len(s), "unbind")
    return _multi(Unbind, x, d, (1,) * s[d])


def tensor_split(x: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Split at the given indices, or into n nearly equal parts (numpy.array_split's rule)."""
    s = x._data.shape
    d = _wrap_dim(dim, len(s), "tensor_split")
    n = s[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        ios = ios.tolist()
    if isinstance(ios, int):
        if ios <= 0:
            raise RuntimeError(
                f"number of sections must be larger than 0, got {ios}")
        q, r = divmod(n, ios)
        bounds, o = [], 0
        for k in range(ios):
            bounds.append((o, o + q + (1 if k < r else 0)))
            o = bounds[-1][1]
    else:
        cuts = [0] + [min(max(int(i) if i >= 0 else int(i) + n, 0), n) for i in ios] + [n]
        bounds = [(a, max(a, b)) for a, b in zip(cuts[:-1], cuts[1:])]
    return tuple(_view_op(Slice, x, dim=d, sl=slice(a, b), in_shape=s) for a, b in bounds)


# -- gathers: one node class per PyTorch node, all of the form out = x[index] --------------------
class Take(Op):
    """``out = x[index]`` for an advanced index (repeats allowed); backward scatters grad back."""

    name_ = "TakeBackward0"
    formula = {"x": "embed(grad.reshape(ishape), in_shape, index, acc)"}
    save_inputs = False
    __slots__ = ("index", "in_shape", "ishape", "acc", "oshape")

    def forward(self, x):
        return x[self.index].reshape(self.oshape)

    def backward(self, grad):
        return dual.embed(grad.reshape(self.ishape), self.in_shape, self.index, self.acc)


class Gather(Take):
    name_ = "GatherBackward0"
    __slots__ = ()


class IndexSelect(Take):
    name_ = "IndexSelectBackward0"
    __slots__ = ()


class MaskedSelect(Take):
    name_ = "MaskedSelectBackward0"
    __slots__ = ()


class SortValues(Take):
    name_ = "SortBackward0"
    __slots__ = ()


class TopkValues(Take):
    name_ = "TopkBackward0"
    __slots__ = ()


class KthvalueValues(Take):
    name_ = "KthvalueBackward0"
    __slots__ = ()


class Unfold(Take):
    name_ = "UnfoldBackward0"
    __slots__ = ()


def _take(cls, x: Tensor, index, ishape: tuple, oshape: tuple | None = None,
          acc: bool = True) -> Tensor:
    fn = _new(cls)
    fn.index, fn.in_shape, fn.ishape, fn.acc = index, x._data.shape, ishape, acc
    fn.oshape = ishape if oshape is None else oshape
    return record_unary(fn, x, fn.forward(x._data))


def _long_index(idx, op: str, what: str = "index") -> np.ndarray:
    a = idx._data if isinstance(idx, Tensor) else np.asarray(idx)
    if a.dtype.kind not in "iu" and not (a.size == 0 and a.dtype.kind == "f"):
        raise RuntimeError(f"{op}(): Expected dtype int64 for {what}")
    return a.astype(np.int64, copy=False)


def _check_bounds(a: np.ndarray, n: int, op: str, d: int = 0, exc=IndexError) -> None:
    if a.size and (a.max() >= n or a.min() < -n):
        bad = a.max() if a.max() >= n else a.min()
        raise exc(f"index {bad} is out of bounds for dimension {d} with size {n}")


def _along(idx: np.ndarray, dim: int) -> tuple:
    """The advanced index tuple that picks ``idx`` along ``dim`` (take_along_axis's rule)."""
    nd = idx.ndim
    return tuple(idx if k == dim else np.arange(idx.shape[k]).reshape(
        (-1,) + (1,) * (nd - k - 1)) for k in range(nd))


def take(x: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened ``x`` at ``index`` (the result has index's shape)."""
    a = _long_index(index, "take")
    n = x._data.size
    if a.size and (a.max() >= n or a.min() < -n):
        bad = a.max() if a.max() >= n else a.min()
        raise IndexError(
            f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    return _take(Take, reshape(x, (-1,)), (a % max(n, 1),), a.shape)


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = x[index[i][j]][j]`` for dim 0 (and so on): values picked along ``dim``."""
    a = _long_index(index, "gather")
    s = x._data.shape
    d = _wrap_dim(dim, len(s), "gather")
    if a.ndim != len(s) and not (a.ndim <= 1 and len(s) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    if len(s) == 0:
        x = reshape(x, (1,))
        s = (1,)
    a2 = a.reshape(a.shape if a.ndim else (1,))
    for k in range(len(s)):
        if k != d and a2.shape[k] > s[k]:
            raise RuntimeError(
                f"Size does not match at dimension {k} expected index {list(a.shape)} to be no "
                f"larger than self {list(s)} apart from dimension {d}")
    _check_bounds(a2, s[d], "gather", d, RuntimeError)
    return _take(Gather, x, _along(a2, d), a2.shape, a.shape)


def take_along_dim(x: Tensor, indices: Tensor, dim=None) -> Tensor:
    """Values of ``x`` at ``indices`` along ``dim`` (broadcasting the other dims)."""
    a = _long_index(indices, "take_along_dim", "indices")
    if dim is None:
        flat = reshape(x, (-1,))
        return gather(flat, 0, _wrap(a.reshape(-1)))
    s = x._data.shape
    d = _wrap_dim(dim, len(s), "take_along_dim")
    if a.ndim != len(s):
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of dimensions,"
            f" but got {len(s)} dimensions for input, and {a.ndim} dimensions for indices")
    bs = list(np.broadcast_shapes(tuple(k for i, k in enumerate(s) if i != d),
                                  tuple(k for i, k in enumerate(a.shape) if i != d)))
    xs, as_ = list(bs), list(bs)
    xs.insert(d, s[d])
    as_.insert(d, a.shape[d])
    x = expand_to(x, tuple(xs))
    return gather(x, d, _wrap(np.broadcast_to(a, tuple(as_))))


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """Entries of ``x`` along ``dim`` at the 1-d ``index``."""
    a = _long_index(index, "index_select")
    if a.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    a = a.reshape(-1)
    s = x._data.shape
    d = _wrap_dim(dim, len(s), "index_select")
    if not s:
        if a.size != 1:
            raise RuntimeError(
                f"index_select(): Index to scalar can have only 1 value, got {a.size} value(s)")
        _check_bounds(a, 1, "index_select")
        return _take(IndexSelect, reshape(x, (1,)), (a,), a.shape, ())
    _check_bounds(a, s[d], "index_select", d)
    out_shape = s[:d] + (a.size,) + s[d + 1:]
    return _take(IndexSelect, x, (_ax_slice,) * d + (a,), out_shape)


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The elements where ``mask`` (broadcast with ``x``) is true, as a 1-d tensor."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(
            f"masked_select: expected BoolTensor for mask but got {FROM_NP_name(m.dtype)}")
    shape = np.broadcast_shapes(x._data.shape, m.shape)
    x = expand_to(x, shape)
    m = np.broadcast_to(m, shape)
    return _take(MaskedSelect, x, m, (int(m.sum()),))


def FROM_NP_name(dt) -> str:  # noqa: N802 - a tiny name helper
    from ..dtypes import FROM_NP

    return FROM_NP[np.dtype(dt)].name.capitalize()


def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """All windows of ``size`` along ``dimension`` with stride ``step``, as a new last dim."""
    s = x._data.shape
    d = _wrap_dim(dimension, len(s), "unfold")
    n = s[d] if s else 1
    if size > n:
        raise RuntimeError(
            f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    cnt = (n - size) // step + 1
    pos = np.arange(x._data.size).reshape(s)
    if s:
        st = pos.strides
        shape = s[:d] + (cnt,) + s[d + 1:] + (size,)
        strides = st[:d] + (st[d] * step,) + st[d + 1:] + (st[d],)
        flat = np.lib.stride_tricks.as_strided(pos, shape, strides)
    else:
        shape = (size,)
        flat = pos.reshape(1)[:size]
    if not s:
        return _take(Unfold, reshape(x, (1,)), (flat,), shape)
    return _take(Unfold, x, np.unravel_index(flat, s), shape)


# -- sorting -------------------------------------------------------------------------------------
def _argsort(d: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    if not descending:
        return np.argsort(d, axis=axis, kind="stable")
    # NOTE: stable descending keeps equal elements in input order, as torch.sort(stable=True);
    # flip, stable-sort ascending, flip back and map indices.
    n = d.shape[axis]
    r = np.flip(d, axis)
    idx = np.argsort(r, axis=axis, kind="stable")
    idx = np.flip(idx, axis)
    return n - 1 - idx


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """Sorted values along ``dim`` and their original indices."""
    d_ = x._data
    if d_.ndim == 0:
        return SortResult(_take(SortValues, x, (), (), acc=False), _wrap(np.zeros((), np.int64)))
    d = _wrap_dim(dim, d_.ndim, "sort")
    idx = _argsort(d_, d, descending)
    return SortResult(_take(SortValues, x, _along(idx, d), idx.shape, acc=False), _wrap(idx))


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``x`` along ``dim``."""
    d_ = x._data
    if d_.ndim == 0:
        return _wrap(np.zeros((), np.int64))
    return _wrap(_argsort(d_, _wrap_dim(dim, d_.ndim, "argsort"), descending))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    d_ = x._data
    xx = x if d_.ndim else reshape(x, (1,))
    dd = xx._data
    d = _wrap_dim(dim, dd.ndim, "topk")
    if not 0 <= k <= dd.shape[d]:
        raise RuntimeError("selected index k out of range")
    idx = _argsort(dd, d, largest)
    idx = np.take(idx, np.arange(k), axis=d)
    oshape = idx.shape if d_.ndim else ()
    vals = _take(TopkValues, xx, _along(idx, d), idx.shape, oshape, acc=False)
    return TopkResult(vals, _wrap(idx.reshape(oshape)))


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The ``k``-th smallest value along ``dim`` and its index."""
    d_ = x._data
    xx = x if d_.ndim else reshape(x, (1,))
    dd = xx._data
    d = _wrap_dim(dim, dd.ndim, "kthvalue")
    if not 1 <= k <= dd.shape[d]:
        raise RuntimeError(
            f"kthvalue(): selected number k out of range for dimension {d}")
    idx = np.take(np.argsort(dd, axis=d, kind="stable"), [k - 1], axis=d)
    oshape = idx.shape if keepdim else idx.shape[:d] + idx.shape[d + 1:]
    if not d_.ndim:
        oshape = ()
    vals = _take(KthvalueValues, xx, _along(idx, d), idx.shape, oshape, acc=False)
    return KthvalueResult(vals, _wrap(idx.reshape(oshape)))


# -- writes: out = x with a region set / added (one node class per PyTorch node) ----------------
class IndexCopy(Op):
    """``out = x.clone(); out[index] = src`` (or ``+= alpha * src`` when ``add``)."""

    name_ = "IndexCopyBackward0"
    formula = {"a": "grad if add else put(grad, index, 0.0)",
               "b": "sum_to(grad[index] * alpha, vshape)"}
    save_inputs = False
    __slots__ = ("index", "add", "alpha", "vshape")

    def forward(self, a, b):
        out = a.copy()
        if self.add:
            array_module(a).add.at(out, self.index, b * self.alpha if self.alpha != 1 else b)
        else:
            out[self.index] = b
        return out

    def backward(self, grad):
        nf = self.next_functions
        ga = gb = None
        if nf[0][0] is not None:
            ga = grad if self.add else dual.put(grad, self.index, 0)
        if len(nf) > 1 and nf[1][0] is not None:
            gb = dual.gather(grad, self.index)
            if self.alpha != 1:
                gb = gb * self.alpha
            gb = dual.sum_to(gb, self.vshape, self, 1)
        return ga, gb


class IndexAdd(IndexCopy):
    name_ = "IndexAddBackward0"
    __slots__ = ()


class IndexFill(IndexCopy):
    name_ = "IndexFillBackward0"
    __slots__ = ()


class IndexFillTensor(IndexCopy):
    name_ = "IndexFillBackward1"
    __slots__ = ()


class IndexPutOp(IndexCopy):
    name_ = "IndexPutBackward0"
    __slots__ = ()


class Scatter(IndexCopy):
    name_ = "ScatterBackward0"
    __slots__ = ()


class ScatterValue(IndexCopy):
    name_ = "ScatterBackward1"
    __slots__ = ()


class ScatterAdd(IndexCopy):
    name_ = "ScatterAddBackward0"
    __slots__ = ()


class ScatterReduceSum(IndexCopy):
    name_ = "ScatterReduceBackward0"
    __slots__ = ()


class MaskedFill(IndexCopy):
    name_ = "MaskedFillBackward0"
    __slots__ = ()


class MaskedFillTensor(IndexCopy):
    name_ = "MaskedFillBackward1"
    __slots__ = ()


class MaskedScatter(IndexCopy):
    name_ = "MaskedScatterBackward0"
    __slots__ = ()


def _write(cls, x: Tensor, index, value, add: bool = False, alpha=1) -> Tensor:
    fn = _new(cls)
    fn.index, fn.add, fn.alpha = index, add, alpha
    xd = x._data
    if isinstance(value, Tensor):
        if value._data.dtype != xd.dtype:
            value = value.to(x.dtype)
        fn.vshape = value._data.shape
        return record(fn, (x, value), fn.forward(xd, value._data))
    fn.vshape = ()
    return record(fn, (x,), fn.forward(xd, value))


def _check_src_dtype(x: Tensor, src: Tensor, op: str) -> None:
    if isinstance(src, Tensor) and src._data.dtype != x._data.dtype:
        raise RuntimeError(
            f"{op}(): self ({x.dtype.name.capitalize()}) and source "
            f"({src.dtype.name.capitalize()}) must have the same scalar type")


def _dim_region(x: Tensor, dim: int, index, op: str) -> tuple:
    """The index tuple that selects ``index`` along ``dim`` (for index_copy/add/fill)."""
    s = x._data.shape
    a = _long_index(index, op).reshape(-1)
    d = _wrap_dim(dim, len(s), op)
    _check_bounds(a, s[d] if s else 1, op, d)
    if not s:
        return d, (Ellipsis,)  # a 0-d tensor: the one element
    return d, (_ax_slice,) * d + (a,)


def index_copy(x: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``x`` with the slices at ``index`` along ``dim`` replaced by ``source``'s."""
    _check_src_dtype(x, source, "index_copy")
    d, idx = _dim_region(x, dim, index, "index_copy")
    return _write(IndexCopy, x, idx, source)


def index_add(x: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """``x`` with ``alpha * source`` added at ``index`` along ``dim`` (repeats accumulate)."""
    _check_src_dtype(x, source, "index_add")
    d, idx = _dim_region(x, dim, index, "index_add")
    return _write(IndexAdd, x, idx, source, add=True, alpha=alpha)


def index_fill(x: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``x`` with the slices at ``index`` along ``dim`` set to ``value``."""
    d, idx = _dim_region(x, dim, index, "index_fill")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s).")
        return _write(IndexFillTensor, x, idx, value)
    return _write(IndexFill, x, idx, value)


def index_put(x: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """``x`` with ``values`` written (or added) at the advanced index ``indices``."""
    idx = _raw_index(x, tuple(indices))
    if not isinstance(values, Tensor):
        values = _wrap(np.asarray(values, dtype=x._data.dtype))
    if values._data.dtype != x._data.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got "
            f"{x.dtype.name.capitalize()} for the destination and "
            f"{values.dtype.name.capitalize()} for the source.")
    return _write(IndexPutOp, x, idx, values, add=accumulate)


def _scatter_index(x: Tensor, dim: int, index: Tensor, src, op: str) -> tuple:
    a = _long_index(index, op)
    s = x._data.shape
    d = _wrap_dim(dim, len(s), op)
    if a.ndim != len(s) and not (a.ndim <= 1 and len(s) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if not s:
        a = a.reshape(-1)
        _check_bounds(a, 1, op)
        return d, (a * 0,) if a.size else (a,), a.shape
    for k in range(len(s)):
        if k != d and a.shape[k] > s[k]:
            raise RuntimeError(
                f"Expected index {list(a.shape)} to be smaller than self {list(s)} apart from "
                f"dimension {d}" + (f" and to be smaller size than src {list(src.shape)}"
                                    if isinstance(src, Tensor) else ""))
    _check_bounds(a, s[d], op, d, RuntimeError)
    return d, _along(a, d), a.shape


def _src_region(src: Tensor, ishape: tuple) -> Tensor:
    """The leading ``ishape`` block of ``src`` (scatter reads only that much of it)."""
    if src._data.shape == ishape:
        return src
    if not src._data.ndim:
        return reshape(src, (1,) * len(ishape))[tuple(slice(0, k) for k in ishape)] if ishape \
            else src
    return src[tuple(slice(0, k) for k in ishape)]


def scatter(x: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:
    """``x`` with ``src``'s values (or ``value``) written at ``index`` along ``dim``."""
    if src is None:
        src = value
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        return scatter_reduce(x, dim, index, src if isinstance(src, Tensor) else _wrap(
            np.full(index.shape, src, dtype=x._data.dtype)),
            "sum" if reduce == "add" else "prod")
    d, idx, ishape = _scatter_index(x, dim, index, src, "scatter")
    if isinstance(src, Tensor):
        _check_src_dtype(x, src, "scatter")
        return _write(Scatter, x, idx, _src_region(src, ishape))
    return _write(ScatterValue, x, idx, src)


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``x`` with ``src``'s values added at ``index`` along ``dim`` (repeats accumulate)."""
    _check_src_dtype(x, src, "scatter_add")
    d, idx, ishape = _scatter_index(x, dim, index, src, "scatter_add")
    return _write(ScatterAdd, x, idx, _src_region(src, ishape), add=True)


class ScatterReduce(Op):
    """scatter_reduce with prod / mean / amax / amin (sum is ScatterReduceSum)."""

    name_ = "ScatterReduceBackward0"
    formula = {"a": "scatter_reduce_backward(grad, ...)[0]",
               "b": "scatter_reduce_backward(grad, ...)[1]"}
    __slots__ = ("index", "reduce", "include_self")
    save_output = True

    def forward(self, a, b):
        xp = array_module(a)
        idx, r = self.index, self.reduce
        out = a.copy()
        if r == "mean":
            out = out.astype(np.float64) if out.dtype.kind != "f" else out
            cnt = xp.zeros(a.shape, dtype=np.int64)
            xp.add.at(cnt, idx, 1)
            if not self.include_self:
                out[idx] = 0
            xp.add.at(out, idx, b)
            cnt = cnt + (1 if self.include_self else 0)
            with np.errstate(all="ignore"):
                res = np.where(cnt > 0, out / np.maximum(cnt, 1), a)
            if a.dtype.kind != "f":  # NOTE: integer means round down, as torch's
                res = np.where(cnt > 0, np.floor_divide(out, np.maximum(cnt, 1)), a)
            return res.astype(a.dtype)
        ufunc = {"prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}[r]
        if not self.include_self:
            touched = xp.zeros(a.shape, dtype=bool)
            touched[idx] = True
            fill = {"prod": 1, "amax": -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min,
                    "amin": np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).max}[r]
            out[touched] = fill
        ufunc.at(out, idx, b)
        return out

    def backward(self, grad):
        # NOTE: these reductions' gradients are computed on arrays (not recorded for a double
        # backward), like a once_differentiable function.
        graph = _is_t(grad)
        g = grad._data if graph else grad
        a, b = (i._data for i in self.inputs)
        out = self._out
        idx, r = self.index, self.reduce
        xp = array_module(g)
        nf = self.next_functions
        if r == "mean":
            cnt = xp.zeros(a.shape, dtype=g.dtype)
            xp.add.at(cnt, idx, 1)
            cnt = cnt + (1 if self.include_self else 0)
            cnt = np.maximum(cnt, 1)
            ga = g / cnt if self.include_self else np.where(
                _touched(a.shape, idx), 0, g)
            if self.include_self:
                ga = np.where(_touched(a.shape, idx), ga, g)
            gb = (g / cnt)[idx]
        elif r == "prod":
            with np.errstate(all="ignore"):
                ga = np.where(a != 0, g * out / np.where(a == 0, 1, a), 0)
                gb = np.where(b != 0, (g * out)[idx] / np.where(b == 0, 1, b), 0)
            if not self.include_self:
                ga = np.where(_touched(a.shape, idx), 0, g)
        else:
            ma = (a == out) if self.include_self else xp.zeros(a.shape, dtype=bool)
            mb = b == out[idx]
            cnt = ma.astype(g.dtype)
            xp.add.at(cnt, idx, mb.astype(g.dtype))
            cnt = np.maximum(cnt, 1)
            ga = np.where(_touched(a.shape, idx), g * ma / cnt, g)
            gb = (g / cnt)[idx] * mb
        ga = ga.astype(g.dtype) if nf[0][0] is not None else None
        gb = gb.astype(g.dtype) if nf[1][0] is not None else None
        if graph:
            ga = None if ga is None else _wrap(ga)
            gb = None if gb is None else _wrap(gb)
        return ga, gb


def _touched(shape, idx):
    m = np.zeros(shape, dtype=bool)
    m[idx] = True
    return m


def scatter_reduce(x: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduce ``src``'s values into ``x`` at ``index`` along ``dim`` (sum/prod/mean/amax/amin)."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(
            "reduce argument must be either sum, prod, mean, amax or amin, got " + str(reduce))
    _check_src_dtype(x, src, "scatter_reduce")
    d, idx, ishape = _scatter_index(x, dim, index, src, "scatter_reduce")
    src = _src_region(src, ishape)
    if reduce == "sum" and include_self:
        return _write(ScatterReduceSum, x, idx, src, add=True)
    if reduce == "sum":  # without self: zero the places written to, then add
        return _write(ScatterReduceSum, _write(ScatterValue, x, idx, 0), idx, src, add=True)
    fn = _new(ScatterReduce)
    fn.index, fn.reduce, fn.include_self = idx, reduce, include_self
    return record(fn, (x, src), fn.forward(x._data, src._data))


def masked_fill(x: Tensor, mask: Tensor, value) -> Tensor:
    """``x`` with ``value`` wherever ``mask`` (broadcast to x's shape) is true."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{FROM_NP_name(m.dtype).lower()}")
    shape = np.broadcast_shapes(x._data.shape, m.shape)
    x = expand_to(x, shape)
    m = np.broadcast_to(m, shape)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s).")
        return _write(MaskedFillTensor, x, m, value)
    return _write(MaskedFill, x, m, value)


def masked_scatter(x: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``x`` with the true places of ``mask`` filled, in order, from ``source``'s elements."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError("masked_scatter_ only supports boolean masks")
    _check_src_dtype(x, source, "masked_scatter")
    shape = np.broadcast_shapes(x._data.shape, m.shape)
    x = expand_to(x, shape)
    m = np.broadcast_to(m, shape)
    k = int(m.sum())
    if k > source._data.size:
        raise RuntimeError(
            "masked_scatter: expected source to have at least as many elements as ones in mask")
    src = reshape(source, (-1,))
    if k != src._data.shape[0]:
        src = src[:k]
    return _write(MaskedScatter, x, m, src)


# -- no gradients: index queries, counting ---------------------------------------------------
def nonzero(x: Tensor, as_tuple: bool = False):
    """Indices of the non-zero elements: an (n, ndim) tensor, or one 1-d tensor per dim."""
    d = x._data
    if as_tuple:
        if d.ndim == 0:
            return (_wrap(np.zeros(int(bool(d)), np.int64)),)
        return tuple(_wrap(i.astype(np.int64)) for i in np.nonzero(d))
    if d.ndim == 0:
        return _wrap(np.zeros((int(bool(d)), 0), np.int64))
    return _wrap(np.argwhere(d).astype(np.int64))


def _long(a) -> Tensor:
    return _wrap(np.asarray(a, dtype=np.int64))


def unique(x: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):
    """The distinct values (sorted), optionally with inverse indices and counts."""
    d = x._data
    if dim is None:
        vals, inv, cnt = np.unique(d.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(d.shape)
    else:
        dd = _wrap_dim(dim, d.ndim, "unique")
        moved = np.moveaxis(d, dd, 0)
        vals, inv, cnt = np.unique(moved.reshape(moved.shape[0], -1), axis=0,
                                   return_inverse=True, return_counts=True)
        vals = np.moveaxis(vals.reshape((-1,) + moved.shape[1:]), 0, dd)
        inv = inv.reshape(-1)
    out = [_wrap(np.ascontiguousarray(vals))]
    if return_inverse:
        out.append(_long(inv))
    if return_counts:
        out.append(_long(cnt))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(x: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim=None):
    """Collapse runs of equal consecutive values (or slices along ``dim``) to one."""
    d = x._data
    if dim is None:
        flat = d.reshape(-1)
        start = np.ones(flat.shape[0], dtype=bool)
        if flat.size:
            start[1:] = flat[1:] != flat[:-1]
        vals = flat[start]
        inv_shape = d.shape
    else:
        dd = _wrap_dim(dim, d.ndim, "unique_consecutive")
        moved = np.moveaxis(d, dd, 0).reshape(d.shape[dd], -1)
        start = np.ones(moved.shape[0], dtype=bool)
        if moved.shape[0]:
            start[1:] = (moved[1:] != moved[:-1]).any(axis=1)
        vals = np.compress(start, d, axis=dd)
        inv_shape = (d.shape[dd],)
    out = [_wrap(np.ascontiguousarray(vals))]
    if return_inverse:
        out.append(_long((np.cumsum(start) - 1).reshape(inv_shape)))
    if return_counts:
        pos = np.flatnonzero(start)
        out.append(_long(np.diff(np.append(pos, start.shape[0]))))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(x: Tensor, weights=None, minlength: int = 0) -> Tensor:
    """Count of each value in a 1-d non-negative integer tensor (or the sum of ``weights``)."""
    d = x._data
    if d.ndim != 1 or d.dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if d.size and d.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _long(np.bincount(d, minlength=minlength))
    w = weights._data
    r = np.bincount(d, weights=w, minlength=minlength)
    return _wrap(r.astype(w.dtype if w.dtype.kind == "f" else np.float64))


def histc(x: Tensor, bins: int = 100, min=0, max=0) -> Tensor:  # noqa: A002
    """Histogram with ``bins`` equal bins over [min, max] (the data's range when both are 0)."""
    d = x._data
    if d.dtype.kind != "f":
        raise NotImplementedError(
            f"\"histogram_cpu\" not implemented for '{_torch_type_word(d.dtype)}'")
    lo, hi = float(min), float(max)
    if lo == hi and d.size:
        lo, hi = float(d.min()), float(d.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    h, _ = np.histogram(d, bins=bins, range=(lo, hi))
    return _wrap(h.astype(d.dtype))


def searchsorted(sorted_sequence: Tensor, values, *, out_int32: bool = False,
                 right: bool = False, side=None, sorter=None) -> Tensor:
    """Indices where ``values`` would be inserted to keep each innermost row sorted."""
    seq = sorted_sequence._data
    v = values._data if isinstance(values, Tensor) else np.asarray(values)
    if side is not None:
        right = side == "right"
    sd = "right" if right else "left"
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._data, -1)
    if seq.ndim <= 1:
        r = np.searchsorted(seq, v, side=sd)
    else:
        if seq.shape[:-1] != v.shape[:-1]:
            raise RuntimeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                "dimensions of boundaries tensor and input value tensor must match, but we got "
                f"boundaries tensor {list(seq.shape)} and input value tensor {list(v.shape)}")
        s2 = seq.reshape(-1, seq.shape[-1])
        v2 = v.reshape(s2.shape[0], -1)
        r = np.stack([np.searchsorted(a, b, side=sd) for a, b in zip(s2, v2)]).reshape(v.shape)
    return _wrap(np.asarray(r, dtype=np.int32 if out_int32 else np.int64))


def bucketize(x, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """Index of the bucket of each value (boundaries is 1-d and sorted)."""
    b = boundaries._data
    if b.ndim != 1:
        raise RuntimeError(
            f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    v = x._data if isinstance(x, Tensor) else np.asarray(x)
    r = np.searchsorted(b, v, side="right" if right else "left")
    return _wrap(np.asarray(r, dtype=np.int32 if out_int32 else np.int64))


def repeat_interleave(x: Tensor, repeats, dim=None, output_size=None) -> Tensor:
    """Repeat each element (or slice along ``dim``) ``repeats`` times, consecutively."""
    if dim is None:
        x = reshape(x, (-1,))
        d = 0
    else:
        d = _wrap_dim(dim, x._data.ndim, "repeat_interleave")
    s = x._data.shape
    if isinstance(repeats, Tensor) and repeats._data.ndim > 0:
        r = repeats._data
        if r.ndim != 1 or (r.shape[0] != s[d] and r.shape[0] != 1):
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor with size of input at dim")
        if r.size and r.min() < 0:
            raise RuntimeError("repeats can not be negative")
        idx = np.repeat(np.arange(s[d]), np.broadcast_to(r, (s[d],)))
        return index_select(x, d, _long(idx))
    k = int(repeats.item() if isinstance(repeats, Tensor) else repeats)
    if k < 0:
        raise RuntimeError("repeats can not be negative")
    if not s:
        x = reshape(x, (1,))
        s = (1,)
    # NOTE: torch does unsqueeze -> expand -> clone -> view (its node reads ViewBackward0)
    e = expand(unsqueeze(x, d + 1), s[:d + 1] + (k,) + s[d + 1:])
    return view(e.clone(), s[:d] + (s[d] * k,) + s[d + 1:])


def broadcast_shapes(*shapes) -> tuple:
    """The shape that all ``shapes`` broadcast to."""
    norm = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    try:
        return np.broadcast_shapes(*norm)
    except ValueError:
        raise RuntimeError(
            f"Shape mismatch: objects cannot be broadcast to a single shape. "
            f"Got shapes {[list(s) for s in norm]}") from None


def broadcast_tensors(*tensors) -> tuple:
    """Each tensor expanded to the common broadcast shape (views)."""
    shapes = [t_._data.shape for t_ in tensors]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(
            "The size of tensors do not match: shapes "
            f"{', '.join(str(list(s)) for s in shapes)} cannot be broadcast together") from None
    # NOTE: torch returns a tensor that already has the shape as it is (no new node)
    return tuple(expand(t_, shape) if t_._data.shape != shape else t_ for t_ in tensors)


def _torch_type_word(dt) -> str:
    """The scalar-type word torch uses in kernel errors ('Long', 'Float'...)."""
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool", "float32": "Float", "float64": "Double", "float16": "Half"}[
        np.dtype(dt).name]
