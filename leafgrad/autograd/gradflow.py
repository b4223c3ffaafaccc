"""``diagnose``: is gradient flowing well through a model? Per-layer gradient norms and update
ratios, and flags, each with one sentence of what to try (English and Chinese).

The numbers come from the stepper (the engine's own backward, run without touching ``.grad``)
when the loss's graph is intact, so activations can be looked at too: dead ReLUs, saturated
sigmoids and tanhs, the first node that made a NaN. After ``backward()`` freed the graph, the
gradients in ``.grad`` are used and the activation checks are left out (the report says so).

Thresholds (module constants) are rules of thumb, chosen so that a healthy network of a few
layers raises no flag and the textbook pathologies do: see ``tests/test_diagnose.py``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from ..locale import strings
from . import flowstats
from .node import RELEASED, AccumulateGrad
from .stepper import fmt_num

__all__ = ["Flag", "GradientReport", "LayerStats", "diagnose"]

VANISH = 1e-3  # relative gradient (‖g‖/‖w‖) nearest the input over nearest the loss below this
EXPLODE = 1e3  # ... above this
EXPLODE_REL = 1e2  # or any layer's gradient this many times its weights' norm
DEAD = 0.2  # a ReLU layer with more than this fraction of dead units
DEAD_SAMPLES = 16  # ... counted only when each unit saw at least this many values
SATURATED = 0.5  # a sigmoid/tanh layer with more than this fraction of outputs in the tails
LR_HIGH = 1e-1  # median update/weight ratio above this: learning rate too high
LR_LOW = 1e-5  # ... below this: too low
HEALTHY_RATIO = 1e-3


@dataclass
class Flag:
    """One finding: ``code`` (vanishing, exploding, dead_relu, saturated, no_grad, nan,
    lr_high, lr_low), ``where`` it is, and the locale keys and values of what was seen and
    what to try (``message(lang)``, ``fix(lang)``)."""

    code: str
    where: str
    key: str
    values: dict = field(default_factory=dict)
    fix_key: str = ""
    fix_values: dict = field(default_factory=dict)
    level: str = "warning"
    lang: str = "en"

    def message(self, lang: str | None = None) -> str:
        """What was seen, in ``lang``."""
        S = strings(lang or self.lang)
        vals = {k: (v(S) if callable(v) else v) for k, v in self.values.items()}
        return S[self.key].format(**vals)

    def fix(self, lang: str | None = None) -> str:
        """What to try, in ``lang``."""
        return strings(lang or self.lang)[self.fix_key].format(**self.fix_values)

    def __str__(self) -> str:
        return self.message()


@dataclass
class LayerStats:
    """A module with parameters: its gradient and weight norms, the update/weight ratio of
    one optimizer step (when known) and its position (0 = nearest the input)."""

    label: str
    params: list[str]
    grad_norm: float | None
    weight_norm: float
    update_ratio: float | None = None
    finite: bool = True

    @property
    def relative(self) -> float | None:
        """‖grad‖ / ‖weight‖."""
        if self.grad_norm is None or self.weight_norm == 0:
            return None
        return self.grad_norm / self.weight_norm


@dataclass
class GradientReport:
    """What ``diagnose`` found: ``layers`` (input side first), ``flags``, and ``source``
    (``"graph"``: the stepper over the intact graph; ``"grad"``: the ``.grad`` values)."""

    model: str
    layers: list[LayerStats]
    flags: list[Flag]
    source: str
    lang: str = "en"
    extra: list = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """The codes of the flags, in order."""
        return [f.code for f in self.flags]

    def text(self, lang: str | None = None) -> str:
        """The report as plain text: a table of layers, then each flag and what to try."""
        S = strings(lang or self.lang)
        n, k = len(self.layers), len(self.flags)
        lines = [S["diag_title"].format(
            model=self.model, n=n, layers=S["diag_layer_one" if n == 1 else "diag_layer_many"],
            k=k, flags=S["diag_flag_one" if k == 1 else "diag_flag_many"]), ""]
        if self.layers:
            lines.append(S["diag_table_head"])
            for L in self.layers:
                lines.append(f"{_cut(L.label, 30):<30} {_num(L.grad_norm):>10}  "
                             f"{_num(L.weight_norm):>11}  {_num(L.relative):>11}  "
                             f"{_num(L.update_ratio):>12}")
            lines.append("")
        if self.source == "grad":
            lines += [S["diag_from_grad"], ""]
        if not self.flags:
            lines.append(S["diag_healthy"])
        lang = lang or self.lang
        lines += flag_lines(self.flags, lang)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    __repr__ = __str__

    def html(self, lang: str | None = None) -> str:
        """The report as an HTML fragment: a table of the layers and a list of the flags."""
        from html import escape

        lang = lang or self.lang
        S = strings(lang)
        n, k = len(self.layers), len(self.flags)
        head = S["diag_title"].format(
            model=self.model, n=n, layers=S["diag_layer_one" if n == 1 else "diag_layer_many"],
            k=k, flags=S["diag_flag_one" if k == 1 else "diag_flag_many"])
        out = [f'<div class="lg-report"><p class="lg-rhead"><b>{escape(head)}</b></p>']
        if self.layers:
            cols = S["diag_cols"].split("|")
            out.append('<div style="overflow-x:auto"><table class="lg-layers" style="'
                       'border-collapse:collapse;font-size:12px"><tr>'
                       + "".join(f'<th style="text-align:left;padding:1px 6px">{escape(c)}'
                                 "</th>" for c in cols) + "</tr>")
            for L in self.layers:
                cells = [L.label, _num(L.grad_norm), _num(L.weight_norm), _num(L.relative),
                         _num(L.update_ratio)]
                out.append("<tr>" + "".join(
                    f'<td style="padding:1px 6px;{"" if i == 0 else "text-align:right"}">'
                    f"{escape(c)}</td>" for i, c in enumerate(cells)) + "</tr>")
            out.append("</table></div>")
        if self.source == "grad":
            out.append(f"<p>{escape(S['diag_from_grad'])}</p>")
        if not self.flags:
            out.append(f'<p class="lg-healthy">{escape(S["diag_healthy"])}</p>')
        else:
            out.append('<ul class="lg-flags">')
            for k, f in enumerate(self.flags):
                last = k + 1 == len(self.flags) or self.flags[k + 1].code != f.code
                fix = f"<br><i>{escape(S['diag_try'].format(fix=f.fix(lang)))}</i>" \
                    if last else ""
                out.append(f'<li data-code="{f.code}"><b>{escape(S["diag_warn"])}</b>'
                           f"{escape(f.message(lang))}{fix}</li>")
            out.append("</ul>")
        out.append("</div>")
        return "".join(out)

    def _repr_html_(self) -> str:
        return self.html()


def flag_lines(flags: list[Flag], lang: str, indent: str = "") -> list[str]:
    """Each flag's sentence; what to try once after a run of flags with the same code."""
    S = strings(lang)
    out = []
    for k, f in enumerate(flags):
        out.append(indent + S["diag_warn" if f.level == "warning" else "diag_info"]
                   + f.message(lang))
        if k + 1 == len(flags) or flags[k + 1].code != f.code:
            out.append(indent + "  " + S["diag_try"].format(fix=f.fix(lang)))
    return out


