"""Writes: out = x with a region set or added (setitem, index_put, index_copy/add/fill, scatter,
masked_fill...)."""

from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import state
from ...autograd.node import Op
from ...backend import array_module, ufunc_at, writeable
from ...tensor import Tensor, _wrap, _wrap_dim
from .. import dual
from .._apply import keep, record
from ..elementwise.binary import _record_not_implemented
from .gather import FROM_NP_name, _along, _check_bounds, _long_index
from .indexing import _empty_result, _norm_advanced, getitem, zero_index
from .strides import copy_preserve
from .views import _ax_slice, _new, expand_to, reshape


class IndexPut(Op):
    """``x[index] = value`` recorded out of place (PyTorch shows the node as CopySlices)."""

    name_ = "CopySlices"
    op_name = "setitem"
    formula = {"a": "put(grad, index, 0.0)", "b": "sum_to(grad[index], vshape)"}
    save_inputs = False
    saved_state = ("index",)  # PyTorch's CopySlices is freed after backward: no second one
    __slots__ = ("index", "vshape")

    def forward(self, a, b):
        out = a.copy()
        out[self.index] = b
        return out

    def backward(self, grad):
        need = self.needs_input_grad
        ga = gb = None
        if need[0]:
            ga = dual.put(grad, self.index, 0)
        if need[1]:
            # NOTE: the value may broadcast to the region; sum back to its own shape here, since
            # the engine only un-broadcasts against the output's shape
            region = dual.gather(grad, self.index)
            vs = self.vshape
            k = _dropped_ones(vs, region.ndim)  # (a [1, 1] value written into a [0] region)
            gb = dual.sum_to(region, vs[k:], self, 1)
            if k:
                gb = gb.reshape(vs)
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
    xp = array_module(x._data)
    for i in index:
        if isinstance(i, Tensor):
            out.append(_norm_advanced(i) if (i._data.ndim or i._data.dtype.kind == "b")
                       else int(i.item()))
        elif isinstance(i, list):
            out.append(_norm_advanced(i, xp))
        elif isinstance(i, slice) and i.step is not None and i.step <= 0:
            raise ValueError("step must be greater than zero")
        else:
            out.append(i)
    return tuple(out)


def _is_arr(i) -> bool:
    """Whether an index entry is an array (NumPy's or a device's; not a NumPy scalar)."""
    return hasattr(i, "ndim") and not isinstance(i, np.generic)


def _full_slice(i, n: int) -> bool:
    """A slice PyTorch's indexing skips: from 0 to (at least) the end, step 1, as written
    (``x[:, -1:]`` on a size-1 dim is still a slice)."""
    return (isinstance(i, slice) and i.start in (None, 0) and i.step in (None, 1) and
            (i.stop is None or (isinstance(i.stop, (int, np.integer)) and i.stop >= n)))


def _whole_basic(shape: tuple, idx: tuple) -> bool:
    """True when the non-array parts of ``idx`` are ``...`` or skipped full slices (no view is
    taken)."""
    if any(i is Ellipsis for i in idx):
        k = next(n for n, i in enumerate(idx) if i is Ellipsis)
        return _whole_basic(shape, idx[:k]) and _whole_basic(shape[::-1], idx[k + 1:][::-1])
    dim = 0
    for i in idx:
        if _is_arr(i):
            dim += i.ndim if i.dtype == np.bool_ else 1
            continue
        if dim >= len(shape) or not _full_slice(i, shape[dim]):
            return False
        dim += 1
    return True


def _copy_to(x: Tensor, value) -> None:
    """``x[...] = value``, ``x[:] = value``, ``x[()] = value``: PyTorch's copy_to on x itself,
    ``copy_`` of a same-shape value, ``fill_`` of a 0-d one, else ``copy_`` of the value
    broadcast (after dropping its leading size-1 dims)."""
    if not isinstance(value, Tensor):
        value = _wrap(array_module(x._data).asarray(value, dtype=x._data.dtype))
    elif value._data.ndim:
        _setitem_overlap(x, (Ellipsis,), value, False)  # PyTorch's checks of the copy
    vs = value._data.shape
    if vs == x._data.shape:
        x.copy_(value)
    elif not vs:
        x._fill(value, "fill_")
    else:
        x.copy_(_broadcast_value(x._data.shape, value))


def _broadcast_value(shape: tuple, value: Tensor) -> Tensor:
    """The value of ``x[idx] = value`` for a region of ``shape``: leading size-1 dims dropped
    (as NumPy and PyTorch's setitem), then broadcast."""
    vs = value._data.shape
    k = _dropped_ones(vs, len(shape))
    if k:
        value = reshape(value, vs[k:])
    try:
        np.broadcast_shapes(value._data.shape, shape)
    except ValueError:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(vs)} cannot be broadcast to indexing "
            f"result of shape {list(shape)}\nWhy: x[index] = value writes value into the indexed "
            "region, so its shape must broadcast to the region's.") from None
    return expand_to(value, shape) if value._data.shape != shape else value


