"""The allow-list unpickler: reads ``data.pkl`` without running anything the file names.

A pickle is a program: its GLOBAL opcode imports any name and REDUCE calls it, which is how a
malicious checkpoint runs code. This unpickler is pickle's own pure-Python ``Unpickler`` with
its opcode table cut down to data opcodes, and with the four risky ones replaced:

- GLOBAL / STACK_GLOBAL go through ``find_class``, which answers only from an allow-list
  (PyTorch's ``weights_only`` list, mapped onto leafgrad, plus what the user allow-listed) and
  imports nothing;
- REDUCE and NEWOBJ call only objects ``find_class`` handed out during this load;
- BUILD sets state only on OrderedDicts and on instances of user-allow-listed classes;
- APPEND/SETITEM only fill lists and dicts (so they cannot reach a tensor's ``__setitem__``).

Reads are bounded by the bytes actually present, so a length field cannot make it allocate.
"""

from __future__ import annotations

import _compat_pickle
import contextlib
import io
import pickle
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator

from .. import backend as _backend
from .. import dtypes as _dt
from ._storage import STORAGE_NAMES, UNSUPPORTED_DTYPES, UNSUPPORTED_STORAGES

_BLOCKED_MODULES = ("sys", "os", "posix", "nt")  # never allowed, even if the user asks

UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
    "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will "
    "likely succeed, but it can result in arbitrary code execution. Do it only if you got the "
    "file from a trusted source."
)


class CheckpointError(RuntimeError):
    """A checkpoint that is malformed, inconsistent or uses a feature leafgrad cannot load."""


class UnsupportedDtypeError(TypeError):
    """A checkpoint holds a dtype leafgrad has no counterpart for (bfloat16, complex...)."""


# -- the user's allow-list (torch.serialization.add_safe_globals and friends) ----------------------
_user_globals: set = set()


def _user_table() -> dict[str, object]:
    table = {}
    for g in _user_globals:
        if isinstance(g, tuple):
            obj, name = g
            table[name] = obj
        else:
            table[f"{g.__module__}.{g.__qualname__}"] = g
    return table


def add_safe_globals(safe_globals: list) -> None:
    """Allow these classes/functions (or ``(obj, "module.name")`` pairs) in ``weights_only`` loads.

    >>> import collections
    >>> add_safe_globals([collections.deque]); collections.deque in get_safe_globals()
    True
    >>> clear_safe_globals()
    """
    for g in safe_globals:
        if isinstance(g, tuple):
            if len(g) != 2:
                raise ValueError(
                    "Expected tuple of length 2 (global, str of callable full path), but got "
                    f"tuple of length: {len(g)}"
                )
            if type(g[1]) is not str:
                raise TypeError(
                    "Expected second item in tuple to be str of callable full path, but got: "
                    f"{type(g[1])}"
                )
        elif not hasattr(g, "__module__") or not hasattr(g, "__qualname__"):
            raise TypeError(
                f"add_safe_globals expects classes or functions (or (obj, name) pairs), got {g!r}"
            )
    _user_globals.update(safe_globals)


def get_safe_globals() -> list:
    """The user's allow-list as a list.

    >>> get_safe_globals()
    []
    """
    return list(_user_globals)


def clear_safe_globals() -> None:
    """Empty the user's allow-list.

    >>> clear_safe_globals(); get_safe_globals()
    []
    """
    _user_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list) -> Iterator[None]:
    """Allow these globals for ``weights_only`` loads inside a ``with`` block.

    >>> import collections
    >>> with safe_globals([collections.deque]):
    ...     collections.deque in get_safe_globals()
    True
    """
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _user_globals.difference_update(safe_globals)


def _shown_name(full: str) -> str:
    # PyTorch prints builtins without their module: `slice`, not `builtins.slice`
    return full[len("builtins."):] if full.startswith("builtins.") else full


def unsupported_global_error(full: str) -> pickle.UnpicklingError:
    name = _shown_name(full)
    return pickle.UnpicklingError(
        f"Weights only load failed. This file can still be loaded, to do so you have two options, "
        f"do those steps only if you trust the source of the checkpoint.\n\t(1) {UNSAFE_MESSAGE}"
        f"\n\t(2) Alternatively, to load with `weights_only=True` please check the recommended "
        f"steps in the following error message.\n\tWeightsUnpickler error: Unsupported global: "
        f"GLOBAL {name} was not an allowed global by default. Please use "
        f"`leafgrad.serialization.add_safe_globals([{name}])` or the "
        f"`leafgrad.serialization.safe_globals([{name}])` context manager to allowlist this "
        "global if you trust this class/function.\nWhy: loading a global means importing and "
        "calling it, which is how a malicious checkpoint runs code; only tensors, containers "
        "and plain values load without your say-so."
    )


