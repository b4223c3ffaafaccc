"""Joining and splitting: cat, stack, atleast_*, split, chunk, unbind, tensor_split."""

from __future__ import annotations

from ...autograd.node import Op
from ...backend import array_module
from ...tensor import Tensor, _wrap, _wrap_dim
from .. import dual
from .._apply import record, record_unary
from ..inplace_view import CREATION_MULTI
from .indexing import Slice
from .strides import relaid, row_major, suggested_perm
from .views import _as_view, _ax_slice, _new, _view_op, reshape, unsqueeze


# -- joining -----------------------------------------------------------------------------------
def _joinable(tensors, op: str) -> list:
    ts = list(tensors)
    if not ts:
        raise RuntimeError(f"{op}(): expected a non-empty list of Tensors")
    for k, t_ in enumerate(ts):
        if not isinstance(t_, Tensor):
            raise TypeError(
                f"{op}(): argument 'tensors' must be tuple of Tensors, not "
                f"{type(t_).__name__} (at position {k})")
    from ...dtypes import FROM_NP, promote_types

    dt = ts[0].dtype
    for t_ in ts[1:]:
        dt = promote_types(dt, t_.dtype)
    return [t_ if t_._data.dtype == dt.np else t_.to(FROM_NP[dt.np]) for t_ in ts]


