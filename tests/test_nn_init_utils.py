"""nn.init (same draws as torch after the same seed) and nn.utils (clipping, vector conversion,
pad_sequence) against torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_modules import NORMALS_EXACT  # noqa: I001 - a sibling test module

import leafgrad


def _np(t):
    return t.detach().numpy()


INITS = [
    ("uniform_", (3, 4), dict(a=-0.5, b=2.0)),
    ("normal_", (3, 4), dict(mean=1.0, std=0.5)),
    ("normal_", (40, 3), dict(mean=0.0, std=2.0)),
    ("constant_", (2, 3), dict(val=0.3)),
    ("ones_", (2, 3), {}),
    ("zeros_", (2, 3), {}),
    ("eye_", (3, 5), {}),
    ("dirac_", (4, 2, 3), dict(groups=2)),
    ("dirac_", (2, 2, 3, 3), {}),
    ("xavier_uniform_", (30, 20), dict(gain=2.0)),
    ("xavier_normal_", (5, 2), {}),
    ("xavier_normal_", (30, 20, 3), dict(gain=0.5)),
    ("kaiming_uniform_", (16, 8, 3), dict(a=math.sqrt(5))),
    ("kaiming_uniform_", (10, 6), dict(mode="fan_out", nonlinearity="relu")),
    ("kaiming_normal_", (5, 3), dict(nonlinearity="tanh")),
    ("kaiming_normal_", (20, 6), dict(mode="fan_out", nonlinearity="leaky_relu", a=0.2)),
    ("trunc_normal_", (50, 4), dict(mean=0.2, std=1.0, a=-1.0, b=1.5)),
    ("trunc_normal_", (50, 4), dict(mean=0.0, std=3.0, a=-0.5, b=0.5)),
    ("trunc_normal_", (7,), dict(std=0.02)),
    ("sparse_", (6, 4), dict(sparsity=0.4, std=0.1)),
    ("orthogonal_", (4, 6), dict(gain=2.0)),
    ("orthogonal_", (6, 3, 2), {}),
]


@pytest.mark.parametrize("name,shape,kw", INITS, ids=lambda v: str(v))
def test_init_matches_torch(name, shape, kw):
    outs = []
    for lib in (leafgrad, torch):
        lib.manual_seed(11)
        t = lib.empty(shape)
        r = getattr(lib.nn.init, name)(t, **kw)
        assert r is t
        outs.append((_np(t), lib.get_rng_state().numpy().tobytes()))
    (a, sa), (b, sb) = outs
    assert sa == sb, "the generator must be left where torch leaves it"
    normal_draws = name in ("normal_", "xavier_normal_", "kaiming_normal_", "trunc_normal_",
                            "sparse_", "orthogonal_") and (math.prod(shape) >= 16
                                                          or name == "orthogonal_")
    if name == "orthogonal_":
        # the QR factorisation is LAPACK's on both sides but not the same build
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    elif NORMALS_EXACT or not normal_draws:
        np.testing.assert_array_equal(a, b)
    else:  # float32 normals on a CPU where the core generator is a few ulp off (random.md)
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6)


def test_calculate_gain_and_errors_as_torch():
    for args in (("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",),
                 ("leaky_relu",), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu",)):
        assert leafgrad.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)
    for call in (lambda lib: lib.nn.init.calculate_gain("swish"),
                 lambda lib: lib.nn.init.calculate_gain("leaky_relu", "x"),
                 lambda lib: lib.nn.init.xavier_uniform_(lib.empty(3)),
                 lambda lib: lib.nn.init.kaiming_uniform_(lib.empty(3, 2), mode="fan"),
                 lambda lib: lib.nn.init.eye_(lib.empty(2, 2, 2)),
                 lambda lib: lib.nn.init.dirac_(lib.empty(3, 2, 3), groups=2)):
        errs = []
        for lib in (leafgrad, torch):
            with pytest.raises(Exception) as e:
                call(lib)
            errs.append((type(e.value), str(e.value)))
        assert errs[0][0].__name__ == errs[1][0].__name__ and errs[0][1] == errs[1][1]


def _params_with_grads(lib, seed: int, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    ps = []
    for shape in ((3, 4), (5,), (2, 2, 2)):
        p = lib.nn.Parameter(lib.tensor(rng.standard_normal(shape).astype(np.float32)))
        p.grad = lib.tensor((rng.standard_normal(shape) * scale).astype(np.float32))
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    lp, tp = _params_with_grads(leafgrad, 0), _params_with_grads(torch, 0)
    ln = leafgrad.nn.utils.clip_grad_norm_(lp, max_norm, norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    np.testing.assert_allclose(_np(ln), _np(tn), rtol=1e-6)
    for a, b in zip(lp, tp):
        np.testing.assert_allclose(_np(a.grad), _np(b.grad), rtol=1e-6)


def test_clip_grad_norm_nonfinite_and_value():
    lp = _params_with_grads(leafgrad, 1)
    lp[1].grad[0] = float("inf")
    with pytest.raises(RuntimeError, match="non-finite"):
        leafgrad.nn.utils.clip_grad_norm_(lp, 1.0, error_if_nonfinite=True)
    assert float(lp[1].grad[0]) == math.inf  # nothing was scaled
    lp, tp = _params_with_grads(leafgrad, 2, 3.0), _params_with_grads(torch, 2, 3.0)
    leafgrad.nn.utils.clip_grad_value_(lp, 0.7)
    torch.nn.utils.clip_grad_value_(tp, 0.7)
    for a, b in zip(lp, tp):
        np.testing.assert_array_equal(_np(a.grad), _np(b.grad))
    # a single tensor is accepted as well as an iterable; no grads at all is fine
    p = leafgrad.nn.Parameter(leafgrad.ones(2))
    assert float(leafgrad.nn.utils.clip_grad_norm_(p, 1.0)) == 0.0


def test_parameters_vector_round_trip_as_torch():
    lp, tp = _params_with_grads(leafgrad, 3), _params_with_grads(torch, 3)
    lv = leafgrad.nn.utils.parameters_to_vector(lp)
    tv = torch.nn.utils.parameters_to_vector(tp)
    np.testing.assert_array_equal(_np(lv), _np(tv))
    leafgrad.nn.utils.vector_to_parameters(lv * 2, lp)
    torch.nn.utils.vector_to_parameters(tv * 2, tp)
    for a, b in zip(lp, tp):
        np.testing.assert_array_equal(_np(a), _np(b))
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        leafgrad.nn.utils.vector_to_parameters([1.0], lp)


@pytest.mark.parametrize("kw", [{}, dict(batch_first=True, padding_value=-1.0),
                                dict(padding_side="left")])
def test_pad_sequence_as_torch(kw):
    rng = np.random.default_rng(4)
    seqs = [rng.standard_normal((n, 2)) for n in (3, 1, 4)]
    outs = []
    for lib in (leafgrad, torch):
        ts = [lib.tensor(s, requires_grad=True) for s in seqs]
        y = lib.nn.utils.rnn.pad_sequence(ts, **kw)
        (y * lib.arange(float(y.numel())).reshape(y.shape)).sum().backward()
        outs.append((_np(y), [_np(t.grad) for t in ts]))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    for a, b in zip(outs[0][1], outs[1][1]):
        np.testing.assert_array_equal(a, b)
