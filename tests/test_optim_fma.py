"""The exact FMA kernels (``_fma.py``) and the chunked float32 updates (``_fused.py``) against
torch, bit for bit.

``test_optim.py`` runs every optimizer row through them already (its float32 parameters are
contiguous); here: the FMA kernel alone on adversarial inputs, both ways it finds subnormal
results (NumPy's underflow flag on the cast, or the explicit search of ``c``), chunk boundaries
(a tiny ``CHUNK``), special values, subnormal optimizer state, and the fallback for layouts the
chunked path does not take.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from test_optim import _assert_states_equal, _run, _same_bits, correct_sqrt  # noqa: F401
from test_optim_kernels import _midpoint_cases, _random

import leafgrad
from leafgrad.optim import _fma as F


@pytest.fixture(params=["flag", "search"])
def subnormal_check(request, monkeypatch):
    """Run a test with each way of finding float32-subnormal results."""
    if request.param == "search":  # as on a NumPy whose casts do not report underflow
        monkeypatch.setattr(F, "_FLAGS_WORK", False)
        monkeypatch.setattr(F, "_on_fperr", lambda kind, flag: None)
    return request.param


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(F, "CHUNK", 16)


def _f32(x) -> float:
    return float(np.float32(x))


def _fma(a, b, c):
    """torch's fused a * b + c (addcmul for an array b, add(alpha=) for a scalar one)."""
    T = torch.from_numpy
    if isinstance(b, np.ndarray):
        return T(c.copy()).addcmul(T(a), T(b)).numpy()
    return T(c.copy()).add(T(a), alpha=b).numpy()


def _ours(a, b, c, in_place=True):
    out = c.copy() if in_place else np.empty_like(c)
    with F.errors():
        F.fma32(out, a, b, out if in_place else c)
    return out


def test_casts_report_underflow_here():
    assert F._flags_work()  # else every run takes the explicit searches


@pytest.mark.parametrize("scalar_b", [True, False], ids=["scalar", "array"])
def test_fma32_equals_torch(scalar_b, subnormal_check):
    rng = np.random.default_rng(0)
    for n in (1, 5, 1000, F.CHUNK):
        a, b, c = (_random(rng, n, np.float32) for _ in range(3))
        for s in ([0.1, -0.37, 3.0] if scalar_b else [b]):
            s = _f32(s) if scalar_b else s
            want = _fma(a, s, c)
            assert _bits(_ours(a, s, c)) == _bits(want)
            assert _bits(_ours(a, s, c, in_place=False)) == _bits(want)


def _bits(x):
    return np.ascontiguousarray(x).tobytes()


@pytest.mark.parametrize("subnormal", [False, True], ids=["normal", "subnormal"])
def test_fma32_where_double_rounding_would_not_be_exact(subnormal, subnormal_check):
    rng = np.random.default_rng(2)
    a, b, c = _midpoint_cases(rng, 100, subnormal)
    big = 3000  # the hard cases scattered among ordinary ones
    pos = rng.choice(big, a.size, replace=False)
    arrays = []
    for v in (a, b, c):
        filler = rng.standard_normal(big).astype(np.float32)
        filler[pos] = v
        arrays.append(filler)
    for a_, b_, c_ in ((a, b, c), arrays):
        want = _fma(a_, b_, c_)
        naive = (a_.astype(np.float64) * b_ + c_).astype(np.float32)
        assert _bits(naive) != _bits(want)  # the inputs really are adversarial
        assert _bits(_ours(a_, b_, c_)) == _bits(want)


