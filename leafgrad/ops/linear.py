"""``F.linear`` and ``F.bilinear``: one fused node for ``x Wᵀ + b`` (PyTorch's Addmm / Mm)."""

from __future__ import annotations

import math

from ..autograd.grad_mode import state
from ..autograd.node import Op
from ..backend import array_module
from ..tensor import Tensor, _wrap
from ._apply import record
from .dual import t

__all__ = ["linear", "bilinear"]

_new = object.__new__


def _xwt(x, w):
    """``x @ w.T`` as a C-ordered array.

    NOTE: computed as ``(w @ x.T).T``: OpenBLAS's sgemm is ~15% slower on a transposed second
    operand for these shapes (measured on W2's 64x784 @ 784x256); the copy back to C order
    costs less than that and keeps the next layer's operands contiguous.
    """
    if x.shape[0] >= 256:
        # NOTE: for many rows the copy back (a transpose of the whole output) costs more than
        # the transposed operand does: 2-3x slower on W8's 1024x128 @ 128x384
        return x @ w.T
    xp = array_module(x)
    return xp.ascontiguousarray((w @ x.T).T)


class LinearAddmm(Op):
    """``x @ w.T + b`` for a 2-d ``x``: PyTorch records ``addmm(b, x, w.t())`` here."""

    name_ = "AddmmBackward0"
    formula = {"x": "grad @ w", "w": "grad.t() @ x", "b": "grad.sum(0)"}
    saved_for = ((1,), (0,), ())  # as addmm: x for w's gradient, w for x's, never the bias
    __slots__ = ()

    def forward(self, x, w, b):
        out = _xwt(x, w)
        out += b  # NOTE: in place on the fresh product: no second (batch, out) buffer
        return out

    def backward(self, grad):
        x, w, _ = self.saved(grad)
        need = self.needs_input_grad
        gx = grad @ w if need[0] else None
        gw = t(grad) @ x if need[1] else None
        gb = grad.sum(0) if need[2] else None
        return gx, gw, gb


class LinearMm(Op):
    """``x @ w.T`` for a 2-d ``x`` without bias (PyTorch's ``MmBackward0``)."""

    name_ = "MmBackward0"
    formula = {"x": "grad @ w", "w": "grad.t() @ x"}
    saved_for = ((1,), (0,))  # as mm: w for x's gradient, x for w's
    __slots__ = ()

    def forward(self, x, w):
        return _xwt(x, w)

    def backward(self, grad):
        x, w = self.saved(grad)
        need = self.needs_input_grad
        return (grad @ w if need[0] else None,
                t(grad) @ x if need[1] else None)


def _dtype_name(a) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half"}.get(
        a.dtype.name, a.dtype.name.capitalize())


