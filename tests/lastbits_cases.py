"""Last-bit agreement with torch: the cases and the measurement (tests/test_last_bits.py and
benchmarks/last_bits.py share them).

Each case is one op on fixed-seed random inputs over a range (wide and narrow); a run computes
the forward and the gradient (with a random upstream gradient, so that ``grad * ...`` orders
matter) in leafgrad and in torch and counts the elements whose bits are equal (nan = nan).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DTYPES = ("float32", "float64", "float16")


@dataclass(frozen=True)
class Case:
    """One op over one input range: ``fn(lib, x)`` runs under leafgrad and torch alike."""

    name: str
    fn: Callable
    lo: float
    hi: float
    dtypes: tuple[str, ...] = DTYPES
    grad: bool = True
    # a second input (binary ops): its range
    lo2: float | None = None
    hi2: float | None = None
    log_range: bool = False  # sample |x| log-uniformly (wide ranges of positive inputs)


def _F(lib):
    return lib.nn.functional


def _unary(name, fn, wide, narrow, **kw):
    return [Case(f"{name}", fn, *narrow, **kw), Case(f"{name}[wide]", fn, *wide, **kw)]


CASES: list[Case] = [
    *_unary("exp", lambda m, x: x.exp(), (-87, 88), (-2, 2)),
    *_unary("log", lambda m, x: x.log(), (1e-30, 1e30), (0.1, 4), log_range=True),
    *_unary("tanh", lambda m, x: x.tanh(), (-12, 12), (-1, 1)),
    *_unary("sigmoid", lambda m, x: x.sigmoid(), (-40, 40), (-2, 2)),
    *_unary("sin", lambda m, x: x.sin(), (-1e4, 1e4), (-3, 3)),
    *_unary("cos", lambda m, x: x.cos(), (-1e4, 1e4), (-3, 3)),
    *_unary("expm1", lambda m, x: x.expm1(), (-80, 80), (-1, 1)),
    *_unary("log1p", lambda m, x: x.log1p(), (-0.99, 1e6), (-0.5, 2)),
    *_unary("log2", lambda m, x: x.log2(), (1e-30, 1e30), (0.1, 4), log_range=True),
    *_unary("log10", lambda m, x: x.log10(), (1e-30, 1e30), (0.1, 4), log_range=True),
    *_unary("exp2", lambda m, x: x.exp2(), (-120, 120), (-3, 3)),
    *_unary("sinh", lambda m, x: x.sinh(), (-80, 80), (-1, 1)),
    *_unary("cosh", lambda m, x: x.cosh(), (-80, 80), (-1, 1)),
    Case("asin", lambda m, x: x.asin(), -0.999, 0.999),
    Case("acos", lambda m, x: x.acos(), -0.999, 0.999),
    *_unary("atan", lambda m, x: x.atan(), (-1e4, 1e4), (-2, 2)),
    Case("atan2", lambda m, x, y: m.atan2(x, y), -3, 3, lo2=-3, hi2=3),
    *_unary("erf", lambda m, x: x.erf(), (-6, 6), (-1, 1)),
    *_unary("erfc", lambda m, x: x.erfc(), (-6, 10), (-1, 1)),
    *_unary("sqrt", lambda m, x: x.sqrt(), (1e-30, 1e30), (0.1, 4), log_range=True),
    *_unary("rsqrt", lambda m, x: x.rsqrt(), (1e-30, 1e30), (0.1, 4), log_range=True),
    *_unary("reciprocal", lambda m, x: x.reciprocal(), (-1e4, 1e4), (0.1, 4)),
    Case("square", lambda m, x: x * x, -3, 3),
    Case("pow2", lambda m, x: x ** 2, -3, 3),
    Case("pow3", lambda m, x: x ** 3, -3, 3),
    Case("pow0.5", lambda m, x: x ** 0.5, 0.01, 10),
    Case("pow-1", lambda m, x: x ** -1, 0.1, 10),
    Case("pow-2", lambda m, x: x ** -2, 0.1, 10),
    Case("pow-0.5", lambda m, x: x ** -0.5, 0.1, 10),
    Case("pow1.5", lambda m, x: x ** 1.5, 0.01, 10),
    Case("pow2.5", lambda m, x: x ** 2.5, 0.01, 10),
    Case("pow_tensor", lambda m, x, y: x ** y, 0.1, 4, lo2=-3, hi2=3),
    Case("rpow2", lambda m, x: 2 ** x, -3, 3),
    Case("rpow1.7", lambda m, x: 1.7 ** x, -3, 3),
    *_unary("softplus", lambda m, x: _F(m).softplus(x), (-40, 40), (-2, 2)),
    Case("softplus_beta", lambda m, x: _F(m).softplus(x, beta=2.0, threshold=5.0), -6, 6),
    *_unary("logsigmoid", lambda m, x: _F(m).logsigmoid(x), (-40, 40), (-2, 2)),
    *_unary("gelu", lambda m, x: _F(m).gelu(x), (-10, 10), (-2, 2)),
    *_unary("gelu_tanh", lambda m, x: _F(m).gelu(x, approximate="tanh"), (-10, 10), (-2, 2)),
    *_unary("silu", lambda m, x: _F(m).silu(x), (-40, 40), (-2, 2)),
    *_unary("mish", lambda m, x: _F(m).mish(x), (-40, 40), (-2, 2)),
    Case("elu", lambda m, x: _F(m).elu(x), -6, 6),
    Case("selu", lambda m, x: _F(m).selu(x), -6, 6),
    Case("celu", lambda m, x: _F(m).celu(x, alpha=1.5), -6, 6),
    Case("softmax", lambda m, x: _F(m).softmax(x.reshape(-1, 16), dim=-1), -5, 5),
    Case("softmax[wide]", lambda m, x: _F(m).softmax(x.reshape(-1, 16), dim=-1), -60, 60),
    Case("softmax_dim0", lambda m, x: _F(m).softmax(x.reshape(16, -1), dim=0), -5, 5),
    Case("log_softmax", lambda m, x: _F(m).log_softmax(x.reshape(-1, 16), dim=-1), -5, 5),
    Case("log_softmax[wide]", lambda m, x: _F(m).log_softmax(x.reshape(-1, 16), dim=-1), -60,
         60),
    Case("bce_logits", lambda m, x, y: _F(m).binary_cross_entropy_with_logits(
        x, y, reduction="none"), -10, 10, lo2=0, hi2=1),
]


def inputs(case: Case, dtype: str, n: int, seed: int = 0) -> list[np.ndarray]:
    """Fixed-seed inputs of ``case`` (one or two arrays of ``n`` elements)."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    lo, hi = case.lo, case.hi
    if dt == np.float16:  # keep inside half's range (max 65504, tiny 6e-8)
        lo, hi = max(lo, -6e4), min(hi, 6e4)
        if case.log_range:
            lo, hi = max(lo, 1e-4), min(hi, 6e4)
    if case.log_range:
        x = np.exp(rng.uniform(np.log(lo), np.log(hi), n))
    else:
        x = rng.uniform(lo, hi, n)
    xs = [x.astype(dt)]
    if case.lo2 is not None:
        xs.append(rng.uniform(case.lo2, case.hi2, n).astype(dt))
    return xs


