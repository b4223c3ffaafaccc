"""Object collectives (``broadcast_object_list``, ``all_gather_object``, ...) under load's rules.

Objects travel in ``leafgrad.save``'s format and are read back with ``leafgrad.load(...,
weights_only=True)``: the allow-list unpickler that never runs code named by the bytes. torch
unpickles them with full pickle; leafgrad does not, because "never unpickle untrusted input"
should not depend on where the bytes came from. Ranks of one job are one trust domain, so the
rule costs nothing for tensors, numbers, strings, lists, dicts, tuples and the like; a rank that
sends an instance of its own class gets torch's ``weights_only`` error, and the fix is torch's
too: ``torch.serialization.add_safe_globals([MyClass])`` on every rank. The sender checks its
own bytes the same way and raises the same error after sending, so every rank raises together
and none is left waiting.
"""

from __future__ import annotations

import io
import pickle

import numpy as np

from . import _mpi
from .c10d import ProcessGroup
from .collectives import _begin, _root, check, fingerprint

__all__ = ["broadcast_object_list", "all_gather_object", "gather_object", "scatter_object_list"]

_NOTE = ("leafgrad.distributed reads objects from other ranks like torch.load(weights_only=True) "
         "reads files (see docs/distributed.md); allow a class of your own with "
         "torch.serialization.add_safe_globals([YourClass]) on every rank.")


def _dumps(obj) -> bytes:
    from ..serialization import save

    buf = io.BytesIO()
    save(obj, buf)
    return buf.getvalue()


def _loads(data: bytes):
    from ..serialization import load

    try:
        return load(io.BytesIO(data), weights_only=True)
    except pickle.UnpicklingError as e:
        e.add_note(_NOTE)
        raise


def _validate(payloads: list[bytes]) -> Exception | None:
    """The error a receiver will get for these bytes, if any (raised after sending)."""
    for p in payloads:
        try:
            _loads(p)
        except pickle.UnpicklingError as e:
            return e
    return None


def _bytes(payloads: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(payloads), dtype=np.uint8).copy() if payloads else \
        np.empty(0, np.uint8)


def _split(buf: np.ndarray, sizes) -> list[bytes]:
    out, off = [], 0
    for s in sizes:
        out.append(buf[off:off + int(s)].tobytes())
        off += int(s)
    return out


def _displs(sizes) -> list[int]:
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist() if len(sizes) else []


def _wait(pg: ProcessGroup, req, what: str, k: int) -> None:
    pg._wait(req.Test, what, k)


def broadcast_object_list(object_list: list, src: int | None = None,
                          group: ProcessGroup | None = None, device=None,
                          group_src: int | None = None) -> None:
    """Replace every rank's ``object_list`` items with ``src``'s.

    >>> objs = [{"lr": 0.1}] if dist.get_rank() == 0 else [None]  # doctest: +SKIP
    >>> dist.broadcast_object_list(objs, src=0)  # doctest: +SKIP
    """
    what = "broadcast_object_list"
    pg = _begin(group, what)
    if pg is None:
        return
    if src is None and group_src is None:
        src = 0
    root = _root(pg, src, group_src, what, "src")
    me = pg.rank()
    MPI = _mpi.mpi()
    payloads = [_dumps(o) for o in object_list] if me == root else []
    error = _validate(payloads) if me == root else None
    k = pg._start()
    check(pg, what, k, fingerprint(what, k, np.int64, (len(object_list),), root=root))
    sizes = np.array([len(p) for p in payloads] if me == root else [0] * len(object_list),
                     dtype=np.int64)
    _wait(pg, pg._comm.Ibcast(sizes, root), what, k)
    buf = _bytes(payloads) if me == root else np.empty(int(sizes.sum()), np.uint8)
    _wait(pg, pg._comm.Ibcast([buf, MPI.BYTE], root), what, k)
    if me == root:
        if error is not None:
            raise error
        return
    objs = [_loads(p) for p in _split(buf, sizes)]
    object_list[:] = objs


