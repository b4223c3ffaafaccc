"""saved_tensors_hooks / save_on_cpu against torch: pack at save, unpack on use, gradients.

NOTE: the tests on built-in ops need the record functions to call ``graph.pack_node`` and
``Op._check_saved`` / ``_saved_*`` to unpack (the _apply.py / node.py change handed to the
lead); the custom-Function tests pass without it.
"""

# Functions defined in the per-library loops run inside that iteration: binding is intended.
# ruff: noqa: B023

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.graph as TG

import leafgrad
import leafgrad.autograd.function as LFn
import leafgrad.autograd.graph as LG

pytestmark = pytest.mark.usefixtures("each_device")  # every test on cpu, fake (and cuda)

LIBS = [(leafgrad, LG, LFn.Function), (torch, TG, torch.autograd.Function)]
X = np.array([0.5, -1.5, 2.0])
W = np.array([1.0, 2.0, -0.5])


def _build(lib):
    x = lib.tensor(X, requires_grad=True)
    w = lib.tensor(W, requires_grad=True)
    return x, w, lambda: ((x * w).exp() * x.sin()).sum()


def test_pack_unpack_counts_and_gradients_builtin_ops():
    res = []
    for lib, g, _ in LIBS:
        x, w, f = _build(lib)
        log = []

        def pack(t):
            log.append("pack")
            return t.clone()

        def unpack(t):
            log.append("unpack")
            return t

        with g.saved_tensors_hooks(pack, unpack):
            y = f()
        packs = log.count("pack")
        y.backward()
        res.append((packs, log.count("unpack"), x.grad.cpu().numpy().copy(),
                    w.grad.cpu().numpy().copy()))
    assert res[0][0] == res[1][0] and res[0][1] == res[1][1]
    np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-6)
    np.testing.assert_allclose(res[0][3], res[1][3], rtol=1e-6)


def test_packed_tensors_skip_the_version_check_and_use_the_packed_copy():
    res = []
    for lib, g, _ in LIBS:
        x = lib.tensor(X, requires_grad=True)
        c = x * 1
        with g.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            y = (c * c).sum()
        with lib.no_grad():
            c.mul_(10)
        y.backward()
        res.append(x.grad.cpu().numpy().copy())
    np.testing.assert_allclose(res[0], res[1])


def test_save_on_cpu_and_double_backward():
    res = []
    for lib, g, _ in LIBS:
        x, w, f = _build(lib)
        with g.save_on_cpu():
            y = f()
        (gx,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad(gx.sum(), w)
        res.append((gx.detach().cpu().numpy(), gg.cpu().numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_saved_result_and_self_unpack():
    for lib, g, _ in LIBS:
        x = lib.tensor(X, requires_grad=True)
        w = lib.tensor(W, requires_grad=True)
        with g.saved_tensors_hooks(lambda t: ("box", t.clone()), lambda p: p[1]):
            y = x.exp()
            z = x * w
        np.testing.assert_allclose(y.grad_fn._saved_result.detach().cpu().numpy(), np.exp(X),
                                   rtol=1e-6)
        np.testing.assert_allclose(z.grad_fn._saved_other.detach().cpu().numpy(), W)


def test_custom_function_saved_tensors_go_through_hooks():
    res = []
    for lib, g, Function in LIBS:
        class Sq(Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * a

            @staticmethod
            def backward(ctx, grad):
                (a,) = ctx.saved_tensors
                return 2 * a * grad

        log = []
        x = lib.tensor(X, requires_grad=True)
        with g.saved_tensors_hooks(lambda t: (log.append("p"), t * 1)[1],
                                   lambda t: (log.append("u"), t)[1]):
            y = Sq.apply(x)
        y.sum().backward()
        res.append((log, x.grad.cpu().numpy().copy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_allclose(res[0][1], res[1][1])


def test_unpack_must_return_a_tensor_and_disable():
    for lib, g, Function in LIBS:
        class Sq(Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * a

            @staticmethod
            def backward(ctx, grad):
                (a,) = ctx.saved_tensors
                return 2 * a * grad

        x = lib.tensor(X, requires_grad=True)
        with g.saved_tensors_hooks(lambda t: 1, lambda t: t):
            y = Sq.apply(x)
        with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
            y.sum().backward()
        with g.disable_saved_tensors_hooks("no hooks please"):
            with pytest.raises(RuntimeError, match="no hooks please"):
                with g.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
