"""Functions for backward formulas that work on Tensors and on raw arrays alike.

A backward formula is written once, with operators and these helpers. The engine runs it on
raw arrays when no graph of the backward is needed (a plain ``backward()``: NumPy speed), and on
Tensors with ``create_graph=True`` (each step recorded, so higher derivatives come free). On a
Tensor each helper calls the differentiable op; on an array, the NumPy function.

This is the one vocabulary of backward code: ``backward`` methods call these helpers, and the
``formula`` texts that ``explain`` prints are evaluated with them (``__all__`` is the namespace
of ``leafgrad.autograd.formula``), so a formula reads like the code that computes it.
"""

from __future__ import annotations

import numpy as np

from ..backend import array_module, scatter_add
from ..dtypes import FROM_NP
from . import lastbits

__all__ = [
    # elementwise
    "raw", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "sinh", "cosh", "sign", "floor", "trunc",
    "floor_divide", "trunc_divide", "digamma", "polygamma", "isnan", "zeros_like", "where",
    "threshold_backward", "to_dtype",
    # shapes and broadcasting
    "expand", "sum_axes", "sum_to", "expand_back", "keep_dims", "transpose", "t", "mT",
    "permute", "inverse", "squeeze", "unsqueeze", "flip", "roll", "rot90", "cat", "stack", "tri",
    "diagonal", "diag_scatter", "diag_embed", "mask", "zeros", "embed", "gather", "put",
    # reductions and scans
    "sum", "cumsum", "cumprod", "rev_cumsum",
    # linear algebra
    "inv", "solve", "solve_triangular", "pinv", "cross",
]


def _link() -> None:
    """Import the differentiable ops the Tensor branches call; the op modules import this one
    (docs/design.md, "The import cycle"). Run once by leafgrad.tensor when Tensor exists."""
    global Tensor, _wrap, _record_unary, _where, _threshold_backward, _polygamma, _digamma_np
    global _polygamma_np, _flip, _roll, _rot90, _cat, _stack, _tril, _triu, _diagonal
    global _diag_view, _DiagScatter, _embed, _gather, _put, _cumsum, _cumprod, _inv, _solve
    global _solve_triangular, _SolveTriangular, _Tri, _pinv, _pinv_np, _cross, _lapack
    from ..tensor import Tensor, _wrap
    from ._apply import record_unary as _record_unary
    from .elementwise import polygamma as _polygamma
    from .elementwise import threshold_backward as _threshold_backward
    from .elementwise import where as _where
    from .elementwise.special import _digamma_np, _polygamma_np
    from .linalg import SolveTriangular as _SolveTriangular
    from .linalg import _cross, _pinv_np, _Tri
    from .linalg import inv as _inv
    from .linalg import pinv as _pinv
    from .linalg import solve as _solve
    from .linalg import solve_triangular as _solve_triangular
    from .linalg.solve import _lapack
    from .movement import DiagScatter as _DiagScatter
    from .movement import _diag_view, _embed, _gather, _put
    from .movement import cat as _cat
    from .movement import diagonal as _diagonal
    from .movement import flip as _flip
    from .movement import roll as _roll
    from .movement import rot90 as _rot90
    from .movement import stack as _stack
    from .movement import tril as _tril
    from .movement import triu as _triu
    from .reduce import cumprod as _cumprod
    from .reduce import cumsum as _cumsum


# -- elementwise -----------------------------------------------------------------------------
def raw(x):
    """The raw array of a Tensor (constants derived from saved values: masks, counts, shapes)."""
    return x._data if isinstance(x, Tensor) else x


# NOTE: on arrays the elementwise functions are leafgrad.ops.lastbits' (the ops' own forward
# kernels), so a backward formula rounds as PyTorch's, which calls its ops there.
def exp(x):
    """Elementwise e**x."""
    return x.exp() if isinstance(x, Tensor) else lastbits.exp(x)


def log(x):
    """Elementwise natural log."""
    return x.log() if isinstance(x, Tensor) else lastbits.log(x)


def sqrt(x):
    """Elementwise square root."""
    return x.sqrt() if isinstance(x, Tensor) else array_module(x).sqrt(x)


def rsqrt(x):
    """Elementwise 1 / sqrt(x)."""
    return x.rsqrt() if isinstance(x, Tensor) else lastbits.rsqrt(x)


def sin(x):
    """Elementwise sine."""
    return x.sin() if isinstance(x, Tensor) else array_module(x).sin(x)


def cos(x):
    """Elementwise cosine."""
    return x.cos() if isinstance(x, Tensor) else array_module(x).cos(x)


