"""Gradients at awkward points against PyTorch: NaN/inf inputs and upstream gradients,
boundaries of piecewise ops, structural zeros (issue 9, gradient side)."""

import numpy as np
import pytest
import torch as T

import leafgrad as L

NAN, INF = float("nan"), float("inf")
PTS = [-6.0, -3.0, -1.0, -0.5, 0.0, -0.0, 0.5, 1.0, 3.0, 6.0, NAN, INF, -INF]


def same(a, b):
    """Equal arrays, NaN where NaN (the sign of a zero is the fuzzer's separate category)."""
    if isinstance(b, str) or isinstance(a, str):
        assert a == b
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a, b)
    np.testing.assert_array_equal(a, b)


# op -> (function of (module, x), second order checked for a non-finite upstream gradient)
PIECEWISE = {
    "relu": (lambda m, x: m.relu(x), True),
    "relu_": (lambda m, x: (x * 1).relu_(), True),
    "relu6": (lambda m, x: m.nn.functional.relu6(x), True),
    "hardtanh": (lambda m, x: m.nn.functional.hardtanh(x), True),
    "hardswish": (lambda m, x: m.nn.functional.hardswish(x), True),
    "hardshrink": (lambda m, x: m.nn.functional.hardshrink(x, 0.5), True),
    "threshold": (lambda m, x: m.nn.functional.threshold(x, 1.0, 2.0), True),
    "leaky_relu": (lambda m, x: m.nn.functional.leaky_relu(x, 0.1), True),
    "clamp": (lambda m, x: m.clamp(x, -1, 1), True),
    # NOTE: PyTorch's elu double backward multiplies by the mask (x < 0), so an inf upstream
    # gradient gives inf * 0 = NaN where x >= 0; leafgrad selects (0 there): not checked
    "elu": (lambda m, x: m.nn.functional.elu(x), False),
    "celu": (lambda m, x: m.nn.functional.celu(x), False),
    "selu": (lambda m, x: m.nn.functional.selu(x), False),
}


def _run(m, f, dt, g):
    x = m.tensor(PTS, dtype=getattr(m, dt), requires_grad=True)
    y = f(m, x)
    (gr,) = m.autograd.grad(y, x, m.full_like(y, g), create_graph=True)
    try:
        (g2,) = m.autograd.grad(gr.sum(), x, allow_unused=True)
        g2 = None if g2 is None else g2.numpy()
    except RuntimeError as e:  # e.g. a grad with no graph: both must refuse
        g2 = type(e).__name__
    return y.detach().numpy(), gr.detach().numpy(), g2


@pytest.mark.parametrize("g", [1.5, NAN, INF])
@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("op", sorted(PIECEWISE))
def test_piecewise_nan_inputs_boundaries_and_upstream(op, dt, g):
    """Which branch a NaN input takes, the gradient at the kinks, and the double backward."""
    f, second = PIECEWISE[op]
    want, got = _run(T, f, dt, g), _run(L, f, dt, g)
    same(got[0], want[0])
    same(got[1], want[1])
    if second or np.isfinite(g):
        same(got[2], want[2])


def test_relu_nan_output_passes_gradient():
    """fuzz seed 2236: relu_ on a NaN keeps the upstream gradient (PyTorch tests out <= 0)."""
    def run(m):
        x0 = m.tensor([[-2.0, NAN, -3.0], [0.0, 2.0, -1.0]], requires_grad=True)
        x1 = x0 * -1
        x2 = x1.squeeze(-2)
        x1.relu_()
        x2.backward(m.tensor([[0.5, -1.5, 0.5], [0.25, -3.0, 0.5]]))
        return x0.grad.numpy()
    same(run(L), run(T))
