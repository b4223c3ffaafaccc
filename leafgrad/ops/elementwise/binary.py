"""Binary ops: maximum/minimum, atan2, hypot, xlogy, logaddexp, copysign, remainder/fmod,
rounding division."""

from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import state
from ...autograd.node import Op
from ...dtypes import FROM_NP
from ...tensor import Tensor, _wrap
from .. import dual
from .._apply import record, record2, record_unary
from .dispatch import _flt, _new, _not_impl_dtype, _operands, broadcast_error, wrapped_number


# -- binary ops ---------------------------------------------------------------------------------
class Maximum(Op):
    name_ = "MaximumBackward0"
    elementwise = True
    op_name = "maximum"
    formula = {"a": "where(a < b, 0.0, where(a == b, grad / 2, grad))",
               "b": "where(a > b, 0.0, where(a == b, grad / 2, grad))"}
    __slots__ = ()

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, grad):
        a, b = (dual.raw(v) for v in self.saved(grad))
        # NOTE: PyTorch splits the gradient half/half where a == b (and gives it to both at nan)
        eq = a == b
        half = dual.where(eq, grad / 2, grad)
        need = self.needs_input_grad
        lo_a, lo_b = (a < b, a > b) if self._is_max else (a > b, a < b)
        return (dual.where(lo_a, 0.0, half) if need[0] else None,
                dual.where(lo_b, 0.0, half) if need[1] else None)

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
    elementwise = True
    op_name = "fmax"
    formula = {"a": "where((a >= b) | b.isnan(), grad, 0.0)",
               "b": "where((a >= b) | b.isnan(), 0.0, grad)"}
    __slots__ = ()
    _is_max = True

    def forward(self, a, b):
        return np.fmax(a, b)

    def backward(self, grad):
        a, b = (dual.raw(v) for v in self.saved(grad))
        # NOTE: PyTorch gives a tie (and a nan in b) to a
        m = ((a >= b) if self._is_max else (a <= b)) | np.isnan(b)
        need = self.needs_input_grad
        return (dual.where(m, grad, 0.0) if need[0] else None,
                dual.where(m, 0.0, grad) if need[1] else None)


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
    elementwise = True
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
        zero = dual.raw(r) == 0
        # NOTE: PyTorch's atan2_backward: 1/(a² + b²) set to 0 where it is infinite, then
        # grad * other * recip and grad * -self * recip (so an inf/NaN grad at (0, 0) is NaN,
        # and zeros keep their signs)
        with np.errstate(divide="ignore"):
            recip = dual.where(zero, 0.0, 1 / r)
        need = self.needs_input_grad
        return (grad * b * recip if need[0] else None,
                grad * -a * recip if need[1] else None)


