"""Last bits (issue 9): agreement with torch's bits per op, and what it costs.

    python benchmarks/last_bits.py agreement [--json OUT] [-n N]   # % bit-identical per case
    python benchmarks/last_bits.py compare BEFORE.json AFTER.json  # markdown table, both runs
    python benchmarks/last_bits.py timing [-n N] [--repeats R]     # 1M float32, per op

``agreement`` imports whichever leafgrad is first on the path, so a before/after table is two
runs (``PYTHONPATH=/path/to/old/checkout`` for the first). ``timing`` interleaves leafgrad,
NumPy's own function (``numpy direct``, what leafgrad computed before) and torch with one
thread in one process (round-robin as benchmarks/harness.py), and prints the minimum and the
median CPU time of each.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("MKL_ENABLE_INSTRUCTIONS", "AVX2")  # the tests' oracle (tests/conftest.py)
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
import numpy as np  # noqa: E402


def agreement(args) -> None:
    import warnings

    import torch
    from lastbits_cases import table

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    rows = table(n=args.n)
    out = {}
    for row in rows:
        if len(row) == 3:
            print(f"{row[0]:18s} {row[1]:8s} {row[2]}")
            continue
        name, dt, fp, fu, bp, bu = row
        out[f"{name}|{dt}"] = [fp, fu, bp, bu]
        print(f"{name:18s} {dt:8s} fwd {fp:7.2f}% {fu:4d} ulp   bwd {bp:7.2f}% {bu:4d} ulp")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=0))


def _ulp(u: int) -> str:
    return str(u) if u < 10**6 else ">1e6"  # a sign or zero/non-zero difference


def compare(args) -> None:
    before = json.loads(Path(args.before).read_text())
    after = json.loads(Path(args.after).read_text())
    print("| op | dtype | fwd before | fwd after | max ulp | bwd before | bwd after | max ulp |")
    print("|---|---|---|---|---|---|---|---|")
    for key, (fp, fu, bp, bu) in after.items():
        name, dt = key.split("|")
        b = before.get(key, [float("nan"), 0, float("nan"), 0])
        bwd = "" if np.isnan(bp) else f"{bp:.2f}"
        bwd0 = "" if np.isnan(b[2]) else f"{b[2]:.2f}"
        print(f"| {name} | {dt[5:]} | {b[0]:.2f} | {fp:.2f} | {_ulp(fu)} | {bwd0} | {bwd} | "
              f"{_ulp(bu) if bwd else ''} |")


def _ops(lib):
    f = lib.nn.functional
    return {
        "exp": (lambda x: x.exp(), np.exp),
        "log": (lambda x: x.log(), np.log),
        "tanh": (lambda x: x.tanh(), np.tanh),
        "sigmoid": (lambda x: x.sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
        "expm1": (lambda x: x.expm1(), np.expm1),
        "log1p": (lambda x: x.log1p(), np.log1p),
        "exp2": (lambda x: x.exp2(), np.exp2),
        "sinh": (lambda x: x.sinh(), np.sinh),
        "cosh": (lambda x: x.cosh(), np.cosh),
        "asin": (lambda x: x.asin(), np.arcsin),
        "atan": (lambda x: x.atan(), np.arctan),
        "pow 1.5": (lambda x: x ** 1.5, lambda a: a ** np.float32(1.5)),
        "pow 3": (lambda x: x ** 3, lambda a: a ** 3),
        "softplus": (lambda x: f.softplus(x), lambda a: np.log1p(np.exp(a))),
        "silu": (lambda x: f.silu(x), lambda a: a / (1 + np.exp(-a))),
        "gelu": (lambda x: f.gelu(x, approximate="tanh"),
                 lambda a: 0.5 * a * (1 + np.tanh(0.7978846 * (a + 0.044715 * a ** 3)))),
        "softmax(-1)": (lambda x: f.softmax(x.reshape(-1, 1000), dim=-1),
                        lambda a: _np_softmax(a.reshape(-1, 1000))),
    }


def _np_softmax(a):
    e = np.exp(a - a.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _samples(contenders: dict, repeats: int) -> dict[str, list[float]]:
    """CPU seconds per call of each contender, round-robin (harness.measure's loop, keeping all
    samples). CPU time, as W2 reports it: every contender runs on one thread, and on a loaded
    machine wall time mostly counts the waits for a core."""
    import time

    for fn in contenders.values():
        fn()
    out: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(repeats):
        for k, fn in contenders.items():
            t0 = time.process_time()
            fn()
            out[k].append(time.process_time() - t0)
    return out


def timing(args) -> None:
    import statistics

    import torch

    import leafgrad

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    data = rng.uniform(0.1, 0.9, args.n).astype(np.float32)  # in every op's domain
    grad = rng.standard_normal(args.n).astype(np.float32)
    lops, tops = _ops(leafgrad), _ops(torch)
    print(f"{args.n:,} float32 elements, {args.repeats} interleaved rounds; CPU ms, min (median):"
          " forward, and forward + backward")
    print(f"{'op':12s} {'numpy direct':>14s} {'leafgrad fwd':>15s} {'torch fwd':>15s} "
          f"{'leafgrad f+b':>15s} {'torch f+b':>15s}")
    lx, tx = leafgrad.tensor(data), torch.from_numpy(data)
    lxg = leafgrad.tensor(data, requires_grad=True)
    txg = torch.from_numpy(data.copy()).requires_grad_()
    for name, (lf, npf) in lops.items():
        tf = tops[name][0]

        def lb(lf=lf):
            y = lf(lxg)
            leafgrad.autograd.grad(y, lxg, leafgrad.tensor(grad.reshape(tuple(y.shape))))

        def tb(tf=tf):
            y = tf(txg)
            torch.autograd.grad(y, txg, torch.from_numpy(grad.reshape(tuple(y.shape))))

        with np.errstate(all="ignore"):
            smp = _samples({"np": lambda npf=npf: npf(data), "lg": lambda lf=lf: lf(lx),
                            "tt": lambda tf=tf: tf(tx), "lgb": lb, "ttb": tb}, args.repeats)
        cell = {k: f"{min(v) * 1e3:6.2f} ({statistics.median(v) * 1e3:5.1f})"
                for k, v in smp.items()}
        print(f"{name:12s} {cell['np']:>14s} {cell['lg']:>15s} {cell['tt']:>15s} "
              f"{cell['lgb']:>15s} {cell['ttb']:>15s}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("agreement")
    a.add_argument("--json")
    a.add_argument("-n", type=int, default=4096)
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    t = sub.add_parser("timing")
    t.add_argument("-n", type=int, default=1_000_000)
    t.add_argument("--repeats", type=int, default=9)
    args = p.parse_args(argv)
    {"agreement": agreement, "compare": compare, "timing": timing}[args.cmd](args)


if __name__ == "__main__":
    main()
