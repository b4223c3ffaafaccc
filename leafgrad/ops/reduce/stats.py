"""Spread and size: var, std, var_mean, std_mean, vector_norm, norm, logsumexp."""

from __future__ import annotations

import builtins
import warnings

import numpy as np

from ..._warn import warn
from ...autograd.node import Op
from ...backend import as_array
from ...dtypes import as_dtype
from ...tensor import Tensor
from .. import dual
from .._apply import record_unary
from .extrema import _even_back
from .multi import _outs, record_multi
from .sums import _nelem, _new, _setup, mean


# -- var / std -------------------------------------------------------------------------------------
def _correction(unbiased, correction) -> float:
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


class Var(Op):
    name_ = "VarBackward0"
    formula = {"x": "expand_back(grad, in_shape, dims, keepdim) * ratio(2.0, n - correction) "
                    "* (x - x.mean(dims, True))"}
    __slots__ = ("dims", "keepdim", "in_shape", "correction", "n")

    def forward(self, x):
        with np.errstate(invalid="ignore", divide="ignore"):
            return as_array(x.var(axis=self.dims, keepdims=self.keepdim,
                                  ddof=self.correction))

    def _centered(self, x):
        if isinstance(x, Tensor):
            return x - mean(x, self.dims, True)
        return x - x.mean(axis=self.dims, keepdims=True)

    def backward(self, grad):
        (x,) = self.saved(grad)
        g = dual.expand_back(grad, self.in_shape, self.dims, self.keepdim)
        return g * _ratio(2.0, self.n - self.correction) * self._centered(x)


class Std(Var):
    name_ = "StdBackward0"
    formula = {"x": "expand_back(grad / out, in_shape, dims, keepdim) * "
                    "ratio(1.0, n - correction) * (x - x.mean(dims, True))"}
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return np.sqrt(Var.forward(self, x))

    def backward(self, grad):
        (x,) = self.saved(grad)
        out = self.result(grad)
        # NOTE: as PyTorch, std of one element (correction 1) is nan and so is its gradient
        g = dual.expand_back(_over_std(grad, out), self.in_shape, self.dims, self.keepdim)
        return g * _ratio(1.0, self.n - self.correction) * self._centered(x)


def _over_std(grad, out):
    """``grad / out``, 0 where the std is 0 (PyTorch's std_backward masks it: a constant input
    has a zero gradient, not nan)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return dual.where(dual.raw(out) == 0, 0, grad / out)


def _ratio(a: float, b: float) -> float:
    """``a / b`` with IEEE results for ``b <= 0`` (inf, as PyTorch's var of too few elements)."""
    with np.errstate(divide="ignore"):
        return float(np.float64(a) / np.float64(builtins.max(b, 0)))


class VarMean(Var):
    name_ = "VarMeanBackward0"
    formula = {"x": "expand_back(grad_var, in_shape, dims, keepdim) * "
                    "ratio(2.0, n - correction) * (x - x.mean(dims, True)) + "
                    "expand_back(grad_mean / n, in_shape, dims, keepdim)"}
    _nout = 2
    __slots__ = ("outs",)

    def forward(self, x):
        m = as_array(x.mean(axis=self.dims, keepdims=self.keepdim))
        if x.size and np.isinf(m).any():
            m = _welford_inf(x, m, self.dims, self.keepdim)
        return (Var.forward(self, x), m)

    def backward(self, gv, gm):
        r = None
        if gv is not None:
            r = self._first(gv)
        if gm is not None:
            b = dual.expand_back(gm / self.n, self.in_shape, self.dims, self.keepdim)
            r = b if r is None else r + b
        return r

    def _first(self, g):
        return Var.backward(self, g)


def _welford_inf(x, m, dims, keepdim: bool):
    """The mean PyTorch's var_mean/std_mean give where an element is infinite.

    NOTE: PyTorch computes them with Welford's running mean, element by element: once the
    running mean is +-inf, the next element turns it into NaN (x - inf, then inf - inf). So the
    mean stays infinite only when a single infinite element comes last in the reduction; a sum
    gives inf for any position.
    """
    axes = tuple(range(x.ndim)) if dims is None else tuple(dims)
    flat = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    flat = flat.reshape(flat.shape[:x.ndim - len(axes)] + (-1,))
    lone_last = (np.isinf(flat[..., -1])
                 & ((~np.isfinite(flat)).sum(axis=-1) == 1))
    if keepdim:
        lone_last = lone_last.reshape(m.shape)
    return np.where(np.isinf(m) & ~lone_last, np.nan, m).astype(m.dtype, copy=False)


class StdMean(VarMean):
    name_ = "StdMeanBackward0"
    saved_outputs = (0,)  # PyTorch saves the std (and self), not the mean
    saved_state = ("outs",)
    __slots__ = ()

    def forward(self, x):
        v, m = VarMean.forward(self, x)
        return np.sqrt(v), m

    def _first(self, g):
        (x,) = self.saved(g)
        out = _outs(self, g)[0]
        ge = dual.expand_back(_over_std(g, out), self.in_shape, self.dims, self.keepdim)
        return ge * _ratio(1.0, self.n - self.correction) * self._centered(x)


def _var_args(args: tuple, dim, unbiased, keepdim):
    """Accept var(x, dim, unbiased, keepdim), var(x, unbiased) and keywords, as PyTorch."""
    args = list(args)
    if args and isinstance(args[0], bool):
        unbiased = args.pop(0)
    elif args:
        dim = args.pop(0)
    if args:
        unbiased = args.pop(0)
    if args:
        keepdim = args.pop(0)
    return dim, unbiased, keepdim


def var(x: Tensor, *args, dim=None, unbiased=None, keepdim: bool = False, correction=None,
        _cls=None):
    """Variance over all dims or ``dim`` (``correction=1``: Bessel's, as PyTorch's default).

    >>> import leafgrad
    >>> var(leafgrad.tensor([1., 2., 3., 4.]))
    tensor(1.6667)
    """
    dim, unbiased, keepdim = _var_args(args, dim, unbiased, keepdim)
    cls = _cls or Var
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"{cls.__qualname__.lower()}(): input dtype should be either floating point or "
            f"complex dtypes. Got {x.dtype.name.capitalize()} instead.\nWhy: convert first "
            "(x.float())."
        )
    fn = _new(cls)
    d = _setup(fn, x, dim, keepdim, "var")
    fn.correction = _correction(unbiased, correction)
    fn.n = _nelem(d.shape, fn.dims)
    if fn.n - fn.correction > 0:
        out = fn.forward(d)
    else:
        out = _too_few(fn, d, _OP_NAMES[cls.__qualname__])
    if cls._nout == 2:
        return tuple(record_multi(fn, (x,), out))
    return record_unary(fn, x, out)


