"""The op table: one row per op; test_ops.py generates forward/backward/gradcheck tests from it.

A row says how to call the op (the same callable drives leafgrad and torch: ``fn(lib, *xs)``),
which input shapes to try (0-d, empty and broadcasting pairs included), the input domain, the
dtypes, and whether it is differentiable once / twice. Adding an op means adding one row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

UNARY = ((), (3,), (2, 3), (0,), (2, 0, 3), (1, 4))
BINARY = (
    ((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((3,), ()), ((), ()),
    ((0, 3), (3,)), ((4, 1, 3), (2, 3)),
)
FLOATS = ("float32", "float64")


@dataclass(frozen=True)
class OpInfo:
    """How to test one op against torch."""

    name: str
    fn: Callable  # fn(lib, *tensors) -> tensor, where lib is leafgrad or torch
    samples: tuple = UNARY  # tuples of input shapes (a bare shape means one input)
    domain: tuple[float, float] = (-2.0, 2.0)
    dtypes: tuple[str, ...] = FLOATS
    int_dtypes: tuple[str, ...] = ()  # forward-only checks on these (no gradients)
    grad: bool = True
    gradgrad: bool = True
    atol: float = 1e-5
    rtol: float = 1e-4
    # leafgrad records some composite ops as one node where torch records several (e.g.
    # batched matmul is torch's expand/reshape/bmm/view chain); the reason is given here.
    node_differs: str = ""
    funcs: tuple[str, ...] = ()  # public functions the row exercises, beyond its name's first word

    def shapes(self):
        """Input shapes per sample, always as a tuple of shapes."""
        for s in self.samples:
            yield s if (s and isinstance(s[0], tuple)) or s == ((),) else (s,)


_MATMUL = ("one MatmulBackward0 node; torch records its composite (UnsafeView/Bmm/View/Expand "
           "or Squeeze/Mm/Unsqueeze)")

OPS: list[OpInfo] = [
    # -- elementwise binary ------------------------------------------------------------------------
    OpInfo("add", lambda m, a, b: a + b, BINARY, int_dtypes=("int64", "int32", "uint8")),
    OpInfo("add_scalar", lambda m, a: a + 0.5, UNARY, int_dtypes=("int64",)),
    OpInfo("add_alpha", lambda m, a, b: m.add(a, b, alpha=2), BINARY[:3]),
    OpInfo("add_alpha_scalar", lambda m, a: a.add(3, alpha=2), UNARY[:3]),
    OpInfo("sub_alpha", lambda m, a, b: m.sub(a, b, alpha=0.5), BINARY[:3]),
    OpInfo("rsub_tensor", lambda m, a, b: m.rsub(a, b), BINARY[:3]),
    OpInfo("sub", lambda m, a, b: a - b, BINARY, int_dtypes=("int64",)),
    OpInfo("rsub_scalar", lambda m, a: 2 - a, UNARY),
    OpInfo("mul", lambda m, a, b: a * b, BINARY, int_dtypes=("int64", "int16")),
    OpInfo("mul_self", lambda m, a: a * a, UNARY),
    OpInfo("mul_scalar", lambda m, a: 3 * a, UNARY, int_dtypes=("int64",)),
    OpInfo("div", lambda m, a, b: a / b, BINARY, domain=(0.5, 2.0), int_dtypes=("int64",)),
    OpInfo("div_scalar", lambda m, a: a / 4, UNARY, int_dtypes=("int64",)),
    OpInfo("rdiv_scalar", lambda m, a: 2 / a, UNARY, domain=(0.5, 2.0)),
    OpInfo("pow_tensor", lambda m, a, b: a ** b, BINARY, domain=(0.5, 2.0)),
    OpInfo("pow_scalar", lambda m, a: a ** 3, UNARY, int_dtypes=("int64",)),
    OpInfo("pow_method_sq", lambda m, a: a.pow(2), UNARY),
    OpInfo("pow_frac", lambda m, a: a ** 0.5, UNARY, domain=(0.5, 2.0)),
    OpInfo("pow_neg", lambda m, a: a ** -1.5, UNARY, domain=(0.5, 2.0)),
    OpInfo("rpow_scalar", lambda m, a: 2 ** a, UNARY),
    OpInfo("where", lambda m, a, b: m.where(a > 0, a, b), BINARY),
    # -- elementwise unary -------------------------------------------------------------------------
    OpInfo("neg", lambda m, a: -a, UNARY, int_dtypes=("int64",)),
    OpInfo("exp", lambda m, a: a.exp(), UNARY),
    OpInfo("log", lambda m, a: a.log(), UNARY, domain=(0.2, 3.0)),
    OpInfo("sin", lambda m, a: a.sin(), UNARY),
    OpInfo("cos", lambda m, a: m.cos(a), UNARY),
    OpInfo("tanh", lambda m, a: a.tanh(), UNARY),
    OpInfo("sigmoid", lambda m, a: a.sigmoid(), UNARY, domain=(-6.0, 6.0)),
    OpInfo("relu", lambda m, a: a.relu(), UNARY, int_dtypes=("int64",)),
    OpInfo("sqrt", lambda m, a: a.sqrt(), UNARY, domain=(0.2, 3.0)),
    OpInfo("abs", lambda m, a: a.abs(), UNARY, int_dtypes=("int64",)),
    OpInfo("sign", lambda m, a: a.sign(), UNARY, gradgrad=False),
    OpInfo("reciprocal", lambda m, a: a.reciprocal(), UNARY, domain=(0.5, 2.0)),
    OpInfo("clone", lambda m, a: a.clone(), UNARY),
    OpInfo("to_double", lambda m, a: a.to(m.float64) * 1, UNARY[:3], dtypes=("float32",)),
    # -- reductions --------------------------------------------------------------------------------
    OpInfo("sum", lambda m, a: a.sum(), UNARY, int_dtypes=("int64", "bool")),
    OpInfo("sum_dim", lambda m, a: a.sum(-1), ((3,), (2, 3), (2, 0, 3), (1, 4)),
           int_dtypes=("int32",)),
    OpInfo("sum_dims_keepdim", lambda m, a: a.sum((0, 2), keepdim=True),
           ((2, 3, 4), (2, 0, 3))),
    OpInfo("sum_dim0_0d", lambda m, a: a.sum(0), ((),)),
    OpInfo("mean", lambda m, a: a.mean(), ((), (3,), (2, 3))),
    OpInfo("mean_dim", lambda m, a: a.mean(1, keepdim=True), ((2, 3), (4, 5, 2))),
    OpInfo("mean_dims", lambda m, a: m.mean(a, (0, -1)), ((2, 3), (4, 5, 2))),
    # -- linear algebra ----------------------------------------------------------------------------
    OpInfo("mm", lambda m, a, b: a @ b, (((2, 3), (3, 4)), ((1, 1), (1, 5)), ((0, 3), (3, 2)))),
    OpInfo("mv", lambda m, a, b: a @ b, (((2, 3), (3,)),)),
    OpInfo("dot", lambda m, a, b: a @ b, (((3,), (3,)),)),
    OpInfo("vec_mat", lambda m, a, b: m.matmul(a, b), (((3,), (3, 2)),),
           node_differs=_MATMUL, funcs=("matmul",)),
    OpInfo("bmm", lambda m, a, b: a @ b, (((2, 2, 3), (2, 3, 4)), ((2, 2, 3), (3, 4)),
                                          ((3, 1, 2, 3), (2, 3, 2))), node_differs=_MATMUL),
    OpInfo("mm_method", lambda m, a, b: a.mm(b), (((2, 3), (3, 4)),)),
    # -- shape and indexing ------------------------------------------------------------------------
    OpInfo("reshape", lambda m, a: a.reshape(3, -1), ((6,), (3, 2), (2, 3))),
    OpInfo("reshape_copy", lambda m, a: a.t().reshape(-1), ((2, 3),)),
    OpInfo("view", lambda m, a: a.view(-1), ((2, 3), (), (0, 2))),
    OpInfo("flatten", lambda m, a: a.flatten(1), ((2, 3, 4),)),
    OpInfo("transpose", lambda m, a: a.transpose(0, -1), ((2, 3), (2, 3, 4))),
    OpInfo("t", lambda m, a: a.t(), ((2, 3), (3,))),
    OpInfo("T", lambda m, a: a.T, ((2, 3), (2, 3, 4))),
    OpInfo("mT", lambda m, a: a.mT, ((2, 3, 4),)),
    OpInfo("permute", lambda m, a: a.permute(2, 0, 1), ((2, 3, 4),)),
    OpInfo("unsqueeze", lambda m, a: a.unsqueeze(1), ((2, 3), (3,))),
    OpInfo("squeeze", lambda m, a: a.squeeze(), ((1, 3, 1), (2, 3))),
    OpInfo("squeeze_dim", lambda m, a: a.squeeze(0), ((1, 3),)),
    OpInfo("squeeze_dims", lambda m, a: a.squeeze((0, 2)), ((1, 3, 1),)),
    OpInfo("expand", lambda m, a: a.expand(2, 3, 4) * 1, ((3, 1), (1, 4), ())),
    OpInfo("select", lambda m, a: a[1], ((3, 4), (2,))),
    OpInfo("select_neg", lambda m, a: a[:, -1], ((3, 4),)),
    OpInfo("slice", lambda m, a: a[1:], ((3, 4),)),
    OpInfo("slice_step", lambda m, a: a[:, ::2], ((3, 5),)),
    OpInfo("full_slice", lambda m, a: a[:], ((3,),)),
    OpInfo("ellipsis", lambda m, a: a[..., 1], ((2, 3, 4),)),
    OpInfo("alias", lambda m, a: a[...] * 1, ((2, 3),)),
    OpInfo("none_index", lambda m, a: a[None, 0, 1:], ((3, 4),)),
    OpInfo("index_list", lambda m, a: a[[0, 2, 0]], ((3, 4),)),
    OpInfo("index_mixed", lambda m, a: a[1:, [0, 1, 1]], ((3, 4),)),
    OpInfo("index_mask", lambda m, a: a[a > 0], ((3, 4),)),
    OpInfo("setitem", lambda m, a, b: _setitem(a, b), (((3, 4), (4,)), ((3, 4), ()))),
]


def _setitem(a, b):
    """``y = a * 1; y[1] = b``: differentiable setitem into a non-leaf (CopySlices)."""
    y = a * 1
    y[1] = b
    return y


# Comparisons: forward only (their results are bool tensors, not differentiable)
OPS += [
    OpInfo(name, fn, BINARY, grad=False, int_dtypes=("int64", "bool"))
    for name, fn in [
        ("eq", lambda m, a, b: m.eq(a, b)), ("ne", lambda m, a, b: a != b),
        ("lt", lambda m, a, b: m.lt(a, b)), ("le", lambda m, a, b: a <= b),
        ("gt", lambda m, a, b: a > b), ("ge", lambda m, a, b: m.ge(a, b)),
    ]
]

# Op classes that no row reaches, with the reason.
UNTESTED_NODES = {
    "ToDevice": "a move between devices: tested on the fake device (and CUDA where CuPy runs) "
                "in test_device.py",
    # unique's nodes have no derivative (their backward raises, as PyTorch's): the result's
    # requires_grad, node name and error are tested against torch in test_edges.py
    "Unique2": "no derivative (test_edges.py)", "UniqueDim": "no derivative (test_edges.py)",
    "UniqueConsecutive": "no derivative (test_edges.py)",
    "_ScatterReduceSrcError": "only a second derivative of scatter_reduce('prod') with several "
                              "zeros at one place, which raises as torch's Error node "
                              "(test_reduce_grads_nonfinite.py)",
}


def _load_area_tables() -> None:
    """Add the rows of every tests/opinfo_<area>.py (one file per op area keeps edits apart)."""
    import importlib
    import pathlib

    here = pathlib.Path(__file__).parent
    for path in sorted(here.glob("opinfo_*.py")):
        mod = importlib.import_module(path.stem)
        OPS.extend(mod.OPS)
        UNTESTED_NODES.update(getattr(mod, "UNTESTED_NODES", {}))


_load_area_tables()
