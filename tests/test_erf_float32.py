"""The fast float32 erf (leafgrad/ops/elementwise/special.py, used by exact GELU): within 2 ulp
of the correctly rounded value and of torch's, across the whole range and the corners; exact
GELU through it against torch."""

from __future__ import annotations

import math

import numpy as np
import torch

import leafgrad
from leafgrad.ops.elementwise.special import _erf_f32


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.view(np.int32).astype(np.int64) - b.view(np.int32).astype(np.int64))


def test_float32_erf_within_2_ulp():
    xs = np.concatenate([np.linspace(-6, 6, 120001), np.logspace(-30, 0.8, 4000),
                         -np.logspace(-30, 0.8, 4000), [0.0, -0.0, 0.9, -0.9, 4.0, 3.92]])
    xs = xs.astype(np.float32)
    got = _erf_f32(xs)
    exact = np.array([math.erf(float(v)) for v in xs]).astype(np.float32)
    assert _ulps(got, exact).max() <= 2
    assert _ulps(got, torch.tensor(xs).erf().numpy()).max() <= 2
    special = _erf_f32(np.array([np.inf, -np.inf, np.nan, -0.0], np.float32))
    assert special[:2].tolist() == [1.0, -1.0] and math.isnan(special[2])
    assert math.copysign(1.0, special[3]) == -1.0
    assert _erf_f32(np.float32(0.5).reshape(())).shape == ()
    assert _erf_f32(xs[:-1].reshape(-1, 2)[:, ::-1]).shape == (xs.size // 2, 2)


def test_exact_gelu_float32_matches_torch():
    """Within what one ulp of erf moves: x·(1 + erf) cancels for x ≪ 0, in torch too."""
    x = np.random.default_rng(0).standard_normal(5000).astype(np.float32) * 3
    lx, tx = leafgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo, to = leafgrad.nn.functional.gelu(lx), torch.nn.functional.gelu(tx)
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), rtol=1e-6, atol=1e-6)
    lo.sum().backward()
    to.sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)