def _ints(a: np.ndarray) -> np.ndarray:
    """Bits as integers ordered like the floats (adjacent floats differ by 1)."""
    it = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    i = a.view(it).astype(np.int64)
    top = np.int64(1) << (8 * a.dtype.itemsize - 1)
    return np.where(i < 0, -(i + top), i)  # NOTE: -0.0 and 0.0 both map to 0


def compare(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, int]:
    """(% of elements with equal bits, the largest ulp distance among the finite ones)."""
    ours, theirs = np.asarray(ours).ravel(), np.asarray(theirs).ravel()
    it = {2: np.int16, 4: np.int32, 8: np.int64}[ours.dtype.itemsize]
    same = (ours.view(it) == theirs.view(it)) | (np.isnan(ours) & np.isnan(theirs))
    fin = np.isfinite(ours) & np.isfinite(theirs)
    d = np.abs(_ints(ours[fin]) - _ints(theirs[fin]))
    return 100.0 * float(same.mean()) if same.size else 100.0, int(d.max()) if d.size else 0


def run(case: Case, dtype: str, n: int = 4096, seed: int = 0) -> dict:
    """Forward and gradient agreement of ``case`` in ``dtype``: {'fwd': (%, ulp), 'bwd': ...}."""
    import torch

    import leafgrad

    xs = inputs(case, dtype, n, seed)
    g = np.random.default_rng(seed + 1).standard_normal(n).astype(dtype)
    res = {}
    outs = []
    for lib in (leafgrad, torch):
        ts = [lib.tensor(x.copy(), requires_grad=case.grad) for x in xs]
        y = case.fn(lib, *ts)
        yv = y.detach().numpy().ravel().copy()
        gv = None
        if case.grad:
            gy = lib.tensor(g.reshape(tuple(y.shape)).copy())
            gs = lib.autograd.grad(y, ts, gy)
            gv = [t.detach().numpy().ravel().copy() for t in gs]
        outs.append((yv, gv))
    res["fwd"] = compare(outs[0][0], outs[1][0])
    if case.grad:
        pairs = [compare(a, b) for a, b in zip(outs[0][1], outs[1][1])]
        res["bwd"] = (min(p[0] for p in pairs), max(p[1] for p in pairs))
    return res


def table(cases=None, dtypes=DTYPES, n: int = 4096) -> list[tuple]:
    """Rows (case, dtype, fwd %, fwd max ulp, bwd %, bwd max ulp) for all cases."""
    rows = []
    for case in cases or CASES:
        for dt in dtypes:
            if dt not in case.dtypes:
                continue
            try:
                r = run(case, dt, n)
            except Exception as e:  # noqa: BLE001 - a table row says what failed
                rows.append((case.name, dt, f"error: {type(e).__name__}: {e}"[:60]))
                continue
            b = r.get("bwd", (float("nan"), 0))
            rows.append((case.name, dt, *r["fwd"], *b))
    return rows
