"""Recurrent layers against torch: RNN / LSTM / GRU and the cells with weights copied over
(torch's state_dict loads into leafgrad's module key for key, and back), across layers ×
directions × batch_first × padded / packed (sorted or not) × projections × biases: outputs,
final states and the gradient of every input and parameter; dropout masks, unbatched input,
double backward, long sequences, the packing utilities and bad input."""

from __future__ import annotations

import copy
import pickle
import tracemalloc

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as TR

import leafgrad
import leafgrad.nn.utils.rnn as LR

MODES = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {}),
         ("LSTM", {"proj_size": 2})]
I, H, T, B = 3, 4, 5, 3
LENS = [5, 3, 3]  # sorted; the unsorted case permutes them


def _pair(name: str, kw: dict, dtype=torch.float64, seed: int = 0):
    """(leafgrad module, torch module) with torch's weights loaded into leafgrad's."""
    torch.manual_seed(seed)
    tm = getattr(torch.nn, name)(I, H, **kw).to(dtype)
    lm = getattr(leafgrad.nn, name)(I, H, **kw)
    if dtype == torch.float64:
        lm = lm.double()
    res = lm.load_state_dict({k: leafgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    assert repr(res) == "<All keys matched successfully>"
    return lm, tm


def _close(a, b, what, dtype="float64"):
    a = a.detach().numpy() if isinstance(a, leafgrad.Tensor) else a
    tol = dict(rtol=1e-9, atol=1e-11) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(a, b.detach().numpy(), err_msg=what, **tol)


def _states(h, lstm):
    return list(h) if lstm else [h]


def _run_both(lm, tm, x, hx, packing, batch_first, lstm):
    """Forward both modules on the same data; returns (l_out, t_out, l_states, t_states,
    l_leaves, t_leaves)."""
    lx = leafgrad.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    lhx = thx = None
    l_leaves, t_leaves = [lx], [tx]
    if hx is not None:
        lhx = tuple(leafgrad.tensor(h, requires_grad=True) for h in hx)
        thx = tuple(torch.tensor(h, requires_grad=True) for h in hx)
        l_leaves += list(lhx)
        t_leaves += list(thx)
        if not lstm:
            lhx, thx = lhx[0], thx[0]
    if packing is None:
        lin, tin = lx, tx
    else:
        lens = LENS if packing == "sorted" else [3, 5, 3]
        lin = LR.pack_padded_sequence(lx, lens, batch_first=batch_first,
                                      enforce_sorted=packing == "sorted")
        tin = TR.pack_padded_sequence(tx, lens, batch_first=batch_first,
                                      enforce_sorted=packing == "sorted")
    lo, lh = lm(lin, lhx)
    to, th = tm(tin, thx)
    if packing is not None:
        lo, _ = LR.pad_packed_sequence(lo, batch_first=batch_first)
        to, _ = TR.pad_packed_sequence(to, batch_first=batch_first)
    return lo, to, _states(lh, lstm), _states(th, lstm), l_leaves, t_leaves


CASES = [pytest.param(name, kw, layers, bidir, bf, packing, with_hx,
                      id=f"{name}{''.join(f'-{k}={v}' for k, v in kw.items())}-L{layers}"
                         f"{'-bi' if bidir else ''}{'-bf' if bf else ''}-{packing}"
                         f"{'-hx' if with_hx else ''}")
         for name, kw in MODES for layers in (1, 2) for bidir in (False, True)
         for bf in (False, True) for packing in (None, "sorted", "unsorted")
         for with_hx in ((False, True) if packing != "sorted" else (True,))]


@pytest.mark.parametrize("name,kw,layers,bidir,bf,packing,with_hx", CASES)
def test_matches_torch(name, kw, layers, bidir, bf, packing, with_hx):
    kw = dict(kw, num_layers=layers, bidirectional=bidir, batch_first=bf)
    lstm = name == "LSTM"
    lm, tm = _pair(name, kw)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, T, I) if bf else (T, B, I))
    nd = 2 if bidir else 1
    hx = None
    if with_hx:
        P = kw.get("proj_size", 0) or H
        hx = [rng.standard_normal((layers * nd, B, P))]
        if lstm:
            hx.append(rng.standard_normal((layers * nd, B, H)))
    lo, to, ls, ts, ll, tl = _run_both(lm, tm, x, hx, packing, bf, lstm)
    assert tuple(lo.shape) == tuple(to.shape)
    _close(lo, to, "output")
    for a, b in zip(ls, ts):
        assert tuple(a.shape) == tuple(b.shape)
        _close(a, b, "final state")
    outs_l, outs_t = [lo, *ls], [to, *ts]
    gs = [rng.standard_normal(tuple(o.shape)) for o in outs_t]
    sum((o * leafgrad.tensor(g)).sum() for o, g in zip(outs_l, gs)).backward()
    sum((o * torch.tensor(g)).sum() for o, g in zip(outs_t, gs)).backward()
    for k, (a, b) in enumerate(zip(ll, tl)):
        _close(a.grad, b.grad, f"grad of leaf {k}")
    lp = dict(lm.named_parameters())
    for k, p in tm.named_parameters():
        _close(lp[k].grad, p.grad, f"grad of {k}")


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_float32_and_node_names(name):
    """float32 against torch's float32 (its LSTM runs on oneDNN), and the node names a user
    prints: the fused layer (PyTorch's CPU LSTM node), a Stack for h_n, a Cat for two
    directions."""
    lm, tm = _pair(name, {"num_layers": 2}, dtype=torch.float32)
    x = np.random.default_rng(2).standard_normal((T, B, I)).astype(np.float32)
    lo, to, ls, ts, _, _ = _run_both(lm, tm, x, None, None, False, name == "LSTM")
    _close(lo, to, "output", "float32")
    for a, b in zip(ls, ts):
        _close(a, b, "state", "float32")
        assert a.grad_fn.name() == b.grad_fn.name() == "StackBackward0"
    assert lo.grad_fn.name() == "MkldnnRnnLayerBackward0"
    if name == "LSTM":
        assert to.grad_fn.name() == "MkldnnRnnLayerBackward0"
    lm2, tm2 = _pair(name, {"bidirectional": True}, dtype=torch.float32)
    lo, to, *_ = _run_both(lm2, tm2, x, None, None, False, name == "LSTM")
    assert lo.grad_fn.name() == to.grad_fn.name() == "CatBackward0"


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers_draws_as_torch(name):
    """Same seed, same dropout masks between layers (train mode), none in eval mode."""
    lm, tm = _pair(name, {"num_layers": 3, "dropout": 0.4, "bidirectional": True})
    x = np.random.default_rng(3).standard_normal((T, B, I))
    for mode in ("train", "eval"):
        getattr(lm, mode)()
        getattr(tm, mode)()
        leafgrad.manual_seed(11)
        torch.manual_seed(11)
        lo, to, ls, ts, _, _ = _run_both(lm, tm, x, None, None, False, name == "LSTM")
        _close(lo, to, f"{mode} output")
        for a, b in zip(ls, ts):
            _close(a, b, f"{mode} state")
    leafgrad.manual_seed(11)
    torch.manual_seed(11)
    lo, to, *_ = _run_both(lm.train(), tm.train(), x, None, "unsorted", False,
                           name == "LSTM")
    _close(lo, to, "packed train output")
    assert leafgrad.rand(3).tolist() == pytest.approx(torch.rand(3).tolist())


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("with_hx", [False, True])
def test_unbatched_input(name, with_hx):
    lstm = name == "LSTM"
    lm, tm = _pair(name, {"num_layers": 2, "bidirectional": True})
    rng = np.random.default_rng(4)
    x = rng.standard_normal((T, I))
    hx = [rng.standard_normal((4, H))] + ([rng.standard_normal((4, H))] if lstm else []) \
        if with_hx else None
    lo, to, ls, ts, ll, tl = _run_both(lm, tm, x, hx, None, False, lstm)
    assert tuple(lo.shape) == tuple(to.shape) == (T, 2 * H)
    _close(lo, to, "output")
    for a, b in zip(ls, ts):
        assert tuple(a.shape) == tuple(b.shape) == (4, H)
        _close(a, b, "state")
    (lo.sum() + sum(s.sum() for s in ls)).backward()
    (to.sum() + sum(s.sum() for s in ts)).backward()
    for a, b in zip(ll, tl):
        _close(a.grad, b.grad, "grad")


CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
         ("GRUCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {"bias": False})]


@pytest.mark.parametrize("name,kw", CELLS, ids=[f"{n}{kw}" for n, kw in CELLS])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [False, True])
def test_cells_match_torch(name, kw, batched, with_hx):
    torch.manual_seed(0)
    leafgrad.manual_seed(0)
    tm = getattr(torch.nn, name)(I, H, **kw).double()
    lm = getattr(leafgrad.nn, name)(I, H, **kw).double()
    assert repr(lm) == repr(tm)
    for (k, a), (_, b) in zip(lm.named_parameters(), tm.named_parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=k)
    rng = np.random.default_rng(5)
    shape = (B, I) if batched else (I,)
    hshape = (B, H) if batched else (H,)
    x = rng.standard_normal(shape)
    lx, tx = leafgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    largs, targs = [lx], [tx]
    lleaves, tleaves = [lx], [tx]
    if with_hx:
        hs = [rng.standard_normal(hshape) for _ in range(2 if name == "LSTMCell" else 1)]
        lh = [leafgrad.tensor(h, requires_grad=True) for h in hs]
        th = [torch.tensor(h, requires_grad=True) for h in hs]
        lleaves += lh
        tleaves += th
        largs.append(tuple(lh) if name == "LSTMCell" else lh[0])
        targs.append(tuple(th) if name == "LSTMCell" else th[0])
    lo, to = lm(*largs), tm(*targs)
    lo = list(lo) if name == "LSTMCell" else [lo]
    to = list(to) if name == "LSTMCell" else [to]
    gs = [rng.standard_normal(tuple(o.shape)) for o in to]
    for a, b in zip(lo, to):
        assert tuple(a.shape) == tuple(b.shape)
        _close(a, b, "output")
    sum((o * leafgrad.tensor(g)).sum() for o, g in zip(lo, gs)).backward()
    sum((o * torch.tensor(g)).sum() for o, g in zip(to, gs)).backward()
    for a, b in zip(lleaves, tleaves):
        _close(a.grad, b.grad, "input grad")
    for (k, a), (_, b) in zip(lm.named_parameters(), tm.named_parameters()):
        _close(a.grad, b.grad, k)


