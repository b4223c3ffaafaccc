"""leafgrad.random against torch's CPU generator: same seeds, same calls, same bits."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
import warnings
from fractions import Fraction

import numpy as np
import pytest
import torch

import leafgrad
from leafgrad import _mt19937 as K
from leafgrad import random as R


class _LeafgradAsTorch:
    """leafgrad seen through torch's names, so one lambda can drive both libraries."""

    def __getattr__(self, name):
        return getattr(R, name) if hasattr(R, name) else getattr(leafgrad, name)


LG = _LeafgradAsTorch()


def ip(L, t, name, *args, **kwargs):
    """``t.name_(*args)`` in torch; ``leafgrad.random.name_(t, *args)`` in leafgrad."""
    if L is torch:
        return getattr(t, name)(*args, **kwargs)
    return getattr(R, name)(t, *args, **kwargs)


def _array(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t._data)


def assert_same(a, b, what=""):
    """Same dtype, shape and bits (so -0.0 != 0.0 and NaN == NaN)."""
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{what}[{i}]")
        return
    assert str(a.dtype) == str(b.dtype), what
    an, bn = _array(a), _array(b)
    assert an.shape == bn.shape, what
    if an.tobytes() != bn.tobytes() or np.ascontiguousarray(an).tobytes() != bn.tobytes():
        an, bn = np.ascontiguousarray(an), np.ascontiguousarray(bn)
        bad = np.nonzero(an.ravel().view(np.uint8) != bn.ravel().view(np.uint8))[0]
        if bad.size:
            i = bad[0] // an.itemsize
            raise AssertionError(
                f"{what}: {bad.size} bytes differ; first at element {i}: torch "
                f"{an.ravel()[i]!r} vs leafgrad {bn.ravel()[i]!r}"
            )


def assert_same_state():
    assert torch.get_rng_state().numpy().tobytes() == R.get_rng_state()._data.tobytes()


def run_both(case, seed):
    """Seed both libraries, run ``case`` in each, compare results and generator states."""
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about float ranges past 2**mantissa
        expected = case(torch)
    R.manual_seed(seed)
    got = case(LG)
    assert_same(expected, got)
    assert_same_state()


# ---------------------------------------------------------------------------------------------
# The case table: each entry runs the same calls on torch and on leafgrad.

F16, F32, F64 = "float16", "float32", "float64"
SIZES = [(1,), (5,), (15,), (16,), (17,), (31,), (33,), (3, 7), (1000,)]
CASES: dict[str, object] = {}


def case(name):
    def register(fn):
        CASES[name] = fn
        return fn
    return register


for _dt in (F32, F64, F16):
    for _size in SIZES + [()]:
        CASES[f"rand-{_dt}-{_size}"] = (
            lambda L, s=_size, d=_dt: L.rand(s, dtype=getattr(L, d)))
    for _size in SIZES:
        CASES[f"randn-{_dt}-{_size}"] = (
            lambda L, s=_size, d=_dt: L.randn(*s, dtype=getattr(L, d)))
    CASES[f"randn-cache-{_dt}"] = lambda L, d=_dt: [
        L.randn(n, dtype=getattr(L, d)) for n in (3, 1, 1, 2, 16, 5, 17, 1, 0, 2)]
    CASES[f"uniform_-{_dt}"] = lambda L, d=_dt: [
        ip(L, L.empty(n, dtype=getattr(L, d)), "uniform_", lo, hi)
        for n, lo, hi in ((7, -3.3, 7.1), (1000, 0.1, 0.7), (999, 1e-3, 6e4), (20, 5, 5),
                          (300, -1, 1))]
    CASES[f"normal_-{_dt}"] = lambda L, d=_dt: [
        ip(L, L.empty(n, dtype=getattr(L, d)), "normal_", m, s)
        for n, m, s in ((5, 2.5, 0.3), (16, 0, 1), (100, -1.7, 3.1), (47, 1e3, 1e-3), (3, 0, 0))]
    CASES[f"exponential_-{_dt}"] = lambda L, d=_dt: [
        ip(L, L.empty(n, dtype=getattr(L, d)), "exponential_", lam)
        for n, lam in ((5, 1.0), (100, 2.5), (33, 1e-3))]

for _n in (100003,):
    CASES[f"rand-large-{_n}"] = lambda L, n=_n: [L.rand(n), L.rand(n, dtype=L.float64)]
    CASES[f"randn-large-{_n}"] = lambda L, n=_n: [
        L.randn(n), L.randn(n, dtype=L.float64), L.randn(n, dtype=L.float16)]

RANGES = [(0, 10), (-5, 5), (0, 2**28 - 1), (0, 2**28), (0, 2**32), (0, 2**32 + 1),
          (-(2**40), 2**40), (0, 2**62), (-(2**63), 2**63 - 1), (2**63 - 10, 2**63 - 1)]
