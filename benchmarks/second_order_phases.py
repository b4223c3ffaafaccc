"""Second order, phase by phase: where leafgrad's step spends its time against torch's, and
what the two last-bit choices on its path cost.

The step of ``second_order.py`` (tanh MLP 16-64-64-1, batch 64, gradient penalty,
``create_graph=True``, SGD update), split into forward / ``autograd.grad`` (building the first
backward's graph) / penalty / ``loss.backward()`` / update, each timed in this thread's CPU
time, contenders interleaved in blocks of steps, medians.

``--what-if`` adds leafgrad run with one or both of its exact kernels swapped out, to measure
what they cost (these variants are NOT bit-identical to torch and are not a leafgrad mode):

- ``tanh32``: float32 tanh through NumPy's float32 loop instead of the correctly rounded
  float64 route (which agrees with torch on 99.9% of elements, NumPy's loop on about 68%);
- ``unfused``: the update ``p.sub_(g, alpha=lr)`` as ``p - fl(lr * g)``, two roundings,
  instead of the exact fused multiply-add that ATen's kernel computes.

    python benchmarks/second_order_phases.py --what-if
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402, F401  (pins OpenBLAS to one thread before NumPy loads)
import numpy as np  # noqa: E402
from second_order import BATCH, LR, PENALTY, SIZES  # noqa: E402

PHASES = ("forward", "grad (create_graph)", "penalty", "backward", "update")


def make_step(lib, patch=contextlib.nullcontext):
    """A step of the second-order workload returning its phases' CPU nanoseconds."""
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.Tanh(),
                          nn.Linear(SIZES[1], SIZES[2]), nn.Tanh(),
                          nn.Linear(SIZES[2], SIZES[3]))
    x = lib.tensor(np.random.default_rng(0).standard_normal((BATCH, SIZES[0]))
                   .astype(np.float32), requires_grad=True)
    params = list(model.parameters())
    clock = time.thread_time_ns

    def step():
        with patch():
            t0 = clock()
            for p in params:
                p.grad = None
            out = model(x)
            t1 = clock()
            (g,) = lib.autograd.grad(out.sum(), x, create_graph=True)
            t2 = clock()
            loss = out.mean() + PENALTY * ((g.norm(2, dim=1) - 1) ** 2).mean()
            t3 = clock()
            loss.backward()
            t4 = clock()
            with lib.no_grad():
                for p in params:
                    p.sub_(p.grad, alpha=LR)
            t5 = clock()
        return (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)

    return step


@contextlib.contextmanager
def _swapped(tanh32: bool, unfused: bool):
    """leafgrad with its exact float32 tanh and/or its fused update replaced (measurement only)."""
    from leafgrad.ops import lastbits
    from leafgrad.optim import _kernels

    saved = lastbits.unary_in_op, _kernels.add
    if tanh32:
        exact = saved[0]

        def unary_in_op(name, x):
            if name == "tanh" and x.dtype == np.float32:
                return np.tanh(x)
            return exact(name, x)
        lastbits.unary_in_op = unary_in_op
    if unfused:
        def add(out, a, b, alpha=1.0):
            np.add(a, np.multiply(b, out.dtype.type(alpha)), out=out)
        _kernels.add = add
    try:
        yield
    finally:
        lastbits.unary_in_op, _kernels.add = saved


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=300)
    p.add_argument("--what-if", action="store_true", help="add leafgrad without its exact kernels")
    args = p.parse_args(argv)
    import torch

    import leafgrad

    torch.set_num_threads(1)
    steps = {"leafgrad": make_step(leafgrad)}
    if args.what_if:
        for name, t, u in (("leafgrad, tanh32", True, False), ("leafgrad, unfused", False, True),
                           ("leafgrad, both", True, True)):
            steps[name] = make_step(leafgrad, lambda t=t, u=u: _swapped(t, u))
    steps["torch (1 thread)"] = make_step(torch)
    for fn in steps.values():
        for _ in range(20):
            fn()
    # NOTE: interleaved in blocks of steps, not step by step: a leafgrad step between two torch
    # steps evicts what torch's next step finds in the caches (its forward measured 1.6x
    # slower interleaved step by step on a 2-core VM), while blocks still spread slow drift
    samples: dict[str, list] = {k: [] for k in steps}
    rounds = 6
    for _ in range(rounds):
        for name, fn in steps.items():
            for _ in range(max(1, args.repeats // rounds)):
                samples[name].append(fn())
    med = {k: np.median(np.array(v), axis=0) / 1000 for k, v in samples.items()}
    base = med["torch (1 thread)"].sum()
    print("Second order by phase, CPU µs per step (medians):")
    print(f"  {'':<20}" + "".join(f"{ph:>21}" for ph in PHASES) + f"{'total':>9}  ratio")
    for name, m in med.items():
        print(f"  {name:<20}" + "".join(f"{v:21.0f}" for v in m)
              + f"{m.sum():9.0f}  {m.sum() / base:.2f}x")


if __name__ == "__main__":
    main()
