"""Tensor factories side by side with PyTorch: values, dtypes, shapes, memory sharing, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import leafgrad

FAST = settings(max_examples=50, deadline=None)
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
NP_OF = {name: np.dtype(name) for name in DTYPES}


@pytest.fixture(autouse=True)
def _restore_defaults():
    """Tests that change the default dtype leave it as they found it (also without conftest)."""
    yield
    leafgrad.set_default_dtype(leafgrad.float32)
    torch.set_default_dtype(torch.float32)


def _run(case, mod):
    """Run a case on one library: its value, or the exception type it raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return case(mod)
        except Exception as e:  # noqa: BLE001 - the exception type is what gets compared
            return e


def assert_same(got, want):
    """A leafgrad result equals torch's: dtype by name, shape, exact values, requires_grad."""
    if isinstance(want, Exception) or isinstance(got, Exception):
        assert type(got) is type(want), f"leafgrad: {got!r}\ntorch: {want!r}"
        return
    if isinstance(want, torch.Tensor):
        assert isinstance(got, leafgrad.Tensor), f"leafgrad returned {type(got).__name__}"
        assert str(got.dtype) == str(want.dtype)
        assert tuple(got.shape) == tuple(want.shape)
        assert got.requires_grad == want.requires_grad
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    elif isinstance(want, torch.dtype):
        assert str(got) == str(want)
    else:
        assert got == want


def check(case):
    """Run ``case(module)`` on torch and on leafgrad and compare the outcomes."""
    assert_same(_run(case, leafgrad), _run(case, torch))


def case_id(c) -> str:
    return c[0]


