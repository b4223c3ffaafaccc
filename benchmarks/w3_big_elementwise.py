"""W3: big tensors at NumPy speed: 10M float32 elements, (x * x + x.sin()).sum(), backward."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from harness import measure, measure_cpu, report  # noqa: E402

N = 10_000_000


def workload(lib, data: np.ndarray):
    """The W3 forward and backward for a torch-like module ``lib``."""
    def run():
        x = lib.tensor(data, requires_grad=True) if lib.__name__ == "leafgrad" else \
            lib.from_numpy(data).requires_grad_()
        (x * x + x.sin()).sum().backward()
        return x.grad
    return run


def numpy_by_hand(data: np.ndarray):
    """The same forward and backward written by hand, as backprop would do it op by op."""
    def run():
        x = data
        xx = x * x
        sx = np.sin(x)
        y = xx + sx
        y.sum()
        gy = np.ones_like(y)                   # d sum / d y
        gx = gy * x + gy * x + gy * np.cos(x)  # mul (x used twice) and sin
        return gx
    return run


def numpy_fused(data: np.ndarray):
    """The tightest hand version: knows d sum / d y is 1 and folds the two x-terms (2x + cos x)."""
    def run():
        x = data
        (x * x + np.sin(x)).sum()
        return 2 * x + np.cos(x)
    return run


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("-n", type=int, default=N)
    args = p.parse_args(argv)
    import torch

    import leafgrad

    data = np.random.default_rng(0).standard_normal(args.n).astype(np.float32)
    n_default = torch.get_num_threads()
    torch_run = workload(torch, data)

    def torch_1thread():
        torch.set_num_threads(1)
        try:
            return torch_run()
        finally:
            torch.set_num_threads(n_default)

    contenders = {
        "leafgrad": workload(leafgrad, data),
        "numpy by hand": numpy_by_hand(data),
        "numpy hand-fused": numpy_fused(data),
        "torch (1 thread)": torch_1thread,
        f"torch ({n_default} threads)": torch_run,
    }
    g_lg = contenders["leafgrad"]().numpy()
    np.testing.assert_allclose(g_lg, torch_run().numpy(), rtol=1e-5, atol=1e-5)
    med = measure(contenders, repeats=args.repeats, warmup=1)
    print(report(f"W3: {args.n:,} float32 elements, (x * x + x.sin()).sum() + backward "
                 "(wall time)", med, unit="ms", baseline="numpy by hand"))
    torch.set_num_threads(1)
    single = {k: v for k, v in contenders.items() if "threads)" not in k}
    cpu = measure_cpu(single, repeats=args.repeats, inner=1)
    print(report("W3, CPU time (single-threaded contenders)", cpu, unit="ms",
                 baseline="numpy by hand"))


if __name__ == "__main__":
    main()
