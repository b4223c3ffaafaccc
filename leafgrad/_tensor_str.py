"""Tensor printing that matches PyTorch's ``repr`` byte for byte, and the print options."""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import backend, dtypes

__all__ = ["get_printoptions", "printoptions", "set_printoptions", "tensor_repr"]


@dataclasses.dataclass
class _PrintOptions:
    """The process-wide print options (PyTorch's are global too, not thread-local)."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set how tensors print, as ``torch.set_printoptions`` does (a profile, then overrides).

    >>> set_printoptions(precision=2); get_printoptions()["precision"]
    2
    >>> set_printoptions(profile="default")
    """
    if profile is not None:
        # NOTE: PyTorch silently ignores an unknown profile name; so do we.
        for name, value in _PROFILES.get(profile, {}).items():
            setattr(PRINT_OPTS, name, value)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    # NOTE: unlike the other options, PyTorch always assigns sci_mode, so any call that leaves it
    # out goes back to automatic notation.
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Return the current print options as a dict that ``set_printoptions(**d)`` accepts.

    >>> sorted(get_printoptions())
    ['edgeitems', 'linewidth', 'precision', 'sci_mode', 'threshold']
    """
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Change the print options inside a ``with`` block and restore them on exit.

    >>> with printoptions(precision=1):
    ...     get_printoptions()["precision"]
    1
    """
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


class _Formatter:
    """One notation and one column width for every element of a tensor, chosen from the
    elements that will be printed (PyTorch's ``_Formatter``)."""

    def __init__(self, values: np.ndarray, floating: bool):
        self.floating = floating
        self.precision = PRINT_OPTS.precision
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if values.size == 0:
            return
        if not floating:
            if values.dtype == np.bool_:
                self.width = 5 if not values.all() else 4  # len("False") or len("True")
            else:
                lo, hi = values.min().item(), values.max().item()
                self.width = max(len(str(lo)), len(str(hi)))
            return

        flat = values.ravel()
        shown = flat[np.isfinite(flat) & (flat != 0)]
        # NOTE: zeros, nan and inf take no part in choosing the notation or the width; PyTorch
        # prints them in whatever the other values chose (an all-zero tensor prints as `0.`).
        if shown.size == 0:
            return
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        # NOTE: PyTorch takes min and max of |x| in float64 (half overflows at 1e8).
        magnitude = np.abs(shown).astype(np.float64)
        lo, hi = magnitude.min().item(), magnitude.max().item()
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = bool(PRINT_OPTS.sci_mode)

        # The printed length grows with |x| within one sign (the exponent's digit count with the
        # distance of |exponent| from 0), so the widest string is one of these four values; no
        # need to format every element just to measure it.
        candidates = []
        for side in (shown[shown > 0], shown[shown < 0]):
            if side.size:
                candidates += [side.min().item(), side.max().item()]
        self.width = max(self.width, *(len(s) for s in self.format(candidates)))

    def format(self, values: list) -> list[str]:
        """Format Python scalars, each right-aligned to the common width."""
        w, p = self.width, self.precision
        if not self.floating:
            return [str(v).rjust(w) for v in values]
        if self.int_mode and not self.sci_mode:
            # NOTE: PyTorch marks whole floats with a trailing dot (`3.`) but not nan/inf.
            return [(f"{v:.0f}." if math.isfinite(v) else f"{v:.0f}").rjust(w) for v in values]
        # one spec string for all: parsing a nested f-string spec per element doubles the cost
        spec = f">{w}.{p}{'e' if self.sci_mode else 'f'}"
        return [format(v, spec) for v in values]


def _printed_part(a: np.ndarray, summarize: bool) -> np.ndarray:
    """The elements a summarised tensor actually prints (the edges of every dimension)."""
    if not summarize or a.ndim == 0:
        return a
    edge = PRINT_OPTS.edgeitems
    if edge <= 0:
        return a[(slice(0, 0),) * a.ndim]  # prints as `[...]`: no element sets the width
    index = [np.r_[0:edge, n - edge : n] if n > 2 * edge else np.arange(n) for n in a.shape]
    return a[np.ix_(*index)]


def _format_nested(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    """The bracketed body of ``a``, its rows indented to sit under ``indent`` columns."""
    if a.ndim == 0:
        return fmt.format([a.item()])[0]
    n, edge = a.shape[0], PRINT_OPTS.edgeitems
    cut = summarize and n > 2 * edge
    if a.ndim == 1:
        if summarize and not edge:
            items = ["..."]
        elif cut:
            items = fmt.format(a[:edge].tolist()) + [" ..."] + fmt.format(a[n - edge :].tolist())
        else:
            items = fmt.format(a.tolist())
        # each element costs its width plus ", "; `...` counts as one element
        per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width + 2)))
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = [*range(edge), None, *range(n - edge, n)] if cut else range(n)
    parts = ["..." if i is None else _format_nested(a[i], indent + 1, summarize, fmt) for i in rows]
    # a blank line between blocks of each dimension past the second, as PyTorch and NumPy do
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _add_suffixes(body: str, suffixes: list[str], indent: int) -> str:
    """Append ``, key=value`` suffixes, wrapping one onto its own line when it would overflow."""
    out = [body]
    # NOTE: PyTorch's running length is the last line's length plus 2 (an off-by-two it keeps for
    # compatibility), and a wrapped suffix's line length excludes the trailing ", ".
    line_len = len(body) - body.rfind("\n") + 1
    for suffix in suffixes:
        if line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            out.append(",\n" + " " * indent + suffix)
            line_len = indent + len(suffix)
        else:
            out.append(", " + suffix)
            line_len += len(suffix) + 2
    out.append(")")
    return "".join(out)


def _grad_fn_name(grad_fn) -> str:
    name = grad_fn.name() if callable(getattr(grad_fn, "name", None)) else type(grad_fn).__name__
    return name.rsplit("::", 1)[-1]


def tensor_repr(t) -> str:
    """The string ``repr(t)`` and ``str(t)`` give, identical to PyTorch's for the same tensor.

    >>> import leafgrad
    >>> tensor_repr(leafgrad.tensor([[1.5, 2.0], [3.0, -4.25]]))
    'tensor([[ 1.5000,  2.0000],\\n        [ 3.0000, -4.2500]])'
    """
    data = np.asarray(backend.to_numpy(t._data))
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []

    dev = t.device
    if dev.type != "cpu":
        # NOTE: PyTorch names every non-default device with its index (`cuda:0`).
        suffixes.append(f"device='{dev.type}:{dev.index or 0}'")

    dtype = t.dtype
    default = dtypes.get_default_dtype()
    if data.size == 0:
        if data.ndim != 1:  # `tensor([])` is (0,); any other empty shape must be spelled out
            suffixes.append(f"size={tuple(data.shape)}")
        # NOTE: no element hints at the dtype, so even int64 and bool empties name theirs.
        if dtype.name != default.name:
            suffixes.append(f"dtype={dtype}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(data.shape)}")
        # int64, bool and the default float are what literals infer, so they go unnamed
        if dtype.name not in (default.name, "int64", "bool"):
            suffixes.append(f"dtype={dtype}")
        summarize = data.size > PRINT_OPTS.threshold
        fmt = _Formatter(_printed_part(data, summarize), dtype.is_floating_point)
        body = _format_nested(data, indent, summarize, fmt)

    grad_fn = getattr(t, "grad_fn", None)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_name(grad_fn)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