# -- tensor() --------------------------------------------------------------------------------------
TENSOR_CASES = [
    ("bool", lambda m: m.tensor(True)),
    ("int", lambda m: m.tensor(3)),
    ("float", lambda m: m.tensor(2.5)),
    ("neg_zero", lambda m: m.tensor(-0.0)),
    ("inf_nan", lambda m: m.tensor([math.inf, -math.inf, math.nan])),
    ("huge_float_to_inf", lambda m: m.tensor(1e400)),
    ("float32_rounding", lambda m: m.tensor([0.1, 1 / 3, 1e-40, 3.4e38])),
    ("list_int", lambda m: m.tensor([1, 2, 3])),
    ("list_bool", lambda m: m.tensor([True, False])),
    ("bool_int", lambda m: m.tensor([True, 1])),
    ("int_float", lambda m: m.tensor([1, 2.5])),
    ("bool_float", lambda m: m.tensor([True, 2.5])),
    ("nested", lambda m: m.tensor([[1, 2], [3, 4], [5, 6]])),
    ("nested_tuple", lambda m: m.tensor(((1.5, 2), (3, 4)))),
    ("list_of_tuples", lambda m: m.tensor([[1, 2], (3, 4)])),
    ("range", lambda m: m.tensor(range(4))),
    ("list_of_ranges", lambda m: m.tensor([range(2), range(2)])),
    ("deep", lambda m: m.tensor([[[[1.0]]]])),
    ("empty", lambda m: m.tensor([])),
    ("empty_2d", lambda m: m.tensor([[]])),
    ("empty_rows", lambda m: m.tensor([[], [], []])),
    ("empty_int", lambda m: m.tensor([], dtype=m.int64)),
    ("int64_min", lambda m: m.tensor(-(2**63))),
    ("int64_max", lambda m: m.tensor([2**63 - 1, 0])),
    ("big_int_exact", lambda m: m.tensor([2**60 + 1, 3])),
    ("ragged", lambda m: m.tensor([[1], [1, 2]])),
    ("ragged_empty", lambda m: m.tensor([[1], []])),
    ("ragged_deep", lambda m: m.tensor([[[1]], [[1, 2]]])),
    ("ragged_scalar_row", lambda m: m.tensor([[1, 2], 3])),
    ("ragged_list_in_numbers", lambda m: m.tensor([1, [2]])),
    ("overflow_int", lambda m: m.tensor(2**63)),
    ("overflow_int_list", lambda m: m.tensor([1, 2**64])),
    ("overflow_negative", lambda m: m.tensor([-(2**63) - 1])),
    ("none", lambda m: m.tensor(None)),
    ("none_in_list", lambda m: m.tensor([1, None])),
    ("str", lambda m: m.tensor("ab")),
    ("str_in_list", lambda m: m.tensor([1, "a"])),
    ("dict", lambda m: m.tensor({1: 2})),
    ("object", lambda m: m.tensor(object())),
    # numpy scalars keep their dtype, alone or in a list, and promote with their neighbours
    ("np_float64", lambda m: m.tensor(np.float64(1.5))),
    ("np_float32", lambda m: m.tensor(np.float32(1.5))),
    ("np_int32", lambda m: m.tensor(np.int32(3))),
    ("np_bool", lambda m: m.tensor(np.bool_(True))),
    ("np_float64_in_list", lambda m: m.tensor([np.float64(1.5)])),
    ("np_int32_in_list", lambda m: m.tensor([np.int32(1), 2])),
    ("np_int32_bool", lambda m: m.tensor([np.int32(1), True])),
    ("np_float16_float", lambda m: m.tensor([np.float16(1), 2.5])),
    ("np_float16_int", lambda m: m.tensor([np.float16(1), 2])),
    ("np_uint8_int8", lambda m: m.tensor([np.uint8(1), np.int8(-1)])),
    ("np_0d_array", lambda m: m.tensor(np.array(3.0))),
    ("np_arrays_in_list", lambda m: m.tensor([np.array([1, 2], dtype=np.int32)] * 2)),
    ("np_strided", lambda m: m.tensor(np.arange(6.0)[::2])),
    ("np_transposed", lambda m: m.tensor(np.arange(6.0).reshape(2, 3).T)),
    ("np_empty", lambda m: m.tensor(np.zeros((2, 0)))),
    ("np_object", lambda m: m.tensor(np.array([1], dtype=object))),
    ("np_str", lambda m: m.tensor(np.array(["a"]))),
    # 0-d tensors inside lists behave like numbers with their dtype
    ("tensors", lambda m: m.tensor([m.tensor(1.0), m.tensor(2.0)])),
    ("tensors_promote", lambda m: m.tensor([m.tensor(1), m.tensor(2.5)])),
    ("tensor_float64_int", lambda m: m.tensor([m.tensor(1, dtype=m.float64), 2])),
    ("tensor_one_element_1d", lambda m: m.tensor([m.tensor([[1.0]]), m.tensor([2.0])])),
    ("tensors_nested", lambda m: m.tensor([[m.tensor(1.0)], [m.tensor(2)]])),
    ("tensor_many_elements", lambda m: m.tensor([m.tensor([1.0, 2.0])])),
    ("tensor_requires_grad_in_list", lambda m: m.tensor([m.tensor(1.0, requires_grad=True)])),
    ("tensor_copy", lambda m: m.tensor(m.tensor([1.0, 2.0], requires_grad=True))),
    # dtype= casts; out-of-range Python numbers are refused, except small negative unsigned wrap
    ("dtype_float64", lambda m: m.tensor([1, 2], dtype=m.float64)),
    ("dtype_float16", lambda m: m.tensor([0.1, 70000.0, 1 + 2**-11 + 2**-40], dtype=m.float16)),
    ("dtype_int_truncates", lambda m: m.tensor([1.7, -1.7, 2.5], dtype=m.int32)),
    ("dtype_bool", lambda m: m.tensor([0, 2, 0.5], dtype=m.bool)),
    ("dtype_uint8_wrap_negative", lambda m: m.tensor([-1, -255], dtype=m.uint8)),
    ("dtype_uint8_overflow", lambda m: m.tensor([256], dtype=m.uint8)),
    ("dtype_uint8_too_negative", lambda m: m.tensor([-256], dtype=m.uint8)),
    ("dtype_uint8_negative_float", lambda m: m.tensor([-0.9], dtype=m.uint8)),
    ("dtype_int8_overflow", lambda m: m.tensor([128], dtype=m.int8)),
    ("dtype_int32_float_overflow", lambda m: m.tensor([1e10], dtype=m.int32)),
    ("dtype_int32_max_float", lambda m: m.tensor([2147483647.0], dtype=m.int32)),
    ("dtype_int64_nan", lambda m: m.tensor([math.nan], dtype=m.int64)),
    ("dtype_int32_inf", lambda m: m.tensor([math.inf], dtype=m.int32)),
    ("dtype_float32_huge", lambda m: m.tensor([1e39, 2**63], dtype=m.float32)),
    ("dtype_big_int_to_uint8", lambda m: m.tensor([2**63], dtype=m.uint8)),
    ("dtype_python_float", lambda m: m.tensor([1, 2], dtype=float)),
    ("dtype_python_int", lambda m: m.tensor([1.5, 2], dtype=int)),
    ("dtype_python_bool", lambda m: m.tensor([1, 0], dtype=bool)),
    ("np_array_dtype_wraps", lambda m: m.tensor(np.array([300, -1]), dtype=m.uint8)),
    ("np_array_to_half", lambda m: m.tensor(np.array([1 + 2**-11 + 2**-40]), dtype=m.float16)),
    ("np_float64_array_stays", lambda m: m.tensor(np.array([1.5, 2.5]))),
    # requires_grad
    ("requires_grad", lambda m: m.tensor([1.0, 2.0], requires_grad=True)),
    ("requires_grad_int", lambda m: m.tensor([1, 2], requires_grad=True)),
    ("requires_grad_cast_int", lambda m: m.tensor([1.0], dtype=m.int64, requires_grad=True)),
    ("requires_grad_bool", lambda m: m.tensor([True], requires_grad=True)),
    ("requires_grad_np_int", lambda m: m.tensor(np.array([1, 2]), requires_grad=True)),
    ("requires_grad_float16", lambda m: m.tensor([1.0], dtype=m.float16, requires_grad=True)),
    ("is_leaf", lambda m: m.tensor(1.5, requires_grad=True).is_leaf),
]


