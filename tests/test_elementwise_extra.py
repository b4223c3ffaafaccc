"""Elementwise behaviour the op table cannot express: special-function accuracy over wide
ranges, gradients at awkward points, out=, in-place forms, operators and errors (vs torch)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import leafgrad

RNG = np.random.default_rng(0)


def _both(arr, requires_grad=False):
    return (leafgrad.tensor(arr.copy(), requires_grad=requires_grad),
            torch.tensor(arr.copy(), requires_grad=requires_grad))


@pytest.mark.parametrize("name,lo,hi", [
    ("erf", -7, 7), ("erfc", -7, 27), ("erfinv", -1, 1), ("lgamma", -30, 50),
    ("digamma", -30, 50),
])
def test_special_functions_match_torch_float64(name, lo, hi):
    x = np.concatenate([RNG.uniform(lo, hi, 20000), np.linspace(lo, hi, 2001),
                        [0.0, -0.0, 1.0, 2.0, -1.0, 1.5, -1.5, np.inf, -np.inf, np.nan]])
    a = getattr(leafgrad, name)(leafgrad.tensor(x)).numpy()
    b = getattr(torch, name)(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.isposinf(a), np.isposinf(b))
    np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
    fin = np.isfinite(b)
    # NOTE: near the roots of lgamma/digamma the relative error of either library is large;
    # compare with an absolute floor there
    np.testing.assert_allclose(a[fin], b[fin], rtol=1e-12, atol=1e-13)


def test_polygamma_matches_torch():
    x = np.concatenate([RNG.uniform(0.1, 40, 2000), RNG.uniform(-5, 0, 200)])
    for n in (1, 2, 3):
        a = leafgrad.polygamma(n, leafgrad.tensor(x)).numpy()
        b = torch.polygamma(n, torch.tensor(x)).numpy()
        np.testing.assert_allclose(a, b, rtol=1e-8)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.sqrt(x), lambda m, x: m.rsqrt(x), lambda m, x: x.abs(),
    lambda m, x: x.clamp(0.0, 1.0), lambda m, x: x.clamp_min(0.0),
    lambda m, x: x.clamp_max(1.0), lambda m, x: m.maximum(x, m.zeros_like(x)),
    lambda m, x: m.minimum(x, m.ones_like(x)), lambda m, x: m.fmax(x, m.zeros_like(x)),
    lambda m, x: m.logit(x.abs()), lambda m, x: m.logit(x, 0.25), lambda m, x: m.sinc(x),
    lambda m, x: m.xlogy(x, x), lambda m, x: m.hypot(x, m.zeros_like(x)),
    lambda m, x: m.atan2(x, m.zeros_like(x)), lambda m, x: m.copysign(x, -1.0),
    lambda m, x: m.nan_to_num(x / x), lambda m, x: m.acosh(x + 1),
])
def test_gradients_at_awkward_points(fn):
    x = np.array([0.0, 1.0, -0.0, 0.25, 0.75], dtype=np.float64)
    lx, tx = _both(x, requires_grad=True)
    fn(leafgrad, lx).sum().backward()
    fn(torch, tx).sum().backward()
    np.testing.assert_array_equal(lx.grad.numpy(), tx.grad.numpy())


def test_maximum_ties_split_the_gradient():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0])
    la, ta = _both(a, True)
    lb, tb = _both(b, True)
    leafgrad.maximum(la, lb).sum().backward()
    torch.maximum(ta, tb).sum().backward()
    np.testing.assert_array_equal(la.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(lb.grad.numpy(), tb.grad.numpy())
    assert la.grad.numpy()[0] == 0.5


def test_sgn_gradient_is_zero():
    lx, tx = _both(np.array([-1.0, 0.0, 2.0]), True)
    assert type(lx.sgn().grad_fn).__name__ == type(tx.sgn().grad_fn).__name__
    lx.sgn().sum().backward()
    tx.sgn().sum().backward()
    np.testing.assert_array_equal(lx.grad.numpy(), (tx.grad + 0).numpy())


@pytest.mark.parametrize("fn", [
    lambda m, a, b: m.floor_divide(a, b), lambda m, a, b: a // b,
    lambda m, a, b: m.heaviside(a, b), lambda m, a, b: 2.0 % a,
])
def test_not_implemented_derivatives(fn):
    lx, tx = _both(np.array([1.5, -2.0]), True)
    lo, to = fn(leafgrad, lx, lx * 1), fn(torch, tx, tx * 1)
    assert type(lo.grad_fn).__name__ == type(to.grad_fn).__name__ == "NotImplemented"
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy())
    with pytest.raises(RuntimeError) as t_err:
        to.sum().backward()
    with pytest.raises(RuntimeError, match="derivative for"):
        lo.sum().backward()
    assert "not implemented" in str(t_err.value)


@pytest.mark.parametrize("expr", [
    "x.exp_()", "x.clamp_(0.2, 0.5)", "x.floor_()", "x.sqrt_()", "x.lerp_(x * 2, 0.5)",
    "x.addcmul_(x, x, value=2)", "x.nan_to_num_()", "x.fmod_(0.3)", "x.remainder_(0.3)",
    "x.copysign_(-1.0)", "x.div_(0.3, rounding_mode='floor')",
])
def test_inplace_forms_match_torch(expr):
    arr = RNG.uniform(0.1, 1.0, (2, 3))
    lx, tx = _both(arr)
    lr = eval(expr, {"x": lx})
    tr = eval(expr, {"x": tx})
    assert lr is lx
    np.testing.assert_allclose(lx.numpy(), tx.numpy(), rtol=1e-12)
    assert tr is tx


def test_inplace_operators_match_torch():
    a = np.array([5, -7, 12], dtype=np.int64)
    for op in ("//=", "%=", "<<=", ">>=", "&=", "|=", "^="):
        lx, tx = _both(a)
        exec(f"lx {op} 2", {"lx": lx})
        exec(f"tx {op} 2", {"tx": tx})
        np.testing.assert_array_equal(lx.numpy(), tx.numpy(), err_msg=op)


def test_reflected_operators_match_torch():
    lx, tx = _both(np.array([3, 5], dtype=np.int64))
    for expr in ("7 // x", "7 % x", "1 << x", "64 >> x", "2 ** x", "3 & x", "3 | x", "3 ^ x"):
        lr, tr = eval(expr, {"x": lx}), eval(expr, {"x": tx})
        assert str(lr.dtype) == str(tr.dtype), expr
        np.testing.assert_array_equal(lr.numpy(), tr.numpy(), err_msg=expr)


def test_out_argument():
    lx, tx = _both(np.array([0.5, 1.0]))
    lo, to = leafgrad.empty(2, dtype=leafgrad.float64), torch.empty(2, dtype=torch.float64)
    assert leafgrad.erf(lx, out=lo) is lo
    torch.erf(tx, out=to)
    np.testing.assert_allclose(lo.numpy(), to.numpy())
    lo2, to2 = leafgrad.empty(0, dtype=leafgrad.float64), torch.empty(0, dtype=torch.float64)
    leafgrad.clamp(lx, 0.6, 0.9, out=lo2)
    torch.clamp(tx, 0.6, 0.9, out=to2)
    assert lo2.shape == to2.shape
    lr = leafgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="out="):
        leafgrad.exp2(lr, out=leafgrad.empty(1))


@pytest.mark.parametrize("fn", [
    lambda m: m.tensor([1, 2]) // m.tensor([0, 1]),
    lambda m: m.remainder(m.tensor([1, 2]), 0),
    lambda m: m.tensor([1.5]) & m.tensor([1.0]),
    lambda m: ~m.tensor([1.5]),
    lambda m: m.tensor([1.0]) << 1,
    lambda m: m.frac(m.tensor([1])),
    lambda m: m.floor(m.tensor([True])),
    lambda m: m.maximum(m.tensor([1.0]), 2.0),
    lambda m: m.hypot(m.tensor([1]), m.tensor([2])),
    lambda m: m.lerp(m.tensor([1.0]), m.tensor([1.0], dtype=m.float64), 0.5),
    lambda m: m.heaviside(m.tensor([1.0]), m.tensor([1])),
    lambda m: m.addcdiv(m.tensor([1]), m.tensor([1]), m.tensor([2])),
    lambda m: m.div(m.tensor([1.0]), 2, rounding_mode="nearest"),
    lambda m: m.positive(m.tensor([True])),
    lambda m: m.clamp(m.tensor([1.0])),
    lambda m: m.isclose(m.tensor([1.0]), m.tensor([1.0], dtype=m.float64)),
])
def test_errors_match_torch(fn):
    with pytest.raises(Exception) as t_err:
        fn(torch)
    with pytest.raises(type(t_err.value)):
        fn(leafgrad)


def test_result_dtypes_match_torch():
    cases = [
        lambda m: m.div(m.tensor([7, -7]), 2, rounding_mode="trunc"),
        lambda m: m.div(m.tensor([7, -7]), m.tensor([2, 2]), rounding_mode="floor"),
        lambda m: m.tensor([7, -7]) // 2.5, lambda m: m.float_power(m.tensor([2]), 2),
        lambda m: m.clamp(m.tensor([1, 2]), 0.5, 1.5), lambda m: m.exp2(m.tensor([True])),
        lambda m: m.square(m.tensor([True])), lambda m: m.xlogy(m.tensor([1]), 2),
        lambda m: m.copysign(m.tensor([1]), m.tensor([-1])), lambda m: m.atan2(
            m.tensor([1]), m.tensor([2])), lambda m: m.round(m.tensor([3])),
        lambda m: m.logical_and(m.tensor([1]), m.tensor([0.5])),
        lambda m: m.tensor([-8], dtype=m.int8) >> 1, lambda m: m.nan_to_num(m.tensor([2])),
    ]
    for fn in cases:
        lr, tr = fn(leafgrad), fn(torch)
        assert str(lr.dtype) == str(tr.dtype)
        np.testing.assert_array_equal(lr.numpy(), tr.numpy())


def _logit_grad_alone(v: float, eps, upstream: float) -> np.ndarray:
    """torch's logit gradient at ``v`` computed on a one-element tensor (its scalar loop)."""
    t = torch.tensor([v], requires_grad=True)
    (g,) = torch.autograd.grad(t.logit(eps), t, torch.full_like(t, upstream))
    return g.numpy()


