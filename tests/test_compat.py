"""The small torch names scripts reach for (torch.cuda, backends, legacy constructors, amp...),
against torch 2.13's CPU build wherever torch has the name."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import leafgrad
from leafgrad import _compat


def _raises_same(fn_torch, fn_leaf, match_message: bool = False):
    """Both raise, with the same exception type (and message, if asked)."""
    with pytest.raises(Exception) as te:
        fn_torch()
    with pytest.raises(type(te.value)) as le:
        fn_leaf()
    if match_message:
        assert str(le.value).startswith(str(te.value)), (str(le.value), str(te.value))
    return le.value


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        result = fn()
    return result, [(x.category, str(x.message)) for x in w]


# ---------------------------------------------------------------------------------------------
# torch.cuda, torch.accelerator (no CUDA on this machine: torch is the CPU build)

_CUDA_VALUES = ["is_available", "device_count", "empty_cache", "seed",
                "seed_all", "memory_allocated", "max_memory_allocated", "memory_reserved",
                "max_memory_reserved", "get_rng_state_all", "is_bf16_supported",
                "is_initialized"]
_CUDA_RAISES = ["current_device", "get_device_name", "get_device_capability", "initial_seed",
                "get_rng_state", "mem_get_info", "init", "ipc_collect"]


@pytest.mark.parametrize("name", _CUDA_VALUES)
def test_cuda_answers_as_torch_cpu_build(name):
    assert getattr(leafgrad.cuda, name)() == getattr(torch.cuda, name)()
    for fn in ("manual_seed", "manual_seed_all"):
        assert getattr(leafgrad.cuda, fn)(0) is None and getattr(torch.cuda, fn)(0) is None


@pytest.mark.parametrize("name", _CUDA_RAISES)
def test_cuda_device_functions_raise_as_torch(name):
    err = _raises_same(getattr(torch.cuda, name), getattr(leafgrad.cuda, name))
    assert "CuPy" in str(err) and "is_available()" in str(err)


def test_cuda_synchronize_is_a_noop_without_cuda():
    # NOTE: a departure: torch's CPU build raises AssertionError; leafgrad's CPU work is
    # synchronous, so there is nothing to wait for
    assert leafgrad.cuda.synchronize() is None
    assert leafgrad.cuda.OutOfMemoryError is leafgrad.OutOfMemoryError
    assert issubclass(leafgrad.OutOfMemoryError, RuntimeError)
    assert issubclass(torch.OutOfMemoryError, RuntimeError)


class _FakeRuntime:
    """CuPy's cuda.runtime as two GPUs would answer."""

    def __init__(self):
        self.current, self.synced = 0, 0

    def getDeviceCount(self):  # noqa: N802 - CuPy's names
        return 2

    def getDevice(self):  # noqa: N802
        return self.current

    def setDevice(self, i):  # noqa: N802
        self.current = i

    def getDeviceProperties(self, i):  # noqa: N802
        return {"name": b"Fake GPU %d" % i, "major": 9, "minor": 0}

    def deviceSynchronize(self):  # noqa: N802
        self.synced += 1

    def memGetInfo(self):  # noqa: N802
        return 10, 20


def test_cuda_with_a_gpu_answers_from_cupys_runtime(monkeypatch):
    rt = _FakeRuntime()
    monkeypatch.setattr(leafgrad.cuda, "_runtime_cache", [rt])
    cuda = leafgrad.cuda
    assert cuda.is_available() and cuda.device_count() == 2
    cuda.set_device("cuda:1")
    assert cuda.current_device() == 1 and cuda.get_device_name() == "Fake GPU 1"
    assert cuda.get_device_name(0) == "Fake GPU 0" and cuda.get_device_capability() == (9, 0)
    cuda.synchronize()
    assert rt.synced == 1 and cuda.mem_get_info() == (10, 20)
    assert leafgrad.accelerator.current_accelerator() == leafgrad.device("cuda")
    assert leafgrad.accelerator.current_device_index() == 1
    with pytest.raises(NotImplementedError, match="peak"):
        cuda.max_memory_allocated()


