"""The backward engine against torch: graph shapes, accumulation, retain_graph, freeing, depth."""

from __future__ import annotations

import weakref

import numpy as np
import pytest
import torch

import leafgrad

LIBS = (leafgrad, torch)
pytestmark = pytest.mark.usefixtures("each_device")  # every test on cpu, fake (and cuda)


def _both(build):
    """Run ``build(lib)`` -> (inputs, loss) in both libraries; return their input gradients."""
    out = []
    for lib in LIBS:
        xs, loss = build(lib)
        loss.backward()
        out.append([x.grad.detach().cpu().numpy() if x.grad is not None else None for x in xs])
    return out


def _assert_same(grads):
    for a, b in zip(*grads):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_diamond_and_reuse():
    def build(m):
        x = m.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        a = x.sin()
        b = x * 2
        y = (a * b + a.exp() - b / 3).sum() + (x * x * x).mean()
        return [x], y
    _assert_same(_both(build))


def test_tensor_used_twice_in_one_op_and_across_ops():
    def build(m):
        x = m.tensor([1.5, -0.5, 2.0], requires_grad=True)
        w = m.tensor([0.3, 0.2, -1.0], requires_grad=True)
        y = x * x + w * x + (x @ w) * x
        return [x, w], y.sum()
    _assert_same(_both(build))


def test_broadcast_gradients_sum_back_once():
    def build(m):
        a = m.tensor([[1.0], [2.0]], requires_grad=True)      # (2, 1)
        b = m.tensor([0.5, -1.0, 2.0], requires_grad=True)    # (3,)
        c = m.tensor(3.0, requires_grad=True)                 # 0-d
        return [a, b, c], ((a * b + c) ** 2).sum()
    _assert_same(_both(build))


def test_gradients_accumulate_across_backward_calls():
    for m in LIBS:
        x = m.tensor([1.0, 2.0], requires_grad=True)
        (x * 3).sum().backward()
        first = x.grad
        (x * x).sum().backward()
        assert x.grad is first, "accumulation is in place when no graph is built (as in torch)"
        np.testing.assert_allclose(x.grad.cpu().numpy(), [3 + 2, 3 + 4])


def test_first_grad_does_not_alias_other_tensors():
    # Add returns the same gradient for both inputs; the leaves must not share one array
    x = leafgrad.ones(3, requires_grad=True)
    y = leafgrad.ones(3, requires_grad=True)
    (x + y).sum().backward()
    x.grad.add_(1)
    np.testing.assert_allclose(y.grad.cpu().numpy(), 1)
    # nor alias the user's gradient argument
    g = leafgrad.ones(3)
    z = leafgrad.ones(3, requires_grad=True)
    (z * 1).backward(g)
    z.grad.add_(5)
    np.testing.assert_allclose(g.cpu().numpy(), 1)


def test_retain_graph_allows_a_second_backward():
    for m in LIBS:
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        np.testing.assert_allclose(x.grad.cpu().numpy(),
                                   2 * (np.exp([1, 2]) * (1 + np.array([1, 2]))), rtol=1e-6)


def test_backward_twice_through_freed_graph_raises_like_torch():
    msgs = []
    for m in LIBS:
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x.pow(2).sum()
        y.backward()
        with pytest.raises(RuntimeError) as e:
            y.backward()
        msgs.append(str(e.value))
    assert "backward through the graph a second time" in msgs[0]
    assert "retain_graph=True" in msgs[0]
    assert "Why:" in msgs[0]  # the teaching sentence


def test_graph_of_adds_only_can_be_rerun_like_torch():
    # Nodes that saved nothing (add, sum) have nothing to free: torch allows a second pass
    for m in LIBS:
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x + 1).sum()
        y.backward()
        y.backward()
        np.testing.assert_allclose(x.grad.cpu().numpy(), [2, 2])


