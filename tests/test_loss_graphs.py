"""Loss graphs as torch builds them: nll_loss / cross_entropy for every input dim (ATen's
nll_loss_nd: a view for 3-d and 5-d+ inputs, so in-place ops on the loss go through CopySlices),
CopySlices refusing a second backward before anything accumulates, and the regression losses'
double backward (one ``*LossBackwardBackward0`` node with derivatives.yaml's mask products)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import leafgrad

LIBS = (leafgrad, torch)


def _walk(fn, depth: int = 0) -> str:
    """The graph under ``fn`` as nested node names."""
    if fn is None:
        return "None"
    if depth > 8:
        return type(fn).__name__
    inner = ",".join(_walk(n, depth + 1) for n, _ in fn.next_functions)
    return f"{type(fn).__name__}({inner})"


def _np(t):
    if t is None or isinstance(t, np.ndarray):
        return t
    try:
        return t.detach().numpy()
    except RuntimeError:  # torch's ZeroTensor (an efficient zero gradient)
        return np.zeros(tuple(t.shape))


def _same(a, b, rtol: float = 1e-6) -> None:
    a, b = _np(a), _np(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-7, equal_nan=True)


def _target_shape(shape: tuple) -> tuple:
    return () if len(shape) == 1 else (shape[0],) + shape[2:]


SHAPES = [(5,), (4, 5), (0, 5), (3, 4, 2), (2, 3, 2, 2), (2, 3, 2, 1, 2), (2, 3, 0), (0, 3, 4),
          (0, 3, 2, 2)]


# -- nll_loss / cross_entropy: graph ----------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("fname", ["nll_loss", "cross_entropy"])
def test_nll_graph_matches_torch(shape, reduction, fname):
    """Node names and edges, view-ness, the view's base and the output's strides."""
    got = []
    for lib in LIBS:
        x = lib.zeros(shape, dtype=lib.float64).requires_grad_()
        t = lib.zeros(_target_shape(shape), dtype=lib.int64)
        y = getattr(lib.nn.functional, fname)(x * 1, t, reduction=reduction)
        base = y._base
        got.append((_walk(y.grad_fn), y._is_view(), tuple(y.shape), y.stride(),
                    None if base is None else (tuple(base.shape), type(base.grad_fn).__name__)))
    assert got[0] == got[1]


@pytest.mark.parametrize("shape", [(3, 4, 2), (3, 2, 2, 2), (3, 2, 2, 2, 2), (3, 2)])
def test_nll_graph_of_a_non_contiguous_input(shape):
    """A 3-d / 5-d input is made contiguous first (CloneBackward0), as nll_loss_nd does."""
    got = []
    for lib in LIBS:
        x = lib.zeros(shape, dtype=lib.float64).requires_grad_()
        xt = x.transpose(0, -1)
        t = lib.zeros(_target_shape(tuple(xt.shape)), dtype=lib.int64)
        y = lib.nn.functional.nll_loss(xt, t, reduction="none")
        got.append((_walk(y.grad_fn), y._is_view(), y.stride()))
    assert got[0] == got[1]
    if len(shape) in (3, 5):
        assert "CloneBackward0" in got[0][0] and got[0][1]


def test_nll_none_is_a_view_without_grad_too():
    for lib in LIBS:
        x = lib.zeros((2, 3, 4), dtype=lib.float64)
        y = lib.nn.functional.nll_loss(x, lib.zeros((2, 4), dtype=lib.int64), reduction="none")
        assert y._is_view() and tuple(y._base.shape) == (2, 1, 4)


# -- the fuzz case: an in-place op on the view, then a second backward -------------------------
def _seed_3018898(lib):
    x0 = lib.tensor([[[2.0, -0.25, 2.0], [1.0, 0.5, -1.0], [1.0, 1.5, 1.0]],
                     [[0.5, 2.0, 1.5], [1.0, -2.0, 0.5], [2.0, -1.0, -0.5]]],
                    dtype=lib.float64, requires_grad=True)
    target = lib.tensor([[0, 1, 2], [1, 0, 2]])
    x2 = lib.nn.functional.cross_entropy(x0 * 1, target, reduction="none")
    x3 = lib.tensor([-1.5, 2.0, 0.25], dtype=lib.float64, requires_grad=True)
    x2 -= x3
    names = (type(x2.grad_fn).__name__, type(x2._base.grad_fn).__name__)
    x2.sum().backward()
    first = (_np(x0.grad).copy(), _np(x3.grad).copy())
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        x2.sum().backward()
    return names, first, (_np(x0.grad), _np(x3.grad))


def test_inplace_on_3d_cross_entropy_then_second_backward_changes_nothing():
    lg, th = _seed_3018898(leafgrad), _seed_3018898(torch)
    assert lg[0] == th[0] == ("AsStridedBackward0", "CopySlices")
    for a, b in zip(lg[1] + lg[2], th[1] + th[2]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_array_equal(lg[2][1], [-2.0, -2.0, -2.0])  # accumulated once only


# -- CopySlices refuses a second backward before running the wrapped op --------------------------
def _cs_sub(x, z):
    y = x * 1
    y[0].sub_(z)
    return y.sum()


def _cs_mul(x, z):
    y = x * 1
    y[0].mul_(z)
    return y.sum()


def _cs_view_sum(x, z):
    v = (x * 1)[0]
    v.add_(z)
    return v.sum()


def _cs_two_views(x, z):
    y = x * 1
    y[0].add_(z)
    y[1].add_(z * 2)
    return y.sum()


def _cs_shared_leaf(x, z):
    y = x * 1
    y[0].add_(z)
    return y.sum() + (z * z).sum()


_COPY_SLICES = {"sub_": _cs_sub, "mul_": _cs_mul, "add_then_view_sum": _cs_view_sum,
                "two_views": _cs_two_views, "shared_leaf": _cs_shared_leaf}


@pytest.mark.parametrize("case", sorted(_COPY_SLICES))
@pytest.mark.parametrize("retain", [False, True])
def test_copyslices_second_backward(case, retain):
    got = []
    for lib in LIBS:
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        z = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        out = _COPY_SLICES[case](x, z)
        out.backward(retain_graph=retain)
        try:
            out.backward()
            err = None
        except RuntimeError as e:
            err = str(e).split(" (")[0]
        got.append((err, _np(x.grad).tolist(), _np(z.grad).tolist()))
    assert got[0] == got[1]
    assert (got[0][0] is None) == retain


# -- nll_loss / cross_entropy: values, gradients, double backward ---------------------------------
@pytest.mark.parametrize("shape", SHAPES + [(2, 3, 4, 2)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("fname", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_values_and_gradients(shape, reduction, fname, weighted):
    rng = np.random.default_rng(hash((shape, reduction, fname, weighted)) % 2**32)
    c = shape[1] if len(shape) > 1 else shape[0]
    x = rng.standard_normal(shape)
    t = rng.integers(0, c, _target_shape(shape))
    w = rng.random(c) + 0.5 if weighted else None
    res = []
    for lib in LIBS:
        xt = lib.tensor(x, requires_grad=True)
        wt = lib.tensor(w) if w is not None else None
        y = getattr(lib.nn.functional, fname)(xt * 1, lib.tensor(t), weight=wt, ignore_index=1,
                                              reduction=reduction)
        g = lib.tensor(np.linspace(-1.0, 2.0, y.numel()).reshape(tuple(y.shape)))
        (gx,) = lib.autograd.grad(y, xt, g, create_graph=True)
        h = (lib.autograd.grad((gx * gx).sum(), xt, allow_unused=True)[0]
             if gx.requires_grad else None)
        res.append((y, gx, h))
    for a, b in zip(res[0][:2], res[1][:2]):
        _same(a, b)
    if res[1][2] is not None and res[0][2] is not None:
        _same(res[0][2], res[1][2])


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4), (2, 3, 2, 2), (2, 3, 2, 1, 2)])
def test_nll_gradcheck(shape):
    rng = np.random.default_rng(0)
    x = leafgrad.tensor(rng.standard_normal(shape), requires_grad=True)
    t = leafgrad.tensor(rng.integers(0, shape[1], _target_shape(shape)))
    w = leafgrad.tensor(rng.random(shape[1]) + 0.5)
    for red in ("none", "mean", "sum"):
        def f(v, red=red):
            return leafgrad.nn.functional.cross_entropy(v, t, weight=w, reduction=red)
        assert leafgrad.autograd.gradcheck(f, (x,))
        assert leafgrad.autograd.gradgradcheck(f, (x,))


def test_nll2d_backward_refuses_a_dense_non_contiguous_input_as_torch():
    """torch's nll_loss2d backward makes grad_input with zeros_like (keeping a permuted input's
    strides) and then requires it contiguous."""
    for lib in LIBS:
        x = lib.zeros((2, 2, 2, 3), dtype=lib.float64, requires_grad=True)
        t = lib.zeros((2, 2, 2), dtype=lib.int64)
        y = lib.nn.functional.nll_loss(x.permute(0, 3, 1, 2), t)
        with pytest.raises(RuntimeError, match="grad_input must be contiguous"):
            y.backward()
        y = lib.nn.functional.nll_loss(x.permute(0, 3, 1, 2).contiguous(), t)
        y.backward()  # contiguous: fine
        assert x.grad is not None


_BAD_SHAPES = [((3,), [0, 1]), ((3,), [[0, 1]]), ((3, 3), 0), ((0, 3), 0),
               ((2, 3, 4), 0), ((2, 3), [0, 1, 2]), ((2, 3, 4), [[0] * 5] * 2),
               ((2, 3, 4, 5), [[0, 1], [1, 0]]), ((2, 3, 4, 5), [[[0] * 4] * 5] * 2),
               ((2, 3, 4, 5, 2), [[[[0] * 2] * 4] * 5] * 2)]


@pytest.mark.parametrize("xs,t", _BAD_SHAPES)
def test_nll_shape_errors_match_torch(xs, t):
    errs = []
    for lib in LIBS:
        with pytest.raises(Exception) as e:
            lib.nn.functional.nll_loss(lib.zeros(xs), lib.tensor(t))
        errs.append((type(e.value), str(e.value).split("\nWhy")[0]))
    assert errs[0] == errs[1]


def test_nll_1d_input_with_a_1_element_target_fails_in_backward_as_torch():
    """torch's forward takes a (1,) target for a 1-d input of C > 1 classes; backward refuses."""
    for lib in LIBS:
        x = lib.tensor([-1.0, -2.0, -3.0], requires_grad=True)
        for reduction in ("none", "mean", "sum"):
            y = lib.nn.functional.nll_loss(x, lib.tensor([1]), reduction=reduction)
            assert tuple(y.shape) == () and y.item() == 2.0
            with pytest.raises(RuntimeError, match=r"^size mismatch \(got input: \[3\], "
                                                   r"target: \[1\]\)"):
                y.backward()
        x = lib.tensor([-1.5], requires_grad=True)  # one class: a (1,) target is fine
        lib.nn.functional.nll_loss(x, lib.tensor([0])).backward()
        assert x.grad.tolist() == [-1.0]


