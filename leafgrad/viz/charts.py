"""Small self-contained SVG charts (line charts, horizontal bars) for the training monitor.

No script and no library: a chart is an ``<svg>`` with a ``viewBox``, so it scales to the
width of the page, and every point carries a ``<title>`` (the browser's own tooltip).
"""

from __future__ import annotations

import math
from html import escape

from ..autograd.stepper import fmt_num

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2", "#7f7f7f", "#bcbd22", "#393b79", "#ad494a", "#637939", "#7b4173"]
FONT = "DejaVu Sans, Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, " \
       "Helvetica, Arial, sans-serif"


def colour(i: int) -> str:
    """The ``i``-th series colour (the palette, then evenly spread hues).

    >>> colour(0), colour(20)
    ('#1f77b4', 'hsl(220, 55%, 42%)')
    """
    if i < len(PALETTE):
        return PALETTE[i]
    return f"hsl({(i * 137) % 360}, 55%, 42%)"


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    if log:
        a, b = math.floor(lo), math.ceil(hi)
        step = max(1, (b - a) // 6)
        return [float(e) for e in range(a, b + 1, step)]
    if hi == lo:
        return [lo]
    raw = (hi - lo) / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    out = []
    v = start
    while v <= hi + 1e-12 * max(1.0, abs(hi)):
        out.append(v)
        v += step
    return out


def line_chart(xs: list, series: list[tuple[str, list]], title: str, *, log: bool = False,
               band: tuple[float, float] | None = None, width: int = 760, height: int = 280,
               xlabel: str = "", chart_id: str = "") -> str:
    """``series`` as ``(label, ys)`` lines over ``xs`` (None: no point); ``log`` for a log10
    y axis (non-positive values are left out); ``band`` shades a healthy y range.

    >>> svg = line_chart([1, 2, 3], [("loss", [2.0, 1.0, 0.5])], "Loss")
    >>> svg.startswith("<svg") and svg.count("<circle") == 3
    True
    """
    left, right, top, bottom = 64, 16, 30, 34
    legend_rows = math.ceil(len(series) / 4) if len(series) > 1 else 0
    height += 16 * legend_rows
    pw, ph = width - left - right, height - top - bottom - 16 * legend_rows

    def ok(y) -> bool:
        return y is not None and math.isfinite(y) and (y > 0 or not log)

    vals = [math.log10(y) if log else y for _, ys in series for y in ys if ok(y)]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} '
           f'{height}" width="100%" preserveAspectRatio="xMidYMid meet" font-family="{FONT}"'
           + (f' id="{escape(chart_id)}"' if chart_id else "") + ">",
           f'<text x="{left}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>']
    if not vals or not xs:
        out.append(f'<text x="{left}" y="{top + 20}" font-size="12">—</text></svg>')
        return "\n".join(out)
    lo, hi = min(vals), max(vals)
    if band is not None and log:
        lo, hi = min(lo, math.log10(band[0])), max(hi, math.log10(band[1]))
    if hi - lo < 1e-12:
        lo, hi = lo - 1, hi + 1
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad
    x0, x1 = min(xs), max(xs)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1

    def X(x) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def Y(v) -> float:
        return top + (hi - v) / (hi - lo) * ph

    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#ffffff" '
               'stroke="#cccccc"/>')
    if band is not None:
        b0, b1 = (math.log10(band[0]), math.log10(band[1])) if log else band
        out.append(f'<rect class="band" x="{left}" y="{Y(b1):.1f}" width="{pw}" '
                   f'height="{Y(b0) - Y(b1):.1f}" fill="#e3f4e0"/>')
    for t in _ticks(lo, hi, log):
        y = Y(t)
        if top - 1 <= y <= top + ph + 1:
            lab = f"1e{int(t)}" if log else fmt_num(t)
            out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" '
                       'stroke="#eeeeee"/>')
            out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" '
                       f'text-anchor="end">{lab}</text>')
    for t in _ticks(x0, x1, False):
        if float(t).is_integer():
            x = X(t)
            out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" font-size="11" '
                       f'text-anchor="middle">{fmt_num(t)}</text>')
    if xlabel:
        out.append(f'<text x="{left + pw}" y="{top + ph + 30}" font-size="11" '
                   f'text-anchor="end">{escape(xlabel)}</text>')
    for i, (label, ys) in enumerate(series):
        c = colour(i)
        pts = [(X(x), Y(math.log10(y) if log else y), x, y) for x, y in zip(xs, ys) if ok(y)]
        if not pts:
            continue
        d = " ".join(f"{'M' if k == 0 else 'L'}{px:.1f},{py:.1f}"
                     for k, (px, py, _, _) in enumerate(pts))
        out.append(f'<g class="series" data-label="{escape(label)}">'
                   f'<path d="{d}" fill="none" stroke="{c}" stroke-width="1.6"/>')
        if len(pts) <= 60:
            for px, py, x, y in pts:
                out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.2" fill="{c}">'
                           f'<title>{escape(label)} · {fmt_num(x)}: {fmt_num(y)}</title>'
                           "</circle>")
        out.append("</g>")
    if legend_rows:
        for i, (label, _) in enumerate(series):
            lx = left + (i % 4) * (pw / 4)
            ly = top + ph + 38 + 16 * (i // 4)
            out.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="12" height="4" '
                       f'fill="{colour(i)}"/><text x="{lx + 16:.1f}" y="{ly - 4}" '
                       f'font-size="11">{escape(_cut(label, 34))}</text>')
    out.append("</svg>")
    return "\n".join(out)


def bar_chart(labels: list[str], values: list, title: str, *, log: bool = True,
              width: int = 760, chart_id: str = "") -> str:
    """Horizontal bars, one per label (log10 scale by default; None or 0: no bar).

    >>> bar_chart(["a", "b"], [0.1, None], "norms").count('fill="#')
    1
    """
    row, left, top = 20, 230, 30
    height = top + row * len(labels) + 12
    ok = [v for v in values if v is not None and math.isfinite(v) and (v > 0 or not log)]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} '
           f'{height}" width="100%" preserveAspectRatio="xMidYMid meet" font-family="{FONT}"'
           + (f' id="{escape(chart_id)}"' if chart_id else "") + ">",
           f'<text x="8" y="18" font-size="14" font-weight="bold">{escape(title)}</text>']
    if not ok:
        out.append("</svg>")
        return "\n".join(out)
    f = (lambda v: math.log10(v)) if log else (lambda v: v)
    lo = min(f(v) for v in ok) - (1 if log else 0)
    hi = max(f(v) for v in ok)
    if hi <= lo:
        hi = lo + 1
    pw = width - left - 90
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = top + i * row
        out.append(f'<text x="{left - 6}" y="{y + 14}" font-size="11" text-anchor="end">'
                   f'{escape(_cut(lab, 36))}</text>')
        if v is None or not math.isfinite(v) or (log and v <= 0):
            out.append(f'<text x="{left + 4}" y="{y + 14}" font-size="11">'
                       f'{escape(fmt_num(v) if v is not None else "—")}</text>')
            continue
        w = max(1.0, (f(v) - lo) / (hi - lo) * pw)
        out.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
                   f'fill="{colour(i)}"><title>{escape(lab)}: {fmt_num(v)}</title></rect>'
                   f'<text x="{left + w + 4:.1f}" y="{y + 14}" font-size="11">{fmt_num(v)}'
                   "</text>")
    out.append("</svg>")
    return "\n".join(out)


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
