"""Devices and the array module ``xp``: NumPy on the CPU, CuPy on CUDA (the only cupy import).

Op code takes its array module from an input (``xp = array_module(x)``) and creates arrays
through it, so the same code runs on any device whose arrays follow NumPy's API. A device type
other than ``cpu`` is a registered ``Backend``: CUDA registers itself on first use, and the tests
register a strict fake device (``tests/fakedevice.py``) that proves the CPU build device-clean.
The helpers at the end cover what the array modules spell differently (scatter-add, strided
views, device placement of host-made arrays such as random draws).
"""

from __future__ import annotations

import warnings

import numpy as np

_cupy = None  # imported on first use so that `import leafgrad` stays NumPy-only and fast


class Backend:
    """A device type: its array module, its array class, and how arrays cross to and from it."""

    __slots__ = ("type", "xp", "array_type", "to_host", "from_host", "index_of", "scatter",
                 "as_strided")

    def __init__(self, type, xp, array_type, to_host, from_host, index_of,  # noqa: A002
                 scatter=None, as_strided=None):
        self.type = type
        self.xp = xp
        self.array_type = array_type
        self.to_host = to_host          # device array -> NumPy array (a copy)
        self.from_host = from_host      # (NumPy array, device index) -> device array
        self.index_of = index_of        # device array -> its device index (or None)
        # ufunc name -> f(a, index, values): NumPy's ufunc.at, done natively on the device
        # (the index may hold host arrays, as in indexing); others go through the host
        self.scatter = scatter or {}
        self.as_strided = as_strided    # (a, shape, strides in bytes) -> view


_BY_TYPE: dict[str, Backend] = {}     # device type name -> Backend (every type but cpu)
_BY_CLASS: dict[type, Backend] = {}   # array class -> Backend


def register_backend(b: Backend) -> None:
    """Make ``device(b.type)`` valid and arrays of ``b.array_type`` belong to it."""
    _BY_TYPE[b.type] = b
    _BY_CLASS[b.array_type] = b


def unregister_backend(type: str) -> None:  # noqa: A002
    """Forget a registered device type (the tests' fake device, when a test is done with it)."""
    b = _BY_TYPE.pop(type, None)
    if b is not None:
        _BY_CLASS.pop(b.array_type, None)


def _get_cupy():
    global _cupy
    if _cupy is None:
        try:
            import cupy  # noqa: PLC0415 - optional dependency, imported lazily
        except ImportError as e:
            raise RuntimeError(
                "device='cuda' needs CuPy: install leafgrad[gpu] (pip install cupy-cuda12x); "
                "CUDA tensors live in CuPy arrays the way CPU tensors live in NumPy arrays"
            ) from e
        _cupy = cupy
        register_backend(_cupy_backend(cupy))
    return _cupy


def _cupy_backend(cp) -> Backend:
    def from_host(a, index):
        with cp.cuda.Device(index or 0):
            return cp.asarray(a)

    import cupyx  # noqa: PLC0415 - part of CuPy; its scatter_* work where ufunc.at does not

    scatter = {"add": cupyx.scatter_add, "maximum": cupyx.scatter_max,
               "minimum": cupyx.scatter_min}
    return Backend("cuda", cp, cp.ndarray, lambda a: a.get(), from_host, lambda a: a.device.id,
                   scatter, cp.lib.stride_tricks.as_strided)


