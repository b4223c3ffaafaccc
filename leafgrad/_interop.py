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

import ctypes
import math

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
    name = _capsule_name(capsule)
    # DLManagedTensor starts with its DLTensor {data*, device}; the versioned struct has
    # {version, manager_ctx*, deleter*, flags} (32 bytes) before it
    offsets = {b"dltensor": 8, b"dltensor_versioned": 40}
    if name not in offsets:
        raise RuntimeError(
            f"from_dlpack received a capsule named {name!r}; expected 'dltensor'\nWhy: a DLPack "
            "capsule can be consumed once, and this one was used already (or is not DLPack)."
        )
    ptr = _capsule_pointer(capsule, name)
    dev = (ctypes.c_int32 * 2).from_address(ptr + offsets[name])
    return int(dev[0]), int(dev[1])


def _capi(name: str, restype, *argtypes):
    # a private prototype: setting argtypes on ctypes.pythonapi's functions would be global
    return ctypes.PYFUNCTYPE(restype, *argtypes)((name, ctypes.pythonapi))


_capsule_name = _capi("PyCapsule_GetName", ctypes.c_char_p, ctypes.py_object)
_capsule_pointer = _capi("PyCapsule_GetPointer", ctypes.c_void_p, ctypes.py_object,
                         ctypes.c_char_p)
_capsule_set_name = _capi("PyCapsule_SetName", ctypes.c_int, ctypes.py_object, ctypes.c_char_p)


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", _DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class _DLManagedTensor(ctypes.Structure):
    pass


_DELETER = ctypes.CFUNCTYPE(None, ctypes.POINTER(_DLManagedTensor))
_DLManagedTensor._fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p),
                             ("deleter", _DELETER)]
_DL_DTYPES = {(0, 8): "int8", (0, 16): "int16", (0, 32): "int32", (0, 64): "int64",
              (1, 8): "uint8", (2, 16): "float16", (2, 32): "float32", (2, 64): "float64",
              (6, 8): "bool"}
_USED_NAME = ctypes.c_char_p(b"used_dltensor")  # capsule names must outlive the capsule


class _DLPackOwner:
    """Keeps a consumed DLPack tensor alive for the array over it; releases it when that dies."""

    def __init__(self, managed, interface: dict) -> None:
        self.managed = managed
        self.__array_interface__ = interface

    def __del__(self) -> None:
        deleter = self.managed.contents.deleter
        if deleter:
            deleter(self.managed)


def _from_legacy_capsule(capsule) -> np.ndarray:
    """A writable array over a legacy ("dltensor") CPU capsule, consuming it as PyTorch does.

    NumPy imports such capsules read-only (the legacy struct cannot say whether writing is
    allowed); PyTorch's from_dlpack treats them as writable, and so does leafgrad.
    """
    managed = ctypes.cast(_capsule_pointer(capsule, b"dltensor"), ctypes.POINTER(_DLManagedTensor))
    t = managed.contents.dl_tensor
    key = (t.dtype.code, t.dtype.bits)
    if key not in _DL_DTYPES or t.dtype.lanes != 1:
        raise TypeError(f"Unsupported dtype in DLTensor (type code {key[0]}, {key[1]} bits)")
    npd = np.dtype(_DL_DTYPES[key])
    shape = tuple(t.shape[i] for i in range(t.ndim))
    strides = None if not t.strides else tuple(t.strides[i] * npd.itemsize
                                               for i in range(t.ndim))
    _capsule_set_name(capsule, _USED_NAME)  # consumed: now ours to release
    owner = _DLPackOwner(managed, {
        "data": ((t.data or 0) + t.byte_offset, False), "shape": shape, "strides": strides,
        "typestr": npd.str, "version": 3})
    if math.prod(shape) == 0:
        return np.empty(shape, npd)  # the owner releases the producer's tensor right away
    return np.asarray(owner)


def from_dlpack(ext):
    """A tensor sharing memory with any DLPack producer (NumPy, PyTorch, CuPy...) or capsule."""
    tensor_cls = _Tensor()
    if isinstance(ext, tensor_cls):
        return _wrap(ext._data)
    if type(ext).__name__ == "PyCapsule":
        device = _capsule_device(ext)
        if device[0] == _DLPACK_CPU and _capsule_name(ext) == b"dltensor":
            arr = _from_legacy_capsule(ext)
            _dt.from_np(arr.dtype)
            return _wrap(arr)
        ext = _Capsule(ext, device)
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
    except (TypeError, BufferError, RuntimeError) as e:
        if "gradient" in str(e) or "CuPy" in str(e):
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