def test_saved_tensors_are_freed_after_backward():
    x = leafgrad.ones(4, requires_grad=True)
    h = x * 2
    y = h.exp()
    exp_node, mul_node = y.grad_fn, h.grad_fn
    assert exp_node._out is not None and mul_node.inputs is not None
    y.sum().backward()
    assert exp_node._out is None and mul_node.inputs is None
    with pytest.raises(RuntimeError, match="second time"):
        exp_node._saved_result  # noqa: B018 - the access itself must raise, as in torch
    # with retain_graph the saved tensors stay
    z = (x * 2).exp()
    z.sum().backward(retain_graph=True)
    assert z.grad_fn._out is not None


def test_graph_memory_released_after_backward():
    """Once the output goes away, no node or intermediate tensor survives (no reference cycles)."""
    x = leafgrad.ones(1000, requires_grad=True)
    h = x.sin()
    y = (h * h).sum()
    refs = [weakref.ref(h), weakref.ref(y.grad_fn), weakref.ref(h.grad_fn)]
    del h
    y.backward()
    del y
    # without gc: plain reference counting must free the whole graph
    assert all(r() is None for r in refs)
    assert x.grad is not None


def test_leaf_accumulate_node_is_shared_and_not_a_cycle():
    x = leafgrad.ones(2, requires_grad=True)
    a, b = x * 2, x * 3
    assert a.grad_fn.next_functions[0][0] is b.grad_fn.next_functions[0][0]
    acc = weakref.ref(a.grad_fn.next_functions[0][0])
    del a, b
    assert acc() is None  # the leaf does not keep its AccumulateGrad alive


@pytest.mark.cpu_only  # the engine's depth, not the device's arrays
def test_deep_chain_of_100k_ops():
    x = leafgrad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_create_graph_gives_second_derivatives():
    for m in LIBS:
        x = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = (x.sin() * x ** 3).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x)
        if m is leafgrad:
            lg_g, lg_h = g.detach().cpu().numpy(), h.cpu().numpy()
        else:
            np.testing.assert_allclose(lg_g, g.detach().cpu().numpy(), rtol=1e-6)
            np.testing.assert_allclose(lg_h, h.cpu().numpy(), rtol=1e-5)


def test_backward_create_graph_then_backward_of_grad():
    res = []
    for m in LIBS:
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x ** 3).sum()
        y.backward(create_graph=True)
        g = x.grad
        assert g.requires_grad
        x.grad = None
        g.sum().backward()
        res.append(x.grad.cpu().numpy())
    np.testing.assert_allclose(res[0], res[1])


def test_backward_inputs_restricts_accumulation():
    for m in LIBS:
        a = m.tensor([1.0, 2.0], requires_grad=True)
        b = m.tensor([3.0, 4.0], requires_grad=True)
        (a * b).sum().backward(inputs=[a])
        assert b.grad is None
        np.testing.assert_allclose(a.grad.cpu().numpy(), [3, 4])


def test_autograd_backward_function_with_several_roots():
    grads = []
    for m in LIBS:
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y1 = x * 2
        y2 = (y1 * x).sum()
        m.autograd.backward([y1, y2], [m.ones(2), None])
        grads.append(x.grad.cpu().numpy())
    np.testing.assert_allclose(*grads)


def test_retain_grad_and_non_leaf_grad_warning():
    for m in LIBS:
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = y * 3
        y.retain_grad()
        z.sum().backward()
        np.testing.assert_allclose(y.grad.cpu().numpy(), [3, 3])
        with pytest.warns(UserWarning, match="not a leaf Tensor"):
            assert z.grad is None


def test_requires_grad_propagation_and_is_leaf():
    for m in LIBS:
        x = m.ones(2, requires_grad=True)
        c = m.ones(2)
        assert (c * 2).requires_grad is False and (c * 2).is_leaf
        y = x + c
        assert y.requires_grad and not y.is_leaf and x.is_leaf
        assert y.detach().is_leaf and not y.detach().requires_grad


def test_next_functions_structure_matches_torch():
    def names(fn):
        return tuple((type(f).__name__ if f is not None else None, i)
                     for f, i in fn.next_functions)
    for expr in ["x + 0.5", "x * x", "x * c", "2 ** x", "1 - x", "x.pow(2).sum()",
                 "(x @ x)", "x[0]", "x.exp().sin()"]:
        got = []
        for m in LIBS:
            ns = {"x": m.tensor([1.0, 2.0], requires_grad=True), "c": m.tensor([3.0, 4.0])}
            y = eval(expr, ns)
            got.append((type(y.grad_fn).__name__, names(y.grad_fn)))
        assert got[0] == got[1], expr


