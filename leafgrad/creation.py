"""Tensor factories: tensor, as_tensor, from_numpy, zeros, ones, full, arange, linspace, eye..."""

from __future__ import annotations

import math
import numbers
import operator
import warnings
from itertools import chain

import numpy as np

from . import backend as _backend
from . import dtypes as _dt
from ._out import out_variant
from .ops.movement import strides as _strides
from .size import parse_size
from .tensor import Tensor, _wrap

_INT64_MAX = 2**63 - 1
# np.iinfo / np.finfo cost microseconds per call; factories ask on every call
_IINFO = {np.dtype(t): np.iinfo(t) for t in (np.uint8, np.int8, np.int16, np.int32, np.int64)}
_FMAX = {np.dtype(t): float(np.finfo(t).max) for t in (np.float16, np.float32, np.float64)}


# -- helpers ------------------------------------------------------------------------------------
def _finish(data, device, requires_grad: bool) -> Tensor:
    if device is not None:
        data = _backend.move(data, _backend.as_device(device))
    t = _wrap(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _cast(a: np.ndarray, npd: np.dtype) -> np.ndarray:
    """``a.astype(npd)``, except that half is reached through float as in PyTorch.

    NOTE: c10::Half is built from a float, so PyTorch rounds a double to float first, then to half
    (1 + 2**-11 + 2**-40 becomes 1.0, where NumPy's direct cast gives 1.001).
    """
    with np.errstate(over="ignore"):  # rounding past the dtype's range gives inf, silently
        if npd == np.float16 and a.dtype.kind != "b" and a.dtype not in (np.float16, np.float32):
            a = a.astype(np.float32)
        return a.astype(npd)


def _dtype_or_default(dtype) -> np.dtype:
    return (_dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)).np


def _number(v, fn: str, arg: str):
    """A Python number from a scalar argument (a number, a NumPy scalar or a one-element tensor)."""
    if isinstance(v, Tensor):
        if v.numel() != 1:
            raise RuntimeError(
                f"{fn}(): argument '{arg}' must be a number, but got a Tensor with {v.numel()} "
                "elements"
            )
        return v.item()
    if isinstance(v, np.generic):
        v = v.item()
    if not isinstance(v, (numbers.Real)):
        raise TypeError(f"{fn}(): argument '{arg}' must be Number, not {type(v).__name__}")
    return _parsed_int(v)


def _parsed_int(v):
    """PyTorch's argument parser reads a Python int as a 64-bit integer (signed or unsigned)."""
    if v.__class__ is int and not -_INT64_MAX - 1 <= v < 2**64:
        raise OverflowError("int too big to convert")
    return v


def _overflow(npd: np.dtype) -> RuntimeError:
    return RuntimeError(
        f"value cannot be converted to type {_dt.from_np(npd).name} without overflow\n"
        f"Why: the value lies outside what {_dt.from_np(npd)} can hold; pick a wider dtype."
    )


def _check_scalar(v, npd: np.dtype, check_half: bool = True):
    """Convert one Python number to ``npd`` the way PyTorch's ``checked_convert`` does.

    NOTE: PyTorch refuses a value that overflows the target, except that a negative integer may
    wrap into an unsigned type when its magnitude fits (uint8 accepts -255..255: -1 -> 255).
    (torch.tensor does not check float targets, they round to inf; it does not call this.)
    ``check_half=False``: PyTorch fills a one-element half tensor without the check (inf).
    """
    kind = npd.kind
    if kind == "b":
        return bool(v)
    if isinstance(v, bool):
        v = int(v)
    if kind == "f":
        fv = float(v)
        if math.isfinite(fv) and abs(fv) > _FMAX[npd] and (check_half or npd != np.float16):
            raise _overflow(npd)
        return fv
    info = _IINFO[npd]
    if isinstance(v, int):
        ok = v <= info.max and (v >= info.min if info.min < 0 else -v <= info.max)
        if not ok:
            raise _overflow(npd)
        return v
    if v != v or not info.min <= v <= info.max:  # NaN and +-inf overflow integers too
        raise _overflow(npd)
    return int(v)


