"""The core elementwise ops: arithmetic, powers, exp/log, sin/cos/tanh, activations, where."""

from __future__ import annotations

import math

import numpy as np

from ...autograd.grad_mode import state
from ...autograd.node import _IGNORE, Op, _quiet_off, _quiet_on
from ...backend import array_module
from ...dtypes import FROM_NP, _Default, result_type
from ...dtypes import int64 as _INT64
from ...tensor import Tensor, _wrap
from .. import backward_kernels as _bk
from .. import dual, lastbits
from .._apply import keep, record, record2, record_unary
from .dispatch import (
    _FLOAT_NP,
    _binary,
    _new,
    _not_impl_dtype,
    _operands,
    _unary_with,
    broadcast_error,
    check_shapes,
)


# -- ops ------------------------------------------------------------------------------------------
class Add(Op):
    name_ = "AddBackward0"
    number_as_array = True
    elementwise = True
    local = {"a": "1", "b": "1"}
    forward_text = "{a} + {b}"
    scalar = ("infix", " + ", "sum", "sum")
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
    number_as_array = True
    elementwise = True
    local = {"a": "1", "b": "-1"}
    forward_text = "{a} - {b}"
    scalar = ("infix", " - ", "sum", "product")
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
    elementwise = True
    local = {"a": "1", "b": "{alpha}"}
    forward_text = "{a} + {alpha} * {b}"
    scalar = ("infix", " + ", "sum", "sum")
    op_name = "add"
    formula = {"a": "grad", "b": "grad * alpha"}
    save_inputs = False
    __slots__ = ("alpha",)

    def forward(self, a, b):
        if a.dtype == b.dtype and a.dtype in _FLOAT_NP and type(a) is type(b) is np.ndarray:
            return fused_add(a, b, self.alpha)
        return a + b * self.alpha

    def _narrate_forward(self, s) -> str:
        # NOTE: an alpha that explain writes as 1 is left out, as for add/sub without alpha
        t = self.forward_text
        return (t.replace("{alpha} * ", "") if s["alpha"] == "1" else t).format_map(s)

    def backward(self, grad):
        return grad, grad * self.alpha


class SubAlpha(AddAlpha):
    """``a - alpha * b``."""

    name_ = "SubBackward0"
    local = {"a": "1", "b": "-{alpha}"}
    forward_text = "{a} - {alpha} * {b}"
    scalar = ("infix", " - ", "sum", "product")
    op_name = "sub"
    formula = {"a": "grad", "b": "-grad * alpha"}
    __slots__ = ()

    def forward(self, a, b):
        if a.dtype == b.dtype and a.dtype in _FLOAT_NP and type(a) is type(b) is np.ndarray:
            return fused_add(a, b, -self.alpha)
        return a - b * self.alpha

    def backward(self, grad):
        return grad, -grad * self.alpha


def fused_add(a, b, alpha):
    """``a + alpha * b`` for float arrays, rounded once as ATen's ``fmadd`` (not twice).

    >>> import numpy as np
    >>> fused_add(np.float32([-0.3]), np.float32([0.1]), 3.0)  # unfused: 0.0
    array([-7.450581e-09], dtype=float32)
    """
    from ...optim import _kernels  # NOTE: loaded on first use, not at import

    xp = array_module(a)
    out = xp.empty(xp.broadcast_shapes(a.shape, b.shape), a.dtype)
    if a.dtype == np.float16:
        alpha = float(np.float16(alpha))  # NOTE: ATen rounds alpha to half, then computes in float
    _kernels.add(out, a, b, alpha)
    return out


