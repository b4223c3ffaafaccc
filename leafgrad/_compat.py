"""The small torch names scripts reach for, loaded on first use (``leafgrad.__getattr__``).

``import leafgrad`` loads none of this: ``leafgrad.cuda``, ``leafgrad.backends``,
``leafgrad.FloatTensor``, ``leafgrad.set_num_threads``... are resolved here the first time a
script touches them (PEP 562). Torch namespaces leafgrad does not provide raise an
``AttributeError`` that says so and why, instead of a bare one (``from leafgrad import nn`` then
raises Python's ImportError).
"""

from __future__ import annotations

import importlib
import os
import warnings

from . import dtypes as _dt
from .backend import device as _device

__all__ = [
    "BFloat16Tensor", "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor",
    "HalfTensor", "IntTensor", "LongTensor", "OutOfMemoryError", "ShortTensor", "compile",
    "get_default_device", "get_num_interop_threads", "get_num_threads", "lazy_attribute",
    "set_default_device", "set_num_interop_threads", "set_num_threads",
]


class OutOfMemoryError(RuntimeError):
    """``torch.OutOfMemoryError`` / ``torch.cuda.OutOfMemoryError``, for ``except`` clauses.

    >>> issubclass(OutOfMemoryError, RuntimeError)
    True
    """


OutOfMemoryError.__module__ = "leafgrad"

# ---------------------------------------------------------------------------------------------
# Threads. leafgrad's parallelism is NumPy's BLAS pool (matmul, linalg); elementwise ops are
# single-threaded NumPy loops.

_threads = {"intra": None, "interop": None}


def _check_threads(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    return n


def _blas_pools():
    try:
        import threadpoolctl  # noqa: PLC0415 - optional (leafgrad[threads]), loaded on use
    except ImportError:
        return None
    return threadpoolctl


def set_num_threads(n: int) -> None:
    """Size NumPy's BLAS thread pool (through threadpoolctl, if installed; else a no-op).

    Without threadpoolctl (``pip install leafgrad[threads]``) the value is only remembered, and
    :func:`get_num_threads` returns it: set ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` before
    starting Python to size the pool then.

    >>> n = get_num_threads(); set_num_threads(1); get_num_threads()
    1
    >>> set_num_threads(n)
    """
    _threads["intra"] = _check_threads(n, "set_num_threads")
    tpc = _blas_pools()
    if tpc is not None:
        tpc.threadpool_limits(limits=n, user_api="blas")


def get_num_threads() -> int:
    """Threads of NumPy's BLAS pool (threadpoolctl), else the last set value or the CPU count.

    >>> get_num_threads() >= 1
    True
    """
    tpc = _blas_pools()
    if tpc is not None:
        pools = [p["num_threads"] for p in tpc.threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return int(pools[0])
    return _threads["intra"] or os.cpu_count() or 1


def set_num_interop_threads(n: int) -> None:
    """Remembered only: leafgrad runs ops one at a time, with no inter-op thread pool.

    >>> set_num_interop_threads(2); get_num_interop_threads()
    2
    """
    _threads["interop"] = _check_threads(n, "set_num_interop_threads")


def get_num_interop_threads() -> int:
    """The value given to :func:`set_num_interop_threads`, or the CPU count.

    >>> get_num_interop_threads() >= 1
    True
    """
    return _threads["interop"] or os.cpu_count() or 1


# ---------------------------------------------------------------------------------------------
# Default device.


def set_default_device(device) -> None:
    """Where factories create tensors: leafgrad supports ``'cpu'`` (and None, meaning cpu).

    >>> set_default_device("cpu"); get_default_device()
    device(type='cpu')
    """
    if device is None or _device(device).type == "cpu":
        return
    raise NotImplementedError(
        f"torch.set_default_device({str(device)!r}): leafgrad creates tensors on the CPU by "
        "default and cannot change that default yet; pass device= to the factory or move "
        "tensors with .to(device)")


def get_default_device():
    """``device('cpu')``: leafgrad's factories create CPU tensors unless told otherwise.

    >>> get_default_device()
    device(type='cpu')
    """
    return _device("cpu")


# ---------------------------------------------------------------------------------------------
# torch.compile: there is nothing to compile a leafgrad model into, and running it eagerly gives
# the same results, so the model comes back unchanged (with one warning per process).

_compile_warned = [False]


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor",  # noqa: A001
            mode=None, options=None, disable: bool = False):
    """``model`` itself, unchanged: leafgrad runs eagerly (warns once). Also a decorator.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     f = compile(abs)
    >>> f is abs
    True
    """
    if model is None:
        def decorate(fn):
            return compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                           options=options, disable=disable)
        return decorate
    if not disable and not _compile_warned[0]:
        _compile_warned[0] = True
        warnings.warn("torch.compile: leafgrad has no compiler; the model runs eagerly, "
                      "unchanged (same results, no speed-up). Warned once", UserWarning,
                      stacklevel=2)
    return model


