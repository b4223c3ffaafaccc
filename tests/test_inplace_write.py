"""In-place arithmetic written into the tensor's own memory: values, dtype rules, versions, checks.

``add_``/``sub_``/``mul_``/``div_`` outside autograd write into self's array (NumPy ``out=``); these
tests hold that path to torch bit for bit (``alpha`` rounds once, as ATen's fused multiply-add),
and check that what the general path guarantees (errors, version bumps, memory identity) holds.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import leafgrad


def _adversarial(dt, n: int, seed: int) -> np.ndarray:
    """Values over a wide exponent range: where a doubly rounded ``a - alpha*b`` differs."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n) * np.exp2(rng.integers(-30, 30, n))).astype(dt)


def _both(a: np.ndarray):
    return leafgrad.tensor(a.copy()), torch.from_numpy(a.copy())


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("alpha", [1, 0.1, 1 / 3, 3.0000001, -2, 1e-7])
@pytest.mark.parametrize("op", ["add_", "sub_"])
def test_alpha_update_bit_exact(op, alpha, dt):
    a, b = _adversarial(dt, 20001, 0), _adversarial(dt, 20001, 1)
    (la, ta), (lb, tb) = _both(a), _both(b)
    with leafgrad.no_grad():
        r = getattr(la, op)(lb, alpha=alpha)
    getattr(ta, op)(tb, alpha=alpha)
    assert r is la
    np.testing.assert_array_equal(la.numpy(), ta.numpy())


@pytest.mark.parametrize("dt", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("op", ["add", "sub"])
def test_alpha_out_of_place_bit_exact(op, dt):
    # the out-of-place op and the recorded in-place op compute the same single rounding
    a, b = (np.clip(_adversarial(np.float64, 4001, s), -1e3, 1e3).astype(dt) for s in (2, 3))
    (la, ta), (lb, tb) = _both(a), _both(b)
    np.testing.assert_array_equal(getattr(la, op)(lb, alpha=0.1).numpy(),
                                  getattr(ta, op)(tb, alpha=0.1).numpy())
    if dt is np.float16:
        return  # NOTE: ATen's half kernel rounds the vector loop's tail differently (not followed)
    # broadcast: a row against a matrix
    la2, ta2 = _both(a[:4000].reshape(40, 100))
    lr, tr = _both(b[:100])
    np.testing.assert_array_equal(getattr(la2, op)(lr, alpha=0.7).numpy(),
                                  getattr(ta2, op)(tr, alpha=0.7).numpy())


def test_recorded_inplace_matches_torch():
    # requires grad: the general path (recorded), same values and gradients as torch
    a, b = _adversarial(np.float32, 512, 4), _adversarial(np.float32, 512, 5)
    out = []
    for m in (leafgrad, torch):
        x = m.tensor(a, requires_grad=True)
        g = m.tensor(b, requires_grad=True)
        y = x * 1
        y.sub_(g, alpha=0.1)
        assert y.grad_fn.name() == "SubBackward0"
        (y * y).sum().backward()
        out.append((y.detach().numpy(), x.grad.numpy(), g.grad.numpy()))
    for u, v in zip(*out):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("op,other", [
    ("add_", 0.5), ("sub_", 3), ("mul_", 0.1), ("div_", 3.0), ("div_", 0.0), ("mul_", "t"),
    ("div_", "t"), ("add_", "0d"), ("mul_", "self"),
])
def test_ops_bit_exact_and_in_place(op, other):
    a = _adversarial(np.float32, 3000, 6).reshape(3, 1000)
    a[0, :3] = (0.0, np.inf, -np.inf)
    la, ta = _both(a)
    if other == "t":
        lo, to = _both(_adversarial(np.float32, 3000, 7).reshape(3, 1000))
        lo.numpy()[0, :3] = to.numpy()[0, :3] = 0.0
    elif other == "0d":
        lo, to = leafgrad.tensor(np.float32(0.3)), torch.tensor(np.float32(0.3))
    elif other == "self":
        lo, to = la, ta
    else:
        lo = to = other
    mem, v0 = la.numpy(), la._version
    with leafgrad.no_grad():
        getattr(la, op)(lo)
    getattr(ta, op)(to)
    np.testing.assert_array_equal(la.numpy(), ta.numpy())
    assert la.numpy() is mem or np.shares_memory(la.numpy(), mem)
    assert la._version == v0 + 1


def test_version_and_views_see_the_write():
    p = leafgrad.ones(4, 3)
    row = p[1]
    v = p._version
    with leafgrad.no_grad():
        p.sub_(leafgrad.full((4, 3), 0.25), alpha=2)
    assert p._version == v + 1 and row._version == v + 1
    assert row.tolist() == [0.5, 0.5, 0.5]
    row.mul_(leafgrad.tensor([1.0, 2.0, 3.0]))  # a view (contiguous row) written in place
    assert p[1].tolist() == [0.5, 1.0, 1.5]


def test_saved_tensor_modified_is_caught():
    # a tensor saved for backward, updated under no_grad: backward refuses, as in torch
    for m in (leafgrad, torch):
        w = m.ones(3, requires_grad=True)
        x = m.ones(3)
        loss = (w * x).sum()
        with m.no_grad():
            x.add_(m.ones(3), alpha=0.5)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()


@pytest.mark.parametrize("case", ["int_float", "partial_overlap", "broadcast_grow", "leaf"])
def test_errors_as_torch(case):
    for m in (leafgrad, torch):
        if case == "int_float":
            with pytest.raises(RuntimeError, match="can't be cast"):
                m.tensor([1, 2]).add_(1.5)
            with pytest.raises(RuntimeError, match="can't be cast"):
                m.tensor([1, 2]).sub_(m.tensor([0.5, 0.5]), alpha=2)
        elif case == "partial_overlap":
            x = m.arange(6.0)
            with pytest.raises(RuntimeError, match="single memory location"):
                x[1:].add_(x[:-1])
        elif case == "broadcast_grow":
            with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
                with m.no_grad():
                    m.ones(3).mul_(m.ones(2, 3))
        else:
            with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
                m.ones(3, requires_grad=True).sub_(m.ones(3), alpha=0.1)


def test_no_numpy_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = leafgrad.tensor([1.0, 0.0, np.finfo(np.float32).max])
        x.div_(0.0)
        y = leafgrad.tensor([np.finfo(np.float32).max])
        y.add_(y)
        y.mul_(1e30)
    assert np.isinf(y.numpy()).all()


_TERNARY = {
    "addcmul_ v=0.1": lambda m, x, y, z: x.addcmul_(y, z, value=0.1),
    "addcmul_": lambda m, x, y, z: x.addcmul_(y, z),
    "addcdiv_ v=-0.3": lambda m, x, y, z: x.addcdiv_(y, z, value=-0.3),
    "lerp_ 0.3": lambda m, x, y, z: x.lerp_(y, 0.3),
    "lerp_ 0.7": lambda m, x, y, z: x.lerp_(y, 0.7),
    "lerp_ tensor weight": lambda m, x, y, z: x.lerp_(y, z.abs() / (z.abs() + 1)),
    "addcmul_ broadcast": lambda m, x, y, z: x.addcmul_(y[:100], z[:1]),
    "addcmul_ out of place": lambda m, x, y, z: x.addcmul(y, z, value=0.7),
    "lerp out of place": lambda m, x, y, z: m.lerp(x, y, 0.6),
    "clamp_": lambda m, x, y, z: x.clamp_(-0.5, 1e3),
    "clamp_ min": lambda m, x, y, z: x.clamp_(min=1e-3),
    "clamp_ max > min": lambda m, x, y, z: x.clamp_(2.0, 1.0),
}


@pytest.mark.parametrize("grad", [False, True], ids=["no_grad", "recorded"])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(_TERNARY))
def test_fused_ternary_bit_exact(case, dt, grad):
    # ATen fuses the last multiply-add of addcmul/lerp (and rounds addcdiv as x + (v*t1)/t2);
    # both leafgrad paths (written in place; recorded, computed out of place) give its values
    a, b, c = (_adversarial(dt, 3000, s).reshape(30, 100) for s in (8, 9, 10))
    c = np.abs(c) + 1
    out = []
    for m in (leafgrad, torch):
        x = m.tensor(a, requires_grad=grad)
        y, z = m.tensor(b), m.tensor(c)
        x0 = x * 1 if grad else x
        with m.set_grad_enabled(grad):
            r = _TERNARY[case](m, x0, y, z)
        if grad:
            r.sum().backward()
            out.append((r.detach().numpy(), x.grad.numpy()))
        else:
            out.append((r.numpy(), x.numpy()))
    for u, v in zip(*out):
        np.testing.assert_array_equal(u, v)


