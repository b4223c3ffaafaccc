"""Deliberate differences: where torch is wrong or inconsistent and leafgrad differs on purpose.

Each entry names its section of ``docs/differences.md`` (the user-facing list: what differs, a
torch reproducer, what leafgrad does and why) and holds:

- ``applies(seen)``: the narrow condition (the exact op and the exact values) under which a
  value mismatch is this difference: it returns the mask of the elements it explains, or None.
  It is asked only about a silent-value / silent-grad difference the runner found. The runner
  gives torch's explained elements leafgrad's values and compares again: when nothing else
  differs, it reports the line as category ``deliberate`` (statistics, not a failure) and
  stops the program (its state has diverged on purpose, as for ``aliasing-undefined``);
  otherwise the mismatch stays what it was;
- ``torch_still_differs()``: runs torch and returns True while torch still shows the
  inconsistency. ``tests/test_fuzz_deliberate.py`` asserts it, so the day torch is fixed that
  test fails and the entry (and leafgrad's difference) must go;
- ``example``: a program as (line, op label) pairs (the same text for both libraries) whose
  last line the runner must report as this entry.

Adding an entry: write its section in docs/differences.md, then append a ``Deliberate`` to
``ENTRIES`` below; tests/fuzz/README.md ("Deliberate differences") says more. The rows whose
condition reruns the program in torch with one op rewritten are in ``deliberate_rerun.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Seen:
    """What the runner saw of one differing variable on one line."""

    op: str                    # the statement's op label, e.g. "op:gelu"
    code: str                  # the line's text
    category: str              # silent-value or silent-grad
    path: str                  # the variable (and ".grad" for a gradient)
    dtype: str                 # "float32", ...
    torch: np.ndarray          # torch's values of that variable (or of its .grad)
    leafgrad: np.ndarray       # leafgrad's
    inputs: dict               # name -> torch's values of the line's tensor operands
    program: tuple = ()        # the program's lines so far, this one last (for a rerun)


@dataclass(frozen=True)
class Deliberate:
    """One deliberate difference (see the module docstring)."""

    name: str                                   # the anchor of its docs/differences.md section
    summary: str
    applies: Callable[[Seen], np.ndarray | None]
    torch_still_differs: Callable[[], bool]
    example: tuple[tuple[str, str], ...]
    # whether torch on this machine takes the path that shows the difference (some are a
    # CPU's vector code): elsewhere the entry is not tested (its example agrees there)
    shown_here: Callable[[], bool] = lambda: True


def nonfinite_differ(t: np.ndarray, lv: np.ndarray) -> np.ndarray:
    """Where two float arrays differ and one of them is inf or NaN (NaN equals NaN)."""
    both_nan = np.isnan(t) & np.isnan(lv)
    return ~both_nan & (~np.isfinite(t) | ~np.isfinite(lv)) & (t != lv)


def _same_shape_inputs(seen: Seen) -> list[np.ndarray]:
    return [v for v in seen.inputs.values()
            if isinstance(v, np.ndarray) and v.shape == seen.torch.shape]


# -- torch's vectorized float32 GELU at +inf --------------------------------------------------
def _gelu_applies(s: Seen) -> np.ndarray | None:
    if s.op != "op:gelu" or s.category != "silent-value" or s.dtype != "float32" or \
            "approximate" in s.code or s.torch.shape != s.leafgrad.shape:
        return None
    m = nonfinite_differ(s.torch, s.leafgrad)
    if not m.any() or not (np.isnan(s.torch[m]).all() and (s.leafgrad[m] == np.inf).all()):
        return None
    ok = any((x[m] == np.inf).all() for x in _same_shape_inputs(s))
    return m if ok else None


def _gelu_torch() -> bool:
    import torch

    gelu = torch.nn.functional.gelu
    one = gelu(torch.tensor([float("inf")]))[0].item()           # the scalar path: inf
    many = gelu(torch.tensor([float("inf"), 1.0]))[0].item()     # the vectorized path: NaN
    f64 = gelu(torch.tensor([float("inf"), 1.0], dtype=torch.float64))[0].item()
    return one == float("inf") and f64 == float("inf") and np.isnan(many)


def _avx512() -> bool:
    """Whether torch runs its AVX-512 kernels here (its AVX2 float32 GELU gives inf at +inf,
    as leafgrad: measured on an AMD EPYC without AVX-512)."""
    import torch

    return torch.backends.cpu.get_cpu_capability().startswith("AVX512")


# -- torch's float32 convolution skipping the products with zero padding -----------------------
_CONV_CALLS = ("conv1d(", "conv2d(", "conv3d(")


def _conv_applies(s: Seen) -> np.ndarray | None:
    if not s.op.startswith("op:conv") or s.op.startswith("op:conv_transpose") or \
            s.category != "silent-value" or s.dtype != "float32" or \
            not any(c in s.code for c in _CONV_CALLS) or "padding" not in s.code or \
            s.torch.shape != s.leafgrad.shape:
        return None
    # leafgrad NaN where torch is not (torch's value is finite, or inf where its other
    # products overflowed)
    m = np.isnan(s.leafgrad) & ~np.isnan(s.torch)
    if not m.any():
        return None
    # a weight or input with inf/NaN: its products with the padding zeros are 0 * inf
    if all(np.isfinite(x).all() for x in s.inputs.values() if x.dtype.kind == "f"):
        return None
    # and leafgrad's NaN is what torch itself computes in float64 on the same line
    f64 = _torch_again(s, float64=True)
    return m if f64 is not None and f64.shape == m.shape and np.isnan(f64[m]).all() else None


def _torch_again(s: Seen, float64: bool) -> np.ndarray | None:
    """The line run again in torch on contiguous copies of its operands' values (in float64
    when asked): torch's own answer by its other path."""
    import torch

    target = s.code.split("=", 1)[0].strip()
    if not target.isidentifier():
        return None
    ns: dict = {"torch": torch, "inf": float("inf"), "nan": float("nan")}
    for name, v in s.inputs.items():
        v = v.astype(np.float64) if float64 and v.dtype.kind == "f" else v.copy()
        ns[name] = torch.from_numpy(np.ascontiguousarray(v).reshape(v.shape))
    code = s.code.replace("torch.float32", "torch.float64") if float64 else s.code
    exec(compile(code, "<deliberate>", "exec"), ns)  # noqa: S102 (the fuzzer's own line)
    out = ns.get(target)
    return out.detach().numpy() if isinstance(out, torch.Tensor) else None


