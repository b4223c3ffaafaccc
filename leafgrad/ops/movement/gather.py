"""Gathers (out = x[index]: take, gather, index_select, masked_select, unfold) and sorting."""

from __future__ import annotations

import numpy as np

from ...autograd.node import Op
from ...backend import array_module, as_strided
from ...tensor import Tensor, _wrap, _wrap_dim
from .. import dual
from .._apply import keep, record_unary
from .strides import preserve
from .views import _as_view, _ax_slice, _new, expand_to, reshape


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


# -- gathers: one node class per PyTorch node, all of the form out = x[index] --------------------
class Take(Op):
    """``out = x[index]`` for an advanced index (repeats allowed); backward scatters grad back."""

    name_ = "TakeBackward0"
    formula = {"x": "embed(grad.reshape(ishape), in_shape, index, acc)"}
    # PyTorch's gathers save their index (and take, gather, masked_select their input too)
    save_inputs = True
    saved_state = ("index",)
    __slots__ = ("index", "in_shape", "ishape", "acc", "oshape")

    def forward(self, x):
        return x[self.index].reshape(self.oshape)

    def backward(self, grad):
        return dual.embed(grad.reshape(self.ishape), self.in_shape, self.index, self.acc)


def _fresh_rows(y):
    """``y`` C-contiguous (PyTorch allocates gather / index_select results row-major)."""
    return y if y.flags.c_contiguous else y.copy()


class Gather(Take):
    name_ = "GatherBackward0"
    __slots__ = ()

    def forward(self, x):
        return _fresh_rows(super().forward(x))


class IndexSelect(Take):
    name_ = "IndexSelectBackward0"
    save_inputs = False
    __slots__ = ()

    def forward(self, x):
        return _fresh_rows(super().forward(x))


class MaskedSelect(Take):
    name_ = "MaskedSelectBackward0"
    __slots__ = ()


class SortValues(Take):
    name_ = "SortBackward0"
    save_inputs = False
    __slots__ = ()

    def forward(self, x):
        # PyTorch's sort allocates values (and indices) as empty_like(x): x's layout
        return preserve(super().forward(x), x)


class TopkValues(Take):
    name_ = "TopkBackward0"
    save_inputs = False
    __slots__ = ()


class KthvalueValues(Take):
    name_ = "KthvalueBackward0"
    save_inputs = False
    __slots__ = ()


class Unfold(Take):
    """Sliding windows: a view of ``x`` (its forward is the strided view, not a gather)."""

    name_ = "UnfoldBackward0"
    save_inputs = False
    saved_state = ()  # PyTorch's node saves only sizes: a second backward is allowed
    __slots__ = ()


def _take(cls, x: Tensor, index, ishape: tuple, oshape: tuple | None = None,
          acc: bool = True) -> Tensor:
    fn = _new(cls)
    fn.index, fn.in_shape, fn.ishape, fn.acc = index, x._data.shape, ishape, acc
    fn.oshape = ishape if oshape is None else oshape
    return record_unary(fn, x, fn.forward(x._data))


_I32_64 = ("int32", "int64")
_SCATTER = (_I32_64, RuntimeError, "scatter(): Expected dtype int32/int64 for index", True)
# op -> (index dtypes PyTorch accepts, its exception type and message, whether an empty index
# of any dtype passes: the gather/scatter kernels return before checking it)
_INDEX_DTYPES = {
    "index_copy": (("int64",), RuntimeError,
                   "index_copy_(): Expected a long tensor for index, but got {got}", False),
    "index_add": (_I32_64, RuntimeError,
                  "index_add_(): Expected dtype int32/int64 for index but got: {got}", False),
    "index_fill": (("int64",), IndexError, "index_fill_(): Expected dtype int64 for index.",
                   False),
    "index_select": (_I32_64, RuntimeError,
                     "index_select(): Expected dtype int32 or int64 for index", False),
    "gather": (_I32_64, RuntimeError, "gather(): Expected dtype int32/int64 for index", True),
    "scatter": _SCATTER, "scatter_add": _SCATTER, "scatter_reduce": _SCATTER,
    "take": (("int64",), RuntimeError, "take(): Expected a long tensor for index, but got {got}",
             False),
    "take_along_dim": (("int64",), RuntimeError, "torch.take_along_dim(): dtype of indices "
                       "should be Long but got {got}", False),
}


