"""The op table on other devices: every row runs on the strict fake device (tests/fakedevice.py,
CuPy's rules on the CPU) and, where CuPy and a GPU exist, on CUDA; results must equal the CPU's.

Each row runs every sample in each of its dtypes, forward and (float dtypes) backward, and
second derivatives on its first float64 sample: a device-clean op passes them all; one that
makes a host array fails (the fake device refuses to mix it with device arrays, or the result
lands on the wrong device). Results equal the CPU's: integers and bools exactly, floats to a
few units in the last place (a device path may sum repeated indices in another order).
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
    g, w = _host(got), _host(want)
    if w.dtype.kind == "f":  # device paths may add repeated indices in another order
        tol = {2: 1e-3, 4: 1e-5}.get(w.dtype.itemsize, 1e-11)
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol * 1e-1, equal_nan=True, err_msg=where)
    else:
        np.testing.assert_array_equal(g, w, err_msg=where)


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
    first = None
    for dt in op.dtypes + op.int_dtypes:
        for k, shapes in enumerate(op.shapes()):
            arrs = _run_sample(op, shapes, dt, device, op.grad, seed=10 + k)
            if first is None and arrs is not None and dt == "float64":
                first = arrs
    if first is not None and op.gradgrad:
        _second_order(op, first, device)


# -- the optimizer table on other devices ------------------------------------------------------
def _optim_run(name, kw, dtype, steps, dev, foreach: bool):
    from test_optim import _problem

    init, grads = _problem(dtype, steps)
    ps = [leafgrad.tensor(a, device=dev, requires_grad=True) for a in init]
    if foreach:
        kw = {**kw, "foreach": False}
    opt = getattr(leafgrad.optim, name)(ps, **kw)
    for gs in grads:
        for p, g in zip(ps, gs):
            p.grad = None if g is None else leafgrad.tensor(g, device=dev)
        opt.step()
    return ps, opt


# state torch keeps on the CPU when not capturable (its optimizers' _init_group)
_CPU_STATE = {"NAdam": ("step", "mu_product"), "ASGD": (), "SGD": ()}


def _optim_rows():
    from optiminfo import OPTIM_DB

    return [(info, i, kw) for info in OPTIM_DB if info.name != "LBFGS"
            for i, kw in enumerate(info.configs)]


@ON_DEVICES
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("info,idx,kw", _optim_rows(),
                         ids=[f"{info.name}-{i}" for info, i, _ in _optim_rows()])
def test_optimizer_table_row_on_device(info, idx, kw, dtype, device):
    """Every optimizer row (8 steps) on ``device`` updates parameters and state as on the CPU,
    and keeps them where torch keeps them."""
    cpu = leafgrad.device("cpu")
    ps_c, opt_c = _optim_run(info.name, kw, dtype, 8, cpu, info.foreach)
    ps_d, opt_d = _optim_run(info.name, kw, dtype, 8, device, info.foreach)
    for k, (c, d) in enumerate(zip(ps_c, ps_d)):
        _same(d, c, f"{info.name}{kw} parameter {k}", device)
    sc, sd = opt_c.state_dict()["state"], opt_d.state_dict()["state"]
    assert list(sc) == list(sd)
    for i in sc:
        assert list(sc[i]) == list(sd[i])
        for key, v in sc[i].items():
            w = sd[i][key]
            if isinstance(v, leafgrad.Tensor):
                # torch keeps step counters on the CPU (capturable=False), but ASGD's all move
                want = cpu if key in _CPU_STATE.get(info.name, ("step",)) else device
                assert w.device == want, (info.name, key, w.device)
                np.testing.assert_array_equal(_host(w), _host(v), err_msg=f"{info.name} {key}")
            else:
                assert v == w, (info.name, key)


@ON_DEVICES
@pytest.mark.parametrize("kw", [{"lr": 0.8, "history_size": 3, "max_iter": 7},
                                {"lr": 1.0, "line_search_fn": "strong_wolfe"}],
                         ids=["plain", "strong_wolfe"])
def test_lbfgs_on_device(kw, device):
    """L-BFGS (closure, flat vectors, line search) on ``device`` follows the CPU run."""
    from test_optim import _quadratic_closure

    rng = np.random.default_rng(1)
    a0, b0, x0 = rng.standard_normal((6, 4)), rng.standard_normal(6), rng.standard_normal(4)
    out = []
    for d in (leafgrad.device("cpu"), device):
        x = leafgrad.tensor(x0.copy(), device=d, requires_grad=True)
        opt = leafgrad.optim.LBFGS([x], **kw)
        closure = _quadratic_closure(leafgrad, x, opt, leafgrad.tensor(a0, device=d),
                                     leafgrad.tensor(b0, device=d))
        losses = [float(opt.step(closure).detach().item()) for _ in range(3)]
        out.append((x, losses, opt.state[x]["n_iter"]))
    (xc, lc, nc), (xd, ld, nd) = out
    _same(xd, xc, "LBFGS parameter", device)
    np.testing.assert_allclose(ld, lc, rtol=1e-11)
    assert nd == nc


# -- the module table on other devices ---------------------------------------------------------
def _module_rows():
    from moduleinfo import MODULES

    return MODULES


def _module_run(row, dtype: str, dev, train: bool):
    """Build the row's module from its seed, move it to ``dev``, run forward and backward."""
    from test_modules import _build, _inputs

    m = _build(row, leafgrad, dtype).to(dev)
    m.train(train)
    xs, _ = _inputs(row, dtype, seed=3)
    xs = [x.detach().to(dev).requires_grad_(x.requires_grad) for x in xs]
    if row.random:
        leafgrad.manual_seed(11)
    out = m(*xs)
    outs = out if isinstance(out, tuple) else (out,)
    first = outs[0][0] if isinstance(outs[0], tuple) else outs[0]  # (output, h) of RNNs
    if first.requires_grad:
        g = np.random.default_rng(4).standard_normal(tuple(first.shape)).astype(dtype)
        first.backward(leafgrad.tensor(g, device=dev))
    return m, xs, first


