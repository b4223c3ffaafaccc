"""Linear maps of fixed structure (pads, pools, interpolation, im2col...) as graph nodes.

A ``LinearMap`` holds what fixes the map (sizes, indices, weights) and applies it (``_apply``) or
its adjoint (``_adjoint``) to raw arrays. ``apply`` / ``adjoint`` take a Tensor or an array: on a
Tensor they record a node, so a backward run on Tensors (``create_graph=True``) is itself
differentiable: the derivative of the adjoint is the map again, to any order.

Most spatial maps are *separable*: one 1-D map per axis, applied axis after axis. An ``Axis``
says, for each output position ``j`` along one axis, which input positions ("taps") it reads
and with which weights: ``out[j] = sum_t w_t[j] * in[idx_t[j]]``. A tap whose indices step
evenly is a strided slice (a view, no copy); others are ``take``s. Pooling, interpolation and
reflection/replication pads are all such maps, so one implementation serves them; max pooling
uses the same taps with a running maximum instead of a sum.
"""

from __future__ import annotations

import numpy as np

from ..autograd.node import _IGNORE, Op, _quiet_off, _quiet_on
from ..backend import array_module, scatter_add
from ..tensor import Tensor
from ._apply import record, record_unary

_new = object.__new__


class LinearMap:
    """A linear map on arrays with a node class for itself (``op``) and for its adjoint."""

    __slots__ = ("op", "adj_op")

    def _apply(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def _adjoint(self, g):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def T(self) -> LinearMap:  # noqa: N802 - the usual name of a transpose
        """The adjoint map."""
        return Transposed(self)

    def apply(self, x):
        """The map applied to ``x`` (recorded as an ``op`` node when ``x`` is a Tensor)."""
        if isinstance(x, Tensor):
            return run(self.op, self, x)
        return self._apply(x)

    def adjoint(self, g, dep=None):
        """The adjoint applied to ``g`` (recorded as an ``adj_op`` node when ``g`` is a Tensor;
        ``dep``: the forward input that node reads too, see ``LinearOp.keeps_input``)."""
        if isinstance(g, Tensor):
            return run(self.adj_op, self.T, g, dep=dep)
        return self._adjoint(g)


class quiet:  # noqa: N801 - used like np.errstate
    """NumPy's floating-point warnings off (inf and nan are values, as in PyTorch), for array
    work done outside an Op's forward."""

    __slots__ = ("token",)

    def __enter__(self):
        self.token = _quiet_on(_IGNORE)
        return self

    def __exit__(self, *exc) -> None:
        _quiet_off(self.token)


class Transposed(LinearMap):
    """The adjoint of a map, as a map (its own adjoint is the original)."""

    __slots__ = ("base",)

    def __init__(self, base: LinearMap) -> None:
        self.base = base
        self.op, self.adj_op = base.adj_op, base.op

    def _apply(self, x):
        return self.base._adjoint(x)

    def _adjoint(self, g):
        return self.base._apply(g)

    @property
    def T(self) -> LinearMap:  # noqa: N802
        return self.base


class LinearOp(Op):
    """A node that applies a ``LinearMap`` ``m``; its backward applies the adjoint.

    With ``keeps_input`` the node saves its input, and the adjoint node recorded by a backward
    on Tensors reads it too (a second input whose gradient is zero): PyTorch's pooling and
    reflection / replication pad backwards take the forward input, so there the second
    derivative with respect to the input is zero, not undefined.
    """

    formula = {"x": "m.adjoint(grad)"}
    save_inputs = False
    keeps_input = False
    __slots__ = ("m",)

    def __init_subclass__(cls, **kw) -> None:
        super().__init_subclass__(**kw)
        cls.save_inputs = cls.keeps_input

    def forward(self, x, dep=None):
        return self.m._apply(x)

    def backward(self, grad):
        need = self.needs_input_grad
        if not self.keeps_input:
            return self.m.adjoint(grad)
        saved = self.saved(grad)
        dep = saved[1] if len(saved) > 1 else saved[0]
        g = self.m.adjoint(grad, dep)
        if len(need) == 1:
            return g
        if not need[1]:
            return g, None
        if isinstance(dep, Tensor):
            return g, dep.new_zeros(tuple(dep.shape))
        return g, array_module(dep).zeros_like(dep)


def run(cls, m: LinearMap, x: Tensor, out=None, dep=None) -> Tensor:
    """Record node class ``cls`` applying map ``m`` to ``x`` (``out``: the result if known;
    ``dep``: a second input the node reads, see ``LinearOp.keeps_input``)."""
    fn = _new(cls)
    fn.m = m
    y = fn.forward(x._data) if out is None else out  # forward: NumPy's fp warnings off
    if dep is None or not cls.keeps_input:
        return record_unary(fn, x, y)
    return record(fn, (x, dep), y)


def scalar_type_name(dtype) -> str:
    """PyTorch's C++ name of a dtype, as its "not implemented for 'Long'" messages print it."""
    n = str(dtype).removeprefix("torch.")
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
            "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}.get(
        n, n.capitalize())