def test_fma32_special_values(subnormal_check):
    f = np.float32
    big, tiny = f(3.4e38), f(2.0**-149)
    a = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 0.0, big, big, 1.0, tiny, 1e-30, 3.0,
                  1.0], f)
    b = np.array([1.0, 2.0, 1.0, 5.0, 5.0, -5.0, 2.0, -2.0, tiny, 0.5, 1e-20, 0.0, 2.0**-24], f)
    c = np.array([1.0, 1.0, 1.0, -0.0, -0.0, 0.0, big, -big, -0.0, 0.0, 1e-40, -0.0, 1.0], f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch gives inf and nan silently; so must we
        got = _ours(a, b, c)
    assert _bits(got) == _bits(_fma(a, b, c))
    # the overflow threshold: max float32 + half an ulp is a tie, which rounds to inf
    a2 = np.array([2.0**103, 2.0**103], f)
    c2 = np.array([np.finfo(f).max, -np.finfo(f).max], f)
    for s in (1.0, -1.0, 0.5):
        assert _bits(_ours(a2, s, c2)) == _bits(_fma(a2, s, c2))


def test_fma32_subnormal_results(subnormal_check):
    # results in float32's subnormal range, with c nonzero and tiny (the inexact case) or zero
    rng = np.random.default_rng(3)
    n = 2000
    c = (rng.integers(-2**23, 2**23, n) * 2.0**-149).astype(np.float32)
    c[::7] = 0
    a = (rng.standard_normal(n) * 2.0**-100).astype(np.float32)
    b = (rng.standard_normal(n) * 2.0**-40).astype(np.float32)
    assert _bits(_ours(a, b, c)) == _bits(_fma(a, b, c))
    assert _bits(_ours(a, _f32(1e-30), c)) == _bits(_fma(a, _f32(1e-30), c))


CHUNKED_ROWS = [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.05, momentum=0.9)),
                ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
                ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1,
                             maximize=True)),
                ("SGD", dict(lr=1.0, weight_decay=1.0)),  # alpha = -1 and 1: add/subtract
                ("Adam", dict(lr=0.01)),
                ("Adam", dict(lr=0.01, betas=(0.3, 0.0), weight_decay=0.1, maximize=True)),
                ("Adam", dict(lr=0.01, amsgrad=True)),
                ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True, maximize=True))]


@pytest.mark.parametrize("name,kw", CHUNKED_ROWS, ids=[f"{n}-{i}" for i, (n, _) in
                                                       enumerate(CHUNKED_ROWS)])
@pytest.mark.usefixtures("correct_sqrt")
def test_chunk_boundaries(name, kw, small_chunks):
    # with 16-element chunks the (67,) and (5, 3) parameters cross chunk boundaries
    tp, lp, to, lo = _run(name, kw, np.float32, 12)
    for t, p in zip(tp, lp):
        assert _same_bits(t.detach().numpy(), p.detach().numpy()), (name, kw)
        assert t._version == p._version
    _assert_states_equal(to.state_dict()["state"], lo.state_dict()["state"])


@pytest.mark.parametrize("name", ["SGD", "Adam"])
@pytest.mark.usefixtures("correct_sqrt")
def test_subnormal_state(name, subnormal_check):
    # gradients near float32's smallest normal: the moments (and with SGD, the parameters)
    # decay through the subnormal range, where float64 sums round twice
    rng = np.random.default_rng(4)
    init = (rng.standard_normal(300) * 2.0**-120).astype(np.float32)
    kw = {"lr": 0.37, "momentum": 0.9} if name == "SGD" else {"lr": 1e-30}
    tp = torch.tensor(init, requires_grad=True)
    lp = leafgrad.tensor(init, requires_grad=True)
    to = getattr(torch.optim, name)([tp], foreach=False, **kw)
    lo = getattr(leafgrad.optim, name)([lp], **kw)
    for k in range(8):
        g = (rng.standard_normal(300) * 2.0 ** rng.integers(-150, -110, 300)).astype(np.float32)
        g[k::5] = 0
        tp.grad, lp.grad = torch.tensor(g), leafgrad.tensor(g)
        to.step()
        lo.step()
    assert _same_bits(tp.detach().numpy(), lp.detach().numpy())
    _assert_states_equal(to.state_dict()["state"], lo.state_dict()["state"])


@pytest.mark.parametrize("name", ["SGD", "Adam"])
@pytest.mark.usefixtures("correct_sqrt")
def test_other_layouts_take_the_array_path(name):
    # a non-contiguous float32 parameter (a transposed view) is updated op by op, identically
    rng = np.random.default_rng(5)
    base = rng.standard_normal((6, 9)).astype(np.float32)
    tp = torch.from_numpy(base.copy()).t().requires_grad_()
    lp = leafgrad.from_numpy(base.copy()).t().detach().requires_grad_()
    assert not lp._data.flags.c_contiguous
    kw = {"lr": 0.1, "momentum": 0.9} if name == "SGD" else {"lr": 0.1}
    to = getattr(torch.optim, name)([tp], foreach=False, **kw)
    lo = getattr(leafgrad.optim, name)([lp], **kw)
    for _ in range(5):
        g = rng.standard_normal((9, 6)).astype(np.float32)
        tp.grad, lp.grad = torch.tensor(g), leafgrad.tensor(g)
        to.step()
        lo.step()
    assert _same_bits(tp.detach().numpy(), lp.detach().numpy())
    _assert_states_equal(to.state_dict()["state"], lo.state_dict()["state"])


def test_errors_restores_the_callers_state():
    before = np.geterr()
    with F.errors():
        assert F._WORK.armed
    assert np.geterr() == before and not F._WORK.armed


# -- float64 ---------------------------------------------------------------------------------

