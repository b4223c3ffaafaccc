"""Module-table rows for the spatial family (leafgrad/nn/modules/{conv,pooling,padding,
pixelshuffle,upsampling,fold}.py).

A row names a constructor (evaluated against ``lib.nn`` for leafgrad and for torch, after the
same ``manual_seed``), the input shapes to feed it, and how to call it. ``test_nn_spatial.py``
builds each in both libraries and compares parameters (bit for bit), repr, outputs, input and
parameter gradients, state_dict keys and a state_dict round trip through torch.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModuleInfo:
    """How to test one module configuration against torch."""

    ctor: str  # evaluated with ``nn`` bound to lib.nn, e.g. "nn.Conv2d(2, 3, 3)"
    shapes: tuple = ((2, 2, 5, 5),)  # one input shape per sample
    call: str = ""  # extra forward arguments, evaluated with ``x`` bound (e.g. "output_size=…")
    tol: float = 1e-5

    @property
    def name(self) -> str:
        return self.ctor.removeprefix("nn.")


MODULES: list[ModuleInfo] = [
    # convolution
    ModuleInfo("nn.Conv1d(2, 4, 3)", ((2, 2, 7), (2, 6))),
    ModuleInfo("nn.Conv1d(4, 4, 3, stride=2, padding=2, dilation=2, groups=2, bias=False, "
               "padding_mode='circular')", ((2, 4, 9),)),
    ModuleInfo("nn.Conv2d(2, 3, 3)", ((2, 2, 5, 5), (2, 6, 4))),
    ModuleInfo("nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), "
               "groups=2)"),
    ModuleInfo("nn.Conv2d(2, 3, 4, padding='same', padding_mode='reflect')", ((1, 2, 6, 5),)),
    ModuleInfo("nn.Conv2d(2, 3, 3, padding=1, padding_mode='replicate')"),
    ModuleInfo("nn.Conv2d(2, 3, 3, padding='valid', bias=False)"),
    ModuleInfo("nn.Conv3d(2, 2, 2, padding=1, padding_mode='circular')", ((1, 2, 3, 4, 3),)),
    ModuleInfo("nn.ConvTranspose1d(2, 3, 3, stride=2, output_padding=1)", ((2, 2, 4), (2, 4))),
    ModuleInfo("nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, groups=2, dilation=2)"),
    ModuleInfo("nn.ConvTranspose2d(2, 3, 3, stride=2)", ((1, 2, 4, 4),),
               call="output_size=(10, 9)"),
    ModuleInfo("nn.ConvTranspose3d(2, 2, 2, stride=(1, 2, 1), bias=False)",
               ((1, 2, 2, 3, 2),)),
    # pooling
    ModuleInfo("nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True)", ((2, 2, 7),)),
    ModuleInfo("nn.MaxPool2d(2)", ((2, 2, 5, 5), (2, 4, 4))),
    ModuleInfo("nn.MaxPool2d((3, 2), stride=1, padding=1, dilation=(1, 2))"),
    ModuleInfo("nn.MaxPool3d(2, stride=1)", ((1, 2, 3, 4, 3),)),
    ModuleInfo("nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False)", ((2, 2, 7),)),
    ModuleInfo("nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, divisor_override=4)"),
    ModuleInfo("nn.AvgPool3d(2)", ((1, 2, 4, 4, 3),)),
    ModuleInfo("nn.AdaptiveAvgPool1d(3)", ((2, 2, 7),)),
    ModuleInfo("nn.AdaptiveAvgPool2d((3, None))"),
    ModuleInfo("nn.AdaptiveAvgPool2d(1)"),
    ModuleInfo("nn.AdaptiveAvgPool3d((2, 1, 2))", ((1, 2, 3, 4, 3),)),
    ModuleInfo("nn.AdaptiveMaxPool1d(3)", ((2, 2, 7),)),
    ModuleInfo("nn.AdaptiveMaxPool2d((2, 3))"),
    ModuleInfo("nn.AdaptiveMaxPool3d(2)", ((1, 2, 3, 4, 3),)),
    ModuleInfo("nn.LPPool1d(2, 3, stride=2)", ((2, 2, 7),)),
    ModuleInfo("nn.LPPool2d(1.5, 2)"),
    ModuleInfo("nn.LPPool3d(2, 2)", ((1, 2, 4, 4, 2),)),
    # padding
    ModuleInfo("nn.ZeroPad1d((1, 2))", ((2, 2, 5),)),
    ModuleInfo("nn.ZeroPad2d(1)"),
    ModuleInfo("nn.ZeroPad3d((1, 0, 0, 1, 1, 0))", ((1, 2, 2, 3, 2),)),
    ModuleInfo("nn.ConstantPad1d(2, 3.5)", ((2, 2, 5),)),
    ModuleInfo("nn.ConstantPad2d((1, 0, 2, -1), -1.0)"),
    ModuleInfo("nn.ConstantPad3d(1, 0.5)", ((1, 2, 2, 3, 2),)),
    ModuleInfo("nn.ReflectionPad1d((2, 1))", ((2, 2, 5), (2, 5))),
    ModuleInfo("nn.ReflectionPad2d(2)"),
    ModuleInfo("nn.ReflectionPad3d(1)", ((1, 2, 2, 3, 2),)),
    ModuleInfo("nn.ReplicationPad1d(3)", ((2, 2, 5),)),
    ModuleInfo("nn.ReplicationPad2d((1, 0, 2, 3))"),
    ModuleInfo("nn.ReplicationPad3d(1)", ((1, 2, 2, 3, 2),)),
    ModuleInfo("nn.CircularPad1d(2)", ((2, 2, 5),)),
    ModuleInfo("nn.CircularPad2d((1, 2, 0, 1))"),
    ModuleInfo("nn.CircularPad3d(1)", ((1, 2, 2, 3, 2),)),
    # pixel shuffle, upsampling, fold
    ModuleInfo("nn.PixelShuffle(2)", ((2, 8, 3, 2),)),
    ModuleInfo("nn.PixelUnshuffle(2)", ((2, 2, 4, 6),)),
    ModuleInfo("nn.Upsample(scale_factor=2)"),
    ModuleInfo("nn.Upsample(size=(7, 3), mode='bilinear', align_corners=True)"),
    ModuleInfo("nn.Upsample(scale_factor=1.5, mode='bicubic')"),
    ModuleInfo("nn.Upsample(scale_factor=(2.0, 0.5), mode='nearest-exact')"),
    ModuleInfo("nn.Upsample(scale_factor=2, mode='linear')", ((2, 2, 5),)),
    ModuleInfo("nn.Upsample(size=(3, 4, 2), mode='trilinear')", ((1, 2, 2, 3, 2),)),
    ModuleInfo("nn.UpsamplingNearest2d(scale_factor=2)"),
    ModuleInfo("nn.UpsamplingBilinear2d(size=(7, 8))"),
    ModuleInfo("nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=(2, 1))"),
    ModuleInfo("nn.Fold((5, 6), 2, stride=(2, 1))", ((2, 8, 10), (8, 10))),
]
