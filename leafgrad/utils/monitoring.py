"""``monitor``: watch a training loop without changing it, then report how gradients flowed.

::

    with leafgrad.utils.monitor(model, optimizer) as m:
        for x, y in data:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()

No callback is needed: the monitor hooks what the loop already does. Each parameter's
post-accumulate-grad hook notes its gradient, the optimizer's step hooks measure each layer's
update, forward hooks on ReLU, sigmoid and tanh modules count dead units and saturation (and
every module's output is checked for the first NaN/inf), and the backward pass's root gives
the loss (or ``m.log(loss)``). A step is an optimizer step (without an optimizer: a backward
pass). At the end it writes a self-contained HTML report (loss curve, per-layer gradient
flow over the steps, update/weight ratios, the diagnosis) and prints a compact summary.
"""

from __future__ import annotations

import contextlib
import html
import math
import sys
from dataclasses import dataclass, field

import numpy as np

from ..autograd import engine as _engine
from ..autograd import flowstats
from ..autograd import gradflow as _diag
from ..locale import strings

__all__ = ["Monitor", "monitor"]

_ACTIVATIONS = {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}


@dataclass
class StepRecord:
    """What one training step recorded: loss, and per layer (by label) the gradient norm, the
    weight norm and the update/weight ratio; activation statistics of the last forward."""

    step: int
    loss: float | None = None
    grad_norms: dict = field(default_factory=dict)
    weight_norms: dict = field(default_factory=dict)
    update_ratios: dict = field(default_factory=dict)
    activations: dict = field(default_factory=dict)  # label -> (kind, dead, units, saturated)


