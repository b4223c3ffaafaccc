"""How an elementwise op runs: operands, dtype promotion, broadcasting errors, dispatch."""

from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import state
from ...autograd.node import _IGNORE, _quiet_off, _quiet_on
from ...backend import array_module, like
from ...dtypes import _Default, result_type
from ...tensor import Tensor, _wrap
from .._apply import record2, record_unary

_new = object.__new__
_float_kinds = "f"
_FLOAT_NP = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64))


# -- dispatch helpers ---------------------------------------------------------------------------
def _unary(cls, x: Tensor) -> Tensor:
    # NOTE: the hot path. cls._forward(fn, ...): the op's own forward looked up on the class (no
    # bound-method object), with NumPy made quiet here rather than by Op's wrapper (a frame and
    # an argument tuple less per op; see Op.__init_subclass__)
    fn = _new(cls)
    token = _quiet_on(_IGNORE)
    try:
        out = cls._forward(fn, x._data)
    finally:
        _quiet_off(token)
    return record_unary(fn, x, out)  # it reads grad mode (one thread-local read per op)


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


def broadcast_error(op: str, a, b, cause: BaseException | None = None) -> RuntimeError:
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
    if not detail:
        # NOTE: the shapes do broadcast, so NumPy refused something else (its message says
        # what); never blame the shapes for it
        return RuntimeError(f"{op}(): {cause or 'the operation failed'}\nWhy: NumPy refused "
                            f"operands of shapes {sa} and {sb}; this is a leafgrad bug, please "
                            "report it.")
    return RuntimeError(
        f"{detail}\n{op}(): shapes {sa} and {sb} are not broadcastable. Why: broadcasting lines "
        "shapes up from the right, and each pair of sizes must be equal or one of them 1; "
        "reshape or unsqueeze one operand (e.g. b.unsqueeze(-1)) so the sizes line up."
    )


def check_shapes(op: str, a: Tensor, b) -> None:
    """PyTorch's shape check, which comes before its dtype checks (a bitwise op on floats of
    shapes that do not broadcast reports the shapes)."""
    if isinstance(b, Tensor) and a._data.shape != b._data.shape:
        try:
            np.broadcast_shapes(a._data.shape, b._data.shape)
        except ValueError:
            raise broadcast_error(op, a, b) from None


def _operands(a: Tensor, b):
    """Raw operands of a binary op, cast to PyTorch's promoted dtype when dtypes differ."""
    ad = a._data
    if isinstance(b, Tensor):
        bd = b._data
        if ad.dtype is not bd.dtype and ad.dtype != bd.dtype:
            dt = result_type(a, b).np
            with np.errstate(over="ignore"):  # a cast past the range: inf, silently, as torch
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
                b = ad.dtype.type((b - info.min) % (1 << info.bits) + info.min)
        return ad, b
    if cls is bool:
        return ad, b
    if isinstance(b, (np.ndarray, np.generic)) or hasattr(b, "__array__"):
        from ...creation import as_tensor

        return _operands(a, as_tensor(b))
    raise TypeError(
        f"unsupported operand type for a tensor op: {type(b).__name__}; expected a Tensor or a "
        "Python number"
    )


def wrapped_number(value, like_: Tensor, floating: bool = False) -> Tensor:
    """Python number ``value`` met by Tensor ``like_`` as PyTorch wraps it: a 0-d tensor in the
    dtype the op computes in, for ops where the number comes first (``0.001 % x``,
    ``torch.remainder(2, x)``, ``3 << x``) and so is an operand of the tensor kernel.

    The dtype is ``result_type(like_, value)`` (the number never widens a tensor of its
    category: ``0.001 % float64`` computes with the double 0.001, ``7 // int8`` in int8), or the
    default float where ``floating`` says the op computes integers in floats (true division:
    ``torch.div(-3, uint8)`` is -3 / x, not 253 / x). An int past an integer dtype's range
    wraps around as PyTorch's cast does (``2**40 & int8`` is ``0 & x``); a float past a float
    dtype's range is inf. A Python number must not become a tensor of its own default dtype
    first: float32 rounding (0.001 -> 0.0010000000475) or int64 (which would widen a 0-d int8
    tensor) changes the result.
    """
    if isinstance(value, Tensor):
        return value
    if value.__class__ is bool:
        # NOTE: a bool stays a bool tensor (exact in every dtype, and ops that refuse a bool
        # operand, such as sub, see one: torch.sub(True, x) is an error)
        return _wrap(array_module(like_._data).asarray(value))
    dt = result_type(like_, value)
    if floating and dt.np.kind != "f":
        dt = _Default.value
    npdt = dt.np
    if npdt.kind in "iu":
        info = np.iinfo(npdt)
        value = int(value)
        if not info.min <= value <= info.max:
            value = (value - info.min) % (1 << info.bits) + info.min
    token = _quiet_on(_IGNORE)  # 1e300 in float32 is inf, silently, as in PyTorch
    try:
        arr = array_module(like_._data).asarray(value, npdt)
    finally:
        _quiet_off(token)
    return _wrap(arr)


