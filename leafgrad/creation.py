"""Tensor factories: tensor, as_tensor, from_numpy, zeros, ones, full, arange, linspace, eye..."""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import backend as _backend
from . import dtypes as _dt
from .size import parse_size
from .tensor import Tensor, _wrap


def _finish(data, device, requires_grad: bool) -> Tensor:
    if device is not None:
        data = _backend.move(data, _backend.as_device(device))
    t = _wrap(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _check_nested(data, dim: int = 0) -> None:
    """Raise PyTorch's ValueError for ragged nested sequences."""
    if not isinstance(data, (list, tuple)) or not data:
        return
    first = data[0]
    if isinstance(first, (list, tuple)):
        n = len(first)
        for item in data:
            if not isinstance(item, (list, tuple)) or len(item) != n:
                got = len(item) if isinstance(item, (list, tuple)) else type(item).__name__
                raise ValueError(
                    f"expected sequence of length {n} at dim {dim + 1} (got {got})\nWhy: a "
                    "tensor is rectangular; every row at the same depth needs the same length."
                )
        for item in data:
            _check_nested(item, dim + 1)


def _infer(data) -> np.ndarray:
    """Convert Python data to an array with PyTorch's dtype inference."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        _dt.from_np(data.dtype)
        return data
    if isinstance(data, np.generic):
        return np.asarray(data)
    if isinstance(data, (list, tuple)):
        _check_nested(data)
        if any(isinstance(x, Tensor) for x in _flat_first(data)):
            data = _tensors_to_lists(data)
    elif not isinstance(data, (numbers.Number, bool)):
        if hasattr(data, "__array__"):
            return np.asarray(data)
        raise TypeError(
            f"Could not infer dtype of {type(data).__name__}; pass numbers, (nested) lists of "
            "numbers, a NumPy array or a Tensor"
        )
    try:
        arr = np.array(data)
    except (ValueError, OverflowError) as e:
        if isinstance(e, OverflowError):
            raise RuntimeError(f"Overflow when unpacking long: {e}") from None
        raise ValueError(str(e)) from None
    kind = arr.dtype.kind
    if kind == "f":
        return arr.astype(_dt.get_default_dtype().np, copy=False)
    if kind in "iu":
        return arr.astype(np.int64, copy=False)
    if kind == "b":
        return arr
    if kind == "O":
        raise TypeError("Could not infer dtype of the given data (mixed or non-numeric values)")
    if arr.size == 0:
        return arr.astype(_dt.get_default_dtype().np)
    raise TypeError(f"Could not infer dtype of {arr.dtype}")


def _flat_first(data):
    while isinstance(data, (list, tuple)) and data:
        yield from (d for d in data if isinstance(d, Tensor))
        data = data[0]


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        return data.tolist()
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(d) for d in data]
    return data


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, an array or a tensor).

    >>> tensor([[1.0, 0.0], [-1.0, 1.0]], requires_grad=True)
    tensor([[ 1.,  0.],
            [-1.,  1.]], requires_grad=True)
    """
    arr = _infer(data)
    if isinstance(data, (list, tuple)) and arr.size == 0 and dtype is None:
        arr = arr.astype(_dt.get_default_dtype().np)
    arr = np.array(_backend.to_numpy(arr), dtype=None if dtype is None else _dt.as_dtype(dtype).np,
                   copy=True)
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
    arr = _infer(data)
    if dtype is not None and arr.dtype != _dt.as_dtype(dtype).np:
        arr = arr.astype(_dt.as_dtype(dtype).np)
    return _finish(arr, device, False)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad: bool = False) -> Tensor:
    """Convert ``obj`` to a tensor, sharing memory unless ``copy=True`` or a cast is needed."""
    t = tensor(obj, dtype=dtype, device=device) if copy else as_tensor(obj, dtype, device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing memory with NumPy array ``a`` (changes to one show in the other).

    >>> a = np.ones(2, dtype=np.float32); t = from_numpy(a); t.add_(1); a
    array([2., 2.], dtype=float32)
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    _dt.from_np(a.dtype)
    if not a.flags.writeable:
        import warnings

        warnings.warn(
            "The given NumPy array is not writable, and PyTorch does not support non-writable "
            "tensors. This means writing to this tensor will result in undefined behavior.",
            UserWarning, stacklevel=2,
        )
    return _wrap(a)


def _dtype_or_default(dtype) -> np.dtype:
    return (_dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)).np


def _filled(size, value, dtype, device, requires_grad: bool, out=None) -> Tensor:
    shape = parse_size(size)
    xp = _backend.xp_for(_backend.as_device(device))
    data = xp.full(shape, value, dtype=dtype) if value is not None else xp.empty(shape, dtype)
    t = _wrap(data)
    if requires_grad:
        t.requires_grad_(True)
    if out is not None:
        out._data = data
        return out
    return t


