"""PyTorch's legacy (pre-1.6, non-zip) checkpoint: a run of pickles followed by raw storages.

``torch.save(..., _use_new_zipfile_serialization=False)`` still writes it: a magic number, a
protocol version and a system-info dict (three small pickles), the object pickle (storages as
persistent ids), the list of storage keys, then each storage as an int64 element count and its
bytes. Every pickle goes through the same allow-list unpickler as the zip format, and every
count is checked against the bytes left in the file. The older tar format is refused.
"""

from __future__ import annotations

import struct

import numpy as np

from ._load import TABLE, StorageTable, TrustedUnpickler, run
from ._unpickler import CheckpointError, WeightsUnpickler

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


def is_tar(head: bytes) -> bool:
    """Whether the first 512 bytes of a file are a tar header (PyTorch's pre-0.4 format)."""
    return len(head) >= 262 and head[257:262] == b"ustar"


def _next_pickle(f, end: int, storages=None, weights_only: bool = True, **kwargs):
    """Unpickle the next pickle of the stream (header pickles see an empty allow-list)."""
    pload = storages.persistent_load if storages is not None else None
    if weights_only or storages is None:
        u = WeightsUnpickler(f, end - f.tell(), TABLE if storages is not None else {}, pload,
                             encoding=kwargs.get("encoding", "utf-8"))
    else:
        u = TrustedUnpickler(f, pload, **kwargs)
    return run(u, "the legacy checkpoint's pickle")


def load_legacy(f, map_location, weights_only: bool, **kwargs):
    """Load a legacy checkpoint from the seekable binary file ``f``."""
    start = f.tell()
    end = f.seek(0, 2)
    f.seek(start)
    if _next_pickle(f, end) != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?\nWhy: the file is neither a zip "
                           "checkpoint nor a legacy one.")
    if _next_pickle(f, end) != PROTOCOL_VERSION:
        raise RuntimeError("Invalid protocol version in the legacy checkpoint")
    info = _next_pickle(f, end)
    if not isinstance(info, dict) or info.get("little_endian") is not True:
        raise CheckpointError("a big-endian legacy checkpoint cannot be loaded\nWhy: its storages "
                              "carry no byte-order record; re-save it with the zip format.")
    budget = [end - start]

    def fetch(key: str, nbytes: int):
        if nbytes > budget[0]:
            raise CheckpointError(f"storage {key} claims {nbytes} bytes, more than the file "
                                  "holds\nWhy: the checkpoint is truncated or lies.")
        budget[0] -= nbytes
        return np.empty(nbytes, np.uint8)

    storages = StorageTable(fetch, map_location, legacy=True)
    result = _next_pickle(f, end, storages, weights_only, **kwargs)
    keys = _next_pickle(f, end)
    if not isinstance(keys, list) or set(keys) != set(storages.by_key):
        raise CheckpointError("the legacy checkpoint's storage list does not match its pickle")
    for key in keys:
        storage = storages.by_key[key]
        head = f.read(8)
        if len(head) != 8:
            raise CheckpointError("the legacy checkpoint ends before its storage data")
        (numel,) = struct.unpack("<q", head)
        item = storage.dtype.itemsize if storage.dtype else 1
        raw = storage.raw
        if numel * item != raw.nbytes:
            raise CheckpointError(f"storage {key} holds {numel} elements, its pickle says "
                                  f"{raw.nbytes // item}\nWhy: the file is corrupt.")
        view = memoryview(raw).cast("B")
        got = 0
        while got < raw.nbytes:
            n = f.readinto(view[got:])
            if not n:
                raise CheckpointError(f"the legacy checkpoint ends inside storage {key}")
            got += n
    return result
