"""Interpolation: interpolate / upsample (nearest, nearest-exact, linear, bilinear, bicubic,
trilinear, area).

Every mode is separable: one 1-D map per spatial axis (``_linmap.Separable``), built with
PyTorch's index and weight arithmetic (the same float32 rounding for float32 input), so the
sampled positions and weights are PyTorch's. The backward is the adjoint map: each output's
gradient is spread back onto the input positions it read, with the same weights.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..tensor import Tensor
from . import _linmap as lm
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]


def _why(msg: str, why: str) -> str:
    return f"{msg}\nWhy: {why}"


class UpsampleNearest1D(lm.LinearOp):
    name_ = "UpsampleNearest1DBackward0"
    __slots__ = ()


class UpsampleNearest1DBackward(lm.LinearOp):
    name_ = "UpsampleNearest1DBackwardBackward0"
    __slots__ = ()


class UpsampleNearest2D(lm.LinearOp):
    name_ = "UpsampleNearest2DBackward0"
    __slots__ = ()


class UpsampleNearest2DBackward(lm.LinearOp):
    name_ = "UpsampleNearest2DBackwardBackward0"
    __slots__ = ()


class UpsampleNearest3D(lm.LinearOp):
    name_ = "UpsampleNearest3DBackward0"
    __slots__ = ()


class UpsampleNearest3DBackward(lm.LinearOp):
    name_ = "UpsampleNearest3DBackwardBackward0"
    __slots__ = ()


class UpsampleNearestExact1D(lm.LinearOp):
    name_ = "UpsampleNearestExact1DBackward0"
    __slots__ = ()


class UpsampleNearestExact1DBackward(lm.LinearOp):
    name_ = "UpsampleNearestExact1DBackwardBackward0"
    __slots__ = ()


class UpsampleNearestExact2D(lm.LinearOp):
    name_ = "UpsampleNearestExact2DBackward0"
    __slots__ = ()


class UpsampleNearestExact2DBackward(lm.LinearOp):
    name_ = "UpsampleNearestExact2DBackwardBackward0"
    __slots__ = ()


class UpsampleNearestExact3D(lm.LinearOp):
    name_ = "UpsampleNearestExact3DBackward0"
    __slots__ = ()


class UpsampleNearestExact3DBackward(lm.LinearOp):
    name_ = "UpsampleNearestExact3DBackwardBackward0"
    __slots__ = ()


class UpsampleLinear1D(lm.LinearOp):
    name_ = "UpsampleLinear1DBackward0"
    __slots__ = ()


class UpsampleLinear1DBackward(lm.LinearOp):
    name_ = "UpsampleLinear1DBackwardBackward0"
    __slots__ = ()


class UpsampleBilinear2D(lm.LinearOp):
    name_ = "UpsampleBilinear2DBackward0"
    __slots__ = ()


class UpsampleBilinear2DBackward(lm.LinearOp):
    name_ = "UpsampleBilinear2DBackwardBackward0"
    __slots__ = ()


class UpsampleBicubic2D(lm.LinearOp):
    name_ = "UpsampleBicubic2DBackward0"
    __slots__ = ()


class UpsampleBicubic2DBackward(lm.LinearOp):
    name_ = "UpsampleBicubic2DBackwardBackward0"
    __slots__ = ()


class UpsampleTrilinear3D(lm.LinearOp):
    name_ = "UpsampleTrilinear3DBackward0"
    __slots__ = ()


class UpsampleTrilinear3DBackward(lm.LinearOp):
    name_ = "UpsampleTrilinear3DBackwardBackward0"
    __slots__ = ()


_OPS = {
    ("nearest", 1): (UpsampleNearest1D, UpsampleNearest1DBackward),
    ("nearest", 2): (UpsampleNearest2D, UpsampleNearest2DBackward),
    ("nearest", 3): (UpsampleNearest3D, UpsampleNearest3DBackward),
    ("nearest-exact", 1): (UpsampleNearestExact1D, UpsampleNearestExact1DBackward),
    ("nearest-exact", 2): (UpsampleNearestExact2D, UpsampleNearestExact2DBackward),
    ("nearest-exact", 3): (UpsampleNearestExact3D, UpsampleNearestExact3DBackward),
    ("linear", 1): (UpsampleLinear1D, UpsampleLinear1DBackward),
    ("bilinear", 2): (UpsampleBilinear2D, UpsampleBilinear2DBackward),
    ("bicubic", 2): (UpsampleBicubic2D, UpsampleBicubic2DBackward),
    ("trilinear", 3): (UpsampleTrilinear3D, UpsampleTrilinear3DBackward),
}

_NEEDS = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


# -- PyTorch's index arithmetic (UpSample.h), per axis --------------------------------------------
def _scales_value(ft, scale, n: int, q: int):
    """``compute_scales_value``: 1/scale_factor when one was given, else n/q, in ``ft``."""
    if scale is not None and scale > 0:
        return ft(1.0 / scale)
    return ft(n) / ft(q)


def _nearest_index(n: int, q: int, scale, exact: bool, shortcuts: bool) -> np.ndarray:
    j = np.arange(q)
    if shortcuts:
        # NOTE: PyTorch's 2-d nearest kernel copies equal sizes and halves indices for exact
        # doubling even when a scale_factor says otherwise; its 1-d / 3-d kernels do not
        if q == n:
            return j
        if q == 2 * n:
            return j >> 1
    f = _scales_value(np.float32, scale, n, q)
    if exact:
        src = np.floor(((j + 0.5) * np.float64(f)).astype(np.float32))
    else:
        src = np.floor(j.astype(np.float32) * f)
    return np.minimum(src.astype(np.int64), n - 1)


def _linear_source(ft, n: int, q: int, align_corners: bool, scale, cubic: bool):
    """``area_pixel_compute_scale`` then ``area_pixel_compute_source_index`` for every output."""
    if align_corners:
        s = ft(n - 1) / ft(q - 1) if q > 1 else ft(0)
    else:
        s = _scales_value(ft, scale, n, q)
    j = np.arange(q).astype(ft)
    if align_corners:
        return s * j
    src = s * (j + ft(0.5)) - ft(0.5)
    return src if cubic else np.maximum(src, ft(0))


def _guard(ft, real, n: int):
    """``guard_index_and_lambda``: floor index (at most n - 1) and its weight in [0, 1]."""
    idx = np.minimum(np.floor(real).astype(np.int64), n - 1)
    lam = np.clip(real - idx.astype(ft), ft(0), ft(1)).astype(ft)
    return idx, lam


def _linear_taps(ft, n: int, q: int, align_corners: bool, scale) -> list:
    idx0, lam1 = _guard(ft, _linear_source(ft, n, q, align_corners, scale, False), n)
    idx1 = idx0 + (idx0 < n - 1)
    lam0 = (ft(1) - lam1).astype(ft)
    return [(idx0, lam0), (idx1, lam1)]


def _cubic_taps(ft, n: int, q: int, align_corners: bool, scale) -> list:
    idx, t = _guard(ft, _linear_source(ft, n, q, align_corners, scale, True), n)
    a = ft(-0.75)

    def conv1(x):  # |x| <= 1
        return ((a + ft(2)) * x - (a + ft(3))) * x * x + ft(1)

    def conv2(x):  # 1 < |x| < 2
        return ((a * x - ft(5) * a) * x + ft(8) * a) * x - ft(4) * a

    x2 = ft(1) - t
    ws = [conv2(t + ft(1)), conv1(t), conv1(x2), conv2(x2 + ft(1))]
    return [(np.clip(idx - 1 + k, 0, n - 1), ws[k].astype(ft)) for k in range(4)]


# -- entry points ---------------------------------------------------------------------------------
def _output_size(x: Tensor, dim: int, size, scale_factor, recompute_scale_factor):
    """PyTorch's size / scale_factor handling: (output sizes, scales passed to the kernel)."""
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined\nWhy: each fixes "
                         "the output size, so giving both could contradict.")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(x.shape[2:])} and output size of "
                    f"{size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format.\nWhy: size gives one output size per "
                    "spatial dim.")
            if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                       for v in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(v) for v in size]}"
                    "\nWhy: sizes count elements; use scale_factor for fractional scaling.")
            out = [int(v) for v in size]
        else:
            out = [int(size)] * dim
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.\n"
                             "Why: it recomputes a scale_factor from the output size, and with "
                             "size given there is no scale_factor.")
        return out, [None] * dim
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined\nWhy: one of them says "
                         "how big the output is.")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dim:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {list(x.shape[2:])} and scale_factor of "
                f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                "format and scale_factor in (s1, s2, ...,sK) format.\nWhy: scale_factor gives "
                "one factor per spatial dim.")
        scales = [float(s) for s in scale_factor]
    else:
        scales = [float(scale_factor)] * dim
    out = [math.floor(x.shape[2 + i] * scales[i]) for i in range(dim)]
    if recompute_scale_factor:
        return out, [None] * dim
    return out, scales


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",  # noqa: A002
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resample (N, C, *spatial) input to ``size`` or by ``scale_factor``, as PyTorch does.

    >>> import leafgrad
    >>> interpolate(leafgrad.tensor([[[1.0, 2.0]]]), scale_factor=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    """
    x = input
    if not isinstance(x, Tensor):
        raise TypeError(f"interpolate(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}\nWhy: interpolate resamples a tensor.")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear\nWhy: nearest and "
                             "area modes copy or average pixels, they have no corners to align.")
    elif align_corners is None:
        align_corners = False
    dim = x.ndim - 2
    # NOTE: PyTorch checks size / scale_factor against the spatial dims (its ValueErrors) before
    # the input's dimensionality (its NotImplementedError)
    out, scales = _output_size(x, dim, size, scale_factor, recompute_scale_factor)
    modes = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
    if x.ndim not in (3, 4, 5) or mode not in modes:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
            "modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
            f"nearest-exact (got {mode})\nWhy: interpolate takes (N, C, L), (N, C, H, W) or "
            "(N, C, D, H, W) input and one of those modes (lanczos is not in leafgrad).")
    if antialias:
        raise NotImplementedError(_why(
            "interpolate(antialias=True) is not supported by leafgrad",
            "the antialiased kernels (a widened filter when downsampling) are not implemented; "
            "without antialias the result would differ from PyTorch's, so leafgrad refuses "
            "rather than answer differently."))
    if mode == "area":
        pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[dim - 1]
        return pool(x, out if dim > 1 else out[0])
    if mode == "bicubic" and x.ndim != 4:
        raise NotImplementedError(_why(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
            "modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
            "nearest-exact (got bicubic)",
            "bicubic interpolation is for (N, C, H, W) input."))
    if mode in _NEEDS and _NEEDS[mode] != x.ndim:
        raise NotImplementedError(_why(
            f"Got {x.ndim}D input, but {mode} mode needs {_NEEDS[mode]}D input",
            "linear is for (N, C, L), bilinear and bicubic for (N, C, H, W), trilinear for "
            "(N, C, D, H, W)."))
    S = tuple(x.shape[2:])
    if min(S) <= 0 or min(out) <= 0:
        names = "DHW"[3 - dim:]
        ins = ", ".join(f"{n}: {v}" for n, v in zip(names, S))
        outs = ", ".join(f"{n}: {v}" for n, v in zip(names, out))
        raise RuntimeError(_why(
            f"Input and output sizes should be greater than 0, but got input ({ins}) output "
            f"({outs})",
            "every output position samples the input, so neither may be empty; check size / "
            "scale_factor."))
    if x.dtype.is_complex or not x.dtype.is_floating_point:
        kernel = {"nearest": "upsample_nearest", "nearest-exact": "_upsample_nearest_exact",
                  "linear": "upsample_linear", "bilinear": "upsample_bilinear",
                  "bicubic": "upsample_bicubic", "trilinear": "upsample_trilinear"}[mode]
        raise NotImplementedError(_why(
            f'"{kernel}{dim}d" not implemented for \'{lm.scalar_type_name(x.dtype)}\'',
            "interpolation weighs neighbouring values; convert the input to a floating dtype "
            "first (x.float())."))
    ft = np.float64 if str(x.dtype) == "torch.float64" else np.float32
    axes = []
    for i in reversed(range(dim)):
        a, n, q, s = 2 + i, S[i], out[i], scales[i]
        if mode in ("nearest", "nearest-exact"):
            taps = [(_nearest_index(n, q, s, mode == "nearest-exact",
                                    mode == "nearest" and dim == 2), None)]
        elif mode != "bicubic" and q == n:
            # NOTE: PyTorch's linear kernels keep an axis whose size does not change, whatever
            # the scale_factor (its bicubic kernel does not), but still as two taps: the
            # element with weight 1 plus itself with weight 0, so inf/NaN give NaN there
            j = np.arange(q)
            taps = [(j, np.ones(q, ft)), (j, np.zeros(q, ft))]
        elif mode == "bicubic":
            taps = _cubic_taps(ft, n, q, align_corners, s)
        else:
            taps = _linear_taps(ft, n, q, align_corners, s)
        axes.append(lm.Axis(a, n, q, taps))
    op, adj = _OPS[(mode, dim)]
    return lm.Separable(axes, op, adj).apply(x)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",  # noqa: A002
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of ``interpolate`` (warns, as PyTorch does).

    >>> import leafgrad, warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     upsample(leafgrad.ones(1, 1, 1), scale_factor=2).shape
    torch.Size([1, 1, 2])
    """
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:  # noqa: A002
    """Deprecated: ``interpolate(..., mode='nearest')``.

    >>> import leafgrad, warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     upsample_nearest(leafgrad.ones(1, 1, 1, 1), scale_factor=2).shape
    torch.Size([1, 1, 2, 2])
    """
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:  # noqa: A002
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``.

    >>> import leafgrad, warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     upsample_bilinear(leafgrad.ones(1, 1, 2, 2), scale_factor=2).shape
    torch.Size([1, 1, 4, 4])
    """
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
