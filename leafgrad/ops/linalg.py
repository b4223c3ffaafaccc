"""Linear algebra: matrix products (``matmul`` / ``@``, ``mm``)."""

from __future__ import annotations

from ..autograd.node import Op
from ..backend import array_module
from ..tensor import Tensor
from ._apply import record
from .dual import mT, squeeze, t, unsqueeze
from .elementwise import _operands

_new = object.__new__


def _shape_str(s) -> str:
    return "x".join(str(d) for d in s)


class Mm(Op):
    name_ = "MmBackward0"
    op_name = "mm"
    formula = {"a": "grad @ b.mT", "b": "a.mT @ grad"}
    __slots__ = ()

    def forward(self, a, b):
        return a @ b

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        return (grad @ mT(b) if nf[0][0] is not None else None,
                mT(a) @ grad if nf[1][0] is not None else None)


class Mv(Op):
    name_ = "MvBackward0"
    formula = {"a": "grad.unsqueeze(1) * b.unsqueeze(0)", "b": "a.t() @ grad"}
    __slots__ = ()

    def forward(self, a, b):
        return a @ b

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        return (unsqueeze(grad, 1) * unsqueeze(b, 0) if nf[0][0] is not None else None,
                t(a) @ grad if nf[1][0] is not None else None)


class Dot(Op):
    name_ = "DotBackward0"
    formula = {"a": "grad * b", "b": "grad * a"}
    __slots__ = ()

    def forward(self, a, b):
        return array_module(a).dot(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        return (grad * b if nf[0][0] is not None else None,
                grad * a if nf[1][0] is not None else None)


class Matmul(Op):
    """Batched / broadcasting matmul (1-d operands are promoted and their dim removed)."""

    name_ = "MatmulBackward0"
    # (1-d operands act as a row / column; the engine sums broadcast batch dims back)
    formula = {"a": "grad @ b.mT", "b": "a.mT @ grad"}
    __slots__ = ()

    def forward(self, a, b):
        return a @ b

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        a2 = unsqueeze(a, 0) if a_vec else a
        b2 = unsqueeze(b, -1) if b_vec else b
        g = grad
        if a_vec:
            g = unsqueeze(g, -2)
        if b_vec:
            g = unsqueeze(g, -1)
        ga = gb = None
        if nf[0][0] is not None:
            ga = g @ mT(b2)
            if a_vec:
                ga = squeeze(ga, -2)
        if nf[1][0] is not None:
            gb = mT(a2) @ g
            if b_vec:
                gb = squeeze(gb, -1)
        # the engine sums the broadcast batch dims back to each input's shape
        return ga, gb


def _mismatch(a: Tensor, b: Tensor) -> RuntimeError:
    sa, sb = a._data.shape, b._data.shape
    if len(sa) == 1 and len(sb) == 1:
        return RuntimeError(
            f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the "
            "same number of elements, but got "
            f"{sa[0]} and {sb[0]} elements respectively\nWhy: a dot product pairs elements "
            "one to one."
        )
    ra = (1, sa[0]) if len(sa) == 1 else sa[-2:]
    rb = (sb[0], 1) if len(sb) == 1 else sb[-2:]
    return RuntimeError(
        f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(ra)} and {_shape_str(rb)})\n"
        f"matmul(): shapes {list(sa)} and {list(sb)}. Why: in A @ B the columns of A must "
        f"equal the rows of B ({ra[-1]} != {rb[0]}); transpose one operand (B.mT) or fix the "
        "layer sizes."
    )


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with broadcasting over batch dims (``a @ b``).

    >>> import leafgrad
    >>> matmul(leafgrad.ones(2, 3), leafgrad.ones(3)).tolist()
    [3.0, 3.0]
    """
    if not isinstance(b, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not {type(b).__name__}")
    na, nb = a._data.ndim, b._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D\n"
            "Why: a 0-d tensor is a scalar; multiply with * instead."
        )
    ad, bd = _operands(a, b)
    cls = Mm if na == 2 and nb == 2 else Mv if na == 2 and nb == 1 else (
        Dot if na == 1 and nb == 1 else Matmul)
    fn = _new(cls)
    try:
        out = fn.forward(ad, bd)
    except ValueError:
        raise _mismatch(a, b) from None
    return record(fn, (a, b), out)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Product of two 2-d matrices (no broadcasting)."""
    if a._data.ndim != 2:
        raise RuntimeError(f"self must be a matrix (got a {a._data.ndim}-d tensor)")
    if b._data.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix (got a {b._data.ndim}-d tensor)")
    return matmul(a, b)