# -- torch's batch norm: another formula for a non-contiguous input ---------------------------
def _bn_applies(s: Seen) -> np.ndarray | None:
    if s.op not in ("op:batch_norm_eval", "op:batch_norm") or \
            s.category != "silent-value" or "batch_norm(" not in s.code or \
            s.torch.shape != s.leafgrad.shape:
        return None
    m = nonfinite_differ(s.torch, s.leafgrad)
    if not m.any():
        return None
    # leafgrad's value is torch's own on contiguous copies of the same operands
    again = _torch_again(s, float64=False)
    if again is None or again.shape != m.shape:
        return None
    a, lv = again[m], s.leafgrad[m]
    return m if ((a == lv) | (np.isnan(a) & np.isnan(lv))).all() else None


def _bn_torch() -> bool:
    import torch

    inf = float("inf")
    x = torch.tensor([[-0.5, 9.0, -1.5, 9.0, 2.0, 9.0]], dtype=torch.float64)[..., ::2]
    w = torch.tensor([-1.5, -2.0, -inf], dtype=torch.float64)
    rm = torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64)
    rv = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
    strided = torch.nn.functional.batch_norm(x, rm, rv, w, w)[0, 2].item()
    dense = torch.nn.functional.batch_norm(x.contiguous(), rm, rv, w, w)[0, 2].item()
    return strided == -inf and np.isnan(dense)


