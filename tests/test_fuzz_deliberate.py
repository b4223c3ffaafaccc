"""The deliberate differences (tests/fuzz/deliberate.py, docs/differences.md): torch still
shows each one, the fuzzer classifies each one's example as it, and each condition is narrow."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from fuzz import deliberate
from fuzz.compare import INFO, TObs
from fuzz.program import Program, Stmt
from fuzz.runner import _deliberate, run

DOCS = Path(__file__).resolve().parent.parent / "docs" / "differences.md"
ENTRIES = {e.name: e for e in deliberate.ENTRIES}


def _program(example) -> Program:
    stmts = []
    for code, op in example:
        # a line "xN = ..." writes xN; "x1.sum().backward()" writes nothing
        assigns = re.match(r"(x\d+) = ", code)
        target, rhs = (assigns.group(1), code[assigns.end():]) if assigns else (None, code)
        reads = tuple(sorted(set(re.findall(r"\bx\d+\b", rhs))))
        kind = ("leaf" if op == "leaf" else "backward" if op.endswith("backward") else
                "grad" if op in ("grad", "grad2:grad") else "op")
        stmts.append(Stmt(code, op, kind, (target,) if target else (), reads))
    return Program(0, stmts)


@pytest.mark.parametrize("name", list(ENTRIES))
def test_torch_still_shows_the_difference(name):
    # fails the day torch is fixed: then remove the entry, its docs section and the difference
    if not ENTRIES[name].shown_here():
        pytest.skip("torch on this CPU takes a path without this difference")
    assert ENTRIES[name].torch_still_differs(), (
        f"torch no longer shows '{name}': remove its row in tests/fuzz/deliberate.py, its "
        "section in docs/differences.md, and leafgrad's deliberate difference")


@pytest.mark.parametrize("name", list(ENTRIES))
def test_example_is_reported_as_this_entry(name):
    # as in a fuzz run (python -m tests.fuzz): torch on two threads (conftest sets one, and
    # torch's float32 convolution answers differently on one thread)
    if not ENTRIES[name].shown_here():
        pytest.skip("torch on this CPU takes a path without this difference")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        out = run(_program(ENTRIES[name].example))
    finally:
        torch.set_num_threads(before)
    cats = [(m.category, m.detail) for m in out.mismatches]
    assert out.ok, cats
    assert any(c == "deliberate" and d.startswith(f"[{name}]") for c, d in cats), cats


@pytest.mark.parametrize("name", list(ENTRIES))
def test_each_entry_has_its_docs_section(name):
    text = DOCS.read_text()
    assert f'<a id="{name}"></a>' in text
    section = text.split(f'<a id="{name}"></a>', 1)[1].split("<a id=", 1)[0]
    for part in ("**What differs.**", "```python", "**What leafgrad does.**", "**Why.**"):
        assert part in section, (name, part)


def test_deliberate_is_information_not_failure():
    assert "deliberate" in INFO


def _seen(op, code, t, lv, inputs, dtype="float32"):
    return deliberate.Seen(op, code, "silent-value", "x1", dtype, np.asarray(t, dtype),
                           np.asarray(lv, dtype), {k: np.asarray(v, dtype)
                                                   for k, v in inputs.items()})


def test_gelu_condition_is_narrow():
    inf, nan = np.inf, np.nan
    code = "x1 = torch.nn.functional.gelu(x0)"
    ok = _seen("op:gelu", code, [nan, 1.0], [inf, 1.0], {"x0": [inf, 1.0]})
    assert deliberate.match(ok)[0].name == "gelu-float32-inf"
    for bad in (
        _seen("op:gelu", code, [nan, 1.0], [inf, 1.0], {"x0": [5.0, 1.0]}),   # input not inf
        _seen("op:gelu", code, [nan, 1.0], [-inf, 1.0], {"x0": [inf, 1.0]}),  # not +inf
        _seen("op:gelu", code, [nan, 1.0], [inf, 1.0], {"x0": [inf, 1.0]}, "float64"),
        _seen("op:gelu_tanh", code, [nan, 1.0], [inf, 1.0], {"x0": [inf, 1.0]}),
        _seen("op:gelu", "x1 = torch.nn.functional.gelu(x0, approximate='tanh')",
              [nan, 1.0], [inf, 1.0], {"x0": [inf, 1.0]}),
    ):
        assert deliberate.match(bad) is None


def test_conv_condition_is_narrow():
    inf = np.inf
    code = "x3 = torch.nn.functional.conv1d(x0, x1, padding=1)"
    x, w = [[[1.0, 2.0]]], [[[inf, 1.0]]]
    # torch float64 gives NaN at position 0 (0 * inf with the padding): leafgrad's answer
    ok = _seen("op:conv1d", code, [[[1.0, inf, inf]]], [[[np.nan, inf, inf]]],
               {"x0": x, "x1": w})
    assert deliberate.match(ok)[0].name == "conv-float32-padding-nonfinite"
    finite_w = _seen("op:conv1d", code, [[[1.0, 3.0, 2.0]]], [[[np.nan, 3.0, 2.0]]],
                     {"x0": x, "x1": [[[1.0, 1.0]]]})
    assert deliberate.match(finite_w) is None  # no inf/NaN operand: a real bug
    no_pad = _seen("op:conv1d", "x3 = torch.nn.functional.conv1d(x0, x1)", [[[inf]]],
                   [[[np.nan]]], {"x0": x, "x1": w})
    assert deliberate.match(no_pad) is None
    # leafgrad NaN where torch's own float64 result is finite: a real bug, not this entry
    wrong = _seen("op:conv1d", code, [[[1.0, inf, 2.0]]], [[[np.nan, inf, np.nan]]],
                  {"x0": x, "x1": w})
    assert deliberate.match(wrong) is None


def test_an_explained_element_does_not_hide_another_difference():
    inf, nan = np.inf, np.nan
    st = Stmt("x1 = torch.nn.functional.gelu(x0)", "op:gelu", "op", ("x1",), ("x0",))

    def obs(v):
        a = np.asarray(v, np.float32)
        return TObs(a.shape, "torch.float32", a, None, None)

    inputs = {"x0": obs([inf, 1.0])}
    assert _deliberate(st, "silent-value", "x1", obs([nan, 1.0]), obs([inf, 1.0]), inputs,
                       1.0, False, None) == "gelu-float32-inf"
    assert _deliberate(st, "silent-value", "x1", obs([nan, 1.0]), obs([inf, 1.5]), inputs,
                       1.0, False, None) is None


def test_batch_norm_condition_is_narrow():
    inf, nan = np.inf, np.nan
    code = ("x2 = torch.nn.functional.batch_norm(x0, torch.tensor([0.1, -0.2, 0.3], "
            "dtype=x0.dtype), torch.tensor([0.5, 1.0, 2.0], dtype=x0.dtype), x1, x1)")
    x, w = [[-0.5, -1.5, 2.0]], [-1.5, -2.0, -inf]
    ok = _seen("op:batch_norm_eval", code, [[0.0, 0.0, -inf]], [[0.0, 0.0, nan]],
               {"x0": x, "x1": w}, "float64")
    hit = deliberate.match(ok)
    assert hit is not None and hit[0].name == "batch-norm-layout-nonfinite"
    # leafgrad inf where torch's contiguous path gives NaN: not this entry
    bad = _seen("op:batch_norm_eval", code, [[0.0, 0.0, -inf]], [[0.0, 0.0, inf]],
                {"x0": x, "x1": w}, "float64")
    assert deliberate.match(bad) is None
    other_op = _seen("op:instance_norm", code, [[0.0, 0.0, -inf]], [[0.0, 0.0, nan]],
                     {"x0": x, "x1": w}, "float64")
    assert deliberate.match(other_op) is None
