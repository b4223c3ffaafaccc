"""leafgrad.optim._kernels: each array kernel rounds exactly as the torch op it stands for.

The fused multiply-add emulation is checked on random data and on adversarial data built so
that a float64 sum lands exactly on a float32 midpoint (normal and subnormal): there a naive
"compute in float64, round to float32" is wrong, and the kernel must still equal torch.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from leafgrad._mt19937 import _two_sum
from leafgrad.optim import _kernels as K

SIZES = [1, 7, 33, 1000, 70001]  # the last crosses the kernel's chunk size


def _random(rng, n, dtype):
    return (rng.standard_normal(n) * 10.0 ** rng.integers(-3, 3, n)).astype(dtype)


def _bits_equal(a, b):
    return np.array_equal(np.asarray(a).view(np.uint8), np.asarray(b).view(np.uint8))


CASES = {
    "add": (lambda T, x, y, z, s: T(x).add(T(y), alpha=s), lambda o, x, y, z, s: K.add(o, x, y, s)),
    "lerp": (lambda T, x, y, z, s: T(x).lerp(T(y), s), lambda o, x, y, z, s: K.lerp(o, x, y, s)),
    "addcmul": (lambda T, x, y, z, s: T(z).addcmul(T(x), T(y), value=s),
                lambda o, x, y, z, s: K.addcmul(o, z, x, y, s)),
    "addcdiv": (lambda T, x, y, z, s: T(z).addcdiv(T(x), T(np.abs(y) + 1), value=s),
                lambda o, x, y, z, s: K.addcdiv(o, z, x, np.abs(y) + 1, s)),
    "mul": (lambda T, x, y, z, s: T(x).mul(s), lambda o, x, y, z, s: K.mul_scalar(o, x, s)),
    "div": (lambda T, x, y, z, s: T(x).div(s), lambda o, x, y, z, s: K.div_scalar(o, x, s)),
    "add_scalar": (lambda T, x, y, z, s: T(x).add(s),
                   lambda o, x, y, z, s: K.add_scalar(o, x, s)),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
def test_kernel_equals_torch(name, dtype):
    rng = np.random.default_rng(0)
    torch_op, ours = CASES[name]
    for n in SIZES:
        x, y, z = (_random(rng, n, dtype) for _ in range(3))
        for s in (0.1, -0.37, 0.7, 1.0, -1.0):
            want = torch_op(lambda a: torch.from_numpy(a.copy()), x, y, z, s).numpy()
            out = np.empty(n, dtype)
            ours(out, x, y, z, s)
            assert _bits_equal(out, want), (name, n, s)


def test_in_place_aliasing():
    rng = np.random.default_rng(1)
    for n in SIZES:
        p, g = _random(rng, n, np.float32), _random(rng, n, np.float32)
        want = torch.from_numpy(p.copy()).add_(torch.from_numpy(g), alpha=-0.01).numpy()
        K.add(p, p, g, -0.01)
        assert _bits_equal(p, want)


def _midpoint_cases(rng, n, subnormal):
    """float32 (a, b, c) whose float64 sum a*b + c is rounded onto a float32 midpoint."""
    out = [[], [], []]
    while len(out[0]) < n:
        m = 100_000
        if subnormal:
            c = (rng.integers(2**21, 2**23, m) * 2.0**-149).astype(np.float32)
            half = np.float64(2.0**-150)
            a = (rng.uniform(1, 2, m) * 2.0**-60).astype(np.float32)
        else:
            c = (rng.uniform(1, 2, m) * 2.0 ** rng.integers(-5, 5, m)).astype(np.float32)
            half = np.spacing(c).astype(np.float64) / 2
            a = rng.uniform(1, 2, m).astype(np.float32)
        b = (half / a).astype(np.float32)
        p = a.astype(np.float64) * b
        s = p + c
        _, err = _two_sum(p, c.astype(np.float64))
        if subnormal:
            mid = (s / 2.0**-150) % 2 == 1
        else:
            mid = (s.view(np.int64) << 35) == np.iinfo(np.int64).min
        keep = mid & (err != 0)
        for dst, src in zip(out, (a, b, c)):
            dst.extend(src[keep].tolist())
    return [np.array(v[:n], np.float32) for v in out]


@pytest.mark.parametrize("subnormal", [False, True], ids=["normal", "subnormal"])
def test_fma_is_exact_where_double_rounding_would_not_be(subnormal):
    rng = np.random.default_rng(2)
    a, b, c = _midpoint_cases(rng, 200, subnormal)
    # alone, and scattered through a long array (the chunked path)
    big = 80_000
    pos = rng.choice(big, a.size, replace=False)
    arrays = []
    for v in (a, b, c):
        filler = rng.standard_normal(big).astype(np.float32)
        filler[pos] = v
        arrays.append(filler)
    for a_, b_, c_ in ((a, b, c), arrays):
        want = torch.from_numpy(c_.copy()).addcmul(torch.from_numpy(a_),
                                                   torch.from_numpy(b_)).numpy()
        naive = (a_.astype(np.float64) * b_ + c_).astype(np.float32)
        assert not _bits_equal(naive, want)  # the case really is adversarial
        out = np.empty_like(c_)
        K.addcmul(out, c_, a_, b_)
        assert _bits_equal(out, want)


def test_zero_d_and_broadcast_scalars():
    for dtype in (np.float32, np.float64):
        p = np.array(1.5, dtype)
        K.add(K.nd(p), K.nd(p), np.array([0.25], dtype), -0.1)
        want = torch.tensor(1.5, dtype=getattr(torch, np.dtype(dtype).name)).add_(
            torch.tensor(0.25, dtype=getattr(torch, np.dtype(dtype).name)), alpha=-0.1)
        assert p.item() == want.item()
