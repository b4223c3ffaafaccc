"""Matrix products: matmul / ``@``, mm, mv, dot, bmm, vdot and the addmm family."""

from __future__ import annotations

import math

import numpy as np

from ..._out import _scalar_name
from ...autograd.node import Op
from ...backend import array_module, as_array
from ...dtypes import FROM_NP
from ...tensor import Tensor
from .. import dual
from .._apply import record, record2
from ..elementwise import _operands

_new = object.__new__


def _shape_str(s) -> str:
    return "x".join(str(d) for d in s)


class Mm(Op):
    name_ = "MmBackward0"
    forward_text = "{a} @ {b}"
    op_name = "mm"
    formula = {"a": "grad @ b.mT", "b": "a.mT @ grad"}
    saved_for = ((1,), (0,))  # PyTorch saves b for a's gradient, a for b's
    __slots__ = ()

    def forward(self, a, b):
        return a @ b

    def backward(self, grad):
        a, b = self.saved(grad)
        need = self.needs_input_grad
        return (grad @ dual.mT(b) if need[0] else None,
                dual.mT(a) @ grad if need[1] else None)


class Mv(Op):
    name_ = "MvBackward0"
    forward_text = "{a} @ {b}"
    formula = {"a": "grad.unsqueeze(1) * b.unsqueeze(0)", "b": "a.t() @ grad"}
    saved_for = ((1,), (0,))  # PyTorch saves b for a's gradient, a for b's
    __slots__ = ()

    def forward(self, a, b):
        return a @ b

    def backward(self, grad):
        a, b = self.saved(grad)
        need = self.needs_input_grad
        return (dual.unsqueeze(grad, 1) * dual.unsqueeze(b, 0) if need[0] else None,
                dual.t(a) @ grad if need[1] else None)


class Dot(Op):
    name_ = "DotBackward0"
    forward_text = "{a}.dot({b})"
    formula = {"a": "grad * b", "b": "grad * a"}
    saved_for = ((1,), (0,))  # PyTorch saves b for a's gradient, a for b's
    __slots__ = ()

    def forward(self, a, b):
        return array_module(a).dot(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        need = self.needs_input_grad
        return (grad * b if need[0] else None,
                grad * a if need[1] else None)


class Matmul(Op):
    """Batched / broadcasting matmul (1-d operands are promoted and their dim removed)."""

    name_ = "MatmulBackward0"
    forward_text = "{a} @ {b}"
    # (1-d operands act as a row / column; the engine sums broadcast batch dims back)
    formula = {"a": "grad @ b.mT", "b": "a.mT @ grad"}
    saved_for = ((1,), (0,))  # PyTorch saves b for a's gradient, a for b's
    __slots__ = ()

    def forward(self, a, b):
        return a @ b

    def backward(self, grad):
        a, b = self.saved(grad)
        need = self.needs_input_grad
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        a2 = dual.unsqueeze(a, 0) if a_vec else a
        b2 = dual.unsqueeze(b, -1) if b_vec else b
        g = grad
        if a_vec:
            g = dual.unsqueeze(g, -2)
        if b_vec:
            g = dual.unsqueeze(g, -1)
        ga = gb = None
        if need[0]:
            ga = g @ dual.mT(b2)
            if a_vec:
                ga = dual.squeeze(ga, -2)
        if need[1]:
            gb = dual.mT(a2) @ g
            if b_vec:
                gb = dual.squeeze(gb, -1)
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
    if len(sa) > 2 and len(sb) == 2:
        # NOTE: PyTorch folds a batched operand times a matrix into one mm: (2, 64, 100) @ W
        # reports 128x100, as a Linear layer's error does
        ra = (math.prod(sa[:-1]), sa[-1])
    rb = (sb[0], 1) if len(sb) == 1 else sb[-2:]
    return RuntimeError(
        f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(ra)} and {_shape_str(rb)})\n"
        f"matmul(): shapes {list(sa)} and {list(sb)}. Why: in A @ B the columns of A must "
        f"equal the rows of B ({ra[-1]} != {rb[0]}); transpose one operand (B.mT) or fix the "
        "layer sizes."
    )