for _lo, _hi in RANGES:
    for _dt in ("int64", "int32", "float32", "float64"):
        if _dt == "int32" and not (-(2**31) <= _lo and _hi <= 2**31):
            continue
        if _dt.startswith("float") and _lo == 2**63 - 10:
            continue  # torch refuses: both bounds round to the same float
        CASES[f"randint-{_dt}-{_lo}-{_hi}"] = (
            lambda L, lo=_lo, hi=_hi, d=_dt: L.randint(lo, hi, (37,), dtype=getattr(L, d)))
for _dt, _lo, _hi in (("int16", -300, 300), ("int8", -100, 27), ("uint8", 0, 256),
                      ("bool", 0, 2), ("float16", -1000, 1000)):
    CASES[f"randint-{_dt}-{_lo}-{_hi}"] = (
        lambda L, lo=_lo, hi=_hi, d=_dt: L.randint(lo, hi, (50,), dtype=getattr(L, d)))


@case("randint-forms")
def _randint_forms(L):
    return [L.randint(10, (3,)), L.randint(3, 10, (2, 2)), L.randint(high=5, size=(4,)),
            L.randint(low=-3, high=5, size=(4,)), L.randint(7, size=(3,))]


for _dt in ("int64", "int32", "int16", "int8", "uint8", "bool", "float32", "float64", "float16"):
    CASES[f"random_-{_dt}"] = lambda L, d=_dt: [
        ip(L, L.empty(40, dtype=getattr(L, d)), "random_"),
        ip(L, L.empty(40, dtype=getattr(L, d)), "random_", 2),
        ip(L, L.empty(40, dtype=getattr(L, d)), "random_", 0, 2),
        ip(L, L.empty(40, dtype=getattr(L, d)), "random_", 1, None)]
CASES["random_-int64-edges"] = lambda L: [
    ip(L, L.empty(40, dtype=L.int64), "random_", -(2**63), None),
    ip(L, L.empty(40, dtype=L.int64), "random_", 5, None),
    ip(L, L.empty(40, dtype=L.int64), "random_", -(2**62), 2**62),
    ip(L, L.empty(40, dtype=L.float32), "random_", -(2**63), None),
    ip(L, L.empty(40, dtype=L.float32), "random_", 0, 2**30),
    ip(L, L.empty(40, dtype=L.float64), "random_", -(2**60), 2**60)]

for _n in (0, 1, 2, 3, 10, 1000, 100003):
    CASES[f"randperm-{_n}"] = lambda L, n=_n: L.randperm(n)
CASES["randperm-dtypes"] = lambda L: [
    L.randperm(50, dtype=getattr(L, d)) for d in ("int32", "float32", "float64", "int16",
                                                   "uint8", "float16", "int8")]

for _dt in (F32, F64):
    CASES[f"normal-{_dt}"] = lambda L, d=_dt: [
        L.normal(L.arange(40, dtype=getattr(L, d)), 2.5),
        L.normal(L.arange(5, dtype=getattr(L, d)), 0.5),
        L.normal(3.0, L.arange(1, 41, dtype=getattr(L, d)) / 7),
        L.normal(-1.0, L.arange(1, 6, dtype=getattr(L, d))),
        L.normal(L.arange(20, dtype=getattr(L, d)).reshape(4, 5),
                 L.arange(1, 6, dtype=getattr(L, d)) / 3),
        L.normal(L.zeros(2, 1, dtype=getattr(L, d)), L.ones(3, dtype=getattr(L, d))),
        L.normal(0.5, 2.0, size=(33,), dtype=getattr(L, d)),
        L.normal(0.5, 2.0, (3,), dtype=getattr(L, d))]
CASES["normal-mixed-dtypes"] = lambda L: [
    L.normal(L.zeros(20), L.ones(20, dtype=L.float64) * 1.1),
    L.normal(L.zeros(20, dtype=L.float64), L.ones(20) * 1.1)]

for _dt in (F32, F64, "int64", "bool", F16, "uint8"):
    CASES[f"bernoulli_-scalar-{_dt}"] = lambda L, d=_dt: [
        ip(L, L.empty(n, dtype=getattr(L, d)), "bernoulli_", p)
        for n, p in ((7, 0.3), (500, 0.5), (33, 0.0), (33, 1.0), (10, 0.999))]
for _pdt in (F32, F64, F16):
    CASES[f"bernoulli-tensor-{_pdt}"] = lambda L, d=_pdt: [
        L.bernoulli(L.rand(300, dtype=L.float64).to(getattr(L, d))),
        L.bernoulli(L.rand(3, 4, dtype=L.float64).to(getattr(L, d))),
        ip(L, L.empty(4, 5, dtype=L.float64), "bernoulli_",
           L.rand(5, dtype=L.float64).to(getattr(L, d))),
        ip(L, L.empty(60, dtype=L.int64), "bernoulli_",
           L.rand(60, dtype=L.float64).to(getattr(L, d)))]
