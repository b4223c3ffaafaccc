"""Op-table rows for the elementwise surface (leafgrad/methods/elementwise.py)."""

from __future__ import annotations

from opinfo import BINARY, UNARY, OpInfo

B3 = BINARY[:3] + (((), ()), ((0, 3), (3,)))  # same, broadcast, outer, 0-d, empty
T3 = (((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 1)), ((), (), ()), ((0, 3), (3,), (1, 3)))
U = UNARY
INTS = ("int64",)

OPS: list[OpInfo] = [
    # -- unary, floating (ints compute in the default float dtype) ------------------------------
    OpInfo("exp2", lambda m, a: m.exp2(a), U, int_dtypes=INTS),
    OpInfo("expm1", lambda m, a: a.expm1(), U),
    OpInfo("log2", lambda m, a: m.log2(a), U, domain=(0.2, 3.0)),
    OpInfo("log10", lambda m, a: a.log10(), U, domain=(0.2, 3.0)),
    OpInfo("log1p", lambda m, a: m.log1p(a), U, domain=(-0.5, 3.0)),
    OpInfo("tan", lambda m, a: m.tan(a), U, domain=(-1.2, 1.2)),
    OpInfo("asin", lambda m, a: m.asin(a), U, domain=(-0.9, 0.9), funcs=("arcsin",)),
    OpInfo("acos", lambda m, a: m.arccos(a), U, domain=(-0.9, 0.9), funcs=("arccos",)),
    OpInfo("atan", lambda m, a: m.atan(a), U, funcs=("arctan",)),
    OpInfo("sinh", lambda m, a: m.sinh(a), U),
    OpInfo("cosh", lambda m, a: a.cosh(), U),
    OpInfo("asinh", lambda m, a: m.arcsinh(a), U, funcs=("arcsinh",)),
    OpInfo("acosh", lambda m, a: m.acosh(a), U, domain=(1.2, 3.0), funcs=("arccosh",)),
    OpInfo("atanh", lambda m, a: m.arctanh(a), U, domain=(-0.9, 0.9), funcs=("arctanh",)),
    OpInfo("rsqrt", lambda m, a: m.rsqrt(a), U, domain=(0.2, 3.0), int_dtypes=INTS),
    OpInfo("square", lambda m, a: m.square(a), U, int_dtypes=("int64", "bool")),
    OpInfo("logit", lambda m, a: m.logit(a), U, domain=(0.1, 0.9)),
    OpInfo("logit_eps", lambda m, a: a.logit(0.2), U, domain=(0.05, 0.95)),
    OpInfo("erf", lambda m, a: m.erf(a), U, domain=(-3.0, 3.0), int_dtypes=INTS,
           funcs=("special_erf",)),
    OpInfo("erfc", lambda m, a: m.erfc(a), U, domain=(-3.0, 4.0)),
    OpInfo("erfinv", lambda m, a: m.erfinv(a), U, domain=(-0.95, 0.95)),
    OpInfo("lgamma", lambda m, a: m.lgamma(a), U, domain=(0.2, 6.0), int_dtypes=INTS),
    OpInfo("lgamma_neg", lambda m, a: a.lgamma(), ((3,), (2, 3)), domain=(-3.9, -3.1)),
    OpInfo("digamma", lambda m, a: m.digamma(a), U, domain=(0.2, 6.0)),
    OpInfo("polygamma", lambda m, a: m.polygamma(1, a), U[:3], domain=(0.5, 6.0)),
    OpInfo("polygamma_2", lambda m, a: a.polygamma(2), U[:3], domain=(0.5, 6.0)),
    OpInfo("sinc", lambda m, a: m.sinc(a), U),
    OpInfo("deg2rad", lambda m, a: m.deg2rad(a), U, int_dtypes=INTS),
    OpInfo("rad2deg", lambda m, a: a.rad2deg(), U),
    # torch's sgn gradient is a ZeroTensor (no numpy()); checked in test_elementwise_extra.py
    OpInfo("sgn", lambda m, a: m.sgn(a), U, grad=False, int_dtypes=("int64", "bool")),
    OpInfo("frac", lambda m, a: m.frac(a), U),
    OpInfo("nan_to_num", lambda m, a: m.nan_to_num(a), U, int_dtypes=INTS),
    OpInfo("nan_to_num_inf", lambda m, a: (a / (a > 0)).nan_to_num(posinf=3.0), U, grad=False),
    # piecewise constant: zero gradient; ints are copied
    OpInfo("floor", lambda m, a: m.floor(a * 3), U, int_dtypes=("int64", "uint8")),
    OpInfo("ceil", lambda m, a: m.ceil(a * 3), U, int_dtypes=INTS),
    OpInfo("trunc", lambda m, a: m.trunc(a * 3), U, int_dtypes=INTS, funcs=("fix",)),
    OpInfo("round", lambda m, a: m.round(a * 3), U, int_dtypes=INTS),
    OpInfo("round_decimals", lambda m, a: m.round(a, decimals=2), U),
    OpInfo("positive", lambda m, a: m.positive(a) * 1, U, int_dtypes=("int64", "bool")),
    # -- clamp -------------------------------------------------------------------------------------
    OpInfo("clamp", lambda m, a: m.clamp(a, -0.5, 0.5), U, int_dtypes=INTS, funcs=("clip",)),
    OpInfo("clamp_int_bounds", lambda m, a: a.clamp(0, 1), U, int_dtypes=INTS),
    OpInfo("clamp_min", lambda m, a: m.clamp_min(a, 0.1), U, int_dtypes=INTS),
    OpInfo("clamp_max", lambda m, a: m.clamp_max(a, 0.1), U),
    OpInfo("clamp_kw_min", lambda m, a: a.clamp(min=0.1), U),
    OpInfo("clamp_tensor", lambda m, a, b, c: m.clamp(a, b - 1, c + 1), T3),
    OpInfo("clamp_tensor_min", lambda m, a, b: m.clamp(a, min=b), B3),
    OpInfo("clamp_min_tensor", lambda m, a, b: m.clamp_min(a, b), B3),
    OpInfo("clamp_max_tensor", lambda m, a, b: a.clamp_max(b), B3),
    # -- binary -------------------------------------------------------------------------------
    OpInfo("maximum", lambda m, a, b: m.maximum(a, b), B3, int_dtypes=("int64", "bool")),
    OpInfo("minimum", lambda m, a, b: m.minimum(a, b), B3, int_dtypes=INTS),
    OpInfo("maximum_ties", lambda m, a: m.maximum(a, a.detach().round()), U[:3]),
    OpInfo("fmax", lambda m, a, b: m.fmax(a, b), B3, int_dtypes=INTS),
    OpInfo("fmin", lambda m, a, b: m.fmin(a, b), B3),
    OpInfo("atan2", lambda m, a, b: m.atan2(a, b), B3, int_dtypes=INTS, funcs=("arctan2",)),
    OpInfo("hypot", lambda m, a, b: m.hypot(a, b), B3, int_dtypes=INTS),
    OpInfo("xlogy", lambda m, a, b: m.xlogy(a, b), B3, domain=(0.2, 2.0), int_dtypes=INTS),
    OpInfo("xlogy_scalar", lambda m, a: m.xlogy(a, 3.0), U),
    OpInfo("xlogy_rscalar", lambda m, a: m.xlogy(2.0, a), U, domain=(0.2, 2.0)),
    OpInfo("logaddexp", lambda m, a, b: m.logaddexp(a, b), B3),
    OpInfo("logaddexp2", lambda m, a, b: m.logaddexp2(a, b), B3),
    OpInfo("copysign", lambda m, a, b: m.copysign(a, b), B3, int_dtypes=INTS),
    OpInfo("copysign_scalar", lambda m, a: a.copysign(-1.0), U),
    OpInfo("remainder", lambda m, a, b: m.remainder(a, b), B3, domain=(0.3, 3.0),
           int_dtypes=INTS),
    OpInfo("remainder_op", lambda m, a, b: (a * 3) % (b - 1.5), B3, domain=(0.6, 1.2),
           int_dtypes=INTS),
    OpInfo("remainder_scalar", lambda m, a: a % 0.7, U, int_dtypes=INTS),
    OpInfo("fmod", lambda m, a, b: m.fmod(a * 3, b - 1.5), B3, domain=(0.6, 1.2),
           int_dtypes=INTS),
    OpInfo("fmod_scalar", lambda m, a: m.fmod(a, -0.7), U, int_dtypes=INTS),
    OpInfo("div_trunc", lambda m, a, b: m.div(a * 3, b, rounding_mode="trunc"), B3,
           domain=(0.5, 2.0), int_dtypes=INTS),
    OpInfo("div_floor", lambda m, a, b: a.div(b - 3, rounding_mode="floor"), B3,
           domain=(0.5, 2.0), int_dtypes=INTS),
    OpInfo("div_floor_scalar", lambda m, a: m.div(a, 0.3, rounding_mode="floor"), U,
           int_dtypes=INTS),
    OpInfo("true_divide", lambda m, a, b: m.true_divide(a, b), B3, domain=(0.5, 2.0),
           int_dtypes=INTS, funcs=("divide",)),
    # floor_divide / heaviside record PyTorch's "NotImplemented" node, whose backward raises;
    # the rows detach so the formula test skips them (test_elementwise_extra.py checks the node)
    OpInfo("floor_divide", lambda m, a, b: m.floor_divide(a.detach() * 3, b.detach()), B3,
           domain=(0.5, 2.0), int_dtypes=INTS, grad=False),
    OpInfo("floordiv_op", lambda m, a, b: (a.detach() * 3) // b.detach(), B3, domain=(0.5, 2.0),
           int_dtypes=INTS, grad=False),
    OpInfo("float_power", lambda m, a, b: m.float_power(a, b), B3, domain=(0.5, 2.0),
           int_dtypes=INTS),
    OpInfo("float_power_scalar", lambda m, a: a.float_power(2), U, int_dtypes=INTS),
    OpInfo("heaviside", lambda m, a, b: m.heaviside(a.detach().round(), b.detach()), B3,
           grad=False, int_dtypes=INTS),
    # -- ternary ------------------------------------------------------------------------------
    OpInfo("lerp", lambda m, a, b: m.lerp(a, b, 0.3), B3),
    OpInfo("lerp_big_weight", lambda m, a, b: a.lerp(b, 0.8), B3[:2]),
    OpInfo("lerp_tensor", lambda m, a, b, c: m.lerp(a, b, c), T3),
    OpInfo("addcmul", lambda m, a, b, c: m.addcmul(a, b, c, value=0.5), T3, int_dtypes=INTS),
    OpInfo("addcdiv", lambda m, a, b, c: m.addcdiv(a, b, c, value=2), T3, domain=(0.5, 2.0)),
    OpInfo("where_scalar", lambda m, a: m.where(a > 0, a, 0.5), U),
]

