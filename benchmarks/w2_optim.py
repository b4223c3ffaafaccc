"""W2 with torch.optim: the W2 MLP step (784-256-256-10, ReLU, cross-entropy, batch 64, float32)
with ``optim.SGD`` and with ``optim.Adam`` on both sides, ``zero_grad()`` / ``backward()`` /
``step()`` as a PyTorch user writes it; plus the optimizer's ``step()`` alone.

Interleaved round-robin in one process; CPU-time medians (on a loaded machine wall time counts
waits for a core), torch at one thread. Ratios are leafgrad / torch.

    python benchmarks/w2_optim.py              # --repeats N
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import report  # noqa: E402, I001  (pins OpenBLAS to one thread before NumPy loads)
import numpy as np  # noqa: E402
from w2_mlp import BATCH, SIZES, make_step, measure_cpu  # noqa: E402

OPTIMIZERS = {"SGD": ("SGD", {"lr": 0.01}),
              "SGD momentum": ("SGD", {"lr": 0.01, "momentum": 0.9}),
              "Adam": ("Adam", {"lr": 1e-3})}


def make_train_step(lib, optimizer: str):
    """(full training step, optimizer step alone) with ``lib.optim.<optimizer>``."""
    _, model = make_step(lib)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32))
    y = lib.tensor(rng.integers(0, SIZES[-1], BATCH))
    cls, kw = OPTIMIZERS[optimizer]
    kw = dict(kw)
    if lib.__name__ == "torch":
        kw["foreach"] = False  # the for-loop implementation, torch's CPU default
    opt = getattr(lib.optim, cls)(model.parameters(), **kw)
    loss_fn = lib.nn.functional.cross_entropy

    def train_step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    train_step()  # state exists and gradients are set: opt.step() alone is measurable
    return train_step, opt.step


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=40)
    args = p.parse_args(argv)
    import torch

    import leafgrad

    torch.set_num_threads(1)
    for name in OPTIMIZERS:
        lstep, lopt = make_train_step(leafgrad, name)
        tstep, topt = make_train_step(torch, name)
        full = measure_cpu({"leafgrad": lstep, "torch (1 thread)": tstep}, args.repeats)
        print(report(f"W2 + {name}: forward + backward + step, CPU ms per step", full,
                     unit="ms", baseline="torch (1 thread)"))
        alone = measure_cpu({"leafgrad": lopt, "torch (1 thread)": topt}, args.repeats)
        print(report(f"  {name}: optimizer.step() alone, CPU ms", alone, unit="ms",
                     baseline="torch (1 thread)"))


if __name__ == "__main__":
    main()