_F16 = np.dtype(np.float16)
_NUMBERS: dict = {}  # id(number) -> (number, dtype, the number as a 0-d array of dtype)


def _number(b: float, dt) -> np.ndarray:
    """Python float ``b`` as a read-only 0-d array of float dtype ``dt``: the value NumPy uses
    for ``array op b`` (b rounded to dt), reused while the same float object comes again.

    NOTE: NumPy's path for a Python number costs about as much again as the arithmetic on a
    small array, and a loop (``y = y + 0.5``) passes the same constant object each time. Keyed
    by identity, holding the number (its id cannot be reused meanwhile): -0.0 and 0.0 stay apart.
    """
    e = _NUMBERS.get(id(b))
    if e is not None and e[0] is b and e[1] is dt:
        return e[2]
    if len(_NUMBERS) >= 256:
        _NUMBERS.clear()
    token = _quiet_on(_IGNORE)  # 1e300 rounds to inf in float32, silently, as in PyTorch
    try:
        arr = np.array(b, dt)
    finally:
        _quiet_off(token)
    arr.flags.writeable = False
    _NUMBERS[id(b)] = (b, dt, arr)
    return arr


def _half_with_scalar(cls, a: Tensor, b) -> Tensor:
    """float16 tensor op Python number, computed in float32 and rounded once, as PyTorch does.

    NOTE: NumPy would round the number to half first (0.1 -> 0.0999756), so ``x * 0.1`` would
    differ from PyTorch's in the last bit, and 1e10 would overflow to inf.
    """
    fn = _new(cls)
    with np.errstate(over="ignore"):  # rounding past 65504 gives inf, silently, as in torch
        if cls.op_name in ("add", "sub"):
            # NOTE: ATen's add/sub kernel takes the number in the tensor's dtype (rounded to
            # half); mul/div take it in float (their opmath): tested against torch
            b = float(np.float16(b))
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
        if bc is float and cls.number_as_array and ad.__class__ is np.ndarray:
            bd = _number(b, ad.dtype)
    else:
        if not isinstance(b, (Tensor, int, float, bool)):
            from ...creation import as_tensor

            try:
                b = as_tensor(b)
            except (TypeError, ValueError, RuntimeError):
                if any(hasattr(type(b), r) for r in ("__radd__", "__array_ufunc__")):
                    return NotImplemented  # let Python try the other operand's reflected op
                # NOTE: never NotImplemented from a method call (x.add(None) would return it)
                raise TypeError(
                    f"{cls.op_name or cls.__name__.lower()}(): argument 'other' must be Tensor "
                    f"or Number, not {type(b).__name__}\nWhy: a binary op combines a tensor "
                    "with a tensor or a Python number.") from None
        ad, bd = _operands(a, b)
    fn = _new(cls)
    token = _quiet_on(_IGNORE)
    try:
        out = cls._forward(fn, ad, bd)  # NOTE: through the class, quiet here, as in _unary
    except ValueError as e:
        raise broadcast_error(cls.op_name, a, b, e) from None
    except TypeError as e:  # an array library refusing another device's array
        a, b, ad, bd = _on_one_device(cls.op_name, a, b, ad, bd, e)
        out = cls._forward(fn, ad, bd)
    finally:
        _quiet_off(token)
    return record2(fn, a, b, out)  # it reads grad mode (one thread-local read per op)


def _on_one_device(op: str, a: Tensor, b, ad, bd, err: TypeError):
    """Operands on one device when one is a 0-d CPU tensor outside autograd (PyTorch treats it
    as a number; the moved copy is what backward reads); PyTorch's error for tensors on two
    devices; else ``err`` again."""
    if not isinstance(b, Tensor):
        raise err
    da, db = a.device, b.device
    if da == db:
        raise err
    if db.type == "cpu" and bd.ndim == 0 and not b._rg:
        bd = like(bd, ad)
        return a, _wrap(bd), ad, bd
    if da.type == "cpu" and ad.ndim == 0 and not a._rg:
        ad = like(ad, bd)
        return _wrap(ad), b, ad, bd
    raise RuntimeError(
        f"Expected all tensors to be on the same device, but found at least two devices, "
        f"{da} and {db}!\nWhy: {op} runs on one device; move one operand first, e.g. "
        f"b.to(a.device)."
    ) from None


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
