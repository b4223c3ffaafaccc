"""Views are views, in-place changes reach every view, and autograd follows them, as in PyTorch.

The matrix: every view op x in-place op x where it is applied (the base, the view, a sibling
view of the same base), each run in torch and in leafgrad: values of base and view, versions,
grad_fn names, and the gradients of the leaves (or the same exception type). Then memory
sharing against torch over the op table (views share, everything else is fresh memory), the
aliasing checks, saved-tensor checks and second backwards, and 0-d views.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import leafgrad

A = np.array([[0.5, -1.25, 2.0], [1.5, -0.75, 0.25]])
W1 = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])

# name -> view of a (2, 3) base ``b``
VIEWS = {
    "t": lambda b: b.t(),
    "T": lambda b: b.T,
    "mT": lambda b: b.mT,
    "transpose": lambda b: b.transpose(0, 1),
    "swapaxes": lambda b: b.swapaxes(1, 0),
    "permute": lambda b: b.permute(1, 0),
    "movedim": lambda b: b.movedim(0, 1),
    "view": lambda b: b.view(3, 2),
    "view_as": lambda b: b.view_as(b),
    "reshape": lambda b: b.reshape(6),
    "flatten": lambda b: b.flatten(),
    "unflatten": lambda b: b.unflatten(1, (3, 1)),
    "unsqueeze": lambda b: b.unsqueeze(1),
    "squeeze": lambda b: b[:1].squeeze(0),
    "select": lambda b: b.select(1, 2),
    "int_index": lambda b: b[1],
    "int_index_0d": lambda b: b[1, 2],
    "ellipsis_int": lambda b: b[..., 0],
    "slice": lambda b: b[:, 1:],
    "slice_step": lambda b: b[:, ::2],
    "narrow": lambda b: b.narrow(1, 1, 2),
    "diagonal": lambda b: b.diagonal(),
    "diagonal_off": lambda b: b.diagonal(1),
    "as_strided": lambda b: b.as_strided((2, 2), (1, 2), 1),
    "unfold": lambda b: b.unfold(1, 2, 1),
    "expand": lambda b: b[:, :1].expand(2, 3),
    "alias": lambda b: b[...],
    "empty_tuple": lambda b: b[()],
    "none": lambda b: b[None],
    "detach": lambda b: b.detach(),
    "real": lambda b: b.real,
    "split": lambda b: b.split(1)[1],
    "chunk": lambda b: b.chunk(3, 1)[0],
    "unbind": lambda b: b.unbind(1)[2],
    "tensor_split": lambda b: b.tensor_split(2, 1)[1],
}

# name -> in-place op on a tensor t (w: a 0-d leaf that requires grad)
OPS = {
    "mul_": lambda t, w: t.mul_(-2),
    "add_w": lambda t, w: t.add_(w),
    "exp_": lambda t, w: t.exp_(),
    "fill_": lambda t, w: t.fill_(3.0),
    "fill_w": lambda t, w: t.fill_(w),
    "zero_": lambda t, w: t.zero_(),
    "setitem": lambda t, w: t.__setitem__(..., w * 2),
    "clamp_": lambda t, w: t.clamp_(min=0.0),
    "div_w": lambda t, w: t.div_(w),
    "masked_fill_": lambda t, w: t.masked_fill_(t > 0, -1.0),
}

TARGETS = ("base", "view", "sibling")


def _run(lib, view, op, target):
    """Observations of one cell: ("ok", {...}) or ("raise", exception type name)."""
    a = lib.tensor(A.copy(), requires_grad=True)
    w = lib.tensor(0.75, dtype=lib.float64, requires_grad=True)
    b = a * 1
    v = VIEWS[view](b)
    s = b[1:]  # a sibling view
    obs = {}
    try:
        tgt = {"base": b, "view": v, "sibling": s}[target]
        OPS[op](tgt, w)
        obs["b"] = b.detach().numpy().copy()
        obs["v"] = v.detach().numpy().copy()
        obs["versions"] = (b._version, v._version)
        obs["names"] = tuple(None if t.grad_fn is None else type(t.grad_fn).__name__
                             for t in (b, v))
        loss = (b * lib.tensor(W1)).sum() + (v * lib.tensor(
            np.arange(1.0, v.numel() + 1).reshape(tuple(v.shape)))).sum()
        if loss.requires_grad:
            loss.backward()
        obs["grads"] = tuple(None if t.grad is None else t.grad.numpy().copy() for t in (a, w))
    except Exception as e:  # compared by type with torch's
        return "raise", type(e).__name__.lstrip("_")
    return "ok", obs


CASES = [(v, o, t) for v in VIEWS for o in OPS for t in TARGETS]


@pytest.mark.parametrize("view,op,target", CASES, ids=["-".join(c) for c in CASES])
def test_view_inplace_matrix(view, op, target):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kt, ot = _run(torch, view, op, target)
        kl, ol = _run(leafgrad, view, op, target)
    assert kt == kl, (ot, ol)
    if kt == "raise":
        assert ot == ol
        return
    np.testing.assert_array_equal(ol["b"], ot["b"])
    np.testing.assert_array_equal(ol["v"], ot["v"])
    assert ol["versions"] == ot["versions"]
    assert ol["names"] == ot["names"]
    for gl, gt in zip(ol["grads"], ot["grads"]):
        assert (gl is None) == (gt is None), (ol["grads"], ot["grads"])
        if gt is not None:
            np.testing.assert_allclose(gl, gt, rtol=1e-12, atol=1e-12)


# -- the examples of issue 9 -------------------------------------------------------------------
def test_view_of_base_modified_in_place_gets_the_new_history():
    for lib in (torch, leafgrad):
        a = lib.ones(2, 2, requires_grad=True)
        b = a * 1
        v = b.t()
        b.mul_(-1)
        assert type(v.grad_fn).__name__ == "AsStridedBackward0"
        v.sum().backward()
        assert a.grad.tolist() == [[-1.0, -1.0], [-1.0, -1.0]]


def test_integer_indexing_is_a_view():
    x = leafgrad.zeros(3)
    x[1].fill_(5)
    assert x.tolist() == [0.0, 5.0, 0.0]
    v = x[1]
    x.add_(1)
    assert v.item() == 6.0 and v._version == x._version == 2 and v._base is x


@pytest.mark.parametrize("name", ["max", "min", "median", "mode"])
def test_reductions_over_a_dim_of_a_0d_tensor_return_fresh_memory(name):
    x = leafgrad.tensor(3.0)
    v = getattr(x, name)(0)[0]
    v.add_(1)
    assert x.item() == 3.0 and not np.shares_memory(v.numpy(), x.numpy())


def test_view_requires_grad_follows_its_base():
    for lib in (torch, leafgrad):
        x = lib.zeros(3)
        v = x[1:]
        w = lib.ones(3, requires_grad=True)
        x.add_(w)
        assert v.requires_grad and not v.is_leaf
        assert type(v.grad_fn).__name__ == "AsStridedBackward0"


# -- views are views: memory sharing against torch over the op table ------------------------------
def _shares(lib, out, ins) -> bool:
    outs = out if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if not isinstance(o, lib.Tensor) or o.numel() == 0:
            continue
        for i in ins:
            if i.numel() == 0:
                continue
            if lib is torch:
                if o.untyped_storage().data_ptr() == i.untyped_storage().data_ptr():
                    return True
            elif np.shares_memory(o._data, i._data):
                return True
    return False


def _rows():
    import opinfo

    for row in opinfo.OPS:
        yield pytest.param(row, id=row.name)


@pytest.mark.parametrize("row", list(_rows()))
def test_memory_sharing_matches_torch(row):
    """An op shares memory with its input exactly when torch's does (views vs fresh memory)."""
    shapes = next(row.shapes())
    rng = np.random.default_rng(0)
    lo, hi = row.domain
    arrays = [lo + (hi - lo) * (rng.permutation(max(int(np.prod(s)), 1))[:int(np.prod(s))]
                                + 0.5).reshape(s) / max(int(np.prod(s)), 1) for s in shapes]
    got = {}
    for lib in (torch, leafgrad):
        ins = [lib.tensor(a, dtype=lib.float64) for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out = row.fn(lib, *ins)
            except Exception as e:  # noqa: BLE001 - rows that need grad-only inputs etc.
                got[lib.__name__] = type(e).__name__
                continue
        got[lib.__name__] = _shares(lib, out, ins)
    if isinstance(got["torch"], str):
        pytest.skip(f"torch raised {got['torch']}")
    assert got["leafgrad"] == got["torch"], got


@pytest.mark.parametrize("name", ["max", "min", "median", "mode", "sort", "topk", "kthvalue",
                                  "cummax", "msort", "amax", "sum", "clone", "flip", "roll"])
def test_0d_results_share_memory_only_as_torch(name):
    calls = {"topk": lambda x: x.topk(1, 0), "kthvalue": lambda x: x.kthvalue(1, 0),
             "msort": lambda x: x.msort(), "clone": lambda x: x.clone(),
             "flip": lambda x: x.flip(()), "roll": lambda x: x.roll(0), "amax": lambda x: x.amax(0),
             "sum": lambda x: x.sum(())}
    got = {}
    for lib in (torch, leafgrad):
        x = lib.tensor(3.0)
        out = calls[name](x) if name in calls else getattr(x, name)(0)
        got[lib.__name__] = _shares(lib, out, [x])
    assert got["leafgrad"] == got["torch"]


# -- aliasing ------------------------------------------------------------------------------------
ALIASING = {
    "t_mul_self": lambda x: x.t().mul_(x),
    "mul_self": lambda x: x.mul_(x),
    "add_row_of_self": lambda x: x.add_(x[0]),
    "sub_0d_of_self": lambda x: x.sub_(x[1, 1]),
    "copy_row": lambda x: x.copy_(x[0]),
    "copy_self_view": lambda x: x.copy_(x[:]),
    "shifted": lambda x: x.view(6)[1:].add_(x.view(6)[:5]),
    "setitem_shifted": lambda x: x.view(6).__setitem__(slice(1, None), x.view(6)[:5]),
    "setitem_broadcast_row": lambda x: x.__setitem__(slice(None), x[0]),
    "setitem_adv_row": lambda x: x.__setitem__([1], x[0]),
    "setitem_adv_self": lambda x: x.__setitem__(([0, 1],), x),
    "setitem_mask": lambda x: x.__setitem__(x > 2, x[0, :3]),
    "index_add_self": lambda x: x.index_add_(0, _idx(x), x),
    "index_copy_self": lambda x: x.index_copy_(0, _idx(x), x),
    "scatter_self": lambda x: x.scatter_(0, _idx(x, (2, 3)), x),
    "masked_scatter_self": lambda x: x.masked_scatter_(x > 2, x),
    "masked_fill_0d_view": lambda x: x.masked_fill_(x > 2, x[0, 0]),
    "fill_0d_view": lambda x: x.fill_(x[0, 1]),
    "lerp_partial": lambda x: x.lerp_(x[0], 0.5),
    "addcmul_partial": lambda x: x.addcmul_(x[0], x),
    "clamp_min_row": lambda x: x.clamp_(min=x[0]),
    "expand_add": lambda x: x[:, :1].expand(2, 3).add_(1),
    "expand_fill": lambda x: x[:, :1].expand(2, 3).fill_(1),
    "unfold_neg": lambda x: x.view(6).unfold(0, 2, 1).neg_(),
    "unfold_mul": lambda x: x.view(6).unfold(0, 3, 1).mul_(2),
    "unfold_copy": lambda x: x.view(6).unfold(0, 2, 1).copy_(_arange(x, 10).view(5, 2)),
}


def _idx(x, shape=(2,)):
    m = torch if isinstance(x, torch.Tensor) else leafgrad
    return m.zeros(shape, dtype=m.int64) if len(shape) > 1 else m.tensor([1, 0])


def _arange(x, n):
    m = torch if isinstance(x, torch.Tensor) else leafgrad
    return m.arange(float(n), dtype=m.float64)


@pytest.mark.parametrize("name", list(ALIASING))
def test_aliasing_as_torch(name):
    out = {}
    for lib in (torch, leafgrad):
        x = lib.arange(6.0, dtype=lib.float64).reshape(2, 3)
        try:
            ALIASING[name](x)
            out[lib.__name__] = x.tolist()
        except RuntimeError as e:
            out[lib.__name__] = ("RuntimeError", "single memory location" in str(e))
    assert out["leafgrad"] == out["torch"], out


def test_aliasing_refusal_leaves_the_tensor_unchanged():
    x = leafgrad.arange(4.0).reshape(2, 2)
    with pytest.raises(RuntimeError, match="single memory location"):
        x.t().mul_(x)
    assert x.tolist() == [[0.0, 1.0], [2.0, 3.0]] and x._version == 0


def test_unfold_windows_refuse_non_uniform_updates():
    """PyTorch's value would be its kernel's visiting order; leafgrad refuses, saying why."""
    x = leafgrad.arange(5.0)
    with pytest.raises(RuntimeError, match="depend on the order"):
        x.unfold(0, 2, 1).add_(leafgrad.tensor([1.0, 2.0]))


# -- saved tensors and second backwards ----------------------------------------------------------
SAVED = {
    "mul_self": lambda m, b: (b.mul_(b), b.sum()),
    "setitem_mul_self": lambda m, b: (b.__setitem__(slice(None), b[:] * b), b.sum()),
    "view_mul_base": lambda m, b: (b[:].mul_(b), b.sum()),
    "aminmax_out": lambda m, b: (lambda r: (r.max.mul_(2), (r.min + r.max).sum()))(
        m.aminmax(b, dim=0)),
    "std_mean_out": lambda m, b: (lambda r: (r[0].mul_(2), r[0].sum() + r[1].sum()))(
        m.std_mean(b, 0)),
    "gather_index_modified": lambda m, b: (lambda i: (lambda y: (i.fill_(0), y.sum()))(
        b.gather(1, i)))(m.tensor([[0, 2], [1, 0]])),
    "where_condition_modified": lambda m, b: (lambda c: (lambda y: (c.fill_(True), (y * m.tensor(
        W1)).sum()))(m.where(c, b, 0.0)))(b.detach() > 0),
    "tanh_view_then_base": lambda m, b: (lambda v: (v.tanh_(), b.mul_(2), v.sum()))(
        b.reshape(3, 2))[1:],
    "scalar_mul_input_modified": lambda m, b: (lambda y: (b.add_(1), y.sum()))(b * 3),
    "addmm_bias_modified": lambda m, b: (lambda y: (b.add_(1), y.sum()))(
        m.addmm(b, b.detach().t().clone().requires_grad_(), m.ones(3, 3, dtype=b.dtype))),
    "cdist_output_modified": lambda m, b: (lambda y: (y.mul_(2), y.sum()))(
        m.cdist(b, b.detach() + 1)),
}


@pytest.mark.parametrize("name", list(SAVED))
def test_saved_tensor_checks_as_torch(name):
    out = {}
    for lib in (torch, leafgrad):
        a = lib.tensor(A.copy(), requires_grad=True)
        b = a * 1
        try:
            *_, loss = SAVED[name](lib, b)
            loss.backward()
            out[lib.__name__] = np.round(a.grad.numpy(), 12).tolist()
        except RuntimeError as e:
            out[lib.__name__] = ("RuntimeError", "modified by an inplace operation" in str(e))
    assert out["leafgrad"] == out["torch"], out


TWICE = {
    "max_dim": lambda b: b.max(1).values.sum(),
    "sort": lambda b: b.sort(1).values.sum(),
    "topk": lambda b: b.topk(2).values.sum(),
    "gather": lambda b: b.gather(1, (b.detach() > 0).long()).sum(),
    "where": None,  # below: needs the library's where
    "index": lambda b: b[[1, 0]].sum(),
    "svd": None,  # below: needs the library's linalg
    "setitem_copyslices": lambda b: (b.__setitem__((0, 0), 5.0), b.sum())[1],
    "scalar_mul": lambda b: (b * 3).sum(),
    "floor": lambda b: b.floor().sum(),
    "view_inplace": lambda b: (b[0].mul_(2), b.sum())[1],
    "exp": lambda b: b.exp().sum(),
}


@pytest.mark.parametrize("name", list(TWICE))
def test_second_backward_as_torch(name):
    out = {}
    for lib in (torch, leafgrad):
        a = lib.tensor(A.copy(), requires_grad=True)
        b = a * 1
        fn = TWICE[name]
        if name == "svd":
            loss = sum(t.sum() for t in lib.linalg.svd(b, full_matrices=False))
        elif name == "where":
            loss = lib.where(b.detach() > 0, b, 0.0).sum()
        else:
            loss = fn(b)
        loss.backward()
        try:
            loss.backward()
            out[lib.__name__] = np.round(a.grad.numpy(), 10).tolist()
        except RuntimeError as e:
            out[lib.__name__] = ("RuntimeError", "second time" in str(e))
    assert out["leafgrad"] == out["torch"], out


# -- creation meta: views PyTorch does not let change in place ---------------------------------
CREATION = {
    "split_direct": lambda m, b: b.split(1)[0].mul_(2),
    "split_base_then_use": lambda m, b: (b.mul_(2), b.split(1))[1][0] * 1,
    "split_sibling": lambda m, b: (lambda p: (p[1].mul_(2), p[0] * 1))(b.split(1)),
    "unbind_direct": lambda m, b: b.unbind(0)[1].add_(1),
    "chunk_view_of_piece": lambda m, b: b.chunk(2)[0][0:1].mul_(2),
    "nograd_view_direct": lambda m, b: _nograd(m, lambda: b[1:])[0].mul_(2),
    "nograd_view_base_modified": lambda m, b: (lambda v: (b.mul_(2), v * 1))(
        _nograd(m, lambda: b[1:])[0]),
    "nograd_view_requires_grad": lambda m, b: _nograd(m, lambda: b[1:])[0].requires_grad,
    "view_of_leaf": lambda m, b: b.detach().requires_grad_()[0].mul_(2),
}


def _nograd(m, f):
    with m.no_grad():
        return (f(),)


@pytest.mark.parametrize("name", list(CREATION))
def test_view_creation_rules_as_torch(name):
    out = {}
    for lib in (torch, leafgrad):
        a = lib.tensor(A.copy(), requires_grad=True)
        b = a * 1
        try:
            r = CREATION[name](lib, b)
            out[lib.__name__] = r if isinstance(r, bool) else ("ok", type(r.grad_fn).__name__
                                                               if r.grad_fn else None)
        except RuntimeError as e:
            msg = str(e).split("\nWhy")[0]
            out[lib.__name__] = ("RuntimeError", msg)
    assert out["leafgrad"] == out["torch"], out


# -- 0-d views and in-place shape methods ---------------------------------------------------------
ZERO_D = {
    "empty_tuple": lambda x: x[()],
    "t": lambda x: x.t(),
    "T": lambda x: x.T,
    "movedim": lambda x: x.movedim(0, 0),
    "transpose": lambda x: x.transpose(0, -1),
    "unsqueeze": lambda x: x.unsqueeze(0),
    "unfold": lambda x: x.unfold(0, 1, 1),
    "as_strided": lambda x: x.as_strided((), ()),
    "masked_fill_": lambda x: x.masked_fill_(x > 0, 5.0),
    "t_": lambda x: x.t_(),
    "unsqueeze_": lambda x: x.unsqueeze_(0),
}


@pytest.mark.parametrize("name", list(ZERO_D))
def test_0d_views_as_torch(name):
    out = {}
    for lib in (torch, leafgrad):
        a = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
        b = a * 3
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = ZERO_D[name](b)
        (y * 2).sum().backward()
        out[lib.__name__] = (tuple(y.shape), type(y.grad_fn).__name__, y._is_view(),
                             tuple(a.grad.shape), a.grad.item())
    assert out["leafgrad"] == out["torch"]


INPLACE_SHAPE = {
    "t_": lambda b: b.t_(),
    "transpose_": lambda b: b.transpose_(0, 1),
    "swapdims_": lambda b: b.swapdims_(0, 1),
    "unsqueeze_": lambda b: b.unsqueeze_(1),
    "squeeze_dim": lambda b: b.unsqueeze(0).squeeze_(0),
    "squeeze_all": lambda b: b[None].squeeze_(),
}


@pytest.mark.parametrize("name", list(INPLACE_SHAPE))
def test_inplace_shape_methods_on_graph_tensors(name):
    out = {}
    for lib in (torch, leafgrad):
        a = lib.tensor(A.copy(), requires_grad=True)
        b = a * 1
        v = b[0]
        y = INPLACE_SHAPE[name](b)
        (y * lib.arange(1.0, 7.0, dtype=lib.float64).reshape(tuple(y.shape))).sum().backward()
        out[lib.__name__] = (tuple(y.shape), type(y.grad_fn).__name__, y._version,
                             type(v.grad_fn).__name__, a.grad.tolist())
    assert out["leafgrad"] == out["torch"]


def test_setitem_on_a_size1_slice_records_copyslices():
    """x[[0], :, -1:] = v: the slice -1: is taken (PyTorch skips only 0: slices), so the write
    goes through a view (CopySlices), not index_put_ on x (IndexPutBackward0)."""
    for lib in (torch, leafgrad):
        x = lib.ones(1, 1, 1, requires_grad=True)
        y = x * 2
        y[[0], :, -1:] = lib.tensor(3.0)
        assert type(y.grad_fn).__name__ == "CopySlices"