def test_nll_weight_errors_match_torch():
    for xs in [(2, 3), (2, 3, 4), (2, 3, 4, 1)]:
        errs = []
        for lib in LIBS:
            with pytest.raises(RuntimeError) as e:
                lib.nn.functional.nll_loss(lib.zeros(xs), lib.zeros(_target_shape(xs),
                                                                    dtype=lib.int64),
                                           weight=lib.ones(2))
            errs.append(str(e.value).split("\nWhy")[0])
        assert errs[0] == errs[1]


# -- regression losses: double backward ------------------------------------------------------------
_PAIR = {"huber": lambda F, a, b, r: F.huber_loss(a, b, reduction=r, delta=0.6),
         "smooth_l1": lambda F, a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.6),
         "mse": lambda F, a, b, r: F.mse_loss(a, b, reduction=r),
         "l1": lambda F, a, b, r: F.l1_loss(a, b, reduction=r),
         "smooth_l1_beta0": lambda F, a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.0)}


@pytest.mark.parametrize("name", sorted(_PAIR))
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("upstream", [1.5, np.inf, -np.inf, np.nan, -0.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pair_loss_double_backward_matches_torch(name, reduction, upstream, dtype):
    """Second derivatives for input, target and grad_output, NaN where torch's mask products
    meet an infinite upstream gradient; the gradients' nodes are torch's."""
    res = []
    for lib in LIBS:
        dt = getattr(lib, dtype)
        a = lib.tensor([0.5, 0.0, -0.25, 2.0, 0.6, -1.0], dtype=dt, requires_grad=True)
        b = lib.tensor([-1.0, 0.0, 0.1, 0.0, 0.0, -0.4], dtype=dt, requires_grad=True)
        y = _PAIR[name](lib.nn.functional, a * 1, b * 1, reduction)
        go = lib.full(tuple(y.shape), upstream, dtype=dt, requires_grad=True)
        ga, gb = lib.autograd.grad(y, [a, b], go, create_graph=True)
        weights = lib.arange(6, dtype=dt)
        s = (ga * weights).sum() + (gb * 0.5).sum()
        h = lib.autograd.grad(s, [a, b, go], allow_unused=True)
        res.append((ga, gb, h, _walk(ga.grad_fn.next_functions[0][0])))
    for u, v in zip(res[0][:2] + res[0][2], res[1][:2] + res[1][2]):
        if u is None or v is None:  # torch's sgn backward: None or a zero tensor
            assert not np.any(_np(u if v is None else v))
            continue
        _same(u, v, rtol=1e-5)
    if name in ("huber", "smooth_l1", "mse"):
        assert res[0][3] == res[1][3]
        node = {"huber": "Huber", "smooth_l1": "SmoothL1", "mse": "Mse"}[name]
        assert res[0][3].startswith(f"{node}LossBackwardBackward0(")


def test_seed_3020650_huber_div_by_negative_zero():
    got = []
    for lib in LIBS:
        x4 = lib.tensor([[0.5, 0.0, -0.25], [-0.5, -0.25, 1.0], [-0.25, -2.0, 0.5],
                         [0.5, 1.5, -0.5]], dtype=lib.float64, requires_grad=True)
        x6 = lib.tensor([[-1.0, 0.0, 0.0], [-0.5, -2.0, 0.0], [-0.25, 1.5, -2.0],
                         [0.5, 0.25, -0.25]], dtype=lib.float64)
        x7 = lib.nn.functional.huber_loss(x4 * 1, x6, delta=0.6)
        x7.div_(-0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x7.backward(lib.tensor(3.0, dtype=lib.float64), create_graph=True)
        got.append((_np(x4.grad), _np(lib.autograd.grad(x4.grad.sum(), [x4])[0])))
    for a, b in zip(got[0], got[1]):
        _same(a, b)
    assert np.isnan(got[0][1][0, 0])  # |x - t| >= delta: -inf * 0 from torch's mask


@pytest.mark.parametrize("name", ["huber", "smooth_l1", "mse"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_pair_loss_gradgradcheck(name, reduction):
    rng = np.random.default_rng(5)
    a = leafgrad.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    b = leafgrad.tensor(rng.standard_normal((3, 2)), requires_grad=True)

    def f(u, v):
        return _PAIR[name](leafgrad.nn.functional, u, v, reduction)

    assert leafgrad.autograd.gradcheck(f, (a, b))
    assert leafgrad.autograd.gradgradcheck(f, (a, b))


@pytest.mark.parametrize("name", ["huber", "smooth_l1", "mse"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_pair_loss_backward_node_formulas(name, reduction):
    """The printed formulas of the ``*LossBackwardBackward0`` nodes equal their backward."""
    from leafgrad.autograd.formula import evaluate

    a = leafgrad.tensor([0.5, 0.0, -0.25, 2.0], dtype=leafgrad.float64, requires_grad=True)
    b = leafgrad.tensor([-1.0, 0.3, 0.1, 0.0], dtype=leafgrad.float64, requires_grad=True)
    y = _PAIR[name](leafgrad.nn.functional, a, b, reduction)
    go = leafgrad.full(tuple(y.shape), 1.5, dtype=leafgrad.float64, requires_grad=True)
    (ga,) = leafgrad.autograd.grad(y, [a], go, create_graph=True)
    node = ga.grad_fn
    g = leafgrad.tensor([1.0, -2.0, 0.5, 3.0], dtype=leafgrad.float64)
    with leafgrad.no_grad():
        want = node.backward(g)
        for key, w in zip(node.formula, want):
            got = evaluate(node, key, g)
            if key == "g":  # full-shaped; the engine sums it to grad_output's shape
                got, w = got.sum(), w.sum()
            np.testing.assert_allclose(got.numpy(), w.numpy(), rtol=1e-12, err_msg=key)