class Monitor:
    """The record of a monitored training loop (see ``monitor``)."""

    def __init__(self, model, optimizer=None, path: str | None = "leafgrad-monitor.html",
                 lang: str = "en", quiet: bool = False, stream=None) -> None:
        strings(lang)
        self.model = model
        self.optimizer = optimizer
        self.path = path
        self.lang = lang
        self.quiet = quiet
        self.stream = stream
        self.records: list[StepRecord] = []
        self.report: _diag.GradientReport | None = None
        self._layers = _diag._layers([model])
        self._owner = {id(p): (label, qn) for label, _, ps in self._layers for qn, p in ps}
        self._handles: list = []
        self._grads: dict = {}  # id(param) -> latest gradient norm this step
        self._got_grad: set = set()
        self._before: dict = {}  # id(param) -> its values before the optimizer's step
        self._loss: float | None = None
        self._logged = False
        self._acts: dict = {}
        self._nan: tuple | None = None  # (step, module label) of the first non-finite output
        self._last_root = None
        self._orig_run_backward = None
        self._names = dict((id(m), n) for n, m in model.named_modules())

    # -- recording --------------------------------------------------------------------------
    def log(self, loss) -> None:
        """Record ``loss`` (a tensor or a number) as this step's loss."""
        v = loss.item() if hasattr(loss, "item") else float(loss)
        self._loss = float(v)
        self._logged = True

    def _on_grad(self, p) -> None:
        if p._grad is not None:
            self._grads[id(p)] = flowstats.norm(p._grad._data)
            self._got_grad.add(id(p))

    def _on_forward(self, module, args, out) -> None:
        data = getattr(out, "_data", None)
        if data is None:
            return
        kind = _ACTIVATIONS.get(type(module).__name__)
        label = self._label(module)
        if kind == "relu":
            dead, units = flowstats.dead_units(data)
            self._acts[label] = ("relu", dead, units, data.size // max(units, 1), 0.0)
        elif kind is not None:
            self._acts[label] = (kind, 0, 0, 0, flowstats.saturated(kind, data))
        if self._nan is None and data.dtype.kind == "f" and not flowstats.finite(data):
            self._nan = (len(self.records) + 1, label)

    def _label(self, module) -> str:
        from ..autograd.explanation.modules import short_label

        name = self._names.get(id(module))
        return f"{name}: {short_label(module)}" if name else short_label(module)

    def _pre_step(self, opt, args, kwargs) -> None:
        for g in opt.param_groups:
            for p in g["params"]:
                self._before[id(p)] = np.array(p._data, copy=True)
                if p._grad is not None:
                    self._grads[id(p)] = flowstats.norm(p._grad._data)

    def _post_step(self, opt, args, kwargs) -> None:
        updates = {pid: flowstats.norm(np.asarray(p._data, dtype=np.float64) - self._before[pid])
                   for g in opt.param_groups for p in g["params"]
                   if (pid := id(p)) in self._before}
        self._before.clear()
        self._finish(updates)

    def _run_backward(self, tensors, grads, *a, **kw):
        roots = [t for t in tensors if t._data.size == 1]
        if not self._logged and len(tensors) == 1 and roots:
            with np.errstate(all="ignore"):
                self._loss = float(np.asarray(roots[0]._data, dtype=np.float64).reshape(-1)[0])
        if len(tensors) == 1:
            self._last_root = tensors[0]
        out = self._orig_run_backward(tensors, grads, *a, **kw)
        if self.optimizer is None and kw.get("accumulate", True) and kw.get("inputs") is None:
            self._finish({})
        return out

    def _finish(self, updates: dict) -> None:
        rec = StepRecord(len(self.records) + 1, self._loss)
        for label, _, ps in self._layers:
            gs = [self._grads[id(p)] for _, p in ps if id(p) in self._grads]
            rec.grad_norms[label] = math.sqrt(sum(g * g for g in gs)) if gs else None
            rec.weight_norms[label] = math.sqrt(sum(flowstats.norm(p._data) ** 2
                                                    for _, p in ps))
            ws = [p for _, p in ps if p._data.ndim >= 2 and id(p) in updates]
            if ws:
                wn = math.sqrt(sum(flowstats.norm(p._data) ** 2 for p in ws))
                un = math.sqrt(sum(updates[id(p)] ** 2 for p in ws))
                rec.update_ratios[label] = un / wn if wn > 0 else None
        rec.activations = dict(self._acts)
        self.records.append(rec)
        self._grads.clear()
        self._loss = None
        self._logged = False

    # -- entering and leaving -----------------------------------------------------------------
    def __enter__(self) -> Monitor:
        for _, _, ps in self._layers:
            for _, p in ps:
                if p.requires_grad:
                    self._handles.append(p.register_post_accumulate_grad_hook(self._on_grad))
        for m in self.model.modules():  # inner modules finish first: the first NaN is theirs
            self._handles.append(m.register_forward_hook(self._on_forward))
        if self.optimizer is not None:
            self._handles.append(self.optimizer.register_step_pre_hook(self._pre_step))
            self._handles.append(self.optimizer.register_step_post_hook(self._post_step))
        self._orig_run_backward = _engine.run_backward
        self._patched = self._run_backward  # one bound method, to recognise it on exit
        _engine.run_backward = self._patched
        return self

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()
        if _engine.run_backward is self._patched:
            _engine.run_backward = self._orig_run_backward
        if exc[0] is not None and not self.records:
            return
        self.report = self.diagnosis()
        out = self.stream if self.stream is not None else sys.stdout
        if self.path:
            with open(self.path, "w", encoding="utf-8") as f:
                f.write(self.html())
        if not self.quiet:
            print(self.summary(), file=out)
            if self.path:
                print(strings(self.lang)["mon_wrote"].format(path=self.path), file=out)

    # -- what it found ------------------------------------------------------------------------
    @property
    def losses(self) -> list[float | None]:
        """The loss of each step (None where none was seen)."""
        return [r.loss for r in self.records]

    @property
    def layers(self) -> list[str]:
        """The labels of the layers with parameters, input side first."""
        return [label for label, _, _ in self._layers]

    def grad_norms(self, label: str) -> list[float | None]:
        """A layer's gradient norm at each step."""
        return [r.grad_norms.get(label) for r in self.records]

    def update_ratios(self, label: str) -> list[float | None]:
        """A layer's update/weight ratio at each step (needs the optimizer)."""
        return [r.update_ratios.get(label) for r in self.records]

    def diagnosis(self, lang: str | None = None) -> _diag.GradientReport:
        """The diagnosis of the last step: gradient flow, activations, NaN, learning rate."""
        lang = lang or self.lang
        S = strings(lang)
        layers: list[_diag.LayerStats] = []
        last = self.records[-1] if self.records else StepRecord(0)
        for label, _, ps in self._layers:
            g = last.grad_norms.get(label)
            layers.append(_diag.LayerStats(label, [qn for qn, _ in ps], g,
                                           last.weight_norms.get(label, 0.0),
                                           last.update_ratios.get(label),
                                           g is None or math.isfinite(g)))
        flags: list[_diag.Flag] = []
        if self._nan is not None:
            step, where = self._nan
            flags.append(_diag.Flag("nan", where, "flag_nan_forward", {
                "node": where, "where": lambda S, s=step: S["diag_where"].format(
                    where=f"{S['mon_step']} {s}")}, "fix_nan"))
        else:
            for L in layers:
                if not L.finite:
                    flags.append(_diag.Flag("nan", L.label, "flag_nan_grad",
                                            {"name": L.label}, "fix_nan"))
                    break
        flow = _diag._flow_flags(layers, S)
        flags += flow
        for label, (kind, dead, units, samples, sat) in last.activations.items():
            if kind == "relu" and units and samples >= _diag.DEAD_SAMPLES and \
                    dead / units > _diag.DEAD:
                flags.append(_diag.Flag("dead_relu", label, "flag_dead_relu", {
                    "layer": label, "dead": dead, "units": units}, "fix_dead_relu"))
            elif kind in ("sigmoid", "tanh") and sat > _diag.SATURATED:
                flags.append(_diag.Flag("saturated", label, "flag_saturated", {
                    "kind": kind, "layer": label, "pct": f"{100 * sat:.0f}%"},
                    "fix_saturated"))
        if self.records:
            from ..autograd.why import why_none

            for _, _, ps in self._layers:
                for qn, p in ps:
                    if p.requires_grad and id(p) not in self._got_grad:
                        root = self._last_root
                        whys = {lg: why_none(p, root, lang=lg, names={qn: p, "loss": root})
                                .message if root is not None else "" for lg in ("en", "zh")}
                        flags.append(_diag.Flag("no_grad", qn, "flag_no_grad", {
                            "name": qn, "why": lambda S, w=whys: w[_diag._lang_of(S)]},
                            "fix_no_grad"))
        flags += _diag._lr_flags(layers)
        if any(f.code == "dead_relu" for f in flags):  # no gradient at all: dead ReLUs say why
            flags = [f for f in flags
                     if not (f.code == "vanishing" and f.values["factor"] == "∞")]
        for f in flags:
            f.lang = lang
        return _diag.GradientReport(type(self.model).__name__, layers, flags, "monitor", lang)

    def summary(self, lang: str | None = None) -> str:
        """A few lines: the loss from first to last step, the flags, and per layer the
        gradient norm (first → last step) and the last update/weight ratio."""
        lang = lang or self.lang
        S = strings(lang)
        report = self.report if self.report is not None and lang == self.lang else \
            self.diagnosis(lang)
        ls = [(r.step, r.loss) for r in self.records if r.loss is not None]
        if not self.records:
            return S["mon_no_steps"]
        k = len(report.flags)
        flags = S["mon_no_flags"] if not k else S["mon_flags"].format(
            k=k, flags=S["diag_flag_one" if k == 1 else "diag_flag_many"],
            names=_diag.flag_summary(report.flags))
        if ls:
            best = min(ls, key=lambda x: x[1] if math.isfinite(x[1]) else math.inf)
            head = S["mon_summary"].format(steps=len(self.records), first=_n(ls[0][1]),
                                           last=_n(ls[-1][1]), best=_n(best[1]), at=best[0],
                                           flags=flags)
        else:
            head = S["mon_no_loss"] + " " + flags
        lines = [head]
        for label in self.layers:
            g = [v for v in self.grad_norms(label) if v is not None]
            u = [v for v in self.update_ratios(label) if v is not None]
            lines.append(f"  {_cut(label, 34):<34} grad {_n(g[0]) if g else '—':>9} → "
                         f"{_n(g[-1]) if g else '—':<9}  update/weight "
                         f"{_n(u[-1]) if u else '—'}")
        lines += _diag.flag_lines(report.flags, lang, "  ")
        return "\n".join(lines)

    def html(self, lang: str | None = None) -> str:
        """The report: a self-contained HTML page (inline SVG charts, no script)."""
        from ..viz.charts import bar_chart, line_chart

        lang = lang or self.lang
        S = strings(lang)
        report = self.report if self.report is not None and lang == self.lang else \
            self.diagnosis(lang)
        xs = [r.step for r in self.records]
        loss = line_chart(xs, [(S["mon_loss"], self.losses)], S["mon_loss"],
                          log=_wide(self.losses), xlabel=S["mon_step"], chart_id="lg-loss")
        flow = line_chart(xs, [(L, self.grad_norms(L)) for L in self.layers],
                          S["mon_grad_flow"], log=True, xlabel=S["mon_step"],
                          chart_id="lg-flow")
        parts = [loss, flow]
        if any(r.update_ratios for r in self.records):
            parts.append(line_chart(xs, [(L, self.update_ratios(L)) for L in self.layers],
                                    S["mon_update_ratio"], log=True, band=(1e-4, 1e-2),
                                    xlabel=S["mon_step"], chart_id="lg-ratio"))
        parts.append(bar_chart(self.layers, [self.records[-1].grad_norms.get(L)
                                             if self.records else None for L in self.layers],
                               S["mon_last_grads"], chart_id="lg-bars"))
        title = S["mon_title"].format(steps=len(self.records))
        charts = "\n".join(f'<section class="card">{c}</section>' for c in parts)
        return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}">
