"""Convolution: conv1d/2d/3d and conv_transpose1d/2d/3d, one ``ConvolutionBackward0`` node each.

The array work lives in ``_conv_kernels.py``. Backward is written on the three bilinear maps of
a convolution's geometry (``conv``, ``conv_t``, ``conv_w``): the derivative of each map is one of
the others, so a backward run on Tensors (``create_graph=True``) records the same kind of nodes
and derivatives of any order work.
"""

from __future__ import annotations

import functools
import warnings

from .._dims import not_a_tensor
from ..autograd.node import Op
from ..tensor import Tensor
from ._apply import record
from ._conv_kernels import Geom
from ._linmap import scalar_type_name
from .movement import squeeze, unsqueeze

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d"]

_new = object.__new__


# -- Tensor-or-array forms of the three maps (what backward formulas call) -----------------------
def _is_t(*xs) -> bool:
    return any(isinstance(x, Tensor) for x in xs)


def _run(cls, maps: _Maps, a, b):
    fn = _new(cls)
    fn.geom = maps
    return record(fn, (a, b, None), fn.forward(a._data, b._data, None))


class _Maps:
    """The geometry's three maps on Tensors (recorded, differentiable) or on raw arrays."""

    __slots__ = ("g",)

    def __init__(self, geom: Geom) -> None:
        self.g = geom

    def conv(self, x, w):
        """The convolution of ``x`` with ``w``."""
        return _run(ConvolutionGrad, self, x, w) if _is_t(x, w) else self.g.conv(x, w)

    def conv_transpose(self, y, w):
        """The transposed convolution of ``y`` with ``w`` (the adjoint of ``conv`` in ``x``)."""
        return (_run(ConvolutionTransposeGrad, self, y, w) if _is_t(y, w)
                else self.g.conv_t(y, w))

    def weight_grad(self, x, y):
        """Correlation of ``x``'s windows with ``y`` (the adjoint of ``conv`` in ``w``)."""
        if _is_t(x, y):
            fn = _new(ConvolutionWeightGrad)
            fn.geom = self
            return record(fn, (x, y), fn.forward(x._data, y._data))
        return self.g.conv_w(x, y)

    def bias_grad(self, grad):
        """The bias gradient: ``grad`` summed over samples and positions."""
        dims = self.g.bias_dims
        return grad.sum(dims) if isinstance(grad, Tensor) else grad.sum(axis=dims)


# -- nodes ----------------------------------------------------------------------------------------
class Convolution(Op):
    """conv1d/2d/3d: ``conv(input, weight) + bias``."""

    name_ = "ConvolutionBackward0"
    formula = {"input": "geom.conv_transpose(grad, weight)",
               "weight": "geom.weight_grad(input, grad)", "bias": "geom.bias_grad(grad)"}
    saved_for = ((0, 1, 2), (0, 1, 2), ())  # PyTorch saves input and weight, never the bias
    __slots__ = ("geom",)

    def forward(self, x, w, b):
        y = self.geom.g.conv(x, w)
        return _add_bias(y, b)

    def backward(self, grad):
        x, w, _ = self.saved(grad)
        need = self.needs_input_grad
        m = self.geom
        return (m.conv_transpose(grad, w) if need[0] else None,
                m.weight_grad(x, grad) if need[1] else None,
                m.bias_grad(grad) if need[2] else None)


class ConvolutionTranspose(Op):
    """conv_transpose1d/2d/3d: ``conv_transpose(input, weight) + bias``."""

    name_ = "ConvolutionBackward0"
    formula = {"input": "geom.conv(grad, weight)", "weight": "geom.weight_grad(grad, input)",
               "bias": "geom.bias_grad(grad)"}
    saved_for = ((0, 1, 2), (0, 1, 2), ())
    __slots__ = ("geom",)

    def forward(self, x, w, b):
        return _add_bias(self.geom.g.conv_t(x, w), b)

    def backward(self, grad):
        x, w, _ = self.saved(grad)
        need = self.needs_input_grad
        m = self.geom
        return (m.conv(grad, w) if need[0] else None,
                m.weight_grad(grad, x) if need[1] else None,
                m.bias_grad(grad) if need[2] else None)


