"""Reading PyTorch checkpoints: storages from the archive, tensors rebuilt on them, validated.

Every number the file gives (storage sizes, offsets, shapes, strides) is checked against the
bytes actually present before an array is made, so a lying or truncated checkpoint raises a
clear error instead of reading out of bounds or allocating what the file asks for.
"""

from __future__ import annotations

import io
import math
import pickle
import sys

import numpy as np

from .. import backend as _backend
from .. import dtypes as _dt
from ..tensor import Tensor, _wrap
from ._storage import is_overlapping
from ._unpickler import (
    CheckpointError,
    StorageType,
    UnsupportedDtypeError,
    WeightsUnpickler,
    _Refusal,
    run,
    torch_table,
)
from ._zip import ZipReader


class LoadedStorage:
    """A storage read from a checkpoint: its raw bytes (NumPy or CuPy) and dtype (None: untyped).

    ``map_location`` callables receive one, as PyTorch's receive an ``UntypedStorage``.
    """

    __slots__ = ("raw", "dtype", "key", "location")

    def __init__(self, raw, dtype: _dt.dtype | None, key: str, location: str) -> None:
        self.raw, self.dtype, self.key, self.location = raw, dtype, key, location

    @property
    def device(self) -> _backend.device:
        return _backend.device_of(self.raw)

    def nbytes(self) -> int:
        return int(self.raw.nbytes)

    def size(self) -> int:
        return self.nbytes() // (self.dtype.itemsize if self.dtype else 1)

    def to(self, device) -> LoadedStorage:
        """This storage moved to ``device``."""
        return LoadedStorage(_backend.move(self.raw, _backend.as_device(device)), self.dtype,
                             self.key, self.location)

    def cpu(self) -> LoadedStorage:
        return self.to("cpu")

    def cuda(self, device=None, non_blocking: bool = False) -> LoadedStorage:
        index = 0 if device is None else _backend.as_device(device).index or 0
        return self.to(_backend.device("cuda", index))

    def __repr__(self) -> str:
        return f"LoadedStorage(key={self.key!r}, nbytes={self.nbytes()}, device={self.device})"


# -- rebuilding tensors ---------------------------------------------------------------------------
def _ints(what: str, values, allow_negative: bool = False) -> tuple[int, ...]:
    if not isinstance(values, (tuple, list)) or not all(type(v) is int for v in values):
        raise CheckpointError(f"a tensor's {what} must be a tuple of ints, got {values!r:.80}")
    if not allow_negative and any(v < 0 for v in values):
        raise CheckpointError(f"a tensor's {what} has a negative entry: {values!r:.80}")
    return tuple(values)


def _strided(raw, shape, npd, offset: int, strides):
    if _backend.is_cupy_array(raw):
        cp = _backend._get_cupy()
        return cp.ndarray(shape, npd, memptr=raw.data + offset, strides=strides)
    return np.ndarray(shape, npd, buffer=raw, offset=offset, strides=strides)


def _rebuild(storage, storage_offset, size, stride, dtype=None, requires_grad=False) -> Tensor:
    if type(storage) is not LoadedStorage:
        raise CheckpointError(f"a tensor's storage must come from the archive, got "
                              f"{type(storage).__name__}")
    if type(storage_offset) is not int or storage_offset < 0:
        raise CheckpointError(f"invalid storage offset {storage_offset!r:.40}")
    size, stride = _ints("size", size), _ints("stride", stride)
    if len(size) != len(stride):
        raise CheckpointError(f"a tensor's size {size} and stride {stride} differ in length")
    if requires_grad not in (True, False):
        raise CheckpointError(f"requires_grad must be a bool, got {requires_grad!r:.40}")
    dtype = dtype or storage.dtype or _dt.uint8
    item = dtype.itemsize
    have = storage.raw.nbytes // item
    if math.prod(size) == 0:
        xp = _backend.array_module(storage.raw)
        arr = xp.empty(size, dtype.np)
    else:
        need = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        if need > have:
            raise CheckpointError(
                f"a tensor of size {list(size)}, stride {list(stride)} and offset "
                f"{storage_offset} needs {need} elements, but its storage (data/{storage.key}) "
                f"holds {have}\nWhy: the checkpoint's metadata promises more data than the file "
                "has; it is truncated or corrupt."
            )
        arr = _strided(storage.raw, size, dtype.np, storage_offset * item,
                       tuple(s * item for s in stride))
        if isinstance(arr, np.ndarray) and is_overlapping(size, stride):
            arr.flags.writeable = False  # an expanded tensor, as leafgrad's own expand gives
    t = _wrap(arr)
    if requires_grad:
        if not dtype.is_floating_point:
            raise CheckpointError(f"a {dtype} tensor cannot require grad (the checkpoint says "
                                  "it does)")
        t._rg = True
    return t


