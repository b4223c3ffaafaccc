"""Spatial rearrangements: pad (constant, reflect, replicate, circular), pixel_shuffle /
pixel_unshuffle, unfold / fold (im2col / col2im).

All are linear maps (``_linmap.py``) whose node's backward applies the adjoint map, itself a
node when recorded, so every derivative order works: the adjoint of a constant pad is a crop
(a constant pad by the negated amounts), of pixel_shuffle is pixel_unshuffle, of unfold is fold.
Interpolation lives in ``interpolate.py``.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import array_module
from ..tensor import Tensor
from . import _linmap as lm
from ._conv_kernels import Geom

__all__ = ["pad", "pixel_shuffle", "pixel_unshuffle", "unfold", "fold"]


def _why(msg: str, why: str) -> str:
    return f"{msg}\nWhy: {why}"


# -- nodes ----------------------------------------------------------------------------------------
class ConstantPadNd(lm.LinearOp):
    name_ = "ConstantPadNdBackward0"
    __slots__ = ()


def _pad_ops(mode: str, k: int):
    return _PAD_OPS[(mode, k)]


class ReflectionPad1D(lm.LinearOp):
    name_ = "ReflectionPad1DBackward0"
    keeps_input = True
    __slots__ = ()


class ReflectionPad1DBackward(lm.LinearOp):
    name_ = "ReflectionPad1DBackwardBackward0"
    keeps_input = True
    __slots__ = ()


class ReflectionPad2D(lm.LinearOp):
    name_ = "ReflectionPad2DBackward0"
    keeps_input = True
    __slots__ = ()


class ReflectionPad2DBackward(lm.LinearOp):
    name_ = "ReflectionPad2DBackwardBackward0"
    keeps_input = True
    __slots__ = ()


class ReflectionPad3D(lm.LinearOp):
    name_ = "ReflectionPad3DBackward0"
    keeps_input = True
    __slots__ = ()


class ReflectionPad3DBackward(lm.LinearOp):
    name_ = "ReflectionPad3DBackwardBackward0"
    keeps_input = True
    __slots__ = ()


class ReplicationPad1D(lm.LinearOp):
    name_ = "ReplicationPad1DBackward0"
    keeps_input = True
    __slots__ = ()


class ReplicationPad1DBackward(lm.LinearOp):
    name_ = "ReplicationPad1DBackwardBackward0"
    keeps_input = True
    __slots__ = ()


class ReplicationPad2D(lm.LinearOp):
    name_ = "ReplicationPad2DBackward0"
    keeps_input = True
    __slots__ = ()


class ReplicationPad2DBackward(lm.LinearOp):
    name_ = "ReplicationPad2DBackwardBackward0"
    keeps_input = True
    __slots__ = ()


class ReplicationPad3D(lm.LinearOp):
    name_ = "ReplicationPad3DBackward0"
    keeps_input = True
    __slots__ = ()


class ReplicationPad3DBackward(lm.LinearOp):
    name_ = "ReplicationPad3DBackwardBackward0"
    keeps_input = True
    __slots__ = ()


_PAD_OPS = {
    ("reflect", 1): (ReflectionPad1D, ReflectionPad1DBackward),
    ("reflect", 2): (ReflectionPad2D, ReflectionPad2DBackward),
    ("reflect", 3): (ReflectionPad3D, ReflectionPad3DBackward),
    ("replicate", 1): (ReplicationPad1D, ReplicationPad1DBackward),
    ("replicate", 2): (ReplicationPad2D, ReplicationPad2DBackward),
    ("replicate", 3): (ReplicationPad3D, ReplicationPad3DBackward),
}


class PixelShuffle(lm.LinearOp):
    name_ = "PixelShuffleBackward0"
    __slots__ = ()


class PixelUnshuffle(lm.LinearOp):
    name_ = "PixelUnshuffleBackward0"
    __slots__ = ()


class Im2Col(lm.LinearOp):
    name_ = "Im2ColBackward0"
    __slots__ = ()


class Col2Im(lm.LinearOp):
    name_ = "Col2ImBackward0"
    __slots__ = ()


# -- constant padding -----------------------------------------------------------------------------
class _ConstantPad(lm.LinearMap):
    """Pad (or, for negative amounts, crop) the last dims; ``pads`` per dim as (lo, hi)."""

    __slots__ = ("pads", "value", "in_shape")

    def __init__(self, pads: list, value, in_shape: tuple) -> None:
        self.pads, self.value, self.in_shape = pads, value, in_shape
        self.op = self.adj_op = ConstantPadNd

    def out_shape(self) -> tuple:
        k = len(self.pads)
        lead = self.in_shape[:len(self.in_shape) - k]
        return lead + tuple(n + lo + hi for n, (lo, hi) in zip(self.in_shape[-k:], self.pads))

    def _regions(self):
        k = len(self.pads)
        lead = (slice(None),) * (len(self.in_shape) - k)
        src, dst = list(lead), list(lead)
        for n, (lo, hi) in zip(self.in_shape[-k:] if k else (), self.pads):
            src.append(slice(max(-lo, 0), n - max(-hi, 0)))
            dst.append(slice(max(lo, 0), n + lo + hi - max(hi, 0)))
        return tuple(src), tuple(dst)

    def _apply(self, x):
        xp = array_module(x)
        out = xp.full(self.out_shape(), self.value, dtype=x.dtype)
        src, dst = self._regions()
        out[dst] = x[src]
        return out

    def _adjoint(self, g):
        return self.T._apply(g)

    @property
    def T(self) -> lm.LinearMap:  # noqa: N802
        return _ConstantPad([(-lo, -hi) for lo, hi in self.pads], 0, self.out_shape())


# -- pad ------------------------------------------------------------------------------------------
_PAD_COMBOS = (
    "Supported combinations for non-constant padding:\n"
    "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
)


def _pad_index(mode: str, n: int, lo: int, hi: int) -> np.ndarray:
    """Source position of each output position along one dim (negative amounts crop)."""
    src = np.arange(n + lo + hi) - lo
    if mode == "reflect":
        src = np.abs(src)
        return np.where(src > n - 1, 2 * (n - 1) - src, src)
    return np.clip(src, 0, n - 1)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pad the last ``len(pad) // 2`` dims; ``pad`` lists (left, right) from the last dim back.

    >>> import leafgrad
    >>> pad(leafgrad.tensor([[1.0, 2.0, 3.0]]), (1, 2), mode="reflect").tolist()
    [[2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]
    """
    x = input
    if not isinstance(x, Tensor):
        raise TypeError(f"pad(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}\nWhy: pad works on tensors.")
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, not "
                        f"{type(pad).__name__}\nWhy: pad lists (left, right) amounts per dim.")
    for i, v in enumerate(pad):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but "
                            f"found element of type {type(v).__name__} at pos {i}\nWhy: padding "
                            "amounts count elements, so they must be whole numbers.")
    pads = [int(v) for v in pad]
    if len(pads) % 2:
        raise RuntimeError(_why("Padding length must be divisible by 2",
                                "pad lists a (left, right) pair for each padded dim."))
    k = len(pads) // 2
    if k > x.ndim:
        raise RuntimeError(_why(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pads)} and input of dimension {x.ndim}",
            "pad lists a (left, right) pair per dim, starting from the last dim."))
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}\nWhy: mode may be "
                                  "'constant', 'reflect', 'replicate' or 'circular'.")
    # (lo, hi) per padded dim, in dim order (pad lists them from the last dim backwards)
    per_dim = [(pads[2 * i], pads[2 * i + 1]) for i in reversed(range(k))]
    shape = tuple(x.shape)
    if mode == "constant":
        v = 0 if value is None else value
        for i, (lo, hi) in enumerate(per_dim):
            n = shape[x.ndim - k + i]
            if n + min(lo, 0) + min(hi, 0) < 0:
                raise RuntimeError(_why(
                    "narrow(): length must be non-negative.",
                    f"the input size {n}, plus negative padding {lo} and {hi}, would leave a "
                    f"negative size (dim {x.ndim - k + i})."))
        return _ConstantPad(per_dim, v, shape).apply(x)
    if value is not None:
        raise RuntimeError(_why(f'Padding mode "{mode}" doesn\'t take in value argument',
                                "only constant padding fills with a value."))
    if not (k in (1, 2, 3) and x.ndim in (k + 1, k + 2)):
        raise NotImplementedError(
            f"Padding size {len(pads)} is not supported for {x.ndim}D input tensor.\n"
            + _PAD_COMBOS + "\nWhy: reflect, replicate and circular padding pad the last 1, 2 "
            "or 3 dims of (batch, channels, ...) or (channels, ...) input.")
    if mode == "circular":
        return _pad_circular(x, per_dim)
    batch = x.ndim - k
    if any(s == 0 for s in shape[1 if x.ndim == k + 2 else 0:]):
        raise RuntimeError(_why(
            f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and "
            f"other non-zero dimensions for input, but got: {list(shape)}",
            f"{mode} padding copies existing elements, so the padded dims cannot be empty."))
    axes = []
    for i, (lo, hi) in enumerate(per_dim):
        a = batch + i
        n = shape[a]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(_why(
                f"Argument #4: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({lo}, {hi}) at dimension {a} of input "
                f"{list(shape)}",
                "reflection mirrors the input without repeating its edge, so it can add at "
                "most size - 1 elements on each side."))
        if n + lo + hi <= 0:
            raise RuntimeError(_why(
                f"input (H: {n}) is too small. Calculated output H: {n + lo + hi}",
                "negative padding removed every element."))
        axes.append(lm.Axis(a, n, n + lo + hi, [(_pad_index(mode, n, lo, hi), None)]))
    op, adj = _pad_ops(mode, k)
    return lm.Separable(axes, op, adj).apply(x)