def _alpha_for(cls, a: Tensor, b, alpha):
    """PyTorch's alpha_check against the result dtype, and alpha as the kernel uses it: a bool
    result takes ``bool(alpha)`` (``add(x, y, alpha=2)`` of bools is ``x | y``, still bool)."""
    out = result_type(a, b)
    if isinstance(alpha, bool) and out.name != "bool":
        raise RuntimeError("Boolean alpha only supported for Boolean results.\nWhy: alpha=True "
                           f"scales {cls.op_name}'s other operand only in a bool computation; "
                           "pass 1 (or 0).")
    if isinstance(alpha, float) and not out.is_floating_point and not out.is_complex:
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number.\n"
            f"Why: {cls.op_name} computes in the inputs' {out} dtype; pass an int alpha or "
            "cast the inputs to a float dtype first.")
    return bool(alpha) if out.name == "bool" else alpha


def add_alpha(cls, a: Tensor, b, alpha) -> Tensor:
    """``add``/``sub`` with ``alpha != 1``."""
    alpha = _alpha_for(cls, a, b, alpha)
    if not isinstance(b, Tensor):
        if a._data.dtype == np.float16 and isinstance(b, (int, float)):
            # NOTE: ATen rounds the number and alpha to half, then a + alpha * b fused in float
            with np.errstate(over="ignore"):
                b = _wrap(array_module(a._data).asarray(b, np.float16))
        else:
            # (a bool result: alpha is a bool, and True * True would be the int 1)
            scaled = (b and alpha) if b.__class__ is bool and alpha.__class__ is bool else b * alpha
            return _binary(Add if cls is AddAlpha else Sub, a, scaled)
    ad, bd = _operands(a, b)
    fn = _new(cls)
    fn.alpha = alpha
    try:
        out = fn.forward(ad, bd)
    except ValueError as e:
        raise broadcast_error(cls.op_name, a, b, e) from None
    return record2(fn, a, b, out) if state.enabled else _wrap(out)


class Rsub(Op):
    """``other - x`` for a Python number ``other`` (the number is not an input of the node)."""

    name_ = "RsubBackward1"
    elementwise = True
    local = {"x": "-1"}
    forward_text = "{other} - {x}"
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
    elementwise = True
    local = {"a": "-1", "b": "1"}
    forward_text = "{b} - {a}"
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
        from ...creation import as_tensor

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
    number_as_array = True
    elementwise = True
    local = {"a": "{b}", "b": "{a}"}
    forward_text = "{a} * {b}"
    scalar = ("infix", "·", "product", "power")
    op_name = "mul"
    formula = {"a": "grad * b", "b": "grad * a"}
    saved_for = ((1,), (0,))  # PyTorch saves other for self's gradient, self for other's
    __slots__ = ()

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.saved(grad)
        need = self.needs_input_grad
        ga = grad * b if need[0] else None
        if a is b and ga is not None and type(ga) is np.ndarray and self._x is None:
            # NOTE: x * x: both gradients are grad * x, computed once (the engine only adds
            # them; with no hook on this node nothing can see the two share memory)
            return ga, ga
        return ga, grad * a if need[1] else None


class Div(Op):
    name_ = "DivBackward0"
    number_as_array = True
    elementwise = True
    local = {"a": "1/{b}", "b": "-{a}/{b}²"}
    forward_text = "{a} / {b}"
    scalar = ("infix", "/", "product", "power")
    op_name = "div"
    formula = {"a": "grad / b", "b": "-grad * ((a / b) / b)"}
    saved_for = ((1,), (0, 1))
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
        need = self.needs_input_grad
        ga = grad / b if need[0] else None
        # NOTE: PyTorch's div_tensor_other_backward: -grad * ((self / other) / other); its
        # derivative for other is then inf/0 (not NaN) where b is 0 or inf
        with np.errstate(divide="ignore", invalid="ignore"):
            gb = -grad * ((a / b) / b) if need[1] else None
        return ga, gb