CASES["bernoulli-scalar-p"] = lambda L: [
    L.bernoulli(L.ones(25), 0.3), L.bernoulli(L.ones(25, dtype=L.int64), p=0.7)]

_P = np.random.default_rng(0).random((4, 300))
_P[:, 1] = 0
for _dt in (F32, F64, F16):
    for _shape, _ns, _rep in (((5,), 7, True), ((3, 10), 20, True), ((300,), 1000, True),
                              ((4, 300), 50, True), ((3, 10), 1, True), ((3, 10), 1, False),
                              ((5,), 3, False), ((300,), 50, False), ((4, 300), 299, False)):
        CASES[f"multinomial-{_dt}-{_shape}-{_ns}-{_rep}"] = (
            lambda L, d=_dt, s=_shape, ns=_ns, rep=_rep: L.multinomial(
                L.tensor(_P[tuple(slice(0, k) for k in s)].astype(d)), ns, rep))


@case("like")
def _like(L):
    x32, x64 = L.zeros(4, 5), L.zeros(3, 7, dtype=L.float64)
    xi = L.zeros(2, 9, dtype=L.int64)
    return [L.rand_like(x32), L.rand_like(x64), L.randn_like(x32), L.randn_like(x64),
            L.rand_like(xi, dtype=L.float32), L.randn_like(x32, dtype=L.float64),
            L.randint_like(xi, 10), L.randint_like(x32, -3, 3), L.randint_like(x64, low=2, high=9)]


@case("non-contiguous")
def _non_contiguous(L):
    # TensorIterator fills in memory order; normal_ takes its scalar path for views
    a = ip(L, L.zeros(30, 40, dtype=L.float64).t(), "normal_", 1.37, 0.71)
    b = ip(L, L.zeros(30, 40).t(), "uniform_", -2, 3)
    c = ip(L, L.zeros(6, 8).t(), "normal_")
    d = L.randn_like(L.zeros(5, 8).t())
    e = L.rand_like(L.zeros(3, 20).t())
    f = L.multinomial(L.tensor(_P[:3, 2:42].astype(np.float32)).t(), 2)
    g = ip(L, L.zeros(4, 6, dtype=L.int64).t(), "random_", 0, 100)
    return [a, b, c, d, e, f, g]


@case("mixed-sequence")
def _mixed(L):
    out = []
    for _ in range(3):
        out += [L.rand(3), L.randn(1), L.randint(0, 7, (5,)), L.randn(2, dtype=L.float64),
                L.randperm(9), L.normal(L.zeros(17), 1.5), L.randn(20),
                ip(L, L.empty(6), "bernoulli_", 0.4), L.multinomial(L.rand(8), 3),
                ip(L, L.empty(5, dtype=L.float64), "exponential_", 0.5), L.randn(3)]
    return out


@case("generator-objects")
def _generators(L):
    g1 = L.Generator().manual_seed(11)
    g2 = L.Generator().manual_seed(11)
    out = [L.rand(4, generator=g1), L.rand(4), L.rand(4, generator=g2), L.randn(5, generator=g1),
           L.randint(0, 100, (6,), generator=g1), L.randperm(10, generator=g2),
           L.normal(L.zeros(3), 1.0, generator=g1), L.bernoulli(L.rand(5), generator=g2),
           L.multinomial(L.ones(6), 4, generator=g1),
           ip(L, L.empty(20), "normal_", generator=g2),
           ip(L, L.empty(20, dtype=L.int64), "random_", generator=g1),
           ip(L, L.empty(5), "exponential_", generator=g2), L.randn(3)]
    assert g1.get_state().tolist() != g2.get_state().tolist()
    out.append(g1.get_state())
    return out


def _fuzz_case(seed):
    """A random sequence of calls (chosen by a fixed NumPy RNG) to run on both libraries."""
    rng = np.random.default_rng(seed)
    menu = [
        lambda L, n: L.rand(n, dtype=L.float64),
        lambda L, n: L.randn(n),
        lambda L, n: L.randn(n, dtype=L.float64),
        lambda L, n: L.randn(n, dtype=L.float16),
        lambda L, n: L.randint(-50, 50, (n,)),
        lambda L, n: L.randint(0, 2**33, (n,)),
        lambda L, n: L.randperm(n),
        lambda L, n: ip(L, L.empty(n), "normal_", 0.5, 2.0),
        lambda L, n: ip(L, L.empty(n, dtype=L.float64), "uniform_", -4, 9),
        lambda L, n: ip(L, L.empty(n, dtype=L.int32), "random_"),
        lambda L, n: ip(L, L.empty(n), "bernoulli_", 0.25),
        lambda L, n: ip(L, L.empty(n, dtype=L.float64), "exponential_", 3.0),
        lambda L, n: L.bernoulli(L.rand(n)),
        lambda L, n: L.multinomial(L.rand(n + 1), min(n, 3) or 1),
        lambda L, n: L.multinomial(L.rand(2, n + 1), 4, True),
        lambda L, n: L.normal(L.zeros(n), 0.3),
    ]
    plan = [(int(rng.integers(len(menu))), int(rng.choice([1, 2, 3, 7, 15, 16, 17, 40, 129])))
            for _ in range(40)]
    return lambda L: [menu[i](L, n) for i, n in plan]