def _as_numpy_value(v, npd: np.dtype, check_half: bool = True):
    """A checked scalar as a NumPy value of ``npd`` (negative ints wrap into unsigned types)."""
    v = _check_scalar(v, npd, check_half)
    if npd.kind in "iu":
        return np.array(v, dtype=np.int64).astype(npd)[()]
    return _cast(np.array(v), npd)[()]


# -- tensor() data inference ----------------------------------------------------------------------
def _is_seq(x) -> bool:
    return isinstance(x, (list, tuple, range)) or (isinstance(x, np.ndarray) and x.ndim > 0)


def _ragged(items, n: int, dim: int) -> Exception:
    """The error PyTorch raises for the first item that does not fit the shape."""
    for it in items:
        if not _is_seq(it):
            return TypeError(
                f"not a sequence: expected a sequence of length {n} at dim {dim}, got "
                f"{type(it).__name__}\nWhy: a tensor is rectangular; every entry at the same "
                "depth must be a list of the same length."
            )
        if len(it) != n:
            return ValueError(
                f"expected sequence of length {n} at dim {dim} (got {len(it)})\nWhy: a tensor "
                "is rectangular; every row at the same depth needs the same length."
            )
    raise AssertionError("unreachable")


def _scan(data) -> tuple[list[int], list]:
    """Shape and flat leaves of nested sequences, checked level by level (C-speed per level)."""
    shape = [len(data)]
    level = data
    while True:
        if not level:
            return shape, []
        types = set(map(type, level))
        if types <= _LEAF_TYPES:
            return shape, level if isinstance(level, list) else list(level)
        first = level[0]
        if not _is_seq(first):
            for it in level:
                if _is_seq(it):
                    raise TypeError(
                        f"'{type(it).__name__}' object cannot be interpreted as a number: a "
                        f"sequence sits where dim {len(shape) - 1} holds numbers\nWhy: a tensor is "
                        "rectangular; every entry at the same depth must be a number or a list."
                    )
            return shape, level if isinstance(level, list) else list(level)
        n = len(first)
        if not (types <= _SEQ_TYPES and len(set(map(len, level))) == 1) and not all(
                _is_seq(it) and len(it) == n for it in level):
            raise _ragged(level, n, len(shape))
        shape.append(n)
        level = list(chain.from_iterable(level))


_LEAF_TYPES = {int, float, bool}
_SEQ_TYPES = {list, tuple, range}