def _dropped_ones(vs: tuple, ndim: int) -> int:
    """How many leading size-1 dims of a value of shape ``vs`` setitem drops for a region of
    ``ndim`` dims (NumPy's and PyTorch's rule: those beyond the region's dims)."""
    k = 0
    while k < len(vs) and vs[k] == 1 and len(vs) - k > ndim:
        k += 1
    return k


def _broadcasts_to(vs: tuple, shape: tuple) -> bool:
    """Whether a value of shape ``vs`` broadcasts to ``shape`` (leading 1s beyond it dropped)."""
    vs = vs[_dropped_ones(vs, len(shape)):]
    return len(vs) <= len(shape) and all(
        a in (1, b) for a, b in zip(vs[::-1], shape[::-1], strict=False))


def _expand_strides(vshape: tuple, vstrides: tuple, shape: tuple) -> tuple:
    """The strides PyTorch's copy_to gives a value expanded to ``shape``: its leading size-1 dims
    dropped, then expand's (a new dim: the next dim's size times its stride; a broadcast dim: 0;
    a 0-d value: 0 everywhere)."""
    dims = list(zip(vshape, vstrides))
    while dims and dims[0][0] == 1:
        dims.pop(0)
    n = len(shape)
    if not dims:
        return (0,) * n
    sizes, strides = [0] * n, [0] * n
    for i in range(n - 1, -1, -1):
        j = i - (n - len(dims))
        size, st = dims[j] if j >= 0 else (1, sizes[i + 1] * strides[i + 1])
        if size != shape[i]:
            size, st = shape[i], 0
        sizes[i], strides[i] = size, st
    return tuple(strides)


def _copy_to_overlap(region, vd) -> None:
    """PyTorch's overlap check of ``x[basic] = v`` when v's shape is not the region's: the
    expanded value (see _expand_strides) against the region, strides compared exactly."""
    from ..inplace_view import _OVERLAP_MSG, _bounds, _dense

    ex = np.lib.stride_tricks.as_strided(vd, region.shape,
                                         _expand_strides(vd.shape, vd.strides, region.shape))
    if not (_dense(region) and _dense(ex)):
        return  # PyTorch's "too hard": its kernel's order decides, and so does NumPy's
    (a0, a1), (b0, b1) = _bounds(region), _bounds(ex)
    if (a0, a1) == (b0, b1) and region.strides == ex.strides:
        return  # the same elements in the same layout
    if a0 < b1 and b0 < a1:
        raise RuntimeError(_OVERLAP_MSG.format(op="copy_"))


def _setitem_overlap(x: Tensor, idx: tuple, v: Tensor, adv: bool) -> None:
    """PyTorch's overlap checks of setitem: index_put_ refuses any overlap of the value with x;
    a basic-index write (copy_ into the region) a partial one, judged on the value broadcast
    to the region; a 0-d value is read first (fill_) and never refused."""
    from ..inplace_view import check_overlap

    if adv:
        if v._data.size == 1 and len(idx) == 1 and _is_arr(idx[0]) and idx[0].ndim and \
                idx[0].dtype == np.bool_:
            return  # masked_fill_: the one value is read first
        check_overlap(x, (v,), "index_put_", strict=True)
    elif v._data.ndim:
        try:
            region = x._data[idx]
        except (IndexError, ValueError, TypeError):
            return  # the write below raises the proper error
        if region.ndim and np.may_share_memory(region, v._data):
            try:
                vb = _broadcast_value(region.shape, v)
            except RuntimeError:
                return
            if v._data.shape != region.shape:
                _copy_to_overlap(region, v._data)
                return
            check_overlap(_wrap(region), (_wrap(vb._data),), "copy_")


def _split_ints(idx: tuple, ndim: int):
    """``(basic, rest)`` when ``idx`` mixes integers with index arrays, else None.

    NOTE: PyTorch applies integer indices first, as selects, then the rest to the result; NumPy
    treats such integers as index arrays, which moves the indexed dims to the front when the
    array indices are separated (``x[0, :, [1, 2]]``). Writing through ``x[basic]`` (a view)
    with ``rest`` gives PyTorch's layout.
    """
    def is_int(i):
        return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))

    if not (any(is_int(i) for i in idx) and any(_is_arr(i) for i in idx)):
        return None
    used = sum(0 if (i is None or i is Ellipsis) else (
        i.ndim if _is_arr(i) and i.dtype == np.bool_ else 1) for i in idx)
    basic, rest = [], []
    for i in idx:
        if i is Ellipsis:
            basic += [slice(None)] * (ndim - used)
            rest += [slice(None)] * (ndim - used)
        elif i is None:
            rest.append(None)
        elif is_int(i):
            basic.append(int(i))
        elif _is_arr(i) and i.dtype == np.bool_:
            basic += [slice(None)] * i.ndim
            rest.append(i)
        else:
            basic.append(slice(None))
            rest.append(i)
    return tuple(basic), tuple(rest)


