"""Run under mpirun by tests/test_distributed.py: every collective against NumPy ground truth.

Every rank can compute every rank's input (seeded by rank), so each checks its own results
against NumPy and prints one line per failed check; the exit status is 1 if any failed. The
inputs are small multiples of 1/4, so sums and products are exact in any order and the
comparisons are exact (float16 reduces in float32, rounded once: its ground truth does too).
"""

from __future__ import annotations

import datetime
import os
import sys

import numpy as np

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


class Checks:
    def __init__(self, rank: int) -> None:
        self.rank, self.n, self.failed = rank, 0, []

    def ok(self, cond: bool, what: str) -> None:
        self.n += 1
        if not cond:
            self.failed.append(what)

    def eq(self, t, want: np.ndarray, what: str) -> None:
        got = t.numpy() if hasattr(t, "numpy") else np.asarray(t)
        good = got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want)
        self.ok(good, f"{what}: got {got.dtype}{got.shape} {got.ravel()[:6]} want "
                      f"{want.dtype}{want.shape} {want.ravel()[:6]}")

    def raises(self, fn, exc, text: str, what: str):
        try:
            fn()
        except exc as e:
            self.ok(text in str(e), f"{what}: message {str(e)[:300]!r} lacks {text!r}")
            return e
        except Exception as e:  # noqa: BLE001 - reported as a failed check
            self.ok(False, f"{what}: raised {type(e).__name__}: {str(e)[:300]}")
            return e
        self.ok(False, f"{what}: did not raise {exc.__name__}")
        return None


def data(q: int, dtype: str, shape, salt: int) -> np.ndarray:
    """Rank q's input: small values whose sums and products are exact."""
    rng = np.random.default_rng(1000 * salt + q)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype == "uint8":
        return rng.integers(0, 4, shape).astype(np.uint8)
    if dtype.startswith("int"):
        return rng.integers(-3, 4, shape).astype(dtype)
    return (rng.integers(-8, 9, shape) / 4).astype(dtype)


def truth(stack: np.ndarray, op: str, n: int) -> np.ndarray:
    dt = stack.dtype
    if dt == np.bool_:
        f = {"SUM": np.any, "MAX": np.any, "BOR": np.any, "PRODUCT": np.all, "MIN": np.all,
             "BAND": np.all}
        if op == "BXOR":
            return np.logical_xor.reduce(stack, axis=0)
        return f[op](stack, axis=0)
    work = stack.astype(np.float32) if dt == np.float16 else stack
    out = {"SUM": lambda: work.sum(0, dtype=work.dtype), "AVG": lambda: work.sum(0) / n,
           "PRODUCT": lambda: work.prod(0, dtype=work.dtype), "MIN": lambda: work.min(0),
           "MAX": lambda: work.max(0), "BAND": lambda: np.bitwise_and.reduce(work, 0),
           "BOR": lambda: np.bitwise_or.reduce(work, 0),
           "BXOR": lambda: np.bitwise_xor.reduce(work, 0)}[op]()
    return np.asarray(out).astype(dt)


class Point:  # a class of the script's own, for the object-collective allow-list check
    def __init__(self, x: int) -> None:
        self.x = x


