"""Attention against torch: F.scaled_dot_product_attention (masks, causal, dropout drawn as
torch draws it, scale, grouped-query heads, rows that attend to nothing), second derivatives,
nn.MultiheadAttention (every option, weights copied over), F.multi_head_attention_forward,
and the Transformer modules; bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import leafgrad
import leafgrad.nn.functional as LF

# both libraries warn here, as tested in test_mask_warnings_as_torch
pytestmark = [pytest.mark.filterwarnings("ignore:Support for mismatched"),
              pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")]


def _close(a, b, what="", rtol=1e-9, atol=1e-11):
    a = a.detach().numpy() if isinstance(a, leafgrad.Tensor) else a
    np.testing.assert_allclose(a, b.detach().numpy(), rtol=rtol, atol=atol, err_msg=what)


def _leaves(rng, shapes, dtype=np.float64):
    arrs = [rng.standard_normal(s).astype(dtype) for s in shapes]
    return ([leafgrad.tensor(a, requires_grad=True) for a in arrs],
            [torch.tensor(a, requires_grad=True) for a in arrs])


SDPA = [
    ("plain", [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)], None, {}),
    ("causal", [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8)], None, {"is_causal": True}),
    ("causal_tall", [(1, 2, 5, 4), (1, 2, 3, 4), (1, 2, 3, 4)], None, {"is_causal": True}),
    ("bool_mask", [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)], ("bool", (4, 5)), {}),
    ("float_mask", [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)], ("float", (2, 1, 4, 5)), {}),
    ("bool_mask_and_causal", [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8)], ("bool", (4, 5)),
     {"is_causal": True}),
    ("broadcast_heads", [(2, 3, 4, 8), (2, 1, 5, 8), (2, 1, 5, 6)], None, {}),
    ("gqa", [(2, 4, 4, 8), (2, 2, 5, 8), (2, 2, 5, 6)], None, {"enable_gqa": True}),
    ("2d_scale", [(4, 8), (5, 8), (5, 8)], None, {"scale": 0.3}),
    ("3d", [(3, 4, 8), (3, 5, 8), (3, 5, 8)], ("float", (4, 5)), {}),
    ("dropout", [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)], None, {"dropout_p": 0.3}),
    ("dropout_mask", [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)], ("float", (4, 5)),
     {"dropout_p": 0.5}),
]


@pytest.mark.parametrize("name,shapes,mask,kw", SDPA, ids=[c[0] for c in SDPA])
def test_sdpa_matches_torch(name, shapes, mask, kw):
    rng = np.random.default_rng(0)
    lt, tt = _leaves(rng, shapes)
    lm = tm = None
    if mask is not None:
        kind, shape = mask
        if kind == "bool":
            m = rng.random(shape) > 0.3
            lm, tm = leafgrad.tensor(m), torch.tensor(m)
        else:
            (lm,), (tm,) = _leaves(rng, [shape])
    leafgrad.manual_seed(3)
    torch.manual_seed(3)
    lo = LF.scaled_dot_product_attention(*lt, attn_mask=lm, **kw)
    to = TF.scaled_dot_product_attention(*tt, attn_mask=tm, **kw)
    _close(lo, to, "output")
    assert leafgrad.rand(2).tolist() == pytest.approx(torch.rand(2).tolist())  # same draws used
    g = rng.standard_normal(tuple(to.shape))
    (lo * leafgrad.tensor(g)).sum().backward()
    (to * torch.tensor(g)).sum().backward()
    for k, (a, b) in enumerate(zip(lt, tt)):
        _close(a.grad, b.grad, f"grad {k}")
    if mask is not None and mask[0] == "float":
        _close(lm.grad, tm.grad, "mask grad")
    if len(shapes[0]) == 4 and "dropout_p" not in kw and shapes[0][-1] == shapes[2][-1] \
            and shapes[0][:2] == shapes[1][:2]:
        assert lo.grad_fn.name() == to.grad_fn.name()


def test_sdpa_float32_and_stable_softmax():
    rng = np.random.default_rng(1)
    lt, tt = _leaves(rng, [(2, 2, 6, 4), (2, 2, 6, 4), (2, 2, 6, 4)], np.float32)
    lo = LF.scaled_dot_product_attention(*[t * 100 for t in lt], is_causal=True)
    to = TF.scaled_dot_product_attention(*[t * 100 for t in tt], is_causal=True)
    assert lo.dtype == leafgrad.float32 and np.isfinite(lo.detach().numpy()).all()
    _close(lo, to, "large logits", rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dropout_p", [0.0, 0.5])
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_rows_attending_to_nothing_are_zero(dropout_p, kind):
    """As torch's kernel: a fully masked query row gives zeros and zero gradients, not NaN."""
    rng = np.random.default_rng(2)
    lt, tt = _leaves(rng, [(1, 3, 4), (1, 3, 4), (1, 3, 4)])
    m = np.array([[True, False, True], [False, False, False], [True, True, False]])
    if kind == "float":
        m = np.where(m, 0.0, -np.inf)
    leafgrad.manual_seed(0)
    torch.manual_seed(0)
    lo = LF.scaled_dot_product_attention(*lt, attn_mask=leafgrad.tensor(m), dropout_p=dropout_p)
    to = TF.scaled_dot_product_attention(*tt, attn_mask=torch.tensor(m), dropout_p=dropout_p)
    _close(lo, to, "output")
    assert (lo.detach().numpy()[0, 1] == 0).all()
    lo.sum().backward()
    to.sum().backward()
    for a, b in zip(lt, tt):
        _close(a.grad, b.grad, "grad")


