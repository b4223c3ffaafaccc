"""Scans: cumsum, cumprod, cummax, cummin, logcumsumexp."""

from __future__ import annotations

import numpy as np

from ...autograd.node import Op
from ...backend import accumulate, array_module
from ...dtypes import as_dtype
from ...tensor import Tensor, _wrap, _wrap_dim
from .. import dual
from .._apply import record_unary
from .extrema import MaxDim, _select_back
from .multi import return_type
from .sums import _new, _sum_dtype


# -- cumulative ------------------------------------------------------------------------------------
class Cumsum(Op):
    name_ = "CumsumBackward0"
    formula = {"x": "rev_cumsum(grad, dim)"}
    save_inputs = False
    __slots__ = ("dim", "dtype")

    def forward(self, x):
        return np.cumsum(x, axis=self.dim, dtype=self.dtype)

    def backward(self, grad):
        return dual.rev_cumsum(grad, self.dim) if dual.raw(grad).ndim else grad


def _scan_setup(x: Tensor, dim, op: str):
    d = x._data
    dm = _wrap_dim(dim, d.ndim, op)
    if d.ndim == 0:
        return d.reshape(1), 0
    return d, dm


def cumsum(x: Tensor, dim, *, dtype=None) -> Tensor:
    """Cumulative sum along ``dim`` (bool/int inputs give int64, as PyTorch).

    >>> import leafgrad
    >>> cumsum(leafgrad.tensor([1, 2, 3]), 0)
    tensor([1, 3, 6])
    """
    return _scan(Cumsum, x, dim, dtype, "cumsum")


def _scan(cls, x: Tensor, dim, dtype, op: str) -> Tensor:
    """Run a cumulative op (cumsum / cumprod) along ``dim``, with PyTorch's dtype rules."""
    if dtype is not None:
        if as_dtype(dtype).np.kind == "b":
            raise NotImplementedError(
                f"\"{op}_out_cpu\" not implemented for 'Bool'\nWhy: a running {op[3:]} of "
                "booleans is not a boolean; pass an integer dtype (or none: bools count as int64).")
        x = x.to(as_dtype(dtype))
    d, dm = _scan_setup(x, dim, op)
    fn = _new(cls)
    fn.dim = dm
    fn.dtype = _sum_dtype(x, None)
    return record_unary(fn, x, fn.forward(d).reshape(x._data.shape))


class Cumprod(Op):
    name_ = "CumprodBackward0"
    formula = {"x": "cumprod_backward(grad, x, out, dim)"}
    save_output = True
    __slots__ = ("dim", "dtype")

    def forward(self, x):
        return np.cumprod(x, axis=self.dim, dtype=self.dtype)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return _cumprod_backward(grad, x, self.result(grad), self.dim)


def _cumprod_backward(grad, x, out, dim: int):
    """Gradient of cumprod along ``dim`` (dual), case by case as PyTorch's cumprod_backward."""
    xr = dual.raw(x)
    # NOTE: as PyTorch, one element along dim passes grad through (no grad * out / x, which
    # is NaN at x = inf)
    if xr.ndim == 0 or xr.size <= 1 or xr.shape[dim] == 1:
        return grad
    zero = xr == 0
    if not zero.any():
        return dual.rev_cumsum(grad * out, dim) / x
    if isinstance(x, Tensor):
        return _cumprod_backward_graph(grad, x, dim)
    # NOTE: exact with zeros as PyTorch's O(n) cumprod_backward (arrays: no graph wanted):
    # before a slice's first zero z1 the quotient formula on grad * out masked to that range;
    # at z1 the sum over [z1, z2) of grad_k times the products of x without x_z1; after it 0.
    # Masking (not multiplying) keeps an inf/NaN gradient or product out of other ranges.
    xp = array_module(xr)
    count = xp.cumsum(zero, axis=dim)
    before = count == 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = xp.where(before, grad * out, 0)
        a = dual.rev_cumsum(w, dim) / xr
        first = (count == 1) & zero
        between = (count == 1) & ~zero
        inner = xp.cumprod(xp.where(between, xr, 1), axis=dim) * xp.where(count == 1, grad, 0)
        at = (inner.sum(axis=dim, keepdims=True)
              * xp.where(before, xr, 1).prod(axis=dim, keepdims=True))
        return xp.where(before, a, xp.where(first, at, 0)).astype(grad.dtype, copy=False)


def _cumprod_backward_graph(grad: Tensor, x: Tensor, dim: int) -> Tensor:
    """cumprod's gradient with zeros, as a graph (PyTorch's O(n^2) form under grad mode): for
    each k, the sum over j >= k of grad_j times the product of x_0..x_j without x_k. The
    first-order shortcut above sets the gradient after a slice's first zero to a constant 0,
    which loses the second derivatives through that zero."""
    from ..movement import cat

    dim = dim % x.dim()
    n = x.shape[dim]
    ones = dual.zeros(grad, tuple(1 if k == dim else s for k, s in enumerate(x.shape))) + 1
    parts = []
    for k in range(n):
        if k == 0:
            omitted = cat([ones, x.narrow(dim, 1, n - 1).cumprod(dim)], dim)
        elif k == n - 1:
            omitted = x.narrow(dim, 0, k).prod(dim, keepdim=True)
        else:
            until = x.narrow(dim, 0, k).prod(dim, keepdim=True)
            after = x.narrow(dim, k + 1, n - k - 1).cumprod(dim)
            omitted = cat([until, until.expand_as(after) * after], dim)
        parts.append((grad.narrow(dim, k, n - k) * omitted).sum(dim, keepdim=True))
    return cat(parts, dim)