class Neg(Op):
    name_ = "NegBackward0"
    elementwise = True
    local = {"x": "-1"}
    forward_text = "-{x}"
    scalar = ("neg",)
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
    elementwise = True
    forward_text = "{x}.pow({exponent})"
    scalar = ("pow",)
    same_shape = True
    formula = {"x": "grad * exponent * x ** (exponent - 1)"}
    __slots__ = ("exponent",)

    def forward(self, x):
        return lastbits.power(x, self.exponent)

    def _narrate_local(self, key: str, s) -> str | None:
        from ...autograd.explanation.forms import pow_local  # explain only: loaded when used

        return pow_local(self.exponent, s["x"]) if key == "x" else None

    def backward(self, grad):
        (x,) = self.saved(grad)
        e = self.exponent
        if e == 0:
            # NOTE: PyTorch's pow_backward returns zeros for exponent 0 (no 0 * x**-1 NaN at 0)
            return dual.zeros_like(grad)
        # NOTE: PyTorch's order: grad * (x.pow(e - 1) * e), its pow kernel special-casing the
        # exponents 2, 3, 0.5, -0.5, -1, -2 (lastbits.power); x.pow(1) is x itself
        # and the exponent as a double (exponent.toDouble()), e - 1 computed in double: the
        # parity of e - 1 is the sign at a negative base, so neither float32 (2**31 - 1 is 2**31
        # there: even) nor exact int arithmetic (2**53 + 1 is 2**53 as a double, so torch's
        # e - 1 is 2**53 - 1: odd) may compute it. The float keeps a double backward the same.
        if e.__class__ is not complex:
            e = float(e)
        if isinstance(x, Tensor):
            return grad * ((x if e == 2 else x ** (e - 1)) * e)
        if e == 2:
            return grad * (x + x)  # x * 2 exactly, in every float dtype (NumPy's x * 2 is slower)
        return grad * lastbits.scale(lastbits.power(x, e - 1), e)


