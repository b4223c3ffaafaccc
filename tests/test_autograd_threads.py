"""Stress: many threads run independent backward passes while toggling grad modes per thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

import leafgrad
from leafgrad.autograd.function import Function

pytestmark = pytest.mark.usefixtures("each_device")  # every test on cpu, fake (and cuda)


class _Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * g * x * x


def _expected(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = torch.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    w = torch.tensor(rng.standard_normal((4, 3)))
    ((a @ w).tanh().sum() + (a ** 3).sum() * 0.1).backward()
    return a.grad.cpu().numpy()


def _worker(seed: int, out: dict, errors: list, barrier: threading.Barrier) -> None:
    try:
        rng = np.random.default_rng(seed)
        a = leafgrad.tensor(rng.standard_normal((5, 4)), dtype=leafgrad.float64,
                            requires_grad=True)
        w = leafgrad.tensor(rng.standard_normal((4, 3)), dtype=leafgrad.float64)
        barrier.wait()
        for it in range(30):
            a.grad = None
            # grad mode is per thread: a no_grad here must not leak into the other threads
            with leafgrad.no_grad():
                assert not leafgrad.is_grad_enabled()
                assert not (a * 2).requires_grad
            if it % 3 == 0:
                leafgrad.set_grad_enabled(False)
                assert (a @ w).grad_fn is None
                leafgrad.set_grad_enabled(True)
            assert leafgrad.is_grad_enabled()
            loss = (a @ w).tanh().sum() + _Cube.apply(a).sum() * 0.1
            loss.backward()
        out[seed] = a.grad.cpu().numpy().copy()
    except BaseException as e:  # noqa: BLE001 - reported by the main thread
        errors.append(e)


def test_threads_independent_backward_with_grad_modes():
    n = 8
    out: dict = {}
    errors: list = []
    barrier = threading.Barrier(n)
    with leafgrad.no_grad():  # the main thread's mode must not reach the workers
        threads = [threading.Thread(target=_worker, args=(s, out, errors, barrier))
                   for s in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not leafgrad.is_grad_enabled()
    assert not errors, errors[0]
    for s in range(n):
        np.testing.assert_allclose(out[s], _expected(s), rtol=1e-10)