def all_gather_object(object_list: list, obj, group: ProcessGroup | None = None) -> None:
    """Fill ``object_list[i]`` with rank i's ``obj``, on every rank.

    >>> out = [None] * dist.get_world_size(); dist.all_gather_object(out, rank)  # doctest: +SKIP
    """
    what = "all_gather_object"
    pg = _begin(group, what)
    if pg is None:
        return
    n = pg.size()
    if not isinstance(object_list, list) or len(object_list) < n:
        raise ValueError(f"{what}: object_list must be a list with one slot per rank ({n})")
    MPI = _mpi.mpi()
    mine = _dumps(obj)
    k = pg._start()
    check(pg, what, k, fingerprint(what, k), fields="none")
    sizes = np.empty(n, dtype=np.int64)
    _wait(pg, pg._comm.Iallgather(np.array([len(mine)], dtype=np.int64), sizes), what, k)
    buf = np.empty(int(sizes.sum()), np.uint8)
    send = _bytes([mine])
    req = pg._comm.Iallgatherv([send, MPI.BYTE],
                               [buf, (sizes.tolist(), _displs(sizes)), MPI.BYTE])
    _wait(pg, req, what, k)
    for i, p in enumerate(_split(buf, sizes)):
        object_list[i] = _loads(p)


def gather_object(obj, object_gather_list: list | None = None, dst: int | None = None,
                  group: ProcessGroup | None = None, group_dst: int | None = None) -> None:
    """Collect every rank's ``obj`` into ``object_gather_list`` on ``dst``.

    >>> dist.gather_object(rank, out if rank == 0 else None, dst=0)  # doctest: +SKIP
    """
    what = "gather_object"
    pg = _begin(group, what)
    if pg is None:
        return
    if dst is None and group_dst is None:
        dst = 0
    root = _root(pg, dst, group_dst, what, "dst")
    me, n = pg.rank(), pg.size()
    if me == root and (not isinstance(object_gather_list, list) or len(object_gather_list) < n):
        raise ValueError(f"{what}: object_gather_list must be a list with one slot per rank ({n}) "
                         "on the destination rank")
    MPI = _mpi.mpi()
    mine = _dumps(obj)
    error = _validate([mine]) if me != root else None
    k = pg._start()
    check(pg, what, k, fingerprint(what, k, root=root), fields="none")
    sizes = np.empty(n, dtype=np.int64) if me == root else None
    _wait(pg, pg._comm.Igather(np.array([len(mine)], dtype=np.int64), sizes, root), what, k)
    buf = np.empty(int(sizes.sum()), np.uint8) if me == root else None
    recv = [buf, (sizes.tolist(), _displs(sizes)), MPI.BYTE] if me == root else None
    _wait(pg, pg._comm.Igatherv([_bytes([mine]), MPI.BYTE], recv, root), what, k)
    if error is not None:
        raise error
    if me == root:
        for i, p in enumerate(_split(buf, sizes)):
            object_gather_list[i] = _loads(p)


def scatter_object_list(scatter_object_output_list: list, scatter_object_input_list=None,
                        src: int | None = None, group: ProcessGroup | None = None,
                        group_src: int | None = None) -> None:
    """Put ``src``'s ``scatter_object_input_list[i]`` into rank i's output list (at index 0).

    >>> out = [None]; dist.scatter_object_list(out, objs if rank == 0 else None)  # doctest: +SKIP
    """
    what = "scatter_object_list"
    pg = _begin(group, what)
    if pg is None:
        return
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at "
                         "least 1.")
    if src is None and group_src is None:
        src = 0
    root = _root(pg, src, group_src, what, "src")
    me, n = pg.rank(), pg.size()
    MPI = _mpi.mpi()
    payloads: list[bytes] = []
    error = None
    if me == root:
        if scatter_object_input_list is None or len(scatter_object_input_list) != n:
            raise ValueError(f"{what}: scatter_object_input_list must have one object per rank "
                             f"({n}) on the source rank")
        payloads = [_dumps(o) for o in scatter_object_input_list]
        error = _validate(payloads)
    k = pg._start()
    check(pg, what, k, fingerprint(what, k, root=root), fields="none")
    sizes = np.array([len(p) for p in payloads], dtype=np.int64) if me == root else None
    size = np.empty(1, dtype=np.int64)
    _wait(pg, pg._comm.Iscatter(sizes, size, root), what, k)
    buf = np.empty(int(size[0]), np.uint8)
    send = [_bytes(payloads), (sizes.tolist(), _displs(sizes)), MPI.BYTE] if me == root else None
    _wait(pg, pg._comm.Iscatterv(send, [buf, MPI.BYTE], root), what, k)
    if error is not None:
        raise error
    scatter_object_output_list[0] = _loads(buf.tobytes())