def _is_bool0(i) -> bool:
    return isinstance(i, (bool, np.bool_)) or (
        _is_arr(i) and i.ndim == 0 and i.dtype == np.bool_)


def _split_bools(idx: tuple, ndim: int):
    """``(view, rest)`` when ``idx`` holds a Python bool or a 0-d bool tensor, else None.

    NOTE: PyTorch indexes with ``True``/``False`` by adding a dim (a view) and indexing it with
    ``[0]``/``[]``, so ``x[True] = v`` writes through a view of x (CopySlices on x).
    """
    if not any(_is_bool0(i) for i in idx):
        return None
    used = sum(0 if (i is None or i is Ellipsis or _is_bool0(i)) else (
        i.ndim if _is_arr(i) and i.dtype == np.bool_ else 1) for i in idx)
    view, rest = [], []
    for i in idx:
        if _is_bool0(i):
            view.append(None)
            rest.append(np.zeros(1 if bool(i) else 0, dtype=np.int64))
        elif i is Ellipsis:
            view += [slice(None)] * (ndim - used)
            rest += [slice(None)] * (ndim - used)
        elif i is None:
            view.append(None)
            rest.append(slice(None))
        elif isinstance(i, (int, np.integer)):
            view.append(int(i))  # a select: its dim is gone from the view
        elif _is_arr(i):
            k = i.ndim if i.dtype == np.bool_ else 1
            view += [slice(None)] * k
            rest.append(i)
        else:
            view.append(i)
            rest.append(slice(None))
    return tuple(view), tuple(rest)


def _check_basic_part(x: Tensor, idx: tuple) -> None:
    """PyTorch's IndexError for an out-of-range integer of ``idx`` (its basic part, a view)."""
    basic = []
    for i in idx:
        if _is_arr(i):
            basic += [slice(None)] * (i.ndim if i.dtype == np.bool_ else 1)
        else:
            basic.append(i)
    try:
        x._data[tuple(basic)]
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None


