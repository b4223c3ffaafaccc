"""Op-table rows for the shape, indexing and joining ops (leafgrad/ops/movement.py)."""

from __future__ import annotations

from opinfo import OpInfo


def _i(m, v):
    """An int64 index tensor in library ``m``."""
    return m.tensor(v, dtype=m.int64)


def _setitem_adv(m, a, b):
    y = a * 1
    y[[0, 2]] = b
    return y


def _setitem_mask(m, a):
    y = a * 1
    y[y > 0] = 0.0
    return y


def _scatter_reduce(r: str, include_self: bool):
    return lambda m, a, b: a.scatter_reduce(0, _i(m, [[1, 1, 0], [1, 0, 0]]), b, r,
                                            include_self=include_self) * 1


OPS = [
    OpInfo("view_as", lambda m, a: a.view_as(a.reshape(-1)), ((2, 3),)),
    OpInfo("reshape_as", lambda m, a: a.reshape_as(a.t()), ((2, 3),)),
    OpInfo("unflatten", lambda m, a: m.unflatten(a, 1, (2, -1)), ((3, 4), (2, 4, 1))),
    OpInfo("swapaxes", lambda m, a: m.swapaxes(a, 0, 1), ((2, 3),), funcs=("swapdims",)),
    OpInfo("movedim", lambda m, a: m.movedim(a, (0, 1), (2, 0)), ((2, 3, 4),),
           funcs=("moveaxis",)),
    OpInfo("expand_as", lambda m, a: a.expand_as(m.zeros(2, 3, 4)) * 1, ((3, 1),)),
    OpInfo("broadcast_to", lambda m, a: m.broadcast_to(a, (2, 3)), ((3,), (1, 3), ())),
    OpInfo("broadcast_tensors", lambda m, a, b: m.broadcast_tensors(a, b)[0] * 2,
           (((2, 1), (1, 3)), ((3,), (2, 3)))),
    OpInfo("repeat", lambda m, a: a.repeat(2, 1, 3), ((2, 3), (3,), (), (2, 0))),
    OpInfo("tile", lambda m, a: m.tile(a, (2,)), ((2, 3), (3,))),
    OpInfo("repeat_interleave", lambda m, a: m.repeat_interleave(a, 2, dim=1), ((2, 3),)),
    OpInfo("repeat_interleave_flat", lambda m, a: a.repeat_interleave(3), ((2, 3), ())),
    OpInfo("repeat_interleave_tensor", lambda m, a: a.repeat_interleave(_i(m, [1, 0, 2]), 0),
           ((3, 2),)),
    OpInfo("flip", lambda m, a: m.flip(a, (0, -1)), ((2, 3), (2, 0, 3)),
           int_dtypes=("int64",)),
    OpInfo("flip_1d", lambda m, a: a.flip(0), ((3,), ())),
    OpInfo("fliplr", lambda m, a: m.fliplr(a), ((2, 3),)),
    OpInfo("flipud", lambda m, a: m.flipud(a), ((2, 3),)),
    OpInfo("roll", lambda m, a: m.roll(a, (1, -2), (0, 1)), ((2, 3), (3, 4))),
    OpInfo("roll_flat", lambda m, a: a.roll(2), ((2, 3), (3,))),
    OpInfo("rot90", lambda m, a: m.rot90(a, 1, (0, 1)), ((2, 3), (2, 3, 2))),
    OpInfo("rot90_k", lambda m, a: a.rot90(-3, (1, 0)), ((2, 3),)),
    OpInfo("cat", lambda m, a, b: m.cat([a, b], 0), (((2, 3), (1, 3)), ((0, 3), (2, 3))),
           int_dtypes=("int64",), funcs=("concat", "concatenate")),
    OpInfo("cat_dim", lambda m, a, b: m.concat((a, b, a), dim=-1), (((2, 3), (2, 1)),)),
    OpInfo("stack", lambda m, a, b: m.stack([a, b], 1), (((2, 3), (2, 3)),)),
    OpInfo("stack_0d", lambda m, a, b: m.stack((a, b, a), -1), (((), ()), ((2,), (2,)))),
    OpInfo("hstack", lambda m, a, b: m.hstack([a, b]), (((2, 3), (2, 1)), ((3,), (2,)))),
    OpInfo("vstack", lambda m, a, b: m.vstack([a, b]), (((2, 3), (1, 3)), ((3,), (3,)))),
    OpInfo("dstack", lambda m, a, b: m.dstack([a, b]), (((2, 3), (2, 3)), ((3,), (3,)))),
    OpInfo("column_stack", lambda m, a, b: m.column_stack([a, b]),
           (((3,), (3, 2)), ((3,), (3,)))),
    OpInfo("atleast_1d", lambda m, a: m.atleast_1d(a) * 1, ((), (2,))),
    OpInfo("atleast_2d", lambda m, a: m.atleast_2d(a), ((), (3,))),
    OpInfo("atleast_3d", lambda m, a: m.atleast_3d(a), ((), (3,), (2, 3))),
    OpInfo("split", lambda m, a: m.split(a, 2)[1], ((5, 2), (4,))),
    OpInfo("split_sizes", lambda m, a: a.split([1, 3], 1)[0], ((2, 4),)),
    OpInfo("split_sum", lambda m, a: sum(p.sum() for p in a.split(2)), ((5, 2),)),
    OpInfo("chunk", lambda m, a: m.chunk(a, 3, 1)[0], ((2, 5),)),
    OpInfo("tensor_split", lambda m, a: m.tensor_split(a, 3)[2], ((7,), (5, 2))),
    OpInfo("tensor_split_idx", lambda m, a: a.tensor_split([1, 4], 1)[1], ((2, 5),)),
    OpInfo("unbind", lambda m, a: m.unbind(a, 1)[1], ((2, 3),)),
    OpInfo("unbind_stack", lambda m, a: m.stack(a.unbind(0)[::-1]), ((3, 2),)),
    OpInfo("narrow", lambda m, a: m.narrow(a, 1, 1, 2), ((2, 4),)),
    OpInfo("narrow_neg", lambda m, a: a.narrow(0, -2, 2), ((3, 4),)),
    OpInfo("select_fn", lambda m, a: m.select(a, 1, -1), ((2, 3),), funcs=("select",)),
    OpInfo("index_select", lambda m, a: m.index_select(a, 1, _i(m, [2, 0, 2])),
           ((2, 3), (0, 3))),
    OpInfo("index_select_0d", lambda m, a: a.index_select(0, _i(m, [0])), ((),)),
    OpInfo("gather", lambda m, a: m.gather(a, 1, _i(m, [[0, 0], [2, 1]])), ((2, 3),)),
    OpInfo("gather_dim0", lambda m, a: a.gather(0, _i(m, [[1, 0, 1]])), ((2, 3),)),
    OpInfo("take", lambda m, a: m.take(a, _i(m, [[0, 5], [-1, 5]])), ((2, 3),)),
    OpInfo("take_along_dim", lambda m, a: m.take_along_dim(a, _i(m, [[0], [2]]), 1),
           ((2, 3),)),
    OpInfo("take_along_dim_bcast", lambda m, a: m.take_along_dim(a, _i(m, [[0, 1, 1]]), 0),
           ((2, 3), (2, 1))),
    OpInfo("take_along_dim_flat", lambda m, a: a.take_along_dim(_i(m, [4, 0, 4])), ((2, 3),)),
    OpInfo("scatter", lambda m, a, b: m.scatter(a, 1, _i(m, [[0], [2]]), b),
           (((2, 3), (2, 1)),)),
    # torch's own backward rejects a src larger than index (its grad has index's shape): values
    OpInfo("scatter_big_src", lambda m, a, b: m.scatter(a, 1, _i(m, [[0], [2]]), b),
           (((2, 3), (2, 2)),), grad=False),
    OpInfo("scatter_add_big_src", lambda m, a, b: a.scatter_add(0, _i(m, [[1, 0]]), b),
           (((2, 3), (3, 4)),), grad=False, funcs=("scatter_add",)),
    OpInfo("scatter_value", lambda m, a: a.scatter(0, _i(m, [[1, 0, 1]]), 2.5), ((2, 3),)),
    OpInfo("scatter_add", lambda m, a, b: m.scatter_add(a, 0, _i(m, [[1, 1, 0], [1, 0, 0]]), b),
           (((2, 3), (2, 3)),)),
    OpInfo("scatter_reduce", lambda m, a, b: m.scatter_reduce(
        a, 0, _i(m, [[1, 1, 0], [1, 0, 0]]), b, "sum"), (((2, 3), (2, 3)),)),
    OpInfo("scatter_reduce_noself", lambda m, a, b: a.scatter_reduce(
        0, _i(m, [[1, 1, 0]]), b, "sum", include_self=False), (((2, 3), (1, 3)),)),
    # the prod/mean/amax/amin node's formula is descriptive (it is computed on arrays): `* 1`
    # keeps the formula test on Mul while values and gradients are still compared
    *[OpInfo(f"scatter_reduce_{r}{'' if s else '_noself'}", _scatter_reduce(r, s),
             (((2, 3), (2, 3)),), gradgrad=False)
      for r, s in (("prod", True), ("mean", True), ("amax", True), ("amin", False),
                   ("mean", False))],
    OpInfo("index_add", lambda m, a, b: m.index_add(a, 0, _i(m, [1, 1, 0]), b, alpha=2),
           (((2, 3), (3, 3)),)),
    OpInfo("index_copy", lambda m, a, b: m.index_copy(a, 1, _i(m, [2, 0]), b),
           (((2, 3), (2, 2)),)),
    OpInfo("index_fill", lambda m, a: m.index_fill(a, 1, _i(m, [2, 0]), -1.0), ((2, 3),)),
    OpInfo("index_fill_tensor", lambda m, a, b: a.index_fill(0, _i(m, [1]), b),
           (((2, 3), ()),)),
    OpInfo("index_put", lambda m, a, b: m.index_put(a, (_i(m, [0, 1]), _i(m, [2, 2])), b),
           (((2, 3), (2,)), ((2, 3), ()))),
    OpInfo("index_put_acc", lambda m, a, b: a.index_put((_i(m, [1, 1]),), b, accumulate=True),
           (((2, 3), (3,)), ((2, 3), (2, 3)))),
    OpInfo("masked_fill", lambda m, a: m.masked_fill(a, a > 0, 0.5), ((2, 3), ())),
    OpInfo("masked_fill_bcast", lambda m, a: a.masked_fill(m.tensor([True, False, True]), 1.0),
           ((2, 3),)),
    OpInfo("masked_fill_tensor", lambda m, a, b: a.masked_fill(a < 0, b), (((2, 3), ()),)),
    OpInfo("masked_select", lambda m, a: m.masked_select(a, a > 0), ((2, 3), (3,))),
    OpInfo("masked_select_bcast", lambda m, a: a.masked_select(m.tensor([[True], [False]])),
           ((2, 3),)),
    OpInfo("masked_scatter", lambda m, a, b: m.masked_scatter(a, a > 0, b),
           (((2, 3), (2, 3)), ((2, 3), (8,)))),
    OpInfo("tril", lambda m, a: m.tril(a), ((3, 4), (2, 3, 3)), int_dtypes=("int64",)),
    OpInfo("tril_k", lambda m, a: a.tril(-1), ((3, 4),)),
    OpInfo("triu", lambda m, a: m.triu(a, 1), ((3, 4), (2, 3, 3))),
    OpInfo("diag", lambda m, a: m.diag(a), ((3,), (3, 4))),
    OpInfo("diag_offset", lambda m, a: a.diag(-1), ((3,), (3, 4))),
    OpInfo("diagonal", lambda m, a: m.diagonal(a), ((3, 4), (4, 2))),
    OpInfo("diagonal_dims", lambda m, a: a.diagonal(1, 2, 0), ((3, 2, 4),)),
    OpInfo("diagonal_neg", lambda m, a: a.diagonal(-1) * 1, ((3, 4),)),
    OpInfo("diag_embed", lambda m, a: m.diag_embed(a), ((3,), (2, 3))),
    OpInfo("diag_embed_dims", lambda m, a: a.diag_embed(1, 0, 2), ((2, 3),)),
    OpInfo("diagflat", lambda m, a: m.diagflat(a), ((2, 2), (3,))),
    OpInfo("trace", lambda m, a: m.trace(a), ((3, 4), (3, 3)), int_dtypes=("int64",)),
    OpInfo("sort", lambda m, a: m.sort(a, 1).values, ((2, 3),), funcs=("msort",)),
    OpInfo("sort_desc", lambda m, a: a.sort(0, descending=True)[0], ((4, 3),)),
    OpInfo("msort", lambda m, a: m.msort(a), ((4, 3),)),
    OpInfo("topk", lambda m, a: m.topk(a, 2).values, ((2, 3), (4,))),
    OpInfo("topk_small", lambda m, a: a.topk(2, 0, largest=False)[0], ((4, 3),)),
    OpInfo("kthvalue", lambda m, a: m.kthvalue(a, 2, 1)[0], ((2, 3),)),
    OpInfo("kthvalue_keep", lambda m, a: a.kthvalue(3, 0, True).values, ((4, 3),)),
    OpInfo("unfold", lambda m, a: a.unfold(1, 2, 1), ((2, 4),)),
    OpInfo("unfold_step", lambda m, a: a.unfold(0, 2, 2), ((5,), (4, 3))),
    OpInfo("broadcast_shapes", lambda m, a: a.expand(m.broadcast_shapes(a.shape, (2, 1, 1))),
           ((3,), (1, 3))),
    OpInfo("meshgrid", lambda m, a, b: m.meshgrid(a, b, indexing="ij")[0] * 1,
           (((2,), (3,)), ((), (2,)))),
    OpInfo("meshgrid_xy", lambda m, a, b, c: m.meshgrid([a, b, c], indexing="xy")[0] * 1,
           (((2,), (3,), (4,)),), funcs=("meshgrid",)),
    OpInfo("tril_indices", lambda m, a: a[tuple(m.tril_indices(3, 4, 1))], ((3, 4),)),
    OpInfo("triu_indices", lambda m, a: a[tuple(m.triu_indices(4, 3, -1))], ((4, 3),)),
    OpInfo("logspace", lambda m, a: a + m.logspace(-1, 1, 3) + m.logspace(0, 3, 3, base=2),
           ((3,),)),
    OpInfo("setitem_adv", _setitem_adv, (((3, 4), (4,)), ((3, 4), (2, 4)))),
    OpInfo("setitem_mask", _setitem_mask, ((3, 4),)),
    OpInfo("index_2adv", lambda m, a: a[[0, 1], [2, 0]], ((2, 3),)),
    OpInfo("index_int_adv", lambda m, a: a[0, :, [1, 1]], ((2, 3, 4),)),
    OpInfo("index_adv_split", lambda m, a: a[[0, 1], :, [1, 0]], ((2, 3, 4),)),
]

