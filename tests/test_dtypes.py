"""dtypes, the default dtype and type promotion, side by side with PyTorch (tables and ops)."""

from __future__ import annotations

import itertools
import operator
import pickle
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import leafgrad

FAST = settings(max_examples=50, deadline=None)
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
ALIASES = {"half": "float16", "float": "float32", "double": "float64", "short": "int16",
           "int": "int32", "long": "int64"}
PAIRS = list(itertools.product(DTYPES, DTYPES))
SCALARS = [True, False, 0, 2, -3, 1000, -1000, 2**40, 0.5, 2.5, 0.1, -1e10]


@pytest.fixture(autouse=True)
def _restore_defaults():
    yield
    leafgrad.set_default_dtype(leafgrad.float32)
    torch.set_default_dtype(torch.float32)


def both(name: str):
    return getattr(leafgrad, name), getattr(torch, name)


# -- dtype objects ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DTYPES + list(ALIASES))
def test_dtype_objects_match_torch(name):
    lg, th = both(name)
    assert isinstance(lg, leafgrad.dtype)
    assert repr(lg) == repr(th) and str(lg) == str(th)
    assert lg.itemsize == th.itemsize
    assert lg.is_floating_point == th.is_floating_point
    assert lg.is_signed == th.is_signed
    assert lg.is_complex == th.is_complex
    assert pickle.loads(pickle.dumps(lg)) is lg


@pytest.mark.parametrize("alias, name", ALIASES.items())
def test_aliases_are_the_same_object(alias, name):
    assert getattr(leafgrad, alias) is getattr(leafgrad, name)
    assert {getattr(leafgrad, name): 1}[getattr(leafgrad, alias)] == 1


def test_dtypes_are_distinct_and_compare_by_identity():
    objs = [getattr(leafgrad, n) for n in DTYPES]
    assert len(set(objs)) == len(DTYPES)
    assert leafgrad.float32 != "float32" and torch.float32 != "float32"
    assert leafgrad.float64.to_real() is leafgrad.float64


# -- the default dtype -----------------------------------------------------------------------------
DEFAULT_CASES = [
    ("tensor_float", lambda m: m.tensor([1.5])),
    ("tensor_mixed", lambda m: m.tensor([1, 2.5])),
    ("tensor_empty", lambda m: m.tensor([])),
    ("tensor_int_stays", lambda m: m.tensor([1, 2])),
    ("ones", lambda m: m.ones(2)),
    ("zeros", lambda m: m.zeros(2, 2)),
    ("empty", lambda m: m.empty(2).dtype),
    ("full_float", lambda m: m.full((2,), 1.5)),
    ("full_int_stays", lambda m: m.full((2,), 1)),
    ("arange_float", lambda m: m.arange(0.0, 1.0)),
    ("arange_float_step", lambda m: m.arange(0.0, 1.0, 0.1)),
    ("arange_int_stays", lambda m: m.arange(3)),
    ("linspace", lambda m: m.linspace(0, 1, 7)),
    ("eye", lambda m: m.eye(2)),
    ("int_div_int", lambda m: m.tensor([1, 2]) / m.tensor([3, 4])),
    ("int_times_float", lambda m: m.tensor([1, 2]) * 1.1),
    ("bool_plus_float", lambda m: m.tensor([True]) + 0.1),
    ("int_sqrt", lambda m: m.tensor([1, 2]).sqrt()),
    ("result_type", lambda m: m.result_type(m.tensor([1]), 1.5)),
    ("result_type_scalars", lambda m: m.result_type(2, 2.5)),
    ("float32_stays", lambda m: m.ones(2, dtype=m.float32) + 1.5),
]


def _same(got, want):
    if isinstance(want, torch.Tensor):
        assert str(got.dtype) == str(want.dtype)
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    else:
        assert str(got) == str(want)


@pytest.mark.parametrize("default", ["float64", "float16", "float32"])
@pytest.mark.parametrize("case", DEFAULT_CASES, ids=lambda c: c[0])
def test_default_dtype_changes_what_factories_and_ops_give(default, case):
    for m in (leafgrad, torch):
        m.set_default_dtype(getattr(m, default))
    assert str(leafgrad.get_default_dtype()) == str(torch.get_default_dtype())
    _same(case[1](leafgrad), case[1](torch))


@pytest.mark.parametrize("bad", ["int64", "int32", "bool", "uint8", "py_float", "str", "numpy",
                                 "none"])
def test_set_default_dtype_refuses_non_float_dtypes(bad):
    def arg(m):
        other = {"py_float": float, "str": "float64", "numpy": np.float64, "none": None}
        return other[bad] if bad in other else getattr(m, bad)

    with pytest.raises(TypeError) as want:
        torch.set_default_dtype(arg(torch))
    with pytest.raises(TypeError, match="floating-point") as got:
        leafgrad.set_default_dtype(arg(leafgrad))
    assert type(got.value) is type(want.value)
    assert leafgrad.get_default_dtype() is leafgrad.float32


