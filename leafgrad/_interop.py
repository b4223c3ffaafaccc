"""Tensor protocols for NumPy, DLPack, pickle and copy, as PyTorch's tensors answer them.

``Tensor`` in tensor.py keeps one-line methods that call these functions. Every behaviour here
was checked against torch 2.13 with NumPy 2 (tests/test_interop.py repeats each call in torch):

- ``np.asarray(t)`` shares memory; a tensor that requires grad is refused, as in PyTorch.
- A ufunc on tensors (``np.sin(t)``, ``np.add(t, 1)``) converts them with ``__array__``, runs in
  NumPy (so NumPy's dtype rules apply, as they do for PyTorch), and ``__array_wrap__`` gives back
  a Tensor; boolean results come back as uint8, PyTorch's long-standing choice.
- ``pickle`` stores each tensor with its own copy of the memory it spans (strides kept); tensors
  pickled together do not share memory afterwards, as in PyTorch. ``copy.deepcopy`` does keep
  sharing between tensors copied together (views of one base stay views of one copy).
"""

from __future__ import annotations

import numpy as np

from . import backend as _backend
from . import dtypes as _dt

_DLPACK_CPU = 1
_DLPACK_CUDA = (2, 13)  # kDLCUDA, kDLCUDAManaged


def _Tensor():
    from .tensor import Tensor

    return Tensor


def _wrap(data, requires_grad: bool = False):
    from .tensor import _wrap as wrap

    return wrap(data, requires_grad)


# -- NumPy ----------------------------------------------------------------------------------------
def to_array(t, dtype=None, copy=None) -> np.ndarray:
    """``Tensor.__array__``: the tensor's memory as an ndarray (refused when it requires grad)."""
    if t._rg:
        raise RuntimeError(
            "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
            "instead.\nWhy: the array would share memory with a tensor in the autograd graph, "
            "and changes made through NumPy would bypass autograd's checks."
        )
    a = t._data
    if not isinstance(a, np.ndarray):
        raise TypeError(
            f"can't convert {t.device} device type tensor to numpy. Use Tensor.cpu() to copy the "
            "tensor to host memory first."
        )
    if dtype is not None and np.dtype(dtype) != a.dtype:
        if copy is False:
            raise ValueError("Unable to avoid copy while creating an array as requested.")
        return a.astype(dtype)
    return a.copy() if copy else a


def wrap_array(array):
    """``Tensor.__array_wrap__``: a NumPy result as a Tensor (bool results as uint8, as PyTorch)."""
    a = np.asarray(array)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)  # NOTE: PyTorch's __array_wrap__ still does this
    _dt.from_np(a.dtype)  # an unsupported dtype (complex, uint16...) gets from_numpy's error
    return _wrap(a)


# -- DLPack ---------------------------------------------------------------------------------------
def dlpack(t, stream=None, max_version=None, dl_device=None, copy=None):
    """``Tensor.__dlpack__``: export the memory (zero-copy) as a DLPack capsule."""
    if t._rg:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    kwargs = {k: v for k, v in (("stream", stream), ("max_version", max_version),
                                 ("dl_device", dl_device), ("copy", copy)) if v is not None}
    return t._data.__dlpack__(**kwargs)


def dlpack_device(t) -> tuple:
    """``Tensor.__dlpack_device__``: (device type, index), e.g. ``(1, 0)`` for the CPU."""
    return t._data.__dlpack_device__()


class _Capsule:
    """A bare DLPack capsule presented as a producer (what ``np.from_dlpack`` accepts)."""

    def __init__(self, capsule, device: tuple[int, int]) -> None:
        self.capsule, self.device = capsule, device

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return self.device


def _capsule_device(capsule) -> tuple[int, int]:
    """Read the device out of a DLPack capsule (legacy or versioned layout)."""
    import ctypes

    api = ctypes.pythonapi
    api.PyCapsule_GetName.restype = ctypes.c_char_p
    api.PyCapsule_GetName.argtypes = [ctypes.py_object]
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    name = api.PyCapsule_GetName(capsule)
    # DLManagedTensor starts with its DLTensor {data*, device}; the versioned struct has
    # {version, manager_ctx*, deleter*, flags} (32 bytes) before it
    offsets = {b"dltensor": 8, b"dltensor_versioned": 40}
    if name not in offsets:
        raise RuntimeError(
            f"from_dlpack received a capsule named {name!r}; expected 'dltensor'\nWhy: a DLPack "
            "capsule can be consumed once, and this one was used already (or is not DLPack)."
        )
    ptr = api.PyCapsule_GetPointer(capsule, name)
    dev = (ctypes.c_int32 * 2).from_address(ptr + offsets[name])
    return int(dev[0]), int(dev[1])


