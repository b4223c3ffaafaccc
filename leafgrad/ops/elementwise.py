"""Elementwise ops: arithmetic, powers, exp/log, trigonometric and activation functions."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import state
from ..autograd.node import Op
from ..backend import array_module
from ..dtypes import FROM_NP, _Default, result_type
from ..tensor import Tensor, _wrap
from . import dual
from ._apply import record, record2, record_unary

_new = object.__new__
_float_kinds = "f"
_FLOAT_NP = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64))


# -- dispatch helpers ---------------------------------------------------------------------------
def _unary(cls, x: Tensor) -> Tensor:
    fn = _new(cls)
    if not state.enabled:
        return _wrap(fn.forward(x._data))
    return record_unary(fn, x, fn.forward(x._data))


def _unary_with(cls, x: Tensor, **params) -> Tensor:
    fn = _new(cls)
    for k, v in params.items():
        setattr(fn, k, v)
    return record_unary(fn, x, fn.forward(x._data))


def _to_float(x: Tensor) -> Tensor:
    """Integer/bool inputs of floating ops (exp, sin, ...) compute in the default float dtype."""
    if x._data.dtype.kind in _float_kinds:
        return x
    return _wrap(x._data.astype(_Default.value.np))


def broadcast_error(op: str, a, b) -> RuntimeError:
    """PyTorch's message for shapes that do not broadcast, naming the op and both shapes."""
    sa = list(a._data.shape) if isinstance(a, Tensor) else list(np.shape(a))
    sb = list(b._data.shape) if isinstance(b, Tensor) else list(np.shape(b))
    detail = ""
    for k in range(1, max(len(sa), len(sb)) + 1):
        da = sa[-k] if k <= len(sa) else 1
        db = sb[-k] if k <= len(sb) else 1
        if da != db and da != 1 and db != 1:
            dim = max(len(sa), len(sb)) - k
            detail = (f"The size of tensor a ({da}) must match the size of tensor b ({db}) at "
                      f"non-singleton dimension {dim}")
            break
    return RuntimeError(
        f"{detail}\n{op}(): shapes {sa} and {sb} are not broadcastable. Why: broadcasting lines "
        "shapes up from the right, and each pair of sizes must be equal or one of them 1; "
        "reshape or unsqueeze one operand (e.g. b.unsqueeze(-1)) so the sizes line up."
    )


def _operands(a: Tensor, b):
    """Raw operands of a binary op, cast to PyTorch's promoted dtype when dtypes differ."""
    ad = a._data
    if isinstance(b, Tensor):
        bd = b._data
        if ad.dtype is not bd.dtype and ad.dtype != bd.dtype:
            dt = result_type(a, b).np
            if ad.dtype != dt:
                ad = ad.astype(dt)
            if bd.dtype != dt:
                bd = bd.astype(dt)
        return ad, bd
    cls = b.__class__
    kind = ad.dtype.kind
    if cls is float:
        if kind != "f":
            ad = ad.astype(_Default.value.np)
        return ad, b
    if cls is int:
        if kind == "b":
            ad = ad.astype(np.int64)
        elif kind in "iu":
            info = np.iinfo(ad.dtype)
            if not info.min <= b <= info.max:
                # NOTE: PyTorch wraps an out-of-range Python int around (int8 + 1000 -> -23)
                b = np.array(b).astype(ad.dtype)
        return ad, b
    if cls is bool:
        return ad, b
    if isinstance(b, (np.ndarray, np.generic)) or hasattr(b, "__array__"):
        from ..creation import as_tensor

        return _operands(a, as_tensor(b))
    raise TypeError(
        f"unsupported operand type for a tensor op: {type(b).__name__}; expected a Tensor or a "
        "Python number"
    )


_F16 = np.dtype(np.float16)


def _half_with_scalar(cls, a: Tensor, b) -> Tensor:
    """float16 tensor op Python number, computed in float32 and rounded once, as PyTorch does.

    NOTE: NumPy would round the number to half first (0.1 -> 0.0999756), so ``x * 0.1`` would
    differ from PyTorch's in the last bit, and 1e10 would overflow to inf.
    """
    fn = _new(cls)
    out = fn.forward(a._data.astype(np.float32), b).astype(np.float16)
    if state.enabled:
        return record2(fn, a, b, out)
    return _wrap(out)


def _binary(cls, a: Tensor, b) -> Tensor:
    """Run binary op ``cls`` on a Tensor and a Tensor/number (``b`` may be a Python scalar)."""
    ad = a._data
    bc = b.__class__
    # Fast paths first: same-dtype tensors, and a float tensor with a Python float.
    if bc is Tensor and ad.dtype is b._data.dtype:
        bd = b._data
    elif (bc is float or bc is int) and ad.dtype in _FLOAT_NP:
        bd = b  # NumPy keeps a float array's dtype with a Python number, as PyTorch does
        if ad.dtype is _F16:
            return _half_with_scalar(cls, a, b)
    else:
        if not isinstance(b, (Tensor, int, float, bool)):
            from ..creation import as_tensor

            try:
                b = as_tensor(b)
            except (TypeError, ValueError):
                return NotImplemented
        ad, bd = _operands(a, b)
    fn = _new(cls)
    try:
        out = fn.forward(ad, bd)
    except ValueError:
        raise broadcast_error(cls.op_name, a, b) from None
    if state.enabled:
        return record2(fn, a, b, out)
    return _wrap(out)


# -- ops ------------------------------------------------------------------------------------------
class Add(Op):
    name_ = "AddBackward0"
    op_name = "add"
    formula = {"a": "grad", "b": "grad"}
    save_inputs = False
    __slots__ = ()

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(Op):
    name_ = "SubBackward0"
    op_name = "sub"
    formula = {"a": "grad", "b": "-grad"}
    save_inputs = False
    __slots__ = ()

    def forward(self, a, b):
        if a.dtype.kind == "b" and getattr(b, "dtype", None) is not None and b.dtype.kind == "b":
            raise RuntimeError(
                "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                "`^` or `logical_xor()` operator instead."
            )
        return a - b

    def backward(self, grad):
        return grad, -grad


class AddAlpha(Op):
    """``a + alpha * b`` (``add(a, b, alpha=...)``); alpha lives in the node, as in PyTorch."""

    name_ = "AddBackward0"
    op_name = "add"
    formula = {"a": "grad", "b": "grad * alpha"}
    save_inputs = False
    __slots__ = ("alpha",)

    def forward(self, a, b):
        return a + b * self.alpha

    def backward(self, grad):
        return grad, grad * self.alpha


class SubAlpha(AddAlpha):
    """``a - alpha * b``."""

    name_ = "SubBackward0"
    op_name = "sub"
    formula = {"a": "grad", "b": "-grad * alpha"}
    __slots__ = ()

    def forward(self, a, b):
        return a - b * self.alpha

    def backward(self, grad):
        return grad, -grad * self.alpha


def add_alpha(cls, a: Tensor, b, alpha) -> Tensor:
    """``add``/``sub`` with ``alpha != 1``."""
    if not isinstance(b, Tensor):
        return _binary(Add if cls is AddAlpha else Sub, a, b * alpha)
    ad, bd = _operands(a, b)
    fn = _new(cls)
    fn.alpha = alpha
    try:
        out = fn.forward(ad, bd)
    except ValueError:
        raise broadcast_error(cls.op_name, a, b) from None
    return record2(fn, a, b, out) if state.enabled else _wrap(out)


class Rsub(Op):
    """``other - x`` for a Python number ``other`` (the number is not an input of the node)."""

    name_ = "RsubBackward1"
    formula = {"x": "-grad"}
    same_shape = True
    save_inputs = False
    __slots__ = ("other",)

    def forward(self, x):
        return self.other - x

    def backward(self, grad):
        return -grad


class RsubTensor(Op):
    """``b - a`` for tensors (``torch.rsub(a, b)``)."""

    name_ = "RsubBackward0"
    op_name = "rsub"
    formula = {"a": "-grad", "b": "grad"}
    save_inputs = False
    __slots__ = ()

    def forward(self, a, b):
        return b - a

    def backward(self, grad):
        return -grad, grad


def rsub(x: Tensor, other) -> Tensor:
    """``other - x`` (the reflected ``-``)."""
    if isinstance(other, Tensor):
        return _binary(RsubTensor, x, other)
    if not isinstance(other, (int, float, bool)):
        from ..creation import as_tensor

        return _binary(RsubTensor, x, as_tensor(other))
    xd, od = _operands(x, other)
    if xd is not x._data:
        x = _wrap(xd) if not x._rg else x.to(FROM_NP[xd.dtype])
    fn = _new(Rsub)
    fn.other = od
    if x._data.dtype.kind == "b":
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return record_unary(fn, x, fn.forward(x._data))


