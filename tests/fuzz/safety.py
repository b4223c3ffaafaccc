"""The autograd-safety matrix: every differentiable op × three ways to break its saved state.

For each row of the op table with ``grad=True`` (and each multi-output op in ``MULTI``) and
each scenario:

- ``input<k>``: modify input k in place after the op, then backward;
- ``output`` (``output<k>`` for multi-output ops): modify the output in place, then backward;
- ``twice``: backward, then backward again through the same graph without retain_graph;

the same code runs in torch and in leafgrad. torch raises → leafgrad must raise the same
exception type; torch succeeds → leafgrad must succeed with the same gradients.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from .optable import TESTS  # noqa: F401  (puts tests/ on sys.path for opinfo)
from .runner import _exc_category

SCALE_W = (0.5, -1.25, 2.0, 0.75, -0.5, 1.5)


@dataclass(frozen=True)
class Case:
    """One cell of the matrix."""

    name: str        # row name
    scenario: str    # input0, input1, ..., output, output1, twice
    fn: object       # fn(lib, *inputs) -> tensor or tuple of tensors
    shapes: tuple
    domain: tuple
    outputs: tuple = (None,)   # which outputs to modify / differentiate (None: the result)

    @property
    def id(self) -> str:
        return f"{self.name}/{self.scenario}"


def _multi():
    """Ops whose several outputs are saved or are views (their direct outputs are modified)."""
    sq = ((3, 3),)
    return [
        ("aminmax", lambda m, a: m.aminmax(a), ((2, 3),), (0, 1)),
        ("aminmax_dim", lambda m, a: m.aminmax(a, dim=1), ((2, 3),), (0, 1)),
        ("std_mean", lambda m, a: m.std_mean(a, 1), ((2, 3),), (0, 1)),
        ("var_mean", lambda m, a: m.var_mean(a), ((2, 3),), (0, 1)),
        ("max_dim", lambda m, a: m.max(a, 1), ((2, 3),), (0,)),
        ("min_dim", lambda m, a: a.min(0), ((2, 3),), (0,)),
        ("sort", lambda m, a: m.sort(a, 1), ((2, 3),), (0,)),
        ("topk", lambda m, a: a.topk(2), ((2, 3),), (0,)),
        ("kthvalue", lambda m, a: m.kthvalue(a, 2, 1), ((2, 3),), (0,)),
        ("median_dim", lambda m, a: a.median(1), ((2, 3),), (0,)),
        ("mode", lambda m, a: m.mode(a, 1), ((2, 3),), (0,)),
        ("cummax", lambda m, a: m.cummax(a, 1), ((2, 3),), (0,)),
        ("cummin", lambda m, a: a.cummin(0), ((2, 3),), (0,)),
        ("qr", lambda m, a: m.linalg.qr(a), sq, (0, 1)),
        ("svd", lambda m, a: m.linalg.svd(a, full_matrices=False), sq, (0, 1, 2)),
        ("eigh", lambda m, a: m.linalg.eigh(a + a.mT), sq, (0, 1)),
        ("slogdet", lambda m, a: m.linalg.slogdet(a + 3 * m.eye(3, dtype=a.dtype)), sq, (1,)),
        ("unbind", lambda m, a: a.unbind(1), ((2, 3),), (0, 2)),
        ("split", lambda m, a: m.split(a, 1, 0), ((2, 3),), (0, 1)),
        ("chunk", lambda m, a: a.chunk(3, 1), ((2, 3),), (1,)),
        ("tensor_split", lambda m, a: m.tensor_split(a, 2, 1), ((2, 3),), (0,)),
        ("lstsq", lambda m, a, b: m.linalg.lstsq(a, b), ((4, 3), (4, 2)), (0,)),
    ]


def cases() -> list[Case]:
    """Every cell: (row or multi-output op) × scenario."""
    import opinfo

    out = []
    for row in opinfo.OPS:
        if not row.grad:
            continue
        shapes = next(row.shapes())
        for k in range(len(shapes)):
            out.append(Case(row.name, f"input{k}", row.fn, shapes, row.domain))
        out.append(Case(row.name, "output", row.fn, shapes, row.domain))
        out.append(Case(row.name, "twice", row.fn, shapes, row.domain))
    for name, fn, shapes, outs in _multi():
        name = f"multi:{name}"
        for k in range(len(shapes)):
            out.append(Case(name, f"input{k}", fn, shapes, (-2.0, 2.0), outs))
        for k in outs:
            out.append(Case(name, f"output{k}", fn, shapes, (-2.0, 2.0), outs))
        out.append(Case(name, "twice", fn, shapes, (-2.0, 2.0), outs))
    return out


def _arrays(case: Case) -> list[np.ndarray]:
    """Distinct values in the row's domain (no ties), the same for both libraries."""
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    lo, hi = case.domain
    arrs = []
    for s in case.shapes:
        n = int(np.prod(s))
        vals = lo + (hi - lo) * (rng.permutation(n) + rng.uniform(0.2, 0.8, n)) / max(n, 1)
        arrs.append(vals.reshape(s).astype(np.float64))
    return arrs


