"""W4: a LeNet-style CNN training step: conv 1->6 5x5, relu, maxpool 2, conv 6->16 5x5, relu,
maxpool 2, fc 256->120->84->10, batch 32 of 28x28, cross-entropy, forward + backward + SGD step.

The model is written once with ``nn`` modules and run under leafgrad and torch from the same
seed (so the same initial weights). The step is ``optim.SGD`` when the library has it, else the
same no-grad update on both sides; the loss is ``F.cross_entropy`` when leafgrad has it, else
log-softmax written with logsumexp on both sides.

    python benchmarks/w4_cnn.py            # wall and CPU-time medians (interleaved), ratios
    python benchmarks/w4_cnn.py --memory   # peak memory of 20 steps, each library alone
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# NOTE: harness first: it pins OpenBLAS to one thread, which only works before NumPy loads it
from harness import measure, report  # noqa: E402, I001
import numpy as np  # noqa: E402
from w2_mlp import measure_cpu  # noqa: E402

BATCH, LR = 32, 0.01


def model(lib):
    """The W4 network for a torch-like module ``lib``, initialised from seed 0."""
    nn = lib.nn
    lib.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def _use_fallbacks() -> tuple[bool, bool]:
    """Whether leafgrad lacks cross_entropy / optim.SGD (then both sides use the fallback)."""
    import leafgrad

    return (not hasattr(leafgrad.nn.functional, "cross_entropy"),
            not hasattr(leafgrad, "optim"))


def training_step(lib, x: np.ndarray, y: np.ndarray):
    """One closure running forward + backward + SGD step for library ``lib``."""
    manual_loss, manual_step = _use_fallbacks()
    net = model(lib)
    params = list(net.parameters())
    xs = lib.tensor(x)
    ys = lib.tensor(y)
    opt = None if manual_step else lib.optim.SGD(params, lr=LR)

    def loss_fn(out):
        if manual_loss:
            logp = out - out.logsumexp(1, keepdim=True)
            return -logp.gather(1, ys.unsqueeze(1)).mean()
        return lib.nn.functional.cross_entropy(out, ys)

    def run():
        if opt is not None:
            opt.zero_grad()
        else:
            for p in params:
                p.grad = None
        loss = loss_fn(net(xs))
        loss.backward()
        if opt is not None:
            opt.step()
        else:
            with lib.no_grad():
                for p in params:
                    p.sub_(p.grad, alpha=LR)
        return loss
    return run


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32),
            rng.integers(0, 10, BATCH).astype(np.int64))


def check_same_losses(steps: int = 5) -> None:
    """Correctness first: both libraries must train to the same losses step for step."""
    import torch

    import leafgrad

    x, y = data()
    a, b = training_step(leafgrad, x, y), training_step(torch, x, y)
    for k in range(steps):
        la, lb = float(a().detach()), float(b().detach())
        assert abs(la - lb) <= 1e-4 * max(1.0, abs(lb)), (k, la, lb)


def peak_memory(lib_name: str, steps: int = 20) -> dict:
    """Run ``steps`` training steps of one library in a fresh subprocess: the peak RSS the steps
    add over the process after model creation and one warm-up step (``VmHWM`` reset through
    ``/proc/self/clear_refs``, as benchmarks/w2_mlp.py does), and for leafgrad (NumPy reports
    its buffers to it) the tracemalloc peak."""
    code = f"""
import json, sys, tracemalloc
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
import w4_cnn
import {lib_name} as lib
if {lib_name!r} == "torch":
    lib.set_num_threads(1)

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])

x, y = w4_cnn.data()
step = w4_cnn.training_step(lib, x, y)
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
                         check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=40)
    p.add_argument("--memory", action="store_true", help="measure peak memory instead")
    args = p.parse_args(argv)
    if args.memory:
        print("Memory of 20 steps (each library alone in a subprocess):")
        for name in ("leafgrad", "torch"):
            m = peak_memory(name)
            trace = (f"   tracemalloc peak {m['tracemalloc_peak_kib']:7.0f} KiB"
                     if name == "leafgrad" else "")
            print(f"  {name:<10} peak RSS added by the steps {m['added_peak_kib']:7.0f} KiB   "
                  f"process RSS before {m['rss_kib'] / 1024:6.1f} MiB{trace}")
        return
    import torch

    import leafgrad

    check_same_losses()
    x, y = data()
    torch_default = training_step(torch, x, y)
    n_default = torch.get_num_threads()

    def torch_1thread():
        torch.set_num_threads(1)
        try:
            return torch_default()
        finally:
            torch.set_num_threads(n_default)

    contenders = {"leafgrad": training_step(leafgrad, x, y),
                  "torch (1 thread)": torch_1thread,
                  f"torch ({n_default} threads)": torch_default}
    med = measure(contenders, repeats=args.repeats)
    torch.set_num_threads(1)
    cpu = measure_cpu({k: v for k, v in contenders.items() if "threads)" not in k},
                      repeats=args.repeats)
    torch.set_num_threads(n_default)
    manual_loss, manual_step = _use_fallbacks()
    note = []
    if manual_loss:
        note.append("loss: logsumexp form on both sides")
    if manual_step:
        note.append("step: manual no-grad SGD update on both sides")
    print(report("W4: LeNet-style CNN, batch 32, forward + backward + SGD step (wall time)"
                 + (f" ({'; '.join(note)})" if note else ""), med, unit="ms",
                 baseline="torch (1 thread)"))
    print(report("W4, CPU time per step (single-threaded contenders)", cpu, unit="ms",
                 baseline="torch (1 thread)"))


if __name__ == "__main__":
    main()
