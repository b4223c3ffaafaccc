"""A strict fake accelerator for the tests: CuPy's rules on the CPU.

``FakeArray`` holds a NumPy array but is not one, and behaves as a CuPy array does towards the
host: no implicit conversion either way (``np.asarray(fake)`` raises as ``cupy.ndarray`` does;
a NumPy array mixed into a ufunc, a ``fake`` function, an index assignment or an operator
raises), reductions and element reads give 0-d arrays rather than NumPy scalars, ``.get()``
copies to the host, ``.item()`` / ``.tolist()`` / ``float()`` / ``int()`` / ``bool()`` read
values, ``operator.index`` does not (CuPy has no ``__index__``), and ``flags`` has no
``writeable``. NumPy functions and ufuncs called on fake arrays dispatch to the fake module
(``__array_function__`` / ``__array_ufunc__``), as they dispatch to CuPy.

``fake`` (the module object ``FAKE``) is the array module: NumPy's functions behind the same
rules. Creation functions (``zeros``, ``arange``...) make fake arrays; ``asarray``/``array``
copy host data to the device; ``random`` and ``errstate`` are absent (leafgrad draws random
numbers on the CPU, and NumPy's ``errstate`` governs the NumPy it runs on).

``register()`` adds the device type ``"fake"`` to leafgrad's backend (tests only).
"""

from __future__ import annotations

import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

_ndarray = np.ndarray


class HostDeviceMixError(TypeError):
    """A host (NumPy) array met a fake-device array where CuPy would refuse it."""


def _refuse(where: str, x) -> HostDeviceMixError:
    return HostDeviceMixError(
        f"{where}: a host NumPy array (shape {x.shape}, {x.dtype}) met fake-device arrays; "
        "CuPy refuses this. Create the array through the input's array module "
        "(xp = array_module(x)) or move it with leafgrad.backend.like(host, x)."
    )


def _unwrap(x, where: str):
    """Fake arrays to their NumPy data (in lists/tuples too); host arrays refused."""
    c = x.__class__
    if c is FakeArray:
        return x._a
    if isinstance(x, _ndarray):
        raise _refuse(where, x)
    if c is list or c is tuple:
        return c(_unwrap(i, where) for i in x)
    return x


def _unwrap_index(idx):
    """An index: fake arrays unwrapped; host arrays, lists and numbers allowed (as in CuPy)."""
    c = idx.__class__
    if c is FakeArray:
        return idx._a
    if c is tuple:
        return tuple(i._a if i.__class__ is FakeArray else i for i in idx)
    return idx


def _wrap(r):
    """NumPy results as fake arrays; NumPy scalars as 0-d arrays (CuPy returns no scalars)."""
    if isinstance(r, _ndarray):
        return FakeArray(r)
    if isinstance(r, np.generic):
        return FakeArray(np.asarray(r))
    c = r.__class__
    if c is tuple or c is list:
        return c(_wrap(i) for i in r)
    if isinstance(r, tuple):  # a named tuple (np.linalg's SVDResult, EighResult...)
        return c(*(_wrap(i) for i in r))
    return r