@pytest.mark.parametrize("case", TENSOR_CASES, ids=case_id)
def test_tensor_matches_torch(case):
    check(case[1])


@pytest.mark.parametrize("name", DTYPES)
def test_tensor_from_numpy_array_of_each_dtype(name):
    arr = (np.arange(-3, 3) * 7).astype(NP_OF[name])
    assert_same(leafgrad.tensor(arr), torch.tensor(arr))
    assert_same(leafgrad.tensor(arr[0]), torch.tensor(arr[0]))  # a NumPy scalar


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_tensor_dtype_cast_of_python_values(src, dst):
    vals = {"bool": [True, False], "float16": [0.5, -2.0], "float32": [1.25, -0.75],
            "float64": [3.5, -1.0]}.get(src, [1, 0, 5])
    check(lambda m: m.tensor(vals, dtype=getattr(m, dst)))


def test_tensor_copies_and_warns_for_tensor_input():
    a = np.ones(2)
    t = leafgrad.tensor(a)
    a[0] = 5
    assert t.tolist() == [1.0, 1.0]
    src = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="detach"):
        c = leafgrad.tensor(src)
    assert not c.requires_grad and c.is_leaf
    c.add_(1)
    assert src.tolist() == [1.0, 2.0]


def test_tensor_error_messages_name_the_problem():
    with pytest.raises(ValueError, match="expected sequence of length 1 at dim 1"):
        leafgrad.tensor([[1], [1, 2]])
    with pytest.raises(RuntimeError, match="NoneType"):
        leafgrad.tensor([1, None])
    with pytest.raises(RuntimeError, match="uint8"):
        leafgrad.tensor([300], dtype=leafgrad.uint8)
    with pytest.raises(RuntimeError, match="floating point"):
        leafgrad.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="uint16"):
        leafgrad.tensor(np.array([1], dtype=np.uint16))


_scalar = st.one_of(
    st.integers(-(2**31), 2**31), st.booleans(),
    st.floats(allow_nan=False, width=64, min_value=-1e30, max_value=1e30))


@st.composite
def _nested(draw):
    shape = draw(st.lists(st.integers(0, 3), min_size=0, max_size=3))
    n = int(np.prod(shape)) if shape else 1
    flat = draw(st.lists(_scalar, min_size=n, max_size=n))
    data = flat[0] if not shape else np.array(flat, dtype=object).reshape(shape).tolist()
    return data


@FAST
@given(_nested(), st.sampled_from([None, "float32", "float64", "int64", "int16", "bool"]))
def test_tensor_from_random_nested_lists(data, dtype):
    check(lambda m: m.tensor(data, dtype=None if dtype is None else getattr(m, dtype)))


# -- as_tensor / asarray / from_numpy: memory sharing -------------------------------------------
@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("factory", ["as_tensor", "asarray", "from_numpy"])
def test_shares_memory_with_numpy(factory, name):
    arr = np.zeros(3, dtype=NP_OF[name])
    t = getattr(leafgrad, factory)(arr)
    ref = getattr(torch, factory)(np.zeros(3, dtype=NP_OF[name]))
    assert str(t.dtype) == str(ref.dtype)
    arr[1] = 1  # numpy -> tensor
    assert t.tolist()[1] == arr.tolist()[1]
    t[2] = 1  # tensor -> numpy
    assert arr.tolist()[2] == t.tolist()[2] and arr[2] != 0


@pytest.mark.parametrize("factory", ["as_tensor", "asarray", "from_numpy"])
@pytest.mark.parametrize("np_dtype", [np.uint16, np.uint32, object, np.complex64, np.str_])
def test_unsupported_numpy_dtype_raises_type_error(factory, np_dtype):
    arr = np.zeros(2, dtype=np_dtype)
    with pytest.raises(TypeError, match=np.dtype(np_dtype).name.rstrip("_")[:5]):
        getattr(leafgrad, factory)(arr)