def _leaf_dtype(t: type, leaves: list) -> _dt.dtype:
    """The dtype PyTorch infers for a Python value of type ``t`` inside a list."""
    if t is float:
        return _dt.get_default_dtype()
    if t is int:
        return _dt.int64
    if t is bool or t is np.bool_:
        return _dt.bool
    if issubclass(t, (np.integer, np.floating)):
        return _dt.from_np(np.dtype(t))
    if issubclass(t, Tensor):
        d = None
        for x in leaves:
            if isinstance(x, Tensor):
                if x.numel() != 1:
                    raise ValueError("only one element tensors can be converted to Python scalars")
                d = x.dtype if d is None else _dt.promote_types(d, x.dtype)
        return d
    if issubclass(t, bool):
        return _dt.bool
    if issubclass(t, numbers.Integral):
        return _dt.int64
    if issubclass(t, numbers.Real):
        return _dt.get_default_dtype()
    if issubclass(t, (complex, np.complexfloating)):
        raise TypeError("complex numbers are not supported by leafgrad (no complex dtypes yet)")
    if issubclass(t, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{t.__name__}'")
    raise RuntimeError(f"Could not infer dtype of {t.__name__}")


def _leaves_to_array(leaves: list, types: set, npd: np.dtype) -> np.ndarray:
    """Flat Python numbers -> 1-d array of ``npd`` with PyTorch's per-value overflow checks."""
    if any(issubclass(t, Tensor) for t in types):
        leaves = [x.item() if isinstance(x, Tensor) else x for x in leaves]
    try:
        nat = np.array(leaves)
    except OverflowError:
        nat = np.array(leaves, dtype=object)
    kind = npd.kind
    if nat.dtype.kind == "f" and kind in "iu" and any(
            x.__class__ is int and abs(x) > 2**53 for x in leaves):
        nat = np.array(leaves, dtype=object)  # keep big ints exact next to floats
    if nat.dtype.kind in "uO":
        if kind == "f":
            return _cast(np.array([float(x) for x in leaves], dtype=np.float64), npd)
        if kind == "b":
            return np.array([bool(x) for x in leaves], dtype=np.bool_)
        if any(x.__class__ is int and not -_INT64_MAX - 1 <= x <= _INT64_MAX for x in leaves):
            # NOTE: PyTorch reads a Python int as a C long long before any dtype conversion
            raise ValueError("Overflow when unpacking long long")
        vals = [_check_scalar(x, npd) for x in leaves]
        return np.array(vals, dtype=np.int64).astype(npd)
    if kind in "iu" and nat.dtype.kind != "b" and not (npd == nat.dtype == np.int64):
        info = _IINFO[npd]
        if nat.dtype.kind == "f":
            bad = np.isnan(nat) | (nat < info.min) | (nat > info.max)
            nat = np.trunc(nat)
        elif info.min < 0:
            bad = (nat < info.min) | (nat > info.max)
        else:
            bad = (nat > info.max) | (nat < -int(info.max))
        if bad.any():
            raise _overflow(npd)
        if nat.dtype.kind == "f":
            nat = nat.astype(np.int64)
    return _cast(nat, npd)


def _from_sequence(data, dtype) -> np.ndarray:
    shape, leaves = _scan(data)
    types = set(map(type, leaves))
    if dtype is None:
        d = None
        for t in types:
            ld = _leaf_dtype(t, leaves)
            d = ld if d is None else _dt.promote_types(d, ld)
        npd = (d or _dt.get_default_dtype()).np
    else:
        for t in types - _LEAF_TYPES:
            _leaf_dtype(t, leaves)  # validates (None, str... raise as PyTorch does)
        npd = dtype.np
    if not leaves:
        return np.zeros(shape, dtype=npd)
    return _leaves_to_array(leaves, types, npd).reshape(shape)


def _infer(data, dtype=None) -> np.ndarray:
    """Convert Python data to an array with PyTorch's dtype inference (``dtype``: a leafgrad dtype).

    NOTE: like torch.tensor, an inferred list keeps NumPy scalars' and tensors' dtypes and promotes
    across elements (``[np.float64(1.5)]`` is float64, ``[1, 2.5]`` the default float dtype).
    """
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        _dt.from_np(data.dtype)
        return data
    if isinstance(data, np.generic):
        _dt.from_np(data.dtype)
        return np.asarray(data)
    if _backend.is_device_array(data):  # a CuPy (or other registered device's) array
        _dt.from_np(data.dtype)
        return data
    if isinstance(data, (list, tuple, range)):
        return _from_sequence(data, dtype)
    if isinstance(data, (numbers.Number)):
        return _from_sequence([data], dtype).reshape(())
    if hasattr(data, "__array__") and not isinstance(data, (str, bytes)):
        return _infer(np.asarray(data), dtype)
    _leaf_dtype(type(data), [data])  # raises PyTorch's error for the type
    raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")


# -- tensor, as_tensor, asarray, from_numpy ----------------------------------------------------
def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, an array or a tensor).

    >>> tensor([[1.0, 0.0], [-1.0, 1.0]], requires_grad=True)
    tensor([[ 1.,  0.],
            [-1.,  1.]], requires_grad=True)
    """
    if isinstance(data, Tensor):
        # NOTE: PyTorch warns here: tensor(t) copies and detaches, which surprises people
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
            "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "torch.tensor(sourceTensor).", UserWarning, stacklevel=2)
    d = None if dtype is None else _dt.as_dtype(dtype)
    arr = _infer(data, d)
    if device is None and _backend.is_device_array(arr):
        device = _backend.device_of(arr)
    arr = _backend.to_numpy(arr)
    arr = arr.copy() if d is None or arr.dtype == d.np else _cast(arr, d.np)
    return _finish(arr, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when it can.

    >>> a = np.zeros(2); t = as_tensor(a); a[0] = 5; t
    tensor([5., 0.], dtype=torch.float64)
    """
    if isinstance(data, Tensor):
        t = data
        if dtype is not None or device is not None:
            t = t.to(dtype=dtype, device=device)
        return t
    d = None if dtype is None else _dt.as_dtype(dtype)
    arr = _infer(data, d)
    if d is not None and arr.dtype != d.np:
        arr = _cast(arr, d.np)
    return _finish(arr, device, False)


