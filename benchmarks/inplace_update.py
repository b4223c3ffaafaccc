"""In-place optimizer-style updates on a (256, 784) float32 tensor: leafgrad vs torch (1 thread).

``p.sub_(g, alpha=0.1)`` (SGD's update), ``p.add_(g)`` and ``p.mul_(0.9)`` under ``no_grad``,
interleaved round-robin with torch and with NumPy by hand (``np.subtract(p, g * 0.1, out=p)``:
two roundings, so not torch's values; the floor for a Python library). CPU-time medians.

    python benchmarks/inplace_update.py            # --repeats N, --shape 256 784
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402
import torch  # noqa: E402
from harness import measure_cpu, report  # noqa: E402

import leafgrad  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=200)
    p.add_argument("--shape", type=int, nargs="+", default=[256, 784])
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(args.shape) * 0.05).astype(np.float32)
    g = (rng.standard_normal(args.shape) * 0.01).astype(np.float32)
    lp, lg = leafgrad.tensor(a), leafgrad.tensor(g)
    tp, tg = torch.tensor(a), torch.tensor(g)
    na, ng = a.copy(), g.copy()
    # every contender undoes its update (sub then add), so values stay in range
    for name, (lf, tf, nf) in {
        "sub_(g, alpha=0.1) + add_(g, alpha=0.1)": (
            lambda: (lp.sub_(lg, alpha=0.1), lp.add_(lg, alpha=0.1)),
            lambda: (tp.sub_(tg, alpha=0.1), tp.add_(tg, alpha=0.1)),
            lambda: (np.subtract(na, ng * np.float32(0.1), out=na),
                     np.add(na, ng * np.float32(0.1), out=na))),
        "add_(g) + sub_(g)": (
            lambda: (lp.add_(lg), lp.sub_(lg)),
            lambda: (tp.add_(tg), tp.sub_(tg)),
            lambda: (np.add(na, ng, out=na), np.subtract(na, ng, out=na))),
        "mul_(0.9) + div_(0.9)": (
            lambda: (lp.mul_(0.9), lp.div_(0.9)),
            lambda: (tp.mul_(0.9), tp.div_(0.9)),
            lambda: (np.multiply(na, np.float32(0.9), out=na),
                     np.divide(na, np.float32(0.9), out=na))),
    }.items():
        with leafgrad.no_grad(), torch.no_grad():
            m = measure_cpu({"leafgrad": lf, "torch (1 thread)": tf, "numpy by hand": nf},
                            repeats=args.repeats, inner=5)
        print(report(f"{name} on {tuple(args.shape)} float32 (CPU time per pair, medians of "
                     f"{args.repeats} interleaved rounds)", m, baseline="torch (1 thread)"))


if __name__ == "__main__":
    main()
