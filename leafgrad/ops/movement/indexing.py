"""Indexing: select, slice and getitem with basic and advanced indices."""

from __future__ import annotations

import numpy as np

from ...autograd.node import Op
from ...backend import array_module, scatter_add
from ...tensor import Tensor, _wrap_dim
from .. import dual
from .._apply import record_unary
from .strides import relaid, reorder
from .views import _new, _view_op, unsqueeze


# -- indexing ------------------------------------------------------------------------------------
def _index_text(fn, x: str, item: str) -> str:
    """``x[:, 2]``: explain writes an index on dim ``fn.dim`` as Python indexing."""
    dim = fn.dim
    nd = len(fn.in_shape) if getattr(fn, "in_shape", None) is not None else None
    if dim < 0 and nd is not None:
        dim += nd
    if dim < 0:
        return f"{x}.select({fn.dim}, {item})"
    return f"{x}[{':, ' * dim}{item}]"


def _slice_text(sl) -> str:
    if not isinstance(sl, slice):
        return str(sl)
    a = "" if sl.start is None else str(sl.start)
    b = "" if sl.stop is None else str(sl.stop)
    return f"{a}:{b}" + ("" if sl.step in (None, 1) else f":{sl.step}")


class Select(Op):
    name_ = "SelectBackward0"
    formula = {"x": "embed(grad, in_shape, (slice(None),) * dim + (index,))"}
    save_inputs = False
    __slots__ = ("dim", "index", "in_shape")

    def _narrate_forward(self, s) -> str:
        return _index_text(self, s["x"], str(self.index))

    def forward(self, x):
        # NOTE: the trailing Ellipsis makes NumPy return a 0-d view, not a copy, when the index
        # consumes the last dim (x[i, ...] is a view of x[i]'s element, as PyTorch's select)
        return x[(slice(None),) * self.dim + (self.index, Ellipsis)]

    def backward(self, grad):
        return dual.embed(grad, self.in_shape, (slice(None),) * self.dim + (self.index,))


class Slice(Op):
    name_ = "SliceBackward0"
    formula = {"x": "embed(grad, in_shape, (slice(None),) * dim + (sl,))"}
    save_inputs = False
    __slots__ = ("dim", "sl", "in_shape")

    def _narrate_forward(self, s) -> str:
        return _index_text(self, s["x"], _slice_text(self.sl))

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
    saved_state = ("index",)  # PyTorch saves the index tensors: a second backward is refused
    __slots__ = ("index", "in_shape")

    def forward(self, x):
        return torch_index_layout(x[self.index], x, self.index)

    def backward(self, grad):
        return dual.embed(grad, self.in_shape, self.index, accumulate=True)


def torch_index_layout(y, x, index: tuple):
    """``y = x[index]`` laid out in memory as PyTorch lays out its index result.

    The layout is semantics where code reads memory order (``as_strided``, ``rand_like``,
    ``view``). PyTorch computes advanced indexing with a TensorIterator over ``x`` restrided
    (the indexed dims replaced by the index shape with stride 0, moved to the front when the
    indices are not adjacent) and the index tensors; the result takes the dim order that
    ``TensorIterator::reorder_dimensions`` derives from those operands' strides. NumPy orders
    its result otherwise (e.g. by the source's strides, stride-0 dims included).
    """
    if y.ndim < 2 or not y.size:
        return y
    arrays = [i for i in index if not isinstance(i, slice)]
    if x.flags.c_contiguous and y.flags.c_contiguous and all(
            a.dtype.kind != "b" and a.flags.c_contiguous and a.shape == arrays[0].shape
            for a in arrays):
        return y  # contiguous operands of one index shape: both libraries are row-major
    perm = _index_perm(x, index, y.shape)
    if perm is None:
        return y
    return relaid(y, perm)