SHARE_CASES = [
    ("as_tensor_list", lambda m: m.as_tensor([1, 2.5])),
    ("as_tensor_dtype", lambda m: m.as_tensor(np.arange(3), dtype=m.float32)),
    ("as_tensor_tensor_same", lambda m: (lambda t: m.as_tensor(t) is t)(m.ones(2))),
    ("as_tensor_tensor_cast", lambda m: m.as_tensor(m.ones(2), dtype=m.int32)),
    ("as_tensor_scalar", lambda m: m.as_tensor(3)),
    ("as_tensor_np_scalar", lambda m: m.as_tensor(np.float64(3))),
    ("asarray_list", lambda m: m.asarray([1.5, 2])),
    ("asarray_dtype", lambda m: m.asarray(np.arange(3), dtype=m.float64)),
    ("asarray_requires_grad", lambda m: m.asarray([1.0], requires_grad=True)),
    ("asarray_copy_true", lambda m: (lambda a: (m.asarray(a, copy=True), a.__setitem__(0, 9))[0])(
        np.ones(2))),
    ("asarray_tensor_is_self", lambda m: (lambda t: m.asarray(t) is t)(m.ones(2))),
    ("asarray_copy_false_list", lambda m: m.asarray([1, 2], copy=False)),
    ("from_numpy_list", lambda m: m.from_numpy([1, 2])),
    ("from_numpy_0d", lambda m: m.from_numpy(np.array(2.5))),
    ("from_numpy_strided", lambda m: m.from_numpy(np.arange(6.0)[::2])),
]


@pytest.mark.parametrize("case", SHARE_CASES, ids=case_id)
def test_as_tensor_asarray_from_numpy_match_torch(case):
    check(case[1])


def test_from_numpy_shares_through_inplace_ops():
    a = np.ones(2, dtype=np.float32)
    t = leafgrad.from_numpy(a)
    t.add_(1)
    assert a.tolist() == [2.0, 2.0]
    assert leafgrad.as_tensor(a).numpy() is a or np.shares_memory(leafgrad.as_tensor(a).numpy(), a)


# -- zeros / ones / empty / full -------------------------------------------------------------------
FILL_CASES = [
    ("zeros_varargs", lambda m: m.zeros(2, 3)),
    ("zeros_tuple", lambda m: m.zeros((2, 3))),
    ("zeros_list", lambda m: m.zeros([2, 3])),
    ("zeros_size", lambda m: m.zeros(m.Size([2, 3]))),
    ("zeros_0d", lambda m: m.zeros(())),
    ("zeros_empty_list", lambda m: m.zeros([])),
    ("zeros_zero_dim", lambda m: m.zeros(0, 3)),
    ("zeros_size_kw", lambda m: m.zeros(size=(2, 3))),
    ("zeros_np_int", lambda m: m.zeros(np.int64(2), 3)),
    ("zeros_int_tensor", lambda m: m.zeros(m.tensor(2))),
    ("zeros_tensor_dims", lambda m: m.zeros((m.tensor(2), 3))),
    ("zeros_bool_dim", lambda m: m.zeros(2, True)),
    ("zeros_dtype", lambda m: m.zeros(2, dtype=m.int32)),
    ("zeros_python_dtype", lambda m: m.zeros(2, dtype=float)),
    ("zeros_requires_grad", lambda m: m.zeros(2, requires_grad=True)),
    ("zeros_requires_grad_int", lambda m: m.zeros(2, dtype=m.int64, requires_grad=True)),
    ("zeros_no_size", lambda m: m.zeros()),
    ("zeros_negative", lambda m: m.zeros(-1)),
    ("zeros_negative_in_tuple", lambda m: m.zeros((2, -1))),
    ("zeros_float_dim", lambda m: m.zeros(2, 3.0)),
    ("zeros_float", lambda m: m.zeros(2.5)),
    ("zeros_str", lambda m: m.zeros("a")),
    ("zeros_bool", lambda m: m.zeros(True)),
    ("zeros_float_tensor", lambda m: m.zeros(m.tensor(2.0))),
    ("zeros_tensor_of_dims", lambda m: m.zeros(m.tensor([2, 3]))),
    ("zeros_two_tuples", lambda m: m.zeros((2, 3), 4)),
    ("zeros_size_twice", lambda m: m.zeros(2, size=(3,))),
    ("ones", lambda m: m.ones(2, 2)),
    ("ones_bool", lambda m: m.ones(3, dtype=m.bool)),
    ("ones_half", lambda m: m.ones((1, 2), dtype=m.float16)),
    ("ones_size_kw", lambda m: m.ones(size=[2])),
    ("empty_shape", lambda m: m.empty(2, 3).shape),
    ("empty_dtype", lambda m: m.empty((2,), dtype=m.int16).dtype),
    ("empty_0d", lambda m: m.empty(()).shape),
    ("empty_requires_grad", lambda m: m.empty(2, requires_grad=True).requires_grad),
    ("full_int", lambda m: m.full((2,), 7)),
    ("full_float", lambda m: m.full((2, 2), 7.5)),
    ("full_bool", lambda m: m.full((2,), True)),
    ("full_list_size", lambda m: m.full([2, 3], 1)),
    ("full_size", lambda m: m.full(m.Size([2]), -3)),
    ("full_0d", lambda m: m.full((), 1.5)),
    ("full_np_float64", lambda m: m.full([2], np.float64(1.5))),
    ("full_np_float32", lambda m: m.full([2], np.float32(1.5))),
    ("full_np_int32", lambda m: m.full([2], np.int32(3))),
    ("full_np_bool", lambda m: m.full([2], np.bool_(True))),
    ("full_0d_tensor", lambda m: m.full([2], m.tensor(3))),
    ("full_1d_tensor", lambda m: m.full([2], m.tensor([3]))),
    ("full_inf", lambda m: m.full((2,), math.inf, dtype=m.float16)),
    ("full_nan", lambda m: m.full((2,), math.nan)),
    ("full_dtype", lambda m: m.full((2,), 3, dtype=m.float16)),
    ("full_float_to_int", lambda m: m.full((2,), 2.7, dtype=m.int64)),
    ("full_float_to_bool", lambda m: m.full((2,), 0.5, dtype=m.bool)),
    ("full_half_rounding", lambda m: m.full((1,), 1 + 2**-11 + 2**-40, dtype=m.float16)),
    ("full_uint8_wrap", lambda m: m.full((2,), -255, dtype=m.uint8)),
    ("full_uint8_overflow", lambda m: m.full((2,), 300, dtype=m.uint8)),
    ("full_uint8_float_overflow", lambda m: m.full((2,), 255.5, dtype=m.uint8)),
    ("full_int8_overflow", lambda m: m.full((2,), -129, dtype=m.int8)),
    ("full_int64_overflow", lambda m: m.full((2,), 2**63)),
    ("full_float32_overflow", lambda m: m.full((2,), 1e300)),
    ("full_huge_int", lambda m: m.full((2,), 2**70, dtype=m.float64)),
    ("full_huge_int_bool", lambda m: m.full((2,), 2**64, dtype=m.bool)),
    ("full_half_overflow", lambda m: m.full((2,), 2.0**40, dtype=m.float16)),
    ("full_half_one_element_unchecked", lambda m: m.full((1,), 70000, dtype=m.float16)),
    ("full_half_0d_unchecked", lambda m: m.full((), 1e5, dtype=m.float16)),
    ("full_half_empty_checked", lambda m: m.full((0,), 1e5, dtype=m.float16)),
    ("full_empty_checked", lambda m: m.full((0,), 300, dtype=m.uint8)),
    ("full_int_nan", lambda m: m.full((2,), math.nan, dtype=m.int32)),
    ("full_int_size", lambda m: m.full(2, 1.5)),
    ("full_str", lambda m: m.full((2,), "a")),
    ("full_none", lambda m: m.full((2,), None)),
    ("full_requires_grad", lambda m: m.full((2,), 3.0, requires_grad=True)),
    ("full_requires_grad_int", lambda m: m.full((2,), 3, requires_grad=True)),
    ("full_kwargs", lambda m: m.full(size=(2,), fill_value=3)),
]


