"""Op-table rows for the spatial family (leafgrad/ops/{conv,pooling,spatial,interpolate}.py):
convolutions, pools, pads, pixel shuffle, fold / unfold and interpolation, with their options.

Shapes stay tiny: gradcheck builds Jacobians element by element. Integer inputs that a row needs
(max-unpool indices) are computed inside its callable from the float input.
"""

from __future__ import annotations

import warnings

from opinfo import OpInfo


def F(m):
    """``nn.functional`` of the library (leafgrad or torch)."""
    return m.nn.functional


def _weight_grad(m, x, w):
    """The weight gradient built with create_graph (reaches ConvolutionBackwardBackward0)."""
    x = x if x.requires_grad else x.detach().requires_grad_()
    w = w if w.requires_grad else w.detach().requires_grad_()
    y = F(m).conv2d(x, w, padding=1, stride=(1, 2))
    (g,) = m.autograd.grad((y * y).sum() / 2, w, create_graph=True)
    return g


def _unpool(nd: int, **kw):
    def fn(m, x):
        f = F(m)
        pool = (f.max_pool1d, f.max_pool2d, f.max_pool3d)[nd - 1]
        unpool = (f.max_unpool1d, f.max_unpool2d, f.max_unpool3d)[nd - 1]
        y, i = pool(x, 2, return_indices=True, **kw)
        return unpool(y * 2, i, 2, output_size=x.shape[-nd:], **kw)
    return fn