class PowTensor(Op):
    """``a ** b`` with a tensor exponent."""

    name_ = "PowBackward1"
    elementwise = True
    local = {"a": "{b}·{a}^({b} - 1)", "b": "{out}·ln {a}"}
    forward_text = "{a} ** {b}"
    op_name = "pow"
    formula = {"a": "grad * (b * a ** (b - 1))", "b": "grad * (out * a.log())"}
    save_output = True
    __slots__ = ()

    def forward(self, a, b):
        if a.dtype.kind == "b":  # both bool after promotion
            raise NotImplementedError(
                "\"pow\" not implemented for 'Bool'\nWhy: PyTorch has no bool ** bool kernel; "
                "convert one side first, e.g. a.long() ** b.")
        return lastbits.power_tensor(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        need = self.needs_input_grad
        ga = gb = None
        if need[0]:
            # NOTE: PyTorch gives 0 where the exponent is 0 (no 0 * x**-1 = nan at x = 0)
            pw = a ** (b - 1) if isinstance(a, Tensor) else lastbits.power_tensor(a, b - 1)
            ga = dual.where(dual.raw(b == 0), 0.0, grad * (b * pw))
        if need[1]:
            # NOTE: PyTorch masks the exponent's gradient to 0 where base == 0 and exponent >= 0,
            # as grad * where(mask, 0, out * log(a)): the mask comes before the product, so an
            # inf or NaN grad there gives NaN (pow_backward_exponent)
            gb = grad * dual.where(dual.raw((a == 0) & (b >= 0)), 0.0,
                                   self.result(grad) * dual.log(a))
        return ga, gb


class RPowScalar(Op):
    """``base ** x`` for a Python-number base."""

    name_ = "PowBackward2"
    elementwise = True
    local = {"x": "{out}·ln {base}"}
    forward_text = "{base} ** {x}"
    same_shape = True
    formula = {"x": "grad * (out * math.log(base))"}
    save_output = True  # PyTorch saves the exponent too (an in-place change to it is refused)
    __slots__ = ("base",)

    def forward(self, x):
        return lastbits.rpower(self.base, x)

    def backward(self, grad):
        out = self.result(grad)
        if self.base == 0:
            # NOTE: PyTorch takes d(0**x)/dx as 0 where x >= 0, i.e. where 0**x is 0 (x > 0) or
            # 1 (x == 0); x < 0 (inf) and nan keep grad * out * log(0)
            # (grad * where(...), the mask before the product, as PyTorch's
            # pow_backward_exponent: an inf or NaN grad there gives NaN)
            return grad * dual.where(dual.raw(out) <= 1, 0.0, out * float("-inf"))
        # NOTE: PyTorch's order: grad * (result * log(base))
        return grad * lastbits.scale(out, math.log(self.base))


_C_INT = {"int64": "int64_t", "int32": "int", "int16": "int16_t", "int8": "int8_t",
          "uint8": "uint8_t"}  # the C type names of PyTorch's conversion errors


def _pow_scalar(x: Tensor, e) -> Tensor:
    d = x._data
    if e.__class__ is bool and d.dtype.kind == "b":
        # PyTorch: bool ** bool stays bool (x ** True is x, x ** False is all True)
        return _wrap(d.copy() if e else array_module(d).ones(d.shape, bool))
    if e.__class__ is not int and e.__class__ is not float:
        e = e.item() if hasattr(e, "item") else e
        if isinstance(e, bool):
            e = int(e)
        elif not isinstance(e, (int, float, complex)):
            raise TypeError(
                f"pow(): argument 'exponent' must be Tensor or Number, not {type(e).__name__}"
                "\nWhy: the exponent is a tensor or a Python number.")
    if e.__class__ is int and not -(1 << 63) <= e < (1 << 64):
        # NOTE: PyTorch's Scalar holds an int64 or a uint64 (2**63 <= e < 2**64 then
        # converts to a double): Python's conversion error, before any dtype
        raise OverflowError(
            ("int too big to convert" if e > 0 else "can't convert negative int to unsigned")
            + "\nWhy: PyTorch takes an integer exponent as a 64-bit integer; pass a float "
            "(e.g. float(n)) for a larger one.")
    if d.dtype not in _FLOAT_NP:
        if e.__class__ is int and e < 0:
            raise RuntimeError(
                "Integers to negative integer powers are not allowed.\nWhy: the result would "
                "not be an integer; convert first, e.g. x.float() ** -1."
            )
        if e.__class__ is int and d.dtype.kind in "iub":
            # (past int64 the Scalar is a uint64, refused as an int64 first)
            info = np.iinfo(np.int64 if d.dtype.kind == "b" or e >> 63 else d.dtype)
            if not info.min <= e <= info.max:
                # NOTE: PyTorch's integer pow takes the exponent in the tensor's dtype, a
                # checked conversion (int8 ** 128 is an error, not a wrapped -128)
                raise RuntimeError(
                    f"value cannot be converted to type {_C_INT.get(info.dtype.name)} without "
                    f"overflow\nWhy: an integer tensor's pow takes the exponent in its dtype "
                    f"({info.dtype.name}: {info.min} to {info.max}); convert the tensor first, "
                    "e.g. x.double().")
        if e.__class__ is float:
            x = x.to(_Default.value)
            d = x._data
        elif d.dtype.kind == "b":  # PyTorch: bool ** int is int64 (NumPy's bool ** 2 is int8)
            x = x.to(_INT64)
            d = x._data
    fn = _new(PowScalar)
    fn.exponent = e
    token = _quiet_on(_IGNORE)  # 0 ** -1 is inf, silently, as in torch (see Op's forward)
    try:
        out = lastbits.power(d, e) if d.dtype in _FLOAT_NP else d ** e
    finally:
        _quiet_off(token)
    return record_unary(fn, x, out)


def _rpow_scalar(x: Tensor, base) -> Tensor:
    if not isinstance(base, (int, float)):
        from ...creation import as_tensor

        return _binary(PowTensor, as_tensor(base), x)
    dt = result_type(x, base)
    if dt.np.kind == "b":  # a bool base and a bool tensor (NumPy would give int8)
        raise NotImplementedError(
            "\"pow\" not implemented for 'Bool'\nWhy: PyTorch has no bool ** bool kernel; "
            "convert the tensor first, e.g. True ** x.long().")
    if x._data.dtype != dt.np:
        x = x.to(dt)
    return _unary_with(RPowScalar, x, base=base)


class Reciprocal(Op):
    name_ = "ReciprocalBackward0"
    elementwise = True
    local = {"x": "-{out}²"}
    forward_text = "{x}.reciprocal()"
    same_shape = True
    formula = {"x": "-grad * (out * out)"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return 1 / x

    def backward(self, grad):
        out = self.result(grad)
        return -grad * (out * out)  # NOTE: PyTorch's order: -grad * (result * result)


class Exp(Op):
    name_ = "ExpBackward0"
    elementwise = True
    local = {"x": "e^{x}"}
    forward_text = "{x}.exp()"
    scalar = ("call", "exp")
    same_shape = True
    formula = {"x": "grad * out"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return lastbits.unary_in_op("exp", x)

    def backward(self, grad):
        return grad * self.result(grad)


class Log(Op):
    name_ = "LogBackward0"
    elementwise = True
    local = {"x": "1/{x}"}
    forward_text = "{x}.log()"
    scalar = ("call", "ln")
    same_shape = True
    formula = {"x": "grad / x"}
    __slots__ = ()

    def forward(self, x):
        return lastbits.unary_in_op("log", x)

    def backward(self, grad):
        return grad / self.saved(grad)[0]


class Sin(Op):
    name_ = "SinBackward0"
    elementwise = True
    local = {"x": "cos {x}"}
    forward_text = "{x}.sin()"
    scalar = ("call", "sin")
    same_shape = True
    formula = {"x": "grad * x.cos()"}
    __slots__ = ()

    def forward(self, x):
        return array_module(x).sin(x)

    def backward(self, grad):
        return grad * dual.cos(self.saved(grad)[0])


class Cos(Op):
    name_ = "CosBackward0"
    elementwise = True
    local = {"x": "-sin {x}"}
    forward_text = "{x}.cos()"
    scalar = ("call", "cos")
    same_shape = True
    formula = {"x": "-grad * x.sin()"}
    __slots__ = ()

    def forward(self, x):
        return array_module(x).cos(x)

    def backward(self, grad):
        return -grad * dual.sin(self.saved(grad)[0])


class Tanh(Op):
    name_ = "TanhBackward0"
    elementwise = True
    local = {"x": "1 - tanh²{x}"}
    forward_text = "{x}.tanh()"
    scalar = ("call", "tanh")
    same_shape = True
    formula = {"x": "grad * (1 - out * out)"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return lastbits.unary_in_op("tanh", x)

    def backward(self, grad):
        out = self.result(grad)
        if isinstance(out, Tensor):
            return _bk.tanh_backward(grad, out)  # one TanhBackwardBackward0 node
        # NOTE: PyTorch's tanh_backward kernel rounds 1 - out * out once (fused)
        return lastbits.tanh_backward(grad, out)


class Sigmoid(Op):
    name_ = "SigmoidBackward0"
    elementwise = True
    local = {"x": "σ({x})·(1 - σ({x}))"}
    forward_text = "{x}.sigmoid()"
    scalar = ("call", "σ")
    same_shape = True
    formula = {"x": "grad * (1 - out) * out"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        return lastbits.sigmoid(x)

    def backward(self, grad):
        out = self.result(grad)
        if isinstance(grad, Tensor) or isinstance(out, Tensor):
            return sigmoid_backward(grad, out)
        return lastbits.sigmoid_backward(grad, out)


class SigmoidBackward(Op):
    """sigmoid's backward as one op with PyTorch's derivatives (``SigmoidBackwardBackward0``):
    for the output, ``grad · g · (1 - 2y)`` is one product, where differentiating
    ``g·(1 - y)·y`` term by term gives inf - inf = NaN for an infinite gradient."""

    name_ = "SigmoidBackwardBackward0"
    elementwise = True
    op_name = "sigmoid_backward"
    formula = {"g": "grad * (1 - y) * y", "y": "grad * g * (-2 * y + 1)"}
    save_inputs = True
    __slots__ = ()

    def forward(self, g, y):
        return lastbits.sigmoid_backward(g, y)

    def backward(self, grad):
        g, y = self.saved(grad)
        need = self.needs_input_grad
        gg = gy = None
        if need[0]:
            gg = (sigmoid_backward(grad, y) if isinstance(grad, Tensor) or isinstance(y, Tensor)
                  else lastbits.sigmoid_backward(grad, y))
        if need[1]:
            gy = grad * g * (-2 * y + 1)
        return gg, gy


def sigmoid_backward(grad, out) -> Tensor:
    """``grad·(1 - out)·out`` as one recorded node (PyTorch's sigmoid_backward)."""
    grad = grad if isinstance(grad, Tensor) else _wrap(grad)
    out = out if isinstance(out, Tensor) else _wrap(out)
    fn = _new(SigmoidBackward)
    res = fn.forward(grad._data, out._data)
    return record2(fn, grad, out, res) if state.enabled else _wrap(res)


class Relu(Op):
    name_ = "ReluBackward0"
    elementwise = True
    local = {"x": "[{x} > 0]"}
    forward_text = "{x}.relu()"
    scalar = ("call", "relu")
    same_shape = True
    formula = {"x": "threshold_backward(grad, out)"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, x):
        if x.dtype.kind == "b":
            raise RuntimeError('"relu" not implemented for \'Bool\'')
        # NOTE: x < 0 -> 0, else x: -0.0 and NaN stay as they are (PyTorch's clamp_min(0))
        xp = array_module(x)
        return xp.where(x < 0, xp.zeros((), x.dtype), x)

    def backward(self, grad):
        # NOTE: PyTorch's relu gradient at exactly 0 is 0 (threshold_backward uses out > 0)
        return dual.threshold_backward(grad, self.result(grad))


class ThresholdBackward(Op):
    """relu's backward as one op, so that a graph of it keeps PyTorch's zero path to the input."""

    name_ = "ThresholdBackwardBackward0"
    elementwise = True
    op_name = "threshold_backward"
    formula = {"a": "where(b <= 0, a * 0, a * 0 + 1) * grad", "b": "grad * 0"}
    save_inputs = True
    __slots__ = ()

    def forward(self, g, out):
        return array_module(g).where(out <= 0, 0, g)

    def backward(self, grad):
        g, out = self.saved(grad)
        need = self.needs_input_grad
        ga = dual.threshold_backward(grad, out) if need[0] else None
        return ga, (dual.zeros_like(grad) if need[1] else None)


def threshold_backward(grad: Tensor, out: Tensor) -> Tensor:
    """0 where ``out <= 0``, else ``grad`` (PyTorch's threshold_backward with threshold 0)."""
    fn = _new(ThresholdBackward)
    res = fn.forward(grad._data, out._data)
    return record2(fn, grad, out, res) if state.enabled else _wrap(res)


class Sqrt(Op):
    name_ = "SqrtBackward0"
    elementwise = True
    local = {"x": "1/(2√{x})"}
    forward_text = "{x}.sqrt()"
    scalar = ("call", "√")
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
    elementwise = True
    local = {"x": "sign {x}"}
    forward_text = "{x}.abs()"
    scalar = ("abs",)
    same_shape = True
    formula = {"x": "grad * x.sign()"}
    __slots__ = ()

    def forward(self, x):
        if x.dtype.kind == "b":
            raise NotImplementedError('"abs_cpu" not implemented for \'Bool\'')
        return array_module(x).abs(x)

    def backward(self, grad):
        # NOTE: d|x|/dx at 0 is taken as 0 (sign(0) = 0), as in PyTorch
        return grad * dual.sign(self.saved(grad)[0])


class Sign(Op):
    name_ = "SignBackward0"
    elementwise = True
    local = {"x": "0"}
    forward_text = "{x}.sign()"
    same_shape = True
    formula = {"x": "grad * 0"}
    save_inputs = False
    __slots__ = ()

    def forward(self, x):
        if x.dtype.kind == "b":
            return x.copy()
        return lastbits.sign(x)

    def backward(self, grad):
        # NOTE: sign is piecewise constant; PyTorch's gradient is zero everywhere
        return dual.zeros_like(grad)


class Clone(Op):
    name_ = "CloneBackward0"
    elementwise = True
    local = {"x": "1"}
    forward_text = "{x}.clone()"
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
    elementwise = True
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
    elementwise = True
    formula = {"x": "grad.to(src)"}
    save_inputs = False
    __slots__ = ("device", "src")

    def forward(self, x):
        from ...backend import device_of, move

        self.src = device_of(x)
        return move(x, self.device)

    def backward(self, grad):
        if isinstance(grad, Tensor):
            return grad.to(self.src)
        from ...backend import move

        return move(grad, self.src)

    @classmethod
    def apply_to(cls, x: Tensor, device) -> Tensor:
        return _unary_with(cls, x, device=device)


class Where(Op):
    """``a`` where ``cond`` holds, else ``b`` (``cond`` is a constant bool array)."""

    name_ = "WhereBackward0"
    elementwise = True
    op_name = "where"
    formula = {"a": "where(cond, grad, 0.0)", "b": "where(cond, 0.0, grad)"}
    save_inputs = False
    saved_state = ("cond",)  # PyTorch saves the condition
    __slots__ = ("cond",)

    def forward(self, a, b):
        return array_module(self.cond).where(self.cond, a, b)

    def backward(self, grad):
        need = self.needs_input_grad
        ga = dual.where(self.cond, grad, 0.0) if need[0] else None
        gb = dual.where(self.cond, 0.0, grad) if need[1] else None
        return ga, gb


def where(cond, a, b) -> Tensor:
    """Elementwise select: ``a`` where ``cond`` is true, else ``b`` (differentiable in a and b).

    >>> import leafgrad
    >>> where(leafgrad.tensor([True, False]), leafgrad.tensor([1., 2.]), 0.0)
    tensor([1., 0.])
    """
    if isinstance(cond, Tensor):
        cd = cond._data
    elif hasattr(cond, "dtype"):  # a raw array (backward formulas pass them), on any device
        cd = cond
    else:  # Python data: made on the operands' device
        ref = a if isinstance(a, Tensor) else b
        cd = (array_module(ref._data) if isinstance(ref, Tensor) else np).asarray(cond)
    if cd.dtype.kind != "b":
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{FROM_NP[cd.dtype]}"
        )
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            from ...creation import as_tensor

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
    except ValueError as e:
        raise broadcast_error("where", a, b, e) from None
    return keep(record(fn, (a, b), out), cond)


def bitwise(op, a: Tensor, b, name: str) -> Tensor:
    """``&``, ``|``, ``^`` on bool/integer tensors (not differentiable)."""
    if isinstance(b, Tensor) or isinstance(b, (int, bool)):
        # NOTE: an int past the tensor's range wraps around, as PyTorch's cast (-3 & uint8 is
        # 253 & x; NumPy refuses it) (_operands)
        ad, bd = _operands(a, b) if b.__class__ is not bool else (a._data, b)
    elif isinstance(b, float):  # the result is floating (self's dtype or the default): no kernel
        raise _not_impl_dtype(f"{name}_cpu", a._data.dtype if a._data.dtype.kind == "f"
                              else _Default.value.np)
    else:
        return NotImplemented
    check_shapes(name, a, b)
    if ad.dtype.kind == "f" or getattr(bd, "dtype", np.dtype(bool)).kind == "f":
        raise _not_impl_dtype(f"{name}_cpu", ad.dtype if ad.dtype.kind == "f" else bd.dtype)
    try:
        return _wrap(op(ad, bd))
    except ValueError as e:
        raise broadcast_error(name, a, b, e) from None