# ---------------------------------------------------------------------------------------------
# Legacy tensor types: torch.FloatTensor(2, 3), torch.LongTensor([1, 2]), isinstance checks.


class _LegacyTensorType(type):
    """The metaclass of ``FloatTensor`` & co.: constructors and ``isinstance`` by dtype."""

    dtype: _dt.dtype

    def __instancecheck__(cls, obj) -> bool:
        from .tensor import Tensor  # noqa: PLC0415

        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == "cpu"

    def __call__(cls, *args, device=None, **kwargs):
        from .creation import empty, tensor  # noqa: PLC0415
        from .size import Size  # noqa: PLC0415
        from .tensor import Tensor  # noqa: PLC0415

        name = cls.__name__
        if kwargs:
            raise TypeError(
                f"{name}() got unexpected keyword arguments {sorted(kwargs)}; the legacy "
                f"constructor takes only sizes or data and device=. Use torch.tensor(data, "
                f"dtype={cls.dtype}, requires_grad=...) instead")
        if device is not None and _device(device).type != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: "
                               f"{_device(device).type} was passed")
        if not args:
            return empty(0, dtype=cls.dtype)
        if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            return empty(*args, dtype=cls.dtype)
        if len(args) == 1 and isinstance(args[0], Size):
            return empty(args[0], dtype=cls.dtype)
        if len(args) != 1:
            raise TypeError(f"{name}(): expected sizes (ints) or one sequence of data, got "
                            f"{len(args)} arguments of types "
                            f"{', '.join(type(a).__name__ for a in args)}")
        data = args[0]
        if isinstance(data, Tensor):
            if data.dtype is not cls.dtype:
                raise TypeError(
                    f"{name}(tensor): expected a tensor of dtype {cls.dtype} but got "
                    f"{data.dtype}; convert it with tensor.to({cls.dtype}) or .type({name})")
            return data.detach()
        if isinstance(data, (int, float, complex, bool)):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        return tensor(data, dtype=cls.dtype)

    def __repr__(cls) -> str:
        return f"<class 'leafgrad.{cls.__name__}'>"


def _legacy(name: str, dt: _dt.dtype) -> type:
    cls = _LegacyTensorType(name, (), {
        "__doc__": f"``torch.{name}``: legacy constructor of {dt} CPU tensors; "
                   f"``isinstance(t, {name})`` tests the dtype.",
        "__module__": "leafgrad", "dtype": dt, "is_cuda": False, "is_sparse": False})
    return cls


FloatTensor = _legacy("FloatTensor", _dt.float32)
DoubleTensor = _legacy("DoubleTensor", _dt.float64)
HalfTensor = _legacy("HalfTensor", _dt.float16)
BFloat16Tensor = _legacy("BFloat16Tensor", _dt.bfloat16)
LongTensor = _legacy("LongTensor", _dt.int64)
IntTensor = _legacy("IntTensor", _dt.int32)
ShortTensor = _legacy("ShortTensor", _dt.int16)
CharTensor = _legacy("CharTensor", _dt.int8)
ByteTensor = _legacy("ByteTensor", _dt.uint8)
BoolTensor = _legacy("BoolTensor", _dt.bool)