@ON_DEVICES
@pytest.mark.parametrize("row", _module_rows(), ids=[r.name for r in _module_rows()])
def test_module_table_row_on_device(row, device):
    """Every module row, moved with ``.to(device)``, gives the CPU's outputs, input and parameter
    gradients and buffers (train mode, then eval mode), all on the device."""
    for train in (True, False):
        dt = row.dtypes[-1]
        mc, xc, oc = _module_run(row, dt, leafgrad.device("cpu"), train)
        md, xd, od = _module_run(row, dt, device, train)
        where = f"{row.name} ({'train' if train else 'eval'})"
        _same(od, oc, f"{where} output", device)
        for k, (a, b) in enumerate(zip(xc, xd)):
            assert (a.grad is None) == (b.grad is None)
            if a.grad is not None:
                _same(b.grad, a.grad, f"{where} input grad {k}", device)
        pc, pd = dict(mc.named_parameters()), dict(md.named_parameters())
        for k in pc:
            _same(pd[k].detach(), pc[k].detach(), f"{where} parameter {k}", device)
            assert (pc[k].grad is None) == (pd[k].grad is None), k
            if pc[k].grad is not None:
                _same(pd[k].grad, pc[k].grad, f"{where} grad of {k}", device)
        for (k, bc), (_, bd) in zip(mc.named_buffers(), md.named_buffers()):
            if bc is not None:
                _same(bd, bc, f"{where} buffer {k}", device)


# -- operands on two devices ----------------------------------------------------------------------
@ON_DEVICES
def test_a_0d_cpu_tensor_acts_as_a_number_with_device_tensors(device):
    """As in PyTorch, a 0-d CPU tensor (outside autograd) combines with a device tensor."""
    x = leafgrad.tensor([1.0, -2.0, 3.0], device=device, requires_grad=True)
    y = x * leafgrad.tensor(2.0) + leafgrad.tensor(3.0) * x - (leafgrad.tensor(1.0) - x)
    assert y.device == device
    y.sum().backward()
    assert x.grad.device == device
    np.testing.assert_array_equal(_host(x.grad), [6.0, 6.0, 6.0])


@ON_DEVICES
def test_tensors_on_two_devices_are_refused_with_torchs_error(device):
    for a, b in ((leafgrad.ones(2), leafgrad.ones(2, device=device)),
                 (leafgrad.ones(2, device=device), leafgrad.ones(2))):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            a + b


@ON_DEVICES
def test_moving_between_devices_is_differentiable(device):
    """``x.to(device)`` records ToCopyBackward0 (torch's node); gradients move back, to any
    order, and the formula evaluates as backward does."""
    from leafgrad.autograd.formula import evaluate

    x = leafgrad.tensor([0.5, -1.0, 2.0], dtype=leafgrad.float64, requires_grad=True)
    y = x.to(device)
    assert y.device == device and type(y.grad_fn).__name__ == "ToCopyBackward0"
    z = (y ** 3).sum()
    (g,) = leafgrad.autograd.grad(z, x, create_graph=True)
    assert g.device == leafgrad.device("cpu")
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([0.5, -1.0, 2.0]) ** 2)
    (h,) = leafgrad.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * np.array([0.5, -1.0, 2.0]))
    back = y.cpu()
    assert back.device == leafgrad.device("cpu")
    assert type(back.grad_fn).__name__ == "ToCopyBackward0"
    gy = leafgrad.ones(3, dtype=leafgrad.float64, device=device)
    with leafgrad.no_grad():
        np.testing.assert_array_equal(_host(evaluate(y.grad_fn, "x", gy, (x,))), _host(gy))
