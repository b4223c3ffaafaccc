"""The helpers reduction formulas call (added to leafgrad.autograd.formula's namespace)."""

from __future__ import annotations

import numpy as np

from .cumulative import _cumprod_backward, _logcumsumexp_backward, _rev_cumsum
from .extrema import _even_back, _select_back
from .stats import _norm_backward, _ratio
from .sums import _prod_others, _raw


def _isnan(x):
    return np.isnan(_raw(x))


# Helpers the op formulas above call (added to leafgrad.autograd.formula's namespace).
FORMULA_HELPERS = {
    "isnan": _isnan, "prod_others": _prod_others, "even_back": _even_back,
    "select_back": _select_back, "ratio": _ratio, "norm_backward": _norm_backward,
    "rev_cumsum": _rev_cumsum, "cumprod_backward": _cumprod_backward,
    "logcumsumexp_backward": _logcumsumexp_backward,
}
