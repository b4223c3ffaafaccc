"""The clamp family and the ternary ops: clamp, lerp, addcmul, addcdiv."""

from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import state
from ...autograd.node import Op
from ...backend import array_module
from ...dtypes import FROM_NP
from ...tensor import Tensor, _wrap
from .. import dual
from .._apply import record, record2
from .dispatch import _binary, _new, _unary_with, broadcast_error


# -- clamp -------------------------------------------------------------------------------------
class Clamp(Op):
    """clamp with Python-number bounds (either may be None)."""

    name_ = "ClampBackward1"
    elementwise = True
    same_shape = True
    formula = {"x": "where((x >= min) & (x <= max), grad, 0.0)"}
    __slots__ = ("min", "max")

    def forward(self, x):
        if self.min is not None:
            x = np.maximum(x, x.dtype.type(self.min))
        if self.max is not None:
            x = np.minimum(x, x.dtype.type(self.max))
        return x

    def backward(self, grad):
        x = dual.raw(self.saved(grad)[0])
        # NOTE: PyTorch passes the gradient at the bounds themselves (>= and <=)
        if self.min is None:
            m = x <= self.max
        elif self.max is None:
            m = x >= self.min
        else:
            m = (x >= self.min) & (x <= self.max)
        return dual.where(m, grad, 0.0)


class ClampMin(Clamp):
    name_ = "ClampMinBackward0"
    formula = {"x": "where(x >= min, grad, 0.0)"}
    __slots__ = ()


class ClampMax(Clamp):
    name_ = "ClampMaxBackward0"
    formula = {"x": "where(x <= max, grad, 0.0)"}
    __slots__ = ()


class ClampTensor(Op):
    """clamp with tensor bounds (``min`` or ``max`` may be None)."""

    name_ = "ClampBackward0"
    elementwise = True
    op_name = "clamp"
    formula = {"x": "where((x >= min) & (x <= max), grad, 0.0)",
               "min": "where((x < min) & (min < max), grad, 0.0)",
               "max": "where((x > max) | (max < min), grad, 0.0)"}
    __slots__ = ()

    def forward(self, x, lo, hi):
        if lo is not None:
            x = np.maximum(x, lo)
        if hi is not None:
            x = np.minimum(x, hi)
        return x

    def backward(self, grad):
        x, lo, hi = (dual.raw(v) for v in self.saved(grad))
        need = self.needs_input_grad
        gx = glo = ghi = None
        if need[0]:
            m = True
            if lo is not None:
                m = x >= lo
            if hi is not None:
                m = m & (x <= hi)
            gx = dual.where(m, grad, 0.0)
        if lo is not None and need[1]:
            m = x < lo if hi is None else (x < lo) & (lo < hi)
            glo = dual.where(m, grad, 0.0)
        if hi is not None and need[2]:
            m = x > hi if lo is None else (x > hi) | (hi < lo)
            ghi = dual.where(m, grad, 0.0)
        return gx, glo, ghi


class ClampMinTensor(Op):
    name_ = "ClampMinBackward1"
    elementwise = True
    op_name = "clamp_min"
    formula = {"a": "where(a >= b, grad, 0.0)", "b": "where(a < b, grad, 0.0)"}
    __slots__ = ()

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, grad):
        a, b = (dual.raw(v) for v in self.saved(grad))
        m = a >= b
        need = self.needs_input_grad
        return (dual.where(m, grad, 0.0) if need[0] else None,
                dual.where(m, 0.0, grad) if need[1] else None)


class ClampMaxTensor(Op):
    name_ = "ClampMaxBackward1"
    elementwise = True
    op_name = "clamp_max"
    formula = {"a": "where(a <= b, grad, 0.0)", "b": "where(a > b, grad, 0.0)"}
    __slots__ = ()

    def forward(self, a, b):
        return np.minimum(a, b)

    def backward(self, grad):
        a, b = (dual.raw(v) for v in self.saved(grad))
        m = a <= b
        need = self.needs_input_grad
        return (dual.where(m, grad, 0.0) if need[0] else None,
                dual.where(m, 0.0, grad) if need[1] else None)


def _as_operand(v, like: Tensor):
    from ...creation import as_tensor

    return v if isinstance(v, Tensor) else as_tensor(v)


