"""Grad modes: context managers, decorators, thread-locality, inference_mode."""

from __future__ import annotations

import threading

import pytest
import torch

import leafgrad

pytestmark = pytest.mark.usefixtures("each_device")  # every test on cpu, fake (and cuda)

LIBS = (leafgrad, torch)


@pytest.mark.parametrize("m", LIBS, ids=["leafgrad", "torch"])
def test_no_grad_and_enable_grad_nest(m):
    x = m.ones(2, requires_grad=True)
    with m.no_grad():
        assert not (x * 2).requires_grad and not m.is_grad_enabled()
        with m.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


@pytest.mark.parametrize("m", LIBS, ids=["leafgrad", "torch"])
def test_decorators(m):
    x = m.ones(2, requires_grad=True)

    @m.no_grad()
    def f(t):
        return t * 2

    @m.enable_grad()
    def g(t):
        return t * 2

    @m.inference_mode()
    def h(t):
        return t * 2

    assert not f(x).requires_grad
    with m.no_grad():
        assert g(x).requires_grad
    assert not h(x).requires_grad
    assert f.__name__ == "f"


@pytest.mark.parametrize("m", LIBS, ids=["leafgrad", "torch"])
def test_no_grad_decorates_generators(m):
    x = m.ones(2, requires_grad=True)

    @m.no_grad()
    def gen():
        yield (x * 2).requires_grad
        yield m.is_grad_enabled()

    assert list(gen()) == [False, False]
    assert m.is_grad_enabled()


@pytest.mark.parametrize("m", LIBS, ids=["leafgrad", "torch"])
def test_set_grad_enabled_function_and_context(m):
    x = m.ones(1, requires_grad=True)
    m.set_grad_enabled(False)
    assert not (x * 1).requires_grad
    m.set_grad_enabled(True)
    with m.set_grad_enabled(False):
        assert not m.is_grad_enabled()
    assert m.is_grad_enabled()


def test_inference_mode_flag():
    with leafgrad.inference_mode():
        assert leafgrad.is_inference_mode_enabled() and not leafgrad.is_grad_enabled()
    with leafgrad.inference_mode(False):
        assert leafgrad.is_grad_enabled()
    assert not leafgrad.is_inference_mode_enabled()


def test_grad_mode_is_thread_local_and_backward_works_in_threads():
    """no_grad in one thread does not leak into others; many threads run backward at once."""
    errors = []
    barrier = threading.Barrier(8)

    def work(i: int):
        try:
            barrier.wait()
            x = leafgrad.tensor([1.0, 2.0], requires_grad=True)
            for k in range(50):
                if (i + k) % 2:
                    with leafgrad.no_grad():
                        y = x * 3
                        assert not y.requires_grad
                else:
                    y = (x * x * (i + 1)).sum()
                    y.backward()
            assert leafgrad.is_grad_enabled()
            # 25 accumulations of 2 * x * (i + 1)
            assert x.grad.tolist() == [25 * 2 * (i + 1), 25 * 4 * (i + 1)]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    with leafgrad.no_grad():
        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not leafgrad.is_grad_enabled()  # this thread's mode is untouched
    assert not errors, errors