@pytest.mark.parametrize("case", FILL_CASES, ids=case_id)
def test_zeros_ones_empty_full_match_torch(case):
    check(case[1])


@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("factory", ["zeros", "ones", "empty"])
def test_factory_dtype(factory, name):
    got = getattr(leafgrad, factory)(2, 3, dtype=getattr(leafgrad, name))
    want = getattr(torch, factory)(2, 3, dtype=getattr(torch, name))
    assert str(got.dtype) == str(want.dtype) and tuple(got.shape) == tuple(want.shape)
    if factory != "empty":
        assert_same(got, want)


@pytest.mark.parametrize("factory", ["zeros", "ones", "empty", "eye", "arange", "linspace", "full"])
def test_out_argument(factory):
    args = {"zeros": (2, 3), "ones": (2, 3), "empty": (2, 3), "eye": (3,), "arange": (0.5, 3),
            "linspace": (0, 1, 5), "full": ((2,), 3)}[factory]
    results = []
    for m in (leafgrad, torch):
        out = m.empty(0, dtype=m.float64)
        r = getattr(m, factory)(*args, out=out)
        assert r is out  # PyTorch returns ``out`` itself, resized and with its dtype
        results.append(r)
    if factory == "empty":
        assert tuple(results[0].shape) == tuple(results[1].shape)
        assert str(results[0].dtype) == str(results[1].dtype)
    else:
        assert_same(*results)


def test_out_argument_in_place_and_refuses_grad():
    out = leafgrad.zeros(3)
    view = out[1:]
    leafgrad.ones(3, out=out)
    assert view.tolist() == [1.0, 1.0]  # written in place, so views see it
    leafgrad.arange(3, out=leafgrad.empty(0, dtype=leafgrad.int32))
    with pytest.raises(RuntimeError, match="out="):
        leafgrad.zeros(3, out=leafgrad.zeros(3, requires_grad=True))