class ConvolutionGrad(Convolution):
    """A convolution recorded by a backward run with ``create_graph`` (no bias)."""

    name_ = "ConvolutionBackwardBackward0"
    __slots__ = ()


class ConvolutionTransposeGrad(ConvolutionTranspose):
    """A transposed convolution recorded by a backward run with ``create_graph`` (no bias)."""

    name_ = "ConvolutionBackwardBackward0"
    __slots__ = ()


class ConvolutionWeightGrad(Op):
    """The weight gradient ``weight_grad(input, grad_output)``, recorded with ``create_graph``."""

    name_ = "ConvolutionBackwardBackward0"
    formula = {"input": "geom.conv_transpose(grad_output, grad)",
               "grad_output": "geom.conv(input, grad)"}
    __slots__ = ("geom",)

    def forward(self, x, y):
        return self.geom.g.conv_w(x, y)

    def backward(self, grad):
        x, y = self.saved(grad)
        need = self.needs_input_grad
        m = self.geom
        return (m.conv_transpose(y, grad) if need[0] else None,
                m.conv(x, grad) if need[1] else None)


def _add_bias(y, b):
    if b is not None:
        y += b.reshape((1, -1) + (1,) * (y.ndim - 2))
    return y


# geometry objects carry the maps; the ops store them as ``geom`` (their formulas call it).
# Cached: a training loop convolves the same geometry every step, and both are immutable.
@functools.lru_cache(maxsize=512)
def _geom(*args) -> _Maps:
    return _Maps(Geom(*args))


# -- argument checking ----------------------------------------------------------------------------
def _why(msg: str, why: str) -> str:
    return f"{msg}\nWhy: {why}"


def _check_tensor(fname: str, name: str, pos: int, v, optional: bool = False) -> None:
    if isinstance(v, Tensor) or (optional and v is None):
        return
    raise not_a_tensor(fname, name, pos, v, "the convolution works on tensors; wrap the data "
                       "with torch.tensor(...) first.")


def _tuple(fname: str, name: str, v, nd: int, minimum: int | None = None) -> tuple:
    """An int or a sequence of ``nd`` ints, as a tuple (PyTorch's messages for bad ones)."""
    if v.__class__ is int and (minimum is None or v >= minimum):
        return (v,) * nd
    vals = (v,) * nd if isinstance(v, int) and not isinstance(v, bool) else v
    if not isinstance(vals, (tuple, list)) or not all(
            isinstance(k, int) and not isinstance(k, bool) for k in vals):
        raise TypeError(_why(
            f"{fname}(): argument '{name}' must be tuple of ints, not {type(v).__name__}",
            f"{name} is a count of elements along each spatial dim: an int for all dims or one "
            f"int per dim."))
    vals = tuple(vals)
    if len(vals) == 1 and nd > 1:
        vals = vals * nd
    if len(vals) != nd:
        raise RuntimeError(_why(
            f"expected {name} to be a single integer value or a list of {nd} values to match the "
            f"convolution dimensions, but got {name}={list(vals)}",
            f"{fname} has {nd} spatial dim{'s' if nd > 1 else ''}, so {name} needs one value "
            f"per spatial dim (or a single value for all)."))
    if minimum is not None and any(k < minimum for k in vals):
        what = "negative" if minimum == 0 else "non-positive"
        raise RuntimeError(_why(f"{what} {name} is not supported",
                                f"{name} must be {'>= 0' if minimum == 0 else '>= 1'} in every "
                                f"dim; got {list(vals)}."))
    return vals


def _check_dtypes(x: Tensor, w: Tensor, b, transposed: bool) -> None:
    if x.dtype != w.dtype:
        raise RuntimeError(_why(
            f"Input type ({_tname(x)}) and weight type ({_tname(w)}) should be the same",
            "a convolution multiplies input and weight directly; cast one to the other's dtype "
            "(e.g. input.float() or weight.to(input.dtype))."))
    if b is not None and b.dtype != x.dtype:
        raise RuntimeError(_why(
            f"Input type ({_cname(x)}) and bias type ({_cname(b)}) should be the same",
            "the bias is added to the convolution's output, which has the input's dtype; cast "
            "it (bias.to(input.dtype))."))
    if x.dtype.is_complex or str(x.dtype) == "torch.bool":
        raise NotImplementedError(f'"slow_conv2d_cpu" not implemented for '
                                  f"'{scalar_type_name(x.dtype)}'\nWhy: a convolution "
                                  "multiplies and adds; convert the input to a number dtype.")


