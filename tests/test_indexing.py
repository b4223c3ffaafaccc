"""__getitem__ / __setitem__ against torch: random index expressions (hypothesis), values and
gradients (repeated indices accumulate), and differentiable setitem on non-leaf tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import leafgrad


@st.composite
def index_exprs(draw, unique: bool = False):
    """A shape and an index expression mixing ints, slices, None, ..., lists, tensors, masks."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    parts, dim, used_ellipsis = [], 0, False
    n_parts = draw(st.integers(1, len(shape) + 1))
    for _ in range(n_parts):
        kinds = ["int", "slice", "none", "list", "tensor", "mask"]
        if not used_ellipsis:
            kinds.append("ellipsis")
        kind = draw(st.sampled_from(kinds))
        if kind in ("none",):
            parts.append(("none", None))
            continue
        if kind == "ellipsis":
            used_ellipsis = True
            parts.append(("ellipsis", None))
            dim = len(shape)  # keep the remaining parts addressing trailing dims is complex
            continue
        if dim >= len(shape):
            break
        n = shape[dim]
        if kind == "int":
            parts.append(("int", draw(st.integers(-n, n - 1))))
        elif kind == "slice":
            a = draw(st.none() | st.integers(-n - 1, n + 1))
            b = draw(st.none() | st.integers(-n - 1, n + 1))
            c = draw(st.none() | st.integers(1, 3))
            parts.append(("slice", (a, b, c)))
        elif kind in ("list", "tensor"):
            if unique:
                vals = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
            else:
                vals = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))
            parts.append((kind, vals))
        else:
            parts.append(("mask", draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        dim += 1
    # advanced parts in one expression must broadcast: keep list/tensor lengths equal
    lens = {len(v) for k, v in parts if k in ("list", "tensor")}
    if len(lens) > 1:
        m = min(lens)
        parts = [(k, v[:m]) if k in ("list", "tensor") else (k, v) for k, v in parts]
    return shape, parts


def _build(lib, parts):
    out = []
    for kind, v in parts:
        if kind == "int":
            out.append(v)
        elif kind == "slice":
            out.append(slice(*v))
        elif kind == "none":
            out.append(None)
        elif kind == "ellipsis":
            out.append(Ellipsis)
        elif kind == "list":
            out.append(list(v))
        elif kind == "tensor":
            out.append(lib.tensor(v, dtype=lib.int64))
        else:
            out.append(lib.tensor(v, dtype=lib.bool))
    return tuple(out)


def _same_error_or_result(fn_t, fn_l):
    try:
        t = fn_t()
    except Exception as e:  # torch rejects it: leafgrad must too, with the same type
        with pytest.raises(type(e)):
            fn_l()
        return None, None
    return t, fn_l()


@settings(max_examples=150, deadline=None)
@given(expr=index_exprs(), seed=st.integers(0, 2**16))
def test_getitem_values_and_gradients_match_torch(expr, seed):
    shape, parts = expr
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    xt = torch.tensor(a, requires_grad=True)
    xl = leafgrad.tensor(a, requires_grad=True)
    t, lo = _same_error_or_result(lambda: xt[_build(torch, parts)],
                                  lambda: xl[_build(leafgrad, parts)])
    if t is None:
        return
    assert tuple(lo.shape) == tuple(t.shape)
    np.testing.assert_allclose(lo.detach().numpy(), t.detach().numpy())
    g = rng.standard_normal(tuple(t.shape))
    t.backward(torch.tensor(g))
    lo.backward(leafgrad.tensor(g))
    np.testing.assert_allclose(xl.grad.numpy(), xt.grad.numpy(), atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(expr=index_exprs(unique=True), seed=st.integers(0, 2**16), scalar=st.booleans(),
       drop=st.integers(0, 2))
def test_setitem_on_non_leaf_matches_torch(expr, seed, scalar, drop):
    """``y = x * 2; y[idx] = v``: values, node name, and gradients of x and v (broadcast v)."""
    shape, parts = expr
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    xt = torch.tensor(a, requires_grad=True)
    try:
        region = tuple(xt.detach()[_build(torch, parts)].shape)
    except Exception:
        return  # invalid index: covered by the getitem test
    vshape = () if scalar else region[min(drop, len(region)):]
    v = rng.standard_normal(vshape)
    vt = torch.tensor(v, requires_grad=True)
    vl = leafgrad.tensor(v, requires_grad=True)
    xl = leafgrad.tensor(a, requires_grad=True)
    yt = xt * 2
    yt[_build(torch, parts)] = vt
    yl = xl * 2
    yl[_build(leafgrad, parts)] = vl
    np.testing.assert_allclose(yl.detach().numpy(), yt.detach().numpy())
    tname = type(yt.grad_fn).__name__
    # NOTE: a write covering the whole tensor is torch's fill_/copy_ on self (FillBackward3,
    # CopyBackwards); leafgrad records those as CopySlices too (values and gradients agree)
    if tname in ("CopySlices", "IndexPutBackward0"):
        assert type(yl.grad_fn).__name__ == tname
    g = rng.standard_normal(shape)
    yt.backward(torch.tensor(g))
    yl.backward(leafgrad.tensor(g))
    np.testing.assert_allclose(xl.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(vl.grad.numpy(), vt.grad.numpy(), atol=1e-12)


def test_repeated_indices_accumulate_gradients():
    for lib in (torch, leafgrad):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x[[0, 0, 2, 0]].sum().backward()
        assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_setitem_scalar_into_non_leaf_zeroes_gradient():
    res = []
    for lib in (torch, leafgrad):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y[0] = 0
        y.sum().backward()
        res.append((x.grad.tolist(), type(y.grad_fn).__name__))
    assert res[0] == res[1] == ([0.0, 2.0, 2.0], "CopySlices")


def test_negative_step_raises_like_torch():
    for lib in (torch, leafgrad):
        with pytest.raises(ValueError, match="step must be greater than zero"):
            lib.arange(4)[::-1]
        with pytest.raises(ValueError, match="step must be greater than zero"):
            lib.zeros(4)[::-2] = 1


def test_setitem_on_leaf_requiring_grad_raises():
    for lib in (torch, leafgrad):
        x = lib.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable"):
            x[0] = 1.0


def test_setitem_bumps_version_and_guards_saved_tensors():
    errs = []
    for lib in (torch, leafgrad):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y * y  # saves y
        y[[0]] = 5.0
        with pytest.raises(RuntimeError) as e:
            z.sum().backward()
        errs.append("modified by an inplace operation" in str(e.value))
    assert errs == [True, True]


@pytest.mark.parametrize("region,value_shape", [
    ((slice(1, 4, 2),), (1, 1)),        # an empty region: the value's leading 1s dropped
    ((0,), (1, 1, 3)),                  # more dims than the region: leading 1s dropped
    ((slice(None), slice(0, 2)), (1, 1, 2)),
])
def test_setitem_value_gradient_keeps_the_value_shape(region, value_shape):
    # PyTorch's copy_to drops a value's leading size-1 dims beyond the region's; the value's
    # gradient comes back in the value's own shape
    def run(lib):
        x = lib.ones(1, 3, dtype=lib.float64) * 1
        v = lib.full(value_shape, 0.5, dtype=lib.float64, requires_grad=True)
        x[region] = v
        (x * lib.arange(3.0, dtype=lib.float64)).sum().backward()
        return x.detach().cpu().tolist(), v.grad.cpu().tolist()

    assert run(leafgrad) == run(torch)