@pytest.mark.parametrize("name,kw", [("LSTM", {"proj_size": 2}), ("GRU", {}),
                                     ("RNN", {"nonlinearity": "relu"})])
def test_second_derivatives_match_torch(name, kw):
    """create_graph through the fused layers (recomputed from core ops) equals torch's
    double backward (its float64 CPU layers are composites), and gradgradcheck passes."""
    kw = dict(kw, num_layers=2, bidirectional=True)
    lm, tm = _pair(name, kw)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 2, I))
    lx, tx = leafgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo, to = lm(lx)[0], tm(tx)[0]
    (lg,) = leafgrad.autograd.grad(lo.pow(2).sum(), lx, create_graph=True)
    (tg,) = torch.autograd.grad(to.pow(2).sum(), tx, create_graph=True)
    _close(lg, tg, "first derivative")
    v = rng.standard_normal(x.shape)
    lp = dict(lm.named_parameters())
    names = [k for k, _ in tm.named_parameters()]
    l2 = leafgrad.autograd.grad((lg * leafgrad.tensor(v)).sum(), [lx] + [lp[k] for k in names])
    t2 = torch.autograd.grad((tg * torch.tensor(v)).sum(),
                             [tx] + [dict(tm.named_parameters())[k] for k in names])
    for k, a, b in zip(["input"] + names, l2, t2):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-8, atol=1e-10, err_msg=k)