def _cname(t: Tensor) -> str:
    n = str(t.dtype)[6:]
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long",
            "int32": "int", "int16": "short", "int8": "signed char", "uint8": "unsigned char",
            "bfloat16": "c10::BFloat16"}.get(n, n)


def _tname(t: Tensor) -> str:
    from .. import dtypes

    return "torch." + {dtypes.float32: "FloatTensor", dtypes.float64: "DoubleTensor",
                       dtypes.float16: "HalfTensor", dtypes.int64: "LongTensor",
                       dtypes.int32: "IntTensor"}.get(t.dtype, str(t.dtype)[6:])


def _prepare(fname: str, nd: int, x, w, b, transposed: bool):
    """Type, rank and unbatched-input handling shared by every conv entry point."""
    _check_tensor(fname, "input", 1, x)
    _check_tensor(fname, "weight", 2, w)
    _check_tensor(fname, "bias", 3, b, optional=True)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(_why(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fname}, but got "
            f"input of size: {list(x.shape)}",
            f"{fname} takes (batch, channels, {_spatial_names(nd)}) or, for one sample, "
            f"(channels, {_spatial_names(nd)}); add the missing dims with unsqueeze, or use the "
            f"conv of the right dimensionality."))
    if w.ndim != nd + 2:
        chans = ("in_channels, out_channels/groups" if transposed else
                 "out_channels, in_channels/groups")
        raise RuntimeError(_why(
            f"expected stride to be a single integer value or a list of {w.ndim - 2} values to "
            f"match the convolution dimensions, but got stride={[1] * nd}",
            f"the weight of {fname} must have {nd + 2} dims ({chans}, "
            f"{_spatial_names(nd, 'k')}), but it has size {list(w.shape)}."))
    _check_dtypes(x, w, b, transposed)
    return x.ndim == nd + 1


def _spatial_names(nd: int, prefix: str = "") -> str:
    names = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}[nd]
    return ", ".join(prefix + n for n in names)


def _check_channels(x_shape, w_shape, groups: int, transposed: bool, b) -> int:
    """Check channels against the weight; returns the output channel count."""
    if w_shape[0] == 0:
        raise RuntimeError(_why(
            f"Given groups={groups}, expected weight to be at least 1 at dimension 0, but got "
            f"weight of size {list(w_shape)} instead",
            "a convolution with no filters has nothing to compute."))
    if w_shape[0] % groups:
        raise RuntimeError(_why(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size [{list(w_shape)}] instead",
            f"the filters are split evenly among the {groups} groups, so their count "
            f"({w_shape[0]}) must be a multiple of groups."))
    need = w_shape[0] if transposed else w_shape[1] * groups
    if x_shape[1] != need:
        lead = (f"Given transposed=1, weight of size {list(w_shape)}" if transposed else
                f"Given groups={groups}, weight of size {list(w_shape)}")
        fix = ("weight.shape[0] is the transposed convolution's input channel count" if
               transposed else f"weight.shape[1] * groups ({w_shape[1]} * {groups}) is the "
               f"convolution's input channel count")
        raise RuntimeError(_why(
            f"{lead}, expected input{list(x_shape)} to have {need} channels, but got "
            f"{x_shape[1]} channels instead",
            f"{fix}; dim 1 of the input (its channels) must match it. Check the layer's "
            f"in_channels, or that the input is (batch, channels, ...) and not channels-last."))
    out_c = w_shape[1] * groups if transposed else w_shape[0]
    if b is not None and (b.ndim != 1 or b.shape[0] != out_c):
        t = "transposed=1, " if transposed else ""
        raise RuntimeError(_why(
            f"Given {t}weight of size {list(w_shape)}, expected bias to be 1-dimensional with "
            f"{out_c} elements, but got bias of size {list(b.shape)} instead",
            "the bias holds one value per output channel."))
    return out_c


