"""The value classes behind the fuzzer's last silent-value programs (issue 9), against torch.

Each test covers a mechanism for every op that shares it: fresh memory of non-view results,
inf/NaN meeting zero weights (convolution grids, interpolation taps, normalisation's folded
scale and shift, ignored loss rows, fused multiply-adds), Python numbers as the first operand,
poles of polygamma. Values are compared bit for bit where torch's answer is its own
definition, NaN/inf positions exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import leafgrad

INF, NAN = float("inf"), float("nan")
LIBS = (torch, leafgrad)


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def _same_nonfinite(a, b, rtol=1e-6):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    fin = np.isfinite(a)
    np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
    np.testing.assert_array_equal(a[np.isinf(a)], b[np.isinf(a)])
    np.testing.assert_allclose(a[fin], b[fin], rtol=rtol, atol=1e-6)


def _both(f, *arrays, dtype="float64", requires_grad=False):
    out = []
    for m in LIBS:
        xs = [m.tensor(np.asarray(a, dtype), requires_grad=requires_grad) for a in arrays]
        out.append((xs, f(m, *xs)))
    return out


# -- non-view ops return fresh memory ---------------------------------------------------------
@pytest.mark.parametrize("shape,r,up", [((4, 1, 1), 2, True), ((1, 4, 1, 1), 2, True),
                                        ((2, 3, 2), 1, True), ((9, 1, 1), 3, True),
                                        ((1, 2, 2), 2, False), ((2, 1, 3, 3), 3, False),
                                        ((3, 2, 2), 1, False)])
def test_pixel_shuffle_results_are_fresh_memory(shape, r, up):
    x0 = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) - 2.0
    seen = []
    for m in LIBS:
        x = m.tensor(x0)
        f = m.nn.functional.pixel_shuffle if up else m.nn.functional.pixel_unshuffle
        y = f(x, r)
        y.fill_(7.0)  # writes through the result must not reach the input
        y2 = f(x * 1, r)
        y2 += 1
        seen.append((_np(x).copy(), _np(y).copy(), y._version))
    np.testing.assert_array_equal(seen[0][0], x0)
    np.testing.assert_array_equal(seen[1][0], seen[0][0])
    np.testing.assert_array_equal(seen[1][1], seen[0][1])


# -- convolution: inf/NaN never meet the grid's extra zeros -----------------------------------
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("dilation,output_padding", [(1, 0), (2, 1), (2, 0)])
def test_conv_transpose_with_nonfinite_weight_matches_torch(nd, dilation, output_padding):
    rng = np.random.default_rng(nd * 10 + dilation)
    x = rng.integers(-2, 3, (1, 2) + (2,) * nd).astype(np.float64) / 2
    w = rng.integers(-2, 3, (2, 1) + (2,) * nd).astype(np.float64) / 2
    w.flat[3] = INF
    w.flat[-1] = NAN
    f = {1: "conv_transpose1d", 2: "conv_transpose2d", 3: "conv_transpose3d"}[nd]
    for dt in ("float32", "float64"):
        (_, t), (_, lv) = _both(lambda m, a, b: getattr(m.nn.functional, f)(
            a, b, dilation=dilation, output_padding=output_padding), x, w, dtype=dt)
        _same_nonfinite(_np(t), _np(lv))


@pytest.mark.parametrize("nd", [2, 3])
def test_conv_gradients_with_nonfinite_operands_match_torch(nd):
    rng = np.random.default_rng(nd)
    x = rng.integers(-2, 3, (1, 2) + (3,) * nd).astype(np.float64) / 2
    w = rng.integers(-2, 3, (2, 2) + (2,) * nd).astype(np.float64) / 2
    x.flat[1] = INF
    w.flat[2] = -INF
    f = {2: "conv2d", 3: "conv3d"}[nd]
    grads = []
    for m in LIBS:  # float64: torch's float32 path has the documented padding difference
        a = m.tensor(x, requires_grad=True)
        b = m.tensor(w, requires_grad=True)
        y = getattr(m.nn.functional, f)(a, b)
        y.backward(m.ones_like(y))
        grads.append((_np(y), _np(a.grad), _np(b.grad)))
    for t, lv in zip(*grads):
        _same_nonfinite(t, lv)


# -- a Python number as the first operand is PyTorch's wrapped number --------------------------
@pytest.mark.parametrize("fn", ["add", "sub", "mul", "div", "true_divide", "floor_divide",
                                "remainder", "multiply", "subtract", "divide"])
@pytest.mark.parametrize("scalar,dtype,shape", [(0.001, "float64", (2, 1)),
                                                (1e30, "float64", (1,)),
                                                (0.1, "float64", ()), (2.5, "int64", (2,)),
                                                (3, "int32", (2,)), (0.3, "float32", (2,)),
                                                (True, "float64", (1,))])
def test_python_number_first_operand_matches_torch(fn, scalar, dtype, shape):
    v = np.full(shape, 0.7 if dtype.startswith("float") else 3).astype(dtype)
    try:
        t = getattr(torch, fn)(scalar, torch.tensor(v))
    except RuntimeError as e:  # sub(True, t): torch refuses bool subtraction
        with pytest.raises(type(e)):
            getattr(leafgrad, fn)(scalar, leafgrad.tensor(v))
        return
    lv = getattr(leafgrad, fn)(scalar, leafgrad.tensor(v))
    assert str(lv.dtype) == str(t.dtype)
    assert tuple(lv.shape) == tuple(t.shape)
    np.testing.assert_array_equal(_np(lv), _np(t))  # bit for bit: the same double operand


# -- normalisation: PyTorch's folded scale and shift -------------------------------------------
def _norm_inputs(seed, dt):
    rng = np.random.default_rng(seed)
    x = rng.integers(-4, 5, (2, 4, 3)).astype(dt) / 2
    w = rng.integers(-4, 5, 4).astype(dt) / 2
    b = rng.integers(-4, 5, 4).astype(dt) / 2
    x.flat[rng.integers(x.size)] = rng.choice([INF, -INF, NAN])
    w[rng.integers(4)] = rng.choice([INF, -INF])
    b[rng.integers(4)] = rng.choice([INF, -INF, 0.0])
    return x, w, b


_NORMS = {
    "batch_norm_eval": lambda m, x, w, b: m.nn.functional.batch_norm(
        x, m.tensor([0.1, -0.2, 0.3, 0.0], dtype=x.dtype),
        m.tensor([0.5, 1.0, 2.0, 1.5], dtype=x.dtype), w, b),
    "batch_norm_train": lambda m, x, w, b: m.nn.functional.batch_norm(x, None, None, w, b,
                                                                      training=True),
    "batch_norm_eval_w": lambda m, x, w, b: m.nn.functional.batch_norm(
        x, m.tensor([0.1, -0.2, 0.3, 0.0], dtype=x.dtype),
        m.tensor([0.5, 1.0, 2.0, 1.5], dtype=x.dtype), w),
    "instance_norm": lambda m, x, w, b: m.nn.functional.instance_norm(x, weight=w, bias=b),
    "group_norm": lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b),
    "group_norm_b": lambda m, x, w, b: m.nn.functional.group_norm(x, 2, None, b),
}


@pytest.mark.parametrize("name", list(_NORMS))
@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("seed", range(6))
def test_norms_with_nonfinite_values_match_torch(name, dt, seed):
    x, w, b = _norm_inputs(seed, dt)
    (_, t), (_, lv) = _both(_NORMS[name], x, w, b, dtype=dt)
    _same_nonfinite(_np(t), _np(lv), rtol=1e-5)


# -- interpolation: an unchanged axis is still two taps ----------------------------------------
@pytest.mark.parametrize("mode,shape,kw", [
    ("linear", (1, 1, 3), {"size": (3,)}),
    ("linear", (1, 1, 3), {"scale_factor": 1.2}),
    ("bilinear", (1, 1, 1, 3), {"scale_factor": (1.2, 1.0)}),
    ("bilinear", (1, 1, 2, 3), {"size": (2, 5)}),
    ("bilinear", (1, 1, 2, 3), {"size": (2, 3), "align_corners": True}),
    ("trilinear", (1, 1, 1, 2, 3), {"scale_factor": (1.5, 0.8, 1.2)}),
    ("trilinear", (1, 1, 1, 1, 3), {"size": (1, 1, 3)}),
    ("bicubic", (1, 1, 1, 3), {"size": (1, 3)}),
])
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_interpolate_with_nonfinite_values_matches_torch(mode, shape, kw, dt):
    x = np.resize(np.array([0.5, INF, 2.0, -INF, 1.0, NAN]), np.prod(shape)).reshape(shape)
    (_, t), (_, lv) = _both(lambda m, a: m.nn.functional.interpolate(a, mode=mode, **kw), x,
                            dtype=dt)
    _same_nonfinite(_np(t), _np(lv))


# -- fused multiply-add (float64) at inf: gelu's tanh form and its gradient --------------------
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_gelu_tanh_at_infinities_matches_torch(dt):
    x = np.array([1.5, INF, -INF, NAN, -0.0, 40.0, -40.0])
    res = []
    for m in LIBS:
        a = m.tensor(x.astype(dt), requires_grad=True)
        y = m.nn.functional.gelu(a, approximate="tanh")
        y.backward(m.ones_like(y))
        res.append((_np(y), _np(a.grad)))
    for t, lv in zip(*res):
        _same_nonfinite(t, lv)


# -- polygamma at its poles (-0.0 included) ----------------------------------------------------
@pytest.mark.parametrize("n", [2, 3, 4, 5])  # trigamma (n=1) is not a zeta: no pole rule
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_polygamma_at_poles_matches_torch(n, dt):
    x = np.array([-0.0, 0.0, -1.0, -2.0, -3.0, INF, -INF, NAN, -0.5, 1e-20, -1e-20])
    (_, t), (_, lv) = _both(lambda m, a: m.polygamma(n, a), x.astype(dt), dtype=dt)
    _same_nonfinite(_np(t), _np(lv), rtol=1e-5)


# -- losses: an ignored sample is never read ---------------------------------------------------
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_cross_entropy_ignored_rows_with_nonfinite_values_match_torch(reduction, smoothing,
                                                                      weighted, dt):
    x = np.array([[INF, 0.0, NAN, -1.5, 2.0], [-INF, 2.0, 0.0, 2.0, 1.0],
                  [-1.0, -0.25, -0.25, 1.0, -0.5], [0.5, -1.5, -0.25, 0.5, 2.0]])
    target = np.array([0, 4, 2, 1])
    w = np.array([1.0, 2.0, 0.5, 1.5, 3.0])
    res = []
    for m in LIBS:
        a = m.tensor(x.astype(dt), requires_grad=True)
        kw = {"weight": m.tensor(w.astype(dt))} if weighted else {}
        y = m.nn.functional.cross_entropy(a, m.tensor(target), ignore_index=0,
                                          label_smoothing=smoothing, reduction=reduction, **kw)
        nll = m.nn.functional.nll_loss(a, m.tensor(target), ignore_index=0,
                                       reduction=reduction, **kw)
        res.append((_np(y), _np(nll)))
    for t, lv in zip(*res):
        _same_nonfinite(t, lv, rtol=1e-5)


# -- the fuzzer's lock step keeps 0-d variables in step ----------------------------------------
def test_fuzzer_resynchronises_zero_d_tensors():
    from fuzz.compare import observe
    from fuzz.runner import _patch_obj

    t = torch.tensor(1.9973711967468262)
    lv = leafgrad.tensor(1.9973713159561157)
    _patch_obj(t, observe(t, torch), observe(lv, leafgrad))
    assert t.shape == () and t.item() == lv.item()


# -- result layouts: code that reads memory order sees PyTorch's order --------------------------
def _strides(t):
    return tuple(s for s, n in zip(t.stride(), t.shape) if n > 1)


def _source(m, base, kind):
    t = m.tensor(base)
    if kind == "t":
        return t.transpose(0, -1)
    if kind == "perm":
        return t.permute(1, 2, 0)
    if kind == "expand":
        return m.tensor(base[:1]).expand(*base.shape)
    if kind == "step":
        return m.tensor(np.repeat(base, 2, axis=-1))[..., ::2]
    return t


@pytest.mark.parametrize("kind", ["c", "t", "perm", "expand", "step"])
@pytest.mark.parametrize("index", [
    ([0, 1],), (slice(None), [1, 0]), (Ellipsis, [0, 1]), ([0, 1], [1, 0]),
    ([0, 1], slice(None), [1, 0]), (slice(None), [[0], [1]], [0, 1]), ("mask",),
    (slice(None), "mask"), (0, [1, 0]), ([[0, 1]], slice(None), 0), (None, [1, 0]),
    ([0],), ([1, 1], slice(None), slice(None)),
])
def test_advanced_index_result_layout_matches_torch(kind, index):
    base = np.arange(24.0).reshape(2, 3, 4)
    seen = []
    for m in LIBS:
        x = _source(m, base, kind)
        idx = tuple(m.tensor(np.arange(x.shape[k]) % 2 == 0) if i == "mask" else
                    m.tensor(i) if isinstance(i, list) else i for k, i in enumerate(index))
        y = x[idx]
        seen.append((tuple(y.shape), _strides(y), _np(y).tolist(),
                     y.reshape(-1).tolist() if y.is_contiguous() else None))
    assert seen[0] == seen[1]


def test_as_strided_and_rand_like_on_an_index_result_read_torch_order():
    out = []
    for m in LIBS:
        x = m.tensor([[[-3.0], [0.0], [0.25], [0.5]]]).expand((4, 4, 1))[None]
        y = x[m.tensor([0])]
        m.manual_seed(3)
        out.append((_np(y.as_strided((15,), (1,), 1)).tolist(), _np(m.rand_like(y)).tolist()))
    assert out[0] == out[1]


_LAYOUT_OPS = {
    "inv": lambda m, a, b: m.linalg.inv(a),
    "solve": lambda m, a, b: m.linalg.solve(a, b),
    "solve_right": lambda m, a, b: m.linalg.solve(a, b.mT, left=False),
    "solve_vec": lambda m, a, b: m.linalg.solve(a, b[..., 0]),
    "solve_triangular": lambda m, a, b: m.linalg.solve_triangular(a.triu(), b, upper=True),
    "solve_triangular_right": lambda m, a, b: m.linalg.solve_triangular(
        a.triu(), b.mT, upper=True, left=False),
    "cholesky": lambda m, a, b: m.linalg.cholesky(a @ a.mT),
    "cholesky_upper": lambda m, a, b: m.linalg.cholesky(a @ a.mT, upper=True),
    "cholesky_solve": lambda m, a, b: m.cholesky_solve(b, m.linalg.cholesky(a @ a.mT)),
    "lstsq": lambda m, a, b: m.linalg.lstsq(m.cat([a, a], -2), m.cat([b, b], -2)).solution,
    "gather": lambda m, a, b: m.gather(a.mT, -1, m.zeros(a.shape, dtype=m.int64).mT),
    "index_select": lambda m, a, b: a.mT.index_select(-1, m.tensor([0, 2])),
    "rot90": lambda m, a, b: m.rot90(a, 1, (-2, -1)),
    "rot90_t": lambda m, a, b: m.rot90(a.mT, 3, (-1, -2)),
    "rot90_2": lambda m, a, b: m.rot90(a.mT, 2, (-2, -1)),
}


@pytest.mark.parametrize("name", list(_LAYOUT_OPS))
@pytest.mark.parametrize("batch", [(), (2,)])
def test_result_layouts_match_torch(name, batch):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(batch + (3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal(batch + (3, 2))
    seen = []
    for m in LIBS:
        y = _LAYOUT_OPS[name](m, m.tensor(a), m.tensor(b))
        m.manual_seed(5)
        seen.append((_strides(y), _np(m.rand_like(y))))
    assert seen[0][0] == seen[1][0]
    np.testing.assert_array_equal(seen[0][1], seen[1][1])


@pytest.mark.parametrize("which", range(7))
def test_like_factories_keep_torch_layout(which):
    seen = []
    for m in LIBS:
        base = m.arange(48.0).reshape(4, 3, 4)
        x = (base[:, :2], base.transpose(0, 2)[:, ::2], base[::2, :, 1:3].permute(2, 0, 1),
             base[:1].expand(3, 3, 4), base[:, :1].expand(4, 2, 4).transpose(0, 1),
             m.zeros(3, 1).expand(3, 4), m.zeros(1, 3).expand(4, 3).t())[which]
        m.manual_seed(1)
        seen.append((_np(m.rand_like(x)).tolist(), _np(m.randn_like(x)).tolist(),
                     _strides(m.empty_like(x)), _strides(m.zeros_like(x))))
    assert seen[0] == seen[1]


def test_layer_norm_nonfinite_weight_and_single_element_rows_match_torch():
    """float64 layer norm with inf/NaN in x, the weight or the gradient (seed 4013743: an
    infinite weight; rows of one element, whose x̂ is PyTorch's fma residual, not 0): where
    every NaN and inf lands in the output and the three gradients is torch's."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 5)))
        x, g = rng.standard_normal(shape), rng.standard_normal(shape)
        w, b = rng.standard_normal(shape[-1:]), rng.standard_normal(shape[-1:])
        for arr in (x, w, g):
            if rng.random() < 0.4:
                arr.flat[rng.integers(arr.size)] = rng.choice([np.inf, -np.inf, np.nan])
        outs = []
        for lib in (torch, leafgrad):
            ts = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
            y = lib.nn.functional.layer_norm(ts[0], shape[-1:], ts[1], ts[2])
            y.backward(lib.tensor(g))
            outs.append([t.detach().numpy() for t in (y, *(t.grad for t in ts))])
        for t, lv in zip(*outs):
            np.testing.assert_array_equal(np.isnan(lv), np.isnan(t))
            inf_l, inf_t = np.where(np.isinf(lv), lv, 0), np.where(np.isinf(t), t, 0)
            np.testing.assert_array_equal(inf_l, inf_t)


@pytest.mark.parametrize("dt", ["float32", "float64", "float16"])
def test_trigamma_at_poles_in_the_kernel_precision_matches_torch(dt):
    """trigamma (polygamma(1, x)) at its poles is PyTorch's calc_trigamma in the kernel's own
    precision (seed 4001361: float32 trigamma(-1) is 1.29e15, pi's float32 residual)."""
    x = np.array([-1.0, -2.0, -3.0, -0.0, 0.0, -7.0, 0.5, -0.5, INF, -INF, NAN])
    (_, t), (_, lv) = _both(lambda m, a: m.polygamma(1, a), x.astype(dt), dtype=dt)
    _same_nonfinite(_np(t), _np(lv), rtol=1e-6)
