"""why_none(): each broken link between an output and a tensor is named, with the line."""

from __future__ import annotations

import leafgrad as torch
from leafgrad.autograd.why import CODES, why_none


def test_non_leaf_without_retain_grad_names_the_rebinding_line():
    w = torch.randn(3, requires_grad=True) * 0.01
    loss = (w * 2).sum()
    loss.backward()
    d = why_none(w)
    assert d.code == "non_leaf"
    assert "w is not a leaf" in d.message and "MulBackward0" in d.message
    assert "retain_grad()" in d.message
    assert any("w = torch.randn(3, requires_grad=True) * 0.01" in e for e in d.evidence)


def test_detached_tensor():
    x = torch.ones(3, requires_grad=True)
    d = x.detach()
    (x * 2).sum().backward()
    r = why_none(d)
    assert r.code == "detached"
    assert "detach()" in r.message and "shares memory with x" in r.message


def test_detached_in_the_source():
    x = torch.ones(3, requires_grad=True)
    y = x.detach() * 2  # a new tensor, so only the source line tells how it lost its history
    r = why_none(y)
    assert r.code == "detached"
    assert any("y = x.detach() * 2" in e for e in r.evidence)


def test_created_under_no_grad():
    x = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        y = x * 2
    r = why_none(y, lang="en")
    assert r.code == "no_grad"
    assert "no_grad()" in r.message
    assert any("y = x * 2" in e for e in r.evidence)


def test_integer_dtype():
    n = torch.tensor([1, 2, 3])
    r = why_none(n)
    assert r.code == "integer_dtype"
    assert "torch.int64" in r.message and ".float()" in r.message


def test_not_on_the_path_to_the_output():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    z = (a * 3).sum()
    z.backward()
    r = why_none(b, z)
    assert r.code == "not_on_path"
    assert "b requires grad, but it is not on any path from z" in r.message


def test_not_on_the_path_names_the_detach_that_cut_it():
    e = torch.ones(2, requires_grad=True)
    a = torch.ones(2, requires_grad=True)
    z = (e.detach() * 2).sum() + (a * 1).sum()
    z.backward()
    r = why_none(e, z)
    assert r.code == "not_on_path"
    assert any("e.detach()" in ev for ev in r.evidence)


def test_replaced_in_place():
    c = torch.ones(2, requires_grad=True)
    h = c * 2
    z = h.sum()
    h.add_(1)  # h now holds new values with a new history; z was computed from the old ones
    h.retain_grad()
    z.backward()
    r = why_none(h, z)
    assert r.code == "replaced_in_place"
    assert "changed in place" in r.message and "AddBackward0" in r.message
    assert any("h.add_(1)" in ev for ev in r.evidence)


def test_requires_grad_false_and_backward_not_run_and_has_grad():
    g = torch.ones(2)
    assert why_none(g).code == "requires_grad_false"
    f = torch.ones(2, requires_grad=True)
    z = (f * f).sum()
    r = why_none(f, z)
    assert r.code == "not_run" and "has not run yet" in r.message
    assert why_none(f).code == "not_run"
    z.backward()
    assert why_none(f).code == "has_grad"


def test_output_without_graph():
    x = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        z = (x * 2).sum()
    assert why_none(x, z).code == "output_no_grad"


def test_chinese_diagnosis():
    w = torch.randn(3, requires_grad=True) * 0.01
    r = why_none(w, lang="zh")
    assert r.code == "non_leaf"
    assert "w 不是叶子" in str(r) and "为什么 w.grad 是 None" in str(r)


def test_every_code_is_documented():
    assert set(CODES) == {"has_grad", "integer_dtype", "non_leaf", "detached", "no_grad",
                          "requires_grad_false", "not_on_path", "replaced_in_place", "not_run",
                          "output_no_grad"}
