"""utils.checkpoint against torch: same gradients (inputs and closed-over params), less memory."""

# Functions defined in the per-library loops run inside that iteration: binding is intended.
# ruff: noqa: B023

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as TC

import leafgrad
import leafgrad.utils.checkpoint as LC

pytestmark = pytest.mark.usefixtures("each_device")  # every test on cpu, fake (and cuda)

RNG = np.random.default_rng(2)
X = RNG.standard_normal((4, 8))
W = RNG.standard_normal((8, 8)) * 0.3


def _block(lib, w):
    def f(x):
        h = x
        for _ in range(6):
            h = (h @ w).tanh() * h.sigmoid() + h
        return h
    return f


@pytest.mark.parametrize("reentrant", [True, False])
def test_same_gradients_as_torch_and_as_plain(reentrant):
    res = []
    for lib, ck in ((leafgrad, LC), (torch, TC)):
        for use_ck in (True, False):
            x = lib.tensor(X, requires_grad=True)
            w = lib.tensor(W, requires_grad=True)
            f = _block(lib, w)
            y = ck.checkpoint(f, x, use_reentrant=reentrant) if use_ck else f(x)
            (y * y).sum().backward()
            res.append((y.detach().cpu().numpy(), x.grad.cpu().numpy().copy(),
                        w.grad.cpu().numpy().copy()))
    for r in res[1:]:
        for a, b in zip(res[0], r):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_rng_state_preserved_for_recompute():
    res = []
    for lib, ck in ((leafgrad, LC), (torch, TC)):
        lib.manual_seed(0)
        x = lib.tensor(X, requires_grad=True)
        y = ck.checkpoint(lambda t: t * lib.rand(t.shape), x, use_reentrant=True)
        y.sum().backward()
        res.append((y.detach().cpu().numpy(), x.grad.cpu().numpy()))
    np.testing.assert_allclose(res[0][1], res[0][0] / X, rtol=1e-6)  # grad is the same mask
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6)


def _saved_bytes(t) -> int:
    """Bytes of the arrays held by the nodes reachable from ``t`` (saved inputs and outputs)."""
    seen_nodes, seen_arrays, total = set(), set(), 0
    stack = [t.grad_fn]
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen_nodes:
            continue
        seen_nodes.add(id(n))
        held = [getattr(i, "_data", None) for i in (getattr(n, "inputs", None) or ())]
        held.append(getattr(n, "_out", None))
        for a in held:
            if hasattr(a, "nbytes") and id(a) not in seen_arrays:  # an array of any device
                seen_arrays.add(id(a))
                total += a.nbytes
        stack.extend(f for f, _ in n.next_functions)
    return total


def test_checkpoint_holds_fewer_saved_bytes():
    x = leafgrad.tensor(X, requires_grad=True)
    w = leafgrad.tensor(W, requires_grad=True)
    plain = _saved_bytes(_block(leafgrad, w)(x))
    ck = _saved_bytes(LC.checkpoint(_block(leafgrad, w), x, use_reentrant=False))
    assert ck == X.nbytes and plain > 10 * ck


def test_use_reentrant_default_warns_and_kwargs():
    for ck in (LC, TC):
        with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
            ck.checkpoint(lambda t: t * 2, leafgrad.ones(1) if ck is LC else torch.ones(1))
    lx = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    for ck, x in ((LC, lx), (TC, tx)):
        ck.checkpoint(lambda t, k=1: t * k, x, use_reentrant=False, k=3).sum().backward()
        with pytest.raises(ValueError, match="Unexpected keyword arguments"):
            ck.checkpoint(lambda t, k=1: t * k, x, use_reentrant=True, k=3)
    np.testing.assert_allclose(lx.grad.cpu().numpy(), tx.grad.cpu().numpy())


def test_checkpoint_sequential():
    res = []
    for lib, ck in ((leafgrad, LC), (torch, TC)):
        x = lib.tensor(X, requires_grad=True)
        fns = [lambda t: t.sin(), lambda t: t * 2, lambda t: t.exp(), lambda t: t.tanh()]
        y = ck.checkpoint_sequential(fns, 2, x, use_reentrant=False)
        y.sum().backward()
        res.append(x.grad.cpu().numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-6)