<head><meta charset="utf-8"><meta name="generator" content="leafgrad">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style></head>
<body data-steps="{len(self.records)}" data-flags="{len(report.flags)}"
 data-layers="{len(self.layers)}">
<header><h1>{html.escape(title)}</h1>
<pre id="lg-summary">{html.escape(self.summary(lang))}</pre></header>
<main>
{charts}
<section class="card" id="lg-diagnosis"><h2>{html.escape(S["viz_diag"])}</h2>
{report.html(lang)}</section>
</main>
</body></html>
"""

    def save_html(self, path: str, lang: str | None = None) -> str:
        """Write the report to ``path`` and return the path."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html(lang))
        return path


_CSS = """
*{box-sizing:border-box}
body{font-family:"DejaVu Sans","Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",
  "PingFang SC",Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:10px 16px;background:#fff;border-bottom:1px solid #ddd}
h1{font-size:18px;margin:0 0 6px 0} h2{font-size:15px;margin:0 0 6px 0}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:12px;
  padding:12px;max-width:1800px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;min-width:0}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px;margin:0;
  font-family:"DejaVu Sans Mono",Menlo,Consolas,"Noto Sans Mono CJK SC",monospace}
svg.chart{display:block;max-width:100%;height:auto}
@media (max-width:560px){main{grid-template-columns:1fr}}
"""


