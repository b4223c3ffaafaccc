"""Collectives on tensors, in place as torch.distributed's, on non-blocking MPI operations.

Every collective posts a non-blocking MPI call (``Iallreduce``, ``Ibcast``...) and either waits
for it (polling, with the group's deadline) or hands back a ``Work`` (``async_op=True``). Before
it, unless ``LEAFGRAD_DISTRIBUTED_CHECKS=0``, the ranks exchange a 16-integer fingerprint of the
call (which collective, its number on the group, dtype, shape, root, reduction) so that ranks
calling different collectives, or passing tensors of different shapes or dtypes, get an error
naming each rank's call instead of garbage. Results are written into the tensors when the
operation completes (``wait()``), through a contiguous staging copy when a tensor is not
contiguous, and the tensors' version counters are bumped as for any in-place change.
"""

from __future__ import annotations

import datetime

import numpy as np

from .. import dtypes as _dt
from ..tensor import Tensor
from . import _mpi
from .c10d import (
    ProcessGroup,
    RedOpType,
    ReduceOp,
    _state,
    broken_check,
    resolve,
)

__all__ = [
    "Work", "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor",
    "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter", "all_to_all",
    "all_to_all_single", "barrier", "monitored_barrier",
]

META = 16
_DTYPES = [np.dtype(d.np) for d in _dt.ALL]
_DT_CODE = {d: i for i, d in enumerate(_DTYPES)}
_OPNAMES = ["", "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor",
            "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter", "all_to_all",
            "all_to_all_single", "barrier", "broadcast_object_list", "all_gather_object",
            "gather_object", "scatter_object_list"]