_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _check_matmul_dtypes(a: Tensor, b: Tensor) -> None:
    """PyTorch's matmul kernels take one dtype (no promotion, unlike ``*``), and none is bool;
    the message is the kernel's that ``a @ b`` reaches for these ranks."""
    na, nb = a._data.ndim, b._data.ndim
    da, db = a._data.dtype, b._data.dtype
    why = ("\nWhy: a matrix product does not promote dtypes; convert one operand first, e.g. "
           f"a.to({FROM_NP[db]}) @ b.")
    if da != db:
        A, B = _scalar_name(a.dtype), _scalar_name(b.dtype)
        if na == 1 and nb == 1:
            msg = f"dot : expected both vectors to have same dtype, but found {A} and {B}"
        elif nb == 1:
            msg = f"addmv input tensors must have the same dtype, but got {B}, {A}, and {B}"
        elif nb == 2:
            msg = ("expected m1 and m2 to have the same dtype, but got: "
                   f"{_C_NAMES[da.name]} != {_C_NAMES[db.name]}")
        else:
            msg = f"expected scalar type {A} but found {B}"
        raise RuntimeError(msg + why)
    if da.kind == "b":
        kern = ("dot" if na == 1 and nb == 1 else "addmv_impl_cpu" if nb == 1 else
                "addmm_impl_cpu_" if na <= 2 and nb == 2 else "bmm")
        raise NotImplementedError(
            f"\"{kern}\" not implemented for 'Bool'\nWhy: PyTorch has no bool matrix product; "
            "convert first, e.g. a.long() @ b.long() (or a.float()).")


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with broadcasting over batch dims (``a @ b``).

    >>> import leafgrad
    >>> matmul(leafgrad.ones(2, 3), leafgrad.ones(3)).tolist()
    [3.0, 3.0]
    """
    if not isinstance(b, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not {type(b).__name__}")
    ad, bd = a._data, b._data
    na, nb = ad.ndim, bd.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D\n"
            "Why: a 0-d tensor is a scalar; multiply with * instead."
        )
    if ad.dtype is not bd.dtype or ad.dtype.kind == "b":
        _check_matmul_dtypes(a, b)  # raises unless the dtypes are equal (no promotion)
    cls = Mm if na == 2 and nb == 2 else Mv if na == 2 and nb == 1 else (
        Dot if na == 1 and nb == 1 else Matmul)
    fn = _new(cls)
    try:
        out = fn.forward(ad, bd)
    except ValueError:
        raise _mismatch(a, b) from None
    return record2(fn, a, b, out)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Product of two 2-d matrices (no broadcasting)."""
    if a._data.ndim != 2:
        raise RuntimeError(f"self must be a matrix (got a {a._data.ndim}-d tensor)")
    if b._data.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix (got a {b._data.ndim}-d tensor)")
    return matmul(a, b)


# -- bmm / vdot / addmm family ---------------------------------------------------------------------
class Bmm(Mm):
    name_ = "BmmBackward0"
    forward_text = None  # not inherited: explain writes bmm(a, b) / vdot(a, b)
    op_name = "bmm"
    __slots__ = ()


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched product of two 3-d tensors (no broadcasting).

    >>> import leafgrad
    >>> bmm(leafgrad.ones(2, 1, 3), leafgrad.ones(2, 3, 1)).shape
    torch.Size([2, 1, 1])
    """
    sa, sb = a._data.shape, b._data.shape
    if len(sa) != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (got {len(sa)}-d)")
    if len(sb) != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor (got {len(sb)}-d)")
    if sa[0] != sb[0] or sa[2] != sb[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{sa[0]}, {sa[2]}] "
            f"but got: [{sb[0]}, {sb[1]}].\nWhy: bmm multiplies matching batches of (n x m) and "
            "(m x p) matrices.")
    _check_matmul_dtypes(a, b)
    ad, bd = _operands(a, b)
    fn = _new(Bmm)
    return record(fn, (a, b), fn.forward(ad, bd))


class Vdot(Dot):
    name_ = "VdotBackward0"
    forward_text = None  # not inherited: explain writes bmm(a, b) / vdot(a, b)
    __slots__ = ()


def _check_dot(a: Tensor, b: Tensor, op: str) -> None:
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D "
                           f"tensors\nWhy: {op} is the inner product of two vectors; use matmul "
                           "for matrices.")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op} : expected both vectors to have same dtype, but found "
                           f"{_scalar_name(a.dtype)} and {_scalar_name(b.dtype)}")
    if a._data.shape[0] != b._data.shape[0]:
        raise _mismatch(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-d tensors.

    >>> import leafgrad
    >>> dot(leafgrad.tensor([1., 2.]), leafgrad.tensor([3., 4.]))
    tensor(11.)
    """
    _check_dot(a, b, "dot")
    return matmul(a, b)