def _n(v) -> str:
    from ..autograd.stepper import fmt_num

    return "—" if v is None else fmt_num(v)


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _wide(vals: list) -> bool:
    ok = [v for v in vals if v is not None and math.isfinite(v) and v > 0]
    return bool(ok) and len(ok) == len([v for v in vals if v is not None]) and \
        max(ok) / min(ok) > 100


@contextlib.contextmanager
def monitor(model, optimizer=None, path: str | None = "leafgrad-monitor.html",
            lang: str = "en", quiet: bool = False, stream=None):
    """Watch the training loop inside the block; report and summarise at its end.

    ``path`` is where the HTML report goes (None: no file); ``quiet`` skips the printed
    summary. Yields the ``Monitor``: ``m.log(loss)`` records a loss, and after the block
    ``m.losses``, ``m.grad_norms(layer)``, ``m.report`` (the diagnosis) hold what it saw.

    >>> import leafgrad
    >>> from leafgrad import nn
    >>> _ = leafgrad.manual_seed(0)
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    >>> opt = leafgrad.optim.SGD(net.parameters(), lr=0.05)
    >>> x, y = leafgrad.randn(32, 4), leafgrad.randn(32, 1)
    >>> with monitor(net, opt, path=None, quiet=True) as m:
    ...     for _ in range(3):
    ...         opt.zero_grad()
    ...         loss = ((net(x) - y) ** 2).mean()
    ...         loss.backward()
    ...         opt.step()
    >>> len(m.losses), m.losses[0] > m.losses[-1], m.report.codes
    (3, True, [])
    """
    m = Monitor(model, optimizer, path, lang, quiet, stream)
    with m:
        yield m
