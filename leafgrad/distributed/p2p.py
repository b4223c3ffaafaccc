"""Point-to-point: ``send``/``recv``/``isend``/``irecv``/``batch_isend_irecv`` with a header check.

Unless checks are off, a message travels as a 16-integer header (dtype, shape) on the group's
header communicator and the payload on its data communicator, both with the user's tag. The
receiver posts the header receive, and on its arrival the payload receive from the header's
sender, so a tensor of another shape or dtype is reported instead of read as garbage. Payload
receives are posted in the order their headers were posted (a per-group queue), which keeps
MPI's message order for receives that match the same sender and tag.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import _mpi
from .c10d import ProcessGroup, _state
from .collectives import META, Work, _begin, _desc, _tensor, _writable, fingerprint

__all__ = ["send", "recv", "isend", "irecv", "P2POp", "batch_isend_irecv"]

MAX_TAG = 31999  # tags above are leafgrad's own (monitored_barrier)


def _peer(pg: ProcessGroup, rank, group_rank, what: str, name: str) -> int:
    if group_rank is not None:
        if rank is not None:
            raise ValueError(f"{what}: pass {name} or group_{name}, not both")
        peer = int(group_rank)
        if not 0 <= peer < pg.size():
            raise ValueError(f"{what}: group_{name}={peer} is not a rank of a group of "
                             f"{pg.size()}")
    else:
        if rank is None:
            raise ValueError(f"{what}: {name} (a global rank) or group_{name} must be given")
        if int(rank) not in pg._index:
            raise ValueError(f"{what}: Global rank {rank} is not part of group {pg._ranks}")
        peer = pg._index[int(rank)]
    if peer == pg.rank():
        kind = "destination" if name == "dst" else "source"
        raise ValueError(f"Invalid {kind} rank: {kind} rank should not be the same as the rank "
                         "of the current process.")
    return peer


def _tag(tag: int, what: str) -> int:
    if not isinstance(tag, int) or not 0 <= tag <= MAX_TAG:
        raise ValueError(f"{what}: tag must be an integer from 0 to {MAX_TAG}, got {tag!r}")
    return tag


def isend(tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
          group_dst: int | None = None) -> Work | None:
    """Start sending ``tensor`` to rank ``dst``; ``wait()`` on the result before changing it.

    >>> w = dist.isend(t, dst=1); w.wait()  # doctest: +SKIP
    """
    a = _tensor(tensor, "isend")
    pg = _begin(group, "isend")
    if pg is None:
        return None
    peer = _peer(pg, dst, group_dst, "isend", "dst")
    tag = _tag(tag, "isend")
    MPI = _mpi.mpi()
    data = np.ascontiguousarray(a)
    reqs = []
    if _state.checks:
        head = fingerprint("broadcast", 0, a.dtype, a.shape)
        reqs.append(pg._hdr.Isend(head, peer, tag))
    reqs.append(pg._data.Isend(_mpi.byte_buffer(data), peer, tag))
    return Work(pg, lambda: MPI.Request.Testall(reqs), None, [tensor], f"isend to rank "
                f"{pg._ranks[peer]} (tag {tag})", 0)


class _Recv:
    """One receive: header first (when checking), then the payload from the header's sender."""

    def __init__(self, pg: ProcessGroup, tensor: Tensor, a: np.ndarray, src: int, tag: int):
        MPI = _mpi.mpi()
        self.pg, self.tensor, self.a, self.tag = pg, tensor, a, tag
        self.buf = a if a.flags.c_contiguous else np.empty(a.shape, a.dtype)
        self.status = MPI.Status()
        self.source = -1
        self.error = None
        self.payload = None
        if _state.checks:
            self.head = np.empty(META, dtype=np.int64)
            self.hreq = pg._hdr.Irecv(self.head, src, tag)
            pg._recv_queue.append(self)
        else:
            self.hreq = None
            self.payload = pg._data.Irecv(_mpi.byte_buffer(self.buf), src, tag)

    def test(self) -> bool:
        if self.hreq is not None:
            _advance(self.pg)
            if self.payload is None:
                return False
        return self.payload.Test(self.status)

    def arrived(self, st) -> None:
        """The header is here: post the payload receive (into scratch if it does not fit)."""
        self.source = st.Get_source()
        sent = _row(self.head)
        mine = (np.dtype(self.a.dtype), tuple(self.a.shape))
        if sent != mine:
            sender = self.pg._ranks[self.source]
            self.error = RuntimeError(
                f"recv: rank {sender} sent {_desc(*sent)} (tag {self.tag}) but this rank "
                f"receives into {_desc(*mine)}.\nWhy: a message fills the receiving tensor "
                "byte for byte, so both sides must agree on dtype and shape; the message was "
                "discarded. Fix: receive into a tensor like the one sent."
            )
            self.buf = np.empty(_nbytes(sent), dtype=np.uint8)
        self.payload = self.pg._data.Irecv(_mpi.byte_buffer(self.buf), self.source, self.tag)

    def finish(self) -> int:
        if self.hreq is None:
            self.source = self.status.Get_source()
            got = self.status.Get_count(_mpi.mpi().BYTE)
            if got != self.a.nbytes:
                sender = self.pg._ranks[self.source]
                raise RuntimeError(
                    f"recv: rank {sender} sent {got} bytes (tag {self.tag}) but this rank "
                    f"receives into {_desc(self.a.dtype, self.a.shape)} ({self.a.nbytes} "
                    "bytes); the tensors of send and recv must match"
                )
        if self.error is not None:
            raise self.error
        if self.buf is not self.a:
            self.a[...] = self.buf
        self.tensor._bump_version()
        return self.pg._ranks[self.source]


