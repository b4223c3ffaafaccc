"""Op-table rows for reductions (see tests/opinfo.py); extra cases in test_reduce_extra.py."""

from __future__ import annotations

from opinfo import OpInfo

_R = ((), (3,), (2, 3), (1, 4))
_RD = ((3,), (2, 3), (2, 0, 3), (1, 4))
_COMPOSITE = "composite of sub/slice/sum as torch, with a different node chain"

OPS = [
    OpInfo("nansum", lambda m, a: m.nansum(a), _R, int_dtypes=("int64", "bool")),
    OpInfo("nansum_dim", lambda m, a: a.nansum((0, -1), keepdim=True), ((2, 3), (2, 3, 4))),
    OpInfo("nanmean", lambda m, a: m.nanmean(a, 1), ((2, 3), (3, 4, 2))),
    OpInfo("prod", lambda m, a: a.prod(), _R, int_dtypes=("int64", "bool")),
    OpInfo("prod_dim", lambda m, a: m.prod(a, -1, keepdim=True), _RD),
    OpInfo("max", lambda m, a: a.max(), _R, int_dtypes=("int64",)),
    OpInfo("min", lambda m, a: m.min(a), _R, int_dtypes=("int64",)),
    OpInfo("max_dim", lambda m, a: m.max(a, -1).values, ((3,), (2, 3), (2, 3, 4)),
           int_dtypes=("int64",)),
    OpInfo("min_dim", lambda m, a: a.min(0, keepdim=True)[0], ((3,), (2, 3), ())),
    OpInfo("amax", lambda m, a: m.amax(a, (0, -1)), ((2, 3), (2, 3, 4)), int_dtypes=("int64",)),
    OpInfo("amin", lambda m, a: a.amin(1, keepdim=True), ((2, 3), (2, 3, 4))),
    OpInfo("aminmax", lambda m, a: _pair(m.aminmax(a)), _R),
    OpInfo("aminmax_dim", lambda m, a: _pair(a.aminmax(dim=0)), ((2, 3), (3,)),
           funcs=("aminmax",)),
    OpInfo("argmax", lambda m, a: m.argmax(a), _R, grad=False, int_dtypes=("int64",)),
    OpInfo("argmax_dim", lambda m, a: a.argmax(-1, keepdim=True), ((2, 3),), grad=False),
    OpInfo("argmin", lambda m, a: m.argmin(a, 0), ((2, 3), (4,)), grad=False,
           int_dtypes=("int32",)),
    OpInfo("var", lambda m, a: a.var(), ((3,), (2, 3))),
    OpInfo("var_dim", lambda m, a: m.var(a, 1, keepdim=True), ((2, 3), (2, 4, 3))),
    OpInfo("var_correction", lambda m, a: a.var((0, 1), correction=0), ((2, 3), (2, 2, 3))),
    OpInfo("var_unbiased", lambda m, a: m.var(a, 0, False), ((3, 2),)),
    OpInfo("std", lambda m, a: m.std(a), ((3,), (2, 3))),
    OpInfo("std_dim", lambda m, a: a.std(-1, correction=2, keepdim=True), ((2, 4), (3, 5))),
    OpInfo("var_mean", lambda m, a: _pair(m.var_mean(a, 1)), ((2, 3), (3, 4))),
    OpInfo("std_mean", lambda m, a: _pair(m.std_mean(a, correction=0)), ((2, 3), (4,))),
    OpInfo("norm", lambda m, a: a.norm(), _R),
    OpInfo("norm_p", lambda m, a: m.norm(a, 3, dim=1), ((2, 3), (2, 4, 2)), domain=(0.3, 2.0)),
    OpInfo("norm_p1", lambda m, a: a.norm(1, 0, keepdim=True), ((2, 3),), gradgrad=False),
    OpInfo("norm_inf", lambda m, a: a.norm(float("inf"), 1), ((2, 3),)),
    OpInfo("norm_fro", lambda m, a: m.norm(a, "fro", dim=(0, 1)), ((2, 3),)),
    OpInfo("logsumexp", lambda m, a: m.logsumexp(a, 1), ((2, 3), (2, 3, 4), (0, 3))),
    OpInfo("logsumexp_keepdim", lambda m, a: a.logsumexp((0, 1), keepdim=True), ((2, 3),),
           int_dtypes=("int64",)),
    OpInfo("cumsum", lambda m, a: m.cumsum(a, 1), ((2, 3), (2, 0, 2)), int_dtypes=("int32",)),
    OpInfo("cumsum_0d", lambda m, a: a.cumsum(-1), ((), (4,)), int_dtypes=("bool",)),
    OpInfo("cumprod", lambda m, a: m.cumprod(a, -1), ((2, 3), (4,), ()), int_dtypes=("int64",)),
    OpInfo("cummax", lambda m, a: m.cummax(a, 1).values, ((2, 3), (2, 4, 2))),
    OpInfo("cummin", lambda m, a: a.cummin(0)[0], ((4,), (3, 2))),
    OpInfo("logcumsumexp", lambda m, a: m.logcumsumexp(a, -1), ((2, 3), (4,))),
    OpInfo("all", lambda m, a: m.all(a > 0), _R, grad=False, int_dtypes=("int64",)),
    OpInfo("all_dim", lambda m, a: a.all(1), ((2, 3),), grad=False, int_dtypes=("uint8", "bool")),
    OpInfo("any", lambda m, a: m.any(a > 1, (0, 1), keepdim=True), ((2, 3),), grad=False),
    OpInfo("count_nonzero", lambda m, a: m.count_nonzero(a > 0), _R, grad=False),
    OpInfo("count_nonzero_dim", lambda m, a: (a > 0).count_nonzero((0, 1)), ((2, 3, 2),),
           grad=False, int_dtypes=("int64",)),
    OpInfo("median", lambda m, a: a.median(), ((3,), (2, 3), (4,))),
    OpInfo("median_dim", lambda m, a: m.median(a, 1).values, ((2, 3), (2, 5))),
    OpInfo("nanmedian", lambda m, a: m.nanmedian(a), ((3,), (2, 3))),
    OpInfo("nanmedian_dim", lambda m, a: a.nanmedian(0, keepdim=True)[0], ((3, 2),)),
    OpInfo("mode", lambda m, a: m.mode(a).values, ((2, 3), (4,)), int_dtypes=("int64",)),
    OpInfo("quantile", lambda m, a: a.quantile(0.3), ((4,), (2, 3))),
    OpInfo("quantile_dim", lambda m, a: m.quantile(a, m.tensor([0.25, 0.5, 1.0],
                                                               dtype=a.dtype), 1, True),
           ((2, 5), (3, 4, 2))),
    OpInfo("quantile_lower", lambda m, a: a.quantile(0.4, 0, interpolation="lower"), ((5, 2),)),
    OpInfo("quantile_midpoint", lambda m, a: a.quantile(0.4, 0, interpolation="midpoint"),
           ((5, 2),)),
    OpInfo("quantile_nearest", lambda m, a: a.quantile(0.4, -1, interpolation="nearest"),
           ((2, 5),)),
    OpInfo("nanquantile", lambda m, a: m.nanquantile(a, 0.7, 1), ((2, 5),)),
    OpInfo("diff", lambda m, a: m.diff(a), ((4,), (2, 3)), int_dtypes=("int64",)),
    OpInfo("diff_n2", lambda m, a: a.diff(2, 0), ((4, 2),)),
    OpInfo("diff_prepend", lambda m, a, b: m.diff(a, 1, -1, b, b), (((2, 3), (2, 2)),),
           node_differs=_COMPOSITE),
    OpInfo("trapezoid", lambda m, a: m.trapezoid(a), ((4,), (2, 3)), node_differs=_COMPOSITE),
    OpInfo("trapezoid_x", lambda m, a, b: m.trapezoid(a, b.cumsum(0)), (((3, 4), (4,)),),
           node_differs=_COMPOSITE, funcs=("trapz",)),
    OpInfo("trapezoid_dx", lambda m, a: m.trapezoid(a, dx=0.5, dim=0), ((4, 2),),
           node_differs=_COMPOSITE),
]


def _pair(t):
    """Both outputs of a two-output op in one tensor (so both gradients are exercised)."""
    return t[0] * 2 + t[1]