for _s in range(4):
    CASES[f"fuzz-{_s}"] = _fuzz_case(_s)


SLOW_CASES = {"rand-large-100003", "randn-large-100003", "randperm-100003"}
PARAMS = [pytest.param(name, s, id=f"{name}-seed{s}") for name in CASES
          for s in ((0, 2**40 + 3) if name not in SLOW_CASES else (5,))]


@pytest.mark.parametrize("name,seed", PARAMS)
def test_case(name, seed):
    run_both(CASES[name], seed)


def test_case_table_covers_every_sampler():
    names = " ".join(CASES)
    for sampler in ("rand-", "randn-", "randint-", "randperm-", "normal-", "bernoulli-",
                    "bernoulli_-", "multinomial-", "uniform_-", "normal_-", "random_-",
                    "exponential_-", "like", "generator-objects"):
        assert sampler in names, sampler


# ---------------------------------------------------------------------------------------------
# Seeds and state


@pytest.mark.parametrize("s", [0, 1, 2**32 - 1, 2**32, 2**63, 2**64 - 1, -1, -(2**63), 3.0])
def test_manual_seed_values(s):
    torch.manual_seed(s)
    R.manual_seed(s)
    assert R.initial_seed() == torch.initial_seed()
    assert_same(torch.rand(3), R.rand(3))
    assert_same_state()


def test_seed_out_of_range_and_type():
    with pytest.raises(ValueError):
        R.manual_seed(2**64)
    with pytest.raises(ValueError):
        R.manual_seed(-(2**63) - 1)
    with pytest.raises(RuntimeError, match="long"):
        R.Generator().manual_seed(1.5)


def test_fresh_generator_matches_torch_default_seed():
    g, tg = R.Generator(), torch.Generator()
    assert g.initial_seed() == tg.initial_seed() == 67280421310721
    assert g.get_state()._data.tobytes() == tg.get_state().numpy().tobytes()
    assert_same(torch.randn(20, generator=tg), R.randn(20, generator=g))
    assert g.device == leafgrad.device("cpu")
    with pytest.raises(RuntimeError, match="CPU"):
        R.Generator("cuda")


def test_seed_is_nondeterministic_and_recorded():
    a, b = R.seed(), R.seed()
    assert a != b and R.initial_seed() == b
    g = R.Generator()
    assert g.seed() == g.initial_seed()


@pytest.mark.parametrize("prefix", ["none", "odd-randn", "mid-block", "full-block"])
def test_state_roundtrips_between_libraries(prefix):
    calls = {"none": lambda L: None, "odd-randn": lambda L: L.randn(3, dtype=L.float64),
             "mid-block": lambda L: L.rand(300), "full-block": lambda L: L.rand(624)}[prefix]
    torch.manual_seed(9)
    calls(torch)
    R.manual_seed(9)
    calls(LG)
    assert_same_state()
    # torch's state into leafgrad (cached Box-Muller sample included), then continue both
    R.manual_seed(1)
    R.set_rng_state(torch.get_rng_state())
    assert_same_state()
    assert_same(torch.randn(5), R.randn(5))
    # and leafgrad's state into torch
    state = R.get_rng_state()
    torch.manual_seed(1)
    torch.set_rng_state(torch.from_numpy(state.numpy().copy()))
    assert_same(torch.randn(3, dtype=torch.float64), R.randn(3, dtype=leafgrad.float64))
    assert_same_state()


def test_set_rng_state_rejects_bad_states():
    good = R.get_rng_state()
    with pytest.raises(RuntimeError, match="size"):
        R.set_rng_state(leafgrad.zeros(10, dtype=leafgrad.uint8))
    with pytest.raises(RuntimeError, match="mt19937"):
        R.set_rng_state(leafgrad.zeros(5056, dtype=leafgrad.uint8))
    with pytest.raises(TypeError, match="ByteTensor"):
        R.set_rng_state(leafgrad.zeros(5056, dtype=leafgrad.int64))
    R.set_rng_state(good)


def test_generator_state_restore_and_pickle():
    g = R.Generator().manual_seed(5)
    R.rand(7, generator=g)
    state = g.get_state()
    a = R.randn(9, generator=g)
    assert g.set_state(state) is g
    assert_same(a, R.randn(9, generator=g))
    h = pickle.loads(pickle.dumps(g))
    assert_same(R.rand(5, generator=g), R.rand(5, generator=h))


