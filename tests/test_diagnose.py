"""diagnose(): models built to have each pathology raise its flag, a healthy one raises none;
per-layer norms against torch; the trial optimizer step leaves no trace."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import leafgrad
from leafgrad import nn
from leafgrad.autograd import diagnose, explaining
from leafgrad.autograd.gradflow import diagnose_explanation, trial_update


def _mlp(act=nn.ReLU, depth=3, width=32, d_in=16, d_out=3, seed=0):
    leafgrad.manual_seed(seed)
    layers, d = [], d_in
    for _ in range(depth):
        layers += [nn.Linear(d, width), act()]
        d = width
    layers.append(nn.Linear(d, d_out))
    return nn.Sequential(*layers)


def _kaiming(model):
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model


def _batch(n=64, d=16, k=3):
    leafgrad.manual_seed(1)
    return leafgrad.randn(n, d), leafgrad.randint(0, k, (n,))


CE = nn.CrossEntropyLoss()


def test_a_healthy_network_raises_no_flag_and_its_norms_are_torchs():
    model = _kaiming(_mlp())
    x, y = _batch()
    opt = leafgrad.optim.SGD(model.parameters(), lr=0.05)
    report = diagnose(model, CE(model(x), y), opt)
    assert report.codes == [] and report.source == "graph"
    assert "Nothing looks wrong" in report.text()
    assert [L.label for L in report.layers] == ["0: Linear(16→32)", "2: Linear(32→32)",
                                                "4: Linear(32→32)", "6: Linear(32→3)"]
    # the gradient norms are torch's, layer by layer; SGD's update is lr x grad
    t = torch.nn.Sequential(*[torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32),
                              torch.nn.ReLU(), torch.nn.Linear(32, 32), torch.nn.ReLU(),
                              torch.nn.Linear(32, 3)])
    with torch.no_grad():
        for p, q in zip(model.parameters(), t.parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy().copy()))
    torch.nn.functional.cross_entropy(t(torch.from_numpy(x.numpy())),
                                      torch.from_numpy(y.numpy())).backward()
    layers = [t[0], t[2], t[4], t[6]]
    for L, m in zip(report.layers, layers):
        want = float(np.sqrt(sum((p.grad.double() ** 2).sum().item() for p in m.parameters())))
        assert L.grad_norm == pytest.approx(want, rel=1e-4)
        ratio = 0.05 * m.weight.grad.double().norm().item() / m.weight.double().norm().item()
        assert L.update_ratio == pytest.approx(ratio, rel=1e-4)
    assert all(p.grad is None for p in model.parameters())  # nothing was accumulated


def test_vanishing_gradients_in_a_deep_sigmoid_network():
    model = _mlp(nn.Sigmoid, depth=10)
    x, y = _batch()
    report = diagnose(model, CE(model(x), y))
    assert report.codes == ["vanishing"]
    f = report.flags[0]
    assert f.where == "0: Linear(16→32)"
    assert "vanishing gradients: the gradient norm falls by" in f.message()
    assert "ReLU-family" in f.fix()
    assert "梯度消失" in f.message("zh") and "ReLU" in f.fix("zh")


def test_exploding_gradients_from_unscaled_inputs():
    model = _kaiming(_mlp())
    x, y = _batch()
    report = diagnose(model, CE(model(x * 1e4), y))
    assert report.codes == ["exploding"]
    assert "clip_grad_norm_" in report.flags[0].fix()


def test_dead_relus_point_at_the_layer():
    model = _kaiming(_mlp(depth=2))
    with leafgrad.no_grad():
        model[2].bias.fill_(-20.0)  # the second layer's units are all off
    x, y = _batch()
    report = diagnose(model, CE(model(x), y))
    assert report.codes == ["dead_relu"]
    assert report.flags[0].message() == (
        "dead ReLUs in the ReLU after 2: Linear(32→32): 32 of its 32 units output zero for the "
        "whole batch, so no gradient passes them back.")
    # with module scopes recorded, the flag names the ReLU module itself
    with explaining() as rec:
        loss = CE(model(x), y)
        loss.backward()
    r2 = diagnose_explanation(rec.last)
    assert r2.codes == ["dead_relu"] and r2.flags[0].where == "Sequential/3: ReLU"


def test_saturated_tanh():
    model = _mlp(nn.Tanh, depth=2)
    with leafgrad.no_grad():
        for p in model.parameters():
            p.mul_(8.0)
    x, y = _batch()
    report = diagnose(model, CE(model(x), y))
    assert "saturated" in report.codes
    f = report.flags[report.codes.index("saturated")]
    assert f.message().startswith("saturated tanh in the Tanh after 0: Linear(16→32): ")


def test_a_parameter_that_gets_no_gradient_says_why():
    model = _kaiming(_mlp(depth=1))
    model.add_module("spare", nn.Linear(3, 3))  # registered, never called
    x, y = _batch()
    loss = CE(model[:3](x), y)
    report = diagnose(model, loss)
    assert report.codes == ["no_grad", "no_grad"]
    assert [f.where for f in report.flags] == ["spare.weight", "spare.bias"]
    msg = report.flags[0].message()
    assert msg.startswith("spare.weight received no gradient. spare.weight requires grad, but "
                          "it is not on any path from loss back to the leaves")
    assert "requires_grad_(False)" in report.flags[0].fix()
    assert "没有收到梯度" in report.flags[0].message("zh")


class _LogHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        return (self.fc(x) - 50).log()  # a log of negative numbers: NaN


class _SqrtHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        return (self.fc(x) * 0).sqrt()  # sqrt(0) is fine; its derivative is not


def test_nan_sources_forward_and_backward():
    x, _ = _batch()
    leafgrad.manual_seed(0)
    m = _LogHead()
    report = diagnose(m, m(x).mean())
    assert report.codes == ["nan"]
    assert report.flags[0].message().startswith(
        "NaN/inf appears first in the forward pass at LogBackward0")
    with explaining() as rec:  # with sites: the module and the line
        m(x).mean().backward()
    r2 = diagnose_explanation(rec.last)
    assert r2.codes == ["nan"] and "LogBackward0 (_LogHead)" in r2.flags[0].message()
    assert "test_diagnose.py" in r2.flags[0].message()
    m = _SqrtHead()
    report = diagnose(m, m(x).mean())
    assert report.codes == ["nan"]
    assert report.flags[0].message().startswith(
        "NaN/inf appears first in the backward pass at SqrtBackward0")


@pytest.mark.parametrize("lr, code", [(100.0, "lr_high"), (1e-8, "lr_low")])
def test_learning_rate_far_from_the_update_ratio_heuristic(lr, code):
    model = _kaiming(_mlp())
    x, y = _batch()
    opt = leafgrad.optim.SGD(model.parameters(), lr=lr)
    report = diagnose(model, CE(model(x), y), opt)
    assert report.codes == [code]
    factor = "10000" if code == "lr_low" else "1000"
    assert factor in report.flags[0].fix()


def test_the_trial_step_leaves_no_trace():
    def make():
        model = _kaiming(_mlp())
        return model, leafgrad.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.01)

    x, y = _batch()
    a, opt_a = make()
    b, opt_b = make()
    for _ in range(3):
        for model, opt, probe in ((a, opt_a, True), (b, opt_b, False)):
            opt.zero_grad()
            loss = CE(model(x), y)
            if probe:
                vers = [p._version for p in model.parameters()]
                diagnose(model, loss, opt)  # before backward: the graph must still work
                assert [p._version for p in model.parameters()] == vers
                assert all(p.grad is None for p in model.parameters())
            loss.backward()
            if probe:
                diagnose(model, loss, opt)  # after backward: from .grad
            opt.step()
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
    sa, sb = opt_a.state_dict(), opt_b.state_dict()
    for k in sa["state"]:
        for kk, v in sa["state"][k].items():
            assert np.array_equal(np.asarray(v), np.asarray(sb["state"][k][kk])), kk
    lbfgs = leafgrad.optim.LBFGS(a.parameters())
    assert trial_update(lbfgs) == {}  # a step that needs a closure gives no ratio


def test_after_backward_the_grads_are_used_and_the_report_says_so():
    model = _kaiming(_mlp())
    x, y = _batch()
    loss = CE(model(x), y)
    loss.backward()
    report = diagnose(model, loss)
    assert report.source == "grad" and report.codes == []
    assert "the graph of the loss was freed" in report.text()
    assert "损失的计算图已被释放" in report.text("zh")
    norms = [L.grad_norm for L in report.layers]
    assert norms[0] == pytest.approx(float(np.sqrt(
        (model[0].weight.grad.numpy().astype(np.float64) ** 2).sum()
        + (model[0].bias.grad.numpy().astype(np.float64) ** 2).sum())), rel=1e-6)
    html = report.html()
    assert "<table" in html and "0: Linear(16→32)" in html
