"""scatter_reduce and quantile gradients against torch, NaN/inf placement and signed zeros
included (fuzz seeds 3008216, 3009801, 3015903, 3011570).

PyTorch's formulas multiply by 0/1 masks and divide by counts (scatter_reduce_backward in
FunctionsManual.cpp) or are composites of sort, gather and lerp (quantile_compute in
ATen/native/Sorting.cpp), so an inf/NaN gradient or a NaN result reaches places where a
``where``-based formula writes 0; leafgrad follows them step for step. Every case runs in torch
and in leafgrad and must agree exactly: same values, NaN at the same places, the same
infinities and the same sign of every zero.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import leafgrad
from leafgrad.autograd import gradcheck, gradgradcheck

INF, NAN = math.inf, math.nan
_AWK = np.array([0.0, -0.0, 1.0, -1.0, 2.0, 0.5, INF, -INF, NAN, 3.0])
_PLAIN = np.array([1.0, -1.5, 0.25, 2.0])


def _np(t) -> np.ndarray:
    return t.detach().numpy() if t is not None else None


def _same(t, lg, what="") -> None:
    """Exactly equal: NaN at the same places, equal numbers, the same sign of each zero."""
    assert (t is None) == (lg is None), (what, t, lg)
    if t is None:
        return
    t, lg = np.asarray(t), np.asarray(lg)
    assert t.shape == lg.shape and t.dtype == lg.dtype, (what, t.shape, lg.shape, t.dtype,
                                                         lg.dtype)
    np.testing.assert_array_equal(np.isnan(lg), np.isnan(t), err_msg=what)
    np.testing.assert_array_equal(lg, t, err_msg=what)
    ok = ~np.isnan(t)
    np.testing.assert_array_equal(np.signbit(lg[ok]), np.signbit(t[ok]), err_msg=what + " sign")


# -- the fuzz seeds ------------------------------------------------------------------------------
def test_seed_3008216_amax_nan_src():
    """A NaN in src makes the result NaN, which nothing equals (NaN != NaN): the count of ties
    is 0, grad / 0 is inf, and the mask 0 times inf is NaN in torch's formula."""
    out = []
    for m in (torch, leafgrad):
        x0 = m.tensor([[0.0, -2.0, 1.0], [0.0, -1.5, -1.5]])
        x1 = m.tensor([[0.0, NAN, 0.0], [2.0, 0.0, INF]], requires_grad=True)
        x2 = x0.scatter_reduce(0, m.tensor([[1, 1, 0], [1, 0, 0]]), x1, "amax",
                               include_self=True) * 1
        x2.view(-1).backward(m.tensor([-2.0, -1.5, 1.0, 0.25, -0.5, -1.5]))
        out.append(_np(x1.grad))
    assert np.isnan(out[1][0, 1])
    _same(*out)


def test_seed_3011570_quantile_nearest_no_lerp():
    """'nearest' gathers one element and does not lerp: an infinite gradient stays -inf (the
    old single-node formula added g * 0 for the element above: NaN)."""
    out = []
    for m in (torch, leafgrad):
        x6 = m.tensor([[-1.338], [1.051]], requires_grad=True)
        x8 = (x6 * 1).quantile(0.4, -1, interpolation="nearest")
        x8.div_(m.tensor([3.0, 0.0]))
        x8.backward(m.tensor([1.0, -1.0]), create_graph=True)
        out.append(_np(x6.grad))
    assert out[1][1, 0] == -INF
    _same(*out)


# -- scatter_reduce ------------------------------------------------------------------------------
def _scatter_case(rng, dtype, awkward: bool):
    shp = tuple(int(k) for k in rng.integers(1, 4, 2))
    dim = int(rng.integers(0, 2))
    ish = list(shp)
    ish[dim] = int(rng.integers(1, 5))
    if awkward:
        x, s = rng.choice(_AWK, shp), rng.choice(_AWK, ish)
    else:  # ties, zeros, no NaN
        x, s = rng.integers(-2, 3, shp).astype(float), rng.integers(-2, 3, ish).astype(float)
    idx = rng.integers(0, shp[dim], ish)
    g = rng.choice(_AWK if awkward else _PLAIN, shp)
    return dim, x.astype(dtype), s.astype(dtype), idx, g.astype(dtype)


