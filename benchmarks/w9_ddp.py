"""W9: DistributedDataParallel throughput on the W2 MLP (784-256-256-10), 1 process vs 2 ranks.

The step is W2's (forward, cross-entropy, backward, ``p.sub_(p.grad, alpha=lr)`` under
no_grad), with a larger batch (256 per rank by default instead of 64).

    python benchmarks/w9_ddp.py                  # --batch 256 --steps 30 --rounds 3
    python benchmarks/w9_ddp.py --bucket-cap-mb 25    # torch's default buckets (one bucket here)

Each contender is a separate run: one process training the MLP on its own (no DDP, no MPI),
one rank under mpirun with DDP (a world of 1: DDP's own cost), and 2 ranks under mpirun, each
with the same per-rank batch, wrapped in DistributedDataParallel (weak scaling: 2 ranks process
twice the samples per step). Every process uses one BLAS thread. Step times are medians over
the steps (each DDP step ends synchronised by its all-reduce), so that steps stalled by other
load do not count. The runs alternate for ``--rounds`` rounds so that machine noise hits all
alike; medians are reported.
Printed: samples/s, the scaling factor (2-rank samples/s over 1-process samples/s), and the
overlap of communication with backward:

- ``all-reduce alone``: the same buckets all-reduced back to back with nothing else running
  (both ranks start together), per step: the cost if nothing overlapped;
- ``exposed wait``: the time backward's end spends waiting for the all-reduces to finish;
- ``hidden share`` = 1 - exposed wait / all-reduce alone: the part of the all-reduce that ran
  while backward was still computing;
- ``in flight during backward``: from the first bucket's launch to the end of backward.

With ``--bucket-cap-mb 0.25`` (the default here) the MLP's gradients make two buckets: fc3+fc2
(273 KB) launched while fc1's weight gradient is being computed, and fc1 (804 KB), complete only
at the end of backward, so at most about a quarter of the bytes can overlap on this model.
With torch's default caps (25 MB, 1 MB for the first bucket) everything is one bucket.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = (784, 256, 256, 10)


def worker(batch: int, steps: int, cap: float, ddp: bool) -> dict:
    """Train ``steps`` steps; rank 0 returns its figures."""
    import numpy as np

    import leafgrad as torch
    import leafgrad.nn as nn
    import leafgrad.nn.functional as F

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(SIZES[0], SIZES[1])
            self.fc2 = nn.Linear(SIZES[1], SIZES[2])
            self.fc3 = nn.Linear(SIZES[2], SIZES[3])

        def forward(self, x):
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    rank, world = 0, 1
    torch.manual_seed(0)
    model = MLP()
    if ddp:
        import leafgrad.distributed as dist
        from leafgrad.nn.parallel import DistributedDataParallel as DDP

        dist.init_process_group("mpi")
        rank, world = dist.get_rank(), dist.get_world_size()
        model = DDP(model, bucket_cap_mb=cap)
        model.reducer.timing = []
    rng = np.random.default_rng(rank)
    x = torch.tensor(rng.standard_normal((batch, SIZES[0])).astype(np.float32))
    y = torch.tensor(rng.integers(0, SIZES[-1], batch))
    params = list(model.parameters())
    bwd = []

    def step():  # W2's step: forward, backward, SGD update in place
        for p in params:
            p.grad = None
        loss = F.cross_entropy(model(x), y)
        t0 = time.perf_counter()
        loss.backward()
        bwd.append((t0, time.perf_counter()))
        with torch.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=0.01)

    for _ in range(5):
        step()
    if ddp:
        dist.barrier()
        model.reducer.timing.clear()
    bwd.clear()
    times, cpu = [], []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.thread_time()
        step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    step_s = statistics.median(times)  # medians: a loaded machine stalls some steps for long
    out = {"world": world, "batch": batch, "step_s": step_s, "cpu_s": statistics.median(cpu),
           "samples_per_s": world * batch / step_s,
           "backward_s": statistics.median(b - a for a, b in bwd)}
    if ddp:
        red = model.reducer
        tim = red.timing
        out["buckets"] = [int(b.nbytes()) for b in red.buckets]
        out["exposed_wait_s"] = statistics.median(t["waited"] - t["wait"] for t in tim)
        out["in_flight_s"] = statistics.median(
            max(0.0, t["finalize"] - t["launch"][0]) if t["launch"] else 0.0 for t in tim)
        out["launched_in_backward"] = statistics.median(
            sum(1 for s in t["launch"] if s < t["finalize"]) for t in tim)
        out["all_reduce_alone_s"] = _all_reduce_alone(red, steps)
        out["checks"] = _check_cost()
        dist.destroy_process_group()
    return out if rank == 0 else {}


def _all_reduce_alone(red, reps: int) -> float:
    """Seconds per step to all-reduce the DDP buckets with nothing else running."""
    import leafgrad.distributed as dist
    from leafgrad.distributed import _mpi, _watchdog

    MPI = _mpi.mpi()
    ctl = _watchdog.control()
    times = []
    for _ in range(reps):
        dist.barrier()
        t0 = time.perf_counter()
        reqs = [red.comm.Iallreduce(MPI.IN_PLACE, [b.buf, _mpi.mpi_type(b.dtype)], MPI.SUM)
                for b in red.buckets]
        ctl.wait(lambda reqs=reqs: MPI.Request.Testall(reqs), 600, "benchmark all-reduce")
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _check_cost(reps: int = 15, inner: int = 20) -> dict:
    """Seconds per dist.all_reduce with and without the cross-rank fingerprint check,
    interleaved (both ranks switch together), for a tiny and a 1 MB tensor."""
    import leafgrad as torch
    import leafgrad.distributed as dist
    from leafgrad.distributed import c10d

    out = {}
    for numel in (4, 262144):
        t = torch.ones(numel)
        samples = {True: [], False: []}
        for _ in range(reps):
            for on in (True, False):
                c10d._state.checks = on
                dist.barrier()
                t0 = time.perf_counter()
                for _ in range(inner):
                    dist.all_reduce(t)
                samples[on].append((time.perf_counter() - t0) / inner)
        c10d._state.checks = True
        out[str(numel)] = {"on": statistics.median(samples[True]),
                           "off": statistics.median(samples[False])}
    return out


def _run(cmd: list[str]) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[v] = "1"
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if os.geteuid() == 0:
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
    for line in out.stdout.splitlines():
        if line.startswith("W9 "):
            return json.loads(line[3:])
    raise RuntimeError(f"{cmd} gave no result:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")


def main() -> None:
    p = argparse.ArgumentParser(description="W9: DDP throughput, 1 process vs N ranks")
    p.add_argument("--batch", type=int, default=256, help="samples per rank per step")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--bucket-cap-mb", type=float, default=0.25)
    p.add_argument("--worker", choices=("single", "ddp"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        res = worker(a.batch, a.steps, a.bucket_cap_mb, a.worker == "ddp")
        if res:
            print("W9 " + json.dumps(res), flush=True)
        return
    from leafgrad.distributed.run import find_mpirun

    me = os.path.abspath(__file__)
    args = ["--batch", str(a.batch), "--steps", str(a.steps), "--bucket-cap-mb",
            str(a.bucket_cap_mb)]
    single = [sys.executable, me, "--worker", "single", *args]
    multi = [find_mpirun(), "-n", str(a.nproc), sys.executable, me, "--worker", "ddp", *args]
    one_ddp = [find_mpirun(), "-n", "1", sys.executable, me, "--worker", "ddp", *args]
    ones, ddps, ddp1 = [], [], []
    for _ in range(a.rounds):
        ones.append(_run(single))
        ddps.append(_run(multi))
        ddp1.append(_run(one_ddp))

    def med(rows, key):
        return statistics.median(r[key] for r in rows)

    s1, s2 = med(ones, "samples_per_s"), med(ddps, "samples_per_s")
    alone, exposed = med(ddps, "all_reduce_alone_s"), med(ddps, "exposed_wait_s")
    hidden = max(0.0, min(1.0, 1 - exposed / alone)) if alone > 0 else 0.0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"W9: W2 MLP {'-'.join(map(str, SIZES))}, float32, W2's SGD step, "
          f"batch {a.batch} per rank, "
          f"{a.steps} steps x {a.rounds} rounds (medians); one BLAS thread per process; "
          f"{os.cpu_count()} cores, load average {load:.1f}")
    print(f"  1 process (no DDP)      {s1:10.0f} samples/s   step "
          f"{1e3 * med(ones, 'step_s'):7.2f} ms   backward {1e3 * med(ones, 'backward_s'):6.2f} ms")
    print(f"  1 rank (DDP, world 1)   {med(ddp1, 'samples_per_s'):10.0f} samples/s   step "
          f"{1e3 * med(ddp1, 'step_s'):7.2f} ms   backward "
          f"{1e3 * med(ddp1, 'backward_s'):6.2f} ms   (DDP's own cost: hooks, bucket copies)")
    print(f"  {a.nproc} ranks (DDP)           {s2:10.0f} samples/s   step "
          f"{1e3 * med(ddps, 'step_s'):7.2f} ms   backward {1e3 * med(ddps, 'backward_s'):6.2f} ms")
    print(f"  scaling {a.nproc} ranks / 1 process: {s2 / s1:.2f}x (wall time)")
    c1, c2, cd1 = med(ones, "cpu_s"), med(ddps, "cpu_s"), med(ddp1, "cpu_s")
    print(f"  CPU time per step (main thread): 1 process {1e3 * c1:.2f} ms, DDP world 1 "
          f"{1e3 * cd1:.2f} ms, DDP rank 0 of {a.nproc} {1e3 * c2:.2f} ms; with a core per "
          f"rank and free communication the scaling would be {a.nproc * c1 / c2:.2f}x")
    print(f"  buckets (bytes, launch order): {ddps[0]['buckets']}, bucket_cap_mb={a.bucket_cap_mb}")
    print(f"  all-reduce alone {1e3 * alone:.2f} ms/step, exposed wait {1e3 * exposed:.2f} ms/step,"
          f" hidden share {100 * hidden:.0f}%, in flight during backward "
          f"{1e3 * med(ddps, 'in_flight_s'):.2f} ms")
    for numel, label in (("4", "16 B"), ("262144", "1 MB")):
        on = statistics.median(r["checks"][numel]["on"] for r in ddps)
        off = statistics.median(r["checks"][numel]["off"] for r in ddps)
        print(f"  dist.all_reduce of {label}: {1e6 * on:8.1f} µs with the fingerprint check, "
              f"{1e6 * off:8.1f} µs without (LEAFGRAD_DISTRIBUTED_CHECKS=0): "
              f"+{1e6 * (on - off):.1f} µs")


if __name__ == "__main__":
    main()
