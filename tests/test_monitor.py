"""leafgrad.utils.monitor around unmodified training loops: what it records (checked against
the loop's own numbers), the flags it raises, its report (self-contained) and its summary."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pytest

import leafgrad
from leafgrad import nn
from leafgrad.autograd import flowstats


def _net(seed=0, act=nn.ReLU):
    leafgrad.manual_seed(seed)
    net = nn.Sequential(nn.Linear(8, 32), act(), nn.Linear(32, 32), act(), nn.Linear(32, 3))
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return net


def _data():
    leafgrad.manual_seed(1)
    x = leafgrad.randn(64, 8)
    return x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long()


def _train(net, opt, steps, x, y, **kw):
    seen = {"loss": [], "grad0": [], "update0": []}
    out = io.StringIO()
    with leafgrad.utils.monitor(net, opt, stream=out, **kw) as m:
        for _ in range(steps):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(x), y)
            loss.backward()
            g = [p.grad.numpy().copy() for p in net[0].parameters()]
            w0 = net[0].weight.detach().numpy().copy()
            opt.step()
            seen["loss"].append(loss.item())
            seen["grad0"].append(math.sqrt(sum(flowstats.norm(a) ** 2 for a in g)))
            seen["update0"].append(flowstats.norm(net[0].weight.detach().numpy() - w0)
                                   / flowstats.norm(net[0].weight.detach().numpy()))
    return m, seen, out.getvalue()


def test_records_what_the_loop_did_and_reports_a_healthy_run(tmp_path):
    net = _net()
    x, y = _data()
    opt = leafgrad.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    path = tmp_path / "report.html"
    m, seen, printed = _train(net, opt, 12, x, y, path=str(path))
    assert m.layers == ["0: Linear(8→32)", "2: Linear(32→32)", "4: Linear(32→3)"]
    assert m.losses == pytest.approx(seen["loss"], rel=1e-6)
    assert m.losses[-1] < m.losses[0]
    assert m.grad_norms("0: Linear(8→32)") == pytest.approx(seen["grad0"], rel=1e-6)
    assert m.update_ratios("0: Linear(8→32)") == pytest.approx(seen["update0"], rel=1e-5)
    assert m.report.codes == []
    # the printed summary: steps, loss first → last, one line per layer, where the report is
    first = printed.splitlines()[0]
    assert first.startswith("monitor: 12 steps, loss ") and first.endswith("; no flags")
    assert "0: Linear(8→32)" in printed and f"report written to {path}" in printed
    page = path.read_text(encoding="utf-8")
    assert page.count("<svg") == 4 and 'id="lg-flow"' in page and 'id="lg-ratio"' in page
    assert re.search(r"(src|href)=\"?(https?:)?//", page) is None  # nothing from the net
    assert "<script" not in page
    # one line per layer in the gradient-flow chart, one point per step
    flow = page[page.index('id="lg-flow"'):]
    flow = flow[:flow.index("</svg>")]
    assert flow.count('class="series"') == 3 and flow.count("<circle") == 3 * 12


def test_flags_dead_relus():
    net = _net()
    with leafgrad.no_grad():
        net[2].bias.fill_(-30.0)
    x, y = _data()
    opt = leafgrad.optim.SGD(net.parameters(), lr=0.05)
    m, _, printed = _train(net, opt, 3, x, y, path=None)
    assert m.report.codes == ["dead_relu"]
    f = m.report.flags[0]
    assert f.where == "3: ReLU" and "32 of its 32 units" in f.message()
    assert "try: lower the learning rate" in printed
    assert "死亡 ReLU" in m.summary("zh")


def test_flags_a_learning_rate_far_too_high():
    net = _net()
    x, y = _data()
    opt = leafgrad.optim.SGD(net.parameters(), lr=30.0)
    m, seen, _ = _train(net, opt, 2, x, y, path=None)
    assert "lr_high" in m.report.codes
    ratios = sorted(m.update_ratios(L)[-1] for L in m.layers)
    assert ratios[1] > 0.1  # the median layer moved by more than a tenth of its size
    assert "学习率看起来太高" in m.summary("zh")


def test_without_an_optimizer_each_backward_is_a_step_and_log_wins():
    net = _net()
    x, y = _data()
    with leafgrad.utils.monitor(net, path=None, quiet=True) as m:
        for k in range(3):
            loss = nn.functional.cross_entropy(net(x), y)
            m.log(loss * 0 + k)  # what the loop logs is what counts
            loss.backward()
            with leafgrad.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
                    p.grad = None
    assert m.losses == [0.0, 1.0, 2.0]
    assert all(r.update_ratios == {} for r in m.records)
    assert all(v is not None for v in m.grad_norms("2: Linear(32→32)"))


def test_nan_is_traced_to_the_first_module_and_unused_parameters_say_why():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 3)
            self.unused = nn.Linear(3, 3)

        def forward(self, x):
            return (self.fc(x) - 100).log()  # NaN from the first step

    leafgrad.manual_seed(0)
    net = Net()
    x, _ = _data()
    opt = leafgrad.optim.SGD(net.parameters(), lr=0.1)
    with leafgrad.utils.monitor(net, opt, path=None, quiet=True) as m:
        for _ in range(2):
            opt.zero_grad()
            net(x).mean().backward()
            opt.step()
    codes = m.report.codes
    assert codes[0] == "nan" and codes.count("no_grad") == 2
    assert m.report.flags[0].message() == (
        "NaN/inf appears first in the forward pass at Net (step 1): its inputs were finite, its "
        "output is not.")
    why = m.report.flags[codes.index("no_grad")].message()
    assert why.startswith("unused.weight received no gradient. unused.weight requires grad, "
                          "but it is not on any path from loss back to the leaves")
    assert math.isnan(m.losses[0])


def test_monitor_restores_the_engine_and_hooks(tmp_path):
    from leafgrad.autograd import engine

    before = engine.run_backward
    net = _net()
    x, y = _data()
    opt = leafgrad.optim.Adam(net.parameters(), lr=1e-3)
    _train(net, opt, 2, x, y, path=None)
    assert engine.run_backward is before
    assert opt._step_pre_hooks == [] and opt._step_post_hooks == []
    assert all(not m._forward_hooks for m in net.modules())
    assert all(p._x is None or not p._x.post_hooks for p in net.parameters())
    # and the numbers of a monitored run are those of an unmonitored one
    a, b = _net(), _net()
    oa = leafgrad.optim.Adam(a.parameters(), lr=1e-3)
    ob = leafgrad.optim.Adam(b.parameters(), lr=1e-3)
    _train(a, oa, 3, x, y, path=None)
    for _ in range(3):
        ob.zero_grad()
        nn.functional.cross_entropy(b(x), y).backward()
        ob.step()
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