def _float_outputs(y, outs):
    if not isinstance(y, tuple | list):
        return [y]
    return [y[k] for k in outs if k is not None and y[k].is_floating_point()]


def _loss(lib, ys):
    total = None
    for y in ys:
        if not y.requires_grad:
            continue
        w = lib.tensor(np.resize(np.array(SCALE_W), max(y.numel(), 1))[: y.numel()]
                       .reshape(tuple(y.shape)), dtype=y.dtype)
        term = (y * w).sum()
        total = term if total is None else total + term
    return total


def run_case(lib, case: Case):
    """("ok", grads) or ("raise", exception) for one library."""
    try:
        leaves = [lib.tensor(a.copy(), requires_grad=True) for a in _arrays(case)]
        ins = [x.clone() for x in leaves]  # CloneBackward0 saves nothing (x * 1 would)
        y = case.fn(lib, *ins)
        ys = _float_outputs(y, case.outputs)
        if case.scenario.startswith("input"):
            ins[int(case.scenario[5:])].add_(0.5)
        elif case.scenario.startswith("output"):
            k = case.scenario[6:]
            target = y[int(k)] if k else y
            target.mul_(2)
        if case.scenario == "twice":
            for _ in range(2):  # sum() and + save no tensors: only the op's own state counts
                parts = [t.sum() for t in ys if t.requires_grad]
                total = parts[0]
                for p in parts[1:]:
                    total = total + p
                total.backward()
        else:
            _loss(lib, ys).backward()
        return "ok", [None if x.grad is None else np.array(x.grad.detach().numpy(), copy=True)
                      for x in leaves]
    except Exception as e:
        return "raise", e


def compare(case: Case) -> str | None:
    """None when leafgrad behaves as torch does; else the difference in words."""
    import torch

    import leafgrad

    kt, vt = run_case(torch, case)
    kl, vl = run_case(leafgrad, case)
    if kt == "raise" and kl == "raise":
        cat = _exc_category(vt, vl)
        return None if cat is None else f"exception-type: torch {type(vt).__name__}, " \
                                        f"leafgrad {type(vl).__name__}: {vl}"
    if kt == "raise":
        return f"missing-error: torch raised {type(vt).__name__}: {str(vt)[:120]}"
    if kl == "raise":
        return f"spurious-error: leafgrad raised {type(vl).__name__}: {str(vl)[:160]}"
    for k, (a, b) in enumerate(zip(vt, vl)):
        if (a is None) != (b is None):
            return f"silent-grad: input {k} grad torch {a} leafgrad {b}"
        if a is None:
            continue
        if a.shape != b.shape:
            return f"silent-grad: input {k} grad shape torch {a.shape} leafgrad {b.shape}"
        if not np.allclose(a, b, rtol=1e-7, atol=1e-9, equal_nan=True):
            return f"silent-grad: input {k} grad torch {a.ravel()[:4]} leafgrad {b.ravel()[:4]}"
    return None