@pytest.mark.parametrize("name", ["is_available", "current_accelerator", "device_count"])
def test_accelerator_answers_as_torch(name):
    assert getattr(leafgrad.accelerator, name)() == getattr(torch.accelerator, name)()


@pytest.mark.parametrize("name", ["current_device_index", "synchronize", "empty_cache"])
def test_accelerator_raises_as_torch(name):
    _raises_same(getattr(torch.accelerator, name), getattr(leafgrad.accelerator, name),
                 match_message=True)


# ---------------------------------------------------------------------------------------------
# torch.backends

_FLAGS = [("cudnn", "enabled"), ("cudnn", "benchmark"), ("cudnn", "deterministic"),
          ("cudnn", "allow_tf32"), ("cuda.matmul", "allow_tf32"),
          ("cuda.matmul", "allow_fp16_reduced_precision_reduction"),
          ("cuda.matmul", "allow_bf16_reduced_precision_reduction"), ("opt_einsum", "enabled")]


def _path(root, dotted):
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


@pytest.mark.parametrize("where,flag", _FLAGS)
def test_backend_flags_default_as_torch_and_are_settable(where, flag):
    lg, th = _path(leafgrad.backends, where), _path(torch.backends, where)
    assert getattr(lg, flag) == getattr(th, flag)
    old = getattr(lg, flag)
    setattr(lg, flag, not old)
    try:
        assert getattr(lg, flag) == (not old)
    finally:
        setattr(lg, flag, old)


def test_backend_probes():
    b, tb = leafgrad.backends, torch.backends
    assert b.mps.is_available() == tb.mps.is_available() is False
    assert b.mps.is_built() == tb.mps.is_built() is False
    assert b.cudnn.is_available() == tb.cudnn.is_available()
    assert b.cudnn.version() == tb.cudnn.version()
    assert b.cuda.is_built() in (True, False)
    assert b.cpu.get_cpu_capability() == tb.cpu.get_cpu_capability()
    # leafgrad computes with NumPy: no MKL, oneDNN or OpenMP of its own
    assert not (b.mkl.is_available() or b.mkldnn.is_available() or b.openmp.is_available())
    for lib in (torch, leafgrad):
        with pytest.raises(AttributeError, match="Unknown attribute foo"):
            lib.backends.cuda.matmul.foo = 1
    import leafgrad.backends.cudnn as cudnn  # the spelling scripts use

    assert cudnn is b.cudnn


# ---------------------------------------------------------------------------------------------
# threads, default device, compile, version, type names


def test_threads_map_to_the_blas_pool_and_validate_as_torch():
    n = leafgrad.get_num_threads()
    try:
        leafgrad.set_num_threads(1)
        assert leafgrad.get_num_threads() == 1
    finally:
        leafgrad.set_num_threads(n)
    for bad in (0, -1, 1.5, "2"):
        _raises_same(lambda b=bad: torch.set_num_threads(b),
                     lambda b=bad: leafgrad.set_num_threads(b), match_message=True)
    leafgrad.set_num_interop_threads(3)
    assert leafgrad.get_num_interop_threads() == 3


def test_threads_without_threadpoolctl_are_remembered(monkeypatch):
    monkeypatch.setattr(_compat, "_blas_pools", lambda: None)
    monkeypatch.setitem(_compat._threads, "intra", None)
    leafgrad.set_num_threads(3)
    assert leafgrad.get_num_threads() == 3


def test_default_device():
    leafgrad.set_default_device("cpu")
    leafgrad.set_default_device(None)
    assert repr(leafgrad.get_default_device()) == repr(torch.get_default_device())
    with pytest.raises(NotImplementedError, match="device="):
        leafgrad.set_default_device("cuda")


def test_compile_returns_the_model_and_warns_once(monkeypatch):
    monkeypatch.setattr(_compat, "_compile_warned", [False])

    def model(x):
        return x * 2

    got, w = _warnings_of(lambda: leafgrad.compile(model, mode="max-autotune"))
    assert got is model and len(w) == 1 and "eagerly" in w[0][1]
    got, w = _warnings_of(lambda: leafgrad.compile(fullgraph=True)(model))
    assert got is model and w == []


