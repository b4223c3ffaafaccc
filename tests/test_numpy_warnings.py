"""No NumPy floating-point warning (divide by zero, overflow, invalid value) reaches the user: torch
computes inf and nan silently, and so must every leafgrad op."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from opinfo import OPS

import leafgrad

_SPECIAL = {
    "float32": np.array([0., -0., 1., -1., np.inf, -np.inf, np.nan, 3e38, -3e38, 1e-45, .5, 2.],
                        np.float32),
    "float64": np.array([0., -0., 1., -1., np.inf, -np.inf, np.nan, 1.7e308, -1.7e308, 5e-324,
                         .5, 2.]),
    "float16": np.array([0., -0., 1., -1., np.inf, -np.inf, np.nan, 65000, -65000, 6e-8, .5, 2.],
                        np.float16),
}


def _leaks(inputs) -> dict:
    """Op-table rows that emit a RuntimeWarning on ``inputs(shapes)`` (their first message)."""
    leaks = {}
    for op in OPS:
        arrs = inputs(next(iter(op.shapes())))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                op.fn(leafgrad, *[leafgrad.tensor(a) for a in arrs])
            except Exception:  # noqa: BLE001,S110 - errors are other tests' business
                pass
        msgs = [str(x.message) for x in w if issubclass(x.category, RuntimeWarning)]
        if msgs:
            leaks[op.name] = msgs[0]
    return leaks


@pytest.mark.parametrize("dtype", sorted(_SPECIAL))
def test_ops_on_inf_nan_and_extremes_do_not_warn(dtype):
    leaks = _leaks(lambda shapes: [
        np.resize(np.roll(_SPECIAL[dtype], 3 * k), int(np.prod(s))).reshape(s)
        for k, s in enumerate(shapes)])
    assert not leaks, leaks


def test_ops_on_empty_inputs_do_not_warn():
    # NOTE: NumPy's "Mean of empty slice" is a Python warning that np.errstate does not catch
    leaks = _leaks(lambda shapes: [
        np.ones(tuple(0 if i == 0 else d for i, d in enumerate(s)), np.float32) for s in shapes])
    assert not leaks, leaks


def test_user_numpy_error_state_is_left_alone():
    before = np.geterr()
    leafgrad.tensor([1.0, 0.0]).reciprocal()
    assert np.geterr() == before
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        np.reciprocal(np.array([0.0]))  # the user's own NumPy still warns
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warnings as errors (pytest -W error) do not break ops
        assert leafgrad.tensor([0.0]).log().item() == float("-inf")
        assert leafgrad.tensor([float("nan")]).long().dtype == leafgrad.int64


@pytest.mark.parametrize("expr", [
    "T.tensor([1.]).var()", "T.std_mean(T.tensor([1.]))", "T.tensor([[1., 2.]]).var(0)",
    "T.tensor([1., 2.]).var(correction=3)", "T.tensor([]).var()", "T.tensor([1.]).std()",
    "T.var_mean(T.tensor([1.]))", "T.tensor([1., 2.]).var()",
])
def test_too_few_elements_for_var_warn_as_torch_not_numpy(expr):
    import torch

    def warned(T):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r = eval(expr, {"T": T})
        return r, [(x.category, str(x.message).split(" (Triggered")[0], x.filename) for x in w]

    (rt, wt), (rl, wl) = warned(torch), warned(leafgrad)
    rt, rl = (rt if isinstance(rt, tuple) else (rt,)), (rl if isinstance(rl, tuple) else (rl,))
    for a, b in zip(rt, rl, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert [w[:2] for w in wl] == [w[:2] for w in wt]  # the same warning, or none
    pkg = leafgrad.__file__.rsplit("__init__.py", 1)[0]
    assert not any(w[2].startswith(pkg) for w in wl)  # attributed to the user's line