def _scatter_run(m, case, reduce, include_self, create=False):
    dim, x, s, idx, g = case
    xt = m.tensor(x, requires_grad=True)
    st = m.tensor(s, requires_grad=True)
    y = xt.scatter_reduce(dim, m.tensor(idx), st, reduce, include_self=include_self)
    gx, gs = m.autograd.grad(y, (xt, st), m.tensor(g), create_graph=create)
    return y, gx, gs


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["amax", "amin", "prod", "mean", "sum"])
def test_scatter_reduce_values_and_grads_match_torch(reduce, include_self, dtype):
    rng = np.random.default_rng(["amax", "amin", "prod", "mean", "sum"].index(reduce) * 10
                                + 2 * include_self + len(dtype))
    for k in range(80):
        case = _scatter_case(rng, np.dtype(dtype), awkward=k % 2 == 0)
        t = [_np(v) for v in _scatter_run(torch, case, reduce, include_self)]
        lg = [_np(v) for v in _scatter_run(leafgrad, case, reduce, include_self)]
        for name, a, b in zip(("value", "grad self", "grad src"), t, lg):
            _same(a, b, f"{reduce} include_self={include_self} {name}: {case}")


@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_max_zero_keeps_first_sign(reduce):
    """torch folds std::max(cur, v) over self then src in index order: a tie keeps ``cur``, so
    the first zero met gives the result its sign (NumPy's maximum picks by instruction)."""
    for inc in (True, False):
        for xs, ss in (([0.0], [-0.0, 0.0]), ([-0.0], [0.0, -0.0]), ([5.0], [-0.0, 0.0]),
                       ([-5.0], [0.0, -0.0])):
            sign = 1 if reduce == "amax" else -1
            xs = [sign * v for v in xs] if abs(xs[0]) == 5 else xs
            r = [_np(m.tensor(xs).scatter_reduce(0, m.tensor([0, 0]), m.tensor(ss), reduce,
                                                 include_self=inc)) for m in (torch, leafgrad)]
            _same(*r, f"{reduce} {xs} {ss} include_self={inc}")


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["amax", "amin", "prod", "mean"])
def test_scatter_reduce_double_backward_matches_torch(reduce, include_self):
    """create_graph: the gradient is a graph (of grad, and for prod of self and src through
    scatter_reduce again); its gradients match torch's, or raise where torch's do."""
    rng = np.random.default_rng(7)
    for _ in range(40):
        dim, x, s, idx, _ = _scatter_case(rng, np.float64, awkward=False)
        x, s = x + rng.random(x.shape) * (rng.random(x.shape) > 0.4), s
        g = rng.standard_normal(x.shape)
        v1, v2 = rng.standard_normal(x.shape), rng.standard_normal(s.shape)
        res = []
        for m in (torch, leafgrad):
            xt, st = m.tensor(x, requires_grad=True), m.tensor(s, requires_grad=True)
            gt = m.tensor(g, requires_grad=True)
            y = xt.scatter_reduce(dim, m.tensor(idx), st, reduce, include_self=include_self)
            gx, gs = m.autograd.grad(y, (xt, st), gt, create_graph=True)
            tot = (gx * m.tensor(v1)).sum() + (gs * m.tensor(v2)).sum()
            try:
                h = m.autograd.grad(tot, (xt, st, gt), allow_unused=True)
                h = [None if a is None else _np(a) for a in h]
            except RuntimeError as e:
                h = str(e).split("\n")[0]
            res.append((_np(gx), _np(gs), type(gs.grad_fn).__name__, h))
        t, lg = res
        np.testing.assert_allclose(lg[0], t[0], rtol=1e-12)
        np.testing.assert_allclose(lg[1], t[1], rtol=1e-12)
        assert (lg[2] == "Error") == (t[2] == "Error"), (lg[2], t[2])
        if isinstance(t[3], str):
            assert lg[3] == t[3]
            continue
        for a, b in zip(t[3], lg[3]):
            if a is None or b is None:  # unused here: None or zeros
                assert not np.any(a if b is None else b)
            else:
                np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)