class Mul(Op):
    name_ = "MulBackward0"
    op_name = "mul"
    formula = {"a": "grad * b", "b": "grad * a"}
    __slots__ = ()

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        return (grad * b if nf[0][0] is not None else None,
                grad * a if nf[1][0] is not None else None)


class Div(Op):
    name_ = "DivBackward0"
    op_name = "div"
    formula = {"a": "grad / b", "b": "-grad * a / (b * b)"}
    __slots__ = ()

    def forward(self, a, b):
        if a.dtype.kind != "f":
            # NOTE: true division of integers gives the default float dtype, as in PyTorch
            a = a.astype(_Default.value.np)
            if hasattr(b, "dtype"):
                b = b.astype(a.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            return a / b

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        ga = grad / b if nf[0][0] is not None else None
        gb = -grad * a / (b * b) if nf[1][0] is not None else None
        return ga, gb


class Neg(Op):
    name_ = "NegBackward0"
    same_shape = True
    formula = {"x": "-grad"}
    save_inputs = False
    __slots__ = ()

    def forward(self, x):
        if x.dtype.kind == "b":
            raise RuntimeError(
                "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                "to invert a mask, use the `~` or `logical_not()` operator instead."
            )
        return -x

    def backward(self, grad):
        return -grad


class PowScalar(Op):
    """``x ** exponent`` for a Python-number exponent."""

    name_ = "PowBackward0"
    same_shape = True
    formula = {"x": "grad * exponent * x ** (exponent - 1)"}
    __slots__ = ("exponent",)

    def forward(self, x):
        return x ** self.exponent

    def backward(self, grad):
        (x,) = self.saved(grad)
        e = self.exponent
        if e == 0:
            # NOTE: PyTorch's pow_backward returns zeros for exponent 0 (no 0 * x**-1 NaN at 0)
            return grad * 0
        if e == 2:
            return grad * (x * 2.0)  # the common square: one op fewer than x ** 1 * 2
        return grad * (x ** (e - 1) * e)


class PowTensor(Op):
    """``a ** b`` with a tensor exponent."""

    name_ = "PowBackward1"
    op_name = "pow"
    formula = {"a": "grad * b * a ** (b - 1)", "b": "grad * out * a.log()"}
    save_output = True
    __slots__ = ()

    def forward(self, a, b):
        return a ** b

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        ga = gb = None
        if nf[0][0] is not None:
            # NOTE: PyTorch gives 0 where the exponent is 0 (no 0 * x**-1 = nan at x = 0)
            ga = dual.where(_raw(b == 0), 0.0, grad * b * a ** (b - 1))
        if nf[1][0] is not None:
            # NOTE: PyTorch masks the exponent's gradient to 0 where base == 0 and exponent >= 0
            gb = dual.where(_raw((a == 0) & (b >= 0)), 0.0,
                            grad * self.result(grad) * dual.log(a))
        return ga, gb


class RPowScalar(Op):
    """``base ** x`` for a Python-number base."""

    name_ = "PowBackward2"
    same_shape = True
    formula = {"x": "grad * out * math.log(base)"}
    save_inputs = False
    save_output = True
    __slots__ = ("base",)

    def forward(self, x):
        return self.base ** x

    def backward(self, grad):
        out = self.result(grad)
        if self.base == 0:
            # NOTE: d(0**x)/dx is taken as 0 where 0**x == 0 (x > 0), as in PyTorch
            return dual.where(self._out == 0, 0.0, grad * out * float("-inf"))
        return grad * out * math.log(self.base)


def _pow_scalar(x: Tensor, e) -> Tensor:
    d = x._data
    if e.__class__ is not int and e.__class__ is not float:
        e = e.item() if hasattr(e, "item") else e
        if isinstance(e, bool):
            e = int(e)
    if d.dtype not in _FLOAT_NP:
        if e.__class__ is int and e < 0:
            raise RuntimeError(
                "Integers to negative integer powers are not allowed.\nWhy: the result would "
                "not be an integer; convert first, e.g. x.float() ** -1."
            )
        if e.__class__ is float:
            x = x.to(_Default.value)
            d = x._data
    fn = _new(PowScalar)
    fn.exponent = e
    return record_unary(fn, x, d ** e)


def _rpow_scalar(x: Tensor, base) -> Tensor:
    if not isinstance(base, (int, float)):
        from ..creation import as_tensor

        return _binary(PowTensor, as_tensor(base), x)
    dt = result_type(x, base)
    if x._data.dtype != dt.np:
        x = x.to(dt)
    return _unary_with(RPowScalar, x, base=base)


class Reciprocal(Op):
    name_ = "ReciprocalBackward0"
    same_shape = True
    formula = {"x": "-grad * out * out"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return 1 / x

    def backward(self, grad):
        out = self.result(grad)
        return -grad * out * out


class Exp(Op):
    name_ = "ExpBackward0"
    same_shape = True
    formula = {"x": "grad * out"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return array_module(x).exp(x)

    def backward(self, grad):
        return grad * self.result(grad)


class Log(Op):
    name_ = "LogBackward0"
    same_shape = True
    formula = {"x": "grad / x"}
    __slots__ = ()

    def forward(self, x):
        xp = array_module(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.log(x)

    def backward(self, grad):
        return grad / self.saved(grad)[0]


class Sin(Op):
    name_ = "SinBackward0"
    same_shape = True
    formula = {"x": "grad * x.cos()"}
    __slots__ = ()

    def forward(self, x):
        return array_module(x).sin(x)

    def backward(self, grad):
        return grad * dual.cos(self.saved(grad)[0])


class Cos(Op):
    name_ = "CosBackward0"
    same_shape = True
    formula = {"x": "-grad * x.sin()"}
    __slots__ = ()

    def forward(self, x):
        return array_module(x).cos(x)

    def backward(self, grad):
        return -grad * dual.sin(self.saved(grad)[0])


class Tanh(Op):
    name_ = "TanhBackward0"
    same_shape = True
    formula = {"x": "grad * (1 - out * out)"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return array_module(x).tanh(x)

    def backward(self, grad):
        out = self.result(grad)
        return grad * (1 - out * out)


class Sigmoid(Op):
    name_ = "SigmoidBackward0"
    same_shape = True
    formula = {"x": "grad * out * (1 - out)"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        xp = array_module(x)
        # NOTE: exp(-x) overflows to inf for very negative x, and 1 / (1 + inf) = 0 is the
        # right answer (PyTorch's too), so only the warning needs silencing.
        with np.errstate(over="ignore"):
            e = xp.exp(-x)
        if not x.ndim:
            return 1 / (1 + e)  # e is a NumPy scalar here
        e += 1
        return xp.reciprocal(e, out=e)

    def backward(self, grad):
        out = self.result(grad)
        return grad * (out - out * out)


class Relu(Op):
    name_ = "ReluBackward0"
    same_shape = True
    formula = {"x": "threshold_backward(grad, out)"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        if x.dtype.kind == "b":
            raise RuntimeError('"relu" not implemented for \'Bool\'')
        return array_module(x).maximum(x, 0).astype(x.dtype, copy=False)

    def backward(self, grad):
        # NOTE: PyTorch's relu gradient at exactly 0 is 0 (threshold_backward uses out > 0)
        return dual.threshold_backward(grad, self.result(grad))


class ThresholdBackward(Op):
    """relu's backward as one op, so that a graph of it keeps PyTorch's zero path to the input."""

    name_ = "ThresholdBackwardBackward0"
    op_name = "threshold_backward"
    formula = {"a": "where(b > 0, a * 0 + 1, a * 0) * grad", "b": "grad * 0"}
    save_inputs = True
    __slots__ = ()

    def forward(self, g, out):
        return g * (out > 0)

    def backward(self, grad):
        g, out = self.saved(grad)
        nf = self.next_functions
        ga = dual.threshold_backward(grad, out) if nf[0][0] is not None else None
        return ga, (grad * 0 if nf[1][0] is not None else None)


def threshold_backward(grad: Tensor, out: Tensor) -> Tensor:
    """``grad`` where ``out > 0``, else 0 (PyTorch's threshold_backward with threshold 0)."""
    fn = _new(ThresholdBackward)
    res = fn.forward(grad._data, out._data)
    return record2(fn, grad, out, res) if state.enabled else _wrap(res)


class Sqrt(Op):
    name_ = "SqrtBackward0"
    same_shape = True
    formula = {"x": "grad / (2 * out)"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        with np.errstate(invalid="ignore"):
            return array_module(x).sqrt(x)

    def backward(self, grad):
        return grad / (2 * self.result(grad))


class Abs(Op):
    name_ = "AbsBackward0"
    same_shape = True
    formula = {"x": "grad * x.sign()"}
    __slots__ = ()

    def forward(self, x):
        if x.dtype.kind == "b":
            raise RuntimeError('"abs_cpu" not implemented for \'Bool\'')
        return array_module(x).abs(x)

    def backward(self, grad):
        # NOTE: d|x|/dx at 0 is taken as 0 (sign(0) = 0), as in PyTorch
        return grad * dual.sign(self.saved(grad)[0])


class Sign(Op):
    name_ = "SignBackward0"
    same_shape = True
    formula = {"x": "grad * 0"}
    save_inputs = False
    __slots__ = ()

    def forward(self, x):
        if x.dtype.kind == "b":
            return x.copy()
        return array_module(x).sign(x)

    def backward(self, grad):
        return grad * 0  # NOTE: sign is piecewise constant; PyTorch's gradient is zero everywhere


class Clone(Op):
    name_ = "CloneBackward0"
    same_shape = True
    formula = {"x": "grad"}
    save_inputs = False
    __slots__ = ()

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return grad


class ToCopy(Op):
    """A dtype conversion; the gradient is cast back to the input's dtype."""

    name_ = "ToCopyBackward0"
    formula = {"x": "grad"}  # the engine casts it back to the input dtype
    save_inputs = False
    __slots__ = ("dtype",)

    def forward(self, x):
        if x.dtype == np.float64 and self.dtype.np == np.float16:
            # NOTE: PyTorch converts double -> float -> half: two roundings, not one
            return x.astype(np.float32).astype(np.float16)
        return x.astype(self.dtype.np)

    def backward(self, grad):
        return grad  # the engine casts to the input's dtype (recorded in _meta)

    @classmethod
    def apply_to(cls, x: Tensor, dtype) -> Tensor:
        return _unary_with(cls, x, dtype=dtype)


class ToDevice(Op):
    """A move between devices; the gradient moves back."""

    name_ = "ToCopyBackward0"
    formula = {"x": "grad.to(src)"}
    save_inputs = False
    __slots__ = ("device", "src")

    def forward(self, x):
        from ..backend import device_of, move

        self.src = device_of(x)
        return move(x, self.device)

    def backward(self, grad):
        if isinstance(grad, Tensor):
            return grad.to(self.src)
        from ..backend import move

        return move(grad, self.src)

    @classmethod
    def apply_to(cls, x: Tensor, device) -> Tensor:
        return _unary_with(cls, x, device=device)


class Where(Op):
    """``a`` where ``cond`` holds, else ``b`` (``cond`` is a constant bool array)."""

    name_ = "WhereBackward0"
    op_name = "where"
    formula = {"a": "where(cond, grad, 0.0)", "b": "where(cond, 0.0, grad)"}
    save_inputs = False
    __slots__ = ("cond",)

    def forward(self, a, b):
        return array_module(self.cond).where(self.cond, a, b)

    def backward(self, grad):
        nf = self.next_functions
        ga = dual.where(self.cond, grad, 0.0) if nf[0][0] is not None else None
        gb = dual.where(self.cond, 0.0, grad) if nf[1][0] is not None else None
        return ga, gb


def where(cond, a, b) -> Tensor:
    """Elementwise select: ``a`` where ``cond`` is true, else ``b`` (differentiable in a and b).

    >>> import leafgrad
    >>> where(leafgrad.tensor([True, False]), leafgrad.tensor([1., 2.]), 0.0)
    tensor([1., 0.])
    """
    cd = cond._data if isinstance(cond, Tensor) else np.asarray(cond)
    if cd.dtype.kind != "b":
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{FROM_NP[cd.dtype]}"
        )
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            from ..creation import as_tensor

            b = as_tensor(b)
        a, b = b, a
        swap = True
    else:
        swap = False
    ad, bd = _operands(a, b)
    if swap:
        ad, bd = bd, ad
        a, b = b, a
    fn = _new(Where)
    fn.cond = cd
    try:
        out = fn.forward(ad, bd)
    except ValueError:
        raise broadcast_error("where", a, b) from None
    return record(fn, (a, b), out)


def _raw(x):
    """The raw array of a (bool) Tensor, or the array itself."""
    return x._data if isinstance(x, Tensor) else x




def bitwise(op, a: Tensor, b, name: str) -> Tensor:
    """``&``, ``|``, ``^`` on bool/integer tensors (not differentiable)."""
    if isinstance(b, Tensor) or isinstance(b, (int, bool)):
        ad, bd = _operands(a, b) if isinstance(b, Tensor) else (a._data, b)
    else:
        return NotImplemented
    if ad.dtype.kind == "f" or getattr(bd, "dtype", np.dtype(bool)).kind == "f":
        raise _not_impl_dtype(f"{name}_cpu", ad.dtype if ad.dtype.kind == "f" else bd.dtype)
    try:
        return _wrap(op(ad, bd))
    except ValueError:
        raise broadcast_error(name, a, b) from None


# == the full elementwise surface ================================================================
# Helpers for backward formulas beyond leafgrad.ops.dual, in its style: a Tensor method when the
# formula builds a graph (create_graph), the NumPy function on raw arrays otherwise.
def _dual1(method: str, np_fn):
    def f(x):
        return getattr(x, method)() if isinstance(x, Tensor) else np_fn(x)

    f.__name__ = method
    return f


_d_exp = _dual1("exp", np.exp)
_d_sqrt = _dual1("sqrt", np.sqrt)
_d_log = _dual1("log", np.log)
_d_cos = _dual1("cos", np.cos)
_d_sin = _dual1("sin", np.sin)
_d_cosh = _dual1("cosh", np.cosh)
_d_sinh = _dual1("sinh", np.sinh)
_d_floor = _dual1("floor", np.floor)
_d_trunc = _dual1("trunc", np.trunc)


def _d_digamma(x):
    return x.digamma() if isinstance(x, Tensor) else _digamma_np(x)


def _d_polygamma(n: int, x):
    return polygamma(n, x) if isinstance(x, Tensor) else _polygamma_np(n, x)


def _zeros_of(grad):
    """A zero gradient shaped like ``grad`` (PyTorch's zeros_like for piecewise-constant ops)."""
    return grad * 0


def _flt(a, b=None):
    """Cast integer/bool operands of a floating op to the default float dtype."""
    if a.dtype.kind != "f":
        a = a.astype(_Default.value.np)
        if b is not None and hasattr(b, "dtype") and b.dtype.kind != "f":
            b = b.astype(a.dtype)
    return a, b


def _not_impl_dtype(op: str, dt) -> NotImplementedError:
    name = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool", "float32": "Float", "float64": "Double", "float16": "Half"}
    return NotImplementedError(
        f'"{op}" not implemented for \'{name.get(np.dtype(dt).name, np.dtype(dt).name)}\'\n'
        "Why: PyTorch has no kernel of this op for that dtype; convert first, e.g. x.float()."
    )


# -- special functions on NumPy arrays (no SciPy at runtime) -------------------------------------
_SQRT_PI = math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / _SQRT_PI


def _erf_series(x):
    """erf for |x| < 1.5: 2/sqrt(pi) e^-x^2 sum x (2x^2)^n / (1*3*...*(2n+1)), terms all > 0."""
    x2 = x * x
    term = x.copy()
    s = x.copy()
    for n in range(30):
        term *= (2.0 / (2 * n + 3)) * x2
        s += term
    return _TWO_OVER_SQRT_PI * np.exp(-x2) * s


def _erfc_cf(a):
    """erfc for a >= 1.5 by Laplace's continued fraction, evaluated backwards."""
    k_max = 100 if (a < 3.0).any() else 40  # fewer terms suffice once every a >= 3
    f = a.copy()
    for k in range(k_max, 0, -1):
        f = a + (k / 2.0) / f
    return np.exp(-a * a) / _SQRT_PI / f


def _erf_np(x):
    """erf on an array, float64 inside; relative error ~1e-16 (checked against torch)."""
    z = np.asarray(x, dtype=np.float64)
    out = np.empty_like(z)
    with np.errstate(all="ignore"):
        a = np.abs(z)
        small = a < 1.5
        out[small] = _erf_series(z[small])
        big = ~small
        if big.any():
            out[big] = np.copysign(1.0 - _erfc_cf(a[big]), z[big])
    return out.astype(np.asarray(x).dtype, copy=False)


def _erfc_np(x):
    """erfc on an array; large x by the continued fraction, so no 1 - erf cancellation."""
    z = np.asarray(x, dtype=np.float64)
    out = np.empty_like(z)
    with np.errstate(all="ignore"):
        a = np.abs(z)
        small = a < 1.5
        out[small] = 1.0 - _erf_series(z[small])
        big = ~small
        if big.any():
            c = _erfc_cf(a[big])
            out[big] = np.where(z[big] > 0, c, 2.0 - c)
    return out.astype(np.asarray(x).dtype, copy=False)


def _erfinv_np(y):
    """erfinv: Winitzki's closed form as a start, then Newton steps on erf (or erfc near +-1)."""
    z = np.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        a = np.abs(z)
        w = np.log((1.0 - a) * (1.0 + a))
        t = 2.0 / (math.pi * 0.147) + w / 2.0
        x = np.sqrt(np.sqrt(t * t - w / 0.147) - t)
        hi = a > 0.5
        for _ in range(4):
            # NOTE: near |y| = 1 the residual is taken as (1 - y) - erfc(x): both terms are exact
            # enough there, where erf(x) - y would lose every digit.
            r = np.where(hi, (1.0 - a) - _erfc_np(x), _erf_np(x) - a)
            x = x - r / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = np.where(a == 1.0, np.inf, np.where(a > 1.0, np.nan, x))
        out = np.copysign(x, z)
    return out.astype(np.asarray(y).dtype, copy=False)


# Stirling series for lgamma: B_2k / (2k (2k-1)), k = 1..8
_LGAMMA_C = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156,
             -3617 / 122400)
# asymptotic series for digamma: B_2k / (2k), k = 1..7
_DIGAMMA_C = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)
# Bernoulli numbers B_2k, k = 1..8 (Hurwitz zeta by Euler-Maclaurin)
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
_SHIFT = 10.0  # recurrences move arguments up to here, where the asymptotic series are exact


def _shift_up(w, each):
    """Move every element of ``w`` up by 1 until it reaches _SHIFT, calling ``each(w, mask)``."""
    w = w.copy()
    while True:
        m = w < _SHIFT
        if not m.any():
            return w
        each(w, m)
        w[m] += 1.0


def _lgamma_pos(w):
    """lgamma for w >= 0.5."""
    p = np.ones_like(w)

    def mul(v, m):
        p[m] *= v[m]

    w = _shift_up(w, mul)
    r = 1.0 / w
    r2 = r * r
    s = np.zeros_like(w)
    for c in reversed(_LGAMMA_C):
        s = s * r2 + c
    return (w - 0.5) * np.log(w) - w + 0.5 * math.log(2 * math.pi) + s * r - np.log(p)


def _sinpi(x):
    """sin(pi x) with the argument reduced exactly first (x - 2 round(x / 2))."""
    return np.sin(math.pi * (x - 2.0 * np.round(x / 2.0)))


def _lgamma_np(x):
    """lgamma (log |Gamma(x)|); reflection below 0.5, recurrence and Stirling's series above."""
    z = np.asarray(x, dtype=np.float64)
    out = np.empty_like(z)
    with np.errstate(all="ignore"):
        fin = np.isfinite(z)
        pos = fin & (z >= 0.5)
        neg = fin & ~pos
        out[pos] = _lgamma_pos(z[pos])
        zn = z[neg]
        out[neg] = np.log(math.pi / np.abs(_sinpi(zn))) - _lgamma_pos(1.0 - zn)
        out[~fin] = np.where(np.isnan(z[~fin]), np.nan, np.inf)
        out[(z <= 0) & (z == np.floor(z))] = np.inf  # poles of Gamma
        out[(z == 1) | (z == 2)] = 0.0
    return out.astype(np.asarray(x).dtype, copy=False)


def _digamma_pos(w):
    acc = np.zeros_like(w)

    def sub(v, m):
        acc[m] -= 1.0 / v[m]

    w = _shift_up(w, sub)
    r2 = 1.0 / (w * w)
    s = np.zeros_like(w)
    for c in reversed(_DIGAMMA_C):
        s = s * r2 + c
    return acc + np.log(w) - 0.5 / w - s * r2


def _digamma_np(x):
    """digamma; NOTE: PyTorch returns -inf at +0, +inf at -0 and nan at negative integers."""
    z = np.asarray(x, dtype=np.float64)
    out = np.empty_like(z)
    with np.errstate(all="ignore"):
        pos = z >= 0.5
        out[pos] = _digamma_pos(z[pos])
        neg = ~pos & ~np.isnan(z)
        zn = z[neg]
        r = zn - np.round(zn)
        out[neg] = _digamma_pos(1.0 - zn) - math.pi / np.tan(math.pi * r)
        out[np.isnan(z)] = np.nan
        out[z == 0] = np.copysign(np.inf, -z[z == 0])
        out[(z < 0) & (z == np.floor(z))] = np.nan
        out[z == -np.inf] = np.nan
    return out.astype(np.asarray(x).dtype, copy=False)


def _zeta_shifted(s: int, w):
    """Hurwitz zeta(s, w) for w >= 0.5 (recurrence up to _SHIFT, then Euler-Maclaurin)."""
    acc = np.zeros_like(w)

    def add(v, m):
        acc[m] += v[m] ** -s

    w = _shift_up(w, add)
    tail = w ** (1 - s) / (s - 1) + 0.5 * w ** -s
    fact = 1.0  # (2k)!
    rising = float(s)  # s (s+1) ... (s+2k-2)
    wp = w ** (-s - 1)
    for k, b in enumerate(_BERNOULLI, start=1):
        fact *= (2 * k - 1) * (2 * k)
        tail = tail + b / fact * rising * wp
        rising *= (s + 2 * k - 1) * (s + 2 * k)
        wp = wp / (w * w)
    return acc + tail


def _trigamma_np(x):
    """trigamma by PyTorch's own algorithm (calc_trigamma), so digamma's gradient matches it.

    NOTE: PyTorch's trigamma is accurate to ~1e-10 relative only (six recurrence steps and a
    short asymptotic series); a more exact value would disagree with torch's gradients.
    """
    z = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        refl = z < 0.5
        result = np.where(refl, -(math.pi ** 2) / np.sin(math.pi * z) ** 2, 0.0)
        w = np.where(refl, 1.0 - z, z)
        for _ in range(6):
            result += 1.0 / (w * w)
            w = w + 1.0
        ixx = 1.0 / (w * w)
        result += (1.0 + 1.0 / (2.0 * w) + ixx * (1.0 / 6 - ixx * (1.0 / 30 - ixx / 42))) / w
        out = np.where(refl, -result, result)
    return out.astype(np.asarray(x).dtype, copy=False)


def _polygamma_np(n: int, x):
    """polygamma(n, x) for n >= 1: (-1)^(n+1) n! zeta(n + 1, x)."""
    if n == 0:
        return _digamma_np(x)
    if n == 1:
        return _trigamma_np(x)
    z = np.asarray(x, dtype=np.float64)
    out = np.empty_like(z)
    sign_fact = (-1.0) ** (n + 1) * math.factorial(n)
    with np.errstate(all="ignore"):
        pos = z >= 0.5
        out[pos] = sign_fact * _zeta_shifted(n + 1, z[pos])
        neg = ~pos & np.isfinite(z)
        zn = z[neg]
        if n == 1:  # reflection: psi1(1 - x) + psi1(x) = pi^2 / sin^2(pi x)
            out[neg] = (math.pi / _sinpi(zn)) ** 2 - _zeta_shifted(2, 1.0 - zn)
        else:  # recurrence psi_n(x) = psi_n(x + 1) + (-1)^(n+1) n! / x^(n+1), up to 0.5
            acc = np.zeros_like(zn)
            w = zn.copy()
            while (w < 0.5).any():
                m = w < 0.5
                acc[m] += w[m] ** -(n + 1)
                w[m] += 1.0
            out[neg] = sign_fact * (acc + _zeta_shifted(n + 1, w))
        out[np.isnan(z)] = np.nan
        out[z == np.inf] = 0.0
        out[z == -np.inf] = np.nan
    return out.astype(np.asarray(x).dtype, copy=False)


# -- unary float ops ------------------------------------------------------------------------------
class _UnaryFloat(Op):
    """Base for unary ops that save their input; subclasses give forward, backward, formula."""

    same_shape = True
    __slots__ = ()


class Rsqrt(_UnaryFloat):
    name_ = "RsqrtBackward0"
    formula = {"x": "-0.5 * grad * out ** 3"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1 / np.sqrt(x)

    def backward(self, grad):
        out = self.result(grad)
        return -0.5 * grad * (out * out * out)


class Exp2(_UnaryFloat):
    name_ = "Exp2Backward0"
    formula = {"x": "grad * out * math.log(2)"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        with np.errstate(over="ignore"):
            return np.exp2(x)

    def backward(self, grad):
        return grad * self.result(grad) * math.log(2.0)


class Expm1(_UnaryFloat):
    name_ = "Expm1Backward0"
    formula = {"x": "grad * (out + 1)"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        with np.errstate(over="ignore"):
            return np.expm1(x)

    def backward(self, grad):
        return grad * (self.result(grad) + 1)


class Log2(_UnaryFloat):
    name_ = "Log2Backward0"
    formula = {"x": "grad / (x * math.log(2))"}
    __slots__ = ()

    def forward(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log2(x)

    def backward(self, grad):
        return grad / (self.saved(grad)[0] * math.log(2.0))


class Log10(_UnaryFloat):
    name_ = "Log10Backward0"
    formula = {"x": "grad / (x * math.log(10))"}
    __slots__ = ()

    def forward(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(x)

    def backward(self, grad):
        return grad / (self.saved(grad)[0] * math.log(10.0))


class Log1p(_UnaryFloat):
    name_ = "Log1PBackward0"
    formula = {"x": "grad / (x + 1)"}
    __slots__ = ()

    def forward(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x)

    def backward(self, grad):
        return grad / (self.saved(grad)[0] + 1)


class Tan(_UnaryFloat):
    name_ = "TanBackward0"
    formula = {"x": "grad * (1 + out * out)"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return np.tan(x)

    def backward(self, grad):
        out = self.result(grad)
        return grad * (out * out + 1)


class Asin(_UnaryFloat):
    name_ = "AsinBackward0"
    formula = {"x": "grad / (1 - x * x).sqrt()"}
    __slots__ = ()

    def forward(self, x):
        with np.errstate(invalid="ignore"):
            return np.arcsin(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad / _d_sqrt(-(x * x) + 1)


class Acos(_UnaryFloat):
    name_ = "AcosBackward0"
    formula = {"x": "-grad / (1 - x * x).sqrt()"}
    __slots__ = ()

    def forward(self, x):
        with np.errstate(invalid="ignore"):
            return np.arccos(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return -grad / _d_sqrt(-(x * x) + 1)


class Atan(_UnaryFloat):
    name_ = "AtanBackward0"
    formula = {"x": "grad / (x * x + 1)"}
    __slots__ = ()

    def forward(self, x):
        return np.arctan(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad / (x * x + 1)


class Sinh(_UnaryFloat):
    name_ = "SinhBackward0"
    formula = {"x": "grad * x.cosh()"}
    __slots__ = ()

    def forward(self, x):
        with np.errstate(over="ignore"):
            return np.sinh(x)

    def backward(self, grad):
        return grad * _d_cosh(self.saved(grad)[0])


class Cosh(_UnaryFloat):
    name_ = "CoshBackward0"
    formula = {"x": "grad * x.sinh()"}
    __slots__ = ()

    def forward(self, x):
        with np.errstate(over="ignore"):
            return np.cosh(x)

    def backward(self, grad):
        return grad * _d_sinh(self.saved(grad)[0])


class Asinh(_UnaryFloat):
    name_ = "AsinhBackward0"
    formula = {"x": "grad / (x * x + 1).sqrt()"}
    __slots__ = ()

    def forward(self, x):
        return np.arcsinh(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad / _d_sqrt(x * x + 1)


class Acosh(_UnaryFloat):
    name_ = "AcoshBackward0"
    formula = {"x": "grad / (x * x - 1).sqrt()"}
    __slots__ = ()

    def forward(self, x):
        with np.errstate(invalid="ignore"):
            return np.arccosh(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad / _d_sqrt(x * x - 1)


class Atanh(_UnaryFloat):
    name_ = "AtanhBackward0"
    formula = {"x": "grad / (1 - x * x)"}
    __slots__ = ()

    def forward(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.arctanh(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad / (-(x * x) + 1)


class Logit(_UnaryFloat):
    name_ = "LogitBackward0"
    formula = {"x": "where((x < eps) | (x > 1 - eps), 0.0, grad / (x * (1 - x))) if eps is not "
                    "None else grad / (x * (1 - x))"}
    __slots__ = ("eps",)

    def forward(self, x):
        if self.eps is not None:
            x = np.clip(x, self.eps, 1 - self.eps)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x / (1 - x))

    def backward(self, grad):
        (x,) = self.saved(grad)
        g = grad / (x * (-x + 1))
        if self.eps is None:
            return g
        # NOTE: with eps, PyTorch's gradient is 0 outside [eps, 1 - eps] (the clamped region)
        xr = _raw(x)
        return dual.where((xr < self.eps) | (xr > 1 - self.eps), 0.0, g)


class Erf(_UnaryFloat):
    name_ = "ErfBackward0"
    formula = {"x": "grad * 2 / math.sqrt(math.pi) * (-x * x).exp()"}
    __slots__ = ()

    def forward(self, x):
        return _erf_np(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad * (_d_exp(-(x * x)) * _TWO_OVER_SQRT_PI)


class Erfc(_UnaryFloat):
    name_ = "ErfcBackward0"
    formula = {"x": "-grad * 2 / math.sqrt(math.pi) * (-x * x).exp()"}
    __slots__ = ()

    def forward(self, x):
        return _erfc_np(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad * (_d_exp(-(x * x)) * -_TWO_OVER_SQRT_PI)


class Erfinv(_UnaryFloat):
    name_ = "ErfinvBackward0"
    formula = {"x": "grad * math.sqrt(math.pi) / 2 * (out * out).exp()"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return _erfinv_np(x)

    def backward(self, grad):
        out = self.result(grad)
        return grad * (_d_exp(out * out) * (_SQRT_PI / 2))


class Lgamma(_UnaryFloat):
    name_ = "LgammaBackward0"
    formula = {"x": "grad * x.digamma()"}
    __slots__ = ()

    def forward(self, x):
        return _lgamma_np(x)

    def backward(self, grad):
        return grad * _d_digamma(self.saved(grad)[0])


class Digamma(_UnaryFloat):
    name_ = "DigammaBackward0"
    formula = {"x": "grad * x.polygamma(1)"}
    __slots__ = ()

    def forward(self, x):
        return _digamma_np(x)

    def backward(self, grad):
        return grad * _d_polygamma(1, self.saved(grad)[0])


class Polygamma(_UnaryFloat):
    name_ = "PolygammaBackward0"
    formula = {"x": "grad * x.polygamma(n + 1)"}
    __slots__ = ("n",)

    def forward(self, x):
        return _polygamma_np(self.n, x)

    def backward(self, grad):
        return grad * _d_polygamma(self.n + 1, self.saved(grad)[0])


def polygamma(n: int, x: Tensor) -> Tensor:
    """The n-th derivative of digamma (``torch.polygamma(n, x)``)."""
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n; got n = {n}")
    x = _to_float(x)
    if n == 0:
        return _unary(Digamma, x)
    return _unary_with(Polygamma, x, n=int(n))


class _Piecewise(Op):
    """Piecewise-constant unary op (floor, ceil, ...): PyTorch's gradient is zero everywhere."""

    same_shape = True
    formula = {"x": "grad * 0"}
    save_inputs = False
    __slots__ = ()

    def backward(self, grad):
        return _zeros_of(grad)


class Floor(_Piecewise):
    name_ = "FloorBackward0"
    __slots__ = ()

    def forward(self, x):
        return np.floor(x)


class Ceil(_Piecewise):
    name_ = "CeilBackward0"
    __slots__ = ()

    def forward(self, x):
        return np.ceil(x)


class Trunc(_Piecewise):
    name_ = "TruncBackward0"
    __slots__ = ()

    def forward(self, x):
        return np.trunc(x)


class Round(_Piecewise):
    name_ = "RoundBackward0"
    __slots__ = ()

    def forward(self, x):
        return np.rint(x)  # NOTE: round half to even, as PyTorch's nearbyint


class RoundDecimals(_Piecewise):
    name_ = "RoundBackward1"
    __slots__ = ("decimals",)

    def forward(self, x):
        # NOTE: PyTorch computes nearbyint(x * 10**d) / 10**d (x / 10**-d for d < 0), as NumPy
        with np.errstate(all="ignore"):
            return np.round(x, self.decimals)


class Sgn(_Piecewise):
    name_ = "SgnBackward0"
    __slots__ = ()

    def forward(self, x):
        return x.copy() if x.dtype.kind == "b" else np.sign(x)


class Frac(Op):
    name_ = "FracBackward0"
    same_shape = True
    formula = {"x": "grad"}
    save_inputs = False
    __slots__ = ()

    def forward(self, x):
        return x - np.trunc(x)

    def backward(self, grad):
        return grad


class _Scale(Op):
    """``x * factor`` for a constant (deg2rad, rad2deg)."""

    same_shape = True
    save_inputs = False
    __slots__ = ()
    factor = 1.0

    def forward(self, x):
        return x * x.dtype.type(self.factor)

    def backward(self, grad):
        return grad * self.factor


class Deg2Rad(_Scale):
    name_ = "Deg2RadBackward0"
    formula = {"x": "grad * (math.pi / 180)"}
    factor = math.pi / 180
    __slots__ = ()


class Rad2Deg(_Scale):
    name_ = "Rad2DegBackward0"
    formula = {"x": "grad * (180 / math.pi)"}
    factor = 180 / math.pi
    __slots__ = ()


class NanToNum(Op):
    name_ = "NanToNumBackward0"
    same_shape = True
    formula = {"x": "grad * x.isfinite()"}
    __slots__ = ("nan", "posinf", "neginf")

    def forward(self, x):
        return np.nan_to_num(x, nan=self.nan, posinf=self.posinf, neginf=self.neginf)

    def backward(self, grad):
        # NOTE: PyTorch multiplies (grad * isfinite(x)), so a nan/inf grad stays nan where x is not
        return grad * np.isfinite(_raw(self.saved(grad)[0]))


class Sinc(_UnaryFloat):
    name_ = "SincBackward0"
    formula = {"x": "where(x == 0, 0.0, grad * ((math.pi * x).cos() * math.pi * x - "
                    "(math.pi * x).sin()) / (math.pi * x * x))"}
    __slots__ = ()

    def forward(self, x):
        return np.sinc(x)

    def backward(self, grad):
        (x,) = self.saved(grad)
        px = x * math.pi
        g = grad * ((_d_cos(px) * px - _d_sin(px)) / (px * x))
        return dual.where(_raw(x) == 0, 0.0, g)


# -- clamp -------------------------------------------------------------------------------------
class Clamp(Op):
    """clamp with Python-number bounds (either may be None)."""

    name_ = "ClampBackward1"
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
        x = _raw(self.saved(grad)[0])
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
        x, lo, hi = (_raw(v) for v in self.saved(grad))
        nf = self.next_functions
        gx = glo = ghi = None
        if nf[0][0] is not None:
            m = True
            if lo is not None:
                m = x >= lo
            if hi is not None:
                m = m & (x <= hi)
            gx = dual.where(m, grad, 0.0)
        if lo is not None and nf[1][0] is not None:
            m = x < lo if hi is None else (x < lo) & (lo < hi)
            glo = dual.where(m, grad, 0.0)
        if hi is not None and nf[2][0] is not None:
            m = x > hi if lo is None else (x > hi) | (hi < lo)
            ghi = dual.where(m, grad, 0.0)
        return gx, glo, ghi


class ClampMinTensor(Op):
    name_ = "ClampMinBackward1"
    op_name = "clamp_min"
    formula = {"a": "where(a >= b, grad, 0.0)", "b": "where(a < b, grad, 0.0)"}
    __slots__ = ()

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, grad):
        a, b = (_raw(v) for v in self.saved(grad))
        m = a >= b
        nf = self.next_functions
        return (dual.where(m, grad, 0.0) if nf[0][0] is not None else None,
                dual.where(m, 0.0, grad) if nf[1][0] is not None else None)


class ClampMaxTensor(Op):
    name_ = "ClampMaxBackward1"
    op_name = "clamp_max"
    formula = {"a": "where(a <= b, grad, 0.0)", "b": "where(a > b, grad, 0.0)"}
    __slots__ = ()

    def forward(self, a, b):
        return np.minimum(a, b)

    def backward(self, grad):
        a, b = (_raw(v) for v in self.saved(grad))
        m = a <= b
        nf = self.next_functions
        return (dual.where(m, grad, 0.0) if nf[0][0] is not None else None,
                dual.where(m, 0.0, grad) if nf[1][0] is not None else None)


def _as_operand(v, like: Tensor):
    from ..creation import as_tensor

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
        from ..dtypes import _result_type

        dt = _result_type(*(v for v in (x, lo, hi) if v is not None)).np
        args = [None if v is None else (v._data if v._data.dtype == dt else v._data.astype(dt))
                for v in (x, lo, hi)]
        fn = _new(ClampTensor)
        try:
            out = fn.forward(*args)
        except ValueError:
            raise broadcast_error("clamp", x, lo if lo is not None else hi) from None
        return record(fn, (x, lo, hi), out)
    dt = _result_type_many(x, *(v for v in (min, max) if v is not None))
    if x._data.dtype != dt:
        x = x.to(FROM_NP[dt])
    # NOTE: PyTorch records clamp(x, min=s) as ClampBackward1; only clamp_min(x, s) is ClampMin
    return _unary_with(_clamp_cls, x, min=min, max=max)


def _result_type_many(*ops):
    from ..dtypes import _result_type

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


# -- binary ops ---------------------------------------------------------------------------------
class Maximum(Op):
    name_ = "MaximumBackward0"
    op_name = "maximum"
    formula = {"a": "where(a < b, 0.0, where(a == b, grad / 2, grad))",
               "b": "where(a > b, 0.0, where(a == b, grad / 2, grad))"}
    __slots__ = ()

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, grad):
        a, b = (_raw(v) for v in self.saved(grad))
        # NOTE: PyTorch splits the gradient half/half where a == b (and gives it to both at nan)
        eq = a == b
        half = dual.where(eq, grad / 2, grad)
        nf = self.next_functions
        lo_a, lo_b = (a < b, a > b) if self._is_max else (a > b, a < b)
        return (dual.where(lo_a, 0.0, half) if nf[0][0] is not None else None,
                dual.where(lo_b, 0.0, half) if nf[1][0] is not None else None)

    _is_max = True


class Minimum(Maximum):
    name_ = "MinimumBackward0"
    op_name = "minimum"
    formula = {"a": "where(a > b, 0.0, where(a == b, grad / 2, grad))",
               "b": "where(a < b, 0.0, where(a == b, grad / 2, grad))"}
    __slots__ = ()
    _is_max = False

    def forward(self, a, b):
        return np.minimum(a, b)


class Fmax(Op):
    name_ = "FmaxBackward0"
    op_name = "fmax"
    formula = {"a": "where((a >= b) | b.isnan(), grad, 0.0)",
               "b": "where((a >= b) | b.isnan(), 0.0, grad)"}
    __slots__ = ()
    _is_max = True

    def forward(self, a, b):
        return np.fmax(a, b)

    def backward(self, grad):
        a, b = (_raw(v) for v in self.saved(grad))
        # NOTE: PyTorch gives a tie (and a nan in b) to a
        m = ((a >= b) if self._is_max else (a <= b)) | np.isnan(b)
        nf = self.next_functions
        return (dual.where(m, grad, 0.0) if nf[0][0] is not None else None,
                dual.where(m, 0.0, grad) if nf[1][0] is not None else None)


class Fmin(Fmax):
    name_ = "FminBackward0"
    op_name = "fmin"
    formula = {"a": "where((a <= b) | b.isnan(), grad, 0.0)",
               "b": "where((a <= b) | b.isnan(), 0.0, grad)"}
    __slots__ = ()
    _is_max = False

    def forward(self, a, b):
        return np.fmin(a, b)


class Atan2(Op):
    name_ = "Atan2Backward0"
    op_name = "atan2"
    formula = {"a": "where(a * a + b * b == 0, 0.0, grad * b / (a * a + b * b))",
               "b": "where(a * a + b * b == 0, 0.0, -grad * a / (a * a + b * b))"}
    __slots__ = ()

    def forward(self, a, b):
        a, b = _flt(a, b)
        if np.result_type(a, b) == np.float32:
            # NOTE: computed in float64 and rounded once (the correctly rounded value, as glibc's
            # atan2f and, on small integers, torch give it): NumPy's AVX-512 float32 arctan2 is
            # 1 ulp off on ~40% of inputs, so int inputs (exact in torch) differed by machine.
            return np.arctan2(a, b, dtype=np.float64).astype(np.float32)
        return np.arctan2(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        r = a * a + b * b
        zero = _raw(r) == 0
        nf = self.next_functions
        return (dual.where(zero, 0.0, grad * b / r) if nf[0][0] is not None else None,
                dual.where(zero, 0.0, -grad * a / r) if nf[1][0] is not None else None)


class Hypot(Op):
    name_ = "HypotBackward0"
    op_name = "hypot"
    formula = {"a": "grad * a / out", "b": "grad * b / out"}
    save_output = True
    __slots__ = ()

    def forward(self, a, b):
        return np.hypot(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        out = self.result(grad)
        nf = self.next_functions
        return (grad * a / out if nf[0][0] is not None else None,
                grad * b / out if nf[1][0] is not None else None)


def _xlogy_np(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        # NOTE: PyTorch: 0 where x == 0 (even for y = 0 or inf), nan where y is nan
        return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log(y)).astype(
            np.result_type(x, y), copy=False)


class Xlogy(Op):
    name_ = "XlogyBackward0"
    op_name = "xlogy"
    formula = {"a": "where((a == 0) & (b <= 0), 0.0, grad * b.log())", "b": "grad * a / b"}
    __slots__ = ()

    def forward(self, a, b):
        a, b = _flt(a, b)
        if getattr(b, "dtype", np.dtype("f")).kind != "f":
            b = b.astype(a.dtype)
        return _xlogy_np(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        ga = gb = None
        if nf[0][0] is not None:
            ga = dual.where((_raw(a) == 0) & (_raw(b) <= 0), 0.0, grad * _d_log(b))
        if nf[1][0] is not None:
            gb = grad * a / b
        return ga, gb


class XlogyScalarOther(Op):
    name_ = "XlogyBackward2"
    same_shape = True
    formula = {"x": "where((x == 0) & (other <= 0), 0.0, grad * math.log(other))"}
    __slots__ = ("other",)

    def forward(self, x):
        return _xlogy_np(x, x.dtype.type(self.other))

    def backward(self, grad):
        o = self.other
        lg = math.log(o) if o > 0 else (-math.inf if o == 0 else math.nan)
        if o <= 0:
            return dual.where(_raw(self.saved(grad)[0]) == 0, 0.0, grad * lg)
        return grad * lg


class XlogyScalarSelf(Op):
    name_ = "XlogyBackward1"
    same_shape = True
    formula = {"x": "grad * self_ / x"}
    __slots__ = ("self_",)

    def forward(self, y):
        return _xlogy_np(y.dtype.type(self.self_), y)

    def backward(self, grad):
        return grad * self.self_ / self.saved(grad)[0]


class Logaddexp(Op):
    name_ = "LogaddexpBackward0"
    op_name = "logaddexp"
    formula = {"a": "grad / (1 + (b - a).exp())", "b": "grad / (1 + (a - b).exp())"}
    __slots__ = ()

    def forward(self, a, b):
        return np.logaddexp(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        with np.errstate(over="ignore"):
            return (grad / (_d_exp(b - a) + 1) if nf[0][0] is not None else None,
                    grad / (_d_exp(a - b) + 1) if nf[1][0] is not None else None)


class Logaddexp2(Op):
    name_ = "Logaddexp2Backward0"
    op_name = "logaddexp2"
    formula = {"a": "grad / (1 + 2 ** (b - a))", "b": "grad / (1 + 2 ** (a - b))"}
    __slots__ = ()

    def forward(self, a, b):
        return np.logaddexp2(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        with np.errstate(over="ignore"):
            return (grad / (2.0 ** (b - a) + 1) if nf[0][0] is not None else None,
                    grad / (2.0 ** (a - b) + 1) if nf[1][0] is not None else None)


class Copysign(Op):
    name_ = "CopysignBackward0"
    op_name = "copysign"
    formula = {"a": "where(a == 0, 0.0, grad * out / a)", "b": "grad * 0"}
    save_output = True
    __slots__ = ()

    def forward(self, a, b):
        a, b = _flt(a, b)
        if getattr(b, "dtype", np.dtype("f")).kind != "f":
            b = b.astype(a.dtype)
        return np.copysign(a, b)

    def backward(self, grad):
        a, _ = self.saved(grad)
        nf = self.next_functions
        ga = None
        if nf[0][0] is not None:
            # NOTE: PyTorch: grad * (result / self), with 0 where self == 0
            ga = dual.where(_raw(a) == 0, 0.0, grad * self.result(grad) / a)
        return ga, (_zeros_of(grad) if nf[1][0] is not None else None)


class CopysignScalar(Op):
    name_ = "CopysignBackward1"
    same_shape = True
    formula = {"x": "where(x == 0, 0.0, grad * out / x)"}
    save_output = True
    __slots__ = ("other",)

    def forward(self, x):
        return np.copysign(x, x.dtype.type(self.other))

    def backward(self, grad):
        (x,) = self.saved(grad)
        return dual.where(_raw(x) == 0, 0.0, grad * self.result(grad) / x)


def _int_zero_check(a, b, op: str):
    if getattr(b, "dtype", None) is not None and b.dtype.kind in "iub" or isinstance(b, int):
        if np.any(np.asarray(b) == 0) and np.asarray(a).dtype.kind in "iu":
            raise RuntimeError(
                f"ZeroDivisionError\nWhy: integer {op} by zero has no value; use float tensors "
                "(x.float()) to get inf/nan instead."
            )


class Remainder(Op):
    name_ = "RemainderBackward1"
    op_name = "remainder"
    formula = {"a": "grad", "b": "-grad * (a / b).floor()"}
    __slots__ = ()

    def forward(self, a, b):
        _int_zero_check(a, b, "remainder")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.remainder(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        return (grad if nf[0][0] is not None else None,
                -grad * _d_floor(a / b) if nf[1][0] is not None else None)


class Fmod(Remainder):
    name_ = "FmodBackward1"
    op_name = "fmod"
    formula = {"a": "grad", "b": "-grad * (a / b).trunc()"}
    __slots__ = ()

    def forward(self, a, b):
        _int_zero_check(a, b, "fmod")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.fmod(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        return (grad if nf[0][0] is not None else None,
                -grad * _d_trunc(a / b) if nf[1][0] is not None else None)


class RemainderScalar(Op):
    name_ = "RemainderBackward0"
    same_shape = True
    formula = {"x": "grad"}
    save_inputs = False
    __slots__ = ("other",)

    def forward(self, x):
        _int_zero_check(x, self.other, "remainder")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.remainder(x, self.other).astype(x.dtype, copy=False)

    def backward(self, grad):
        return grad


class FmodScalar(RemainderScalar):
    name_ = "FmodBackward0"
    __slots__ = ()

    def forward(self, x):
        _int_zero_check(x, self.other, "fmod")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.fmod(x, self.other).astype(x.dtype, copy=False)


def _div_rounded(a, b, mode: str):
    if a.dtype.kind in "iub" and (getattr(b, "dtype", None) is None and isinstance(b, int)
                                  or getattr(b, "dtype", np.dtype("f")).kind in "iub"):
        if a.dtype.kind == "b" and getattr(b, "dtype", np.dtype("i")).kind == "b":
            raise _not_impl_dtype(f"div_{mode}_cpu", a.dtype)
        _int_zero_check(a, b, "division")
        q = np.floor_divide(a, b)
        if mode == "trunc":
            # NOTE: C-style truncation toward zero: step back where the floor overshot
            q = q + (((a % b) != 0) & ((a < 0) != (np.asarray(b) < 0)))
        return q.astype(np.result_type(a, b), copy=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        if mode == "floor":
            # NOTE: NumPy's floor_divide is Python's //, PyTorch's div_floor algorithm too
            return np.floor_divide(a, b)
        return np.trunc(a / b)


class DivRounded(Op):
    name_ = "DivBackward2"
    op_name = "div"
    formula = {"a": "grad * 0", "b": "grad * 0"}
    save_inputs = False
    __slots__ = ("mode",)

    def forward(self, a, b):
        return _div_rounded(a, b, self.mode)

    def backward(self, grad):
        nf = self.next_functions
        return (_zeros_of(grad) if nf[0][0] is not None else None,
                _zeros_of(grad) if nf[1][0] is not None else None)


class DivRoundedScalar(Op):
    name_ = "DivBackward2"
    same_shape = True
    formula = {"x": "grad * 0"}
    save_inputs = False
    __slots__ = ("mode", "other")

    def forward(self, x):
        return _div_rounded(x, self.other, self.mode)

    def backward(self, grad):
        return _zeros_of(grad)


def div_rounded(a: Tensor, b, mode: str) -> Tensor:
    """``div(a, b, rounding_mode='trunc' | 'floor')``."""
    if mode not in ("trunc", "floor"):
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{mode}'")
    if isinstance(b, Tensor):
        fn = _new(DivRounded)
        fn.mode = mode
        ad, bd = _operands(a, b)
        try:
            out = fn.forward(ad, bd)
        except ValueError:
            raise broadcast_error("div", a, b) from None
        return record2(fn, a, b, out) if state.enabled else _wrap(out)
    ad, bd = _operands(a, b)
    if ad is not a._data:
        a = a.to(FROM_NP[ad.dtype])
    fn = _new(DivRoundedScalar)
    fn.mode, fn.other = mode, bd
    return record_unary(fn, a, fn.forward(a._data))


class NotImplementedOp(Op):
    """An op whose derivative PyTorch does not implement (floor_divide, heaviside, ...)."""

    name_ = "NotImplemented"
    formula = {}
    save_inputs = False
    __slots__ = ("what",)

    def forward(self, *arrays):  # pragma: no cover - the forward runs outside the node
        raise NotImplementedError

    def backward(self, *grads):
        raise RuntimeError(
            f"the derivative for '{self.what}' is not implemented.\nWhy: PyTorch defines no "
            f"gradient for {self.what} (it is piecewise constant or has no useful derivative); "
            "detach() the input or use a differentiable formulation."
        )


def _record_not_implemented(what: str, inputs: tuple, out) -> Tensor:
    fn = _new(NotImplementedOp)
    fn.what = what
    return record(fn, inputs, out)


def _binary_raw(a: Tensor, b, name: str):
    """Promoted raw operands of a tensor op whose node is not an Op class of its own."""
    if not isinstance(b, (Tensor, int, float, bool)):
        from ..creation import as_tensor

        b = as_tensor(b)
    return _operands(a, b), b


def floor_divide(a: Tensor, b) -> Tensor:
    """``a // b`` (floor rounding; PyTorch defines no derivative)."""
    (ad, bd), b = _binary_raw(a, b, "floor_divide")
    if ad.dtype.kind == "b" and getattr(bd, "dtype", np.dtype("i")).kind == "b":
        raise _not_impl_dtype("div_floor_cpu", ad.dtype)
    try:
        out = _div_rounded(ad, bd, "floor")
    except ValueError:
        raise broadcast_error("floor_divide", a, b) from None
    return _record_not_implemented("floor_divide", (a, b), out)


def heaviside(a: Tensor, values: Tensor) -> Tensor:
    """Heaviside step: 0 below 0, ``values`` at 0, 1 above (PyTorch defines no derivative)."""
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' (position 2) must be Tensor, not "
                        f"{type(values).__name__}")
    if a._data.dtype != values._data.dtype:
        raise RuntimeError(
            "heaviside is not yet implemented for tensors with different dtypes\nWhy: PyTorch "
            f"requires input ({a.dtype}) and values ({values.dtype}) to share a dtype; cast one.")
    ad, vd = a._data, values._data
    try:
        out = np.where(ad == 0, vd, ad > 0).astype(ad.dtype)
    except ValueError:
        raise broadcast_error("heaviside", a, values) from None
    return _record_not_implemented("heaviside", (a, values), out)


def rmod(x: Tensor, other) -> Tensor:
    """``other % x`` for a Python number (PyTorch records no derivative for it)."""
    from ..creation import as_tensor

    o = as_tensor(other)
    (od, xd), _ = _binary_raw(o, x, "remainder")
    _int_zero_check(od, xd, "remainder")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.remainder(od, xd)
    return _record_not_implemented("remainder", (x,), out)


# -- ternary ops --------------------------------------------------------------------------------
def _ternary(cls, opname: str, inputs: tuple, **params) -> Tensor:
    from ..creation import as_tensor
    from ..dtypes import _result_type

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


def _lerp_np(a, b, w):
    # NOTE: PyTorch's lerp: a + w (b - a) for |w| < 0.5, else b - (b - a)(1 - w), exact at w = 1
    d = b - a
    return np.where(np.abs(w) < 0.5, a + w * d, b - d * (1 - w)).astype(d.dtype, copy=False)


class Lerp(Op):
    name_ = "LerpBackward0"
    op_name = "lerp"
    formula = {"a": "grad * (1 - weight)", "b": "grad * weight"}
    save_inputs = False
    __slots__ = ("weight",)

    def forward(self, a, b):
        return _lerp_np(a, b, a.dtype.type(self.weight))

    def backward(self, grad):
        nf = self.next_functions
        w = self.weight
        return (grad * (1 - w) if nf[0][0] is not None else None,
                grad * w if nf[1][0] is not None else None)


class LerpTensor(Op):
    name_ = "LerpBackward1"
    op_name = "lerp"
    formula = {"a": "grad * (1 - w)", "b": "grad * w", "w": "grad * (b - a)"}
    __slots__ = ()

    def forward(self, a, b, w):
        return _lerp_np(a, b, w)

    def backward(self, grad):
        a, b, w = self.saved(grad)
        nf = self.next_functions
        return (grad * (-w + 1) if nf[0][0] is not None else None,
                grad * w if nf[1][0] is not None else None,
                grad * (b - a) if nf[2][0] is not None else None)


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
    except ValueError:
        raise broadcast_error("lerp", a, b) from None
    return record2(fn, a, b, out) if state.enabled else _wrap(out)


class Addcmul(Op):
    name_ = "AddcmulBackward0"
    formula = {"x": "grad", "t1": "grad * value * t2", "t2": "grad * value * t1"}
    __slots__ = ("value",)

    def forward(self, x, t1, t2):
        v = self.value
        return x + (t1 * t2 if v == 1 else t1 * t2 * x.dtype.type(v))

    def backward(self, grad):
        _, t1, t2 = self.saved(grad)
        nf = self.next_functions
        v = self.value
        return (grad if nf[0][0] is not None else None,
                grad * v * t2 if nf[1][0] is not None else None,
                grad * v * t1 if nf[2][0] is not None else None)


class Addcdiv(Op):
    name_ = "AddcdivBackward0"
    formula = {"x": "grad", "t1": "grad * value / t2", "t2": "-grad * value * t1 / (t2 * t2)"}
    __slots__ = ("value",)

    def forward(self, x, t1, t2):
        with np.errstate(divide="ignore", invalid="ignore"):
            q = t1 / t2
        return x + (q if self.value == 1 else q * x.dtype.type(self.value))

    def backward(self, grad):
        _, t1, t2 = self.saved(grad)
        nf = self.next_functions
        v = self.value
        return (grad if nf[0][0] is not None else None,
                grad * v / t2 if nf[1][0] is not None else None,
                -grad * v * t1 / (t2 * t2) if nf[2][0] is not None else None)


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


# -- not differentiable -------------------------------------------------------------------------
def _bool_unary(fn, x: Tensor) -> Tensor:
    return _wrap(np.asarray(fn(x._data)))


def isclose(a: Tensor, b: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``|a - b| <= atol + rtol * |b|`` elementwise (as a bool tensor)."""
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"{a.dtype} did not match {b.dtype}\nWhy: isclose compares tensors of one dtype; "
            "cast one with .to(other.dtype).")
    ad, bd = a._data, b._data
    if ad.dtype.kind == "b":
        return _wrap(np.asarray(ad == bd))
    with np.errstate(all="ignore"):
        try:
            return _wrap(np.asarray(np.isclose(ad, bd, rtol=rtol, atol=atol, equal_nan=equal_nan)))
        except ValueError:
            raise broadcast_error("isclose", a, b) from None


def logical(op, a: Tensor, b, name: str) -> Tensor:
    """logical_and / or / xor: nonzero is true; the result is bool."""
    if not isinstance(b, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(b).__name__}")
    try:
        return _wrap(np.asarray(op(a._data.astype(bool), b._data.astype(bool))))
    except ValueError:
        raise broadcast_error(name, a, b) from None


def shift(a: Tensor, b, left: bool) -> Tensor:
    """``a << b`` / ``a >> b`` on integer tensors."""
    name = "lshift_cpu" if left else "rshift_cpu"
    if not isinstance(b, (Tensor, int)) or isinstance(b, float):
        if isinstance(b, float):
            raise _not_impl_dtype(name, np.float32)
        return NotImplemented
    ad, bd = _operands(a, b)
    if ad.dtype.kind in "fb":
        raise _not_impl_dtype(name, ad.dtype)
    bits = ad.dtype.itemsize * 8
    bd = np.asarray(bd)
    with np.errstate(all="ignore"):
        try:
            if left:
                out = np.left_shift(ad, bd)
                # NOTE: PyTorch gives 0 for shifts past the width (NumPy's is undefined)
                out = np.where((bd >= bits) | (bd < 0), 0, out).astype(ad.dtype)
            else:
                out = np.right_shift(ad, np.clip(bd, 0, bits - 1).astype(bd.dtype))
                out = np.where(bd < 0, 0, out).astype(ad.dtype)
        except ValueError:
            raise broadcast_error("bitwise_left_shift" if left else "bitwise_right_shift",
                                  a, b) from None
    return _wrap(np.asarray(out))
