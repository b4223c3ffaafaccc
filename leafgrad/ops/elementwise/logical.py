"""Elementwise ops without gradients: isclose, logical and/or/xor, shifts."""

from __future__ import annotations

import numpy as np

from ...backend import array_module
from ...tensor import Tensor, _wrap
from .dispatch import _not_impl_dtype, _operands, broadcast_error, check_shapes


# -- not differentiable -------------------------------------------------------------------------
def _bool_unary(fn, x: Tensor) -> Tensor:
    return _wrap(fn(x._data))  # _wrap makes a 0-d result an array


def isclose(a: Tensor, b: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``|a - b| <= atol + rtol * |b|`` elementwise (as a bool tensor)."""
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"{a.dtype} did not match {b.dtype}\nWhy: isclose compares tensors of one dtype; "
            "cast one with .to(other.dtype).")
    ad, bd = a._data, b._data
    if ad.dtype.kind == "b":
        return _wrap(ad == bd)
    with np.errstate(all="ignore"):
        try:
            return _wrap(np.isclose(ad, bd, rtol=rtol, atol=atol, equal_nan=equal_nan))
        except ValueError as e:
            raise broadcast_error("isclose", a, b, e) from None


def logical(op, a: Tensor, b, name: str) -> Tensor:
    """logical_and / or / xor: nonzero is true; the result is bool."""
    if not isinstance(b, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(b).__name__}")
    try:
        return _wrap(op(a._data.astype(bool), b._data.astype(bool)))
    except ValueError as e:
        raise broadcast_error(name, a, b, e) from None


def shift(a: Tensor, b, left: bool) -> Tensor:
    """``a << b`` / ``a >> b`` on integer tensors."""
    name = "lshift_cpu" if left else "rshift_cpu"
    if not isinstance(b, (Tensor, int)) or isinstance(b, float):
        if isinstance(b, float):
            raise _not_impl_dtype(name, np.float32)
        return NotImplemented
    check_shapes("bitwise_left_shift" if left else "bitwise_right_shift", a, b)
    ad, bd = _operands(a, b)
    if ad.dtype.kind in "fb":
        raise _not_impl_dtype(name, ad.dtype)
    bits = ad.dtype.itemsize * 8
    bd = array_module(ad).asarray(bd)
    with np.errstate(all="ignore"):
        try:
            if left:
                out = np.left_shift(ad, bd)
                # NOTE: PyTorch gives 0 for shifts past the width (NumPy's is undefined)
                out = np.where((bd >= bits) | (bd < 0), 0, out).astype(ad.dtype)
            else:
                # NOTE: PyTorch shifts by the width - 1 when the count is negative or past the
                # width (signed: the sign fills the result, -1 or 0); unsigned gives 0 there
                past = (bd < 0) | (bd >= bits)
                out = np.right_shift(ad, np.where(past, bits - 1, bd).astype(bd.dtype))
                if ad.dtype.kind == "u":
                    out = np.where(past, 0, out)
                out = out.astype(ad.dtype)
        except ValueError:
            raise broadcast_error("bitwise_left_shift" if left else "bitwise_right_shift",
                                  a, b) from None
    return _wrap(out)