# -- *_like ----------------------------------------------------------------------------------------
LIKE_CASES = [
    ("zeros_like_int", lambda m: m.zeros_like(m.ones(2, dtype=m.int32))),
    ("zeros_like_0d", lambda m: m.zeros_like(m.tensor(3.5))),
    ("zeros_like_dtype", lambda m: m.zeros_like(m.ones(2, 3), dtype=m.int8)),
    ("ones_like_dtype", lambda m: m.ones_like(m.ones(2, dtype=m.int32), dtype=m.float64)),
    ("ones_like_bool", lambda m: m.ones_like(m.ones(2, dtype=m.bool))),
    ("full_like_float_into_int", lambda m: m.full_like(m.ones(2, dtype=m.int32), 2.7)),
    ("full_like_int_into_float", lambda m: m.full_like(m.ones(2), 7)),
    ("full_like_into_bool", lambda m: m.full_like(m.ones(2, dtype=m.bool), 0.5)),
    ("full_like_uint8_wrap", lambda m: m.full_like(m.ones(2, dtype=m.uint8), -1)),
    ("full_like_uint8_overflow", lambda m: m.full_like(m.ones(2, dtype=m.uint8), 300)),
    ("full_like_int32_overflow", lambda m: m.full_like(m.ones(2, dtype=m.int32), 1e20)),
    ("full_like_dtype", lambda m: m.full_like(m.ones(2), 3, dtype=m.int64)),
    ("full_like_half_overflow", lambda m: m.full_like(m.ones(2, dtype=m.float16), 1e5)),
    ("full_like_half_0d", lambda m: m.full_like(m.ones((), dtype=m.float16), 1e5)),
    ("empty_like_shape", lambda m: m.empty_like(m.ones(2, 3, dtype=m.int8)).shape),
    ("empty_like_dtype", lambda m: m.empty_like(m.ones(2), dtype=m.float16).dtype),
    ("like_drops_grad", lambda m: m.zeros_like(m.ones(2, requires_grad=True)).requires_grad),
    ("like_requires_grad", lambda m: m.ones_like(m.ones(2), requires_grad=True)),
    ("like_requires_grad_int", lambda m: m.zeros_like(m.ones(2), dtype=m.int64,
                                                      requires_grad=True)),
    ("like_keeps_transposed_strides", lambda m: m.zeros_like(m.ones(2, 3).T).stride()),
    ("like_keeps_permuted_strides", lambda m: m.ones_like(
        m.ones(2, 3, 4).permute(2, 0, 1)).stride()),
    ("like_sliced_is_dense", lambda m: m.zeros_like(m.ones(4, 6)[::2, ::3]).stride()),
    ("like_contiguous_format", lambda m: m.zeros_like(
        m.ones(2, 3).T, memory_format=getattr(m, "contiguous_format", "contiguous")).stride()),
    ("like_numpy_input", lambda m: m.zeros_like(np.ones(2))),
    ("like_list_input", lambda m: m.ones_like([1, 2])),
]


@pytest.mark.parametrize("case", LIKE_CASES, ids=case_id)
def test_like_factories_match_torch(case):
    check(case[1])


# -- eye -------------------------------------------------------------------------------------------
EYE_CASES = [
    ("n", lambda m: m.eye(3)),
    ("n_m_wide", lambda m: m.eye(2, 4)),
    ("n_m_tall", lambda m: m.eye(4, 2)),
    ("zero", lambda m: m.eye(0)),
    ("zero_cols", lambda m: m.eye(2, 0)),
    ("one", lambda m: m.eye(1)),
    ("dtype_int", lambda m: m.eye(2, dtype=m.int64)),
    ("dtype_bool", lambda m: m.eye(2, 3, dtype=m.bool)),
    ("dtype_half", lambda m: m.eye(2, dtype=m.float16)),
    ("requires_grad", lambda m: m.eye(2, requires_grad=True)),
    ("kwargs", lambda m: m.eye(n=2, m=3)),
    ("np_int", lambda m: m.eye(np.int64(2))),
    ("negative_n", lambda m: m.eye(-1)),
    ("negative_m", lambda m: m.eye(2, -1)),
    ("float_n", lambda m: m.eye(2.0)),
]


@pytest.mark.parametrize("case", EYE_CASES, ids=case_id)
def test_eye_matches_torch(case):
    check(case[1])