@pytest.mark.parametrize("eps", [None, 0.0, 0.25])
@pytest.mark.parametrize("upstream", [1.0, -2.0, 0.0])
def test_logit_gradient_outside_its_domain_matches_torch(eps, upstream):
    # torch: NaN outside [0, 1] without eps (whatever the upstream gradient), 0 outside
    # [eps, 1 - eps] with eps, grad * inf at 0 and 1; create_graph takes its where() form
    x = np.array([-1.0, -0.0, 0.0, 0.1, 0.5, 1.0, 2.0, 3.0, np.nan, np.inf, -np.inf])
    for create_graph in (False, True):
        lx, tx = _both(x, requires_grad=True)
        (lg,) = leafgrad.autograd.grad(lx.logit(eps), lx, leafgrad.full_like(lx, upstream),
                                       create_graph=create_graph)
        (tg,) = torch.autograd.grad(tx.logit(eps), tx, torch.full_like(tx, upstream),
                                    create_graph=create_graph)
        want = tg.detach().numpy()
        if not create_graph:
            # NOTE: torch's logit_backward kernel gives -inf at -0.0 in its vector blocks and
            # +inf in its scalar loop; which elements fall in a block depends on the CPU's
            # vector width (AVX2: the first 8 here, AVX-512: none). leafgrad follows the
            # scalar loop, so the oracle is torch element by element
            want = np.concatenate([_logit_grad_alone(v, eps, upstream) for v in x])
        np.testing.assert_array_equal(lg.detach().numpy(), want)
        if create_graph:
            (lg2,) = leafgrad.autograd.grad(lg.sum(), lx)
            (tg2,) = torch.autograd.grad(tg.sum(), tx)
            np.testing.assert_array_equal(lg2.numpy(), tg2.numpy())


