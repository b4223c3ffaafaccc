"""Free functions of the elementwise area: the unary math functions and value tests
(``leafgrad.exp2``, ``leafgrad.isnan``, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._dims import tensor_input
from ..._out import out_variant
from .arith import _t

if TYPE_CHECKING:
    from ...tensor import Tensor


@out_variant()
def exp2(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``exp2`` (see ``Tensor.exp2``).

    >>> import leafgrad
    >>> leafgrad.exp2(leafgrad.tensor([0.5, 1.0]))
    tensor([1.4142, 2.0000])
    """
    return _t(input).exp2()


@out_variant()
def expm1(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``expm1`` (see ``Tensor.expm1``).

    >>> import leafgrad
    >>> leafgrad.expm1(leafgrad.tensor([0.5, 1.0]))
    tensor([0.6487, 1.7183])
    """
    return _t(input).expm1()


@out_variant()
def log2(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``log2`` (see ``Tensor.log2``).

    >>> import leafgrad
    >>> leafgrad.log2(leafgrad.tensor([0.5, 1.0]))
    tensor([-1.,  0.])
    """
    return _t(input).log2()


@out_variant()
def log10(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``log10`` (see ``Tensor.log10``).

    >>> import leafgrad
    >>> leafgrad.log10(leafgrad.tensor([0.5, 1.0]))
    tensor([-0.3010,  0.0000])
    """
    return _t(input).log10()


@out_variant()
def log1p(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``log1p`` (see ``Tensor.log1p``).

    >>> import leafgrad
    >>> leafgrad.log1p(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4055, 0.6931])
    """
    return _t(input).log1p()


@out_variant()
def tan(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``tan`` (see ``Tensor.tan``).

    >>> import leafgrad
    >>> leafgrad.tan(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5463, 1.5574])
    """
    return _t(input).tan()


@out_variant()
def asin(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``asin`` (see ``Tensor.asin``).

    >>> import leafgrad
    >>> leafgrad.asin(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5236, 1.5708])
    """
    return _t(input).asin()


@out_variant()
def acos(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``acos`` (see ``Tensor.acos``).

    >>> import leafgrad
    >>> leafgrad.acos(leafgrad.tensor([0.5, 1.0]))
    tensor([1.0472, 0.0000])
    """
    return _t(input).acos()


@out_variant()
def atan(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``atan`` (see ``Tensor.atan``).

    >>> import leafgrad
    >>> leafgrad.atan(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4636, 0.7854])
    """
    return _t(input).atan()


@out_variant()
def sinh(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``sinh`` (see ``Tensor.sinh``).

    >>> import leafgrad
    >>> leafgrad.sinh(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5211, 1.1752])
    """
    return _t(input).sinh()


@out_variant()
def cosh(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``cosh`` (see ``Tensor.cosh``).

    >>> import leafgrad
    >>> leafgrad.cosh(leafgrad.tensor([0.5, 1.0]))
    tensor([1.1276, 1.5431])
    """
    return _t(input).cosh()


@out_variant()
def asinh(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``asinh`` (see ``Tensor.asinh``).

    >>> import leafgrad
    >>> leafgrad.asinh(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4812, 0.8814])
    """
    return _t(input).asinh()


@out_variant()
def atanh(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``atanh`` (see ``Tensor.atanh``).

    >>> import leafgrad
    >>> leafgrad.atanh(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5493,    inf])
    """
    return _t(input).atanh()


@out_variant()
def erf(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``erf`` (see ``Tensor.erf``).

    >>> import leafgrad
    >>> leafgrad.erf(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5205, 0.8427])
    """
    return _t(input).erf()


@out_variant()
def erfc(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``erfc`` (see ``Tensor.erfc``).

    >>> import leafgrad
    >>> leafgrad.erfc(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4795, 0.1573])
    """
    return _t(input).erfc()


@out_variant()
def erfinv(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``erfinv`` (see ``Tensor.erfinv``).

    >>> import leafgrad
    >>> leafgrad.erfinv(leafgrad.tensor([0.5, 1.0]))
    tensor([0.4769,    inf])
    """
    return _t(input).erfinv()


@out_variant()
def lgamma(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``lgamma`` (see ``Tensor.lgamma``).

    >>> import leafgrad
    >>> leafgrad.lgamma(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5724, 0.0000])
    """
    return _t(input).lgamma()


@out_variant()
def digamma(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``digamma`` (see ``Tensor.digamma``).

    >>> import leafgrad
    >>> leafgrad.digamma(leafgrad.tensor([0.5, 1.0]))
    tensor([-1.9635, -0.5772])
    """
    return _t(input).digamma()


@out_variant()
def sinc(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``sinc`` (see ``Tensor.sinc``).

    >>> import leafgrad
    >>> leafgrad.sinc(leafgrad.tensor([0.5, 1.0]))
    tensor([ 6.3662e-01, -2.7828e-08])
    """
    return _t(input).sinc()


@out_variant()
def deg2rad(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``deg2rad`` (see ``Tensor.deg2rad``).

    >>> import leafgrad
    >>> leafgrad.deg2rad(leafgrad.tensor([0.5, 1.0]))
    tensor([0.0087, 0.0175])
    """
    return _t(input).deg2rad()


@out_variant()
def rad2deg(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``rad2deg`` (see ``Tensor.rad2deg``).

    >>> import leafgrad
    >>> leafgrad.rad2deg(leafgrad.tensor([0.5, 1.0]))
    tensor([28.6479, 57.2958])
    """
    return _t(input).rad2deg()


@out_variant()
def rsqrt(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``rsqrt`` (see ``Tensor.rsqrt``).

    >>> import leafgrad
    >>> leafgrad.rsqrt(leafgrad.tensor([0.5, 1.0]))
    tensor([1.4142, 1.0000])
    """
    return _t(input).rsqrt()


@out_variant(rule="exact")
def sgn(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``sgn`` (see ``Tensor.sgn``).

    >>> import leafgrad
    >>> leafgrad.sgn(leafgrad.tensor([0.5, 1.0]))
    tensor([1., 1.])
    """
    return _t(input).sgn()


@out_variant()
def square(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``square`` (see ``Tensor.square``).

    >>> import leafgrad
    >>> leafgrad.square(leafgrad.tensor([0.5, 1.0]))
    tensor([0.2500, 1.0000])
    """
    return _t(input).square()


@out_variant(rule="exact")
def floor(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``floor`` (see ``Tensor.floor``).

    >>> import leafgrad
    >>> leafgrad.floor(leafgrad.tensor([0.5, 1.0]))
    tensor([0., 1.])
    """
    return _t(input).floor()


@out_variant(rule="exact")
def ceil(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``ceil`` (see ``Tensor.ceil``).

    >>> import leafgrad
    >>> leafgrad.ceil(leafgrad.tensor([0.5, 1.0]))
    tensor([1., 1.])
    """
    return _t(input).ceil()


@out_variant(rule="exact")
def trunc(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``trunc`` (see ``Tensor.trunc``).

    >>> import leafgrad
    >>> leafgrad.trunc(leafgrad.tensor([0.5, 1.0]))
    tensor([0., 1.])
    """
    return _t(input).trunc()


@out_variant(rule="exact")
def frac(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``frac`` (see ``Tensor.frac``).

    >>> import leafgrad
    >>> leafgrad.frac(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5000, 0.0000])
    """
    return _t(input).frac()


@tensor_input
def isnan(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``isnan`` (see ``Tensor.isnan``).

    >>> import leafgrad
    >>> leafgrad.isnan(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _t(input).isnan()


@tensor_input
def isinf(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``isinf`` (see ``Tensor.isinf``).

    >>> import leafgrad
    >>> leafgrad.isinf(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _t(input).isinf()


@tensor_input
def isfinite(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``isfinite`` (see ``Tensor.isfinite``).

    >>> import leafgrad
    >>> leafgrad.isfinite(leafgrad.tensor([0.5, 1.0]))
    tensor([True, True])
    """
    return _t(input).isfinite()


@out_variant(rule="exact")
def isposinf(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``isposinf`` (see ``Tensor.isposinf``).

    >>> import leafgrad
    >>> leafgrad.isposinf(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _t(input).isposinf()


@out_variant(rule="exact")
def isneginf(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``isneginf`` (see ``Tensor.isneginf``).

    >>> import leafgrad
    >>> leafgrad.isneginf(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _t(input).isneginf()


@tensor_input
def isreal(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``isreal`` (see ``Tensor.isreal``).

    >>> import leafgrad
    >>> leafgrad.isreal(leafgrad.tensor([0.5, 1.0]))
    tensor([True, True])
    """
    return _t(input).isreal()


@out_variant(rule="exact")
def signbit(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``signbit`` (see ``Tensor.signbit``).

    >>> import leafgrad
    >>> leafgrad.signbit(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _t(input).signbit()


@out_variant()
def logical_not(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``logical_not`` (see ``Tensor.logical_not``).

    >>> import leafgrad
    >>> leafgrad.logical_not(leafgrad.tensor([0.5, 1.0]))
    tensor([False, False])
    """
    return _t(input).logical_not()


@tensor_input
def positive(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``positive`` (see ``Tensor.positive``).

    >>> import leafgrad
    >>> leafgrad.positive(leafgrad.tensor([0.5, 1.0]))
    tensor([0.5000, 1.0000])
    """
    return _t(input).positive()
