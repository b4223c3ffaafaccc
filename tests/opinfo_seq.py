"""Op-table rows for the sequence ops (leafgrad/ops/rnn.py, rnn_packing.py, attention.py):
the fused recurrent layers and cells against torch's ``_VF`` functions, packing, and
scaled dot-product attention. Integer lengths and masks are built inside the callables."""

from __future__ import annotations

import numpy as np
from opinfo import OpInfo

_CAT = "outputs joined with cat; the fused layer/cell node sits below it"
_SDPA_COMPOSITE = ("torch runs its math composite here (3-D, broadcast heads or head sizes "
                   "that differ); leafgrad its one fused node")


def _flat(m, ts):
    """The outputs of a layer as one tensor (so one row compares them all)."""
    return m.cat([t.reshape(-1) for t in ts])


def _layer(mode: str, bias: bool, packed: bool = False, reverse: bool = False):
    """One layer (one direction when ``reverse``: the reverse half of a bidirectional layer)."""
    def fn(m, x, h, *rest):
        lstm = mode == "LSTM"
        c, ws = (rest[0], rest[1:]) if lstm else (None, rest)
        nd = 2 if reverse else 1
        if m.__name__ == "torch":
            ws = list(ws) * nd  # the forward direction gets the same weights
            hx = (m.stack([h] * nd), m.stack([c] * nd)) if lstm else m.stack([h] * nd)
            fn_ = {"LSTM": m._VF.lstm, "GRU": m._VF.gru, "RNN_TANH": m._VF.rnn_tanh,
                   "RNN_RELU": m._VF.rnn_relu}[mode]
            if packed:
                bs = m.tensor([2, 2, 1])
                res = fn_(x, bs, hx, ws, bias, 1, 0.0, False, reverse)
            else:
                res = fn_(x, hx, ws, bias, 1, 0.0, False, reverse, False)
            out = res[0][..., -h.shape[-1]:] if reverse else res[0]
            states = [s[-1] for s in res[1:]]
            return _flat(m, [out, *states])
        from leafgrad.ops.rnn import rnn_layer

        b = (ws[2], ws[3]) if bias else (None, None)
        res = rnn_layer(mode, x, h, c, ws[0], ws[1], *b,
                        batch_sizes=np.array([2, 2, 1]) if packed else None, reverse=reverse)
        return _flat(m, res)
    return fn


def _cell(kind: str):
    def fn(m, x, h, *rest):
        if kind == "lstm":
            c, wi, wh, bi, bh = rest
            if m.__name__ == "torch":
                return _flat(m, m._VF.lstm_cell(x, (h, c), wi, wh, bi, bh))
            from leafgrad.ops.rnn import lstm_cell

            return _flat(m, lstm_cell(x, h, c, wi, wh, bi, bh))
        wi, wh, bi, bh = rest
        if m.__name__ == "torch":
            return m._VF.gru_cell(x, h, wi, wh, bi, bh) * 1
        from leafgrad.ops.rnn import gru_cell

        return gru_cell(x, h, wi, wh, bi, bh) * 1
    return fn


def _pack(batch_first: bool):
    def fn(m, x):
        rnn = m.nn.utils.rnn
        return rnn.pack_padded_sequence(x, [3, 2, 2], batch_first=batch_first).data
    return fn


def _sdpa(**kw):
    def fn(m, q, k, v, *mask):
        if kw.get("dropout_p"):
            m.manual_seed(0)
        extra = dict(kw)
        if extra.pop("bool_mask", False):
            extra["attn_mask"] = m.tensor([[True, False, True], [False, False, False],
                                           [True, True, True], [False, True, False]])
        if mask:
            extra["attn_mask"] = mask[0]
        return m.nn.functional.scaled_dot_product_attention(q, k, v, **extra)
    return fn


def _mha(need_weights: bool):
    def fn(m, q, k, v, w, b, ow, ob):
        out, weights = m.nn.functional.multi_head_attention_forward(
            q, k, v, 4, 2, w, b, None, None, False, 0.0, ow, ob, need_weights=need_weights)
        return out if weights is None else m.cat([out.reshape(-1), weights.reshape(-1)])
    return fn


def _lstm_shapes(I, H, T, B, G=4, bias=True, packed=False, proj=0):
    x = (5, I) if packed else (T, B, I)  # packed: batch sizes 2, 2, 1
    w = [(G * H, I), (G * H, H)] + ([(G * H,), (G * H,)] if bias else [])
    states = [(B, H), (B, H)] if G == 4 else [(B, H)]
    return (x, *states, *w)


