"""``python -m tests.fuzz``: long fuzz runs with a per-category summary and a JSON report.

    python -m tests.fuzz --programs 20000 --seed 0 --report out.json
    python -m tests.fuzz --seed 1234 --show            # one program, its outcome, a reproducer
    python -m tests.fuzz --merge a.json b.json --report all.json
    python -m tests.fuzz --programs 3000 --write-known tests/fuzz/known.py
    python -m tests.fuzz --classes out.json            # failures by root-cause class
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict

from .compare import CATEGORIES, INFO
from .generate import generate
from .minimize import minimize, reproducer
from .runner import describe, run

HANG_S = 300.0


def _watchdog(state: str, current: list) -> None:
    """Exit with status 3 when one seed runs past HANG_S (a hang inside C code, which the
    runner's per-line alarm cannot interrupt); the seed is appended to ``state + '.hung'`` and
    skipped (reported as a timeout) when the chunk is run again (run_chunks.sh does)."""
    import os
    import threading

    def loop():
        while True:
            time.sleep(5)
            seed, since = current
            if seed is not None and time.time() - since > HANG_S:
                with open(state + ".hung", "a") as fh:
                    fh.write(f"{seed}\n")
                print(f"seed {seed} hung for {HANG_S:.0f}s: recorded, exiting", file=sys.stderr,
                      flush=True)
                os._exit(3)

    threading.Thread(target=loop, daemon=True).start()


def run_range(start: int, n: int, examples: int = 2, progress: bool = True,
              state: str | None = None) -> dict:
    """Run seeds ``start .. start+n-1``; the report as a dict (see README.md).

    ``state``: a path prefix; enables the hang watchdog and skips seeds recorded as hung.
    """
    import os

    t0 = time.time()
    hung: set[int] = set()
    current: list = [None, 0.0]
    if state:
        if os.path.exists(state + ".hung"):
            hung = {int(x) for x in open(state + ".hung").read().split()}
        _watchdog(state, current)
    primary: Counter = Counter()
    anycat: Counter = Counter()
    by_op: dict = defaultdict(Counter)
    bits: dict = defaultdict(lambda: [0, 0])
    bits_by_op: dict = defaultdict(lambda: [0, 0])
    failures, ex = [], defaultdict(dict)
    lines = 0
    for seed in range(start, start + n):
        if seed in hung:
            primary["timeout"] += 1
            anycat["timeout"] += 1
            by_op["timeout"]["?"] += 1
            failures.append({"seed": seed, "category": "timeout", "op": "?", "line": -1,
                             "path": "", "detail": f"never returned within {HANG_S:.0f}s "
                             "(a hang in C code); run it alone: --seed N --show"})
            continue
        current[:] = [seed, time.time()]
        prog = generate(seed)
        out = run(prog)
        lines += out.lines
        for k, (a, b) in out.bits.items():
            bits[k][0] += a
            bits[k][1] += b
        for k, (a, b) in out.bits_by_op.items():
            bits_by_op[k][0] += a
            bits_by_op[k][1] += b
        for c in {m.category for m in out.mismatches}:
            anycat[c] += 1
        m = out.primary
        if m is None:
            continue
        primary[m.category] += 1
        by_op[m.category][m.op] += 1
        failures.append({"seed": seed, "category": m.category, "op": m.op, "line": m.line,
                         "path": m.path, "detail": m.detail[:300]})
        slot = ex[m.category].setdefault(m.op, [])
        if len(slot) < examples:
            small, sout = minimize(prog, out)
            slot.append(reproducer(small, sout))
        if progress and (seed - start + 1) % 500 == 0:
            print(f"  {seed - start + 1}/{n} programs, {len(failures)} failing, "
                  f"{time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    current[0] = None
    return {"seed_start": start, "programs": n, "lines": lines,
            "elapsed_s": round(time.time() - t0, 1), "primary": dict(primary),
            "any": dict(anycat), "by_op": {k: dict(v) for k, v in by_op.items()},
            "bits": dict(bits), "bits_by_op": dict(bits_by_op), "failures": failures,
            "examples": {k: dict(v) for k, v in ex.items()}}


def merge(reports: list[dict]) -> dict:
    """One report from several (chunks of one long run)."""
    out = {"seed_start": min(r["seed_start"] for r in reports), "programs": 0, "lines": 0,
           "elapsed_s": 0.0, "primary": Counter(), "any": Counter(), "by_op": {}, "bits": {},
           "bits_by_op": {}, "failures": [], "examples": {}}
    for r in reports:
        for k in ("programs", "lines", "elapsed_s"):
            out[k] += r[k]
        out["primary"].update(r["primary"])
        out["any"].update(r["any"])
        for c, ops in r["by_op"].items():
            d = out["by_op"].setdefault(c, Counter())
            d.update(ops)
        for key in ("bits", "bits_by_op"):
            for k, (a, b) in r[key].items():
                v = out[key].setdefault(k, [0, 0])
                v[0] += a
                v[1] += b
        out["failures"] += r["failures"]
        for c, ops in r["examples"].items():
            for op, xs in ops.items():
                slot = out["examples"].setdefault(c, {}).setdefault(op, [])
                slot += xs[: max(0, 2 - len(slot))]
    out["primary"], out["any"] = dict(out["primary"]), dict(out["any"])
    out["by_op"] = {k: dict(v) for k, v in out["by_op"].items()}
    return out


def summary(rep: dict) -> str:
    """The per-category table of a report."""
    n = rep["programs"]
    fails = sum(v for k, v in rep["primary"].items() if k not in INFO)
    rows = [f"{n} programs ({rep['lines']} lines) in {rep['elapsed_s']:.0f}s: "
            f"{n - fails} agree, {fails} differ",
            f"{'category':18} {'programs':>9} {'%':>6} {'any line':>9}   top ops"]
    for c in CATEGORIES:
        k, a = rep["primary"].get(c, 0), rep["any"].get(c, 0)
        if not (k or a):
            continue
        ops = sorted(rep["by_op"].get(c, {}).items(), key=lambda kv: -kv[1])[:4]
        tops = ", ".join(f"{o} {v}" for o, v in ops)
        rows.append(f"{c:18} {k:9d} {100 * k / max(n, 1):6.2f} {a:9d}   {tops}")
    for dt, (eq, tot) in sorted(rep["bits"].items()):
        rows.append(f"bit-identical {dt}: {eq}/{tot} ({100 * eq / max(tot, 1):.2f}%)")
    return "\n".join(rows)


def write_table(path: str, name: str, entries: dict) -> None:
    """Rewrite the dict literal ``name: ... = {...}`` of ``path`` (known.py) with ``entries``."""
    import re

    body = "".join(f"    {k!r}: {v!r},\n" for k, v in entries.items())
    text = open(path).read()
    pat = re.compile(rf"^({name}: [^\n]*\{{\n).*?^\}}\n", re.S | re.M)
    assert pat.search(text), f"no {name} table in {path}"
    with open(path, "w") as fh:
        fh.write(pat.sub(lambda m: m.group(1) + body + "}\n", text, count=1))


def known_entries(rep: dict) -> dict[int, str]:
    """seed -> "category op" for every failing program of a report."""
    return {f["seed"]: f"{f['category']} {f['op']}" for f in rep["failures"]
            if f["category"] not in INFO}


def safety_table() -> dict[str, str]:
    """Every cell of the autograd-safety matrix that differs from torch today."""
    import warnings

    from .safety import cases, compare

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in cases():
            d = compare(case)
            if d is not None:
                out[case.id] = d.split(":")[0]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--programs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("--report", help="write the JSON report here")
    ap.add_argument("--examples", type=int, default=2,
                    help="minimised reproducers kept per (category, op)")
    ap.add_argument("--show", action="store_true", help="print the program(s) and outcome")
    ap.add_argument("--merge", nargs="+", help="merge JSON reports instead of running")
    ap.add_argument("--write-known", metavar="KNOWN_PY",
                    help="rewrite KNOWN (or SAFETY_KNOWN with --safety, SLOW_BASELINE with "
                         "--baseline) in this file from this run")
    ap.add_argument("--safety", action="store_true", help="the autograd-safety matrix instead")
    ap.add_argument("--classes", metavar="REPORT_JSON",
                    help="print a report's failures grouped by root-cause class")
    ap.add_argument("--baseline", action="store_true",
                    help="with --write-known: write the run's counts as SLOW_BASELINE")
    a = ap.parse_args(argv)
    if a.classes:
        from .classify import table as class_table

        print(class_table(json.load(open(a.classes))))
        return 0
    if a.safety:
        table = safety_table()
        counts = Counter(f"{k.split('/')[1].rstrip('0123456789')} {v}" for k, v in table.items())
        from .safety import cases
        print(f"{len(cases())} cells, {len(table)} differ from torch:")
        for k, v in sorted(counts.items()):
            print(f"  {k:32} {v}")
        if a.write_known:
            write_table(a.write_known, "SAFETY_KNOWN", table)
        return 0
    if a.show:
        for seed in range(a.seed, a.seed + min(a.programs, 50)):
            prog = generate(seed)
            out = run(prog)
            print(f"# seed {seed}\n{prog.source()}\n# -> {describe(out) or 'agree'}")
            if out.primary is not None:
                small, sout = minimize(prog, out)
                print("# minimised:\n" + reproducer(small, sout))
            print()
        return 0
    if a.merge:
        rep = merge([json.load(open(p)) for p in a.merge])
    else:
        rep = run_range(a.seed, a.programs, a.examples, state=a.report)
    print(summary(rep))
    if a.report:
        with open(a.report, "w") as fh:
            json.dump(rep, fh, indent=1)
    if a.write_known and a.baseline:
        write_table(a.write_known, "SLOW_BASELINE",
                    {c: v for c, v in rep["primary"].items() if c not in INFO})
    elif a.write_known:
        write_table(a.write_known, "KNOWN", known_entries(rep))
    return 0