def _ours64(a, b, c):
    out = c.copy()
    F.fma(out, a, b, out)
    return out


def _hard64(rng, n):
    """float64 (a, b, c) whose exact a*b + c lies within 2**-100 relative of a rounding tie:
    a naive sum, or a double-double sum without round-to-odd, rounds them the wrong way."""
    k1 = rng.integers(40, 52, n)
    k2 = 100 - k1
    sa, sb = rng.choice([-1.0, 1.0], n), rng.choice([-1.0, 1.0], n)
    a = 1 + sa * 2.0**-k1                        # a * b = 2**-53 * (1 + sa 2**-k1 + sb 2**-k2
    b = 2.0**-53 * (1 + sb * 2.0**-k2)           #                  + sa sb 2**-100)
    c = 1 + rng.integers(0, 2**20, n) * 2.0**-52  # odd and even last bits: ties go both ways
    scale = 2.0 ** rng.integers(-500, 500, n)
    return a * scale, b, c * scale


@pytest.mark.parametrize("scalar_b", [True, False], ids=["scalar", "array"])
def test_fma64_equals_torch(scalar_b, subnormal_check):
    rng = np.random.default_rng(6)
    for n in (1, 7, 5000, F.CHUNK + 3):  # the last crosses the float64 chunk (half of CHUNK)
        a, b, c = (_random(rng, n, np.float64) for _ in range(3))
        for s in ([0.1, -0.37, 3.0] if scalar_b else [b]):
            assert _bits(_ours64(a, s, c)) == _bits(_fma(a, s, c))


def test_fma64_near_ties(subnormal_check):
    rng = np.random.default_rng(7)
    a, b, c = _hard64(rng, 3000)
    want = _fma(a, b, c)
    assert (a * b + c != want).any()  # the naive sum really is wrong on these
    assert _bits(_ours64(a, b, c)) == _bits(want)


def test_fma64_extremes(subnormal_check):
    # overflowing products and splits, subnormal products, inf and nan: redone exactly
    f = np.float64
    big, tiny = 2.0**1000, 2.0**-1000
    a = np.array([np.inf, 1.0, 1e308, 1e308, big, 3 * 2.0**1020, tiny, tiny * 3.3, -0.0,
                  np.nan, 1.0, 1.5, 2.0**-537], f)
    b = np.array([2.0, np.inf, 10.0, 10.0, 3.0, 1.0, tiny, 2.0**-60, 0.0, 1.0, 1.0, 2.0**1023,
                  2.0**-537], f)
    c = np.array([1.0, -np.inf, -np.inf, -1e308, -big, -2.0**1023, 2.0**-1074, -2.0**-1070,
                  -0.0, 1.0, np.inf, -2.0**1023, 3 * 2.0**-1074], f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _ours64(a, b, c)
    want = _fma(a, b, c)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    assert _bits(got[ok]) == _bits(want[ok])
    # mixed into a chunk of ordinary elements: only the extreme ones take the slow path
    rng = np.random.default_rng(8)
    pos = rng.choice(4000, a.size, replace=False)
    arrays = [_random(rng, 4000, np.float64) for _ in range(3)]
    for arr, v in zip(arrays, (a, b, c)):
        arr[pos] = v
    got, want = _ours64(*arrays), _fma(*arrays)
    ok = ~np.isnan(want)
    assert np.array_equal(np.isnan(got), ~ok) and _bits(got[ok]) == _bits(want[ok])


def test_fma_layouts_and_broadcasting():
    # the op-by-op kernels' entry: any layout, scalars, broadcasting, out aliasing an input
    rng = np.random.default_rng(9)
    for dt in (np.float32, np.float64):
        x = rng.standard_normal((40, 30)).astype(dt)
        y = rng.standard_normal((30,)).astype(dt)
        z = rng.standard_normal((30, 40)).astype(dt).T  # not C-contiguous
        want = torch.from_numpy(z.copy()).addcmul(torch.from_numpy(x), torch.from_numpy(y))
        out = np.empty((40, 30), dt)
        F.fma(out, x, y, z)
        assert _bits(out) == _bits(want.numpy())
        zz = z.copy()
        F.fma(zz, x, y, zz)  # out is c
        assert _bits(zz) == _bits(want.numpy())
        xx = x.copy()
        F.fma(xx, xx, y, z)  # out is a: computed aside, then copied
        assert _bits(xx) == _bits(want.numpy())
        s = dt(0.25).item()
        out = np.empty((40, 30), dt)
        F.fma(out, s, x, z)  # a scalar first factor
        want = torch.from_numpy(z.copy()).add(torch.from_numpy(x), alpha=s)
        assert _bits(out) == _bits(want.numpy())
