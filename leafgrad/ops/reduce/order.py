"""Order statistics: median, nanmedian, mode, quantile, nanquantile."""

from __future__ import annotations

import numpy as np

from ..._dims import NO_DIM
from ...backend import accumulate, array_module
from ...dtypes import int64
from ...tensor import Tensor, _wrap, _wrap_dim
from .._apply import record_unary
from ..movement import broadcast_tensors
from .extrema import MaxAll, MedianDim, Mode, NanmedianDim, _values_indices
from .multi import return_type
from .sums import _empty_check, _new


# -- median / nanmedian / mode ---------------------------------------------------------------------
class Median(MaxAll):
    name_ = "MedianBackward0"
    __slots__ = ()


class Nanmedian(MaxAll):
    name_ = "NanmedianBackward0"
    __slots__ = ()


def _median_along(d, dim: int, ignore_nan: bool):
    """Keepdim-shaped lower median and its index along ``dim``."""
    order = np.argsort(d, axis=dim, kind="stable")  # NaNs sort last
    n = d.shape[dim]
    xp = array_module(d)
    if ignore_nan:
        cnt = (~np.isnan(d)).sum(axis=dim, keepdims=True) if d.dtype.kind == "f" else \
            np.full_like(np.take(order, [0], dim), n)
        k = np.where(cnt > 0, (cnt - 1) // 2, 0)
    else:
        k = xp.full(np.take(order, [0], dim).shape, (n - 1) // 2)
        if d.dtype.kind == "f":
            has_nan = np.isnan(d).any(axis=dim, keepdims=True)
            first_nan = (n - np.isnan(d).sum(axis=dim, keepdims=True))
            k = np.where(has_nan, first_nan, k)
    idx = np.take_along_axis(order, k, dim)
    return np.take_along_axis(d, idx, dim), idx


def _bool_refused(d, dim, op: str) -> bool:
    """Whether PyTorch's dtype error comes first for a bool median: not for an empty reduction
    (its own error, or an all-elements median of nothing) nor for dim=None (a TypeError)."""
    if dim is NO_DIM:
        return d.size > 0
    if dim is None:
        return False
    return not (d.ndim and d.shape[_wrap_dim(dim, d.ndim, op)] == 0)


def median(x: Tensor, dim=NO_DIM, keepdim: bool = False, _nan: bool = False):
    """Lower median of all elements, or (values, indices) along ``dim``.

    >>> import leafgrad
    >>> median(leafgrad.tensor([3., 1., 2., 4.]))
    tensor(2.)
    """
    d = x._data
    op = "nanmedian" if _nan else "median"
    if d.dtype.kind == "b" and _bool_refused(d, dim, op):
        raise NotImplementedError(
            f"\"{'median_cpu' if dim is NO_DIM else 'median_out'}\" not implemented for 'Bool'"
            f"\nWhy: PyTorch has no {op} of bool tensors; convert first, e.g. x.long().")
    if dim is None:
        raise TypeError(f"{op}(): argument 'dim' must be int, not NoneType\nWhy: leave dim out "
                        "for the median of all elements.")
    if dim is NO_DIM:
        if d.size == 0:
            return _wrap(array_module(d).asarray(np.nan, dtype=d.dtype))
        v, _ = _median_along(d.reshape(-1), 0, _nan)
        return record_unary(_new(Nanmedian if _nan else Median), x, v.reshape(()))
    dm = _wrap_dim(dim, d.ndim, op)
    if d.ndim == 0:
        v, i = d, array_module(d).zeros((), np.int64)
    else:
        _empty_check(d, (dm,), op)
        v, i = _median_along(d, dm, _nan)
    return _values_indices(NanmedianDim if _nan else MedianDim, x, dm, keepdim, v, i,
                           return_type(op))


def nanmedian(x: Tensor, dim=NO_DIM, keepdim: bool = False):
    """Lower median ignoring NaNs, or (values, indices) along ``dim``.

    >>> import leafgrad
    >>> nanmedian(leafgrad.tensor([3., float('nan'), 1.]))
    tensor(1.)
    """
    return median(x, dim, keepdim, _nan=True)


def mode(x: Tensor, dim: int = -1, keepdim: bool = False):
    """Most frequent value along ``dim`` (the smallest among ties) and its last index.

    >>> import leafgrad
    >>> mode(leafgrad.tensor([1., 2., 2., 3.])).values
    tensor(2.)
    """
    d = x._data
    dm = _wrap_dim(dim, d.ndim, "mode")
    if d.ndim == 0:
        return _values_indices(Mode, x, 0, keepdim, d, array_module(d).zeros((), np.int64),
                               return_type("mode"))
    _empty_check(d, (dm,), "mode")
    a = np.moveaxis(d, dm, -1)
    order = np.argsort(a, axis=-1, kind="stable")
    s = np.take_along_axis(a, order, -1)
    n = s.shape[-1]
    xp = array_module(d)
    pos = xp.arange(n)
    new = xp.ones(s.shape, bool)
    new[..., 1:] = s[..., 1:] != s[..., :-1]
    start = accumulate("maximum", np.where(new, pos, 0), -1)
    run = pos - start + 1
    end = np.argmax(run, axis=-1)[..., None]  # the longest run ends here (first: smallest value)
    # NOTE: PyTorch returns the last index at which the mode occurs
    val = np.take_along_axis(s, end, -1)
    idx = np.where(a == val, pos, -1).max(axis=-1, keepdims=True)
    val, idx = np.moveaxis(val, -1, dm), np.moveaxis(idx, -1, dm)
    return _values_indices(Mode, x, dm, keepdim, val, idx, return_type("mode"))


# -- quantile --------------------------------------------------------------------------------------
_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _q_tensor(x: Tensor, q, d) -> Tensor:
    """``q`` as PyTorch takes it: a Tensor as given, a number as a 0-d tensor of ``x``'s dtype
    (its ``scalar_tensor(q, self.options())``), checked first against [0, 1]."""
    if isinstance(q, Tensor):
        return q
    if not isinstance(q, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"quantile() received an invalid combination of arguments - got "
            f"({type(q).__name__}), but expected one of:\n"
            f" * (Tensor q, int dim = None, bool keepdim = False, *, str interpolation = "
            f"\"linear\")\n"
            f" * (float q, int dim = None, bool keepdim = False, *, str interpolation = "
            f"\"linear\")\nWhy: q is a number or a Tensor.")
    qf = float(q)
    if not 0 <= qf <= 1:  # (a NaN fails it too)
        raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {qf:g}\n"
                           "Why: q is a fraction of the sorted elements.")
    return _wrap(array_module(d).asarray(qf, dtype=d.dtype if d.dtype.kind == "f" else
                                         np.float32))


def _quantile_checks(x: Tensor, qt: Tensor, interpolation: str) -> None:
    """PyTorch's checks, in its order (all its messages say ``quantile()``)."""
    d = x._data
    if interpolation not in _MODES:
        raise RuntimeError("quantile() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if d.size == 0:
        raise RuntimeError("quantile() input tensor must be non-empty\n"
                           "Why: an empty reduction has no quantile.")
    if qt._data.ndim > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    if d.dtype not in (np.float32, np.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype\n"
                           "Why: quantiles interpolate between elements; convert first.")
    if qt._data.dtype != d.dtype:
        raise RuntimeError("quantile() q tensor must be same dtype as the input tensor\n"
                           "Why: q is used in the input's dtype; convert it with .to(x.dtype).")


def quantile(x: Tensor, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear",
             _nan: bool = False) -> Tensor:
    """The ``q``-th quantiles over ``dim`` (all elements when None), as PyTorch interpolates.

    >>> import leafgrad
    >>> quantile(leafgrad.tensor([1., 2., 3., 4.]), 0.5)
    tensor(2.5000)
    """
    # NOTE: PyTorch's quantile_compute (ATen/native/Sorting.cpp) is a composite of sort, gather
    # and lerp, and so is this, op for op: its gradient (and double backward, and q's gradient
    # through lerp's weight) is theirs, with the NaN/inf that its masks make. Only linear and
    # midpoint gather the element above and lerp; lower/higher/nearest gather one element, so
    # no 0 * inf reaches a neighbour. Ranks are computed in q's dtype, as PyTorch does.
    d = x._data
    qt = _q_tensor(x, q, d)
    _quantile_checks(x, qt, interpolation)
    nd = d.ndim
    dm = None if dim is None else _wrap_dim(dim, nd, "quantile")
    if not ((qt._data >= 0) & (qt._data <= 1)).all():
        raise RuntimeError("quantile() q values must be in the range [0, 1]\n"
                           "Why: q holds fractions of the sorted elements.")
    # output shape: q's size, then the reduced shape
    if dm is not None and nd > 0:
        out_shape = list(d.shape)
        if keepdim:
            out_shape[dm] = 1
        else:
            out_shape.pop(dm)
    else:
        out_shape = [1] * nd if keepdim else []
    # sort along the reduced dim, moved last (all elements, flattened, when dim is None)
    if dm is None:
        srt = x.flatten().sort()[0]
    elif dm == nd - 1:
        srt = x.sort()[0]
    else:
        srt = x.unsqueeze(-1).transpose(dm, -1).sort()[0]
    n = srt.shape[-1]
    srt = srt.view(out_shape + [n])  # the reduced shape, then the sorted elements
    if _nan:
        # ranks over the non-NaN count (all NaN: rank 0, whose element is NaN)
        ranks = qt * (srt.isnan().logical_not().sum(-1, True) - 1)
        ranks.masked_fill_(ranks < 0, 0)
    else:
        # a slice with a NaN takes the last rank (NaN sorts last): its quantiles are NaN
        rq, has_nan = broadcast_tensors(qt * (n - 1), srt.isnan().any(-1, True))
        ranks = rq.masked_fill(has_nan, n - 1)
    if interpolation == "lower":
        ranks.floor_()
    elif interpolation == "higher":
        ranks.ceil_()
    elif interpolation == "nearest":
        ranks.round_()  # half to even
    below = ranks.to(int64)
    values = srt.gather(-1, below)
    if interpolation in ("linear", "midpoint"):
        weights = _wrap(array_module(d).full(ranks.shape, 0.5, ranks._data.dtype)) if (
            interpolation == "midpoint") else ranks - below
        values.lerp_(srt.gather(-1, ranks.ceil_().to(int64)), weights)
    if qt._data.ndim == 0:
        return values.squeeze_(-1)
    # the quantiles are the last dim: move them first
    return values.unsqueeze_(0).transpose_(0, -1).squeeze_(-1)


def nanquantile(x: Tensor, q, dim=None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """Like quantile, ignoring NaNs.

    >>> import leafgrad
    >>> nanquantile(leafgrad.tensor([1., float('nan'), 3.]), 0.5)
    tensor(2.)
    """
    return quantile(x, q, dim, keepdim, interpolation=interpolation, _nan=True)
