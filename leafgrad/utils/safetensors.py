"""The safetensors format, read and written in NumPy (the API of ``safetensors.torch``).

A safetensors file is an 8-byte little-endian header length, a JSON header mapping each name
to ``{"dtype", "shape", "data_offsets"}`` (plus optional ``"__metadata__"`` of strings), then
the raw little-endian bytes. No code can hide in it, and the format is small, so leafgrad reads
and writes it itself; the ``safetensors`` package is not needed (the tests check files against
it both ways). The reader validates the header as the reference implementation does: size
limits, offsets that tile the data exactly, byte counts that match dtype and shape.
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from .. import backend as _backend
from .. import dtypes as _dt

__all__ = ["save", "save_file", "load", "load_file", "safe_open", "SafetensorError"]

MAX_HEADER = 100_000_000  # the reference implementation's limit
_CODES = {_dt.bool: "BOOL", _dt.uint8: "U8", _dt.int8: "I8", _dt.int16: "I16", _dt.int32: "I32",
          _dt.int64: "I64", _dt.float16: "F16", _dt.float32: "F32", _dt.float64: "F64"}
_FROM_CODE = {c: d for d, c in _CODES.items()}
_ORDER = ["BOOL", "U8", "I8", "I16", "F16", "I32", "F32", "F64", "I64"]  # the reference's enum
_OTHER_CODES = {"BF16": "bfloat16", "U16": "uint16", "U32": "uint32", "U64": "uint64",
                "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "F8_E8M0": "float8_e8m0fnu",
                "C64": "complex64", "C128": "complex128", "F4": "float4", "F6_E2M3": "float6",
                "F6_E3M2": "float6"}


class SafetensorError(RuntimeError):
    """A safetensors file or buffer that is malformed or holds what leafgrad cannot."""


def _tensor_class():
    from ..tensor import Tensor

    return Tensor


def _check_tensors(tensors) -> None:
    tensor_cls = _tensor_class()
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, torch.Tensor] but received {type(tensors)}")
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise TypeError(f"argument 'tensor_dict': '{type(k).__name__}' object is not an "
                            "instance of 'str'")
        if not isinstance(v, tensor_cls):
            raise ValueError(f"Key `{k}` is invalid, expected torch.Tensor but received {type(v)}")
    from ..serialization._storage import byte_bounds

    # as the reference: tensors whose memory overlaps (not merely one buffer) cannot be saved
    spans = sorted((byte_bounds(v._data), k) for k, v in tensors.items()
                   if isinstance(v._data, np.ndarray) and v._data.size)
    failing, group, end = [], [], -1
    for (lo, hi), k in spans:
        if lo < end:
            group.append(k)
        else:
            if len(group) > 1:
                failing.append(set(group))
            group = [k]
        end = max(end, hi) if lo < end else hi
    if len(group) > 1:
        failing.append(set(group))
    if failing:
        raise RuntimeError(
            f"Some tensors share memory, this will lead to duplicate memory on disk and potential "
            f"differences when loading them again: {failing}.\nWhy: safetensors stores each name "
            "as its own bytes; save one of them (or clones), and re-tie after loading."
        )
    for k, v in tensors.items():
        if not v.is_contiguous():
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{k}` which is not allowed. It "
                "either means you are trying to save tensors which are reference of each other in "
                "which case it's recommended to save only the full tensors, and reslice at load "
                "time, or simply call `.contiguous()` on your tensor to pack it before saving."
            )


def _header_and_arrays(tensors, metadata) -> tuple[bytes, list[np.ndarray]]:
    _check_tensors(tensors)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("argument 'metadata': metadata must be a dict of str to str")
    # as the reference writer: dtypes in its order, descending (larger first, so data stays
    # aligned), then names
    order = sorted(tensors, key=lambda k: (-_ORDER.index(_CODES[tensors[k].dtype]), k))
    header: dict = {"__metadata__": metadata} if metadata else {}
    arrays, pos = [], 0
    for k in order:
        t = tensors[k]
        a = _backend.to_numpy(t._data)
        if sys.byteorder == "big":
            a = a.astype(a.dtype.newbyteorder("<"))
        arrays.append(a)
        header[k] = {"dtype": _CODES[t.dtype], "shape": list(a.shape),
                     "data_offsets": [pos, pos + a.nbytes]}
        pos += a.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-(8 + len(raw)) % 8)
    return struct.pack("<Q", len(raw)) + raw, arrays


def save(tensors: dict, metadata: dict[str, str] | None = None) -> bytes:
    """The safetensors bytes of a dict of contiguous tensors that share no memory.

    >>> import leafgrad
    >>> load(save({"w": leafgrad.ones(2)}))
    {'w': tensor([1., 1.])}
    """
    head, arrays = _header_and_arrays(tensors, metadata)
    return head + b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)


def save_file(tensors: dict, filename, metadata: dict[str, str] | None = None) -> None:
    """Write a dict of tensors to ``filename`` in safetensors format.

    >>> import leafgrad, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
    >>> save_file({"w": leafgrad.zeros(2)}, path); load_file(path)["w"]
    tensor([0., 0.])
    """
    head, arrays = _header_and_arrays(tensors, metadata)
    with open(filename, "wb") as f:
        f.write(head)
        for a in arrays:
            if a.size:
                f.write(memoryview(np.ascontiguousarray(a)).cast("B"))


def _parse_header(read, total: int) -> tuple[dict, dict[str, str] | None, int]:
    """Read and validate the header; returns (entries by name, metadata, data start)."""
    if total < 8:
        raise SafetensorError("HeaderTooSmall: the buffer is shorter than 8 bytes\nWhy: a "
                              "safetensors file starts with its header's length.")
    (n,) = struct.unpack("<Q", read(0, 8))
    if n > MAX_HEADER:
        raise SafetensorError(f"HeaderTooLarge: the header claims {n} bytes (limit {MAX_HEADER})")
    if 8 + n > total:
        raise SafetensorError(f"InvalidHeaderLength: the header claims {n} bytes, the file has "
                              f"{total - 8} after the length\nWhy: it is truncated or corrupt.")
    raw = read(8, n)
    if not raw.startswith(b"{"):
        raise SafetensorError("InvalidHeaderStart: the header is not a JSON object")

    def no_duplicates(pairs):
        d = dict(pairs)
        if len(d) != len(pairs):
            raise SafetensorError("InvalidHeaderDeserialization: a name appears twice")
        return d

    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise SafetensorError(f"InvalidHeaderDeserialization: {e}") from None
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(v, str) for v in metadata.values())):
        raise SafetensorError("InvalidHeaderDeserialization: __metadata__ must map str to str")
    entries = {}
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise SafetensorError(f"InvalidHeaderDeserialization: entry {name!r:.60} must have "
                                  "exactly dtype, shape and data_offsets")
        code, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape)
                and isinstance(offs, list) and len(offs) == 2
                and all(type(o) is int and o >= 0 for o in offs) and offs[0] <= offs[1]):
            raise SafetensorError(f"InvalidHeaderDeserialization: bad shape or offsets for "
                                  f"{name!r:.60}")
        if code not in _FROM_CODE:
            if code in _OTHER_CODES:
                from ..serialization._storage import unsupported_dtype_error

                raise unsupported_dtype_error(_OTHER_CODES[code])
            raise SafetensorError(f"InvalidDtype: {code!r:.20} for tensor {name!r:.60}")
        dtype = _FROM_CODE[code]
        if math.prod(shape) * dtype.itemsize != offs[1] - offs[0]:
            raise SafetensorError(f"TensorInvalidInfo: {name!r:.60} of shape {shape} and dtype "
                                  f"{code} does not fill bytes {offs}")
        entries[name] = (dtype, tuple(shape), offs[0], offs[1])
    end = 0
    for _, _, begin, stop in sorted(entries.values(), key=lambda e: (e[2], e[3])):
        if begin != end:
            raise SafetensorError("InvalidOffset: the tensors' byte ranges overlap or leave gaps")
        end = stop
    if 8 + n + end != total:
        raise SafetensorError(f"MetadataIncompleteBuffer: the header describes {end} data bytes, "
                              f"the file has {total - 8 - n}\nWhy: it is truncated or padded.")
    return entries, metadata, 8 + n


def _tensor(dtype, shape, data: np.ndarray, device):
    from ..tensor import _wrap

    arr = data.view(dtype.np.newbyteorder("<")).reshape(shape)
    if sys.byteorder == "big":
        arr = arr.astype(dtype.np)
    dev = _backend.as_device(device if not isinstance(device, int) else f"cuda:{device}")
    return _wrap(_backend.move(arr, dev))


def load(data: bytes) -> dict:
    """Tensors from safetensors bytes (copied: the result does not hold on to ``data``).

    >>> import leafgrad
    >>> load(save({"i": leafgrad.arange(3)}))["i"]
    tensor([0, 1, 2])
    """
    view = memoryview(data).cast("B")
    entries, _, start = _parse_header(lambda o, n: bytes(view[o:o + n]), len(view))
    out = {}
    for name, (dtype, shape, b, e) in sorted(entries.items(), key=lambda kv: kv[1][2]):
        buf = np.frombuffer(view[start + b:start + e], np.uint8).copy()
        out[name] = _tensor(dtype, shape, buf, "cpu")
    return out


class _File:
    """A safetensors file opened for reading (``safe_open``'s handle)."""

    def __init__(self, filename, device="cpu") -> None:
        self.f = open(filename, "rb")  # noqa: SIM115 - closed by safe_open / load_file
        self.size = os.fstat(self.f.fileno()).st_size
        self.device = device
        self.entries, self._metadata, self.start = _parse_header(self._read, self.size)

    def _read(self, offset: int, n: int) -> bytes:
        self.f.seek(offset)
        data = self.f.read(n)
        if len(data) != n:
            raise SafetensorError("the file changed or ended while being read")
        return data

    def keys(self) -> list[str]:
        """Tensor names, sorted."""
        return sorted(self.entries)

    def metadata(self) -> dict[str, str] | None:
        """The header's ``__metadata__``."""
        return self._metadata

    def get_tensor(self, name: str):
        """Read one tensor."""
        if name not in self.entries:
            raise SafetensorError(f"File does not contain tensor {name}")
        dtype, shape, b, e = self.entries[name]
        buf = np.empty(e - b, np.uint8)
        self.f.seek(self.start + b)
        if e > b and self.f.readinto(memoryview(buf)) != e - b:
            raise SafetensorError("the file changed or ended while being read")
        return _tensor(dtype, shape, buf, self.device)

    def close(self) -> None:
        self.f.close()


@contextmanager
def safe_open(filename, framework: str = "pt", device="cpu") -> Iterator[_File]:
    """Open a safetensors file to read tensors one at a time (``keys()``, ``get_tensor(name)``).

    >>> import leafgrad, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
    >>> save_file({"a": leafgrad.ones(1), "b": leafgrad.zeros(1)}, path)
    >>> with safe_open(path) as f:
    ...     f.keys(), f.get_tensor("b")
    (['a', 'b'], tensor([0.]))
    """
    handle = _File(filename, device)
    try:
        yield handle
    finally:
        handle.close()


def load_file(filename, device="cpu") -> dict:
    """Read every tensor of a safetensors file (in file order) onto ``device``.

    >>> import leafgrad, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
    >>> save_file({"w": leafgrad.eye(2)}, path); load_file(path)["w"]
    tensor([[1., 0.],
            [0., 1.]])
    """
    with safe_open(filename, device=device) as f:
        order = sorted(f.entries, key=lambda k: f.entries[k][2:])
        return {k: f.get_tensor(k) for k in order}