# Results without gradients (indices, counts): forward only, also on integers
OPS += [
    OpInfo(name, fn, samples, grad=False, int_dtypes=("int64",))
    for name, fn, samples in [
        ("argsort", lambda m, a: m.argsort(a, 0), ((4, 3),)),
        ("nonzero", lambda m, a: m.nonzero(a > 0), ((2, 3), (4,), ())),
        ("argwhere", lambda m, a: m.argwhere(a > 0), ((2, 3),)),
        ("sort_indices", lambda m, a: a.sort(-1)[1], ((2, 5),)),
        ("unique", lambda m, a: m.unique((a * 2).round()), ((4, 3),)),
        ("unique_consecutive", lambda m, a: m.unique_consecutive((a * 2).round()), ((9,),)),
        ("histc", lambda m, a: m.histc(a, 5, -1, 1), ((3, 4),)),
        ("histogram", lambda m, a: m.histogram(a, 5).hist, ((3, 4), (7,))),
        ("histogram_edges", lambda m, a: m.histogram(a, 4, range=(-1.0, 1.0),
                                                     density=True).bin_edges, ((3, 4),)),
        ("bucketize", lambda m, a: m.bucketize(a, m.tensor([-1.0, 0.0, 1.0])), ((3, 4),)),
        ("searchsorted", lambda m, a: m.searchsorted(m.tensor([-1.0, 0.0, 1.0]), a), ((5,),)),
        ("bincount", lambda m, a: m.bincount((a > 0).long() * 3), ((6,),)),
    ]
]
