"""Differences and integrals: diff, trapezoid."""

from __future__ import annotations

import builtins

import numpy as np

from ...autograd.node import Op
from ...backend import array_module
from ...tensor import Tensor, _wrap, _wrap_dim


# -- diff / trapezoid ------------------------------------------------------------------------------
def _concat(parts: list, dim: int) -> Tensor:
    """Differentiable concatenation along ``dim`` built from Embed (no cat dependency)."""
    shape = list(parts[0]._data.shape)
    shape[dim] = builtins.sum(p._data.shape[dim] for p in parts)
    out = None
    start = 0
    for p in parts:
        n = p._data.shape[dim]
        idx = tuple(slice(start, start + n) if k == dim else slice(None)
                    for k in range(len(shape)))
        e = _embed_t(p, tuple(shape), idx)
        out = e if out is None else out + e
        start += n
    return out


def _embed_t(p: Tensor, shape: tuple, idx) -> Tensor:
    from ..movement import _embed

    if p._rg:
        return _embed(p, shape, idx)
    z = array_module(p._data).zeros(shape, p._data.dtype)
    z[idx] = p._data
    return _wrap(z)


def diff(x: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """n-th forward difference along ``dim`` (``x[1:] - x[:-1]``).

    >>> import leafgrad
    >>> diff(leafgrad.tensor([1, 4, 9]))
    tensor([3, 5])
    """
    d = x._data
    if d.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    dm = _wrap_dim(dim, d.ndim, "diff")
    if prepend is not None or append is not None:
        parts = ([prepend_t(prepend, x, dm)] if prepend is not None else []) + [x] + (
            [prepend_t(append, x, dm)] if append is not None else [])
        x = _concat(parts, dm)
    for _ in range(n):
        m = x._data.shape[dm]
        if m == 0:
            break
        hi = tuple(slice(1, None) if k == dm else slice(None) for k in range(x._data.ndim))
        lo = tuple(slice(None, -1) if k == dm else slice(None) for k in range(x._data.ndim))
        if x._data.dtype == np.bool_:
            x = _wrap(x._data[hi] ^ x._data[lo])
        else:
            x = x[hi] - x[lo]
    return x


def prepend_t(e, x: Tensor, dm: int) -> Tensor:
    """``prepend``/``append`` as a tensor shaped to concatenate with ``x`` along ``dm``."""
    d = x._data
    e = e if isinstance(e, Tensor) else _wrap(array_module(d).asarray(e, d.dtype))
    if e._data.ndim == 0:
        shp = list(d.shape)
        shp[dm] = 1
        e = e.expand(tuple(shp))
    return e


class MulScalar(Op):
    """``x * c`` for a Python number ``c`` inside a composite, as PyTorch's C++ code records it
    (MulBackward1: nothing saved, so a second backward through it is allowed)."""

    name_ = "MulBackward1"
    elementwise = True
    same_shape = True
    formula = {"x": "grad * c"}
    save_inputs = False
    __slots__ = ("c",)

    def forward(self, x):
        return x * x.dtype.type(self.c)

    def backward(self, grad):
        return grad * self.c


def _mul_scalar(x: Tensor, c) -> Tensor:
    from .._apply import record_unary

    fn = object.__new__(MulScalar)
    fn.c = c
    return record_unary(fn, x, fn.forward(x._data))


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Integral of ``y`` along ``dim`` by the trapezoidal rule (spacing ``dx`` or points ``x``).

    >>> import leafgrad
    >>> trapezoid(leafgrad.tensor([1., 2., 3.]))
    tensor(4.)
    """
    d = y._data
    if not d.ndim:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions\nWhy: "
                         "trapezoid integrates along a dim; a 0-d tensor has none.")
    dm = _wrap_dim(dim, d.ndim, "trapezoid")
    n = d.shape[dm] if d.ndim else 0
    if n == 0:
        return y.sum(dm) * 0 if d.ndim else _wrap(array_module(d).zeros((), d.dtype))
    nd = d.ndim
    hi = tuple(slice(1, None) if k == dm else slice(None) for k in range(nd))
    lo = tuple(slice(None, -1) if k == dm else slice(None) for k in range(nd))
    if x is not None and isinstance(x, Tensor):
        pair = y[hi] + y[lo]
        xd = x._data
        if xd.ndim == 1:
            shp = [1] * nd
            shp[dm] = xd.shape[0]
            x = x.reshape(tuple(shp))
            xhi, xlo = hi, lo
        else:
            xdm = _wrap_dim(dim, xd.ndim, "trapezoid")
            xhi = tuple(slice(1, None) if k == xdm else slice(None) for k in range(xd.ndim))
            xlo = tuple(slice(None, -1) if k == xdm else slice(None) for k in range(xd.ndim))
        return ((x[xhi] - x[xlo]) * pair).sum(dm) / 2
    spacing = 1 if dx is None else (dx if x is None else x)
    # NOTE: PyTorch's uniform-spacing rule: (sum - (first + last) / 2) * dx, so an infinite
    # end point gives inf - inf = NaN (the pairwise sum gives inf), and one point gives 0
    ends = y.select(dm, 0) + y.select(dm, -1)
    # (ATen's mul by a Scalar: MulBackward1, which saves no tensor: a second backward is fine)
    total = y.sum(dm) - (_mul_scalar(ends, 0.5) if ends._data.dtype.kind == "f" else ends * 0.5)
    if isinstance(spacing, Tensor) or total._data.dtype.kind != "f":
        return total * spacing  # (an integer sum is promoted as PyTorch's mul does)
    return _mul_scalar(total, spacing)
