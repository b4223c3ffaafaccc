"""Fast paths added for the sequence workloads (W7, W8): the float32 erf (within 2 ulp of the
correctly rounded value and of torch's) and exact GELU through it, GELU's cached CDF across
repeated backwards, Bernoulli draws compared as integers (the same draws as before), and
linear layers with many rows."""

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


def test_gelu_cached_cdf_and_retained_graph():
    x = np.random.default_rng(1).standard_normal(50).astype(np.float32)
    lx, tx = leafgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ly, ty = leafgrad.nn.functional.gelu(lx), torch.nn.functional.gelu(tx)
    for _ in range(2):  # the second backward recomputes what the first one used and dropped
        ly.sum().backward(retain_graph=True)
        ty.sum().backward(retain_graph=True)
        np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)
    (g,) = leafgrad.autograd.grad(leafgrad.nn.functional.gelu(lx).sum(), lx, create_graph=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.gelu(tx).sum(), tx, create_graph=True)
    np.testing.assert_allclose(leafgrad.autograd.grad(g.sum(), lx)[0].numpy(),
                               torch.autograd.grad(tg.sum(), tx)[0].numpy(), rtol=1e-5,
                               atol=1e-6)


def test_bernoulli_integer_compare_draws_as_before():
    from leafgrad._mt19937 import Engine, bernoulli_scalar, uniform01_f64

    for p in (0.0, 5e-324, 2.0**-53, 0.1, 0.5, 0.9, 1 - 2.0**-53, 1.0):
        a, b = Engine(), Engine()
        a.manual_seed(3)
        b.manual_seed(3)
        np.testing.assert_array_equal(bernoulli_scalar(a, 10001, p),
                                      uniform01_f64(b, 10001) < p, err_msg=str(p))
        assert a.random32(2).tolist() == b.random32(2).tolist()


def test_linear_with_many_rows_matches_torch():
    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((300, 16), (8, 16), (8,)))
    lo = leafgrad.nn.functional.linear(*(leafgrad.tensor(a) for a in (x, w, b)))
    to = torch.nn.functional.linear(*(torch.tensor(a) for a in (x, w, b)))
    np.testing.assert_allclose(lo.numpy(), to.numpy(), rtol=1e-5, atol=1e-5)
    assert lo.numpy().flags.c_contiguous


def test_workspace_recycles_only_whole_unshared_arrays():
    from leafgrad.ops import _workspace as ws

    ws.clear()
    a = ws.take((300, 100), np.float32)
    ws.give(a)
    assert ws.take((300, 100), np.float32) is a  # recycled
    assert ws.take((300, 100), np.float32) is not a  # given out once only
    ws.give(a[:10], np.zeros(3))  # views and small arrays are never pooled
    assert ws._held[0] == 0
    saved = ws.Saved((a,), (a,))
    del saved  # dropping a node's saved state hands its buffers back
    assert ws.take((300, 100), np.float32) is a
    big = np.empty(ws.MAX_BYTES // 4 + 1, np.float32)
    ws.give(big)  # over the bound: freed, not kept
    assert ws._held[0] == 0
    ws.clear()
