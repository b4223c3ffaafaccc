"""nn.functional beyond the op table: random masks, options that change gradients on purpose,
running statistics, numerical safety, and bad input (exception type and message as torch)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import leafgrad

LF = leafgrad.nn.functional
TF = torch.nn.functional


def _both(fn, seed: int = 0):
    """``fn(lib, F)`` run on leafgrad and torch after the same manual_seed."""
    leafgrad.manual_seed(seed)
    a = fn(leafgrad, LF)
    torch.manual_seed(seed)
    b = fn(torch, TF)
    return a, b


def _np(t):
    return t.detach().numpy()


def _outcome(fn):
    """(exception type name, message without our Why) or ("ok", None)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - compared across libraries
        return type(e).__name__, str(e).split("\nWhy")[0]
    return "ok", None


# -- random masks equal torch's ------------------------------------------------------------------
@pytest.mark.parametrize("name,shape,kw", [
    ("dropout", (5, 7), dict(p=0.3)),
    ("dropout", (40,), dict(p=0.9)),
    ("dropout1d", (3, 4, 5), dict(p=0.5)),
    ("dropout1d", (4, 5), dict(p=0.5)),
    ("dropout2d", (2, 3, 4, 4), dict(p=0.25)),
    ("dropout3d", (2, 3, 2, 2, 2), dict(p=0.25)),
    ("alpha_dropout", (6, 5), dict(p=0.2, training=True)),
    ("feature_alpha_dropout", (3, 4, 2), dict(p=0.5, training=True)),
])
def test_dropout_masks_and_gradients_equal_torch(name, shape, kw):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)

    def run(lib, F):
        t = lib.tensor(x, requires_grad=True)
        y = getattr(F, name)(t, **kw)
        (y * lib.arange(y.numel()).reshape(y.shape)).sum().backward()
        return y, t.grad

    (ly, lg), (ty, tg) = _both(run, seed=3)
    np.testing.assert_array_equal(_np(ly), _np(ty))  # same mask, same scaling: bit-equal
    np.testing.assert_array_equal(_np(lg), _np(tg))
    assert type(ly.grad_fn).__name__ == type(ty.grad_fn).__name__
    # the generator is left where torch leaves it
    assert bytes(leafgrad.get_rng_state().numpy()) == bytes(torch.get_rng_state().numpy())


def test_dropout_edge_cases():
    x = leafgrad.randn(4, 3)
    assert LF.dropout(x, 0.5, training=False) is x
    assert LF.dropout(x, 0.0) is x
    assert float(LF.dropout(x, 1.0).abs().sum()) == 0
    y = x.clone()
    leafgrad.manual_seed(1)
    out = LF.dropout(y, 0.5, inplace=True)
    assert out is y
    leafgrad.manual_seed(1)
    np.testing.assert_array_equal(_np(out), _np(LF.dropout(x, 0.5)))
    for bad in (-0.1, 1.5):
        assert _outcome(lambda b=bad: LF.dropout(x, b)) == _outcome(
            lambda b=bad: TF.dropout(torch.randn(4, 3), b))


def test_rrelu_training_draws_as_torch():
    x = np.random.default_rng(1).standard_normal((6, 5))

    def run(lib, F):
        t = lib.tensor(x, requires_grad=True)
        y = F.rrelu(t, 0.1, 0.4, training=True)
        y.sum().backward()
        return y, t.grad

    (ly, lg), (ty, tg) = _both(run, seed=5)
    np.testing.assert_allclose(_np(ly), _np(ty), rtol=1e-15)
    np.testing.assert_allclose(_np(lg), _np(tg), rtol=1e-15)