# -- separable maps -------------------------------------------------------------------------------
def _sl(axis: int, index) -> tuple:
    return (slice(None),) * axis + (index,)


def _as_slice(idx: np.ndarray):
    """``idx`` as a slice when it steps evenly forward (a view instead of a gather)."""
    n = len(idx)
    if n == 0:
        return slice(0, 0)
    if n == 1:
        return slice(int(idx[0]), int(idx[0]) + 1)
    step = int(idx[1] - idx[0])
    if step > 0 and np.array_equal(idx, idx[0] + step * np.arange(n)):
        return slice(int(idx[0]), int(idx[-1]) + 1, step)
    return idx


class Axis:
    """One axis of a separable map (see the module docstring).

    ``n``: input size along the axis; ``lo``/``hi``: padding added on each side before the taps
    read it (zeros for sums, the lowest value for maxima); ``taps``: (index into the padded
    axis, weight per output or None); ``first``: for max pooling, the first tap of each output
    that reads real input (where left padding comes first), else None.
    """

    __slots__ = ("axis", "n", "q", "lo", "hi", "taps", "first", "disjoint")

    def __init__(self, axis: int, n: int, q: int, taps, lo: int = 0, hi: int = 0,
                 first=None) -> None:
        self.axis, self.n, self.q, self.lo, self.hi = axis, n, q, lo, hi
        self.taps = [(_as_slice(np.asarray(i, dtype=np.int64)), w) for i, w in taps]
        self.first = first
        allpos = np.concatenate([np.asarray(i, dtype=np.int64) for i, _ in taps]) if taps else \
            np.zeros(0, np.int64)
        self.disjoint = len(np.unique(allpos)) == len(allpos)

    def weight(self, w, like):
        """A per-output weight shaped to broadcast along this axis, on ``like``'s device."""
        w = np.asarray(w, dtype=like.dtype).reshape((-1,) + (1,) * (like.ndim - self.axis - 1))
        xp = array_module(like)
        return w if xp is np else xp.asarray(w)

    def padded(self, x, fill):
        if not (self.lo or self.hi):
            return x
        xp = array_module(x)
        shape = list(x.shape)
        shape[self.axis] += self.lo + self.hi
        buf = xp.full(tuple(shape), fill, dtype=x.dtype)
        buf[_sl(self.axis, slice(self.lo, self.lo + self.n))] = x
        return buf

    def crop(self, buf):
        if not (self.lo or self.hi):
            return buf
        return buf[_sl(self.axis, slice(self.lo, self.lo + self.n))]

    def read(self, x, index):
        if isinstance(index, slice):
            return x[_sl(self.axis, index)]
        xp = array_module(x)
        return xp.take(x, index if xp is np else xp.asarray(index), axis=self.axis)

    def zeros(self, g):
        shape = list(g.shape)
        shape[self.axis] = self.n + self.lo + self.hi
        return array_module(g).zeros(tuple(shape), dtype=g.dtype)

    def add_at(self, buf, index, v) -> None:
        """``buf[index] += v`` along this axis; repeated indices accumulate."""
        if isinstance(index, slice):
            buf[_sl(self.axis, index)] += v
            return
        _scatter_add_axis(buf, index, v, self.axis)

    # -- weighted sums ---------------------------------------------------------------------------
    def sum_apply(self, x):
        x = self.padded(x, 0)
        y = None
        for index, w in self.taps:
            v = self.read(x, index)
            if w is not None:
                v = v * self.weight(w, x)
            if y is None:
                y = v if w is not None or not isinstance(index, slice) else v.copy()
            else:
                y += v
        return y

    def sum_adjoint(self, g):
        buf = self.zeros(g)
        for index, w in self.taps:
            self.add_at(buf, index, g if w is None else g * self.weight(w, g))
        return self.crop(buf)