def test_leaf_grad_is_none_before_backward_and_grad_setter_checks_shape():
    x = leafgrad.ones(2, 3, requires_grad=True)
    assert x.grad is None
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = leafgrad.ones(3)
    x.grad = leafgrad.zeros(2, 3)
    assert x.grad.sum().item() == 0


def test_grad_of_unused_input():
    for m in LIBS:
        a = m.tensor([1.0], requires_grad=True)
        b = m.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="not have been used"):
            m.autograd.grad((a * 2).sum(), [a, b])
        ga, gb = m.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)
        assert gb is None and ga.item() == 2
        ga, gb = m.autograd.grad((a * 2).sum(), [a, b], materialize_grads=True)
        assert gb.item() == 0


@pytest.mark.parametrize("create_graph", [False, True])
def test_mixed_dtype_gradients_keep_each_inputs_dtype(create_graph):
    """float32 (dims) * float64 (0-d) is float32 in torch; each gradient has its input's dtype."""
    res = []
    for m in LIBS:
        a = m.tensor([1.0, 2.0], requires_grad=True)                      # float32
        b = m.tensor(3.0, dtype=m.float64, requires_grad=True)            # 0-d float64
        c = m.tensor([[0.5], [2.0]], dtype=m.float64, requires_grad=True)  # float64, dims
        y = (a * b).sum() + (a / c).sum() + (b - a).sum()
        y.backward(create_graph=create_graph)
        res.append([(str(t.grad.dtype), t.grad.detach().cpu().numpy()) for t in (a, b, c)])
    for (dl, vl), (dt, vt) in zip(*res):
        assert dl == dt
        np.testing.assert_allclose(vl, vt, rtol=1e-6)


def test_hooks_see_tensors_in_a_plain_backward():
    """Gradients travel as raw arrays internally; hooks still receive and return Tensors."""
    seen = []
    x = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.register_hook(lambda g: seen.append(type(g)) or g * 2)
    x.register_hook(lambda g: seen.append(type(g)))
    y.grad_fn.register_hook(lambda gi, go: seen.append(type(gi[0])))
    y.sum().backward()
    assert seen == [leafgrad.Tensor] * 3
    assert x.grad.tolist() == [6.0, 6.0]


def test_third_derivatives_of_compositions_match_torch():
    """d/dx, d2/dx2 (as a vector), d3/dx3 of tanh(x @ w).sum() and of (x.sin() * x).pow(3)."""
    rng = np.random.default_rng(0)
    xv, wv = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    res = []
    for m in LIBS:
        x = m.tensor(xv, requires_grad=True)
        w = m.tensor(wv, requires_grad=True)
        out = []
        for f in (lambda m, x, w: m.tanh(x @ w).sum(), lambda m, x, w: ((x.sin() * x) ** 3).sum()):
            (g1,) = m.autograd.grad(f(m, x, w), x, create_graph=True)
            (g2,) = m.autograd.grad(g1.sum(), x, create_graph=True)
            (g3,) = m.autograd.grad((g2 * g2).sum(), x)
            out += [g1.detach().cpu().numpy(), g2.detach().cpu().numpy(), g3.cpu().numpy()]
        (gw,) = m.autograd.grad(m.autograd.grad(m.tanh(x @ w).sum(), x, create_graph=True)[0]
                                .pow(2).sum(), w)
        out.append(gw.cpu().numpy())
        res.append(out)
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_needs_input_grad_names_the_inputs_with_an_edge():
    """Each node's needs_input_grad agrees with its next_functions (recorded or derived), and a
    backward that skips an input not requiring grad still matches torch's gradients."""
    x = leafgrad.tensor([1.0, -2.0], requires_grad=True)
    c = leafgrad.tensor([3.0, 4.0])
    nodes = [(x * c).grad_fn, (c * x).grad_fn, (x * 2).grad_fn, x.sin().grad_fn,
             leafgrad.where(c > 3.5, x, c).grad_fn, leafgrad.stack([c, x, c]).grad_fn,
             leafgrad.addcmul(c, x, c).grad_fn]
    for fn in nodes:
        assert fn.needs_input_grad == tuple(e[0] is not None for e in fn.next_functions)
    assert nodes[0].needs_input_grad == (True, False)
    assert nodes[1].needs_input_grad == (False, True)
    assert nodes[3].needs_input_grad == (True,)
    assert nodes[5].needs_input_grad == (False, True, False)

    def build(lib):
        a = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        k = lib.tensor([3.0, 4.0, -1.0])
        return [a], (a * k + k.atan2(a) + lib.hypot(k, a)).sum()

    _assert_same(_both(build))


