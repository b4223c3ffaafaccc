"""Padding layers: constant / zero, reflection, replication and circular padding."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module
from .utils import _ntuple, _pair, _quadruple

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]

_sextuple = _ntuple(6, "_sextuple")
_PARSE = {1: _pair, 2: _quadruple, 3: _sextuple}


class _ConstantPadNd(Module):
    __constants__ = ["padding", "value"]
    _nd = 2

    def __init__(self, padding, value: float) -> None:
        super().__init__()
        self.padding = _PARSE[self._nd](padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with a constant.

    >>> ConstantPad1d(2, 3.5)
    ConstantPad1d(padding=(2, 2), value=3.5)
    """

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with a constant (left, right, top, bottom).

    >>> ConstantPad2d((1, 0, 2, 0), 0.5)
    ConstantPad2d(padding=(1, 0, 2, 0), value=0.5)
    """

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with a constant.

    >>> ConstantPad3d(1, 0.0)
    ConstantPad3d(padding=(1, 1, 1, 1, 1, 1), value=0.0)
    """

    _nd = 3


class _ZeroPad(_ConstantPadNd):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad):
    """Pad the last dim with zeros.

    >>> ZeroPad1d(1)
    ZeroPad1d((1, 1))
    """

    _nd = 1


class ZeroPad2d(_ZeroPad):
    """Pad the last 2 dims with zeros.

    >>> import leafgrad
    >>> ZeroPad2d(1)(leafgrad.ones(1, 1, 1)).tolist()
    [[[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]
    """

    _nd = 2


class ZeroPad3d(_ZeroPad):
    """Pad the last 3 dims with zeros.

    >>> ZeroPad3d((1, 0, 0, 0, 0, 1))
    ZeroPad3d((1, 0, 0, 0, 0, 1))
    """

    _nd = 3


class _ModePadNd(Module):
    __constants__ = ["padding"]
    _nd = 2
    _mode = "reflect"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _PARSE[self._nd](padding)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Pad the last dim by reflecting the input at its edges.

    >>> import leafgrad
    >>> ReflectionPad1d(2)(leafgrad.tensor([[[0.0, 1.0, 2.0]]])).tolist()
    [[[2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0]]]
    """

    _nd = 1


class ReflectionPad2d(_ModePadNd):
    """Pad the last 2 dims by reflection.

    >>> ReflectionPad2d(1)
    ReflectionPad2d((1, 1, 1, 1))
    """

    _nd = 2


class ReflectionPad3d(_ModePadNd):
    """Pad the last 3 dims by reflection.

    >>> ReflectionPad3d(1)
    ReflectionPad3d((1, 1, 1, 1, 1, 1))
    """

    _nd = 3


class ReplicationPad1d(_ModePadNd):
    """Pad the last dim by repeating its edge values.

    >>> ReplicationPad1d((1, 2))
    ReplicationPad1d((1, 2))
    """

    _nd = 1
    _mode = "replicate"


class ReplicationPad2d(_ModePadNd):
    """Pad the last 2 dims by repeating edge values.

    >>> ReplicationPad2d(1)
    ReplicationPad2d((1, 1, 1, 1))
    """

    _nd = 2
    _mode = "replicate"


class ReplicationPad3d(_ModePadNd):
    """Pad the last 3 dims by repeating edge values.

    >>> ReplicationPad3d(1)
    ReplicationPad3d((1, 1, 1, 1, 1, 1))
    """

    _nd = 3
    _mode = "replicate"


class _CircularPadNd(_ModePadNd):
    _mode = "circular"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.dim() not in (self._nd + 1, self._nd + 2):
            raise ValueError(f"expected {self._nd + 1}D or {self._nd + 2}D input (got "
                             f"{input.dim()}D input)\nWhy: {type(self).__name__} pads the last "
                             f"{self._nd} dims of (batch, channels, ...) or (channels, ...).")
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pad the last dim with values wrapped around from the other side.

    >>> import leafgrad
    >>> CircularPad1d(1)(leafgrad.tensor([[[0.0, 1.0, 2.0]]])).tolist()
    [[[2.0, 0.0, 1.0, 2.0, 0.0]]]
    """

    _nd = 1


class CircularPad2d(_CircularPadNd):
    """Pad the last 2 dims circularly.

    >>> CircularPad2d(1)
    CircularPad2d((1, 1, 1, 1))
    """

    _nd = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last 3 dims circularly.

    >>> CircularPad3d(1)
    CircularPad3d((1, 1, 1, 1, 1, 1))
    """

    _nd = 3