def asarray(obj, *, dtype=None, device=None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """Convert ``obj`` to a tensor, sharing memory unless ``copy=True`` or a cast is needed.

    >>> a = np.ones(2); _ = asarray(a).add_(1); a
    array([2., 2.])
    """
    if copy is False:
        d = None if dtype is None else _dt.as_dtype(dtype)
        shares = isinstance(obj, (Tensor, np.ndarray))
        src = obj.dtype if isinstance(obj, Tensor) else (
            _dt.from_np(obj.dtype) if isinstance(obj, np.ndarray) else None)
        if not shares or (d is not None and d is not src):
            raise ValueError(
                "can't alias the given object as a tensor with copy=False: it is not an array "
                "of the requested dtype; pass copy=None to allow a copy"
            )
    if copy:
        if isinstance(obj, Tensor):
            t = obj.detach().clone().to(dtype=dtype, device=device)
        else:
            t = tensor(obj, dtype=dtype, device=device)
    else:
        t = as_tensor(obj, dtype, device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing memory with NumPy array ``a`` (changes to one show in the other).

    >>> a = np.ones(2, dtype=np.float32); t = from_numpy(a); _ = t.add_(1); a
    array([2., 2.], dtype=float32)
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    _dt.from_np(a.dtype)
    if not a.flags.writeable:
        warnings.warn(
            "The given NumPy array is not writable, and PyTorch does not support non-writable "
            "tensors. This means writing to this tensor will result in undefined behavior.",
            UserWarning, stacklevel=2,
        )
    return _wrap(a)


# -- zeros, ones, empty, full and the *_like forms ------------------------------------------------
def _size_args(fn: str, args: tuple, size) -> tuple:
    if size is not None:
        if args:
            raise TypeError(f"{fn}() got multiple values for argument 'size'")
        return (size,)
    if not args:
        raise TypeError(f'{fn}() missing 1 required positional arguments: "size"')
    return args


def _arange_resized(o, shape: tuple) -> str | None:
    """PyTorch's warning when arange resizes a non-empty ``out=`` (None: it had no elements)."""
    if not o.numel():
        return None
    return (f"The number of elements in the out tensor of shape {list(o.shape)} is {o.numel()} "
            f"which does not match the computed number of elements {math.prod(shape)}. Note that "
            "this may occur as a result of rounding error. The out tensor will be resized to a "
            f"tensor of shape {tuple(shape)}.")


def _filled(fn: str, shape: tuple, value, npd: np.dtype, device, requires_grad: bool) -> Tensor:
    xp = _backend.xp_for(_backend.as_device(device))
    data = xp.empty(shape, npd) if value is None else xp.full(shape, value, dtype=npd)
    t = _wrap(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


@out_variant(rule="dtype", resize_warns=False)
def zeros(*args, size=None, dtype=None, layout=None, device=None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros; the size is varargs, a tuple/list or a ``Size``.

    >>> zeros(2, 3).shape, zeros((2,)).dtype
    (torch.Size([2, 3]), torch.float32)
    """
    shape = parse_size(_size_args("zeros", args, size))
    npd = _dtype_or_default(dtype)
    return _filled("zeros", shape, 0, npd, device, requires_grad)


@out_variant(rule="dtype", resize_warns=False)
def ones(*args, size=None, dtype=None, layout=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ones.

    >>> ones(2)
    tensor([1., 1.])
    """
    shape = parse_size(_size_args("ones", args, size))
    npd = _dtype_or_default(dtype)
    return _filled("ones", shape, 1, npd, device, requires_grad)


@out_variant(rule="dtype", resize_warns=False)
def empty(*args, size=None, dtype=None, layout=None, device=None,
          requires_grad: bool = False, memory_format=None, pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor (its values are whatever the memory held).

    >>> empty(2, 3).shape
    torch.Size([2, 3])
    """
    shape = parse_size(_size_args("empty", args, size))
    npd = _dtype_or_default(dtype)
    return _filled("empty", shape, None, npd, device, requires_grad)


def _fill_value(fill_value, fn: str):
    """A Python number from ``fill_value`` (0-d tensors allowed; PyTorch refuses other tensors)."""
    if isinstance(fill_value, Tensor):
        if fill_value.dim() != 0:
            raise TypeError(
                f"{fn}(): argument 'fill_value' must be Number, not a {fill_value.dim()}-d Tensor"
            )
        return fill_value.item()
    if isinstance(fill_value, np.generic) and not isinstance(fill_value, np.bool_):
        return fill_value.item()
    if isinstance(fill_value, (complex, np.complexfloating)):
        raise TypeError("complex numbers are not supported by leafgrad (no complex dtypes yet)")
    if not isinstance(fill_value, (numbers.Real, np.bool_)):
        raise TypeError(
            f"{fn}(): argument 'fill_value' (position 2) must be Number, not "
            f"{type(fill_value).__name__}"
        )
    return _parsed_int(fill_value)


@out_variant(rule="dtype", resize_warns=False)
def full(size, fill_value, *, dtype=None, layout=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value's type, as in PyTorch.

    >>> full((2,), 7), full([2], 1.5), full((), True)
    (tensor([7, 7]), tensor([1.5000, 1.5000]), tensor(True))
    """
    if not isinstance(size, (tuple, list)):
        raise TypeError(
            f"full(): argument 'size' (position 1) must be tuple of ints, not "
            f"{type(size).__name__}; e.g. full((2, 3), 1.5)"
        )
    shape = parse_size((size,))
    v = _fill_value(fill_value, "full")
    if dtype is None:
        # NOTE: torch.full infers bool from a Python bool and int64 from an int (NumPy ints
        # included); anything else, np.bool_ too, gets the default float dtype.
        if isinstance(v, bool):
            npd = np.dtype(np.bool_)
        elif isinstance(v, numbers.Integral):
            npd = np.dtype(np.int64)
        else:
            npd = _dt.get_default_dtype().np
    else:
        npd = _dt.as_dtype(dtype).np
    value = _as_numpy_value(v, npd, check_half=math.prod(shape) != 1)
    return _filled("full", shape, value, npd, device, requires_grad)


def _like(fn: str, input, dtype, device, memory_format, value) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    npd = input._data.dtype if dtype is None else _dt.as_dtype(dtype).np
    src = input._data
    xp = _backend.array_module(src)
    # NOTE: PyTorch's default memory_format=torch.preserve_format keeps a dense input's strides
    # and orders another's dims by stride (infer_dense_strides: zeros_like(x.T) and of an
    # expanded x.T are column-major); NumPy's order='K' differs where a stride is 0
    data = _strides.empty_in(src.shape, _strides.like_perm(src, memory_format), npd, xp)
    if value is not None:
        data[...] = _as_numpy_value(value, npd, check_half=src.size != 1)
    return data


def _finish_like(data, input: Tensor, device, requires_grad: bool) -> Tensor:  # noqa: A002
    if device is not None and _backend.as_device(device) != input.device:
        data = _backend.move(data, _backend.as_device(device))
    t = _wrap(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros_like(input: Tensor, *, dtype=None, layout=None, device=None,  # noqa: A002
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """Zeros with ``input``'s shape, dtype and device.

    >>> zeros_like(ones(2, dtype=_dt.int8))
    tensor([0, 0], dtype=torch.int8)
    """
    data = _like("zeros_like", input, dtype, device, memory_format, 0)
    return _finish_like(data, input, device, requires_grad)


def ones_like(input: Tensor, *, dtype=None, layout=None, device=None,  # noqa: A002
              requires_grad: bool = False, memory_format=None) -> Tensor:
    """Ones with ``input``'s shape, dtype and device.

    >>> ones_like(zeros(2), dtype=_dt.int64)
    tensor([1, 1])
    """
    data = _like("ones_like", input, dtype, device, memory_format, 1)
    return _finish_like(data, input, device, requires_grad)


def empty_like(input: Tensor, *, dtype=None, layout=None, device=None,  # noqa: A002
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """An uninitialised tensor with ``input``'s shape, dtype and device.

    >>> empty_like(zeros(2, 3)).shape
    torch.Size([2, 3])
    """
    data = _like("empty_like", input, dtype, device, memory_format, None)
    return _finish_like(data, input, device, requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, layout=None,  # noqa: A002
              device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    """``fill_value`` everywhere, with ``input``'s shape, dtype and device.

    >>> full_like(zeros(2, dtype=_dt.int32), 2.7)
    tensor([2, 2], dtype=torch.int32)
    """
    v = _fill_value(fill_value, "full_like")
    data = _like("full_like", input, dtype, device, memory_format, v)
    return _finish_like(data, input, device, requires_grad)


# -- arange, linspace: PyTorch's CPU kernels, reproduced bit for bit ----------------------------
# NOTE: PyTorch's range kernels are compiled with FMA contraction (``start + step * i`` is one
# fused multiply-add, rounded once) and fill SIMD vectors of width V (AVX2: 4 doubles, 8 floats,
# 16 halves) from a per-vector base, two vectors at a time, with a scalar tail. NumPy has no fma,
# so it is emulated exactly: Dekker's exact product, Knuth's exact sum, then Boldo & Melquiond's
# rounding-to-odd ("Emulation of FMA and correctly rounded sums", 2008).
_SPLIT = 134217729.0  # 2**27 + 1, Veltkamp's splitting constant for doubles


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _round_to_odd(v, err):
    """``v`` = RN(x) and ``err`` = x - v; return x rounded to odd (last mantissa bit set)."""
    even = (v.view(np.int64) & 1) == 0
    nudge = (err != 0) & even
    if nudge.any():
        v = np.where(nudge, np.nextafter(v, np.where(err > 0, np.inf, -np.inf)), v)
    return v


def _fma_scalar(a: float, b: float, c: float) -> float:
    """``_fma64`` for Python floats: Dekker's exact product, then fsum's correctly rounded sum."""
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    t = _SPLIT * b
    bh = t - (t - b)
    al, bl = a - ah, b - bh
    pe = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    if not (math.isfinite(p) and math.isfinite(pe) and math.isfinite(c)):
        return p + c
    return math.fsum((p, pe, c))


_SMALL = 24  # below this many elements, Python floats beat a few dozen tiny NumPy calls


def _fma64(a, b, c) -> np.ndarray:
    """``a * b + c`` rounded once, in float64 (what a hardware FMA computes); broadcasts.

    >>> float(_fma64(0.1, 3.0, 0.0)), 0.1 * 3.0
    (0.30000000000000004, 0.30000000000000004)
    """
    a, b, c = (np.asarray(x, dtype=np.float64) for x in (a, b, c))
    shape = np.broadcast_shapes(a.shape, b.shape, c.shape)
    if math.prod(shape) <= _SMALL:
        z = np.zeros(shape)
        a, b, c = ((x + z).ravel().tolist() for x in (a, b, c))
        return np.array([_fma_scalar(*abc) for abc in zip(a, b, c)]).reshape(shape)
    p = a * b  # the product first: in arange it is one vector row, before c broadcasts
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    pe = ((ah * bh - p) + ah * bl + al * bh) + al * bl  # p + pe == a * b exactly
    if not pe.any():
        r = p + c  # the product was exact, so one rounding of the sum is the fma
    else:
        s, se = _two_sum(p, c)  # s + se == p + c exactly
        v, ve = _two_sum(se, pe)
        r = s + _round_to_odd(np.asarray(v), ve)
    bad = ~(np.isfinite(r) & np.isfinite(pe))
    if bad.any():  # overflow or inf/nan inputs: the plain expression has the right answer
        r = np.where(bad, p + c, r)
    return np.asarray(r)


def _fma32(a, b, c) -> np.ndarray:
    """``a * b + c`` rounded once to float32, for float32 inputs (``fmaf``); broadcasts."""
    a, b, c = (np.asarray(x, dtype=np.float32).astype(np.float64) for x in (a, b, c))
    s, se = _two_sum(a * b, c)  # a * b is exact in float64 (24 + 24 bits)
    return _round_to_odd(np.asarray(s), se).astype(np.float32)


_AVX2_WIDTH = {np.dtype(np.float64): 4, np.dtype(np.float32): 8, np.dtype(np.float16): 16}
_BITS = {np.dtype(np.float64): 53, np.dtype(np.float32): 24, np.dtype(np.float16): 11}


def _exact_range(start: float, step: float, n: int, bits: int) -> bool:
    """True when every ``start + step * i`` (i < n) is exact in a ``bits``-bit significand."""
    lows = []
    for x in (start, step):
        if x:
            num, den = x.as_integer_ratio()
            lows.append((num & -num).bit_length() - den.bit_length())  # exponent of lowest bit
    if not lows:
        return True
    q = min(lows)
    top = max(abs(start), abs(start + step * n)) * 2.0  # generous bound on |values|
    return top < math.ldexp(1.0, q + bits)


def _arange_float(start: float, step: float, n: int, npd: np.dtype) -> np.ndarray:
    if n == 0 or _exact_range(start, step, n, _BITS[npd]):
        # NOTE: no rounding anywhere (e.g. arange(0., 10.)), so every kernel path agrees
        return (start + step * np.arange(n, dtype=np.float64)).astype(npd)
    width = _AVX2_WIDTH[npd]
    nvec = n - n % (2 * width)
    tail = np.arange(nvec, n, dtype=np.float64)
    if npd == np.float16:
        s, st = np.float32(start), np.float32(step)  # PyTorch accumulates half in float
        fma = _fma32
    else:
        s, st, fma = start, step, _fma64
    scalar = fma(st, tail, s).astype(npd)
    if not nvec:
        return scalar
    base = np.arange(nvec // width, dtype=np.float64)[:, None] * width  # each vector's first index
    k = np.arange(width, dtype=np.float64)[None, :]
    vb = fma(st, base, s).astype(npd)  # the vector's base element, in the output type
    vector = fma(k, st, vb).astype(npd)
    return np.concatenate([vector.ravel(), scalar])


@out_variant(rule="dtype", resize_warns=_arange_resized)
def arange(start=0, end=None, step=1, *, dtype=None, layout=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` up to (not including) ``end`` in steps of ``step``.

    >>> arange(5), arange(1, 2.5, 0.5)
    (tensor([0, 1, 2, 3, 4]), tensor([1.0000, 1.5000, 2.0000]))
    """
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, "arange", a) for v, a in
                        ((start, "start"), (end, "end"), (step, "step")))
    if dtype is None:
        is_float = any(not isinstance(v, numbers.Integral) for v in (start, end, step))
        npd = _dt.get_default_dtype().np if is_float else np.dtype(np.int64)
    else:
        npd = _dt.as_dtype(dtype).np
    if npd.kind == "b":
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    sd, ed, std = float(start), float(end), float(step)
    if not (std > 0 or std < 0):
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(sd) and math.isfinite(ed)):
        raise RuntimeError(f"unsupported range: {sd:g} -> {ed:g}")
    if not ((std > 0 and ed >= sd) or (std < 0 and ed <= sd)):
        raise RuntimeError(
            "upper bound and lower bound inconsistent with step sign\nWhy: with "
            f"start={start}, end={end}, step={step} the sequence would never reach end."
        )
    if npd.kind in "iu":
        # NOTE: integer outputs use start/step truncated to int64; int64 even sizes the result
        # in integer arithmetic (arange(0.5, 5, 1.5, dtype=int64) has 5 elements, int32 has 3).
        xs, xe, xst = (int(_check_scalar(v, np.dtype(np.int64))) for v in (start, end, step))
        if npd == np.int64:
            if xst == 0:
                raise ValueError("step must be nonzero")
            num = xe - xs + xst - (1 if xst > 0 else -1)
            n = abs(num) // abs(xst) * (1 if (num >= 0) == (xst > 0) else -1)
        else:
            n = math.ceil((ed - sd) / std)
    else:
        n = (ed - sd) / std
        if not 0 <= n <= _INT64_MAX:
            raise RuntimeError("invalid size, possible overflow?")
        n = math.ceil(n)
    if not 0 <= n <= _INT64_MAX:
        raise RuntimeError("invalid size, possible overflow?")
    if npd.kind in "iu":
        data = (np.arange(n, dtype=np.int64) * np.int64(xst) + np.int64(xs)).astype(npd)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            data = _arange_float(sd, std, n, npd)
    return _finish(data, device, requires_grad)


def _linspace_values(start, end, s, e, steps: int, npd: np.dtype) -> np.ndarray:
    """The values of ``linspace`` (steps >= 2) as PyTorch's CPU kernel computes them."""
    # NOTE: PyTorch fills the first half as start + step * i and the second half as
    # end - step * (steps - 1 - i) (each a fused multiply-add), with step computed in the
    # output type (double for integer outputs).
    i = np.arange(steps, dtype=np.int64)
    first = i < steps // 2
    k = np.where(first, i, steps - 1 - i)
    if npd == np.float64:
        st = (e - s) / (steps - 1)
        data = np.where(first, _fma64(st, k, s), _fma64(-st, k, e))
    elif npd == np.float32:
        s32, e32 = np.float32(s), np.float32(e)
        st = np.float32(e32 - s32) / np.float32(steps - 1)
        kf = k.astype(np.float32)
        data = np.where(first, _fma32(st, kf, s32), _fma32(-st, kf, e32))
    elif npd == np.float16:
        # c10::Half arithmetic: every operation computes in float and rounds back to half
        def h(x):
            return np.asarray(x, dtype=np.float32).astype(np.float16).astype(np.float32)

        s16, e16 = h(s), h(e)
        st = h(h(e16 - s16) / h(np.float32(steps - 1)))
        prod = h(st * h(k.astype(np.float32)))
        data = np.where(first, h(s16 + prod), h(e16 - prod))
    else:
        si = int(_as_numpy_value(start, npd))
        ei = int(_as_numpy_value(end, npd))
        st = (float(ei) - float(si)) / (steps - 1)
        vals = np.where(first, _fma64(st, k, float(si)), _fma64(-st, k, float(ei)))
        data = np.trunc(vals).astype(np.int64)  # C++ float -> int conversion truncates
    return data.astype(npd)


@out_variant(rule="dtype", resize_warns=False)
def linspace(start, end, steps: int, *, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    >>> linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    start, end = _number(start, "linspace", "start"), _number(end, "linspace", "end")
    if isinstance(steps, bool) or not isinstance(steps, (numbers.Integral, Tensor)):
        raise TypeError(
            f"linspace(): argument 'steps' (position 3) must be int, not {type(steps).__name__}"
        )
    steps = operator.index(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    npd = _dtype_or_default(dtype)
    if npd.kind == "b":
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    if steps <= 1:
        # NOTE: PyTorch checks nothing for 0 steps and fills 1 step with start (no half check)
        value = _as_numpy_value(start, npd, check_half=False) if steps else 0
        data = np.full(steps, value, dtype=npd)
        return _finish(data, device, requires_grad)
    s, e = _check_scalar(start, npd), _check_scalar(end, npd)
    with np.errstate(over="ignore", invalid="ignore"):
        data = _linspace_values(start, end, s, e, steps, npd)
    return _finish(data, device, requires_grad)


@out_variant(rule="dtype", resize_warns=False)
def eye(n: int, m: int | None = None, *, dtype=None, layout=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """A 2-d tensor with ones on the diagonal (``n`` rows, ``m`` columns, default ``n``).

    >>> eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    n = operator.index(n)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None:
        m = operator.index(m)
        if m < 0:
            raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    data = np.eye(n, m, dtype=_dtype_or_default(dtype))
    return _finish(data, device, requires_grad)