def _no_metadata(metadata) -> None:
    if metadata is not None and not isinstance(metadata, dict):
        raise CheckpointError(f"invalid tensor metadata {metadata!r:.80}")
    if metadata and any(metadata.values()):
        raise CheckpointError(
            f"the checkpoint holds a tensor with metadata {metadata} (conjugate/negative "
            "bits), which leafgrad cannot load\nWhy: leafgrad has no complex tensors or lazy "
            "negation; call t.resolve_conj().resolve_neg() in PyTorch before saving."
        )


def rebuild_tensor(storage, storage_offset, size, stride):
    """``torch._utils._rebuild_tensor``."""
    return _rebuild(storage, storage_offset, size, stride)


def rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                      metadata=None):
    """``torch._utils._rebuild_tensor_v2`` (hooks are never serialized: ignored, as PyTorch)."""
    _no_metadata(metadata)
    return _rebuild(storage, storage_offset, size, stride, requires_grad=requires_grad)


def rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                      dtype, metadata=None):
    """``torch._utils._rebuild_tensor_v3``: an untyped storage read as ``dtype``."""
    _no_metadata(metadata)
    if not isinstance(dtype, _dt.dtype):
        raise CheckpointError(f"invalid dtype {dtype!r:.40}")
    if dtype not in _dt.ALL:  # named but not storable (bfloat16)
        from ._storage import unsupported_dtype_error

        raise UnsupportedDtypeError(*unsupported_dtype_error(dtype.name).args)
    return _rebuild(storage, storage_offset, size, stride, dtype, requires_grad)


def _parameter_class():
    try:
        from ..nn.parameter import Parameter
    except ImportError:
        return None
    return Parameter


