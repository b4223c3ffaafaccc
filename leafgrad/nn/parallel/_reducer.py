"""DistributedDataParallel's gradient reducer: bucketed all-reduce that starts during backward.

The parameters are cut into buckets in reverse order (the order their gradients are usually
ready in), 1 MiB for the first bucket and ``bucket_cap_mb`` for the others, by dtype. Each
bucket is one flat buffer: the gradients scaled by 1/world_size (torch's order of operations)
followed by one "produced a gradient" flag per parameter. A post-accumulate-grad hook copies a
parameter's gradient into its bucket; when a bucket is full it is launched with a non-blocking
``MPI_Iallreduce`` (in bucket order, so every rank posts the same collectives in the same
order), and the rest of the backward pass runs while it travels. A callback queued on the
engine runs when backward ends: it launches any bucket still incomplete (missing gradients as
zeros, flag 0), waits for all of them with the group's deadline, and copies the averages back
into ``.grad``. The summed flags say on how many ranks each parameter got a gradient: fewer
than all, with ``find_unused_parameters=False``, is the classic DDP hang, reported here on
every rank with the parameters' names.
"""

from __future__ import annotations

import time
import weakref

import numpy as np

from ...autograd import engine as _engine
from ...autograd.node import AccumulateGrad
from ...distributed import _mpi, _watchdog
from ...tensor import Tensor, _wrap

FIRST_BUCKET_BYTES = 1024 * 1024  # torch's dist._DEFAULT_FIRST_BUCKET_BYTES

IDLE, PREPARED, FINALIZED = 0, 1, 2


class _Bucket:
    """One flat buffer of gradients (then one flag per parameter) reduced by one Iallreduce."""

    def __init__(self, members: list[int], params: list, dtype: np.dtype) -> None:
        self.members = members  # parameter indices, in the order they sit in the buffer
        self.dtype = _mpi.reduce_dtype(dtype)  # float16 gradients are summed in float32
        self.offsets = []
        off = 0
        for i in members:
            self.offsets.append(off)
            off += params[i]._data.size
        self.numel = off
        self.buf = np.zeros(off + len(members), dtype=self.dtype)
        self.pending = len(members)
        self.req = None

    def nbytes(self) -> int:
        return self.buf.nbytes


def assign_buckets(params: list, first_cap: int, cap: int) -> list[_Bucket]:
    """Cut the parameters, last first, into buckets of at most ~cap bytes per dtype (torch's rule:
    a bucket closes once it reaches its cap; the first one's cap is ``first_cap``)."""
    open_: dict = {}
    done: list[tuple[int, list[int], np.dtype]] = []
    limit = {}
    for i in reversed(range(len(params))):
        dt = params[i]._data.dtype
        members, size = open_.get(dt, ([], 0))
        members.append(i)
        size += params[i]._data.nbytes
        lim = limit.setdefault(dt, first_cap)
        if size >= lim:
            done.append((i, members, dt))
            limit[dt] = cap
            members, size = [], 0
        open_[dt] = (members, size)
    for dt, (members, _) in open_.items():
        if members:
            done.append((members[-1], members, dt))
    # buckets launch in the order their last parameter's gradient is expected (reverse order)
    done.sort(key=lambda d: -d[0])
    return [_Bucket(m, params, dt) for _, m, dt in done]


def reachable_params(outputs) -> set[int]:
    """ids of the leaf tensors the graph of ``outputs`` reaches (find_unused_parameters)."""
    stack, seen, found = [], set(), set()

    def add(o):
        if isinstance(o, Tensor):
            if o.grad_fn is not None:
                stack.append(o.grad_fn)
            elif o._rg:
                found.add(id(o))
        elif isinstance(o, (list, tuple)):
            for v in o:
                add(v)
        elif isinstance(o, dict):
            for v in o.values():
                add(v)
    add(outputs)
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if fn.__class__ is AccumulateGrad:
            found.add(id(fn.variable))
            continue
        for nxt, _ in fn.next_functions:
            if nxt is not None:
                stack.append(nxt)
    return found


def output_tensors(outputs) -> list[Tensor]:
    """The tensors in a module's output (a tensor, or lists, tuples and dicts of them)."""
    found = []
    stack = [outputs]
    while stack:
        o = stack.pop()
        if isinstance(o, Tensor):
            found.append(o)
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
        elif isinstance(o, dict):
            stack.extend(o.values())
    return found


