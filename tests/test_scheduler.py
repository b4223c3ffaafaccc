"""One scheduler: the engine's pass and explain's steps (backward_steps, explain, explaining) are
the same walk, so per-node gradients, order and leaf gradients agree on every kind of graph."""

from __future__ import annotations

import numpy as np
import pytest

import leafgrad
from leafgrad.autograd import backward_steps, explain, explaining


def _graph_nodes(out) -> list:
    seen, stack, nodes = set(), [out.grad_fn], []
    while stack:
        n = stack.pop()
        if n is None or n in seen:
            continue
        seen.add(n)
        nodes.append(n)
        stack.extend(f for f, _ in n.next_functions)
    return nodes


def _spy(out) -> dict:
    """Per node, what the engine hands it and what it sends on (seen through node hooks)."""
    seen: dict = {}
    for n in _graph_nodes(out):
        if type(n).__name__ == "AccumulateGrad":
            continue
        n.register_prehook(lambda g, n=n: seen.setdefault(n, {}).update(
            order=seen["#"].__next__(), grad=[None if v is None else v.numpy().copy()
                                              for v in g]) or None)
        n.register_hook(lambda gi, go, n=n: seen.setdefault(n, {}).update(
            sent=[None if v is None else v.numpy().copy() for v in gi]) or None)
    return seen


def _engine_view(out, gradient=None, **kw) -> dict:
    seen = _spy(out)
    seen["#"] = iter(range(10_000))
    out.backward(gradient, **kw)
    del seen["#"]
    return seen


def _same(a, b) -> None:
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert (u is None) == (v is None)
        if u is not None:
            np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


def _check_steps_against_engine(steps, seen: dict, leaves) -> None:
    ran = [s for s in steps if not s.is_leaf and s.grad_output is not None]
    assert {s.node for s in ran} == set(seen)
    assert [s.node for s in ran] == sorted(seen, key=lambda n: seen[n]["order"])  # same order
    for s in ran:
        got = [s.grad_output] if s.node._nout == 1 else list(s.grad_output)
        _same([None if v is None else v.numpy() for v in got], seen[s.node]["grad"])
        _same([None if v is None else v.numpy() for v in s.grad_inputs], seen[s.node]["sent"])
    for x in leaves:
        leaf_steps = [s for s in steps if s.is_leaf and s.leaf is x]
        assert len(leaf_steps) == 1
        np.testing.assert_array_equal(leaf_steps[0].grad_after.numpy(), x.grad.numpy())


def _diamond():
    x = leafgrad.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    w = leafgrad.tensor([1.5, -0.5], requires_grad=True)
    a = x * 2
    b = x.sin()
    c = a * b + a.exp() * w  # x reaches c along three paths; w broadcasts
    return [x, w], (c - b / 3).sum() + (x * x).mean()


def _multi_output():
    x = leafgrad.tensor([[0.5, -1.0, 2.0, 3.0], [1.0, 0.25, -2.0, 0.5]], requires_grad=True)
    p, q = x.split(2, dim=1)  # one SplitBackward0 node with two outputs
    v, m = leafgrad.var_mean(x, dim=0)  # another; only v is used
    return [x], (p * q.exp()).sum() + (v * 3).sum() + p.sum()


def _hooked():
    x = leafgrad.tensor([1.0, -2.0, 0.5], requires_grad=True)
    y = x * x
    y.register_hook(lambda g: g * 3)                  # a tensor hook changes the gradient
    z = y.sin()
    z.grad_fn.register_prehook(lambda g: (g[0] + 1,))  # so does a node pre-hook
    x.register_hook(lambda g: g - 0.5)                # and a leaf hook, before .grad
    w = leafgrad.tensor([2.0, 1.0, 0.0], requires_grad=True)
    return [x, w], (z * w).sum()


GRAPHS = {"diamond": _diamond, "multi_output": _multi_output, "hooks": _hooked}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_backward_steps_give_the_engines_gradients_node_by_node(name):
    leaves, out = GRAPHS[name]()
    steps = list(backward_steps(out))
    assert all(x.grad is None for x in leaves)  # the stepper writes no .grad
    seen = _engine_view(out)
    _check_steps_against_engine(steps, seen, leaves)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_explaining_narrates_the_pass_that_fills_grad(name):
    with explaining() as rec:
        leaves, out = GRAPHS[name]()
        seen = _spy(out)
        seen["#"] = iter(range(10_000))
        out.backward()
        del seen["#"]
    assert rec.count == 1 and not rec.errors
    _check_steps_against_engine(rec.last.steps, seen, leaves)
    for x in leaves:
        np.testing.assert_array_equal(rec.last.grad_of(x).numpy(), x.grad.numpy())


def test_explain_with_retain_graph_and_a_second_pass():
    leaves, out = _diamond()
    out.backward(retain_graph=True)  # the graph stays: explain and a second pass both work
    first = [x.grad.clone() for x in leaves]
    ex = explain(out)
    seen = _engine_view(out)  # accumulates a second time
    _check_steps_against_engine(ex.steps, seen, [])
    for x, g in zip(leaves, first):
        np.testing.assert_allclose(ex.grad_of(x).numpy(), 2 * g.numpy(), rtol=1e-6)
        np.testing.assert_allclose(x.grad.numpy(), 2 * g.numpy(), rtol=1e-6)


def test_explaining_a_retained_graph_twice():
    x = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    with explaining(keep=2) as rec:
        y = (x * x).sin().sum()
        y.backward(retain_graph=True)
        y.backward()
    assert rec.count == 2 and len(rec.explanations) == 2
    g1, g2 = (e.grad_of(x).numpy() for e in rec.explanations)
    np.testing.assert_array_equal(g2, x.grad.numpy())
    np.testing.assert_allclose(g2, 2 * g1)
    with pytest.raises(RuntimeError, match="already freed"):
        explain(y)  # the second pass freed the graph; explain says how to fix it


def test_dry_pass_leaves_everything_as_it_was():
    x = leafgrad.tensor([1.0, -2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    calls = []
    x.register_post_accumulate_grad_hook(lambda t: calls.append(t))
    out = (y * y).sum()
    steps = list(backward_steps(out))
    assert x.grad is None and y._grad is None and calls == []
    assert out.grad_fn.next_functions[0][0].inputs is not None  # nothing freed
    out.backward()
    assert len(calls) == 1 and y.grad.tolist() == [6.0, -12.0]
    assert steps[-1].grad_after.tolist() == x.grad.tolist() == [18.0, -36.0]