def make_parameter(data=None, requires_grad=True):
    """``torch.nn.Parameter(data, requires_grad)`` (a leaf tensor until leafgrad.nn exists)."""
    if not isinstance(data, Tensor) or requires_grad not in (True, False):
        raise CheckpointError(f"invalid Parameter arguments {type(data).__name__}, "
                              f"{requires_grad!r:.20}")
    cls = _parameter_class()
    if cls is not None:
        return cls(data, requires_grad)
    t = _wrap(data._data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _set_state(obj, state) -> None:
    """Python attributes saved with a tensor (PyTorch's ``_set_obj_state``), checked."""
    if isinstance(state, tuple):
        if len(state) != 2 or state[1]:
            raise CheckpointError(f"unsupported tensor state {state!r:.80}")
        state = state[0]
    if not state:
        return
    if not isinstance(state, dict) or not hasattr(obj, "__dict__"):
        raise CheckpointError(
            f"the checkpoint sets Python attributes {list(state)[:5] if isinstance(state, dict) else state!r:.80} "  # noqa: E501
            f"on a {type(obj).__name__}, which has none\nWhy: leafgrad's plain tensors have "
            "fixed attributes; Parameters accept extra ones."
        )
    for k in state:
        if type(k) is not str or hasattr(type(obj), k):
            raise CheckpointError(f"the checkpoint tries to overwrite the attribute {k!r:.40} "
                                  f"of a {type(obj).__name__}")
    obj.__dict__.update(state)


def rebuild_parameter(data, requires_grad, backward_hooks):
    """``torch._utils._rebuild_parameter``."""
    return make_parameter(data, requires_grad)


def rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    """``torch._utils._rebuild_parameter_with_state``."""
    p = make_parameter(data, requires_grad)
    _set_state(p, state)
    return p


class TypeMarker:
    """``torch.Tensor`` or ``torch.nn.Parameter`` as a class named in a checkpoint."""

    def __init__(self, name: str, newobj=None) -> None:
        self.name = name
        self._newobj = newobj

    def __call__(self, *args, **kwargs):
        raise CheckpointError(f"{self.name}(...) cannot be called in a weights-only load")

    def __repr__(self) -> str:
        return self.name


TENSOR_TYPE = TypeMarker("torch.Tensor")
PARAMETER_TYPE = TypeMarker("torch.nn.parameter.Parameter", make_parameter)
_FUNCS = (rebuild_tensor, rebuild_tensor_v2, rebuild_tensor_v3, rebuild_parameter,
          rebuild_parameter_with_state)


def rebuild_from_type_v2(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: a tensor saved with its class and attributes."""
    if func not in _FUNCS or new_type not in (TENSOR_TYPE, PARAMETER_TYPE) or type(
            args) is not tuple:
        raise CheckpointError(
            f"unsupported tensor rebuild {getattr(func, '__name__', func)!r:.60} for "
            f"{new_type!r:.60}\nWhy: only plain tensors and Parameters can be rebuilt."
        )
    ret = func(*args)
    if new_type is PARAMETER_TYPE and not (
            _parameter_class() and isinstance(ret, _parameter_class())):
        ret = make_parameter(ret, ret.requires_grad)
    _set_state(ret, state)
    return ret


REBUILDERS = {
    "torch._utils._rebuild_tensor": rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": rebuild_tensor_v2,
    "torch._utils._rebuild_tensor_v3": rebuild_tensor_v3,
    "torch._utils._rebuild_parameter": rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": rebuild_parameter_with_state,
    "torch._tensor._rebuild_from_type_v2": rebuild_from_type_v2,
    "torch.Tensor": TENSOR_TYPE,
    "torch._tensor.Tensor": TENSOR_TYPE,
    "torch.nn.parameter.Parameter": PARAMETER_TYPE,
}
TABLE = torch_table(REBUILDERS)


# -- storage placement (map_location) -------------------------------------------------------------
def check_map_location(map_location) -> None:
    """Refuse a map_location of the wrong kind before anything is read."""
    if map_location is None or isinstance(map_location, (str, bytes, dict, _backend.device)) or (
            hasattr(map_location, "type") or callable(map_location)):
        return
    raise TypeError(f"map_location must be None, a str, a device, a dict or a callable, got "
                    f"{type(map_location).__name__}")


def _restore(storage: LoadedStorage, location: str, map_location) -> LoadedStorage:
    if map_location is None:
        target = location
    elif isinstance(map_location, dict):
        target = map_location.get(location, location)
    elif isinstance(map_location, (str, bytes, _backend.device)) or hasattr(map_location, "type"):
        # a device string, or a device object (leafgrad's or PyTorch's)
        target = map_location.decode() if isinstance(map_location, bytes) else str(map_location)
    elif callable(map_location):
        result = map_location(storage, location)
        if result is None:
            target = location
        elif type(result) is LoadedStorage:
            return result
        else:
            raise TypeError(f"map_location returned a {type(result).__name__}; it must return "
                            "the storage it was given (possibly moved) or None")
    else:  # load() checked the kind of map_location before reading anything
        raise AssertionError(map_location)
    target = str(target)
    if target == "cpu":
        return storage if storage.device.type == "cpu" else storage.cpu()
    if target.startswith("cuda"):
        try:
            dev = _backend.as_device(target)
            _backend._get_cupy()
        except RuntimeError:
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() "
                "is False. If you are running on a CPU-only machine, please use torch.load with "
                "map_location=torch.device('cpu') to map your storages to the CPU.\nWhy: leafgrad "
                "puts CUDA tensors in CuPy arrays, and CuPy is not installed."
            ) from None
        return storage.to(dev)
    raise RuntimeError(
        f"don't know how to restore data location of torch.storage.UntypedStorage (tagged "
        f"with {location}){' mapped to ' + target if target != location else ''}\nWhy: leafgrad "
        "tensors live on 'cpu' or 'cuda'; pass map_location='cpu'."
    )


class StorageTable:
    """Storages by key, made on first reference from a pickle's persistent ids."""

    def __init__(self, fetch, map_location, legacy: bool = False, swap: bool = False) -> None:
        # legacy files hold the data after the pickle: storages are filled later, on the CPU
        self.fetch = fetch  # fetch(key, nbytes) -> raw uint8 array of exactly nbytes
        self.map_location = map_location
        self.legacy = legacy
        self.swap = swap  # the file's byte order is not this machine's
        self.by_key: dict[str, LoadedStorage] = {}

    def persistent_load(self, pid):
        if type(pid) is not tuple or len(pid) != (6 if self.legacy else 5):
            raise pickle.UnpicklingError(f"persistent_load id must be a storage tuple, got "
                                         f"{pid!r:.80}")
        kind, stype, key, location, numel = (
            v.decode("ascii") if isinstance(v, bytes) else v for v in pid[:5])
        if kind != "storage":
            raise pickle.UnpicklingError(f"Only persistent_load of storage is allowed, but got "
                                         f"{kind!r:.40}")
        if not isinstance(stype, StorageType):
            raise pickle.UnpicklingError(f"invalid storage type {stype!r:.60}")
        if type(key) is not str or type(location) is not str or type(numel) is not int or (
                numel < 0):
            raise pickle.UnpicklingError(f"invalid storage reference {pid!r:.120}")
        dtype = stype.dtype
        known = self.by_key.get(key)
        if known is not None:
            if known.dtype is not dtype:
                raise CheckpointError(f"storage {key} is referenced as {known.dtype} and as "
                                      f"{dtype}\nWhy: a storage has one dtype; the file is "
                                      "corrupt.")
            storage = known
        else:
            nbytes = numel * (dtype.itemsize if dtype else 1)
            raw = self.fetch(key, nbytes)
            if self.swap and dtype is not None and dtype.itemsize > 1:
                # NOTE: as PyTorch, only typed storages are swapped (untyped ones have no
                # element size); a copy first, so a memory-mapped file is never written
                raw = raw.copy()
                raw.view(dtype.np).byteswap(inplace=True)
            storage = LoadedStorage(raw, dtype, key, location)
            storage = _restore(storage, location, self.map_location)
            if self.legacy and storage.device.type != "cpu":
                raise CheckpointError(
                    "a legacy-format checkpoint (torch.save(..., _use_new_zipfile_serialization="
                    "False)) loads to the CPU only\nWhy: its data follows the pickle and is read "
                    "into host memory; pass map_location='cpu' and move tensors with .to()."
                )
            self.by_key[key] = storage
        if self.legacy and pid[5] is not None:
            return _legacy_view(storage, pid[5])
        return storage


def _legacy_view(storage: LoadedStorage, view) -> LoadedStorage:
    if type(view) is not tuple or len(view) != 3:
        raise CheckpointError(f"invalid storage view {view!r:.80}")
    _, offset, size = view
    item = storage.dtype.itemsize if storage.dtype else 1
    if type(offset) is not int or type(size) is not int or offset < 0 or size < 0 or (
            (offset + size) * item > storage.raw.nbytes):
        raise CheckpointError(f"storage view {view!r:.80} lies outside its storage")
    return LoadedStorage(storage.raw[offset * item:(offset + size) * item], storage.dtype,
                         storage.key, storage.location)


# -- the trusted path (weights_only=False) --------------------------------------------------------
class TrustedUnpickler(pickle.Unpickler):
    """The full unpickler, for files the caller declared trusted: it can run code."""

    def __init__(self, file, persistent_load, **kwargs) -> None:
        super().__init__(file, **kwargs)
        self._pload = persistent_load

    def find_class(self, module: str, name: str):
        full = f"{module}.{name}"
        obj = TABLE.get(full)
        if isinstance(obj, _Refusal):
            raise obj.error()
        if obj is not None:
            return obj
        if module == "torch" or module.startswith("torch."):
            # a name in PyTorch's namespace means leafgrad's counterpart, never torch itself
            import importlib

            try:
                return getattr(importlib.import_module("leafgrad" + module[5:]), name)
            except (ImportError, AttributeError):
                raise pickle.UnpicklingError(
                    f"the checkpoint names {full}, which has no leafgrad counterpart"
                ) from None
        return super().find_class(module, name)

    def persistent_load(self, pid):
        return self._pload(pid)


def unpickler(data: bytes, storages: StorageTable | None, weights_only: bool, **kwargs):
    """The unpickler for one pickle: allow-listed unless the caller trusts the file."""
    pload = storages.persistent_load if storages is not None else None
    if weights_only:
        return WeightsUnpickler(io.BytesIO(data), len(data), TABLE, pload,
                                encoding=kwargs.get("encoding", "utf-8"))
    return TrustedUnpickler(io.BytesIO(data), pload, **kwargs)


# -- the zip format -------------------------------------------------------------------------------
def load_zip(f, map_location, weights_only: bool, mmap_buffer=None, **kwargs):
    """Load a zip checkpoint from the seekable binary file ``f``."""
    reader = ZipReader(f)
    names = reader.names()
    if not names:
        raise CheckpointError("the archive is empty\nWhy: a checkpoint holds at least data.pkl.")
    if "/" not in names[0]:
        raise CheckpointError(f"file in archive is not in a subdirectory: {names[0]}\nWhy: "
                              "PyTorch puts every record of a checkpoint under one folder.")
    prefix = names[0].split("/", 1)[0]
    if reader.has(f"{prefix}/constants.pkl"):
        raise CheckpointError(
            "the file is a TorchScript archive (torch.jit.save), not a torch.save checkpoint\n"
            "Why: TorchScript holds compiled code, which leafgrad cannot run; save the model's "
            "state_dict() with torch.save instead."
        )
    version = f"{prefix}/version" if reader.has(f"{prefix}/version") else f"{prefix}/.data/version"
    if not reader.has(version) or not reader.has(f"{prefix}/data.pkl"):
        raise CheckpointError(f"the archive has no {prefix}/data.pkl or version record\nWhy: it "
                              "is a zip file but not a PyTorch checkpoint.")
    try:
        v = int(reader.read(version).decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        v = -1
    if not 1 <= v <= 10:
        raise CheckpointError(f"unsupported checkpoint format version in {version}\nWhy: "
                              "PyTorch writes versions 1 to 10; the record is corrupt.")
    swap = False
    if reader.has(f"{prefix}/byteorder"):
        order = reader.read(f"{prefix}/byteorder")
        if order not in (b"little", b"big"):
            raise CheckpointError(f"Unknown endianness type: {order[:20]!r}")
        swap = order.decode() != sys.byteorder

    def fetch(key: str, nbytes: int):
        name = f"{prefix}/data/{key}"
        entry = reader.entry(name)
        if entry.size != nbytes:
            raise CheckpointError(
                f"storage {name} holds {entry.size} bytes but the pickle says {nbytes}\n"
                "Why: the checkpoint's metadata and its data disagree (a lying header)."
            )
        if mmap_buffer is not None and entry.method == 0 and nbytes:
            return np.ndarray((nbytes,), np.uint8, buffer=mmap_buffer,
                              offset=reader.base + reader.data_offset(name))
        raw = np.empty(nbytes, np.uint8)
        reader.read_into(name, raw)
        return raw

    storages = StorageTable(fetch, map_location, swap=swap)
    data = reader.read(f"{prefix}/data.pkl")
    return run(unpickler(data, storages, weights_only, **kwargs), f"{prefix}/data.pkl")

