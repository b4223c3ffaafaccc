"""Forward-mode AD (dual_level, make_dual, unpack_dual) against torch.autograd.forward_ad."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as TFW

import leafgrad
import leafgrad.autograd.forward_ad as LFW
import leafgrad.autograd.functional as LF

pytestmark = pytest.mark.usefixtures("each_device")  # every test on cpu, fake (and cuda)

RNG = np.random.default_rng(1)
X = RNG.standard_normal((3, 4))
T = RNG.standard_normal((3, 4))
W = RNG.standard_normal((4, 2))

FNS = {
    "elementwise": lambda lib, x: (x.sin() * x.exp() + x * x / (x * x + 1)).tanh(),
    "relu_sigmoid": lambda lib, x: x.relu() + x.sigmoid() - x.abs(),
    "reductions": lambda lib, x: x.sum(1) * x.mean() + (x ** 2).sum(),
    "shape": lambda lib, x: x.t().reshape(2, 6).unsqueeze(0).permute(2, 0, 1) * 2,
    "matmul": lambda lib, x: x @ lib.tensor(W, dtype=lib.float64),
    "index": lambda lib, x: x[1:, ::2] * x[0, 1],
}


@pytest.mark.parametrize("name", list(FNS))
def test_tangent_matches_torch(name):
    out = []
    for lib, fw in ((leafgrad, LFW), (torch, TFW)):
        with fw.dual_level():
            d = fw.make_dual(lib.tensor(X, dtype=lib.float64), lib.tensor(T, dtype=lib.float64))
            y = FNS[name](lib, d)
            p, t = fw.unpack_dual(y)
            out.append((p.detach().cpu().numpy(), t.detach().cpu().numpy()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-10, atol=1e-12)


def test_matches_reverse_mode_jvp():
    # J t computed from the full Jacobian (reverse mode) equals the forward-mode tangent
    f = FNS["elementwise"]
    x = leafgrad.tensor(X, dtype=leafgrad.float64)
    jac = LF.jacobian(lambda a: f(leafgrad, a), x).cpu().numpy()
    with LFW.dual_level():
        t = LFW.unpack_dual(f(leafgrad, LFW.make_dual(x, leafgrad.tensor(T, dtype=x.dtype))))[1]
    np.testing.assert_allclose(t.cpu().numpy(), np.einsum("abcd,cd->ab", jac, T), rtol=1e-10)


def test_two_duals_and_unrelated_tensors():
    out = []
    for lib, fw in ((leafgrad, LFW), (torch, TFW)):
        with fw.dual_level():
            a = fw.make_dual(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 0.0]))
            b = fw.make_dual(lib.tensor([3.0, -1.0]), lib.tensor([0.5, 2.0]))
            u = fw.unpack_dual(a * b + b.exp())
            plain = lib.ones(2)
            up = fw.unpack_dual(plain)
            assert up.tangent is None and type(up).__name__ == "UnpackedDualTensor"
            ua = fw.unpack_dual(a)
            out.append((u.primal.cpu().numpy(), u.tangent.cpu().numpy(), ua.tangent.cpu().numpy()))
        assert fw.unpack_dual(a).tangent is None  # tangents end with the level
    for x, y in zip(*out):
        np.testing.assert_allclose(x, y, rtol=1e-6)


def test_errors():
    for lib, fw in ((leafgrad, LFW), (torch, TFW)):
        with pytest.raises(RuntimeError, match="no level exists"):
            fw.make_dual(lib.ones(2), lib.ones(2))
        with fw.dual_level():
            with pytest.raises(RuntimeError, match="different size than that of the original"):
                fw.make_dual(lib.ones(3), lib.ones(2))
            with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
                with fw.dual_level():
                    pass