def test_gumbel_softmax_as_torch():
    x = np.random.default_rng(2).standard_normal((3, 5)).astype(np.float32)
    for hard in (False, True):
        (ly, lg), (ty, tg) = _both(lambda lib, F, h=hard: _gumbel(lib, F, x, h), seed=9)
        np.testing.assert_allclose(_np(ly), _np(ty), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(_np(lg), _np(tg), rtol=1e-4, atol=1e-6)


def _gumbel(lib, F, x, hard):
    t = lib.tensor(x, requires_grad=True)
    y = F.gumbel_softmax(t, tau=0.5, hard=hard)
    (y * lib.arange(5.0)).sum().backward()
    return y, t.grad


# -- options that change the gradient on purpose ------------------------------------------------
@pytest.mark.parametrize("kw", [dict(padding_idx=2), dict(scale_grad_by_freq=True),
                                dict(padding_idx=0, scale_grad_by_freq=True)])
def test_embedding_gradient_options(kw):
    w = np.random.default_rng(3).standard_normal((5, 3))
    idx = [[0, 2, 2], [1, 2, 4]]

    def run(lib, F):
        t = lib.tensor(w, requires_grad=True)
        y = F.embedding(lib.tensor(idx), t, **kw)
        (y * lib.arange(18.0).reshape(2, 3, 3)).sum().backward()
        return y, t.grad

    (ly, lg), (ty, tg) = _both(run)
    np.testing.assert_array_equal(_np(ly), _np(ty))
    np.testing.assert_allclose(_np(lg), _np(tg), rtol=1e-12)


def test_embedding_max_norm_renormalises_weight_as_torch():
    w = np.random.default_rng(4).standard_normal((5, 3)).astype(np.float32) * 3
    idx = [0, 3, 3]

    def run(lib, F):
        t = lib.tensor(w)
        y = F.embedding(lib.tensor(idx), t, max_norm=1.5, norm_type=2.0)
        return y, t

    (ly, lw), (ty, tw) = _both(run)
    np.testing.assert_allclose(_np(lw), _np(tw), rtol=1e-6)
    np.testing.assert_allclose(_np(ly), _np(ty), rtol=1e-6)


# -- running statistics and module state ----------------------------------------------------------
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_running_stats_as_torch(momentum):
    xs = [np.random.default_rng(i).standard_normal((8, 3, 2)).astype(np.float32) * (i + 1)
          for i in range(3)]

    def run(lib, F):
        m = lib.nn.BatchNorm1d(3, momentum=momentum)
        for x in xs:
            m(lib.tensor(x))
        m.eval()
        return m, m(lib.tensor(xs[0]))

    (lm, ly), (tm, ty) = _both(run)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(_np(getattr(lm, name)), _np(getattr(tm, name)), rtol=1e-6)
    assert int(lm.num_batches_tracked) == int(tm.num_batches_tracked) == 3
    np.testing.assert_allclose(_np(ly), _np(ty), rtol=1e-5, atol=1e-6)


def test_failed_module_call_changes_nothing():
    m = leafgrad.nn.BatchNorm1d(3)
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    with pytest.raises(RuntimeError, match="running_mean should contain 4 elements not 3"):
        m(leafgrad.randn(5, 4))
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    fc = leafgrad.nn.Linear(784, 256)
    w = fc.weight.detach().numpy().copy()
    with pytest.raises(RuntimeError):
        fc(leafgrad.randn(64, 100))
    np.testing.assert_array_equal(fc.weight.detach().numpy(), w)
    assert fc.weight.grad is None


# -- numerical safety -----------------------------------------------------------------------------
def test_large_logits_do_not_overflow():
    big = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 5e3]], dtype=np.float32)
    for fn in (lambda lib, F, t: F.cross_entropy(t, lib.tensor([2, 1])),
               lambda lib, F, t: F.log_softmax(t, 1).sum(),
               lambda lib, F, t: (F.softmax(t, 1) * lib.arange(3.0)).sum(),
               lambda lib, F, t: F.binary_cross_entropy_with_logits(t, lib.ones(2, 3)),
               lambda lib, F, t: F.logsigmoid(t).sum(),
               lambda lib, F, t: F.softplus(t).sum(),
               lambda lib, F, t: F.soft_margin_loss(t, -lib.ones(2, 3)),
               lambda lib, F, t: F.silu(t).sum() + F.mish(t).sum() + F.gelu(t).sum()):
        outs = []
        for lib, F in ((leafgrad, LF), (torch, TF)):
            t = lib.tensor(big, requires_grad=True)
            y = fn(lib, F, t)
            y.backward()
            outs.append((_np(y), _np(t.grad)))
        (ly, lg), (ty, tg) = outs
        assert np.isfinite(ly).all() and np.isfinite(lg).all()
        if np.isfinite(ty).all():
            np.testing.assert_allclose(ly, ty, rtol=1e-5)
            np.testing.assert_allclose(lg, tg, rtol=1e-5, atol=1e-6)


def test_cross_entropy_second_derivative_has_no_nan():
    x = leafgrad.tensor([[1e4, 0.0, -1e4]], dtype=leafgrad.float64, requires_grad=True)
    (g,) = leafgrad.autograd.grad(LF.cross_entropy(x, leafgrad.tensor([1])), x,
                                  create_graph=True)
    (h,) = leafgrad.autograd.grad(g.sum(), x)
    assert np.isfinite(h.numpy()).all()