def _row(head: np.ndarray) -> tuple:
    from .collectives import _DTYPES

    nd = int(head[6])
    return _DTYPES[int(head[2])], tuple(int(s) for s in head[7:7 + min(nd, 8)])


def _nbytes(sent: tuple) -> int:
    dtype, shape = sent
    return int(np.prod(shape, dtype=np.int64)) * dtype.itemsize


def _advance(pg: ProcessGroup) -> None:
    """Post payload receives for every header that has arrived, in the order they were posted."""
    st = _mpi.mpi().Status()
    keep = []
    for r in pg._recv_queue:
        if r.payload is None and r.hreq.Test(st):
            r.arrived(st)
        if r.payload is None:
            keep.append(r)
    pg._recv_queue = keep


def irecv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
          tag: int = 0, group_src: int | None = None) -> Work | None:
    """Start receiving into ``tensor`` from ``src`` (any rank if None); ``wait()`` finishes it.

    >>> w = dist.irecv(t, src=0); w.wait()  # doctest: +SKIP
    """
    a = _tensor(tensor, "irecv")
    _writable(a, "irecv", "tensor")
    pg = _begin(group, "irecv")
    if pg is None:
        return None
    MPI = _mpi.mpi()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else \
        _peer(pg, src, group_src, "irecv", "src")
    tag = _tag(tag, "irecv")
    r = _Recv(pg, tensor, a, peer, tag)
    who = "any rank" if peer == MPI.ANY_SOURCE else f"rank {pg._ranks[peer]}"
    return Work(pg, r.test, r.finish, [tensor], f"irecv from {who} (tag {tag})", 0)


def send(tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
         group_dst: int | None = None) -> None:
    """Send ``tensor`` to rank ``dst`` (returns once it is on its way).

    >>> dist.send(t, dst=1)  # doctest: +SKIP
    """
    w = isend(tensor, dst, group, tag, group_dst)
    if w is not None:
        w.wait()


def recv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
         group_src: int | None = None) -> int:
    """Receive into ``tensor`` from ``src`` (any rank if None); returns the sender's rank.

    >>> sender = dist.recv(t, src=0)  # doctest: +SKIP
    """
    w = irecv(tensor, src, group, tag, group_src)
    if w is None:
        return -1
    w.wait()
    return w._source_rank()


class P2POp:
    """One operation of ``batch_isend_irecv``: ``P2POp(dist.isend, tensor, peer)``."""

    def __init__(self, op, tensor: Tensor, peer: int | None = None,
                 group: ProcessGroup | None = None, tag: int = 0,
                 group_peer: int | None = None) -> None:
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed."
                             "isend`` or ``torch.distributed.irecv``.")
        self.op, self.tensor, self.peer, self.group, self.tag = op, tensor, peer, group, tag
        self.group_peer = group_peer


def batch_isend_irecv(p2p_op_list: list[P2POp]) -> list[Work]:
    """Start every send and receive of the list; returns their ``Work`` objects.

    >>> works = dist.batch_isend_irecv([P2POp(dist.isend, t, 1)])  # doctest: +SKIP
    """
    if not p2p_op_list or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type "
                         "``torch.distributed.P2POp``.")
    return [p.op(p.tensor, p.peer, p.group, p.tag, p.group_peer) for p in p2p_op_list]
