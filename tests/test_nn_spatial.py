"""The spatial layers against torch.nn: init, repr, outputs, gradients, state_dict, bad input.

Rows come from tests/moduleinfo_conv.py; bad-input checks here compare exception types and the
gist of torch's messages, and that nothing changed after a failed call.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from moduleinfo_conv import MODULES

import leafgrad


def _pair(info, seed: int = 0):
    out = []
    for lib in (leafgrad, torch):
        lib.manual_seed(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append(eval(info.ctor, {"nn": lib.nn}))  # noqa: S307 - our own table text
    return out


def _call(info, mod, x):
    kw = eval(f"dict({info.call})", {"x": x}) if info.call else {}  # noqa: S307
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mod(x, **kw)


@pytest.mark.parametrize("info", MODULES, ids=[m.name for m in MODULES])
def test_module_matches_torch(info):
    lm, tm = _pair(info)
    assert repr(lm) == repr(tm)
    ln, tn = list(lm.named_parameters()), list(tm.named_parameters())
    assert [n for n, _ in ln] == [n for n, _ in tn]
    for (_, a), (_, b) in zip(ln, tn):  # the same draws from the same seed: bit-identical
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert list(lm.state_dict()) == list(tm.state_dict())
    rng = np.random.default_rng(1)
    for shape in info.shapes:
        data = rng.standard_normal(shape).astype(np.float32)
        xl = leafgrad.tensor(data, requires_grad=True)
        xt = torch.tensor(data, requires_grad=True)
        yl, yt = _call(info, lm, xl), _call(info, tm, xt)
        assert tuple(yl.shape) == tuple(yt.shape)
        assert type(yl.grad_fn).__name__ == type(yt.grad_fn).__name__
        np.testing.assert_allclose(yl.detach().numpy(), yt.detach().numpy(), rtol=1e-4,
                                   atol=info.tol)
        g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
        yl.backward(leafgrad.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(xl.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
        for (n, a), (_, b) in zip(lm.named_parameters(), tm.named_parameters()):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-4,
                                       err_msg=n)
        lm.zero_grad()
        tm.zero_grad()


@pytest.mark.parametrize("info", [m for m in MODULES if "Conv" in m.ctor],
                         ids=[m.name for m in MODULES if "Conv" in m.ctor])
def test_state_dict_round_trip_through_torch(info):
    """leafgrad state dict -> numpy -> torch model, and back: the same outputs."""
    lm, tm = _pair(info, seed=0)
    lm2, tm2 = _pair(info, seed=5)
    tm2.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lm.state_dict().items()})
    lm2.load_state_dict({k: leafgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    data = np.random.default_rng(2).standard_normal(info.shapes[0]).astype(np.float32)
    a = _call(info, lm, leafgrad.tensor(data)).detach().numpy()
    b = _call(info, tm2, torch.tensor(data)).detach().numpy()
    c = _call(info, lm2, leafgrad.tensor(data)).detach().numpy()
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c, b, rtol=1e-4, atol=1e-5)


def test_lenet_trains_like_torch():
    """A small CNN written as PyTorch users write it takes the same SGD steps as torch."""
    data = np.random.default_rng(3).standard_normal((4, 1, 12, 12)).astype(np.float32)
    target = np.array([0, 2, 1, 2])
    losses = []
    for lib in (leafgrad, torch):
        nn = lib.nn
        lib.manual_seed(0)
        net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                            nn.Flatten(), nn.Linear(16, 3))
        x, y = lib.tensor(data), lib.tensor(target)
        run = []
        for _ in range(4):
            out = net(x)
            loss = -(out - out.logsumexp(1, keepdim=True)).gather(1, y.unsqueeze(1)).mean()
            for p in net.parameters():
                p.grad = None
            loss.backward()
            with lib.no_grad():
                for p in net.parameters():
                    p.sub_(p.grad, alpha=0.1)
            run.append(float(loss.detach()))
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


# -- bad input -----------------------------------------------------------------------------------
BAD_CTORS = [
    "nn.Conv2d(4, 6, 3, groups=0)",
    "nn.Conv2d(4, 6, 3, groups=3)",
    "nn.Conv2d(4, 6, 3, groups=4)",
    "nn.Conv2d(4, 6, 3, padding='full')",
    "nn.Conv2d(4, 6, 3, padding='same', stride=2)",
    "nn.Conv2d(4, 6, 3, padding_mode='mirror')",
    "nn.ConvTranspose2d(4, 6, 3, padding_mode='reflect')",
]


@pytest.mark.parametrize("ctor", BAD_CTORS)
def test_bad_constructor_arguments_raise_as_torch(ctor):
    with pytest.raises(Exception) as te:
        eval(ctor, {"nn": torch.nn})  # noqa: S307
    with pytest.raises(type(te.value)) as le:
        eval(ctor, {"nn": leafgrad.nn})  # noqa: S307
    # (the text before any set literal: a set's printed order depends on string hashing)
    assert str(te.value).split("\n")[0].split("{")[0] in str(le.value)
    assert "Why:" in str(le.value)


BAD_CALLS = [
    # (constructor, input shape, gist of torch's message)
    ("nn.Conv2d(3, 6, 3)", (2, 4, 9, 9), "expected input[2, 4, 9, 9] to have 3 channels"),
    ("nn.Conv2d(3, 6, 3)", (4, 9), "Expected 3D (unbatched) or 4D (batched) input to conv2d"),
    ("nn.Conv2d(3, 6, 3)", (1, 3, 2, 2), "Kernel size can't be greater than actual input"),
    ("nn.Conv1d(3, 6, 3)", (2, 3, 4, 4), "Expected 2D (unbatched) or 3D (batched) input"),
    ("nn.ConvTranspose2d(4, 2, 3)", (1, 3, 5, 5), "to have 4 channels, but got 3 channels"),
    ("nn.MaxPool2d(2)", (1, 2, 3, 4, 5), "3D or 4D (batch mode) tensor"),
    ("nn.MaxPool2d(4)", (1, 1, 3, 3), "Output size is too small"),
    ("nn.MaxPool2d(2, padding=2)", (1, 1, 6, 6), "pad should be at most half"),
    ("nn.AvgPool2d(2, padding=2)", (1, 1, 6, 6), "pad should be at most half"),
    ("nn.AdaptiveAvgPool2d(2)", (9, 9), "Expected 3D or 4D tensor"),
    ("nn.ReflectionPad2d(4)", (1, 1, 3, 3), "Padding size should be less than the corresponding"),
    ("nn.ReflectionPad2d(1)", (1, 3), "is not supported for 2D input tensor"),
    ("nn.CircularPad1d(4)", (1, 2, 3), "Padding value causes wrapping around more than once"),
    ("nn.PixelShuffle(2)", (1, 3, 2, 2), "is not divisible by 4"),
    ("nn.PixelUnshuffle(2)", (1, 3, 5, 4), "expects height to be divisible by downscale_factor"),
    ("nn.Upsample(size=(2, 2, 2))", (1, 1, 3, 3), "must have the same number of spatial"),
    ("nn.Upsample(scale_factor=2, mode='bilinear')", (1, 1, 3), "bilinear mode needs 4D"),
    ("nn.Upsample(scale_factor=0.1)", (1, 1, 3, 3), "Input and output sizes should be greater"),
    ("nn.Fold((4, 4), 2)", (1, 7, 9), "divisible by the product of kernel_size"),
    ("nn.Fold((4, 4), 2)", (1, 8, 8), "match the calculated number of sliding blocks"),
    ("nn.Unfold(5)", (1, 1, 3, 3), "but its components must be at least one"),
]


@pytest.mark.parametrize("ctor,shape,gist", BAD_CALLS, ids=[f"{c}-{s}" for c, s, _ in BAD_CALLS])
def test_bad_input_raises_as_torch_and_changes_nothing(ctor, shape, gist):
    info = type(MODULES[0])(ctor)
    lm, tm = _pair(info)
    data = np.ones(shape, dtype=np.float32)
    with pytest.raises(Exception) as te:
        _call(info, tm, torch.tensor(data))
    before = {k: v.numpy().copy() for k, v in lm.state_dict().items()}
    x = leafgrad.tensor(data, requires_grad=True)
    with pytest.raises(type(te.value)) as le:
        _call(info, lm, x)
    assert gist in str(te.value), "the gist no longer matches torch's own message"
    assert gist in str(le.value)
    assert "Why:" in str(le.value)
    for k, v in lm.state_dict().items():  # nothing half-changed
        np.testing.assert_array_equal(v.numpy(), before[k])
    assert x.grad is None and all(p.grad is None for p in lm.parameters())


def test_conv_transpose_bad_output_size_as_torch():
    lm, tm = _pair(type(MODULES[0])("nn.ConvTranspose2d(2, 3, 3, stride=2)"))
    for lib, m in ((torch, tm), (leafgrad, lm)):
        with pytest.raises(ValueError, match="requested an output size of"):
            m(lib.ones(1, 2, 4, 4), output_size=(13, 9))