def _pad_circular(x: Tensor, per_dim: list) -> Tensor:
    """PyTorch's circular pad: copy the input into place, then wrap each dim with in-place copies
    (so the node is PyTorch's ``CopySlices``)."""
    k = len(per_dim)
    shape = tuple(x.shape)
    lead = x.ndim - k
    out_shape = list(shape)
    for i, (lo, hi) in enumerate(per_dim):
        n = shape[lead + i]
        if lo > n or hi > n:
            raise RuntimeError(_why("Padding value causes wrapping around more than once.",
                                    f"circular padding copies from the opposite side, so it can "
                                    f"add at most the dim's size ({n}) on each side."))
        out_shape[lead + i] = n + lo + hi
        if out_shape[lead + i] < 0:
            raise RuntimeError(_why("Negative padding value is resulting in an empty dimension",
                                    "negative padding removed more elements than the dim has."))
    out = x.new_empty(tuple(out_shape))
    src = [slice(None)] * x.ndim
    dst = [slice(None)] * x.ndim
    for i, (lo, hi) in enumerate(per_dim):
        a = lead + i
        dst[a] = slice(max(lo, 0), out_shape[a] - max(hi, 0))
        src[a] = slice(max(-lo, 0), shape[a] - max(-hi, 0))
    out[tuple(dst)].copy_(x[tuple(src)])
    # NOTE: the same order as PyTorch (last dim first; left then right), corners written twice
    for i in reversed(range(k)):
        a = lead + i
        lo, hi = per_dim[i]
        m = out_shape[a]
        if lo > 0:
            d = [slice(None)] * x.ndim
            s = [slice(None)] * x.ndim
            d[a] = slice(0, lo)
            s[a] = slice(m - lo - max(hi, 0), m - max(hi, 0))
            out[tuple(d)].copy_(out[tuple(s)])
        if hi > 0:
            d = [slice(None)] * x.ndim
            s = [slice(None)] * x.ndim
            d[a] = slice(m - hi, m)
            s[a] = slice(max(lo, 0), max(lo, 0) + hi)
            out[tuple(d)].copy_(out[tuple(s)])
    return out