class _Reader:
    """A file view for the unpickler: reads never exceed what is there, short reads raise."""

    def __init__(self, f, limit: int) -> None:
        self.f = f
        self.left = limit

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self.left:
            raise pickle.UnpicklingError(
                f"pickle data was truncated (a field asks for {n} bytes, {self.left} remain)"
            )
        data = self.f.read(n)
        if len(data) != n:
            raise pickle.UnpicklingError("pickle data was truncated")
        self.left -= n
        return data

    def readline(self) -> bytes:
        line = self.f.readline(self.left)
        self.left -= len(line)
        if not line.endswith(b"\n"):
            raise pickle.UnpicklingError("pickle data was truncated (unterminated line)")
        return line


class _OpcodeTable(dict):
    def __missing__(self, key):
        raise pickle.UnpicklingError(
            f"Unsupported operand {key} ({_OPNAMES.get(key, 'unknown opcode')}) in the pickle\n"
            "Why: only opcodes that build data are allowed in a weights-only load."
        )


_OPNAMES = {op.code.encode("latin1")[0]: op.name for op in __import__("pickletools").opcodes}
_DATA_OPCODES = (
    "PROTO STOP FRAME MARK POP POP_MARK DUP NONE NEWTRUE NEWFALSE BININT BININT1 BININT2 LONG1 "
    "LONG4 BINFLOAT BINUNICODE SHORT_BINUNICODE BINUNICODE8 SHORT_BINSTRING BINSTRING BINBYTES "
    "SHORT_BINBYTES BINBYTES8 EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3 EMPTY_LIST LIST EMPTY_DICT "
    "DICT EMPTY_SET FROZENSET BINGET LONG_BINGET BINPUT LONG_BINPUT MEMOIZE GLOBAL STACK_GLOBAL "
    "BINPERSID"
).split()


