"""explain(), the stepper and explaining(): the narration tells the facts the engine computes."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import leafgrad
from leafgrad.autograd import engine
from leafgrad.autograd.explanation import (
    Explanation,
    backward_steps,
    explain,
    explaining,
    fmt_array,
    fmt_num,
)
from leafgrad.autograd.sites import recording_sites


def founding():
    x = leafgrad.tensor([[1.0, 0.0], [-1.0, 1.0]], requires_grad=True)
    z = x.pow(2).sum()
    return x, z


# -- the founding example -----------------------------------------------------------------------
def test_founding_narration_english_states_the_tutorials_facts():
    with recording_sites():
        x, z = founding()
    text = explain(z).text(width=10_000)
    assert "z = x₁² + x₂² + x₃² + x₄²" in text  # the function, element by element
    assert re.search(r"∂z/∂xᵢ = .*2·xᵢ", text)  # the derivative in general form
    for i, (xi, gi) in enumerate([(1, 2), (0, 0), (-1, -2), (1, 2)], start=1):
        sub = "₁₂₃₄"[i - 1]
        assert f"∂z/∂x{sub} = 1 × 2·({xi}) = {gi}" in text  # the four values
    assert "x.grad = tensor([[ 2.,  0.],\n" in text  # the final gradient, as torch prints it
    assert "[-2.,  2.]])" in text
    assert "Leaves" in text and "x [2, 2]" in text  # x is a leaf ...
    assert "Non-leaf" in text and "z = t1.sum() (SumBackward0)" in text  # ... z is not
    assert "x is a leaf, so the chain rule stops here" in text
    assert "x.grad was None, so it becomes [[2, 0], [-2, 2]]" in text
    assert "created at test_explain.py:" in text and "z = x.pow(2).sum()" in text
    assert "PowBackward0" in text and "SumBackward0" in text and "AccumulateGrad" in text
    assert x.grad is None  # explain changes nothing


def test_founding_narration_chinese_states_the_tutorials_facts():
    x, z = founding()
    text = explain(z, lang="zh").text()
    assert "z = x₁² + x₂² + x₃² + x₄²" in text
    assert re.search(r"∂z/∂xᵢ = .*2·xᵢ", text)
    assert "∂z/∂x₃ = 1 × 2·(-1) = -2" in text
    assert "x.grad = tensor([[ 2.,  0.]," in text
    assert "叶子张量" in text and "非叶子张量" in text
    assert "x 是叶子" in text
    assert "反向传播" in text and "链式法则" in text
    assert "x.grad 原来是 None" in text
    assert x.grad is None


def test_explain_then_backward_agree_and_backward_flag_applies():
    x, z = founding()
    ex = explain(z, backward=True)
    assert ex.applied
    assert torch.equal(torch.tensor(x.grad.numpy()), torch.tensor([[2.0, 0.0], [-2.0, 2.0]]))
    assert np.array_equal(ex.grad_of(x).numpy(), x.grad.numpy())
    assert "backward() has run" in ex.text()


# -- the narrated numbers are the engine's -----------------------------------------------------
def _graphs():
    rng = np.random.default_rng(0)

    def broadcast(lib):
        a = lib.tensor(rng_a, requires_grad=True)
        b = lib.tensor(rng_b, requires_grad=True)
        return (a * b + b).sum(), (a, b)

    def reuse(lib):
        a = lib.tensor(rng_a, requires_grad=True)
        h = a.sin()
        return (h * h + h).mean(), (a,)

    def matmul(lib):
        a = lib.tensor(rng_a, requires_grad=True)
        w = lib.tensor(rng_w, requires_grad=True)
        return (a @ w).tanh().sum(), (a, w)

    def reductions(lib):
        a = lib.tensor(rng_a, requires_grad=True)
        return (a.sum(1) * a.mean(0).sum() + a.mean()).sum(), (a,)

    rng_a = rng.standard_normal((2, 3)).astype(np.float32)
    rng_b = rng.standard_normal(3).astype(np.float32)
    rng_w = rng.standard_normal((3, 2)).astype(np.float32)
    return {"broadcast": broadcast, "reuse": reuse, "matmul": matmul, "reductions": reductions}


GRAPHS = _graphs()


@pytest.mark.parametrize("name", list(GRAPHS))
def test_narrated_gradients_are_the_engines(name):
    out, leaves = GRAPHS[name](leafgrad)
    ex = explain(out)
    text = ex.text(width=10_000)
    narrated = [ex.grad_of(t).numpy().copy() for t in leaves]
    assert all(t.grad is None for t in leaves)
    out.backward()
    tout, tleaves = GRAPHS[name](torch)
    tout.backward()
    for t, n, tt in zip(leaves, narrated, tleaves):
        assert np.array_equal(n, t.grad.numpy())  # bit for bit the engine's
        np.testing.assert_allclose(n, tt.grad.numpy(), rtol=1e-5, atol=1e-6)  # and torch's
        nm = ex.names.of_leaf(t)
        assert f"{nm}.grad was None, so it becomes {fmt_array(t.grad.numpy())}" in text
    # every gradient a step sends on appears in the text, as computed
    for s in ex.steps:
        for g in s.grad_inputs:
            if g is not None:
                assert fmt_array(g.numpy()) in text


def test_broadcast_and_reuse_are_narrated_as_automatic_steps():
    a = leafgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = leafgrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = (a * b + a).sum()
    text = explain(y).text(width=10_000)
    # b was broadcast from [3] to [2, 3]; its gradient is a's columns summed: [5, 7, 9]
    assert "b had shape [3] and was broadcast to [2, 3]" in text
    assert "[[1, 2, 3], [4, 5, 6]] → [5, 7, 9]" in text
    assert "∂y/∂b₁ (via t2₄) = 1 × (4) = 4" in text
    # a is used twice: once by the product, once by the sum
    assert "a is used 2 times" in text
    assert "[[1, 1, 1], [1, 1, 1]] + [[0.5, -1, 2], [0.5, -1, 2]] = [[1.5, 0, 3], [1.5, 0, 3]]" \
        in text


def test_matmul_and_mean_narration():
    a = leafgrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = leafgrad.tensor([[1.0], [-1.0]], requires_grad=True)
    loss = (a @ w).mean()
    text = explain(loss).text(width=10_000)
    assert "t1 = a @ w" in text
    assert "∂L/∂a = ∂L/∂t1 @ wᵀ" in text
    assert "∂loss/∂w = a.mT @ ∂loss/∂t1 = [[2], [3]]" in text
    assert "the mean of the 2 elements of t1" in text


def test_large_tensors_are_summarised():
    a = leafgrad.ones(20, 30, requires_grad=True)
    text = explain((a * 3).sum()).text(width=10_000)
    assert "shape [20, 30]: mean 3, std 0, min 3, max 3" in text
    assert "∂t2ᵢ/∂aᵢ = 3" in text
    assert "3 is a plain number, a constant" in text


def test_existing_grad_is_narrated_as_accumulation():
    x = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    y = (x * 3).sum()
    text = explain(y).text(width=10_000)
    assert "x.grad already held [2, 4]" in text
    assert "[2, 4] + [3, 3] = [5, 7]" in text
    assert x.grad.tolist() == [2.0, 4.0]


def test_retain_grad_and_hooks_are_mentioned():
    x = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: g)
    text = explain(h.sum()).text(width=10_000)
    assert "h.retain_grad() was called, so h.grad keeps this gradient: [1, 1]" in text
    assert "a hook is registered here" in text
    assert h._grad is None  # narrated, not stored


def test_non_scalar_output_with_gradient():
    x = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    ex = explain(x * x, leafgrad.tensor([1.0, -1.0]))
    assert "the gradient passed to backward(): [1, -1]" in ex.text(width=10_000)
    assert ex.grad_of(x).tolist() == [2.0, -4.0]


def test_explaining_after_backward_says_how_to_fix():
    x, z = founding()
    z.backward()
    with pytest.raises(RuntimeError, match="already freed"):
        explain(z)


def test_html_repr_has_the_picture_and_the_steps():
    x, z = founding()
    ex = explain(z)
    assert isinstance(ex, Explanation)
    h = ex._repr_html_()
    assert "<svg" in h and "Step 2 of 3: PowBackward0" in h
    assert "<script" not in h  # notebooks may block scripts; the fragment needs none


# -- the stepper ---------------------------------------------------------------------------------
def _engine_order(out) -> list:
    """The order the engine runs nodes, seen through pre-hooks."""
    order, seen, stack = [], set(), [out.grad_fn]
    while stack:
        n = stack.pop()
        if n is None or n in seen:
            continue
        seen.add(n)
        n.register_prehook(lambda g, n=n: order.append(n))
        stack.extend(m for m, _ in n.next_functions)
    return order, seen


@pytest.mark.parametrize("name", list(GRAPHS))
def test_stepper_runs_in_the_engines_order_and_totals_equal_backward(name):
    out, leaves = GRAPHS[name](leafgrad)
    steps = list(backward_steps(out))
    order, nodes = _engine_order(out)
    out.backward()
    ops = [s.node for s in steps if not s.is_leaf]
    assert ops == [n for n in order if n.name() != "AccumulateGrad"]
    assert {s.node for s in steps} == nodes
    for t in leaves:
        total = sum(s.grad_output.numpy() for s in steps if s.is_leaf and s.leaf is t)
        assert np.array_equal(total, t.grad.numpy())


def test_stepper_yields_saved_tensors_jacobians_and_outputs():
    x = leafgrad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    gen = backward_steps((x ** 3).sum())
    s1 = next(gen)
    assert s1.name == "SumBackward0" and s1.grad_output.item() == 1.0
    assert s1.grad_inputs[0].tolist() == [1.0, 1.0, 1.0]
    s2 = next(gen)
    assert s2.name == "PowBackward0"
    assert s2.saved["x"].array.tolist() == [1.0, -2.0, 3.0]
    # the local Jacobian of x ** 3 is diag(3 x²)
    assert np.array_equal(s2.jacobian["x"].numpy(), np.diag([3.0, 12.0, 27.0]))
    assert s2.grad_inputs[0].tolist() == [3.0, 12.0, 27.0]
    s3 = next(gen)
    assert s3.is_leaf and s3.leaf is x and s3.grad_after.tolist() == [3.0, 12.0, 27.0]
    with pytest.raises(StopIteration):
        next(gen)
    assert x.grad is None


def test_stepper_leaves_grad_mode_alone_between_steps():
    x = leafgrad.tensor([1.0], requires_grad=True)
    for _ in backward_steps((x * 2).sum()):
        assert leafgrad.is_grad_enabled()


# -- capturing running code -------------------------------------------------------------------
def test_explaining_captures_the_last_backward_with_sites():
    original = engine.run_backward
    with explaining() as rec:
        x = leafgrad.tensor([1.0, -2.0], requires_grad=True)
        for k in range(3):
            loss = (x * x * (k + 1)).sum()
            loss.backward()
    assert engine.run_backward is original
    assert rec.count == 3 and rec.last.applied
    leaf = [s for s in rec.last.steps if s.is_leaf][0]
    assert leaf.grad_output.tolist() == [6.0, -12.0]  # the third pass alone: 2·3·x
    assert rec.last.grad_of(x).tolist() == [12.0, -24.0] == x.grad.tolist()  # 2x + 4x + 6x
    text = rec.last.text(width=10_000)
    assert "loss = (x * x * (k + 1)).sum()" in text  # the creation site
    assert "x.grad already held [6, -12]" in text


def test_number_formatting():
    assert [fmt_num(v) for v in (2.0, -0.0, 0.5, 1 / 3, 1e20)] == ["2", "0", "0.5", "0.3333",
                                                                   "1e+20"]


def test_engine_state_is_not_narrated_as_a_parameter():
    """A node's parameters (alpha, exponent...) are narrated; its engine state is not."""
    x = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    c = leafgrad.tensor([3.0, -1.0])
    text = " ".join(explain((leafgrad.add(x, c, alpha=2.5) * c + x ** 3).sum()).text().split())
    assert "alpha = 2.5" in text and "exponent = 3" in text
    assert "needs_input_grad" not in text and "next_functions" not in text