def test_type_names_print_as_torchs():
    for lg, th in ((type(leafgrad.ones(1)), type(torch.ones(1))), (leafgrad.Size, torch.Size),
                   (leafgrad.device, torch.device), (leafgrad.dtype, torch.dtype)):
        assert str(lg) == str(th).replace("torch", "leafgrad")
    assert leafgrad.version.cuda is None and torch.version.cuda is None
    assert leafgrad.version.__version__ == leafgrad.__version__


# ---------------------------------------------------------------------------------------------
# legacy constructors and autograd.Variable

_LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
           "CharTensor", "ByteTensor", "BoolTensor"]


@pytest.mark.parametrize("name", _LEGACY)
def test_legacy_constructors_match_torch(name):
    L, T = getattr(leafgrad, name), getattr(torch, name)
    for args in [(), (2, 3), ([1, 0],), ((1, 1),), ([[1, 0], [0, 1]],), (np.array([1, 0]),)]:
        lt, tt = L(*args), T(*args)
        assert str(lt.dtype) == str(tt.dtype) and tuple(lt.shape) == tuple(tt.shape), args
        if args and not isinstance(args[0], int):
            assert lt.tolist() == tt.tolist()
    assert tuple(L(leafgrad.Size([2, 2])).shape) == tuple(T(torch.Size([2, 2])).shape)
    same = L([1, 0])
    assert L(same).data_ptr() == same.data_ptr()
    other = "LongTensor" if name != "LongTensor" else "FloatTensor"
    _raises_same(lambda: T(getattr(torch, other)([1])), lambda: L(getattr(leafgrad, other)([1])))
    _raises_same(lambda: T(2.5), lambda: L(2.5), match_message=True)
    _raises_same(lambda: T(-1), lambda: L(-1))
    _raises_same(lambda: T([1], requires_grad=True), lambda: L([1], requires_grad=True))
    for dt in ("float32", "int64", "bool"):
        assert isinstance(leafgrad.ones(1, dtype=getattr(leafgrad, dt)), L) == isinstance(
            torch.ones(1, dtype=getattr(torch, dt)), T)
    assert isinstance(L(2), leafgrad.Tensor) and not issubclass(L, leafgrad.Tensor)
    assert repr(L) == repr(T).replace("torch", "leafgrad")
    assert str(leafgrad.ones(1).type(L).dtype) == str(torch.ones(1).type(T).dtype)
    assert L(2, 2).type() == T(2, 2).type()


def test_variable_is_a_tensor_as_in_torch():
    for lib in (leafgrad, torch):
        V = lib.autograd.Variable
        x = lib.ones(2)
        v = V(x, requires_grad=True)
        assert v.requires_grad and v.is_leaf and v is not x and isinstance(x, V)
        assert v.data_ptr() == x.data_ptr()
        y = V(lib.ones(2, requires_grad=True) * 2)
        assert y.grad_fn is None and not y.requires_grad
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
            V([1, 2])
        _, w = _warnings_of(lambda V=V, lib=lib: V(lib.ones(1), volatile=True))
        assert w and "volatile was removed" in w[0][1]


# ---------------------------------------------------------------------------------------------
# amp: autocast and GradScaler


@pytest.fixture
def fresh_autocast(monkeypatch):
    monkeypatch.setattr(leafgrad.amp, "_warned_cpu", [False])


@pytest.mark.parametrize("make", [
    lambda m: m.amp.autocast("cuda"), lambda m: m.autocast("cuda"),
    lambda m: m.autocast("cpu", dtype=m.float64), lambda m: m.cuda.amp.autocast(),
    lambda m: m.cpu.amp.autocast(enabled=False), lambda m: m.autocast("cpu", enabled=False),
    lambda m: m.amp.GradScaler(), lambda m: m.amp.GradScaler("cuda"),
    lambda m: m.cuda.amp.GradScaler(), lambda m: m.amp.GradScaler("cpu", enabled=False),
], ids=["amp-cuda", "autocast-cuda", "cpu-float64", "cuda.amp", "cpu.amp-disabled",
        "cpu-disabled", "scaler", "scaler-cuda", "cuda.amp-scaler", "scaler-cpu-disabled"])