def _quiet(fn):
    """``fn`` with its (expected) warnings silenced: deprecated aliases, 'same' padding."""
    def run(m, *xs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(m, *xs)
    return run


def _interp(**kw):
    return lambda m, a: F(m).interpolate(a, **kw)


_IN1, _IN2, _IN3 = (2, 3, 5), (2, 2, 4, 5), (1, 2, 3, 4, 3)

OPS: list[OpInfo] = [
    # -- convolution ------------------------------------------------------------------------------
    OpInfo("conv1d", lambda m, x, w, b: F(m).conv1d(x, w, b, stride=2, padding=1),
           (((2, 2, 5), (3, 2, 3), (3,)),)),
    OpInfo("conv1d_same_groups", _quiet(lambda m, x, w: F(m).conv1d(
        x, w, padding="same", groups=2, dilation=2)),
           (((1, 4, 6), (2, 2, 4)),), funcs=("conv1d",)),
    OpInfo("conv1d_unbatched", lambda m, x, w: F(m).conv1d(x, w), (((2, 5), (3, 2, 2)),),
           funcs=("conv1d",)),
    OpInfo("conv2d", lambda m, x, w, b: F(m).conv2d(x, w, b, padding=1),
           (((1, 2, 4, 4), (2, 2, 2, 2), (2,)), ((2, 1, 3, 4), (2, 1, 3, 1), (2,)))),
    OpInfo("conv2d_geometry", lambda m, x, w: F(m).conv2d(x, w, stride=(2, 1), padding=(1, 2),
                                                          dilation=(1, 2), groups=2),
           (((1, 2, 5, 4), (4, 1, 2, 2)),), funcs=("conv2d",)),
    OpInfo("conv2d_valid_same", _quiet(lambda m, x, w: F(m).conv2d(
        F(m).conv2d(x, w, padding="same"), w, padding="valid")),
           (((1, 2, 4, 4), (2, 2, 3, 2)),), funcs=("conv2d",)),
    OpInfo("conv2d_unbatched", lambda m, x, w, b: F(m).conv2d(x, w, b),
           (((2, 3, 3), (1, 2, 2, 2), (1,)),)),
    OpInfo("conv2d_weight_grad", _weight_grad, (((1, 2, 3, 4), (2, 2, 2, 2)),),
           funcs=("conv2d",)),
    OpInfo("conv3d", lambda m, x, w, b: F(m).conv3d(x, w, b, padding=(1, 0, 1), groups=2),
           (((1, 2, 2, 3, 2), (2, 1, 2, 2, 1), (2,)),)),
    OpInfo("conv_transpose1d", lambda m, x, w, b: F(m).conv_transpose1d(
        x, w, b, stride=2, padding=1, output_padding=1), (((2, 2, 3), (2, 3, 2), (3,)),)),
    OpInfo("conv_transpose2d", lambda m, x, w, b: F(m).conv_transpose2d(
        x, w, b, stride=(2, 1), padding=(0, 1), output_padding=(1, 0), groups=2),
        (((1, 2, 2, 3), (2, 1, 2, 3), (2,)),)),
    OpInfo("conv_transpose2d_dilated", lambda m, x, w: F(m).conv_transpose2d(
        x, w, dilation=2, output_padding=1), (((2, 3, 3), (2, 1, 2, 2)),),
        funcs=("conv_transpose2d",)),
    OpInfo("conv_transpose3d", lambda m, x, w: F(m).conv_transpose3d(x, w, stride=2),
           (((1, 1, 2, 1, 2), (1, 2, 2, 1, 2)),)),
    # -- pooling ----------------------------------------------------------------------------------
    OpInfo("max_pool1d", lambda m, a: F(m).max_pool1d(a, 3, 2, padding=1, ceil_mode=True),
           (_IN1, (3, 6))),
    OpInfo("max_pool2d", lambda m, a: F(m).max_pool2d(a, 2), (_IN2, (2, 4, 4))),
    OpInfo("max_pool2d_geometry", lambda m, a: F(m).max_pool2d(
        a, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), ceil_mode=True), (_IN2,),
        funcs=("max_pool2d",)),
    OpInfo("max_pool2d_indices", lambda m, a: F(m).max_pool2d(a, 3, 1, 1,
                                                              return_indices=True)[0],
           ((1, 1, 3, 4),), funcs=("max_pool2d",)),
    OpInfo("max_pool3d", lambda m, a: F(m).max_pool3d(a, 2, stride=1, padding=1), (_IN3,)),
    OpInfo("avg_pool1d", lambda m, a: F(m).avg_pool1d(a, 3, 2, padding=1, ceil_mode=True,
                                                      count_include_pad=False), (_IN1, (3, 6))),
    OpInfo("avg_pool2d", lambda m, a: F(m).avg_pool2d(a, 3, 2, padding=1), (_IN2, (2, 4, 4))),
    OpInfo("avg_pool2d_options", lambda m, a: F(m).avg_pool2d(
        a, (2, 3), (1, 2), padding=(1, 1), ceil_mode=True, count_include_pad=False), (_IN2,),
        funcs=("avg_pool2d",)),
    OpInfo("avg_pool2d_divisor", lambda m, a: F(m).avg_pool2d(a, 2, divisor_override=3),
           (_IN2,), funcs=("avg_pool2d",)),
    OpInfo("avg_pool3d", lambda m, a: F(m).avg_pool3d(a, 2, 1, 1, count_include_pad=False),
           (_IN3,)),
    OpInfo("adaptive_avg_pool1d", lambda m, a: F(m).adaptive_avg_pool1d(a, 3), (_IN1,)),
    OpInfo("adaptive_avg_pool2d", lambda m, a: F(m).adaptive_avg_pool2d(a, (3, None)),
           (_IN2, (2, 3, 7))),
    OpInfo("adaptive_avg_pool2d_up", lambda m, a: F(m).adaptive_avg_pool2d(a, (5, 7)),
           ((1, 2, 3, 4),), funcs=("adaptive_avg_pool2d",)),
    OpInfo("adaptive_avg_pool2d_global", lambda m, a: F(m).adaptive_avg_pool2d(a, 1), (_IN2,),
           funcs=("adaptive_avg_pool2d",)),
    OpInfo("adaptive_avg_pool3d", lambda m, a: F(m).adaptive_avg_pool3d(a, (2, 3, 2)), (_IN3,)),
    OpInfo("adaptive_max_pool1d", lambda m, a: F(m).adaptive_max_pool1d(a, 3), (_IN1,)),
    OpInfo("adaptive_max_pool2d", lambda m, a: F(m).adaptive_max_pool2d(a, (3, 2)),
           (_IN2, (2, 3, 7))),
    OpInfo("adaptive_max_pool3d", lambda m, a: F(m).adaptive_max_pool3d(a, 2), (_IN3,)),
    OpInfo("lp_pool1d", lambda m, a: F(m).lp_pool1d(a, 2, 2), (_IN1,), domain=(0.5, 2.0)),
    OpInfo("lp_pool2d", lambda m, a: F(m).lp_pool2d(a, 3, 2, stride=1), (_IN2,),
           domain=(0.5, 2.0)),
    OpInfo("lp_pool2d_inf", lambda m, a: F(m).lp_pool2d(a, float("inf"), 2), (_IN2,),
           funcs=("lp_pool2d",)),
    OpInfo("lp_pool3d", lambda m, a: F(m).lp_pool3d(a, 1, 2), (_IN3,), domain=(0.5, 2.0)),
    OpInfo("max_unpool1d", _unpool(1), (_IN1,)),
    OpInfo("max_unpool2d", _unpool(2), ((1, 2, 4, 5), (2, 4, 4))),
    OpInfo("max_unpool3d", _unpool(3), ((1, 1, 4, 2, 3),)),
    # -- padding ----------------------------------------------------------------------------------
    OpInfo("pad_constant", lambda m, a: F(m).pad(a, (1, 2, 0, 1), value=0.5), (_IN2, (3, 4))),
    OpInfo("pad_constant_crop", lambda m, a: F(m).pad(a, (-1, 2, 1, -1, 1, 0)), (_IN2,),
           funcs=("pad",)),
    OpInfo("pad_reflect1d", lambda m, a: F(m).pad(a, (2, 1), mode="reflect"), (_IN1, (3, 4))),
    OpInfo("pad_reflect2d", lambda m, a: F(m).pad(a, (1, 2, 2, -1), mode="reflect"),
           (_IN2, (2, 4, 3)), funcs=("pad",)),
    OpInfo("pad_reflect3d", lambda m, a: F(m).pad(a, (1, 0, 2, 1, 1, 1), mode="reflect"),
           (_IN3,), funcs=("pad",)),
    OpInfo("pad_replicate1d", lambda m, a: F(m).pad(a, (2, 3), mode="replicate"), (_IN1,),
           funcs=("pad",)),
    OpInfo("pad_replicate2d", lambda m, a: F(m).pad(a, (1, 3, 0, 2), mode="replicate"),
           (_IN2, (2, 4, 3)), funcs=("pad",)),
    OpInfo("pad_replicate3d", lambda m, a: F(m).pad(a, (1, 1, 0, 2, 2, 0), mode="replicate"),
           (_IN3,), funcs=("pad",)),
    OpInfo("pad_circular", lambda m, a: F(m).pad(a, (1, 2, 2, -1), mode="circular"),
           (_IN2, (2, 4, 3)), funcs=("pad",)),
    OpInfo("pad_circular1d", lambda m, a: F(m).pad(a, (3, 1), mode="circular"), (_IN1,),
           funcs=("pad",)),
    # -- pixel shuffle, fold / unfold -------------------------------------------------------------
    OpInfo("pixel_shuffle", lambda m, a: F(m).pixel_shuffle(a, 2), ((2, 8, 2, 3), (2, 4, 3, 2),
                                                                    (4, 1, 1))),
    OpInfo("pixel_unshuffle", lambda m, a: F(m).pixel_unshuffle(a, 2), ((2, 1, 4, 6),
                                                                        (2, 2, 2, 4))),
    OpInfo("unfold", lambda m, a: F(m).unfold(a, (2, 3), dilation=(1, 2), padding=1,
                                              stride=(2, 1)), ((1, 2, 4, 5), (2, 3, 3))),
    OpInfo("fold", lambda m, a: F(m).fold(a, (4, 5), (2, 2), dilation=(1, 2), padding=1,
                                          stride=(2, 1)), ((1, 8, 15), (8, 15))),
    # -- interpolation ----------------------------------------------------------------------------
    OpInfo("interpolate_nearest1d", _interp(scale_factor=1.7), (_IN1,),
           funcs=("interpolate",)),
    OpInfo("interpolate_nearest2d", _interp(size=(3, 7)), (_IN2,), funcs=("interpolate",)),
    OpInfo("interpolate_nearest3d", _interp(scale_factor=2), (_IN3,), funcs=("interpolate",)),
    OpInfo("interpolate_nearest_exact1d", _interp(size=7, mode="nearest-exact"), (_IN1,),
           funcs=("interpolate",)),
    OpInfo("interpolate_nearest_exact2d", _interp(scale_factor=0.7, mode="nearest-exact"),
           (_IN2,), funcs=("interpolate",)),
    OpInfo("interpolate_nearest_exact3d", _interp(size=(2, 5, 4), mode="nearest-exact"),
           (_IN3,), funcs=("interpolate",)),
    OpInfo("interpolate_linear", _interp(scale_factor=1.5, mode="linear"), (_IN1,),
           funcs=("interpolate",)),
    OpInfo("interpolate_linear_corners", _interp(size=8, mode="linear", align_corners=True),
           (_IN1,), funcs=("interpolate",)),
    OpInfo("interpolate_bilinear", _interp(size=(5, 3), mode="bilinear"), (_IN2,),
           funcs=("interpolate",)),
    OpInfo("interpolate_bilinear_corners", _interp(
        scale_factor=(1.5, 2.3), mode="bilinear", align_corners=True,
        recompute_scale_factor=True), (_IN2,), funcs=("interpolate",)),
    OpInfo("interpolate_bicubic", _interp(scale_factor=1.6, mode="bicubic"), (_IN2,),
           funcs=("interpolate",)),
    OpInfo("interpolate_bicubic_corners", _interp(size=(3, 6), mode="bicubic",
                                                  align_corners=True), (_IN2,),
           funcs=("interpolate",)),
    OpInfo("interpolate_trilinear", _interp(scale_factor=(1.5, 0.8, 1.2), mode="trilinear"),
           (_IN3,), funcs=("interpolate",)),
    OpInfo("interpolate_area", _interp(size=(3, 2), mode="area"), (_IN2,),
           funcs=("interpolate",)),
    OpInfo("upsample", _quiet(lambda m, a: F(m).upsample(a, scale_factor=2, mode="bilinear")),
           (_IN2,)),
    OpInfo("upsample_nearest", _quiet(lambda m, a: F(m).upsample_nearest(a, size=(3, 7))),
           (_IN2,)),
    OpInfo("upsample_bilinear", _quiet(lambda m, a: F(m).upsample_bilinear(a, scale_factor=2)),
           (_IN2,)),
]

UNTESTED_NODES = {
    "LinearOp": "abstract base of the linear-map nodes (leafgrad/ops/_linmap.py); every "
                "concrete node class has a row",
}