def cumprod(x: Tensor, dim, *, dtype=None) -> Tensor:
    """Cumulative product along ``dim``.

    >>> import leafgrad
    >>> cumprod(leafgrad.tensor([1., 2., 3.]), 0)
    tensor([1., 2., 6.])
    """
    return _scan(Cumprod, x, dim, dtype, "cumprod")


class Cummax(MaxDim):
    name_ = "CummaxBackward0"
    formula = {"x": "select_back(grad, index, dim, True, in_shape, True)"}
    save_inputs = True  # PyTorch saves self and the indices
    __slots__ = ()

    def backward(self, grad):
        return _select_back(grad, self.index, self.dim, True, self.in_shape, accumulate=True)


class Cummin(Cummax):
    name_ = "CumminBackward0"
    __slots__ = ()


def cummax(x: Tensor, dim, _which: str = "max"):
    """Running maximum along ``dim`` and the index where it was reached.

    >>> import leafgrad
    >>> cummax(leafgrad.tensor([1., 3., 2.]), 0).values
    tensor([1., 3., 3.])
    """
    d, dm = _scan_setup(x, dim, "cum" + _which)
    vals = accumulate("maximum" if _which == "max" else "minimum", d, dm) if d.size else d.copy()
    n = d.shape[dm] if d.ndim else 1
    xp = array_module(d)
    pos = xp.arange(n).reshape([n if k == dm else 1 for k in range(d.ndim)])
    hit = (d == vals)
    if d.dtype.kind == "f":
        hit |= np.isnan(d)
    # NOTE: PyTorch's cummax/cummin index moves to the latest position that equals the running
    # extreme (ties take the later index)
    idx = accumulate("maximum", np.where(hit, pos, 0), dm) if d.size else \
        xp.zeros(d.shape, np.int64)
    shape = x._data.shape
    fn = _new(Cummax if _which == "max" else Cummin)
    fn.dim = dm
    fn.keepdim = True
    fn.in_shape = d.shape
    fn.index = idx
    v = record_unary(fn, x, vals.reshape(shape))
    return return_type("cum" + _which)(v, _wrap(idx.astype(np.int64).reshape(shape)))


def cummin(x: Tensor, dim):
    """Running minimum along ``dim`` and the index where it was reached.

    >>> import leafgrad
    >>> cummin(leafgrad.tensor([3., 1., 2.]), 0).values
    tensor([3., 1., 1.])
    """
    return cummax(x, dim, "min")


class Logcumsumexp(Op):
    name_ = "LogcumsumexpBackward0"
    formula = {"x": "logcumsumexp_backward(grad, x, out, dim)"}
    save_output = True
    __slots__ = ("dim",)

    def forward(self, x):
        if x.size == 0:
            return x.copy()
        # NOTE: a running log-add-exp as PyTorch's kernel (out_i = logaddexp(out_i-1, x_i)):
        # shifting the whole slice by its max underflowed exp for elements far below it, and
        # log(0) gave -inf where PyTorch gives the element itself (logcumsumexp([-1000, 0]))
        w = x.astype(np.float32) if x.dtype == np.float16 else x  # half in float32
        xp = array_module(x)
        with np.errstate(invalid="ignore"):
            if xp is np:
                out = np.logaddexp.accumulate(w, axis=self.dim)
            else:  # CuPy has no ufunc.accumulate: the same scan, one position at a time
                out = xp.moveaxis(w, self.dim, 0).copy()
                for i in range(1, out.shape[0]):
                    out[i] = xp.logaddexp(out[i - 1], out[i])
                out = xp.moveaxis(out, 0, self.dim)
        return out.astype(x.dtype, copy=False)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return _logcumsumexp_backward(grad, x, self.result(grad), self.dim)


def _logcumsumexp_backward(grad, x, out, dim: int):
    """Gradient of logcumsumexp along ``dim`` (dual), PyTorch's log-space form: the positive
    and negative parts of ``grad`` are carried as logs through a reversed logcumsumexp, so a
    NaN or zero upstream gradient contributes nothing (it is neither > 0 nor < 0) and an
    infinite one gives inf where PyTorch does."""
    xr = dual.raw(x)
    if xr.ndim == 0 or xr.size == 0:
        return grad
    lowest = float(np.finfo(xr.dtype).min)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_abs = dual.log(grad * dual.sign(grad))
        gr = dual.raw(grad)
        pos = dual.where(gr > 0, log_abs, lowest)
        neg = dual.where(gr < 0, log_abs, lowest)
        out_pos = dual.exp(_rev_logcumsumexp(pos - out, dim) + x)
        out_neg = dual.exp(_rev_logcumsumexp(neg - out, dim) + x)
        return out_pos - out_neg


def _rev_logcumsumexp(v, dim: int):
    """logcumsumexp from each position to the end along ``dim`` (dual)."""
    if isinstance(v, Tensor):
        return v.flip((dim,)).logcumsumexp(dim).flip((dim,))
    fn = _new(Logcumsumexp)
    fn.dim = dim
    return np.flip(fn.forward(np.flip(v, dim)), dim)


def logcumsumexp(x: Tensor, dim) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``dim``, computed stably.

    >>> import leafgrad
    >>> logcumsumexp(leafgrad.tensor([0., 0.]), 0)
    tensor([0.0000, 0.6931])
    """
    if x._data.dtype.kind != "f":
        from ..elementwise import _not_impl_dtype

        raise _not_impl_dtype("logcumsumexp_out_cpu", x._data.dtype)
    d, dm = _scan_setup(x, dim, "logcumsumexp")
    fn = _new(Logcumsumexp)
    fn.dim = dm
    return record_unary(fn, x, fn.forward(d).reshape(x._data.shape))