class Hypot(Op):
    name_ = "HypotBackward0"
    elementwise = True
    op_name = "hypot"
    formula = {"a": "grad * a / out", "b": "grad * b / out"}
    save_output = True
    saved_for = ((0,), (1,))  # each operand for its own gradient only (and the result)
    __slots__ = ()

    def forward(self, a, b):
        return np.hypot(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        out = self.result(grad)
        need = self.needs_input_grad
        return (grad * a / out if need[0] else None,
                grad * b / out if need[1] else None)


def _xlogy_np(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        # NOTE: PyTorch: 0 where x == 0 (even for y = 0 or inf), nan where y is nan
        return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log(y)).astype(
            np.result_type(x, y), copy=False)


def _xlogy_grad(g, b):
    """``xlogy(g, b)`` (dual): PyTorch's derivative of xlogy in self, so a zero upstream
    gradient gives 0 where log(b) is -inf or NaN (b <= 0), not 0 * log(b) = NaN."""
    if isinstance(g, Tensor) or isinstance(b, Tensor):
        from ...methods.elementwise import xlogy

        return xlogy(g, b)
    if not hasattr(b, "dtype"):
        b = g.dtype.type(b)  # a scalar, not a host array (g may live on a device)
    return _xlogy_np(g, b).astype(np.result_type(g, b), copy=False)


class Xlogy(Op):
    name_ = "XlogyBackward0"
    elementwise = True
    op_name = "xlogy"
    formula = {"a": "where((a == 0) & (b <= 0), 0.0, grad.xlogy(b))", "b": "grad * a / b"}
    __slots__ = ()

    def forward(self, a, b):
        a, b = _flt(a, b)
        if getattr(b, "dtype", np.dtype("f")).kind != "f":
            b = b.astype(a.dtype)
        return _xlogy_np(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        need = self.needs_input_grad
        ga = gb = None
        if need[0]:
            ga = dual.where((dual.raw(a) == 0) & (dual.raw(b) <= 0), 0.0, _xlogy_grad(grad, b))
        if need[1]:
            gb = grad * a / b
        return ga, gb


class XlogyScalarOther(Op):
    name_ = "XlogyBackward2"
    elementwise = True
    same_shape = True
    formula = {"x": "where((x == 0) & (other <= 0), 0.0, grad.xlogy(other))"}
    __slots__ = ("other",)

    def forward(self, x):
        return _xlogy_np(x, x.dtype.type(self.other))

    def backward(self, grad):
        o = self.other
        g = _xlogy_grad(grad, o)
        if o <= 0:
            return dual.where(dual.raw(self.saved(grad)[0]) == 0, 0.0, g)
        return g


class XlogyScalarSelf(Op):
    name_ = "XlogyBackward1"
    elementwise = True
    same_shape = True
    formula = {"x": "grad * self_ / x"}
    __slots__ = ("self_",)

    def forward(self, y):
        return _xlogy_np(y.dtype.type(self.self_), y)

    def backward(self, grad):
        return grad * self.self_ / self.saved(grad)[0]


class Logaddexp(Op):
    name_ = "LogaddexpBackward0"
    elementwise = True
    op_name = "logaddexp"
    formula = {"a": "grad / (1 + (b - a).exp())", "b": "grad / (1 + (a - b).exp())"}
    __slots__ = ()

    def forward(self, a, b):
        return np.logaddexp(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        need = self.needs_input_grad
        with np.errstate(over="ignore"):
            return (grad / (dual.exp(b - a) + 1) if need[0] else None,
                    grad / (dual.exp(a - b) + 1) if need[1] else None)


class Logaddexp2(Op):
    name_ = "Logaddexp2Backward0"
    elementwise = True
    op_name = "logaddexp2"
    formula = {"a": "grad / (1 + 2 ** (b - a))", "b": "grad / (1 + 2 ** (a - b))"}
    __slots__ = ()

    def forward(self, a, b):
        return np.logaddexp2(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        need = self.needs_input_grad
        with np.errstate(over="ignore"):
            return (grad / (2.0 ** (b - a) + 1) if need[0] else None,
                    grad / (2.0 ** (a - b) + 1) if need[1] else None)


class Copysign(Op):
    name_ = "CopysignBackward0"
    elementwise = True
    op_name = "copysign"
    formula = {"a": "grad * where(a == 0, 0.0, out / a)", "b": "grad * 0"}
    save_output = True
    saved_for = ((0,), ())  # PyTorch saves self and the result for self's gradient only
    __slots__ = ()

    def forward(self, a, b):
        a, b = _flt(a, b)
        if getattr(b, "dtype", np.dtype("f")).kind != "f":
            b = b.astype(a.dtype)
        return np.copysign(a, b)

    def backward(self, grad):
        a, _ = self.saved(grad)
        need = self.needs_input_grad
        ga = None
        if need[0]:
            # NOTE: PyTorch: grad * (result / self), the ratio set to 0 where self == 0 (so an
            # inf/NaN upstream gradient gives NaN there, as in torch: multiplied, not masked)
            ga = grad * dual.where(dual.raw(a) == 0, 0.0, self.result(grad) / a)
        return ga, (dual.zeros_like(grad) if need[1] else None)


class CopysignScalar(Op):
    name_ = "CopysignBackward1"
    elementwise = True
    same_shape = True
    formula = {"x": "grad * where(x == 0, 0.0, out / x)"}
    save_output = True
    __slots__ = ("other",)

    def forward(self, x):
        return np.copysign(x, x.dtype.type(self.other))

    def backward(self, grad):
        (x,) = self.saved(grad)
        return grad * dual.where(dual.raw(x) == 0, 0.0, self.result(grad) / x)


def _int_zero_check(a, b, op: str):
    if getattr(b, "dtype", None) is not None and b.dtype.kind in "iub" or isinstance(b, int):
        if np.any(b == 0) and a.dtype.kind in "iu" and 0 not in np.broadcast_shapes(
                a.shape, np.shape(b)):  # (an empty result divides nothing: no error)
            raise RuntimeError(
                f"ZeroDivisionError\nWhy: integer {op} by zero has no value; use float tensors "
                "(x.float()) to get inf/nan instead."
            )


def _remainder_np(a, b):
    """PyTorch's remainder: ``fmod(a, b)``, plus ``b`` where it is nonzero and its sign is not
    ``b``'s. NOTE: NumPy's float remainder gives a zero result the sign of ``b`` (``7 % -1.0``
    is -0.0), PyTorch keeps fmod's (0.0, the sign of ``a``); integers agree (Python's %)."""
    if np.result_type(a, b).kind != "f":
        return np.remainder(a, b)
    m = np.fmod(a, b)
    fix = (m != 0) & ((b < 0) != (m < 0))
    return np.where(fix, m + b, m).astype(m.dtype, copy=False)


class Remainder(Op):
    name_ = "RemainderBackward1"
    elementwise = True
    op_name = "remainder"
    formula = {"a": "grad", "b": "-grad * floor_divide(a, b)"}
    saved_for = ((1,), (1,))  # both saved for other's gradient only
    __slots__ = ()

    def forward(self, a, b):
        _int_zero_check(a, b, "remainder")
        with np.errstate(divide="ignore", invalid="ignore"):
            return _remainder_np(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        need = self.needs_input_grad
        return (grad if need[0] else None,
                -grad * dual.floor_divide(a, b) if need[1] else None)


class Fmod(Remainder):
    name_ = "FmodBackward1"
    op_name = "fmod"
    formula = {"a": "grad", "b": "-grad * a.div(b, rounding_mode='trunc')"}
    __slots__ = ()

    def forward(self, a, b):
        _int_zero_check(a, b, "fmod")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.fmod(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        need = self.needs_input_grad
        return (grad if need[0] else None,
                -grad * dual.trunc_divide(a, b) if need[1] else None)


class RemainderScalar(Op):
    name_ = "RemainderBackward0"
    elementwise = True
    same_shape = True
    formula = {"x": "grad"}
    save_inputs = False
    __slots__ = ("other",)

    def forward(self, x):
        _int_zero_check(x, self.other, "remainder")
        with np.errstate(divide="ignore", invalid="ignore"):
            return _remainder_np(x, self.other).astype(x.dtype, copy=False)

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
            q = q + (((a % b) != 0) & ((a < 0) != (b < 0)))
        return q.astype(np.result_type(a, b), copy=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        if mode == "floor":
            # NOTE: NumPy's floor_divide is Python's //, PyTorch's div_floor algorithm too
            return np.floor_divide(a, b)
        return np.trunc(a / b)


class DivRounded(Op):
    name_ = "DivBackward2"
    elementwise = True
    op_name = "div"
    formula = {"a": "grad * 0", "b": "grad * 0"}
    # NOTE: the gradients are zeros, but PyTorch's node saves self (for other's gradient) and
    # other (for both): in-place changes to them and a second backward are refused as there
    saved_for = ((1,), (0, 1))
    __slots__ = ("mode",)

    def forward(self, a, b):
        return _div_rounded(a, b, self.mode)

    def backward(self, grad):
        need = self.needs_input_grad
        return (dual.zeros_like(grad) if need[0] else None,
                dual.zeros_like(grad) if need[1] else None)


class DivRoundedScalar(Op):
    name_ = "DivBackward2"
    elementwise = True
    same_shape = True
    formula = {"x": "grad * 0"}
    save_inputs = False
    saved_state = ("other",)  # PyTorch saves the (wrapped) divisor: a second backward is refused
    __slots__ = ("mode", "other")

    def forward(self, x):
        return _div_rounded(x, self.other, self.mode)

    def backward(self, grad):
        return dual.zeros_like(grad)


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
        except ValueError as e:
            raise broadcast_error("div", a, b, e) from None
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
    elementwise = True
    formula = {}
    save_inputs = False
    __slots__ = ("what",)

    def forward(self, *arrays):  # pragma: no cover - the forward runs outside the node
        raise NotImplementedError

    error: type = RuntimeError  # (unique's nodes raise NotImplementedError, as PyTorch's)

    def backward(self, *grads):
        raise self.error(
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
        from ...creation import as_tensor

        b = as_tensor(b)
    return _operands(a, b), b


def floor_divide(a: Tensor, b) -> Tensor:
    """``a // b`` (floor rounding; PyTorch defines no derivative)."""
    (ad, bd), b = _binary_raw(a, b, "floor_divide")
    if ad.dtype.kind == "b" and getattr(bd, "dtype", np.dtype("i")).kind == "b":
        raise _not_impl_dtype("div_floor_cpu", ad.dtype)
    try:
        out = _div_rounded(ad, bd, "floor")
    except ValueError as e:
        raise broadcast_error("floor_divide", a, b, e) from None
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
    except ValueError as e:
        raise broadcast_error("heaviside", a, values, e) from None
    return _record_not_implemented("heaviside", (a, values), out)


def rmod(x: Tensor, other) -> Tensor:
    """``other % x`` for a Python number (PyTorch records no derivative for it)."""
    if isinstance(other, (int, float)):
        # NOTE: PyTorch's wrapped number, in the dtype the op computes in (0.001 % float64 uses
        # the double 0.001, 5 % int8 is int8), not a tensor of the number's default dtype
        o = wrapped_number(other, x)
    else:
        from ...creation import as_tensor

        o = as_tensor(other)
    (od, xd), _ = _binary_raw(o, x, "remainder")
    if od.dtype.kind == "b":
        raise _not_impl_dtype("remainder_cpu", od.dtype)
    _int_zero_check(od, xd, "remainder")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _remainder_np(od, xd)
    return _record_not_implemented("remainder", (x,), out)