def vdot(a: Tensor, b: Tensor) -> Tensor:
    """Conjugating inner product of two 1-d tensors (real tensors: ``dot``).

    >>> import leafgrad
    >>> vdot(leafgrad.tensor([1., 2.]), leafgrad.tensor([3., 4.]))
    tensor(11.)
    """
    _check_dot(a, b, "vdot")
    fn = _new(Vdot)
    return record(fn, (a, b), as_array(fn.forward(a._data, b._data)))


def mv(a: Tensor, v: Tensor) -> Tensor:
    """Matrix-vector product.

    >>> import leafgrad
    >>> mv(leafgrad.ones(2, 3), leafgrad.ones(3))
    tensor([3., 3.])
    """
    if a._data.ndim != 2 or v._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {a._data.ndim}, "
                           f"{v._data.ndim}\nWhy: mv takes a 2-d matrix and a 1-d vector.")
    return matmul(a, v)


def _scaled(g, c):
    return g if c == 1 else g * c


class Addmm(Op):
    name_ = "AddmmBackward0"
    formula = {"input": "grad * beta", "a": "grad @ b.mT * alpha", "b": "a.mT @ grad * alpha"}
    saved_for = ((), (2,), (1,))  # PyTorch saves mat1 for mat2's gradient and mat2 for mat1's
    __slots__ = ("alpha", "beta")

    def forward(self, c, a, b):
        p = a @ b
        if self.alpha != 1:
            p = p * self.alpha
        if self.beta == 0:
            return np.broadcast_to(array_module(p).zeros((), p.dtype), p.shape) + p  # input ignored
        return p + (c if self.beta == 1 else c * self.beta)

    def backward(self, grad):
        c, a, b = self.saved(grad)
        need = self.needs_input_grad
        gc = _scaled(grad, self.beta) if need[0] and self.beta != 0 else None
        if need[0] and self.beta == 0:
            gc = grad * 0.0
        ga = _scaled(self._ga(grad, b), self.alpha) if need[1] else None
        gb = _scaled(self._gb(grad, a), self.alpha) if need[2] else None
        return gc, ga, gb

    def _ga(self, g, b):
        return g @ dual.mT(b)

    def _gb(self, g, a):
        return dual.mT(a) @ g


class Addmv(Addmm):
    name_ = "AddmvBackward0"
    formula = {"input": "grad * beta", "a": "grad.unsqueeze(-1) * b.unsqueeze(0) * alpha",
               "b": "a.mT @ grad * alpha"}
    __slots__ = ()

    def _ga(self, g, b):
        return dual.unsqueeze(g, -1) * dual.unsqueeze(b, 0)

    def _gb(self, g, a):
        return dual.t(a) @ g


class Baddbmm(Addmm):
    name_ = "BaddbmmBackward0"
    __slots__ = ()