def from_dlpack(ext):
    """A tensor sharing memory with any DLPack producer (NumPy, PyTorch, CuPy...) or capsule."""
    tensor_cls = _Tensor()
    if isinstance(ext, tensor_cls):
        return _wrap(ext._data)
    if type(ext).__name__ == "PyCapsule":
        ext = _Capsule(ext, _capsule_device(ext))
    if not hasattr(ext, "__dlpack__"):
        raise TypeError(
            f"from_dlpack expects an object with __dlpack__ or a DLPack capsule, got "
            f"{type(ext).__name__}"
        )
    kind, index = ext.__dlpack_device__() if hasattr(ext, "__dlpack_device__") else (1, 0)
    try:
        if int(kind) == _DLPACK_CPU:
            arr = np.from_dlpack(ext)
        elif int(kind) in _DLPACK_CUDA:
            arr = _backend._get_cupy().from_dlpack(ext)
        else:
            raise RuntimeError(
                f"from_dlpack: unsupported device type {int(kind)}\nWhy: leafgrad tensors live "
                "on the CPU (NumPy) or CUDA (CuPy); copy the data to one of them first."
            )
    except (TypeError, BufferError) as e:
        if "gradient" in str(e):
            raise
        raise TypeError(
            f"from_dlpack could not import the data: {e}\nWhy: leafgrad's dtypes are "
            f"{', '.join(d.name for d in _dt.ALL)} (no bfloat16 or complex); convert first, "
            "e.g. x.float()."
        ) from e
    _dt.from_np(arr.dtype)
    return _wrap(arr)


# -- pickle and copy ------------------------------------------------------------------------------
def reduce_ex(t, proto: int):
    """``Tensor.__reduce_ex__``: the memory the tensor spans, its layout and requires_grad."""
    from .serialization._storage import byte_bounds, data_pointer, flat_bytes, memory_root

    if t._x is not None and (t._x.hooks or t._x.post_hooks):
        import warnings

        warnings.warn("backward hooks are not serialized (as in PyTorch); the unpickled "
                      "tensor has none", UserWarning, stacklevel=3)
    dev = t.device
    host = _backend.to_numpy(t._data)
    root = memory_root(host) if host.size else None
    item = host.itemsize
    if root is None or any(s < 0 or s % item for s in host.strides):
        span = np.ascontiguousarray(host).reshape(-1).view(np.uint8)
        offset, strides = 0, None
    else:
        lo, hi = byte_bounds(host)
        start = data_pointer(root)
        span = flat_bytes(root)[lo - start:hi - start]
        offset, strides = (data_pointer(host) - lo) // item, tuple(s // item for s in host.strides)
    args = (span, host.dtype.name, host.shape, strides, offset, t._rg,
            bool(host.flags.writeable), None if dev.type == "cpu" else str(dev))
    return (rebuild, args)


def rebuild(span, dtype: str, shape, strides, offset: int, requires_grad: bool,
            writeable: bool = True, device=None):
    """Inverse of ``reduce_ex`` (also what ``copy.copy`` calls: it then shares memory)."""
    from .serialization._storage import is_overlapping

    npd = _dt.as_dtype(dtype).np
    if strides is None:
        arr = np.frombuffer(span, npd).reshape(shape) if span.size else np.empty(shape, npd)
        if writeable and not arr.flags.writeable:
            arr = arr.copy()
    else:
        item = npd.itemsize
        arr = np.ndarray(shape, npd, buffer=span, offset=offset * item,
                         strides=tuple(s * item for s in strides))
        if not writeable or is_overlapping(shape, strides):
            arr.flags.writeable = False
    if device is not None:
        arr = _backend.move(arr, _backend.as_device(device))
    return _wrap(arr, bool(requires_grad))


def deepcopy(t, memo: dict):
    """``Tensor.__deepcopy__``: a leaf's copy; tensors sharing memory keep sharing in the copy."""
    from .serialization._storage import data_pointer, flat_bytes, memory_root

    if t.grad_fn is not None:
        raise RuntimeError(
            "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
            "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
            "because of a torch.nn.utils.weight_norm usage, see "
            "https://github.com/pytorch/pytorch/pull/103001"
        )
    data = t._data
    root = memory_root(data) if isinstance(data, np.ndarray) and data.size else None
    if root is None:
        new = data.copy(order="K")
    else:
        key = ("leafgrad.storage", id(root))  # memo keys are ints from copy; a tuple never clashes
        entry = memo.get(key)
        if entry is None:
            entry = memo[key] = (root, flat_bytes(root).copy())
        new = np.ndarray(data.shape, data.dtype, buffer=entry[1],
                         offset=data_pointer(data) - data_pointer(root), strides=data.strides)
        if not data.flags.writeable:
            new.flags.writeable = False
    out = _wrap(new, t._rg)
    if t._grad is not None:
        import copy

        out._grad = copy.deepcopy(t._grad, memo)
    memo[id(t)] = out
    return out