def test_scatter_reduce_prod_double_backward_error():
    out = []
    for m in (torch, leafgrad):
        x = m.tensor([2.0, 3.0], requires_grad=True)
        s = m.tensor([0.0, 0.0, 4.0], requires_grad=True)
        y = x.scatter_reduce(0, m.tensor([0, 0, 1]), s, "prod")
        _, gs = m.autograd.grad(y.sum(), (x, s), create_graph=True)
        with pytest.raises(RuntimeError, match="Double backward is unsupported for src") as e:
            gs.sum().backward()
        out.append((type(gs.grad_fn).__name__, str(e.value).split("\n")[0], _np(gs)))
    assert out[0][:2] == out[1][:2]
    _same(out[0][2], out[1][2])


@pytest.mark.parametrize("reduce", ["amax", "amin", "prod", "mean"])
def test_scatter_reduce_gradcheck(reduce):
    rng = np.random.default_rng(3)
    x = leafgrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    s = leafgrad.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    idx = leafgrad.tensor(rng.integers(0, 3, (5, 4)))
    for inc in (True, False):
        def f(a, b, inc=inc):
            return a.scatter_reduce(0, idx, b, reduce, include_self=inc)
        assert gradcheck(f, (x, s))
        assert gradgradcheck(f, (x, s))


def test_scatter_with_reduce_has_no_derivative():
    """torch.scatter(..., reduce=) records a NotImplemented node: backward raises."""
    for m in (torch, leafgrad):
        x = m.tensor([2.0, 3.0], requires_grad=True)
        for red in ("add", "multiply"):
            y = x.scatter(0, m.tensor([0, 0, 1]), 2.0, reduce=red)
            assert type(y.grad_fn).__name__ == "NotImplemented"
            with pytest.raises(RuntimeError, match="aten::scatter"):
                y.sum().backward()
    r = [_np(m.tensor([2.0, 3.0]).scatter(0, m.tensor([0, 0, 1]), 2.0, reduce="multiply"))
         for m in (torch, leafgrad)]
    _same(*r)


# -- quantile ------------------------------------------------------------------------------------
_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_case(rng, k):
    dtype = (np.float32, np.float64)[k % 2]
    nd = int(rng.integers(0, 4))
    shp = tuple(int(v) for v in rng.integers(1, 5, nd))
    x = rng.choice(np.append(_AWK, [1e6, -2.5]), shp) if k % 3 == 0 else \
        rng.standard_normal(shp) * 3
    dim = None if rng.random() < 0.3 else int(rng.integers(-max(nd, 1), max(nd, 1)))
    keep = bool(rng.integers(0, 2))
    qkind = int(rng.integers(0, 3))
    qs = [0.0, 0.25, 0.4, 0.5, 0.7, 1.0, 0.3, 0.1, 0.9, 0.6]
    if qkind == 0:
        q = float(rng.choice(qs))
    else:
        q = rng.choice(qs + [float(rng.random())], int(rng.integers(1, 4))).astype(dtype)
        q = q[:1].reshape(()) if qkind == 2 else q
    return np.asarray(x, dtype), dim, keep, q


