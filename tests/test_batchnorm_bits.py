"""Batch norm to the last bit: PyTorch's contiguous NCHW CPU kernels (ops/batchnorm_cpu.py),
forward, backward and running statistics, float32 and float64, training and eval."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

import leafgrad

SHAPES = [(32, 16, 8, 8), (8, 4, 5), (4, 3, 7, 7), (5, 2, 3), (3, 2, 17), (2, 5, 9, 3),
          (6, 3, 16), (2, 4, 1, 5), (1, 3, 6)]


def _run(lib, x, go, w, b, rm, rv, training):
    t = lambda a: None if a is None else lib.tensor(a.copy())  # noqa: E731
    X = lib.tensor(x, requires_grad=True)
    W = None if w is None else lib.tensor(w, requires_grad=True)
    B = None if b is None else lib.tensor(b, requires_grad=True)
    RM, RV = t(rm), t(rv)
    y = lib.nn.functional.batch_norm(X, RM, RV, W, B, training=training, momentum=0.1,
                                     eps=1e-5)
    y.backward(lib.tensor(go))
    out = [y.detach(), X.grad] + ([W.grad] if W is not None else []) + (
        [B.grad] if B is not None else []) + ([RM, RV] if RM is not None else [])
    return [np.asarray(o.cpu().numpy()) for o in out]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("mode", ["train", "train_running", "eval", "train_no_affine"])
def test_batch_norm_bits_equal_torch(shape, dtype, mode):
    torch.set_num_threads(1)
    rng = np.random.default_rng(zlib.crc32(repr((shape, mode)).encode()))
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    go = rng.standard_normal(shape).astype(dtype)
    c = shape[1]
    w = b = None
    if mode != "train_no_affine":
        w, b = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    rm = rv = None
    if mode in ("train_running", "eval"):
        rm = rng.standard_normal(c).astype(dtype)
        rv = rng.uniform(0.5, 2.0, c).astype(dtype)
    before = x.copy()
    ours = _run(leafgrad, x, go, w, b, rm, rv, mode != "eval")
    np.testing.assert_array_equal(x, before)  # the input is not written
    theirs = _run(torch, x, go, w, b, rm, rv, mode != "eval")
    for k, (a, t) in enumerate(zip(ours, theirs)):
        assert a.dtype == t.dtype and a.shape == t.shape, k
        np.testing.assert_array_equal(a.view(np.uint8), t.view(np.uint8), err_msg=f"output {k}")


def test_infinite_weight_gradient_is_torchs():
    # the input gradient is a rounding residue times an infinite weight (fuzz seed 1000986):
    # its sign, and that it is not NaN, come from PyTorch's own operation order
    def run(lib):
        x = lib.tensor([[[-1.5, 1.5, -0.5, 0.0, 1.0], [-1.0, 1.0, 1.0, 0.0, 2.0],
                         [-1.5, 2.0, -0.25, -1.0, -0.5]]], requires_grad=True)
        w = lib.tensor([float("inf"), -1.5, -2.0])
        y = lib.nn.functional.batch_norm(x, None, None, w, w, training=True)
        return lib.autograd.grad(y.sum(), [x])[0].numpy()

    np.testing.assert_array_equal(run(leafgrad), run(torch))


@pytest.mark.parametrize("shape", [(4, 3, 7, 7), (8, 4, 5), (2, 5, 9, 3)], ids=str)
@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_batch_norm_broadcast_gradient_bits(shape, reduce):
    # a sum's or a mean's gradient is a broadcast: PyTorch's strided backward template
    torch.set_num_threads(1)
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    w, b = rng.standard_normal((2, shape[1])).astype(np.float32)

    def run(lib):
        X, W, B = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = lib.nn.functional.batch_norm(X, None, None, W, B, training=True)
        getattr(y, reduce)().backward()
        return [a.grad.numpy() for a in (X, W, B)]

    for k, (a, t) in enumerate(zip(run(leafgrad), run(torch))):
        np.testing.assert_array_equal(a.view(np.uint32), t.view(np.uint32), err_msg=str(k))


def test_above_the_exact_size_batch_norm_is_close_to_torch(monkeypatch):
    # past batchnorm_cpu.EXACT_ELEMENTS the plain formulas run (NumPy speed): equal to torch's
    # within rounding, the running statistics too
    from leafgrad.ops import batchnorm_cpu

    monkeypatch.setattr(batchnorm_cpu, "EXACT_ELEMENTS", 100)
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((8, 4, 5, 5)) * 3 + 1).astype(np.float32)
    go = rng.standard_normal(x.shape).astype(np.float32)
    w, b = rng.standard_normal((2, 4)).astype(np.float32)
    rm, rv = np.zeros(4, np.float32), np.ones(4, np.float32)
    ours = _run(leafgrad, x, go, w, b, rm, rv, True)
    theirs = _run(torch, x, go, w, b, rm, rv, True)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a, t, rtol=2e-5, atol=2e-6)


def test_one_channel_takes_the_formulas_and_leaves_the_input():
    # one channel is outside the reproduction (batchnorm_cpu.applies); the input stays as it was
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 1, 5))
    X = leafgrad.tensor(x, requires_grad=True)
    y = leafgrad.nn.functional.batch_norm(X, None, None, training=True)
    np.testing.assert_array_equal(X.detach().numpy(), x)
    want = torch.nn.functional.batch_norm(torch.tensor(x), None, None, training=True)
    np.testing.assert_allclose(y.detach().numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


def test_column_sums_run_in_order():
    # the statistics rely on NumPy adding a non-inner axis row after row (a C loop's order)
    from leafgrad.ops.batchnorm_cpu import _column_sums64

    rng = np.random.default_rng(9)
    a = (rng.standard_normal((5000, 7)) * 10.0 ** rng.integers(-8, 8, (5000, 7))).astype(
        np.float32)
    np.testing.assert_array_equal(_column_sums64(a), np.cumsum(a, axis=0, dtype=np.float64)[-1])
    # a column-major array too (its columns would otherwise be NumPy's inner, pairwise axis)
    f = np.asfortranarray(a)
    np.testing.assert_array_equal(_column_sums64(f), np.cumsum(a, axis=0, dtype=np.float64)[-1])