def test_ctc_zero_infinity_as_torch():
    lp = np.log(np.full((2, 1, 3), 1 / 3))  # 2 frames cannot emit the 3 labels [1, 1, 2]

    def run(lib, F, zi):
        t = lib.tensor(lp, requires_grad=True)
        y = F.ctc_loss(t, lib.tensor([[1, 1, 2]]), [2], [3], zero_infinity=zi,
                       reduction="sum")
        y.backward()
        return y, t.grad

    for zi in (False, True):
        (ly, lg), (ty, tg) = _both(lambda lib, F, z=zi: run(lib, F, z))
        np.testing.assert_array_equal(_np(ly), _np(ty))
        np.testing.assert_allclose(np.nan_to_num(_np(lg)), np.nan_to_num(_np(tg)))


# -- bad input: torch's exception type and message ------------------------------------------------
def test_linear_wrong_in_features_message():
    fc = leafgrad.nn.Linear(784, 256)
    with pytest.raises(RuntimeError) as e:
        fc(leafgrad.randn(64, 100))
    assert str(e.value).startswith(
        "mat1 and mat2 shapes cannot be multiplied (64x100 and 784x256)")
    assert "Why:" in str(e.value)
    tfc = torch.nn.Linear(784, 256)
    for shape in ((64, 100), (2, 64, 100), (100,)):
        assert _outcome(lambda s=shape: fc(leafgrad.randn(*s))) == \
            _outcome(lambda s=shape: tfc(torch.randn(*s)))
        # the same first line from matmul itself (a batched operand folds into rows)
        a = _outcome(lambda s=shape: leafgrad.randn(*s) @ leafgrad.randn(784, 256))
        b = _outcome(lambda s=shape: torch.randn(*s) @ torch.randn(784, 256))
        assert (a[0], a[1].splitlines()[0]) == b


BAD_CALLS = [
    lambda lib, F: F.cross_entropy(lib.randn(4, 5), lib.tensor([0, 1, 2, 7])),
    lambda lib, F: F.cross_entropy(lib.randn(4, 5), lib.tensor([0, 1, 2, -3])),
    lambda lib, F: F.cross_entropy(lib.randn(4, 5), lib.tensor([0.0, 1, 2, 3])),
    lambda lib, F: F.cross_entropy(lib.randn(4, 5), lib.tensor([0, 1, 2])),
    lambda lib, F: F.cross_entropy(lib.randn(4, 5), lib.tensor([0, 1, 2, 3]).int()),
    lambda lib, F: F.cross_entropy(lib.randn(4, 5), lib.rand(4, 6)),
    lambda lib, F: F.cross_entropy(lib.randn(4, 5), lib.tensor([0, 1, 2, 3]),
                                   weight=lib.ones(4)),
    lambda lib, F: F.cross_entropy(lib.randn(4, 5), lib.tensor([0, 1, 2, 3]), reduction="avg"),
    lambda lib, F: F.cross_entropy(lib.randn(4, 5), lib.zeros(4, 5).long()),
    lambda lib, F: F.cross_entropy(lib.randn(4, 5), lib.tensor([0, 1, 2, 3]),
                                   label_smoothing=1.5),
    lambda lib, F: F.nll_loss(lib.randn(4, 5), lib.tensor([0, 1, 2, 3]).bool()),
    lambda lib, F: F.nll_loss(lib.randn(4, 5), lib.tensor([[0, 1], [2, 3]])),
    lambda lib, F: F.binary_cross_entropy(lib.randn(4, 5), lib.rand(4, 5)),
    lambda lib, F: F.binary_cross_entropy(lib.rand(4, 5), lib.rand(4, 6)),
    lambda lib, F: F.binary_cross_entropy_with_logits(lib.randn(4, 5), lib.rand(4, 6)),
    lambda lib, F: F.embedding(lib.tensor([5]), lib.randn(5, 3)),
    lambda lib, F: F.embedding(lib.tensor([-1]), lib.randn(5, 3)),
    lambda lib, F: F.embedding(lib.tensor([1.0]), lib.randn(5, 3)),
    lambda lib, F: F.one_hot(lib.tensor([0, 5]), 3),
    lambda lib, F: F.one_hot(lib.tensor([-1])),
    lambda lib, F: F.one_hot(lib.tensor([1.0])),
    lambda lib, F: F.layer_norm(lib.randn(4, 5), (4,)),
    lambda lib, F: F.batch_norm(lib.randn(1, 3), None, None, training=True),
    lambda lib, F: F.group_norm(lib.randn(2, 5, 3), 2),
    lambda lib, F: F.glu(lib.randn(3, 5)),
    lambda lib, F: F.softmax(lib.tensor([1, 2]), 0),
    lambda lib, F: F.softmax(lib.randn(2, 3), 2),
    lambda lib, F: F.gelu(lib.randn(2), approximate="fast"),
    lambda lib, F: F.prelu(lib.randn(2, 3), lib.ones(2)),
    lambda lib, F: F.multi_margin_loss(lib.randn(4, 5), lib.tensor([0, 1, 2, 3]), p=3),
    lambda lib, F: F.triplet_margin_loss(lib.randn(2, 3), lib.randn(2, 3), lib.randn(2, 3),
                                         margin=0.0),
    lambda lib, F: F.linear(lib.randn(2, 3).double(), lib.randn(4, 3)),
    lambda lib, F: F.linear(lib.tensor(2.0), lib.randn(4, 3)),
    lambda lib, F: F.elu(lib.tensor([1, 2])),
    lambda lib, F: lib.nn.Linear(3, 2)(lib.randn(2, 3).double()),
    lambda lib, F: lib.nn.BatchNorm2d(3)(lib.randn(2, 3, 4)),
    lambda lib, F: lib.nn.Hardtanh(1.0, -1.0),
    lambda lib, F: lib.nn.GroupNorm(2, 5),
    lambda lib, F: lib.nn.Embedding(3, 2, padding_idx=5),
]