def _c_name(a) -> str:
    return {"float32": "float", "float64": "double", "float16": "c10::Half"}.get(
        a.dtype.name, a.dtype.name)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` over the last dim of ``input``.

    >>> import leafgrad
    >>> linear(leafgrad.ones(2, 3), leafgrad.ones(4, 3), leafgrad.zeros(4))
    tensor([[3., 3., 3., 3.],
            [3., 3., 3., 3.]])
    """
    x, w = input._data, weight._data
    if x.ndim == 0 or w.ndim == 0:
        raise RuntimeError(
            f"both arguments to linear need to be at least 1D, but they are {x.ndim}D and "
            f"{w.ndim}D\nWhy: linear contracts the last dim of the input with the weight's "
            "in_features; give the input a feature dim (x.unsqueeze(-1)).")
    if w.ndim != 2 or x.dtype != w.dtype or (bias is not None and bias._data.dtype != x.dtype):
        return _linear_composite(input, weight, bias)
    if x.shape[-1] != w.shape[1]:
        rows = math.prod(x.shape[:-1]) if x.ndim > 1 else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} and "
            f"{w.shape[1]}x{w.shape[0]})\nWhy: the input's last dim ({x.shape[-1]}) is its "
            f"features, and this layer expects in_features={w.shape[1]}; check the previous "
            "layer's out_features or the Flatten before it.")
    if bias is not None and bias._data.shape not in ((w.shape[0],), (), (1,)):
        return _linear_composite(input, weight, bias)
    if x.ndim != 2:
        # other ranks fold to 2-d, as PyTorch does (its outer node is then a view)
        lead = x.shape[:-1]
        out = linear(input.reshape(-1, x.shape[-1]), weight, bias)
        return out.reshape(*lead, w.shape[0])
    if bias is None:
        fn = _new(LinearMm)
        out = fn.forward(x, w)
        return record(fn, (input, weight), out) if state.enabled else _wrap(out)
    fn = _new(LinearAddmm)
    out = fn.forward(x, w, bias._data)
    return record(fn, (input, weight, bias), out) if state.enabled else _wrap(out)


def _linear_composite(input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """Unusual operands (1-d weight, mixed dtypes, odd bias): built from core ops, which raise
    PyTorch's errors for mismatches."""
    x, w = input._data, weight._data
    if x.dtype != w.dtype and bias is not None and x.ndim > 1:
        raise RuntimeError(  # PyTorch's addmm message
            f"mat1 and mat2 must have the same dtype, but got {_dtype_name(x)} and "
            f"{_dtype_name(w)}\nWhy: linear does not promote dtypes; convert the input or the "
            "layer (x.float(), model.double()).")
    if x.dtype != w.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_c_name(x)} != {_c_name(w)}\n"
            "Why: linear does not promote dtypes; convert the input or the layer "
            "(x.float(), model.double()).")
    if bias is not None and bias._data.dtype != x.dtype:
        raise RuntimeError(
            f"self and mat2 must have the same dtype, but got {_dtype_name(bias._data)} and "
            f"{_dtype_name(x)}\nWhy: linear does not promote dtypes; convert the bias.")
    if w.ndim == 1:
        out = input @ weight
    elif w.ndim == 2:
        out = input @ weight.t()
    else:
        raise RuntimeError(f"mat2 must be a matrix, got {w.ndim}-D tensor")
    if bias is not None:
        if w.ndim == 2 and bias._data.ndim == 1 and bias._data.shape[0] not in (1, w.shape[0]):
            shape = list(out.shape)
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[-1]}) must match the existing size "
                f"({bias._data.shape[0]}) at non-singleton dimension {len(shape) - 1}.  Target "
                f"sizes: {shape}.  Tensor sizes: [{bias._data.shape[0]}]\nWhy: the bias has "
                "one value per output feature.")
        out = out + bias
    return out


def _cname(dtype) -> str:
    return {"float32": "float", "float64": "double", "float16": "half", "bfloat16": "bfloat16"
            }.get(str(dtype).replace("torch.", ""), str(dtype).replace("torch.", ""))


def _einsum3(eq: str, *ops):
    """A three-operand einsum on arrays, or recorded (differentiable) when one is a Tensor."""
    if any(isinstance(o, Tensor) for o in ops):
        from ..methods.linalg import einsum

        return einsum(eq, *(o if isinstance(o, Tensor) else _wrap(o) for o in ops))
    return array_module(ops[0]).einsum(eq, *ops, optimize=True)


class Trilinear(Op):
    """bilinear's core, PyTorch's ``_trilinear``: ``y[b, k] = Σ x1[b, i] W[k, i, j] x2[b, j]``."""

    name_ = "TrilinearBackward0"
    formula = {"x1": "einsum('bk,kij,bj->bi', grad, w, x2)",
               "w": "einsum('bk,bi,bj->kij', grad, x1, x2)",
               "x2": "einsum('bk,bi,kij->bj', grad, x1, w)"}
    __slots__ = ()

    def forward(self, x1, w, x2):
        # NOTE: PyTorch's _trilinear contracts input1 with the weight first, then input2; the
        # order decides inf - inf (NaN) against a signed inf when the inputs hold infinities
        xp = array_module(x1)
        return xp.einsum("bkj,bj->bk", xp.einsum("bi,kij->bkj", x1, w), x2)

    def backward(self, grad):
        x1, w, x2 = self.saved(grad)
        need = self.needs_input_grad
        return (_einsum3("bk,kij,bj->bi", grad, w, x2) if need[0] else None,
                _einsum3("bk,bi,bj->kij", grad, x1, x2) if need[1] else None,
                _einsum3("bk,bi,kij->bj", grad, x1, w) if need[2] else None)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """``y_k = x1ᵀ W_k x2 + b_k`` over the last dims of the two inputs.

    >>> import leafgrad
    >>> bilinear(leafgrad.ones(1, 2), leafgrad.ones(1, 3), leafgrad.ones(4, 2, 3))
    tensor([[6., 6., 6., 6.]])
    """
    from ..methods.linalg import einsum

    if input1._data.shape[:-1] != input2._data.shape[:-1]:
        raise RuntimeError(
            "bilinear(): input batch dimensions do not match: got "
            f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    if input1._data.shape[-1] != weight._data.shape[1]:
        raise RuntimeError(
            f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
            f"expected {weight.shape[1]}")
    if input2._data.shape[-1] != weight._data.shape[2]:
        raise RuntimeError(
            f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
            f"expected {weight.shape[2]}")
    dts = (input1.dtype, input2.dtype, weight.dtype)
    if len(set(dts)) > 1:
        raise RuntimeError(
            "All tensors must have the same dtype, got input1: {}, input2: {}, weight: {}".format(
                *(_cname(d) for d in dts)))
    if input1._data.dtype.kind != "f":  # no gradient to keep: einsum's integer rules
        out = einsum("...kj,...j->...k", einsum("...i,kij->...kj", input1, weight), input2)
    else:
        # NOTE: one node as PyTorch's (_trilinear between two views): it saves all three
        # operands, so an in-place change to any of them refuses backward before any gradient
        # reaches a leaf
        batch = tuple(input1._data.shape[:-1])
        a = input1.reshape(-1, input1._data.shape[-1])
        b = input2.reshape(-1, input2._data.shape[-1])
        fn = _new(Trilinear)
        out = record(fn, (a, weight, b), fn.forward(a._data, weight._data, b._data))
        out = out.view(batch + (weight._data.shape[0],))
    if bias is not None:
        out = out + bias
    return out

