"""Result layouts (strides) against torch: what ``stride()``, ``is_contiguous()``, the
aliasing of ``contiguous()`` and the fill order of the ``*_like`` random factories read.

Ops fall in three classes (``leafgrad/ops/movement/strides.py``): row-major results (softmax,
layer norm, tril/triu, repeat, stack...), preserve_format results (flip, sort, index_fill,
index_put, the ``*_like`` factories) and suggest_memory_format results (batch/group norm, cat,
roll), checked here on transposed, permuted, sliced, expanded and channels-last inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import leafgrad as lg

LIBS = (torch, lg)
_B3 = np.random.default_rng(0).standard_normal((4, 5, 6))
_B4 = np.random.default_rng(1).standard_normal((2, 3, 4, 5))


def _channels_last(lib, b):
    # leafgrad has no memory_format constants: the same strides through a permute
    return b.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)


VARIANTS = {
    "contig": lambda lib, b: b,
    "T(-2,-1)": lambda lib, b: b.transpose(-2, -1),
    "perm(2,0,1)": lambda lib, b: b.permute(2, 0, 1),
    "perm(1,2,0)": lambda lib, b: b.permute(1, 2, 0),
    "T(0,2)": lambda lib, b: b.transpose(0, 2),
    "T(0,1)": lambda lib, b: b.transpose(0, 1),
    "slice_step": lambda lib, b: b[:, ::2, :],
    "T_slice": lambda lib, b: b.transpose(0, 2)[1:3],
    "T_step": lambda lib, b: b.transpose(0, 1)[:, :, ::2],
    "expand": lambda lib, b: b[:, :1, :].expand(4, 5, 6),
    "expandT": lambda lib, b: b[:, :1, :].expand(4, 5, 6).transpose(0, 2),
    "size1": lambda lib, b: b[:, :1, :].transpose(0, 2),
}
VARIANTS4 = {
    "c4": lambda lib, b: b,
    "channels_last": _channels_last,
    "p4(0,2,1,3)": lambda lib, b: b.permute(0, 2, 1, 3),
    "p4(3,2,1,0)": lambda lib, b: b.permute(3, 2, 1, 0),
}


def _z(lib, *s):
    return lib.zeros(*s, dtype=lib.int64)


def _i(lib, *v):
    return lib.tensor(list(v))


OPS = {
    # row-major (PyTorch's kernels allocate at::empty / LEGACY_CONTIGUOUS_MEMORY_FORMAT)
    "softmax0": lambda L, x: L.nn.functional.softmax(x, 0),
    "softmax-1": lambda L, x: L.nn.functional.softmax(x, -1),
    "log_softmax1": lambda L, x: L.nn.functional.log_softmax(x, 1),
    "log_softmax_dtype": lambda L, x: L.nn.functional.log_softmax(x.float(), 1,
                                                                   dtype=L.float64),
    "softmin1": lambda L, x: L.nn.functional.softmin(x, 1),
    "layer_norm": lambda L, x: L.nn.functional.layer_norm(x, x.shape[-1:]),
    "layer_norm_2": lambda L, x: L.nn.functional.layer_norm(
        x, x.shape[-2:], L.ones(x.shape[-2:], dtype=x.dtype), L.ones(x.shape[-2:], dtype=x.dtype)),
    "rms_norm": lambda L, x: L.nn.functional.rms_norm(x, x.shape[-1:]),
    "group_norm": lambda L, x: L.nn.functional.group_norm(x, 1),
    "instance_norm": lambda L, x: L.nn.functional.instance_norm(x),
    "batch_norm": lambda L, x: L.nn.functional.batch_norm(x, None, None, training=True),
    "batch_norm_eval": lambda L, x: L.nn.functional.batch_norm(
        x, L.zeros(x.shape[1], dtype=x.dtype), L.ones(x.shape[1], dtype=x.dtype)),
    "tril": lambda L, x: x.tril(),
    "triu": lambda L, x: x.triu(1),
    "repeat": lambda L, x: x.repeat(1, 2, 1),
    "tile": lambda L, x: x.tile(2),
    "roll": lambda L, x: x.roll(1, 0),
    "roll2": lambda L, x: x.roll((1, 2), (0, 2)),
    "roll_zero_shift": lambda L, x: x.roll(x.shape[0], 0),
    "roll_flat": lambda L, x: x.roll(1),
    "cat0": lambda L, x: L.cat([x, x], 0),
    "cat1": lambda L, x: L.cat([x, x], 1),
    "stack0": lambda L, x: L.stack([x, x], 0),
    "index_add": lambda L, x: x.index_add(0, _i(L, 0, 1), x[:2]),
    "scatter": lambda L, x: x.scatter(1, _z(L, x.shape[0], 1, x.shape[2]), 1.0),
    "masked_fill": lambda L, x: x.masked_fill(x > 0, 1.0),
    # advanced indexing / gathers (TensorIterator's order, row-major)
    "idx0": lambda L, x: x[_i(L, 1, -1, 0)],
    "idx1": lambda L, x: x[:, _i(L, 1, -1, 0)],
    "idx2": lambda L, x: x[..., _i(L, 1, -1, 0)],
    "idx02": lambda L, x: x[_i(L, 1, 0), :, _i(L, 1, 0)],
    "index_select1": lambda L, x: x.index_select(1, _i(L, 1, 0, 1)),
    "gather": lambda L, x: x.gather(1, _z(L, x.shape[0], 2, x.shape[2])),
    "take": lambda L, x: x.take(L.tensor([[0, 3], [2, 1]])),
    # preserve_format (x.clone(), empty_like(x))
    "flip": lambda L, x: x.flip(0),
    "fliplr": lambda L, x: x.fliplr(),
    "rot90": lambda L, x: x.rot90(1, (0, 1)),
    "rot90_2": lambda L, x: x.rot90(2, (0, 1)),
    "sort": lambda L, x: x.sort(1)[0],
    "sort_indices": lambda L, x: x.sort(1, descending=True)[1],
    "argsort": lambda L, x: x.argsort(-1),
    "index_fill": lambda L, x: x.index_fill(0, _i(L, 0, 1), 1.0),
    "index_put": lambda L, x: x.index_put((_i(L, 0, 1),), L.tensor(1.0, dtype=x.dtype)),
    "empty_like": lambda L, x: L.empty_like(x).zero_(),
    "zeros_like": lambda L, x: L.zeros_like(x),
    "full_like": lambda L, x: L.full_like(x, 2.5),
    "zeros_like_int": lambda L, x: L.zeros_like(x, dtype=L.int32),
}

RANDOM = {
    "rand_like": lambda L, x: L.rand_like(x),
    "randn_like": lambda L, x: L.randn_like(x),
    "randint_like": lambda L, x: L.randint_like(x, 100),
    "rand_like_f32": lambda L, x: L.rand_like(x, dtype=L.float32),
    "randn_like_contiguous": lambda L, x: L.randn_like(x, memory_format=torch.contiguous_format),
}


def _dense(t) -> tuple:
    # the stride of a size-1 dim is arbitrary (PyTorch's kernels differ): not compared
    return tuple(s for s, n in zip(t.stride(), t.shape) if n > 1)


def _same_layout(run, base, variants, name, op) -> None:
    made = []
    for L in LIBS:
        x = variants[name](L, L.tensor(base, dtype=L.float64))
        made.append(run(L, x))
    t, ours = made
    assert tuple(t.shape) == tuple(ours.shape)
    if t.numel():
        assert _dense(ours) == _dense(t), (op, name, t.stride(), ours.stride())
    assert ours.is_contiguous() == t.is_contiguous(), (op, name)
    assert (ours.contiguous() is ours) == (t.contiguous() is t), (op, name)
    return t, ours


def _run(op):
    def run(L, x):
        L.manual_seed(5)
        return OPS.get(op, RANDOM.get(op))(L, x)
    return run


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("op", list(OPS))
def test_result_strides_as_torch(op, name):
    try:
        _run(op)(torch, VARIANTS[name](torch, torch.tensor(_B3)))
    except (RuntimeError, IndexError, ValueError):
        pytest.skip("torch refuses this input")
    t, ours = _same_layout(_run(op), _B3, VARIANTS, name, op)
    if not op.startswith("empty"):  # (the last bits are tests/test_last_bits.py's business)
        np.testing.assert_allclose(ours.detach().numpy(), t.detach().numpy(), rtol=1e-13,
                                   atol=1e-15)


@pytest.mark.parametrize("name", list(VARIANTS4))
@pytest.mark.parametrize("op", [o for o in OPS if not o.startswith(
    ("idx", "stack", "repeat", "scatter", "gather"))])  # (3-d spellings; stack: see strides.py)
def test_result_strides_as_torch_4d(op, name):
    t, ours = _same_layout(_run(op), _B4, VARIANTS4, name, op)
    if not op.startswith("empty"):
        np.testing.assert_allclose(ours.detach().numpy(), t.detach().numpy(), rtol=1e-12,
                                   atol=1e-12)


@pytest.mark.parametrize("name", list(VARIANTS) + ["channels_last"])
@pytest.mark.parametrize("op", list(RANDOM))
def test_like_samplers_fill_memory_in_torchs_order(op, name):
    variants = {**VARIANTS, "channels_last": _channels_last}
    base = _B4 if name == "channels_last" else _B3
    t, ours = _same_layout(_run(op), base, variants, name, op)
    assert str(ours.dtype) == str(t.dtype)
    np.testing.assert_array_equal(ours.numpy(), t.numpy())


def test_like_factories_check_the_memory_format_rank():
    for L in LIBS:
        with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last"):
            L.rand_like(L.ones(3), memory_format=torch.channels_last)
        with pytest.raises(RuntimeError, match="required rank 5 tensor to use channels_last_3d"):
            L.zeros_like(L.ones(3), memory_format=torch.channels_last_3d)
    x4 = lg.ones(2, 3, 4, 5)
    assert lg.empty_like(x4, memory_format=torch.channels_last).stride() == torch.empty_like(
        torch.ones(2, 3, 4, 5), memory_format=torch.channels_last).stride()


def test_fuzz_seed_3020366_index_of_layer_norm_aliases_through_contiguous():
    # layer_norm of a transposed input is row-major in torch, so x2[idx] is too, contiguous()
    # returns it and exp_ changes it
    out = []
    for L in LIBS:
        x0 = L.tensor([[[2.0, 0.0], [-2.0, -0.25], [1.0, -0.5]],
                       [[-0.25, 1.5], [1.5, -0.25], [-2.0, 1.5]]], dtype=L.float64)
        x0 = x0.transpose(-2, -1)
        x1 = L.tensor([[0.0, 0.25, 1.0], [0.25, 1.5, -0.25]], dtype=L.float64)
        x2 = L.nn.functional.layer_norm(x0, (2, 3), x1, x1)
        x3 = x2[L.tensor([1, -1, 0])]
        x4 = x3.contiguous()
        assert x4 is x3
        x4.exp_()
        out.append((x2.stride(), x3.stride(), x3._version, x3.detach().numpy().copy()))
    (ts2, ts3, tv, tval), (ls2, ls3, lv, lval) = out
    assert (ls2, ls3, lv) == (ts2, ts3, tv)
    np.testing.assert_allclose(lval, tval, rtol=1e-15)


@pytest.mark.parametrize("seed,shape", [(67, (2, 2)), (68, (3, 2)), (69, (4, 3))])
def test_fuzz_seed_3024096_rand_like_of_log_softmax(seed, shape):
    base = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) / 4 - 0.5
    out = []
    for L in LIBS:
        x3 = L.tensor(base).transpose(-2, -1).detach()
        x4 = L.nn.functional.log_softmax(x3 * 10000.0, 1)
        L.manual_seed(seed)
        out.append((x4.stride(), L.rand_like(x4).numpy(), L.rand_like(x3 * 2.0).numpy()))
    (ts, tr, tr2), (ls, lr, lr2) = out
    assert ls == ts
    np.testing.assert_array_equal(lr, tr)
    np.testing.assert_array_equal(lr2, tr2)  # mul by a scalar keeps the transposed layout


def test_rms_norm_copies_into_row_major_as_torch():
    for make in (lambda L: L.ones(4, 3, dtype=L.float64).t(),
                 lambda L: L.ones(4, 3, dtype=L.float64)):
        names = []
        for L in LIBS:
            x = make(L).requires_grad_()
            y = L.nn.functional.rms_norm(x, (x.shape[-1],))
            names.append((type(y.grad_fn).__name__, y.stride()))
        assert names[0] == names[1]


@pytest.mark.parametrize("name", ["T(-2,-1)", "perm(2,0,1)", "T_step"])
@pytest.mark.parametrize("op", ["softmax0", "log_softmax1", "layer_norm_2", "batch_norm",
                                "group_norm", "flip", "sort", "roll2", "cat1", "index_fill"])
def test_relaid_results_keep_torchs_gradients(op, name):
    # a layout change must not touch the values flowing back (float64)
    grads = []
    g = np.random.default_rng(2).standard_normal(_run(op)(torch, VARIANTS[name](
        torch, torch.tensor(_B3))).shape)
    for L in LIBS:
        leaf = L.tensor(_B3, dtype=L.float64, requires_grad=True)
        y = _run(op)(L, VARIANTS[name](L, leaf))
        y.backward(L.tensor(g, dtype=L.float64))
        grads.append(leaf.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10, atol=1e-12)


def test_gradcheck_through_relaid_ops():
    # (the transpose inside f: leafgrad's gradcheck perturbs a non-contiguous leaf wrongly)
    x = lg.tensor(_B3[:2, :3, :4], dtype=lg.float64).requires_grad_()

    def f(x):
        x = x.transpose(0, 2)
        y = lg.nn.functional.log_softmax(x, 1).flip(0)
        return lg.cat([y.roll(1, 2), lg.nn.functional.layer_norm(x, (x.shape[-1],))], 1)

    assert lg.autograd.gradcheck(f, (x,))