@pytest.mark.parametrize("mode,gates,packed", [("LSTM", 4, True), ("GRU", 3, False),
                                               ("RNN_TANH", 1, True)])
def test_gradgradcheck_layers(mode, gates, packed):
    """Numerical first and second derivatives of one fused layer (reverse direction)."""
    from leafgrad.autograd import gradcheck, gradgradcheck
    from leafgrad.ops.rnn import rnn_layer

    rng = np.random.default_rng(7)

    def t(*shape, grad=True):
        return leafgrad.tensor(rng.standard_normal(shape), requires_grad=grad)

    sizes = np.array([2, 1]) if packed else None
    x = t(3, 2) if packed else t(2, 1, 2)
    bsz = 2 if packed else 1
    h, c = t(bsz, 2), t(bsz, 2)
    wi, wh, b = t(gates * 2, 2, grad=False), t(gates * 2, 2), t(gates * 2, grad=False)

    def f(x, h, c, wh):
        return tuple(rnn_layer(mode, x, h, c if mode == "LSTM" else None, wi, wh, b, b,
                               batch_sizes=sizes, reverse=True))

    assert gradcheck(f, [x, h, c, wh])
    assert gradgradcheck(f, [x, h, c, wh])


def test_long_sequence_backpropagates():
    """1,000 steps: no recursion limit, gradients as torch's; the saved state grows linearly."""
    lm, tm = _pair("LSTM", {"num_layers": 2})
    x = np.random.default_rng(8).standard_normal((1000, 1, I)) * 0.5
    lx, tx = leafgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lm(lx)[0].sum().backward()
    tm(tx)[0].sum().backward()
    _close(lx.grad, tx.grad, "input grad over 1000 steps")

    from leafgrad.ops import _workspace

    def peak(steps):
        xs = leafgrad.ones(steps, 4, I, dtype=leafgrad.float64)
        _workspace.clear()  # count every buffer, none recycled from an earlier call
        tracemalloc.start()
        out = lm(xs)[0]
        _, p = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del out
        return p

    a, b = peak(200), peak(400)
    assert 1.6 < b / a < 2.4, (a, b)


def test_module_attributes_as_torch():
    lm, tm = _pair("LSTM", {"num_layers": 2, "proj_size": 2, "bidirectional": True})
    assert lm._flat_weights_names == tm._flat_weights_names
    assert [[p.shape for p in ws] for ws in lm.all_weights] == \
        [[tuple(p.shape) for p in ws] for ws in tm.all_weights]
    assert all(a is getattr(lm, n) for a, n in zip(lm._flat_weights, lm._flat_weights_names))
    assert lm.flatten_parameters() is None
    # replacing a weight updates _flat_weights, as in torch
    new = leafgrad.nn.Parameter(leafgrad.zeros(16, 2, dtype=leafgrad.float64))
    lm.weight_hh_l0 = new
    assert lm._flat_weights[lm._flat_weights_names.index("weight_hh_l0")] is new
    clone = copy.deepcopy(lm)
    assert all(a is getattr(clone, n) for a, n in
               zip(clone._flat_weights, clone._flat_weights_names))
    back = pickle.loads(pickle.dumps(lm))
    x = leafgrad.ones(2, 1, I, dtype=leafgrad.float64)
    np.testing.assert_array_equal(back(x)[0].detach().numpy(), lm(x)[0].detach().numpy())
    # leafgrad's state dict loads into torch's module, key for key
    res = tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lm.state_dict().items()})
    assert repr(res) == "<All keys matched successfully>"
    assert lm.float()._flat_weights[0].dtype == leafgrad.float32


def _err(fn_l, fn_t):
    """Both raise the same exception type; leafgrad's message says why."""
    with pytest.raises(Exception) as te:
        fn_t()
    with pytest.raises(type(te.value)) as le:
        fn_l()
    return str(le.value)