class Addbmm(Addmm):
    name_ = "AddbmmBackward0"
    formula = {"input": "grad * beta", "a": "grad.unsqueeze(0) @ b.mT * alpha",
               "b": "a.mT @ grad.unsqueeze(0) * alpha"}
    __slots__ = ()

    def forward(self, c, a, b):
        p = (a @ b).sum(axis=0)
        if self.alpha != 1:
            p = p * self.alpha
        if self.beta == 0:
            return np.broadcast_to(array_module(p).zeros((), p.dtype), p.shape) + p
        return p + (c if self.beta == 1 else c * self.beta)

    def _ga(self, g, b):
        return dual.unsqueeze(g, 0) @ dual.mT(b)

    def _gb(self, g, a):
        return dual.mT(a) @ dual.unsqueeze(g, 0)


def _addmm(cls, c: Tensor, a: Tensor, b: Tensor, beta, alpha, check) -> Tensor:
    check(a, b)
    for x, name in ((c, "self"), (a, "mat1")):
        if x._data.dtype != b._data.dtype:
            raise RuntimeError(
                f"{name} and mat2 must have the same dtype, but got {_scalar_name(x.dtype)} and "
                f"{_scalar_name(b.dtype)}\nWhy: {cls.name_[:-9].lower()} does not promote "
                "dtypes; convert the operands to one dtype first.")
    fn = _new(cls)
    fn.alpha = alpha
    fn.beta = beta
    out = fn.forward(c._data, a._data, b._data)
    try:
        np.broadcast_to(c._data, out.shape)
    except ValueError:
        raise RuntimeError(f"The expanded size of the input {list(c._data.shape)} must match "
                           f"the product's size {list(out.shape)}") from None
    return record(fn, (c, a, b), array_module(out).ascontiguousarray(out) if out.ndim else out)


def _chk_mm(a, b):
    if a._data.ndim != 2 or b._data.ndim != 2:
        raise RuntimeError("mat1 must be a matrix and mat2 must be a matrix")
    if a._data.shape[1] != b._data.shape[0]:
        raise _mismatch(a, b)


def _chk_mv(a, b):
    if a._data.ndim != 2 or b._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {a._data.ndim}, "
                           f"{b._data.ndim}")
    if a._data.shape[1] != b._data.shape[0]:
        raise _mismatch(a, b)


def _chk_bmm(a, b):
    bmm(a.detach(), b.detach()) if a._data.size * b._data.size < 0 else None
    sa, sb = a._data.shape, b._data.shape
    if len(sa) != 3 or len(sb) != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor and batch2 must be a 3D tensor (got "
                           f"{len(sa)}-d and {len(sb)}-d)")
    if sa[0] != sb[0] or sa[2] != sb[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{sa[0]}, {sa[2]}] but got: [{sb[0]}, {sb[1]}].")


def addmm(c: Tensor, a: Tensor, b: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * c + alpha * (a @ b)`` for matrices.

    >>> import leafgrad
    >>> addmm(leafgrad.zeros(2, 2), leafgrad.ones(2, 3), leafgrad.ones(3, 2))[0]
    tensor([3., 3.])
    """
    return _addmm(Addmm, c, a, b, beta, alpha, _chk_mm)


def addmv(c: Tensor, a: Tensor, v: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * c + alpha * (a @ v)``.

    >>> import leafgrad
    >>> addmv(leafgrad.zeros(2), leafgrad.ones(2, 3), leafgrad.ones(3))
    tensor([3., 3.])
    """
    return _addmm(Addmv, c, a, v, beta, alpha, _chk_mv)


def baddbmm(c: Tensor, a: Tensor, b: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * c + alpha * bmm(a, b)``.

    >>> import leafgrad
    >>> baddbmm(leafgrad.zeros(1, 2, 2), leafgrad.ones(1, 2, 3), leafgrad.ones(1, 3, 2)).shape
    torch.Size([1, 2, 2])
    """
    return _addmm(Baddbmm, c, a, b, beta, alpha, _chk_bmm)


def addbmm(c: Tensor, a: Tensor, b: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * c + alpha * sum_b(a[b] @ b[b])``.

    >>> import leafgrad
    >>> addbmm(leafgrad.zeros(2, 2), leafgrad.ones(4, 2, 3), leafgrad.ones(4, 3, 2))[0]
    tensor([12., 12.])
    """
    return _addmm(Addbmm, c, a, b, beta, alpha, _chk_bmm)