def flag_summary(flags: list[Flag]) -> str:
    """``vanishing (0: Linear(6→6)), dead_relu ×3, lr_low``: the flags in a few words.

    >>> flag_summary([Flag("dead_relu", "1: ReLU", "flag_dead_relu")] * 2 +
    ...              [Flag("lr_low", "", "flag_lr_low")])
    'dead_relu ×2, lr_low'
    """
    out: list[str] = []
    k = 0
    while k < len(flags):
        j = k
        while j < len(flags) and flags[j].code == flags[k].code:
            j += 1
        f = flags[k]
        out.append(f"{f.code} ×{j - k}" if j - k > 1 else
                   f.code + (f" ({f.where})" if f.where else ""))
        k = j
    return ", ".join(out)


def _num(v) -> str:
    return "—" if v is None else fmt_num(v)


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


# -- the model's layers -----------------------------------------------------------------------
def _layers(models: list) -> list[tuple[str, object, list]]:
    """``(label, module, [(qualified name, parameter)])`` for each module holding parameters."""
    from .explanation.modules import short_label

    out = []
    seen: set = set()
    for model in models:
        for name, m in model.named_modules():
            ps = [(f"{name}.{pn}" if name else pn, p) for pn, p in m._parameters.items()
                  if p is not None and id(p) not in seen]
            if not ps:
                continue
            seen.update(id(p) for _, p in ps)
            label = f"{name}: {short_label(m)}" if name else short_label(m)
            out.append((label, m, ps))
    return out