BAD = [
    ("input size", "LSTM", lambda m, lib: m(lib.ones(5, 2, 4, dtype=lib.float64))),
    ("input rank", "GRU", lambda m, lib: m(lib.ones(5, 2, 3, 1, dtype=lib.float64))),
    ("input dtype", "RNN", lambda m, lib: m(lib.ones(5, 2, 3))),
    ("hidden shape", "GRU", lambda m, lib: m(lib.ones(5, 2, 3, dtype=lib.float64),
                                             lib.zeros(1, 3, 4, dtype=lib.float64))),
    ("cell shape", "LSTM", lambda m, lib: m(lib.ones(5, 2, 3, dtype=lib.float64),
                                            (lib.zeros(1, 2, 4, dtype=lib.float64),
                                             lib.zeros(1, 2, 5, dtype=lib.float64)))),
    ("hidden rank", "LSTM", lambda m, lib: m(lib.ones(5, 2, 3, dtype=lib.float64),
                                             (lib.zeros(2, 4, dtype=lib.float64),
                                              lib.zeros(1, 2, 4, dtype=lib.float64)))),
    ("unbatched hidden rank", "RNN", lambda m, lib: m(lib.ones(5, 3, dtype=lib.float64),
                                                      lib.zeros(1, 1, 4, dtype=lib.float64))),
    ("empty sequence", "LSTM", lambda m, lib: m(lib.ones(0, 2, 3, dtype=lib.float64))),
]


@pytest.mark.parametrize("what,name,call", BAD, ids=[b[0] for b in BAD])
def test_bad_input_errors(what, name, call):
    lm, tm = _pair(name, {})
    before = {k: v.clone() for k, v in lm.state_dict().items()}
    msg = _err(lambda: call(lm, leafgrad), lambda: call(tm, torch))
    assert "Why:" in msg or "Convert input" in msg
    for k, v in lm.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k].numpy())


BAD_CELLS = [
    ("input size", "LSTMCell", lambda m, lib: m(lib.ones(2, 5))),
    ("batch mismatch", "LSTMCell", lambda m, lib: m(lib.ones(2, 3), (lib.zeros(3, 4),
                                                                      lib.zeros(3, 4)))),
    ("hidden size", "GRUCell", lambda m, lib: m(lib.ones(2, 3), lib.zeros(2, 5))),
    ("input rank", "RNNCell", lambda m, lib: m(lib.ones(2, 3, 1))),
    ("hidden rank", "GRUCell", lambda m, lib: m(lib.ones(2, 3), lib.zeros(2, 3, 4))),
    ("dtype", "GRUCell", lambda m, lib: m(lib.ones(2, 3, dtype=lib.float64))),
]


@pytest.mark.parametrize("what,name,call", BAD_CELLS, ids=[b[0] for b in BAD_CELLS])
def test_bad_cell_input_errors(what, name, call):
    msg = _err(lambda: call(getattr(leafgrad.nn, name)(3, 4), leafgrad),
               lambda: call(getattr(torch.nn, name)(3, 4), torch))
    assert "Why:" in msg


def test_constructor_errors_and_warning():
    for kw in ({"proj_size": 4}, {"dropout": 1.5}, {"num_layers": 0}):
        _err(lambda kw=kw: leafgrad.nn.LSTM(3, 4, **kw), lambda kw=kw: torch.nn.LSTM(3, 4, **kw))
    _err(lambda: leafgrad.nn.GRU(3, 4, proj_size=2), lambda: torch.nn.GRU(3, 4, proj_size=2))
    _err(lambda: leafgrad.nn.RNN(3, 4, nonlinearity="sigmoid"),
         lambda: torch.nn.RNN(3, 4, nonlinearity="sigmoid"))
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        leafgrad.nn.LSTM(3, 4, dropout=0.5)