def _long_index(idx, op: str, what: str = "index") -> np.ndarray:
    """``op``'s index as int64, after PyTorch's dtype check of it (which differs by op)."""
    a = idx._data if isinstance(idx, Tensor) else np.asarray(idx)
    ok, exc, msg, empty_ok = _INDEX_DTYPES.get(op, (_I32_64, RuntimeError,
                                                    f"{op}(): Expected dtype int64 for {what}",
                                                    False))
    if a.dtype.name not in ok and not (empty_ok and a.size == 0):
        from ..._out import _TORCH_NAMES  # PyTorch's ScalarType names (Float, Long...)

        got = _TORCH_NAMES.get(a.dtype.name, a.dtype.name)
        raise exc(msg.format(got=got) + f"\nWhy: {op} takes positions "
                  f"as an integer tensor ({' or '.join(ok)}); convert it, e.g. index.long().")
    return a.astype(np.int64, copy=False)


def _check_bounds(a: np.ndarray, n: int, op: str, d: int = 0, exc=IndexError,
                  negative: bool = False, msg: str | None = None) -> None:
    """The one index check: every index in ``[-n, n)`` when ``negative`` (index_fill, put,
    x[i]), else in ``[0, n)`` (gather, scatter, index_select/add/copy: PyTorch refuses a
    negative index there rather than counting from the end). ``msg``: the op's own message,
    formatted with ``bad``, ``d`` and ``n``."""
    if not a.size:
        return
    lo, hi = a.min(), a.max()
    if hi >= n or lo < (-n if negative else 0):
        bad = hi if hi >= n else lo
        text = (msg or "index {bad} is out of bounds for dimension {d} with size {n}").format(
            bad=bad, d=d, n=n)
        raise exc(f"{text}\nWhy: {op} picks positions 0..{n - 1} along dimension {d}"
                  + ("" if negative else "; it does not count negative indices from the end")
                  + ".")


def _along(idx: np.ndarray, dim: int) -> tuple:
    """The advanced index tuple that picks ``idx`` along ``dim`` (take_along_axis's rule)."""
    nd = idx.ndim
    xp = array_module(idx)
    return tuple(idx if k == dim else xp.arange(idx.shape[k]).reshape(
        (-1,) + (1,) * (nd - k - 1)) for k in range(nd))