_OP_NAMES = {"Var": "var", "Std": "std", "VarMean": "var_mean", "StdMean": "std_mean"}


def _too_few(fn, d, op: str):
    """The forward with no more elements than the correction: PyTorch's warning (not NumPy's
    "Degrees of freedom <= 0" or "Mean of empty slice", which torch never prints), then the
    IEEE result (nan or inf)."""
    warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the "
         "reduction factor (input numel divided by output numel).")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn.forward(d)


def std(x: Tensor, *args, **kw) -> Tensor:
    """Standard deviation over all dims or ``dim`` (``correction=1`` by default).

    >>> import leafgrad
    >>> std(leafgrad.tensor([1., 2., 3., 4.]))
    tensor(1.2910)
    """
    return var(x, *args, _cls=Std, **kw)


def var_mean(x: Tensor, *args, **kw) -> tuple:
    """(variance, mean) in one pass.

    >>> import leafgrad
    >>> var_mean(leafgrad.tensor([1., 3.]))[1]
    tensor(2.)
    """
    return var(x, *args, _cls=VarMean, **kw)


def std_mean(x: Tensor, *args, **kw) -> tuple:
    """(standard deviation, mean) in one pass.

    >>> import leafgrad
    >>> std_mean(leafgrad.tensor([1., 3.]))[0]
    tensor(1.4142)
    """
    return var(x, *args, _cls=StdMean, **kw)


# -- vector norm -----------------------------------------------------------------------------------
class VectorNorm(Op):
    name_ = "LinalgVectorNormBackward0"
    formula = {"x": "norm_backward(grad, x, out, ord, dims, keepdim, in_shape)"}
    save_output = True
    __slots__ = ("dims", "keepdim", "in_shape", "ord")

    def forward(self, x):
        p, ax, kd = self.ord, self.dims, self.keepdim
        a = np.abs(x)
        if p == 2:
            return np.sqrt((a * a).sum(axis=ax, keepdims=kd))
        if p == np.inf:
            return a.max(axis=ax, keepdims=kd, initial=0) if a.size else np.zeros_like(
                a.sum(axis=ax, keepdims=kd))
        if p == -np.inf:
            return a.min(axis=ax, keepdims=kd)
        if p == 0:
            return (a != 0).sum(axis=ax, keepdims=kd).astype(x.dtype)
        if p == 1:
            return a.sum(axis=ax, keepdims=kd)
        with np.errstate(divide="ignore"):
            return (a ** p).sum(axis=ax, keepdims=kd) ** (1.0 / p)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return _norm_backward(grad, x, self.result(grad), self.ord, self.dims, self.keepdim,
                              self.in_shape)


def _norm_backward(grad, x, out, p, dims, kd, shape):
    """Gradient of a vector p-norm (dual)."""
    xr = dual.raw(x)
    sgn = dual.sign(x)
    if p == 0:
        return x * 0.0
    if p == 1:
        return dual.expand_back(grad, shape, dims, kd) * sgn
    if p in (np.inf, -np.inf):
        return _even_back(grad, x * sgn, out, dims, kd, shape) * sgn
    outk = dual.expand(dual.keep_dims(out, shape, dims, kd), shape)
    zero = dual.expand(dual.keep_dims(dual.raw(out), shape, dims, kd) == 0, shape)
    g = dual.expand_back(grad, shape, dims, kd)
    if isinstance(x, Tensor) or isinstance(grad, Tensor):
        return _norm_backward_graph(g, x, outk, zero, p)
    # NOTE: PyTorch's norm_backward: the gradient at a zero norm is 0, not nan
    safe = dual.where(zero, 1.0, outk)
    if p == 2:
        return dual.where(zero, 0.0, g * x / safe)
    absx = x * sgn
    if p < 1 and (xr == 0).any():
        absx = dual.where(xr == 0, 1.0, absx)
    return dual.where(zero, 0.0, g * sgn * absx ** (p - 1) / safe ** (p - 1))