# -- arange ----------------------------------------------------------------------------------------
ARANGE_CASES = [
    ("end", lambda m: m.arange(5)),
    ("start_end", lambda m: m.arange(2, 5)),
    ("negative_step", lambda m: m.arange(5, 2, -1)),
    ("float_end", lambda m: m.arange(0.0, 1.0)),
    ("float_step", lambda m: m.arange(1, 2.5, 0.5)),
    ("tenths", lambda m: m.arange(0, 1, 0.1)),
    ("thirds", lambda m: m.arange(0, 1, 1 / 3)),
    ("not_exact_end", lambda m: m.arange(0, 1.0000001, 0.1)),
    ("from_tenth", lambda m: m.arange(0.1, 0.5, 0.1)),
    ("negative_float_step", lambda m: m.arange(0, -1, -0.1)),
    ("wide", lambda m: m.arange(-5.5, 5.5, 0.7)),
    ("long_float32", lambda m: m.arange(-3.1, 50.3, 0.013)),
    ("long_float64", lambda m: m.arange(-3.1, 50.3, 0.013, dtype=m.float64)),
    ("long_half", lambda m: m.arange(-3.1, 50.3, 0.05, dtype=m.float16)),
    ("big_start", lambda m: m.arange(1e8, 1e8 + 10)),
    ("float32_ulp", lambda m: m.arange(16777216.0, 16777220.0)),
    ("empty", lambda m: m.arange(0, 0)),
    ("dtype_float64", lambda m: m.arange(10, dtype=m.float64)),
    ("dtype_int32", lambda m: m.arange(0, 10, 3, dtype=m.int32)),
    ("dtype_int64_float_args", lambda m: m.arange(0, 2.5, dtype=m.int64)),
    ("dtype_int64_truncates_step", lambda m: m.arange(0.5, 5, 1.5, dtype=m.int64)),
    ("dtype_int32_sizes_in_double", lambda m: m.arange(0.5, 5, 1.5, dtype=m.int32)),
    ("dtype_int32_zero_step", lambda m: m.arange(0, 5, 0.5, dtype=m.int32)),
    ("dtype_int64_zero_step", lambda m: m.arange(0, 5, 0.5, dtype=m.int64)),
    ("dtype_uint8_wraps", lambda m: m.arange(-3, 3, dtype=m.uint8)),
    ("dtype_uint8_long", lambda m: m.arange(300, dtype=m.uint8)),
    ("dtype_half", lambda m: m.arange(0, 10, 2.5, dtype=m.float16)),
    ("dtype_half_overflow", lambda m: m.arange(70000, 70001, dtype=m.float16)),
    ("dtype_bool", lambda m: m.arange(5, dtype=m.bool)),
    ("big_int64", lambda m: m.arange(2**62, 2**62 + 3)),
    ("big_int64_as_double", lambda m: m.arange(2**62, 2**62 + 3, dtype=m.float64)),
    ("int64_max", lambda m: m.arange(2**63 - 2, 2**63 - 1)),
    ("tensor_arg", lambda m: m.arange(m.tensor(3))),
    ("float_tensor_arg", lambda m: m.arange(m.tensor(3.0))),
    ("np_int_arg", lambda m: m.arange(np.int64(3))),
    ("np_float_arg", lambda m: m.arange(np.float32(3))),
    ("bool_arg", lambda m: m.arange(True)),
    ("kwargs", lambda m: m.arange(start=1, end=4)),
    ("end_kw", lambda m: m.arange(end=4)),
    ("requires_grad", lambda m: m.arange(3.0, requires_grad=True)),
    ("requires_grad_int", lambda m: m.arange(3, requires_grad=True)),
    ("zero_step", lambda m: m.arange(0, 1, 0)),
    ("nan_step", lambda m: m.arange(0, 1, math.nan)),
    ("inf_step", lambda m: m.arange(0, 1, math.inf)),
    ("wrong_sign", lambda m: m.arange(1, 0, 1)),
    ("wrong_sign_negative", lambda m: m.arange(0, 5, -1)),
    ("inf_end", lambda m: m.arange(math.inf)),
    ("nan_end", lambda m: m.arange(math.nan)),
    ("too_many", lambda m: m.arange(0, 1e30, 1e-30)),
    ("huge_int_arg", lambda m: m.arange(0, 2**70, 2**66, dtype=m.float64)),
    ("int64_float_overflow", lambda m: m.arange(0, 1e30, 1e29, dtype=m.int64)),
    ("str_arg", lambda m: m.arange("a")),
]


@pytest.mark.parametrize("case", ARANGE_CASES, ids=case_id)
def test_arange_matches_torch(case):
    check(case[1])


def test_arange_error_messages_name_the_problem():
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        leafgrad.arange(0, 1, 0)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        leafgrad.arange(1, 0, 1)
    with pytest.raises(RuntimeError, match="unsupported range"):
        leafgrad.arange(math.inf)


_real = st.one_of(st.integers(-50, 50), st.floats(-100, 100, allow_nan=False).map(
    lambda x: round(x, 3)), st.floats(-100, 100, allow_nan=False))


@FAST
@given(_real, st.integers(0, 300), st.one_of(st.integers(1, 5), st.floats(1e-3, 3)),
       st.booleans(), st.sampled_from(["float32", "float64", "float16", "int64", "int32",
                                       None]))
