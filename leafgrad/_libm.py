"""float64 ``log``, ``log1p``, ``sin``, ``cos``, ``exp`` on arrays, equal to the C library's.

PyTorch's CPU random kernels (``normal_distribution<double>``, ``normal_fill`` for float64,
``exponential_``) call the C library's scalar ``log``/``log1p``/``sin``/``cos``; PyTorch's
float64 ``exp`` (MKL) agrees with the C library's in 99.5% of elements, NumPy's AVX-512 loop
in 95.5% (``leafgrad.ops.lastbits`` uses it). NumPy calls the same functions on most CPUs,
but its AVX-512 builds use their own SIMD versions (SVML), which differ from glibc's by 1 ulp
on a few percent of inputs; a normal sample computed with them is then not torch's. So, once
per function and at first use, this module checks NumPy's ufunc against Python's ``math``
module (which is the C library's function) on a probe array and picks:

1. NumPy's ufunc, when it agrees on the whole probe (AVX2 and older CPUs: NumPy's loop *is* the
   C library's), full NumPy speed;
2. otherwise NumPy's scalar loop, which calls the C library element by element: NumPy takes it
   when the output overlaps the input one element behind it (its SIMD loops refuse partially
   overlapping memory). Also checked on the probe before it is trusted; ~8 ns an element;
3. otherwise ``math``'s function element by element (~60 ns an element).

>>> import math, numpy as np
>>> float(log1p(np.array([-0.25]))[0]) == math.log1p(-0.25)
True
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["log", "log1p", "sin", "cos", "exp", "chosen"]

_PROBE_SIZE = 8192


def _probe(name: str) -> np.ndarray:
    """Deterministic inputs over the domain the random kernels use (a Weyl sequence in [0, 1))."""
    u = (np.arange(1, _PROBE_SIZE + 1, dtype=np.float64) * 0.6180339887498949) % 1.0
    if name == "log":
        return 1.0 - u  # (0, 1]: log(1 - u) in Box-Muller
    if name == "log1p":
        return -u  # (-1, 0]: log1p(-u) in the scalar normal and in exponential_
    if name == "exp":
        return 1400.0 * u - 700.0  # [-700, 700): exp's whole finite range
    return 2.0 * math.pi * u  # [0, 2 pi): the Box-Muller angle


def _scalar_loop(ufunc):
    def run(x: np.ndarray) -> np.ndarray:
        # NOTE: the output starts one element before the input, so the memory partially
        # overlaps: NumPy's ufunc machinery allows it (each element is read before it is
        # overwritten) and its SIMD inner loops decline it, leaving the C library's scalar loop.
        # One padding element keeps the overlap when x has a single element.
        n = x.size
        buf = np.empty(n + 2, np.float64)
        buf[1:-1] = x.ravel()
        buf[-1] = 0.5
        ufunc(buf[1:], out=buf[:-1])
        return buf[:n].reshape(x.shape)
    return run


def _python_loop(fn):
    def run(x: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(x, np.float64).ravel()
        return np.fromiter(map(fn, flat.tolist()), np.float64, flat.size).reshape(np.shape(x))
    return run


_chosen: dict[str, tuple[str, object]] = {}


def _pick(name: str):
    ufunc, fn = getattr(np, name), getattr(math, name)
    x = _probe(name)
    want = np.array([fn(v) for v in x.tolist()])
    for how, impl in (("numpy", ufunc), ("numpy scalar loop", _scalar_loop(ufunc)),
                      ("math", _python_loop(fn))):
        # the whole probe, and its elements one at a time (SIMD loops treat tails apart)
        if how == "math" or (np.array_equal(impl(x), want) and all(
                impl(x[i:i + 1])[0] == want[i] for i in range(0, _PROBE_SIZE, 97))):
            _chosen[name] = (how, impl)
            return impl
    raise AssertionError("unreachable")


def _call(name: str, x) -> np.ndarray:
    entry = _chosen.get(name)
    impl = entry[1] if entry is not None else _pick(name)
    return impl(np.asarray(x, np.float64))


def log(x) -> np.ndarray:
    """The C library's ``log`` on each element of a float64 array.

    >>> float(log(np.array([1.0]))[0])
    0.0
    """
    return _call("log", x)


def log1p(x) -> np.ndarray:
    """The C library's ``log1p`` on each element of a float64 array.

    >>> float(log1p(np.array([0.0]))[0])
    0.0
    """
    return _call("log1p", x)


def sin(x) -> np.ndarray:
    """The C library's ``sin`` on each element of a float64 array.

    >>> float(sin(np.array([0.0]))[0])
    0.0
    """
    return _call("sin", x)


def cos(x) -> np.ndarray:
    """The C library's ``cos`` on each element of a float64 array.

    >>> float(cos(np.array([0.0]))[0])
    1.0
    """
    return _call("cos", x)


def exp(x) -> np.ndarray:
    """The C library's ``exp`` on each element of a float64 array.

    >>> float(exp(np.array([0.0]))[0])
    1.0
    """
    return _call("exp", x)


def chosen() -> dict[str, str]:
    """Which way each function is evaluated here (after first use): for tests and bug reports.

    >>> _ = log(np.ones(1)); chosen()["log"] in ("numpy", "numpy scalar loop", "math")
    True
    """
    return {name: how for name, (how, _) in _chosen.items()}
