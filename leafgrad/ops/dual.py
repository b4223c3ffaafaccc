"""Functions for backward formulas that work on Tensors and on raw arrays alike.

A backward formula is written once, with operators and these helpers. The engine runs it on
raw arrays when no graph of the backward is needed (a plain ``backward()``: NumPy speed), and on
Tensors with ``create_graph=True`` (each step recorded, so higher derivatives come free).
"""

from __future__ import annotations

from ..backend import array_module
from ..tensor import Tensor


def cos(x):
    """Elementwise cosine."""
    return x.cos() if isinstance(x, Tensor) else array_module(x).cos(x)


def sin(x):
    """Elementwise sine."""
    return x.sin() if isinstance(x, Tensor) else array_module(x).sin(x)


def log(x):
    """Elementwise natural log."""
    return x.log() if isinstance(x, Tensor) else array_module(x).log(x)


def sign(x):
    """Elementwise sign."""
    return x.sign() if isinstance(x, Tensor) else array_module(x).sign(x)


def expand(g, shape: tuple):
    """Broadcast ``g`` to ``shape`` without copying."""
    return g.expand(shape) if isinstance(g, Tensor) else array_module(g).broadcast_to(g, shape)


def sum_axes(gs: tuple, shape: tuple, fn=None, i: int = 0) -> tuple:
    """The dims to sum so that a gradient of shape ``gs`` gets back ``shape``, and how many
    leading dims broadcasting added; raises when ``gs`` cannot come from ``shape``."""
    lead = len(gs) - len(shape)
    if lead < 0 or any(s != 1 and s != gs[k + lead] for k, s in enumerate(shape)):
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


def squeeze(g, dim: int):
    """Remove size-1 dim ``dim``."""
    return g.squeeze(dim) if isinstance(g, Tensor) else array_module(g).squeeze(g, axis=dim)


def unsqueeze(g, dim: int):
    """Insert a size-1 dim at ``dim``."""
    return g.unsqueeze(dim) if isinstance(g, Tensor) else array_module(g).expand_dims(g, dim)


def where(cond, a, b):
    """``a`` where ``cond`` (a raw bool array) holds, else ``b``."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        from .elementwise import where as tensor_where

        return tensor_where(cond, a, b)
    return array_module(cond).where(cond, a, b)


def embed(g, shape: tuple, index, accumulate: bool = False):
    """Zeros of ``shape`` with ``g`` written (or, with repeats, added) at ``index``."""
    if isinstance(g, Tensor):
        from .movement import _embed

        return _embed(g, shape, index, accumulate)
    xp = array_module(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if accumulate:
        xp.add.at(out, index, g)
    else:
        out[index] = g
    return out


def gather(g, index):
    """``g[index]`` (a copy for advanced indices)."""
    if isinstance(g, Tensor):
        from .movement import _gather

        return _gather(g, index)
    return g[index]


def put(g, index, value):
    """A copy of ``g`` with ``value`` written at ``index``."""
    if isinstance(g, Tensor):
        from ..tensor import _wrap
        from .movement import _put

        v = value if isinstance(value, Tensor) else _wrap(
            array_module(g._data).asarray(value, dtype=g._data.dtype))
        return _put(g, index, v)
    out = g.copy()
    out[index] = value
    return out


def threshold_backward(g, out):
    """``g`` where ``out > 0``, else 0 (relu's backward)."""
    if isinstance(g, Tensor):
        from .elementwise import threshold_backward as tensor_threshold_backward

        return tensor_threshold_backward(g, out)
    return g * (out > 0)


def to_dtype(g, np_dtype):
    """Cast to a NumPy dtype."""
    if isinstance(g, Tensor):
        from ..dtypes import FROM_NP

        return g.to(FROM_NP[np_dtype])
    return g.astype(np_dtype)