def test_amp_warns_as_torch_where_torch_disables_it(make, fresh_autocast):
    _, tw = _warnings_of(lambda: make(torch))
    _, lw = _warnings_of(lambda: make(leafgrad))
    assert lw == tw


def test_autocast_on_cpu_says_leafgrad_keeps_full_precision(fresh_autocast):
    _, w = _warnings_of(lambda: leafgrad.autocast("cpu"))
    assert len(w) == 1 and "does not implement autocast" in w[0][1] and "bfloat16" in w[0][1]
    _, w = _warnings_of(lambda: leafgrad.autocast("cpu"))
    assert w == []  # once

    @leafgrad.autocast("cpu")
    def f(a):
        return a @ a

    assert f(leafgrad.ones(2, 2)).dtype == leafgrad.float32
    _raises_same(lambda: torch.autocast(5), lambda: leafgrad.autocast(5), match_message=True)
    _raises_same(lambda: torch.autocast("tpu"), lambda: leafgrad.autocast("tpu"),
                 match_message=True)


class _CountingOptimizer:
    def __init__(self):
        self.steps = 0

    def step(self, closure=None):
        self.steps += 1
        return "stepped"


def test_grad_scaler_behaves_as_torchs_disabled_scaler():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scalers = [torch.amp.GradScaler("cuda"), leafgrad.amp.GradScaler("cuda")]
        enabled_cpu = leafgrad.amp.GradScaler("cpu")
    for s, lib in zip(scalers + [enabled_cpu], (torch, leafgrad, leafgrad)):
        loss = lib.tensor(2.0, requires_grad=True)
        opt = _CountingOptimizer()
        assert s.scale(loss) is loss and s.get_scale() == 1.0 and not s.is_enabled()
        assert s.unscale_(opt) is None and s.update() is None
        assert s.step(opt) == "stepped" and opt.steps == 1
        assert s.state_dict() == {} and s.load_state_dict({}) is None
    _, w = _warnings_of(lambda: leafgrad.amp.GradScaler("cpu"))
    assert len(w) == 1 and "does not scale" in w[0][1]


# ---------------------------------------------------------------------------------------------
# bfloat16 and namespaces leafgrad does not provide


def test_bfloat16_is_named_but_refuses_tensors():
    b = leafgrad.bfloat16
    assert repr(b) == repr(torch.bfloat16)
    assert (b.is_floating_point, b.itemsize) == (torch.bfloat16.is_floating_point,
                                                 torch.bfloat16.itemsize)
    assert leafgrad.cuda.is_bf16_supported() == torch.cuda.is_bf16_supported()
    for make in (lambda: leafgrad.ones(2, dtype=b), lambda: leafgrad.tensor([1.0], dtype=b),
                 lambda: leafgrad.ones(2).to(b), lambda: leafgrad.ones(2).bfloat16(),
                 lambda: leafgrad.promote_types(b, leafgrad.float32),
                 lambda: leafgrad.BFloat16Tensor(2)):
        with pytest.raises(TypeError, match="bfloat16 tensors are not supported by leafgrad"):
            make()


@pytest.mark.parametrize("name", ["jit", "fx", "onnx", "sparse", "quantization", "fft"])
def test_missing_namespaces_say_so(name):
    with pytest.raises(AttributeError, match=f"torch.{name} is not provided by leafgrad"):
        getattr(leafgrad, name)
    # library code probes with getattr(torch, name, None) and hasattr: they must keep working
    assert getattr(leafgrad, name, None) is None and not hasattr(leafgrad, name)
    with pytest.raises(ImportError):
        exec(f"from leafgrad import {name}", {})
    assert not hasattr(leafgrad, "no_such_name_anywhere")


