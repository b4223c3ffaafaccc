"""Shrink a failing program to a small reproducer, and print it for both libraries.

Delta debugging over the lines (drop halves, then quarters, ... then single lines), then the
leaves: one element fewer along each dimension while the mismatch stays, a contiguous layout,
no requires_grad. "The mismatch stays" means the shrunk program's primary mismatch has the
same category and comes from the same op as the original's.
"""

from __future__ import annotations

import copy

from .program import Program
from .runner import Outcome, run

MAX_RUNS = 400


def _signature(out: Outcome):
    m = out.primary
    return None if m is None else m.signature()


def minimize(program: Program, outcome: Outcome | None = None, lib=None
             ) -> tuple[Program, Outcome]:
    """The smallest program found that fails the way ``program`` fails."""
    outcome = outcome or run(program, lib)
    target = _signature(outcome)
    if target is None:
        return program, outcome
    budget = [MAX_RUNS]
    best = Program(program.seed, list(program.stmts[: outcome.primary.line + 1]))
    best_out = run(best, lib)
    if _signature(best_out) != target:
        best, best_out = program, outcome

    def fails(p: Program):
        if budget[0] <= 0:
            return None
        budget[0] -= 1
        o = run(p, lib)
        return o if _signature(o) == target else None

    # 1. lines (the failing line is always the last one kept)
    n = 2
    while len(best.stmts) > 1 and budget[0] > 0:
        body = best.stmts[:-1]
        chunk = max(1, len(body) // n)
        progress = False
        for start in range(0, len(body), chunk):
            cand = Program(best.seed, body[:start] + body[start + chunk:] + best.stmts[-1:])
            o = fails(cand)
            if o is not None:
                best, best_out, progress = cand, o, True
                break
        if not progress:
            if chunk == 1:
                break
            n = min(n * 2, len(body))
    # 2. leaves: smaller shapes, simpler layouts
    changed = True
    while changed and budget[0] > 0:
        changed = False
        for i, st in enumerate(best.stmts):
            if st.leaf is None:
                continue
            variants = [st.leaf.shrunk(d) for d in range(len(st.leaf.shape))]
            variants += st.leaf.simplified()
            for lf in variants:
                if lf is None:
                    continue
                cand = Program(best.seed, list(best.stmts))
                s2 = copy.copy(st)
                s2.leaf = lf
                cand.stmts[i] = s2
                o = fails(cand)
                if o is not None:
                    best, best_out, changed = cand, o, True
                    break
    return best, best_out


def _print_expr(path: str) -> str:
    return path


def reproducer(program: Program, outcome: Outcome) -> str:
    """A paste-able snippet: run it once with torch and once with leafgrad."""
    m = outcome.primary
    src = program.source()
    uses_inf = "inf" in src or "nan" in src
    lines = [f"# fuzz seed {program.seed}: {m.category} at line {m.line + 1} ({m.op})",
             f"# {m.path + ': ' if m.path else ''}{m.detail}",
             "import torch  # and again with: import leafgrad as torch"]
    if uses_inf:
        lines.append("inf, nan = float('inf'), float('nan')")
    lines.append(src)
    if m.path:
        lines.append(f"print({_print_expr(m.path)})")
    return "\n".join(lines)
