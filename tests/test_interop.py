"""NumPy protocols, DLPack, pickle and copy: each call made on torch and leafgrad alike."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
import warnings

import numpy as np
import pytest
import torch

import leafgrad
from leafgrad.utils import dlpack as lg_dlpack

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _env(m):
    return {"np": np, "m": m, "t": m.tensor([1.0, 2.0, 3.0]), "ti": m.tensor([1, 2, 3]),
            "th": m.tensor([1.0, 2.0], dtype=m.float16), "tr": m.tensor([1.0, 2.0],
                                                                        requires_grad=True),
            "t2": m.ones(2, 3), "s": m.tensor(2.0), "tb": m.tensor([True, False])}


def _outcome(expr: str, m):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's NumPy-2 deprecation warnings
        try:
            r = eval(expr, _env(m))  # noqa: S307 - expressions from the table below
        except Exception as e:  # noqa: BLE001 - the exception type is what is compared
            return ("raises", type(e).__name__)
    return _describe(r)


def _describe(r):
    if isinstance(r, (torch.Tensor, leafgrad.Tensor)):
        return ("Tensor", str(r.dtype), tuple(r.shape), r.detach().tolist())
    if isinstance(r, np.ndarray):
        return ("ndarray", r.dtype.name, r.shape, r.tolist())
    if isinstance(r, np.generic):
        return ("scalar", r.dtype.name, r.item())
    if isinstance(r, tuple):
        return tuple(_describe(x) for x in r)
    return (type(r).__name__, r)


# Every call below is made with torch and with leafgrad; the outcomes (type of the result,
# dtype, shape and values, or the exception type) must be the same.
NUMPY_CALLS = [
    "np.asarray(t)", "np.asarray(t, dtype=np.float64)", "np.asarray(t, copy=True)", "np.array(t)",
    "np.asarray(ti)", "np.asarray(th)", "np.asarray(s)", "np.asarray(tb)",
    "np.shares_memory(np.asarray(t), t.numpy())",
    "np.asarray(tr)", "np.array(tr)", "np.sin(tr)",  # requires grad: refused
    "np.sin(t)", "np.sin(ti)", "np.sin(th)", "np.exp(s)", "np.sqrt(m.tensor([4.0]))",
    "np.add(t, 1)", "np.add(ti, 1.5)", "np.add(t, t)", "np.add(t, np.ones(3))",
    "np.add(np.ones(3), t)", "np.multiply(ti, 2)", "np.true_divide(ti, 2)", "np.negative(t)",
    "np.greater(t, 1)", "np.equal(t, t)", "np.isnan(t)", "np.logical_not(tb)",  # bool -> uint8
    "np.add.reduce(t)", "np.matmul(t, t)", "np.modf(t)", "np.abs(t)", "np.round(t)",
    "np.clip(t, 0, 2)", "np.cumsum(t)", "np.transpose(t2)", "np.reshape(t, (3, 1))",
    "np.argmax(t)", "np.add(t, 1, out=t)", "np.add(t, 1, out=np.zeros(3, np.float32))",
    "np.sum(t)", "np.sum(t2, axis=0)", "np.mean(t)", "np.max(t)",  # method dispatch: TypeError
    "np.concatenate([t, t])", "np.stack([t, t])", "np.dot(t, t)", "np.where(t > 1, t, 0)",
    "np.sort(t)", "np.linalg.norm(t)", "np.shape(t)", "t + np.ones(3)", "np.float64(2.0) * t",
    "np.float32(2.0) + t", "m.from_numpy(np.asarray(t))", "np.sin(np.asarray(t))",
]


@pytest.mark.parametrize("expr", NUMPY_CALLS)
def test_numpy_call_matches_torch(expr):
    assert _outcome(expr, leafgrad) == _outcome(expr, torch)


def test_numpy_departures_from_torch_are_deliberate():
    t = leafgrad.tensor([1.0, 2.0])
    # NumPy 2's copy=False: torch's __array__ lacks the keyword and raises; leafgrad shares
    a = np.asarray(t, copy=False)
    a[0] = 5.0
    assert t[0].item() == 5.0
    with pytest.raises(ValueError, match="Unable to avoid copy"):
        np.asarray(t, dtype=np.float64, copy=False)
    # ndarray (op) Tensor: torch 2.13 raises TypeError; leafgrad computes like Tensor (op) ndarray
    assert (np.ones(2) + t).dtype == leafgrad.float64 == (t + np.ones(2)).dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_boundary_is_exact(dtype):
    src = (np.arange(-3, 3) if dtype not in ("bool", "uint8") else np.arange(6)).astype(dtype)
    if dtype.startswith("float"):
        src = np.array([np.nan, -0.0, np.inf, 1e-8, 65504.0, -2.5], dtype=dtype)
    t = leafgrad.from_numpy(src)
    back = np.asarray(t)
    assert back.dtype == src.dtype and back.tobytes() == src.tobytes()
    assert np.from_dlpack(t).tobytes() == src.tobytes()
    tt = torch.from_dlpack(t)
    assert str(tt.dtype) == str(t.dtype) and tt.numpy().tobytes() == src.tobytes()


def test_bfloat16_and_complex_are_refused_with_the_reason():
    with pytest.raises(TypeError, match="bfloat16|no bfloat16"):
        leafgrad.from_dlpack(torch.ones(2, dtype=torch.bfloat16))
    # a ufunc whose NumPy result is complex: torch wraps a complex tensor, leafgrad has none
    with pytest.raises(TypeError, match="complex"):
        np.multiply(leafgrad.tensor([1.0]), 1j)


def _writes_show(a_set, b_get) -> bool:
    a_set(3.5)
    return b_get() == 3.5


def test_dlpack_zero_copy_every_direction():
    # NumPy -> leafgrad
    a = np.zeros(3, np.float32)
    t = leafgrad.from_dlpack(a)
    assert _writes_show(lambda v: a.__setitem__(0, v), lambda: t[0].item())
    # torch -> leafgrad, and writes back
    tt = torch.zeros(3)
    t = leafgrad.from_dlpack(tt)
    assert _writes_show(lambda v: t.__setitem__(1, v), lambda: tt[1].item())
    assert _writes_show(lambda v: tt.__setitem__(2, v), lambda: t[2].item())
    # leafgrad -> torch and leafgrad -> NumPy
    t = leafgrad.zeros(2, 3)
    tt = torch.from_dlpack(t)
    assert _writes_show(lambda v: tt.__setitem__((1, 2), v), lambda: t[1, 2].item())
    n = np.from_dlpack(t)
    assert _writes_show(lambda v: n.__setitem__((0, 1), v), lambda: t[0, 1].item())
    assert t.__dlpack_device__() == tuple(torch.zeros(1).__dlpack_device__())
    # strided and expanded (read-only) tensors keep their strides
    e = leafgrad.arange(3.0).expand(2, 3)
    assert torch.from_dlpack(e).stride() == torch.arange(3.0).expand(2, 3).stride() == (0, 1)
    assert torch.from_dlpack(leafgrad.ones(2, 3).t()).stride() == (1, 3)
    # leafgrad -> leafgrad shares too
    x = leafgrad.zeros(2)
    assert _writes_show(lambda v: leafgrad.from_dlpack(x).__setitem__(0, v), lambda: x[0].item())


def test_dlpack_capsules_as_torch_utils_dlpack():
    cap = lg_dlpack.to_dlpack(leafgrad.arange(3.0))
    assert torch.utils.dlpack.from_dlpack(cap).tolist() == [0.0, 1.0, 2.0]
    tt = torch.arange(4.0)
    t = lg_dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(tt))
    assert _writes_show(lambda v: t.__setitem__(0, v), lambda: tt[0].item())
    versioned = torch.ones(2).__dlpack__(max_version=(1, 0))
    assert lg_dlpack.from_dlpack(versioned).tolist() == [1.0, 1.0]
    used = lg_dlpack.to_dlpack(leafgrad.ones(1))
    np.from_dlpack(type("P", (), {"__dlpack__": lambda s, **k: used,
                                  "__dlpack_device__": lambda s: (1, 0)})())
    with pytest.raises(RuntimeError, match="consumed once|used already"):
        lg_dlpack.from_dlpack(used)


def test_dlpack_refuses_grad_as_torch():
    for m in (torch, leafgrad):
        with pytest.raises(BufferError, match="require gradient"):
            m.ones(2, requires_grad=True).__dlpack__()
        with pytest.raises(BufferError, match="require gradient"):
            np.from_dlpack(m.ones(2, requires_grad=True))


def test_cupy_dlpack():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed (no GPU on this machine)")
    a = cupy.arange(3.0)  # pragma: no cover - GPU only
    t = leafgrad.from_dlpack(a)
    assert t.device.type == "cuda" and t.tolist() == [0.0, 1.0, 2.0]


# -- pickle and copy, compared with torch ---------------------------------------------------------
def _pickled(m, make):
    return pickle.loads(pickle.dumps(make(m)))


PICKLE_CASES = {
    "float": lambda m: m.arange(6.0).reshape(2, 3),
    "0-d": lambda m: m.tensor(3),
    "empty": lambda m: m.zeros(0, 4),
    "transposed": lambda m: m.arange(6.0).reshape(2, 3).t(),
    "expanded": lambda m: m.arange(3.0).expand(2, 3),
    "view": lambda m: m.arange(10.0)[2:7:2],
    "requires_grad": lambda m: m.ones(2, requires_grad=True),
    "non_leaf": lambda m: m.ones(2, requires_grad=True) * 2,
    "half": lambda m: m.tensor([1.5, -2.0], dtype=m.float16),
    "bool": lambda m: m.tensor([True, False]),
}


@pytest.mark.parametrize("case", PICKLE_CASES)
def test_pickle_matches_torch(case):
    a, b = _pickled(leafgrad, PICKLE_CASES[case]), _pickled(torch, PICKLE_CASES[case])
    assert str(a.dtype) == str(b.dtype) and tuple(a.shape) == tuple(b.shape)
    assert a.stride() == b.stride() and a.requires_grad == b.requires_grad
    assert a.is_leaf and b.is_leaf and a.detach().tolist() == b.detach().tolist()
    assert a.grad is None and b.grad is None


def test_pickle_and_copy_sharing_as_torch():
    for m in (torch, leafgrad):
        base = m.arange(6.0)
        # tensors pickled together come back with their own memory (as torch)
        x, y = pickle.loads(pickle.dumps([base, base[1:]]))
        x[1] = 55.0
        assert y[0].item() == 1.0
        # copy.copy shares memory with the original
        c = copy.copy(base)
        c[0] = 100.0
        assert base[0].item() == 100.0
        # deepcopy copies, keeping a view a view of the copied base
        d0, d1 = copy.deepcopy([base, base[2:]])
        d0[3] = -1.0
        assert d1[1].item() == -1.0 and base[3].item() == 3.0
        g = m.ones(3, requires_grad=True)
        g.grad = m.full((3,), 2.0)
        dg = copy.deepcopy(g)
        assert dg.requires_grad and dg.is_leaf and dg.grad.tolist() == [2.0, 2.0, 2.0]
        assert pickle.loads(pickle.dumps(g)).grad is None
        with pytest.raises(RuntimeError, match="graph leaves"):
            copy.deepcopy(g * 2)


def test_modules_and_parameters_pickle_and_deepcopy():
    model = leafgrad.nn.Sequential(leafgrad.nn.Linear(3, 4), leafgrad.nn.ReLU(),
                                   leafgrad.nn.Linear(4, 2))
    x = leafgrad.randn(5, 3)
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert np.array_equal(clone(x).detach().numpy(), model(x).detach().numpy())
        assert type(clone[0].weight) is leafgrad.nn.Parameter and clone[0].weight.requires_grad
        clone[0].weight.data.zero_()
        assert model[0].weight.abs().sum().item() > 0  # independent memory
    p = leafgrad.nn.Parameter(leafgrad.ones(2))
    q = pickle.loads(pickle.dumps(p))
    assert type(q) is leafgrad.nn.Parameter and q.requires_grad and q.tolist() == [1.0, 1.0]


def _worker(inbox, outbox):
    while True:
        item = inbox.get()
        if item is None:
            return
        base, view, g = item
        base[0] = -1.0  # memory of the received tensors is the worker's own
        outbox.put((base.sum(), view * 2, g.requires_grad, g.dtype))


def test_tensors_through_multiprocessing_queues():
    ctx = multiprocessing.get_context("fork")
    inbox, outbox = ctx.Queue(), ctx.Queue()
    proc = ctx.Process(target=_worker, args=(inbox, outbox))
    proc.start()
    try:
        base = leafgrad.arange(6.0)
        inbox.put((base, base[2:4], leafgrad.ones(2, dtype=leafgrad.float64,
                                                  requires_grad=True)))
        total, doubled, rg, dtype = outbox.get(timeout=30)
        assert total.item() == 14.0 and doubled.tolist() == [4.0, 6.0]
        assert rg is True and dtype == leafgrad.float64 and base[0].item() == 0.0
    finally:
        inbox.put(None)
        proc.join(timeout=30)
    assert proc.exitcode == 0


def test_dataloader_workers_send_tensors_through_pickle():
    from leafgrad.utils.data import DataLoader, TensorDataset

    x = leafgrad.arange(24.0).reshape(12, 2)
    y = leafgrad.arange(12)
    ds = TensorDataset(x, y)
    serial = [(a.tolist(), b.tolist()) for a, b in DataLoader(ds, batch_size=5)]
    loader = DataLoader(ds, batch_size=5, num_workers=2, multiprocessing_context="fork")
    batches = list(loader)
    assert [(a.tolist(), b.tolist()) for a, b in batches] == serial
    assert batches[0][0].dtype == leafgrad.float32 and batches[0][1].dtype == leafgrad.int64