# -- promote_types and result_type -----------------------------------------------------------------
@pytest.mark.parametrize("a, b", PAIRS, ids=lambda p: str(p))
def test_promote_types_all_pairs(a, b):
    got = leafgrad.promote_types(getattr(leafgrad, a), getattr(leafgrad, b))
    want = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert str(got) == str(want)


def test_promote_types_takes_python_types_and_refuses_strings():
    for py in (float, int, bool):
        got = leafgrad.promote_types(leafgrad.float16, py)
        assert str(got) == str(torch.promote_types(torch.float16, py))
    with pytest.raises(TypeError):
        torch.promote_types(torch.float32, "float64")
    with pytest.raises(TypeError, match="dtype"):
        leafgrad.promote_types(leafgrad.float32, "float64")


def _make(m, name: str, zero_dim: bool, values=(1, 0, 3)):
    d = getattr(m, name)
    return m.tensor(values[1] if zero_dim else list(values), dtype=d)


DIMS = list(itertools.product([False, True], repeat=2))


@pytest.mark.parametrize("a", DTYPES)
def test_result_type_tensor_tensor(a):
    for b, (za, zb) in itertools.product(DTYPES, DIMS):
        got = leafgrad.result_type(_make(leafgrad, a, za), _make(leafgrad, b, zb))
        want = torch.result_type(_make(torch, a, za), _make(torch, b, zb))
        assert str(got) == str(want), (a, za, b, zb)


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("zero_dim", [False, True])
def test_result_type_tensor_scalar(a, zero_dim):
    for s in SCALARS + [np.float64(2.5), np.int64(3), np.float32(1.5)]:
        for args in ((_make(leafgrad, a, zero_dim), s), (s, _make(leafgrad, a, zero_dim))):
            targs = tuple(_make(torch, a, zero_dim) if isinstance(x, leafgrad.Tensor) else x
                          for x in args)
            assert str(leafgrad.result_type(*args)) == str(torch.result_type(*targs)), (a, s)


@pytest.mark.parametrize("args", [(2, 2.5), (True, 2), (1.5, True), (3, 4)])
def test_result_type_scalar_scalar(args):
    assert str(leafgrad.result_type(*args)) == str(torch.result_type(*args))


@pytest.mark.parametrize("bad", ["none", "str", "one_arg", "three_args"])
def test_result_type_bad_arguments(bad):
    def call(m):
        t = m.tensor([1])
        return {"none": lambda: m.result_type(t, None), "str": lambda: m.result_type(t, "a"),
                "one_arg": lambda: m.result_type(t),
                "three_args": lambda: m.result_type(t, t, t)}[bad]()

    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError):
        call(leafgrad)


@pytest.mark.parametrize("a, b", PAIRS, ids=lambda p: str(p))
def test_can_cast(a, b):
    got = leafgrad.can_cast(getattr(leafgrad, a), getattr(leafgrad, b))
    assert got == torch.can_cast(getattr(torch, a), getattr(torch, b))


# -- promotion through the actual ops ----------------------------------------------------------
OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}


