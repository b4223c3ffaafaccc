"""Property tests: random convolution / pooling / interpolation geometries against torch.

Kernel, stride, padding (numbers, 'same', 'valid'), dilation, groups, ceil_mode,
output_padding, count_include_pad, divisor_override: values and every gradient as torch has
them. Max-pool inputs are drawn from a few integers (plus NaN / -inf now and then) so that
windows tie, and the chosen positions (return_indices, the gradient's route) must be torch's.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import leafgrad

LF, TF = leafgrad.nn.functional, torch.nn.functional


def _both(arrs, grad: bool = True):
    lg = [leafgrad.tensor(a.copy(), requires_grad=grad) for a in arrs]
    th = [torch.tensor(a.copy(), requires_grad=grad) for a in arrs]
    return lg, th


def _check(lfn, tfn, arrs, indices: bool = False, atol: float = 1e-10):
    """Outputs, indices and gradients of ``lfn`` and ``tfn`` on the same float64 inputs."""
    lg, th = _both(arrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            to = tfn(*th)
        except RuntimeError as e:  # torch refuses this geometry: leafgrad must refuse it too
            with pytest.raises(type(e)):
                lfn(*lg)
            return
        lo = lfn(*lg)
    if indices:
        np.testing.assert_array_equal(lo[1].numpy(), to[1].numpy())
        lo, to = lo[0], to[0]
    assert tuple(lo.shape) == tuple(to.shape)
    assert type(lo.grad_fn).__name__ == type(to.grad_fn).__name__
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), rtol=1e-9, atol=atol)
    g = np.random.default_rng(0).standard_normal(tuple(to.shape))
    lo.backward(leafgrad.tensor(g))
    to.backward(torch.tensor(g))
    for a, b in zip(lg, th):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=atol)


@st.composite
def conv_cases(draw, transposed: bool = False):
    nd = draw(st.sampled_from((1, 2, 2, 3)))
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    if transposed:
        p = tuple(draw(st.integers(0, 2)) for _ in range(nd))
        op = tuple(draw(st.integers(0, max(a, b) - 1)) for a, b in zip(s, d))
        size = tuple(draw(st.integers(1, 4)) for _ in range(nd))
        size = tuple(max(n, -(-(2 * pp - dd * (kk - 1) - o) // ss) + 1)
                     for n, pp, dd, kk, o, ss in zip(size, p, d, k, op, s))
        wshape = (cin, cout // groups) + k
        extra = {"output_padding": op}
    else:
        if all(v == 1 for v in s) and draw(st.booleans()):
            p = draw(st.sampled_from(("same", "valid")))
            pad = (0,) * nd if p == "valid" else tuple(dd * (kk - 1) // 2 for dd, kk in zip(d, k))
        else:
            p = tuple(draw(st.integers(0, 2)) for _ in range(nd))
            pad = p
        size = tuple(max(draw(st.integers(1, 6)), dd * (kk - 1) + 1 - 2 * pp)
                     for dd, kk, pp in zip(d, k, pad))
        wshape = (cout, cin // groups) + k
        extra = {}
    n = draw(st.sampled_from((1, 2, 0)))
    bias = draw(st.booleans())
    return nd, (n, cin) + size, wshape, (cout if bias else None), dict(
        stride=s, padding=p, dilation=d, groups=groups, **extra)


@settings(max_examples=60, deadline=None)
@given(case=conv_cases())
def test_conv_geometries_match_torch(case):
    nd, xs, ws, b, kw = case
    rng = np.random.default_rng(1)
    arrs = [rng.standard_normal(xs), rng.standard_normal(ws)]
    if b is not None:
        arrs.append(rng.standard_normal(b))
    name = f"conv{nd}d"
    _check(lambda *t: getattr(LF, name)(*t, **kw), lambda *t: getattr(TF, name)(*t, **kw), arrs)


@settings(max_examples=50, deadline=None)
@given(case=conv_cases(transposed=True))
def test_conv_transpose_geometries_match_torch(case):
    nd, xs, ws, b, kw = case
    rng = np.random.default_rng(2)
    arrs = [rng.standard_normal(xs), rng.standard_normal(ws)]
    if b is not None:
        arrs.append(rng.standard_normal(b))
    name = f"conv_transpose{nd}d"
    _check(lambda *t: getattr(LF, name)(*t, **kw), lambda *t: getattr(TF, name)(*t, **kw), arrs)


@st.composite
def pool_cases(draw, avg: bool = False):
    nd = draw(st.sampled_from((1, 2, 2, 3)))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = (1,) * nd if avg else tuple(draw(st.integers(1, 2)) for _ in range(nd))
    # PyTorch's max pool takes at most kernel_size // 2 padding, whatever the dilation
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    size = tuple(max(draw(st.integers(1, 7)), dd * (kk - 1) + 1 - 2 * pp)
                 for kk, dd, pp in zip(k, d, p))
    shape = (draw(st.integers(1, 2)), 2) + size
    kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=draw(st.booleans()))
    if avg:
        kw["count_include_pad"] = draw(st.booleans())
        if nd > 1 and draw(st.booleans()):
            kw["divisor_override"] = draw(st.integers(1, 5))
    else:
        kw["dilation"] = d
    if nd == 1:
        kw = {k2: (v[0] if isinstance(v, tuple) else v) for k2, v in kw.items()}
        if draw(st.booleans()):
            shape = shape[1:]
    return nd, shape, kw


@settings(max_examples=80, deadline=None)
@given(case=pool_cases(), special=st.sampled_from((None, None, np.nan, -np.inf)))
def test_max_pool_geometries_ties_and_indices_match_torch(case, special):
    nd, shape, kw = case
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, size=shape).astype(np.float64)  # many ties
    k, st_, p, d = (np.atleast_1d(kw[n]) for n in ("kernel_size", "stride", "padding",
                                                    "dilation"))
    n_in = np.array(shape[-nd:])
    if any(pp and any(not any(0 <= j * ss - pp + t * dd < n for t in range(kk))
                      for j in range(2)) for kk, ss, pp, dd, n in zip(k, st_, p, d, n_in)):
        # a window holding no input element: torch answers -inf with an out-of-range index
        # (and misroutes the gradient); leafgrad refuses (tested in test_conv_errors.py)
        return
    if special is not None:
        x.reshape(-1)[rng.integers(0, x.size, size=2)] = special
    name = f"max_pool{nd}d"
    _check(lambda t: getattr(LF, name)(t, return_indices=True, **kw),
           lambda t: getattr(TF, name)(t, return_indices=True, **kw), [x], indices=True)


@settings(max_examples=60, deadline=None)
@given(case=pool_cases(avg=True))
def test_avg_pool_geometries_match_torch(case):
    nd, shape, kw = case
    x = np.random.default_rng(4).standard_normal(shape)
    name = f"avg_pool{nd}d"
    _check(lambda t: getattr(LF, name)(t, **kw), lambda t: getattr(TF, name)(t, **kw), [x])


@settings(max_examples=40, deadline=None)
@given(nd=st.integers(1, 3), data=st.data())
def test_adaptive_pools_match_torch(nd, data):
    size = tuple(data.draw(st.integers(1, 7)) for _ in range(nd))
    out = tuple(data.draw(st.integers(1, 8)) for _ in range(nd))
    x = np.random.default_rng(5).integers(0, 3, size=(2, 2) + size).astype(np.float64)
    arg = out[0] if nd == 1 else out
    for kind in ("avg", "max"):
        lf = getattr(LF, f"adaptive_{kind}_pool{nd}d")
        tf = getattr(TF, f"adaptive_{kind}_pool{nd}d")
        kw = {"return_indices": True} if kind == "max" else {}
        _check(lambda t, f=lf, k=kw: f(t, arg, **k), lambda t, f=tf, k=kw: f(t, arg, **k), [x],
               indices=kind == "max")


_MODES = {1: ("nearest", "nearest-exact", "linear", "area"),
          2: ("nearest", "nearest-exact", "bilinear", "bicubic", "area"),
          3: ("nearest", "nearest-exact", "trilinear", "area")}


@settings(max_examples=60, deadline=None)
@given(nd=st.integers(1, 3), data=st.data())
def test_interpolate_matches_torch(nd, data):
    mode = data.draw(st.sampled_from(_MODES[nd]))
    size = tuple(data.draw(st.integers(1, 6)) for _ in range(nd))
    kw: dict = {"mode": mode}
    if data.draw(st.booleans()):
        kw["size"] = tuple(data.draw(st.integers(1, 9)) for _ in range(nd))
    else:
        kw["scale_factor"] = tuple(
            data.draw(st.sampled_from((0.5, 0.7, 1.0, 1.3, 1.5, 2.0, 2.1, 3.0))) for _ in range(nd))
        if any(int(n * f) == 0 for n, f in zip(size, kw["scale_factor"])):
            return
        kw["recompute_scale_factor"] = data.draw(st.sampled_from((None, True)))
    if mode in ("linear", "bilinear", "bicubic", "trilinear"):
        kw["align_corners"] = data.draw(st.booleans())
    dtype = data.draw(st.sampled_from(("float32", "float64")))
    x = np.random.default_rng(6).standard_normal((2, 2) + size).astype(dtype)
    lg, th = _both([x])
    lo, to = LF.interpolate(lg[0], **kw), TF.interpolate(th[0], **kw)
    tol = 1e-5 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), rtol=tol, atol=tol)
    if _torch_backward_disagrees(mode, nd, size, tuple(to.shape[2:]), kw):
        return  # torch's gradient is not its forward's (test_torch_nearest_backward_bug)
    g = np.random.default_rng(7).standard_normal(tuple(to.shape)).astype(dtype)
    lo.backward(leafgrad.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_allclose(lg[0].grad.numpy(), th[0].grad.numpy(), rtol=tol * 10,
                               atol=tol * 10)


def _torch_backward_disagrees(mode: str, nd: int, size, out, kw) -> bool:
    """Cases where torch's backward kernel maps an axis differently from its forward kernel
    (so torch's own gradcheck fails): given scale factors and an axis whose size is kept
    (or, for 1-d / 3-d nearest, doubled)."""
    if "scale_factor" not in kw or kw.get("recompute_scale_factor"):
        return False
    pairs = list(zip(size, out))
    if mode == "nearest" and nd in (1, 3):
        return any(q in (n, 2 * n) for n, q in pairs)
    if mode == "bicubic":
        return any(q == n for n, q in pairs)
    return False


def test_torch_nearest_backward_bug_is_not_copied():
    """torch's 1-d nearest forward reads input 0 twice here, but its backward routes the second
    output's gradient to input 1 (torch's own gradcheck fails). leafgrad's forward equals
    torch's and its gradient is the true derivative of that forward."""
    x = np.arange(2.0).reshape(1, 1, 2)
    t = torch.tensor(x, requires_grad=True)
    a = leafgrad.tensor(x, requires_grad=True)
    yt = TF.interpolate(t, scale_factor=1.3)
    ya = LF.interpolate(a, scale_factor=1.3)
    np.testing.assert_array_equal(ya.detach().numpy(), yt.detach().numpy())
    assert ya.tolist() == [[[0.0, 0.0]]]
    g = [[[1.0, 10.0]]]
    yt.backward(torch.tensor(g, dtype=torch.float64))
    ya.backward(leafgrad.tensor(g, dtype=leafgrad.float64))
    assert t.grad.tolist() == [[[1.0, 10.0]]]  # torch: inconsistent with its forward
    assert a.grad.tolist() == [[[11.0, 0.0]]]  # both outputs read input 0
    assert not torch.autograd.gradcheck(lambda u: TF.interpolate(u, scale_factor=1.3),
                                        (t.detach().requires_grad_(),), raise_exception=False)
    assert leafgrad.autograd.gradcheck(lambda u: LF.interpolate(u, scale_factor=1.3),
                                       [a.detach().requires_grad_()])
