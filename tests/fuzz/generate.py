"""The program generator: a seed gives one random program, chosen by running it in torch.

The generator executes every line in torch as it writes it, so each choice (which variable to
reuse, a valid dim, the shape of an index's result) is made on the real state; it never looks
at leafgrad, so a seed names the same program whatever leafgrad does (the KNOWN table relies
on that). The families of lines live in ``families.py``; the op-table rows in ``optable.py``.
"""

from __future__ import annotations

import math
import os
import random
import re
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from .program import FLOAT_DTYPES, Leaf, Program, Stmt, _filler

NICE = (-3.0, -2.0, -1.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
SPECIAL = (0.0, -0.0, math.inf, -math.inf, math.nan)
PY_INTS = (0, 1, 2, -1, 3, -2, 5)
PY_FLOATS = (0.5, -1.5, 2.0, 0.0, -0.0, 0.001, 3.25, -0.75)
PY_ODD = (True, False, math.inf, -math.inf, math.nan, 2 ** 31, 2 ** 40, 1e30, -7)
NAME = re.compile(r"\bx\d+\b")
MAX_NUMEL = 24


@dataclass
class VarInfo:
    """What the generator remembers about a variable beyond its torch value."""

    base: str | None = None    # the variable this one is a view of (its root), if any
    stmt: int = -1             # index of the statement that wrote it
    generic: bool = False      # values drawn without ties (safe for sort/linalg)


class Gen:
    """Generation state: the torch namespace, the statements so far and variable facts."""

    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.ns: dict = {"torch": torch, "inf": math.inf, "nan": math.nan}
        self.prog = Program(seed)
        self.info: dict[str, VarInfo] = {}
        self.n = 0
        self.last_op: Stmt | None = None

    # -- names and state -------------------------------------------------------------------
    def fresh(self) -> str:
        name = f"x{self.n}"
        self.n += 1
        return name

    def val(self, name: str):
        return self.ns.get(name)

    def tensors(self, pred=None) -> list[str]:
        out = []
        for k in sorted(self.info, key=lambda s: int(s[1:])):
            v = self.ns.get(k)
            if not isinstance(v, torch.Tensor):
                continue
            try:
                if pred is None or pred(v):
                    out.append(k)
            except Exception:  # torch refuses to read an invalidated multi-output view
                pass
        return out

    def pick(self, pred=None, recent: float = 0.5) -> str | None:
        """A live tensor satisfying ``pred``; the latest one with probability ``recent``."""
        c = self.tensors(pred)
        if not c:
            return None
        return c[-1] if self.rng.random() < recent else self.rng.choice(c)

    def root(self, name: str) -> str:
        b = self.info.get(name)
        return b.base if b is not None and b.base is not None else name

    def views_of(self, base: str) -> list[str]:
        return [k for k, i in self.info.items() if i.base == base and k in self.ns]

    # -- emitting lines ----------------------------------------------------------------------
    def emit(self, code: str, op: str, kind: str, writes=(), base: str | None = None,
             tol: float = 1.0, node_ok: bool = True, leaf: Leaf | None = None,
             generic: bool = False, values_ok: bool = True, undefined: bool = False) -> bool:
        """Append a line and run it in torch; True when torch ran it without an error."""
        reads = tuple(sorted(set(NAME.findall(code)) - set(writes)))
        st = Stmt(code, op, kind, tuple(writes), reads, tol, node_ok, leaf, values_ok, undefined)
        self.prog.stmts.append(st)
        ok = run_line(st.text(), self.ns)
        for w in writes:
            if w in self.ns:
                self.info[w] = VarInfo(base=base, stmt=len(self.prog.stmts) - 1, generic=generic)
        if kind in ("op", "dim", "binary") and ok:
            self.last_op = st
        return ok

    # -- leaves ----------------------------------------------------------------------------
    def shape(self, max_nd: int = 3) -> tuple[int, ...]:
        r = self.rng
        nd = r.choices(range(max_nd + 1), weights=(15, 30, 35, 20)[: max_nd + 1])[0]
        while True:
            shape = tuple(r.choices((0, 1, 2, 3, 4), weights=(4, 20, 36, 30, 10), k=nd))
            if math.prod(shape) <= MAX_NUMEL:
                return shape

    def dtype(self, floats_only: bool = False) -> str:
        if floats_only:
            return self.rng.choice(FLOAT_DTYPES)
        return self.rng.choices(("float32", "float64", "int64", "int32", "bool"),
                                weights=(35, 35, 14, 7, 9))[0]

    def values(self, shape, dtype, domain=None, generic=False) -> np.ndarray:
        r = self.rng
        n = math.prod(shape)
        if dtype == "bool":
            flat = [r.random() < 0.5 for _ in range(n)]
        elif dtype in ("int64", "int32", "int16", "int8", "uint8"):
            low = 0 if dtype == "uint8" else -3
            if generic:
                flat = r.sample(range(low - n - 2 if low else 0, n + 5), n)
            else:
                lo, hi = (int(math.ceil(domain[0])), int(domain[1])) if domain else (low, 5)
                lo, hi = (max(lo, low), hi) if max(lo, low) <= hi else (low, 5)
                flat = [r.randint(lo, hi) for _ in range(n)]
        else:
            lo, hi = domain or (-3.0, 3.0)
            pool = [v for v in NICE if lo <= v <= hi]
            if generic or len(pool) < 3:
                seen: set[float] = set()
                flat = []
                while len(flat) < n:
                    v = round(r.uniform(lo, hi), 3)
                    if v not in seen:
                        seen.add(v)
                        flat.append(v)
            else:
                flat = [r.choice(pool) for _ in range(n)]
                if r.random() < 0.15:  # awkward points: zeros of both signs, infinities, NaN
                    flat = [r.choice(SPECIAL) if r.random() < 0.3 else v for v in flat]
        np_dt = np.dtype(dtype if dtype != "bool" else np.bool_)
        return np.array(flat, dtype=np_dt).reshape(shape)

    def leaf(self, shape=None, dtype=None, domain=None, generic=False, rg=None,
             layout=None) -> str:
        r = self.rng
        shape = self.shape() if shape is None else tuple(shape)
        dtype = dtype or self.dtype()
        if rg is None:
            rg = dtype in FLOAT_DTYPES and r.random() < 0.6
        rg = rg and dtype in FLOAT_DTYPES
        if layout is None:
            layout = r.choices(("contig", "transposed", "strided", "expanded"),
                               weights=(70, 12, 12, 6))[0]
        vals = self.values(shape, dtype, domain, generic)
        if layout == "expanded" and len(shape) and not generic:
            small = tuple(1 if (n > 1 and r.random() < 0.5) else n for n in shape)
            vals = np.ascontiguousarray(np.broadcast_to(self.values(small, dtype, domain),
                                                        shape))
        name = self.fresh()
        lf = Leaf.make(name, dtype, vals, layout, rg, filler=_filler(dtype))
        self.emit("", "leaf", "leaf", (name,), leaf=lf, generic=generic)
        return name

    def scalar(self) -> str:
        r = self.rng
        k = r.random()
        if k < 0.45:
            v = r.choice(PY_INTS)
        elif k < 0.9:
            v = r.choice(PY_FLOATS)
        else:
            v = r.choice(PY_ODD)
        from .program import lit
        return lit(v)

    def scalar_leaf(self) -> str:
        name = self.fresh()
        v = self.scalar()
        self.emit(f"{name} = {v}", "leaf:py", "leaf", (name,))
        return name


def run_line(code: str, ns: dict) -> bool:
    """Run one line in ``ns``; True when it raised nothing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, "<fuzz>", "exec"), ns)
        return True
    except Exception:
        return False


def generate(seed: int) -> Program:
    """The program for ``seed`` (1-6 operations plus their leaves, often a closing backward)."""
    from . import registry as families

    torch.manual_seed(0)
    g = Gen(seed)
    n_ops = g.rng.randint(1, 6)
    done = 0
    while done < n_ops:
        fam = g.rng.choices(families.FAMILIES, weights=families.WEIGHTS)[0]
        try:
            fam(g)
            done += 1
        except _Skip:
            pass
        except Exception:  # a bug of the generator itself: surface it under FUZZ_STRICT
            if os.environ.get("FUZZ_STRICT"):
                raise
            done += 1
    if g.rng.random() < 0.6:
        families.backward(g, closing=True)
    return g.prog


class _Skip(Exception):
    """A family found nothing to work on."""
