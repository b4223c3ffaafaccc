"""What the runner observes of a value in each library, and how two observations compare.

An observation is library-neutral: tensors become ``TObs`` (shape, dtype, values as a NumPy
array, strides, version, autograd facts, ``.grad``), sequences become ``SeqObs``, Python
scalars stay themselves. ``diff`` returns the differences as (category, path, detail) triples.
Tolerances are documented in README.md; in short, floats agree when
``|l - t| <= k*eps*(|t| + scale)`` with k = 64 times the line's multiplier, NaN positions and
infinities must match exactly, integers and bools must be equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EPS = {"float16": 9.8e-4, "bfloat16": 7.8e-3, "float32": 1.2e-7, "float64": 2.2e-16}
ULPS = 64.0

# categories: the first ones stop a program (its state has diverged); the rest are recorded
# and the program goes on
MAJOR = ("silent-value", "silent-grad", "shape", "dtype", "missing-error", "spurious-error",
         "missing-api", "autograd-meta", "timeout")
MINOR = ("exception-type", "raw-exception", "strides", "grad_fn", "version", "signed-zero",
         "aliasing-undefined", "deliberate")
CATEGORIES = MAJOR + MINOR
# recorded in the statistics but not a failure: the sign of a zero (torch's own kernels are
# not consistent about it, e.g. remainder and zero gradients)
# aliasing-undefined: an in-place op reading memory it writes through another layout, which
# torch accepts without defining the result (families._alias_undefined); the program stops
# deliberate: a documented difference from torch (tests/fuzz/deliberate.py, docs/differences.md),
# where torch is wrong or inconsistent; the program stops
INFO = ("signed-zero", "aliasing-undefined", "deliberate")


@dataclass
class TObs:
    """A tensor as observed: what the user can read from it."""

    shape: tuple
    dtype: str
    values: np.ndarray
    strides: tuple | None
    version: int | None
    requires_grad: bool | None = None
    is_leaf: bool | None = None
    grad_fn: str | None = None
    grad: object = "-"   # "-" not observed (non-leaf), None, or a TObs


@dataclass
class SeqObs:
    kind: str       # tuple | list | size | named:<fields>
    items: list


@dataclass
class Opaque:
    type_name: str


def _values(t, lib_name: str) -> np.ndarray:
    if lib_name == "torch":
        # clone first: numpy() marks the tensor's storage as not resizable (an out= argument
        # could then no longer be resized); force=True: ZeroTensor gradients (sgn)
        return t.detach().clone().numpy(force=True)
    data = getattr(t, "_data", None)  # leafgrad's array; reading it runs no autograd code
    if isinstance(data, np.ndarray):
        return np.array(data, copy=True)
    return np.array(t.detach().numpy(), copy=True)


def observe(obj, lib, meta: bool = True, depth: int = 0):
    """Observe ``obj`` made by library ``lib`` (torch or leafgrad)."""
    name = lib.__name__
    if isinstance(obj, lib.Tensor):
        try:
            strides = tuple(obj.stride())
        except Exception:
            strides = None
        o = TObs(tuple(obj.shape), str(obj.dtype), _values(obj, name), strides,
                 getattr(obj, "_version", None))
        if meta:
            try:
                fn = obj.grad_fn
                o.requires_grad = bool(obj.requires_grad)
                o.is_leaf = bool(obj.is_leaf)
                o.grad_fn = None if fn is None else type(fn).__name__
            except Exception as e:  # torch refuses to read an invalidated multi-output view
                o.requires_grad = o.is_leaf = None
                o.grad_fn = f"<raises {type(e).__name__}>"
        try:
            has_grad = depth == 0 and (obj.is_leaf or getattr(obj, "retains_grad", False))
        except Exception:
            has_grad = False
        if has_grad:
            g = obj.grad
            o.grad = None if g is None else observe(g, lib, meta=False, depth=1)
        return o
    if isinstance(obj, tuple | list):
        fields = getattr(obj, "_fields", None) or getattr(type(obj), "__match_args__", None)
        kind = ("size" if type(obj).__name__ == "Size" else
                f"named:{','.join(fields)}" if fields else type(obj).__name__
                if type(obj) in (tuple, list) else "tuple")
        return SeqObs(kind, [observe(x, lib, meta, depth) for x in obj])
    if obj is None or isinstance(obj, bool | int | float | str | complex):
        return obj
    if type(obj).__name__ == "dtype":
        return str(obj)
    return Opaque(type(obj).__name__)


def _cat_value(path: str) -> str:
    return "silent-grad" if ".grad" in path else "silent-value"


def _float_diff(t: np.ndarray, lv: np.ndarray, dtype: str, tol: float, scale: float,
                loose: bool = False, floor: str | None = None):
    """None when the arrays agree; else a short description of the worst element.

    ``loose``: NaN and infinities may stand for each other (a contraction's order of summing
    decides whether ``inf * 0`` is reached), but non-finite still never matches finite.
    """
    if loose:
        both = ~np.isfinite(t) & ~np.isfinite(lv)
        t, lv = np.where(both, 0, t), np.where(both, 0, lv)
    tn, ln = np.isnan(t), np.isnan(lv)
    if (tn != ln).any():
        k = int(np.argmax(tn != ln))
        return f"NaN at flat index {k}: torch {t.flat[k]!r} leafgrad {lv.flat[k]!r}"
    ti, li = np.isinf(t), np.isinf(lv)
    if (ti != li).any() or (t[ti] != lv[ti]).any():
        k = int(np.argmax((ti != li) | (ti & (t != lv))))
        return f"inf at flat index {k}: torch {t.flat[k]!r} leafgrad {lv.flat[k]!r}"
    fin = ~(tn | ti)
    if not fin.any():
        return None
    a = t[fin].astype(np.float64)
    b = lv[fin].astype(np.float64)
    k_eps = ULPS * tol * max(EPS.get(dtype, 1.2e-7), EPS.get(floor, 0.0))
    bad = np.abs(a - b) > k_eps * (np.abs(a) + scale)
    if bad.any():
        k = int(np.argmax(np.abs(a - b) - k_eps * np.abs(a)))
        return f"torch {a[k]!r} leafgrad {b[k]!r} (|diff| {abs(a[k] - b[k]):.3g})"
    return None


def bitexact(t: np.ndarray, lv: np.ndarray) -> tuple[int, int]:
    """(elements bit-identical, elements compared); all NaNs count as equal to each other."""
    if t.shape != lv.shape or t.dtype != lv.dtype or t.dtype.kind != "f" or not t.size:
        return 0, 0
    ui = {2: np.uint16, 4: np.uint32, 8: np.uint64}[t.dtype.itemsize]
    a, b = np.ascontiguousarray(t).view(ui), np.ascontiguousarray(lv).view(ui)
    same = (a == b) | (np.isnan(t) & np.isnan(lv))
    return int(same.sum()), int(t.size)


def diff(ot, ol, path: str, tol: float, scale: float, out: list, strides: bool = True,
         loose: bool = False, floor: str | None = None, values: bool = True,
         grad_values: bool = True) -> None:
    """Append to ``out`` the differences between torch's ``ot`` and leafgrad's ``ol``
    (``grad_values``: whether the values of a tensor's .grad are compared)."""
    if isinstance(ot, TObs) or isinstance(ol, TObs):
        if not (isinstance(ot, TObs) and isinstance(ol, TObs)):
            # a tensor against None (an unused input's gradient) is a value, not a shape
            cat = _cat_value(path) if ot is None or ol is None else "shape"
            out.append((cat, path, f"torch {_kind(ot)} leafgrad {_kind(ol)}"))
            return
        _tensor_diff(ot, ol, path, tol, scale, out, strides, loose, floor, values,
                     grad_values)
        return
    if isinstance(ot, SeqObs) or isinstance(ol, SeqObs):
        if not (isinstance(ot, SeqObs) and isinstance(ol, SeqObs)) or len(ot.items) != len(
                ol.items):
            out.append(("shape", path, f"torch {_kind(ot)} leafgrad {_kind(ol)}"))
            return
        if ot.kind != ol.kind and not {ot.kind, ol.kind} <= {"tuple", "size"}:
            if not (ot.kind.startswith("named") and ol.kind.startswith("named")):
                out.append(("dtype", path, f"torch {ot.kind} leafgrad {ol.kind}"))
        for k, (a, b) in enumerate(zip(ot.items, ol.items)):
            diff(a, b, f"{path}[{k}]", tol, scale, out, strides, loose, floor, values,
                 grad_values)
        return
    if isinstance(ot, Opaque) or isinstance(ol, Opaque):
        if isinstance(ot, Opaque) != isinstance(ol, Opaque):
            out.append(("shape", path, f"torch {_kind(ot)} leafgrad {_kind(ol)}"))
        return
    if type(ot) is not type(ol):
        out.append(("dtype", path, f"torch {ot!r} leafgrad {ol!r}"))
        return
    if not values:
        return
    if isinstance(ot, float):
        # Python floats often come from float32 tensors (item(), tolist()): float32 tolerance
        same = (math.isnan(ot) and math.isnan(ol)) or ot == ol or (
            math.isfinite(ot) and math.isfinite(ol)
            and abs(ot - ol) <= ULPS * tol * EPS["float32"] * (abs(ot) + scale))
        if not same:
            out.append((_cat_value(path), path, f"torch {ot!r} leafgrad {ol!r}"))
        return
    if ot != ol:
        out.append((_cat_value(path), path, f"torch {ot!r} leafgrad {ol!r}"))


def _kind(o) -> str:
    if isinstance(o, TObs):
        return f"tensor{list(o.shape)} {o.dtype}"
    if isinstance(o, SeqObs):
        return f"{o.kind} of {len(o.items)}"
    return repr(o) if not isinstance(o, Opaque) else o.type_name


def _tensor_diff(ot: TObs, ol: TObs, path, tol, scale, out, strides, loose=False,
                 floor=None, values=True, grad_values=True) -> None:
    if ot.shape != ol.shape:
        out.append(("shape", path, f"torch {list(ot.shape)} leafgrad {list(ol.shape)}"))
        return
    if ot.dtype != ol.dtype:
        out.append(("dtype", path, f"torch {ot.dtype} leafgrad {ol.dtype}"))
        return
    t, lv = ot.values, ol.values
    if not values:
        pass
    elif t.dtype.kind == "f":
        d = _float_diff(t, lv, ot.dtype.replace("torch.", ""), tol, scale, loose, floor)
        if d is not None:
            out.append((_cat_value(path), path, d))
            return
        z = (t == 0) & (np.signbit(t) != np.signbit(lv))
        if z.any():
            out.append(("signed-zero", path, f"torch {t[z][0]!r} leafgrad {lv[z][0]!r}"))
    elif not np.array_equal(t, lv):
        k = int(np.argmax(t.reshape(-1) != lv.reshape(-1)))
        out.append((_cat_value(path), path,
                    f"flat index {k}: torch {t.reshape(-1)[k]!r} leafgrad {lv.reshape(-1)[k]!r}"))
        return
    if "<raises" in f"{ot.grad_fn}{ol.grad_fn}" and ot.grad_fn != ol.grad_fn:
        out.append(("grad_fn", path, f"reading grad_fn: torch {ot.grad_fn} leafgrad "
                    f"{ol.grad_fn}"))
    elif ot.requires_grad is not None and ol.requires_grad is not None:
        if (ot.requires_grad, ot.is_leaf) != (ol.requires_grad, ol.is_leaf):
            out.append(("autograd-meta", path, f"requires_grad/is_leaf torch "
                        f"{ot.requires_grad}/{ot.is_leaf} leafgrad {ol.requires_grad}/"
                        f"{ol.is_leaf}"))
        elif ot.grad_fn != ol.grad_fn:
            out.append(("grad_fn", path, f"torch {ot.grad_fn} leafgrad {ol.grad_fn}"))
    if ot.grad != "-" and ol.grad != "-":
        if (ot.grad is None) != (ol.grad is None):
            out.append(("silent-grad", path + ".grad", f"torch {_kind(ot.grad)} leafgrad "
                        f"{_kind(ol.grad)}"))
        elif ot.grad is not None:
            _tensor_diff(ot.grad, ol.grad, path + ".grad", tol, scale, out, False, loose, floor,
                         grad_values)
    if strides and ot.strides is not None and math.prod(ot.shape):
        st = tuple(s for s, n in zip(ot.strides, ot.shape) if n > 1)
        sl = tuple(s for s, n in zip(ol.strides or (), ol.shape) if n > 1)
        if st != sl:
            out.append(("strides", path, f"torch {ot.strides} leafgrad {ol.strides}"))


def clear_grad_fn(o) -> None:
    """Forget the node names in an observation (where they are not compared)."""
    if isinstance(o, TObs):
        o.grad_fn = None
    elif isinstance(o, SeqObs):
        for x in o.items:
            clear_grad_fn(x)


def float_dtypes(o, acc: set) -> set:
    """The float dtypes in an observation."""
    if isinstance(o, TObs):
        if o.values.dtype.kind == "f":
            acc.add(o.dtype.replace("torch.", ""))
    elif isinstance(o, SeqObs):
        for x in o.items:
            float_dtypes(x, acc)
    return acc


def magnitude(o) -> float:
    """The largest finite absolute value in an observation (values and .grad)."""
    if isinstance(o, TObs):
        m = 0.0
        if o.values.dtype.kind in "fiu" and o.values.size:
            v = np.abs(o.values[np.isfinite(o.values)]) if o.values.dtype.kind == "f" \
                else np.abs(o.values.astype(np.float64))
            m = float(v.max()) if v.size else 0.0
        if isinstance(o.grad, TObs):
            m = max(m, magnitude(o.grad))
        return m
    if isinstance(o, SeqObs):
        return max((magnitude(x) for x in o.items), default=0.0)
    if isinstance(o, int | float) and not isinstance(o, bool) and math.isfinite(o):
        return abs(float(o))
    return 0.0


def summary(o, limit: int = 8) -> str:
    """A short human-readable form of an observation, for reports."""
    if isinstance(o, TObs):
        v = o.values.reshape(-1)[:limit].tolist()
        more = ", ..." if o.values.size > limit else ""
        return f"tensor({v}{more}, shape={list(o.shape)}, dtype={o.dtype})"
    if isinstance(o, SeqObs):
        return f"{o.kind}(" + ", ".join(summary(x, 4) for x in o.items[:4]) + ")"
    return repr(o)