class device:
    """Where a tensor's memory lives: ``device('cpu')`` or ``device('cuda', 0)``.

    >>> device("cpu"), str(device("cuda:1"))
    (device(type='cpu'), 'cuda:1')
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None):  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int):
            type, index = "cuda", type
        elif ":" in type:
            type, idx = type.split(":", 1)
            index = int(idx)
        if type not in ("cpu", "cuda") and type not in _BY_TYPE:
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type}"
            )
        self.type = type
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        # NOTE: like torch.device, a device never equals a string (device('cpu') != 'cpu')
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))


CPU = device("cpu")


def as_device(d) -> device:
    """Normalise a device argument (str, int, device or None meaning cpu).

    >>> as_device(None)
    device(type='cpu')
    """
    if d is None:
        return CPU
    if isinstance(d, device):
        return d
    return device(d)


def is_cupy_array(a) -> bool:
    """True when ``a`` is a CuPy array (without importing CuPy if it was never used)."""
    return _cupy is not None and isinstance(a, _cupy.ndarray)


def _backend_of(a) -> Backend | None:
    """The registered backend that owns array ``a`` (None for NumPy arrays and non-arrays)."""
    b = _BY_CLASS.get(a.__class__)
    if b is None and _BY_CLASS and not isinstance(a, np.ndarray):
        for cls, b2 in _BY_CLASS.items():
            if isinstance(a, cls):
                return b2
    return b


def is_device_array(a) -> bool:
    """True when ``a`` is an array of a non-CPU device (CuPy, or a registered one).

    >>> is_device_array(np.zeros(1))
    False
    """
    return a.__class__ is not np.ndarray and _backend_of(a) is not None


def array_module(a):
    """The array module (``numpy``, ``cupy``, ...) that owns array ``a``.

    >>> array_module(np.zeros(1)).__name__
    'numpy'
    """
    # NOTE: this runs in op forwards and backwards; a NumPy array answers after one class test
    if a.__class__ is np.ndarray or not _BY_CLASS:
        return np
    b = _backend_of(a)
    return np if b is None else b.xp


def xp_for(dev: device):
    """The array module for a device.

    >>> xp_for(CPU).__name__
    'numpy'
    """
    if dev.type == "cpu":
        return np
    if dev.type == "cuda" and "cuda" not in _BY_TYPE:
        _get_cupy()
    return _BY_TYPE[dev.type].xp


def device_of(a) -> device:
    """The device an array lives on.

    >>> device_of(np.zeros(1))
    device(type='cpu')
    """
    b = None if a.__class__ is np.ndarray else _backend_of(a)
    if b is None:
        return CPU
    return device(b.type, b.index_of(a))


def to_numpy(a) -> np.ndarray:
    """A NumPy view (CPU) or copy (any other device) of an array.

    >>> to_numpy(np.ones(2))
    array([1., 1.])
    """
    b = None if a.__class__ is np.ndarray else _backend_of(a)
    return a if b is None else b.to_host(a)


def move(a, dev: device):
    """Return ``a`` on device ``dev`` (no copy when it is already there).

    >>> move(np.ones(1), CPU)
    array([1.])
    """
    if dev.type == "cpu":
        return to_numpy(a)
    if dev.type == "cuda" and "cuda" not in _BY_TYPE:
        _get_cupy()
    b = _BY_TYPE[dev.type]
    if isinstance(a, b.array_type):
        if b.index_of(a) == (dev.index or 0) or dev.index is None:
            return a
    return b.from_host(to_numpy(a), dev.index)


def like(host, ref):
    """Host array ``host`` placed on the device of array ``ref`` (no copy when that is the CPU).

    For what is computed on the host on purpose: random draws (leafgrad's generator runs on the
    CPU, so a seed gives the same numbers on every device), small index tables, Python data.

    >>> like(np.arange(2), np.zeros(3))
    array([0, 1])
    """
    if ref.__class__ is np.ndarray:
        return host
    b = _backend_of(ref)
    return host if b is None else b.from_host(np.asarray(host), b.index_of(ref))


def ufunc_at(name: str, a, index, values) -> None:
    """NumPy's ``np.<name>.at(a, index, values)`` on any device (repeated indices combine).

    CuPy does ``add``, ``maximum`` and ``minimum`` natively (``cupyx.scatter_*``); ``subtract``
    adds the negated values; any other ufunc (``multiply``) runs on a host copy.

    >>> a = np.zeros(2); ufunc_at("add", a, np.array([0, 0, 1]), 1.0); a
    array([2., 1.])
    """
    b = None if a.__class__ is np.ndarray else _backend_of(a)
    if b is None:
        getattr(np, name).at(a, index, values)
        return
    f = b.scatter.get(name)
    if f is not None:
        f(a, index, values)
    elif name == "subtract" and "add" in b.scatter:
        b.scatter["add"](a, index, -values)
    else:  # NOTE: no device kernel for this ufunc: through the host, correct but slow
        host = b.to_host(a)
        idx = tuple(to_numpy(i) for i in index) if isinstance(index, tuple) else to_numpy(index)
        getattr(np, name).at(host, idx, to_numpy(values))
        a[...] = b.from_host(host, b.index_of(a))


def scatter_add(a, index, values) -> None:
    """``a[index] += values`` with repeated indices adding up (NumPy's ``np.add.at``).

    >>> a = np.zeros(2); scatter_add(a, np.array([0, 0, 1]), 1.0); a
    array([2., 1.])
    """
    if a.__class__ is np.ndarray:
        np.add.at(a, index, values)
    else:
        ufunc_at("add", a, index, values)


def accumulate(name: str, a, axis: int):
    """NumPy's ``np.<name>.accumulate(a, axis)`` (``maximum``/``minimum``: running extremes) on
    any device; CuPy accumulates only ``add`` and ``multiply``, so elsewhere it is a log-step
    scan of the ufunc, exact because max and min pick one of their operands.

    >>> accumulate("maximum", np.array([1, 3, 2, 5]), 0)
    array([1, 3, 3, 5])
    """
    if a.__class__ is np.ndarray:
        return getattr(np, name).accumulate(a, axis=axis)
    f = getattr(array_module(a), name)
    out = a.copy()
    n = a.shape[axis]
    hi = [slice(None)] * a.ndim
    lo = [slice(None)] * a.ndim
    step = 1
    while step < n:
        hi[axis] = slice(step, None)
        lo[axis] = slice(None, n - step)
        out[tuple(hi)] = f(out[tuple(hi)], out[tuple(lo)])
        step *= 2
    return out


def as_strided(a, shape, strides):
    """A view of ``a`` with the given shape and strides (in bytes), on any device.

    >>> as_strided(np.arange(4), (3, 2), (8, 8))
    array([[0, 1],
           [1, 2],
           [2, 3]])
    """
    b = None if a.__class__ is np.ndarray else _backend_of(a)
    if b is None or b.as_strided is None:
        return np.lib.stride_tricks.as_strided(a, shape, strides)
    return b.as_strided(a, shape, strides)


_generic = np.generic
_np_asarray = np.asarray


def as_array(r):
    """A computed result as an array: NumPy gives scalars for full reductions and 0-d
    operations, CuPy (and other devices) 0-d arrays, which stay as they are.

    >>> as_array(np.zeros(3).sum())
    array(0.)
    """
    return _np_asarray(r) if isinstance(r, _generic) else r


def mean(a, axis=None, keepdims: bool = False, dtype=None):
    """``a.mean(...)`` with NaN for an empty reduction and no warning, as PyTorch gives it
    (NumPy adds "Mean of empty slice", which ``np.errstate`` does not silence).

    >>> mean(np.zeros((0, 2)), axis=0)
    array([nan, nan])
    """
    if a.size:  # NOTE: a non-empty array has no empty reduction; the common case, no cost
        return a.mean(axis=axis, keepdims=keepdims, dtype=dtype)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return a.mean(axis=axis, keepdims=keepdims, dtype=dtype)


def data_ptr(a) -> int:
    """The address of an array's first element (NumPy's interface, CuPy's ``data.ptr``).

    >>> a = np.zeros(4); data_ptr(a[1:]) - data_ptr(a)
    8
    """
    if a.__class__ is np.ndarray:
        return a.__array_interface__["data"][0]
    return a.data.ptr


def writeable(a) -> bool:
    """Whether ``a`` may be written: NumPy's flag (a broadcast or a read-only buffer is not);
    device memory (CuPy's arrays have no such flag) always may.

    >>> writeable(np.zeros(2)), writeable(np.broadcast_to(np.zeros(1), (2,)))
    (True, False)
    """
    return getattr(a.flags, "writeable", True)