def test_generator_is_independent_of_default():
    R.manual_seed(3)
    before = R.get_rng_state()._data.tobytes()
    g = R.Generator().manual_seed(3)
    R.rand(100, generator=g)
    R.randn(7, generator=g)
    assert R.get_rng_state()._data.tobytes() == before
    assert_same(R.rand(4), R.rand(4, generator=R.Generator().manual_seed(3)))


def test_fork_rng():
    R.manual_seed(4)
    with R.fork_rng():
        inside = R.rand(5)
        R.randn(3)
    assert_same(inside, R.rand(5))
    with R.fork_rng(enabled=False):
        R.rand(2)
    R.manual_seed(4)
    R.rand(5)
    x = R.rand(2)
    R.manual_seed(4)
    with R.fork_rng():
        R.rand(1000)
    R.rand(5)
    with pytest.raises(KeyError), R.fork_rng():  # restored on the way out of an error too
        R.rand(10)
        raise KeyError
    assert_same(x, R.rand(2))


# ---------------------------------------------------------------------------------------------
# Errors: same exception type as torch


ERRORS = {
    "randint-low>=high": lambda L: L.randint(5, 3, (3,)),
    "randint-uint8-neg": lambda L: L.randint(-5, 5, (3,), dtype=L.uint8),
    "randint-int32-big": lambda L: L.randint(0, 2**40, (3,), dtype=L.int32),
    "randint-float-bounds": lambda L: L.randint(0.5, 5.5, (3,)),
    "randint-requires-grad": lambda L: L.randint(3, (2,), requires_grad=True),
    "rand-int-dtype": lambda L: L.rand(2, dtype=L.int64),
    "randn-int-dtype": lambda L: L.randn(2, dtype=L.int64),
    "rand-negative": lambda L: L.randn(-1),
    "randperm-negative": lambda L: L.randperm(-1),
    "randperm-half-big": lambda L: L.randperm(3000, dtype=L.float16),
    "randperm-int8-big": lambda L: L.randperm(200, dtype=L.int8),
    "uniform-from>to": lambda L: ip(L, L.empty(3), "uniform_", 2, 1),
    "uniform-inf": lambda L: ip(L, L.empty(3), "uniform_", 0, float("inf")),
    "uniform-int": lambda L: ip(L, L.empty(3, dtype=L.int64), "uniform_"),
    "normal-neg-std": lambda L: ip(L, L.empty(3), "normal_", 0, -1),
    "normal-int": lambda L: ip(L, L.empty(3, dtype=L.int64), "normal_"),
    "normal-tensor-neg-std": lambda L: L.normal(L.zeros(2), L.tensor([-1.0, 1.0])),
    "normal-neg-float-std": lambda L: L.normal(L.zeros(2), -1.0),
    "exponential-zero": lambda L: ip(L, L.empty(3), "exponential_", 0),
    "exponential-int": lambda L: ip(L, L.empty(3, dtype=L.int64), "exponential_"),
    "bernoulli-p>1": lambda L: ip(L, L.empty(3), "bernoulli_", 1.5),
    "bernoulli-tensor-p>1": lambda L: L.bernoulli(L.tensor([0.5, 1.5])),
    "bernoulli-int-p": lambda L: L.bernoulli(L.ones(2, dtype=L.int64)),
    "bernoulli-p-shape": lambda L: ip(L, L.ones(3), "bernoulli_", L.tensor([0.1, 0.2])),
    "random-from>=to": lambda L: ip(L, L.empty(3, dtype=L.int64), "random_", 5, 3),
    "random-uint8-neg": lambda L: ip(L, L.empty(3, dtype=L.uint8), "random_", -5, 10),
    "multinomial-zero-sum": lambda L: L.multinomial(L.tensor([0.0, 0.0]), 1, True),
    "multinomial-negative": lambda L: L.multinomial(L.tensor([-1.0, 2.0]), 2, True),
    "multinomial-negative-fast": lambda L: L.multinomial(L.tensor([-1.0, 2.0]), 1),
    "multinomial-nan": lambda L: L.multinomial(L.tensor([float("nan"), 1.0]), 2, True),
    "multinomial-n0": lambda L: L.multinomial(L.tensor([1.0, 2.0]), 0, True),
    "multinomial-3d": lambda L: L.multinomial(L.ones(1, 1, 2), 1),
    "multinomial-int": lambda L: L.multinomial(L.tensor([1, 2]), 1),
    "multinomial-too-many": lambda L: L.multinomial(L.tensor([1.0, 2.0]), 3),
    "inplace-leaf": lambda L: ip(L, L.ones(2, requires_grad=True), "uniform_"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    with pytest.raises(Exception) as torch_err, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ERRORS[name](torch)
    with pytest.raises(torch_err.type) as ours:
        ERRORS[name](LG)
    assert len(str(ours.value)) > 20  # says what was wrong


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multinomial_ties_follow_torch_topk(seed):
    # q = p / Exp(1) ties when p has zeros (torch then returns zero-probability categories, in
    # libstdc++'s partial_sort / nth_element order) or in float16
    def calls(L):
        z = np.zeros((3, 200), np.float32)
        z[:, 5] = 1.0
        z[1, 7] = 2.0
        h = np.random.default_rng(seed).random((2, 500)).astype(np.float16)
        return [L.multinomial(L.tensor([0.0, 1.0, 0.0]), 3), L.multinomial(L.tensor(z), 150),
                L.multinomial(L.tensor(z), 2), L.multinomial(L.tensor(h), 400),
                L.multinomial(L.tensor(h), 5)]
    run_both(calls, seed)


def test_torch_topk_transcription_on_ties():
    rng = np.random.default_rng(0)
    for _ in range(60):
        n = int(rng.choice([3, 17, 64, 65, 200, 1000]))
        k = int(rng.integers(1, n + 1)) if rng.random() < 0.5 else max(1, n // 64)
        v = rng.integers(0, int(rng.choice([1, 2, 5, 50])), n).astype(np.float32)
        expected = torch.topk(torch.from_numpy(v), k).indices.numpy()
        assert np.array_equal(K.torch_topk(v, k), expected), (n, k)


# ---------------------------------------------------------------------------------------------
# Internals: exact arithmetic and the batched shuffles


def test_fma_emulation_is_exact():
    rng = np.random.default_rng(1)
    n = 3000
    a = rng.standard_normal(n) * 10.0 ** rng.integers(-6, 6, n)
    b = rng.standard_normal(n) * 10.0 ** rng.integers(-6, 6, n)
    c = np.where(rng.random(n) < 0.5, -(a * b) * (1 + 1e-15 * rng.standard_normal(n)),
                 rng.standard_normal(n))
    got = K.fma64(a, b, c)
    exact = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c)]
    assert np.array_equal(got, exact)
    a32, b32, c32 = (v.astype(np.float32) for v in (a, b, c))
    # products landing exactly on a float32 midpoint: float64 addition alone would double-round
    one = np.float32(1 + 2**-12)
    tie = np.float32(1 + 2**-11)
    assert K.fma32(one, one, np.float32(2**-80)) == np.nextafter(tie, np.float32(2))
    assert K.fma32(one, one, np.float32(-(2**-80))) == tie
    assert K.fma32(one, one, np.float32(0)) == tie  # a true tie goes to even
    got32 = K.fma32(a32, b32, c32)
    for x, y, z, g in zip(a32, b32, c32, got32):
        e = Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z))
        near = np.float32(float(e))  # within one float32 step of the correctly rounded result
        cands = [np.nextafter(near, np.float32(-np.inf)), near,
                 np.nextafter(near, np.float32(np.inf))]
        best = min(abs(Fraction(float(v)) - e) for v in cands)
        assert abs(Fraction(float(g)) - e) == best, (x, y, z, g)


