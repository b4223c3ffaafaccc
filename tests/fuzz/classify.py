"""Sort a report's failures into root-cause classes (a heuristic map for the fixing work).

A category says *what* differed (a value, an error); a class guesses *why*, from the failing
line, torch's message and the program's history (which views were taken how, what was
modified in place before a backward). The rules are ordered; the first that matches wins.
Counts per class are approximate; the reproducers of each class are what to read.

    python -m tests.fuzz --classes fuzz_out/all.json
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import torch

from .generate import generate, run_line
from .program import Program

_ZERO_D_REDUCTIONS = re.compile(r"\.(max|min|median|nanmedian|mode|kthvalue|sort|topk|cummax|"
                                r"cummin)\(|torch\.(max|min|median|mode)\(")


def _history(prog: Program, upto: int) -> dict:
    """Per variable: the op that made it, the variable it is a view of (by torch's own view
    tracking, whatever family wrote the line), whether it is 0-d and its base is not."""
    ns: dict = {"torch": torch, "inf": float("inf"), "nan": float("nan")}
    info: dict = {}
    roots: dict[int, str] = {}  # id of a storage root tensor -> first variable on it
    for st in prog.stmts[: upto + 1]:
        run_line(st.text(), ns)
        for w in st.writes:
            v = ns.get(w)
            if not isinstance(v, torch.Tensor):
                info[w] = {"op": st.op, "base": None, "zero_d": False, "code": st.code}
                continue
            try:
                root = v._base if v._is_view() else v
            except Exception:
                root = v
            base = roots.get(id(root)) if root is not v else None
            roots.setdefault(id(root), w)
            zero_d = v.dim() == 0 and root is not v and root.dim() > 0
            info[w] = {"op": st.op, "base": base, "zero_d": zero_d, "code": st.code}
    return info


def _root(info: dict, var: str) -> str:
    seen = set()
    while var in info and info[var]["base"] and var not in seen:
        seen.add(var)
        var = info[var]["base"]
    return var


def _target(code: str) -> str | None:
    m = re.match(r"(?:with torch.no_grad\(\):\s*)?(x\d+)", code)
    return m.group(1) if m else None


def _views_as_copies(info: dict, prog: Program, f: dict) -> bool:
    """A view leafgrad copies (unfold; integer indexing down to 0-d) touches the failing line."""
    st = prog.stmts[f["line"]]
    relevant = set(st.reads) | set(st.writes) | {f["path"].split(".")[0].split("[")[0]}
    for var, i in info.items():
        if i["base"] is not None and ("unfold" in i["op"] or i["zero_d"]):
            if var in relevant or i["base"] in relevant:
                return True
    return False


def _inplace_after_view(info: dict, prog: Program, line: int) -> bool:
    """An in-place op on a base (or a view of it) after a view of that base was taken."""
    made: dict[str, int] = {}
    for j, st in enumerate(prog.stmts[:line]):
        for w in st.writes:
            if w in info and info[w]["base"]:
                made.setdefault(_root(info, w), j)
        if st.kind in ("inplace", "setitem"):
            t = _target(st.code)
            if t is not None and made.get(_root(info, t), j) < j:
                return True
    return False


def _zero_d_alias(info: dict) -> bool:
    return any(i["zero_d"] and i["op"].startswith(("dim:", "op:")) and
               _ZERO_D_REDUCTIONS.search(i["code"]) for i in info.values())


def classify(f: dict, prog: Program | None = None) -> str:
    """The root-cause class of one failure record of a report."""
    cat, op, d = f["category"], f["op"], f["detail"]
    if cat == "deliberate":  # its entry's name leads the detail: "[gelu-float32-inf] ..."
        m = re.match(r"\[([\w.-]+)\]", d)
        return f"deliberate (docs/differences.md): {m.group(1) if m else '?'}"
    if op.startswith("out:"):
        if "unexpected keyword argument 'out'" in d:
            return "out=: not accepted (TypeError) by this function"
        if cat in ("silent-value", "shape", "version", "dtype"):
            return "out=: accepted but the result is not written to out"
        if cat == "missing-error":
            return "out=: torch's checks on out (autograd, dtype) missing"
        return "out=: other"
    if cat == "missing-api":
        m = re.search(r"attribute '(\w+)'", d)
        return f"missing API: {m.group(1) if m else '?'}"
    if cat == "missing-error":
        if "second time" in d:
            return "saved state: a second backward is not refused"
        if "modified by an inplace operation" in d:
            return "saved state: an in-place change of a saved tensor is not detected"
        if "returns multiple views" in d or "is a view and" in d:
            return "views: in-place on an output of a multi-view op (split/unbind) not refused"
        if "single memory location" in d:
            return "aliasing: overlapping in-place write / copy not refused"
        if "leaf Variable" in d:
            return "in-place on a leaf (or its view) that requires grad not refused"
        if "dtypes match" in d:
            return "setitem: source/destination dtype mismatch accepted (torch refuses)"
        if "not implemented for" in d:
            return "dtypes: op accepted on a dtype torch does not support"
        if re.search(r"out of (bounds|range)|index .* is out", d):
            return "validation: index out of range accepted (wraps or clamps)"
        if re.search(r"Expected (dtype int64|a long tensor)|must be long|indices", d):
            return "validation: index tensor dtype not checked"
        if "TypeError" in d:
            return "validation: argument type (float dim, None, wrong kind) accepted"
        return "validation: other error torch raises"
    if cat == "spurious-error":
        if "not supported by leafgrad yet" in d:
            return "not supported yet, said in the error (in-place shape methods on graph tensors)"
        if "modified by an inplace operation" in d:
            return "saved state: over-conservative (refuses what torch allows)"
        if "second time" in d:
            return "saved state: second backward refused where torch allows it"
        if "0-dimensional" in d or "AxisError" in d or "axis" in d:
            return "0-d tensors: raw NumPy axis errors"
        if "leaf Variable" in d:
            return "in-place on a leaf: refused where torch allows it"
        if op.startswith(("getitem", "setitem", "view")):
            return "indexing/views: spurious error"
        return "spurious error: other"
    prog = prog if prog is not None else generate(f["seed"])
    info = _history(prog, f["line"])
    if cat == "shape":
        if "torch [] leafgrad [1]" in d:
            return "0-d tensors: result or gradient has shape (1,) instead of ()"
        return "shape: other"
    if cat in ("silent-value", "silent-grad", "version", "strides"):
        if _zero_d_alias(info) and cat != "strides":
            return "views: 0-d max/min/median/mode(dim) returns its input (an alias)"
        if _views_as_copies(info, prog, f):
            return "views: returned as copies (unfold, integer indexing to 0-d)"
        if cat == "version":
            return "version counter: bumped differently"
        if cat == "strides":
            return "views: different strides"
        has_inplace = any(s.kind in ("inplace", "setitem") for s in prog.stmts[: f["line"]])
        if cat == "silent-grad" and _inplace_after_view(info, prog, f["line"]):
            return "views: stale history after an in-place op on the base / a sibling"
        if "grad2" in op or any("create_graph=True" in s.code for s in prog.stmts):
            return "second-order derivatives"
        if re.search(r"nan|inf", d, re.I):
            return f"awkward points (NaN/inf/0): {op.split(':')[-1]}"
        m = re.search(r"torch np\.float\d+\(([-\d.e+]+)\) leafgrad np\.float\d+\(([-\d.e+]+)\)",
                      d)
        if m:
            a, b = float(m.group(1)), float(m.group(2))
            if abs(a - b) <= 1e-5 * max(abs(a), abs(b)):
                return "precision: float32 rounding where torch keeps double (scalars, grads)"
        if has_inplace:
            return "in-place: other silent difference"
        return f"silent: other ({op.split(':')[0]})"
    if cat == "dtype":
        return "dtypes: result dtype / type differs"
    if cat == "autograd-meta":
        return "autograd: requires_grad / is_leaf propagation differs"
    if cat in ("exception-type", "raw-exception"):
        m = re.search(r"torch ([\w.]+): .*\| leafgrad ([\w.]+):", d)
        pair = f"{m.group(1)} -> {m.group(2)}" if m else "?"
        return f"{'raw NumPy exception' if cat == 'raw-exception' else 'exception type'}: {pair}"
    if cat == "grad_fn":
        m = re.search(r"torch (\S+) leafgrad (\S+)", d)
        if m and m.group(1) == "AsStridedBackward0":
            return "views: grad_fn not regenerated after an in-place op on the base (torch: " \
                   "AsStridedBackward0)"
        if m and m.group(1) in ("CopyBackwards", "FillBackward3", "FillBackward2") and \
                m.group(2) == "CopySlices":
            return "setitem x[...] / x[:] / x[()] = v: torch records copy_/fill_ on x itself"
        return f"node name: {m.group(1)} -> {m.group(2)}" if m else "node name"
    if cat == "timeout":
        return "timeout"
    return f"{cat}: other"


def classes(rep: dict) -> dict[str, list[dict]]:
    """Failures of a report grouped by class (largest first)."""
    out: dict[str, list[dict]] = defaultdict(list)
    for f in rep["failures"]:
        if f["category"] == "signed-zero":
            continue
        out[classify(f)].append(f)
    return dict(sorted(out.items(), key=lambda kv: -len(kv[1])))


def table(rep: dict) -> str:
    """A text table: class, programs, categories, a few seeds."""
    rows = []
    for k, fs in classes(rep).items():
        cats = Counter(f["category"] for f in fs)
        seeds = ", ".join(str(f["seed"]) for f in fs[:4])
        rows.append(f"{len(fs):6d}  {k}\n        {dict(cats)}  seeds {seeds}")
    return "\n".join(rows)