OPCODE = {n: i for i, n in enumerate(_OPNAMES) if n}
# fingerprint columns: 0 op, 1 call number, 2 dtype, 3 reduction, 4 root, 5 numel, 6 ndim,
# 7..14 shape (first 8 dims), 15 hash of a longer shape
_C_OP, _C_SEQ, _C_DT, _C_RED, _C_ROOT, _C_NUMEL, _C_NDIM = range(7)


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` finishes it, ``is_completed()`` asks.

    The tensors hold the result only after ``wait()`` (or ``is_completed()`` returning True).
    """

    def __init__(self, pg: ProcessGroup, test, finish, outputs: list, what: str, k: int) -> None:
        self._pg = pg
        self._test = test
        self._finish = finish
        self._outputs = outputs
        self._what = what
        self._k = k
        self._done = False
        self._source = -1

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            finish, self._finish = self._finish, None
            r = finish()
            if r is not None:
                self._source = r

    def is_completed(self) -> bool:
        """Whether the operation has finished (its results are then in the tensors)."""
        if not self._done and self._test():
            self._complete()
        return self._done

    def wait(self, timeout: datetime.timedelta | None = None) -> bool:
        """Block until the operation finishes (at most ``timeout``, else the group's timeout)."""
        if not self._done:
            seconds = None
            if timeout is not None and timeout.total_seconds() > 0:
                seconds = timeout.total_seconds()
            self._pg._wait(self._test, self._what, self._k, seconds)
            self._complete()
        return True

    def synchronize(self) -> None:
        """Same as ``wait()`` on the CPU."""
        self.wait()

    def is_success(self) -> bool:
        """Whether the operation finished without an error."""
        return self._done

    def exception(self):
        """The error of a failed operation (failures raise from ``wait()``, so None)."""
        return None

    def result(self) -> list:
        """The output tensors."""
        return list(self._outputs)

    def _source_rank(self) -> int:
        """For ``irecv``: the global rank the message came from."""
        return self._source

    def get_future(self) -> _Future:
        """A future completed with ``result()`` when the operation finishes."""
        return _Future(self)

    def __repr__(self) -> str:
        return f"<Work {self._what} {'completed' if self._done else 'pending'}>"


class _Future:
    """The little of ``torch.futures.Future`` that a finished collective needs."""

    def __init__(self, work: Work) -> None:
        self._work = work

    def wait(self) -> list:
        self._work.wait()
        return self._work.result()

    def value(self) -> list:
        return self.wait()

    def done(self) -> bool:
        return self._work.is_completed()

    def then(self, callback):
        self.wait()
        done = _Done(callback(self))
        return done


class _Done:
    def __init__(self, value) -> None:
        self._value = value

    def wait(self):
        return self._value

    def value(self):
        return self._value

    def done(self) -> bool:
        return True


# -- argument checks -----------------------------------------------------------------------------
def _tensor(t, op: str, name: str = "tensor") -> np.ndarray:
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"torch.Tensor but got {type(t)} instead.")
    a = t._data
    if not isinstance(a, np.ndarray):
        raise RuntimeError(
            f"{op}: `{name}` is on {t.device}; leafgrad.distributed's MPI backend moves CPU "
            "tensors only (there is no NCCL backend).\nFix: call .cpu() on it first."
        )
    return a


def _tensor_list(ts, op: str, name: str) -> list[np.ndarray]:
    if not isinstance(ts, (list, tuple)):
        raise TypeError(f"Invalid function argument: {name} should be a list of tensors, got "
                        f"{type(ts).__name__}")
    return [_tensor(t, op, name) for t in ts]


def _writable(a: np.ndarray, op: str, name: str) -> None:
    if not a.flags.writeable:
        raise RuntimeError(
            f"{op}: `{name}` cannot be written in place (it is read-only or more than one of its "
            "elements share one memory location, as after expand()).\nFix: pass a "
            "tensor of its own, e.g. t.clone()."
        )


def _same(arrs, like: np.ndarray, op: str, name: str, what: str = "the input") -> None:
    for i, a in enumerate(arrs):
        if a.dtype != like.dtype or a.shape != like.shape:
            raise RuntimeError(
                f"{op}: {name}[{i}] is {_desc(a.dtype, a.shape)} but {what} is "
                f"{_desc(like.dtype, like.shape)}; every tensor of the list must match it"
            )


def _desc(dtype, shape) -> str:
    return f"{_dt.FROM_NP[np.dtype(dtype)]}{list(shape)}".replace("torch.", "")


def _red_op(op, dtype: np.dtype, what: str):
    """The MPI operation for ``op`` on ``dtype`` and whether to divide afterwards (AVG)."""
    if not isinstance(op, RedOpType):
        raise TypeError(f"{what}: op must be a ReduceOp (ReduceOp.SUM, AVG, PRODUCT, MIN, MAX, "
                        f"BAND, BOR, BXOR), got {op!r}")
    MPI = _mpi.mpi()
    kind = dtype.kind
    if op in (ReduceOp.PREMUL_SUM, ReduceOp.UNUSED):
        raise RuntimeError(f"{what}: {op} is not provided by leafgrad.distributed (the MPI "
                           "backend reduces with SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR)")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind == "f":
        raise RuntimeError(f"Cannot use {op} with non-integral dtype")
    if op is ReduceOp.AVG and kind != "f":
        raise RuntimeError(
            f"{what}: ReduceOp.AVG of a {_dt.FROM_NP[dtype]} tensor cannot be stored in it "
            "without rounding.\nFix: reduce with ReduceOp.SUM and divide, or use a "
            "floating-point tensor."
        )
    if kind == "b":  # logical: a sum or max of booleans is an "or", a product or min an "and"
        table = {ReduceOp.SUM: MPI.LOR, ReduceOp.MAX: MPI.LOR, ReduceOp.BOR: MPI.LOR,
                 ReduceOp.PRODUCT: MPI.LAND, ReduceOp.MIN: MPI.LAND, ReduceOp.BAND: MPI.LAND,
                 ReduceOp.BXOR: MPI.LXOR}
        return table[op], False
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
             ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND,
             ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}
    return table[op], op is ReduceOp.AVG


def _root(pg: ProcessGroup, rank, group_rank, what: str, name: str) -> int:
    """The group rank of a root given as a global rank (``src``/``dst``) or a group rank."""
    if group_rank is not None:
        if rank is not None:
            raise ValueError(f"{what}: pass {name} or group_{name}, not both")
        if not 0 <= int(group_rank) < pg.size():
            raise ValueError(f"{what}: group_{name}={group_rank} is not a rank of a group of "
                             f"{pg.size()}")
        return int(group_rank)
    if rank is None:
        raise ValueError(f"{what}: {name} (a global rank) or group_{name} must be given")
    if int(rank) not in pg._index:
        if pg is _state.world:  # torch passes it to the backend, which refuses it
            raise RuntimeError(f"{what}: invalid root rank: {rank} ({name} must be a rank of "
                               f"the world, 0 to {pg.size() - 1})")
        raise ValueError(f"{what}: {name}={rank}: Global rank {rank} is not part of group "
                         f"{pg._ranks}")
    return pg._index[int(rank)]


# -- the fingerprint check -----------------------------------------------------------------------
def fingerprint(op: str, k: int, dtype=None, shape=(), red=None, root: int = -1) -> np.ndarray:
    """The 16 integers that describe one collective call (compared across ranks)."""
    m = np.zeros(META, dtype=np.int64)
    m[_C_OP], m[_C_SEQ], m[_C_ROOT] = OPCODE[op], k, root
    m[_C_DT] = -1 if dtype is None else _DT_CODE[np.dtype(dtype)]
    m[_C_RED] = -1 if red is None else red.value
    shape = tuple(shape)
    m[_C_NUMEL], m[_C_NDIM] = int(np.prod(shape, dtype=np.int64)), len(shape)
    m[7:7 + min(len(shape), 8)] = shape[:8]
    if len(shape) > 8:
        m[15] = hash(shape[8:]) & 0x7FFFFFFFFFFF
    return m


def _show(row) -> str:
    op = _OPNAMES[int(row[_C_OP])] if 0 < row[_C_OP] < len(_OPNAMES) else "?"
    parts = [f"{op} (call #{int(row[_C_SEQ])})"]
    if row[_C_DT] >= 0:
        nd = int(row[_C_NDIM])
        shape = [int(s) for s in row[7:7 + min(nd, 8)]] + (["..."] if nd > 8 else [])
        parts.append(_desc(_DTYPES[int(row[_C_DT])], shape))
    if row[_C_RED] >= 0:
        parts.append(f"op={RedOpType(int(row[_C_RED])).name}")
    if row[_C_ROOT] >= 0:
        parts.append(f"root={int(row[_C_ROOT])}")
    return " ".join(parts)


def check(pg: ProcessGroup, what: str, k: int, mine: np.ndarray, fields: str = "shape") -> None:
    """Compare this call's fingerprint with the other ranks'; raise the same error on all.

    ``fields``: "shape" (dtype and shape must match), "dtype" (dtype only), "none" (only that
    the same collective is being made).
    """
    if not _state.checks or pg.size() == 1:
        return
    table = np.empty((pg.size(), META), dtype=np.int64)
    req = pg._comm.Iallgather(mine, table)
    pg._wait(req.Test, what, k)
    cols = [_C_OP, _C_SEQ]
    if (table[:, cols] == table[0, cols]).all():
        cols = {"shape": [_C_DT, _C_RED, _C_ROOT, _C_NDIM, *range(7, 16)],
                "dtype": [_C_DT, _C_RED, _C_ROOT], "none": [_C_ROOT]}[fields]
        if (table[:, cols] == table[0, cols]).all():
            return
        calls = "; ".join(f"rank {pg._ranks[i]}: {_show(r)}" for i, r in enumerate(table))
        raise RuntimeError(
            f"{what}: the ranks' arguments do not match ({calls}).\nWhy: a collective combines "
            "the ranks' tensors element by element, so every rank must pass the same dtype and "
            "shape (and the same root and reduction); MPI would otherwise mix or overrun the "
            "buffers. Nothing was sent. Fix: make every rank pass matching tensors."
        )
    calls = "; ".join(f"rank {pg._ranks[i]} is running {_show(r)}" for i, r in enumerate(table))
    raise RuntimeError(
        f"Detected mismatch between collectives on ranks: {calls}.\nWhy: the ranks of a group "
        "must make the same collective calls in the same order; different calls would mix "
        "their data or wait for each other forever. Nothing was sent."
    )


# -- helpers: staging, finishing ------------------------------------------------------------------
def _inbuf(a: np.ndarray, dtype=None) -> np.ndarray:
    """``a`` as a C-contiguous array of ``dtype`` (no copy when it already is one)."""
    return np.ascontiguousarray(a, dtype=dtype or a.dtype)


def _outbuf(a: np.ndarray, dtype=None):
    """A contiguous buffer to receive into, and whether it must be copied back into ``a``."""
    dtype = dtype or a.dtype
    if a.flags.c_contiguous and a.dtype == dtype:
        return a, False
    return np.empty(a.shape, dtype=dtype), True


def _testall(reqs):
    MPI = _mpi.mpi()
    return lambda: MPI.Request.Testall(reqs)


def _run(pg, reqs, finish, outputs, what: str, k: int, async_op: bool):
    work = Work(pg, _testall(reqs), finish, outputs, what, k)
    if async_op:
        return work
    work.wait()
    return None


def _bump(ts) -> None:
    for t in ts:
        t._bump_version()


def _begin(group, op: str):
    pg = resolve(group, op)
    if pg is not None:
        broken_check()
    return pg


# -- collectives ---------------------------------------------------------------------------------
def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group: ProcessGroup | None = None,
               async_op: bool = False):
    """Reduce ``tensor`` across the group's ranks in place (every rank gets the result).

    >>> t = leafgrad.ones(2); dist.all_reduce(t); t  # doctest: +SKIP
    tensor([2., 2.])
    """
    a = _tensor(tensor, "all_reduce")
    _writable(a, "all_reduce", "tensor")
    pg = _begin(group, "all_reduce")
    if pg is None:
        return None
    mop, avg = _red_op(op, a.dtype, "all_reduce")
    k = pg._start()
    check(pg, "all_reduce", k, fingerprint("all_reduce", k, a.dtype, a.shape, op))
    wdt = _mpi.reduce_dtype(a.dtype)
    buf, back = _outbuf(a, wdt)
    if back:
        buf[...] = a
    MPI = _mpi.mpi()
    req = pg._comm.Iallreduce(MPI.IN_PLACE, [buf, _mpi.mpi_type(wdt)], mop)

    def finish():
        if avg:
            np.divide(buf, pg.size(), out=buf)
        if back:
            a[...] = buf
        tensor._bump_version()
    return _run(pg, [req], finish, [tensor], "all_reduce", k, async_op)


def broadcast(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
              async_op: bool = False, group_src: int | None = None):
    """Copy ``src``'s tensor into every rank's ``tensor``.

    >>> dist.broadcast(t, src=0)  # doctest: +SKIP
    """
    a = _tensor(tensor, "broadcast")
    pg = _begin(group, "broadcast")
    if pg is None:
        return None
    root = _root(pg, src, group_src, "broadcast", "src")
    me = pg.rank()
    if me != root:
        _writable(a, "broadcast", "tensor")
    k = pg._start()
    check(pg, "broadcast", k, fingerprint("broadcast", k, a.dtype, a.shape, root=root))
    if me == root:
        buf, back = _inbuf(a), False
    else:
        buf, back = _outbuf(a)
    req = pg._comm.Ibcast(_mpi.byte_buffer(buf), root)

    def finish():
        if back:
            a[...] = buf
        tensor._bump_version()
    return _run(pg, [req], finish, [tensor], "broadcast", k, async_op)


def reduce(tensor: Tensor, dst: int | None = None, op=ReduceOp.SUM,
           group: ProcessGroup | None = None, async_op: bool = False,
           group_dst: int | None = None):
    """Reduce every rank's ``tensor`` into ``dst``'s (the others' are left unchanged).

    >>> dist.reduce(t, dst=0)  # doctest: +SKIP
    """
    a = _tensor(tensor, "reduce")
    pg = _begin(group, "reduce")
    if pg is None:
        return None
    root = _root(pg, dst, group_dst, "reduce", "dst")
    me = pg.rank()
    if me == root:
        _writable(a, "reduce", "tensor")
    mop, avg = _red_op(op, a.dtype, "reduce")
    k = pg._start()
    check(pg, "reduce", k, fingerprint("reduce", k, a.dtype, a.shape, op, root))
    wdt = _mpi.reduce_dtype(a.dtype)
    MPI = _mpi.mpi()
    mt = _mpi.mpi_type(wdt)
    if me == root:
        buf, back = _outbuf(a, wdt)
        if back:
            buf[...] = a
        req = pg._comm.Ireduce(MPI.IN_PLACE, [buf, mt], mop, root)
    else:
        buf, back = _inbuf(a, wdt), False
        req = pg._comm.Ireduce([buf, mt], None, mop, root)

    def finish():
        if me == root:
            if avg:
                np.divide(buf, pg.size(), out=buf)
            if back:
                a[...] = buf
            tensor._bump_version()
    return _run(pg, [req], finish, [tensor], "reduce", k, async_op)


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None,
               async_op: bool = False):
    """Fill ``tensor_list[i]`` with rank i's ``tensor``, on every rank.

    >>> dist.all_gather(outs, t)  # doctest: +SKIP
    """
    a = _tensor(tensor, "all_gather")
    outs = _tensor_list(tensor_list, "all_gather", "tensor_list")
    pg = _begin(group, "all_gather")
    if pg is None:
        return None
    n = pg.size()
    if len(outs) != n:
        raise RuntimeError(f"all_gather: tensor_list has {len(outs)} tensors; it needs one per "
                           f"rank of the group ({n})")
    _same(outs, a, "all_gather", "tensor_list", "the input tensor")
    for o in outs:
        _writable(o, "all_gather", "tensor_list")
    k = pg._start()
    check(pg, "all_gather", k, fingerprint("all_gather", k, a.dtype, a.shape))
    recv = np.empty((n,) + a.shape, dtype=a.dtype)
    req = pg._comm.Iallgather(_mpi.byte_buffer(_inbuf(a)), _mpi.byte_buffer(recv))

    def finish():
        for o, r in zip(outs, recv):
            o[...] = r
        _bump(tensor_list)
    return _run(pg, [req], finish, list(tensor_list), "all_gather", k, async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor,
                           group: ProcessGroup | None = None, async_op: bool = False):
    """Gather every rank's ``input_tensor`` into ``output_tensor`` (concatenated or stacked).

    >>> dist.all_gather_into_tensor(out, t)  # doctest: +SKIP
    """
    a = _tensor(input_tensor, "all_gather_into_tensor", "input_tensor")
    o = _tensor(output_tensor, "all_gather_into_tensor", "output_tensor")
    pg = _begin(group, "all_gather_into_tensor")
    if pg is None:
        return None
    n = pg.size()
    if o.dtype != a.dtype:
        raise RuntimeError(f"all_gather_into_tensor: output is {_desc(o.dtype, o.shape)} but "
                           f"input is {_desc(a.dtype, a.shape)}; their dtypes must match")
    if o.size != n * a.size:
        raise ValueError(f"all_gather_into_tensor: output tensor size must be equal to "
                         f"world_size ({n}) times input tensor size ({a.size}), got {o.size}")
    _writable(o, "all_gather_into_tensor", "output_tensor")
    k = pg._start()
    check(pg, "all_gather_into_tensor", k,
          fingerprint("all_gather_into_tensor", k, a.dtype, a.shape))
    buf, back = _outbuf(o)
    req = pg._comm.Iallgather(_mpi.byte_buffer(_inbuf(a)), _mpi.byte_buffer(buf))

    def finish():
        if back:
            o[...] = buf
        output_tensor._bump_version()
    return _run(pg, [req], finish, [output_tensor], "all_gather_into_tensor", k, async_op)


def _reduce_scatter(what: str, out: Tensor, o: np.ndarray, send: np.ndarray, op, pg, k,
                    async_op):
    mop, avg = _red_op(op, o.dtype, what)
    check(pg, what, k, fingerprint(what, k, o.dtype, o.shape, op))
    wdt = _mpi.reduce_dtype(o.dtype)
    send = _inbuf(send, wdt)
    buf, back = _outbuf(o, wdt)
    mt = _mpi.mpi_type(wdt)
    req = pg._comm.Ireduce_scatter_block([send, mt], [buf, mt], mop)

    def finish():
        if avg:
            np.divide(buf, pg.size(), out=buf)
        if back:
            o[...] = buf
        out._bump_version()
    return _run(pg, [req], finish, [out], what, k, async_op)


def reduce_scatter(output: Tensor, input_list: list[Tensor], op=ReduceOp.SUM,
                   group: ProcessGroup | None = None, async_op: bool = False):
    """Reduce ``input_list[i]`` across ranks into rank i's ``output``.

    >>> dist.reduce_scatter(out, [t0, t1])  # doctest: +SKIP
    """
    o = _tensor(output, "reduce_scatter", "output")
    ins = _tensor_list(input_list, "reduce_scatter", "input_list")
    pg = _begin(group, "reduce_scatter")
    if pg is None:
        return None
    if len(ins) != pg.size():
        raise RuntimeError(f"reduce_scatter: input_list has {len(ins)} tensors; it needs one "
                           f"per rank of the group ({pg.size()})")
    _same(ins, o, "reduce_scatter", "input_list", "the output tensor")
    _writable(o, "reduce_scatter", "output")
    _red_op(op, o.dtype, "reduce_scatter")
    k = pg._start()
    send = np.stack(ins) if ins else np.empty((0,) + o.shape, o.dtype)
    return _reduce_scatter("reduce_scatter", output, o, send, op, pg, k, async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op=ReduceOp.SUM,  # noqa: A002
                          group: ProcessGroup | None = None, async_op: bool = False):
    """Reduce ``input`` (one chunk per rank along dim 0) across ranks; rank i gets chunk i.

    >>> dist.reduce_scatter_tensor(out, t)  # doctest: +SKIP
    """
    o = _tensor(output, "reduce_scatter_tensor", "output")
    a = _tensor(input, "reduce_scatter_tensor", "input")
    pg = _begin(group, "reduce_scatter_tensor")
    if pg is None:
        return None
    if a.dtype != o.dtype:
        raise RuntimeError(f"reduce_scatter_tensor: input is {_desc(a.dtype, a.shape)} but "
                           f"output is {_desc(o.dtype, o.shape)}; their dtypes must match")
    if a.size != pg.size() * o.size:
        raise ValueError(f"reduce_scatter_tensor: input tensor size must be equal to world_size "
                         f"({pg.size()}) times output tensor size ({o.size}), got {a.size}")
    _writable(o, "reduce_scatter_tensor", "output")
    _red_op(op, o.dtype, "reduce_scatter_tensor")
    k = pg._start()
    return _reduce_scatter("reduce_scatter_tensor", output, o, a, op, pg, k, async_op)


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int | None = None,
           group: ProcessGroup | None = None, async_op: bool = False,
           group_dst: int | None = None):
    """Collect every rank's ``tensor`` into ``gather_list`` on ``dst``.

    >>> dist.gather(t, outs if rank == 0 else None, dst=0)  # doctest: +SKIP
    """
    a = _tensor(tensor, "gather")
    pg = _begin(group, "gather")
    if pg is None:
        return None
    if dst is None and group_dst is None:
        dst = 0  # torch's default
    root = _root(pg, dst, group_dst, "gather", "dst")
    me, n = pg.rank(), pg.size()
    outs = []
    if me == root:
        if gather_list is None:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        outs = _tensor_list(gather_list, "gather", "gather_list")
        if len(outs) != n:
            raise RuntimeError(f"gather: Incorrect output list size {len(outs)}. Output list "
                               f"size should be {n}, same as size of the process group.")
        _same(outs, a, "gather", "gather_list", "the input tensor")
        for o in outs:
            _writable(o, "gather", "gather_list")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination "
                         "ranks.")
    k = pg._start()
    check(pg, "gather", k, fingerprint("gather", k, a.dtype, a.shape, root=root))
    recv = np.empty((n,) + a.shape, dtype=a.dtype) if me == root else None
    req = pg._comm.Igather(_mpi.byte_buffer(_inbuf(a)),
                           _mpi.byte_buffer(recv) if recv is not None else None, root)

    def finish():
        if me == root:
            for o, r in zip(outs, recv):
                o[...] = r
            _bump(gather_list)
    return _run(pg, [req], finish, list(gather_list or []), "gather", k, async_op)


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int | None = None,
            group: ProcessGroup | None = None, async_op: bool = False,
            group_src: int | None = None):
    """Copy ``scatter_list[i]`` of ``src`` into rank i's ``tensor``.

    >>> dist.scatter(t, chunks if rank == 0 else None, src=0)  # doctest: +SKIP
    """
    a = _tensor(tensor, "scatter")
    pg = _begin(group, "scatter")
    if pg is None:
        return None
    if src is None and group_src is None:
        src = 0  # torch's default
    root = _root(pg, src, group_src, "scatter", "src")
    me, n = pg.rank(), pg.size()
    send = None
    if me == root:
        if scatter_list is None:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        ins = _tensor_list(scatter_list, "scatter", "scatter_list")
        if len(ins) != n:
            raise RuntimeError(f"scatter: Incorrect input list size {len(ins)}. Input list size "
                               f"should be {n}, same as size of the process group.")
        _same(ins, a, "scatter", "scatter_list", "the output tensor")
        send = np.ascontiguousarray(np.stack(ins))
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    _writable(a, "scatter", "tensor")
    k = pg._start()
    check(pg, "scatter", k, fingerprint("scatter", k, a.dtype, a.shape, root=root))
    buf, back = _outbuf(a)
    req = pg._comm.Iscatter(_mpi.byte_buffer(send) if send is not None else None,
                            _mpi.byte_buffer(buf), root)

    def finish():
        if back:
            a[...] = buf
        tensor._bump_version()
    return _run(pg, [req], finish, [tensor], "scatter", k, async_op)


def _alltoallv(what: str, pg, k, dtype, send: np.ndarray, scounts, rbuf: np.ndarray, rcounts,
               finish, outputs, async_op):
    """Exchange variable-sized blocks; the counts are checked across ranks first."""
    n = pg.size()
    check(pg, what, k, fingerprint(what, k, dtype, (), None), fields="dtype")
    if _state.checks and n > 1:
        mine = np.array(list(scounts) + list(rcounts), dtype=np.int64)
        table = np.empty((n, 2 * n), dtype=np.int64)
        req = pg._comm.Iallgather(mine, table)
        pg._wait(req.Test, what, k)
        sent, got = table[:, :n], table[:, n:]
        if not (sent == got.T).all():
            i, j = (int(v[0]) for v in np.nonzero(sent != got.T))
            raise RuntimeError(
                f"{what}: rank {pg._ranks[i]} sends {sent[i, j]} elements to rank "
                f"{pg._ranks[j]}, which expects {got[j, i]} from it.\nWhy: each rank's output "
                "for a peer must have the size of that peer's input for it. Nothing was sent."
            )
    item = dtype.itemsize
    sc = [int(c) * item for c in scounts]
    rc = [int(c) * item for c in rcounts]
    sd = np.concatenate([[0], np.cumsum(sc)[:-1]]).astype(int).tolist()
    rd = np.concatenate([[0], np.cumsum(rc)[:-1]]).astype(int).tolist()
    MPI = _mpi.mpi()
    req = pg._comm.Ialltoallv([send, (sc, sd), MPI.BYTE], [rbuf, (rc, rd), MPI.BYTE])
    return _run(pg, [req], finish, outputs, what, k, async_op)


def all_to_all(output_tensor_list: list[Tensor], input_tensor_list: list[Tensor],
               group: ProcessGroup | None = None, async_op: bool = False):
    """Send ``input_tensor_list[j]`` to rank j; receive rank i's into ``output_tensor_list[i]``.

    >>> dist.all_to_all(outs, ins)  # doctest: +SKIP
    """
    outs = _tensor_list(output_tensor_list, "all_to_all", "output_tensor_list")
    ins = _tensor_list(input_tensor_list, "all_to_all", "input_tensor_list")
    pg = _begin(group, "all_to_all")
    if pg is None:
        return None
    n = pg.size()
    if len(outs) != n or len(ins) != n:
        raise RuntimeError(f"all_to_all: both lists need one tensor per rank of the group ({n}); "
                           f"got {len(outs)} outputs and {len(ins)} inputs")
    dtype = ins[0].dtype if ins else np.dtype(np.float32)
    for name, arrs in (("input_tensor_list", ins), ("output_tensor_list", outs)):
        for i, x in enumerate(arrs):
            if x.dtype != dtype:
                raise RuntimeError(f"all_to_all: {name}[{i}] is {_desc(x.dtype, x.shape)}; all "
                                   f"tensors must be {_desc(dtype, ())[:-2]}")
    for o in outs:
        _writable(o, "all_to_all", "output_tensor_list")
    k = pg._start()
    send = np.concatenate([x.reshape(-1) for x in ins]) if ins else np.empty(0, dtype)
    rbuf = np.empty(sum(o.size for o in outs), dtype=dtype)

    def finish():
        off = 0
        for o in outs:
            o[...] = rbuf[off:off + o.size].reshape(o.shape)
            off += o.size
        _bump(output_tensor_list)
    return _alltoallv("all_to_all", pg, k, dtype, send, [x.size for x in ins], rbuf,
                      [o.size for o in outs], finish, list(output_tensor_list), async_op)


def all_to_all_single(output: Tensor, input: Tensor,  # noqa: A002
                      output_split_sizes: list[int] | None = None,
                      input_split_sizes: list[int] | None = None,
                      group: ProcessGroup | None = None, async_op: bool = False):
    """Split ``input`` along dim 0, send piece j to rank j; concatenate what arrives in ``output``.

    >>> dist.all_to_all_single(out, t)  # doctest: +SKIP
    """
    o = _tensor(output, "all_to_all_single", "output")
    a = _tensor(input, "all_to_all_single", "input")
    pg = _begin(group, "all_to_all_single")
    if pg is None:
        return None
    n = pg.size()
    if a.dtype != o.dtype:
        raise RuntimeError(f"all_to_all_single: input is {_desc(a.dtype, a.shape)} but output is "
                           f"{_desc(o.dtype, o.shape)}; their dtypes must match")

    def splits(arr, sizes, name):
        rows = arr.shape[0] if arr.ndim else 1
        if sizes is None or len(sizes) == 0:
            if rows % n:
                raise ValueError(f"all_to_all_single: {name} has {rows} rows, which cannot be "
                                 f"split equally between {n} ranks; pass {name}_split_sizes")
            return [rows // n] * n
        sizes = [int(s) for s in sizes]
        if len(sizes) != n or sum(sizes) != rows or min(sizes) < 0:
            raise ValueError(f"all_to_all_single: {name}_split_sizes={sizes} must have one entry "
                             f"per rank ({n}) summing to {name}'s {rows} rows")
        return sizes
    ins_rows = splits(a, input_split_sizes, "input")
    out_rows = splits(o, output_split_sizes, "output")
    row_in = a.size // max(a.shape[0], 1) if a.ndim else 1
    row_out = o.size // max(o.shape[0], 1) if o.ndim else 1
    _writable(o, "all_to_all_single", "output")
    k = pg._start()
    buf, back = _outbuf(o)

    def finish():
        if back:
            o[...] = buf
        output._bump_version()
    return _alltoallv("all_to_all_single", pg, k, a.dtype, _inbuf(a),
                      [r * row_in for r in ins_rows], buf, [r * row_out for r in out_rows],
                      finish, [output], async_op)


def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids=None):
    """Wait until every rank of the group has reached this call.

    >>> dist.barrier()  # doctest: +SKIP
    """
    pg = _begin(group, "barrier")
    if pg is None:
        return None
    k = pg._start()
    check(pg, "barrier", k, fingerprint("barrier", k))
    req = pg._comm.Ibarrier()
    return _run(pg, [req], None, [], "barrier", k, async_op)


_MONITOR_TAG = 32000  # above the tags user code can pass to send/recv (checked there)


def monitored_barrier(group: ProcessGroup | None = None,
                      timeout: datetime.timedelta | None = None, wait_all_ranks: bool = False):
    """A barrier whose rank 0 names the ranks that did not arrive within ``timeout``.

    >>> dist.monitored_barrier(timeout=datetime.timedelta(seconds=30))  # doctest: +SKIP
    """
    pg = _begin(group, "monitored_barrier")
    if pg is None:
        return None
    seconds = pg._timeout if timeout is None else timeout.total_seconds()
    me, n = pg.rank(), pg.size()
    MPI = _mpi.mpi()
    k = pg._start()
    token = np.zeros(1, dtype=np.int64)
    if me == 0:
        bufs = {r: np.zeros(1, dtype=np.int64) for r in range(1, n)}
        reqs = {r: pg._hdr.Irecv(bufs[r], r, _MONITOR_TAG) for r in range(1, n)}
        try:
            pg._wait(lambda: all(q.Test() for q in reqs.values()), "monitored_barrier", k,
                     seconds)
        except RuntimeError as e:
            missing = [pg._ranks[r] for r, q in reqs.items() if not q.Test()]
            if not missing:
                raise
            shown = missing if wait_all_ranks else missing[:1]
            raise RuntimeError(
                f"Rank{'s' if len(shown) > 1 else ''} {', '.join(map(str, shown))} failed to "
                f"pass monitoredBarrier in {seconds:g} s (monitored_barrier on rank 0).\nWhy: "
                "those ranks did not reach the barrier: they are still computing, stuck, or "
                "waiting elsewhere.") from e
        sends = [pg._hdr.Isend(token, r, _MONITOR_TAG) for r in range(1, n)]
        pg._wait(lambda: MPI.Request.Testall(sends), "monitored_barrier", k, seconds)
    else:
        sreq = pg._hdr.Isend(token, 0, _MONITOR_TAG)
        rreq = pg._hdr.Irecv(np.zeros(1, dtype=np.int64), 0, _MONITOR_TAG)
        pg._wait(lambda: MPI.Request.Testall([sreq, rreq]), "monitored_barrier", k, seconds)
    return None