# -- pixel shuffle --------------------------------------------------------------------------------
class _Shuffle(lm.LinearMap):
    """(*, C*r*r, H, W) <-> (*, C, H*r, W*r); ``up`` says which way ``_apply`` goes."""

    __slots__ = ("r", "up", "in_shape")

    def __init__(self, r: int, up: bool, in_shape: tuple) -> None:
        self.r, self.up, self.in_shape = r, up, in_shape
        self.op, self.adj_op = (PixelShuffle, PixelUnshuffle) if up else (
            PixelUnshuffle, PixelShuffle)

    def _go(self, x, up: bool, shape: tuple):
        r = self.r
        lead, (c, h, w) = shape[:-3], shape[-3:]
        n = len(lead)
        if up:
            y = x.reshape(lead + (c // (r * r), r, r, h, w))
            y = y.transpose(tuple(range(n)) + tuple(n + i for i in (0, 3, 1, 4, 2)))
            # always fresh memory (torch's result is no view; ascontiguousarray would return
            # x's memory when the transpose is trivial, e.g. h = w = 1)
            return y.copy().reshape(lead + (c // (r * r), h * r, w * r))
        y = x.reshape(lead + (c, h // r, r, w // r, r))
        y = y.transpose(tuple(range(n)) + tuple(n + i for i in (0, 2, 4, 1, 3)))
        return y.copy().reshape(lead + (c * r * r, h // r, w // r))

    def out_shape(self) -> tuple:
        lead, (c, h, w) = self.in_shape[:-3], self.in_shape[-3:]
        r = self.r
        if self.up:
            return lead + (c // (r * r), h * r, w * r)
        return lead + (c * r * r, h // r, w // r)

    def _apply(self, x):
        return self._go(x, self.up, self.in_shape)

    def _adjoint(self, g):
        return self._go(g, not self.up, self.out_shape())

    @property
    def T(self) -> lm.LinearMap:  # noqa: N802
        return _Shuffle(self.r, not self.up, self.out_shape())


def _check_factor(fname: str, name: str, x, r) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}\nWhy: {fname} rearranges a tensor's elements.")
    if not isinstance(r, int) or isinstance(r, bool):
        raise TypeError(f"{fname}(): argument '{name}' (position 2) must be int, not "
                        f"{type(r).__name__}\nWhy: {name} is a whole number of pixels.")
    if x.ndim < 3:
        raise RuntimeError(_why(
            f"{fname} expects input to have at least 3 dimensions, but got input with "
            f"{x.ndim} dimension(s)",
            f"{fname} rearranges the (channels, height, width) dims."))
    if r <= 0:
        raise RuntimeError(_why(f"{fname} expects a positive {name}, but got {r}",
                                f"{name} is how many times each spatial dim is scaled."))


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """Rearrange (*, C*r*r, H, W) into (*, C, H*r, W*r).

    >>> import leafgrad
    >>> pixel_shuffle(leafgrad.arange(4.0).reshape(4, 1, 1), 2).tolist()
    [[[0.0, 1.0], [2.0, 3.0]]]
    """
    _check_factor("pixel_shuffle", "upscale_factor", input, upscale_factor)
    c = input.shape[-3]
    r = upscale_factor
    if c % (r * r):
        raise RuntimeError(_why(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}",
            "each output channel is built from upscale_factor**2 input channels."))
    return _Shuffle(r, True, tuple(input.shape)).apply(input)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """Rearrange (*, C, H*r, W*r) into (*, C*r*r, H, W) (the inverse of pixel_shuffle).

    >>> import leafgrad
    >>> pixel_unshuffle(leafgrad.arange(4.0).reshape(1, 2, 2), 2).flatten().tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    _check_factor("pixel_unshuffle", "downscale_factor", input, downscale_factor)
    r = downscale_factor
    for name, dim in (("height", -2), ("width", -1)):
        if input.shape[dim] % r:
            raise RuntimeError(_why(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                f"input.size({dim})={input.shape[dim]} is not divisible by {r}",
                "each output pixel gathers an r x r block of input pixels."))
    return _Shuffle(r, False, tuple(input.shape)).apply(input)


# -- unfold / fold --------------------------------------------------------------------------------
class _Im2Col(lm.LinearMap):
    """Sliding blocks of (N, C, H, W) as columns (N, C*kh*kw, L); adjoint: sum them back."""

    __slots__ = ("geom", "n", "c")

    def __init__(self, geom: Geom, n: int, c: int) -> None:
        self.geom, self.n, self.c = geom, n, c
        self.op, self.adj_op = Im2Col, Col2Im

    def _apply(self, x):
        g = self.geom
        cols = g.im2col(g.padded(x))
        return cols.reshape(x.shape[0], -1, g.T)

    def _adjoint(self, g):
        geo = self.geom
        return geo.col2im(g.reshape(g.shape[0], self.c, math.prod(geo.K), geo.T), g.shape[0],
                          self.c)


def _pair(fname: str, name: str, v) -> tuple:
    if isinstance(v, int) and not isinstance(v, bool):
        return (v, v)
    if isinstance(v, (tuple, list)) and all(isinstance(k, int) for k in v):
        if len(v) == 1:
            return (v[0], v[0])
        if len(v) == 2:
            return tuple(v)
        raise RuntimeError(_why(f"It is expected {name} equals to 2, but got size {len(v)}",
                                f"{fname} works on 2-d images: one {name} per spatial dim."))
    raise TypeError(f"{fname}(): argument '{name}' must be tuple of ints, not "
                    f"{type(v).__name__}\nWhy: {name} counts elements along each spatial dim.")


def _block_args(fname: str, kernel_size, dilation, padding, stride) -> tuple:
    k = _pair(fname, "kernel_size", kernel_size)
    d = _pair(fname, "dilation", dilation)
    p = _pair(fname, "padding", padding)
    s = _pair(fname, "stride", stride)
    for name, v, ok, what in (("kernel size", k, min(k) > 0, "greater than zero"),
                              ("dilation", d, min(d) > 0, "greater than zero"),
                              ("padding", p, min(p) >= 0, "non-negative"),
                              ("stride", s, min(s) > 0, "greater than zero")):
        if not ok:
            short = {"kernel size": "kernel", "dilation": "dilation", "padding": "pad",
                     "stride": "stride"}[name]
            raise RuntimeError(_why(
                f"{name} should be {what}, but got {short}_height: {v[0]} {short}_width: {v[1]}",
                f"{name} counts elements along each spatial dim."))
    return k, d, p, s


def _blocks(S, k, d, p, s) -> tuple:
    return tuple((n + 2 * pp - dd * (kk - 1) - 1) // ss + 1
                 for n, kk, dd, pp, ss in zip(S, k, d, p, s))


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """Extract sliding blocks: (N, C, H, W) -> (N, C*kh*kw, L), L the number of blocks.

    >>> import leafgrad
    >>> unfold(leafgrad.arange(9.0).reshape(1, 1, 3, 3), 2).shape
    torch.Size([1, 4, 4])
    """
    x = input
    if not isinstance(x, Tensor):
        raise TypeError(f"unfold(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}\nWhy: unfold works on tensors.")
    if x.ndim not in (3, 4) or any(v == 0 for v in x.shape[1 if x.ndim == 4 else 0:]):
        raise RuntimeError(_why(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other "
            f"non-zero dimensions for input, but got: {list(x.shape)}",
            "unfold takes (batch, channels, height, width) or (channels, height, width)."))
    k, d, p, s = _block_args("unfold", kernel_size, dilation, padding, stride)
    S = tuple(x.shape[-2:])
    Q = _blocks(S, k, d, p, s)
    if min(Q) < 1:
        raise RuntimeError(_why(
            f"Given input with spatial size {S}, kernel_size={k}, dilation={d}, padding={p}, "
            f"calculated shape of the array of sliding blocks as {Q}, but its components must "
            "be at least one.",
            "the (dilated) kernel must fit in the padded input at least once."))
    unbatched = x.ndim == 3
    geom = Geom(S, Q, k, s, p, d, 1, wide=False)
    n, c = (1, x.shape[0]) if unbatched else (x.shape[0], x.shape[1])
    m = _Im2Col(geom, n, c)
    if unbatched:
        return lm.run(Im2Col, _Batched(m, tuple(x.shape)), x)
    return m.apply(x)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """Sum sliding blocks back into an image: (N, C*kh*kw, L) -> (N, C, *output_size).

    >>> import leafgrad
    >>> fold(leafgrad.ones(1, 4, 4), (3, 3), 2).tolist()
    [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]
    """
    x = input
    if not isinstance(x, Tensor):
        raise TypeError(f"fold(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}\nWhy: fold works on tensors.")
    if x.ndim not in (2, 3) or any(v == 0 for v in x.shape[1 if x.ndim == 3 else 0:]):
        raise RuntimeError(_why(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and "
            f"non-zero dimensions for input, but got: {list(x.shape)}",
            "fold takes (batch, channels * kernel positions, blocks) or its unbatched form."))
    S = _pair("fold", "output_size", output_size)
    k, d, p, s = _block_args("fold", kernel_size, dilation, padding, stride)
    kk = k[0] * k[1]
    ck = x.shape[-2]
    if ck % kk:
        raise RuntimeError(_why(
            "Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={ck} and kernel_size={k}.",
            "dim 1 holds channels * kernel positions."))
    Q = _blocks(S, k, d, p, s)
    if min(Q) < 1 or x.shape[-1] != Q[0] * Q[1]:
        raise RuntimeError(_why(
            f"Given output_size={S}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
            f"expected size of input's dimension 2 to match the calculated number of sliding "
            f"blocks {Q[0]} * {Q[1]} = {Q[0] * Q[1]}, but got input.size(2)={x.shape[-1]}.",
            "fold is the inverse arrangement of unfold: it needs one column per block."))
    unbatched = x.ndim == 2
    geom = Geom(S, Q, k, s, p, d, 1, wide=False)
    c = ck // kk
    m = _Im2Col(geom, 1 if unbatched else x.shape[0], c).T
    if unbatched:
        return lm.run(Col2Im, _Batched(m, tuple(x.shape)), x)
    return m.apply(x)


class _Batched(lm.LinearMap):
    """A map on unbatched input: add the batch dim, apply, drop it (PyTorch's unbatched
    unfold / fold are one node, not unsqueeze / squeeze around it)."""

    __slots__ = ("m", "in_shape")

    def __init__(self, m: lm.LinearMap, in_shape: tuple) -> None:
        self.m, self.in_shape = m, in_shape
        self.op, self.adj_op = m.op, m.adj_op

    def _apply(self, x):
        return self.m._apply(x[None])[0]

    def _adjoint(self, g):
        return self.m._adjoint(g[None])[0]
