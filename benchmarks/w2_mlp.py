"""W2: an MLP training step: 784-256-256-10, ReLU, cross-entropy, batch 64, float32,
forward + backward + SGD step (a manual no_grad ``p.sub_(p.grad, alpha=lr)`` until optim lands),
written with nn.Module on both sides. Also peak memory of a few steps, each library alone in a
subprocess (tracemalloc for Python/NumPy allocations, ru_maxrss for the whole process)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# harness first: it pins OpenBLAS to one thread, which only works before NumPy loads
from harness import measure, measure_cpu, report  # noqa: E402, I001
import numpy as np  # noqa: E402

BATCH, SIZES, LR = 64, (784, 256, 256, 10), 0.01


def make_step(lib, seed: int = 0):
    """(step, model) for a torch-like ``lib``: the script a PyTorch user writes."""
    nn = lib.nn
    F = lib.nn.functional

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(SIZES[0], SIZES[1])
            self.fc2 = nn.Linear(SIZES[1], SIZES[2])
            self.fc3 = nn.Linear(SIZES[2], SIZES[3])

        def forward(self, x):
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    lib.manual_seed(seed)
    model = MLP()
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32))
    y = lib.tensor(rng.integers(0, SIZES[-1], BATCH))
    params = list(model.parameters())

    def step():
        for p in params:
            p.grad = None
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        with lib.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=LR)
        return loss

    return step, model


def numpy_step(seed: int = 0):
    """The same step written by hand in NumPy (the floor for a Python engine)."""
    import leafgrad

    _, model = make_step(leafgrad, seed)
    ws = [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy())
          for m in (model.fc1, model.fc2, model.fc3)]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    rows = np.arange(BATCH)

    def step():
        acts = [x]
        h = x
        for i, (w, b) in enumerate(ws):
            h = h @ w.T
            h += b
            if i < 2:
                np.maximum(h, 0, out=h)
            acts.append(h)
        z = h - h.max(1, keepdims=True)
        e = np.exp(z)
        s = e.sum(1, keepdims=True)
        loss = np.log(s[:, 0]).mean() - z[rows, y].mean()
        g = e / s
        g[rows, y] -= 1
        g /= BATCH
        for i in (2, 1, 0):
            w, b = ws[i]
            gw = g.T @ acts[i]
            gb = g.sum(0)
            if i:
                g = g @ w
                g *= acts[i] > 0
            w -= LR * gw
            b -= LR * gb
        return loss

    return step


def peak_memory(lib_name: str, steps: int = 20) -> dict:
    """Run ``steps`` steps of one library in a fresh subprocess and report its memory: the peak
    RSS the steps add over the process after model creation and one warm-up step (Linux
    ``VmHWM`` reset through ``/proc/self/clear_refs``), the process's peak RSS, and (leafgrad:
    NumPy reports its buffers to it) the tracemalloc peak."""
    code = f"""
import json, sys, tracemalloc
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
import w2_mlp
import {lib_name} as lib
if {lib_name!r} == "torch":
    lib.set_num_threads(1)

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])

step, _ = w2_mlp.make_step(lib)
step()
base = status("VmRSS:")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak-RSS counter to the current RSS
tracemalloc.start()
for _ in range({steps}):
    step()
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({{"added_peak_kib": status("VmHWM:") - base, "rss_kib": base,
                  "tracemalloc_peak_kib": peak / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def phases(lib, repeats: int) -> dict[str, float]:
    """Median CPU microseconds of the forward, the backward and the update of one step."""
    import statistics
    import time

    _, model = make_step(lib)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32))
    y = lib.tensor(rng.integers(0, SIZES[-1], BATCH))
    params = list(model.parameters())
    acc: dict[str, list[float]] = {"forward": [], "backward": [], "update": []}
    for _ in range(repeats):
        for p in params:
            p.grad = None
        t0 = time.process_time()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        t1 = time.process_time()
        loss.backward()
        t2 = time.process_time()
        with lib.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=LR)
        t3 = time.process_time()
        acc["forward"].append(t1 - t0)
        acc["backward"].append(t2 - t1)
        acc["update"].append(t3 - t2)
    return {k: statistics.median(v) * 1e6 for k, v in acc.items()}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=40)
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--no-memory", action="store_true")
    args = p.parse_args(argv)
    import leafgrad

    lstep, _ = make_step(leafgrad)
    contenders = {"leafgrad": lstep}
    if not args.no_torch:
        import torch

        tstep, _ = make_step(torch)
        n_default = torch.get_num_threads()

        def torch_1thread():
            torch.set_num_threads(1)
            try:
                return tstep()
            finally:
                torch.set_num_threads(n_default)

        contenders["torch (1 thread)"] = torch_1thread
        contenders[f"torch ({n_default} threads)"] = tstep
        # correctness first: both start from the same weights and take the same steps
        check_l, _ = make_step(leafgrad, seed=1)
        check_t, _ = make_step(torch, seed=1)
        for _ in range(3):
            a, b = check_l().item(), check_t().item()
            assert abs(a - b) < 1e-4 * abs(b), (a, b)
    contenders["numpy by hand"] = numpy_step()
    base = "torch (1 thread)" if not args.no_torch else None
    med = measure(contenders, repeats=args.repeats)
    print(report("W2: MLP 784-256-256-10, batch 64, forward + backward + SGD step "
                 "(wall time per step)", med, unit="ms", baseline=base))
    single = {k: v for k, v in contenders.items() if "threads)" not in k}
    if not args.no_torch:
        torch.set_num_threads(1)
    cpu = measure_cpu(single, repeats=args.repeats)
    print(report("W2, CPU time per step (single-threaded contenders)", cpu, unit="ms",
                 baseline=base))
    libs = [("leafgrad", leafgrad)] + ([] if args.no_torch else [("torch (1 thread)", torch)])
    print("W2 phases, CPU µs (median): forward / backward / update")
    for name, lib in libs:
        ph = phases(lib, args.repeats * 2)
        print(f"  {name:<18} {ph['forward']:8.0f} {ph['backward']:8.0f} {ph['update']:8.0f}")
    if not args.no_memory:
        print("Memory of 20 steps (each library alone in a subprocess):")
        for name in ("leafgrad",) + (() if args.no_torch else ("torch",)):
            m = peak_memory(name)
            trace = (f"   tracemalloc peak {m['tracemalloc_peak_kib']:7.0f} KiB"
                     if name == "leafgrad" else "")
            print(f"  {name:<10} peak RSS added by the steps {m['added_peak_kib']:7.0f} KiB   "
                  f"process RSS before {m['rss_kib'] / 1024:6.1f} MiB{trace}")


if __name__ == "__main__":
    main()