def _walk_steps(loss, gradient=None) -> list | None:
    """The stepper's steps over ``loss``'s graph, or None when its saved tensors are gone."""
    from .stepper import _roots, _walk

    if loss is None or loss.grad_fn is None:
        return None
    try:
        roots, seeds = _roots(loss, gradient)
        return list(_walk(roots, seeds, 0))
    except RuntimeError:
        return None


def _freed(loss) -> bool:
    fn = loss.grad_fn if loss is not None else None
    return fn is not None and getattr(fn, "_vers", None) is RELEASED


# -- the trial step: what one optimizer step would change ---------------------------------------
def trial_update(optimizer, grads: dict | None = None) -> dict:
    """``{id(parameter): ‖Δw‖}`` of one ``optimizer.step()``, undone afterwards.

    ``grads`` (``{id(p): array}``) stand in for ``.grad`` during the step. The parameters'
    values and version counters, their ``.grad`` and the optimizer's state and groups are all
    put back, so a later ``backward()`` and ``step()`` run exactly as without it. Optimizers
    whose step needs a closure (LBFGS) give ``{}``.

    >>> import leafgrad
    >>> w = leafgrad.ones(4, requires_grad=True)
    >>> opt = leafgrad.optim.SGD([w], lr=0.5)
    >>> trial_update(opt, {id(w): leafgrad.ones(4).numpy()})[id(w)], w.tolist(), w.grad
    (1.0, [1.0, 1.0, 1.0, 1.0], None)
    """
    step = getattr(type(optimizer).step, "__wrapped__", None)
    if step is None or getattr(optimizer, "_needs_closure", False):
        return {}
    params = [p for g in optimizer.param_groups for p in g["params"]]
    saved = []
    for p in params:
        vc = p._vc
        saved.append((p, p._data, np.array(p._data, copy=True), p._grad, vc,
                      None if vc is None else vc.v))
    state = optimizer.state
    state_copy = type(state)(state.default_factory) if hasattr(state, "default_factory") \
        else {}
    for k, v in state.items():
        state_copy[k] = {kk: _clone(vv) for kk, vv in v.items()}
    groups = [dict(g) for g in optimizer.param_groups]
    out: dict = {}
    from .grad_mode import state as gstate

    prev = gstate.enabled
    try:
        if grads is not None:
            from ..tensor import _wrap

            for p in params:
                g = grads.get(id(p))
                p._grad = None if g is None else _wrap(np.array(g, dtype=p._data.dtype))
        gstate.enabled = False
        with np.errstate(all="ignore"):
            step(optimizer)
        for p, _orig, copy_, *_ in saved:
            out[id(p)] = flowstats.norm(np.asarray(p._data, dtype=np.float64) - copy_)
    except Exception:  # noqa: BLE001 - a step that cannot run on trial gives no ratio
        out = {}
    finally:
        gstate.enabled = prev
        for p, orig, copy_, grad, vc, v in saved:
            if p._data is not orig:
                p._data = orig
            np.copyto(orig, copy_)
            p._grad = grad
            p._vc = vc
            if vc is not None:
                vc.v = v
        optimizer.state = state_copy
        for g, old in zip(optimizer.param_groups, groups):
            g.clear()
            g.update(old)
    return out


def _clone(v):
    from ..tensor import Tensor, _wrap

    if isinstance(v, Tensor):
        return _wrap(np.array(v._data, copy=True))
    return copy.deepcopy(v)


# -- the checks --------------------------------------------------------------------------------
def diagnose(model, loss=None, optimizer=None, lang: str = "en", *,
             gradient=None) -> GradientReport:
    """Per-layer gradient flow of ``model`` for ``loss``, with flags and what to try.

    Call it before ``loss.backward()`` to have the activations looked at too (nothing is
    changed: the pass is narrated, not performed), or after it to use the ``.grad`` values.
    With ``optimizer`` the update/weight ratio of one step is measured on a trial step that
    is undone.

    >>> import leafgrad
    >>> from leafgrad import nn
    >>> _ = leafgrad.manual_seed(0)
    >>> m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> loss = m(leafgrad.randn(64, 8)).pow(2).mean()
    >>> diagnose(m, loss).codes
    []
    """
    strings(lang)
    models = list(model) if isinstance(model, (list, tuple)) else [model]
    steps = _walk_steps(loss, gradient)
    return _diagnose(models, steps, loss, optimizer, lang, None)


