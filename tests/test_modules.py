"""Table-driven module tests (tests/moduleinfo.py): each module built in torch and leafgrad from
the same seed must have bit-identical parameters, the same repr and state_dict keys, and give
the same outputs, input gradients and parameter gradients, in train and eval mode."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from moduleinfo import MODULES

import leafgrad

SEED = 7


def _normals_exact() -> bool:
    """Whether leafgrad's float32 normals equal torch's on this machine (not on CPUs where
    PyTorch takes its non-AVX2 normal kernel: see docs/random.md)."""
    leafgrad.manual_seed(0)
    torch.manual_seed(0)
    return bool((leafgrad.randn(64).numpy() == torch.randn(64).numpy()).all())


NORMALS_EXACT = _normals_exact()


def _build(row, lib, dtype: str):
    lib.manual_seed(SEED)
    m = row.ctor(lib.nn)
    return m.double() if dtype == "float64" else m


def _inputs(row, dtype: str, seed: int):
    """(leafgrad inputs, torch inputs) made from the same arrays."""
    rng = np.random.default_rng(seed)
    lo, hi = row.domain
    lg, th = [], []
    for spec in row.inputs:
        if isinstance(spec, np.ndarray):
            a, grad = spec, False
        elif callable(spec):
            a, grad = spec(rng).astype(dtype), False
        else:
            a, grad = rng.uniform(lo, hi, size=spec).astype(dtype), True
        lg.append(leafgrad.tensor(a.copy(), requires_grad=grad))
        th.append(torch.tensor(a.copy(), requires_grad=grad))
    return lg, th


def _forward(row, m, xs, lib):
    if row.random:
        lib.manual_seed(SEED + 1)
    return m(*xs)


def _close(a, b, row, dtype, what=""):
    a = a.detach().numpy() if isinstance(a, leafgrad.Tensor) else a
    b = b.detach().numpy()
    rtol, atol = (row.rtol, row.atol) if dtype == "float32" else (1e-9, 1e-11)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


CASES = [pytest.param(row, dt, id=f"{row.name}-{dt}") for row in MODULES for dt in row.dtypes]


@pytest.mark.parametrize("row,dtype", CASES)
def test_module_matches_torch(row, dtype):
    lm, tm = _build(row, leafgrad, dtype), _build(row, torch, dtype)
    if not NORMALS_EXACT:  # start from torch's values so that outputs compare tightly
        lm.load_state_dict({k: leafgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    # same draws, same order: bit-identical parameters and buffers
    lp, tp = dict(lm.named_parameters()), dict(tm.named_parameters())
    assert list(lp) == list(tp)
    for k in tp:
        assert str(lp[k].dtype) == str(tp[k].dtype), k
        a, b = lp[k].detach().numpy(), tp[k].detach().numpy()
        if NORMALS_EXACT or (a == b).all():
            np.testing.assert_array_equal(a, b, err_msg=k)
        else:  # normal draws on a CPU where the core generator is off by a few ulp
            np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6, err_msg=k)
        assert lp[k].requires_grad == tp[k].requires_grad
    assert [n for n, _ in lm.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert repr(lm) == repr(tm)
    assert list(lm.state_dict()) == list(tm.state_dict())
    for mode in ("train", "eval"):
        getattr(lm, mode)()
        getattr(tm, mode)()
        lx, tx = _inputs(row, dtype, seed=1)
        lo, to = _forward(row, lm, lx, leafgrad), _forward(row, tm, tx, torch)
        assert tuple(lo.shape) == tuple(to.shape) and str(lo.dtype) == str(to.dtype)
        _close(lo, to, row, dtype, f"{mode} output")
        g = np.random.default_rng(2).standard_normal(tuple(to.shape)).astype(dtype)
        lo.backward(leafgrad.tensor(g))
        to.backward(torch.tensor(g))
        for i, (a, b) in enumerate(zip(lx, tx)):
            assert (a.grad is None) == (b.grad is None), f"input {i}"
            if b.grad is not None:
                _close(a.grad, b.grad, row, dtype, f"{mode} input {i} grad")
        for k, b in tm.named_parameters():
            a = lp[k]
            assert (a.grad is None) == (b.grad is None), k
            if b.grad is not None:
                _close(a.grad, b.grad, row, dtype, f"{mode} grad of {k}")
        for (k, a), (_, b) in zip(lm.named_buffers(), tm.named_buffers()):
            _close(a, b, row, dtype, f"{mode} buffer {k}")
        lm.zero_grad()
        tm.zero_grad()


@pytest.mark.parametrize("row", [r for r in MODULES if r.train_differs], ids=lambda r: r.name)
def test_train_and_eval_differ_as_in_torch(row):
    """Modules whose train and eval outputs differ in torch differ in leafgrad too."""
    lm = _build(row, leafgrad, "float64")
    lx, _ = _inputs(row, "float64", seed=3)
    a = _forward(row, lm.train(), lx, leafgrad).detach().numpy()
    b = _forward(row, lm.eval(), lx, leafgrad).detach().numpy()
    assert not np.allclose(a, b)


@pytest.mark.parametrize("row", [r for r in MODULES if r.name in (
    "Sequential", "BatchNorm2d", "Linear", "Embedding_padding", "LayerNorm_2d_nobias",
    "CrossEntropyLoss_options", "InstanceNorm2d", "PReLU_channels")], ids=lambda r: r.name)
def test_state_dict_round_trip(row):
    """leafgrad state dict -> NumPy -> torch.load_state_dict, and back, keeps every value."""
    lm = _build(row, leafgrad, "float32")
    with leafgrad.no_grad():
        for p in lm.parameters():
            p.mul_(1.5).add_(0.25)  # make the values differ from a fresh torch module's
    tm = _build(row, torch, "float32")
    res = tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lm.state_dict().items()})
    assert repr(res) == "<All keys matched successfully>"
    for (k, a), (_, b) in zip(lm.state_dict().items(), tm.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    back = _build(row, leafgrad, "float32")
    back.load_state_dict({k: leafgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    for (k, a), (_, b) in zip(back.state_dict().items(), lm.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
        assert str(a.dtype) == str(b.dtype)
