"""Custom autograd.Function against torch: API, gradients, marks, errors, higher order."""

# Functions defined in the per-library loops run inside that iteration: binding is intended.
# ruff: noqa: B023

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.function as tfunc

import leafgrad
import leafgrad.autograd.function as lfunc

pytestmark = pytest.mark.usefixtures("each_device")  # every test on cpu, fake (and cuda)

LIBS = [(leafgrad, lfunc), (torch, tfunc)]


def _np(t):
    return None if t is None else t.detach().cpu().numpy()


def _exp_cls(lib, fmod):
    class Exp(fmod.Function):
        @staticmethod
        def forward(ctx, x):
            r = x.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * r
    return Exp


def _scale_cls(lib, fmod):
    class Scale(fmod.Function):
        @staticmethod
        def forward(ctx, x, k, y):
            ctx.save_for_backward(x, y)
            ctx.k = k
            return x * k + y * y, (x * 2).long(), 3

        @staticmethod
        def backward(ctx, g, gi, gnone):
            ctx.seen = (gi is not None and gi.dtype == lib.int64 and not gi.any().item(),
                        gnone is None)
            x, y = ctx.saved_tensors
            return g * ctx.k, None, 2 * g * y
    return Scale


def test_basic_exp_values_grads_and_node():
    x0 = np.array([0.5, -1.0, 2.0])
    res = []
    for lib, fm in LIBS:
        x = lib.tensor(x0, requires_grad=True)
        y = _exp_cls(lib, fm).apply(x)
        assert type(y.grad_fn).__name__ == "ExpBackward" == y.grad_fn.name()
        assert len(y.grad_fn.next_functions) == 1
        assert y.requires_grad and not y.is_leaf
        (y * y).sum().backward()
        res.append((_np(y), _np(x.grad)))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6)


def test_non_tensor_args_several_outputs_and_materialized_grads():
    out = []
    for lib, fm in LIBS:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0, -1.0], requires_grad=True)
        a, b, c = _scale_cls(lib, fm).apply(x, 2.5, y)
        assert c == 3 and not b.requires_grad and b.dtype == lib.int64
        # one edge per tensor argument; the float argument gets none
        assert len(a.grad_fn.next_functions) == 2
        node = a.grad_fn
        a.sum().backward()
        assert node.seen == (True, True)
        out.append((_np(x.grad), _np(y.grad)))
    for u, v in zip(*out):
        np.testing.assert_allclose(u, v)


def test_needs_input_grad_and_grad_mode_inside():
    seen = []
    for lib, fm in LIBS:
        class F(fm.Function):
            @staticmethod
            def forward(ctx, a, k, b):
                seen.append(("fwd", ctx.needs_input_grad, lib.is_grad_enabled()))
                return a * b

            @staticmethod
            def backward(ctx, g):
                seen.append(("bwd", ctx.needs_input_grad, lib.is_grad_enabled()))
                return g, None, g

        x = lib.ones(2, requires_grad=True)
        F.apply(x, 1, lib.ones(2)).sum().backward()
        with lib.no_grad():
            r = F.apply(x, 1, lib.ones(2))
        assert r.grad_fn is None and not r.requires_grad
    n = len(seen) // 2
    assert seen[:n] == seen[n:]


def test_setup_context_form_with_defaults_and_kwargs():
    out = []
    for lib, fm in LIBS:
        class Pow(fm.Function):
            @staticmethod
            def forward(x, k=3):
                return x ** k

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, k = inputs
                ctx.save_for_backward(x)
                ctx.k = k

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * ctx.k * x ** (ctx.k - 1), None

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y1 = Pow.apply(x)
        y2 = Pow.apply(x, k=2)
        (y1.sum() + y2.sum()).backward()
        out.append((_np(y1), _np(y2), _np(x.grad), type(y1.grad_fn).__name__))
    assert out[0][3] == out[1][3] == "PowBackward"
    for u, v in zip(out[0][:3], out[1][:3]):
        np.testing.assert_allclose(u, v)


