"""Free functions of the elementwise area: the unary math functions and value tests
(``leafgrad.exp2``, ``leafgrad.isnan``, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .arith import _out, _t

if TYPE_CHECKING:
    from ...tensor import Tensor


def exp2(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``exp2`` (see ``Tensor.exp2``).

    >>> import leafgrad
    >>> leafgrad.exp2(leafgrad.tensor([0.5, 1.0]))
    tensor([1.4142, 2.0000])
    """
    return _out(_t(input).exp2(), out, "exp2")


def expm1(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``expm1`` (see ``Tensor.expm1``).

    >>> import leafgrad
    >>> leafgrad.expm1(leafgrad.tensor([0.5, 1.0]))
    tensor([0.6487, 1.7183])
    """
    return _out(_t(input).expm1(), out, "expm1")


def log2(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``log2`` (see ``Tensor.log2``).

    >>> import leafgrad
    >>> leafgrad.log2(leafgrad.tensor([0.5, 1.0]))
    tensor([-1.,  0.])
    """
    return _out(_t(input).log2(), out, "log2")


def log10(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``log10`` (see ``Tensor.log10``).

    >>> import leafgrad
    >>> leafgrad.log10(leafgrad.tensor([0.5, 1.0]))
    tensor([-0.3010,  0.0000])
    """
    return _out(_t(input).log10(), out, "log10")


def log1p(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``log1p`` (see ``Tensor.log1p``).

    >>> import leafgrad
    >>> leafgrad.log1p(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4055, 0.6931])
    """
    return _out(_t(input).log1p(), out, "log1p")


def tan(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``tan`` (see ``Tensor.tan``).

    >>> import leafgrad
    >>> leafgrad.tan(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5463, 1.5574])
    """
    return _out(_t(input).tan(), out, "tan")


def asin(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``asin`` (see ``Tensor.asin``).

    >>> import leafgrad
    >>> leafgrad.asin(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5236, 1.5708])
    """
    return _out(_t(input).asin(), out, "asin")


def acos(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``acos`` (see ``Tensor.acos``).

    >>> import leafgrad
    >>> leafgrad.acos(leafgrad.tensor([0.5, 1.0]))
    tensor([1.0472, 0.0000])
    """
    return _out(_t(input).acos(), out, "acos")


def atan(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``atan`` (see ``Tensor.atan``).

    >>> import leafgrad
    >>> leafgrad.atan(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4636, 0.7854])
    """
    return _out(_t(input).atan(), out, "atan")


def sinh(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``sinh`` (see ``Tensor.sinh``).

    >>> import leafgrad
    >>> leafgrad.sinh(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5211, 1.1752])
    """
    return _out(_t(input).sinh(), out, "sinh")


def cosh(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``cosh`` (see ``Tensor.cosh``).

    >>> import leafgrad
    >>> leafgrad.cosh(leafgrad.tensor([0.5, 1.0]))
    tensor([1.1276, 1.5431])
    """
    return _out(_t(input).cosh(), out, "cosh")


def asinh(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``asinh`` (see ``Tensor.asinh``).

    >>> import leafgrad
    >>> leafgrad.asinh(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4812, 0.8814])
    """
    return _out(_t(input).asinh(), out, "asinh")


def atanh(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``atanh`` (see ``Tensor.atanh``).

    >>> import leafgrad
    >>> leafgrad.atanh(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5493,    inf])
    """
    return _out(_t(input).atanh(), out, "atanh")


def erf(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``erf`` (see ``Tensor.erf``).

    >>> import leafgrad
    >>> leafgrad.erf(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5205, 0.8427])
    """
    return _out(_t(input).erf(), out, "erf")


def erfc(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``erfc`` (see ``Tensor.erfc``).

    >>> import leafgrad
    >>> leafgrad.erfc(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4795, 0.1573])
    """
    return _out(_t(input).erfc(), out, "erfc")


def erfinv(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``erfinv`` (see ``Tensor.erfinv``).

    >>> import leafgrad
    >>> leafgrad.erfinv(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4769,    inf])
    """
    return _out(_t(input).erfinv(), out, "erfinv")


def lgamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``lgamma`` (see ``Tensor.lgamma``).

    >>> import leafgrad
    >>> leafgrad.lgamma(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5724, 0.0000])
    """
    return _out(_t(input).lgamma(), out, "lgamma")


def digamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``digamma`` (see ``Tensor.digamma``).

    >>> import leafgrad
    >>> leafgrad.digamma(leafgrad.tensor([0.5, 1.0]))
    tensor([-1.9635, -0.5772])
    """
    return _out(_t(input).digamma(), out, "digamma")


def sinc(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``sinc`` (see ``Tensor.sinc``).

    >>> import leafgrad
    >>> leafgrad.sinc(leafgrad.tensor([0.5, 1.0]))
    tensor([ 6.3662e-01, -2.7828e-08])
    """
    return _out(_t(input).sinc(), out, "sinc")


def deg2rad(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``deg2rad`` (see ``Tensor.deg2rad``).

    >>> import leafgrad
    >>> leafgrad.deg2rad(leafgrad.tensor([0.5, 1.0]))
    tensor([0.0087, 0.0175])
    """
    return _out(_t(input).deg2rad(), out, "deg2rad")


def rad2deg(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``rad2deg`` (see ``Tensor.rad2deg``).

    >>> import leafgrad
    >>> leafgrad.rad2deg(leafgrad.tensor([0.5, 1.0]))
    tensor([28.6479, 57.2958])
    """
    return _out(_t(input).rad2deg(), out, "rad2deg")


def rsqrt(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``rsqrt`` (see ``Tensor.rsqrt``).

    >>> import leafgrad
    >>> leafgrad.rsqrt(leafgrad.tensor([0.5, 1.0]))
    tensor([1.4142, 1.0000])
    """
    return _out(_t(input).rsqrt(), out, "rsqrt")


def sgn(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``sgn`` (see ``Tensor.sgn``).

    >>> import leafgrad
    >>> leafgrad.sgn(leafgrad.tensor([0.5, 1.0]))
    tensor([1., 1.])
    """
    return _out(_t(input).sgn(), out, "sgn")


def square(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``square`` (see ``Tensor.square``).

    >>> import leafgrad
    >>> leafgrad.square(leafgrad.tensor([0.5, 1.0]))
    tensor([0.2500, 1.0000])
    """
    return _out(_t(input).square(), out, "square")


def floor(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``floor`` (see ``Tensor.floor``).

    >>> import leafgrad
    >>> leafgrad.floor(leafgrad.tensor([0.5, 1.0]))
    tensor([0., 1.])
    """
    return _out(_t(input).floor(), out, "floor")


def ceil(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``ceil`` (see ``Tensor.ceil``).

    >>> import leafgrad
    >>> leafgrad.ceil(leafgrad.tensor([0.5, 1.0]))
    tensor([1., 1.])
    """
    return _out(_t(input).ceil(), out, "ceil")


def trunc(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``trunc`` (see ``Tensor.trunc``).

    >>> import leafgrad
    >>> leafgrad.trunc(leafgrad.tensor([0.5, 1.0]))
    tensor([0., 1.])
    """
    return _out(_t(input).trunc(), out, "trunc")


def frac(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``frac`` (see ``Tensor.frac``).

    >>> import leafgrad
    >>> leafgrad.frac(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5000, 0.0000])
    """
    return _out(_t(input).frac(), out, "frac")


def isnan(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``isnan`` (see ``Tensor.isnan``).

    >>> import leafgrad
    >>> leafgrad.isnan(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _out(_t(input).isnan(), out, "isnan")


def isinf(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``isinf`` (see ``Tensor.isinf``).

    >>> import leafgrad
    >>> leafgrad.isinf(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _out(_t(input).isinf(), out, "isinf")


def isfinite(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``isfinite`` (see ``Tensor.isfinite``).

    >>> import leafgrad
    >>> leafgrad.isfinite(leafgrad.tensor([0.5, 1.0]))
    tensor([True, True])
    """
    return _out(_t(input).isfinite(), out, "isfinite")


def isposinf(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``isposinf`` (see ``Tensor.isposinf``).

    >>> import leafgrad
    >>> leafgrad.isposinf(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _out(_t(input).isposinf(), out, "isposinf")


def isneginf(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``isneginf`` (see ``Tensor.isneginf``).

    >>> import leafgrad
    >>> leafgrad.isneginf(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _out(_t(input).isneginf(), out, "isneginf")


def isreal(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``isreal`` (see ``Tensor.isreal``).

    >>> import leafgrad
    >>> leafgrad.isreal(leafgrad.tensor([0.5, 1.0]))
    tensor([True, True])
    """
    return _out(_t(input).isreal(), out, "isreal")


def signbit(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``signbit`` (see ``Tensor.signbit``).

    >>> import leafgrad
    >>> leafgrad.signbit(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _out(_t(input).signbit(), out, "signbit")


def logical_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``logical_not`` (see ``Tensor.logical_not``).

    >>> import leafgrad
    >>> leafgrad.logical_not(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _out(_t(input).logical_not(), out, "logical_not")


def positive(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``positive`` (see ``Tensor.positive``).

    >>> import leafgrad
    >>> leafgrad.positive(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5000, 1.0000])
    """
    return _out(_t(input).positive(), out, "positive")