def test_arange_random_exact(start, n, step, negative, dtype):
    """Values equal PyTorch's bit for bit (FMA and SIMD-block rounding included)."""
    step = -step if negative else step
    end = start + step * n + step / 2
    if dtype == "float16":
        start, end = start / 8, end / 8
    check(lambda m: m.arange(start, end, step, dtype=None if dtype is None else getattr(m, dtype)))


# -- linspace --------------------------------------------------------------------------------------
LINSPACE_CASES = [
    ("five", lambda m: m.linspace(0, 1, 5)),
    ("zero_steps", lambda m: m.linspace(0, 1, 0)),
    ("one_step", lambda m: m.linspace(0.1, 1, 1)),
    ("two_steps", lambda m: m.linspace(0, 1, 2)),
    ("three_steps", lambda m: m.linspace(-2.5, 1.1, 3)),
    ("many", lambda m: m.linspace(-1, 1, 100)),
    ("decreasing", lambda m: m.linspace(1, 0, 11)),
    ("constant", lambda m: m.linspace(3, 3, 4)),
    ("long_float32", lambda m: m.linspace(0.1, 0.7, 1001)),
    ("long_float64", lambda m: m.linspace(-3.3, 7.9, 1234, dtype=m.float64)),
    ("big_values", lambda m: m.linspace(1e6, 1e6 + 1, 17)),
    ("float64", lambda m: m.linspace(0, 1, 7, dtype=m.float64)),
    ("float16", lambda m: m.linspace(0, 1, 11, dtype=m.float16)),
    ("float16_one", lambda m: m.linspace(1 + 2**-11 + 2**-40, 2, 1, dtype=m.float16)),
    ("int64", lambda m: m.linspace(0, 10, 4, dtype=m.int64)),
    ("int64_negative", lambda m: m.linspace(0, -10, 4, dtype=m.int64)),
    ("int64_big", lambda m: m.linspace(0, 2**40, 5, dtype=m.int64)),
    ("int64_float_args", lambda m: m.linspace(0.5, 10.7, 6, dtype=m.int64)),
    ("int32", lambda m: m.linspace(0, 1, 5, dtype=m.int32)),
    ("int16", lambda m: m.linspace(0, 100, 7, dtype=m.int16)),
    ("int8", lambda m: m.linspace(-7, 7, 9, dtype=m.int8)),
    ("uint8", lambda m: m.linspace(0, 255, 7, dtype=m.uint8)),
    ("tensor_args", lambda m: m.linspace(m.tensor(0.0), m.tensor(1.0), 3)),
    ("requires_grad", lambda m: m.linspace(0, 1, 3, requires_grad=True)),
    ("bool", lambda m: m.linspace(0, 1, 3, dtype=m.bool)),
    ("negative_steps", lambda m: m.linspace(0, 1, -1)),
    ("float_steps", lambda m: m.linspace(0, 1, 2.0)),
    ("float32_overflow", lambda m: m.linspace(0, 1e39, 3)),
    ("float16_overflow", lambda m: m.linspace(0, 1e5, 3, dtype=m.float16)),
    ("uint8_wraps_start", lambda m: m.linspace(-1, 10, 3, dtype=m.uint8)),
    ("uint8_overflow", lambda m: m.linspace(0.5, 300, 3, dtype=m.uint8)),
    ("one_step_half_unchecked", lambda m: m.linspace(70000, 0, 1, dtype=m.float16)),
    ("one_step_end_unchecked", lambda m: m.linspace(0, 1e39, 1)),
    ("one_step_start_checked", lambda m: m.linspace(1e39, 0, 1)),
    ("one_step_uint8_checked", lambda m: m.linspace(300, 0, 1, dtype=m.uint8)),
    ("zero_steps_unchecked", lambda m: m.linspace(1e39, 0, 0)),
]


@pytest.mark.parametrize("case", LINSPACE_CASES, ids=case_id)
def test_linspace_matches_torch(case):
    check(case[1])


@FAST
@given(_real, _real, st.one_of(st.integers(0, 4), st.integers(5, 400)),
       st.sampled_from(["float32", "float64", "float16", "int64", "int32"]))
def test_linspace_random_exact(start, end, steps, dtype):
    """Values equal PyTorch's bit for bit: no tolerance needed, for float32 and float64 alike."""
    if dtype == "float16":
        start, end = start / 4, end / 4
    check(lambda m: m.linspace(start, end, steps, dtype=getattr(m, dtype)))


@FAST
@given(st.lists(st.integers(0, 4), max_size=3), st.one_of(
    st.integers(-300, 300), st.booleans(), st.floats(-1e6, 1e6, allow_nan=False)),
    st.sampled_from([None] + DTYPES))
def test_full_random(shape, value, dtype):
    check(lambda m: m.full(shape, value, dtype=None if dtype is None else getattr(m, dtype)))
