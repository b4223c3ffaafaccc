"""Last-bit agreement with torch (issue 9): the share of elements whose bits equal torch's, per
op, dtype, forward and gradient, on fixed-seed random inputs (tests/lastbits_cases.py).

Every case must reach 99% unless it is listed in ``BELOW`` with its floor and the reason it
stays below (docs/last_bits.md has the figures and the reasons at length). The floors sit
under the measured figures, above what a formula computed in another order gives (60-85%), so
a change that loses bits fails here; a listed case that reaches 99.9% fails too, so that the
list stays true. The helpers of ``leafgrad.ops.lastbits`` are checked against exact arithmetic.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from lastbits_cases import CASES, run

from leafgrad.ops import lastbits

N = 2048

# Why a case stays below 99% (the oracle is torch 2.13 CPU with MKL pinned to AVX2, conftest).
MKL = "torch calls MKL's vector math (vsExp, vsLn, vsAsin...), which is not correctly rounded"
SLEEF = ("torch's fused kernels call Sleef (expf/log1pf/tanhf/powf u10, <= 1 ulp), which is off "
         "the correctly rounded value in ~4% of elements; emulating it costs ~80x NumPy's exp")
SLEEF64 = "torch's float64 kernels use Sleef's double functions, not the C library's"
SINCOS = ("float32 sin/cos stay NumPy's own: float64 sin costs 25 ns an element, over W3's "
          "budget, and torch's Sleef sinf is off the correctly rounded value in 5%")
GELU32 = ("torch's float32 GELU uses its own erf approximation (up to ~30 ulp from erf); "
          "not reproduced")
SOFTMAX = "one differing exp (Sleef) changes the sum, so the whole row"

BELOW: dict[tuple[str, str, str], tuple[float, str]] = {}


def _below(names, dtype: str, kinds: str, floor: float, why: str) -> None:
    for name in names.split():
        for kind in kinds.split():
            BELOW[(name, dtype, kind)] = (floor, why)


_below("exp exp[wide]", "float32", "fwd bwd", 93, MKL)
_below("log", "float32", "fwd", 89, MKL)
_below("asin", "float32", "fwd", 92, MKL)
_below("acos", "float32", "fwd", 90, MKL)
_below("atan", "float32", "fwd", 91, MKL)
_below("atan", "float64", "fwd", 93, MKL)
_below("tanh tanh[wide]", "float64", "fwd bwd", 74, MKL)
_below("erf erf[wide]", "float32", "fwd bwd", 94, MKL)
_below("erfc erfc[wide]", "float32", "fwd bwd", 87, MKL)
_below("erf erfc erfc[wide]", "float64", "fwd", 73, MKL)
_below("erf[wide]", "float64", "fwd", 95, MKL)
_below("sqrt sqrt[wide]", "float64", "fwd bwd", 95, MKL + " (vdSqrt, float64)")
_below("pow0.5", "float64", "fwd", 95, MKL + " (vdSqrt, float64)")
_below("atan2", "float32", "fwd", 94, "torch's atan2 is Sleef's atan2f")
_below("atan2", "float64", "fwd", 88, SLEEF64)
_below("sin sin[wide] cos cos[wide]", "float32", "fwd bwd", 78, SINCOS)
_below("sigmoid sigmoid[wide] silu silu[wide] softplus softplus[wide] softplus_beta logsigmoid "
       "logsigmoid[wide] mish mish[wide] exp2 exp2[wide]", "float32", "fwd bwd", 90, SLEEF)
_below("log1p", "float32", "fwd", 95, SLEEF)
_below("elu selu celu", "float32", "bwd", 92, SLEEF)
_below("pow2.5 pow_tensor rpow2 rpow1.7", "float32", "fwd bwd", 90, SLEEF)
_below("pow1.5", "float32", "fwd", 95, SLEEF)
_below("pow-2 pow-0.5", "float32", "bwd", 95, SLEEF)
_below("gelu_tanh[wide]", "float32", "bwd", 96, SLEEF)
_below("sigmoid sigmoid[wide] silu silu[wide] softplus softplus[wide] softplus_beta logsigmoid "
       "logsigmoid[wide] exp2 exp2[wide] sinh cosh gelu gelu[wide] gelu_tanh gelu_tanh[wide] "
       "mish[wide] bce_logits", "float64", "fwd bwd", 85, SLEEF64)
_below("log1p", "float64", "fwd", 94, SLEEF64)
_below("elu selu celu", "float64", "bwd", 92, SLEEF64)
_below("mish", "float64", "fwd bwd", 77, SLEEF64)
_below("pow1.5 pow2.5 pow_tensor rpow2 rpow1.7", "float64", "fwd bwd", 90,
       SLEEF64 + " (powd: NumPy's float64 power agrees in ~94%)")
_below("pow-2 pow-0.5", "float64", "bwd", 90, SLEEF64 + " (powd)")
_below("gelu gelu[wide]", "float32", "fwd bwd", 22, GELU32)
_below("gelu[wide]", "float16", "fwd bwd", 75, GELU32)
_below("softmax softmax[wide] softmax_dim0 log_softmax", "float32", "fwd bwd", 84,
       SLEEF + "; " + SOFTMAX)
# (float64 rows were 43-83% until their lanes were summed in order, as ATen's vec_reduce_all
# does for double: 90-99%)
_below("softmax softmax[wide] softmax_dim0", "float64", "fwd bwd", 89, SLEEF64 + "; " + SOFTMAX)
_below("log_softmax", "float64", "bwd", 97, SLEEF64 + "; " + SOFTMAX)
_below("log_softmax log_softmax[wide]", "float16", "fwd bwd", 86, SLEEF + "; " + SOFTMAX)

# -- the oracle on other CPUs --------------------------------------------------------------------
# MKL's vector math takes other code on some CPUs (measured on an AMD EPYC without AVX-512, where
# even its float32 sqrt is not correctly rounded) whatever MKL_ENABLE_INSTRUCTIONS says, so torch
# is another oracle there. These floors, a few points under what that machine measured, replace
# BELOW's and the 99% for the cases it moves; leafgrad computes the same bits on both machines.
OTHER_MKL = "torch's MKL vector math on a CPU where it takes its non-Intel code"
BELOW_OTHER: dict[tuple[str, str, str], float] = {}


def _below_other(names, dtype: str, kind: str, floor: float) -> None:
    for name in names.split():
        BELOW_OTHER[(name, dtype, kind)] = floor


_below_other("expm1", "float64", "fwd", 87)
_below_other("expm1 expm1[wide]", "float64", "bwd", 92)  # (result + 1: -1 exactly, so 0)
_below_other("expm1[wide]", "float64", "fwd", 91)
_below_other("log1p", "float64", "fwd", 86)
_below_other("log1p[wide] log10[wide] log_softmax", "float64", "fwd", 95)
_below_other("log10", "float64", "fwd", 76)
_below_other("sinh", "float64", "fwd", 67)
_below_other("sinh[wide] cosh[wide]", "float64", "fwd", 90)
_below_other("sinh[wide] cosh[wide]", "float64", "bwd", 91)
_below_other("cosh", "float64", "bwd", 71)
_below_other("asin", "float64", "fwd", 89)
_below_other("acos", "float64", "fwd", 88)
_below_other("sqrt sqrt[wide]", "float32", "fwd", 78)
_below_other("sqrt sqrt[wide]", "float32", "bwd", 80)
_below_other("pow0.5", "float32", "fwd", 79)
_below_other("pow1.5", "float32", "bwd", 83)
_below_other("mish", "float64", "bwd", 73)
_below_other("elu selu", "float64", "fwd", 94)
_below_other("celu", "float64", "fwd", 93)


def _mkl_intel_code() -> bool:
    """Whether torch's MKL vector math gives the bits BELOW was measured with (its float32
    sqrt correctly rounded), or takes its other code (an AMD CPU: 81%)."""
    import torch

    a = np.random.default_rng(0).uniform(0, 100, 4096).astype(np.float32)
    return float((torch.sqrt(torch.tensor(a)).numpy() == np.sqrt(a)).mean()) >= 0.995


REFERENCE_ORACLE = _mkl_intel_code()

_PARAMS = [(c, dt) for c in CASES for dt in c.dtypes]


@pytest.mark.parametrize("case,dtype", _PARAMS, ids=[f"{c.name}-{dt}" for c, dt in _PARAMS])
def test_bits_agree_with_torch(case, dtype):
    res = run(case, dtype, N)
    for kind, (pct, ulp) in res.items():
        floor, why = BELOW.get((case.name, dtype, kind), (99.0, ""))
        other = None if REFERENCE_ORACLE else BELOW_OTHER.get((case.name, dtype, kind))
        if other is not None:
            floor, why = min(floor, other), OTHER_MKL
        assert pct >= floor, (
            f"{case.name} {dtype} {kind}: {pct:.2f}% of elements bit-identical to torch's "
            f"(max {ulp} ulp apart), expected >= {floor}%" + (f" ({why})" if why else ""))
        assert not (REFERENCE_ORACLE and why and pct >= 99.9), (
            f"{case.name} {dtype} {kind} reaches {pct:.2f}%: remove it from BELOW")


def test_below_table_names_real_cases():
    names = {c.name for c in CASES}
    assert {k[0] for k in BELOW} <= names
    assert {k[0] for k in BELOW_OTHER} <= names


# -- the helpers, against exact arithmetic ------------------------------------------------------
RNG = np.random.default_rng(0)


def _exact_fma(a, b, c, dtype):
    """a*b + c in rationals, rounded once to ``dtype`` (through float64 + a tie-safe check)."""
    out = []
    for x, y, z in zip(a.tolist(), b.tolist(), c.tolist()):
        v = Fraction(x) * Fraction(y) + Fraction(z)
        r = dtype(float(v))  # float(Fraction) is correctly rounded to double
        # NOTE: double rounding (to double, then dtype) can only err at an exact dtype midpoint
        lo, hi = np.nextafter(r, dtype(-np.inf)), np.nextafter(r, dtype(np.inf))
        best = min((lo, r, hi), key=lambda t: (abs(Fraction(float(t)) - v),
                                               int(np.asarray(t).view(_int(dtype))) & 1))
        out.append(best)
    return np.array(out, dtype)


def _int(dtype):
    return {np.float16: np.int16, np.float32: np.int32, np.float64: np.int64}[dtype]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_fma_rounds_once(dtype):
    a = RNG.uniform(-2, 2, 400).astype(dtype)
    b = RNG.uniform(-2, 2, 400).astype(dtype)
    c = (-(a.astype(np.float64) * b) * RNG.uniform(0.9, 1.1, 400)).astype(dtype)  # cancellation
    got = lastbits.fma(a, b, c)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, _exact_fma(a, b, c, dtype))
    # and it differs from two roundings somewhere (the point of fusing)
    assert (got != (a * b + c)).any()


@pytest.mark.parametrize("subnormal", [False, True], ids=["normal", "subnormal"])
def test_fma_exact_where_float64_double_rounds(subnormal):
    # a float64 sum landing on a float32 midpoint: rounding it again would be an ulp off
    # (the backward formulas' fma once did that; it is now the optimizers' exact kernel)
    from test_optim_kernels import _midpoint_cases

    a, b, c = _midpoint_cases(np.random.default_rng(5), 50, subnormal)
    naive = (a.astype(np.float64) * b + c).astype(np.float32)
    want = _exact_fma(a, b, c, np.float32)
    assert (naive != want).any()  # the inputs really are adversarial
    np.testing.assert_array_equal(lastbits.fma(a, b, c), want)


def test_tanh_backward_inline_path_cannot_double_round():
    # tanh_backward's small float32 path rounds 1 - y*y to float64, then to float32 (no
    # midpoint repair, per-op cost): exact because that float64 difference never lands on a
    # float32 midpoint inexactly. Every float32 y of [2**-14, 2**-2) is checked (y*y is exact
    # in float64; below, 1 - y*y rounds to 1 far from a midpoint; above, 1 - y*y is exact).
    for e in range(-14, -2):
        y = (np.arange(2**23, 2**24, dtype=np.float64) * 2.0 ** (e - 23))
        p = y * y
        s = 1 - p
        tie = (s.view(np.int64) << 35) == np.iinfo(np.int64).min
        assert not (tie & ((1 - s) - p != 0)).any(), e


@pytest.mark.parametrize("capability,lanes", [("avx512", 16), ("avx2", 8)])
def test_lane_sum_adds_in_torchs_order(monkeypatch, capability, lanes):
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", capability)
    assert lastbits.vector_bytes() // 4 == lanes
    for n in (3, lanes, lanes + 5, 3 * lanes + 7):
        a = RNG.standard_normal((4, n)).astype(np.float32) * np.float32(1e3)
        want = []
        for row in a:
            if n < lanes:
                acc = np.float32(0)
                for v in row:
                    acc = np.float32(acc + v)
                want.append(acc)
                continue
            acc = row[:lanes].copy()
            k = lanes
            while k + lanes <= n:
                acc = acc + row[k:k + lanes]
                k += lanes
            acc[:n - k] += row[k:]
            while acc.size > 1:
                acc = acc[:acc.size // 2] + acc[acc.size // 2:]
            want.append(acc[0])
        np.testing.assert_array_equal(lastbits.lane_sum(a, -1)[:, 0], np.array(want, np.float32))
    # other axes: each lane runs down the axis in order
    a = RNG.standard_normal((7, 5)).astype(np.float32)
    acc = a[0].copy()
    for r in a[1:]:
        acc = acc + r
    np.testing.assert_array_equal(lastbits.lane_sum(a, 0)[0], acc)


def test_in_float64_rounds_once_and_blocks_agree():
    x = RNG.uniform(-20, 20, (1 << 16) + 123).astype(np.float32)  # more than one block
    got = lastbits.in_float64(np.exp, x)
    np.testing.assert_array_equal(got, np.exp(x.astype(np.float64)).astype(np.float32))
    np.testing.assert_array_equal(got[:1000], lastbits.in_float64(np.exp, x[:1000]))
    assert lastbits.in_float64(np.exp, x.astype(np.float16)).dtype == np.float16


def test_scale_keeps_the_number_in_float32_for_half():
    x = np.array([1.0, 3.0, 1000.0], np.float16)
    got = lastbits.scale(x, 0.1)
    np.testing.assert_array_equal(got, (x.astype(np.float32) * np.float32(0.1)).astype(np.float16))
    assert (got != x * np.float16(0.1)).any()  # NumPy alone rounds 0.1 to half first