# ---------------------------------------------------------------------------------------------
# In-place free functions: torch.sin_(t) is t.sin_().

_INPLACE_FREE = frozenset((
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
    "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
    "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_",
    "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "index_put_", "log10_", "log1p_",
    "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_",
    "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_",
    "tanh_", "trunc_", "xlogy_", "zero_",
))


def _inplace_free(name: str):
    def inplace(input, *args, **kwargs):  # noqa: A002 - PyTorch's argument name
        from .tensor import Tensor  # noqa: PLC0415

        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    inplace.__name__ = inplace.__qualname__ = name
    inplace.__doc__ = f"``torch.{name}(t, ...)``: the same as ``t.{name}(...)``, in place."
    inplace.__module__ = "leafgrad"
    return inplace


# ---------------------------------------------------------------------------------------------
# What leafgrad.<name> loads on first use.

_SUBMODULES = frozenset({"accelerator", "amp", "backends", "cpu", "cuda", "version"})
_HERE = frozenset(__all__) - {"lazy_attribute"}
_ALIASES = {"autocast": ("amp", "autocast")}

# torch namespaces that leafgrad does not provide (yet): a message for each
_NOT_YET = "is not provided by leafgrad yet"
_MISSING = {
    "nn": _NOT_YET, "optim": _NOT_YET, "distributions": _NOT_YET,
    "fft": _NOT_YET, "special": _NOT_YET, "func": _NOT_YET, "hub": _NOT_YET,
    "profiler": _NOT_YET, "multiprocessing": _NOT_YET, "testing": _NOT_YET,
    "signal": _NOT_YET, "masked": _NOT_YET, "nested": _NOT_YET, "library": _NOT_YET,
    "jit": ("is not provided by leafgrad: TorchScript compiles a model for PyTorch's C++ "
            "runtime, and leafgrad runs Python eagerly. Drop torch.jit.script/trace: the model "
            "runs the same without them"),
    "fx": "is not provided by leafgrad: it has no graph-capture tracer",
    "export": "is not provided by leafgrad: it has no graph-capture tracer",
    "compiler": "is not provided by leafgrad: it has no compiler (torch.compile returns the "
                "model unchanged)",
    "onnx": "is not provided by leafgrad: it cannot export ONNX graphs",
    "sparse": "is not provided by leafgrad: it has dense (strided) tensors only",
    "quantization": "is not provided by leafgrad: it has no quantized tensors",
    "ao": "is not provided by leafgrad: it has no quantized tensors",
    "mps": "is not provided by leafgrad: it has no MPS (Apple GPU) device",
    "xpu": "is not provided by leafgrad: it has no XPU device",
    "package": "is not provided by leafgrad",
}


def lazy_attribute(name: str):
    """``leafgrad.<name>`` for names loaded on first use; the error for names not provided.

    >>> lazy_attribute("FloatTensor")
    <class 'leafgrad.FloatTensor'>
    """
    import leafgrad  # noqa: PLC0415

    if name in _SUBMODULES:
        return importlib.import_module(f"leafgrad.{name}")
    if name in _HERE or name in _ALIASES:
        mod, attr = _ALIASES.get(name, (None, name))
        value = getattr(importlib.import_module(f"leafgrad.{mod}") if mod else
                        importlib.import_module(__name__), attr)
        setattr(leafgrad, name, value)
        return value
    if name in _INPLACE_FREE:
        value = _inplace_free(name)
        setattr(leafgrad, name, value)
        return value
    if name in _MISSING:
        try:  # a namespace that has landed since this table was written
            return importlib.import_module(f"leafgrad.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"leafgrad.{name}":
                raise
        # NOTE: an AttributeError (with the reason), not an ImportError: library code probes
        # with getattr(torch, name, None) and hasattr(), which only catch AttributeError
        raise AttributeError(f"torch.{name} {_MISSING[name]} (leafgrad has no attribute "
                             f"'{name}')", name=name, obj=leafgrad)
    raise AttributeError(f"module 'leafgrad' has no attribute '{name}'")
