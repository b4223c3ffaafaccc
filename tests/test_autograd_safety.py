"""The autograd-safety matrix: every differentiable op of the op table (and each multi-output
op) × {modify an input in place after the op, modify the output in place, backward twice
without retain_graph}, each against torch: torch raises → leafgrad raises the same type;
torch succeeds → the same gradients. Cells known to differ today are strict xfails, listed
in tests/fuzz/known.py (SAFETY_KNOWN), so the table shows the current state and a fix flips it.
"""

from __future__ import annotations

import warnings

import pytest
from fuzz.known import SAFETY_KNOWN
from fuzz.safety import cases, compare

CASES = cases()


def _params():
    for c in CASES:
        marks = ([pytest.mark.xfail(strict=True, reason=f"known: {SAFETY_KNOWN[c.id]}")]
                 if c.id in SAFETY_KNOWN else [])
        yield pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_autograd_safety(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = compare(case)
    assert d is None, f"{case.id}: {d}"


def test_safety_known_names_real_cells():
    """Every SAFETY_KNOWN entry is a cell of the matrix (a renamed row must be renamed here)."""
    ids = {c.id for c in CASES}
    assert not set(SAFETY_KNOWN) - ids, sorted(set(SAFETY_KNOWN) - ids)


def test_matrix_covers_every_differentiable_row():
    import opinfo

    rows = {c.name for c in CASES}
    assert {r.name for r in opinfo.OPS if r.grad} <= rows
