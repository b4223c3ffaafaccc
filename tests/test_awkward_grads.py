"""Gradients at awkward points against torch (issue 9, the last silent gradient mismatches):
NaN and infinite inputs of piecewise ops, infinite upstream gradients meeting zero derivatives,
boundaries of piecewise definitions, floor division at infinities.

Each case runs in torch and in leafgrad and must agree exactly (NaN where torch has NaN, the
same infinities). Piecewise ops are tested on tensors of at most 4 elements: torch's
vectorized kernels (used from 8-16 elements on) disagree with its own scalar formula at a NaN
input for hardtanh, relu6, elu/selu/celu, hardswish and hardshrink/softshrink; leafgrad
follows the formula (see docs/design.md, "NaN inputs of piecewise ops").
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import leafgrad

INF, NAN = math.inf, math.nan


def _same_array(t, lg, what="", ulps=4, atol=0.0):
    assert lg is not None and t is not None, (what, t, lg)
    t = t.detach().numpy()
    lg = lg.detach().numpy()
    assert t.shape == lg.shape, (what, t.shape, lg.shape)
    # NOTE: exact NaN and infinity positions; finite values to a few ulps (the last bits of
    # elu_'s result-based formula are another matter, tests/test_last_bits.py)
    np.testing.assert_array_equal(np.isnan(lg), np.isnan(t), err_msg=what)
    np.testing.assert_allclose(lg, t, rtol=ulps * np.finfo(t.dtype).eps if t.dtype.kind == "f"
                               else 0, atol=atol, err_msg=what)


def _grads(L, op, xs, up, dtype, create):
    x = L.tensor(xs, dtype=getattr(L, dtype), requires_grad=True)
    y = op(L, x)
    (g,) = L.autograd.grad(y, [x], L.full(y.shape, up, dtype=y.dtype), create_graph=create)
    return g


F = {
    "relu": lambda L, x: L.relu(x),
    "relu_": lambda L, x: (x * 1).relu_(),
    "relu_inplace": lambda L, x: L.nn.functional.relu(x * 1, inplace=True),
    "relu6": lambda L, x: L.nn.functional.relu6(x),
    "hardtanh": lambda L, x: L.nn.functional.hardtanh(x, -0.5, 0.7),
    "hardtanh_": lambda L, x: L.nn.functional.hardtanh_(x * 1, -0.5, 0.7),
    "leaky_relu": lambda L, x: L.nn.functional.leaky_relu(x, 0.1),
    "threshold": lambda L, x: L.nn.functional.threshold(x, 0.5, 2.0),
    "threshold_": lambda L, x: L.nn.functional.threshold_(x * 1, 0.5, 2.0),
    "hardshrink": lambda L, x: L.nn.functional.hardshrink(x, 0.5),
    "softshrink": lambda L, x: L.nn.functional.softshrink(x, 0.5),
    "hardsigmoid": lambda L, x: L.nn.functional.hardsigmoid(x),
    "hardswish": lambda L, x: L.nn.functional.hardswish(x),
    "elu": lambda L, x: L.nn.functional.elu(x),
    "elu_": lambda L, x: L.nn.functional.elu_(x * 1),
    "selu": lambda L, x: L.nn.functional.selu(x),
    "celu": lambda L, x: L.nn.functional.celu(x, 0.5),
    "rrelu_eval": lambda L, x: L.nn.functional.rrelu(x, training=False),
    "prelu": lambda L, x: L.nn.functional.prelu(x, L.tensor([0.25], dtype=x.dtype)),
    "clamp": lambda L, x: x.clamp(-1, 1),
    "clamp_": lambda L, x: (x * 1).clamp_(-1, 1),
}
POINTS = [NAN, INF, -INF, 0.0, -0.0, 3.0, -3.0, 0.5, -0.5, 0.7, 6.0, 1.0]


@pytest.mark.parametrize("name", sorted(F))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("create", [False, True])
def test_piecewise_gradients_at_nan_inf_and_boundaries_match_torch(name, dtype, create):
    """A NaN input fails every comparison, so it takes the branch torch's formula gives the
    'otherwise' case (relu, threshold, hardtanh: the gradient passes; elu: the linear slope)."""
    for i in range(0, len(POINTS), 4):
        xs = POINTS[i:i + 4]
        for up in (1.0, INF, NAN, 0.0):
            t = _grads(torch, F[name], xs, up, dtype, create)
            lg = _grads(leafgrad, F[name], xs, up, dtype, create)
            _same_array(t, lg, f"{name} at {xs} upstream {up}")


@pytest.mark.parametrize("xs", [[-0.0, 0.0, NAN, -1.0], [NAN], [-0.0]])
def test_relu_and_threshold_values_keep_signed_zero_and_nan(xs):
    for f in (lambda L, x: L.relu(x), lambda L, x: x.clone().relu_(),
              lambda L, x: L.nn.functional.threshold(x, 0.0, 5.0)):
        _same_array(f(torch, torch.tensor(xs)), f(leafgrad, leafgrad.tensor(xs)), str(xs))


def test_torch_vectorized_piecewise_kernels_disagree_with_the_scalar_formula():
    """The torch inconsistency behind the choice above: the same NaN, a different gradient
    depending on the tensor's length. If torch fixes it, this test says so."""
    x1 = torch.full((1,), NAN, dtype=torch.float64, requires_grad=True)
    x64 = torch.full((64,), NAN, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.hardtanh(x1).sum().backward()
    torch.nn.functional.hardtanh(x64).sum().backward()
    assert x1.grad.item() == 1.0 and x64.grad[0].item() == 0.0
    lg = leafgrad.full((64,), NAN, dtype=leafgrad.float64, requires_grad=True)
    leafgrad.nn.functional.hardtanh(lg).sum().backward()
    assert (lg.grad.numpy() == 1.0).all()  # the formula's answer, at every length


REM_A = [3.0, -3.0, -INF, INF, 0.0, -0.0, 3.0, 5.0, -5.0, NAN, 1.0, 7.5]
REM_B = [-INF, INF, 3.0, 3.0, INF, -INF, 0.0, -0.0, 2.0, 2.0, NAN, -2.0]


@pytest.mark.parametrize("name", ["remainder", "fmod"])
@pytest.mark.parametrize("create", [False, True])
def test_remainder_and_fmod_gradients_use_torchs_rounded_division(name, create):
    """remainder's gradient for ``other`` is -grad·(a // b) with PyTorch's floor division
    (nan for -inf // 3, -1 for 3 // -inf), not -grad·floor(a / b)."""
    def f(L):
        a = L.tensor(REM_A, dtype=L.float64, requires_grad=True)
        b = L.tensor(REM_B, dtype=L.float64, requires_grad=True)
        y = getattr(L, name)(a, b)
        return L.autograd.grad(y.sum(), [a, b], create_graph=create)
    for t, lg in zip(f(torch), f(leafgrad)):
        _same_array(t, lg, name)


LX = [0.5, 0.0, -1.5, -0.0, NAN, -1.5, -2.0, INF, 0.25, -INF, 3.0, INF]
LT = [-1.5, 2.0, 1.5, 0.0, 0.5, -1.0, 2.0, -INF, 0.25, -1.5, INF, INF]
PAIR = {
    "mse": lambda L, x, t, r: L.nn.functional.mse_loss(x, t, reduction=r),
    "l1": lambda L, x, t, r: L.nn.functional.l1_loss(x, t, reduction=r),
    "smooth_l1": lambda L, x, t, r: L.nn.functional.smooth_l1_loss(x, t, reduction=r, beta=0.5),
    "huber": lambda L, x, t, r: L.nn.functional.huber_loss(x, t, reduction=r, delta=2.0),
}


@pytest.mark.parametrize("name", sorted(PAIR))
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("create", [False, True])
def test_pair_losses_with_infinite_differences_match_torch(name, reduction, create):
    """smooth_l1 and huber are flat-sloped (±1, ±delta) past beta/delta: an infinite difference
    there has a finite slope, and a zero upstream gradient gives a signed zero, not NaN."""
    for up in (1.0, 0.0, INF, NAN):
        res = []
        for L in (torch, leafgrad):
            x = L.tensor(LX, dtype=L.float64, requires_grad=True)
            t = L.tensor(LT, dtype=L.float64, requires_grad=True)
            y = PAIR[name](L, x, t, reduction)
            res.append(L.autograd.grad(y, [x, t], L.full(y.shape, up, dtype=y.dtype),
                                       create_graph=create))
        for a, b in zip(*res):
            _same_array(a, b, f"{name} {reduction} upstream {up}")


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_ignored_targets_get_zero_gradient_for_an_infinite_upstream(smoothing, weighted,
                                                                    reduction):
    """nll_loss skips an ignored target (torch): its row's gradient is 0, never 0·inf = NaN."""
    def f(L):
        x = L.tensor([[0.5, 0.5, -1.0, 1.5, 0.25], [1.0, -1.5, 0.0, -0.5, 0.25],
                      [-2.0, 0.0, 1.0, 0.5, 2.0]], dtype=L.float64, requires_grad=True)
        w = L.tensor([1.0, 2.0, 0.5, 1.5, 3.0], dtype=L.float64) if weighted else None
        y = L.nn.functional.cross_entropy(x, L.tensor([0, 4, 2]), weight=w, ignore_index=0,
                                          label_smoothing=smoothing, reduction=reduction)
        y.backward(L.full(y.shape, INF, dtype=L.float64))
        return x.grad
    _same_array(f(torch), f(leafgrad))

    def g(L):  # every target ignored
        x = L.tensor([[0.5, -1.0], [2.0, 1.0]], dtype=L.float32, requires_grad=True)
        y = L.nn.functional.nll_loss(x, L.tensor([1, 1]), ignore_index=1, reduction=reduction)
        y.backward(L.full(y.shape, INF))
        return x.grad
    _same_array(g(torch), g(leafgrad))


EINSUM = [("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("iii->i", [(2, 2, 2)]),
          ("...ii,...j->...ij", [(2, 3, 3), (2, 4)]), ("iij,j->ij", [(2, 2, 3), (3,)]),
          ("ij,jj->i", [(2, 3), (3, 3)]), ("bii->b", [(2, 3, 3)]), ("jii,ij->j", [(2, 3, 3),
                                                                                  (3, 2)])]


@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum_gradient_of_a_diagonal_is_zero_off_the_diagonal(eq, shapes):
    """A repeated letter reads a diagonal: its gradient is written there, zeros elsewhere, even
    for an infinite upstream gradient or an infinite factor (torch's diagonal backward)."""
    rng = np.random.default_rng(0)
    vals = [rng.standard_normal(s) for s in shapes]
    vals[-1].flat[0] = INF
    for create in (False, True):
        res = []
        for L in (torch, leafgrad):
            ops = [L.tensor(v, requires_grad=True) for v in vals]
            y = L.einsum(eq, *ops)
            up = L.full(y.shape, INF, dtype=y.dtype)
            res.append(L.autograd.grad(y, ops, up, create_graph=create))
        for a, b in zip(*res):
            _same_array(a, b, eq)


@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum_with_diagonals_passes_gradcheck_and_gradgradcheck(eq, shapes):
    rng = np.random.default_rng(1)
    ops = [leafgrad.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    f = lambda *xs: leafgrad.einsum(eq, *xs)  # noqa: E731
    assert leafgrad.autograd.gradcheck(f, ops)
    assert leafgrad.autograd.gradgradcheck(f, ops)


CONV = [("conv2d", (1, 2, 3, 4), (2, 1, 2, 2), dict(padding=1, groups=2)),
        ("conv2d", (2, 2, 4, 3), (3, 2, 2, 1), dict(padding=(1, 0))),
        ("conv3d", (1, 2, 1, 2, 1), (2, 1, 1, 2, 1), dict(padding=(1, 0, 1), groups=2)),
        ("conv3d", (1, 1, 2, 3, 3), (2, 1, 1, 2, 2), dict(padding=1, dilation=(1, 1, 2))),
        ("conv_transpose2d", (1, 2, 3, 3), (2, 1, 2, 2), dict(padding=1)),
        ("conv_transpose2d", (1, 2, 2, 3), (2, 2, 2, 2), dict(groups=2))]


@pytest.mark.parametrize("fname,xs,ws,kw", CONV)
@pytest.mark.parametrize("where", ["input", "weight"])
def test_conv_gradients_with_an_infinite_input_or_weight_match_torch(fname, xs, ws, kw, where):
    """The stride-1 'wide grid' multiplies its dropped windows by zeros: with an inf or NaN
    operand that would be NaN in sums torch builds from the real windows only."""
    rng = np.random.default_rng(2)
    x0, w0 = rng.standard_normal(xs), rng.standard_normal(ws)
    (x0 if where == "input" else w0).flat[-1] = INF
    (x0 if where == "input" else w0).flat[1] = NAN
    res = []
    for L in (torch, leafgrad):
        x = L.tensor(x0, requires_grad=True)
        w = L.tensor(w0, requires_grad=True)
        y = getattr(L.nn.functional, fname)(x, w, **kw)
        res.append(L.autograd.grad(y.sum(), [x, w]))
    for a, b in zip(*res):
        _same_array(a, b, fname, ulps=64)  # sums in another order


@pytest.mark.parametrize("seed", range(6))
def test_triangular_solve_with_non_finite_or_singular_operands_matches_torch(seed):
    """A triangular solve is a substitution (PyTorch's trsm): inf/NaN stay in the rows that
    depend on them, a zero diagonal gives inf (LAPACK's pivoting solver spread NaN or refused);
    the backward's solve with an infinite upstream gradient is one too."""
    rng = np.random.default_rng(seed)
    for _ in range(25):
        n, m = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        a0 = rng.standard_normal((n, n)) + 3 * np.eye(n)
        b0 = rng.standard_normal((n, m))
        up0 = rng.standard_normal((n, m))
        for arr in (a0, b0, up0):
            for _ in range(int(rng.integers(0, 3))):
                arr.flat[rng.integers(arr.size)] = rng.choice([INF, -INF, NAN, 0.0])
        upper, left, unit = (bool(v) for v in rng.integers(0, 2, 3))
        if not left:
            b0, up0 = b0.T.copy(), up0.T.copy()
        res = []
        for L in (torch, leafgrad):
            a = L.tensor(a0, requires_grad=True)
            b = L.tensor(b0, requires_grad=True)
            x = L.linalg.solve_triangular(a, b, upper=upper, left=left, unitriangular=unit)
            res.append((x,) + L.autograd.grad(x, [a, b], L.tensor(up0)))
        for t, lg in zip(*res):
            _same_array(t, lg, f"upper={upper} left={left} unit={unit}", ulps=64, atol=1e-12)


def test_old_triangular_solve_with_an_infinite_upstream_gradient_matches_torch():
    def f(L):
        b = L.tensor([[1.224, 1.242], [-0.783, 1.034], [-1.052, 0.348]], requires_grad=True)
        a = L.tensor([[2.9, 1.8, -0.9], [-0.8, 2.7, -0.06], [0.4, -0.45, 3.9]])
        x = b.triangular_solve(a, upper=False, transpose=True, unitriangular=True)[0]
        x.backward(L.tensor([[3.0, INF], [0.0, 0.0], [INF, INF]]))
        return b.grad
    _same_array(f(torch), f(leafgrad))


PROD_X = [[2.0, 0.0, 3.0], [0.0, 0.0, 1.5], [INF, 2.0, -1.0], [INF, 0.0, 2.0], [NAN, 1.0, 2.0],
          [-INF, -0.0, 0.5], [1.0, 2.0, 3.0]]


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("create", [False, True])
def test_prod_gradient_with_zeros_and_infinities_matches_torch(dim, create):
    """PyTorch's prod_backward: grad itself for a 0-d input, out / x without zeros, else
    the exclusive products from both ends (no division), zeros for a full reduction with two
    zeros outside a graph of the backward."""
    rows = [[r] for r in PROD_X] + [PROD_X]
    for xs in rows:
        for up in (1.0, INF):
            res = []
            for L in (torch, leafgrad):
                x = L.tensor(xs, dtype=L.float64, requires_grad=True)
                y = x.prod() if dim is None else x.prod(dim)
                (g,) = L.autograd.grad(y, [x], L.full(y.shape, up, dtype=L.float64),
                                       create_graph=create)
                res.append([g, g.requires_grad])
                if create and up == 1.0 and g.requires_grad:
                    # (second order with an inf upstream: not yet, see the report)
                    res[-1] += L.autograd.grad(g.sum(), [x], allow_unused=True)
            assert res[0][1] == res[1][1]  # torch's graph of the backward is cut, or not
            for r in res:
                del r[1]
            for a, b in zip(*res):
                _same_array(a, b, f"prod({dim}) of {xs} upstream {up}")


def test_prod_over_a_size_one_dim_with_a_zero_elsewhere_passes_the_gradient_through():
    def f(L):
        x0 = L.tensor([[[-1.0]], [[0.5]], [[1.5]]], dtype=L.float64, requires_grad=True)
        x1 = L.tensor([[[3.0, -1.0]], [[-1.5, -0.0]], [[-INF, -0.0]]], dtype=L.float32)
        (x0 / x1).prod(1, keepdim=True).sum().backward(create_graph=True)
        return x0.grad
    _same_array(f(torch), f(leafgrad))


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_with_zeros_passes_gradgradcheck(dim):
    x = leafgrad.tensor([[2.0, 0.0, 3.0], [0.5, -1.0, 1.5], [0.0, 0.0, 2.0]],
                        dtype=leafgrad.float64, requires_grad=True)
    f = (lambda t: t.prod()) if dim is None else (lambda t: t.prod(dim))
    assert leafgrad.autograd.gradcheck(f, [x])
    assert leafgrad.autograd.gradgradcheck(f, [x])


@pytest.mark.parametrize("name", ["std", "var"])
def test_std_var_over_an_empty_dim_list_have_the_full_reductions_gradient(name):
    """dim=() reduces over every dim (torch's value too); leafgrad's gradient is the full
    reduction's, which passes gradcheck. torch's backward divides by 1 instead of N (a torch
    bug: its gradient fails gradcheck), so leafgrad deliberately differs there."""
    x0 = [[1.0, -2.0, 0.5]]

    def grad(L, dim):
        x = L.tensor(x0, dtype=L.float64, requires_grad=True)
        getattr(x, name)(dim, correction=0, keepdim=True).sum().backward()
        return x.grad

    _same_array(grad(torch, None), grad(leafgrad, ()))
    _same_array(grad(leafgrad, None), grad(leafgrad, ()))
    x = leafgrad.tensor(x0, dtype=leafgrad.float64, requires_grad=True)
    assert leafgrad.autograd.gradcheck(lambda t: getattr(t, name)(()), [x])
    t_empty = grad(torch, ()).numpy()
    assert np.allclose(t_empty, 3 * grad(torch, None).numpy())  # torch: N times too large


@pytest.mark.parametrize("xs,ws", [([[-0.5], [-0.25], [1.5]], [-2.0]),
                                   ([[[0.5], [-0.25], [1.5]]], [1.0, -0.5, -1.0])])
def test_prelu_second_derivatives_are_zeros_not_none(xs, ws):
    """PyTorch's prelu double-backward node takes grad, x and w: d(dx)/dx and d(dw)/dw are
    zeros (tensors), not None, and d(dx)/dw, d(dw)/dx the masked upstream gradients."""
    for first, second in ((0, 0), (0, 1), (1, 0), (1, 1)):
        res = []
        for L in (torch, leafgrad):
            x = L.tensor(xs, requires_grad=True)
            w = L.tensor(ws, requires_grad=True)
            g = L.autograd.grad(L.nn.functional.prelu(x, w).sum(), [x, w], create_graph=True)
            res.append(L.autograd.grad(g[first].sum(), [x, w][second], allow_unused=True))
        _same_array(res[0][0], res[1][0], f"d(grad {first}) / d(input {second})")


def test_prelu_second_derivative_at_zero_is_consistent_with_the_first():
    """At x = 0 the gradient for x is w·grad (torch and leafgrad), so its derivative in w is
    grad. torch's double backward uses x >= 0 and says 0 there (a torch inconsistency);
    leafgrad deliberately gives the derivative of the first derivative it returned."""
    def f(L):
        x = L.tensor([0.0], requires_grad=True)
        w = L.tensor([-2.0], requires_grad=True)
        (g,) = L.autograd.grad(L.nn.functional.prelu(x, w).sum(), [x], create_graph=True)
        return g.item(), L.autograd.grad(g.sum(), [w])[0].item()
    assert f(torch) == (-2.0, 0.0)
    assert f(leafgrad) == (-2.0, 1.0)


@pytest.mark.parametrize("seed", range(8))
def test_multi_dot_multiplies_in_torchs_order(seed):
    """The cheapest parenthesisation, as PyTorch: it decides the values' rounding and which
    tensors each MmBackward0 saves, so which gradients exist when an in-place change of one
    factor is caught in the middle of backward."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 6))
    dims = [int(d) for d in rng.integers(1, 6, n + 1)]
    mats = [rng.standard_normal((dims[i], dims[i + 1])) for i in range(n)]
    vec_first, vec_last = dims[0] == 1 and seed % 2, dims[-1] == 1 and seed % 3 == 0
    k = int(rng.integers(0, n))
    res = []
    for L in (torch, leafgrad):
        leaves = [L.tensor(m, requires_grad=True) for m in mats]
        ts = [t * 1 for t in leaves]
        if vec_first:
            ts[0] = ts[0][0]
        if vec_last:
            ts[-1] = ts[-1][:, 0]
        y = L.linalg.multi_dot(ts)
        value = y.detach().numpy().copy()
        ts[k].mul_(2)
        try:
            y.sum().backward()
            err = None
        except RuntimeError as e:
            err = type(e).__name__
        res.append((value, err, [t.grad is None for t in leaves], y.grad_fn.name()))
    (tv, te, tn, tf), (lv, le, ln, lf) = res
    np.testing.assert_allclose(lv, tv, rtol=1e-12, atol=1e-12)
    assert (le, lf) == (te, tf)
    if n <= 3:
        # NOTE: in longer chains which leaves got a gradient before the error also depends on
        # the engine's node order (PyTorch: latest-created first), which leafgrad does not
        # follow yet (see the report)
        assert ln == tn


@pytest.mark.parametrize("n", [1, 64])
def test_logit_gradient_at_negative_zero_is_the_scalar_formulas(n):
    """torch's scalar logit_backward gives grad * inf at x == 0 (+inf at -0.0), its
    vectorized kernel grad / (x (1 - x)) (-inf at -0.0, from 16-32 elements on); leafgrad
    gives the formula's +inf at every length."""
    def f(L):
        x = L.full((n,), -0.0, requires_grad=True)
        x.logit().sum().backward()
        return x.grad
    assert (f(leafgrad).numpy() == INF).all()
    assert (f(torch).numpy() == (INF if n == 1 else -INF)).all()


@pytest.mark.parametrize("create", [False, True])
def test_xlogy_gradient_is_xlogy_of_the_upstream_gradient(create):
    """d xlogy(a, b) / da is xlogy(grad, b) (PyTorch): a zero upstream gradient gives 0 where
    log(b) is -inf or NaN, so kl_div's target gradient is 0 where torch's is."""
    def f(L):
        a = L.tensor([0.0, 1.0, 2.0, -1.0, 0.0, 3.0], dtype=L.float64, requires_grad=True)
        b = L.tensor([-1.0, -2.0, 0.0, INF, NAN, 2.0], dtype=L.float64, requires_grad=True)
        up = L.tensor([0.0, 0.0, 1.0, 0.0, 1.0, NAN], dtype=L.float64)
        out = list(L.autograd.grad(L.xlogy(a, b), [a, b], up, create_graph=create))
        for o in (-1.0, 0.0, 2.0):
            out += L.autograd.grad(L.xlogy(a, o), [a], up, create_graph=create)
        x = L.tensor([[0.5, 0.0, -1.5], [NAN, -INF, 0.25]], dtype=L.float64, requires_grad=True)
        t = L.tensor([[-1.5, 0.0, 2.0], [0.5, -1.0, 0.0]], dtype=L.float64, requires_grad=True)
        loss = L.nn.functional.kl_div(x, t, reduction="sum")
        out += L.autograd.grad(loss, [x, t], L.tensor(0.0, dtype=L.float64))
        return out
    for a, b in zip(f(torch), f(leafgrad)):
        _same_array(a, b)


@pytest.mark.parametrize("create", [False, True])
def test_copysign_gradient_multiplies_the_masked_ratio_as_torch(create):
    """PyTorch: grad * (result / self) with the ratio 0 where self == 0, so there an infinite
    upstream gradient is NaN (a multiplication, not a mask), and grad * ratio rounds once."""
    def f(L):
        x = L.tensor([-INF, -0.0, 0.0, 0.0, 3.0, NAN, 1e300], dtype=L.float64, requires_grad=True)
        o = L.tensor([1.0, -1.0, 2.0, -0.0, -2.0, 1.0, -1.0], dtype=L.float64)
        up = L.tensor([-0.5, -3.0, INF, NAN, INF, 1.0, 1e300], dtype=L.float64)
        return (L.autograd.grad(x.copysign(o), [x], up, create_graph=create)
                + L.autograd.grad(x.copysign(-1.0), [x], up, create_graph=create))
    for a, b in zip(f(torch), f(leafgrad)):
        _same_array(a, b)


@pytest.mark.parametrize("name", ["softshrink", "hardshrink", "hardtanh", "relu6", "hardswish",
                                  "hardsigmoid", "elu", "celu", "selu", "leaky_relu"])
@pytest.mark.parametrize("n", [1, 64])
def test_piecewise_values_at_nan_and_infinities(name, n):
    """A NaN input gives NaN (softshrink's 'otherwise 0' branch too), infinities as torch."""
    xs = ([NAN, INF, -INF, -0.0] * 16)[:max(n, 4)]

    def f(L):
        return getattr(L.nn.functional, name)(L.tensor(xs, dtype=L.float64))
    _same_array(f(torch), f(leafgrad), name)


def _scan_cases():
    rng = np.random.default_rng(5)
    cases = [[2.0, 0.0, 3.0], [1.0, 0.0, 0.0, 2.0], [0.0, 2.0, 3.0], [1.0, INF, 0.0, 2.0],
             [NAN, 0.0, 1.0], [[1.0, 2.0], [0.0, 3.0]], [[0.0, 2.0], [1.0, 0.0]]]
    cases += [rng.choice([0.0, 0.0, 1.0, 2.0, -1.5, INF, NAN, 0.5], size=(2, 4)).tolist()
              for _ in range(12)]
    return cases


@pytest.mark.parametrize("up", [2.0, INF, NAN])
def test_cumprod_and_prod_first_and_second_derivatives_with_zeros_match_torch(up):
    """cumprod's gradient through a zero: PyTorch's O(n) masked form without a graph, its
    O(n^2) products-without-x_k form with one (the shortcut 'zero after the first zero' lost
    second derivatives through that zero); reversed sums by flipping, not total - cumsum (NaN
    at infinities). Signed zeros aside."""
    def run(L, xs):
        out = []
        x = L.tensor(xs, dtype=L.float64, requires_grad=True)
        (g,) = L.autograd.grad(x.prod(), [x], L.tensor(up, dtype=L.float64), create_graph=True)
        out += [g, L.autograd.grad(g.sum(), [x])[0]]
        for d in (0, -1):
            (g,) = L.autograd.grad(L.cumprod(x, d), [x], L.full(x.shape, up, dtype=L.float64),
                                   create_graph=True)
            out += [g, L.autograd.grad(g.sum(), [x])[0]]
            y = L.tensor(xs, dtype=L.float64, requires_grad=True)
            out += L.autograd.grad(L.cumprod(y, d), [y], L.full(y.shape, up, dtype=L.float64))
        return out
    for xs in _scan_cases():
        for a, b in zip(run(torch, xs), run(leafgrad, xs)):
            _same_array(a, b, f"{xs} upstream {up}")


def test_cumprod_with_zeros_passes_gradgradcheck():
    x = leafgrad.tensor([[2.0, 0.0, 3.0, 0.5], [0.0, 1.5, 0.0, 2.0]], dtype=leafgrad.float64,
                        requires_grad=True)
    for d in (0, 1):
        assert leafgrad.autograd.gradgradcheck(lambda t, d=d: leafgrad.cumprod(t, d), [x])


def test_soft_margin_loss_refuses_a_target_that_requires_grad_as_torch():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        t = L.tensor([1.0, -1.0], requires_grad=True)
        try:
            L.nn.functional.soft_margin_loss(x, t)
        except RuntimeError as e:
            return str(e).split("\n")[0]
        return None
    assert f(leafgrad) == f(torch) is not None

    def g(L):  # under no_grad, or with a detached target, it computes
        x = L.tensor([1.0, 2.0], requires_grad=True)
        t = L.tensor([1.0, -1.0], requires_grad=True)
        with L.no_grad():
            a = L.nn.functional.soft_margin_loss(x, t)
        return a + L.nn.functional.soft_margin_loss(x, t.detach())
    _same_array(g(torch), g(leafgrad))


@pytest.mark.parametrize("case", range(3))
def test_leaf_gradient_keeps_the_leafs_shape_after_a_no_grad_reshape_in_place(case):
    """A shape-changing in-place op under no_grad on the base of a view: the view's backward
    then sends a gradient with extra size-1 dims; PyTorch's engine sums it to the leaf's
    shape (validate_outputs). Fuzz seeds 22092, 24027."""
    def f(L):
        x0 = L.tensor([[[-1.5, -1.5], [-0.5, 3.0]], [[0.5, 0.0], [-1.5, 1.5]]],
                      dtype=L.float64, requires_grad=True)
        x1 = x0 * 2
        v = [x1[1, -2], x1.expand((3, 2, 2, 2)), x1[:, None]][case]
        with L.no_grad():
            x1.unsqueeze_(0)
        v.backward(L.ones(v.shape, dtype=L.float64))
        return x0.grad
    _same_array(f(torch), f(leafgrad))
