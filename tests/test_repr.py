"""Tensor printing: leafgrad's repr must equal PyTorch's byte for byte."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from leafgrad import _tensor_str as ts
from leafgrad import backend, dtypes


class _Node:
    """A stand-in autograd node: all the printer reads from a grad_fn is its name."""

    def __init__(self, name: str):
        self._name = name

    def name(self) -> str:
        return self._name


class _Stand:
    """A stand-in tensor with just the attributes ``tensor_repr`` reads."""

    def __init__(self, arr, requires_grad=False, grad_fn=None, device=backend.CPU):
        self._data = np.asarray(arr)
        self.dtype = dtypes.from_np(self._data.dtype)
        self.requires_grad = requires_grad or grad_fn is not None
        self.grad_fn = grad_fn
        self.is_leaf = grad_fn is None
        self.device = backend.as_device(device)


def _set_options(**opts):
    torch.set_printoptions(**opts)
    ts.set_printoptions(**opts)


@pytest.fixture(autouse=True)
def _restore_print_state():
    """Every test leaves print options and the default dtype as it found them."""
    yield
    torch.set_printoptions(profile="default")
    ts.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    dtypes.set_default_dtype(dtypes.float32)


def _expect_same(arr, requires_grad=False):
    arr = np.asarray(arr)
    expected = torch.from_numpy(arr.copy()).requires_grad_(requires_grad)
    got = ts.tensor_repr(_Stand(arr, requires_grad=requires_grad))
    assert got == repr(expected), f"\nleafgrad:\n{got}\ntorch:\n{expected!r}"


_rng = np.random.default_rng(1234)
_f32, _f64, _f16 = np.float32, np.float64, np.float16

CASES = {
    # 0-d
    "0d-float-whole": np.array(3.0, _f32),
    "0d-float": np.array(-2.71828, _f32),
    "0d-neg-zero": np.array(-0.0, _f32),
    "0d-nan": np.array(np.nan, _f32),
    "0d-tiny-f64": np.array(1e-10, _f64),
    "0d-int": np.array(7, np.int64),
    "0d-bool": np.array(True),
    "0d-half": np.array(2.5, _f16),
    "0d-uint8": np.array(200, np.uint8),
    # 1-d floats
    "whole": np.array([1.0, 2.0, 3.0], _f32),
    "mixed-signs": np.array([-1.5, 2.25, 0.0, 3.125], _f32),
    "tiny": np.array([1e-5, 1.0, 0.5], _f32),
    "huge": np.array([1e9, 1.0, -3.0], _f32),
    "ratio-over-1000": np.array([1.0, 1001.0], _f32),
    "ratio-1000": np.array([1.0, 1000.0], _f32),
    "exactly-1e8": np.array([1e8, 1e7], _f64),
    "huge-whole-f64": np.array([1e20, -3.0, 7.0], _f64),
    "nonfinite": np.array([np.nan, np.inf, -np.inf], _f32),
    "nan-and-fraction": np.array([np.nan, 1.5, -np.inf, 2.0], _f32),
    "nan-and-whole": np.array([np.nan, 100.0, -0.0], _f32),
    "signed-zeros": np.array([-0.0, 0.0], _f32),
    "neg-zero-sci": np.array([-0.0, 1e-7, 3.0], _f64),
    "zeros": np.zeros(4, _f32),
    "round-up-width": np.array([9.99995, 0.5, -99.99999], _f64),
    "half": np.array([65504.0, 0.001, -2.5, np.inf], _f16),
    "half-whole": np.array([1.0, -2048.0], _f16),
    "f64-extremes": np.array([1e300, 1e-300, -5e-324], _f64),
    "f32-rand": _rng.standard_normal(7).astype(_f32),
    "f64-rand-scaled": _rng.standard_normal(6) * 1e-3,
    # 1-d integers and bools
    "int8": np.array([-128, 0, 127], np.int8),
    "uint8": np.arange(0, 256, 17, dtype=np.uint8),
    "int16": np.array([-32768, 5], np.int16),
    "int32": np.array([2**31 - 1, -1, 0], np.int32),
    "int64": np.array([-(2**62), 3, 12345678901], np.int64),
    "bool": np.array([True, False, True]),
    "bool-all-true": np.array([True, True]),
    # around the summarisation threshold, and rows longer than a line
    "999": np.arange(999, dtype=_f32),
    "1000": np.arange(1000, dtype=np.int64),
    "1001": np.arange(1001, dtype=_f32) / 7,
    "long-row": np.arange(30, dtype=_f32) * 1.5,
    "long-row-rand": _rng.standard_normal(100).astype(_f32),
    # 2-d
    "2d": _rng.standard_normal((3, 4)).astype(_f32),
    "2d-int": np.arange(-3, 3, dtype=np.int64).reshape(2, 3),
    "2d-summarised": _rng.standard_normal((40, 40)),
    "2d-wide-summarised": np.arange(1200, dtype=_f32).reshape(3, 400),
    "2d-wide": np.arange(60, dtype=_f32).reshape(2, 30) * 1e-6,
    "2d-bool": np.eye(3, dtype=bool),
    # 3-d and 4-d
    "3d": _rng.standard_normal((2, 3, 4)).astype(_f32),
    "3d-int32": np.arange(24, dtype=np.int32).reshape(2, 3, 4),
    "3d-summarised": _rng.standard_normal((20, 20, 5)).astype(_f32),
    "4d": _rng.standard_normal((2, 2, 2, 3)).astype(_f16),
    "4d-summarised": np.arange(6**4, dtype=_f64).reshape(6, 6, 6, 6),
    # empty
    "empty-1d": np.zeros(0, _f32),
    "empty-0x3": np.zeros((0, 3), _f32),
    "empty-2x0x4": np.zeros((2, 0, 4), _f32),
    "empty-int64": np.zeros(0, np.int64),
    "empty-bool": np.zeros((0, 2), bool),
    "empty-f64": np.zeros((0, 3), _f64),
}

OPTIONS = {
    "default": {},
    "precision-2": {"precision": 2},
    "precision-6": {"precision": 6},
    "precision-10": {"precision": 10},
    "sci-on": {"sci_mode": True},
    "sci-off": {"sci_mode": False},
    "linewidth-40": {"linewidth": 40},
    "edgeitems-1": {"edgeitems": 1},
    "threshold-5": {"threshold": 5},
    "threshold-5-edge-1": {"threshold": 5, "edgeitems": 1},
    "edgeitems-0": {"threshold": 5, "edgeitems": 0},
    "full": {"profile": "full"},
    "short": {"profile": "short"},
    "short-sci-linewidth": {"profile": "short", "sci_mode": True, "linewidth": 50},
}


@pytest.mark.parametrize("opts", OPTIONS.values(), ids=OPTIONS.keys())
@pytest.mark.parametrize("arr", CASES.values(), ids=CASES.keys())
def test_repr_matches_torch(arr, opts):
    _set_options(**opts)
    _expect_same(arr)


# hypothesis: random shapes, dtypes, values (special floats included) and options
_SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-5, 1e9, 123456.0, math.nan, math.inf, -math.inf]


@st.composite
def _arrays(draw):
    np_dtype = draw(st.sampled_from([_f32, _f64, _f16, np.int64, np.int8, np.uint8, np.bool_]))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6))
    if np_dtype in (_f32, _f64, _f16):
        width = {_f16: 16, _f32: 32, _f64: 64}[np_dtype]
        elements = st.one_of(
            st.floats(width=width),
            # float16 tops out at 65504: leave out specials it would turn into inf
            st.sampled_from([v for v in _SPECIAL if not abs(v) > float(np.finfo(np_dtype).max)]),
            st.integers(-1000, 1000).map(float),
            st.integers(-9999, 9999).map(lambda i: i / 100),
        )
        return draw(hnp.arrays(np_dtype, shape, elements=elements))
    return draw(hnp.arrays(np_dtype, shape))


@settings(max_examples=100, deadline=None)
@given(arr=_arrays(), opts=st.sampled_from(list(OPTIONS.values())))
def test_repr_matches_torch_random(arr, opts):
    try:
        _set_options(**opts)
        _expect_same(arr)
    finally:  # hypothesis reruns the body without re-entering the fixture
        _set_options(profile="default")


# suffixes
def test_requires_grad_leaf():
    _expect_same(np.array([1.0, 2.5], _f32), requires_grad=True)
    _expect_same(np.array(3.0, _f32), requires_grad=True)


def test_requires_grad_with_dtype():
    _expect_same(np.array([1.0, 2.0], _f64), requires_grad=True)
    _expect_same(np.zeros((0, 2), _f64), requires_grad=True)


def test_grad_fn_suffix():
    x = torch.tensor([1.5, -2.0, 3.0], requires_grad=True)
    y = x.pow(2)
    got = ts.tensor_repr(_Stand(y.detach().numpy(), grad_fn=_Node("PowBackward0")))
    assert got == repr(y)
    x64 = torch.tensor([[1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    y64 = x64.pow(2)
    got = ts.tensor_repr(_Stand(y64.detach().numpy(), grad_fn=_Node("PowBackward0")))
    assert got == repr(y64)


def test_grad_fn_name_is_unqualified():
    t = _Stand(np.array([1.0], _f32), grad_fn=_Node("torch::autograd::AccumulateGrad"))
    assert ts.tensor_repr(t) == "tensor([1.], grad_fn=<AccumulateGrad>)"


@pytest.mark.parametrize("n", range(1, 40))
@pytest.mark.parametrize("linewidth", [40, 80])
def test_suffixes_wrap_like_torch(n, linewidth):
    # every position of the last line's end against the linewidth, for two suffixes at once
    _set_options(linewidth=linewidth)
    _expect_same(np.arange(n, dtype=_f64) * 1.25, requires_grad=True)
    _expect_same(np.arange(n, dtype=np.int16).reshape(1, n) * 300, requires_grad=False)


def test_size_suffix_with_no_edgeitems():
    _set_options(edgeitems=0)
    _expect_same(np.arange(6, dtype=_f32).reshape(2, 3))


@pytest.mark.parametrize("np_dtype", [_f16, _f32, _f64, np.int64, np.int32, np.bool_])
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3,), (2, 2), ()])
def test_default_dtype_float64(np_dtype, shape):
    torch.set_default_dtype(torch.float64)
    dtypes.set_default_dtype(dtypes.float64)
    _expect_same(np.ones(shape, np_dtype))


def test_device_suffix():
    t = _Stand(np.array([1.0, 2.0], _f32), device="cuda:0")
    assert ts.tensor_repr(t) == "tensor([1., 2.], device='cuda:0')"
    t = _Stand(np.array([1, 2], np.int32), requires_grad=True, device="cuda")
    assert ts.tensor_repr(t) == (
        "tensor([1, 2], device='cuda:0', dtype=torch.int32, requires_grad=True)"
    )
    t = _Stand(np.zeros((0, 2), _f32), device="cuda:1")
    assert ts.tensor_repr(t) == "tensor([], device='cuda:1', size=(0, 2))"


# print options API
def test_printoptions_api_matches_torch():
    calls = [
        {"precision": 2},
        {"profile": "full"},
        {"profile": "short", "linewidth": 60},
        {"sci_mode": True, "edgeitems": 5},
        {"threshold": 10},  # resets sci_mode, as in torch
        {"profile": "no-such-profile"},
        {"profile": "default"},
    ]
    for kwargs in calls:
        _set_options(**kwargs)
        assert ts.get_printoptions() == torch._tensor_str.get_printoptions()


def test_printoptions_context_restores():
    ts.set_printoptions(precision=3, sci_mode=False)
    before = ts.get_printoptions()
    with ts.printoptions(precision=7, threshold=2, edgeitems=1, sci_mode=True):
        assert ts.get_printoptions()["precision"] == 7
        assert ts.tensor_repr(_Stand(np.array([1.0, 2.0, 3.0], _f32))) == (
            "tensor([1.0000000e+00,  ..., 3.0000000e+00])"
        )
    assert ts.get_printoptions() == before
    with pytest.raises(ZeroDivisionError), ts.printoptions(linewidth=20):
        1 / 0  # noqa: B018
    assert ts.get_printoptions() == before


# a million elements, summarised: the same text as torch (timings belong in benchmarks/)
def test_large_tensors_summarise_like_torch():
    arr = np.random.default_rng(0).standard_normal((1000, 1000))
    assert ts.tensor_repr(_Stand(arr)) == repr(torch.from_numpy(arr.copy()))


# through the real Tensor, once leafgrad exposes one
def _leafgrad():
    import leafgrad

    return leafgrad


@pytest.mark.parametrize("arr", CASES.values(), ids=CASES.keys())
def test_real_tensor_repr(arr):
    lg = _leafgrad()
    t = lg.from_numpy(arr.copy())
    expected = repr(torch.from_numpy(arr.copy()))
    assert repr(t) == expected
    assert str(t) == expected


def test_real_tensor_autograd_suffixes():
    lg = _leafgrad()
    x = lg.tensor([1.5, -2.0, 3.0], requires_grad=True)
    tx = torch.tensor([1.5, -2.0, 3.0], requires_grad=True)
    assert repr(x) == repr(tx)
    assert repr(x.pow(2)) == repr(tx.pow(2))
    assert repr((x * x).sum()) == repr((tx * tx).sum())
    assert repr(lg.tensor([1, 2])) == repr(torch.tensor([1, 2]))
    assert repr(lg.tensor(2.0, dtype=lg.float64)) == repr(torch.tensor(2.0, dtype=torch.float64))


def test_real_tensor_default_dtype_float64():
    lg = _leafgrad()
    torch.set_default_dtype(torch.float64)
    lg.set_default_dtype(lg.float64)
    assert repr(lg.tensor([1.5, 2.0])) == repr(torch.tensor([1.5, 2.0]))
    f32 = repr(torch.tensor([1.5], dtype=torch.float32))
    assert repr(lg.tensor([1.5], dtype=lg.float32)) == f32


def test_real_printoptions_are_reexported():
    lg = _leafgrad()
    assert lg.set_printoptions is ts.set_printoptions
    assert lg.get_printoptions is ts.get_printoptions
    assert lg.printoptions is ts.printoptions
