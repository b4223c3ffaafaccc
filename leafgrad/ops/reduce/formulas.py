"""The reductions' own derivative helpers that their formulas name (leafgrad.autograd.formula
adds them to its namespace, after leafgrad.ops.dual's vocabulary)."""

from __future__ import annotations

from .cumulative import _cumprod_backward, _logcumsumexp_backward
from .extrema import _count_back, _even_back, _select_back
from .stats import _norm_backward, _ratio
from .sums import _prod_backward

FORMULA_HELPERS = {
    "prod_backward": _prod_backward, "even_back": _even_back, "select_back": _select_back,
    "ratio": _ratio, "norm_backward": _norm_backward, "cumprod_backward": _cumprod_backward,
    "logcumsumexp_backward": _logcumsumexp_backward, "count_back": _count_back,
}
