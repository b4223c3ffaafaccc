"""``why_none``: name the broken link when a tensor's ``.grad`` is None after backward.

The verdict rests on runtime facts (leaf or not, requires_grad, dtype, the output's graph,
version counters, shared memory); the caller's source, read with ``ast``, adds the line that
caused it where it can be found (a rebinding, a ``no_grad`` block, a ``detach()``).
"""

from __future__ import annotations

import ast
import linecache
import sys
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..locale import strings
from .node import AccumulateGrad

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["Diagnosis", "why_none"]

CODES = ("has_grad", "integer_dtype", "non_leaf", "detached", "no_grad", "requires_grad_false",
         "not_on_path", "replaced_in_place", "not_run", "output_no_grad")
_GRAD_OFF = ("no_grad", "inference_mode", "set_grad_enabled(False)")
_CREATION = {"tensor", "ones", "zeros", "full", "empty", "rand", "randn", "randint", "arange",
             "linspace", "eye", "ones_like", "zeros_like", "full_like", "empty_like",
             "rand_like", "randn_like", "from_numpy", "as_tensor", "asarray", "Tensor"}
_CUTS = (".detach()", ".detach_()", ".data", ".item()", ".numpy()", ".tolist()")


@dataclass
class Diagnosis:
    """The answer of ``why_none``: a ``code`` (one of ``CODES``) and the explanation."""

    code: str
    name: str
    message: str
    evidence: list[str] = field(default_factory=list)
    lang: str = "en"

    def __str__(self) -> str:
        S = strings(self.lang)
        wrap = self.lang == "en"
        lines = [S["why_title"].format(name=self.name), ""]
        lines += textwrap.wrap(self.message, 96) if wrap else [self.message]
        for e in self.evidence:
            lines += textwrap.wrap(e, 96, initial_indent="  ", subsequent_indent="    ",
                                   break_on_hyphens=False) if wrap else [f"  {e}"]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from html import escape

        return f"<pre>{escape(str(self))}</pre>"


def _graph_nodes(out) -> set:
    """Every node reachable from ``out``'s grad_fn (iteratively)."""
    seen: set = set()
    stack = [out.grad_fn] if out.grad_fn is not None else []
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        stack.extend(m for m, _ in n.next_functions if m is not None)
    return seen


def _name_of(t, scopes) -> str | None:
    best = None
    for scope in scopes:
        for k, v in scope.items():
            if v is t and not k.startswith("_") and (best is None or len(k) < len(best)):
                best = k
    return best


class _Source:
    """The caller's file parsed once: assignments and uses of names before the current line."""

    def __init__(self, frame) -> None:
        self.lineno = frame.f_lineno if frame is not None else 0
        self.tree = None
        self.parents: dict = {}
        self.lines: list[str] = []
        if frame is None:
            return
        src = "".join(linecache.getlines(frame.f_code.co_filename, frame.f_globals))
        try:
            self.tree = ast.parse(src)
        except (SyntaxError, ValueError):
            return
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.lines = src.splitlines()

    def code(self, lineno: int) -> str:
        """The text of line ``lineno``."""
        return self.lines[lineno - 1].strip() if 0 < lineno <= len(self.lines) else ""

    def last_assignment(self, name: str):
        """The latest statement before the current line that binds ``name``."""
        if self.tree is None or not name:
            return None
        best = None
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                if name in names and node.lineno <= self.lineno and \
                        (best is None or node.lineno >= best.lineno):
                    best = node
        return best

    def grad_off_block(self, node):
        """The ``with no_grad():`` (or decorated function) around ``node``, if any."""
        p = self.parents.get(node)
        while p is not None:
            if isinstance(p, (ast.With, ast.AsyncWith)):
                for item in p.items:
                    if any(k in ast.unparse(item.context_expr) for k in _GRAD_OFF):
                        return p
            if isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for d in p.decorator_list:
                    if any(k in ast.unparse(d) for k in _GRAD_OFF):
                        return p
            p = self.parents.get(p)
        return None

    def uses(self, name: str, patterns: tuple) -> list[int]:
        """Lines before the current one where ``name`` is followed by one of ``patterns``."""
        out = []
        if self.tree is None or not name:
            return out
        for i, ln in enumerate(self.lines[: self.lineno], start=1):
            if any(f"{name}{p}" in ln.replace(" ", "") for p in patterns) or \
                    f"tensor({name})" in ln.replace(" ", ""):
                out.append(i)
        return out

    def inplace_after(self, name: str, after: int) -> int | None:
        """The first in-place change of ``name`` (``name += 1``, ``name.add_(1)``) after a line."""
        if self.tree is None:
            return None
        hits = []
        for node in ast.walk(self.tree):
            ln = getattr(node, "lineno", 0)
            if not after < ln <= self.lineno:
                continue
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and \
                    node.target.id == name:
                hits.append(ln)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr.endswith("_") and not node.func.attr.startswith("_") and \
                    isinstance(node.func.value, ast.Name) and node.func.value.id == name:
                hits.append(ln)
        return min(hits) if hits else None