class WeightsUnpickler(pickle._Unpickler):
    """pickle's Unpickler restricted to an allow-list (see the module docstring).

    ``table`` maps ``"module.name"`` to the object a GLOBAL of that name gives.
    """

    dispatch = _OpcodeTable(
        {getattr(pickle, name)[0]: pickle._Unpickler.dispatch[getattr(pickle, name)[0]]
         for name in _DATA_OPCODES}
    )

    def __init__(self, file, limit: int, table: dict[str, object],
                 persistent_load: Callable | None, encoding: str = "utf-8") -> None:
        super().__init__(_Reader(file, limit), encoding=encoding)
        self._table = table
        self._user = _user_table()
        self._handed: dict[int, object] = {}  # what find_class gave out (keeps ids stable)
        self._pload = persistent_load

    def find_class(self, module: str, name: str):
        if (module, name) in _compat_pickle.NAME_MAPPING:  # Python 2 names, as PyTorch maps
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        full = f"{module}.{name}"
        if module.split(".")[0] in _BLOCKED_MODULES:
            raise pickle.UnpicklingError(
                f"Trying to load unsupported GLOBAL {full} whose module {module} is blocked.\n"
                "Why: these modules can run commands; no allow-list can make them safe."
            )
        if full in self._table:
            obj = self._table[full]
        elif full in self._user:
            obj = self._user[full]
        else:
            raise unsupported_global_error(full)
        if isinstance(obj, _Refusal):
            raise obj.error()
        self._handed[id(obj)] = obj
        return obj

    def persistent_load(self, pid):
        if self._pload is None:
            raise pickle.UnpicklingError("A load persistent id instruction was encountered, "
                                         "but no persistent_load function was specified.")
        return self._pload(pid)

    # -- the risky opcodes, restricted ---------------------------------------------------------
    def load_reduce(self) -> None:
        stack = self.stack
        args = stack.pop()
        func = stack[-1]
        if id(func) not in self._handed or self._handed[id(func)] is not func:
            raise pickle.UnpicklingError(f"Trying to call reduce for unrecognized function {func!r}"
                                         "\nWhy: only allow-listed globals may be called.")
        if type(args) is not tuple:
            raise pickle.UnpicklingError("REDUCE arguments must be a tuple")
        stack[-1] = func(*args)

    def load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        if type(args) is not tuple:
            raise pickle.UnpicklingError("NEWOBJ arguments must be a tuple")
        if getattr(cls, "_newobj", None) is not None and id(cls) in self._handed:
            self.append(cls._newobj(*args))  # Parameter, as PyTorch's unpickler special-cases it
        elif isinstance(cls, type) and self._handed.get(id(cls)) is cls:
            self.append(cls.__new__(cls, *args))
        else:
            raise pickle.UnpicklingError(
                "Can only create new object for nn.Parameter or classes allowlisted via "
                f"`add_safe_globals` but got {cls!r}"
            )

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        cls = type(inst)
        if cls is OrderedDict or cls is Counter:
            if state is None:
                return
            if type(state) is not dict or not all(type(k) is str for k in state):
                raise pickle.UnpicklingError(f"invalid state for a {cls.__name__}: {state!r:.80}")
            inst.__dict__.update(state)  # e.g. a state dict's _metadata
        elif cls in self._user.values():
            setstate = getattr(inst, "__setstate__", None)
            if setstate is not None:
                setstate(state)
                return
            slots = None
            if isinstance(state, tuple) and len(state) == 2:
                state, slots = state
            if state:
                inst.__dict__.update(state)
            if slots:
                for k, v in slots.items():
                    setattr(inst, k, v)
        else:
            raise pickle.UnpicklingError(
                "Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                f"`add_safe_globals`, but got {cls}"
            )

    def load_append(self) -> None:
        value = self.stack.pop()
        target = self.stack[-1]
        if type(target) is not list:
            raise pickle.UnpicklingError(f"Can only append to lists, but got {type(target)}")
        target.append(value)

    def load_appends(self) -> None:
        items = self.pop_mark()
        target = self.stack[-1]
        if type(target) is not list:
            raise pickle.UnpicklingError(f"Can only extend lists, but got {type(target)}")
        target.extend(items)

    def _dict_target(self, op: str):
        target = self.stack[-1]
        if type(target) not in (dict, OrderedDict, Counter):
            raise pickle.UnpicklingError(
                f"Can only {op} for dict, collections.OrderedDict, collections.Counter, but got "
                f"{type(target)}"
            )
        return target

    def load_setitem(self) -> None:
        value = self.stack.pop()
        key = self.stack.pop()
        self._dict_target("SETITEM")[key] = value

    def load_setitems(self) -> None:
        items = self.pop_mark()
        target = self._dict_target("SETITEMS")
        if len(items) % 2:
            raise pickle.UnpicklingError("SETITEMS needs key/value pairs, got an odd count")
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def load_additems(self) -> None:
        items = self.pop_mark()
        target = self.stack[-1]
        if type(target) is not set:
            raise pickle.UnpicklingError(f"Can only add items to sets, but got {type(target)}")
        target.update(items)

    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.APPEND[0]] = load_append
    dispatch[pickle.APPENDS[0]] = load_appends
    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.SETITEMS[0]] = load_setitems
    dispatch[pickle.ADDITEMS[0]] = load_additems


class _Refusal:
    """A table entry for a PyTorch feature leafgrad recognises but cannot load."""

    def __init__(self, error: Callable[[], Exception]) -> None:
        self.error = error


def _refuse(feature: str) -> _Refusal:
    return _Refusal(lambda: CheckpointError(
        f"the checkpoint holds {feature}, which leafgrad cannot load\nWhy: leafgrad tensors "
        "are dense, strided and on the CPU or a CuPy device; load the file in PyTorch and save "
        "dense tensors (e.g. t.to_dense(), t.dequantize())."
    ))


def _dtype_refusal(name: str) -> _Refusal:
    from ._storage import unsupported_dtype_error

    return _Refusal(lambda: UnsupportedDtypeError(*unsupported_dtype_error(name).args))


def _encode(obj, encoding: str = "latin1") -> bytes:
    # Protocol 2 spells bytes as _codecs.encode(str, 'latin1'); no other codec is needed
    if type(obj) is not str or encoding not in ("latin1", "latin-1", "utf-8", "utf8", "ascii"):
        raise pickle.UnpicklingError(f"_codecs.encode is allowed only on str with latin1/utf-8, "
                                     f"got {type(obj).__name__} and {encoding!r:.40}")
    return obj.encode(encoding)


def _bytearray(source=b"") -> bytearray:
    # bytearray(n) would allocate n bytes on the file's say-so
    if isinstance(source, int):
        raise pickle.UnpicklingError("bytearray(int) is not allowed in a weights-only load")
    return bytearray(source)


