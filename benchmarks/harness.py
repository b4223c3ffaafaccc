"""Side-by-side timing: run workloads under leafgrad, torch and NumPy interleaved; medians."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

# Stable figures on small noisy machines: no busy-waiting OpenMP threads, single-threaded BLAS.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _round_robin(contenders: dict[str, Callable[[], object]], repeats: int, inner: int,
                 warmup: int, clock: Callable[[], float]) -> dict[str, float]:
    """Median ``clock`` seconds per call of each contender, measured round-robin."""
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            t0 = clock()
            for _ in range(inner):
                fn()
            samples[name].append((clock() - t0) / inner)
    return {k: statistics.median(v) for k, v in samples.items()}


def measure(contenders: dict[str, Callable[[], object]], repeats: int = 30,
            inner: int = 1, warmup: int = 3) -> dict[str, float]:
    """Median seconds per call of each contender, measured round-robin so noise hits all alike.

    >>> r = measure({"noop": lambda: None}, repeats=3)
    >>> r["noop"] >= 0
    True
    """
    return _round_robin(contenders, repeats, inner, warmup, time.perf_counter)


def measure_cpu(contenders: dict[str, Callable[[], object]], repeats: int = 30,
                inner: int = 5, warmup: int = 1) -> dict[str, float]:
    """Like ``measure`` but in CPU time of this process (``time.process_time``).

    On a loaded machine wall time counts the waits for a core; CPU time counts the work. Only
    meaningful for single-threaded contenders.

    >>> r = measure_cpu({"noop": lambda: None}, repeats=3)
    >>> r["noop"] >= 0
    True
    """
    return _round_robin(contenders, repeats, inner, warmup, time.process_time)


def report(title: str, medians: dict[str, float], per: int = 1, unit: str = "µs",
           baseline: str | None = None) -> str:
    """Format medians (per ``per`` items) and each one's ratio to ``baseline``."""
    scale = {"µs": 1e6, "ms": 1e3, "s": 1.0}[unit]
    base = medians[baseline] if baseline else None
    lines = [title]
    for k, v in medians.items():
        ratio = f"  ratio vs {baseline}: {v / base:.2f}x" if base else ""
        lines.append(f"  {k:<28} {v * scale / per:10.2f} {unit}{ratio}")
    return "\n".join(lines)