def _shares_memory(t, scopes) -> object | None:
    """A tensor that requires grad and shares ``t``'s memory or version counter (detach)."""
    from ..tensor import Tensor

    for scope in scopes:
        for v in scope.values():
            if isinstance(v, Tensor) and v is not t and v._rg:
                if (t._vc is not None and v._vc is t._vc) or v._data is t._data:
                    return v
    return None


def why_none(tensor: Tensor, output: Tensor | None = None, *, lang: str = "en",
             names: dict | None = None) -> Diagnosis:
    """Say why ``tensor.grad`` is None (after ``output.backward()``, when ``output`` is given).

    >>> import leafgrad
    >>> x = leafgrad.ones(2, requires_grad=True); y = x * 2; y.sum().backward()
    >>> why_none(y).code
    'non_leaf'
    """
    S = strings(lang)
    frame = sys._getframe(1)
    scopes = [names] if names is not None else [frame.f_globals, frame.f_locals]
    src = _Source(frame)
    t = tensor
    name = _name_of(t, scopes) or S.get("why_tensor", "the tensor")
    out_name = (_name_of(output, scopes) or "output") if output is not None else "output"
    ev: list[str] = []

    def done(code: str, key: str, **kw) -> Diagnosis:
        msg = S[key].format(name=name, out=out_name, **kw)
        return Diagnosis(code, name, msg, ev, lang)

    def line_ev(key: str, lineno: int) -> None:
        ev.append(S[key].format(line=lineno, code=src.code(lineno), name=name))

    if t._grad is not None:
        from .explanation import fmt_array

        return done("has_grad", "why_has_grad", val=fmt_array(t._grad._data, lang=lang))
    if not t.dtype.is_floating_point:
        return done("integer_dtype", "why_integer", dtype=str(t.dtype))
    graph = _graph_nodes(output) if output is not None else None
    if output is not None and not output._rg:
        return done("output_no_grad", "why_output_no_grad")
    assign = src.last_assignment(name)
    if t.grad_fn is not None:  # a non-leaf
        if graph is not None and t.grad_fn not in graph:
            below = _graph_nodes(t)
            if t._vc is not None and t._vc.v > 0 and below & graph:
                ln = src.inplace_after(name, assign.lineno if assign else 0)
                if ln:
                    ev.append(S["why_code"].format(code=f"{ln}: {src.code(ln)}"))
                return done("replaced_in_place", "why_replaced", version=t._vc.v,
                            node=t.grad_fn.name())
            return done("not_on_path", "why_not_on_path")
        if t.retains_grad:
            return done("not_run", "why_retained_not_run")
        d = done("non_leaf", "why_non_leaf", node=t.grad_fn.name())
        if assign is not None and "requires_grad" in ast.unparse(assign):
            ev.append(S["why_non_leaf_rebound"].format(line=assign.lineno, name=name,
                                                       code=src.code(assign.lineno)))
        elif assign is not None:
            ev.append(S["why_code"].format(code=f"{assign.lineno}: {src.code(assign.lineno)}"))
        return d
    if not t._rg:  # a leaf that autograd does not track
        other = _shares_memory(t, scopes + ([{"_": output}] if output is not None else []))
        if other is not None:
            return done("detached", "why_detached",
                        src=_name_of(other, scopes) or S["why_detached_src"])
        if assign is not None and src.grad_off_block(assign) is not None:
            line_ev("why_no_grad_line", assign.lineno)
            return done("no_grad", "why_no_grad")
        if assign is not None and any(c in ast.unparse(assign.value).replace(" ", "")
                                      for c in _CUTS if c != ".item()"):
            ev.append(S["why_code"].format(code=f"{assign.lineno}: {src.code(assign.lineno)}"))
            return done("detached", "why_detached", src=S["why_detached_src"])
        d = done("requires_grad_false", "why_requires_grad_false")
        func = assign.value.func if assign is not None and isinstance(assign.value, ast.Call) \
            else None
        made = func is not None and ast.unparse(func).rsplit(".", 1)[-1] in _CREATION
        if not made:
            ev.append(S["why_maybe_detached_or_no_grad"])
        return d
    # a leaf that requires grad
    if graph is None:
        return done("not_run", "why_no_output")
    if any(n.__class__ is AccumulateGrad and n.variable is t for n in graph):
        return done("not_run", "why_not_run")
    for ln in src.uses(name, _CUTS):
        line_ev("why_not_on_path_line", ln)
    return done("not_on_path", "why_not_on_path")
