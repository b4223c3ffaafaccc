"""Table-driven op tests: every row of opinfo.OPS against torch (forward, gradients, gradcheck,
second derivatives, node names), plus a guard that every op class has a row."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from opinfo import OPS, UNTESTED_NODES

import leafgrad
from leafgrad.autograd import gradcheck, gradgradcheck
from leafgrad.autograd.node import Op

ROWS = {op.name: op for op in OPS}


def _inputs(op, shapes, dtype: str, seed: int):
    rng = np.random.default_rng(seed)
    lo, hi = op.domain
    arrs = []
    for s in shapes:
        if dtype in ("float32", "float64"):
            a = rng.uniform(lo, hi, size=s).astype(dtype)
        elif dtype == "bool":
            a = rng.integers(0, 2, size=s).astype(bool)
        else:
            a = rng.integers(max(int(lo), 0) if dtype == "uint8" else int(lo) - 1,
                             int(hi) + 3, size=s).astype(dtype)
            if op.name.startswith("div") or op.name == "pow_tensor":
                a[a == 0] = 1
        arrs.append(np.asarray(a))
    return arrs


def _cases(kind: str):
    for op in OPS:
        for k, shapes in enumerate(op.shapes()):
            dts = op.dtypes + (op.int_dtypes if kind == "forward" else ())
            for dt in dts:
                if kind != "forward" and not op.grad:
                    continue
                yield pytest.param(op, shapes, dt, id=f"{op.name}-{k}-{dt}")


def _run(op, arrs, requires_grad: bool):
    lg = [leafgrad.tensor(a.copy(), requires_grad=requires_grad) for a in arrs]
    th = [torch.tensor(a.copy(), requires_grad=requires_grad) for a in arrs]
    return lg, th, op.fn(leafgrad, *lg), op.fn(torch, *th)


def _close(a, b, op, dtype):
    a = a.detach().numpy() if isinstance(a, leafgrad.Tensor) else a
    b = b.detach().numpy()
    tol = 1e-3 if dtype == "float16" else op.rtol if dtype == "float32" else 1e-10
    atol = op.atol if dtype == "float32" else 1e-12
    np.testing.assert_allclose(a, b, rtol=tol, atol=atol)


@pytest.mark.parametrize("op,shapes,dtype", list(_cases("forward")))
def test_forward_matches_torch(op, shapes, dtype):
    arrs = _inputs(op, shapes, dtype, seed=0)
    try:
        _, _, t_out = None, None, op.fn(torch, *[torch.tensor(a) for a in arrs])
    except Exception as e:  # torch rejects it: leafgrad must raise the same type
        with pytest.raises(type(e)):
            op.fn(leafgrad, *[leafgrad.tensor(a) for a in arrs])
        return
    l_out = op.fn(leafgrad, *[leafgrad.tensor(a) for a in arrs])
    assert str(l_out.dtype) == str(t_out.dtype), (l_out.dtype, t_out.dtype)
    assert tuple(l_out.shape) == tuple(t_out.shape)
    _close(l_out, t_out, op, dtype)


@pytest.mark.parametrize("op,shapes,dtype", list(_cases("grad")))
def test_gradients_match_torch(op, shapes, dtype):
    arrs = _inputs(op, shapes, dtype, seed=1)
    lg, th, l_out, t_out = _run(op, arrs, requires_grad=True)
    if not op.node_differs:
        assert type(l_out.grad_fn).__name__ == type(t_out.grad_fn).__name__
    g = np.random.default_rng(2).standard_normal(tuple(t_out.shape)).astype(dtype)
    l_out.backward(leafgrad.tensor(g))
    t_out.backward(torch.tensor(g))
    for a, b in zip(lg, th):
        assert (a.grad is None) == (b.grad is None)
        if b.grad is not None:
            assert a.grad.shape == b.grad.shape and str(a.grad.dtype) == str(b.grad.dtype)
            _close(a.grad, b.grad, op, dtype)


@pytest.mark.parametrize("op,shapes,dtype", [c for c in _cases("grad") if c.values[2] ==
                                             "float64"])
def test_gradcheck(op, shapes, dtype):
    arrs = _inputs(op, shapes, dtype, seed=3)
    xs = [leafgrad.tensor(a, requires_grad=True) for a in arrs]
    assert gradcheck(lambda *ts: op.fn(leafgrad, *ts), xs)


@pytest.mark.parametrize("op,shapes,dtype", [c for c in _cases("grad") if c.values[2] ==
                                             "float64" and c.values[0].gradgrad])
def test_second_derivatives_match_torch(op, shapes, dtype):
    """create_graph=True: differentiate the gradient again and compare with torch."""
    arrs = _inputs(op, shapes, dtype, seed=4)
    lg, th, l_out, t_out = _run(op, arrs, requires_grad=True)
    rng = np.random.default_rng(5)
    g = rng.standard_normal(tuple(t_out.shape))
    lgr = leafgrad.autograd.grad(l_out, lg, leafgrad.tensor(g, requires_grad=True),
                                 create_graph=True, allow_unused=True)
    tgr = torch.autograd.grad(t_out, th, torch.tensor(g, requires_grad=True),
                              create_graph=True, allow_unused=True)
    ls, ts = 0, 0
    for a, b in zip(lgr, tgr):
        assert (a is None) == (b is None)
        if a is not None and b.requires_grad:
            v = rng.standard_normal(tuple(b.shape))
            ls = ls + (a * leafgrad.tensor(v)).sum()
            ts = ts + (b * torch.tensor(v)).sum()
    if not isinstance(ts, torch.Tensor) or not ts.requires_grad:
        return
    l2 = leafgrad.autograd.grad(ls, lg, allow_unused=True)
    t2 = torch.autograd.grad(ts, th, allow_unused=True)
    for a, b in zip(l2, t2):
        if b is None:
            assert a is None or np.allclose(a.numpy(), 0)
        else:
            assert a is not None, "torch has a (possibly zero) second derivative, leafgrad None"
            # (b + 0): torch may return a ZeroTensor, which refuses .numpy()
            np.testing.assert_allclose(a.numpy(), (b + 0).numpy(), rtol=1e-8, atol=1e-10)
    assert gradgradcheck(lambda *ts: op.fn(leafgrad, *ts),
                         [leafgrad.tensor(a, requires_grad=True) for a in arrs])


def _op_classes():
    import importlib
    import pkgutil

    import leafgrad.ops

    mods = [importlib.import_module(m.name)
            for m in pkgutil.walk_packages(leafgrad.ops.__path__, "leafgrad.ops.")]
    out = {}
    for mod in mods:
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if issubclass(cls, Op) and cls is not Op and cls.__module__ == mod.__name__:
                out[cls.__qualname__] = cls
    return out


def _nodes_reached(out) -> set:
    seen, stack = set(), [out.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        stack.extend(n for n, _ in fn.next_functions)
    return {type(f).__qualname__ for f in seen}


def test_every_op_class_has_a_table_row():
    """Guard: an op class that no row of the table reaches is an untested op."""
    reached = set()
    for op in OPS:
        for shapes in op.shapes():
            dt = op.dtypes[-1]
            arrs = _inputs(op, shapes, dt, seed=0)
            lg = [leafgrad.tensor(a, requires_grad=op.grad) for a in arrs]
            out = op.fn(leafgrad, *lg)
            if out.grad_fn is not None:
                reached |= _nodes_reached(out)
                if op.gradgrad:  # the backward of an op's backward (e.g. Embed)
                    go = leafgrad.ones_like(out, requires_grad=True)
                    (g,) = leafgrad.autograd.grad(out, lg[0], go, create_graph=True)
                    if g is not None and g.grad_fn is not None:
                        reached |= _nodes_reached(g)
    missing = set(_op_classes()) - reached - set(UNTESTED_NODES)
    assert not missing, f"op classes with no row in tests/opinfo.py: {sorted(missing)}"


def test_every_public_function_has_a_table_row():
    """Guard: each free function of the op areas (leafgrad.add, leafgrad.sum...) has a row."""
    import leafgrad.methods as areas
    from leafgrad.methods import elementwise, linalg, reduce, shape

    covered = set()
    for op in OPS:
        covered |= {op.name, op.name.split("_")[0], *op.funcs}
    covered_fns = {getattr(leafgrad, n, None) for n in covered} - {None}
    missing = []
    for area in (elementwise, linalg, reduce, shape):
        for name in area.__all__:
            if name not in covered and getattr(leafgrad, name) not in covered_fns:
                missing.append(f"{area.__name__.removeprefix(areas.__name__ + '.')}.{name}")
    assert not missing, f"public functions with no row in the op table: {missing}"


def test_formulas_agree_with_backward():
    """Each op's printed formula, evaluated on real tensors, equals what backward computes."""
    from leafgrad.autograd.formula import evaluate

    checked = set()
    for op in OPS:
        for shapes in op.shapes():
            arrs = _inputs(op, shapes, "float64", seed=6)
            lg = [leafgrad.tensor(a, requires_grad=True) for a in arrs]
            out = op.fn(leafgrad, *lg)
            fn = out.grad_fn
            if fn is None or not isinstance(fn, Op) or fn.__class__ in checked or not fn.formula:
                continue  # (no formula: a node without a derivative, e.g. unique's)
            if fn.__class__.__name__ == "CopySlices":
                continue  # its inputs are the intermediate a * 1, checked through gradients
            if fn.__class__.__name__ == "MatmulBackward0" and min(a.ndim for a in arrs) < 2:
                continue  # the printed formula is the matrix form; 1-d operands act as row/col
            g = leafgrad.tensor(np.random.default_rng(7).standard_normal(tuple(out.shape)))
            inputs = tuple(lg) if len(lg) == len(fn.formula) else None
            with leafgrad.no_grad():
                expected = fn.backward(g)
                expected = expected if isinstance(expected, tuple) else (expected,)
                for key, want in zip(fn.formula, expected):
                    if want is None:
                        continue
                    got = evaluate(fn, key, g, inputs)
                    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12,
                                               err_msg=f"{fn.name()} formula for {key}")
            checked.add(fn.__class__)
    assert len(checked) > 30