def main() -> int:
    import leafgrad as torch
    import leafgrad.distributed as dist
    from leafgrad.distributed import ReduceOp

    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=120))
    r, n = dist.get_rank(), dist.get_world_size()
    c = Checks(r)
    c.ok(dist.is_initialized() and dist.get_backend() == "mpi", "initialized, backend mpi")
    launched = "OMPI_COMM_WORLD_RANK" in os.environ or "PMI_RANK" in os.environ
    c.ok(not launched or (os.environ.get("RANK") == str(r) and
                          os.environ.get("WORLD_SIZE") == str(n)),
         "torchrun's RANK/WORLD_SIZE set from the launcher")
    t = lambda a: torch.from_numpy(np.array(a))  # noqa: E731

    def stack(dtype, shape, salt):
        return np.stack([data(q, dtype, shape, salt) for q in range(n)])

    # all_reduce / reduce: every op and dtype (and a non-contiguous tensor)
    ops = ["SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"]
    for i, dt in enumerate(DTYPES):
        for j, op in enumerate(ops):
            salt = 100 + 10 * i + j
            x = t(data(r, dt, (3, 4), salt))
            kind = np.dtype(dt).kind
            red = getattr(ReduceOp, op)
            if op == "AVG" and kind != "f":
                c.raises(lambda x=x, red=red: dist.all_reduce(x, op=red), RuntimeError,
                         "ReduceOp.AVG",
                         f"all_reduce AVG {dt} refused")
                continue
            if op in ("BAND", "BOR", "BXOR") and kind == "f":
                c.raises(lambda x=x, red=red: dist.all_reduce(x, op=red), RuntimeError,
                         "non-integral",
                         f"all_reduce {op} {dt} refused")
                continue
            dist.all_reduce(x, op=red)
            c.eq(x, truth(stack(dt, (3, 4), salt), op, n), f"all_reduce {op} {dt}")
            if op in ("SUM", "MAX"):
                y = t(data(r, dt, (4, 3), salt)).t()  # a transposed view: written through
                dist.all_reduce(y, op=red)
                c.eq(y, truth(stack(dt, (4, 3), salt), op, n).T, f"all_reduce {op} {dt} "
                     "non-contiguous")
                z = t(data(r, dt, (5,), salt + 7))
                before = z.numpy().copy()
                dist.reduce(z, dst=n - 1, op=red)
                want = truth(stack(dt, (5,), salt + 7), op, n) if r == n - 1 else before
                c.eq(z, want, f"reduce {op} {dt} to rank {n - 1}")
        # broadcast, all_gather(_into_tensor), gather, scatter, reduce_scatter(_tensor)
        salt = 500 + i
        b = t(data(r, dt, (2, 3), salt)).t()
        dist.broadcast(b, src=n - 1)
        c.eq(b, data(n - 1, dt, (2, 3), salt).T, f"broadcast {dt}")
        outs = [t(np.zeros(4, dt)) for _ in range(n)]
        dist.all_gather(outs, t(data(r, dt, (4,), salt)))
        for q in range(n):
            c.eq(outs[q], data(q, dt, (4,), salt), f"all_gather {dt} from rank {q}")
        cat = t(np.zeros((2 * n, 3), dt))
        dist.all_gather_into_tensor(cat, t(data(r, dt, (2, 3), salt)))
        c.eq(cat, np.concatenate([data(q, dt, (2, 3), salt) for q in range(n)]),
             f"all_gather_into_tensor concatenated {dt}")
        st = t(np.zeros((n, 2, 3), dt))
        dist.all_gather_into_tensor(st, t(data(r, dt, (2, 3), salt)))
        c.eq(st, stack(dt, (2, 3), salt), f"all_gather_into_tensor stacked {dt}")
        g = [t(np.zeros(3, dt)) for _ in range(n)] if r == 0 else None
        dist.gather(t(data(r, dt, (3,), salt)), g, dst=0)
        if r == 0:
            for q in range(n):
                c.eq(g[q], data(q, dt, (3,), salt), f"gather {dt} from rank {q}")
        sc = t(np.zeros(3, dt))
        chunks = [t(data(100 + q, dt, (3,), salt)) for q in range(n)] if r == n - 1 else None
        dist.scatter(sc, chunks, src=n - 1)
        c.eq(sc, data(100 + r, dt, (3,), salt), f"scatter {dt}")
        if dt != "bool":
            for op in ("SUM", "MAX"):
                red = getattr(ReduceOp, op)
                ins = [t(data(r, dt, (2,), salt + 10 * q)) for q in range(n)]
                out = t(np.zeros(2, dt))
                dist.reduce_scatter(out, ins, op=red)
                want = truth(np.stack([data(q, dt, (2,), salt + 10 * r) for q in range(n)]),
                             op, n)
                c.eq(out, want, f"reduce_scatter {op} {dt}")
                big = t(data(r, dt, (n, 2), salt))
                out = t(np.zeros(2, dt))
                dist.reduce_scatter_tensor(out, big, op=red)
                c.eq(out, truth(stack(dt, (n, 2), salt), op, n)[r],
                     f"reduce_scatter_tensor {op} {dt}")
        # all_to_all: rank i sends i + j + 1 elements to rank j
        ins = [t(np.full(r + q + 1, 10 * r + q).astype(dt)) for q in range(n)]
        outs = [t(np.zeros(q + r + 1, dt)) for q in range(n)]
        dist.all_to_all(outs, ins)
        for q in range(n):
            c.eq(outs[q], np.full(q + r + 1, 10 * q + r).astype(dt), f"all_to_all {dt} from {q}")
        rows = [q + 1 for q in range(n)]  # uneven splits: rank r sends q+1 rows to rank q
        inp = t(np.repeat(np.arange(n) + 10 * r, rows).astype(dt).reshape(-1, 1))
        out = t(np.zeros((n * (r + 1), 1), dt))
        dist.all_to_all_single(out, inp, output_split_sizes=[r + 1] * n,
                               input_split_sizes=rows)
        want = np.concatenate([np.full(r + 1, r + 10 * q) for q in range(n)]).astype(dt)
        c.eq(out, want.reshape(-1, 1), f"all_to_all_single uneven {dt}")

    # async: Work.wait / is_completed / result
    x = t(np.ones(4, np.float32) * (r + 1))
    w = dist.all_reduce(x, async_op=True)
    c.ok(w.wait() is True and w.is_completed(), "async all_reduce: wait, is_completed")
    c.eq(x, np.full(4, n * (n + 1) / 2, np.float32), "async all_reduce result")
    c.ok(w.result()[0] is x, "Work.result() holds the tensor")
    c.ok(dist.barrier() is None, "barrier")
    c.ok(dist.barrier(async_op=True).wait(), "async barrier")

    # point-to-point: a ring, tags, any source, batch_isend_irecv
    if n > 1:
        nxt, prv = (r + 1) % n, (r - 1) % n
        send_w = dist.isend(t(np.full(3, r, np.int64)), dst=nxt, tag=7)
        got = t(np.zeros(3, np.int64))
        sender = dist.irecv(got, src=prv, tag=7)
        sender.wait()
        send_w.wait()
        c.eq(got, np.full(3, prv, np.int64), "isend/irecv ring")
        if r == 0:
            for _ in range(1, n):
                buf = t(np.zeros(2, np.float64))
                src = dist.recv(buf, tag=5)  # any source
                c.eq(buf, np.full(2, src, np.float64), f"recv from any source ({src})")
        else:
            dist.send(t(np.full(2, r, np.float64)), dst=0, tag=5)
        ops = [dist.P2POp(dist.isend, t(np.full(2, r, np.int32)), nxt),
               dist.P2POp(dist.irecv, t(np.zeros(2, np.int32)), prv)]
        for wk in dist.batch_isend_irecv(ops):
            wk.wait()
        c.eq(ops[1].tensor, np.full(2, prv, np.int32), "batch_isend_irecv ring")
        # a receive into a tensor of another shape: reported, not garbage
        if r == 0:
            dist.send(t(np.ones(5, np.float32)), dst=1, tag=3)
        elif r == 1:
            c.raises(lambda: dist.recv(t(np.zeros(4, np.float32)), src=0, tag=3),
                     RuntimeError, "rank 0 sent float32[5]", "recv of a mismatched tensor")
        c.raises(lambda: dist.send(t(np.ones(1)), dst=r), ValueError,
                 "destination rank should not be the same", "send to self")

    # object collectives, with tensors inside; a class of one's own needs the allow-list
    objs = [{"rank": r, "w": torch.ones(2) * r, "name": "x"}, [1, 2.5, None]] if r == 0 \
        else [None, None]
    dist.broadcast_object_list(objs, src=0)
    c.ok(objs[0]["rank"] == 0 and objs[0]["w"].tolist() == [0.0, 0.0] and
         objs[1] == [1, 2.5, None], "broadcast_object_list")
    gathered = [None] * n
    dist.all_gather_object(gathered, (r, torch.tensor([r])))
    c.ok([g[0] for g in gathered] == list(range(n)) and
         [g[1].item() for g in gathered] == list(range(n)), "all_gather_object")
    go = [None] * n if r == 0 else None
    dist.gather_object({"r": r}, go, dst=0)
    if r == 0:
        c.ok(go == [{"r": q} for q in range(n)], "gather_object")
    so = [None]
    dist.scatter_object_list(so, [q * 10 for q in range(n)] if r == 0 else None, src=0)
    c.ok(so[0] == r * 10, "scatter_object_list")
    import pickle
    c.raises(lambda: dist.broadcast_object_list([Point(1) if r == 0 else None], src=0),
             pickle.UnpicklingError, "weights_only", "a class of one's own is refused (all ranks)")
    torch.serialization.add_safe_globals([Point])
    box = [Point(5) if r == 0 else None]
    dist.broadcast_object_list(box, src=0)
    c.ok(isinstance(box[0], Point) and box[0].x == 5, "allow-listed class goes through")

    # mismatches across ranks: reported on every rank; the group stays usable
    if n > 1:
        c.raises(lambda: dist.all_reduce(t(np.ones(2 + r, np.float32))), RuntimeError,
                 "float32[2]", "all_reduce of different shapes")
        c.raises(lambda: dist.all_reduce(t(np.ones(2, np.float32 if r else np.float64))),
                 RuntimeError, "float64[2]", "all_reduce of different dtypes")
        c.raises(lambda: dist.broadcast(t(np.ones(2)), src=0) if r == 0 else
                 dist.all_reduce(t(np.ones(2))), RuntimeError,
                 "Detected mismatch between collectives", "different collectives")
        c.raises(lambda: dist.broadcast(t(np.ones(2)), src=r), RuntimeError, "root=",
                 "broadcast with different roots")
        x = t(np.ones(2, np.float32))
        dist.all_reduce(x)
        c.eq(x, np.full(2, n, np.float32), "group usable after a mismatch")
    # local argument errors (nothing is sent, so no rank waits)
    c.raises(lambda: dist.broadcast(t(np.ones(2)), src=n), RuntimeError, "invalid root rank",
             "broadcast from a rank outside the world")
    c.raises(lambda: dist.all_reduce([1, 2]), TypeError, "Expected parameter `tensor`",
             "all_reduce of a list")
    c.raises(lambda: dist.all_reduce(torch.ones(1).expand(3)), RuntimeError,
             "cannot be written in place", "all_reduce into an expanded tensor")
    c.raises(lambda: dist.all_reduce(t(np.ones(2)), op=ReduceOp.PREMUL_SUM), RuntimeError,
             "not provided", "PREMUL_SUM")
    c.raises(lambda: dist.all_gather([t(np.ones(2))] * (n + 1), t(np.ones(2))), RuntimeError,
             "one per rank", "all_gather with a wrong list length")

    # subgroups: the even ranks
    evens = list(range(0, n, 2))
    grp = dist.new_group(evens)
    if r in evens:
        x = t(np.full(2, r, np.int64))
        dist.all_reduce(x, group=grp)
        c.eq(x, np.full(2, sum(evens), np.int64), "all_reduce in new_group")
        c.ok(dist.get_rank(grp) == evens.index(r) and dist.get_world_size(grp) == len(evens)
             and dist.get_process_group_ranks(grp) == evens, "new_group ranks")
        b = t(np.full(1, r, np.int64))
        dist.broadcast(b, src=evens[-1], group=grp)
        c.eq(b, np.full(1, evens[-1], np.int64), "broadcast in new_group from a global rank")
    else:
        c.ok(grp == dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(grp) == -1,
             "non-member gets NON_GROUP_MEMBER")
        import warnings
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            c.ok(dist.all_reduce(t(np.ones(1)), group=grp) is None and
                 any("does not belong" in str(w.message) for w in ws),
                 "collective on a group one is not in: warning, no-op")
    dist.monitored_barrier(timeout=datetime.timedelta(seconds=60))
    dist.destroy_process_group()
    c.ok(not dist.is_initialized(), "destroyed")
    for f in c.failed:
        print(f"rank {r} FAILED: {f}", flush=True)
    print(f"rank {r}: {c.n} checks, {len(c.failed)} failed", flush=True)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
