"""W1: per-op overhead on small tensors: a (2,2) tensor, 100 elementwise ops, sum, backward."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from harness import measure, measure_cpu, report  # noqa: E402

# 20 rounds of: mul by itself, add 0.5, sin, an exp-like op, pow 2. The exp-like op is tanh
# ((e**x - e**-x) / (e**x + e**-x)), one kernel in NumPy and in torch like exp. With exp itself
# the chain is chaotic (gradients ~1e16), float32 rounding makes leafgrad and torch disagree and
# the correctness check below would mean nothing; tanh keeps every value bounded.
N_OPS = 100


def chain(lib, n_ops: int = N_OPS):
    """The W1 workload for a torch-like module ``lib`` (``n_ops`` ops long)."""
    def run():
        x = lib.tensor([[0.1, 0.2], [0.3, 0.4]], requires_grad=True)
        y = x
        for _ in range(n_ops // 5):
            y = y * y
            y = y + 0.5
            y = y.sin()
            y = y.tanh()
            y = y ** 2
        y.sum().backward()
        return x.grad
    return run


def numpy_chain():
    """The same forward and backward written by hand in NumPy (the floor for a Python engine)."""
    def run():
        x = np.array([[0.1, 0.2], [0.3, 0.4]], dtype=np.float32)
        tape = []
        y = x
        for _ in range(N_OPS // 5):
            tape.append(("mul", y)); y = y * y                   # noqa: E702
            tape.append(("add", None)); y = y + np.float32(0.5)  # noqa: E702
            tape.append(("sin", y)); y = np.sin(y)               # noqa: E702
            y = np.tanh(y); tape.append(("tanh", y))             # noqa: E702
            tape.append(("pow", y)); y = y ** 2                  # noqa: E702
        g = np.ones_like(y)
        for op, v in reversed(tape):
            if op == "mul":
                g = g * v + g * v
            elif op == "sin":
                g = g * np.cos(v)
            elif op == "tanh":
                g = g * (1 - v * v)
            elif op == "pow":
                g = g * 2 * v
        return g
    return run


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=40)
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args(argv)
    import leafgrad

    contenders = {"leafgrad": chain(leafgrad)}
    if not args.no_torch:
        import torch

        torch_default = chain(torch)
        n_default = torch.get_num_threads()

        def torch_1thread():
            torch.set_num_threads(1)
            try:
                return torch_default()
            finally:
                torch.set_num_threads(n_default)

        contenders["torch (1 thread)"] = torch_1thread
        contenders[f"torch ({n_default} threads)"] = torch_default
    contenders["numpy by hand"] = numpy_chain()
    # correctness first: the figures only mean something if both compute the same gradient
    if not args.no_torch:
        a = contenders["leafgrad"]().numpy()
        b = torch_default().numpy()
        assert np.allclose(a, b, rtol=1e-4), (a, b)
    base = "torch (1 thread)" if not args.no_torch else None
    med = measure(contenders, repeats=args.repeats)
    print(report(f"W1: (2,2) tensor, {N_OPS} elementwise ops + sum + backward "
                 "(wall time per op, forward+backward)", med, per=N_OPS, baseline=base))
    # CPU time of the single-threaded contenders: on a loaded machine wall time counts waits
    if not args.no_torch:
        torch.set_num_threads(1)
    single = {k: v for k, v in contenders.items() if "threads)" not in k}
    cpu = measure_cpu(single, repeats=args.repeats)
    print(report("W1, CPU time per op (single-threaded contenders)", cpu, per=N_OPS,
                 baseline=base))


if __name__ == "__main__":
    main()