@pytest.mark.parametrize("leaf_first", [False, True])
@pytest.mark.parametrize("op", ["histogram", "floor_divide"])
def test_not_implemented_node_raises_before_leaves_complete_with_it(op, leaf_first):
    # PyTorch's NotImplemented node shares AccumulateGrad's top priority and is queued in edge
    # order: a leaf completing with it after it in next_functions gets no .grad, one before does
    def run(lib):
        x = lib.tensor([0.25, 0.5], dtype=lib.float64, requires_grad=True)
        y = (lib.histogram(x, 3, range=(-1.0, 1.0)).bin_edges if op == "histogram"
             else lib.floor_divide(x, 2.0))
        w = lib.ones(y.shape, dtype=lib.float64, requires_grad=True)
        seen = []
        w.register_hook(lambda g: seen.append("leaf"))
        out = w * y if leaf_first else y * w
        with pytest.raises(RuntimeError, match="not implemented"):
            out.sum().backward()
        return seen, w.grad is None

    assert run(leafgrad) == run(torch)


def _reshaped_cases(lib):
    """Programs changing a recorded tensor's shape in place under no_grad, then differentiating
    (PyTorch's validate_outputs: the gradient must fit the shape the node recorded)."""
    def made(shape_change, shape=(2, 1)):
        x = lib.ones(*shape, dtype=lib.float64, requires_grad=True)
        y = x * 1
        with lib.no_grad():
            shape_change(y)
        return x, y

    def t_then_sum():
        x, y = made(lambda y: y.t_())
        y.sum().backward()
        return x.grad

    def squeeze_then_sum():
        x, y = made(lambda y: y.squeeze_(), (1, 2))
        y.sum().backward()
        return x.grad

    def unsqueeze_then_broadcast():  # the recorded shape expands to the gradient's: summed
        x, y = made(lambda y: y.unsqueeze_(0), (2,))
        (y * lib.ones(3, 2, dtype=lib.float64)).sum().backward()
        return x.grad

    def t_then_grad():
        x, y = made(lambda y: y.t_())
        return lib.autograd.grad(y.sum(), x)[0]

    def t_then_root_gradient():
        x, y = made(lambda y: y.t_())
        y.backward(lib.ones(1, 2, dtype=lib.float64))
        return x.grad

    def t_then_recorded_op():
        x, y = made(lambda y: y.t_())
        y.add_(1)
        y.sum().backward()
        return x.grad

    def t_twice():
        x, y = made(lambda y: y.t_().t_())
        y.sum().backward()
        return x.grad

    def leaf_t():  # a leaf's AccumulateGrad: unchanged rules
        x = lib.ones(2, 1, dtype=lib.float64, requires_grad=True)
        y = x * 2
        with lib.no_grad():
            x.t_()
        y.sum().backward()
        return x.grad

    return [t_then_sum, squeeze_then_sum, unsqueeze_then_broadcast, t_then_grad,
            t_then_root_gradient, t_then_recorded_op, t_twice, leaf_t]


@pytest.mark.parametrize("k", range(len(_reshaped_cases(torch))),
                         ids=[f.__name__ for f in _reshaped_cases(torch)])
def test_gradient_must_fit_the_recorded_shape(k):
    def outcome(lib):
        try:
            return _reshaped_cases(lib)[k]().cpu().tolist()
        except RuntimeError as e:
            return str(e).splitlines()[0]

    assert outcome(leafgrad) == outcome(torch)