def test_sdpa_dropout_one_is_zeros_and_draws_nothing_as_torch():
    got = {}
    for m in (leafgrad, torch):
        m.manual_seed(0)
        q = m.randn(1, 2, 3, 4, requires_grad=True)
        o = m.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=1.0)
        o.sum().backward()
        got[m] = (o.tolist(), q.grad.tolist(), m.rand(2).tolist())
    assert got[leafgrad] == got[torch]


def test_sdpa_second_derivatives():
    """torch's CPU kernel has no double backward; leafgrad's is checked numerically."""
    from leafgrad.autograd import gradcheck, gradgradcheck

    rng = np.random.default_rng(3)
    (q, k, v, m), _ = _leaves(rng, [(1, 2, 3, 4), (1, 1, 3, 4), (1, 1, 3, 2), (3, 3)])
    bm = leafgrad.tensor(np.array([[True, False, True], [False, False, False],
                                   [True, True, False]]))

    def drop(q, k, v):
        leafgrad.manual_seed(1)
        return LF.scaled_dot_product_attention(q, k, v, dropout_p=0.4, is_causal=True)

    for f, args in ((lambda q, k, v, m: LF.scaled_dot_product_attention(q, k, v, attn_mask=m),
                     [q, k, v, m]),
                    (lambda q, k, v: LF.scaled_dot_product_attention(q, k, v, attn_mask=bm),
                     [q, k, v]),
                    (drop, [q, k, v])):
        assert gradcheck(f, args)
        assert gradgradcheck(f, args)


def _sdpa_bad(lib, case):
    q, k, v = lib.ones(2, 3, 4, 8), lib.ones(2, 3, 5, 8), lib.ones(2, 3, 5, 8)
    F = lib.nn.functional
    if case == "mask shape":
        return F.scaled_dot_product_attention(q, k, v, attn_mask=lib.ones(4, 6, dtype=lib.bool))
    if case == "mask dtype":
        return F.scaled_dot_product_attention(q, k, v, attn_mask=lib.ones(4, 5, dtype=lib.int64))
    if case == "mask float64":
        return F.scaled_dot_product_attention(q, k, v,
                                              attn_mask=lib.zeros(4, 5, dtype=lib.float64))
    if case == "dtypes":
        return F.scaled_dot_product_attention(q.double(), k, v)
    if case == "1-d":
        return F.scaled_dot_product_attention(lib.ones(8), lib.ones(8), lib.ones(8))
    if case == "dropout":
        return F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)
    if case == "batch":
        return F.scaled_dot_product_attention(q, lib.ones(3, 3, 5, 8), lib.ones(3, 3, 5, 8))
    if case == "gqa":
        return F.scaled_dot_product_attention(lib.ones(2, 4, 4, 8), k, v, enable_gqa=True)
    if case == "causal+mask+dropout":
        return F.scaled_dot_product_attention(q, k, v, attn_mask=lib.ones(4, 5, dtype=lib.bool),
                                              is_causal=True, dropout_p=0.1)
    if case == "feature size":
        return F.scaled_dot_product_attention(q, lib.ones(2, 3, 5, 7), v)
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["mask shape", "mask dtype", "mask float64", "dtypes", "1-d",
                                  "dropout", "batch", "gqa", "causal+mask+dropout",
                                  "feature size"])