def _quantile_run(m, case, mode, nan, g=None, q_grad=False):
    x, dim, keep, q = case
    xt = m.tensor(x, requires_grad=True)
    qt = q if isinstance(q, float) else m.tensor(q, requires_grad=q_grad)
    y = (m.nanquantile if nan else m.quantile)(xt, qt, dim, keep, interpolation=mode)
    ins = (xt, qt) if q_grad else (xt,)
    grads = m.autograd.grad(y, ins, m.tensor(g), allow_unused=True) if g is not None else ()
    strides = tuple(st if n > 1 else 0 for st, n in zip(y.stride(), y.shape))
    return y, type(y.grad_fn).__name__, strides, grads


@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("mode", _MODES)
def test_quantile_values_and_grads_match_torch(mode, nan):
    """Values, the result's node and layout, and the gradients of x (and of q: lerp's weight)
    for random shapes, dims, keepdim, scalar / 0-d / 1-d q, NaN and inf in x and in grad."""
    rng = np.random.default_rng([_MODES.index(mode), nan])
    done = 0
    for k in range(160):
        case = _quantile_case(rng, k)
        x, dim, _, q = case
        if (x.size if dim is None or x.ndim == 0 else x.shape[dim]) > 16:
            # NOTE: past 16 elements torch's default sort (std::sort) orders ties its own way
            continue
        q_grad = not isinstance(q, float) and k % 4 == 1
        y, name, strides, _ = _quantile_run(torch, case, mode, nan)
        g = rng.choice(_AWK if k % 2 else _PLAIN, tuple(y.shape)).astype(x.dtype)
        t = _quantile_run(torch, case, mode, nan, g, q_grad)
        lg = _quantile_run(leafgrad, case, mode, nan, g, q_grad)
        what = f"{mode} nan={nan} case={case} g={g.tolist()}"
        _same(_np(t[0]), _np(lg[0]), what + " value")
        assert t[1:3] == lg[1:3], (what, t[1:3], lg[1:3])
        _same(_np(t[3][0]), _np(lg[3][0]), what + " grad x")
        if q_grad and t[3][1] is not None:
            # (q's gradient sums over the broadcast: the order of that sum is not compared)
            np.testing.assert_allclose(_np(lg[3][1]), _np(t[3][1]), rtol=1e-5, err_msg=what)
        else:
            assert (t[3][1] if q_grad else None) is None and (
                lg[3][1] if q_grad else None) is None, what
        done += 1
    assert done > 100


def test_quantile_ranks_in_q_dtype():
    """float32 q: rank 0.7 * 10 rounds to 7 in float32, so torch takes element 7 alone."""
    for dtype in ("float32", "float64"):
        r = []
        for m in (torch, leafgrad):
            x = m.zeros(11, dtype=getattr(m, dtype))
            x[7:] = 1e6
            x.requires_grad_()
            y = x.quantile(0.7)
            y.backward()
            r.append((_np(y), _np(x.grad)))
        _same(r[0][0], r[1][0])
        _same(r[0][1], r[1][1])


@pytest.mark.parametrize("mode", ["midpoint", "linear"])
def test_quantile_lerp_weight_at_integer_rank(mode):
    """midpoint's weight is 0.5 even at an integer rank (0.5 * inf twice: inf); linear's is 0
    there (the element above gets inf * 0: NaN)."""
    r = []
    for m in (torch, leafgrad):
        x = m.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        y = x.quantile(0.5, -1, interpolation=mode)
        y.backward(m.tensor([INF]))
        r.append(_np(x.grad))
    _same(*r)


