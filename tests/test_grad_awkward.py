"""Gradients at awkward points against PyTorch: NaN/inf inputs and upstream gradients,
boundaries of piecewise ops, structural zeros (issue 9, gradient side)."""

import numpy as np
import pytest
import torch as T

import leafgrad as L

NAN, INF = float("nan"), float("inf")
PTS = [-6.0, -3.0, -1.0, -0.5, 0.0, -0.0, 0.5, 1.0, 3.0, 6.0, NAN, INF, -INF]


def same(a, b):
    """Equal arrays, NaN where NaN (the sign of a zero is the fuzzer's separate category)."""
    if isinstance(b, str) or isinstance(a, str):
        assert a == b
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a, b)
    np.testing.assert_array_equal(a, b)


# op -> (function of (module, x), second order checked for a non-finite upstream gradient)
PIECEWISE = {
    "relu": (lambda m, x: m.relu(x), True),
    "relu_": (lambda m, x: (x * 1).relu_(), True),
    "relu6": (lambda m, x: m.nn.functional.relu6(x), True),
    "hardtanh": (lambda m, x: m.nn.functional.hardtanh(x), True),
    "hardswish": (lambda m, x: m.nn.functional.hardswish(x), True),
    "hardshrink": (lambda m, x: m.nn.functional.hardshrink(x, 0.5), True),
    "threshold": (lambda m, x: m.nn.functional.threshold(x, 1.0, 2.0), True),
    "leaky_relu": (lambda m, x: m.nn.functional.leaky_relu(x, 0.1), True),
    "clamp": (lambda m, x: m.clamp(x, -1, 1), True),
    # (elu's double backward multiplies by the mask (x < 0) last, as PyTorch: an inf upstream
    # gradient gives inf * 0 = NaN where x >= 0)
    "elu": (lambda m, x: m.nn.functional.elu(x), True),
    "celu": (lambda m, x: m.nn.functional.celu(x), True),
    "selu": (lambda m, x: m.nn.functional.selu(x), True),
}


def _run(m, f, dt, g):
    x = m.tensor(PTS, dtype=getattr(m, dt), requires_grad=True)
    y = f(m, x)
    (gr,) = m.autograd.grad(y, x, m.full_like(y, g), create_graph=True)
    try:
        (g2,) = m.autograd.grad(gr.sum(), x, allow_unused=True)
        g2 = None if g2 is None else g2.numpy()
    except RuntimeError as e:  # e.g. a grad with no graph: both must refuse
        g2 = type(e).__name__
    return y.detach().numpy(), gr.detach().numpy(), g2


@pytest.mark.parametrize("g", [1.5, NAN, INF])
@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("op", sorted(PIECEWISE))
def test_piecewise_nan_inputs_boundaries_and_upstream(op, dt, g):
    """Which branch a NaN input takes, the gradient at the kinks, and the double backward."""
    f, second = PIECEWISE[op]
    want, got = _run(T, f, dt, g), _run(L, f, dt, g)
    same(got[0], want[0])
    same(got[1], want[1])
    if second or np.isfinite(g):
        same(got[2], want[2])


def test_relu_nan_output_passes_gradient():
    """fuzz seed 2236: relu_ on a NaN keeps the upstream gradient (PyTorch tests out <= 0)."""
    def run(m):
        x0 = m.tensor([[-2.0, NAN, -3.0], [0.0, 2.0, -1.0]], requires_grad=True)
        x1 = x0 * -1
        x2 = x1.squeeze(-2)
        x1.relu_()
        x2.backward(m.tensor([[0.5, -1.5, 0.5], [0.25, -3.0, 0.5]]))
        return x0.grad.numpy()
    same(run(L), run(T))


def _grads(m, f, leaves, upstream):
    """Values and (create_graph) gradients of ``f`` at ``leaves`` as NumPy arrays."""
    xs = [m.tensor(v, dtype=m.float64, requires_grad=True) for v in leaves]
    y = f(m, *xs)
    gs = m.autograd.grad(y, xs, m.tensor(upstream, dtype=m.float64), allow_unused=True,
                         create_graph=True)
    return [y.detach().numpy()] + [None if g is None else g.detach().numpy() for g in gs]