def test_sdpa_bad_input(case):
    with pytest.raises(Exception) as te:
        _sdpa_bad(torch, case)
    with pytest.raises(type(te.value)) as le:
        _sdpa_bad(leafgrad, case)
    assert "Why:" in str(le.value) or case == "dropout"


# -- MultiheadAttention -------------------------------------------------------------------------
def _mha_pair(seed=0, dtype=torch.float64, **kw):
    torch.manual_seed(seed)
    leafgrad.manual_seed(seed)
    tm = torch.nn.MultiheadAttention(8, 2, **kw).to(dtype)
    lm = leafgrad.nn.MultiheadAttention(8, 2, **kw)
    if dtype == torch.float64:
        lm = lm.double()
    return lm, tm


MHA = [
    ("plain", {}, {}),
    ("batch_first", {"batch_first": True}, {}),
    ("no_weights", {"batch_first": True}, {"need_weights": False}),
    ("per_head_weights", {}, {"average_attn_weights": False}),
    ("kdim_vdim", {"kdim": 5, "vdim": 3}, {}),
    ("kdim_vdim_no_weights", {"kdim": 5, "vdim": 3, "batch_first": True},
     {"need_weights": False}),
    ("bias_kv_zero_attn", {"add_bias_kv": True, "add_zero_attn": True}, {}),
    ("bias_kv_zero_attn_masks", {"add_bias_kv": True, "add_zero_attn": True},
     {"kpm": "bool", "mask": "2d-bool"}),
    ("no_bias", {"bias": False}, {"need_weights": False}),
    ("kpm_bool", {}, {"kpm": "bool"}),
    ("kpm_float", {"batch_first": True}, {"kpm": "float", "need_weights": False}),
    ("mask_2d_bool", {}, {"mask": "2d-bool"}),
    ("mask_2d_float_no_weights", {}, {"mask": "2d-float", "need_weights": False}),
    ("mask_3d", {"batch_first": True}, {"mask": "3d-float"}),
    ("mask_3d_no_weights", {}, {"mask": "3d-bool", "need_weights": False}),
    ("causal", {"batch_first": True}, {"mask": "causal", "is_causal": True,
                                       "need_weights": False}),
    ("causal_with_kpm", {}, {"mask": "causal", "is_causal": True, "kpm": "bool"}),
    ("dropout", {"dropout": 0.3}, {}),
    ("dropout_no_weights", {"dropout": 0.3, "batch_first": True}, {"need_weights": False}),
    ("unbatched", {}, {"unbatched": True, "kpm": "bool", "mask": "3d-bool"}),
]


