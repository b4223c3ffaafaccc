"""``save`` / ``load`` in PyTorch's checkpoint format, both ways, without running code from files.

``leafgrad.save`` writes the zip checkpoint ``torch.load(weights_only=True)`` reads;
``leafgrad.load`` reads what ``torch.save`` writes (zip, and the legacy non-zip format) through
an allow-list unpickler. See docs/serialization.md for what is supported and what is refused.
"""

from __future__ import annotations

import io
import mmap as _mmap
import os
import pickle
import warnings

from ._load import LoadedStorage, check_map_location, load_zip
from ._save import archive_name, write_checkpoint
from ._unpickler import (
    UNSAFE_MESSAGE,
    CheckpointError,
    UnsupportedDtypeError,
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)
from ._zip import ZipFormatError

__all__ = [
    "save", "load", "add_safe_globals", "safe_globals", "get_safe_globals", "clear_safe_globals",
    "get_unsafe_globals_in_checkpoint", "set_default_mmap_options", "get_default_mmap_options",
    "DEFAULT_PROTOCOL", "CheckpointError", "UnsupportedDtypeError", "ZipFormatError",
    "LoadedStorage",
]

DEFAULT_PROTOCOL = 2  # PyTorch's: its weights_only reader understands protocol-2 opcodes
_MMAP_FLAGS = {"flags": getattr(_mmap, "MAP_PRIVATE", None)}


def _is_path(f) -> bool:
    return isinstance(f, (str, os.PathLike))