def _inside_out_reference(engine, n):
    z = engine.random64(n)
    r = [0] * n
    for i in range(n):
        k = int(z[i] % np.uint64(i + 1))
        r[i] = r[k]
        r[k] = i
    return np.array(r)


@pytest.mark.parametrize("n", [1, 2, 7, 3000])
def test_inside_out_shuffle_matches_its_loop(n):
    # torch uses this algorithm from n = 2**32 // 20 on (too big for a unit test)
    got = K._inside_out(K.Engine(3), n, chunk=257)
    assert np.array_equal(got, _inside_out_reference(K.Engine(3), n))


def test_float32_normal_kernel_bit_exact_on_many_blocks():
    # NOTE: torch's AVX-512 build defines __AVX2__ too, so it runs the same avx_mathfun kernel
    if not K.AVX2_NORMAL or torch.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"):
        pytest.skip("the AVX2 Box-Muller kernel is compiled in only on AVX2/AVX-512 machines")
    torch.manual_seed(123)
    R.manual_seed(123)
    assert_same(torch.empty(16 * 20000).normal_(0.25, 1.5), R.normal_(leafgrad.empty(16 * 20000),
                                                                     0.25, 1.5))


@pytest.mark.slow
def test_default_cpu_capability_in_a_subprocess():
    """ATEN_CPU_CAPABILITY=default: no FMA contraction; float32 normal via libm (<= 2 ulp)."""
    code = textwrap.dedent("""
        import numpy as np, torch, leafgrad
        from leafgrad import random as R, _mt19937 as K
        assert K.CAPABILITY == "default" and not K.FUSED, K.CAPABILITY
        torch.manual_seed(0); R.manual_seed(0)
        a = torch.empty(5000).uniform_(-3.3, 7.1).numpy()
        b = R.uniform_(leafgrad.empty(5000), -3.3, 7.1)._data
        assert (a == b).all()
        a = torch.empty(5000, dtype=torch.float64).normal_(1.3, 0.7).numpy()
        b = R.normal_(leafgrad.empty(5000, dtype=leafgrad.float64), 1.3, 0.7)._data
        assert (a == b).all()
        a = torch.randn(5000).numpy(); b = R.randn(5000)._data
        ulp = np.abs(a.view(np.int32).astype(np.int64) - b.view(np.int32))
        assert ulp.max() <= 2, ulp.max()
        print("ok", (a != b).mean())
    """)
    env = dict(os.environ, ATEN_CPU_CAPABILITY="default")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr[-2000:]