# -- packing utilities ------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lens,sort", [([5, 3, 3, 1], True), ([3, 5, 1, 3], False)])
def test_pack_and_pad_match_torch(batch_first, lens, sort):
    x = np.random.default_rng(9).standard_normal((4, 5, 2) if batch_first else (5, 4, 2))
    lx, tx = leafgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lp = LR.pack_padded_sequence(lx, lens, batch_first=batch_first, enforce_sorted=sort)
    tp = TR.pack_padded_sequence(tx, lens, batch_first=batch_first, enforce_sorted=sort)
    _close(lp.data, tp.data, "packed data")
    assert lp.data.grad_fn.name() == tp.data.grad_fn.name() == "PackPaddedSequenceBackward0"
    assert lp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    for a, b in ((lp.sorted_indices, tp.sorted_indices),
                 (lp.unsorted_indices, tp.unsorted_indices)):
        assert (a is None and b is None) or a.tolist() == b.tolist()
    for total in (None, 7):
        lo, ll = LR.pad_packed_sequence(lp, batch_first, -1.0, total)
        to, tl = TR.pad_packed_sequence(tp, batch_first, -1.0, total)
        _close(lo, to, "padded")
        assert ll.tolist() == tl.tolist() and str(ll.dtype) == str(tl.dtype)
    g = np.random.default_rng(10).standard_normal(tuple(to.shape))
    (lo * leafgrad.tensor(g)).sum().backward()
    (to * torch.tensor(g)).sum().backward()
    _close(lx.grad, tx.grad, "grad through pack and pad")


def test_sequence_helpers_match_torch():
    seqs = [np.arange(6.0).reshape(3, 2), np.arange(4.0).reshape(2, 2) + 10, np.ones((4, 2))]
    ls = [leafgrad.tensor(s) for s in seqs]
    ts = [torch.tensor(s) for s in seqs]
    lp, tp = LR.pack_sequence(ls, enforce_sorted=False), TR.pack_sequence(ts,
                                                                          enforce_sorted=False)
    assert repr(lp) == repr(tp)
    for a, b in zip(LR.unpack_sequence(lp), TR.unpack_sequence(tp)):
        _close(a, b, "unpacked")
    padded = LR.pad_sequence(ls)
    lens = leafgrad.tensor([3, 2, 4])
    for a, b in zip(LR.unpad_sequence(padded, lens),
                    TR.unpad_sequence(TR.pad_sequence(ts), torch.tensor([3, 2, 4]))):
        _close(a, b, "unpadded")
    assert LR.invert_permutation(leafgrad.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert LR.invert_permutation(None) is None
    p = LR.PackedSequence(leafgrad.ones(3), leafgrad.tensor([2, 1]))
    assert repr(p) == repr(TR.PackedSequence(torch.ones(3), torch.tensor([2, 1])))
    assert p.double().data.dtype == leafgrad.float64 and p.to(leafgrad.float32) is p
    assert not p.is_cuda and not p.is_pinned()


BAD_PACK = [([2, 4, 1], True), ([4, 2, 0], True), ([4, 2], True), ([5, 2, 1], False)]


@pytest.mark.parametrize("lens,torch_raises", BAD_PACK, ids=[str(b[0]) for b in BAD_PACK])
def test_bad_packing_errors(lens, torch_raises):
    if torch_raises:
        msg = _err(lambda: LR.pack_padded_sequence(leafgrad.ones(4, 3, 2), lens),
                   lambda: TR.pack_padded_sequence(torch.ones(4, 3, 2), lens))
    else:  # torch reads past the input here; leafgrad refuses
        with pytest.raises(RuntimeError) as e:
            LR.pack_padded_sequence(leafgrad.ones(4, 3, 2), lens)
        msg = str(e.value)
    assert "Why:" in msg
    _err(lambda: LR.pad_packed_sequence(LR.pack_sequence([leafgrad.ones(3)]), total_length=2),
         lambda: TR.pad_packed_sequence(TR.pack_sequence([torch.ones(3)]), total_length=2))