def _index_perm(x, index: tuple, out_shape: tuple) -> list | None:
    """PyTorch's dim order (fastest first) of the result of ``x[index]``, or None."""
    # boolean masks become their nonzero columns: (n, k) row-major, column j strided by k
    dims, idx = [], []  # per indexed position: (x dim, index shape, index strides in elements)
    d = 0
    for i in index:
        if isinstance(i, slice):
            d += 1
            continue
        if i.dtype.kind == "b":
            n, k = int(i.sum()), i.ndim
            for j in range(k):
                dims.append(d + j)
                idx.append(((n,), (k,)))
            d += k
        else:
            dims.append(d)
            idx.append((tuple(i.shape), tuple(s // i.itemsize for s in i.strides)))
            d += 1
    if not dims:
        return None
    bshape = np.broadcast_shapes(*(sh for sh, _ in idx))
    nb = len(bshape)
    # each index expanded to the broadcast shape (stride 0 where broadcast)
    istr = []
    for sh, st in idx:
        pad = nb - len(sh)
        istr.append(tuple(0 if k < pad or sh[k - pad] != bshape[k] else st[k - pad]
                          for k in range(nb)))
    xs = tuple(s // x.itemsize for s in x.strides)
    adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
    rest = [k for k in range(x.ndim) if k not in dims]
    if adjacent:
        before, after = list(range(dims[0])), list(range(dims[-1] + 1, x.ndim))
    else:  # transposeToFront: the indexed dims first, the others after them in order
        before, after = [], rest
    shape = tuple(x.shape[k] for k in before) + tuple(bshape) + tuple(x.shape[k] for k in after)
    if shape != tuple(out_shape):
        return None
    nbf = len(before)
    src = tuple(xs[k] for k in before) + (0,) * nb + tuple(xs[k] for k in after)
    ops = [src]
    lead = int(np.prod(bshape))  # a view's new leading size-1 dims: the contiguous stride
    for st in istr:  # the index viewed as [1] * before + bshape + [1] * after
        full = (1,) * nbf + tuple(bshape) + (1,) * len(after)
        ist = (lead,) * nbf + st + (1,) * len(after)
        ops.append(tuple(0 if full[k] == 1 and shape[k] != 1 else ist[k]
                         for k in range(len(shape))))
    return reorder(shape, ops)


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
            scatter_add(out, self.index, g)
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
    # NOTE: a Python range indexes like the list of its values, as in PyTorch
    return isinstance(i, (list, np.ndarray, range)) or (
        isinstance(i, Tensor) and i._data.ndim > 0) or (
        isinstance(i, Tensor) and i._data.dtype.kind == "b")


def _norm_advanced(i, xp=np):
    """An advanced index as an array; Python data (lists, ranges) made with ``xp`` (the indexed
    tensor's array module)."""
    if isinstance(i, Tensor):
        a = i._data
    elif isinstance(i, range):
        a = xp.arange(i.start, i.stop, i.step, dtype=np.int64)
    else:
        a = xp.asarray(i)
        if a.size == 0 and a.dtype.kind != "b":
            a = a.astype(np.int64)  # NOTE: an empty list indexes as an empty int64 tensor
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
    elif not index:
        return _view_op(Alias, x)  # x[()]: PyTorch's alias of the whole tensor
    # Ellipsis -> explicit full slices
    n_real = sum(1 for i in index if i is not None and i is not Ellipsis and
                 not isinstance(i, bool) and not (
        isinstance(i, (Tensor, np.ndarray)) and (
            i._data if isinstance(i, Tensor) else i).dtype.kind == "b"))
    n_real += sum((i._data if isinstance(i, Tensor) else i).ndim for i in index if (
        isinstance(i, (Tensor, np.ndarray)) and (
            i._data if isinstance(i, Tensor) else i).dtype.kind == "b"))
    if sum(1 for i in index if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if n_real and not x._data.ndim and any(isinstance(i, int) for i in index):
        raise IndexError(
            "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
            "in C++ to convert a 0-dim tensor to a number"
        )
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
            # NOTE: x[True] adds a dim, x[False] adds an empty one; PyTorch does it with an
            # index tensor ([0] or []) on a new dim, an advanced index (IndexBackward0)
            out = unsqueeze(out, dim)
            adv.append(np.zeros(1 if i else 0, dtype=np.int64))
            has_adv = True
            dim += 1
        elif isinstance(i, slice):
            # NOTE: a slice from 0 to (at least) the end with step 1 is skipped, as PyTorch's
            # applySlice does (judged on the slice as written: x[:, -1:] is still a slice)
            if not (i.start in (None, 0) and (i.stop is None or (
                    isinstance(i.stop, int) and dim < out._data.ndim and
                    i.stop >= out._data.shape[dim])) and
                    i.step in (None, 1)):
                out = _slice_checked(out, dim, i)
            adv.append(slice(None))
            dim += 1
        elif _is_advanced(i):
            a = _norm_advanced(i, array_module(x._data))
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
            idx0 = zero_index(idx)  # PyTorch's kernel checks the positions it reads: none
            if idx0 is not None and _empty_result(out._data, idx0):
                return _gather(out, idx0)
            raise IndexError(str(e).replace("axis", "dimension")) from None
    if out is x:
        return _view_op(Alias, x) if expanded else _slice(x, 0, slice(None))
    return out


def zero_index(idx: tuple) -> tuple | None:
    """``idx`` with its integer index arrays replaced by zeros of their shapes (the same
    result shape, every position in range of a non-empty dim)."""
    out = tuple(array_module(i).zeros(i.shape, np.intp) if getattr(i, "dtype", None) is not None
                and i.dtype.kind in "iu" and getattr(i, "ndim", 0) else i for i in idx)
    return out if any(a is not b for a, b in zip(out, idx)) else None


def _empty_result(d, idx0: tuple) -> bool:
    try:
        return d[idx0].size == 0
    except (IndexError, ValueError, TypeError):
        return False


def _slice_checked(x: Tensor, dim: int, s: slice) -> Tensor:
    if x._data.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    return _slice(x, dim, s)