def _outcome(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = fn()
        except Exception as e:  # noqa: BLE001 - the exception type is compared
            return type(e)
    return str(r.dtype), tuple(r.shape), np.asarray(r.tolist(), dtype=np.float64)


def _compare(got, want, where):
    if isinstance(want, type) or isinstance(got, type):
        assert got is want, f"{where}: leafgrad {got}, torch {want}"
        return
    assert got[:2] == want[:2], f"{where}: leafgrad {got[:2]}, torch {want[:2]}"
    np.testing.assert_array_equal(got[2], want[2], err_msg=str(where))


def _sub_with_bool(op: str, a: str, b) -> bool:
    return op == "sub" and (a == "bool" or b == "bool" or b is True or b is False)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("a", DTYPES)
def test_binary_op_tensor_tensor_promotion(op, a):
    """Every dtype pair, dimensioned and 0-d: result dtype, shape and values equal torch's."""
    f = OPS[op]
    for b, (za, zb) in itertools.product(DTYPES, DIMS):
        if _sub_with_bool(op, a, b) and not (a == b == "bool"):
            continue  # see test_sub_with_one_bool_tensor_raises_like_torch
        def run(m, b=b, za=za, zb=zb):
            return f(_make(m, a, za), _make(m, b, zb, (2, 5, 7)))

        _compare(_outcome(lambda: run(leafgrad)), _outcome(lambda: run(torch)), (op, a, za, b, zb))


def _int_div_by_big_scalar(op: str, a: str, s) -> bool:
    small_int = a in ("uint8", "int8", "int16", "int32")
    return op == "div" and small_int and isinstance(s, int) and not isinstance(s, bool) and (
        not np.iinfo(a).min <= s <= np.iinfo(a).max)


def _half_inexact_scalar(a: str, s) -> bool:
    with np.errstate(over="ignore"):
        return a == "float16" and not isinstance(s, bool) and float(np.float16(s)) != s


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("a", DTYPES)
def test_binary_op_tensor_scalar_promotion(op, a):
    """Tensor op Python scalar, both orders; out-of-range ints wrap as PyTorch wraps them."""
    f = OPS[op]
    for s, za, rev in itertools.product(SCALARS, [False, True], [False, True]):
        if _sub_with_bool(op, a, s) or _int_div_by_big_scalar(op, a, s) or (
                _half_inexact_scalar(a, s) and op != "add"):
            continue  # tested on their own below
        if rev and op == "div" and s == 0:
            continue

        def run(m, s=s, za=za, rev=rev):
            x = _make(m, a, za)
            return f(s, x) if rev else f(x, s)

        _compare(_outcome(lambda: run(leafgrad)), _outcome(lambda: run(torch)), (op, a, za, s, rev))


def test_int8_plus_out_of_range_int_wraps_like_torch():
    for m in (leafgrad, torch):
        x = m.tensor([3], dtype=m.int8)
        assert (x + 1000).tolist() == [-21] and (x * 1000).tolist() == [-72]
        assert str((x + 1000).dtype) == "torch.int8"
        u = m.tensor([3], dtype=m.uint8)
        assert (u - 1000).tolist() == [27] and (u * -1).tolist() == [253]


@pytest.mark.parametrize("a, s", [("int8", 1000), ("uint8", -3), ("int16", 2**40),
                                  ("int32", 2**40)])
def test_small_int_divided_by_out_of_range_int(a, s):
    got = _outcome(lambda: _make(leafgrad, a, False) / s)
    want = _outcome(lambda: _make(torch, a, False) / s)
    _compare(got, want, (a, s))


@pytest.mark.parametrize("op, s", [("mul", 0.1), ("mul", 3.3), ("div", 3.3), ("mul", 2**40),
                                   ("div", 70000), ("mul", 1e-8)])
def test_half_tensor_with_inexact_scalar(op, s):
    vals = (1.0, 0.0, 3.0)
    got = _outcome(lambda: OPS[op](_make(leafgrad, "float16", False, vals), s))
    want = _outcome(lambda: OPS[op](_make(torch, "float16", False, vals), s))
    _compare(got, want, (op, s))


@pytest.mark.parametrize("case", ["bool_tensor_minus_int_tensor", "int_tensor_minus_bool_tensor",
                                  "bool_tensor_minus_scalar", "int_tensor_minus_true",
                                  "scalar_minus_bool_tensor", "bool_tensor_minus_true"])
def test_sub_with_one_bool_tensor_raises_like_torch(case):
    def run(m):
        bt, it = m.tensor([True, False]), m.tensor([1, 2])
        return {"bool_tensor_minus_int_tensor": lambda: bt - it,
                "int_tensor_minus_bool_tensor": lambda: it - bt,
                "bool_tensor_minus_scalar": lambda: bt - 1.5,
                "int_tensor_minus_true": lambda: it - True,
                "scalar_minus_bool_tensor": lambda: 2 - bt,
                "bool_tensor_minus_true": lambda: bt - True}[case]()

    with pytest.raises(RuntimeError, match="bool"):
        run(torch)
    with pytest.raises(RuntimeError, match="bool"):
        run(leafgrad)


def test_bool_minus_bool_raises_like_torch():
    for m in (leafgrad, torch):
        with pytest.raises(RuntimeError, match="bool"):
            m.tensor([True]) - m.tensor([False])


@FAST
@given(st.sampled_from(DTYPES), st.sampled_from(DTYPES),
       st.lists(st.integers(1, 3), max_size=2), st.lists(st.integers(1, 3), max_size=2),
       st.sampled_from(["add", "mul", "div"]))
def test_binary_op_random_shapes(a, b, shape_a, shape_b, op):
    """Broadcast shapes (0-d included) with random dtypes give torch's dtype, shape and values."""
    rng = np.random.default_rng(0)
    va = rng.integers(1, 4, size=shape_a)
    vb = rng.integers(1, 4, size=shape_b)

    def run(m):
        return OPS[op](m.tensor(va.tolist(), dtype=getattr(m, a)),
                       m.tensor(vb.tolist(), dtype=getattr(m, b)))

    _compare(_outcome(lambda: run(leafgrad)), _outcome(lambda: run(torch)), (a, b, op))
