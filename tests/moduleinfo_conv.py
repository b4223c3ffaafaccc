"""Module-table rows for the spatial family (leafgrad/nn/modules/{conv,pooling,padding,
pixelshuffle,upsampling,fold}.py), loaded by tests/moduleinfo.py; test_modules.py builds each
in torch and leafgrad from the same seed and compares parameters (bit for bit), repr,
state_dict keys, outputs and every gradient. ``SURFACE_*`` add this family's OPS.md names to
the surface guard (tests/test_nn_surface.py).
"""

from __future__ import annotations

from moduleinfo import ModuleInfo

I1, I2, I3 = (2, 2, 7), (2, 2, 5, 5), (1, 2, 3, 4, 3)
POS = (0.5, 2.0)  # power-average pools of negative numbers are NaN in both libraries

MODULES: list[ModuleInfo] = [
    # -- convolution -------------------------------------------------------------------------------
    ModuleInfo("Conv1d", lambda nn: nn.Conv1d(2, 4, 3), (I1,)),
    ModuleInfo("Conv1d_unbatched", lambda nn: nn.Conv1d(2, 4, 3), ((2, 6),)),
    ModuleInfo("Conv1d_circular", lambda nn: nn.Conv1d(4, 4, 3, stride=2, padding=2,
                                                       dilation=2, groups=2, bias=False,
                                                       padding_mode="circular"), ((2, 4, 9),)),
    ModuleInfo("Conv2d", lambda nn: nn.Conv2d(2, 3, 3), (I2,)),
    ModuleInfo("Conv2d_unbatched", lambda nn: nn.Conv2d(2, 3, 3), ((2, 6, 4),)),
    ModuleInfo("Conv2d_geometry", lambda nn: nn.Conv2d(2, 4, (3, 2), stride=(2, 1),
                                                       padding=(1, 2), dilation=(1, 2),
                                                       groups=2), (I2,)),
    ModuleInfo("Conv2d_same_reflect", lambda nn: nn.Conv2d(2, 3, 4, padding="same",
                                                           padding_mode="reflect"),
               ((1, 2, 6, 5),)),
    ModuleInfo("Conv2d_replicate", lambda nn: nn.Conv2d(2, 3, 3, padding=1,
                                                        padding_mode="replicate"), (I2,)),
    ModuleInfo("Conv2d_valid_nobias", lambda nn: nn.Conv2d(2, 3, 3, padding="valid",
                                                           bias=False), (I2,)),
    ModuleInfo("Conv3d", lambda nn: nn.Conv3d(2, 2, 2, padding=1, padding_mode="circular"),
               (I3,)),
    ModuleInfo("ConvTranspose1d", lambda nn: nn.ConvTranspose1d(2, 3, 3, stride=2,
                                                                output_padding=1), (I1, )),
    ModuleInfo("ConvTranspose1d_unbatched", lambda nn: nn.ConvTranspose1d(2, 3, 2), ((2, 4),)),
    ModuleInfo("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1,
                                                                groups=2, dilation=2), (I2,)),
    ModuleInfo("ConvTranspose3d", lambda nn: nn.ConvTranspose3d(2, 2, 2, stride=(1, 2, 1),
                                                                bias=False), (I3,)),
    # -- pooling -----------------------------------------------------------------------------------
    ModuleInfo("MaxPool1d", lambda nn: nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True),
               (I1,)),
    ModuleInfo("MaxPool2d", lambda nn: nn.MaxPool2d(2), (I2,)),
    ModuleInfo("MaxPool2d_geometry", lambda nn: nn.MaxPool2d((3, 2), stride=1, padding=1,
                                                             dilation=(1, 2)), (I2,)),
    ModuleInfo("MaxPool3d", lambda nn: nn.MaxPool3d(2, stride=1), (I3,)),
    ModuleInfo("AvgPool1d", lambda nn: nn.AvgPool1d(3, stride=2, padding=1,
                                                    count_include_pad=False), (I1,)),
    ModuleInfo("AvgPool2d", lambda nn: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                                    divisor_override=4), (I2,)),
    ModuleInfo("AvgPool3d", lambda nn: nn.AvgPool3d(2), ((1, 2, 4, 4, 3),)),
    ModuleInfo("AdaptiveAvgPool1d", lambda nn: nn.AdaptiveAvgPool1d(3), (I1,)),
    ModuleInfo("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d((3, None)), (I2,)),
    ModuleInfo("AdaptiveAvgPool2d_global", lambda nn: nn.AdaptiveAvgPool2d(1), (I2,)),
    ModuleInfo("AdaptiveAvgPool3d", lambda nn: nn.AdaptiveAvgPool3d((2, 1, 2)), (I3,)),
    ModuleInfo("AdaptiveMaxPool1d", lambda nn: nn.AdaptiveMaxPool1d(3), (I1,)),
    ModuleInfo("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d((2, 3)), (I2,)),
    ModuleInfo("AdaptiveMaxPool3d", lambda nn: nn.AdaptiveMaxPool3d(2), (I3,)),
    ModuleInfo("LPPool1d", lambda nn: nn.LPPool1d(2, 3, stride=2), (I1,), domain=POS),
    ModuleInfo("LPPool2d", lambda nn: nn.LPPool2d(1.5, 2), (I2,), domain=POS),
    ModuleInfo("LPPool3d", lambda nn: nn.LPPool3d(2, 2), ((1, 2, 4, 4, 2),), domain=POS),
    ModuleInfo("MaxUnpool1d", lambda nn: _Unpool(nn, 1), (I1,), covers=("MaxPool1d",)),
    ModuleInfo("MaxUnpool2d", lambda nn: _Unpool(nn, 2), ((2, 2, 4, 6),),
               covers=("MaxPool2d",)),
    ModuleInfo("MaxUnpool3d", lambda nn: _Unpool(nn, 3), ((1, 2, 4, 2, 4),),
               covers=("MaxPool3d",)),
    # -- padding -----------------------------------------------------------------------------------
    ModuleInfo("ZeroPad1d", lambda nn: nn.ZeroPad1d((1, 2)), ((2, 2, 5),)),
    ModuleInfo("ZeroPad2d", lambda nn: nn.ZeroPad2d(1), (I2,)),
    ModuleInfo("ZeroPad3d", lambda nn: nn.ZeroPad3d((1, 0, 0, 1, 1, 0)), ((1, 2, 2, 3, 2),)),
    ModuleInfo("ConstantPad1d", lambda nn: nn.ConstantPad1d(2, 3.5), ((2, 2, 5),)),
    ModuleInfo("ConstantPad2d", lambda nn: nn.ConstantPad2d((1, 0, 2, -1), -1.0), (I2,)),
    ModuleInfo("ConstantPad3d", lambda nn: nn.ConstantPad3d(1, 0.5), ((1, 2, 2, 3, 2),)),
    ModuleInfo("ReflectionPad1d", lambda nn: nn.ReflectionPad1d((2, 1)), ((2, 2, 5),)),
    ModuleInfo("ReflectionPad1d_unbatched", lambda nn: nn.ReflectionPad1d(1), ((2, 5),)),
    ModuleInfo("ReflectionPad2d", lambda nn: nn.ReflectionPad2d(2), (I2,)),
    ModuleInfo("ReflectionPad3d", lambda nn: nn.ReflectionPad3d(1), ((1, 2, 2, 3, 2),)),
    ModuleInfo("ReplicationPad1d", lambda nn: nn.ReplicationPad1d(3), ((2, 2, 5),)),
    ModuleInfo("ReplicationPad2d", lambda nn: nn.ReplicationPad2d((1, 0, 2, 3)), (I2,)),
    ModuleInfo("ReplicationPad3d", lambda nn: nn.ReplicationPad3d(1), ((1, 2, 2, 3, 2),)),
    ModuleInfo("CircularPad1d", lambda nn: nn.CircularPad1d(2), ((2, 2, 5),)),
    ModuleInfo("CircularPad2d", lambda nn: nn.CircularPad2d((1, 2, 0, 1)), (I2,)),
    ModuleInfo("CircularPad3d", lambda nn: nn.CircularPad3d(1), ((1, 2, 2, 3, 2),)),
    # -- pixel shuffle, upsampling, fold -----------------------------------------------------------
    ModuleInfo("PixelShuffle", lambda nn: nn.PixelShuffle(2), ((2, 8, 3, 2),)),
    ModuleInfo("PixelUnshuffle", lambda nn: nn.PixelUnshuffle(2), ((2, 2, 4, 6),)),
    ModuleInfo("Upsample", lambda nn: nn.Upsample(scale_factor=2), (I2,)),
    ModuleInfo("Upsample_bilinear", lambda nn: nn.Upsample(size=(7, 3), mode="bilinear",
                                                           align_corners=True), (I2,)),
    ModuleInfo("Upsample_bicubic", lambda nn: nn.Upsample(scale_factor=1.5, mode="bicubic"),
               (I2,)),
    ModuleInfo("Upsample_nearest_exact", lambda nn: nn.Upsample(scale_factor=(2.0, 0.5),
                                                                mode="nearest-exact"), (I2,)),
    ModuleInfo("Upsample_linear", lambda nn: nn.Upsample(scale_factor=2, mode="linear"), (I1,)),
    ModuleInfo("Upsample_trilinear", lambda nn: nn.Upsample(size=(3, 4, 2), mode="trilinear"),
               (I3,)),
    ModuleInfo("UpsamplingNearest2d", lambda nn: nn.UpsamplingNearest2d(scale_factor=2), (I2,)),
    ModuleInfo("UpsamplingBilinear2d", lambda nn: nn.UpsamplingBilinear2d(size=(7, 8)), (I2,)),
    ModuleInfo("Unfold", lambda nn: nn.Unfold((2, 3), dilation=(1, 2), padding=1,
                                              stride=(2, 1)), (I2,)),
    ModuleInfo("Fold", lambda nn: nn.Fold((5, 6), 2, stride=(2, 1)), ((2, 8, 10),)),
    ModuleInfo("Fold_unbatched", lambda nn: nn.Fold((5, 6), 2, stride=(2, 1)), ((8, 10),)),
]


def _Unpool(nn, nd: int):  # noqa: N802 - reads as the module it builds
    """MaxPool then MaxUnpool (the unpool needs the pool's indices), as one module."""
    pool = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[nd - 1](2, return_indices=True)
    unpool = (nn.MaxUnpool1d, nn.MaxUnpool2d, nn.MaxUnpool3d)[nd - 1](2)

    class PoolUnpool(nn.Module):
        def __init__(self):
            super().__init__()
            self.pool, self.unpool = pool, unpool

        def forward(self, x):
            y, i = self.pool(x)
            return self.unpool(y, i, output_size=x.shape[-nd:])

    return PoolUnpool()


# OPS.md names of this family, checked by tests/test_nn_surface.py
SURFACE_FUNCTIONAL = """
conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d unfold fold max_pool1d
max_pool2d max_pool3d avg_pool1d avg_pool2d avg_pool3d adaptive_avg_pool1d adaptive_avg_pool2d
adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d lp_pool1d
lp_pool2d lp_pool3d max_unpool1d max_unpool2d max_unpool3d interpolate upsample
upsample_nearest upsample_bilinear pixel_shuffle pixel_unshuffle pad
""".split()
SURFACE_MODULES = """
Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d MaxPool1d MaxPool2d
MaxPool3d AvgPool1d AvgPool2d AvgPool3d AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d
AdaptiveMaxPool1d AdaptiveMaxPool2d AdaptiveMaxPool3d LPPool1d LPPool2d LPPool3d MaxUnpool1d
MaxUnpool2d MaxUnpool3d Upsample UpsamplingNearest2d UpsamplingBilinear2d PixelShuffle
PixelUnshuffle ZeroPad1d ZeroPad2d ZeroPad3d ConstantPad1d ConstantPad2d ConstantPad3d
ReflectionPad1d ReflectionPad2d ReflectionPad3d ReplicationPad1d ReplicationPad2d
ReplicationPad3d CircularPad1d CircularPad2d CircularPad3d Fold Unfold
""".split()