def _size(dims=()):
    from ..size import Size

    if not isinstance(dims, (tuple, list)) or not all(type(d) is int for d in dims):
        raise pickle.UnpicklingError(f"torch.Size expects a tuple of ints, got {dims!r:.80}")
    return Size(tuple(dims))


def _device(kind, index=None):
    if not isinstance(kind, str) or (index is not None and type(index) is not int):
        raise pickle.UnpicklingError(f"invalid torch.device arguments {kind!r:.40}, {index!r:.20}")
    return _backend.device(kind, index)


def torch_table(rebuilders: dict[str, object]) -> dict[str, object]:
    """PyTorch's weights_only allow-list, mapped onto leafgrad (``rebuilders``: torch._utils.*)."""
    table: dict[str, object] = {
        "collections.OrderedDict": OrderedDict,
        "collections.Counter": Counter,
        "builtins.set": set,
        "builtins.complex": complex,
        "builtins.bytearray": _bytearray,
        "_codecs.encode": _encode,
        "torch.Size": _size,
        "torch.device": _device,
    }
    for d in _dt.ALL:
        table[f"torch.{d.name}"] = d
    for name in UNSUPPORTED_DTYPES:
        table[f"torch.{name}"] = _dtype_refusal(name)
    for name, d in _dt._NAMES.items():
        if d not in _dt.ALL:  # a dtype leafgrad can name but not store (bfloat16): a value
            table[f"torch.{name}"] = d
    for name, d in STORAGE_NAMES.items():
        table[f"torch.{name}"] = StorageType(d)
        table[f"torch.cuda.{name}"] = table[f"torch.{name}"]
    for name, dname in UNSUPPORTED_STORAGES.items():
        table[f"torch.{name}"] = _dtype_refusal(dname)
    table["torch.storage.UntypedStorage"] = StorageType(None)
    table["torch.UntypedStorage"] = table["torch.storage.UntypedStorage"]
    table.update(rebuilders)
    for name, feature in {
        "torch.serialization._get_layout": "a sparse tensor",
        "torch._utils._rebuild_sparse_tensor": "a sparse tensor",
        "torch._utils._rebuild_qtensor": "a quantized tensor",
        "torch._utils._rebuild_nested_tensor": "a nested tensor",
        "torch._utils._rebuild_meta_tensor_no_storage": "a meta tensor (no data)",
        "torch._utils._rebuild_wrapper_subclass": "a tensor subclass without storage",
        "torch._utils._rebuild_device_tensor_from_numpy": "a tensor stored as a NumPy array",
        "torch._utils._rebuild_device_tensor_from_cpu_tensor": "a tensor of an accelerator type",
        "torch.per_tensor_affine": "a quantized tensor",
        "torch.per_tensor_symmetric": "a quantized tensor",
        "torch.per_channel_affine": "a quantized tensor",
        "torch.per_channel_symmetric": "a quantized tensor",
        "torch.per_channel_affine_float_qparams": "a quantized tensor",
    }.items():
        table[name] = _refuse(feature)
    return table


class StorageType:
    """What ``torch.FloatStorage`` (or ``UntypedStorage``: dtype None) means in a checkpoint."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: _dt.dtype | None) -> None:
        self.dtype = dtype

    def __call__(self, *args, **kwargs):
        raise pickle.UnpicklingError("storage types cannot be called in a weights-only load")

    def __repr__(self) -> str:
        return f"StorageType(dtype={self.dtype})"


def run(unpickler: pickle._Unpickler, what: str):
    """Run an unpickler's load, turning any failure on malformed data into a clean error."""
    try:
        # The only entry to unpickling a file's bytes: an allow-listed (or, with
        # weights_only=False, explicitly trusted) Unpickler instance, never the module-level
        # convenience functions.
        return unpickler.load()
    except (pickle.UnpicklingError, RuntimeError, UnsupportedDtypeError):
        raise  # already clean: an allow-list refusal, a format error, a device error...
    except RecursionError:
        raise pickle.UnpicklingError(f"{what} is nested too deeply to load") from None
    except Exception as e:  # noqa: BLE001 - any other failure is a malformed pickle
        raise pickle.UnpicklingError(
            f"{what} is malformed: {type(e).__name__}: {e}\nWhy: the pickle does not describe "
            "a valid object; the file is corrupt or was not written by torch.save/leafgrad.save."
        ) from e


def data_reader(data: bytes) -> tuple[io.BytesIO, int]:
    return io.BytesIO(data), len(data)
