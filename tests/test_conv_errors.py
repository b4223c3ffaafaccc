"""Bad input to the spatial functionals: torch's exception type, the gist of its message, a
"Why:" sentence, and inputs left untouched."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import leafgrad

# (call with F = nn.functional and lib = the library, input shapes, gist shared with torch)
CASES = [
    ("F.conv2d(x, w)", [(2, 4, 9, 9), (6, 3, 3, 3)], "expected input[2, 4, 9, 9] to have 3 "
     "channels, but got 4 channels instead"),
    ("F.conv2d(x, w)", [(4, 9), (6, 4, 3, 3)], "Expected 3D (unbatched) or 4D (batched) input "
     "to conv2d, but got input of size: [4, 9]"),
    ("F.conv2d(x, w)", [(2, 4, 9, 9), (6, 4, 3)], "expected stride to be a single integer value"),
    ("F.conv2d(x, w)", [(2, 4, 9, 9), (6, 4, 11, 11)], "Kernel size can't be greater than actual"),
    ("F.conv2d(x, w, padding=-1)", [(2, 4, 9, 9), (6, 4, 3, 3)], "negative padding is not"),
    ("F.conv2d(x, w, stride=0)", [(2, 4, 9, 9), (6, 4, 3, 3)], "non-positive stride is not"),
    ("F.conv2d(x, w, dilation=0)", [(2, 4, 9, 9), (6, 4, 3, 3)], "non-positive dilation"),
    ("F.conv2d(x, w, groups=0)", [(2, 4, 9, 9), (6, 4, 3, 3)], "non-positive groups"),
    ("F.conv2d(x, w, groups=3)", [(2, 4, 9, 9), (6, 2, 3, 3)], "to have 6 channels, but got 4"),
    ("F.conv2d(x, w, groups=2)", [(2, 4, 9, 9), (5, 2, 3, 3)], "expected weight to be "
     "divisible by 2 at dimension 0"),
    ("F.conv2d(x, w, b)", [(2, 4, 9, 9), (6, 4, 3, 3), (5,)], "expected bias to be "
     "1-dimensional with 6 elements, but got bias of size [5] instead"),
    ("F.conv2d(x, w, padding='same', stride=2)", [(2, 4, 9, 9), (6, 4, 3, 3)],
     "padding='same' is not supported for strided convolutions"),
    ("F.conv2d(x, w, padding='full')", [(2, 4, 9, 9), (6, 4, 3, 3)],
     "Invalid padding string: 'full'"),
    ("F.conv2d(x, w, padding=(1, 1, 1))", [(2, 4, 9, 9), (6, 4, 3, 3)],
     "expected padding to be a single integer value or a list of 2 values"),
    ("F.conv2d(x.double(), w)", [(2, 4, 9, 9), (6, 4, 3, 3)], ""),
    ("F.conv2d(x, w, b.double())", [(2, 4, 9, 9), (6, 4, 3, 3), (6,)],
     "Input type (float) and bias type (double) should be the same"),
    ("F.conv1d(x, w)", [(2, 4, 9, 9), (6, 4, 3)], "Expected 2D (unbatched) or 3D (batched)"),
    ("F.conv3d(x, w)", [(4, 9, 9), (6, 4, 3, 3, 3)], "Expected 4D (unbatched) or 5D"),
    ("F.conv_transpose2d(x, w)", [(2, 4, 9, 9), (3, 6, 3, 3)], "Given transposed=1, weight of "
     "size [3, 6, 3, 3], expected input[2, 4, 9, 9] to have 3 channels"),
    ("F.conv_transpose2d(x, w, output_padding=1)", [(2, 4, 9, 9), (4, 6, 3, 3)],
     "output padding must be smaller than either stride or dilation"),
    ("F.conv_transpose2d(x, w, padding=1)", [(1, 4, 1, 1), (4, 6, 1, 1)],
     "Output size is too small"),
    ("F.conv_transpose2d(x, w, b)", [(2, 4, 9, 9), (4, 6, 3, 3), (5,)],
     "expected bias to be 1-dimensional with 6 elements"),
    ("F.max_pool2d(x, 11)", [(2, 4, 9, 9)], "Output size is too small"),
    ("F.max_pool2d(x, 2, padding=2)", [(2, 4, 9, 9)], "pad should be at most half of effective"),
    ("F.max_pool2d(x, 3, padding=2, dilation=2)", [(2, 4, 9, 9)],
     "pad should be smaller than or equal to half of kernel size"),
    ("F.max_pool2d(x, 2, stride=0)", [(2, 4, 9, 9)], "stride should not be zero"),
    ("F.max_pool2d(x, (2, 2, 2))", [(2, 4, 9, 9)], "max_pool2d: kernel_size must either be a "
     "single int, or a tuple of two ints"),
    ("F.max_pool2d(x, 2, dilation=0)", [(2, 4, 9, 9)], "dilation should be greater than zero"),
    ("F.max_pool2d(x, 2, padding=-1)", [(2, 4, 9, 9)], "pad must be non-negative"),
    ("F.max_pool2d(x, 2)", [(2, 0, 9, 9)], "(batch mode) tensor with optional 0 dim batch size"),
    ("F.max_pool2d(x > 0, 2)", [(2, 4, 9, 9)], "not implemented for 'Bool'"),
    ("F.max_pool1d(x, 2)", [(2, 4, 9, 9)], "max_pool1d: Expected 2D or 3D (batch mode) tensor"),
    ("F.avg_pool2d(x, 2, divisor_override=0)", [(2, 4, 9, 9)], "divisor must be not zero"),
    ("F.avg_pool1d(x, 2)", [(2, 4, 9, 9)], "Expected 2 to 3 dimensions, but got 4-dimensional"),
    ("F.avg_pool3d(x, (1, 1, 2))", [(1, 2, 1, 1, 1)], "smaller than kernel size"),
    ("F.adaptive_avg_pool2d(x, -1)", [(2, 4, 9, 9)], "elements of output_size must be greater "
     "than or equal to 0"),
    ("F.adaptive_avg_pool2d(x, (2, 2, 2))", [(2, 4, 9, 9)], "output_size must be 2"),
    ("F.adaptive_avg_pool2d(x, 2)", [(2, 4, 0, 9)], "Expected input to have non-zero size for "
     "non-batch dimensions"),
    ("F.adaptive_max_pool2d(x, 2)", [(9, 9)], "adaptive_max_pool2d(): Expected 3D or 4D tensor"),
    ("F.max_unpool2d(x, x.long() * 0 + 100, 2)", [(1, 1, 2, 2)], "Found an invalid max index"),
    ("F.max_unpool2d(x, x, 2)", [(1, 1, 2, 2)], "elements in indices should be type int64"),
    ("F.max_unpool2d(x, x.long(), 2, output_size=(9, 9))", [(1, 1, 2, 2)],
     "invalid output_size"),
    ("F.pad(x, (1,))", [(2, 4, 9, 9)], "Padding length must be divisible by 2"),
    ("F.pad(x, (1, 1) * 5)", [(2, 4, 9, 9)], "Padding length should be less than or equal to "
     "two times the input dimension"),
    ("F.pad(x, (1, 1), mode='foo')", [(2, 4, 9, 9)], "Unrecognised padding mode foo"),
    ("F.pad(x, (1, 1), mode='reflect')", [(2, 4, 9, 9)], "Padding size 2 is not supported for "
     "4D input tensor"),
    ("F.pad(x, (9, 9, 1, 1), mode='reflect')", [(2, 4, 9, 9)], "Padding size should be less "
     "than the corresponding input dimension"),
    ("F.pad(x, (1, 1, 1, 1), mode='reflect', value=1.0)", [(2, 4, 9, 9)],
     "doesn't take in value argument"),
    ("F.pad(x, (4, 0), mode='circular')", [(1, 2, 3)], "wrapping around more than once"),
    ("F.pad(x, (1.5, 0))", [(1, 2, 3)], "must be tuple of ints, but found element of type float"),
    ("F.pad(x, (1, 1), mode='replicate')", [(1, 2, 0)], "Expected 2D or 3D (batch mode) tensor "
     "with possibly 0 batch size and other non-zero dimensions"),
    ("F.pixel_shuffle(x, 2)", [(2, 3, 4, 4)], "is not divisible by 4"),
    ("F.pixel_shuffle(x, 0)", [(1, 4, 4, 4)], "expects a positive upscale_factor"),
    ("F.pixel_shuffle(x, 2)", [(4, 4)], "expects input to have at least 3 dimensions"),
    ("F.pixel_unshuffle(x, 2)", [(1, 1, 4, 5)], "expects width to be divisible"),
    ("F.unfold(x, 3)", [(1, 2, 3, 4, 5)], "Expected 3D or 4D (batch mode) tensor"),
    ("F.unfold(x, 10)", [(2, 4, 9, 9)], "but its components must be at least one"),
    ("F.unfold(x, 0)", [(2, 4, 9, 9)], "kernel size should be greater than zero"),
    ("F.unfold(x, 2, stride=0)", [(2, 4, 9, 9)], "stride should be greater than zero"),
    ("F.unfold(x, (2, 2, 2))", [(2, 4, 9, 9)], "It is expected kernel_size equals to 2"),
    ("F.fold(x, (9, 9), 3)", [(2, 35, 49)], "divisible by the product of kernel_size"),
    ("F.fold(x, (9, 9), 3)", [(2, 36, 48)], "match the calculated number of sliding blocks"),
    ("F.fold(x, (4, 4), 2)", [(1, 2, 3, 4)], "Expected 2D or 3D (batch mode) tensor for input"),
    ("F.interpolate(x)", [(2, 4, 9, 9)], "either size or scale_factor should be defined"),
    ("F.interpolate(x, size=3, scale_factor=2)", [(2, 4, 9, 9)], "only one of size or "
     "scale_factor should be defined"),
    ("F.interpolate(x, size=3, align_corners=True)", [(2, 4, 9, 9)], "align_corners option can "
     "only be set with the interpolating modes"),
    ("F.interpolate(x, size=3, mode='foo')", [(2, 4, 9, 9)], "Only 3D, 4D and 5D input Tensors"),
    ("F.interpolate(x, size=3)", [(4, 9)], "Only 3D, 4D and 5D input Tensors supported (got 2D)"),
    ("F.interpolate(x, size=(3, 3, 3))", [(2, 4, 9, 9)], "Input and output must have the same "
     "number of spatial dimensions"),
    ("F.interpolate(x, scale_factor=(2, 2, 2))", [(2, 4, 9, 9)], "Input and scale_factor must "
     "have the same number of spatial dimensions"),
    ("F.interpolate(x, size=(3.0, 3))", [(2, 4, 9, 9)], "expected size to be one of int"),
    ("F.interpolate(x, size=3, recompute_scale_factor=True)", [(2, 4, 9, 9)],
     "recompute_scale_factor is not meaningful with an explicit size"),
    ("F.interpolate(x, scale_factor=0.1)", [(2, 4, 9, 9)], "Input and output sizes should be "
     "greater than 0"),
    ("F.interpolate(x, size=3, mode='linear')", [(2, 4, 9, 9)], "Got 4D input, but linear mode "
     "needs 3D input"),
    ("F.interpolate(x, size=3, mode='bicubic')", [(2, 4, 9)], "Only 3D, 4D and 5D input"),
    ("F.interpolate(x.long(), size=3)", [(2, 4, 9, 9)], "not implemented for 'Long'"),
]


def _run(lib, call: str, arrs):
    xs = [lib.tensor(a.copy()) for a in arrs]
    env = {"F": lib.nn.functional, "lib": lib, "x": xs[0]}
    env.update(zip(("w", "b"), xs[1:]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return eval(call, env), xs  # noqa: S307 - the table's own text


@pytest.mark.parametrize("call,shapes,gist", CASES,
                         ids=[f"{c}-{s[0]}" for c, s, _ in CASES])
def test_bad_input_raises_as_torch(call, shapes, gist):
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    with pytest.raises(Exception) as te:
        _run(torch, call, arrs)
    kept = [a.copy() for a in arrs]
    xs = [leafgrad.tensor(a) for a in arrs]
    env = {"F": leafgrad.nn.functional, "lib": leafgrad, "x": xs[0]}
    env.update(zip(("w", "b"), xs[1:]))
    with pytest.raises(type(te.value)) as le:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eval(call, env)  # noqa: S307
    assert gist in str(te.value), "the gist no longer matches torch's own message"
    assert gist in str(le.value)
    assert "\nWhy: " in str(le.value)
    for x, a in zip(xs, kept):  # inputs untouched
        np.testing.assert_array_equal(x.numpy(), a)


def test_max_pool_window_without_input_is_refused():
    """torch answers -inf and an index outside the input for a window that dilation and padding
    push off the input, and routes its gradient to another channel; leafgrad refuses."""
    x = np.array([[[[0.0]], [[1.0]]]])
    t = torch.tensor(x, requires_grad=True)
    y, i = torch.nn.functional.max_pool2d(t, (2, 1), 1, (1, 0), (2, 1), return_indices=True)
    assert y[0, 0].item() == float("-inf") and i[0, 0].item() == 1  # outside a 1-element plane
    with pytest.raises(RuntimeError, match="holds no input element") as e:
        leafgrad.nn.functional.max_pool2d(leafgrad.tensor(x), (2, 1), 1, (1, 0), (2, 1))
    assert "Why:" in str(e.value)


def test_non_tensor_arguments_raise_type_error():
    w = leafgrad.ones(2, 1, 3, 3)
    for call in (lambda: leafgrad.nn.functional.conv2d([[1.0]], w),
                 lambda: leafgrad.nn.functional.max_pool2d([1.0], 2),
                 lambda: leafgrad.nn.functional.pad([1.0], (1, 1)),
                 lambda: leafgrad.nn.functional.interpolate([1.0], size=2),
                 lambda: leafgrad.nn.functional.pixel_shuffle(leafgrad.ones(1, 4, 1, 1), 2.0)):
        with pytest.raises(TypeError, match="Why:"):
            call()


@pytest.mark.parametrize("shape", [(), (2,), (1, 2), (1, 1, 2)], ids=str)
@pytest.mark.parametrize("kw", [{"size": (3,)}, {"size": 3}, {"scale_factor": (2.0,)},
                                {"scale_factor": 2.0}, {"size": (3, 3)}, {}],
                         ids=["size_tuple", "size_int", "scale_tuple", "scale", "size2", "none"])
def test_interpolate_checks_sizes_before_dimensionality(shape, kw):
    # PyTorch's order: size / scale_factor against the spatial dims (ValueError) first, the
    # 3-5D requirement (NotImplementedError) after
    def outcome(lib):
        x = lib.ones(shape) if shape else lib.tensor(1.0)
        try:
            return tuple(lib.nn.functional.interpolate(x, **kw).shape)
        except (ValueError, NotImplementedError) as e:
            return type(e).__name__, str(e).splitlines()[0]

    assert outcome(leafgrad) == outcome(torch)