OPS = [
    # -- recurrent layers: one fused node per layer and direction ------------------------------
    OpInfo("rnn_layer_lstm", _layer("LSTM", True), (_lstm_shapes(2, 1, 2, 2),),
           node_differs=_CAT, funcs=("lstm",)),
    OpInfo("rnn_layer_lstm_packed_reverse", _layer("LSTM", True, packed=True, reverse=True),
           (_lstm_shapes(2, 1, 2, 2, packed=True),), node_differs=_CAT),
    OpInfo("rnn_layer_gru", _layer("GRU", True), (_lstm_shapes(2, 1, 2, 2, G=3),),
           node_differs=_CAT, funcs=("gru",)),
    OpInfo("rnn_layer_gru_packed_nobias", _layer("GRU", False, packed=True),
           (_lstm_shapes(2, 1, 2, 2, G=3, bias=False, packed=True),), node_differs=_CAT),
    OpInfo("rnn_layer_tanh_reverse", _layer("RNN_TANH", True, reverse=True),
           (_lstm_shapes(2, 1, 2, 2, G=1),), node_differs=_CAT),
    OpInfo("rnn_layer_relu_packed", _layer("RNN_RELU", True, packed=True),
           (_lstm_shapes(2, 1, 2, 2, G=1, packed=True),), node_differs=_CAT, domain=(0.1, 1.0)),
    OpInfo("lstm_cell", _cell("lstm"), (((1, 2), (1, 1), (1, 1), (4, 2), (4, 1), (4,), (4,)),),
           node_differs=_CAT),
    OpInfo("gru_cell", _cell("gru"), (((2, 2), (2, 1), (3, 2), (3, 1), (3,), (3,)),),
           node_differs="torch's GRU cell on the CPU is a composite; leafgrad's one fused node"),
    # -- packing ----------------------------------------------------------------------------
    OpInfo("pack_padded_sequence", _pack(False), ((3, 3, 2), (3, 3)),
           funcs=("pad_packed_sequence",)),
    OpInfo("pack_padded_sequence_batch_first", _pack(True), ((3, 3, 2),)),
    # -- scaled dot-product attention (torch's CPU kernel has no double backward) -------------
    OpInfo("scaled_dot_product_attention", _sdpa(), (((1, 2, 4, 3), (1, 2, 5, 3),
                                                      (1, 2, 5, 3)),), gradgrad=False),
    OpInfo("scaled_dot_product_attention_causal_bool", _sdpa(is_causal=True, bool_mask=True),
           (((2, 1, 4, 3), (2, 1, 3, 3), (2, 1, 3, 3)),), gradgrad=False),
    OpInfo("scaled_dot_product_attention_float_mask", _sdpa(scale=0.5),
           (((1, 2, 4, 3), (1, 2, 5, 3), (1, 2, 5, 3), (4, 5)),), gradgrad=False,
           node_differs="torch runs its math composite when the mask requires grad"),
    OpInfo("scaled_dot_product_attention_gqa", _sdpa(enable_gqa=True),
           (((1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2)),), gradgrad=False),
    OpInfo("scaled_dot_product_attention_3d_dropout", _sdpa(dropout_p=0.3),
           (((2, 4, 3), (2, 5, 3), (2, 5, 2)),), gradgrad=False, node_differs=_SDPA_COMPOSITE),
    OpInfo("multi_head_attention_forward", _mha(True),
           (((2, 1, 4), (3, 1, 4), (3, 1, 4), (12, 4), (12,), (4, 4), (4,)),),
           node_differs="outputs joined with cat"),
    OpInfo("multi_head_attention_forward_sdpa", _mha(False),
           (((2, 1, 4), (3, 1, 4), (3, 1, 4), (12, 4), (12,), (4, 4), (4,)),), gradgrad=False,
           node_differs="leafgrad's linear is one fused node (torch: a t() node below it)"),
    OpInfo("scaled_dot_product_attention_2d", _sdpa(),
           (((4, 3), (5, 3), (5, 2)),), gradgrad=False, node_differs=_SDPA_COMPOSITE),
]

UNTESTED_NODES = {
    "_Layer": "abstract base of the recurrent layer nodes (LstmLayer, GruLayer, RnnLayer)",
}