def diagnose_explanation(ex, optimizer=None, lang: str | None = None) -> GradientReport:
    """``diagnose`` for the models whose module calls made an ``Explanation``'s graph."""
    roots: dict = {}
    for g in ex.modules:
        r = g
        while r.parent is not None:
            r = r.parent
        for s in g.all_steps():
            if s.site is not None and getattr(s.site, "scope", ()):
                m = s.site.scope[0][0]
                roots.setdefault(id(m), m)
                break
    return _diagnose(list(roots.values()), ex.steps, ex.outputs[0] if ex.outputs else None,
                     optimizer, lang or ex.lang, ex)


def _diagnose(models: list, steps, loss, optimizer, lang: str, ex) -> GradientReport:
    from .why import why_none

    S = strings(lang)
    layers_def = _layers(models)
    owner = {id(p): (label, qn) for label, _, ps in layers_def for qn, p in ps}
    grads: dict = {}
    source = "graph" if steps is not None else "grad"
    if steps is not None:
        for s in steps:
            if s.is_leaf and id(s.leaf) in owner and s.grad_output is not None:
                g = s.grad_output._data
                prev = grads.get(id(s.leaf))
                grads[id(s.leaf)] = g if prev is None else prev + g
    else:
        for _, _, ps in layers_def:
            for _, p in ps:
                if p._grad is not None:
                    grads[id(p)] = p._grad._data
    # forward order: a layer whose parameters the walk reaches later is nearer the input
    order: dict = {}
    if steps is not None:  # the step that used a parameter: later in the pass = nearer input
        index = {s.node: s.index for s in steps}
        for s in steps:
            if s.is_leaf and id(s.leaf) in owner:
                at = max((index.get(src, 0) for src, _ in s.contributions if src is not None),
                         default=s.index)
                label = owner[id(s.leaf)][0]
                order[label] = max(order.get(label, 0), at)
    updates = trial_update(optimizer, grads if source == "graph" else None) \
        if optimizer is not None else {}
    layers: list[LayerStats] = []
    for label, _m, ps in layers_def:
        gs = [grads[id(p)] for _, p in ps if id(p) in grads]
        gn = math.sqrt(sum(flowstats.norm(g) ** 2 for g in gs)) if gs else None
        wn = math.sqrt(sum(flowstats.norm(p._data) ** 2 for _, p in ps))
        ratio = None
        weights = [p for _, p in ps if p._data.ndim >= 2 and id(p) in updates]
        if weights:
            wnorm = math.sqrt(sum(flowstats.norm(p._data) ** 2 for p in weights))
            unorm = math.sqrt(sum(updates[id(p)] ** 2 for p in weights))
            ratio = unorm / wnorm if wnorm > 0 else None
        layers.append(LayerStats(label, [qn for qn, _ in ps], gn, wn, ratio,
                                 all(flowstats.finite(g) for g in gs)))
    if order:
        known = [L for L in layers if L.label in order]
        rest = [L for L in layers if L.label not in order]
        layers = sorted(known, key=lambda L: -order[L.label]) + rest
    flags: list[Flag] = []
    flags += _nan_flags(steps, layers_def, grads, S, ex, loss)
    flags += _flow_flags(layers, S)
    if steps is not None:
        flags += _activation_flags(steps, owner, S, ex)
    if any(f.code == "dead_relu" for f in flags):  # no gradient at all: the dead ReLUs say why
        flags = [f for f in flags if not (f.code == "vanishing" and f.values["factor"] == "∞")]
    for _label, _m, ps in layers_def:
        for qn, p in ps:
            if p.requires_grad and id(p) not in grads:
                whys = {lg: why_none(p, loss, lang=lg, names={qn: p, "loss": loss}).message
                        if loss is not None else "" for lg in ("en", "zh")}
                flags.append(Flag("no_grad", qn, "flag_no_grad", {
                    "name": qn, "why": lambda S, w=whys: w[_lang_of(S)]}, "fix_no_grad"))
    flags += _lr_flags(layers)
    for f in flags:
        f.lang = lang
    name = ", ".join(type(m).__name__ for m in models
                     if any(True for _ in m.parameters())) or "model"
    return GradientReport(name, layers, flags, source, lang)