class Reducer:
    """Averages the gradients of ``params`` over the ranks of ``comm`` during backward."""

    def __init__(self, ddp, names: list[str], params: list, comm, uid: str, ranks: list[int],
                 timeout: float, first_cap: int, cap: int) -> None:
        self._ddp = weakref.ref(ddp)  # DDP owns the reducer: no cycle, freed with it
        self.names = names
        self.params = params
        self.comm = comm
        self.uid = uid
        self.members = {g: i for i, g in enumerate(ranks)}
        self.timeout = timeout
        self.world = comm.Get_size()
        self.scale = 1.0 / self.world
        self.buckets = assign_buckets(params, first_cap, cap)
        self.where = {}
        for b, bucket in enumerate(self.buckets):
            for slot, (i, off) in enumerate(zip(bucket.members, bucket.offsets)):
                self.where[i] = (b, off, slot)
        self.index = {id(p): i for i, p in enumerate(params)}
        self.state = IDLE
        self.unused: list[int] = []
        self.unused_set: set[int] = set()
        self.ready = [False] * len(params)
        self.next_launch = 0
        self.queued = False
        self.timing: list | None = None  # a list to append per-iteration times to (benchmarks)
        self._t: dict = {}
        # the parameters outlive a DDP wrapper that is dropped: their hooks must not keep it
        # (and its buffers) alive, nor act for it once it is gone
        ref = weakref.ref(self)

        def hook(p, ref=ref):
            reducer = ref()
            if reducer is not None:
                reducer._hook(p)
        self.handles = [p.register_post_accumulate_grad_hook(hook) for p in params]

    @property
    def ddp(self):
        return self._ddp()

    # -- forward -----------------------------------------------------------------------------
    def prepare(self, outputs, find_unused: bool) -> None:
        """After a forward pass whose backward must synchronise: reset the buckets."""
        self.state = PREPARED
        self.ready = [False] * len(self.params)
        self.next_launch = 0
        self.queued = False
        for b in self.buckets:
            b.pending = len(b.members)
            b.req = None
        self.unused = []
        self.unused_set: set[int] = set()
        if find_unused:
            reached = reachable_params(outputs)
            for i, p in enumerate(self.params):
                if id(p) not in reached:
                    self.unused.append(i)
                    self.unused_set.add(i)
                    self.buckets[self.where[i][0]].pending -= 1
        ref = weakref.ref(self)

        def on_output_grad(grad, ref=ref):
            reducer = ref()
            if reducer is not None:
                reducer._on_output_grad(grad)
        for t in output_tensors(outputs):
            if t._rg and t.grad_fn is not None:
                # the pass may reach no parameter of this rank: still finish it on every rank
                t.register_hook(on_output_grad)
        if self.timing is not None:
            self._t = {"launch": []}

    def _on_output_grad(self, grad):
        # autograd.grad through the outputs (e.g. a gradient penalty) fills no .grad: ignore it
        if self.state == PREPARED and _engine.accumulating():
            self._queue_finalize()
            self._launch_ready()  # buckets of unused parameters only can go now
        return None

    # -- backward ----------------------------------------------------------------------------
    def _queue_finalize(self) -> None:
        if not self.queued:
            self.queued = True
            _engine.queue_callback(self._finalize)

    def _hook(self, p) -> None:
        if self.ddp is None:  # the wrapper is being dropped
            return
        if self.state != PREPARED:
            if self.state == FINALIZED and self.ddp.require_backward_grad_sync:
                name = self.names[self.index[id(p)]]
                raise RuntimeError(
                    f"DistributedDataParallel: parameter {name} got a gradient from a backward "
                    "pass after this iteration's gradients were already averaged over the "
                    "ranks.\nWhy: DDP averages gradients once per forward pass; a second "
                    "backward through the same forward (or one that reaches the parameters "
                    "without going through DDP's forward) would leave gradients that differ "
                    "between ranks. Fix: call the DDP model's forward again before each "
                    "backward, or run that extra backward inside `with ddp_model.no_sync():`."
                )
            return
        self._queue_finalize()
        i = self.index[id(p)]
        if i in self.unused_set:
            return  # not reached from the outputs (counted as unused): it keeps its local grad
        if self.ready[i]:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {self.names[i]} got its gradient twice in one "
                "backward pass (Expected to mark a variable ready only once).\nWhy: DDP sends "
                "each gradient once per backward pass; reentrant backward passes (e.g. "
                "checkpointing with use_reentrant=True) reach parameters more than once."
            )
        self.ready[i] = True
        b, off, slot = self.where[i]
        bucket = self.buckets[b]
        g = p._grad
        n = p._data.size
        np.multiply(g._data.reshape(-1), self.scale, out=bucket.buf[off:off + n],
                    casting="unsafe")
        bucket.buf[bucket.numel + slot] = 1
        bucket.pending -= 1
        if bucket.pending == 0 and b == self.next_launch:
            self._launch_ready()
        else:
            self._progress()

    def _fill_missing(self, bucket: _Bucket, mark_unused: bool) -> None:
        """Gradients that did not arrive: zeros (or the locally accumulated .grad), flag 0."""
        for slot, (i, off) in enumerate(zip(bucket.members, bucket.offsets)):
            if self.ready[i]:
                continue
            n = self.params[i]._data.size
            g = self.params[i]._grad
            view = bucket.buf[off:off + n]
            if mark_unused and g is not None:
                np.multiply(g._data.reshape(-1), self.scale, out=view, casting="unsafe")
            else:
                view[...] = 0
            bucket.buf[bucket.numel + slot] = 0

    def _launch(self, bucket: _Bucket) -> None:
        MPI = _mpi.mpi()
        self.ddp._count()
        if self.timing is not None:
            self._t["launch"].append(time.perf_counter())
        bucket.req = self.comm.Iallreduce(MPI.IN_PLACE, [bucket.buf, _mpi.mpi_type(bucket.dtype)],
                                          MPI.SUM)

    def _launch_ready(self) -> None:
        """Launch, in bucket order, every bucket whose gradients are all in."""
        while self.next_launch < len(self.buckets):
            bucket = self.buckets[self.next_launch]
            if bucket.pending != 0:
                break
            self._fill_missing(bucket, True)  # only parameters known to be unused remain
            self._launch(bucket)
            self.next_launch += 1
        self._progress()

    def _progress(self) -> None:
        """Let MPI move the buckets in flight (it progresses only when called)."""
        for b in self.buckets[:self.next_launch]:
            if b.req is not None and b.req.Test():
                b.req = None

    def _finalize(self) -> None:
        """End of backward: launch what is left, wait for every bucket, write the averages."""
        t0 = time.perf_counter()
        for bucket in self.buckets[self.next_launch:]:
            self._fill_missing(bucket, bool(self.unused))
            self._launch(bucket)
        self.next_launch = len(self.buckets)
        reqs = [b.req for b in self.buckets if b.req is not None]
        MPI = _mpi.mpi()
        t1 = time.perf_counter()
        _watchdog.control().wait(lambda: MPI.Request.Testall(reqs), self.timeout,
                                 "DistributedDataParallel's gradient all-reduce", self.uid,
                                 self.ddp._calls, self.members)
        t2 = time.perf_counter()
        for b in self.buckets:
            b.req = None
        self.state = FINALIZED
        find_unused = self.ddp.find_unused_parameters
        missing, nowhere = [], []
        for i in range(len(self.params)):
            b, off, slot = self.where[i]
            count = int(round(float(self.buckets[b].buf[self.buckets[b].numel + slot])))
            if count < self.world and not find_unused:
                missing.append((i, count))
            elif count == 0:
                nowhere.append(i)
        if missing:
            self._raise_missing(missing)
        skip = set(nowhere)
        for i, p in enumerate(self.params):
            if i in skip:
                continue  # no rank produced a gradient: .grad stays as it was (torch)
            b, off, _ = self.where[i]
            avg = self.buckets[b].buf[off:off + p._data.size].reshape(p._data.shape)
            g = p._grad
            if g is None:
                p._grad = _wrap(avg.astype(p._data.dtype))
            else:
                g._data[...] = avg
                g._bump_version()
        if self.timing is not None:
            self._t.update(finalize=t0, wait=t1, waited=t2, end=time.perf_counter())
            self.timing.append(self._t)

    def _raise_missing(self, missing: list) -> None:
        here = [self.names[i] for i, _ in missing if not self.ready[i]]
        listed = ", ".join(f"{self.names[i]} (a gradient on {c} of {self.world} ranks)"
                           for i, c in missing)
        mine = (f" Missing on this rank (rank {_watchdog.control().rank}): {', '.join(here)}."
                if here else "")
        raise RuntimeError(
            f"DistributedDataParallel: some parameters did not get a gradient on every rank in "
            f"this backward pass: {listed}.{mine}\nWhy: with find_unused_parameters=False every "
            "parameter must take part in computing the loss on every rank, because DDP averages "
            "each gradient over all ranks; PyTorch would wait for the missing gradients forever "
            "or stop at the next iteration. The gradients were left as they were. Fix: pass "
            "find_unused_parameters=True to DistributedDataParallel, or make the loss use "
            "these parameters (or set requires_grad=False on the ones you do not train)."
        )

    def remove(self) -> None:
        """Unhook from the parameters."""
        for h in self.handles:
            h.remove()
        self.handles = []

    def __del__(self) -> None:
        self.remove()
