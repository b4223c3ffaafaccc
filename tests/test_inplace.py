"""In-place ops and views against torch: shared memory, version counters, history rewriting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import leafgrad

pytestmark = pytest.mark.usefixtures("each_device")  # every test on cpu, fake (and cuda)

LIBS = (leafgrad, torch)


def _run(case):
    out = []
    for m in LIBS:
        x = m.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], requires_grad=True)
        w = m.tensor([2.0, -1.0, 0.5], requires_grad=True)
        loss, extra = case(m, x, w)
        loss.backward()
        out.append((x.grad.cpu().numpy() if x.grad is not None else None,
                    w.grad.cpu().numpy() if w.grad is not None else None, extra))
    return out


CASES = {
    "mul_ on a row": lambda m, x, w: (_y(m, x, lambda y: y[0].mul_(w)), None),
    "add_ on a column through a transpose": lambda m, x, w: (
        _y(m, x, lambda y: y.t()[1].add_(w[:2] * 2)), None),
    "two views, second sees the first's change": lambda m, x, w: _two_views(m, x, w),
    "setitem then in-place": lambda m, x, w: (_y(m, x, lambda y: (
        y.__setitem__((0, 1), w[0] * 3), y[1].div_(2))), None),
    "view of a view": lambda m, x, w: (_y(m, x, lambda y: y[:, 1:][0].pow_(2)), None),
    "copy_ into a slice": lambda m, x, w: (_y(m, x, lambda y: y[1, :].copy_(w.exp())), None),
    "fill_ a slice": lambda m, x, w: (_y(m, x, lambda y: y[:, 0].fill_(3.0)), None),
    "reshape view": lambda m, x, w: (_y(m, x, lambda y: y.view(3, 2)[2].mul_(w[:2])), None),
}


def _y(m, x, f):
    y = x * x
    f(y)
    return (y * m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum()


def _two_views(m, x, w):
    y = x.sin()
    a, b = y[0], y[:, 2]
    a.mul_(w)
    loss = (b * 3).sum() + (a ** 2).sum()
    return loss, type(b.grad_fn).__name__


@pytest.mark.parametrize("name", list(CASES))
def test_in_place_on_views_matches_torch(name):
    (lx, lw, le), (tx, tw, te) = _run(CASES[name])
    np.testing.assert_allclose(lx, tx, rtol=1e-6)
    assert (lw is None) == (tw is None)
    if lw is not None:
        np.testing.assert_allclose(lw, tw, rtol=1e-6)
    assert le == te


def test_views_share_memory_and_version():
    for m in LIBS:
        y = m.zeros(2, 3)
        v = y[1]
        v.add_(1)
        assert y[1].tolist() == [1.0, 1.0, 1.0]
        assert y._version == v._version == 1
        y.t().mul_(2)
        assert v._version == 2 and v.tolist() == [2.0, 2.0, 2.0]


def test_in_place_on_a_view_of_a_leaf_raises_like_torch():
    for m in LIBS:
        x = m.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf Variable"):
            x[:2].mul_(2)


def test_view_made_under_no_grad_then_modified_raises_like_torch():
    for m in LIBS:
        y = m.ones(3, requires_grad=True) * 1
        with m.no_grad():
            v = y[:2]
        with pytest.raises(RuntimeError, match="created in no_grad mode"):
            v.mul_(2)


def test_modifying_a_tensor_saved_through_a_view_is_detected():
    for m in LIBS:
        x = m.ones(4, requires_grad=True)
        y = x * 1
        z = y * y          # saves y
        y[1:3].mul_(2)     # changes y's memory through a view
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_data_changes_bypass_tracking_like_torch():
    for m in LIBS:
        x = m.ones(3, requires_grad=True)
        y = x * x
        x.data.mul_(3)        # not tracked: no error, the saved x sees the new values
        y.sum().backward()
        assert x.grad.tolist() == [6.0, 6.0, 6.0]


def test_second_derivative_through_copyslices():
    res = []
    for m in LIBS:
        x = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = x * 2           # (x.exp() would save y, and torch refuses then, as leafgrad does)
        y[1:].mul_(x[:2].exp())
        (g,) = m.autograd.grad((y * y).sum(), x, create_graph=True)
        (h,) = m.autograd.grad((g * g).sum(), x)
        res.append((g.detach().cpu().numpy(), h.cpu().numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-5)


def test_node_names_after_in_place_on_a_view_match_torch():
    names = []
    for m in LIBS:
        y = m.ones(4, requires_grad=True) * 1
        v = y[1:3]
        v.mul_(2)
        names.append((type(y.grad_fn).__name__, type(v.grad_fn).__name__,
                      [type(f).__name__ if f else None for f, _ in y.grad_fn.next_functions]))
    assert names[0] == names[1]


def test_expanded_view_cannot_be_written_like_torch():
    for m in LIBS:
        y = m.ones(1, 3, requires_grad=True) * 1
        with pytest.raises(RuntimeError, match="more than one element"):
            y.expand(2, 3).mul_(2)