class _Flags:
    """CuPy's flags: contiguity and ownership only (no ``writeable``)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, a):
        f = a.flags
        self.c_contiguous = f.c_contiguous
        self.f_contiguous = f.f_contiguous
        self.owndata = f.owndata

    def __getitem__(self, key):
        return getattr(self, {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
                              "OWNDATA": "owndata"}[key])


def _defers(other) -> bool:
    """CuPy's ``_should_use_rop``: an operand without ``__array_ufunc__`` but with a higher
    ``__array_priority__`` (a leafgrad Tensor) gets its reflected operator."""
    return (not isinstance(other, (FakeArray, _ndarray, np.generic, int, float, complex))
            and not hasattr(other, "__array_ufunc__")
            and getattr(other, "__array_priority__", 0) > 0)


def _deferring(name):
    op = getattr(NDArrayOperatorsMixin, name)

    def method(self, other):
        return NotImplemented if _defers(other) else op(self, other)

    method.__name__ = name
    return method


class FakeArray(NDArrayOperatorsMixin):
    """An array on the fake device (see the module docstring for its rules)."""

    __slots__ = ("_a",)
    __hash__ = None
    __array_priority__ = 0.0

    def __init__(self, a: np.ndarray):
        self._a = a

    # -- crossing to the host: only explicitly ------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` "
                        "to construct a NumPy array explicitly. (fake device)")

    def get(self, stream=None, order="C", out=None, blocking=True) -> np.ndarray:
        return self._a.copy()

    def item(self):
        return self._a.item()

    def tolist(self):
        return self._a.tolist()

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __complex__(self):
        return complex(self._a)

    def __bool__(self):
        return bool(self._a)

    def __repr__(self):
        return f"fake({self._a!r})"

    __str__ = __repr__

    # -- NumPy protocols ----------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        for x in inputs:
            if not isinstance(x, (FakeArray, _ndarray, np.generic, int, float, complex, bool)):
                return NotImplemented  # e.g. a leafgrad Tensor: let its reflected operator run
        where = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        _check_method(ufunc.__name__, method)
        args = _unwrap(inputs, where)
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = _unwrap(out, where)
        if "where" in kwargs:
            kwargs["where"] = _unwrap(kwargs["where"], where)
        r = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return None if method == "at" else _wrap(r)

    def __array_function__(self, func, types_, args, kwargs):
        for t in types_:
            if t is not FakeArray and not issubclass(t, _ndarray):
                return NotImplemented
        f = _FAKE_FUNCS.get(func)
        if f is None:
            f = _FAKE_FUNCS[func] = _fake_function(func)
        return f(*args, **kwargs)

    # -- attributes ---------------------------------------------------------------------------
    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, value):  # reshape without a copy, or AttributeError (CuPy's, NumPy's rule)
        self._a.shape = value

    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    T = property(lambda self: FakeArray(self._a.T))
    mT = property(lambda self: FakeArray(self._a.mT))
    real = property(lambda self: FakeArray(self._a.real))
    imag = property(lambda self: FakeArray(self._a.imag))
    flags = property(lambda self: _Flags(self._a))
    base = property(lambda self: None if self._a.base is None else FakeArray(self._a.base))

    @property
    def device(self):
        return _DEVICE

    @property
    def data(self):  # CuPy's MemoryPointer: the address, not the memory
        return types.SimpleNamespace(ptr=self._a.__array_interface__["data"][0])

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._a.shape[0]))

    def __getitem__(self, idx):
        return _wrap(self._a[_unwrap_index(idx)])

    def __setitem__(self, idx, value):
        c = value.__class__
        if c is FakeArray:
            value = value._a
        elif isinstance(value, _ndarray):
            raise _refuse("fake array __setitem__ (value)", value)
        self._a[_unwrap_index(idx)] = value

    def __copy__(self):
        return FakeArray(self._a.copy())

    def __deepcopy__(self, memo):
        return FakeArray(self._a.copy())

    def __getattr__(self, name):
        # methods (reshape, astype, sum, ...): unwrap arguments, wrap results
        if name.startswith("__") or name in _NOT_ON_DEVICE:
            raise AttributeError(f"fake device arrays have no attribute {name!r} (as in CuPy)")
        attr = getattr(self._a, name)
        if not callable(attr):
            return attr

        def method(*args, **kwargs):
            where = f"fake array .{name}()"
            out = kwargs.get("out")
            r = attr(*_unwrap(args, where), **{k: _unwrap(v, where) for k, v in kwargs.items()})
            return out if out is not None else _wrap(r)

        return method


for _name in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "divmod", "pow",
              "lshift", "rshift", "and", "xor", "or"):
    for _f in (f"__{_name}__", f"__r{_name}__"):
        setattr(FakeArray, _f, _deferring(_f))
for _f in ("__lt__", "__le__", "__eq__", "__ne__", "__gt__", "__ge__"):
    setattr(FakeArray, _f, _deferring(_f))


# ndarray members CuPy arrays lack (or that would leak host memory)
_NOT_ON_DEVICE = frozenset({"ctypes", "setflags", "tofile", "dumps", "dump", "resize",
                            "getfield", "setfield", "byteswap", "newbyteorder", "itemset"})


def _fake_function(func):
    """NumPy function ``func`` with fake arrays in and out; host arrays refused."""
    name = getattr(func, "__name__", repr(func))

    def f(*args, **kwargs):
        where = f"fake.{name}"
        out = kwargs.get("out")
        r = func(*_unwrap(args, where), **{k: _unwrap(v, where) for k, v in kwargs.items()})
        return out if out is not None else _wrap(r)

    f.__name__ = name
    return f


_FAKE_FUNCS: dict = {}


def _to_device(x, dtype=None, copy=None, order="K", **kw):
    """``fake.asarray``/``array``: host data (arrays, lists, numbers) copied to the device."""
    if x.__class__ is FakeArray:
        a = x._a
        if dtype is not None and a.dtype != np.dtype(dtype):
            return FakeArray(a.astype(dtype))
        return FakeArray(a.copy()) if copy else x
    if isinstance(x, (list, tuple)):
        x = _unwrap_seq(x)
    return FakeArray(np.array(x, dtype=dtype, order=order, **kw))


def _unwrap_seq(x):
    """A list/tuple that may hold fake arrays (CuPy's ``array`` accepts them) as host data."""
    out = []
    for i in x:
        c = i.__class__
        out.append(i._a if c is FakeArray else _unwrap_seq(i) if c in (list, tuple) else i)
    return out


# ufunc methods CuPy implements, and for which ufuncs (cupy/_core/_kernel.pyx)
_UFUNC_METHODS = {"reduce": {"add", "multiply"}, "accumulate": {"add", "multiply"},
                  "reduceat": {"add"}}


def _check_method(name: str, method: str) -> None:
    if method == "at":  # CuPy's ufunc.at is recent and partial: go through the backend
        raise NotImplementedError(
            f"{name}.at on a device array: use leafgrad.backend.ufunc_at / scatter_add "
            "(cupyx.scatter_* on CUDA; older CuPy has no ufunc.at)")
    ok = _UFUNC_METHODS.get(method)
    if ok is not None and name not in ok:
        raise NotImplementedError(f"`{name}.{method}` is not supported yet (as in CuPy)")


class _FakeUfunc:
    """A NumPy ufunc on fake arrays (``fake.add``, ``fake.add.at``, ``fake.maximum.reduce``)."""

    def __init__(self, uf):
        self._uf = uf
        self.__name__ = uf.__name__
        self.nin, self.nout, self.identity = uf.nin, uf.nout, uf.identity

    def __call__(self, *args, **kwargs):
        return self._call("__call__", args, kwargs)

    def _call(self, method, args, kwargs):
        where = f"fake.{self.__name__}" + ("" if method == "__call__" else f".{method}")
        _check_method(self.__name__, method)
        out = kwargs.get("out")
        kw = {k: _unwrap(v, where) for k, v in kwargs.items()}
        r = getattr(self._uf, method)(*_unwrap(args, where), **kw)
        if out is not None:
            return out[0] if isinstance(out, tuple) and len(out) == 1 else out
        return None if method == "at" else _wrap(r)

    def reduce(self, *a, **k):
        return self._call("reduce", a, k)

    def accumulate(self, *a, **k):
        return self._call("accumulate", a, k)

    def outer(self, *a, **k):
        return self._call("outer", a, k)

    def at(self, *a, **k):
        return self._call("at", a, k)

    def reduceat(self, *a, **k):
        return self._call("reduceat", a, k)


class _FakeNamespace(types.ModuleType):
    """A NumPy namespace (``numpy``, ``numpy.linalg``...) whose functions run on fake arrays."""

    def __init__(self, name: str, np_mod, overrides: dict | None = None, absent=()):
        super().__init__(name)
        self._np = np_mod
        self._absent = frozenset(absent)
        self.__dict__.update(overrides or {})

    def __getattr__(self, name):
        if name.startswith("__") or name in self._absent:
            raise AttributeError(f"{self.__name__} has no {name!r} (not on the fake device, as in "
                                 "CuPy: see tests/fakedevice.py)")
        v = getattr(self._np, name)
        if isinstance(v, np.ufunc):
            w = _FakeUfunc(v)
        elif isinstance(v, types.ModuleType):
            w = _FakeNamespace(f"{self.__name__}.{name}", v)
        elif callable(v) and not isinstance(v, type):
            w = _fake_function(v)
        else:
            w = v  # dtypes, scalar types, constants
        setattr(self, name, w)
        return w


def _fake_as_strided(x, shape=None, strides=None, subok=False, writeable=True):
    return FakeArray(np.lib.stride_tricks.as_strided(x._a, shape, strides, writeable=writeable))


def _fake_swv(x, window_shape, axis=None, *, subok=False, writeable=False):
    return FakeArray(np.lib.stride_tricks.sliding_window_view(
        x._a, window_shape, axis, writeable=writeable))


_stride_tricks = types.SimpleNamespace(as_strided=_fake_as_strided,
                                       sliding_window_view=_fake_swv)

FAKE = _FakeNamespace(
    "fake", np,
    overrides={"ndarray": FakeArray, "asarray": _to_device,
               "array": lambda x, dtype=None, copy=True, **kw: _to_device(x, dtype, copy, **kw),
               "asanyarray": _to_device,
               "ascontiguousarray": lambda x, dtype=None: FakeArray(np.ascontiguousarray(
                   _to_device(x, dtype)._a)),
               "lib": types.SimpleNamespace(stride_tricks=_stride_tricks)},
    absent=("random", "errstate", "seterr", "geterr", "asmatrix", "matrix", "frombuffer",
            "fromfile", "memmap", "ctypeslib", "testing"),
)

_DEVICE = types.SimpleNamespace(id=0)


def _scatter(ufunc):
    """``cupyx.scatter_add/max/min``: the index may hold host arrays (CuPy copies them, as in
    indexing); the values may not."""
    def f(a, index, values) -> None:
        ufunc.at(a._a, _unwrap_index(index), _unwrap(values, f"scatter_{ufunc.__name__}"))
    return f


def register() -> None:
    """Make ``leafgrad.device("fake")`` a device backed by FAKE (tests only)."""
    from leafgrad import backend

    backend.register_backend(backend.Backend(
        "fake", FAKE, FakeArray,
        to_host=lambda a: a._a.copy(),
        from_host=lambda a, index: FakeArray(np.array(a)),
        index_of=lambda a: None,
        scatter={"add": _scatter(np.add), "maximum": _scatter(np.maximum),
                 "minimum": _scatter(np.minimum)},
        as_strided=lambda a, shape, strides: _fake_as_strided(a, shape, strides),
    ))


__all__ = ["FAKE", "FakeArray", "HostDeviceMixError", "OnDevice", "register"]


class OnDevice:
    """``leafgrad`` as a test row sees it, with tensors created on ``dev`` by default.

    A row's callable ``fn(lib, *xs)`` may create tensors (``lib.tensor([0, 2])`` as an index);
    through this proxy they are made on the row's device, as a script written for CUDA would.
    """

    _CREATORS = frozenset({"tensor", "as_tensor", "zeros", "ones", "full", "empty", "arange",
                           "eye", "linspace", "logspace", "rand", "randn", "randint", "randperm",
                           "normal", "tril_indices", "triu_indices", "empty_strided"})

    def __init__(self, lib, dev):
        self._lib = lib
        self._dev = dev

    def __getattr__(self, name):
        v = getattr(self._lib, name)
        if name in self._CREATORS:
            dev = self._dev

            def create(*args, **kwargs):
                kwargs.setdefault("device", dev)
                return v(*args, **kwargs)

            return create
        return v
