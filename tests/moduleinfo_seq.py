"""Module-table rows for the sequence layers: RNN / LSTM / GRU and their cells,
MultiheadAttention and the Transformer modules (built from the same seed in both libraries).

These layers return tuples; each row wraps its layer in a module that joins every returned
tensor into one (``SeqOut``), so the table compares outputs, final states and attention weights
together, and every parameter's gradient.
"""

from __future__ import annotations

from moduleinfo import ModuleInfo


def _lib(nn):
    import importlib

    return importlib.import_module(nn.__name__.rsplit(".", 1)[0])


def _flat_all(lib, res) -> list:
    if isinstance(res, (tuple, list)):
        return [t for r in res for t in _flat_all(lib, r)]
    return [] if res is None else [res.reshape(-1)]


def seq_out(make, call=None):
    """A ctor for the table: ``make(nn)`` wrapped so that forward returns one tensor."""
    def ctor(nn):
        lib = _lib(nn)

        class SeqOut(nn.Module):
            def __init__(self):
                super().__init__()
                self.m = make(nn)

            def forward(self, *xs):
                res = call(self.m, *xs) if call is not None else self.m(*xs)
                return lib.cat(_flat_all(lib, res))

        return SeqOut()
    return ctor


def _self_attn(m, x):
    return m(x, x, x)


def _cross_attn(m, q, kv):
    return m(q, kv, kv, need_weights=True, average_attn_weights=False)


# the names tests/test_nn_surface.py checks exist and have rows (beyond its nn lists)
SURFACE_MODULES = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "RNNBase",
                   "RNNCellBase", "MultiheadAttention", "Transformer", "TransformerEncoder",
                   "TransformerDecoder", "TransformerEncoderLayer", "TransformerDecoderLayer"]
SURFACE_FUNCTIONAL = ["scaled_dot_product_attention", "multi_head_attention_forward"]

MODULES: list[ModuleInfo] = [
    # -- recurrent layers ---------------------------------------------------------------------
    ModuleInfo("RNN", seq_out(lambda nn: nn.RNN(3, 4, num_layers=2)), ((5, 2, 3),),
               covers=("RNNBase",)),
    ModuleInfo("RNN_relu_bidirectional", seq_out(
        lambda nn: nn.RNN(3, 4, nonlinearity="relu", bidirectional=True, batch_first=True)),
        ((2, 5, 3),)),
    ModuleInfo("LSTM", seq_out(lambda nn: nn.LSTM(3, 4)), ((5, 2, 3),)),
    ModuleInfo("LSTM_proj_bidirectional", seq_out(
        lambda nn: nn.LSTM(3, 4, num_layers=2, proj_size=2, bidirectional=True)), ((4, 2, 3),)),
    ModuleInfo("LSTM_dropout", seq_out(lambda nn: nn.LSTM(3, 4, num_layers=2, dropout=0.5)),
               ((4, 2, 3),), train_differs=True, random=True),
    ModuleInfo("LSTM_unbatched_nobias", seq_out(lambda nn: nn.LSTM(3, 4, bias=False)),
               ((5, 3),)),
    ModuleInfo("GRU", seq_out(lambda nn: nn.GRU(3, 4, num_layers=2, bidirectional=True,
                                                batch_first=True)), ((2, 4, 3),)),
    ModuleInfo("RNNCell", seq_out(lambda nn: nn.RNNCell(3, 4)), ((2, 3), (2, 4)),
               covers=("RNNCellBase",)),
    ModuleInfo("LSTMCell", seq_out(lambda nn: nn.LSTMCell(3, 4)), ((2, 3),)),
    ModuleInfo("GRUCell", seq_out(lambda nn: nn.GRUCell(3, 4)), ((2, 3), (2, 4))),
    # -- attention ----------------------------------------------------------------------------
    ModuleInfo("MultiheadAttention", seq_out(lambda nn: nn.MultiheadAttention(8, 2), _self_attn),
               ((4, 2, 8),)),
    ModuleInfo("MultiheadAttention_kdim_bias_kv", seq_out(
        lambda nn: nn.MultiheadAttention(8, 2, kdim=5, vdim=5, add_bias_kv=True,
                                         add_zero_attn=True, batch_first=True), _cross_attn),
        ((2, 3, 8), (2, 4, 5))),
    ModuleInfo("MultiheadAttention_dropout", seq_out(
        lambda nn: nn.MultiheadAttention(8, 2, dropout=0.3), _self_attn), ((4, 2, 8),),
        train_differs=True, random=True),
    # -- transformers ---------------------------------------------------------------------------
    ModuleInfo("TransformerEncoderLayer", seq_out(
        lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.2)), ((4, 2, 8),),
        train_differs=True, random=True),
    ModuleInfo("TransformerDecoderLayer", seq_out(
        lambda nn: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True,
                                              batch_first=True, activation="gelu")),
        ((2, 3, 8), (2, 4, 8))),
    ModuleInfo("TransformerEncoder", seq_out(
        lambda nn: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0,
                                                                    batch_first=True), 2,
                                         nn.LayerNorm(8))), ((2, 4, 8),)),
    ModuleInfo("TransformerDecoder", seq_out(
        lambda nn: nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2)),
        ((3, 2, 8), (4, 2, 8))),
    ModuleInfo("Transformer", seq_out(lambda nn: nn.Transformer(8, 2, 1, 1, 16, dropout=0.1,
                                                                batch_first=True)),
               ((2, 4, 8), (2, 3, 8)), train_differs=True, random=True),
]