def _norm_backward_graph(g, x, outk, zero, p):
    """The p-norm's gradient as a graph (create_graph), in PyTorch's norm_backward form: the
    zero-norm mask is applied to ``x / norm`` (or ``grad / norm^(p-1)``) after the division,
    so a double backward at a zero norm is NaN as in PyTorch (0 would be silently wrong:
    the Hessian of ‖x‖² at 0 is 2I)."""
    if p == 2:
        return g * dual.where(zero, 0.0, x / outk)
    sgn = dual.sign(x)
    absx = x * sgn
    if p < 1:
        scaled = dual.where(dual.raw(x) == 0, 0.0, sgn * absx ** (p - 1))
        return scaled * g * outk ** (1 - p)
    scaled = sgn * absx ** (p - 1) if p < 2 else x * absx ** (p - 2)
    return scaled * dual.where(zero, 0.0, g / outk ** (p - 1))


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The ``ord``-norm of ``x`` viewed as a vector (or of each slice over ``dim``).

    >>> import leafgrad
    >>> vector_norm(leafgrad.tensor([3., 4.]))
    tensor(5.)
    """
    if dtype is not None:
        x = x.to(as_dtype(dtype))
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{x.dtype.name.capitalize()}\nWhy: norms are real-valued; convert first (x.float()).")
    fn = _new(VectorNorm)
    d = _setup(fn, x, dim, keepdim, "linalg.vector_norm")
    fn.ord = float(ord)
    if fn.ord < 0 and d.size == 0:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor "
                           "because the operation does not have an identity")
    return record_unary(fn, x, as_array(fn.forward(d)))


def norm(x: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """``torch.norm``: the Frobenius / ``p``-norm over all dims or ``dim``.

    >>> import leafgrad
    >>> norm(leafgrad.tensor([3., 4.]))
    tensor(5.)
    """
    if p == "fro" or p is None:
        p = 2
    elif p == "nuc":
        from .. import linalg as _linalg

        return _linalg.matrix_norm(x, "nuc", dim if dim is not None else (-2, -1), keepdim)
    if isinstance(dim, int):
        dim = (dim,)
    return vector_norm(x, p, dim, keepdim, dtype=dtype)


# -- logsumexp -------------------------------------------------------------------------------------
class Logsumexp(Op):
    name_ = "LogsumexpBackward0"
    formula = {"x": "expand_back(grad, in_shape, dims, keepdim) * "
                    "(x - expand_back(out, in_shape, dims, keepdim)).exp()"}
    save_output = True
    __slots__ = ("dims", "keepdim", "in_shape")

    def forward(self, x):
        ax = self.dims
        if x.size == 0:
            return np.log(np.exp(x).sum(axis=ax, keepdims=self.keepdim))
        m = x.max(axis=ax, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # NOTE: -inf / inf slices as PyTorch (no nan)
        with np.errstate(divide="ignore"):
            s = np.log(np.exp(x - m).sum(axis=ax, keepdims=True)) + m
        return s if self.keepdim else s.reshape(
            tuple(n for k, n in enumerate(x.shape) if not (ax is None or k in ax)))

    def backward(self, grad):
        (x,) = self.saved(grad)
        out = self.result(grad)
        shape = self.in_shape
        return dual.expand_back(grad, shape, self.dims, self.keepdim) * dual.exp(
            x - dual.expand(dual.keep_dims(out, shape, self.dims, self.keepdim), shape))


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed stably.

    >>> import leafgrad
    >>> logsumexp(leafgrad.tensor([0., 0.]), 0)
    tensor(0.6931)
    """
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' must be tuple of ints, not NoneType\nWhy: "
                        "logsumexp needs the dims to reduce (all of them: tuple(range(x.dim())))")
    x = x if x._data.dtype.kind == "f" else x.to(_default_float())
    if isinstance(dim, (tuple, list)) and not dim and x._data.ndim and not keepdim:
        # NOTE: PyTorch refuses this (its max over no dims is over all of them, and the result
        # does not fit the output it allocated); leafgrad refuses it too rather than guess
        shape = [1] * x._data.ndim
        raise RuntimeError(f"output with shape [] doesn't match the broadcast shape {shape}\n"
                           "Why: logsumexp with dim=() reduces nothing in PyTorch's output but "
                           "all dims in its max; pass the dims to reduce, or keepdim=True.")
    fn = _new(Logsumexp)
    d = _setup(fn, x, dim, keepdim, "logsumexp")
    return record_unary(fn, x, as_array(fn.forward(d)))


def _default_float():
    from ...dtypes import get_default_dtype

    return get_default_dtype()