def clamp(x: Tensor, min=None, max=None, _clamp_cls=None) -> Tensor:  # noqa: A002
    """``min(max(x, min), max)`` with number or tensor bounds."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if _clamp_cls is None:
        _clamp_cls = Clamp
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = None if min is None else _as_operand(min, x)
        hi = None if max is None else _as_operand(max, x)
        from ...dtypes import _result_type

        dt = _result_type(*(v for v in (x, lo, hi) if v is not None)).np
        args = [None if v is None else (v._data if v._data.dtype == dt else v._data.astype(dt))
                for v in (x, lo, hi)]
        fn = _new(ClampTensor)
        try:
            out = fn.forward(*args)
        except ValueError as e:
            raise broadcast_error("clamp", x, lo if lo is not None else hi, e) from None
        return record(fn, (x, lo, hi), out)
    dt = _result_type_many(x, *(v for v in (min, max) if v is not None))
    if x._data.dtype != dt:
        x = x.to(FROM_NP[dt])
    # NOTE: PyTorch records clamp(x, min=s) as ClampBackward1; only clamp_min(x, s) is ClampMin
    return _unary_with(_clamp_cls, x, min=min, max=max)


def _result_type_many(*ops):
    from ...dtypes import _result_type

    return _result_type(*ops).np


def clamp_min(x: Tensor, min) -> Tensor:  # noqa: A002
    """``max(x, min)``."""
    if isinstance(min, Tensor):
        return _binary(ClampMinTensor, x, min)
    return clamp(x, min=min, _clamp_cls=ClampMin)


def clamp_max(x: Tensor, max) -> Tensor:  # noqa: A002
    """``min(x, max)``."""
    if isinstance(max, Tensor):
        return _binary(ClampMaxTensor, x, max)
    return clamp(x, max=max, _clamp_cls=ClampMax)


# -- ternary ops --------------------------------------------------------------------------------
def _ternary(cls, opname: str, inputs: tuple, **params) -> Tensor:
    from ...creation import as_tensor
    from ...dtypes import _result_type

    ts = tuple(v if isinstance(v, Tensor) else as_tensor(v) for v in inputs)
    dt = _result_type(*inputs).np
    arrs = [t._data if t._data.dtype == dt else t._data.astype(dt) for t in ts]
    fn = _new(cls)
    for k, v in params.items():
        setattr(fn, k, v)
    try:
        out = fn.forward(*arrs)
    except ValueError:
        shapes = " and ".join(str(list(t.shape)) for t in ts)
        raise RuntimeError(
            f"{opname}(): shapes {shapes} are not broadcastable. Why: broadcasting lines shapes "
            "up from the right, and each pair of sizes must be equal or one of them 1."
        ) from None
    return record(fn, ts, out)


_F16 = np.dtype(np.float16)


def _via_float(forward, *arrays):
    """A float16 op as ATen computes it: in float (its opmath), rounded to half once."""
    out = forward(*(v.astype(np.float32) if getattr(v, "dtype", None) == _F16 else v
                    for v in arrays))
    with np.errstate(over="ignore"):  # past 65504: inf, silently, as in torch
        return out.astype(np.float16)


def _lerp_np(a, b, w):
    # NOTE: PyTorch's lerp: a + w (b - a) for |w| < 0.5, else b - (b - a)(1 - w), exact at w = 1
    if _fused_ok(a, b, w):
        from ...optim import _fma, _kernels

        xp = array_module(a)  # NumPy here (_fused_ok): the kernels are host code
        out = xp.empty(xp.broadcast_shapes(a.shape, b.shape, xp.shape(w)), a.dtype)
        with _fma.errors():
            if np.ndim(w) == 0:
                _kernels.lerp(out, a, b, float(w))  # one fused multiply-add, as ATen
            else:
                d = b - a
                lo, hi = xp.empty_like(out), out
                _fma.fma(lo, w, d, a)
                _fma.fma(hi, w - 1, d, b)
                xp.copyto(out, lo, where=xp.abs(w) < 0.5)
        return out
    d = b - a
    return np.where(np.abs(w) < 0.5, a + w * d, b - d * (1 - w)).astype(d.dtype, copy=False)


_FUSED_DT = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


def _fused_ok(*arrays) -> bool:
    """Whether ATen's fused multiply-add is reproduced here (NumPy float32/float64 arrays of
    one dtype; ``optim._fma`` emulates it exactly): the rest computes unfused, as before."""
    dt = arrays[0].dtype
    return dt in _FUSED_DT and all(
        type(x) is np.ndarray and x.dtype == dt or np.ndim(x) == 0 for x in arrays)


class Lerp(Op):
    name_ = "LerpBackward0"
    elementwise = True
    op_name = "lerp"
    formula = {"a": "grad * (1 - weight)", "b": "grad * weight"}
    save_inputs = False
    __slots__ = ("weight",)

    def forward(self, a, b):
        if a.dtype == _F16:
            return _via_float(self.forward, a, b)
        return _lerp_np(a, b, a.dtype.type(self.weight))

    def backward(self, grad):
        need = self.needs_input_grad
        w = self.weight
        return (grad * (1 - w) if need[0] else None,
                grad * w if need[1] else None)


class LerpTensor(Op):
    name_ = "LerpBackward1"
    elementwise = True
    op_name = "lerp"
    formula = {"a": "grad * (1 - w)", "b": "grad * w", "w": "grad * (b - a)"}
    saved_for = ((2,), (2,), (0, 1))  # PyTorch: weight for start's and end's; both for weight's
    __slots__ = ()

    def forward(self, a, b, w):
        if a.dtype == _F16:
            return _via_float(self.forward, a, b, w)
        return _lerp_np(a, b, w)

    def backward(self, grad):
        a, b, w = self.saved(grad)
        need = self.needs_input_grad
        return (grad * (-w + 1) if need[0] else None,
                grad * w if need[1] else None,
                grad * (b - a) if need[2] else None)


def lerp(a: Tensor, b: Tensor, weight) -> Tensor:
    """``a + weight * (b - a)``."""
    for name, v in (("end", b), ("weight", weight)):
        if isinstance(v, Tensor) and v._data.dtype != a._data.dtype:
            raise RuntimeError(
                f"expected dtype {a.dtype.name.replace('32', '').replace('64', '')} for `{name}` "
                f"but got dtype {v.dtype.name}\nWhy: lerp needs start, end and weight of one "
                "dtype; cast with .to(start.dtype).")
    if isinstance(weight, Tensor):
        return _ternary(LerpTensor, "lerp", (a, b, weight))
    fn = _new(Lerp)
    fn.weight = weight
    try:
        out = fn.forward(a._data, b._data)
    except ValueError as e:
        raise broadcast_error("lerp", a, b, e) from None
    return record2(fn, a, b, out) if state.enabled else _wrap(out)


class Addcmul(Op):
    name_ = "AddcmulBackward0"
    elementwise = True
    formula = {"x": "grad", "t1": "grad * value * t2", "t2": "grad * value * t1"}
    saved_for = ((), (2,), (1,))
    __slots__ = ("value",)

    def forward(self, x, t1, t2):
        v = self.value
        if x.dtype == _F16:
            return _via_float(self.forward, x, t1, t2)
        if _fused_ok(x, t1, t2):
            return _via_kernel("addcmul", x, t1, t2, v)  # x + (v * t1) * t2, the last two fused
        return x + (t1 * t2 if v == 1 else t1 * t2 * x.dtype.type(v))

    def backward(self, grad):
        _, t1, t2 = self.saved(grad)
        need = self.needs_input_grad
        v = self.value
        return (grad if need[0] else None,
                grad * v * t2 if need[1] else None,
                grad * v * t1 if need[2] else None)


class Addcdiv(Op):
    name_ = "AddcdivBackward0"
    elementwise = True
    formula = {"x": "grad", "t1": "grad * value / t2", "t2": "-grad * value * t1 / (t2 * t2)"}
    saved_for = ((), (2,), (1, 2))
    __slots__ = ("value",)

    def forward(self, x, t1, t2):
        if x.dtype == _F16:
            return _via_float(self.forward, x, t1, t2)
        if _fused_ok(x, t1, t2):
            return _via_kernel("addcdiv", x, t1, t2, self.value)  # x + (v * t1) / t2, as ATen
        with np.errstate(divide="ignore", invalid="ignore"):
            q = t1 / t2
        return x + (q if self.value == 1 else q * x.dtype.type(self.value))

    def backward(self, grad):
        _, t1, t2 = self.saved(grad)
        need = self.needs_input_grad
        v = self.value
        return (grad if need[0] else None,
                grad * v / t2 if need[1] else None,
                -grad * v * t1 / (t2 * t2) if need[2] else None)


def addcdiv(x: Tensor, t1: Tensor, t2: Tensor, value=1) -> Tensor:
    """``x + value * t1 / t2``."""
    if t1._data.dtype.kind in "iub" and t2._data.dtype.kind in "iub":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))."
            "to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")
    return _ternary(Addcdiv, "addcdiv", (x, t1, t2), value=value)


def _via_kernel(name: str, x, t1, t2, value):
    """``addcmul``/``addcdiv`` through the optimizers' kernels, which round as ATen does."""
    from ...optim import _fma, _kernels

    xp = array_module(x)  # NumPy here (_fused_ok): the kernels are host code
    out = xp.empty(xp.broadcast_shapes(x.shape, t1.shape, t2.shape), x.dtype)
    with _fma.errors():  # inf and nan are values, as in torch: no NumPy warnings
        getattr(_kernels, name)(out, x, t1, t2, value)
    return out