@pytest.mark.parametrize("i", range(len(BAD_CALLS)))
def test_bad_input_raises_as_torch(i):
    call = BAD_CALLS[i]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lt, tt = _outcome(lambda: call(leafgrad, LF)), _outcome(lambda: call(torch, TF))
    assert lt[0] == tt[0], (lt, tt)
    if lt[0] != "ok" and i not in _MESSAGE_DIFFERS:
        assert lt[1] == tt[1], (lt, tt)


# message wording that differs from torch (same exception type), and why
_MESSAGE_DIFFERS = {
    33: "torch names its CPU kernel ('elu_cpu'); leafgrad names the function",
}


def test_mse_loss_warns_on_broadcast_as_torch():
    with pytest.warns(UserWarning, match="Using a target size"):
        LF.mse_loss(leafgrad.randn(4, 5), leafgrad.randn(5))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        LF.softmax(leafgrad.randn(2, 3))


def test_embedding_bag_max_with_nan_and_minus_inf_matches_torch():
    # torch: a bag's first row sets the max (NaN or -inf there stays), a later row replaces
    # it only when greater; empty bags are 0
    nan, inf = float("nan"), float("inf")
    rows = [[nan, 1.0], [1.5, nan], [0.25, 2.0], [-inf, -inf], [1.5, 2.0]]
    cases = [([0, 2], [0]), ([2, 0], [0]), ([1, 2, 3], [0]), ([3, 1, 2], [0]), ([3], [0]),
             ([0, 2, 3, 1], [0, 2, 2]), ([4, 2, 1], [0, 1])]
    for idx, offsets in cases:
        got = []
        for m in (leafgrad, torch):
            w = m.tensor(rows, requires_grad=True)
            out = m.nn.functional.embedding_bag(m.tensor(idx), w, m.tensor(offsets), mode="max")
            out.sum().backward()
            got.append((out.detach().numpy(), w.grad.numpy()))
        for a, b in zip(*got):
            np.testing.assert_array_equal(a, b, err_msg=str(idx))


def test_bilinear_with_infinities_contracts_in_torchs_order():
    # torch contracts input1 with the weight first: [inf, inf] @ A meets inf - inf (NaN)
    # where the other order gives a signed inf
    inf, nan = float("inf"), float("nan")
    rng = np.random.default_rng(0)
    for trial in range(60):
        b, i, j, k = rng.integers(1, 4, size=4)
        dtype = np.float32 if trial % 2 else np.float64
        x1 = rng.choice([1.0, -2.0, 0.5, inf, -inf, nan, 0.0], size=(b, i),
                        p=[.3, .2, .2, .1, .1, .05, .05]).astype(dtype)
        x2 = rng.standard_normal((b, j)).astype(dtype)
        w = rng.standard_normal((k, i, j)).astype(dtype)
        ours = leafgrad.nn.functional.bilinear(*map(leafgrad.tensor, (x1, x2, w))).numpy()
        theirs = torch.nn.functional.bilinear(*map(torch.tensor, (x1, x2, w))).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