# Comparison, logic and bit operations: forward only (bool or integer results)
_NOGRAD_B = [
    ("equal", lambda m, a, b: m.tensor(m.equal(a, b))),
    ("isclose", lambda m, a, b: m.isclose(a, b, rtol=0.5, atol=0.1)),
    ("allclose", lambda m, a, b: m.tensor(m.allclose(a, a + b * 1e-9))),
    ("logical_and", lambda m, a, b: m.logical_and(a, b)),
    ("logical_or", lambda m, a, b: m.logical_or(a > 0, b)),
    ("logical_xor", lambda m, a, b: m.logical_xor(a, b)),
]
_NOGRAD_U = [
    ("isnan", lambda m, a: m.isnan(a / a)),
    ("isinf", lambda m, a: m.isinf(a / (a > 0))),
    ("isfinite", lambda m, a: m.isfinite(a / (a > 0))),
    ("isposinf", lambda m, a: m.isposinf(a / (a > 0))),
    ("isneginf", lambda m, a: m.isneginf(-a / (a > 0))),
    ("isreal", lambda m, a: m.isreal(a)),
    ("signbit", lambda m, a: m.signbit(a)),
    ("logical_not", lambda m, a: m.logical_not(a)),
    ("bitwise_not", lambda m, a: ~(a > 0)),
]
_BITS = [  # integer/bool ops; .long() and comparisons keep the rows valid for float inputs too
    ("bitwise_and", lambda m, a, b: m.bitwise_and(a.long(), b.long())),
    ("bitwise_and_bool", lambda m, a, b: (a > 0) & (b > 0)),
    ("bitwise_or", lambda m, a, b: a.long() | b.long()),
    ("bitwise_or_bool", lambda m, a, b: m.bitwise_or(a > 0, b > 1)),
    ("bitwise_xor", lambda m, a, b: m.bitwise_xor(a.long(), b.long()) ^ 3),
    ("bitwise_xor_bool", lambda m, a, b: (a > 0) ^ (b > 0)),
    ("bitwise_left_shift", lambda m, a, b: m.bitwise_left_shift(a.long(), b.long().abs())),
    ("bitwise_right_shift", lambda m, a, b: a.long() >> b.long().abs()),
    ("lshift_scalar", lambda m, a, b: (a.long() << 3) + (b.long() >> 1)),
]
OPS += [OpInfo(n, f, B3, grad=False, int_dtypes=("int64", "bool")) for n, f in _NOGRAD_B]
OPS += [OpInfo(n, f, U, grad=False, int_dtypes=("int64", "bool")) for n, f in _NOGRAD_U]
OPS += [OpInfo(n, f, B3, grad=False, int_dtypes=("int64", "int32", "bool")) for n, f in _BITS]
OPS += [
    OpInfo("bitwise_not_int", lambda m, a: m.bitwise_not(a.long()), U, grad=False,
           int_dtypes=("int64", "uint8")),
    OpInfo("sgn_times", lambda m, a: m.sgn(a) * a, U),
]

UNTESTED_NODES = {
    "_UnaryFloat": "abstract base class", "_Piecewise": "abstract base class",
    "_Scale": "abstract base class",
    "NotImplementedOp": "its backward raises, as PyTorch's NotImplemented node does; "
                        "test_elementwise_extra.py checks the node name and the error",
}
