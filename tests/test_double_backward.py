"""Double backward (create_graph=True) against torch: the graph a gradient's computation records
(PyTorch's fused backward kernels as one node each; autograd.grad computing only the gradients
that lead to the inputs asked for), its values, and what hooks and custom Functions see."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch

import leafgrad


def _names(t) -> collections.Counter:
    seen, stack, names = set(), [t.grad_fn], []
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        names.append(type(n).__name__.replace("torch::autograd::", ""))
        stack.extend(f for f, _ in n.next_functions)
    return collections.Counter(names)


def _mlp_grad(lib, act: str):
    lib.manual_seed(0)
    nn = lib.nn
    layers = [nn.Linear(4, 8), getattr(nn, act)(), nn.Linear(8, 8), getattr(nn, act)(),
              nn.Linear(8, 1)]
    model = nn.Sequential(*layers).double()
    with lib.no_grad():  # the same weights in both libraries
        rng = np.random.default_rng(1)
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
    x = lib.tensor(np.random.default_rng(2).standard_normal((5, 4)), requires_grad=True)
    out = model(x)
    (g,) = lib.autograd.grad(out.sum(), x, create_graph=True)
    loss = out.mean() + 10 * ((g.norm(2, dim=1) - 1) ** 2).mean()
    loss.backward()
    return g, loss, [p.grad for p in model.parameters()]


@pytest.mark.parametrize("act", ["Tanh", "Sigmoid"])
def test_gradient_penalty_graph_and_values_match_torch(act):
    """grad(out, x, create_graph=True) records what torch records: one TanhBackwardBackward0
    per tanh, and no weight or bias gradient (they lead nowhere asked)."""
    lg, ll, lp = _mlp_grad(leafgrad, act)
    tg, tl, tp = _mlp_grad(torch, act)
    ln, tn = _names(lg), _names(tg)
    tn.pop("TBackward0", None)  # torch's linear transposes the weight; leafgrad's Mm reads it
    assert ln == tn
    np.testing.assert_allclose(lg.detach().numpy(), tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ll.item(), tl.item(), rtol=1e-12)
    for a, b in zip(lp, tp):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f", ["tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_backward_kernels_third_order(f, dtype):
    """tanh/sigmoid: first (float32: bitwise; float64 tanh's own result may differ from
    torch's by an ulp), second and third derivatives as torch's."""
    a = np.linspace(-3, 3, 13).astype(dtype)
    res = []
    for lib in (leafgrad, torch):
        x = lib.tensor(a, requires_grad=True)
        y = getattr(x, f)()
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), x, create_graph=True)
        (k,) = lib.autograd.grad(h.sum(), x)
        res.append((g.grad_fn.name(), g.detach().numpy(), h.detach().numpy(), k.numpy()))
    (ln, lg, lh, lk), (tn, tg, th, tk) = res
    assert ln == tn == f"{f.capitalize()}BackwardBackward0"
    tol = 1e-5 if dtype == "float32" else 1e-12
    if dtype == "float32":
        np.testing.assert_array_equal(lg, tg)
    np.testing.assert_allclose(lg, tg, rtol=1e-14)
    np.testing.assert_allclose(lh, th, rtol=tol, atol=tol)
    np.testing.assert_allclose(lk, tk, rtol=tol * 10, atol=tol)


def test_grad_skips_unneeded_inputs_hooks_see_none():
    """A node's post-hook sees None for the gradients autograd.grad did not need (torch too)."""
    seen = {}
    for lib in (leafgrad, torch):
        x = lib.ones(3, 2, requires_grad=True)
        w = lib.full((4, 2), 0.5, requires_grad=True)
        out = (x * w[:3, :]).sum()
        got = []
        out.grad_fn.next_functions[0][0].register_hook(
            lambda gi, go, got=got: got.append([g is None for g in gi]))
        lib.autograd.grad(out, x)
        seen[lib.__name__] = got
        assert out.grad_fn is not None
    assert seen["leafgrad"] == seen["torch"] == [[False, True]]
    # the node's own flags are back after the pass: a full backward computes both
    x = leafgrad.ones(2, requires_grad=True)
    w = leafgrad.ones(2, requires_grad=True)
    y = (x * w).sum()
    leafgrad.autograd.grad(y, x, retain_graph=True)
    assert y.grad_fn.next_functions[0][0].needs_input_grad == (True, True)
    y.backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_custom_function_ctx_needs_input_grad_unchanged_by_grad():
    """ctx.needs_input_grad keeps its forward-time value under autograd.grad, as in torch."""
    out = {}
    for lib in (leafgrad, torch):
        class Mul(lib.autograd.Function):
            name = lib.__name__

            @staticmethod
            def forward(ctx, a, b):
                ctx.save_for_backward(a, b)
                return a * b

            @staticmethod
            def backward(ctx, g):
                a, b = ctx.saved_tensors
                out[Mul.name] = tuple(ctx.needs_input_grad)  # noqa: B023 - used in-loop
                return g * b, g * a

        x = lib.ones(2, requires_grad=True)
        w = lib.ones(2, requires_grad=True)
        lib.autograd.grad(Mul.apply(x, w).sum(), x)
    assert out["leafgrad"] == out["torch"] == (True, True)


@pytest.mark.parametrize("beta,threshold", [(1.0, 20.0), (2.0, 3.0), (0.5, 1.0)])
def test_softplus_second_and_third_derivatives_match_torch(beta, threshold):
    """softplus: one SoftplusBackwardBackward0 node, whose input derivative is masked strictly
    below the threshold as PyTorch's softplus_double_backward (at βx == threshold the forward
    is still the curve but the second derivative is 0), with NaN from an infinite gradient."""
    a = np.array([-2.0, 0.2, threshold / beta, threshold / beta + 0.5, 1.5, -0.0])
    w = np.array([1.0, 2.0, 3.0, np.inf, -1.0, 0.5])
    res = []
    for lib in (leafgrad, torch):
        x = lib.tensor(a, requires_grad=True)
        y = lib.nn.functional.softplus(x, beta, threshold)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor(w)).sum(), x, create_graph=True)
        (k,) = lib.autograd.grad(h.sum(), x)
        res.append((g.grad_fn.name(), h.grad_fn.name(), g.detach().numpy(),
                    h.detach().numpy(), k.numpy()))
    (lgn, lhn, lg, lh, lk), (tgn, thn, tg, th, tk) = res
    assert (lgn, lhn) == (tgn, thn)
    for a_, b_ in ((lg, tg), (lh, th), (lk, tk)):
        np.testing.assert_allclose(a_, b_, rtol=1e-12, atol=1e-15)  # NaNs in the same places
    x = leafgrad.tensor(a[:3] + 0.1, requires_grad=True)
    assert leafgrad.autograd.gradgradcheck(
        lambda t: leafgrad.nn.functional.softplus(t, beta, threshold), (x,))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_glu_double_backward_matches_torch_with_nonfinite_values(dtype):
    """glu: one GluBackwardBackward0 node with PyTorch's glu_double_backward and
    glu_double_backward_grad_output, so inf/NaN meet the same factors (seed 4000262)."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        dim = int(rng.integers(0, 2))
        shape = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
        shape[dim] *= 2
        x, w = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
        g = rng.standard_normal([s // 2 if i == dim else s for i, s in enumerate(shape)])
        g = g.astype(dtype)
        for arr in (x, g, w):
            if rng.random() < 0.4:
                arr.flat[rng.integers(arr.size)] = rng.choice([np.inf, -np.inf, np.nan, -0.0])
        outs = []
        for lib in (leafgrad, torch):
            xt, gt = lib.tensor(x, requires_grad=True), lib.tensor(g, requires_grad=True)
            (gx,) = lib.autograd.grad(lib.nn.functional.glu(xt, dim), xt, gt, create_graph=True)
            h = lib.autograd.grad((gx * lib.tensor(w)).sum(), [xt, gt])
            outs.append((gx.grad_fn.name(), [t.detach().numpy() for t in (gx, *h)]))
        (ln, la), (tn, ta) = outs
        assert ln == tn == "GluBackwardBackward0"
        for a, b in zip(la, ta):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)  # NaN/inf in the same places
    x = leafgrad.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    assert leafgrad.autograd.gradgradcheck(lambda t: leafgrad.nn.functional.glu(t, 1), (x,))