def _scatter_add_axis(buf, idx, v, axis: int) -> None:
    """``buf[..., idx, ...] += v`` along ``axis`` where ``idx`` may repeat (no ``add.at`` loop on
    NumPy: equal indices are summed with one ``add.reduceat``)."""
    xp = array_module(v)
    if xp is not np:
        scatter_add(buf, _sl(axis, xp.asarray(idx)), v)
        return
    if len(idx) == 0:
        return
    order = np.argsort(idx, kind="stable")
    s = idx[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    if len(starts) == len(s):  # no repeats: a plain fancy-index add is exact
        buf[_sl(axis, idx)] += v
        return
    if not np.array_equal(order, np.arange(len(order))):
        v = np.take(v, order, axis=axis)
    buf[_sl(axis, s[starts])] += np.add.reduceat(v, starts, axis=axis)


class Separable(LinearMap):
    """A product of per-axis weighted-tap maps, divided by ``divisor`` (a NumPy array that
    broadcasts against the output, or None): avg pools, interpolation, pads."""

    __slots__ = ("axes", "divisor")

    def __init__(self, axes: list[Axis], op, adj_op, divisor=None) -> None:
        self.axes, self.op, self.adj_op, self.divisor = axes, op, adj_op, divisor

    def _div(self, y):
        xp = array_module(y)
        d = xp.asarray(self.divisor)
        if y.dtype.kind in "iu":
            # NOTE: PyTorch's integer average truncates toward zero
            q = xp.abs(y) // d
            return (xp.where(y < 0, -q, q)).astype(y.dtype)
        return y / d.astype(y.dtype)

    def _apply(self, x):
        for ax in self.axes:
            x = ax.sum_apply(x)
        if self.divisor is not None:
            x = self._div(x)
        return array_module(x).ascontiguousarray(x)

    def _adjoint(self, g):
        if self.divisor is not None:
            g = self._div(g)
        for ax in reversed(self.axes):
            g = ax.sum_adjoint(g)
        return array_module(g).ascontiguousarray(g)


# -- max over taps -------------------------------------------------------------------------------
def _lowest(dtype):
    if dtype.kind == "f":
        return -np.inf
    if dtype.kind == "b":
        return False
    return np.iinfo(dtype).min


def max_axis(x, ax: Axis):
    """Maximum over the taps along one axis and the tap that holds it (PyTorch's choice: the
    first maximum in scan order, or the last NaN)."""
    xp = array_module(x)
    xpd = ax.padded(x, _lowest(x.dtype))
    views = [ax.read(xpd, index) for index, _ in ax.taps]
    k = len(views)
    it = np.int8 if k < 128 else np.int32
    best = views[0]
    idx = xp.zeros(best.shape, dtype=it)
    for t in range(1, k):
        v = views[t]
        upd = v > best
        best = xp.maximum(best, v)
        xp.maximum(idx, upd * it(t), out=idx)
    if k == 1:
        best = best.copy()
    # (a sum is NaN when an element is NaN, and cheaper than isnan().any(); inf - inf also
    # gives NaN, which only sends a NaN-free array down the exact path, still correct)
    if best.dtype.kind == "f" and k > 1 and bool(xp.isnan(best.sum())) and bool(
            xp.isnan(best).any()):
        # NOTE: PyTorch's scan updates on `val > max || isnan(val)`: a NaN wins, the last one
        best = views[0].copy()
        idx[...] = 0
        for t in range(1, k):
            v = views[t]
            upd = (v > best) | xp.isnan(v)
            best = xp.where(upd, v, best)
            idx = xp.where(upd, it(t), idx)
    if ax.first is not None:
        # a window whose real values are all the lowest value keeps its first real position,
        # not a padding position (PyTorch starts the scan at the first real element)
        for j in np.flatnonzero(ax.first):
            s = idx[_sl(ax.axis, int(j))]
            xp.maximum(s, it(ax.first[j]), out=s)
    return best, idx


class MaxSelect(LinearMap):
    """Select, per output, the input position a max pool chose (``idxs``: one tap index array
    per axis, from ``max_axis``); its adjoint routes gradients back to those positions."""

    __slots__ = ("axes", "idxs", "shape")

    def __init__(self, axes: list[Axis], idxs: list, shape: tuple, op, adj_op) -> None:
        self.axes, self.idxs, self.shape, self.op, self.adj_op = axes, idxs, shape, op, adj_op

    def positions(self, ax: Axis, idx):
        """Padded-axis position read by each output: the chosen tap's index."""
        xp = array_module(idx)
        table = np.stack([np.arange(i.start, i.stop, i.step) if isinstance(i, slice) else i
                          for i, _ in ax.taps])  # (taps, q)
        j = np.arange(ax.q).reshape((-1,) + (1,) * (idx.ndim - ax.axis - 1))
        return xp.asarray(table)[idx, xp.asarray(j)]

    def _apply(self, x):
        xp = array_module(x)
        for ax, idx in zip(self.axes, self.idxs):
            x = xp.take_along_axis(ax.padded(x, 0), self.positions(ax, idx), axis=ax.axis)
        return x

    def _adjoint(self, g):
        xp = array_module(g)
        finite = g.dtype.kind != "f" or bool(xp.isfinite(g).all())
        for ax, idx in reversed(list(zip(self.axes, self.idxs))):
            buf = ax.zeros(g)
            for t, (index, _) in enumerate(ax.taps):
                m = idx == t
                if finite and ax.disjoint and isinstance(index, slice):
                    xp.multiply(g, m, out=buf[_sl(ax.axis, index)])
                    continue
                # NOTE: g * mask would turn an inf gradient into NaN at the unchosen positions
                ax.add_at(buf, index, g * m if finite else xp.where(m, g, g.dtype.type(0)))
            g = ax.crop(buf)
        return xp.ascontiguousarray(g)

    def flat_indices(self):
        """PyTorch's ``return_indices``: each output's position in its (flattened) input plane."""
        xp = array_module(self.idxs[0])
        final = self.idxs[-1].shape
        coords: dict = {}  # axis -> chosen (unpadded) coordinate, on the output grid
        # from the last stage back: a stage's index array still spans the full input along the
        # axes reduced after it, so read it at the coordinates those later stages chose
        for ax, idx in reversed(list(zip(self.axes, self.idxs))):
            if coords:
                sel = tuple(
                    coords[d] if d in coords else xp.arange(final[d]).reshape(
                        (-1,) + (1,) * (len(final) - d - 1))
                    for d in range(len(final)))
                idx = idx[sel]
            coords[ax.axis] = self.positions(ax, idx) - ax.lo
        flat = None
        for a in sorted(coords):
            stride = 1
            for b in range(a + 1, len(self.shape)):
                if b in coords:
                    stride *= self.shape[b]
            term = coords[a].astype(np.int64) * stride
            flat = term if flat is None else flat + term
        return flat
