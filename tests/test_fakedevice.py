"""The fake device refuses what CuPy refuses (so a pass on it means something) and computes what
NumPy computes."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from fakedevice import FAKE, FakeArray, HostDeviceMixError

import leafgrad


def _f(*a):
    return FAKE.asarray(np.array(*a))


def test_no_implicit_conversion_to_the_host():
    a = _f([1.0, 2.0])
    for convert in (np.asarray, np.array, np.ascontiguousarray):
        with pytest.raises(TypeError, match="Implicit conversion"):
            convert(a)
    np.testing.assert_array_equal(a.get(), [1.0, 2.0])  # the explicit way
    assert a.tolist() == [1.0, 2.0] and a[1].item() == 2.0 and float(a[0]) == 1.0


def test_host_arrays_are_refused_in_mixed_operations():
    a, h = _f([1.0, 2.0]), np.array([1.0, 2.0])
    for bad in (lambda: a + h, lambda: h * a, lambda: np.add(a, h), lambda: FAKE.maximum(a, h),
                lambda: np.concatenate([a, h]), lambda: FAKE.where(a > 1, a, h)):
        with pytest.raises(HostDeviceMixError):
            bad()
    with pytest.raises(HostDeviceMixError):
        a[0:2] = h
    a[0] = 5.0  # numbers are fine
    a[FAKE.asarray([1])] = np.float64(7.0)
    np.testing.assert_array_equal(a.get(), [5.0, 7.0])


def test_what_cupy_lacks_is_absent():
    a = _f([3, 1, 2])
    with pytest.raises(TypeError):
        operator.index(a[0])  # no __index__: a 0-d array is not a Python int
    with pytest.raises(NotImplementedError):
        np.maximum.accumulate(a)
    with pytest.raises(NotImplementedError):
        FAKE.add.at(a, [0], 1)
    with pytest.raises(AttributeError):
        a.flags.writeable  # noqa: B018
    with pytest.raises(AttributeError):
        FAKE.random  # noqa: B018
    assert isinstance(a.sum(), FakeArray) and a.sum().ndim == 0  # 0-d arrays, not scalars


def test_results_are_numpys():
    h = np.random.default_rng(0).standard_normal((3, 4))
    a = FAKE.asarray(h)
    np.testing.assert_array_equal(np.exp(a).get(), np.exp(h))
    np.testing.assert_array_equal((a @ a.T).get(), h @ h.T)
    np.testing.assert_array_equal(np.linalg.svd(a)[1].get(), np.linalg.svd(h)[1])
    np.testing.assert_array_equal(FAKE.take_along_axis(a, FAKE.argsort(a, 1), 1).get(),
                                  np.sort(h, 1))


def test_an_op_making_a_host_array_fails_on_the_fake_device(monkeypatch):
    """The point of the fake device: reintroduce np.zeros in an op and the device run fails."""
    from leafgrad.ops.movement import indexing

    def leaky(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)  # a host array, as a port to CuPy would miss
        out[self.index] = g
        return out

    monkeypatch.setattr(indexing.Embed, "forward", leaky)
    x = leafgrad.ones(3, 2, device="fake", requires_grad=True)
    y = x[[0, 2]]
    with pytest.raises(TypeError):  # the host array refuses the device index, as with CuPy
        y.backward(leafgrad.ones(2, 2, device="fake"), create_graph=True)
