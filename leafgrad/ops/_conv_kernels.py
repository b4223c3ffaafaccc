"""Array kernels of convolution: im2col through strided windows, GEMM, col2im by slice-adds.

Everything here runs on raw arrays (NumPy or CuPy, through ``array_module``); the ops in
``conv.py``, ``pooling.py`` and ``spatial.py`` wrap these kernels as graph nodes.

A convolution's geometry (``Geom``) fixes the conv input's spatial size ``S``, its output's ``Q``,
the kernel ``K``, stride, padding, dilation and groups. Three bilinear maps share it:

- ``conv(x, w)``: (N, C, *S) x (O, C/g, *K) -> (N, O, *Q), the convolution itself;
- ``conv_t(y, w)``: (N, O, *Q) -> (N, C, *S), its adjoint in ``x`` (the transposed convolution);
- ``conv_w(x, y)``: -> (O, C/g, *K), its adjoint in ``w`` (the weight gradient).

How they run fast in NumPy on one thread:

- the input is zero-padded once; a strided window view of it (no copy) is copied once into
  columns (N, groups, C/g * prod(K), positions), and one batched GEMM with the weight gives
  the output;
- with stride 1 the positions run over a "wide" grid: every column of each padded input row
  (a few windows straddle a row's end; their outputs are dropped). A kernel offset is then a
  single flat shift, so the window copy and the col2im adds run over long contiguous rows
  rather than rows as short as the output width (5x fewer inner loops for a 5x5 kernel on
  12x12 maps);
- the weight gradient reuses the forward's columns; the input gradient is the GEMM
  ``w^T @ y`` followed by one strided slice-add per kernel offset (no ``add.at`` scatter).
"""

from __future__ import annotations

import itertools
import math
import threading

import numpy as np

from ..backend import array_module

# Largest column buffer built in one piece (elements); bigger batches are done in chunks of
# samples so that memory stays bounded (columns are prod(K) times the input's size).
COLS_LIMIT = 1 << 24
# Below this many output positions per sample the weight gradient is one GEMM over all samples
# (measured: LeNet's second conv, 92 positions, 394 -> 244 us; its first, 668, is faster batched)
SMALL_T = 256
# Largest (chunk, groups, O/g, C/g*prod(K)) intermediate of the batched weight-gradient GEMM.
WGRAD_LIMIT = 1 << 22


def _strided(xp, a, shape: tuple, strides: tuple):
    """A strided view of ``a`` (no copy)."""
    if xp is np and a.flags.c_contiguous:
        # NOTE: the ndarray constructor on a contiguous base is ~20x cheaper than as_strided
        return np.ndarray(shape, a.dtype, buffer=a, strides=strides)
    return xp.lib.stride_tricks.as_strided(a, shape=shape, strides=strides)