def save(obj, f, pickle_module=pickle, pickle_protocol: int = DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Save ``obj`` to a path or binary file in PyTorch's zip checkpoint format.

    Tensors sharing memory (a view and its base) are saved once and load sharing memory.

    >>> import io, leafgrad
    >>> buf = io.BytesIO(); leafgrad.save({"w": leafgrad.ones(2)}, buf); _ = buf.seek(0)
    >>> leafgrad.load(buf)["w"]
    tensor([1., 1.])
    """
    if not _use_new_zipfile_serialization:
        raise RuntimeError(
            "leafgrad.save writes only the zip format (_use_new_zipfile_serialization=True)\n"
            "Why: every PyTorch since 1.6 reads it; the legacy format exists for older ones."
        )
    if pickle_module is not pickle:
        raise RuntimeError("leafgrad.save pickles with the standard pickle module only")
    if not 2 <= pickle_protocol <= pickle.HIGHEST_PROTOCOL:
        raise ValueError(f"pickle_protocol must be 2 to {pickle.HIGHEST_PROTOCOL}, got "
                         f"{pickle_protocol} (PyTorch's weights_only loader reads protocol 2)")
    if _is_path(f):
        # write next to the target and rename, so a failure never leaves half a checkpoint
        path = os.fspath(f)
        tmp = f"{path}.tmp{os.getpid()}"
        try:
            with open(tmp, "wb") as out:
                write_checkpoint(obj, out, archive_name(path), pickle_protocol,
                                 not _disable_byteorder_record)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return
    if not hasattr(f, "write"):
        raise TypeError(f"save() expects a path or a binary file object, got {type(f).__name__}")
    write_checkpoint(obj, f, "archive", pickle_protocol, not _disable_byteorder_record)


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args):
    """Load a checkpoint written by ``torch.save`` or ``leafgrad.save``.

    ``weights_only`` (the default, as in PyTorch 2.6+) loads only tensors, containers and plain
    values and never runs code from the file; ``weights_only=False`` is for files you trust.

    >>> import io, leafgrad
    >>> buf = io.BytesIO(); leafgrad.save([leafgrad.arange(3)], buf); _ = buf.seek(0)
    >>> leafgrad.load(buf)
    [tensor([0, 1, 2])]
    """
    if weights_only is None:
        weights_only = True
    if weights_only:
        if pickle_module is not None:
            raise RuntimeError(
                "Can not safely load weights when explicit pickle_module is specified"
            )
        if set(pickle_load_args) - {"encoding"}:
            warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
    else:
        if pickle_module not in (None, pickle):
            raise RuntimeError("leafgrad.load unpickles with the standard pickle module only")
        warnings.warn(
            "leafgrad.load(weights_only=False) unpickles the file with Python's full pickle, "
            "which can result in arbitrary code execution. Do it only if you got the file from a "
            "trusted source.", UserWarning, stacklevel=2,
        )
    check_map_location(map_location)
    kwargs = {"encoding": "utf-8", **pickle_load_args}
    if not weights_only:
        kwargs = {k: v for k, v in kwargs.items() if k in ("encoding", "errors", "fix_imports")}
    if _is_path(f) and os.fspath(f).endswith(".safetensors"):
        from ..utils import safetensors

        if isinstance(map_location, (dict,)) or callable(map_location):
            raise RuntimeError("Loading safetensors file with dict or callable map_location is "
                               "not supported. Use a device string or torch.device instead.")
        return safetensors.load_file(f, device=str(map_location or "cpu"))
    if mmap and not _is_path(f):
        raise ValueError("f must be a file path in order to use the mmap argument")
    if _is_path(f):
        shared = mmap and _MMAP_FLAGS["flags"] == getattr(_mmap, "MAP_SHARED", None)
        with open(f, "r+b" if shared else "rb") as fh:
            return _load_file(fh, map_location, weights_only, bool(mmap), **kwargs)
    if not (hasattr(f, "read") and hasattr(f, "seek")):
        raise TypeError(f"load() expects a path or a binary file object, got {type(f).__name__}")
    if not _seekable(f):
        f = io.BytesIO(f.read())
    return _load_file(f, map_location, weights_only, False, **kwargs)


def _seekable(f) -> bool:
    try:
        return bool(f.seekable()) if hasattr(f, "seekable") else (f.seek(f.tell()) or True)
    except (OSError, AttributeError, io.UnsupportedOperation):
        return False


def _load_file(fh, map_location, weights_only: bool, use_mmap: bool, **kwargs):
    from ._legacy import is_tar, load_legacy

    start = fh.tell()
    head = fh.read(512)
    fh.seek(start)
    if isinstance(head, str):
        raise TypeError("load() needs a file opened in binary mode ('rb')")
    if head[:4] == b"PK\x03\x04":
        if not use_mmap:
            return load_zip(fh, map_location, weights_only, **kwargs)
        shared = _MMAP_FLAGS["flags"] == getattr(_mmap, "MAP_SHARED", None)
        # ACCESS_COPY is MAP_PRIVATE (writes stay in memory), ACCESS_WRITE is MAP_SHARED
        mm = _mmap.mmap(fh.fileno(), 0, access=_mmap.ACCESS_WRITE if shared else _mmap.ACCESS_COPY)
        return load_zip(fh, map_location, weights_only, mmap_buffer=mm, **kwargs)
    if use_mmap:
        raise RuntimeError(
            "mmap can only be used with files saved with `torch.save(_use_new_zipfile_"
            "serialization=True), please torch.save your checkpoint with this option in order "
            "to use mmap."
        )
    if is_tar(head):
        raise CheckpointError(
            "Cannot use ``weights_only=True`` with files saved in the legacy .tar format. "
            f"{UNSAFE_MESSAGE}\nWhy: leafgrad does not read the pre-0.4 tar format at all; load "
            "the file in PyTorch and save it again (the zip format)."
        )
    if not head:
        raise CheckpointError("the file is empty\nWhy: a checkpoint holds at least a pickle.")
    if head[:1] != b"\x80":
        raise CheckpointError(
            f"Invalid magic number; corrupt file? (it starts with {head[:8]!r})\nWhy: a "
            "PyTorch checkpoint starts with a zip header (PK) or, in the legacy format, a pickle."
        )
    return load_legacy(fh, map_location, weights_only, **kwargs)


def set_default_mmap_options(flags: int) -> None:
    """Map files for ``load(mmap=True)`` with ``mmap.MAP_PRIVATE`` (default) or ``MAP_SHARED``.

    With MAP_PRIVATE, writes to loaded tensors stay in memory; with MAP_SHARED they reach the
    file.

    >>> import mmap
    >>> set_default_mmap_options(mmap.MAP_PRIVATE); get_default_mmap_options() == mmap.MAP_PRIVATE
    True
    """
    if flags not in (_mmap.MAP_PRIVATE, _mmap.MAP_SHARED):
        raise ValueError("Invalid argument in function set_default_mmap_options, expected "
                         "mmap.MAP_PRIVATE or mmap.MAP_SHARED, but got " + repr(flags))
    _MMAP_FLAGS["flags"] = flags


def get_default_mmap_options() -> int:
    """The flags ``load(mmap=True)`` maps files with."""
    return _MMAP_FLAGS["flags"]


def get_unsafe_globals_in_checkpoint(f) -> list[str]:
    """Names a checkpoint's pickle refers to that ``weights_only`` loading would refuse.

    Reads the pickle's opcodes only (nothing is unpickled).

    >>> import io, leafgrad
    >>> buf = io.BytesIO(); leafgrad.save({"s": slice(1)}, buf); _ = buf.seek(0)
    >>> get_unsafe_globals_in_checkpoint(buf)
    ['builtins.slice']
    """
    import _compat_pickle
    import pickletools

    from ._load import TABLE
    from ._unpickler import _user_table
    from ._zip import ZipReader

    def scan(fh):
        start = fh.tell()
        if fh.read(4) != b"PK\x03\x04":
            raise CheckpointError("get_unsafe_globals_in_checkpoint reads zip checkpoints only "
                                  "(the format torch.save has written since PyTorch 1.6)")
        fh.seek(start)
        reader = ZipReader(fh)
        names = reader.names()
        prefix = names[0].split("/", 1)[0] if names else ""
        data = reader.read(f"{prefix}/data.pkl")
        found, strings = set(), []
        for op, arg, _ in pickletools.genops(data):
            if op.name == "GLOBAL":
                module, name = arg.split(" ", 1)
            elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                module, name = strings[-2], strings[-1]
            else:
                if isinstance(arg, str):
                    strings.append(arg)
                continue
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
            found.add(f"{module}.{name}")
        allowed = set(TABLE) | set(_user_table())
        return sorted(found - allowed)

    if _is_path(f):
        with open(f, "rb") as fh:
            return scan(fh)
    return scan(f)