# ---------------------------------------------------------------------------------------------
# Tensor-level plumbing


def test_tensor_methods_forward_to_random():
    torch.manual_seed(2)
    expected = [torch.empty(5).uniform_(1, 2), torch.empty(5).normal_(3, 4),
                torch.empty(5).bernoulli_(0.2), torch.empty(5).exponential_(3),
                torch.rand(5).bernoulli(), torch.empty(4, dtype=torch.int64).random_(0, 9)]
    R.manual_seed(2)
    got = [leafgrad.empty(5).uniform_(1, 2), leafgrad.empty(5).normal_(3, 4),
           leafgrad.empty(5).bernoulli_(0.2), leafgrad.empty(5).exponential_(3),
           R.rand(5).bernoulli(), leafgrad.empty(4, dtype=leafgrad.int64).random_(0, 9)]
    assert_same(expected, got)


def test_tensor_random_single_bound():
    torch.manual_seed(2)
    R.manual_seed(2)
    assert_same(torch.empty(6, dtype=torch.int32).random_(5),
                leafgrad.empty(6, dtype=leafgrad.int32).random_(5))


def test_inplace_bumps_version_and_returns_self():
    t = leafgrad.empty(4)
    v0 = t._vc.v if t._vc is not None else 0
    assert R.uniform_(t) is t
    assert t._vc.v == v0 + 1


def test_factory_options():
    x = R.rand(2, 3, requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.shape == (2, 3)
    assert R.randn((4,)).shape == (4,) and R.rand([2, 2]).shape == (2, 2)
    assert R.rand(3, dtype=leafgrad.float64).dtype == leafgrad.float64
    leafgrad.set_default_dtype(leafgrad.float64)
    try:
        assert R.randn(2).dtype == leafgrad.float64
    finally:
        leafgrad.set_default_dtype(leafgrad.float32)
    assert R.randint(3, (2,)).dtype == leafgrad.int64
    assert R.randperm(3, dtype=leafgrad.int32).dtype == leafgrad.int32
    assert R.rand(0).shape == (0,) and R.randperm(0).shape == (0,)
    assert R.multinomial(leafgrad.zeros(0, 3), 2).shape == (0, 2)


def test_out_argument():
    torch.manual_seed(6)
    expected = [torch.rand(3, out=torch.empty(3)), torch.randn(4, out=torch.empty(4)),
                torch.randint(0, 5, (2,), out=torch.empty(2, dtype=torch.int64)),
                torch.randperm(5, out=torch.empty(5, dtype=torch.int64)),
                torch.normal(0.0, 2.0, (3,), out=torch.empty(3))]
    R.manual_seed(6)
    outs = [leafgrad.empty(3), leafgrad.empty(4), leafgrad.empty(2, dtype=leafgrad.int64),
            leafgrad.empty(5, dtype=leafgrad.int64), leafgrad.empty(3)]
    got = [R.rand(3, out=outs[0]), R.randn(4, out=outs[1]), R.randint(0, 5, (2,), out=outs[2]),
           R.randperm(5, out=outs[3]), R.normal(0.0, 2.0, (3,), out=outs[4])]
    assert all(g is o for g, o in zip(got, outs))
    assert_same(expected, got)


def test_array_helpers_follow_the_tensor_streams():
    R.manual_seed(8)
    a = R.uniform_array((3, 4), np.float64, -1, 1)
    m = R.bernoulli_mask((50,), 0.3)
    R.manual_seed(8)
    assert_same(R.uniform_(leafgrad.empty(3, 4, dtype=leafgrad.float64), -1, 1), LG.tensor(a))
    assert np.array_equal(R.bernoulli_(leafgrad.empty(50), 0.3)._data.astype(bool), m)


# ---------------------------------------------------------------------------------------------
# Distribution sanity (guards the kernels independently of torch)


def _chi2_ok(counts, probs, crit):
    expected = probs * counts.sum()
    return (((counts - expected) ** 2) / expected).sum() < crit


def test_distributions_are_sane():
    g = R.Generator().manual_seed(0)
    n = 200_000
    u = R.rand(n, generator=g)._data
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    z = R.randn(n, dtype=leafgrad.float64, generator=g)._data
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    zs = np.concatenate([R.randn(5, generator=g)._data for _ in range(4000)])  # scalar path
    assert abs(zs.mean()) < 0.03 and abs(zs.std() - 1) < 0.03
    e = R.exponential_(leafgrad.empty(n, dtype=leafgrad.float64), 2.0, generator=g)._data
    assert abs(e.mean() - 0.5) < 0.005
    k = R.randint(0, 10, (n,), generator=g)._data
    assert _chi2_ok(np.bincount(k, minlength=10), np.full(10, 0.1), 27.9)  # p = 0.001, 9 dof
    p = np.array([0.1, 0.0, 0.2, 0.3, 0.4])
    s = R.multinomial(leafgrad.tensor(p), 50_000, True, generator=g)._data
    c = np.bincount(s, minlength=5)
    assert c[1] == 0 and _chi2_ok(c[[0, 2, 3, 4]], p[[0, 2, 3, 4]], 16.3)
    first = [int(R.multinomial(leafgrad.tensor(p), 2, generator=g)._data[0]) for _ in range(3000)]
    assert _chi2_ok(np.bincount(first, minlength=5)[[0, 2, 3, 4]], p[[0, 2, 3, 4]], 16.3)
    perm_first = [int(R.randperm(4, generator=g)._data[0]) for _ in range(4000)]
    assert _chi2_ok(np.bincount(perm_first, minlength=4), np.full(4, 0.25), 16.3)


RANDOM_NODES = [
    ("uniform_", lambda m, y: y.uniform_()),
    ("normal_", lambda m, y: y.normal_()),
    ("random_", lambda m, y: y.random_(0, 5)),
    ("bernoulli_float", lambda m, y: y.bernoulli_(0.5)),
    ("bernoulli_tensor", lambda m, y: y.bernoulli_(m.full((3,), 0.5))),
    ("exponential_", lambda m, y: y.exponential_()),
]


@pytest.mark.parametrize("name,fill", RANDOM_NODES, ids=[r[0] for r in RANDOM_NODES])
def test_in_place_fill_of_a_non_leaf_is_recorded_like_torch(name, fill):
    """Filling a tensor that requires grad records a node with zero gradient, as in torch."""
    got = []
    for m in (leafgrad, torch):
        x = m.ones(3, requires_grad=True)
        y = x * 2
        fill(m, y)
        assert y.requires_grad
        got.append(type(y.grad_fn).__name__)
        (y * 3).sum().backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0]
    assert got[0] == got[1]