def test_logit_inplace_on_a_non_leaf_back_propagates_nan_as_torch():
    got = []
    for m in (leafgrad, torch):
        x = m.tensor([0.25, 3.0, -1.0], dtype=m.float32, requires_grad=True)
        (x * 1).logit_().sum().backward()
        got.append(x.grad.numpy())
    assert np.isnan(got[1][1:]).all()
    np.testing.assert_array_equal(*got)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8"])
def test_shifts_past_the_width_or_negative_match_torch(dtype):
    # torch shifts right by width - 1 for a negative count or one past the width (the sign
    # fills the result), and gives 0 for such left shifts
    vals = [5, -2, -128, 0, 127, 1, -1, 77]
    counts = [-1, -3, 100, 7, 8, 63, 64, -100]
    if dtype == "uint8":
        vals, counts = [v % 256 for v in vals], [c % 256 for c in counts]
    for m in (leafgrad, torch):
        a = m.tensor(vals, dtype=getattr(m, dtype))
        b = m.tensor(counts, dtype=getattr(m, dtype))
        res = [a >> b, a << b, a >> -1, a >> 70, a << -1, a << 70,
               m.bitwise_right_shift(a, b), a >> b.long()]
        res = [r.numpy() for r in res]
        if m is leafgrad:
            ours = res
    for o, t in zip(ours, res):
        assert o.dtype == t.dtype
        np.testing.assert_array_equal(o, t)