def test_higher_order_through_custom_function():
    out = []
    for lib, fm in LIBS:
        class Cube(fm.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * g * x * x

        x = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        out.append((_np(g), _np(gg)))
        assert lib.autograd.gradcheck(Cube.apply, (x,))
        assert lib.autograd.gradgradcheck(Cube.apply, (x,))
    for u, v in zip(*out):
        np.testing.assert_allclose(u, v)


def test_custom_function_output_saved_by_builtin_op_gets_double_backward():
    out = []
    for lib, fm in LIBS:
        x = lib.tensor([0.3, -0.2], dtype=lib.float64, requires_grad=True)
        y = _exp_cls(lib, fm).apply(x)
        (g,) = lib.autograd.grad((y * y.sin()).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        out.append((_np(g), _np(gg)))
    for u, v in zip(*out):
        np.testing.assert_allclose(u, v, rtol=1e-12)


def test_mark_dirty():
    out = []
    for lib, fm in LIBS:
        class Inc(fm.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a = x * 3
        b = Inc.apply(a)
        assert b is a and type(a.grad_fn).__name__ == "IncBackward"
        v = a._version
        b.sum().backward()
        out.append((_np(b), _np(x.grad), v))
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used"):
            Inc.apply(x)

        class Bad(fm.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g

        with pytest.raises(RuntimeError, match="Some elements marked as dirty"):
            Bad.apply(x * 1)
    assert out[0][2] == out[1][2]
    np.testing.assert_allclose(out[0][0], out[1][0])
    np.testing.assert_allclose(out[0][1], out[1][1])


def test_returned_input_is_a_new_tensor():
    for lib, fm in LIBS:
        class Id(fm.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 5

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = Id.apply(x)
        assert y is not x and x.is_leaf and type(y.grad_fn).__name__ == "IdBackward"
        y.sum().backward()
        np.testing.assert_allclose(_np(x.grad), [5.0, 5.0])


def test_mark_non_differentiable_and_materialize_switch():
    got = []
    for lib, fm in LIBS:
        class Two(fm.Function):
            @staticmethod
            def forward(ctx, x, materialize):
                ctx.set_materialize_grads(materialize)
                a, b = x * 2, x * 3
                ctx.mark_non_differentiable(b)
                return a, b

            @staticmethod
            def backward(ctx, ga, gb):
                got.append(None if gb is None else _np(gb).tolist())
                return ga * 2, None

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        for mat in (True, False):
            a, b = Two.apply(x, mat)
            assert not b.requires_grad and b.grad_fn is None
            a.sum().backward()
    assert got[:2] == got[2:] == [[0.0, 0.0], None]


def test_once_differentiable():
    for lib, fm in LIBS:
        class Sq(fm.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 2

            @staticmethod
            @fm.once_differentiable
            def backward(ctx, g):
                assert not lib.is_grad_enabled()
                (x,) = ctx.saved_tensors
                return 2 * x * g

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad(Sq.apply(x).sum(), x, create_graph=True)
        assert not g.requires_grad
        np.testing.assert_allclose(_np(g), [2.0, 4.0])


@pytest.mark.parametrize("case", ["too_few", "non_none_for_number", "bad_shape", "not_tensor"])
def test_backward_result_errors(case):
    msgs = []
    for lib, fm in LIBS:
        class F(fm.Function):
            @staticmethod
            def forward(ctx, x, k):
                return x * k

            @staticmethod
            def backward(ctx, g):
                if case == "too_few":
                    return g
                if case == "non_none_for_number":
                    return g, g
                if case == "bad_shape":
                    return g[:2], None
                return 3.0, None

        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError) as e:
            F.apply(x, 2.0).sum().backward()
        msgs.append(str(e.value).split("\n")[0])
    assert msgs[0] == msgs[1]


def test_save_for_backward_rejects_non_tensors_and_keeps_none():
    for lib, fm in LIBS:
        class F(fm.Function):
            @staticmethod
            def forward(ctx, x, bad):
                ctx.save_for_backward(x, None, *([3] if bad else []))
                return x * 2

            @staticmethod
            def backward(ctx, g):
                x, n = ctx.saved_tensors
                assert n is None
                return g * 2, None

        x = lib.ones(2, requires_grad=True)
        with pytest.raises(TypeError, match="save_for_backward can only save variables, but "
                                            "argument 2 is of type int"):
            F.apply(x, True)
        F.apply(x, False).sum().backward()


def _first_line(e) -> str:
    return str(e.value).split("\n")[0]


def test_saved_tensor_modified_in_place_raises_torchs_error():
    msgs = []
    for lib, fm in LIBS:
        x = lib.tensor([0.1, 0.2, 0.3], requires_grad=True)
        y = _exp_cls(lib, fm).apply(x)
        with lib.no_grad():
            y.mul_(2)
        with pytest.raises(RuntimeError) as e:
            y.sum().backward()
        msgs.append(_first_line(e))

        class M(fm.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * 2

            @staticmethod
            def backward(ctx, g):
                (a,) = ctx.saved_tensors
                return g * a

        a = x * 1
        z = M.apply(a)
        a.mul_(2)
        with pytest.raises(RuntimeError) as e:
            z.sum().backward()
        msgs.append(_first_line(e))
    assert msgs[0] == msgs[2] and msgs[1] == msgs[3]
    assert "output 0 of Exp," in msgs[0]


def test_freed_graph_and_saved_tensors_access():
    msgs = []
    for lib, fm in LIBS:
        x = lib.tensor([0.1, 0.2], requires_grad=True)
        y = _exp_cls(lib, fm).apply(x)
        y.sum().backward()
        with pytest.raises(RuntimeError) as e1:
            _ = y.grad_fn.saved_tensors
        with pytest.raises(RuntimeError) as e2:
            y.sum().backward()
        msgs.append((_first_line(e1)[:80], _first_line(e2)[:80]))
        y = _exp_cls(lib, fm).apply(x)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
    assert msgs[0] == msgs[1]


def test_missing_forward_or_backward_and_legacy_call():
    for lib, fm in LIBS:
        class NoBwd(fm.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

        class NoFwd(fm.Function):
            @staticmethod
            def backward(ctx, a):
                return a

        x = lib.ones(2, requires_grad=True)
        with pytest.raises(NotImplementedError, match="backward or vjp"):
            NoBwd.apply(x).sum().backward()
        with pytest.raises(NotImplementedError, match="implement the forward"):
            NoFwd.apply(x)
        with pytest.warns(DeprecationWarning), pytest.raises(RuntimeError, match="Legacy"):
            NoBwd()(x)


@pytest.mark.parametrize("layout", ["transposed", "sliced", "contiguous"])
def test_gradcheck_perturbs_non_contiguous_inputs_as_torch(layout):
    """gradcheck perturbs the input's own memory through its strides: a transposed or sliced
    leaf passes for a right gradient and fails for a wrong one, as in torch (it used to
    perturb a flat copy, so the numerical Jacobian was zero)."""
    base = np.random.default_rng(0).standard_normal((3, 4))
    for lib, fm in LIBS:
        class WrongExp(fm.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.exp()

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * x.exp() * 1.5

        t = lib.tensor(base)
        x = {"transposed": t.t(), "sliced": t[:, ::2], "contiguous": t}[layout]
        x = x.detach().requires_grad_()
        assert lib.autograd.gradcheck(lambda a: (a.exp() * a).sin(), (x,))
        assert lib.autograd.gradgradcheck(lambda a: (a.exp() * a).sin(), (x,))
        assert not lib.autograd.gradcheck(WrongExp.apply, (x,), raise_exception=False)
