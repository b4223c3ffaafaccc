"""Shape and index queries without gradients: nonzero, unique, bincount, searchsorted..."""

from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import state
from ...backend import array_module, as_array
from ...tensor import Tensor, _wrap, _wrap_dim
from .._apply import record_unary
from ..elementwise.binary import NotImplementedOp, _record_not_implemented
from .gather import index_select
from .views import expand, reshape, unsqueeze, view


# -- no gradients: index queries, counting ---------------------------------------------------
# unique's nodes: the result requires grad, its backward raises NotImplementedError (PyTorch's)
class Unique2(NotImplementedOp):
    name_ = "Unique2Backward0"
    elementwise = False
    error = NotImplementedError
    __slots__ = ()


class UniqueDim(NotImplementedOp):
    name_ = "UniqueDimBackward0"
    elementwise = False
    error = NotImplementedError
    __slots__ = ()


class UniqueConsecutive(NotImplementedOp):
    name_ = "UniqueConsecutiveBackward0"
    elementwise = False
    error = NotImplementedError
    __slots__ = ()


def _values(cls, what: str, x: Tensor, vals) -> Tensor:
    if not (state.enabled and x.requires_grad):
        return _wrap(vals)
    fn = object.__new__(cls)
    fn.what = what
    return record_unary(fn, x, vals)


def nonzero(x: Tensor, as_tuple: bool = False):
    """Indices of the non-zero elements: an (n, ndim) tensor, or one 1-d tensor per dim."""
    d = x._data
    xp = array_module(d)
    if as_tuple:
        if d.ndim == 0:
            return (_wrap(xp.zeros(int(bool(d)), np.int64)),)
        return tuple(_wrap(i.astype(np.int64)) for i in np.nonzero(d))
    if d.ndim == 0:
        return _wrap(xp.zeros((int(bool(d)), 0), np.int64))
    return _wrap(np.argwhere(d).astype(np.int64))


def _long(a) -> Tensor:
    return _wrap(as_array(a).astype(np.int64, copy=False))


@np.errstate(all="ignore")  # no NumPy overflow warnings on extreme values, as in torch
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
    vals = array_module(d).ascontiguousarray(vals)
    out = [_values(Unique2, "_unique2", x, vals) if dim is None else
           _values(UniqueDim, "unique_dim", x, vals)]
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
        start = array_module(d).ones(flat.shape[0], dtype=bool)
        if flat.size:
            start[1:] = flat[1:] != flat[:-1]
        vals = flat[start]
        inv_shape = d.shape
    else:
        dd = _wrap_dim(dim, d.ndim, "unique_consecutive")
        moved = np.moveaxis(d, dd, 0).reshape(d.shape[dd], -1)
        start = array_module(d).ones(moved.shape[0], dtype=bool)
        if moved.shape[0]:
            start[1:] = (moved[1:] != moved[:-1]).any(axis=1)
        vals = np.compress(start, d, axis=dd)
        inv_shape = (d.shape[dd],)
    out = [_values(UniqueConsecutive, "unique_consecutive", x,
                   array_module(d).ascontiguousarray(vals))]
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