def _check_value_fits(x: Tensor, idx: tuple, v: Tensor, adv: bool) -> None:
    """PyTorch's RuntimeError for a value that does not broadcast to the indexed region."""
    try:
        region = x._data[idx].shape
    except IndexError:  # the region's shape does not depend on the index values: PyTorch
        # checks the value's shape before the bounds
        try:
            region = x._data[zero_index(idx) or idx].shape
        except (IndexError, ValueError, TypeError):
            return
    except (ValueError, TypeError):
        return  # the write reports it
    vs = v._data.shape
    if _broadcasts_to(vs, region):
        return
    if adv:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(vs)} cannot be broadcast to indexing "
            f"result of shape {list(region)}\nWhy: x[index] = value writes value into the "
            "indexed region, so its shape must broadcast to the region's.")
    bad = next(k for k in range(1, len(vs) + 1)
               if k > len(region) or vs[-k] not in (1, region[-k]))
    raise RuntimeError(
        f"The expanded size of the tensor ({region[-bad] if bad <= len(region) else 1}) must "
        f"match the existing size ({vs[-bad]}) at non-singleton dimension "
        f"{max(len(region) - bad, 0)}.  Target sizes: {list(region)}.  Tensor sizes: "
        f"{list(vs)}\nWhy: x[index] = value copies value into the indexed region, so its shape "
        "must broadcast to the region's.")


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value``; differentiable on non-leaf tensors (recorded as CopySlices)."""
    from ...autograd.grad_mode import state

    if index is False:
        return  # NOTE: PyTorch writes (and checks) nothing for x[False] = value
    if value.__class__ in (int, float, bool):
        from ...creation import _as_numpy_value, _parsed_int

        # PyTorch's checked conversion (inf into an int tensor is its RuntimeError), except
        # that a half tensor takes the rounded value (1e10 -> inf) as its setitem does
        value = _as_numpy_value(_parsed_int(value), x._data.dtype, check_half=False)
    if index is True or index is None:
        # NOTE: PyTorch's copy_to (converting) into x.unsqueeze(0): CopySlices on x
        _copy_to(getitem(x, (None,)), value)
        return
    try:
        idx = _raw_index(x, index)
    except IndexError:
        # NOTE: PyTorch checks an index tensor's dtype in index_put_, after the in-place check
        x._check_inplace("setitem", x.requires_grad or (
            isinstance(value, Tensor) and value.requires_grad))
        raise
    split = _split_bools(idx, x._data.ndim)
    if split is not None:
        view, rest = split
        setitem(getitem(x, view), rest, value)
        return
    split = _split_ints(idx, x._data.ndim)
    if split is not None:
        basic, rest = split
        # write through the view x[basic] (a view of x: in-place history goes to x's base)
        setitem(getitem(x, basic), rest, value)
        return
    adv = any(_is_arr(i) for i in idx)
    if not adv and _whole_basic(x._data.shape, idx):
        _copy_to(x, value)  # x[...] = v: PyTorch's copy_ / fill_ on x itself
        return
    v = value if isinstance(value, Tensor) else None
    # NOTE: PyTorch turns x[mask] = v with a one-element v into masked_fill_ (which converts)
    if adv and v is not None and v._data.size == 1 and len(idx) == 1 and (
            idx[0].dtype == np.bool_ and idx[0].ndim):
        if v._data.ndim:
            v = reshape(v, ())  # masked_fill_ takes the one value
    elif adv and v is not None and v._data.dtype != x._data.dtype:
        from ..._out import _scalar_name

        _check_value_fits(x, idx, v, True)  # PyTorch checks the shapes first
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got "
            f"{_scalar_name(x.dtype)} for the destination and {_scalar_name(v.dtype)} for the "
            "source.\nWhy: index_put_ (x[index] = value with an index tensor or list) does not "
            "convert; cast the value first, e.g. value.to(x.dtype).")
    if v is not None:
        _setitem_overlap(x, idx, v, adv)
    if state.enabled and (x.requires_grad or (v is not None and v.requires_grad)):
        _check_basic_part(x, idx)  # PyTorch slices (and checks) before the in-place check
        x._check_inplace("setitem", True)
        if v is None:
            v = _wrap(array_module(x._data).asarray(value, dtype=x._data.dtype))
        elif v._data.dtype != x._data.dtype:
            v = v.to(x.dtype)
        _check_value_fits(x, idx, v, adv)
        # NOTE: PyTorch records basic-index writes as CopySlices and advanced ones (arrays,
        # masks) as index_put_ (IndexPutBackward0)
        whole = adv and _whole_basic(x._data.shape, idx)
        x._inplace_from(_write(IndexPutOp, x, idx, v) if whole else _put(x, idx, v), "setitem")
        return
    vd = v._data if v is not None else value
    data = x._data
    if not (writeable(data) and data.flags.c_contiguous):
        from ..inplace_view import writable_target

        if not adv:
            try:
                region = data[idx]
            except (IndexError, ValueError, TypeError):
                region = None
            if _is_arr(region) and not region.flags.c_contiguous:
                writable_target(_wrap(region), "setitem")  # PyTorch's checks on the region
        data = writable_target(x, "index_put_")  # a writeable alias when NumPy's is read-only
    try:
        data[idx] = vd
    except IndexError as e:
        idx0 = zero_index(idx)  # nothing to write: PyTorch's kernel checks no position
        if idx0 is None or not _empty_result(data, idx0):
            raise IndexError(str(e).replace("axis", "dimension")) from None
    except ValueError as e:
        if v is not None:
            _check_value_fits(x, idx, v, adv)  # PyTorch's words for it
        raise RuntimeError(
            f"setitem: {e}; the value's shape must broadcast to the indexed region"
        ) from None
    x._bump_version()


# -- writes: out = x with a region set / added (one node class per PyTorch node) ----------------
def _one_d(a, index):
    """A 0-d array (or Tensor) as one element along a dim, where ``index`` indexes it as such:
    PyTorch's scatter/gather kernels treat a 0-d tensor as a 1-d one of size 1 (a view, so
    writes reach ``a``)."""
    if a.ndim == 0 and type(index) is tuple and getattr(index[0], "ndim", 0) == 1 and (
            index[0].dtype.kind in "iu"):
        return a.reshape(1)
    return a


class IndexCopy(Op):
    """``out = x.clone(); out[index] = src`` (or ``+= alpha * src`` when ``add``)."""

    name_ = "IndexCopyBackward0"
    formula = {"a": "grad if add else put(grad, index, 0.0)",
               "b": "sum_to(grad[index] * alpha, vshape)"}
    # PyTorch saves the index (and the source for its own gradient: index_add, index_copy)
    saved_for = ((), (1,))
    saved_state = ("index",)
    __slots__ = ("index", "add", "alpha", "vshape")
    # NOTE: PyTorch's index_fill and index_put start from self.clone() (preserve_format: x's
    # layout); the others allocate their result row-major
    keeps_layout = False

    def forward(self, a, b):
        out = copy_preserve(a) if self.keeps_layout else a.copy()
        o = _one_d(out, self.index)
        if self.add:
            ufunc_at("add", o, self.index, b * self.alpha if self.alpha != 1 else b)
        else:
            o[self.index] = b
        return out

    def backward(self, grad):
        need = self.needs_input_grad
        ga = gb = None
        g1 = _one_d(grad, self.index)
        if need[0]:
            ga = grad if self.add else dual.put(g1, self.index, 0).reshape(grad.shape)
        if len(need) > 1 and need[1]:
            gb = dual.gather(g1, self.index)
            if self.alpha != 1:
                gb = gb * self.alpha
            gb = dual.sum_to(gb, self.vshape, self, 1)
        return ga, gb


class IndexAdd(IndexCopy):
    name_ = "IndexAddBackward0"
    __slots__ = ()


class IndexFill(IndexCopy):
    name_ = "IndexFillBackward0"
    save_inputs = False
    __slots__ = ()
    keeps_layout = True


class IndexFillTensor(IndexCopy):
    name_ = "IndexFillBackward1"
    save_inputs = False
    __slots__ = ()
    keeps_layout = True


class IndexPutOp(IndexCopy):
    name_ = "IndexPutBackward0"
    save_inputs = False
    __slots__ = ()
    keeps_layout = True


class Scatter(IndexCopy):
    name_ = "ScatterBackward0"
    save_inputs = False
    __slots__ = ()


class ScatterValue(IndexCopy):
    name_ = "ScatterBackward1"
    save_inputs = False
    __slots__ = ()


class ScatterAdd(IndexCopy):
    name_ = "ScatterAddBackward0"
    save_inputs = False
    __slots__ = ()


class ScatterReduceSum(IndexCopy):
    name_ = "ScatterReduceBackward0"
    save_output = True  # PyTorch saves self, src, index and the result
    saved_for = None
    __slots__ = ()


class MaskedFill(IndexCopy):
    name_ = "MaskedFillBackward0"
    save_inputs = False
    __slots__ = ()


class MaskedFillTensor(IndexCopy):
    name_ = "MaskedFillBackward1"
    save_inputs = False
    __slots__ = ()


class MaskedScatter(IndexCopy):
    name_ = "MaskedScatterBackward0"
    save_inputs = False
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
    n = s[d] if s else 1
    if op == "index_fill":  # the one of these PyTorch lets count from the end
        if x._data.size == 0 and len(s) > 1:  # an empty self: its kernel reads nothing
            return d, (_ax_slice,) * d + (slice(0, 0),)
        _check_bounds(a, n, op, d, negative=True)
    elif op == "index_copy":
        _check_bounds(a, n, op, d,
                      msg="index_copy_(): index {bad} is out of bounds for dimension {d} "
                          "with size {n}")
    elif x._data.size == 0 and len(s) > 1:
        pass  # index_add into an empty tensor: PyTorch's kernel returns before reading index
    elif len(s) > 1 and d in (0, len(s) - 1):  # index_add: PyTorch's two kernels differ
        _check_bounds(a, n, op, d, RuntimeError)
    else:
        _check_bounds(a, n, op, d, msg="index out of range in self")
    if not s:
        return d, (Ellipsis,)  # a 0-d tensor: the one element
    return d, (_ax_slice,) * d + (a,)


def _check_source_shape(x: Tensor, d: int, index, source: Tensor, op: str) -> None:
    """``source`` must be ``x``'s shape with ``len(index)`` at ``dim`` (PyTorch does not
    broadcast it: a source of another slice shape is refused, never spread)."""
    xs, ss = x._data.shape, source._data.shape
    n = _long_index(index, op).size
    if op == "index_copy" and not ss and n == 1:
        return  # a 0-d source for one index: PyTorch accepts it
    ns = ss[d] if len(ss) > d else 1
    if n != ns:
        if op == "index_copy":
            raise IndexError(f"index_copy_(): Number of indices ({n}) should be equal to "
                             f"source.size(dim) ({ns})\nWhy: each index takes one slice of "
                             "source along dim.")
        raise RuntimeError(f"index_add_(): Number of indices ({n}) should be equal to "
                           f"source.size(dim): ({ns}), for dim: {d}\nWhy: each index takes one "
                           "slice of source along dim.")
    want = xs[:d] + (n,) + xs[d + 1:] if xs else (n,)
    if not xs:  # a 0-d self takes a 0-d source (index_copy also a 1-element one)
        want = () if op == "index_add" or ss == () else (1,)
    if tuple(ss) != want:
        if op == "index_copy":
            raise RuntimeError(
                "index_copy_(): Source/destination tensor must have same slice shapes. "
                f"Destination shape {list(xs)}, source shape {list(ss)}, dimension {d}.\n"
                f"Why: source must be self's shape with {n} at dimension {d}: {list(want)}.")
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified "
            f"dimension. Got self.shape = {list(xs)} source.shape = {list(ss)}\nWhy: source "
            f"must be self's shape with {n} at dimension {d}: {list(want)}.")


def index_copy(x: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``x`` with the slices at ``index`` along ``dim`` replaced by ``source``'s."""
    _check_src_dtype(x, source, "index_copy")
    d, idx = _dim_region(x, dim, index, "index_copy")
    _check_source_shape(x, d, index, source, "index_copy")
    return keep(_write(IndexCopy, x, idx, source), index)