def zeros(*size, out=None, dtype=None, layout=None, device=None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros.

    >>> zeros(2, 3).shape
    torch.Size([2, 3])
    """
    return _filled(size, 0, _dtype_or_default(dtype), device, requires_grad, out)


def ones(*size, out=None, dtype=None, layout=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ones.

    >>> ones(2)
    tensor([1., 1.])
    """
    return _filled(size, 1, _dtype_or_default(dtype), device, requires_grad, out)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
          memory_format=None, pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor (its values are whatever the memory held).

    >>> empty(2, 3).shape
    torch.Size([2, 3])
    """
    return _filled(size, None, _dtype_or_default(dtype), device, requires_grad, out)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value's type, as in PyTorch.

    >>> full((2,), 7)
    tensor([7, 7])
    """
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        if isinstance(fill_value, bool):
            npd = np.dtype(np.bool_)
        elif isinstance(fill_value, numbers.Integral):
            npd = np.dtype(np.int64)
        else:
            npd = _dt.get_default_dtype().np
    else:
        npd = _dt.as_dtype(dtype).np
    return _filled((size,) if isinstance(size, int) else size, fill_value, npd, device,
                   requires_grad, out)


def _like(t: Tensor, dtype, device):
    dtype = t.dtype if dtype is None else _dt.as_dtype(dtype)
    return t._data.shape, dtype.np, (t.device if device is None else device)


def zeros_like(input: Tensor, *, dtype=None, layout=None, device=None,  # noqa: A002
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """Zeros with ``input``'s shape, dtype and device."""
    shape, npd, dev = _like(input, dtype, device)
    return _filled(shape, 0, npd, dev, requires_grad)


def ones_like(input: Tensor, *, dtype=None, layout=None, device=None,  # noqa: A002
              requires_grad: bool = False, memory_format=None) -> Tensor:
    """Ones with ``input``'s shape, dtype and device."""
    shape, npd, dev = _like(input, dtype, device)
    return _filled(shape, 1, npd, dev, requires_grad)


def empty_like(input: Tensor, *, dtype=None, layout=None, device=None,  # noqa: A002
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """An uninitialised tensor with ``input``'s shape, dtype and device."""
    shape, npd, dev = _like(input, dtype, device)
    return _filled(shape, None, npd, dev, requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, layout=None,  # noqa: A002
              device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    """``fill_value`` everywhere, with ``input``'s shape, dtype and device."""
    shape, npd, dev = _like(input, dtype, device)
    return _filled(shape, fill_value, npd, dev, requires_grad)


def _num(v):
    return v.item() if isinstance(v, Tensor) else v


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` up to (not including) ``end`` in steps of ``step``.

    >>> arange(5), arange(1, 2.5, 0.5)
    (tensor([0, 1, 2, 3, 4]), tensor([1.0000, 1.5000, 2.0000]))
    """
    start, end, step = _num(start), _num(end), _num(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            "upper bound and larger bound inconsistent with step sign\nWhy: with "
            f"start={start}, end={end}, step={step} the sequence would never reach end."
        )
    is_float = any(isinstance(v, float) for v in (start, end, step))
    if dtype is None:
        npd = _dt.get_default_dtype().np if is_float else np.dtype(np.int64)
    else:
        npd = _dt.as_dtype(dtype).np
    n = max(int(math.ceil((end - start) / step)), 0)
    # NOTE: PyTorch computes start + i * step in double, then casts (not by repeated addition)
    data = (start + np.arange(n, dtype=np.float64) * step) if (
        is_float or npd.kind == "f") else (start + np.arange(n, dtype=np.int64) * step)
    data = data.astype(npd)
    t = _finish(data, device, requires_grad)
    if out is not None:
        out._data = t._data
        return out
    return t


def linspace(start, end, steps: int, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    >>> linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    start, end = _num(start), _num(end)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    npd = _dtype_or_default(dtype)
    if npd.kind == "f":
        # NOTE: PyTorch fills the first half from start and the second half from end, with
        # step = (end - start) / (steps - 1), computed in the output's precision.
        ct = npd.type
        i = np.arange(steps)
        if steps > 1:
            step = ct((ct(end) - ct(start)) / ct(steps - 1))
            half = steps // 2
            data = np.where(i < half, ct(start) + step * i.astype(npd),
                            ct(end) - step * (steps - i - 1).astype(npd)).astype(npd)
        else:
            data = np.full(steps, start, dtype=npd)
    else:
        data = np.linspace(start, end, steps, dtype=np.float64)
        data = np.trunc(data).astype(npd) if npd.kind in "iu" else data.astype(npd)
    t = _finish(data, device, requires_grad)
    if out is not None:
        out._data = t._data
        return out
    return t


def eye(n: int, m: int | None = None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """A 2-d tensor with ones on the diagonal.

    >>> eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    data = np.eye(n, m, dtype=_dtype_or_default(dtype))
    return _finish(data, device, requires_grad)