def test_clamp_in_place_nan_and_int_rules():
    for m in (leafgrad, torch):
        x = m.tensor([float("nan"), -2.0, 5.0])
        x.clamp_(-1, 1)
        assert np.isnan(x.numpy()[0]) and x.tolist()[1:] == [-1.0, 1.0]
        with pytest.raises(RuntimeError, match="can't be cast"):
            m.tensor([1, 2]).clamp_(0.5)


def test_ema_update_with_parameters():
    # an EMA of a model's parameters (Parameter operands) under no_grad, as torch
    a, b = _adversarial(np.float32, 500, 11), _adversarial(np.float32, 500, 12)
    out = []
    for m in (leafgrad, torch):
        p = m.nn.Parameter(m.tensor(b))
        ema = m.tensor(a)
        with m.no_grad():
            ema.mul_(0.99).add_(p, alpha=0.01)
            ema.lerp_(p, 0.1)
            ema.addcmul_(p, p, value=0.5)
        out.append(ema.numpy())
    np.testing.assert_array_equal(*out)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["sin", "cos", "sqrt", "abs", "absolute", "neg", "negative"])
def test_unary_in_place_writes_the_out_of_place_values(name, dt):
    # the same NumPy ufunc as the op's forward, written into self's memory, version bumped
    a = _adversarial(dt, 2000, 13).reshape(40, 50)
    a[0, :3] = (np.nan, np.inf, -0.0)
    x = leafgrad.tensor(a)
    expect = getattr(leafgrad.tensor(a), name)().numpy()
    mem, v = x.numpy(), x._version
    r = getattr(x, name + "_")()
    assert r is x and np.shares_memory(x.numpy(), mem) and x._version == v + 1
    np.testing.assert_array_equal(x.numpy(), expect)
    assert np.signbit(x.numpy()[0, 2]) == np.signbit(expect[0, 2])


def test_unary_in_place_rules_kept():
    for m in (leafgrad, torch):
        with pytest.raises(RuntimeError, match="can't be cast"):
            m.tensor([1, 4]).sqrt_()  # float result into an int tensor
        with pytest.raises(RuntimeError, match="leaf Variable"):
            m.ones(2, requires_grad=True).sin_()
        x = m.ones(2, requires_grad=True) * 2
        x.sqrt_()
        assert x.grad_fn.name() == "SqrtBackward0"
