"""Pooling: max / avg / adaptive / power-average pools (1-3 d) and max unpooling.

Every pool is separable (``_linmap.py``): a 2-d window's maximum is the maximum over rows of the
maxima along each row, and its average is the sum along one axis, then the other, divided by
the window's count. So a pool runs as one cheap pass per axis over strided views, with no
window copies; the max pool's gradient is routed back axis by axis through the taps it chose.
The chosen tap per axis agrees with PyTorch's scan (first maximum in row-major order, or the
last NaN), so ``return_indices`` and the gradients match PyTorch's even with ties.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..backend import array_module
from ..tensor import Tensor, _wrap
from . import _linmap as lm
from .movement import squeeze, unsqueeze

__all__ = [
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d",
]

_NUM = {1: "one", 2: "two", 3: "three"}


def _why(msg: str, why: str) -> str:
    return f"{msg}\nWhy: {why}"


# -- nodes: one map class per PyTorch node name -------------------------------------------------
class MaxPool2D(lm.LinearOp):
    name_ = "MaxPool2DWithIndicesBackward0"
    keeps_input = True
    __slots__ = ()


class MaxPool2DBackward(lm.LinearOp):
    name_ = "MaxPool2DWithIndicesBackwardBackward0"
    keeps_input = True
    __slots__ = ()


class MaxPool3D(lm.LinearOp):
    name_ = "MaxPool3DWithIndicesBackward0"
    keeps_input = True
    __slots__ = ()


class MaxPool3DBackward(lm.LinearOp):
    name_ = "MaxPool3DWithIndicesBackwardBackward0"
    keeps_input = True
    __slots__ = ()


class AvgPool2D(lm.LinearOp):
    name_ = "AvgPool2DBackward0"
    keeps_input = True
    __slots__ = ()


class AvgPool2DBackward(lm.LinearOp):
    name_ = "AvgPool2DBackwardBackward0"
    keeps_input = True
    __slots__ = ()


class AvgPool3D(lm.LinearOp):
    name_ = "AvgPool3DBackward0"
    keeps_input = True
    __slots__ = ()


class AvgPool3DBackward(lm.LinearOp):
    name_ = "AvgPool3DBackwardBackward0"
    keeps_input = True
    __slots__ = ()


class AdaptiveAvgPool2D(lm.LinearOp):
    name_ = "AdaptiveAvgPool2DBackward0"
    keeps_input = True
    __slots__ = ()


class AdaptiveAvgPool2DBackward(lm.LinearOp):
    name_ = "AdaptiveAvgPool2DBackwardBackward0"
    keeps_input = True
    __slots__ = ()


class AdaptiveAvgPool3D(lm.LinearOp):
    name_ = "AdaptiveAvgPool3DBackward0"
    keeps_input = True
    __slots__ = ()


class AdaptiveAvgPool3DBackward(lm.LinearOp):
    name_ = "AdaptiveAvgPool3DBackwardBackward0"
    keeps_input = True
    __slots__ = ()


class AdaptiveMaxPool2D(lm.LinearOp):
    name_ = "AdaptiveMaxPool2DBackward0"
    keeps_input = True
    __slots__ = ()


class AdaptiveMaxPool2DBackward(lm.LinearOp):
    name_ = "AdaptiveMaxPool2DBackwardBackward0"
    keeps_input = True
    __slots__ = ()


class AdaptiveMaxPool3D(lm.LinearOp):
    name_ = "AdaptiveMaxPool3DBackward0"
    keeps_input = True
    __slots__ = ()


class AdaptiveMaxPool3DBackward(lm.LinearOp):
    name_ = "AdaptiveMaxPool3DBackwardBackward0"
    keeps_input = True
    __slots__ = ()


class MaxUnpool2D(lm.LinearOp):
    name_ = "MaxUnpool2DBackward0"
    __slots__ = ()


class MaxUnpool2DBackward(lm.LinearOp):
    name_ = "MaxUnpool2DBackwardBackward0"
    __slots__ = ()


class MaxUnpool3D(lm.LinearOp):
    name_ = "MaxUnpool3DBackward0"
    __slots__ = ()


class MaxUnpool3DBackward(lm.LinearOp):
    name_ = "MaxUnpool3DBackwardBackward0"
    __slots__ = ()


_OPS = {
    ("max", 2): (MaxPool2D, MaxPool2DBackward), ("max", 3): (MaxPool3D, MaxPool3DBackward),
    ("avg", 2): (AvgPool2D, AvgPool2DBackward), ("avg", 3): (AvgPool3D, AvgPool3DBackward),
    ("aavg", 2): (AdaptiveAvgPool2D, AdaptiveAvgPool2DBackward),
    ("aavg", 3): (AdaptiveAvgPool3D, AdaptiveAvgPool3DBackward),
    ("amax", 2): (AdaptiveMaxPool2D, AdaptiveMaxPool2DBackward),
    ("amax", 3): (AdaptiveMaxPool3D, AdaptiveMaxPool3DBackward),
    ("unpool", 2): (MaxUnpool2D, MaxUnpool2DBackward),
    ("unpool", 3): (MaxUnpool3D, MaxUnpool3DBackward),
}


# -- argument checking ----------------------------------------------------------------------------
def _check_input(fname: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}\nWhy: pooling works on tensors; wrap the data with "
                        "torch.tensor(...) first.")
    if x.dtype.is_complex or str(x.dtype) == "torch.bool":
        raise NotImplementedError(f'"{fname}" not implemented for '
                                  f"'{lm.scalar_type_name(x.dtype)}'\nWhy: pooling compares or "
                                  "adds values; convert the input to a number dtype.")


def _ints(fname: str, name: str, v, nd: int) -> tuple:
    """An int or ``nd`` ints (a 1-element sequence stands for all dims), as PyTorch takes them."""
    if isinstance(v, int) and not isinstance(v, bool):
        return (v,) * nd
    if isinstance(v, (tuple, list)) and all(isinstance(k, int) and not isinstance(k, bool)
                                            for k in v):
        if len(v) == 1:
            return tuple(v) * nd
        if len(v) == nd:
            return tuple(v)
        raise RuntimeError(_why(
            f"{fname}: {name} must either be a single int, or a tuple of {_NUM[nd]} ints",
            f"{fname} pools over {nd} spatial dim{'s' if nd > 1 else ''}; give one {name} for "
            f"all of them or one per dim (got {list(v)})."))
    raise TypeError(_why(f"{fname}(): argument '{name}' must be tuple of ints, not "
                         f"{type(v).__name__}",
                         f"{name} counts elements along each spatial dim."))


def _check_rank(fname: str, x: Tensor, nd: int) -> None:
    rest = x.shape[1:] if x.ndim == nd + 2 else x.shape
    if x.ndim not in (nd + 1, nd + 2) or any(v == 0 for v in rest):
        raise RuntimeError(_why(
            f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional 0 dim batch size "
            f"for input, but got:{list(x.shape)}",
            f"{fname} pools the last {nd} dim{'s' if nd > 1 else ''} of (batch, channels, ...) "
            "or (channels, ...) input, and only the batch dim may be empty."))


def _pool_len(n: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    """PyTorch's pooling output size (a ceil_mode window must start inside input or left pad)."""
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_geometry(fname: str, x: Tensor, nd: int, kernel_size, stride, padding, dilation,
                   ceil_mode: bool) -> tuple:
    k = _ints(fname, "kernel_size", kernel_size, nd)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else \
        _ints(fname, "stride", stride, nd)
    p = _ints(fname, "padding", padding, nd)
    d = _ints(fname, "dilation", dilation, nd)
    if any(v <= 0 for v in s) or any(v <= 0 for v in k):
        raise RuntimeError(_why("stride should not be zero" if any(v == 0 for v in s + k) else
                                f"stride and kernel_size must be positive, got {list(s)}, "
                                f"{list(k)}",
                                "each window moves on by stride elements and spans "
                                "kernel_size of them; both must be at least 1."))
    if any(v <= 0 for v in d):
        dims = " ".join(f"dilation{n}: {v}" for n, v in zip("DHW"[3 - nd:], d))
        raise RuntimeError(_why(f"dilation should be greater than zero, but got {dims}",
                                "dilation is the step between a window's elements."))
    if any(v < 0 for v in p):
        raise RuntimeError(_why(f"pad must be non-negative, but got pad: {min(p)}",
                                "padding adds that many elements on each side."))
    for kk, pp, dd in zip(k, p, d):
        if pp > ((kk - 1) * dd + 1) // 2:
            raise RuntimeError(_why(
                f"pad should be at most half of effective kernel size, but got pad={pp}, "
                f"kernel_size={kk} and dilation={dd}",
                "a window made only of padding would have nothing to pool."))
    if any(pp > kk // 2 for kk, pp in zip(k, p)):
        # NOTE: PyTorch's max pool also checks padding against the undilated kernel
        names = "TWH"[:nd] if nd == 3 else "WH"[:nd]
        got = ", ".join(f"pad{n} = {v}" for n, v in zip(names, reversed(p))) + ", " + ", ".join(
            f"k{n} = {v}" for n, v in zip(names, reversed(k)))
        raise RuntimeError(_why(
            f"pad should be smaller than or equal to half of kernel size, but got {got}",
            "PyTorch's max pool allows at most kernel_size // 2 padding per side, whatever "
            "the dilation."))
    S = tuple(x.shape[-nd:])
    Q = tuple(_pool_len(n, kk, ss, pp, dd, ceil_mode)
              for n, kk, ss, pp, dd in zip(S, k, s, p, d))
    if any(q <= 0 for q in Q):
        c = x.shape[-nd - 1]
        raise RuntimeError(_why(
            f"Given input size: ({c}x{'x'.join(map(str, S))}). Calculated output size: "
            f"({c}x{'x'.join(map(str, Q))}). Output size is too small",
            "the (dilated) window is bigger than the padded input; use a smaller kernel, "
            "more padding or a bigger input."))
    return k, s, p, d, S, Q


# -- max pooling ----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _max_axes(ndim: int, nd: int, k, s, p, d, S, Q) -> list:
    """One ``Axis`` per pooled dim, last dim first (the order the stages run); cached, as a
    training loop pools the same geometry every step."""
    axes = []
    for i in reversed(range(nd)):
        a = ndim - nd + i
        n, q = S[i], Q[i]
        j = np.arange(q)
        taps = [(j * s[i] + t * d[i], None) for t in range(k[i])]
        hi = max(0, (q - 1) * s[i] + (k[i] - 1) * d[i] + 1 - (n + p[i]))
        first = None
        if p[i]:
            first = np.maximum(0, -((j * s[i] - p[i]) // d[i]))  # ceil((p - j*s) / d)
        axes.append(lm.Axis(a, n, q, taps, lo=p[i], hi=hi, first=first))
    return axes


def _max_pool(kind: str, nd: int, x: Tensor, axes: list, return_indices: bool):
    xd = x._data
    y, idxs = xd, []
    with lm.quiet():
        for ax in axes:
            y, idx = lm.max_axis(y, ax)
            idxs.append(idx)
    op, adj = _OPS[(kind, nd)]
    m = lm.MaxSelect(axes, idxs, xd.shape, op, adj)
    out = lm.run(op, m, x, y)
    if return_indices:
        return out, _wrap(m.flat_indices())
    return out


def _max_pool_nd(fname: str, nd: int, x, kernel_size, stride, padding, dilation, ceil_mode,
                 return_indices):
    _check_input(fname, x)
    _check_rank(fname, x, nd)
    k, s, p, d, S, Q = _pool_geometry(fname, x, nd, kernel_size, stride, padding, dilation,
                                      ceil_mode)
    for i in range(nd):
        if p[i] and d[i] > 1:  # only then can a window skip every input element
            for j in range(Q[i]):
                if not any(0 <= j * s[i] - p[i] + t * d[i] < S[i] for t in range(k[i])):
                    raise RuntimeError(_why(
                        f"{fname}: window {j} along dim {x.ndim - nd + i} holds no input "
                        f"element (padding {p[i]} and dilation {d[i]} step over the whole "
                        f"input of size {S[i]})",
                        "such a window has no maximum; PyTorch returns -inf with an index "
                        "outside the input there, and its gradient lands on a wrong element, "
                        "so leafgrad refuses instead. Use less padding or dilation."))
    return _max_pool("max", nd, x, _max_axes(x.ndim, nd, k, s, p, d, S, Q), return_indices)


def _one_to_two(v, fill: int):
    """A 1-d pool argument as the 2-d pool's (fill for the added leading dim)."""
    if isinstance(v, (tuple, list)):
        return (fill,) + tuple(v)
    return (fill, v)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """1-d max pooling over (N, C, L) or (C, L) input (PyTorch's: a 2-d pool on L, squeezed).

    >>> import leafgrad
    >>> max_pool1d(leafgrad.tensor([[1.0, 3.0, 2.0, 0.0]]), 2).tolist()
    [[3.0, 2.0]]
    """
    _check_input("max_pool1d", input)
    if input.ndim not in (2, 3):
        raise RuntimeError(_why(
            "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
            f"for input, but got:{list(input.shape)}",
            "max_pool1d pools the last dim of (batch, channels, length) or (channels, length)."))
    k = _ints("max_pool1d", "kernel_size", kernel_size, 1)
    if k[0] <= 0:
        raise RuntimeError(_why(
            f"max_pool1d() kernel_size must be greater than zero, but got {k[0]}",
            "a window must hold at least one element."))
    st = k if stride is None or stride == () or stride == [] else _ints(
        "max_pool1d", "stride", stride, 1)
    r = _max_pool_nd("max_pool2d", 2, unsqueeze(input, -2), (1,) + k, (1,) + st,
                     _one_to_two(padding, 0), _one_to_two(dilation, 1), ceil_mode,
                     return_indices)
    if return_indices:
        return squeeze(r[0], -2), squeeze(r[1], -2)
    return squeeze(r, -2)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """2-d max pooling over (N, C, H, W) or (C, H, W) input; ``return_indices`` also gives the
    position of each maximum in its flattened H*W plane.

    >>> import leafgrad
    >>> max_pool2d(leafgrad.arange(16.0).reshape(1, 4, 4), 2).tolist()
    [[[5.0, 7.0], [13.0, 15.0]]]
    """
    return _max_pool_nd("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                        ceil_mode, return_indices)


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """3-d max pooling over (N, C, D, H, W) or (C, D, H, W) input.

    >>> import leafgrad
    >>> max_pool3d(leafgrad.arange(8.0).reshape(1, 2, 2, 2), 2).tolist()
    [[[[7.0]]]]
    """
    return _max_pool_nd("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                        ceil_mode, return_indices)


# -- average pooling ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _avg_axes(ndim: int, nd: int, k, s, p, S, Q, count_include_pad: bool, divisor_override):
    """The per-axis window sums and the divisor of an average pool (cached per geometry)."""
    axes, counts = [], []
    for i in reversed(range(nd)):
        n, q = S[i], Q[i]
        j = np.arange(q)
        start = j * s[i] - p[i]
        end = np.minimum(start + k[i], n + p[i])
        if count_include_pad:
            cnt = end - start
        else:
            cnt = np.minimum(end, n) - np.maximum(start, 0)
        counts.append((ndim - nd + i, cnt))
        hi = max(0, (q - 1) * s[i] + k[i] - (n + p[i]))
        axes.append(lm.Axis(ndim - nd + i, n, q, [(j * s[i] + t, None) for t in range(k[i])],
                            lo=p[i], hi=hi))
    if divisor_override is not None:
        div = np.asarray(divisor_override, dtype=np.int64)
    else:
        div = np.ones((1,) * ndim, dtype=np.int64)
        for a, cnt in counts:
            div = div * cnt.reshape((-1,) + (1,) * (ndim - a - 1))
    return axes, div


def _avg_pool_nd(fname: str, nd: int, x, kernel_size, stride, padding, ceil_mode,
                 count_include_pad, divisor_override):
    _check_input(fname, x)
    _check_rank(fname, x, nd)
    if nd == 3:
        k = _ints(fname, "kernel_size", kernel_size, nd)
        S = tuple(x.shape[-3:])
        if any(n < kk for n, kk in zip(S, k)):
            raise RuntimeError(_why(
                f"input image (T: {S[0]} H: {S[1]} W: {S[2]}) smaller than kernel size (kT: "
                f"{k[0]} kH: {k[1]} kW: {k[2]})",
                "PyTorch's avg_pool3d needs the unpadded input to hold a whole window."))
    k, s, p, d, S, Q = _pool_geometry(fname, x, nd, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(_why("divisor must be not zero",
                                "divisor_override replaces the window's count as the divisor."))
    axes, div = _avg_axes(x.ndim, nd, k, s, p, S, Q, bool(count_include_pad), divisor_override)
    op, adj = _OPS[("avg", nd)]
    return lm.Separable(axes, op, adj, div).apply(x)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """1-d average pooling over (N, C, L) or (C, L) input.

    >>> import leafgrad
    >>> avg_pool1d(leafgrad.tensor([[1.0, 3.0, 2.0, 0.0]]), 2).tolist()
    [[2.0, 1.0]]
    """
    _check_input("avg_pool1d", input)
    if input.ndim not in (2, 3):
        raise RuntimeError(_why(
            f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument "
            "#1 'self' (while checking arguments for avg_pool1d)",
            "avg_pool1d pools the last dim of (batch, channels, length) or (channels, length)."))
    k = _ints("avg_pool1d", "kernel_size", kernel_size, 1)
    st = k if stride is None or stride == () or stride == [] else _ints(
        "avg_pool1d", "stride", stride, 1)
    out = _avg_pool_nd("avg_pool2d", 2, unsqueeze(input, -2), (1,) + k, (1,) + st,
                       _one_to_two(padding, 0), ceil_mode, count_include_pad, None)
    return squeeze(out, -2)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """2-d average pooling over (N, C, H, W) or (C, H, W) input.

    >>> import leafgrad
    >>> avg_pool2d(leafgrad.arange(16.0).reshape(1, 4, 4), 2).tolist()
    [[[2.5, 4.5], [10.5, 12.5]]]
    """
    return _avg_pool_nd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """3-d average pooling over (N, C, D, H, W) or (C, D, H, W) input.

    >>> import leafgrad
    >>> avg_pool3d(leafgrad.arange(8.0).reshape(1, 2, 2, 2), 2).tolist()
    [[[[3.5]]]]
    """
    return _avg_pool_nd("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override)


# -- adaptive pooling -----------------------------------------------------------------------------
def _adaptive_size(fname: str, x: Tensor, nd: int, output_size) -> tuple:
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != nd:
            raise RuntimeError(_why(f"{fname}: output_size must be {nd}",
                                    f"{fname} needs one output size per pooled dim."))
        sizes = tuple(x.shape[x.ndim - nd + i] if v is None else v
                      for i, v in enumerate(output_size))
    else:
        sizes = (output_size,) * nd
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in sizes):
        raise TypeError(f"{fname}(): argument 'output_size' must be tuple of ints, not "
                        f"{type(output_size).__name__}\nWhy: output_size counts windows per "
                        "pooled dim (None keeps a dim's size).")
    if any(v < 0 for v in sizes):
        raise RuntimeError(_why(
            f"{fname}: elements of output_size must be greater than or equal to 0 but "
            f"received {{{', '.join(map(str, sizes))}}}",
            "output_size is the number of windows along each dim."))
    return sizes


def _adaptive_check(fname: str, x, nd: int) -> None:
    _check_input(fname, x)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(_why(
            f"{fname}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(x.shape)}",
            f"{fname} pools the last {nd} dims of (batch, channels, ...) or (channels, ...)."))
    for dim in range(x.ndim - nd - (1 if x.ndim == nd + 2 else 0), x.ndim):
        if x.shape[dim] == 0:
            raise RuntimeError(_why(
                f"{fname}(): Expected input to have non-zero size for non-batch dimensions, "
                f"but input has sizes {list(x.shape)} with dimension {dim} being empty",
                "an adaptive window needs at least one element."))


def _windows(n: int, q: int):
    """PyTorch's adaptive windows: [floor(j*n/q), ceil((j+1)*n/q))."""
    j = np.arange(q)
    return (j * n) // q, -((-(j + 1) * n) // q)


def _adaptive_avg_nd(fname: str, nd: int, x, output_size):
    _adaptive_check(fname, x, nd)
    Q = _adaptive_size(fname, x, nd, output_size)
    if all(q == 1 for q in Q):
        # NOTE: PyTorch computes a global average as a mean (its node is MeanBackward1)
        return x.mean(tuple(range(-nd, 0)), keepdim=True)
    axes, div = [], np.ones((1,) * x.ndim, dtype=np.int64)
    for i in reversed(range(nd)):
        a = x.ndim - nd + i
        n, q = x.shape[a], Q[i]
        start, end = _windows(n, q)
        kmax = int((end - start).max()) if q else 0
        # a short window's extra taps read the zero appended at position n
        taps = [(np.where(start + t < end, start + t, n), None) for t in range(kmax)]
        axes.append(lm.Axis(a, n, q, taps, hi=1))
        div = div * (end - start).reshape((-1,) + (1,) * (x.ndim - a - 1))
    op, adj = _OPS[("aavg", nd)]
    return lm.Separable(axes, op, adj, div).apply(x)


def _adaptive_max_nd(fname: str, nd: int, x, output_size, return_indices: bool):
    _adaptive_check(fname, x, nd)
    Q = _adaptive_size(fname, x, nd, output_size)
    axes = []
    for i in reversed(range(nd)):
        a = x.ndim - nd + i
        n, q = x.shape[a], Q[i]
        start, end = _windows(n, q)
        kmax = int((end - start).max()) if q else 1
        axes.append(lm.Axis(a, n, q, [(np.minimum(start + t, end - 1), None)
                                      for t in range(kmax)]))
    return _max_pool("amax", nd, x, axes, return_indices)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """1-d adaptive average pooling to ``output_size`` windows.

    >>> import leafgrad
    >>> adaptive_avg_pool1d(leafgrad.tensor([[1.0, 2.0, 3.0]]), 2).tolist()
    [[1.5, 2.5]]
    """
    _check_input("adaptive_avg_pool1d", input)
    if input.ndim not in (2, 3):
        raise RuntimeError(_why(
            f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument "
            "#1 'self' (while checking arguments for adaptive_avg_pool1d)",
            "adaptive_avg_pool1d pools the last dim of (batch, channels, length)."))
    size = _ints("adaptive_avg_pool1d", "output_size", output_size, 1)
    return squeeze(_adaptive_avg_nd("adaptive_avg_pool2d", 2, unsqueeze(input, -2),
                                    (1,) + size), -2)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """2-d adaptive average pooling to ``output_size`` (an int, or (H, W) where None keeps a dim).

    >>> import leafgrad
    >>> adaptive_avg_pool2d(leafgrad.arange(16.0).reshape(1, 4, 4), 2).tolist()
    [[[2.5, 4.5], [10.5, 12.5]]]
    """
    return _adaptive_avg_nd("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """3-d adaptive average pooling to ``output_size``.

    >>> import leafgrad
    >>> adaptive_avg_pool3d(leafgrad.arange(8.0).reshape(1, 2, 2, 2), (1, 1, 2)).tolist()
    [[[[3.0, 4.0]]]]
    """
    return _adaptive_avg_nd("adaptive_avg_pool3d", 3, input, output_size)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """1-d adaptive max pooling to ``output_size`` windows.

    >>> import leafgrad
    >>> adaptive_max_pool1d(leafgrad.tensor([[1.0, 3.0, 2.0]]), 2).tolist()
    [[3.0, 3.0]]
    """
    _check_input("adaptive_max_pool1d", input)
    if input.ndim not in (2, 3):
        raise RuntimeError(_why(
            f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument "
            "#1 'self' (while checking arguments for adaptive_max_pool1d)",
            "adaptive_max_pool1d pools the last dim of (batch, channels, length)."))
    size = _ints("adaptive_max_pool1d", "output_size", output_size, 1)
    r = _adaptive_max_nd("adaptive_max_pool2d", 2, unsqueeze(input, -2), (1,) + size,
                         return_indices)
    if return_indices:
        return squeeze(r[0], -2), squeeze(r[1], -2)
    return squeeze(r, -2)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """2-d adaptive max pooling to ``output_size``.

    >>> import leafgrad
    >>> adaptive_max_pool2d(leafgrad.arange(16.0).reshape(1, 4, 4), 1).tolist()
    [[[15.0]]]
    """
    return _adaptive_max_nd("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """3-d adaptive max pooling to ``output_size``.

    >>> import leafgrad
    >>> adaptive_max_pool3d(leafgrad.arange(8.0).reshape(1, 2, 2, 2), 1).tolist()
    [[[[7.0]]]]
    """
    return _adaptive_max_nd("adaptive_max_pool3d", 3, input, output_size, return_indices)


# -- power-average pooling (PyTorch composes it from avg_pool) ------------------------------------
def _lp_pool(nd: int, x, norm_type, kernel_size, stride, ceil_mode):
    fname = f"lp_pool{nd}d"
    _check_input(fname, x)
    k = _ints(fname, "kernel_size", kernel_size, nd)
    mx = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}[nd]
    if isinstance(norm_type, (int, float)) and math.isinf(norm_type):
        if norm_type > 0:
            return mx(x.abs(), kernel_size, stride, 0, 1, ceil_mode)
        return -mx(-x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    avg = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[nd]
    out = avg(x.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(math.prod(k)).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """1-d power-average pooling: ``(sum over the window of x**p) ** (1/p)``.

    >>> import leafgrad
    >>> lp_pool1d(leafgrad.tensor([[3.0, 4.0]]), 2, 2).tolist()
    [[5.0]]
    """
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """2-d power-average pooling.

    >>> import leafgrad
    >>> lp_pool2d(leafgrad.ones(1, 2, 2), 1, 2).tolist()
    [[[4.0]]]
    """
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """3-d power-average pooling.

    >>> import leafgrad
    >>> lp_pool3d(leafgrad.ones(1, 2, 2, 2), 1, 2).tolist()
    [[[[8.0]]]]
    """
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


# -- max unpooling --------------------------------------------------------------------------------
class _Unpool(lm.LinearMap):
    """Scatter each input value to its index in a zero (…, prod(out)) plane; adjoint: gather."""

    __slots__ = ("idx", "in_shape", "out_shape")

    def __init__(self, idx, in_shape: tuple, out_shape: tuple, op, adj_op) -> None:
        self.idx, self.in_shape, self.out_shape = idx, in_shape, out_shape
        self.op, self.adj_op = op, adj_op

    def _lead(self) -> tuple:
        return self.in_shape[:-len(self.out_shape)] if self.out_shape else self.in_shape

    def _where(self, xp):
        """Row and column of each input value in the (planes, plane size) output."""
        planes = math.prod(self._lead())
        idx = self.idx.reshape(planes, -1)
        return xp.arange(planes).reshape(-1, 1), idx

    def _apply(self, x):
        xp = array_module(x)
        lead = self._lead()
        rows, cols = self._where(xp)
        out = xp.zeros((rows.shape[0], math.prod(self.out_shape)), dtype=x.dtype)
        out[rows, cols] = x.reshape(rows.shape[0], -1)
        return out.reshape(lead + self.out_shape)

    def _adjoint(self, g):
        xp = array_module(g)
        rows, cols = self._where(xp)
        return g.reshape(rows.shape[0], -1)[rows, cols].reshape(self.in_shape)


def _max_unpool(nd: int, x, indices, kernel_size, stride, padding, output_size):
    fname = f"max_unpool{nd}d"
    _check_input(fname, x)
    if not isinstance(indices, Tensor):
        raise TypeError(f"{fname}(): argument 'indices' (position 2) must be Tensor, not "
                        f"{type(indices).__name__}\nWhy: pass the indices the max pool returned "
                        "with return_indices=True.")
    k = _ints(fname, "kernel_size", kernel_size, nd)
    s = k if stride is None else _ints(fname, "stride", stride, nd)
    p = _ints(fname, "padding", padding, nd)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(_why(
            f"{fname}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(x.shape)}",
            "unpooling undoes a pool of (batch, channels, ...) or (channels, ...) input."))
    default = [(x.shape[x.ndim - nd + i] - 1) * s[i] + k[i] - 2 * p[i] for i in range(nd)]
    if output_size is None:
        out = default
    else:
        out = list(output_size)
        if len(out) == nd + 2:
            out = out[2:]
        if len(out) != nd:
            raise ValueError(
                f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it "
                f"has a length of '{len(out)}'\nWhy: it is the size of the unpooled input, "
                "with or without its (batch, channels) dims.")
        for i in range(nd):
            lo, hi = default[i] - s[i], default[i] + s[i]
            if not lo < out[i] < hi:
                raise ValueError(
                    f'invalid output_size "{output_size}" (dim {i} must be between {lo} and '
                    f"{hi})\nWhy: unpooling inverts a pool with this kernel and stride, whose "
                    "input could only have had these sizes.")
    if str(indices.dtype) != "torch.int64":
        raise RuntimeError(_why(
            f"elements in indices should be type int64 but got: "
            f"{str(indices.dtype)[6:].capitalize().replace('32', '')}",
            "indices are the positions return_indices=True gave (int64)."))
    if tuple(indices.shape) != tuple(x.shape):
        raise RuntimeError(_why(
            f"Expected shape of indices to be same as that of the input tensor "
            f"({list(x.shape)}) but got indices tensor with shape: {list(indices.shape)}",
            "each input value needs its own index."))
    idx = indices._data
    plane = math.prod(out)
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= plane):
        bad = int(idx.max()) if int(idx.max()) >= plane else int(idx.min())
        raise RuntimeError(_why(
            f"Found an invalid max index: {bad} (output volumes are of size "
            f"{'x'.join(map(str, out))})",
            "an index points into the unpooled plane, so it must be below its size; pass the "
            "indices from the matching max pool, and its input size as output_size."))
    if nd == 1:
        # PyTorch's max_unpool1d is its 2-d unpool on a trailing dim of size 1
        r = _max_unpool(2, unsqueeze(x, -1), unsqueeze(indices, -1), (k[0], 1), (s[0], 1),
                        (p[0], 0), tuple(out) + (1,))
        return squeeze(r, -1)
    op, adj = _OPS[("unpool", nd)]
    return _Unpool(idx, tuple(x.shape), tuple(out), op, adj).apply(x)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None) -> Tensor:
    """Partial inverse of max_pool1d: each value back at its index, zeros elsewhere.

    >>> import leafgrad
    >>> y, i = max_pool1d(leafgrad.tensor([[1.0, 3.0, 2.0, 0.0]]), 2, return_indices=True)
    >>> max_unpool1d(y, i, 2).tolist()
    [[0.0, 3.0, 2.0, 0.0]]
    """
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None) -> Tensor:
    """Partial inverse of max_pool2d.

    >>> import leafgrad
    >>> y, i = max_pool2d(leafgrad.arange(4.0).reshape(1, 2, 2), 2, return_indices=True)
    >>> max_unpool2d(y, i, 2).tolist()
    [[[0.0, 0.0], [0.0, 3.0]]]
    """
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None) -> Tensor:
    """Partial inverse of max_pool3d.

    >>> import leafgrad
    >>> y, i = max_pool3d(leafgrad.arange(8.0).reshape(1, 2, 2, 2), 2, return_indices=True)
    >>> max_unpool3d(y, i, 2).shape
    torch.Size([1, 2, 2, 2])
    """
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)
