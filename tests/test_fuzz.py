"""The differential fuzzer in CI: a fixed range of seeds (derandomized: seed k always names the
same program), each program run in torch and leafgrad and compared after every line.

A failing seed prints a minimised reproducer. Seeds that fail today are listed in
tests/fuzz/known.py (KNOWN) and are strict xfails, so a fix flips them (then delete the entry).
The slow test runs SLOW_PROGRAMS more programs and checks that no category got worse than
SLOW_BASELINE. See tests/fuzz/README.md.
"""

from __future__ import annotations

import math
import types

import numpy as np
import pytest
import torch
from fuzz.cli import run_range, summary
from fuzz.compare import INFO, TObs, diff
from fuzz.generate import generate
from fuzz.known import CI_PROGRAMS, KNOWN, SLOW_BASELINE, SLOW_PROGRAMS, SLOW_START
from fuzz.minimize import minimize, reproducer
from fuzz.program import Leaf, Program, Stmt
from fuzz.runner import _exc_category, describe, run


def _params():
    for seed in range(CI_PROGRAMS):
        marks = ([pytest.mark.xfail(strict=True, reason=f"known: {KNOWN[seed]}")]
                 if seed in KNOWN else [])
        yield pytest.param(seed, id=str(seed), marks=marks)


@pytest.mark.parametrize("seed", list(_params()))
def test_fuzz_program(seed):
    prog = generate(seed)
    out = run(prog)
    if out.ok:
        return
    if seed in KNOWN:  # an expected failure: no time spent minimising it
        pytest.fail(describe(out))
    small, sout = minimize(prog, out)
    pytest.fail(f"seed {seed} differs from torch:\n{describe(out)}\n\nminimised reproducer:\n"
                f"{reproducer(small, sout)}")


def test_known_seeds_are_in_the_ci_range():
    assert all(0 <= s < CI_PROGRAMS for s in KNOWN)


@pytest.mark.slow
def test_fuzz_slow_run_no_category_gets_worse():
    rep = run_range(SLOW_START, SLOW_PROGRAMS, examples=0, progress=False)
    worse = {c: (n, SLOW_BASELINE.get(c, 0)) for c, n in rep["primary"].items()
             if c not in INFO and n > SLOW_BASELINE.get(c, 0)}
    if worse:
        lines = [summary(rep), f"worse than SLOW_BASELINE (now, baseline): {worse}"]
        shown = 0
        for f in rep["failures"]:
            if f["category"] in worse and shown < 3:
                prog = generate(f["seed"])
                small, sout = minimize(prog, run(prog))
                lines.append(reproducer(small, sout))
                shown += 1
        pytest.fail("\n\n".join(lines))


# -- the instrument itself ---------------------------------------------------------------------
class _Planted(types.ModuleType):
    """torch with one planted bug: exp is 0.1% too large (a silent value mismatch)."""

    def __init__(self):
        super().__init__("torch")  # observed like torch (values through .detach().numpy())

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def exp(x):
        return torch.exp(x) * 1.001


def _prog(lines: list[str]) -> Program:
    return Program(0, [Stmt(code, code.split("=")[-1].strip()[:20], "op",
                            (code.split(" = ")[0],) if " = " in code else ())
                       for code in lines])


def test_planted_bug_is_found_and_minimised():
    lines = ["x0 = torch.tensor([0.5, 1.0], dtype=torch.float64, requires_grad=True)",
             "x1 = torch.tensor([2.0], dtype=torch.float64)",
             "x2 = x1 * 3", "x3 = torch.exp(x0)", "x4 = x3.sum()"]
    prog = _prog(lines)
    out = run(prog, lib=_Planted())
    assert out.primary is not None and out.primary.category == "silent-value"
    assert out.primary.line == 3 and out.primary.path == "x3"
    small, _ = minimize(prog, out, lib=_Planted())
    assert [s.code for s in small.stmts] == [lines[0], lines[3]]


def test_torch_agrees_with_itself():
    """No false positives by construction: torch against torch agrees on every CI program."""
    for seed in range(0, CI_PROGRAMS, 25):
        out = run(generate(seed), lib=torch)
        assert not out.failures, (seed, describe(out))


def test_float_tolerance_and_special_values():
    def obs(v, dt="torch.float32"):
        a = np.array(v, dtype=dt.replace("torch.", ""))
        return TObs(a.shape, dt, a, None, 0)

    def d(a, b, **kw):
        out: list = []
        diff(obs(a), obs(b), "x", 1.0, 1.0, out, **kw)
        return [c for c, _, _ in out]

    one_ulp = float(np.nextafter(np.float32(1.0), np.float32(2.0)))
    assert d([1.0, math.nan, -math.inf], [one_ulp, math.nan, -math.inf]) == []
    assert d([1.0], [1.001]) == ["silent-value"]
    assert d([0.0], [math.nan]) == ["silent-value"]
    assert d([math.inf], [math.nan]) == ["silent-value"]
    assert d([math.inf], [math.nan], loose=True) == []
    assert d([0.0], [-0.0]) == ["signed-zero"]
    assert "signed-zero" in INFO


def test_exception_types():
    assert _exc_category(RuntimeError("a"), RuntimeError("b")) is None
    assert _exc_category(IndexError("a"), RuntimeError("b")) == "exception-type"
    assert _exc_category(torch.linalg.LinAlgError("a"), type("LinAlgError", (RuntimeError,),
                                                             {})("b")) is None
    assert _exc_category(ValueError("a"), np.linalg.LinAlgError("b")) == "raw-exception"


def test_leaf_layouts_render_the_same_values():
    vals = np.arange(6, dtype=np.float32).reshape(2, 3)
    for layout in ("contig", "transposed", "strided"):
        lf = Leaf.make("x0", "float32", vals, layout, requires_grad=True, filler=9.0)
        ns = {"torch": torch}
        exec(lf.code(), ns)
        assert np.array_equal(ns["x0"].detach().numpy(), vals), layout
        assert ns["x0"].is_leaf and ns["x0"].requires_grad