def _check(f, leaves, upstream):
    want, got = _grads(T, f, leaves, upstream), _grads(L, f, leaves, upstream)
    for w, g in zip(want, got):
        if w is None or g is None:
            assert w is None and g is None
        else:
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


A3 = [[-0.88, -1.891, 0.27], [1.309, 0.688, -1.254], [-1.629, 1.511, 0.435]]
B32 = [[-1.345, 1.674], [-1.274, 1.794], [0.547, 1.187]]


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("left", [True, False])
def test_solve_triangular_nan_stays_in_its_rows(upper, left):
    """fuzz seed 9658: a NaN in one row of the upstream gradient (or of B) reaches only the rows
    a substitution reads; A's gradient is 0 outside its triangle even in NaN rows."""
    a = (np.array(A3) + 3 * np.eye(3)).tolist()
    b = B32 if left else np.array(B32).T.tolist()
    up = np.array([[-1.0, -3.0], [-0.5, NAN], [-3.0, 0.0]])
    up = up if left else up.T
    def f(m, a, b):
        return m.linalg.solve_triangular(a, b, upper=upper, left=left)
    _check(f, [a, b], up.tolist())
    bn = np.array(b)
    bn[1, 1] = NAN
    _check(f, [a, bn.tolist()], np.ones_like(bn).tolist())


@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular_singular_and_inf_as_trsm(unit):
    """A zero on the diagonal gives inf/NaN (PyTorch's trsm), not a LinAlgError."""
    for a in ([[1.0, 0.0], [2.0, 0.0]], [[1.0, 0.0], [INF, 2.0]]):
        want = T.linalg.solve_triangular(T.tensor(a), T.ones(2, 3), upper=False,
                                         unitriangular=unit)
        got = L.linalg.solve_triangular(L.tensor(a), L.ones(2, 3), upper=False,
                                        unitriangular=unit)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


EINSUM = [("ii", 1), ("ii->i", 1), ("ii,j->j", 2), ("ij,j->i", 2), ("iij->ij", 3),
          ("ijj->", 4), ("ijj,k->ik", 5)]