def index_add(x: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """``x`` with ``alpha * source`` added at ``index`` along ``dim`` (repeats accumulate)."""
    _check_src_dtype(x, source, "index_add")
    d, idx = _dim_region(x, dim, index, "index_add")
    _check_source_shape(x, d, index, source, "index_add")
    if x._data.size == 0 and x._data.ndim > 1:  # nothing to add to: no index is read
        none = (slice(None),) * d + (slice(0, 0),)  # (source's slices along dim: none)
        return keep(_write(IndexAdd, x, idx[:-1] + (slice(0, 0),), source[none] if
                           source._data.ndim > d else source, add=True, alpha=alpha), index)
    return keep(_write(IndexAdd, x, idx, source, add=True, alpha=alpha), index)


def index_fill(x: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``x`` with the slices at ``index`` along ``dim`` set to ``value``."""
    d, idx = _dim_region(x, dim, index, "index_fill")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s).")
        return keep(_write(IndexFillTensor, x, idx, value), index)
    return keep(_write(IndexFill, x, idx, _checked_value(x, value)), index)


def index_put(x: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """``x`` with ``values`` written (or added) at the advanced index ``indices``."""
    idx = _raw_index(x, tuple(indices))
    if not isinstance(values, Tensor):
        values = _wrap(array_module(x._data).asarray(values, dtype=x._data.dtype))
    if values._data.dtype != x._data.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got "
            f"{x.dtype.name.capitalize()} for the destination and "
            f"{values.dtype.name.capitalize()} for the source.")
    return keep(_write(IndexPutOp, x, idx, values, add=accumulate), *indices)


def _scatter_index(x: Tensor, dim: int, index: Tensor, src, op: str) -> tuple:
    a = _long_index(index, op)
    s = x._data.shape
    d = _wrap_dim(dim, len(s), op)
    if a.ndim != len(s) and not (a.ndim <= 1 and len(s) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if not s:
        a = a.reshape(-1)
        _check_bounds(a, 1, op, exc=RuntimeError)
        return d, (a * 0,), a.shape
    if not a.ndim:  # a 0-d index of a 1-d self: one position (not the whole of self)
        a = a.reshape(1)
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
        s = src if isinstance(src, Tensor) else _wrap(
            array_module(x._data).full(index.shape, src, dtype=x._data.dtype))
        out = scatter_reduce(x.detach(), dim, index, s.detach(),
                             "sum" if reduce == "add" else "prod")
        # NOTE: PyTorch defines no derivative for scatter with a reduce argument (its node is
        # NotImplemented, whose backward raises), unlike scatter_reduce's
        return _record_not_implemented("aten::scatter", (x, s), out._data)
    d, idx, ishape = _scatter_index(x, dim, index, src, "scatter")
    if isinstance(src, Tensor):
        _check_src_dtype(x, src, "scatter")
        return keep(_write(Scatter, x, idx, _src_region(src, ishape)), index)
    return keep(_write(ScatterValue, x, idx, src), index)


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``x`` with ``src``'s values added at ``index`` along ``dim`` (repeats accumulate)."""
    _check_src_dtype(x, src, "scatter_add")
    d, idx, ishape = _scatter_index(x, dim, index, src, "scatter_add")
    return keep(_write(ScatterAdd, x, idx, _src_region(src, ishape), add=True), index)


class ScatterReduce(Op):
    """scatter_reduce with prod / mean / amax / amin (sum is ScatterReduceSum)."""

    name_ = "ScatterReduceBackward0"
    formula = {"a": "scatter_reduce_backward(grad, ...)[0]",
               "b": "scatter_reduce_backward(grad, ...)[1]"}
    __slots__ = ("index", "reduce", "include_self")
    save_output = True
    saved_state = ("index",)

    def forward(self, a, b):
        if a.ndim == 0:  # one element along dim (see _one_d)
            return self.forward(a.reshape(1), b).reshape(())
        xp = array_module(a)
        idx, r = self.index, self.reduce
        out = a.copy()
        if r == "mean":
            out = out.astype(np.float64) if out.dtype.kind != "f" else out
            cnt = xp.zeros(a.shape, dtype=np.int64)
            ufunc_at("add", cnt, idx, 1)
            if not self.include_self:
                out[idx] = 0
            ufunc_at("add", out, idx, b)
            cnt = cnt + (1 if self.include_self else 0)
            with np.errstate(all="ignore"):
                res = np.where(cnt > 0, out / np.maximum(cnt, 1), a)
            if a.dtype.kind != "f":  # NOTE: integer means round down, as torch's
                res = np.where(cnt > 0, np.floor_divide(out, np.maximum(cnt, 1)), a)
            return res.astype(a.dtype)
        ufunc = {"prod": "multiply", "amax": "maximum", "amin": "minimum"}[r]
        if not self.include_self:
            touched = xp.zeros(a.shape, dtype=bool)
            touched[idx] = True
            fill = {"prod": 1, "amax": -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min,
                    "amin": np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).max}[r]
            out[touched] = fill
        ufunc_at(ufunc, out, idx, b)
        if r != "prod" and a.dtype.kind == "f":
            _first_zero(out, a, b, idx, self.include_self)
        return out

    def _again(self, a, b):
        """This node's reduction of ``a`` and ``b``: an op of the graph when they are Tensors
        (PyTorch's prod formula calls scatter_reduce again, so it is differentiable)."""
        if isinstance(a, Tensor):
            fn = _new(ScatterReduce)
            fn.index, fn.reduce, fn.include_self = self.index, self.reduce, self.include_self
            return record(fn, (a, b), fn.forward(a._data, b._data))
        return self.forward(a, b)

    def backward(self, grad):
        # NOTE: PyTorch's scatter_reduce_backward (FunctionsManual.cpp) step for step, on arrays
        # or, with create_graph, on Tensors. It multiplies by 0/1 masks and divides by counts:
        # an inf/NaN gradient times a 0 mask is NaN there, and a NaN result that no input equals
        # (NaN != NaN) has a count of 0, so grad / 0 is inf/NaN; a `where` would give 0.
        a, b = self.saved(grad)
        out = self.result(grad)
        g = grad
        shape = g.shape
        if a.ndim == 0:  # one element along dim (see _one_d)
            g, a, out = g.reshape(1), a.reshape(1), out.reshape(1)
        ad, bd, od = dual.raw(a), dual.raw(b), dual.raw(out)
        idx, r = self.index, self.reduce
        dt = dual.raw(g).dtype
        xp = array_module(ad)
        need = self.needs_input_grad
        ga = gb = None
        if r == "mean":
            # N = (ones or zeros).scatter_add(ones); N[N == 0] = 1
            cnt = xp.full(ad.shape, 1 if self.include_self else 0, dtype=dt)
            ufunc_at("add", cnt, idx, dt.type(1))
            cnt[cnt == 0] = 1
            if need[0]:
                ga = g / cnt
            if need[1]:
                gb = dual.gather(g, idx) / cnt[idx]
        elif r == "prod":
            # a zero factor's gradient is the product of the others: recompute the reduction
            # with self's zeros set to 1 (and with a lone zero of src set to 1)
            if need[0]:
                ms = dual.where(ad == 0, dt.type(1), a)
                ga = g * self._again(ms, b) / ms
            if need[1]:
                bz = bd == 0
                nz = xp.zeros(ad.shape, dtype=dt)
                ufunc_at("add", nz, idx, bz.astype(dt))
                nz = nz[idx]
                single = bz & (nz == 1)
                msr = self._again(a, dual.where(single, dt.type(1), b))
                gb = dual.where(single, dual.gather(g * msr, idx),
                                dual.gather(g * out, idx) / dual.where(bz, dt.type(1), b))
                if isinstance(gb, Tensor) and state.enabled and (nz > 1).any():
                    gb = record(_new(_ScatterReduceSrcError), (gb,), gb._data)
        else:
            # the gradient is shared evenly among the ties with the result; self's ties count
            # even with include_self=False (its self then gets no gradient)
            ma = ad == od
            mb = bd == od[idx]
            cnt = ma.astype(dt)
            ufunc_at("add", cnt, idx, mb.astype(dt))
            gd = g / cnt
            if need[0]:
                ga = gd * ma.astype(dt)
            if need[1]:
                gb = dual.gather(gd, idx) * mb.astype(dt)
        if ga is not None:
            if not self.include_self:
                ga = dual.put(ga, idx, 0)
            ga = ga.reshape(shape)
        return ga, gb


class _ScatterReduceSrcError(Op):
    """PyTorch's DelayedError on the src gradient of a prod with several zeros at one place:
    its formula there is not differentiable, so differentiating it again raises."""

    name_ = "Error"
    save_inputs = False
    __slots__ = ()

    def forward(self, a):
        return a

    def backward(self, grad):
        raise RuntimeError(
            "scatter_reduce(): Double backward is unsupported for src when >1 zeros in src are "
            "scattered to the same position in self\nWhy: the src gradient of a product with "
            "several zeros at one place is computed by a formula that has no derivative there.")


def _first_zero(out, a, b, idx, include_self: bool) -> None:
    """Give a zero max/min the sign PyTorch's kernel gives it: it folds ``std::max(cur, v)``
    over self then src in index order, which keeps ``cur`` on a tie, so the first zero met
    stays (NumPy's maximum/minimum pick a tied zero by their SIMD instruction)."""
    zero = out == 0
    if not zero.any():
        return
    zs = b == 0  # (b is src's region read: the index's shape)
    pos = np.ravel_multi_index(tuple(np.broadcast_to(i, b.shape) for i in idx), out.shape)[zs]
    # the first zero of src per place: np.unique reports each value's first occurrence; places
    # that no zero of src reaches keep their sign (those untouched keep self's)
    first, at = np.unique(pos, return_index=True)
    sign = np.signbit(out).reshape(-1)
    sign[first] = np.signbit(b[zs][at])
    sign = sign.reshape(out.shape)
    if include_self:  # self comes first: a zero self keeps its sign
        sign = np.where(a == 0, np.signbit(a), sign)
    out[zero] = np.where(sign[zero], -0.0, 0.0)


def _touched(shape, idx, xp):
    m = xp.zeros(shape, dtype=bool)
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
        return keep(_write(ScatterReduceSum, x, idx, src, add=True), index)
    if reduce == "sum":  # without self: zero the places written to, then add
        # NOTE: PyTorch's node saves self itself, not the zeroed copy: keep it too
        return keep(_write(ScatterReduceSum, _write(ScatterValue, x, idx, 0), idx, src, add=True),
                    index, x)
    fn = _new(ScatterReduce)
    fn.index, fn.reduce, fn.include_self = idx, reduce, include_self
    return keep(record(fn, (x, src), fn.forward(x._data, src._data)), index)


def _checked_value(x: Tensor, value):
    """A Python number converted as PyTorch converts it for ``x``'s dtype (an int8 tensor
    filled with 300 is an error, not a wrap-around)."""
    if isinstance(value, (int, float)) and x._data.dtype.kind in "iuf":
        from ...creation import _as_numpy_value, _parsed_int

        return _as_numpy_value(_parsed_int(value), x._data.dtype)
    return value


def _mask_shape(x: Tensor, m: np.ndarray, op: str) -> tuple:
    """The broadcast shape of ``x`` and its mask, or PyTorch's RuntimeError."""
    try:
        return np.broadcast_shapes(x._data.shape, m.shape)
    except ValueError:
        from ..._dims import broadcast_mismatch

        raise broadcast_mismatch(m.shape, x._data.shape, op) from None


def masked_fill(x: Tensor, mask: Tensor, value) -> Tensor:
    """``x`` with ``value`` wherever ``mask`` (broadcast to x's shape) is true."""
    m = mask._data if isinstance(mask, Tensor) else array_module(x._data).asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{FROM_NP_name(m.dtype).lower()}")
    shape = _mask_shape(x, m, "masked_fill")
    x = expand_to(x, shape)
    m = np.broadcast_to(m, shape)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s).")
        return keep(_write(MaskedFillTensor, x, m, value), mask)
    return keep(_write(MaskedFill, x, m, _checked_value(x, value)), mask)


def masked_scatter(x: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``x`` with the true places of ``mask`` filled, in order, from ``source``'s elements."""
    m = mask._data if isinstance(mask, Tensor) else array_module(x._data).asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError("masked_scatter_ only supports boolean masks")
    _check_src_dtype(x, source, "masked_scatter")
    shape = _mask_shape(x, m, "masked_scatter")
    x = expand_to(x, shape)
    m = np.broadcast_to(m, shape)
    k = int(m.sum())
    if k > source._data.size:
        raise RuntimeError(
            "masked_scatter: expected source to have at least as many elements as ones in mask")
    src = reshape(source, (-1,))
    if k != src._data.shape[0]:
        src = src[:k]
    return keep(_write(MaskedScatter, x, m, src), mask)