@pytest.mark.parametrize("name,ctor,call", MHA, ids=[c[0] for c in MHA])
def test_multihead_attention_matches_torch(name, ctor, call):
    lm, tm = _mha_pair(**ctor)
    lp, tp = dict(lm.named_parameters()), dict(tm.named_parameters())
    assert list(lp) == list(tp) and repr(lm) == repr(tm)
    for k in tp:  # same seed, same initial values (xavier / zeros / normal bias_kv)
        np.testing.assert_allclose(lp[k].detach().numpy(), tp[k].detach().numpy(), rtol=1e-6,
                                   atol=1e-7, err_msg=k)
    lm.load_state_dict({k: leafgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(4)
    call = dict(call)
    unbatched = call.pop("unbatched", False)
    N, L, S, H = 2, 3, 4, 2
    bf = ctor.get("batch_first", False)

    def shape(n, e):
        return (n, e) if unbatched else ((N, n, e) if bf else (n, N, e))

    kd, vd = ctor.get("kdim", 8), ctor.get("vdim", 8)
    self_attn = kd == vd == 8 and name not in ("mask_3d",) and "bias_kv" not in name
    if self_attn and name != "kpm_bool":
        (lq,), (tq,) = _leaves(rng, [shape(L, 8)])
        lk = lv = lq
        tk = tv = tq
        S = L
    else:
        (lq, lk, lv), (tq, tk, tv) = _leaves(rng, [shape(L, 8), shape(S, kd), shape(S, vd)])
    kw_l, kw_t = {}, {}
    kpm = call.pop("kpm", None)
    if kpm is not None:
        m = np.zeros((S,) if unbatched else (N, S), bool)
        m[..., -1] = True
        if kpm == "float":
            m = np.where(m, -np.inf, 0.0)
        kw_l["key_padding_mask"], kw_t["key_padding_mask"] = leafgrad.tensor(m), torch.tensor(m)
    mask = call.pop("mask", None)
    if mask is not None:
        if mask == "causal":
            m = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64)
            m = m.numpy()
        else:
            dims = (L, S) if mask.startswith("2d") else (H * (1 if unbatched else N), L, S)
            m = rng.random(dims) > 0.7
            m[..., 0] = False  # every query sees something
            if mask.endswith("float"):
                m = np.where(m, -np.inf, rng.standard_normal(dims))
        kw_l["attn_mask"], kw_t["attn_mask"] = leafgrad.tensor(m), torch.tensor(m)
    kw_l.update(call)
    kw_t.update(call)
    leafgrad.manual_seed(5)
    torch.manual_seed(5)
    lo, lw = lm(lq, lk, lv, **kw_l)
    to, tw = tm(tq, tk, tv, **kw_t)
    _close(lo, to, "output")
    assert (lw is None) == (tw is None)
    if tw is not None:
        _close(lw, tw, "weights")
    g = rng.standard_normal(tuple(to.shape))
    loss_l = (lo * leafgrad.tensor(g)).sum() + (lw.sum() if lw is not None else 0)
    loss_t = (to * torch.tensor(g)).sum() + (tw.sum() if tw is not None else 0)
    loss_l.backward()
    loss_t.backward()
    for a, b in {id(lq): (lq, tq), id(lk): (lk, tk), id(lv): (lv, tv)}.values():
        _close(a.grad, b.grad, "input grad")
    for k, p in tm.named_parameters():
        _close(lp[k].grad, p.grad, f"grad of {k}")


def test_multihead_attention_inference_fast_path_semantics():
    """In eval mode without grad torch takes a fused path where a fully masked query row is
    NaN (its training path gives zeros through scaled_dot_product_attention)."""
    lm, tm = _mha_pair(batch_first=True)
    lm.load_state_dict({k: leafgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    lm.eval()
    tm.eval()
    x = np.random.default_rng(6).standard_normal((1, 3, 8))
    am = np.array([[False, True, True], [True, True, True], [False, False, True]])
    for grad in (False, True):
        lx = leafgrad.tensor(x, requires_grad=grad)
        tx = torch.tensor(x, requires_grad=grad)
        with leafgrad.set_grad_enabled(grad), torch.set_grad_enabled(grad):
            lo, lw = lm(lx, lx, lx, attn_mask=leafgrad.tensor(am), need_weights=False)
            to, tw = tm(tx, tx, tx, attn_mask=torch.tensor(am), need_weights=False)
        a, b = lo.detach().numpy(), to.detach().numpy()
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(np.nan_to_num(a), np.nan_to_num(b), rtol=1e-9, atol=1e-11)
        assert lw is None and tw is None


def test_multihead_attention_bad_input():
    lm, tm = _mha_pair()
    cases = [
        lambda lib: (lib.ones(3, 2, 8, dtype=lib.float64), lib.ones(4, 2, 8, dtype=lib.float64),
                     lib.ones(4, 2, 8, dtype=lib.float64), {
                         "attn_mask": lib.zeros(3, 5, dtype=lib.float64)}),
        lambda lib: (lib.ones(3, 2, 8, dtype=lib.float64), lib.ones(4, 2, 8, dtype=lib.float64),
                     lib.ones(4, 2, 8, dtype=lib.float64), {
                         "key_padding_mask": lib.zeros(2, 5, dtype=lib.bool)}),
        lambda lib: (lib.ones(3, 2, 8, dtype=lib.float64), lib.ones(4, 8, dtype=lib.float64),
                     lib.ones(4, 8, dtype=lib.float64), {}),
        lambda lib: (lib.ones(3, 2, 8, dtype=lib.float64), lib.ones(4, 2, 8, dtype=lib.float64),
                     lib.ones(4, 2, 8, dtype=lib.float64), {
                         "attn_mask": lib.zeros(3, 4, dtype=lib.int64)}),
        lambda lib: (lib.ones(3, 2, 8, dtype=lib.float64), lib.ones(4, 2, 8, dtype=lib.float64),
                     lib.ones(4, 2, 8, dtype=lib.float64), {
                         "attn_mask": lib.zeros(5, 3, 4, dtype=lib.bool)}),
        lambda lib: (lib.ones(3, 2, 6, dtype=lib.float64), lib.ones(4, 2, 6, dtype=lib.float64),
                     lib.ones(4, 2, 6, dtype=lib.float64), {}),
        lambda lib: (lib.ones(3, 2, 8, dtype=lib.float64), lib.ones(4, 2, 8, dtype=lib.float64),
                     lib.ones(4, 2, 8, dtype=lib.float64), {"is_causal": True}),
    ]
    for make in cases:
        q, k, v, kw = make(torch)
        with pytest.raises(Exception) as te:
            tm(q, k, v, **kw)
        q, k, v, kw = make(leafgrad)
        with pytest.raises(type(te.value)):
            lm(q, k, v, **kw)
    with pytest.raises(AssertionError, match="divisible"):
        leafgrad.nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError):
        leafgrad.nn.MultiheadAttention(0, 2)


def test_multi_head_attention_forward_functional():
    rng = np.random.default_rng(7)
    (q, k, v, w, b, ow, ob), (tq, tk, tv, tw, tb, tow, tob) = _leaves(
        rng, [(3, 2, 4), (5, 2, 4), (5, 2, 4), (12, 4), (12,), (4, 4), (4,)])
    lo, lw = LF.multi_head_attention_forward(q, k, v, 4, 2, w, b, None, None, False, 0.0, ow,
                                             ob)
    to, tw_ = TF.multi_head_attention_forward(tq, tk, tv, 4, 2, tw, tb, None, None, False, 0.0,
                                              tow, tob)
    _close(lo, to, "output")
    _close(lw, tw_, "weights")


# -- Transformer ----------------------------------------------------------------------------
def _copy_into(lm, tm):
    res = lm.load_state_dict({k: leafgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    assert repr(res) == "<All keys matched successfully>"


def _tr_pair(ctor, seed=0):
    torch.manual_seed(seed)
    leafgrad.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = ctor(torch.nn).double()
        lm = ctor(leafgrad.nn).double()
    assert repr(lm) == repr(tm)
    _copy_into(lm, tm)
    return lm, tm


TRANSFORMERS = [
    ("encoder_layer", lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.2), "enc"),
    ("encoder_layer_gelu_norm_first",
     lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu",
                                           norm_first=True, batch_first=True), "enc"),
    ("encoder_layer_callable",
     lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0,
                                           activation=nn.functional.silu, bias=False), "enc"),
    ("decoder_layer", lambda nn: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.2), "dec"),
    ("decoder_layer_norm_first",
     lambda nn: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True,
                                           batch_first=True, activation=nn.GELU()), "dec"),
    ("encoder", lambda nn: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True), 2,
        nn.LayerNorm(8)), "enc"),
    ("decoder", lambda nn: nn.TransformerDecoder(
        nn.TransformerDecoderLayer(8, 2, 16, dropout=0.1), 2, nn.LayerNorm(8)), "dec"),
    ("transformer", lambda nn: nn.Transformer(8, 2, 2, 2, 16, dropout=0.1), "full"),
    ("transformer_batch_first", lambda nn: nn.Transformer(8, 2, 1, 1, 16, dropout=0.0,
                                                          batch_first=True, norm_first=True),
     "full"),
]


