"""Second order: a tanh MLP trained with a gradient penalty (``create_graph=True``).

MLP 16-64-64-1 with tanh, batch 64, float32, written with ``nn.Module`` on both sides. One
step: ``out = model(x)``; ``g = autograd.grad(out.sum(), x, create_graph=True)``; loss =
``out.mean() + 10 * ((g.norm(2, dim=1) - 1) ** 2).mean()`` (WGAN-GP's penalty);
``loss.backward()`` (through the graph of the first backward); an SGD step under no_grad. The
script first checks that both libraries give the same losses from the same weights, then
prints CPU-time medians (interleaved round-robin, single-threaded torch).

    python benchmarks/second_order.py              # --repeats N
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import measure_cpu, report  # noqa: E402, I001
import numpy as np  # noqa: E402

BATCH, SIZES, LR, PENALTY = 64, (16, 64, 64, 1), 0.01, 10.0


def make_step(lib, seed: int = 0):
    """A gradient-penalty step for a torch-like ``lib``: the script a PyTorch user writes."""
    nn = lib.nn
    lib.manual_seed(seed)
    model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.Tanh(),
                          nn.Linear(SIZES[1], SIZES[2]), nn.Tanh(),
                          nn.Linear(SIZES[2], SIZES[3]))
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32),
                   requires_grad=True)
    params = list(model.parameters())

    def step():
        for p in params:
            p.grad = None
        out = model(x)
        (g,) = lib.autograd.grad(out.sum(), x, create_graph=True)
        loss = out.mean() + PENALTY * ((g.norm(2, dim=1) - 1) ** 2).mean()
        loss.backward()
        with lib.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=LR)
        return loss

    return step


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=40)
    args = p.parse_args(argv)
    import torch

    import leafgrad

    torch.set_num_threads(1)
    check_l, check_t = make_step(leafgrad, seed=1), make_step(torch, seed=1)
    for _ in range(3):  # correctness first: the same losses step for step
        a, b = check_l().item(), check_t().item()
        assert abs(a - b) <= 1e-4 * max(1.0, abs(b)), (a, b)
    contenders = {"leafgrad": make_step(leafgrad), "torch (1 thread)": make_step(torch)}
    med = measure_cpu(contenders, repeats=args.repeats)
    print(report("Second order: tanh MLP 16-64-64-1, batch 64, gradient penalty "
                 "(create_graph=True) + SGD step (CPU time per step)", med, unit="ms",
                 baseline="torch (1 thread)"))


if __name__ == "__main__":
    main()
