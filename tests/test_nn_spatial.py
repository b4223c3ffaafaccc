"""The spatial layers against torch.nn beyond the module table (tests/moduleinfo_conv.py, run
by test_modules.py): node names, ConvTranspose's output_size, state_dict round trips, a small
CNN trained step for step, and bad input (exception type, torch's message gist, nothing changed).
"""

from __future__ import annotations

import warnings

import moduleinfo  # noqa: F401 - first: it loads the area tables (moduleinfo_conv among them)
import numpy as np
import pytest
import torch
from moduleinfo_conv import MODULES

import leafgrad


def _pair(ctor, seed: int = 0):
    out = []
    for lib in (leafgrad, torch):
        lib.manual_seed(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append(ctor(lib.nn) if callable(ctor) else eval(ctor, {"nn": lib.nn}))  # noqa: S307
    return out


def _call(mod, x, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mod(x, **kw)


@pytest.mark.parametrize("row", MODULES, ids=[r.name for r in MODULES])
def test_output_node_is_torchs(row):
    """The output's grad_fn is the node torch records (ConvolutionBackward0, SqueezeBackward1
    for unbatched input, MaxPool2DWithIndicesBackward0, CopySlices for circular padding...)."""
    lm, tm = _pair(row.ctor)
    data = np.random.default_rng(0).uniform(0.5, 2.0, size=row.inputs[0]).astype(np.float32)
    yl = _call(lm, leafgrad.tensor(data, requires_grad=True))
    yt = _call(tm, torch.tensor(data, requires_grad=True))
    assert type(yl.grad_fn).__name__ == type(yt.grad_fn).__name__


def test_conv_transpose_output_size_matches_torch():
    lm, tm = _pair("nn.ConvTranspose2d(2, 3, 3, stride=2)")
    data = np.random.default_rng(1).standard_normal((1, 2, 4, 4)).astype(np.float32)
    for size in ((9, 9), (10, 9), (1, 3, 10, 10)):
        a = _call(lm, leafgrad.tensor(data), output_size=size).detach().numpy()
        b = _call(tm, torch.tensor(data), output_size=size).detach().numpy()
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for lib, m in ((torch, tm), (leafgrad, lm)):
        with pytest.raises(ValueError, match="requested an output size of"):
            m(lib.ones(1, 2, 4, 4), output_size=(13, 9))


@pytest.mark.parametrize("ctor", ["nn.Conv2d(2, 3, 3, padding=1, padding_mode='reflect')",
                                  "nn.ConvTranspose1d(2, 4, 3, groups=2, bias=False)"])
def test_state_dict_round_trip_through_torch(ctor):
    """leafgrad state dict -> numpy -> torch model, and back: the same outputs."""
    lm, tm = _pair(ctor, seed=0)
    lm2, tm2 = _pair(ctor, seed=5)
    tm2.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lm.state_dict().items()})
    lm2.load_state_dict({k: leafgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    shape = (2, 2, 6, 6) if "2d" in ctor else (2, 2, 6)
    data = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    a = _call(lm, leafgrad.tensor(data)).detach().numpy()
    b = _call(tm2, torch.tensor(data)).detach().numpy()
    c = _call(lm2, leafgrad.tensor(data)).detach().numpy()
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c, _call(tm, torch.tensor(data)).detach().numpy(), rtol=1e-4,
                               atol=1e-5)


def test_small_cnn_trains_like_torch():
    """A small CNN written as PyTorch users write it takes the same SGD steps as torch."""
    data = np.random.default_rng(3).standard_normal((4, 1, 12, 12)).astype(np.float32)
    target = np.array([0, 2, 1, 2])
    losses = []
    for lib in (leafgrad, torch):
        nn, F = lib.nn, lib.nn.functional
        lib.manual_seed(0)
        net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                            nn.Flatten(), nn.Linear(16, 3))
        x, y = lib.tensor(data), lib.tensor(target)
        run = []
        for _ in range(4):
            loss = F.cross_entropy(net(x), y)
            net.zero_grad()
            loss.backward()
            with lib.no_grad():
                for p in net.parameters():
                    p.sub_(p.grad, alpha=0.1)
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    assert losses[0][-1] < losses[0][0]


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
    lm, tm = _pair(ctor)
    data = np.ones(shape, dtype=np.float32)
    with pytest.raises(Exception) as te:
        _call(tm, torch.tensor(data))
    before = {k: v.numpy().copy() for k, v in lm.state_dict().items()}
    x = leafgrad.tensor(data, requires_grad=True)
    with pytest.raises(type(te.value)) as le:
        _call(lm, x)
    assert gist in str(te.value), "the gist no longer matches torch's own message"
    assert gist in str(le.value)
    assert "Why:" in str(le.value)
    for k, v in lm.state_dict().items():  # nothing half-changed
        np.testing.assert_array_equal(v.numpy(), before[k])
    assert x.grad is None and all(p.grad is None for p in lm.parameters())