def test_sign_of_nan_is_zero_as_torch_and_so_are_gradients_built_on_it():
    x = np.array([np.nan, -0.0, 1.0, -np.inf, np.inf, -2.5])
    got = []
    for m in (leafgrad, torch):
        t = m.tensor(x, requires_grad=True)
        vals = [m.sign(t), t.detach().sgn(), t.detach().clone().sign_()]
        t.abs().sum().backward()  # abs' gradient is grad * sgn(x)
        u = m.tensor([0.25, -np.inf, np.nan], requires_grad=True)
        m.nn.functional.l1_loss(u, u * 1).backward()  # sign(inf - inf) = sign(nan)
        got.append([v.detach().numpy() for v in vals] + [t.grad.numpy(), u.grad.numpy()])
    for a, b in zip(*got):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_polygamma_at_infinities_nan_and_poles_matches_torch(dtype):
    # n >= 2: NaN at +inf and a signed pole at -inf (torch's zeta); its gradient too
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -2.5, 1e30, 3.0], dtype=dtype)
    for n in range(5):
        a = leafgrad.polygamma(n, leafgrad.tensor(x)).numpy()
        b = torch.polygamma(n, torch.tensor(x)).numpy()
        np.testing.assert_allclose(a, b, rtol=1e-5, err_msg=f"n={n}")
    lx, tx = _both(x, requires_grad=True)
    leafgrad.polygamma(1, lx).sum().backward()
    torch.polygamma(1, tx).sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-5)


_ALPHA_CASES = {
    "bool_tensors_int_alpha": lambda L: L.add(L.tensor([True, False]), L.tensor([True, True]),
                                              alpha=3),
    "bool_and_python_bool": lambda L: L.add(L.tensor([True, False]), True, alpha=-2),
    "bool_alpha_zero": lambda L: L.add(L.tensor([True, False]), L.tensor([False, True]), alpha=0),
    "bool_and_int_number": lambda L: L.add(L.tensor([True, False]), 1, alpha=3),
    "int_float_alpha": lambda L: L.add(L.tensor([1, 2]), L.tensor([1, 2]), alpha=0.5),
    "int_alpha_one_float": lambda L: L.add(L.tensor([1, 2]), L.tensor([1, 2]), alpha=1.0),
    "bool_float_alpha": lambda L: L.add(L.tensor([True]), L.tensor([True]), alpha=0.5),
    "float_bool_alpha": lambda L: L.add(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0]), alpha=True),
    "int_bool_alpha": lambda L: L.add(L.tensor([1, 2]), L.tensor([1, 2]), alpha=True),
    "bool_bool_alpha": lambda L: L.add(L.tensor([True]), L.tensor([True]), alpha=True),
    "sub_int_float_alpha": lambda L: L.sub(L.tensor([1, 2]), L.tensor([1, 2]), alpha=2.0),
    "add_inplace_float_alpha": lambda L: L.tensor([1, 2]).add_(L.tensor([1, 2]), alpha=0.5),
    "add_inplace_bool_alpha": lambda L: L.tensor([1.0, 2.0]).add_(L.tensor([1.0, 2.0]),
                                                                  alpha=True),
    "rsub_int_float_alpha": lambda L: L.rsub(L.tensor([1, 2]), L.tensor([1, 2]), alpha=1.0),
}


@pytest.mark.parametrize("name", list(_ALPHA_CASES))
def test_add_alpha_checks_and_bool_results_as_torch(name):
    # PyTorch's alpha_check (a float alpha for integral results, a bool alpha for non-bool
    # ones) and a bool result's bool(alpha): add(bools, alpha=2) is a logical or, still bool
    def outcome(lib):
        try:
            r = _ALPHA_CASES[name](lib)
            return r.tolist(), str(r.dtype)
        except RuntimeError as e:
            return str(e).splitlines()[0]

    assert outcome(leafgrad) == outcome(torch)