def take(x: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened ``x`` at ``index`` (the result has index's shape)."""
    a = _long_index(index, "take")
    n = x._data.size
    if a.size and (a.max() >= n or a.min() < -n):
        bad = a.max() if a.max() >= n else a.min()
        raise IndexError(
            f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    return keep(_take(Take, reshape(x, (-1,)), (a % max(n, 1),), a.shape), index)


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
    return keep(_take(Gather, x, _along(a2, d), a2.shape, a.shape), index)


def take_along_dim(x: Tensor, indices: Tensor, dim=None) -> Tensor:
    """Values of ``x`` at ``indices`` along ``dim`` (broadcasting the other dims)."""
    a = _long_index(indices, "take_along_dim", "indices")
    if dim is None:
        # NOTE: PyTorch flattens with view(-1), which refuses a non-contiguous input
        from .views import view

        flat = view(x, (-1,))
        # NOTE: PyTorch refuses negative indices here (with a dim, it wraps them)
        return keep(gather(flat, 0, _wrap(a.reshape(-1))), indices)
    s = x._data.shape
    if not s:
        _wrap_dim(dim, 0, "take_along_dim")  # PyTorch's range error first
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, len(s), "take_along_dim")
    # NOTE: unlike gather, PyTorch's take_along_dim with a dim counts negative indices from the
    # end (and reads past the end unchecked, which leafgrad refuses)
    a = np.where((a < 0) & (a >= -(s[d] if s else 1)), a + (s[d] if s else 1), a)
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
    return keep(gather(x, d, _wrap(np.broadcast_to(a, tuple(as_)))), indices)


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
        _check_bounds(a, 1, "index_select", msg="index out of range in self")
        return keep(_take(IndexSelect, reshape(x, (1,)), (a,), a.shape, ()), index)
    if len(s) > 1 and d == 1:  # PyTorch's kernel for dim 1 words it (and types it) its own way
        _check_bounds(a, s[d], "index_select", d, RuntimeError,
                      msg="INDICES element is out of DATA bounds, id={bad} axis_dim={n}")
    else:
        _check_bounds(a, s[d], "index_select", d, msg="index out of range in self")
    out_shape = s[:d] + (a.size,) + s[d + 1:]
    return keep(_take(IndexSelect, x, (_ax_slice,) * d + (a,), out_shape), index)


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The elements where ``mask`` (broadcast with ``x``) is true, as a 1-d tensor."""
    m = mask._data if isinstance(mask, Tensor) else array_module(x._data).asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(
            f"masked_select: expected BoolTensor for mask but got {FROM_NP_name(m.dtype)}")
    shape = np.broadcast_shapes(x._data.shape, m.shape)
    x = expand_to(x, shape)
    m = np.broadcast_to(m, shape)
    return keep(_take(MaskedSelect, x, m, (int(m.sum()),)), mask)


def FROM_NP_name(dt) -> str:  # noqa: N802 - a tiny name helper
    from ...dtypes import FROM_NP

    return FROM_NP[np.dtype(dt)].name.capitalize()


def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """All windows of ``size`` along ``dimension`` with stride ``step``, as a new last dim."""
    s = x._data.shape
    d = _wrap_dim(dimension, len(s), "unfold")
    n = s[d] if s else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0\nWhy: unfold takes windows of "
                           "size elements.")
    if size > n:
        raise RuntimeError(
            f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    cnt = (n - size) // step + 1
    data = x._data
    xp = array_module(data)
    pos = xp.arange(data.size).reshape(s)
    if s:
        st, dst = pos.strides, data.strides
        shape = s[:d] + (cnt,) + s[d + 1:] + (size,)
        flat = as_strided(pos, shape, st[:d] + (st[d] * step,) + st[d + 1:] + (st[d],))
        index = xp.unravel_index(flat, s)
        # NOTE: a view of x, as PyTorch's unfold: the windows share x's memory
        out = as_strided(data, shape, dst[:d] + (dst[d] * step,) + dst[d + 1:] + (dst[d],))
    else:
        shape = (size,)
        index = (pos.reshape(1)[:size],)
        out = as_strided(data, shape, (data.itemsize,))
    fn = _new(Unfold)
    fn.index, fn.in_shape, fn.ishape, fn.acc = index, s if s else (1,), shape, True
    fn.oshape = shape
    if not s:
        fn.ishape = shape
        fn.in_shape = (1,)
        res = record_unary(fn, x, out)
        if res._fn is fn:
            fn._meta = ((s, data.dtype),)  # the engine reshapes (1,) back to ()
        return _as_view(res, x)
    return _as_view(record_unary(fn, x, out), x)


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
        return SortResult(_take(SortValues, x, (), (), acc=False),
                          _wrap(array_module(d_).zeros((), np.int64)))
    d = _wrap_dim(dim, d_.ndim, "sort")
    idx = preserve(_argsort(d_, d, descending), d_)
    return SortResult(_take(SortValues, x, _along(idx, d), idx.shape, acc=False), _wrap(idx))


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``x`` along ``dim``."""
    d_ = x._data
    if d_.ndim == 0:
        return _wrap(array_module(d_).zeros((), np.int64))
    return _wrap(preserve(_argsort(d_, _wrap_dim(dim, d_.ndim, "argsort"), descending), d_))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    d_ = x._data
    xx = x if d_.ndim else reshape(x, (1,))
    dd = xx._data
    d = _wrap_dim(dim, dd.ndim, "topk")
    if not 0 <= k <= dd.shape[d]:
        raise RuntimeError("selected index k out of range")
    idx = _argsort(dd, d, largest)
    idx = idx[(slice(None),) * d + (slice(0, k),)].copy()
    oshape = idx.shape if d_.ndim else ()
    vals = _take(TopkValues, xx, _along(idx, d), idx.shape, oshape, acc=False)
    return TopkResult(vals, _wrap(idx.reshape(oshape)))


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The ``k``-th smallest value along ``dim`` and its index."""
    d_ = x._data
    xx = x if d_.ndim else reshape(x, (1,))
    dd = xx._data
    d = _wrap_dim(dim, dd.ndim, "kthvalue")
    if dd.shape[d] == 0:  # PyTorch's checks, in its order
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if dd.dtype.kind == "b":
        raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'\nWhy: convert "
                                  "first, e.g. x.long().")
    if not 1 <= k <= dd.shape[d]:
        raise RuntimeError(
            f"kthvalue(): selected number k out of range for dimension {d}")
    idx = np.take(np.argsort(dd, axis=d, kind="stable"), [k - 1], axis=d)
    oshape = idx.shape if keepdim else idx.shape[:d] + idx.shape[d + 1:]
    if not d_.ndim:
        oshape = ()
    vals = _take(KthvalueValues, xx, _along(idx, d), idx.shape, oshape, acc=False)
    return KthvalueResult(vals, _wrap(idx.reshape(oshape)))