@pytest.mark.parametrize("spec,case", EINSUM)
def test_einsum_repeated_letter_gradient_is_a_diagonal(spec, case):
    """fuzz seed 9380: einsum's repeated letter reads a diagonal; its gradient is 0 off the
    diagonal even for a NaN upstream gradient or operand (not grad times an identity)."""
    a = [[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]
    v = [1.0, NAN]
    b = np.arange(12.0).reshape(3, 2, 2)
    leaves = {1: [a], 2: [a, v], 3: [b.reshape(2, 2, 3).tolist()], 4: [b.tolist()],
              5: [b.tolist(), v]}[case]
    if case == 2 and spec == "ij,j->i":
        leaves = [np.array(a)[:, :2].tolist(), v]
    out = np.einsum(spec, *[np.nan_to_num(np.array(x)) for x in leaves])
    for up in (np.ones_like(out), np.full_like(out, NAN)):
        _check(lambda m, *xs: m.einsum(spec, *xs), leaves, up.tolist())


CONVS = [
    ("conv2d", (2, 2, 3, 4), (2, 1, 2, 1), dict(padding=(1, 1), groups=2)),
    ("conv2d", (1, 2, 4, 4), (3, 2, 2, 2), dict(dilation=2, padding=1)),
    ("conv3d", (1, 2, 2, 3, 2), (2, 1, 1, 2, 1), dict(padding=(1, 0, 1), groups=2)),
    ("conv_transpose2d", (1, 2, 3, 3), (2, 1, 2, 2), dict(dilation=2, output_padding=1,
                                                         stride=2, groups=2)),
    ("conv_transpose2d", (2, 1, 3, 2), (1, 2, 2, 2), dict(dilation=2)),
]


@pytest.mark.parametrize("where", ["input", "weight", "upstream"])
@pytest.mark.parametrize("case", range(len(CONVS)))
def test_conv_gradients_ignore_elements_never_read(case, where):
    """fuzz seeds 2546, 3972: an inf/NaN in the input, weight or upstream gradient reaches only
    the gradients that read it (the wide-grid kernels' extra windows multiplied it by 0)."""
    name, xs, ws, kw = CONVS[case]
    rng = np.random.default_rng(case)
    x = rng.choice([-1.5, -0.5, 0.0, 0.25, 1.0, 2.0], size=xs)
    w = rng.choice([-1.0, -0.25, 0.5, 1.5], size=ws)
    bad = {"input": x, "weight": w}.get(where)
    if bad is not None:
        bad.flat[rng.choice(bad.size, 2, replace=False)] = [INF, -INF]
        bad.flat[rng.choice(bad.size, 1)] = NAN

    def run(m):
        xt = m.tensor(x, requires_grad=True)
        wt = m.tensor(w, requires_grad=True)
        y = getattr(m.nn.functional, name)(xt, wt, **kw)
        up = np.ones(tuple(y.shape))
        if where == "upstream":
            up.flat[np.random.default_rng(case).choice(up.size, 3, replace=False)] = [
                INF, -INF, NAN]
        y.backward(m.tensor(up, dtype=y.dtype))
        return xt.grad.numpy(), wt.grad.numpy()

    for got, want in zip(run(L), run(T)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def _graph(fn) -> list:
    """Node names of a graph, depth first (AccumulateGrad without torch's C++ prefix)."""
    if fn is None:
        return [None]
    out = [fn.name().replace("torch::autograd::", "")]
    for n, _ in fn.next_functions:
        out += _graph(n)
    return out


MULTI_DOT = [[(3,), (3, 4), (4,)], [(2, 3), (3, 4), (4, 2)], [(3, 2), (2, 4), (4, 1)],
             [(2, 3), (3, 4), (4, 2), (2, 5)], [(5, 1), (1, 4), (4, 3), (3, 2), (2,)],
             [(2, 3), (3,)], [(3,), (3,)]]


@pytest.mark.parametrize("shapes", MULTI_DOT)
def test_multi_dot_follows_pytorchs_order_of_products(shapes):
    """fuzz seed 9357: multi_dot multiplies in PyTorch's order (cost rule for three, CLRS for
    more), so the same MmBackward0 saves the same operand; values and gradients as torch."""
    rng = np.random.default_rng(len(shapes))
    vals = [rng.standard_normal(s) for s in shapes]

    def run(m):
        ts = [m.tensor(v, requires_grad=True) for v in vals]
        y = m.linalg.multi_dot(ts)
        y.sum().backward()
        return _graph(y.grad_fn), y.detach().numpy(), [t.grad.numpy() for t in ts]

    (gw, yw, dw), (gg, yg, dg) = run(T), run(L)
    assert gg == gw
    np.testing.assert_allclose(yg, yw, rtol=1e-12)
    for a, b in zip(dg, dw):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_multi_dot_modified_operand_refuses_before_any_gradient():
    """fuzz seed 9357: the node that saved the modified operand runs first, as in PyTorch."""
    def run(m):
        x1 = m.tensor([[0.5, -0.5, 2.0], [-1.5, 0.5, 2.0]]) * 1
        x2 = m.ones(3, 4, requires_grad=True)
        x3 = m.ones(4, 2, requires_grad=True)
        y = m.linalg.multi_dot([x1, x2, x3])
        x1.sign_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        return x2.grad is None, x3.grad is None
    assert run(L) == run(T) == (True, True)


@pytest.mark.parametrize("bad", [
    [(2, 3, 4), (4, 2)], [(2, 3), (3,), (3,)], [(2, 3), (4, 2)], [(2, 3), (3, 4), (2, 2)],
    [(2, 3), (3, 2, 2)]])
def test_multi_dot_errors(bad):
    msgs = []
    for m in (T, L):
        with pytest.raises(RuntimeError) as e:
            m.linalg.multi_dot([m.ones(s) for s in bad])
        msgs.append(str(e.value).splitlines()[0])
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize("shapes", [((3, 2), (3, 4)), ((2, 3, 2), (2, 3, 4)), ((2,), (4,)),
                                    ((0, 2), (0, 4))])
@pytest.mark.parametrize("bias", [False, True])
def test_bilinear_is_one_trilinear_node(shapes, bias):
    """fuzz seed 8563: bilinear is PyTorch's graph (views around TrilinearBackward0): values,
    first and second derivatives as torch, and a modified input refuses before any gradient."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    w, c = rng.standard_normal((5, 2, 4)), rng.standard_normal(5)

    def run(m):
        ts = [m.tensor(v, requires_grad=True) for v in (a, b, w, c)]
        y = m.nn.functional.bilinear(ts[0], ts[1], ts[2], ts[3] if bias else None)
        gs = m.autograd.grad((y * y).sum(), ts[:3], create_graph=True)
        g2 = m.autograd.grad(sum(g.sum() for g in gs), ts[:3], allow_unused=True)
        return ([_graph(y.grad_fn), y.detach().numpy()] + [g.detach().numpy() for g in gs]
                + [None if g is None else g.numpy() for g in g2])

    want, got = run(T), run(L)
    assert got[0] == want[0]
    for g, w_ in zip(got[1:], want[1:]):
        np.testing.assert_allclose(g, w_, rtol=1e-10, atol=1e-12)

    def refuse(m):
        x1 = m.tensor(a) * 1
        x2 = m.tensor(b, requires_grad=True)
        wt = m.tensor(w, requires_grad=True)
        y = m.nn.functional.bilinear(x1, x2, wt)
        x1.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        return x2.grad, wt.grad
    assert refuse(L) == refuse(T) == (None, None)


def test_bilinear_dtype_error():
    msgs = []
    for m in (T, L):
        with pytest.raises(RuntimeError) as e:
            m.nn.functional.bilinear(m.ones(3, 2), m.ones(3, 4, dtype=m.float64), m.ones(5, 2, 4))
        msgs.append(str(e.value).splitlines()[0])
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("order", [0, 1, 2])
def test_cat_skipped_legacy_empty_gets_an_empty_gradient(order, create_graph):
    """fuzz seed 5803: cat skips a 1-d empty tensor among 2-d ones, but PyTorch still gives it
    a gradient (zeros of shape (0,)), not None."""
    def run(m):
        e = m.zeros((0,), dtype=m.float64, requires_grad=True)
        x = m.tensor([[-1.5, 2.0]], dtype=m.float64, requires_grad=True)
        parts = [[m.exp(e), x, e], [x, e], [e, x, m.relu(e)]][order]
        y = m.cat(parts, dim=-1)
        (y * y).sum().backward(create_graph=create_graph)
        return (None if e.grad is None else tuple(e.grad.shape)), x.grad.detach().numpy()
    (es, xg), (es_t, xg_t) = run(L), run(T)
    assert es == es_t == (0,)
    np.testing.assert_array_equal(xg, xg_t)


def _svd_fn(full):
    def f(m, a):
        u, s, vh = m.linalg.svd(a, full_matrices=full)
        k = s.shape[-1]
        u, vh = u[..., :k], vh[..., :k, :]
        # sign-invariant uses of U, S and Vh (the fuzzer's svd template and a wider one)
        return (u * (s ** 2).unsqueeze(-2) @ vh + u @ vh
                + (u * u).sum(-1, keepdim=True) * 0.5 + (vh * vh * 2).sum(-2, keepdim=True))
    return f


def _eigh_fn(m, a):
    lam, v = m.linalg.eigh(a + a.mT)
    return v * (lam ** 3).unsqueeze(-2) @ v.mT + v * v + lam.unsqueeze(-1) ** 2


def _second(m, f, a, seed):
    x = m.tensor(a, requires_grad=True)
    y = f(m, x)
    w = np.random.default_rng(seed).standard_normal(tuple(y.shape))
    (g,) = m.autograd.grad((y * m.tensor(w)).sum(), x, create_graph=True)
    (h,) = m.autograd.grad((g * g).sum(), x)
    return g.detach().numpy(), h.numpy()


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 5), (2, 3, 3)])
@pytest.mark.parametrize("full", [False, True])
def test_svd_second_derivative(shape, full):
    """fuzz seeds 1119, 3796, 5582: svd's backward builds 1/(s_j^2 - s_i^2) from S itself, so
    a create_graph backward differentiates it too (a constant lost those terms)."""
    a = np.random.default_rng(sum(shape)).standard_normal(shape)
    for got, want in zip(_second(L, _svd_fn(full), a, 1), _second(T, _svd_fn(full), a, 1)):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("shape", [(3, 3), (4, 4), (2, 3, 3)])
def test_eigh_second_derivative(shape):
    """eigh's backward builds 1/(λ_j - λ_i) from the eigenvalues (differentiated again)."""
    a = np.random.default_rng(sum(shape)).standard_normal(shape)
    for got, want in zip(_second(L, _eigh_fn, a, 2), _second(T, _eigh_fn, a, 2)):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


NORMS = ["layer_norm", "group_norm", "batch_norm", "batch_norm_eval", "instance_norm"]


def _norm_grads(m, name, x, w, b, up, dt):
    dtype = getattr(m, dt)
    xt, wt, bt = (m.tensor(v, dtype=dtype, requires_grad=True) for v in (x, w, b))
    f = m.nn.functional
    if name == "layer_norm":
        y = f.layer_norm(xt, (x.shape[-1],), wt[:2], bt[:2])
    elif name == "group_norm":
        y = f.group_norm(xt, 2, wt, bt)
    elif name == "batch_norm":
        y = f.batch_norm(xt, None, None, wt, bt, training=True)
    elif name == "batch_norm_eval":
        y = f.batch_norm(xt, m.zeros(4, dtype=dtype), m.ones(4, dtype=dtype), wt, bt)
    else:
        y = f.instance_norm(xt, weight=wt, bias=bt)
    y.backward(m.tensor(up, dtype=dtype))
    return [t.grad.numpy() for t in (xt, wt, bt)]


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("name", NORMS)
def test_norm_backward_spreads_infinities_as_pytorch(name, dt):
    """fuzz seed 2101: with an inf/NaN in the upstream gradient or the input, layer and group
    norm's gradients follow PyTorch's kernel (row sums ds, db, then rstd·g + b·x + c), so the
    same elements are inf / NaN / finite as in torch."""
    for seed in range(30):
        rng = np.random.default_rng(seed)
        x = rng.choice([-1.5, -0.5, 0.25, 1.0, 2.0], size=(3, 4, 2))
        w, b = rng.choice([-1.0, 0.5, 2.0], size=4), rng.choice([0.0, 1.0], size=4)
        up = rng.choice([-1.0, 0.5, 2.0], size=(3, 4, 2))
        tgt = x if seed % 3 == 2 else up
        k = int(rng.integers(1, 3))
        tgt.flat[rng.choice(tgt.size, k, replace=False)] = rng.choice([INF, -INF, NAN], size=k)
        want = _norm_grads(T, name, x, w, b, up, dt)
        got = _norm_grads(L, name, x, w, b, up, dt)
        for g, w_ in zip(got, want):
            np.testing.assert_allclose(g, w_, rtol=1e-4 if dt == "float32" else 1e-10,
                                       atol=1e-5 if dt == "float32" else 1e-12)


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_layer_norm_infinite_upstream_seed_2101(dt):
    """fuzz seed 2101: rows holding inf and NaN upstream gradients are NaN as in PyTorch."""
    x = [[[-2.0, 2.0, -2.0], [1.0, 0.0, -0.5]], [[0.0, -1.0, -1.5], [-1.0, 0.25, 0.5]],
         [[-0.5, 1.0, 2.0], [2.0, 0.5, -0.25]]]
    w = [[1.5, 0.25, -1.0], [1.0, -2.0, 1.0]]
    up = [[[-3.0, 1.0, INF], [-0.5, -0.5, -0.0]], [[-0.5, 1.0, 0.5], [-0.5, -0.5, INF]],
          [[NAN, 1.5, -INF], [-0.25, -2.0, NAN]]]

    def run(m):
        xt = m.tensor(x, dtype=getattr(m, dt), requires_grad=True)
        wt = m.tensor(w, dtype=getattr(m, dt))
        m.nn.functional.layer_norm(xt, (2, 3), wt, wt).backward(
            m.tensor(up, dtype=getattr(m, dt)))
        return xt.grad.numpy()
    np.testing.assert_array_equal(run(L), run(T))


ROUNDED = {
    "fmod": lambda m, a, b: m.fmod(a, b),
    "remainder": lambda m, a, b: m.remainder(a, b),
    "div_trunc": lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
    "div_floor": lambda m, a, b: m.div(a, b, rounding_mode="floor"),
    "fmod_xlogy": lambda m, a, b: m.fmod(a, m.xlogy(a, b)),
}


@pytest.mark.parametrize("op", sorted(ROUNDED))
def test_rounded_division_double_backward(op):
    """fuzz seeds 9776, 2619: fmod's gradient for other is -grad·a.div(b, 'trunc') (one node
    with an exactly zero gradient), so a double backward does not meet 0 with an infinite
    a/b² (NaN); torch's values at zero divisors, infinities and NaN."""
    vals = [-3.0, -1.0, 0.0, 1.0, 2.5, INF, NAN]
    a = np.repeat(vals, len(vals))
    b = np.tile(vals, len(vals))

    def run(m):
        at = m.tensor(a, dtype=m.float64, requires_grad=True)
        bt = m.tensor(np.where(b == 0, 1.0, b) if op == "fmod_xlogy" else b, dtype=m.float64,
                      requires_grad=True)
        y = ROUNDED[op](m, at, bt)
        gs = m.autograd.grad(y.sum(), [at, bt], create_graph=True, allow_unused=True,
                             materialize_grads=False)
        live = [g for g in gs if g is not None and g.requires_grad]
        g2 = (m.autograd.grad(sum(g.sum() for g in live), [at, bt], allow_unused=True)
              if live else (None, None))
        return [None if g is None else g.detach().numpy() for g in (*gs, *g2)]

    for got, want in zip(run(L), run(T)):
        if want is None or got is None:
            assert want is None and got is None
        else:
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("other", ["tensor", 0.0, 2.0, -1.0, INF])
def test_xlogy_gradient_is_xlogy_of_grad(other):
    """xlogy's gradient for self is xlogy(grad, other) as PyTorch: exactly 0 where the
    upstream gradient is 0, even where log(other) is infinite; first and second order."""
    vals = [-2.0, 0.0, 0.5, 1.0, INF, NAN]
    a = np.repeat(vals, len(vals))
    b = np.tile(vals, len(vals))
    up = np.tile([0.0, 1.5, -0.0, INF, 0.0, -2.0], len(vals))

    def run(m):
        at = m.tensor(a, dtype=m.float64, requires_grad=True)
        bt = m.tensor(b, dtype=m.float64, requires_grad=True)
        y = m.xlogy(at, bt if other == "tensor" else other)
        gs = m.autograd.grad(y, [at, bt], m.tensor(up, dtype=m.float64), create_graph=True,
                             allow_unused=True)
        live = [g for g in gs if g is not None and g.requires_grad]
        g2 = (m.autograd.grad(sum((g * g).sum() for g in live), [at, bt], allow_unused=True)
              if live else (None, None))
        return [None if g is None else g.detach().numpy() for g in (*gs, *g2)]

    for got, want in zip(run(L), run(T)):
        if want is None or got is None:
            assert want is None and got is None
        else:
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("p", [0.5, 1.0, 1.5, 2.0, 3.0, INF])
def test_vector_norm_double_backward_at_zero_norm(p):
    """The norm's gradient graph is PyTorch's norm_backward (mask after dividing by the norm):
    at a zero norm the double backward is NaN as in torch, not a silent 0 (the Hessian of
    ‖x‖² at 0 is 2I, which neither library can see through the norm)."""
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5], [0.0, 3.0, 0.0]])

    def run(m):
        xt = m.tensor(x, requires_grad=True)
        y = m.linalg.vector_norm(xt, p, dim=1)
        (g,) = m.autograd.grad((y * y + y).sum(), xt, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), xt, allow_unused=True)
        return g.detach().numpy(), None if h is None else h.numpy()

    for got, want in zip(run(L), run(T)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("f", ["normalize", "cosine_similarity"])
def test_normalize_double_backward_at_zero_vector(f):
    def run(m):
        xt = m.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=m.float64, requires_grad=True)
        if f == "normalize":
            y = m.nn.functional.normalize(xt)
        else:
            y = m.nn.functional.cosine_similarity(xt, m.ones(2, 2, dtype=m.float64))
        (g,) = m.autograd.grad(y.sum(), xt, create_graph=True)
        (h,) = m.autograd.grad((g * g).sum(), xt)
        return g.detach().numpy(), h.numpy()

    for got, want in zip(run(L), run(T)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("dim", [0, 1])
def test_cumprod_backward_with_zeros_as_pytorch(dim, create_graph):
    """cumprod's gradient case by case as PyTorch's cumprod_backward: quotient without zeros,
    O(n) masks with zeros outside a graph (an inf/NaN gradient outside its range is an exact
    0), the O(n²) omitted-product sum inside one (so its derivative is cumprod's second
    derivative through a zero); cumsum's reversed sum is flip-cumsum-flip (inf, not NaN)."""
    for seed in range(25):
        rng = np.random.default_rng(seed)
        x = rng.choice([0.0, 0.0, 0.5, -1.5, 2.0, 3.0], size=(3, 4))
        if seed % 5 == 4:
            x.flat[rng.integers(x.size)] = rng.choice([INF, -INF, NAN])
        up = rng.choice([1.0, -0.5, 2.0], size=(3, 4))
        if seed % 3 == 2:
            up.flat[rng.integers(up.size)] = rng.choice([INF, NAN])

        def run(m, x=x, up=up):
            xt = m.tensor(x, requires_grad=True)
            out = []
            for f in (m.cumprod, m.cumsum):
                (g,) = m.autograd.grad(f(xt, dim), xt, m.tensor(up), create_graph=create_graph)
                out.append(g.detach().numpy())
                if create_graph and g.requires_grad:
                    (h,) = m.autograd.grad((g * m.tensor(up[::-1].copy())).sum(), xt,
                                           allow_unused=True)
                    out.append(None if h is None else h.numpy())
            return out

        for got, want in zip(run(L), run(T)):
            if want is None or got is None:
                assert want is None and got is None
            else:
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("up", [1.5, INF, NAN, 0.0])
def test_pow_exponent_gradient_masks_before_the_product(up):
    """pow's gradient for the exponent at base 0 is grad * where(mask, 0, out·log(base)) as
    PyTorch's pow_backward_exponent: an inf/NaN upstream gradient there is NaN; the base's
    gradient masks after the product (exact 0 at exponent 0); first and second order, tensor
    and Python-number bases."""
    import itertools

    vals = [-2.0, 0.0, -0.0, 0.5, 2.0, INF, NAN]
    pairs = np.array(list(itertools.product(vals, vals)))

    def run(m):
        out = []
        x = m.tensor(pairs[:, 0], requires_grad=True)
        e = m.tensor(pairs[:, 1], requires_grad=True)
        cases = [((x, e), x ** e)] + [((e,), base ** e) for base in (0.0, 2.0, 0.5)]
        for leaves, y in cases:
            g = m.autograd.grad(y, list(leaves), m.full_like(y, up), create_graph=True)
            h = m.autograd.grad(sum((gg * gg).sum() for gg in g), list(leaves),
                                allow_unused=True)
            out += [t.detach().numpy() for t in g + h]
        return out

    for got, want in zip(run(L), run(T)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("up", [1.5, INF, NAN])
def test_sigmoid_double_backward_is_one_node(up):
    """sigmoid's backward is PyTorch's SigmoidBackwardBackward0: its derivative for the output
    is grad·g·(1 - 2y), one product (term by term, an infinite gradient gave inf - inf = NaN);
    values and node names to third order."""
    def run(m):
        x = m.tensor(PTS, dtype=m.float64, requires_grad=True)
        y = m.sigmoid(x)
        (g,) = m.autograd.grad(y, x, m.full_like(y, up), create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x, create_graph=True)
        (k,) = m.autograd.grad(h.sum(), x)
        return [g.grad_fn.name(), h.grad_fn.name()] + [t.detach().numpy() for t in (g, h, k)]
    want, got = run(T), run(L)
    assert got[:2] == want[:2]
    for g, w in zip(got[2:], want[2:]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("up", [1.5, INF, NAN])
def test_gelu_double_backward_is_one_node(approximate, up):
    """gelu's backward is PyTorch's GeluBackwardBackward0 with gelu_double_backward
    (gg·g·gelu''(x), one product): values and node names to third order."""
    def run(m):
        x = m.tensor(PTS, dtype=m.float64, requires_grad=True)
        y = m.nn.functional.gelu(x, approximate=approximate)
        (g,) = m.autograd.grad(y, x, m.full_like(y, up), create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x, create_graph=True)
        (k,) = m.autograd.grad(h.sum(), x)
        return [g.grad_fn.name(), h.grad_fn.name()] + [t.detach().numpy() for t in (g, h, k)]
    want, got = run(T), run(L)
    assert got[:2] == want[:2]
    for g, w in zip(got[2:], want[2:]):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


BINARY = {
    "div": lambda m, a, b: a / b,
    "atan2": lambda m, a, b: m.atan2(a, b),
    "mul": lambda m, a, b: a * b,
    "hypot": lambda m, a, b: m.hypot(a, b),
    "logaddexp": lambda m, a, b: m.logaddexp(a, b),
    "maximum": lambda m, a, b: m.maximum(a, b),
}


@pytest.mark.parametrize("up", [1.5, INF, NAN, 0.0])
@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_gradients_at_zeros_and_infinities(op, up):
    """atan2's gradient is PyTorch's grad·other·recip with recip = 1/(a² + b²) set to 0 at the
    origin (NaN there for an inf/NaN grad, signed zeros otherwise); div's gradient for other
    is -grad·((a / b) / b), whose own derivative is inf/0, not NaN, at b = 0 or inf; first
    and second order over every pair of awkward values."""
    import itertools

    vals = [-2.0, 0.0, -0.0, 0.5, 1.0, INF, -INF, NAN]
    pairs = np.array(list(itertools.product(vals, vals)))

    def run(m):
        a = m.tensor(pairs[:, 0], requires_grad=True)
        b = m.tensor(pairs[:, 1], requires_grad=True)
        y = BINARY[op](m, a, b)
        g = m.autograd.grad(y, [a, b], m.full_like(y, up), create_graph=True)
        live = [x for x in g if x.requires_grad]  # maximum's gradient is a mask: no graph
        h = (m.autograd.grad(sum((x * x).sum() for x in live), [a, b], allow_unused=True)
             if live else (None, None))
        return [x.detach().numpy() for x in g] + [None if x is None else x.numpy() for x in h]

    for got, want in zip(run(L), run(T)):
        if want is None or got is None:
            assert want is None and got is None
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("up", [1.5, -2.0, INF, -INF, NAN, 0.0])
def test_logcumsumexp_backward_log_space(up):
    """logcumsumexp's gradient in PyTorch's log-space form: the positive and negative parts of
    the upstream gradient go through a reversed logcumsumexp, so a NaN or zero gradient
    element contributes nothing and an infinite one gives inf where torch does; first and
    second order (finite inputs; inf inputs at first order)."""
    rng = np.random.default_rng(0)
    x = rng.choice([-1.5, -0.5, 0.0, 0.5, 2.0], size=(3, 4))
    u = rng.choice([1.0, -0.5, 2.0], size=(3, 4))
    u[1, 2] = up
    u[2, 0] = up

    def run(m, xv, second):
        xt = m.tensor(xv, requires_grad=True)
        (g,) = m.autograd.grad(xt.logcumsumexp(1), xt, m.tensor(u), create_graph=second)
        out = [g.detach().numpy()]
        if second:
            (h,) = m.autograd.grad((g * m.tensor(u[::-1].copy())).sum(), xt)
            out.append(h.numpy())
        return out

    xi = x.copy()
    xi[0, 1], xi[1, 3] = INF, -INF
    for xv, second in ((x, True), (xi, False)):
        for got, want in zip(run(L, xv, second), run(T, xv, second)):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_logcumsumexp_value_far_below_the_max():
    """logcumsumexp is a running log-add-exp as PyTorch's kernel: an element far below the
    slice's max is itself at its position (the max-shifted form underflowed to -inf)."""
    for dt in ("float32", "float64"):
        x = [[-1000.0, 0.0, -2000.0, 5.0], [3.0, -800.0, INF, 1.0], [-INF, -INF, 2.0, NAN]]
        want = T.tensor(x, dtype=getattr(T, dt)).logcumsumexp(1).numpy()
        got = L.tensor(x, dtype=getattr(L, dt)).logcumsumexp(1).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6 if dt == "float32" else 1e-15)
