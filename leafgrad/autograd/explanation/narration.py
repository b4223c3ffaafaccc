"""The narration of a backward pass: ``Explanation`` (text, HTML, graph) and ``explain``."""

from __future__ import annotations

import html
import os
import re
import sys
import textwrap
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ...locale import op_notes, strings
from .. import engine as _engine
from ..node import AccumulateGrad
from ..stepper import (
    MAX_ELEMENTS,
    Snap,
    Step,
    _paren,
    _roots,
    _walk,
    fmt_array,
    fmt_num,
    fmt_shape,
    sub,
)
from .forms import (
    _fmt_param,
    _formula_with,
    _Names,
    _params,
    _scalar_form,
    _tup,
    forward_expr,
    local_text,
    loop_targets,
)
from .modules import ModuleGroup, blocked_all, group_modules, module_blocks, suggest_names

if TYPE_CHECKING:
    from ...tensor import Tensor


# -- the narration -----------------------------------------------------------------------------
class Explanation:
    """The narrated backward pass of a graph: prints as text, renders as HTML in Jupyter.

    Build one with ``explain(output)``. ``steps`` holds the ``Step`` records; ``grads`` maps
    each leaf reached (by identity) to the gradient the pass gives it; ``text()``, ``html()``,
    ``to_svg()`` and ``save_html(path)`` render it.
    """

    def __init__(self, outputs, seeds, steps: list[Step], names: _Names, lang: str = "en",
                 max_elements: int = MAX_ELEMENTS, scalar_form: str | None = None,
                 seed_given: bool = False) -> None:
        self.outputs = outputs
        self.seeds = [Snap(s) for s in seeds]
        self.steps = steps
        self.names = names
        self.lang = lang
        self.max_elements = max_elements
        self.scalar_form = scalar_form
        self.seed_given = seed_given
        self.applied = False
        self._output_snaps = [Snap(t._data) for t in outputs]
        self._groups = _prepare_names(steps, names)
        for s in steps:  # labels are fixed now, in the engine's order
            if s.is_leaf:
                names.of_leaf(s.leaf)
            else:
                names.of_output(s.node)

    # -- data --------------------------------------------------------------------------------
    @property
    def modules(self) -> list[ModuleGroup]:
        """The module calls that made the pass's nodes (forward order; empty when no module
        scope was recorded: build the graph inside ``explaining()`` or ``recording_sites()``)."""
        return self._groups[0]

    def group_of(self, step: Step) -> ModuleGroup | None:
        """The innermost module call whose group holds ``step`` (None: no module made it)."""
        return self._groups[1].get(step)

    @property
    def grads(self) -> dict:
        """``{id(leaf): gradient}`` for every leaf the pass reaches (see ``grad_of``)."""
        return {id(s.leaf): s.grad_after for s in self.steps if s.is_leaf}

    def grad_of(self, leaf):
        """The ``.grad`` that ``leaf`` has after this backward pass, as narrated."""
        for s in self.steps:
            if s.is_leaf and s.leaf is leaf:
                return s.grad_after
        return None

    @property
    def root_label(self) -> str:
        """What the narration calls the output (``z``)."""
        if len(self.outputs) == 1:
            t = self.outputs[0]
            if t.grad_fn is None:
                return self.names.of_leaf(t)
            return self.names.of_output(t.grad_fn, t._out_nr)
        return "L"

    def label_of_step(self, step: Step) -> str:
        """The name of the tensor a step's node produced (or of its leaf)."""
        if step.is_leaf:
            return self.names.of_leaf(step.leaf)
        if not step._single:
            return ", ".join(self.names.of_output(step.node, nr) for nr in range(step.node._nout))
        return self.names.of_output(step.node)

    def input_label(self, step: Step, i: int) -> str:
        """The name of input ``i`` of a step's node."""
        nxt, nr = step.edges[i]
        if nxt is not None:
            return self.names.of_output(nxt, nr)
        t = step.inputs[i] if step.inputs is not None and i < len(step.inputs) else None
        if t is not None and hasattr(t, "_data"):
            n = self.names.leaf.get(id(t)) if t.grad_fn is None else \
                self.names.node.get((t.grad_fn, t._out_nr))
            if n is not None:
                return n
        names = getattr(step.site, "names", ()) if step.site is not None else ()
        if i < len(names) and names[i] is not None:
            return names[i]  # what the user's code called it where it was used
        v = step.saved.get(step.keys[i]) if i < len(step.keys) else None
        if v is not None and v.size == 1 and v.array is not None:
            return fmt_num(v.array.reshape(-1)[0])
        if v is not None and v.size <= 4 and v.array is not None:
            return fmt_array(v.array)
        return "c"

    def forward_text(self, step: Step) -> str:
        """``t1 = x.pow(2)``: how the node's output was computed."""
        if step.is_leaf:
            return self.names.of_leaf(step.leaf)
        s = {k: self.input_label(step, i) for i, k in enumerate(step.keys)}
        expr = forward_expr(step.node, s)
        if expr is None:
            op = step.name.removesuffix("Backward0").removesuffix("Backward1")
            expr = f"{op.lower()}({', '.join(s.values())})"
        return f"{self.label_of_step(step)} = {expr}"

    def general_forms(self) -> dict:
        """``{leaf name: '2·xᵢ'}`` where one elementwise step gives a leaf's whole gradient."""
        out = {}
        for s in self.steps:
            if s.is_leaf and len(s.contributions) == 1 and s.contributions[0][0] is not None:
                src = next((p for p in self.steps if p.node is s.contributions[0][0]), None)
                if src is not None:
                    g = self._general(src, s)
                    if g is not None:
                        out[self.names.of_leaf(s.leaf)] = g
        return out

    def _general(self, step: Step, leaf_step: Step) -> str | None:
        """The chain-rule product in general form when the incoming gradient is uniform."""
        if step.local is None or step.grad_output is None:
            return None
        g = step.grad_output._data
        if g.size == 0 or not np.all(g == g.reshape(-1)[0]):
            return None
        for i, (nxt, _) in enumerate(step.edges):
            if nxt is leaf_step.node:
                key = step.keys[i]
                if step.grad_inputs_raw[i] is None or \
                        step.grad_inputs_raw[i]._data.shape != leaf_step.leaf._data.shape:
                    return None
                local = self._local_text(step, key, symbolic=True)
                if local is None:
                    return None
                c = g.reshape(-1)[0]
                return local if c == 1 else f"{fmt_num(c)} × {local}"
        return None

    def _elem_strings(self, step: Step, idx, symbolic: bool) -> dict:
        s = {}
        for i, k in enumerate(step.keys):
            if symbolic:
                lab = self.input_label(step, i)
                const = step.edges[i][0] is None and re.fullmatch(r"-?[\d.e+]+", lab)
                s[k] = lab if const else f"{lab}ᵢ"  # a Python number has no elements
            else:
                v = step.saved.get(k)
                if v is not None and v.array is not None:
                    a = np.broadcast_to(v.array, step.grad_output._data.shape) \
                        if v.array.ndim <= step.grad_output._data.ndim else None
                    if a is not None:
                        s[k] = _paren(a[idx])
        out = step.saved.get("out")
        if symbolic:
            s["out"] = f"{self.label_of_step(step)}ᵢ"
        elif out is not None and out.array is not None:
            s["out"] = _paren(out.array[idx])
        return s

    def _local_text(self, step: Step, key: str, symbolic: bool, idx=None) -> str | None:
        return local_text(step.node, key, self._elem_strings(step, idx, symbolic))

    # -- rendering ---------------------------------------------------------------------------
    def blocks(self, lang: str | None = None, detail: str | None = None
               ) -> list[tuple[str, str]]:
        """The narration as ``(kind, text)`` blocks: title, p, step, line, eq, val.

        ``detail`` is ``"modules"`` (one part per module call; the default when modules made
        the graph) or ``"ops"`` (every node).
        """
        lang = lang or self.lang
        if detail is None:
            detail = "modules" if self.modules else "ops"
        if detail not in ("modules", "ops"):
            raise ValueError(f"explain: detail must be 'modules' or 'ops', not {detail!r}")
        if detail == "modules" and self.modules:
            return module_blocks(self, lang)
        S = strings(lang)
        notes = op_notes(lang)
        me = self.max_elements
        root = self.root_label
        out: list[tuple[str, str]] = []
        n = len(self.steps)
        out.append(("title", S["title"].format(out=root, n=n,
                                               steps=S["step_one" if n == 1 else "step_many"])))
        leaves = [s for s in self.steps if s.is_leaf]
        nonleaf = [s for s in self.steps if not s.is_leaf]
        if leaves:
            out.append(("p", S["intro_leaves"].format(
                names=", ".join(f"{self.names.of_leaf(s.leaf)} {fmt_shape(s.leaf.shape)}"
                                for s in leaves))))
        if nonleaf:
            out.append(("p", S["intro_nonleaves"].format(
                names=", ".join(f"{self.forward_text(s)} ({s.name})" for s in nonleaf))))
        small = [s for s in leaves if 1 < s.leaf._data.size <= me]
        if small:
            items = []
            for s in small:
                nm = self.names.of_leaf(s.leaf)
                k = s.leaf._data.size
                elems = ", ".join(f"{nm}{sub(i + 1)}" for i in range(k)) if k <= 4 else \
                    f"{nm}{sub(1)}, …, {nm}{sub(k)}"
                items.append(S["notation_item"].format(elems=elems, name=nm))
            out.append(("p", S["notation"].format(
                items=S["list_sep"].join(items), name=self.names.of_leaf(small[0].leaf),
                out=root)))
        if self.scalar_form:
            out.append(("eq", S["scalar_form"].format(out=root, expr=self.scalar_form)))
        if not any(s.site is not None for s in nonleaf) and nonleaf:
            out.append(("p", S["no_sites"]))
            if any(type(s.leaf).__name__ == "Parameter" for s in leaves):
                out.append(("p", S["mod_hint"]))
        for s in self.steps:
            out.extend(self._step_blocks(s, S, notes, root, lang))
        out.append(("step", S["result_head"]))
        general = self.general_forms()
        for s in leaves:
            nm = self.names.of_leaf(s.leaf)
            if s.grad_after is None:
                out.append(("line", S["result_none"].format(name=nm)))
                continue
            out.append(("val", _hang(S["result_leaf"].format(name=nm, repr="\0"),
                                     repr(s.grad_after))))
            if nm in general:
                out.append(("eq", S["result_general"].format(out=root, name=nm,
                                                             expr=general[nm])))
        for s in nonleaf:
            if s.retained:
                g = s.grad_output
                if g is not None and s._single:
                    out.append(("val", _hang(S["result_leaf"].format(
                        name=self.names.of_output(s.node), repr="\0"), repr(g))))
        if self.applied:
            out.append(("p", S["applied"]))
        else:
            out.append(("p", S["not_applied"].format(out=root)))
        return out

    def step_blocks(self, step: Step, lang: str | None = None) -> list[tuple[str, str]]:
        """The narration of one step as ``(kind, text)`` blocks."""
        lang = lang or self.lang
        return self._step_blocks(step, strings(lang), op_notes(lang), self.root_label, lang)

    def _step_blocks(self, s: Step, S: dict, notes: dict, root: str, lang: str) -> list:
        me = self.max_elements
        b: list[tuple[str, str]] = []
        n = len(self.steps)
        if s.is_leaf:
            nm = self.names.of_leaf(s.leaf)
            b.append(("step", S["acc_head"].format(i=s.index, n=n, name=nm)))
            b.append(("line", S["acc_what"].format(name=nm)))
            b.extend(self._incoming(s, S, root, lang))
            if s.hooks:
                b.append(("line", S["hook"]))
            if s.grad_after is None:
                b.append(("line", S["no_grad_arrived"]))
            elif s.grad_before is None:
                b.append(("line", S["acc_new"].format(
                    name=nm, val=fmt_array(s.grad_after._data, me, lang))))
            else:
                b.append(("line", S["acc_add"].format(
                    name=nm, old=fmt_array(s.grad_before._data, me, lang),
                    new=fmt_array(s.grad_output._data, me, lang),
                    val=fmt_array(s.grad_after._data, me, lang))))
            return b
        label = self.label_of_step(s)
        b.append(("step", S["step_head"].format(i=s.index, n=n, name=s.name,
                                                forward=self.forward_text(s))))
        if s.site is not None:
            b.append(("line", S["site"].format(
                where=f"{os.path.basename(s.site.filename)}:{s.site.lineno}",
                line=s.site.line)))
        ins = []
        for i in range(len(s.keys)):
            nxt, _ = s.edges[i]
            lab = self.input_label(s, i)
            shp = self._input_shape(s, i)
            kind = S["leaf_word"] if nxt is not None and nxt.__class__ is AccumulateGrad else (
                S["const_word"] if nxt is None else S["nonleaf_word"])
            ins.append(S["input_item"].format(label=lab, shape=shp, kind=kind)
                       .replace("  ", " "))
        oshape = "?"
        if s.grad_output is not None:
            oshape = fmt_shape(s.grad_output._data.shape) if s._single else ", ".join(
                "?" if g is None else fmt_shape(g._data.shape) for g in s.grad_output)
        b.append(("line", S["shapes"].format(inputs=S["comma"].join(ins), out=label,
                                             shape=oshape)))
        b.extend(self._incoming(s, S, root, lang))
        if s.hooks:
            b.append(("line", S["hook"]))
        if s.grad_output is None:
            b.append(("line", S["no_grad_arrived"]))
            return b
        if s.retained and s._single:
            b.append(("line", S["retained"].format(
                name=self.names.of_output(s.node), val=fmt_array(s.grad_output._data, me, lang))))
        note = notes.get(s.name)
        if note is not None:
            try:
                b.append(("line", S["local"].format(expr=note.format(**self._note_args(s)))))
            except (KeyError, IndexError, ValueError):
                pass
        params = {k: v for k, v in _params(s.node).items() if k not in ("cond",)}
        # no-break spaces keep "exponent = 2" on one line when the text is wrapped
        ptxt = ", ".join(f"{k}\u00a0=\u00a0{_fmt_param(v)}" for k, v in params.items())
        for i, k in enumerate(s.keys):
            nxt, _ = s.edges[i]
            lab = self.input_label(s, i)
            if nxt is None:
                number = re.fullmatch(r"-?[\d.e+]+", lab) is not None
                b.append(("line", S["no_grad_number" if number else "no_grad_input"].format(
                    inp=lab)))
                continue
            b.extend(self._chain(s, i, k, lab, label, root, S, ptxt, lang))
        if blocked_all(s):
            b.append(("line", S["relu_blocked_all"].format(out=label, inp=self.input_label(s, 0))))
        return b

    def _note_args(self, s: Step) -> dict:
        args = {k: (_tup(v) if isinstance(v, tuple) else _fmt_param(v))
                for k, v in _params(s.node).items()}
        for k in ("in_shape", "shape"):
            v = getattr(s.node, k, None)
            if isinstance(v, tuple):
                args[k] = fmt_shape(v)
        if "dims" in args and s.node.dims is not None:
            args["dims"] = _tup(s.node.dims)
        n = getattr(s.node, "n", None)
        if n:
            args["inv"] = fmt_num(1 / n)
        args["out"] = self.label_of_step(s)
        for i, k in enumerate(s.keys):
            args[k] = self.input_label(s, i)
        return args

    def _input_shape(self, s: Step, i: int) -> str:
        if i < len(s.grad_inputs) and s.grad_inputs[i] is not None:
            return fmt_shape(s.grad_inputs[i]._data.shape)
        v = s.saved.get(s.keys[i]) if i < len(s.keys) else None
        if v is not None and v.shape != ():
            return fmt_shape(v.shape)
        return ""

    def _incoming(self, s: Step, S: dict, root: str, lang: str) -> list:
        me = self.max_elements
        b = []
        if s.grad_output is None:
            return b
        if not s._single:
            for nr, g in enumerate(s.grad_output):
                lab = self.names.of_output(s.node, nr)
                if g is None:
                    b.append(("line", S["unused_output"].format(out=lab)))
                else:
                    b.append(("line", S["incoming"].format(root=root, out=lab,
                                                           val=fmt_array(g._data, me, lang))))
            return b
        lab = self.label_of_step(s)
        val = fmt_array(s.grad_output._data, me, lang)
        seeded = any(src is None for src, _ in s.contributions)
        if seeded and len(s.contributions) == 1:
            key = "seed_given" if self.seed_given else "seed_scalar"
            b.append(("line", S[key].format(out=root, val=val)))
            return b
        b.append(("line", S["incoming"].format(root=root, out=lab, val=val)))
        if len(s.contributions) > 1:
            terms = " + ".join(fmt_array(g._data, me, lang) for _, g in s.contributions)
            b.append(("line", S["paths"].format(out=lab, k=len(s.contributions), terms=terms,
                                                val=val)))
        return b

    def _chain(self, s: Step, i: int, k: str, lab: str, label: str, root: str, S: dict,
               ptxt: str, lang: str) -> list:
        me = self.max_elements
        b = []
        nxt, _ = s.edges[i]
        raw = s.grad_inputs_raw[i] if i < len(s.grad_inputs_raw) else None
        fit = s.grad_inputs[i] if i < len(s.grad_inputs) else None
        if raw is None:
            b.append(("line", S["no_grad_input"].format(inp=lab)))
            return b
        formula = s.node.formula.get(k) if getattr(s.node, "formula", None) else None
        g = s.grad_output._data if s._single else None
        ew = g is not None and s.node.elementwise and raw._data.shape == g.shape
        elementwise = ew and s.local is not None and s.local[i] is not None
        sym = self._local_text(s, k, symbolic=True) if ew else None
        if sym is not None:
            b.append(("line", S["local_elem"].format(out=label, inp=lab, expr=sym)))
        if formula and (ew or s.name not in op_notes(lang)):
            b.append(("line", S["formula" if k != lab else "formula_same"].format(
                key=k, inp=lab, formula=formula, params=f"  ({ptxt})" if ptxt else "")))
        if elementwise and g.size <= me:
            gen = self._general(s, _FakeLeaf(nxt, raw)) if sym is not None else None
            if gen is not None:
                c = g.reshape(-1)[0]
                gen = S["chain_general" if c == 1 else "chain_general_c"].format(
                    c=fmt_num(c), local=sym, expr=gen)
            b.append(("line", S["chain_elem_head"].format(root=root, inp=lab, out=label,
                                                          general=gen or "")))
            flat_g = g.reshape(-1)
            flat_r = raw._data.reshape(-1)
            flat_l = np.broadcast_to(s.local[i], g.shape).reshape(-1)
            broadcast = fit is not None and fit._data.shape != g.shape
            src = np.broadcast_to(np.arange(fit._data.size).reshape(fit._data.shape),
                                  g.shape).reshape(-1) if broadcast else None
            for j, idx in enumerate(np.ndindex(*g.shape)):
                loc = self._local_text(s, k, symbolic=False, idx=idx)
                if loc is None:
                    loc = _paren(flat_l[j])
                elif loc != fmt_num(flat_l[j]) and not re.fullmatch(r"-?[\d.]+", loc):
                    loc = f"{loc}"
                target = f"∂{root}/∂{lab}{sub(j + 1)}" if not broadcast else \
                    S["elem_copy"].format(root=root, inp=lab, j=sub(int(src[j]) + 1),
                                          out=label, k=sub(j + 1))
                b.append(("eq", f"{target} = {fmt_num(flat_g[j])} × {loc} = "
                                f"{fmt_num(flat_r[j])}"))
        else:
            subst = {"grad": f"∂{root}/∂{label}", "out": label}
            for j, kk in enumerate(s.keys):
                subst[kk] = self.input_label(s, j)
            if formula and s._single and _readable(formula, s.keys):
                b.append(("line", S["chain"].format(root=root, inp=lab,
                                                    expr=_formula_with(formula, subst),
                                                    val=fmt_array(raw._data, me, lang))))
            else:
                b.append(("line", S["chain_value"].format(root=root, inp=lab,
                                                          val=fmt_array(raw._data, me, lang))))
        if fit is not None and fit._data.shape != raw._data.shape:
            b.append(("line", S["broadcast"].format(
                inp=lab, small=fmt_shape(fit._data.shape), big=fmt_shape(raw._data.shape),
                before=fmt_array(raw._data, me, lang), after=fmt_array(fit._data, me, lang))))
        elif fit is not None and fit._data.dtype != raw._data.dtype:
            b.append(("line", S["cast"].format(inp=lab, dtype=str(fit._data.dtype))))
        if fit is not None:
            if nxt.__class__ is AccumulateGrad:
                target = S["target_leaf"].format(name=self.names.of_leaf(nxt.variable))
            else:
                target = S["target_node"].format(node=nxt.name(), name=lab)
            b.append(("line", S["sends"].format(root=root, inp=lab, target=target,
                                                val=fmt_array(fit._data, me, lang))))
        return b

    def text(self, lang: str | None = None, width: int = 96, detail: str | None = None) -> str:
        """The narration as plain text (``detail``: ``"modules"`` or ``"ops"``, see blocks)."""
        lang = lang or self.lang
        return _render_text(self.blocks(lang, detail), width, lang)

    def step_text(self, step: Step, lang: str | None = None, width: int = 0) -> str:
        """The narration of one step as plain text (``width`` 0: lines are not wrapped)."""
        lang = lang or self.lang
        return _render_text(self.step_blocks(step, lang), width, lang)

    def html(self, lang: str | None = None, graph: bool = True, detail: str | None = None
             ) -> str:
        """The narration as an HTML fragment (with the graph as inline SVG)."""
        lang = lang or self.lang
        parts = ['<div class="leafgrad-explain" style="font-family:sans-serif;line-height:1.4">']
        if graph:
            try:
                parts.append(f'<div style="overflow:auto">{self.to_svg(lang=lang)}</div>')
            except Exception:  # noqa: BLE001 - a picture must never hide the narration
                pass
        for kind, t in self.blocks(lang, detail):
            e = html.escape(t)
            if kind == "title":
                parts.append(f"<h3>{e}</h3>")
            elif kind == "step":
                parts.append(f'<h4 style="margin-bottom:2px">{e}</h4>')
            elif kind == "p":
                parts.append(f"<p>{e}</p>")
            elif kind == "line":
                parts.append(f'<div style="margin-left:1em">{e}</div>')
            elif kind == "eq":
                parts.append(f'<div style="margin-left:2em;font-family:monospace">{e}</div>')
            elif kind == "val":
                parts.append(f'<pre style="margin-left:1em">{e}</pre>')
        parts.append("</div>")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.html()

    def graph(self):
        """The graph of this pass, with shapes, values and gradients (``leafgrad.viz.Graph``)."""
        from ...viz.graph import from_explanation

        return from_explanation(self)

    def to_svg(self, lang: str | None = None) -> str:
        """The graph as a self-contained SVG picture."""
        from ...viz.svg import render_svg

        return render_svg(self.graph())

    def to_html_page(self, lang: str | None = None) -> str:
        """A single-file HTML page that draws the graph and steps through the backward pass."""
        from ...viz.html import html_page

        return html_page(self, lang=lang or self.lang)

    def save_html(self, path: str, lang: str | None = None) -> str:
        """Write ``to_html_page`` to ``path`` and return the path."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_html_page(lang))
        return path


def _prepare_names(steps: list, names: _Names) -> tuple:
    """The module groups of ``steps``, and the names they suggest (parameters' qualified
    names, modules' outputs, the user's names of inputs); done once per ``_Names``."""
    groups = getattr(names, "_groups", None)
    if groups is None:
        groups = names._groups = group_modules(steps)
        suggest_names(steps, names, groups[0])
    return groups


def _hang(template: str, block: str) -> str:
    """Put a multi-line ``block`` where ``\\0`` is in ``template``, aligning its later lines."""
    head, _, tail = template.partition("\0")
    pad = " " * len(head)
    lines = block.splitlines() or [""]
    return "\n".join([head + lines[0]] + [pad + ln for ln in lines[1:]]) + tail


class _FakeLeaf:
    """What ``_general`` needs of a leaf step: its node and (for the shape check) a tensor."""

    def __init__(self, node, g) -> None:
        self.node = node
        self.leaf = g


def _render_text(blocks: list, width: int, lang: str) -> str:
    lines: list[str] = []
    for kind, t in blocks:
        if kind == "title":
            lines += [t, "=" * min(_width(t), width)]
        elif kind == "step":
            lines += ([""] if lines and lines[-1] else []) + [t]
        elif kind == "p":
            lines += _fill(t, width, "", lang) + [""]
        elif kind == "line":
            lines += _fill(t, width, "  ", lang)
        elif kind == "eq":
            lines.append("    " + t)
        elif kind == "val":
            lines += ["  " + ln for ln in t.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _width(t: str) -> int:
    """Columns ``t`` takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in t)


