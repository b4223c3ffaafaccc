"""The op table's rows as source templates the fuzzer can paste into a program.

Each row of ``tests/opinfo*.py`` holds a lambda ``fn(lib, *tensors)``. The fuzzer needs the
same call as *text* (so that a failing program prints as a self-contained reproducer), so this
module finds each lambda in its file with ``ast``, substitutes the library name (``torch``) and
placeholders for the tensors, inlines the one-expression helpers the rows call (``_i``, ``_wc``,
``_pair``...) and hoists a helper argument used more than once into its own line. Rows built
on multi-statement helpers (``_setitem``, ``_mul_view``...) have no template; the generator's own
view / in-place / setitem statements cover what they do.
"""

from __future__ import annotations

import ast
import builtins
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:  # the op table's modules import each other as top-level names
    sys.path.insert(0, str(TESTS))


@dataclass(frozen=True)
class Template:
    """One op-table row as text: ``lines`` of (temp target or None, expression)."""

    name: str
    arity: int
    lines: tuple[tuple[str | None, str], ...]  # targets __T0__..; the last line is the result
    row: object  # the OpInfo


class _NoTemplate(Exception):
    pass


@functools.cache
def _tree(filename: str) -> ast.Module:
    return ast.parse(Path(filename).read_text(), filename)


def _find_lambda(fn) -> ast.Lambda:
    code = fn.__code__
    args = code.co_varnames[: code.co_argcount]
    pos = [(p[0], p[2]) for p in code.co_positions()
           if p[0] is not None and p[2] is not None and (p[2], p[3]) != (0, 0)]  # not RESUME
    hits = []
    for node in ast.walk(_tree(code.co_filename)):
        if not isinstance(node, ast.Lambda) or node.lineno != code.co_firstlineno:
            continue
        if tuple(a.arg for a in node.args.args) != args:
            continue
        span = (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)
        if all(span[0] <= p <= span[1] for p in pos):
            hits.append(node)
    if len(hits) != 1:
        raise _NoTemplate(f"{len(hits)} lambdas match")
    return hits[0]


def _single_return(fdef: ast.FunctionDef) -> ast.expr:
    body = list(fdef.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # docstring
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        raise _NoTemplate(f"helper {fdef.name} is not one expression")
    if fdef.args.vararg or fdef.args.kwarg or fdef.args.kwonlyargs or fdef.args.defaults:
        raise _NoTemplate(f"helper {fdef.name} has a complex signature")
    return body[0].value


def _count_names(node: ast.AST, name: str) -> int:
    return sum(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


class _Inline(ast.NodeTransformer):
    """Substitute names; inline one-expression module helpers; hoist repeated arguments."""

    def __init__(self, subst: dict[str, ast.expr], module_file: str, glb: dict, hoist: list):
        self.subst, self.file, self.glb, self.hoist = subst, module_file, glb, hoist
        self.bound: set[str] = set()

    def visit_comprehension(self, node):
        for n in ast.walk(node.target):
            if isinstance(n, ast.Name):
                self.bound.add(n.id)
        return self.generic_visit(node)

    def visit_ListComp(self, node):  # targets first so their names count as bound
        for g in node.generators:
            self.visit_comprehension(g)
        node.elt = self.visit(node.elt)
        return node

    visit_GeneratorExp = visit_ListComp
    visit_SetComp = visit_ListComp

    def visit_Name(self, node):
        if node.id in self.subst:
            return ast.copy_location(_deep(self.subst[node.id]), node)
        if node.id in self.bound or hasattr(builtins, node.id) or node.id.startswith("__"):
            return node
        raise _NoTemplate(f"free name {node.id}")

    def visit_Call(self, node):
        f = node.func
        if isinstance(f, ast.Name) and f.id not in self.subst and callable(self.glb.get(f.id)):
            helper = self.glb[f.id]
            if getattr(helper, "__code__", None) is None or node.keywords:
                raise _NoTemplate(f"cannot inline {f.id}")
            fdef = _find_def(helper)
            body = _single_return(fdef)
            params = [a.arg for a in fdef.args.args]
            if len(params) != len(node.args):
                raise _NoTemplate(f"arity of {f.id}")
            args = [self.visit(a) for a in node.args]
            sub = {}
            for p, a in zip(params, args):
                if _count_names(body, p) > 1 and not isinstance(a, ast.Name | ast.Constant):
                    t = f"__T{len(self.hoist)}__"
                    self.hoist.append((t, ast.unparse(a)))
                    a = ast.Name(id=t, ctx=ast.Load())
                sub[p] = a
            inner = _Inline(sub, self.file, helper.__globals__, self.hoist)
            return inner.visit(_deep(body))
        return self.generic_visit(node)


def _deep(node):
    return ast.parse(ast.unparse(node), mode="eval").body


def _find_def(helper) -> ast.FunctionDef:
    code = helper.__code__
    for node in ast.walk(_tree(code.co_filename)):
        if isinstance(node, ast.FunctionDef) and node.lineno <= code.co_firstlineno <= (
                node.end_lineno or 0) and node.name == helper.__name__:
            return node
    raise _NoTemplate(f"no source for {helper.__name__}")


def template(row) -> Template:
    """The row's lambda as text (raises _NoTemplate when it cannot be written out)."""
    fn = row.fn
    lam = _find_lambda(fn)
    code = fn.__code__
    names = code.co_varnames[: code.co_argcount]
    subst: dict[str, ast.expr] = {names[0]: ast.Name(id="torch", ctx=ast.Load())}
    for k, n in enumerate(names[1:]):
        subst[n] = ast.Name(id=f"__A{k}__", ctx=ast.Load())
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):  # closures: literals
        val = cell.cell_contents
        try:
            if ast.literal_eval(repr(val)) != val:
                raise ValueError
        except (ValueError, SyntaxError):
            raise _NoTemplate(f"closure {name}") from None
        subst[name] = ast.parse(repr(val), mode="eval").body
    hoist: list[tuple[str, str]] = []
    body = _Inline(subst, code.co_filename, fn.__globals__, hoist).visit(_deep(lam.body))
    lines = tuple(hoist) + ((None, ast.unparse(body)),)
    return Template(row.name, len(names) - 1, lines, row)


@functools.cache
def templates() -> tuple[tuple[Template, ...], dict[str, str]]:
    """Every row that has a template, and the reason each other row has none."""
    import opinfo

    out, skipped = [], {}
    for row in opinfo.OPS:
        try:
            out.append(template(row))
        except _NoTemplate as e:
            skipped[row.name] = str(e)
    return tuple(out), skipped
