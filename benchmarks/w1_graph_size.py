"""W1's per-op cost as the graph grows: the W1 chain at 100 to 100,000 ops, per op.

A long graph keeps every node and saved tensor alive until backward, so CPython's cyclic
garbage collector, which runs as allocations pile up, scans a live heap that grows with the
graph. The run with the collector paused (``gc.disable()`` around each run, as a user with a
very long graph might) shows how much of the growth is the collector's. CPU time, medians:

    python benchmarks/w1_graph_size.py          # --sizes 100 1000 10000 100000
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from w1_small_chain import chain  # noqa: E402


def per_op(run, n_ops: int, repeats: int, collect: bool = True) -> float:
    """Median CPU seconds per op of ``run`` (one chain of ``n_ops`` ops, forward + backward)."""
    times = []
    for _ in range(repeats):
        if not collect:
            gc.disable()
        try:
            t = time.process_time()
            run()
            times.append(time.process_time() - t)
        finally:
            gc.enable()
    return statistics.median(times) / n_ops


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000, 100000])
    args = p.parse_args(argv)
    import torch

    import leafgrad

    torch.set_num_threads(1)
    print("W1 chain, CPU µs per op (forward + backward) by graph size")
    print(f"  {'ops':>7} {'leafgrad':>9} {'gc paused':>10} {'torch':>7} {'ratio':>6}")
    for n in args.sizes:
        repeats = max(5, 100_000 // n)
        lg, tc = chain(leafgrad, n), chain(torch, n)
        a = b = c = 0.0
        for _ in range(3):  # interleaved rounds; the minimum of their medians
            a = min(a or 1, per_op(lg, n, repeats))
            b = min(b or 1, per_op(lg, n, repeats, collect=False))
            c = min(c or 1, per_op(tc, n, repeats))
        print(f"  {n:>7} {a * 1e6:>9.2f} {b * 1e6:>10.2f} {c * 1e6:>7.2f} {a / c:>5.2f}x")


if __name__ == "__main__":
    main()