def _out_size(S, K, stride, padding, dilation) -> tuple:
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                 for s, k, st, p, d in zip(S, K, stride, padding, dilation))


def _same_padding(K, dilation):
    """PyTorch's 'same' padding: left = total // 2 per dim; the rest goes on the right."""
    left, extra = [], []
    for k, d in zip(K, dilation):
        total = d * (k - 1)
        left.append(total // 2)
        extra.append(total - 2 * (total // 2))
    return tuple(left), tuple(extra)


# -- entry points ---------------------------------------------------------------------------------
def _conv(fname: str, nd: int, x, w, b, stride, padding, dilation, groups) -> Tensor:
    unbatched = _prepare(fname, nd, x, w, b, transposed=False)
    stride = _tuple(fname, "stride", stride, nd, 1)
    dilation = _tuple(fname, "dilation", dilation, nd, 1)
    if not isinstance(groups, int) or isinstance(groups, bool):
        raise TypeError(f"{fname}(): argument 'groups' must be int, not {type(groups).__name__}"
                        "\nWhy: groups is how many parts the channels are split into.")
    if groups < 1:
        raise RuntimeError(_why("non-positive groups is not supported",
                                f"groups splits the channels into that many parts; got {groups}."))
    if unbatched:
        x = unsqueeze(x, 0)
    K = tuple(w.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(_why(
                    "padding='same' is not supported for strided convolutions",
                    "with stride > 1 no padding keeps the output the size of the input; pass "
                    "explicit padding instead."))
            padding, extra = _same_padding(K, dilation)
            if any(extra):
                warnings.warn(
                    "Using padding='same' with even kernel lengths and odd dilation may require "
                    "a zero-padded copy of the input be created", stacklevel=3)
                from .spatial import pad as _pad

                # NOTE: as PyTorch does, an odd total padding puts the extra element on the
                # right, padded explicitly (a ConstantPadNd node) before the convolution
                pads = []
                for e in reversed(extra):
                    pads += [0, e]
                x = _pad(x, tuple(pads))
        else:
            raise RuntimeError(_why(f"Invalid padding string: '{padding}'",
                                    "padding may be 'valid', 'same' or numbers."))
    else:
        padding = _tuple(fname, "padding", padding, nd, 0)
    _check_channels(tuple(x.shape), tuple(w.shape), groups, False, b)
    S = tuple(x.shape[2:])
    Sp = tuple(s + 2 * p for s, p in zip(S, padding))
    eff = tuple(d * (k - 1) + 1 for k, d in zip(K, dilation))
    if any(e > s for e, s in zip(eff, Sp)):
        raise RuntimeError(_why(
            f"Calculated padded input size per channel: ({' x '.join(map(str, Sp))}). Kernel "
            f"size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than actual "
            f"input size",
            "every output position needs a whole (dilated) kernel window inside the padded "
            "input; use a smaller kernel or dilation, more padding, or a bigger input."))
    Q = _out_size(S, K, stride, padding, dilation)
    maps = _geom(S, Q, K, stride, padding, dilation, groups)
    fn = _new(Convolution)
    fn.geom = maps
    # NOTE: the forward's columns are not kept for the weight gradient: rebuilding them in a
    # reused scratch array costs less than the page faults of a fresh one every step, and
    # halves the memory a conv layer holds between forward and backward
    out = record(fn, (x, w, b), fn.forward(x._data, w._data, None if b is None else b._data))
    return squeeze(out, 0) if unbatched else out


def _conv_transpose(fname: str, nd: int, x, w, b, stride, padding, output_padding, groups,
                    dilation) -> Tensor:
    unbatched = _prepare(fname, nd, x, w, b, transposed=True)
    if isinstance(padding, str):
        raise TypeError(_why(f"{fname}(): argument 'padding' must be tuple of ints, not str",
                             "a transposed convolution takes explicit padding only."))
    stride = _tuple(fname, "stride", stride, nd, 1)
    padding = _tuple(fname, "padding", padding, nd, 0)
    output_padding = _tuple(fname, "output_padding", output_padding, nd, 0)
    dilation = _tuple(fname, "dilation", dilation, nd, 1)
    if not isinstance(groups, int) or isinstance(groups, bool):
        raise TypeError(f"{fname}(): argument 'groups' must be int, not {type(groups).__name__}"
                        "\nWhy: groups is how many parts the channels are split into.")
    if groups < 1:
        raise RuntimeError(_why("non-positive groups is not supported",
                                f"groups splits the channels into that many parts; got {groups}."))
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        names = ("height", "width") if nd == 2 else ("depth", "height", "width")[3 - nd:]
        if nd == 1:
            names = ("width",)
        parts = [f"output_padding_{n}: {v}" for n, v in zip(names, output_padding)]
        parts += [f"stride_{n}: {v}" for n, v in zip(names, stride)]
        parts += [f"dilation_{n}: {v}" for n, v in zip(names, dilation)]
        raise RuntimeError(_why(
            "output padding must be smaller than either stride or dilation, but got "
            + " ".join(parts),
            "output_padding only picks among the output sizes that map back to the same input "
            "size, and there are max(stride, dilation) of them."))
    if unbatched:
        x = unsqueeze(x, 0)
    _check_channels(tuple(x.shape), tuple(w.shape), groups, True, b)
    K = tuple(w.shape[2:])
    Q = tuple(x.shape[2:])
    S = tuple((q - 1) * s - 2 * p + d * (k - 1) + op + 1 for q, s, p, d, k, op in zip(
        Q, stride, padding, dilation, K, output_padding))
    if any(s <= 0 for s in S):
        raise RuntimeError(_why(
            f"Given input size per channel: ({' x '.join(map(str, Q))}). Calculated output size "
            f"per channel: ({' x '.join(map(str, S))}). Output size is too small",
            "the padding removes more than the transposed convolution produces; use less "
            "padding."))
    maps = _geom(S, Q, K, stride, padding, dilation, groups)
    fn = _new(ConvolutionTranspose)
    fn.geom = maps
    out = record(fn, (x, w, b), fn.forward(x._data, w._data, None if b is None else b._data))
    return squeeze(out, 0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,  # noqa: A002
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution over (N, C, L) or (C, L) input, as ``torch.nn.functional.conv1d``.

    >>> import leafgrad
    >>> conv1d(leafgrad.ones(1, 1, 4), leafgrad.ones(1, 1, 2)).tolist()
    [[[2.0, 2.0, 2.0]]]
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,  # noqa: A002
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution over (N, C, H, W) or (C, H, W) input, as ``torch.nn.functional.conv2d``.

    >>> import leafgrad
    >>> conv2d(leafgrad.ones(1, 1, 3, 3), leafgrad.ones(2, 1, 2, 2), padding=1).shape
    torch.Size([1, 2, 4, 4])
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,  # noqa: A002
           dilation=1, groups: int = 1) -> Tensor:
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W) input.

    >>> import leafgrad
    >>> conv3d(leafgrad.ones(1, 1, 3, 3, 3), leafgrad.ones(1, 1, 2, 2, 2)).shape
    torch.Size([1, 1, 2, 2, 2])
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,  # noqa: A002
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution (the gradient of conv1d with respect to its input).

    >>> import leafgrad
    >>> conv_transpose1d(leafgrad.ones(1, 1, 3), leafgrad.ones(1, 1, 2)).tolist()
    [[[1.0, 2.0, 2.0, 1.0]]]
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,  # noqa: A002
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution (the gradient of conv2d with respect to its input).

    >>> import leafgrad
    >>> conv_transpose2d(leafgrad.ones(1, 1, 2, 2), leafgrad.ones(1, 3, 2, 2), stride=2).shape
    torch.Size([1, 3, 4, 4])
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,  # noqa: A002
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """3-D transposed convolution (the gradient of conv3d with respect to its input).

    >>> import leafgrad
    >>> conv_transpose3d(leafgrad.ones(1, 1, 2, 2, 2), leafgrad.ones(1, 1, 2, 2, 2)).shape
    torch.Size([1, 1, 3, 3, 3])
    """
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)

