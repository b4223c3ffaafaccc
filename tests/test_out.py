"""``out=`` against torch: which functions take it, and what each does with it.

The guard: every public function of ``leafgrad`` and ``leafgrad.linalg`` takes ``out`` exactly
when torch's function of that name does (torch's own list, see ``out_cases.py``), and every one
that takes it goes through ``leafgrad._out`` (so none can accept ``out`` and ignore it). Then,
per function, with a sample call torch accepts: the result is written into ``out`` (values,
shape, dtype, version counter, the returned object), ``out`` of another shape is resized as
torch resizes it, ``out`` of another dtype is accepted or refused as torch does, ``out`` that
is one of the inputs behaves as torch's, and an input that requires grad is refused.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch
from out_cases import (
    NAMESPACES,
    RANDOM,
    leafgrad_has_out,
    public_functions,
    sample,
    torch_has_out,
)

import leafgrad

# the functions of both libraries that take out= (module pairs and names)
CASES = [(lm, tm, n) for lm, tm in NAMESPACES for n, _ in public_functions(lm)
         if torch_has_out(tm, n)]
IDS = [f"{tm.__name__}.{n}" for lm, tm, n in CASES]


def _marked(f) -> bool:
    while f is not None:
        if hasattr(f, "__out_variant__"):
            return True
        f = getattr(f, "__wrapped__", None)
    return False


def test_out_accepted_exactly_where_torch_accepts_it():
    wrong = []
    for lm, tm in NAMESPACES:
        for n, f in public_functions(lm):
            t, ours = torch_has_out(tm, n), leafgrad_has_out(f)
            if bool(t) != bool(ours):
                wrong.append(f"{lm.__name__}.{n}: torch {bool(t)}, leafgrad {bool(ours)}")
    assert not wrong, "\n".join(wrong)
    assert len(CASES) > 150  # the enumeration found torch's functions


def test_every_out_goes_through_the_one_path():
    """A function whose signature says ``out`` is decorated by leafgrad._out.out_variant."""
    loose = [f"{lm.__name__}.{n}" for lm, _ in NAMESPACES for n, f in public_functions(lm)
             if leafgrad_has_out(f) and not _marked(f)]
    assert not loose, loose


def _call(L, mod, name, mk, **kw):
    args, kwargs = mk(L)
    (torch if L is torch else leafgrad).manual_seed(0)
    return getattr(mod, name)(*args, **kwargs, **kw)


def _np(x):
    return x.detach().numpy() if isinstance(x, (torch.Tensor, leafgrad.Tensor)) else x


def _same(lres, tres, name):
    if isinstance(tres, tuple):
        assert isinstance(lres, tuple) and len(lres) == len(tres)
        for a, b in zip(lres, tres):
            _same(a, b, name)
        return
    assert tuple(lres.shape) == tuple(tres.shape)
    assert str(lres.dtype) == str(tres.dtype)
    if name in ("eigh", "qr", "svd"):  # decompositions: columns defined up to sign
        lres, tres = lres.abs(), tres.abs()
    if name != "empty":
        np.testing.assert_allclose(_np(lres).astype(np.float64), _np(tres).astype(np.float64),
                                   rtol=2e-5, atol=1e-5, equal_nan=True)


def _outs_like(L, res, shape=None, dtype=None):
    def mk(r):
        return L.zeros(r.shape if shape is None else shape,
                       dtype=getattr(L, str(r.dtype)[6:]) if dtype is None else dtype)

    return tuple(mk(r) for r in res) if isinstance(res, tuple) else mk(res)


def _outcome(f):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            return f(), None, [str(x.message) for x in w]
        except Exception as e:  # noqa: BLE001 - the type is what is compared
            return None, e, [str(x.message) for x in w]


def _check_same_outcome(lf, tf, name):
    lr, le, lw = _outcome(lf)
    tr, te, tw = _outcome(tf)
    assert (le is None) == (te is None), f"leafgrad: {le!r}; torch: {te!r}"
    if te is not None:
        assert type(le).__name__ == type(te).__name__ or isinstance(le, type(te)), (le, te)
        assert "Why:" in str(le) or "unsupported operation" in str(le) or le.args, le
        return None
    assert any("resized" in m for m in lw) == any("resized" in m for m in tw), (lw, tw)
    _same(lr, tr, name)
    return lr


def _sample_or_fail(tm, name):
    s = sample(tm, name)
    assert s is not None, f"no sample call for {tm.__name__}.{name}: add one to out_cases.py"
    return s


@pytest.mark.parametrize("lm,tm,name", CASES, ids=IDS)
def test_out_written_like_torch(lm, tm, name):
    mk, tres = _sample_or_fail(tm, name)
    lres = _call(leafgrad, lm, name, mk)
    lout, tout = _outs_like(leafgrad, lres), _outs_like(torch, tres)
    got = _call(leafgrad, lm, name, mk, out=lout)
    _call(torch, tm, name, mk, out=tout)
    outs = lout if isinstance(lout, tuple) else (lout,)
    if isinstance(lout, tuple):
        assert all(g is o for g, o in zip(got, outs))
    else:
        assert got is lout
    assert all(o._version > 0 for o in outs)
    _same(lout, tout, name)
    if name not in RANDOM:
        _same(lout, _call(leafgrad, lm, name, mk), name)  # the value out= writes is the result


@pytest.mark.parametrize("lm,tm,name", CASES, ids=IDS)
def test_out_resized_like_torch(lm, tm, name):
    mk, tres = _sample_or_fail(tm, name)
    for shape in ((0,), (7,)):
        _check_same_outcome(
            lambda shape=shape: _call(leafgrad, lm, name, mk, out=_outs_like(
                leafgrad, _call(leafgrad, lm, name, mk), shape)),
            lambda shape=shape: _call(torch, tm, name, mk, out=_outs_like(torch, tres, shape)),
            name)


@pytest.mark.parametrize("lm,tm,name", CASES, ids=IDS)
def test_out_dtype_accepted_or_refused_like_torch(lm, tm, name):
    mk, tres = _sample_or_fail(tm, name)
    for dt in ("float64", "int64", "bool", "float32"):
        _check_same_outcome(
            lambda dt=dt: _call(leafgrad, lm, name, mk, out=_outs_like(
                leafgrad, _call(leafgrad, lm, name, mk), dtype=getattr(leafgrad, dt))),
            lambda dt=dt: _call(torch, tm, name, mk, out=_outs_like(
                torch, tres, dtype=getattr(torch, dt))), name)


def _first_tensor(args):
    for a in args:
        if isinstance(a, (torch.Tensor, leafgrad.Tensor)):
            return a
        if isinstance(a, (list, tuple)) and a and isinstance(a[0], (torch.Tensor,
                                                                       leafgrad.Tensor)):
            return a[0]
    return None


# out= aliasing an input where torch's soundness depends on the CPU (its BLAS): sound on the
# Intel machines the suite was written on, unsound on an AMD EPYC; leafgrad writes the right result
_CPU_DEPENDENT = {"matmul", "mm", "matrix_power"}


@pytest.mark.parametrize("lm,tm,name", CASES, ids=IDS)
def test_out_aliasing_an_input_like_torch(lm, tm, name):
    mk, tres = _sample_or_fail(tm, name)
    if isinstance(tres, tuple) or _first_tensor(mk(torch)[0]) is None:
        pytest.skip("out= of several tensors, or no tensor input")

    def run(L, mod):
        args, kwargs = mk(L)
        (torch if L is torch else leafgrad).manual_seed(0)
        getattr(mod, name)(*args, **kwargs, out=_first_tensor(args))
        return _first_tensor(args)

    args, kwargs = mk(torch)
    torch.manual_seed(0)
    true = getattr(tm, name)(*[a.clone() if isinstance(a, torch.Tensor) else a for a in args],
                             **kwargs)
    tr, te, _ = _outcome(lambda: run(torch, tm))
    torch_sound = te is None and (
        tuple(tr.shape) == tuple(true.shape)
        and np.allclose(_np(tr).astype(float), _np(true).astype(float), rtol=1e-5, atol=1e-6,
                        equal_nan=True))
    if tuple(_first_tensor(args).shape) != tuple(true.shape):
        # out is an input of another shape: torch resizes it before reading it, and gets
        # wrong values (mean, std, max...), an IndexError (sum, mv) or, for some ops, the
        # right result; leafgrad refuses them all (deliberate, documented in leafgrad._out)
        with pytest.raises(RuntimeError, match="unsupported operation"):
            run(leafgrad, lm)
        return
    if te is None and not torch_sound:
        # torch's kernel reads what it has already written (bmm; mm and matmul through MKL on
        # some CPUs, an AMD EPYC, not on others): leafgrad refuses, or (where its result does
        # not depend on the CPU) writes the right values
        try:
            lr = run(leafgrad, lm)
        except RuntimeError as e:
            assert "unsupported operation" in str(e), e
            return
        np.testing.assert_allclose(_np(lr).astype(float), _np(true).astype(float), rtol=1e-5,
                                   atol=1e-6, equal_nan=True)
        assert name in _CPU_DEPENDENT, f"torch is unsound here on every CPU: {name} must refuse"
        return
    _check_same_outcome(lambda: run(leafgrad, lm), lambda: run(torch, tm), name)


@pytest.mark.parametrize("lm,tm,name", CASES, ids=IDS)
def test_out_refused_when_an_input_requires_grad(lm, tm, name):
    mk, tres = _sample_or_fail(tm, name)
    largs, lkw = mk(leafgrad)
    first = _first_tensor(largs)
    if first is None or not first.dtype.is_floating_point:
        pytest.skip("no floating-point tensor input")
    first.requires_grad_(True)
    targs, tkw = mk(torch)
    _first_tensor(targs).requires_grad_(True)
    try:
        getattr(tm, name)(*targs, **tkw, out=_outs_like(torch, tres))
        refused = False
    except RuntimeError as e:
        refused = "don't support automatic differentiation" in str(e)
    if not refused:  # a non-differentiable result (argmax, isnan, logical_and...): written
        getattr(lm, name)(*largs, **lkw, out=_outs_like(leafgrad, _call(leafgrad, lm, name, mk)))
        return
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        getattr(lm, name)(*largs, **lkw, out=_outs_like(leafgrad, _call(leafgrad, lm, name, mk)))
    with leafgrad.no_grad():  # allowed outside the graph, as in torch
        getattr(lm, name)(*largs, **lkw, out=_outs_like(leafgrad, _call(leafgrad, lm, name, mk)))


def test_out_checks_leave_every_out_untouched():
    """A dtype refused for the second output leaves the first unwritten too."""
    x = leafgrad.tensor([[3.0, 1.0], [2.0, 5.0]])
    v, i = leafgrad.zeros(2), leafgrad.zeros(2)  # indices must be int64
    with pytest.raises(RuntimeError, match="dtype"):
        leafgrad.max(x, 1, out=(v, i))
    assert v.tolist() == [0.0, 0.0] and v._version == 0


def test_out_writes_through_to_views_of_out():
    base = leafgrad.zeros(2, 3)
    row = base[1]
    leafgrad.add(leafgrad.ones(3), 1, out=row)
    assert base.tolist() == [[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]


def test_out_keeps_its_signature_visible():
    assert "out" in inspect.signature(leafgrad.add).parameters
    assert "out" in inspect.signature(leafgrad.linalg.inv).parameters
    assert "out" not in inspect.signature(leafgrad.isnan).parameters
    with pytest.raises(TypeError):
        leafgrad.isnan(leafgrad.ones(2), out=leafgrad.zeros(2))


def test_out_may_be_the_right_hand_side_of_solve_triangular_only():
    """torch solves in place into ``B`` (right) but reads ``A`` after writing it (wrong)."""
    a = leafgrad.tensor([[2.0, 0.0], [1.0, 3.0]])
    b = leafgrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    want = leafgrad.linalg.solve_triangular(a, b, upper=False)
    leafgrad.linalg.solve_triangular(a, b, upper=False, out=b)
    assert b.tolist() == want.tolist()
    with pytest.raises(RuntimeError, match="unsupported operation"):
        leafgrad.linalg.solve_triangular(a, b, upper=False, out=a)