shapes_pair = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                min_side=0, max_side=3)


@settings(max_examples=60, deadline=None)
@given(shapes=shapes_pair, which=st.sampled_from(["add", "sub", "mul", "div", "where"]))
def test_broadcasting_binary_ops_match_torch(shapes, which):
    """Random broadcastable shape pairs: values and un-broadcast gradients as torch has them."""
    op = ROWS[which]
    arrs = _inputs(op, shapes.input_shapes, "float64", seed=8)
    if which == "div":
        arrs[1] = np.abs(arrs[1]) + 0.5
    lg, th, l_out, t_out = _run(op, arrs, requires_grad=True)
    _close(l_out, t_out, op, "float64")
    g = np.random.default_rng(9).standard_normal(tuple(t_out.shape))
    l_out.backward(leafgrad.tensor(g))
    t_out.backward(torch.tensor(g))
    for a, b in zip(lg, th):
        _close(a.grad, b.grad, op, "float64")


def test_narration_on_the_op_classes_fills_in_for_every_node():
    """What explain says about an op lives on its class (forward_text, local): on every node the
    table reaches, a declared template fills in from the node's own parameters."""
    from leafgrad.autograd.explanation.forms import forward_expr, local_text

    checked = set()
    for op in OPS:
        for shapes in op.shapes():
            lg = [leafgrad.tensor(a, requires_grad=True)
                  for a in _inputs(op, shapes, "float64", seed=1)]
            out = op.fn(leafgrad, *lg)
            stack = [out.grad_fn]
            while stack:
                fn = stack.pop()
                if fn is None or not isinstance(fn, Op) or fn in checked:
                    continue
                checked.add(fn)
                stack.extend(n for n, _ in fn.next_functions)
                cls = type(fn)
                labels = {k: k.upper() for k in ("x", "a", "b", "out")}
                if cls.forward_text is not None or cls._narrate_forward is not Op._narrate_forward:
                    assert isinstance(forward_expr(fn, dict(labels)), str), fn.name()
                for k in ("x", "a", "b"):
                    if k in cls.local or (k == "x" and cls._narrate_local is not Op._narrate_local):
                        assert isinstance(local_text(fn, k, dict(labels)), str), (fn.name(), k)
    assert len({type(f) for f in checked}) > 150


def test_formula_namespace_has_every_op_modules_helpers():
    """Guard: an op module that lists FORMULA_HELPERS is imported by formula.namespace."""
    import importlib
    import pkgutil

    import leafgrad.ops
    from leafgrad.autograd.formula import namespace

    ns = namespace()
    for m in pkgutil.walk_packages(leafgrad.ops.__path__, "leafgrad.ops."):
        helpers = getattr(importlib.import_module(m.name), "FORMULA_HELPERS", {})
        for name, fn in helpers.items():
            assert ns.get(name) is fn, f"{m.name}.FORMULA_HELPERS[{name!r}] is not in namespace()"
