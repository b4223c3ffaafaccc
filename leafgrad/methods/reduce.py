"""Reduction Tensor methods and free functions: sums, extremes, statistics, scans, quantiles."""

from __future__ import annotations

from .._dims import NO_DIM as _NO_DIM
from .._out import out_variant
from . import _keepdims

__all__ = [
    "all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "count_nonzero", "cummax",
    "cummin", "cumprod", "cumsum", "diff", "logcumsumexp", "logsumexp", "max", "mean", "median",
    "min", "mode", "nanmean", "nanmedian", "nanquantile", "nansum", "norm", "prod", "quantile",
    "std", "std_mean", "sum", "trapezoid", "trapz", "var", "var_mean",
]


def _link() -> None:
    """Import what this module needs from modules that import it (docs/design.md, "The import
    cycle"); run once by leafgrad.tensor when Tensor exists."""
    global Tensor, _ops, _softmax_ops
    from ..ops import reduce as _ops
    from ..ops import softmax as _softmax_ops  # the fused nodes nn.functional uses too
    from ..tensor import Tensor


class ReductionMethods:
    """Tensor methods for reductions (mixed into Tensor)."""

    __slots__ = ()

    # -- sums and means --------------------------------------------------------------------
    def sum(self, dim=_NO_DIM, keepdim: bool = False, *, dtype=None) -> Tensor:
        """Sum of all elements, or over ``dim`` (an int or a tuple of ints).

        >>> import leafgrad
        >>> leafgrad.tensor([[1, 2], [3, 4]]).sum(0)
        tensor([4, 6])
        """
        if dim is _NO_DIM:
            return _ops.sum(self, None, _no_keepdim(keepdim, "sum"), dtype)
        return _ops.sum(self, dim, keepdim, dtype, by_dim=True)

    def mean(self, dim=_NO_DIM, keepdim: bool = False, *, dtype=None) -> Tensor:
        """Mean of all elements, or over ``dim``."""
        if dim is _NO_DIM:
            return _ops.mean(self, None, _no_keepdim(keepdim, "mean"), dtype)
        return _ops.mean(self, dim, keepdim, dtype, by_dim=True)

    def nansum(self, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
        """Sum treating NaN as zero."""
        return _ops.nansum(self, dim, keepdim, dtype)

    def nanmean(self, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
        """Mean of the non-NaN elements."""
        return _ops.nanmean(self, dim, keepdim, dtype)

    def prod(self, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
        """Product of all elements, or over one ``dim``."""
        return _ops.prod(self, dim, keepdim, dtype)

    def softmax(self, dim: int, dtype=None) -> Tensor:
        """exp(x) / sum(exp(x)) along ``dim`` (``torch.nn.functional.softmax``).

        >>> import leafgrad
        >>> leafgrad.tensor([0.0, 0.0]).softmax(0)
        tensor([0.5000, 0.5000])
        """
        return _softmax_ops.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim: int, dtype=None) -> Tensor:
        """log(softmax(x)) along ``dim``, computed stably.

        >>> import leafgrad
        >>> leafgrad.tensor([0.0, 0.0]).log_softmax(0)
        tensor([-0.6931, -0.6931])
        """
        return _softmax_ops.log_softmax(self, dim, dtype=dtype)

    # -- extremes --------------------------------------------------------------------------
    def max(self, dim=None, keepdim: bool = False):
        """Largest element, (values, indices) along ``dim``, or ``maximum(self, other)``.

        >>> import leafgrad
        >>> leafgrad.tensor([[1., 5.], [3., 2.]]).max(1).indices
        tensor([1, 0])
        """
        if _is_tensor(dim):
            return _maximum(self, dim, "maximum")
        return _ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim: bool = False):
        """Smallest element, (values, indices) along ``dim``, or ``minimum(self, other)``."""
        if _is_tensor(dim):
            return _maximum(self, dim, "minimum")
        return _ops.min(self, dim, keepdim)

    def amax(self, dim=(), keepdim: bool = False) -> Tensor:
        """Maximum over ``dim`` (all by default); ties share the gradient."""
        return _ops.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim: bool = False) -> Tensor:
        """Minimum over ``dim`` (all by default); ties share the gradient."""
        return _ops.amin(self, dim, keepdim)

    def aminmax(self, *, dim=None, keepdim: bool = False):
        """(min, max) named tuple."""
        return _ops.aminmax(self, dim=dim, keepdim=keepdim)

    def argmax(self, dim=None, keepdim: bool = False) -> Tensor:
        """Index of the largest element."""
        return _ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim: bool = False) -> Tensor:
        """Index of the smallest element."""
        return _ops.argmin(self, dim, keepdim)

    # -- statistics ------------------------------------------------------------------------
    def var(self, *args, **kw) -> Tensor:
        """Variance (``correction=1`` by default; ``unbiased`` and ``correction`` accepted)."""
        return _ops.var(self, *args, **kw)

    def std(self, *args, **kw) -> Tensor:
        """Standard deviation (``correction=1`` by default)."""
        return _ops.std(self, *args, **kw)

    def norm(self, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
        """``p``-norm over all elements or ``dim``."""
        return _ops.norm(self, p, dim, keepdim, dtype)

    def logsumexp(self, dim, keepdim: bool = False) -> Tensor:
        """``log(sum(exp(self)))`` over ``dim``, stably."""
        return _ops.logsumexp(self, dim, keepdim)

    def median(self, dim=_NO_DIM, keepdim: bool = False):
        """Lower median, or (values, indices) along ``dim``."""
        return _ops.median(self, dim, keepdim)

    def nanmedian(self, dim=_NO_DIM, keepdim: bool = False):
        """Lower median ignoring NaN, or (values, indices) along ``dim``."""
        return _ops.nanmedian(self, dim, keepdim)

    def mode(self, dim: int = -1, keepdim: bool = False):
        """(values, indices) of the most frequent value along ``dim``."""
        return _ops.mode(self, dim, keepdim)

    def quantile(self, q, dim=None, keepdim: bool = False, *,
                 interpolation: str = "linear") -> Tensor:
        """The ``q``-th quantiles."""
        return _ops.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(self, q, dim=None, keepdim: bool = False, *,
                    interpolation: str = "linear") -> Tensor:
        """The ``q``-th quantiles, ignoring NaN."""
        return _ops.nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    # -- scans -----------------------------------------------------------------------------
    def cumsum(self, dim, *, dtype=None) -> Tensor:
        """Cumulative sum along ``dim``."""
        return _ops.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None) -> Tensor:
        """Cumulative product along ``dim``."""
        return _ops.cumprod(self, dim, dtype=dtype)

    def cumsum_(self, dim, *, dtype=None) -> Tensor:
        """In-place cumulative sum."""
        return self._inplace(self.cumsum, "cumsum_", dim, dtype=dtype)

    def cumprod_(self, dim, *, dtype=None) -> Tensor:
        """In-place cumulative product."""
        return self._inplace(self.cumprod, "cumprod_", dim, dtype=dtype)

    def cummax(self, dim):
        """(values, indices) of the running maximum along ``dim``."""
        return _ops.cummax(self, dim)

    def cummin(self, dim):
        """(values, indices) of the running minimum along ``dim``."""
        return _ops.cummin(self, dim)

    def logcumsumexp(self, dim) -> Tensor:
        """``log(cumsum(exp(self)))`` along ``dim``, stably."""
        return _ops.logcumsumexp(self, dim)

    def diff(self, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
        """n-th forward difference along ``dim``."""
        return _ops.diff(self, n, dim, prepend, append)

    # -- logical ---------------------------------------------------------------------------
    def all(self, dim=None, keepdim: bool = False) -> Tensor:
        """True where every element is non-zero."""
        return _ops.all(self, dim, keepdim)

    def any(self, dim=None, keepdim: bool = False) -> Tensor:
        """True where some element is non-zero."""
        return _ops.any(self, dim, keepdim)

    def count_nonzero(self, dim=None) -> Tensor:
        """Number of non-zero elements (int64)."""
        return _ops.count_nonzero(self, dim)


def _is_tensor(v) -> bool:
    return isinstance(v, Tensor)


def _maximum(a, b, name: str):
    import leafgrad

    f = getattr(leafgrad, name, None)
    if f is None:
        raise NotImplementedError(f"{name} (the binary form of max/min) is not available yet")
    return f(a, b)


# -- free functions (leafgrad.sum(x), ...) ---------------------------------------------------


@out_variant(rule="dtype", needs=('dim',))
def sum(input, dim=_NO_DIM, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001, A002
    """Sum over all elements or ``dim``."""
    return input.sum(dim, keepdim, dtype=dtype)


def _no_keepdim(keepdim, op: str) -> bool:
    """PyTorch's overload without dim takes no keepdim (sum(keepdim=True) is a TypeError)."""
    if keepdim:
        raise TypeError(f"{op}() received an invalid combination of arguments - got "
                        "(keepdim=bool, )\nWhy: keepdim goes with dim; pass dim=None to reduce "
                        "every dim and keep them.")
    return False


@out_variant(rule="dtype")
def mean(input, dim=_NO_DIM, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """Mean over all elements or ``dim``."""
    return input.mean(dim, keepdim, dtype=dtype)


@out_variant(error=NotImplementedError)  # NOTE: PyTorch's nansum out= kernel is float only
def nansum(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """Sum treating NaN as zero.

    >>> import leafgrad
    >>> leafgrad.nansum(leafgrad.tensor([1., float('nan')]))
    tensor(1.)
    """
    return input.nansum(dim, keepdim, dtype=dtype)


@out_variant(error=NotImplementedError)
def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """Mean of the non-NaN elements."""
    return input.nanmean(dim, keepdim, dtype=dtype)


@out_variant(rule="dtype", needs=('dim',))
def prod(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """Product of elements."""
    return input.prod(dim, keepdim, dtype=dtype)


@out_variant()
def max(input, dim=None, keepdim: bool = False):  # noqa: A001, A002
    """Largest element, (values, indices) along ``dim``, or the elementwise maximum."""
    return input.max(dim, keepdim)


@out_variant()
def min(input, dim=None, keepdim: bool = False):  # noqa: A001, A002
    """Smallest element, (values, indices) along ``dim``, or the elementwise minimum."""
    return input.min(dim, keepdim)


@out_variant(rule="exact")
def amax(input, dim=(), keepdim: bool = False) -> Tensor:  # noqa: A002
    """Maximum over ``dim``."""
    return input.amax(dim, keepdim)


@out_variant(rule="exact")
def amin(input, dim=(), keepdim: bool = False) -> Tensor:  # noqa: A002
    """Minimum over ``dim``."""
    return input.amin(dim, keepdim)


@out_variant(rule="exact")
def aminmax(input, *, dim=None, keepdim: bool = False):  # noqa: A002
    """(min, max) named tuple."""
    return input.aminmax(dim=dim, keepdim=keepdim)


@out_variant(rule="exact")
def argmax(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Index of the largest element."""
    return input.argmax(dim, keepdim)


@out_variant(rule="exact")
def argmin(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Index of the smallest element."""
    return input.argmin(dim, keepdim)


@out_variant()
def var(input, *args, **kw) -> Tensor:  # noqa: A002
    """Variance."""
    return input.var(*args, **kw)


@out_variant()
def std(input, *args, **kw) -> Tensor:  # noqa: A002
    """Standard deviation."""
    return input.std(*args, **kw)


def var_mean(input, *args, **kw) -> tuple:  # noqa: A002
    """(variance, mean)."""
    return _ops.var_mean(input, *args, **kw)


def std_mean(input, *args, **kw) -> tuple:  # noqa: A002
    """(standard deviation, mean)."""
    return _ops.std_mean(input, *args, **kw)


@out_variant(rule="exact")
def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A002
    """``p``-norm."""
    return input.norm(p, dim, keepdim, dtype)


@out_variant()
def logsumexp(input, dim, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``log(sum(exp(input)))`` over ``dim``."""
    return input.logsumexp(dim, keepdim)


@out_variant(rule="dtype")
def cumsum(input, dim, *, dtype=None) -> Tensor:  # noqa: A002
    """Cumulative sum."""
    return input.cumsum(dim, dtype=dtype)


@out_variant(rule="dtype")
def cumprod(input, dim, *, dtype=None) -> Tensor:  # noqa: A002
    """Cumulative product."""
    return input.cumprod(dim, dtype=dtype)


@out_variant(rule="exact")
def cummax(input, dim):  # noqa: A002
    """Running maximum and its indices."""
    return input.cummax(dim)


@out_variant(rule="exact")
def cummin(input, dim):  # noqa: A002
    """Running minimum and its indices."""
    return input.cummin(dim)


@out_variant(rule="exact")
def logcumsumexp(input, dim) -> Tensor:  # noqa: A002
    """``log(cumsum(exp(input)))``."""
    return input.logcumsumexp(dim)


@out_variant(rule="exact")
def all(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    """True where every element is non-zero."""
    return input.all(dim, keepdim)


@out_variant(rule="exact")
def any(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    """True where some element is non-zero."""
    return input.any(dim, keepdim)


@out_variant(rule="exact", needs=('dim',))
def median(input, dim=_NO_DIM, keepdim: bool = False):  # noqa: A002
    """Lower median, or (values, indices) along ``dim``."""
    return input.median(dim, keepdim)


@out_variant(rule="exact", needs=('dim',))
def nanmedian(input, dim=_NO_DIM, keepdim: bool = False):  # noqa: A002
    """Lower median ignoring NaN."""
    return input.nanmedian(dim, keepdim)


@out_variant(rule="exact")
def mode(input, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """Most frequent value along ``dim``."""
    return input.mode(dim, keepdim)


@out_variant(rule="exact")
def quantile(input, q, dim=None, keepdim: bool = False, *,  # noqa: A002
             interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles."""
    return input.quantile(q, dim, keepdim, interpolation=interpolation)


@out_variant(rule="exact")
def nanquantile(input, q, dim=None, keepdim: bool = False, *,  # noqa: A002
                interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles ignoring NaN."""
    return input.nanquantile(q, dim, keepdim, interpolation=interpolation)


def count_nonzero(input, dim=None) -> Tensor:  # noqa: A002
    """Number of non-zero elements."""
    return input.count_nonzero(dim)


@out_variant()
def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:  # noqa: A002
    """n-th forward difference."""
    return input.diff(n, dim, prepend, append)


def trapezoid(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Trapezoidal-rule integral along ``dim``.

    >>> import leafgrad
    >>> leafgrad.trapezoid(leafgrad.tensor([1., 2., 3.]))
    tensor(4.)
    """
    return _ops.trapezoid(y, x, dx=dx, dim=dim)


trapz = trapezoid


# every reduction also takes PyTorch's `keepdims` spelling
_keepdims.accept_keepdims_in(globals(), __all__, ReductionMethods)
