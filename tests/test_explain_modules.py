"""Explain by module: the module scope (recorded only while sites are), groups and their
labels, module-level narration with the real numbers (checked against torch), parameter names,
and the module-grouped page's views."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import leafgrad
from leafgrad import nn
from leafgrad.autograd import explain, explaining, flowstats
from leafgrad.autograd.sites import recording_sites, state
from leafgrad.autograd.stepper import fmt_num
from leafgrad.viz.graph import from_explanation
from leafgrad.viz.views import closed_in, view_graph, view_keys


def _mlp(seed: int = 0):
    leafgrad.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def _torch_copy(model):
    """The same MLP in torch, with the same weights."""
    t = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    with torch.no_grad():
        for (n, p), (n2, q) in zip(model.named_parameters(), t.named_parameters()):
            assert n == n2
            q.copy_(torch.from_numpy(p.detach().numpy().copy()))
    return t


def _data():
    leafgrad.manual_seed(1)
    return leafgrad.randn(6, 4), leafgrad.tensor([0, 1, 1, 0, 1, 0])


def _explained(model, x, y):
    crit = nn.CrossEntropyLoss()
    with explaining() as rec:
        loss = crit(model(x), y)
        loss.backward()
    return rec.last, loss


def test_module_scope_is_recorded_only_while_sites_are():
    model = _mlp()
    x, _ = _data()
    out = model(x)
    assert getattr(out.grad_fn, "_site", None) is None and state.scope == ()
    with recording_sites():
        out = model(x)
        assert state.scope == ()  # popped again after the call
    scope = out.grad_fn._site.scope
    assert [type(m).__name__ for m, _ in scope] == ["Sequential", "Linear"]
    assert scope[1][0] is model[2]


def test_groups_labels_and_grads_match_torch():
    model = _mlp()
    x, y = _data()
    ex, loss = _explained(model, x, y)
    assert [g.label for g in ex.modules] == [
        "Sequential/0: Linear(4→3)", "Sequential/1: ReLU", "Sequential/2: Linear(3→2)",
        "CrossEntropyLoss"]
    # every step belongs to a module call here, and each group has the steps it ran
    assert all(ex.group_of(s) is not None for s in ex.steps)
    kinds = {g.label: sorted(s.name for s in g.steps) for g in ex.modules}
    assert kinds["Sequential/1: ReLU"] == ["ReluBackward0"]
    assert kinds["Sequential/2: Linear(3→2)"] == ["AccumulateGrad", "AccumulateGrad",
                                                   "AddmmBackward0"]
    # the narrated parameter gradients are torch's
    t = _torch_copy(model)
    tl = torch.nn.functional.cross_entropy(t(torch.from_numpy(x.numpy())),
                                           torch.from_numpy(y.numpy()))
    tl.backward()
    for p, q in zip(model.parameters(), t.parameters()):
        np.testing.assert_allclose(ex.grad_of(p).numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert abs(loss.item() - tl.item()) < 1e-6


def test_module_narration_names_the_backward_and_its_numbers():
    model = _mlp()
    x, y = _data()
    ex, loss = _explained(model, x, y)
    text = ex.text(width=0)  # lines unwrapped
    assert text.startswith("The backward pass of loss, module by module: ")
    lin = next(g for g in ex.modules if g.label.startswith("Sequential/2"))
    gw = lin.params[0][2].grad_output.numpy()
    # the Linear sentence, with the real weight-gradient norm and the loss value
    assert "∂loss/∂W = (∂loss/∂out)ᵀ·input (shape [2, 3], norm " \
        f"{fmt_num(flowstats.norm(gw))})" in text
    assert f"loss = −mean(log softmax(input)[target]) = {fmt_num(loss.item())}" in text
    assert "Module 1 of 4: CrossEntropyLoss" in text
    # the ReLU part counts what it blocked, from the real activations
    relu_out = model[1](model[0](x)).detach().numpy()
    k = int((relu_out <= 0).sum())
    assert f"it blocked {k} of {relu_out.size} elements" in text
    # parameters carry their qualified names; module outputs are named after the module
    assert "0.weight.grad:" in text and "2.bias.grad:" in text
    assert "∂loss/∂2.out" in text
    # the op-level narration is still there on request
    ops = ex.text(detail="ops", width=0)
    assert "AddmmBackward0" in ops and "Module 1 of" not in ops
    with pytest.raises(ValueError, match="detail must be"):
        ex.text(detail="layers")
    zh = ex.text(lang="zh")
    assert "按模块" in zh and "∂loss/∂W = (∂loss/∂out)ᵀ·input" in zh and "沿批次求和" in zh


def test_nested_models_repeated_calls_and_loop_names():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, h):
            return self.fc(h).tanh() + h  # an op of the block itself, around its child

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.head = nn.Linear(3, 1)

        def forward(self, x):
            return self.head(self.block(self.block(x)))  # the block runs twice

    leafgrad.manual_seed(0)
    net = Net()
    inputs = leafgrad.randn(2, 3)
    with recording_sites():
        out = net(inputs).sum()
    for p in net.parameters():  # noqa: B007 - leaves `p` bound to the last parameter
        pass
    ex = explain(out)
    labels = [g.label for g in ex.modules]
    assert labels == ["Net/block: Block #1", "Net/block/fc: Linear(3→3) #1",
                      "Net/block: Block #2", "Net/block/fc: Linear(3→3) #2",
                      "Net/head: Linear(3→1)"]
    first, inner = ex.modules[0], ex.modules[1]
    assert inner.parent is first and first.children == [inner]
    assert sorted(s.name for s in first.steps) == ["AddBackward0", "TanhBackward0"]
    # the parameters sit with the first call of their module and keep their names
    assert [n for n, _, _ in inner.params] == ["weight", "bias"]
    assert ex.modules[3].params == []
    leaves = {ex.names.of_leaf(s.leaf) for s in ex.steps if s.is_leaf}
    assert leaves == {"block.fc.weight", "block.fc.bias", "head.weight", "head.bias"}
    assert "p" not in leaves  # not the leftover loop variable


def test_user_names_from_where_tensors_were_used():
    def loss_fn(pred, target):
        return ((pred - target) ** 2).mean()

    w = leafgrad.tensor([1.0, -2.0], requires_grad=True)
    with recording_sites():
        loss = loss_fn(w * 3, leafgrad.tensor([0.5, 0.5]))
    ex = explain(loss)
    text = ex.text(width=0)
    # `target` existed only inside loss_fn: the narration still calls it that, not `c`
    assert "target [2] (constant, no grad)" in text
    assert re.search(r"\bc \[", text) is None


def test_page_views_open_every_group_down_to_its_nodes():
    model = _mlp()
    x, y = _data()
    ex, _ = _explained(model, x, y)
    g = from_explanation(ex)
    assert [gg.label for gg in g.groups] == [m.label for m in ex.modules]
    keys = view_keys(g)
    assert keys == ["top", "g0", "g1", "g2", "g3", "all"]
    top, _ = view_graph(g, closed_in(g, "top"))
    assert sorted(n.kind for n in top.nodes) == ["group"] * 4 + ["output"]
    lin = next(n for n in top.nodes if n.title == "Sequential/2: Linear(3→2)")
    assert lin.members == 3 and [r for r, _ in lin.hists][0].startswith("weight [2, 3] · norm")
    assert all(c is not None and sum(c) == 6 for _, c in lin.hists[:1])  # 6 weight gradients
    for gg in g.groups:
        vg, frames = view_graph(g, closed_in(g, gg.id))
        ids = {n.id for n in vg.nodes}
        assert set(gg.nodes) <= ids  # its nodes are drawn
        assert f"G{gg.id}" not in ids and len(vg.nodes) == 4 - 1 + len(gg.nodes) + 1
    full, _ = view_graph(g, closed_in(g, "all"))
    assert len(full.nodes) == len(g.nodes) and not any(n.kind == "group" for n in full.nodes)
    page = ex.to_html_page()
    for k in keys:
        assert f'<template id="lg-view-{k}"' in page
    assert "Gradient flow of Sequential" in page  # the diagnosis section


def test_every_op_node_shows_its_value_and_a_blocking_relu_is_pointed_out():
    leafgrad.manual_seed(0)
    lin = nn.Linear(3, 2)
    with explaining() as rec:
        x = leafgrad.randn(4, 3)
        h = (lin(x) - 100).relu()  # every input is far below 0: the ReLU blocks everything
        loss = (h * 2).sum()
        loss.backward()
    ex = rec.last
    g = ex.graph()
    ops = [n for n in g.nodes if n.kind == "op"]
    assert all(n.value is not None for n in ops), [n.title for n in ops if n.value is None]
    add = next(n for n in ops if n.title == "AddmmBackward0")  # saves its inputs only
    want = lin(x).detach().numpy()
    assert add.value == leafgrad.autograd.stepper.fmt_array(want)
    relu = next(n for n in ops if n.title == "ReluBackward0")
    assert relu.note == "blocked every gradient (all inputs ≤ 0)"
    assert "this ReLU blocked every gradient" in ex.text(detail="ops", width=0)
    assert lin.weight.grad is not None and not lin.weight.grad.numpy().any()


def test_select_and_slice_show_their_index():
    x = leafgrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    z = x[1].sum() + x[:, 0].sum() + x[:, 1:].sum() + x[-1, ::2].sum()
    ex = explain(z)
    texts = [ex.forward_text(s).split(" = ", 1)[1] for s in ex.steps
             if s.name in ("SelectBackward0", "SliceBackward0")]
    # x[-1, ::2] is x[1] (the index as taken), then a slice of that
    assert sorted(t for t in texts if t.startswith("x")) == ["x[1]", "x[1]", "x[:, 0]",
                                                             "x[:, 1:]"]
    assert [t for t in texts if not t.startswith("x")][0].endswith("[::2]")


def test_without_sites_parameters_still_have_names_and_the_text_says_how_to_group():
    model = _mlp()
    x, y = _data()
    loss = nn.CrossEntropyLoss()(model(x), y)
    ex = explain(loss)
    assert ex.modules == []
    leaves = [ex.names.of_leaf(s.leaf) for s in ex.steps if s.is_leaf]
    assert sorted(leaves) == ["model.0.bias", "model.0.weight", "model.2.bias",
                              "model.2.weight"]
    assert "built inside explaining(), it is also narrated module by module" in \
        ex.text(width=0)