class Cat(Op):
    name_ = "CatBackward0"
    save_inputs = False
    __slots__ = ("dim", "parts")

    @property
    def formula(self) -> dict:
        """One entry per concatenated tensor: its slice of ``grad``."""
        return {f"tensors[{i}]": "zeros(0)" if p is None else f"grad.narrow(dim, {p[0]}, {p[1]})"
                for i, p in enumerate(self.parts)}

    def forward(self, *xs):
        xs = [x for x, p in zip(xs, self.parts) if p is not None]
        out = array_module(xs[0]).concatenate(xs, axis=self.dim)
        # PyTorch's cat allocates in the inputs' common suggest_memory_format (channels-last
        # when all are, else row-major); NumPy's concatenate follows the inputs' stride order
        perms = [suggested_perm(x) for x in xs]
        return relaid(out, perms[0] if all(p == perms[0] for p in perms) else None)

    def backward(self, grad):
        pre = (_ax_slice,) * self.dim
        # NOTE: a skipped legacy empty tensor still gets a gradient: zeros of its shape (0,)
        return tuple(None if not need else dual.zeros(grad, (0,)) if p is None
                     else grad[pre + (slice(p[0], p[0] + p[1]),)]
                     for p, need in zip(self.parts, self.needs_input_grad))


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate tensors along an existing dim."""
    ts = _joinable(tensors, "cat")
    # NOTE: PyTorch still skips 1-d empty tensors (legacy) whatever the other shapes are
    live = [t_ for t_ in ts if t_._data.shape != (0,)] or ts[:1]
    for k, t_ in enumerate(live):
        if t_._data.ndim == 0:
            raise RuntimeError(
                f"zero-dimensional tensor (at position {k}) cannot be concatenated")
    ref = live[0]._data.shape
    d = _wrap_dim(dim, len(ref), "cat")
    for k, t_ in enumerate(live):
        s = t_._data.shape
        if len(s) != len(ref):
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {len(ref)} and {len(s)}")
        for j in range(len(ref)):
            if j != d and s[j] != ref[j]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref[j]} but got size {s[j]} for tensor number {k} in the list.")
    fn = _new(Cat)
    fn.dim = d
    # every tensor is an input (PyTorch's skipped ones get an empty gradient), with no part of
    # the result when skipped
    parts, o = [], 0
    for t_ in ts:
        if not any(t_ is x for x in live):
            parts.append(None)
            continue
        n = t_._data.shape[d]
        parts.append((o, n))
        o += n
    fn.parts = tuple(parts)
    return record(fn, tuple(ts), fn.forward(*[t_._data for t_ in ts]))


class Stack(Op):
    name_ = "StackBackward0"
    save_inputs = False
    __slots__ = ("dim", "n")

    @property
    def formula(self) -> dict:
        """One entry per stacked tensor: its slice of ``grad``."""
        return {f"tensors[{i}]": f"grad.select(dim, {i})" for i in range(self.n)}

    def forward(self, *xs):
        # PyTorch's stack result is row-major for inputs that are not channels-last (NumPy's
        # follows the inputs' stride order). NOTE: channels-last inputs get a layout that
        # depends on dim in PyTorch (cat of unsqueezed inputs restrided); not reproduced
        return row_major(array_module(xs[0]).stack(xs, axis=self.dim))

    def backward(self, grad):
        pre = (_ax_slice,) * self.dim
        return tuple(grad[pre + (i,)] if need else None
                     for i, need in enumerate(self.needs_input_grad))


def stack(tensors, dim: int = 0) -> Tensor:
    """Stack same-shape tensors along a new dim."""
    ts = _joinable(tensors, "stack")
    ref = ts[0]._data.shape
    for k, t_ in enumerate(ts):
        if t_._data.shape != ref:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(ref)} at entry 0 "
                f"and {list(t_._data.shape)} at entry {k}")
    fn = _new(Stack)
    fn.dim, fn.n = _wrap_dim(dim, len(ref) + 1, "stack"), len(ts)
    return record(fn, tuple(ts), fn.forward(*[t_._data for t_ in ts]))


def atleast(x: Tensor, n: int) -> Tensor:
    """``x`` with at least ``n`` dims (torch.atleast_1d/2d/3d's rules)."""
    s = x._data.shape
    if len(s) >= n:
        return x
    if not s:
        return reshape(x, (1,) * n)
    if n == 2 or len(s) == 2:
        return unsqueeze(x, 0) if n == 2 else unsqueeze(x, -1)
    return unsqueeze(unsqueeze(x, 0), -1)  # 1-d to 3-d: (1, n, 1)


# -- splitting (several outputs, one node) ------------------------------------------------
class Split(Op):
    name_ = "SplitBackward0"
    # one output's share; the node concatenates every output's gradient (zeros for unused ones)
    formula = {"x": "embed(grad, in_shape, (slice(None),) * dim + (slice(0, sizes[0]),))"}
    save_inputs = False
    __slots__ = ("dim", "sizes", "in_shape", "_nout")

    def forward(self, x):
        pre = (_ax_slice,) * self.dim
        out, o = [], 0
        for n in self.sizes:
            out.append(x[pre + (slice(o, o + n),)])
            o += n
        return out

    def backward(self, *grads):
        ref = next(g for g in grads if g is not None)
        shape = list(self.in_shape)
        parts = []
        for k, n in enumerate(self.sizes):
            g = grads[k] if k < len(grads) else None
            if g is None:
                shape[self.dim] = n
                g = dual.zeros(ref, tuple(shape))
            parts.append(g)
        return dual.cat(parts, self.dim)


class SplitWithSizes(Split):
    name_ = "SplitWithSizesBackward0"
    __slots__ = ()


class Unbind(Split):
    name_ = "UnbindBackward0"
    formula = {"x": "embed(grad, in_shape, (slice(None),) * dim + (0,))"}
    __slots__ = ()

    def forward(self, x):
        pre = (_ax_slice,) * self.dim
        # NOTE: the trailing Ellipsis keeps 0-d pieces views of x (a plain x[i] would copy)
        return [x[pre + (i, Ellipsis)] for i in range(len(self.sizes))]

    def backward(self, *grads):
        ref = next(g for g in grads if g is not None)
        shape = self.in_shape[:self.dim] + self.in_shape[self.dim + 1:]
        parts = [grads[k] if k < len(grads) and grads[k] is not None else dual.zeros(ref, shape)
                 for k in range(len(self.sizes))]
        return dual.stack(parts, self.dim)


def _multi(cls, x: Tensor, dim: int, sizes: tuple) -> tuple:
    from ...autograd.grad_mode import state

    fn = _new(cls)
    fn.dim, fn.sizes, fn.in_shape = dim, tuple(sizes), x._data.shape
    fn._nout = len(sizes)
    arrays = fn.forward(x._data)
    if not arrays:
        return ()
    # NOTE: several views of one node: PyTorch refuses in-place changes to them (CREATION_MULTI)
    first = _as_view(record_unary(fn, x, arrays[0]), x, CREATION_MULTI)
    outs = [first]
    rg = first._fn is fn and state.enabled
    for k, a in enumerate(arrays[1:], 1):
        t_ = _as_view(_wrap(a), x, CREATION_MULTI)
        if rg:
            t_._rg, t_._fn, t_._out_nr = True, fn, k
        outs.append(t_)
    return tuple(outs)


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into chunks of a given size, or of the listed sizes, along ``dim`` (views)."""
    s = x._data.shape
    if not s:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, len(s), "split")
    n = s[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = tuple(int(k) for k in split_size_or_sections)
        if sum(sizes) != n or any(k < 0 for k in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={list(sizes)}")
        return _multi(SplitWithSizes, x, d, sizes)
    k = int(split_size_or_sections)
    if k < 0 or (k == 0 and n != 0):
        raise RuntimeError(
            f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
    if n == 0:
        sizes = (0,)
    else:
        sizes = tuple(min(k, n - o) for o in range(0, n, k))
    return _multi(Split, x, d, sizes)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into (at most) ``chunks`` pieces of equal size, the last possibly smaller."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    s = x._data.shape
    if not s:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, len(s), "chunk")
    size = -(-s[d] // chunks)
    if size == 0:
        return split(x, 1 if s[d] == 0 else size, d) if s[d] else _multi(
            Split, x, d, (0,) * chunks)
    return split(x, size, d)


def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, each without that dim (views)."""
    s = x._data.shape
    if not s:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, len(s), "unbind")
    return _multi(Unbind, x, d, (1,) * s[d])


def tensor_split(x: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Split at the given indices, or into n nearly equal parts (numpy.array_split's rule)."""
    s = x._data.shape
    if not s:
        raise RuntimeError(
            "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = _wrap_dim(dim, len(s), "tensor_split")
    n = s[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        ios = ios.tolist()
    if isinstance(ios, int):
        if ios <= 0:
            raise RuntimeError(
                f"number of sections must be larger than 0, got {ios}")
        q, r = divmod(n, ios)
        bounds, o = [], 0
        for k in range(ios):
            bounds.append((o, o + q + (1 if k < r else 0)))
            o = bounds[-1][1]
    else:
        cuts = [0] + [min(max(int(i) if i >= 0 else int(i) + n, 0), n) for i in ios] + [n]
        bounds = [(a, max(a, b)) for a, b in zip(cuts[:-1], cuts[1:])]
    return tuple(_view_op(Slice, x, dim=d, sl=slice(a, b), in_shape=s) for a, b in bounds)
