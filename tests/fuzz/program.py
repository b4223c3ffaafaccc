"""A fuzz program: leaves and statements as Python text, the same text for torch and leafgrad.

Every statement is source code over the name ``torch`` (bound to torch or to leafgrad when it
runs) and the program's variables ``x0, x1, ...``. A leaf keeps its spec (shape, dtype, values,
memory layout) so the minimiser can shrink it and render it again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

FLOAT_DTYPES = ("float32", "float64")
INT_DTYPES = ("int64", "int32")
LAYOUTS = ("contig", "transposed", "strided", "expanded")


def lit(v) -> str:
    """A Python literal for one value (``inf``/``nan`` are names every program defines)."""
    if isinstance(v, bool | np.bool_):
        return "True" if v else "False"
    if isinstance(v, int | np.integer):
        return str(int(v))
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def nested(arr: np.ndarray) -> str:
    """Nested-list literal of an array (0-d: the bare value)."""
    if arr.ndim == 0:
        return lit(arr.item())
    return "[" + ", ".join(nested(a) for a in arr) + "]"


@dataclass
class Leaf:
    """An input tensor (or a Python scalar when ``dtype == 'py'``) and how it is laid out.

    ``storage`` holds the values of the tensor the layout is taken from: the tensor itself
    (contig), its transpose (transposed: the leaf is ``storage.transpose(-2, -1)``), a tensor
    twice as wide (strided: the leaf is ``storage[..., ::2]``) or a smaller one (expanded: the
    leaf is ``storage.expand(shape)``).
    """

    name: str
    dtype: str
    storage: np.ndarray
    shape: tuple[int, ...]
    layout: str = "contig"
    requires_grad: bool = False

    def logical(self) -> np.ndarray:
        """The values the leaf holds, as the user sees them."""
        s = self.storage
        if self.layout == "transposed":
            return np.swapaxes(s, -1, -2)
        if self.layout == "strided":
            return s[..., ::2]
        if self.layout == "expanded":
            return np.broadcast_to(s, self.shape)
        return s

    @classmethod
    def make(cls, name, dtype, values: np.ndarray, layout="contig", requires_grad=False,
             filler=None) -> Leaf:
        """Lay out ``values`` (the logical tensor) as ``layout`` asks."""
        shape = tuple(values.shape)
        if dtype == "py":
            return cls(name, dtype, values, shape, "contig", False)
        if layout == "transposed" and values.ndim >= 2:
            storage = np.ascontiguousarray(np.swapaxes(values, -1, -2))
        elif layout == "strided" and values.ndim >= 1:
            storage = np.repeat(values, 2, axis=-1)
            if filler is not None and storage.size:
                storage[..., 1::2] = filler  # values the strided leaf must never show
        elif layout == "expanded" and values.ndim >= 1:
            storage = values
            for d, n in enumerate(shape):
                if n > 1 and (values == values.take([0], axis=d)).all():
                    storage = storage.take([0], axis=d)
            if storage.shape == values.shape:
                layout = "contig"
        else:
            layout, storage = "contig", values
        return cls(name, dtype, np.asarray(storage), shape, layout, requires_grad)

    def code(self) -> str:
        """The line that creates the leaf."""
        if self.dtype == "py":
            return f"{self.name} = {lit(self.storage.item())}"
        dt = f"dtype=torch.{self.dtype}"
        rg = self.requires_grad
        if self.storage.size == 0 and self.layout == "contig":
            rgs = ", requires_grad=True" if rg else ""
            return f"{self.name} = torch.zeros({self.shape}, {dt}{rgs})"
        if self.layout == "contig":
            rgs = ", requires_grad=True" if rg else ""
            return f"{self.name} = torch.tensor({nested(self.storage)}, {dt}{rgs})"
        base = f"torch.tensor({nested(self.storage)}, {dt})"
        if self.storage.size == 0:
            base = f"torch.zeros({tuple(self.storage.shape)}, {dt})"
        view = {"transposed": ".transpose(-2, -1)", "strided": "[..., ::2]",
                "expanded": f".expand({self.shape})"}[self.layout]
        # detach(): the leaf keeps the strides but is no view of the hidden base (torch
        # regenerates a leaf view's grad_fn from that base, which requires no grad)
        return f"{self.name} = {base}{view}.detach()" + (".requires_grad_()" if rg else "")

    def shrunk(self, dim: int) -> Leaf | None:
        """The same leaf with one fewer element along ``dim`` (None when it cannot shrink)."""
        if self.dtype == "py" or self.shape[dim] <= 1:
            return None
        vals = np.take(self.logical(), range(self.shape[dim] - 1), axis=dim)
        return Leaf.make(self.name, self.dtype, np.ascontiguousarray(vals), self.layout,
                         self.requires_grad, filler=_filler(self.dtype))

    def simplified(self) -> list[Leaf]:
        """Simpler variants to try: contiguous, not requiring grad."""
        out = []
        if self.layout != "contig":
            out.append(Leaf.make(self.name, self.dtype, np.ascontiguousarray(self.logical()),
                                 "contig", self.requires_grad))
        if self.requires_grad:
            out.append(replace(self, requires_grad=False))
        return out


def _filler(dtype: str):
    return True if dtype == "bool" else 9.0 if dtype.startswith("float") else 7


@dataclass
class Stmt:
    """One line (or a small block) of a program."""

    code: str
    op: str                    # what the line exercises, e.g. "view:unfold", "inplace:mul_"
    kind: str                  # leaf|op|view|inplace|setitem|getitem|out|backward|grad|meta
    writes: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    tol: float = 1.0           # tolerance multiplier (linear algebra, special functions)
    node_ok: bool = True       # False: leafgrad records a different node chain (documented)
    leaf: Leaf | None = None
    values_ok: bool = True     # False: outputs defined only up to sign (raw Q/R, U/S/Vh)
    undefined: bool = False    # True: an in-place op whose operand partially overlaps it

    def text(self) -> str:
        return self.leaf.code() if self.leaf is not None else self.code


@dataclass
class Program:
    """A program: the statements in order, and the seed that generated it."""

    seed: int
    stmts: list[Stmt] = field(default_factory=list)

    def source(self, upto: int | None = None) -> str:
        lines = [s.text() for s in self.stmts[: upto if upto is not None else len(self.stmts)]]
        return "\n".join(lines)

    def n_ops(self) -> int:
        return sum(s.kind != "leaf" for s in self.stmts)
