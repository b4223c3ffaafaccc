"""autograd.functional (jacobian, hessian, vjp, jvp, vhp, hvp) against torch."""

# Functions defined in the per-library loops run inside that iteration: binding is intended.
# ruff: noqa: B023

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import leafgrad
import leafgrad.autograd.functional as LF

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3))
Y = RNG.standard_normal((2, 3))
V = RNG.standard_normal((2, 3))

SCALAR_FNS = {
    "poly": lambda x: (x ** 3).sum() * x.sin().sum(),
    "tanh_mm": lambda x: (x @ x.t()).tanh().sum(),
    "exp_mean": lambda x: x.exp().mean(),
}
VECTOR_FNS = {
    "sin_sq": lambda x: x.sin() * x,
    "sum_dim": lambda x: (x * x).sum(1),
    "matmul": lambda x: x.t() @ x,
}


def _t(lib, a):
    return lib.tensor(a, dtype=lib.float64)


def _close(a, b):
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b)
        for u, v in zip(a, b):
            _close(u, v)
        return
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", list(SCALAR_FNS))
def test_hessian_vhp_hvp(name, create_graph):
    f = SCALAR_FNS[name]
    _close(LF.hessian(f, _t(leafgrad, X), create_graph=create_graph),
           TF.hessian(f, _t(torch, X), create_graph=create_graph))
    for fn in ("vhp", "hvp"):
        a = getattr(LF, fn)(f, _t(leafgrad, X), _t(leafgrad, V), create_graph=create_graph)
        b = getattr(TF, fn)(f, _t(torch, X), _t(torch, V), create_graph=create_graph)
        _close(a, b)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", list(VECTOR_FNS))
def test_jacobian_vjp_jvp(name, create_graph):
    f = VECTOR_FNS[name]
    _close(LF.jacobian(f, _t(leafgrad, X), create_graph=create_graph, vectorize=True),
           TF.jacobian(f, _t(torch, X), create_graph=create_graph))
    out = f(_t(torch, X))
    v_out = RNG.standard_normal(tuple(out.shape))
    _close(LF.vjp(f, _t(leafgrad, X), _t(leafgrad, v_out), create_graph=create_graph),
           TF.vjp(f, _t(torch, X), _t(torch, v_out), create_graph=create_graph))
    _close(LF.jvp(f, _t(leafgrad, X), _t(leafgrad, V), create_graph=create_graph),
           TF.jvp(f, _t(torch, X), _t(torch, V), create_graph=create_graph))


def test_tuple_inputs_and_outputs():
    def f(x, y):
        return x * y, (x + y).exp().sum()

    def g(x, y):
        return (x * y).sin().sum()

    args = lambda lib: (_t(lib, X), _t(lib, Y))  # noqa: E731
    _close(LF.jacobian(f, args(leafgrad)), TF.jacobian(f, args(torch)))
    _close(LF.hessian(g, args(leafgrad)), TF.hessian(g, args(torch)))
    vs = lambda lib: (_t(lib, V), _t(lib, X))  # noqa: E731
    _close(LF.vhp(g, args(leafgrad), vs(leafgrad)), TF.vhp(g, args(torch), vs(torch)))
    _close(LF.jvp(f, args(leafgrad), vs(leafgrad)), TF.jvp(f, args(torch), vs(torch)))


def test_create_graph_results_are_differentiable():
    res = []
    for lib, F in ((leafgrad, LF), (torch, TF)):
        x = _t(lib, X).requires_grad_()
        _, vj = F.vjp(lambda t: (t ** 3).sum(), x, create_graph=True)
        (g,) = lib.autograd.grad(vj.sum(), x)
        res.append(g)
    _close(res[0], res[1])


def test_independent_outputs_give_zeros_and_strict_raises():
    for lib, F in ((leafgrad, LF), (torch, TF)):
        x = _t(lib, X)
        _, vj = F.vjp(lambda t: lib.ones(3), x, lib.ones(3))
        assert not vj.detach().numpy().any()
        with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not"):
            F.vjp(lambda t: lib.ones(3), x, lib.ones(3), strict=True)
        with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not"):
            F.jacobian(lambda t: lib.ones(3), x, strict=True)


@pytest.mark.parametrize("case", ["bad_out", "v_none", "v_size", "bad_inputs", "hess_vec",
                                  "hess_tuple", "strategy"])
def test_errors_match_torch(case):
    msgs = []
    for lib, F in ((leafgrad, LF), (torch, TF)):
        x = _t(lib, X)
        calls = {
            "bad_out": lambda: F.vjp(lambda t: 3, x),
            "v_none": lambda: F.vjp(lambda t: t * 2, x),
            "v_size": lambda: F.vjp(lambda t: t * 2, x, lib.ones(2)),
            "bad_inputs": lambda: F.jacobian(lambda t: t * 2, [x]),
            "hess_vec": lambda: F.hessian(lambda t: t, x),
            "hess_tuple": lambda: F.hessian(lambda t: (t.sum(), t.sum()), x),
            "strategy": lambda: F.jacobian(lambda t: t, x, strategy="forward-mode"),
        }
        with pytest.raises((TypeError, RuntimeError, NotImplementedError)) as e:
            calls[case]()
        msgs.append((type(e.value), str(e.value).replace("torch.Size", "S")))
    assert msgs[0][0] is msgs[1][0]
    assert msgs[0][1] == msgs[1][1]