@pytest.mark.parametrize("masks", [False, True])
@pytest.mark.parametrize("name,ctor,kind", TRANSFORMERS, ids=[c[0] for c in TRANSFORMERS])
def test_transformer_modules_match_torch(name, ctor, kind, masks):
    lm, tm = _tr_pair(ctor)
    bf = "batch_first" in name or name in ("encoder", "encoder_layer_gelu_norm_first",
                                           "decoder_layer_norm_first")
    rng = np.random.default_rng(8)
    N, L, S = 2, 4, 5

    def shape(n):
        return (N, n, 8) if bf else (n, N, 8)

    (lx, lmem), (tx, tmem) = _leaves(rng, [shape(L), shape(S)])
    kw_l, kw_t = {}, {}
    if masks:
        causal_t = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64)
        causal_l = leafgrad.nn.Transformer.generate_square_subsequent_mask(
            L, dtype=leafgrad.float64)
        _close(causal_l, causal_t, "causal mask")
        pad = np.zeros((N, L), bool)
        pad[1, -1] = True
        mpad = np.zeros((N, S), bool)
        mpad[0, -2:] = True
        if kind == "enc":
            names = ("src_mask" if "layer" in name else "mask", "src_key_padding_mask")
            kw_l = {names[0]: causal_l, names[1]: leafgrad.tensor(pad)}
            kw_t = {names[0]: causal_t, names[1]: torch.tensor(pad)}
        else:
            kw_l = {"tgt_mask": causal_l, "tgt_key_padding_mask": leafgrad.tensor(pad),
                    "memory_key_padding_mask": leafgrad.tensor(mpad)}
            kw_t = {"tgt_mask": causal_t, "tgt_key_padding_mask": torch.tensor(pad),
                    "memory_key_padding_mask": torch.tensor(mpad)}
    for mode in ("train", "eval"):
        getattr(lm, mode)()
        getattr(tm, mode)()
        leafgrad.manual_seed(9)
        torch.manual_seed(9)
        if kind == "enc":
            lo, to = lm(lx, **kw_l), tm(tx, **kw_t)
        elif kind == "dec":
            lo, to = lm(lx, lmem, **kw_l), tm(tx, tmem, **kw_t)
        else:
            lo, to = lm(lmem, lx, **kw_l), tm(tmem, tx, **kw_t)
        _close(lo, to, f"{mode} output")
        g = rng.standard_normal(tuple(to.shape))
        (lo * leafgrad.tensor(g)).sum().backward()
        (to * torch.tensor(g)).sum().backward()
        _close(lx.grad, tx.grad, f"{mode} input grad")
        lp = dict(lm.named_parameters())
        for k, p in tm.named_parameters():
            _close(lp[k].grad, p.grad, f"{mode} grad of {k}")
        for t in (lx, lmem, tx, tmem):
            t.grad = None
        lm.zero_grad()
        tm.zero_grad()


