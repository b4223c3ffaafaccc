"""Writing PyTorch's zip checkpoint: a pickler that spells leafgrad objects in PyTorch's names.

``data.pkl`` must read, to ``torch.load(weights_only=True)``, exactly as if PyTorch had written
it: tensors as ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
OrderedDict())`` with the storage a persistent id ``('storage', torch.FloatStorage, key, 'cpu',
numel)``; Parameters through ``_rebuild_parameter``; dtypes, sizes and devices as ``torch.*``
globals. The standard pickler can only name globals it can import, so this one subclasses
pickle's pure-Python ``_Pickler`` and writes those names itself.

Storages are planned before the pickle is written (a first, discarded pass finds every tensor):
tensors sharing memory get one storage spanning what they use, and each tensor's offset and
strides into it, so a view and its base are saved once and load sharing memory.
"""

from __future__ import annotations

import io
import os
import pickle
import secrets
import sys
from collections import OrderedDict

import numpy as np

from .. import backend as _backend
from .. import dtypes as _dt
from ..size import Size
from ..tensor import Tensor
from ._storage import STORAGE_OF, byte_bounds, data_pointer, flat_bytes, memory_root
from ._zip import ZipWriter


class TorchGlobal:
    """A name in PyTorch's namespace, written into the pickle as ``GLOBAL module name``."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __repr__(self) -> str:
        return f"{self.module}.{self.name}"

    def __call__(self, *args):  # the pickler checks that a reduce function is callable
        raise TypeError(f"{self!r} is a name written into checkpoints, not a function")


REBUILD_TENSOR_V2 = TorchGlobal("torch._utils", "_rebuild_tensor_v2")
REBUILD_PARAMETER = TorchGlobal("torch._utils", "_rebuild_parameter")
REBUILD_PARAMETER_WITH_STATE = TorchGlobal("torch._utils", "_rebuild_parameter_with_state")
TORCH_SIZE = TorchGlobal("torch", "Size")
TORCH_DEVICE = TorchGlobal("torch", "device")
_STORAGE_GLOBALS = {d: TorchGlobal("torch", n) for d, n in STORAGE_OF.items()}
_DTYPE_GLOBALS = {d: TorchGlobal("torch", d.name) for d in _dt._NAMES.values()}


class StorageRef:
    """A storage to be written as ``data/<key>``: bytes of one buffer, typed as ``dtype``."""

    __slots__ = ("key", "dtype", "location", "data")

    def __init__(self, key: str, dtype: _dt.dtype, location: str, data: np.ndarray) -> None:
        self.key, self.dtype, self.location, self.data = key, dtype, location, data


def _parameter_class():
    try:
        from ..nn.parameter import Parameter
    except ImportError:  # leafgrad.nn not built yet: no tensor is a Parameter
        return None
    return Parameter


class StoragePlan:
    """Which storage each tensor's array is saved in, with its element offset and strides."""

    def __init__(self) -> None:
        self.arrays: dict[int, tuple] = {}  # id(array) -> (array, host array, location)
        self.placed: dict[int, tuple[StorageRef, int, tuple]] = {}
        self.storages: list[StorageRef] = []

    def add(self, t: Tensor) -> None:
        data = t._data
        if id(data) not in self.arrays:
            dev = t.device
            host = _backend.to_numpy(data)  # a copy for CUDA tensors, made once per save
            self.arrays[id(data)] = (data, host, "cpu" if dev.type == "cpu" else str(dev))

    def _new_storage(self, dtype, location, data) -> StorageRef:
        ref = StorageRef(str(len(self.storages)), dtype, location, data)
        self.storages.append(ref)
        return ref

    def _own(self, key: int, host: np.ndarray, location: str) -> None:
        """Save an array in a storage of its own (a contiguous copy)."""
        flat = np.ascontiguousarray(host).reshape(-1)
        ref = self._new_storage(_dt.FROM_NP[host.dtype], location, flat)
        st = tuple(int(s) for s in _contiguous(host.shape))
        self.placed[key] = (ref, 0, st)

    def finish(self) -> None:
        """Group arrays by the buffer they live in and lay out one storage per group."""
        groups: dict[tuple, list] = {}
        for key, (_, host, location) in self.arrays.items():
            item = host.itemsize
            root = memory_root(host) if host.size else None
            if root is None or any(s < 0 or s % item for s in host.strides):
                self._own(key, host, location)
                continue
            groups.setdefault((id(root), location), [root]).append((key, host))
        for (_, location), (root, *members) in groups.items():
            dtypes = {h.dtype for _, h in members}
            if len(dtypes) > 1:
                raise RuntimeError(
                    "Cannot save multiple tensors or storages that view the same data as "
                    "different types\nWhy: a storage has one dtype; these tensors read one "
                    f"buffer as {sorted(str(d) for d in dtypes)}. Save a copy (.clone()) of one."
                )
            item = members[0][1].itemsize
            lo = min(byte_bounds(h)[0] for _, h in members)
            hi = max(byte_bounds(h)[1] for _, h in members)
            keep = [(k, h) for k, h in members if (data_pointer(h) - lo) % item == 0]
            for k, h in members:
                if (data_pointer(h) - lo) % item:
                    self._own(k, h, location)
            if not keep:
                continue
            hi = lo + -(-(hi - lo) // item) * item
            start = data_pointer(root)
            whole = flat_bytes(root)
            if hi - start > whole.nbytes:  # the rounded-up end must stay inside the buffer
                for k, h in keep:
                    self._own(k, h, location)
                continue
            ref = self._new_storage(_dt.FROM_NP[keep[0][1].dtype], location,
                                    whole[lo - start:hi - start])
            for k, h in keep:
                self.placed[k] = (ref, (data_pointer(h) - lo) // item,
                                  tuple(s // item for s in h.strides))


def _contiguous(shape) -> tuple:
    st, acc = [], 1
    for n in reversed(shape):
        st.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(st))


class TorchPickler(pickle._Pickler):
    """Pickle leafgrad objects as PyTorch's (``plan`` None: the discarded planning pass)."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, protocol: int, plan: StoragePlan, planning: bool) -> None:
        super().__init__(file, protocol)
        self.plan = plan
        self.planning = planning
        self.dispatch_table = {
            Size: lambda s: (TORCH_SIZE, (tuple(s),)),
            _backend.device: lambda d: (TORCH_DEVICE, (str(d),)),
        }

    def save_torch_global(self, obj) -> None:
        name = obj if obj.__class__ is TorchGlobal else _DTYPE_GLOBALS[obj]
        self.write(pickle.GLOBAL + f"{name.module}\n{name.name}\n".encode())
        self.memoize(obj)

    dispatch[TorchGlobal] = save_torch_global
    for _d in _dt._NAMES.values():  # dtype and its named-only subclass (bfloat16)
        dispatch[type(_d)] = save_torch_global
    del _d

    def persistent_id(self, obj):
        if obj.__class__ is StorageRef:
            numel = obj.data.nbytes // obj.dtype.itemsize
            return ("storage", _STORAGE_GLOBALS[obj.dtype], obj.key, obj.location, numel)
        return None

    def reducer_override(self, obj):
        if not isinstance(obj, Tensor):
            return NotImplemented
        param = _parameter_class()
        if param is not None and isinstance(obj, param):
            from ..tensor import _wrap

            inner = _wrap(obj._data)
            state = getattr(obj, "__dict__", None)
            if state:
                return (REBUILD_PARAMETER_WITH_STATE, (inner, obj._rg, OrderedDict(), state))
            return (REBUILD_PARAMETER, (inner, obj._rg, OrderedDict()))
        if self.planning:
            self.plan.add(obj)
            return (REBUILD_TENSOR_V2, ())
        ref, offset, stride = self.plan.placed[id(obj._data)]
        if obj._data.size == 0:
            stride = obj.stride()
        return (REBUILD_TENSOR_V2,
                (ref, offset, tuple(obj._data.shape), stride, obj._rg, OrderedDict()))


class _Discard:
    def write(self, data) -> int:
        return len(data)


def archive_name(f) -> str:
    """The folder PyTorch puts records under: the file's stem for paths, else ``archive``."""
    if isinstance(f, (str, os.PathLike)):
        return os.path.splitext(os.path.basename(os.fspath(f)))[0] or "archive"
    return "archive"


def write_checkpoint(obj, f, name: str, protocol: int, byteorder_record: bool = True) -> None:
    """Pickle ``obj`` and its storages into ``f`` (a binary file object) in PyTorch's layout."""
    plan = StoragePlan()
    TorchPickler(_Discard(), protocol, plan, planning=True).dump(obj)
    plan.finish()
    buf = io.BytesIO()
    TorchPickler(buf, protocol, plan, planning=False).dump(obj)
    w = ZipWriter(f, name)
    w.write("data.pkl", buf.getbuffer())
    w.write(".format_version", b"1")
    w.write(".storage_alignment", b"64")
    if byteorder_record:
        w.write("byteorder", sys.byteorder.encode())
    for ref in plan.storages:
        w.write(f"data/{ref.key}", ref.data)
    w.write("version", b"3\n")
    w.write(".data/serialization_id", str(secrets.randbits(128)).zfill(40).encode())
    w.close()