def histogram(x: Tensor, bins=100, *, range=None, weight=None,  # noqa: A002
              density: bool = False):
    """(hist, bin_edges): counts (or summed ``weight``) of ``x``'s values in ``bins`` equal bins
    over ``range`` (the data's by default), or between the edges of a ``bins`` tensor."""
    from ...creation import linspace
    from ..reduce.multi import return_type

    d = x._data
    if d.dtype.kind != "f":
        raise NotImplementedError(
            f"\"histogramdd\" not implemented for '{_torch_type_word(d.dtype)}'\nWhy: "
            "histogram counts floating-point values; convert first, e.g. x.float().")
    flat = d.reshape(-1)
    if isinstance(bins, Tensor):
        edges = bins._data
        if edges.ndim != 1 or edges.dtype != d.dtype:
            raise RuntimeError("torch.histogramdd: expected bins tensor to be 1-dimensional of "
                               f"input's dtype, got {list(edges.shape)} of {bins.dtype}")
    else:
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        elif flat.size:
            lo, hi = float(flat.min()), float(flat.max())
        else:
            lo, hi = 0.0, 1.0
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension 0's range [{lo:g}, {hi:g}] is not "
                               "finite\nWhy: equal bins need finite ends; pass range=(lo, hi).")
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min "
                               f"{lo:g} max {hi:g} for dimension 0")
        if lo == hi:  # PyTorch widens an empty range by half a unit each side
            lo, hi = lo - 0.5, hi + 0.5
        # NOTE: the edges as PyTorch computes them (its linspace), which decide the bins
        edges = linspace(lo, hi, int(bins) + 1, dtype=x.dtype, device=x.device)._data
    n = edges.shape[0] - 1
    with np.errstate(invalid="ignore"):
        keep = (flat >= edges[0]) & (flat <= edges[-1])  # (NaN is never counted)
    pos = np.minimum(np.searchsorted(edges, flat[keep], side="right") - 1, n - 1)
    w = None if weight is None else weight._data.reshape(-1)[keep]
    hist = np.bincount(pos, weights=w, minlength=n).astype(d.dtype)
    if density:
        with np.errstate(divide="ignore", invalid="ignore"):
            hist = hist / hist.sum() / np.diff(edges)  # (PyTorch's order of roundings)
    xp = array_module(d)
    outs = (xp.asarray(hist, dtype=d.dtype), xp.array(edges, dtype=d.dtype))
    if state.enabled and x.requires_grad:
        # NOTE: PyTorch's results require grad through a node without a derivative
        return return_type("histogram")(*(_record_not_implemented("histogram", (x,), o)
                                          for o in outs))
    return return_type("histogram")(*(_wrap(o) for o in outs))


def searchsorted(sorted_sequence: Tensor, values, *, out_int32: bool = False,
                 right: bool = False, side=None, sorter=None) -> Tensor:
    """Indices where ``values`` would be inserted to keep each innermost row sorted."""
    seq = sorted_sequence._data
    v = values._data if isinstance(values, Tensor) else array_module(seq).asarray(values)
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
    return _wrap(as_array(r).astype(np.int32 if out_int32 else np.int64, copy=False))


def bucketize(x, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """Index of the bucket of each value (boundaries is 1-d and sorted)."""
    b = boundaries._data
    if b.ndim != 1:
        raise RuntimeError(
            f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    v = x._data if isinstance(x, Tensor) else array_module(b).asarray(x)
    r = np.searchsorted(b, v, side="right" if right else "left")
    return _wrap(as_array(r).astype(np.int32 if out_int32 else np.int64, copy=False))


def repeat_interleave(x: Tensor, repeats, dim=None, output_size=None) -> Tensor:
    """Repeat each element (or slice along ``dim``) ``repeats`` times, consecutively."""
    if dim is None:
        x = reshape(x, (-1,))
        d = 0
    else:
        d = _wrap_dim(dim, x._data.ndim, "repeat_interleave")
        if not x._data.ndim:  # PyTorch's kernels then index dim 0 / unsqueeze dim 1 of x
            if isinstance(repeats, Tensor):
                raise IndexError("Dimension specified as 0 but tensor has no dimensions\nWhy: "
                                 "repeat_interleave with a dim repeats slices along it; a 0-d "
                                 "tensor has none (leave dim out).")
            raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but "
                             "got 1)\nWhy: repeat_interleave with a dim repeats slices along "
                             "it; a 0-d tensor has none (leave dim out).")
    s = x._data.shape
    if isinstance(repeats, Tensor) and repeats._data.ndim > 0:
        r = repeats._data
        if r.ndim != 1 or (r.shape[0] != s[d] and r.shape[0] != 1):
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor with size of input at dim")
        if r.size and r.min() < 0:
            raise RuntimeError("repeats can not be negative")
        idx = np.repeat(array_module(r).arange(s[d]), np.broadcast_to(r, (s[d],)))
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
