"""The op table on other devices: every row runs on the strict fake device (tests/fakedevice.py,
CuPy's rules on the CPU) and, where CuPy and a GPU exist, on CUDA; results must equal the CPU's.

Each row runs every sample in one dtype (the last of its float dtypes) forward and backward,
its integer dtypes forward on the first sample, and second derivatives on the first sample: a
device-clean op passes them all; one that makes a host array fails (the fake device refuses to
mix it with device arrays, or the result lands on the wrong device).
"""

from __future__ import annotations

import numpy as np
import pytest
from fakedevice import OnDevice
from opinfo import OPS
from test_ops import _inputs

import leafgrad

ON_DEVICES = pytest.mark.parametrize("device", ["fake", "cuda"], indirect=True)

# Rows that cannot run on another device, with the reason (none today).
NOT_ON_DEVICE: dict[str, str] = {}


def _host(t):
    return None if t is None else leafgrad.backend.to_numpy(t.detach()._data)


def _same(got, want, where: str, dev) -> None:
    """``got`` (a device tensor) equals ``want`` (the CPU tensor): device, dtype, shape, values."""
    assert got.device == dev, f"{where}: result on {got.device}, expected {dev}"
    assert got.dtype == want.dtype and tuple(got.shape) == tuple(want.shape), where
    np.testing.assert_allclose(_host(got), _host(want), rtol=1e-12, atol=0, equal_nan=True,
                               err_msg=where)


def _call(fn, lib, xs):
    """Run a row; (result, None) or (None, the exception type)."""
    try:
        return fn(lib, *xs), None
    except Exception as e:  # the CPU's exception type must be the device's
        return None, e


def _run_sample(op, shapes, dt, dev, grad: bool, seed: int):
    arrs = _inputs(op, shapes, dt, seed=seed)
    rg = grad and dt.startswith("float")
    cx = [leafgrad.tensor(a.copy(), requires_grad=rg) for a in arrs]
    dx = [leafgrad.tensor(a.copy(), device=dev, requires_grad=rg) for a in arrs]
    want, err = _call(op.fn, leafgrad, cx)
    if err is not None:
        with pytest.raises(type(err)):
            op.fn(OnDevice(leafgrad, dev), *dx)
        return None
    got = op.fn(OnDevice(leafgrad, dev), *dx)
    _same(got, want, f"{op.name} {shapes} {dt} forward", dev)
    if not rg or want.grad_fn is None:
        return None
    g = np.random.default_rng(seed + 1).standard_normal(tuple(want.shape)).astype(dt)
    want.backward(leafgrad.tensor(g))
    got.backward(leafgrad.tensor(g, device=dev))
    for k, (c, d) in enumerate(zip(cx, dx)):
        assert (c.grad is None) == (d.grad is None), f"{op.name}: grad of input {k}"
        if c.grad is not None:
            _same(d.grad, c.grad, f"{op.name} {shapes} {dt} grad of input {k}", dev)
    return arrs


def _second_order(op, arrs, dev) -> None:
    """create_graph=True: the gradient's gradient, on the device and on the CPU."""
    res = []
    for d in (leafgrad.device("cpu"), dev):
        lib = OnDevice(leafgrad, d)
        xs = [leafgrad.tensor(a.copy(), device=d, requires_grad=True) for a in arrs]
        out = op.fn(lib, *xs)
        g = leafgrad.tensor(np.random.default_rng(5).standard_normal(tuple(out.shape)), device=d,
                            requires_grad=True)
        gr = leafgrad.autograd.grad(out, xs, g, create_graph=True, allow_unused=True)
        s = 0
        rng = np.random.default_rng(6)
        for a in gr:
            if a is not None and a.requires_grad:
                s = s + (a * leafgrad.tensor(rng.standard_normal(tuple(a.shape)), device=d)).sum()
        if not isinstance(s, leafgrad.Tensor):
            return
        res.append(leafgrad.autograd.grad(s, xs + [g], allow_unused=True))
    for k, (c, d) in enumerate(zip(*res)):
        assert (c is None) == (d is None), f"{op.name}: second derivative {k}"
        if c is not None:
            _same(d, c, f"{op.name} second derivative {k}", dev)


@ON_DEVICES
@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_op_table_row_on_device(op, device):
    """Every sample of the row on ``device`` equals the CPU: values, dtype, gradients."""
    if op.name in NOT_ON_DEVICE:
        pytest.skip(NOT_ON_DEVICE[op.name])
    dt = op.dtypes[-1]
    first = None
    for k, shapes in enumerate(op.shapes()):
        arrs = _run_sample(op, shapes, dt, device, op.grad, seed=10 + k)
        if first is None and arrs is not None:
            first = arrs
        if k == 0:
            for idt in op.int_dtypes:
                _run_sample(op, shapes, idt, device, False, seed=10)
    if first is not None and op.gradgrad and dt == "float64":
        _second_order(op, first, device)