def test_transformer_initialisation_matches_torch():
    torch.manual_seed(0)
    leafgrad.manual_seed(0)
    tm = torch.nn.Transformer(8, 2, 1, 1, 16)
    lm = leafgrad.nn.Transformer(8, 2, 1, 1, 16)
    lp = dict(lm.named_parameters())
    for k, p in tm.named_parameters():
        np.testing.assert_allclose(lp[k].detach().numpy(), p.detach().numpy(), rtol=1e-6,
                                   atol=1e-7, err_msg=k)


def test_encoder_nested_tensor_semantics_and_warning():
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but "
                                         "self.use_nested_tensor is False because "
                                         "encoder_layer.self_attn.batch_first was not True"):
        leafgrad.nn.TransformerEncoder(leafgrad.nn.TransformerEncoderLayer(8, 2, 16), 1)
    lm, tm = _tr_pair(lambda nn: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2))
    lm.eval()
    tm.eval()
    x = np.random.default_rng(10).standard_normal((2, 4, 8))
    pad = np.array([[False, False, True, True], [False, False, False, False]])
    with leafgrad.no_grad(), torch.no_grad():
        lo = lm(leafgrad.tensor(x), src_key_padding_mask=leafgrad.tensor(pad))
        to = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(pad))
    _close(lo, to, "nested inference output (zeros at padding)")
    assert (lo.numpy()[0, 2:] == 0).all()


def test_transformer_bad_input():
    lm, tm = _tr_pair(lambda nn: nn.Transformer(8, 2, 1, 1, 16))
    for src, tgt in (((5, 2, 8), (3, 3, 8)), ((5, 2, 6), (3, 2, 6))):
        with pytest.raises(RuntimeError):
            tm(torch.ones(*src, dtype=torch.float64), torch.ones(*tgt, dtype=torch.float64))
        with pytest.raises(RuntimeError, match="Why:"):
            lm(leafgrad.ones(*src, dtype=leafgrad.float64), leafgrad.ones(*tgt,
                                                                         dtype=leafgrad.float64))
    with pytest.raises(RuntimeError, match="relu/gelu"):
        leafgrad.nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_mask_warnings_as_torch():
    """A bool padding mask with a float attention mask: torch's deprecation warning."""
    lm, tm = _mha_pair()
    causal = np.triu(np.full((3, 3), -np.inf), 1)
    pad = np.zeros((2, 3), bool)
    for lib, m in ((torch, tm), (leafgrad, lm)):
        x = lib.ones(3, 2, 8, dtype=lib.float64)
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and "
                                             "attn_mask is deprecated"):
            m(x, x, x, attn_mask=lib.tensor(causal), key_padding_mask=lib.tensor(pad))