def sinh(x):
    """Elementwise hyperbolic sine."""
    return x.sinh() if isinstance(x, Tensor) else lastbits.sinh(x)


def cosh(x):
    """Elementwise hyperbolic cosine."""
    return x.cosh() if isinstance(x, Tensor) else lastbits.cosh(x)


def sign(x):
    """Elementwise sign."""
    return x.sign() if isinstance(x, Tensor) else lastbits.sign(x)


def floor(x):
    """Round down."""
    return x.floor() if isinstance(x, Tensor) else np.floor(x)


def trunc(x):
    """Round toward zero."""
    return x.trunc() if isinstance(x, Tensor) else np.trunc(x)


def trunc_divide(a, b):
    """``a.div(b, rounding_mode='trunc')``: one node whose gradient is exactly zero (fmod's
    gradient for other), rather than ``trunc(a / b)`` whose division's backward would meet
    that zero with an infinite ``a / b²`` (NaN) in a double backward."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        if not isinstance(a, Tensor):
            a = _wrap(a)
        return a.div(b, rounding_mode="trunc")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.trunc(a / b)


def floor_divide(a, b):
    """``a.div(b, rounding_mode='floor')``: PyTorch's floor division, not ``floor(a / b)``.

    The two differ at infinities (``-inf // 3`` is nan, ``3 // -inf`` is -1), and remainder's
    gradient is defined with the floor division.
    """
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        if not isinstance(a, Tensor):
            a = _wrap(a)
        return a.div(b, rounding_mode="floor")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.floor_divide(a, b)


def digamma(x):
    """The derivative of lgamma."""
    return x.digamma() if isinstance(x, Tensor) else _digamma_np(x)


def polygamma(n: int, x):
    """The n-th derivative of digamma."""
    return _polygamma(n, x) if isinstance(x, Tensor) else _polygamma_np(n, x)


def isnan(x):
    """Where ``x`` is nan, as a raw bool array (a constant of the formula)."""
    return np.isnan(raw(x))


def zeros_like(g):
    """A zero gradient shaped like ``g`` (PyTorch's zeros_like for piecewise-constant ops).

    Real zeros, never ``g * 0``: an inf or nan upstream gradient times 0 is nan, PyTorch's 0.
    """
    if isinstance(g, Tensor):
        return _wrap(array_module(g._data).zeros_like(g._data))
    return array_module(g).zeros_like(g)


def where(cond, a, b):
    """``a`` where ``cond`` (a raw bool array) holds, else ``b``."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return _where(cond, a, b)
    return array_module(cond).where(cond, a, b)


def threshold_backward(g, out):
    """0 where ``out <= 0``, else ``g`` (relu's backward; a NaN ``out`` passes ``g``)."""
    if isinstance(g, Tensor):
        return _threshold_backward(g, out)
    # NOTE: a mask, not g * (out > 0): an inf or nan gradient where relu is flat gives 0; and
    # out <= 0 selects the zeros (PyTorch's threshold_backward), so a NaN output passes g
    return array_module(g).where(out <= 0, 0, g)


def to_dtype(g, np_dtype):
    """Cast to a NumPy dtype."""
    if isinstance(g, Tensor):
        return g.to(FROM_NP[np_dtype])
    return g.astype(np_dtype)


# -- shapes and broadcasting -----------------------------------------------------------------
def expand(g, shape: tuple):
    """Broadcast ``g`` to ``shape`` without copying."""
    return g.expand(shape) if isinstance(g, Tensor) else array_module(g).broadcast_to(g, shape)


def expands_to(shape: tuple, gs: tuple) -> bool:
    """Whether ``shape`` broadcasts to ``gs``: a gradient of shape ``gs`` then sums back to it
    (PyTorch's ``is_expandable_to``).

    >>> expands_to((3, 1), (2, 3, 4)), expands_to((1, 2), (2,))
    (True, False)
    """
    lead = len(gs) - len(shape)
    return lead >= 0 and all(s == 1 or s == gs[k + lead] for k, s in enumerate(shape))


def sum_axes(gs: tuple, shape: tuple, fn=None, i: int = 0) -> tuple:
    """The dims to sum so that a gradient of shape ``gs`` gets back ``shape``, and how many
    leading dims broadcasting added; raises when ``gs`` cannot come from ``shape``."""
    lead = len(gs) - len(shape)
    if not expands_to(shape, gs):
        raise RuntimeError(
            f"Function {fn.name() if fn else '?'} returned an invalid gradient at index {i} - "
            f"got {list(gs)} but expected shape compatible with {list(shape)}"
        )
    axes = tuple(range(lead)) + tuple(
        k + lead for k, s in enumerate(shape) if s == 1 and gs[k + lead] != 1)
    return axes, lead


def sum_to(g, shape: tuple, fn=None, i: int = 0):
    """Sum the dims that broadcasting added or stretched, to get back ``shape``."""
    axes, lead = sum_axes(g.shape, shape, fn, i)
    if isinstance(g, Tensor):
        if axes:
            g = g.sum(dim=axes, keepdim=True)
        return g.reshape(shape) if lead else g
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if lead else g


def expand_back(grad, in_shape: tuple, dims: tuple | None, keepdim: bool):
    """Broadcast a reduction's gradient back over the reduced dims (a view, no copy)."""
    if dims is not None and not keepdim and dims:
        shape = list(in_shape)
        for d in dims:
            shape[d] = 1
        grad = grad.reshape(tuple(shape))
    return expand(grad, in_shape)


def keep_dims(a, in_shape: tuple, dims, keepdim: bool):
    """A reduced array in keepdim form (size 1 on the reduced dims)."""
    if keepdim:
        return a
    shape = [1 if (dims is None or k in dims) else s for k, s in enumerate(in_shape)]
    return a.reshape(tuple(shape))


def transpose(g, dim0: int, dim1: int):
    """Swap two dims."""
    return g.transpose(dim0, dim1) if isinstance(g, Tensor) else array_module(g).swapaxes(
        g, dim0, dim1)


def t(g):
    """Transpose of a tensor with at most 2 dims."""
    return g.t() if isinstance(g, Tensor) else g.T


def mT(g):  # noqa: N802 - PyTorch's name
    """Swap the last two dims."""
    return g.mT if isinstance(g, Tensor) else array_module(g).swapaxes(g, -1, -2)


def permute(g, dims: tuple):
    """Reorder dims."""
    return g.permute(dims) if isinstance(g, Tensor) else g.transpose(dims)


def inverse(dims: tuple) -> tuple:
    """The inverse of the permutation ``dims`` (``permute``'s backward permutes by it)."""
    inv = [0] * len(dims)
    for i, d in enumerate(dims):
        inv[d] = i
    return tuple(inv)


def squeeze(g, dim: int):
    """Remove size-1 dim ``dim``."""
    return g.squeeze(dim) if isinstance(g, Tensor) else array_module(g).squeeze(g, axis=dim)


def unsqueeze(g, dim: int):
    """Insert a size-1 dim at ``dim``."""
    return g.unsqueeze(dim) if isinstance(g, Tensor) else array_module(g).expand_dims(g, dim)


def flip(g, dims: tuple):
    """Reverse the order along ``dims``."""
    return _flip(g, dims) if isinstance(g, Tensor) else array_module(g).flip(g, dims)


def roll(g, shifts: tuple, dims: tuple):
    """Shift cyclically along ``dims``."""
    return _roll(g, shifts, dims) if isinstance(g, Tensor) else array_module(g).roll(
        g, shifts, dims)


def rot90(g, k: int, dims: tuple):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``."""
    return _rot90(g, k, dims) if isinstance(g, Tensor) else array_module(g).rot90(g, k, dims)


def cat(gs: list, dim: int):
    """Join along ``dim`` (Tensors when any part is one)."""
    if any(isinstance(g, Tensor) for g in gs):
        return _cat([g if isinstance(g, Tensor) else _wrap(g) for g in gs], dim)
    return array_module(gs[0]).concatenate(gs, axis=dim)


def stack(gs: list, dim: int):
    """Join along a new dim ``dim`` (Tensors when any part is one)."""
    if any(isinstance(g, Tensor) for g in gs):
        return _stack([g if isinstance(g, Tensor) else _wrap(g) for g in gs], dim)
    return array_module(gs[0]).stack(gs, axis=dim)


def tri(g, k: int, upper: bool):
    """The upper (``triu``) or lower (``tril``) triangle from diagonal ``k``."""
    if isinstance(g, Tensor):
        return _triu(g, k) if upper else _tril(g, k)
    xp = array_module(g)
    return xp.triu(g, k) if upper else xp.tril(g, k)


def diagonal(g, offset: int, d1: int, d2: int):
    """The diagonal of dims ``d1``, ``d2`` (moved to the last dim)."""
    return _diagonal(g, offset, d1, d2) if isinstance(g, Tensor) else _diag_view(
        g, offset, d1, d2)


def diag_scatter(g, shape: tuple, offset: int, d1: int, d2: int):
    """Zeros of ``shape`` with ``g`` written on the diagonal (``diagonal``'s backward)."""
    if isinstance(g, Tensor):
        fn = object.__new__(_DiagScatter)
        fn.shape, fn.offset, fn.d1, fn.d2 = shape, offset, d1, d2
        return _record_unary(fn, g, fn.forward(g._data))
    return _DiagScatter.scatter(g, shape, offset, d1, d2)


def diag_embed(v):
    """Batched diagonal matrices from vectors."""
    # NOTE: written on the diagonal, not multiplied by an identity: an inf or nan entry must
    # leave zeros off the diagonal (inf * 0 is nan), as PyTorch's diag_embed does
    shape = tuple(raw(v).shape) + (raw(v).shape[-1],)
    return diag_scatter(v, shape, 0, len(shape) - 2, len(shape) - 1)


def mask(x, m):
    """``x`` where the constant boolean mask ``m`` holds, else 0 (triangle selection).

    Written, not multiplied: an inf or NaN outside the triangle becomes 0, as PyTorch's
    ``triu_``/``tril_`` leave it.
    """
    return where(array_module(raw(x)).asarray(m, dtype=bool), x, 0)


def zeros(like, shape: tuple):
    """Zeros in ``like``'s form (Tensor or array) and dtype."""
    if isinstance(like, Tensor):
        return _wrap(array_module(like._data).zeros(shape, dtype=like._data.dtype))
    return array_module(like).zeros(shape, dtype=like.dtype)


def embed(g, shape: tuple, index, accumulate: bool = False):
    """Zeros of ``shape`` with ``g`` written (or, with repeats, added) at ``index``."""
    if isinstance(g, Tensor):
        return _embed(g, shape, index, accumulate)
    xp = array_module(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if accumulate:
        scatter_add(out, index, g)
    else:
        out[index] = g
    return out


def gather(g, index):
    """``g[index]`` (a copy for advanced indices)."""
    if isinstance(g, Tensor):
        return _gather(g, index)
    return g[index]


def put(g, index, value):
    """A copy of ``g`` with ``value`` written at ``index``."""
    if isinstance(g, Tensor):
        v = value if isinstance(value, Tensor) else _wrap(
            array_module(g._data).asarray(value, dtype=g._data.dtype))
        return _put(g, index, v)
    out = array_module(g).array(g)  # (a 0-d gradient may arrive as a NumPy scalar)
    out[index] = value
    return out


# -- reductions and scans --------------------------------------------------------------------
def sum(x, dims: tuple, keepdim: bool = False):  # noqa: A001 - PyTorch's name
    """Sum over ``dims`` (a tuple; an empty one sums nothing)."""
    if not dims:
        return x
    if isinstance(x, Tensor):
        return x.sum(tuple(dims), keepdim)
    return x.sum(axis=tuple(dims), keepdims=keepdim)


def cumsum(x, dim: int):
    """Cumulative sum along ``dim``."""
    return _cumsum(x, dim) if isinstance(x, Tensor) else np.cumsum(x, axis=dim)


def cumprod(x, dim: int):
    """Cumulative product along ``dim``."""
    return _cumprod(x, dim) if isinstance(x, Tensor) else np.cumprod(x, axis=dim)


def rev_cumsum(x, dim: int):
    """Sum from each position to the end along ``dim``."""
    # NOTE: flip, cumsum, flip (PyTorch's reversed_cumsum), not total - cumsum + x, which is
    # NaN (inf - inf) wherever an infinity is summed
    if isinstance(x, Tensor):
        return flip(cumsum(flip(x, (dim,)), dim), (dim,))
    return np.flip(np.cumsum(np.flip(x, dim), axis=dim), dim)


# -- linear algebra --------------------------------------------------------------------------
def inv(a):
    """Matrix inverse."""
    return _inv(a) if isinstance(a, Tensor) else _lapack(np.linalg.inv, "linalg.inv", a)


def solve(a, b):
    """``a^{-1} b`` for matrix ``b``."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return _solve(a, b)
    return _lapack(np.linalg.solve, "linalg.solve", a, b)


def solve_triangular(a, b, upper: bool, left: bool, unit: bool):
    """``a^{-1} b`` (or ``b a^{-1}`` when not ``left``) for a triangular ``a``."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return _solve_triangular(a, b, upper=upper, left=left, unitriangular=unit)
    return _SolveTriangular.forward(_Tri(upper, left, unit), a, b)


def pinv(a):
    """Moore-Penrose pseudo-inverse."""
    return _pinv(a) if isinstance(a, Tensor) else _pinv_np(a, None, None, False)


def cross(a, b, dim: int):
    """Cross product along ``dim``."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return _cross(a, b, dim)
    return np.cross(a, b, axis=dim)