class Geom:
    """The geometry of one convolution (see the module docstring); sizes are tuples per dim."""

    __slots__ = ("S", "Q", "K", "stride", "padding", "dilation", "groups", "Sp", "wide", "T",
                 "flat", "bias_dims")

    def __init__(self, S, Q, K, stride, padding, dilation, groups: int,
                 wide: bool = True) -> None:
        self.S, self.Q, self.K = tuple(S), tuple(Q), tuple(K)
        self.stride, self.padding, self.dilation = tuple(stride), tuple(padding), tuple(dilation)
        self.groups = groups
        self.Sp = tuple(s + 2 * p for s, p in zip(S, padding))
        # flat (element) strides of the padded spatial dims
        flat, acc = [], 1
        for s in reversed(self.Sp):
            flat.append(acc)
            acc *= s
        self.flat = tuple(reversed(flat))
        # NOTE: the wide grid needs stride 1 everywhere; with one spatial dim it is the plain grid
        self.wide = (wide and len(S) > 1 and all(s == 1 for s in stride)
                     and min(self.Q, default=0) > 0)
        self.T = (sum((q - 1) * f for q, f in zip(self.Q, self.flat)) + 1 if self.wide
                  else math.prod(self.Q))
        self.bias_dims = (0,) + tuple(range(2, 2 + len(S)))

    def plain(self, *arrays) -> Geom:
        """This geometry on the plain grid when an array holds inf/NaN, else itself.

        The wide grid's extra windows hold zeros; in ``conv_t`` and ``conv_w`` they meet the
        other operand, and ``0 * inf`` would put NaN into real positions (torch never forms
        those products). ``conv`` drops the extra windows, so it keeps the wide grid.
        """
        if not self.wide or all(bool(array_module(a).isfinite(a).all()) for a in arrays):
            return self
        return Geom(self.S, self.Q, self.K, self.stride, self.padding, self.dilation,
                    self.groups, wide=False)

    def __repr__(self) -> str:
        return (f"Geom(S={self.S}, Q={self.Q}, K={self.K}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, groups={self.groups})")

    # -- layout helpers --------------------------------------------------------------------------
    def padded(self, x):
        """``x`` zero-padded (C-contiguous when the wide grid needs flat offsets); a scratch
        array, valid until the next kernel call."""
        xp = array_module(x)
        if not any(self.padding):
            return xp.ascontiguousarray(x) if self.wide else x
        # keyed by the geometry too: the border is zeroed once and never written
        buf = workspace(xp, ("pad", self.S, self.padding), x.shape[:2] + self.Sp, x.dtype)
        buf[self._interior()] = x
        return buf

    def _interior(self) -> tuple:
        return (slice(None), slice(None)) + tuple(
            slice(p, p + s) for p, s in zip(self.padding, self.S))

    def positions(self, a) -> tuple:
        """Shape and byte strides of the output positions over padded array ``a``."""
        st = a.strides[2:]
        if self.wide:
            return (self.T,), (st[-1],)
        return self.Q, tuple(s * b for s, b in zip(self.stride, st))

    def windows(self, xpad):
        """The strided window view (N, groups, C/g, *K, *positions) of ``xpad`` (no copy)."""
        xp = array_module(xpad)
        n, c = xpad.shape[:2]
        g = self.groups
        st = xpad.strides
        pshape, pst = self.positions(xpad)
        kst = tuple(d * s for d, s in zip(self.dilation, st[2:]))
        return _strided(xp, xpad, (n, g, c // g) + self.K + pshape,
                        (st[0], st[1] * (c // g), st[1]) + kst + pst)

    def im2col(self, xpad, scratch: bool = True):
        """Columns (N, groups, C/g * prod(K), positions) of padded input ``xpad``: one copy,
        into a scratch array unless ``scratch`` is False (then a new array)."""
        v = self.windows(xpad)
        n, g = v.shape[:2]
        shape = (n, g, (xpad.shape[1] // g) * math.prod(self.K), self.T)
        if not scratch:
            return v.reshape(shape)
        xp = array_module(xpad)
        out = workspace(xp, "cols", shape, xpad.dtype)
        xp.copyto(out.reshape(v.shape), v)
        return out

    def _flat_view(self, xp, a):
        """The valid output positions of a wide-grid array (N, O, T), as (N, O, *Q)."""
        it = a.itemsize
        return _strided(xp, a, a.shape[:2] + self.Q, a.strides[:2] + tuple(
            f * it for f in self.flat))

    def from_positions(self, y):
        """(N, O, positions) -> a new (N, O, *Q) C-contiguous array (drops the wide grid's
        extra windows)."""
        n, o = y.shape[:2]
        if not self.wide:
            return y.reshape((n, o) + self.Q)
        xp = array_module(y)
        return xp.ascontiguousarray(self._flat_view(xp, y))

    def to_positions(self, y):
        """(N, O, *Q) -> (N, O, positions), a scratch array when it must be built; the wide
        grid's extra windows hold zeros."""
        xp = array_module(y)
        n, o = y.shape[:2]
        if not self.wide:
            return xp.ascontiguousarray(y).reshape(n, o, self.T)
        # keyed by the geometry: the extra windows are zeroed once and never written
        out = workspace(xp, ("pos", self.Q, self.Sp), (n, o, self.T), y.dtype)
        self._flat_view(xp, out)[...] = y
        return out

    def col2im(self, cols, n: int, c: int):
        """Sum columns (N, C, prod(K), positions) back into a new (N, C, *S) array (the adjoint
        of ``im2col`` after un-padding): one slice-add per kernel offset."""
        xp = array_module(cols)
        if any(self.padding):
            buf = workspace(xp, "col2im", (n, c) + self.Sp, cols.dtype)
            buf[...] = 0
        else:
            buf = xp.zeros((n, c) + self.Sp, dtype=cols.dtype)
        if self.wide:
            flat = buf.reshape(n, c, -1)
            for kk, kidx in enumerate(itertools.product(*map(range, self.K))):
                off = sum(k * d * f for k, d, f in zip(kidx, self.dilation, self.flat))
                flat[:, :, off:off + self.T] += cols[:, :, kk]
        else:
            for kk, kidx in enumerate(itertools.product(*map(range, self.K))):
                sl = tuple(slice(k * d, k * d + s * (q - 1) + 1, s) for k, d, s, q in zip(
                    kidx, self.dilation, self.stride, self.Q))
                buf[(slice(None), slice(None)) + sl] += cols[:, :, kk].reshape((n, c) + self.Q)
        if not any(self.padding):
            return buf
        return xp.ascontiguousarray(buf[self._interior()])

    def chunk(self, n: int, c: int) -> int:
        """Samples per chunk so that one chunk's columns stay under ``COLS_LIMIT``."""
        per = max(1, c * math.prod(self.K) * self.T)
        return max(1, min(n, COLS_LIMIT // per)) if n else 1

    # -- the three maps ----------------------------------------------------------------------------
    def conv(self, x, w):
        """The convolution (N, C, *S) -> (N, O, *Q) (a new array)."""
        xp = array_module(x)
        n, c = x.shape[:2]
        o, g = w.shape[0], self.groups
        wm = w.reshape(g, o // g, -1)
        step = self.chunk(n, c)
        y = None if step >= n else xp.empty((n, o) + self.Q, dtype=x.dtype)
        for i in range(0, n, step):
            cols = self.im2col(self.padded(x[i:i + step]))
            m = cols.shape[0]
            if self.wide:
                mm = workspace(xp, "mm", (m, g, o // g, self.T), x.dtype)
                xp.matmul(wm, cols, out=mm)
                yi = self.from_positions(mm.reshape(m, o, self.T))
            else:
                yi = (wm @ cols).reshape((m, o) + self.Q)
            if y is None:
                return yi
            y[i:i + step] = yi
        return y if y is not None else xp.zeros((n, o) + self.Q, dtype=x.dtype)

    def conv_t(self, y, w):
        """The transposed convolution (N, O, *Q) -> (N, C, *S): ``w^T @ y``, then col2im."""
        if (g := self.plain(w)) is not self:
            return g.conv_t(y, w)
        xp = array_module(y)
        n, o = y.shape[:2]
        g = self.groups
        c = g * w.shape[1]
        kk = math.prod(self.K)
        wt = w.reshape(g, o // g, -1).swapaxes(1, 2)
        step = self.chunk(n, c)
        out = None if step >= n else xp.empty((n, c) + self.S, dtype=y.dtype)
        for i in range(0, n, step):
            yi = self.to_positions(y[i:i + step])
            m = yi.shape[0]
            cols = workspace(xp, "gcols", (m, g, c // g * kk, self.T), y.dtype)
            xp.matmul(wt, yi.reshape(m, g, o // g, self.T), out=cols)
            r = self.col2im(cols.reshape(m, c, kk, self.T), m, c)
            if out is None:
                return r
            out[i:i + step] = r
        return out if out is not None else xp.zeros((n, c) + self.S, dtype=y.dtype)

    def conv_w(self, x, y):
        """The weight gradient: sum over samples and positions of ``y`` times ``x``'s windows."""
        if (geo := self.plain(x)) is not self:
            return geo.conv_w(x, y)
        xp = array_module(y)
        n, o = y.shape[:2]
        c = x.shape[1]
        g = self.groups
        ckk = (c // g) * math.prod(self.K)
        gw = xp.zeros((g, o // g, ckk), dtype=y.dtype)
        # NOTE: a batched GEMM per sample then a sum beats one GEMM over (N * positions): the
        # latter needs the columns copied sample-major, and OpenBLAS is slow on its skinny shape
        step = max(1, min(self.chunk(n, c), WGRAD_LIMIT // max(1, g * (o // g) * ckk)))
        for i in range(0, n, step):
            yi = self.to_positions(y[i:i + step])
            m = yi.shape[0]
            if self.T < SMALL_T:
                # few positions per sample: one GEMM over (samples x positions) per group beats
                # many tiny ones; columns and gradient are copied group-major for it
                v = self.windows(self.padded(x[i:i + step]))
                nk = len(self.K)
                perm = (1, 2, *range(3, 3 + nk), 0, *range(3 + nk, v.ndim))
                ci = workspace(xp, "colsT", (g, ckk, m, self.T), x.dtype)
                xp.copyto(ci.reshape(tuple(v.shape[a] for a in perm)), v.transpose(perm))
                yt = workspace(xp, "posT", (g, o // g, m, self.T), y.dtype)
                xp.copyto(yt, yi.reshape(m, g, o // g, self.T).transpose(1, 2, 0, 3))
                gw += (ci.reshape(g, ckk, m * self.T)
                       @ yt.reshape(g, o // g, m * self.T).swapaxes(1, 2)).swapaxes(1, 2)
                continue
            ci = self.im2col(self.padded(x[i:i + step]))
            tmp = workspace(xp, "wgrad", (m, g, o // g, ckk), y.dtype)
            xp.matmul(yi.reshape(m, g, o // g, self.T), ci.swapaxes(-1, -2), out=tmp)
            gw += tmp.sum(0)
        return gw.reshape((o, c // g) + self.K)


# -- scratch arrays -------------------------------------------------------------------------------
class _Scratch(threading.local):
    def __init__(self) -> None:
        self.bufs: dict = {}


_SCRATCH = _Scratch()
SCRATCH_MAX = 16  # arrays kept per thread (least recently used dropped first)
SCRATCH_BYTES = 1 << 26  # bigger arrays are not kept


def workspace(xp, tag, shape: tuple, dtype):
    """A scratch array of ``shape`` reused across calls with the same ``tag`` (zeros when first
    made). Big temporaries made afresh each step cost page faults (a fresh 2 MB array is ~500
    of them); reusing one costs none. Never return a scratch array to a caller that keeps it.
    """
    dt = np.dtype(dtype)
    if xp is not np or math.prod(shape) * dt.itemsize > SCRATCH_BYTES:
        return xp.zeros(shape, dtype=dt)
    key = (tag, shape, dt.str)
    bufs = _SCRATCH.bufs
    a = bufs.pop(key, None)
    if a is None:
        a = np.zeros(shape, dtype=dt)
        if len(bufs) >= SCRATCH_MAX:
            del bufs[next(iter(bufs))]
    bufs[key] = a
    return a
