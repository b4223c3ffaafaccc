"""Reductions: sums, means, extremes, spread, scans, order statistics.

The package re-exports every name of its modules, so ``from leafgrad.ops.reduce import sum``
keeps working:

- ``sums``: sum, mean, nansum, nanmean, prod, all, any, count_nonzero; shared helpers
- ``extrema``: max, min, amax, amin, aminmax, argmax, argmin
- ``stats``: var, std, var_mean, std_mean, vector_norm, norm, logsumexp
- ``cumulative``: cumsum, cumprod, cummax, cummin, logcumsumexp
- ``order``: median, nanmedian, mode, quantile, nanquantile
- ``diff``: diff, trapezoid
- ``multi``: torch.return_types named tuples, ops with several outputs
- ``formulas``: the helpers the formulas call
"""

from __future__ import annotations

from .cumulative import (
    Cummax,
    Cummin,
    Cumprod,
    Cumsum,
    Logcumsumexp,
    _cumprod_backward,
    _logcumsumexp_backward,
    _scan,
    _scan_setup,
    cummax,
    cummin,
    cumprod,
    cumsum,
    logcumsumexp,
)
from .diff import (
    MulScalar,
    _concat,
    _embed_t,
    diff,
    prepend_t,
    trapezoid,
)
from .extrema import (
    Amax,
    Amin,
    Aminmax,
    MaxAll,
    MaxDim,
    MedianDim,
    MinAll,
    MinDim,
    Mode,
    NanmedianDim,
    _amax,
    _argext,
    _argmaxmin,
    _even_back,
    _index_tuple,
    _IndexSelectBack,
    _max_all,
    _select_back,
    _values_indices,
    amax,
    amin,
    aminmax,
    argmax,
    argmin,
    max,
    max_dim,
    min,
)
from .formulas import (
    FORMULA_HELPERS,
)
from .multi import (
    _FIELDS,
    _TYPES,
    _outs,
    record_multi,
    return_type,
)
from .order import (
    Median,
    Nanmedian,
    _median_along,
    median,
    mode,
    nanmedian,
    nanquantile,
    quantile,
)
from .stats import (
    Logsumexp,
    Std,
    StdMean,
    Var,
    VarMean,
    VectorNorm,
    _correction,
    _default_float,
    _norm_backward,
    _ratio,
    _var_args,
    logsumexp,
    norm,
    std,
    std_mean,
    var,
    var_mean,
    vector_norm,
)
from .sums import (
    Mean,
    MeanDim,
    Nansum,
    Prod,
    ProdDim,
    Sum,
    SumDim,
    _dims,
    _dprod,
    _empty_check,
    _nelem,
    _new,
    _prod_backward,
    _setup,
    _sum_dtype,
    _wrap_prod,
    all,
    any,
    count_nonzero,
    mean,
    nanmean,
    nansum,
    prod,
    sum,
)