# ---------------------------------------------------------------------------------------------
# keepdims, range indices, in-place free functions and shape methods, the old svd


def test_keepdims_is_keepdim():
    for fn in (lambda m, x: m.sum(x, 0, keepdims=True), lambda m, x: x.mean(1, keepdims=True),
               lambda m, x: x.max(1, keepdims=True)[0], lambda m, x: m.std(x, 1, keepdims=True),
               lambda m, x: m.var_mean(x, 1, keepdims=True)[1],
               lambda m, x: m.linalg.vector_norm(x, dim=1, keepdims=True),
               lambda m, x: x.kthvalue(1, 1, keepdims=True)[0],
               lambda m, x: m.logsumexp(x, 1, keepdims=True), lambda m, x: m.amin(x, 0, True)):
        got, want = fn(leafgrad, leafgrad.arange(6.0).reshape(2, 3)), fn(
            torch, torch.arange(6.0).reshape(2, 3))
        assert tuple(got.shape) == tuple(want.shape) and np.allclose(got.numpy(), want.numpy())
    with pytest.raises(TypeError, match="keepdim and keepdims"):
        leafgrad.ones(2).sum(0, keepdim=True, keepdims=True)


def test_range_indexes_like_its_list():
    for lib in (leafgrad, torch):
        x = lib.arange(12.0).reshape(3, 4)
        assert tuple(x[range(2)].shape) == (2, 4) and tuple(x[range(0)].shape) == (0, 4)
        assert x[range(0, 2), range(1, 3)].tolist() == [1.0, 6.0]
        assert x[:, range(3, 0, -1)][0].tolist() == [3.0, 2.0, 1.0]
        x[range(1)] = 5
        x[1, range(2)] = -1
        assert x.tolist() == [[5.0] * 4, [-1.0, -1.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]]


@pytest.mark.parametrize("name,args", [("sin_", ()), ("exp_", ()), ("clamp_", (0.2, 0.6)),
                                       ("zero_", ()), ("fill_", (3.0,)), ("relu_", ())])
def test_inplace_free_functions(name, args):
    lt, tt = leafgrad.tensor([0.5, -1.0]), torch.tensor([0.5, -1.0])
    assert getattr(leafgrad, name)(lt, *args) is lt and getattr(torch, name)(tt, *args) is tt
    assert np.allclose(lt.numpy(), tt.numpy(), rtol=1e-6)  # float32 sin/exp: within rounding
    _raises_same(lambda: getattr(torch, name)(1.0), lambda: getattr(leafgrad, name)(1.0))


def test_inplace_shape_methods():
    for lib in (leafgrad, torch):
        x = lib.arange(6.0).reshape(2, 3)
        v = x[0]
        assert x.unsqueeze_(0) is x and tuple(x.shape) == (1, 2, 3) and x._version == 1
        assert tuple(v.shape) == (3,)  # other views keep their shape
        x.squeeze_()
        x.t_()
        assert x.stride() == (1, 3) and x.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
        x.transpose_(0, 1).swapdims_(0, 1).swapaxes_(1, 0).unsqueeze_(1).squeeze_(1)
        assert tuple(x.shape) == (2, 3)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            lib.ones(2, requires_grad=True).unsqueeze_(0)


def test_old_svd_returns_v():
    a = np.random.default_rng(0).standard_normal((4, 3))
    for some in (True, False):
        for uv in (True, False):
            got, want = leafgrad.svd(leafgrad.tensor(a), some, uv), torch.svd(torch.tensor(a),
                                                                               some, uv)
            assert [tuple(x.shape) for x in got] == [tuple(x.shape) for x in want]
            for g, w in zip(got, want):  # singular vectors up to sign
                assert np.allclose(np.abs(g.numpy()), np.abs(w.numpy()))
    assert repr(got).startswith("torch.return_types.svd(\nU=")
    assert [type(x.grad_fn).__name__ for x in leafgrad.svd(leafgrad.tensor(a, requires_grad=True))
            ] == [type(x.grad_fn).__name__ for x in torch.svd(torch.tensor(a, requires_grad=True))]