@pytest.mark.parametrize("mode", _MODES)
def test_quantile_double_backward_matches_torch(mode):
    rng = np.random.default_rng(11)
    for k in range(30):
        x = rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 6))))
        if k % 3 == 0:
            x[rng.random(x.shape) < 0.2] = NAN
        dim, nan = (None, 0, 1, -1)[k % 4], k % 2 == 0
        qv = rng.random(int(rng.integers(1, 4)))
        res = []
        for m in (torch, leafgrad):
            xt, q = m.tensor(x, requires_grad=True), m.tensor(qv, requires_grad=True)
            y = (m.nanquantile if nan else m.quantile)(xt, q, dim, interpolation=mode)
            gt = m.tensor(np.random.default_rng(k).standard_normal(tuple(y.shape)),
                          requires_grad=True)
            ins = [xt, q] if mode == "linear" else [xt]
            gs = m.autograd.grad(y, ins, gt, create_graph=True)
            tot = sum((a * m.tensor(np.random.default_rng(k + i).standard_normal(
                tuple(a.shape)))).sum() for i, a in enumerate(gs))
            h = m.autograd.grad(tot, [xt, q, gt], allow_unused=True)
            res.append([None if a is None else _np(a) for a in list(gs) + list(h)])
        for a, b in zip(*res):
            if a is None or b is None:
                assert not np.any(a if b is None else b)
            else:
                np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_quantile_gradcheck():
    rng = np.random.default_rng(5)
    x = leafgrad.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    q = leafgrad.tensor([0.2, 0.55, 0.9], dtype=leafgrad.float64, requires_grad=True)
    for mode in _MODES:
        assert gradcheck(lambda a, mode=mode: a.quantile(q.detach(), 1, interpolation=mode), (x,))
        assert gradcheck(lambda a, mode=mode: a.nanquantile(0.3, 0, True, interpolation=mode),
                         (x,))
    # q's gradient: linear interpolation's weight is rank - floor(rank), rank = q * (n - 1)
    assert gradcheck(lambda a, b: a.quantile(b, 1), (x, q))
    assert gradgradcheck(lambda a, b: a.quantile(b, 1), (x, q))


_ERRORS = {
    "empty": lambda m: m.zeros(0).quantile(0.5),
    "empty, q out of range": lambda m: m.zeros(0).quantile(1.5),
    "empty, q tensor out of range": lambda m: m.zeros(0).quantile(m.tensor([1.5])),
    "int": lambda m: m.tensor([1, 2]).quantile(0.5),
    "int, q out of range": lambda m: m.tensor([1, 2]).quantile(1.5),
    "bad interpolation": lambda m: m.tensor([1.0, 2]).quantile(0.5, interpolation="foo"),
    "bad interpolation, int": lambda m: m.tensor([1, 2]).quantile(0.5, interpolation="foo"),
    "bad interpolation, bad dim": lambda m: m.tensor([1.0]).quantile(0.5, 3, interpolation="x"),
    "bad dim, q tensor out of range": lambda m: m.tensor([1.0, 2]).quantile(m.tensor([2.0]), 3),
    "q 2-d": lambda m: m.tensor([1.0, 2]).quantile(m.tensor([[0.5]])),
    "q dtype": lambda m: m.tensor([1.0, 2]).quantile(m.tensor([0.5], dtype=m.float64)),
    "q NaN tensor": lambda m: m.tensor([1.0, 2]).nanquantile(m.tensor([NAN])),
    "q NaN": lambda m: m.tensor([1.0, 2]).nanquantile(NAN),
    "q 1e20": lambda m: m.tensor([1.0, 2]).quantile(1e20),
    "q 1.234567891": lambda m: m.tensor([1.0, 2]).quantile(1.234567891),
    "q list": lambda m: m.tensor([1.0, 2]).quantile([0.5]),
    "empty dim": lambda m: m.zeros(2, 0).quantile(0.5, dim=0),
    "float16": lambda m: m.tensor([1.0, 2], dtype=m.float16).quantile(0.5),
}


@pytest.mark.parametrize("name", list(_ERRORS))
def test_quantile_errors_match_torch(name):
    f = _ERRORS[name]
    with pytest.raises(Exception) as te:
        f(torch)
    with pytest.raises(Exception) as le:
        f(leafgrad)
    assert type(le.value) is type(te.value)
    assert str(le.value).split("\nWhy")[0].strip() == str(te.value).strip()