def _conv_torch() -> bool:
    import torch

    def run(dt, threads):
        x = torch.tensor([[[[[1.0]]], [[[-0.5]]]]], dtype=dt)
        w = torch.tensor([[[[[float("inf")]]]], [[[[-0.5]]]]], dtype=dt)
        b = torch.tensor([-1.5, -0.25], dtype=dt)
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            y = torch.nn.functional.conv3d(x, w, b, padding=(1, 0, 1), groups=2)
        finally:
            torch.set_num_threads(before)
        return y[0, 0, 0, 0, 0].item()

    # float32 on two threads skips the padding products, on one thread and in float64 not
    return (run(torch.float32, 2) == -1.5 and np.isnan(run(torch.float32, 1))
            and np.isnan(run(torch.float64, 2)))


ENTRIES: tuple[Deliberate, ...] = (
    Deliberate(
        name="gelu-float32-inf",
        summary="torch's vectorized float32 GELU gives NaN at +inf (its scalar path and "
                "float64 give inf); leafgrad gives inf",
        applies=_gelu_applies,
        torch_still_differs=_gelu_torch,
        example=(("x0 = torch.tensor([inf, 3.0], dtype=torch.float32)", "leaf"),
                 ("x1 = torch.nn.functional.gelu(x0)", "op:gelu")),
        shown_here=_avx512,
    ),
    Deliberate(
        name="conv-float32-padding-nonfinite",
        summary="torch's float32 convolution, depending on the shape and on its thread "
                "count, skips the products of a non-finite weight with the zero padding "
                "(finite result; one thread and float64 give NaN); leafgrad always gives NaN",
        applies=_conv_applies,
        torch_still_differs=_conv_torch,
        example=(("x0 = torch.tensor([[[[[1.0]]], [[[-0.5]]]]], dtype=torch.float32)", "leaf"),
                 ("x1 = torch.tensor([[[[[inf]]]], [[[[-0.5]]]]], dtype=torch.float32)", "leaf"),
                 ("x2 = torch.tensor([-1.5, -0.25], dtype=torch.float32)", "leaf"),
                 ("x3 = torch.nn.functional.conv3d(x0, x1, x2, padding=(1, 0, 1), groups=2)",
                  "op:conv3d")),
    ),
)


ENTRIES += (
    Deliberate(
        name="batch-norm-layout-nonfinite",
        summary="torch's batch norm computes a contiguous input as x*alpha + beta and a "
                "non-contiguous one as (x - mean)*alpha + bias: with inf in weight or bias "
                "they disagree (NaN vs inf); leafgrad computes every layout as the contiguous",
        applies=_bn_applies,
        torch_still_differs=_bn_torch,
        example=(("x0 = torch.tensor([[-0.5, 9.0, -1.5, 9.0, 2.0, 9.0]], "
                  "dtype=torch.float64)[..., ::2].detach()", "leaf"),
                 ("x1 = torch.tensor([-1.5, -2.0, -inf], dtype=torch.float64)", "leaf"),
                 ("x2 = torch.nn.functional.batch_norm(x0, torch.tensor([0.1, -0.2, 0.3], "
                  "dtype=x0.dtype), torch.tensor([0.5, 1.0, 2.0], dtype=x0.dtype), x1, x1)",
                  "op:batch_norm_eval")),
    ),
)


from .deliberate_rerun import rerun_entries  # noqa: E402 (its rows are made of Deliberate)

ENTRIES += rerun_entries(Deliberate)


def match(seen: Seen) -> tuple[Deliberate, np.ndarray] | None:
    """The entry this difference is and the elements it explains, or None."""
    for e in ENTRIES:
        try:
            m = e.applies(seen)
        except Exception:  # a predicate must never turn a mismatch into a crash
            continue
        if m is not None and m.any():
            return e, m
    return None


__all__ = ["Deliberate", "ENTRIES", "Seen", "match", "nonfinite_differ"]