def _readable(formula: str, keys: tuple) -> bool:
    """True when a formula names only grad, out and the inputs (no op parameters or helpers)."""
    names = set(re.findall(r"(?<![.\w])[A-Za-z_]\w*", formula))
    return names <= {"grad", "out", *keys}


def _fill(t: str, width: int, indent: str, lang: str) -> list[str]:
    if lang != "en" or width <= 0:  # CJK text has no spaces to break at; leave lines whole
        return [indent + t]
    return textwrap.wrap(t, width, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False) or [indent]


def explain(output: Tensor | Sequence[Tensor], gradient=None, *, lang: str = "en",
            backward: bool = False, retain_graph: bool | None = None,
            names: dict | None = None, max_elements: int = MAX_ELEMENTS) -> Explanation:
    """Narrate the backward pass of ``output``, step by step, without changing any ``.grad``.

    ``lang`` is ``"en"`` or ``"zh"``. ``names`` maps variable names to tensors (by default the
    caller's variables). With ``backward=True`` the real ``backward()`` runs afterwards.

    >>> import leafgrad
    >>> x = leafgrad.tensor([[1.0, 0.], [-1., 1.]], requires_grad=True)
    >>> z = x.pow(2).sum()
    >>> e = explain(z)
    >>> "z = x₁² + x₂² + x₃² + x₄²" in e.text(), x.grad is None
    (True, True)
    """
    from ...tensor import Tensor

    strings(lang)  # fail early on an unknown language
    tensors = (output,) if isinstance(output, Tensor) else tuple(output)
    if names is None:
        f = sys._getframe(1)
        scopes = [f.f_globals, f.f_locals]
        loops = loop_targets(f)
    else:
        scopes = [names]
        loops = frozenset()
    ex = _explain(tensors, gradient, _Names(scopes, loops), lang, max_elements)
    if backward:
        _engine.backward(tensors, gradient, retain_graph=retain_graph)
        ex.applied = True
    return ex


def _explain(tensors, gradient, names: _Names, lang: str, max_elements: int) -> Explanation:
    roots, seeds = _roots(tensors, gradient)
    steps = list(_walk(roots, seeds, MAX_ELEMENTS))
    _prepare_names(steps, names)  # before the scalar form names any leaf
    form = None
    if len(tensors) == 1 and tensors[0]._data.size == 1 and gradient is None:
        fn, nr = roots[0]
        form = _scalar_form(fn, nr, names)
    return Explanation(tensors, seeds, steps, names, lang, max_elements, form,
                       seed_given=gradient is not None)