@pytest.mark.parametrize("args", [("t", 1.0), (0.0, "t"), ("t", "t")])
def test_normal_of_tensors_that_require_grad_records_a_node(args):
    got = []
    for m in (leafgrad, torch):
        ts = [m.zeros(3, requires_grad=True) if a == "t" else a for a in args]
        ts = [t.exp() if isinstance(t, m.Tensor) else t for t in ts]  # std > 0, non-leaf
        z = m.normal(*ts)
        got.append(type(z.grad_fn).__name__)
        z.sum().backward()
    assert got[0] == got[1]


# ---------------------------------------------------------------------------------------------
# The C library's float64 log/log1p/sin/cos (torch's kernels call them; NumPy's AVX-512 loops
# can differ by 1 ulp).

_LIBM_CASES = {"log": lambda u: 1.0 - u, "log1p": lambda u: -u,
               "sin": lambda u: 2 * np.pi * u, "cos": lambda u: 2 * np.pi * u}


@pytest.mark.parametrize("name", sorted(_LIBM_CASES))
def test_libm_functions_equal_the_c_library(name):
    import math

    from leafgrad import _libm

    u = np.random.default_rng(7).random(20000)
    x = _LIBM_CASES[name](u)
    want = np.array([getattr(math, name)(v) for v in x.tolist()])
    assert np.array_equal(getattr(_libm, name)(x), want), _libm.chosen()
    # one element, empty, 2-D and strided inputs take the same path
    assert getattr(_libm, name)(x[5:6])[0] == want[5]
    assert getattr(_libm, name)(x[:0]).shape == (0,)
    assert np.array_equal(getattr(_libm, name)(x[:20].reshape(4, 5)), want[:20].reshape(4, 5))
    assert np.array_equal(getattr(_libm, name)(x[::3]), want[::3])
    # each fallback is exact too, wherever NumPy's own loop happens to agree
    for impl in (_libm._scalar_loop(getattr(np, name)), _libm._python_loop(getattr(math, name))):
        assert np.array_equal(impl(x), want)
        assert impl(x[7:8])[0] == want[7]
    assert _libm.chosen()[name] in ("numpy", "numpy scalar loop", "math")