def _lr_flags(layers: list[LayerStats]) -> list[Flag]:
    """A learning rate far off: the median update/weight ratio over layers ~100x from 1e-3."""
    # layers that got no gradient (so no update) say nothing about the learning rate
    ratios = sorted(L.update_ratio for L in layers if L.update_ratio)
    if not ratios:
        return []
    n = len(ratios)
    med = ratios[n // 2] if n % 2 else math.sqrt(max(ratios[n // 2 - 1] * ratios[n // 2], 0))
    if med > LR_HIGH:
        return [Flag("lr_high", "", "flag_lr_high", {"ratio": fmt_num(med)},
                     "fix_lr_high", {"factor": _factor(med / HEALTHY_RATIO)})]
    if 0 < med < LR_LOW:
        return [Flag("lr_low", "", "flag_lr_low", {"ratio": fmt_num(med)},
                     "fix_lr_low", {"factor": _factor(HEALTHY_RATIO / med)})]
    return []


def _lang_of(S: dict) -> str:
    return "zh" if S is strings("zh") else "en"


def _factor(x: float) -> str:
    """A round factor: 10, 100, 1000..."""
    return fmt_num(10 ** round(math.log10(x))) if x > 0 and math.isfinite(x) else "10"


def _flow_flags(layers: list[LayerStats], S: dict) -> list[Flag]:
    rel = [(L, L.relative) for L in layers if L.relative is not None and L.finite
           and math.isfinite(L.relative)]
    flags = []
    if len(rel) >= 3:
        (first, rf), (last, rl) = rel[0], rel[-1]
        if rl > 0 and rf / rl < VANISH:
            flags.append(Flag("vanishing", first.label, "flag_vanishing", {
                "factor": _sig(rl / rf) if rf > 0 else "∞", "first": first.label,
                "last": last.label}, "fix_vanishing"))
        elif rl > 0 and rf / rl > EXPLODE:
            flags.append(Flag("exploding", first.label, "flag_exploding", {
                "factor": _sig(rf / rl), "first": first.label, "last": last.label},
                "fix_exploding"))
    if rel and not any(f.code == "exploding" for f in flags):
        big = [(L, r) for L, r in rel if r > EXPLODE_REL]
        if big:
            L, r = max(big, key=lambda x: x[1])
            flags.append(Flag("exploding", L.label, "flag_exploding_abs", {
                "layer": L.label, "ratio": _sig(r), "norm": fmt_num(L.grad_norm)},
                "fix_exploding"))
    return flags


def _sig(x: float) -> str:
    """``x`` to two significant digits."""
    return fmt_num(float(f"{x:.2g}"))


def _place(s, owner: dict, S: dict, ex, kind: str):
    """Where an activation node sits: its module group, else "the ReLU after" the layer whose
    parameter feeds it (a callable of the strings: the words depend on the language)."""
    if ex is not None:
        g = ex.group_of(s)
        if g is not None:
            return g.label
    fn = s.node
    frontier = [fn]
    for _ in range(3):
        nxt = []
        for f in frontier:
            for n, _ in f.next_functions:
                if n is None:
                    continue
                if n.__class__ is AccumulateGrad and id(n.variable) in owner:
                    label = owner[id(n.variable)][0]
                    return lambda S: S["diag_after"].format(kind=kind, layer=label)
                nxt.append(n)
        frontier = nxt
    site = s.site
    if site is not None:
        import os

        return f"{s.name} ({os.path.basename(site.filename)}:{site.lineno})"
    return s.name


def _text(v, S: dict) -> str:
    return v(S) if callable(v) else v


def _activation_flags(steps: list, owner: dict, S: dict, ex) -> list[Flag]:
    from .explanation.modules import value_of

    flags = []
    for s in steps:
        if s.is_leaf:
            continue
        if s.name == "ReluBackward0":
            out = value_of(s)
            if out is None or out.size == 0:
                continue
            dead, units = flowstats.dead_units(out)
            if units and out.size / units >= DEAD_SAMPLES and dead / units > DEAD:
                where = _place(s, owner, S, ex, "ReLU")
                flags.append(Flag("dead_relu", _text(where, S), "flag_dead_relu", {
                    "layer": where, "dead": dead, "units": units}, "fix_dead_relu"))
        elif s.name in ("SigmoidBackward0", "TanhBackward0"):
            out = value_of(s)
            if out is None or out.size == 0:
                continue
            kind = "sigmoid" if s.name == "SigmoidBackward0" else "tanh"
            frac = flowstats.saturated(kind, out)
            if frac > SATURATED:
                where = _place(s, owner, S, ex, kind.capitalize())
                flags.append(Flag("saturated", _text(where, S), "flag_saturated", {
                    "kind": kind, "layer": where, "pct": f"{100 * frac:.0f}%"},
                    "fix_saturated"))
    return flags[::-1]  # the walk meets the layers nearest the loss first


def _describe(s, ex) -> tuple[str, object]:
    """A node as a flag names it: its name and module, and (a callable) its creation site."""
    where = ""
    if s.site is not None:
        import os

        where = f"{os.path.basename(s.site.filename)}:{s.site.lineno}: {s.site.line}"
    g = ex.group_of(s) if ex is not None else None
    scope = getattr(s.site, "scope", ()) if s.site is not None else ()
    place = g.label if g is not None else (type(scope[-1][0]).__name__ if scope else None)
    node = f"{s.name} ({place})" if place else s.name
    return node, (lambda S: S["diag_where"].format(where=where)) if where else ""


def _nan_flags(steps, layers_def, grads: dict, S: dict, ex, loss=None) -> list[Flag]:
    from .explanation.modules import value_of

    owner = {id(p): (label, qn) for label, _, ps in layers_def for qn, p in ps}
    flags = []
    if steps is not None:
        outval: dict = {}
        for s in steps:  # every node's output value, wherever the graph or its site kept it
            if s.is_leaf:
                continue
            v = value_of(s)
            if v is not None:
                outval.setdefault(s.node, v)
            for i, (nxt, _) in enumerate(s.edges):
                snap = s.saved.get(s.keys[i]) if i < len(s.keys) else None
                if nxt is not None and snap is not None and snap.array is not None:
                    outval.setdefault(nxt, snap.array)
        if loss is not None and loss.grad_fn is not None:
            outval.setdefault(loss.grad_fn, loss._data)
        # suspects: nodes whose output is known to be non-finite, and below them the nodes
        # whose output nobody kept (one of them may be where it started)
        by_node = {s.node: s for s in steps if not s.is_leaf}
        suspect = [s for s in by_node.values()
                   if s.node in outval and not flowstats.finite(outval[s.node])]
        seen = {s.node for s in suspect}
        k = 0
        while k < len(suspect):
            for nxt, _ in suspect[k].edges:
                if nxt in by_node and nxt not in seen and nxt not in outval:
                    seen.add(nxt)
                    suspect.append(by_node[nxt])
            k += 1
        sources = []
        for s in suspect:
            ins = []
            for i, (nxt, _) in enumerate(s.edges):
                snap = s.saved.get(s.keys[i]) if i < len(s.keys) else None
                if snap is not None and snap.array is not None:
                    ins.append(snap.array)
                elif nxt is not None and nxt.__class__ is not AccumulateGrad:
                    ins.append(outval.get(nxt))
                elif nxt is not None:
                    ins.append(nxt.variable._data)
            if all(a is not None and flowstats.finite(a) for a in ins):
                sources.append(s)
        if sources:
            first = min(sources, key=lambda s: s.site.seq) if all(
                s.site is not None for s in sources) else max(sources, key=lambda s: s.index)
            node, where = _describe(first, ex)
            flags.append(Flag("nan", node, "flag_nan_forward", {"node": node, "where": where},
                              "fix_nan"))
        else:
            for s in steps:
                if s.is_leaf or s.grad_output is None or not s._single:
                    continue
                if not flowstats.finite(s.grad_output._data):
                    continue
                if any(g is not None and not flowstats.finite(g._data) for g in s.grad_inputs):
                    node, where = _describe(s, ex)
                    flags.append(Flag("nan", node, "flag_nan_backward", {
                        "node": node, "where": where}, "fix_nan"))
                    break
    if not flags:
        for pid, g in grads.items():
            if not flowstats.finite(g) and pid in owner:
                qn = owner[pid][1]
                flags.append(Flag("nan", qn, "flag_nan_grad", {"name": qn}, "fix_nan"))
                break
    return flags
