"""Inverses, determinants and solves: inv, det, slogdet, logdet, solve, solve_triangular,
cholesky_solve; the helpers the decompositions share."""

from __future__ import annotations

import numpy as np

from ...autograd.node import Op
from ...backend import array_module, as_array
from ...tensor import Tensor, _wrap
from .. import dual
from .._apply import record, record_unary
from ..elementwise import _operands
from ..reduce import return_type
from .products import _new, _shape_str

# ================================================================================================
# The rest of linear algebra. Decompositions run NumPy's LAPACK; their backward formulas are
# PyTorch's (FunctionsManual.cpp), written with operators and the dual helpers below so that a
# create_graph backward records them (higher derivatives for free).
# ================================================================================================


def _check_square(a: Tensor, op: str) -> None:
    s = a._data.shape
    if a._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if s[-1] != s[-2]:
        raise RuntimeError(
            f"{op}: A must be batches of square matrices, but they are {s[-2]} by {s[-1]} "
            "matrices\nWhy: this decomposition is defined for square matrices only.")


def _check_float(a: Tensor, op: str) -> None:
    if a._data.dtype.kind != "f":
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as input. Got "
            f"{a.dtype.name.capitalize()}\nWhy: LAPACK works on floats; convert first (x.float()).")


class LinAlgError(RuntimeError):  # noqa: N818 - PyTorch's name
    """A linear-algebra routine failed on its input (PyTorch's ``torch.linalg.LinAlgError``).

    >>> import leafgrad
    >>> issubclass(leafgrad.linalg.LinAlgError, RuntimeError)
    True
    """


LinAlgError.__module__ = "leafgrad.linalg"


def _lapack(fn, op: str, *args, **kwargs):
    """Call a NumPy LAPACK routine; its LinAlgError becomes leafgrad.linalg.LinAlgError."""
    try:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    except np.linalg.LinAlgError as e:
        if "cholesky" in op:
            what = ("The factorization could not be completed because the input is not "
                    "positive-definite")
        elif "svd" in op or "eig" in op or "pinv" in op or "rank" in op:
            what = ("The algorithm failed to converge because the input matrix is "
                    "ill-conditioned or has too many repeated singular values (or contains "
                    "non-finite values)")
        else:
            what = "The solver failed because the input matrix is singular"
        raise LinAlgError(
            f"{op}: {what} ({e}).\nWhy: the decomposition failed in LAPACK; check that the "
            "matrix is finite and invertible (symmetric positive-definite for cholesky).") \
            from None


def col_major(x):
    """``x`` with each matrix (last two dims) stored column-major, batches row-major: the layout
    of PyTorch's LAPACK results (inv, solve, cholesky...). Code that reads memory order
    (``as_strided``, ``rand_like``, ``view``) then sees what it sees in PyTorch."""
    if x.ndim < 2:
        return x
    xp = array_module(x)
    return xp.swapaxes(xp.ascontiguousarray(xp.swapaxes(x, -1, -2)), -1, -2)


# -- determinants and inverses ---------------------------------------------------------------------
class Inv(Op):
    name_ = "LinalgInvExBackward0"
    formula = {"a": "-out.mT @ grad @ out.mT"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, a):
        return col_major(_lapack(np.linalg.inv, "linalg.inv", a))

    def backward(self, grad):
        ai = self.result(grad)
        return -(dual.mT(ai) @ grad @ dual.mT(ai))


def inv(a: Tensor) -> Tensor:
    """Inverse of a square matrix (or batch).

    >>> import leafgrad
    >>> inv(leafgrad.tensor([[2., 0.], [0., 4.]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    _check_square(a, "linalg.inv")
    _check_float(a, "linalg.inv")
    fn = _new(Inv)
    return record_unary(fn, a, fn.forward(a._data))


class Det(Op):
    name_ = "LinalgDetBackward0"
    formula = {"a": "(grad * out).unsqueeze(-1).unsqueeze(-1) * a.inverse().mT"}
    save_output = True
    __slots__ = ()

    def forward(self, a):
        return as_array(np.linalg.det(a))

    def backward(self, grad):
        (a,) = self.saved(grad)
        out = self.result(grad)
        return dual.unsqueeze(dual.unsqueeze(grad * out, -1), -1) * dual.mT(dual.inv(a))


def det(a: Tensor) -> Tensor:
    """Determinant of a square matrix (or batch).

    >>> import leafgrad
    >>> det(leafgrad.tensor([[2., 1.], [1., 3.]]))
    tensor(5.)
    """
    _check_square(a, "linalg.det")
    _check_float(a, "linalg.det")
    fn = _new(Det)
    return record_unary(fn, a, fn.forward(a._data))


class Slogdet(Op):
    name_ = "LinalgSlogdetBackward0"
    formula = {"a": "grad.unsqueeze(-1).unsqueeze(-1) * a.inverse().mT"}
    __slots__ = ()

    def forward(self, a):
        return np.linalg.slogdet(a)

    def backward(self, grad):
        (a,) = self.saved(grad)
        return dual.unsqueeze(dual.unsqueeze(grad, -1), -1) * dual.mT(dual.inv(a))


def slogdet(a: Tensor):
    """(sign, log|det|) of a square matrix, as a named tuple.

    >>> import leafgrad
    >>> slogdet(leafgrad.tensor([[2., 0.], [0., 3.]])).logabsdet
    tensor(1.7918)
    """
    _check_square(a, "linalg.slogdet")
    _check_float(a, "linalg.slogdet")
    fn = _new(Slogdet)
    s, ld = fn.forward(a._data)
    la = record_unary(fn, a, as_array(ld))
    return return_type("linalg_slogdet")(_wrap(as_array(s)), la)


def logdet(a: Tensor) -> Tensor:
    """log(det(a)): nan for a negative determinant, -inf for zero.

    >>> import leafgrad
    >>> logdet(leafgrad.tensor([[2., 0.], [0., 3.]]))
    tensor(1.7918)
    """
    s, ld = slogdet(a)
    from ..elementwise import where

    return where(s._data < 0, _wrap(array_module(ld._data).asarray(np.nan, ld._data.dtype)), ld)


# -- solves ----------------------------------------------------------------------------------------
def _is_vector_rhs(a, b) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) if 1-d or A's batch shape without the column."""
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


class Solve(Op):
    name_ = "LinalgSolveExBackward0"
    formula = {"a": "solve_backward(grad, a, out, vec)[0]",
               "b": "solve_backward(grad, a, out, vec)[1]"}
    save_output = True
    saved_for = ((0, 1), ())  # PyTorch saves A and the result, never B
    __slots__ = ("vec",)

    def forward(self, a, b):
        if self.vec:
            # PyTorch lays a batch of solution vectors out as one column-major matrix
            return col_major(_lapack(np.linalg.solve, "linalg.solve", a, b[..., None])[..., 0])
        return col_major(_lapack(np.linalg.solve, "linalg.solve", a, b))

    def backward(self, grad):
        a, _ = self.saved(grad)
        need = self.needs_input_grad
        ga, gb = _solve_backward(grad, a, self.result(grad), self.vec, need[0])
        return ga, (gb if need[1] else None)


def _solve_backward(grad, a, x, vec: bool, need_a: bool = True):
    """(gA, gB) of X = A^{-1} B (dual)."""
    if vec:
        grad = dual.unsqueeze(grad, -1)
        x = dual.unsqueeze(x, -1)
    gb = dual.solve(dual.mT(a), grad)
    ga = -(gb @ dual.mT(x)) if need_a else None
    if vec:
        gb = dual.squeeze(gb, -1)
    return ga, gb


def solve(a: Tensor, b: Tensor, *, left: bool = True) -> Tensor:
    """Solution ``x`` of ``a @ x = b`` (``x @ a = b`` with ``left=False``).

    >>> import leafgrad
    >>> solve(leafgrad.tensor([[2., 0.], [0., 4.]]), leafgrad.tensor([2., 2.]))
    tensor([1.0000, 0.5000])
    """
    if not left:
        return dual.mT(solve(dual.mT(a), dual.mT(b)))
    _check_square(a, "linalg.solve")
    _check_float(a, "linalg.solve")
    fn = _new(Solve)
    fn.vec = _is_vector_rhs(a._data, b._data)
    ad, bd = _operands(a, b)
    if ad.shape[-1] != (bd.shape[-1] if fn.vec else bd.shape[-2]):
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
            f"({_shape_str(ad.shape[-2:])} and {_shape_str(bd.shape[-2:])})")
    return record(fn, (a, b), fn.forward(ad, bd))


def _tri(a, upper: bool, unit: bool):
    m = np.triu(a) if upper else np.tril(a)
    if unit:
        n = a.shape[-1]
        idx = array_module(a).arange(n)
        m = m.copy()
        m[..., idx, idx] = 1
    return m


def _substitute(t_, b, upper: bool, unit: bool):
    """``t_^{-1} b`` by substitution, row by row as BLAS's trsm (a unit diagonal is not
    divided by).

    Used when an operand holds inf or NaN, or the diagonal a zero: LAPACK's general solver
    (row pivoting) would spread non-finite values over rows that a triangular solve never
    touches, and refuses a singular matrix that PyTorch's trsm divides by (giving inf).
    """
    xp = array_module(b)
    batch = np.broadcast_shapes(t_.shape[:-2], b.shape[:-2])
    dt = np.result_type(t_, b)
    a = xp.broadcast_to(t_, batch + t_.shape[-2:])
    x = xp.array(xp.broadcast_to(b, batch + b.shape[-2:]), dtype=dt)
    n = a.shape[-1]
    with np.errstate(all="ignore"):
        for k in (range(n - 1, -1, -1) if upper else range(n)):
            if not unit:
                x[..., k, :] /= a[..., k, k, None]
            xk = x[..., k:k + 1, :]
            rows = slice(0, k) if upper else slice(k + 1, n)
            x[..., rows, :] -= a[..., rows, k, None] * xk
    return x


class SolveTriangular(Op):
    name_ = "LinalgSolveTriangularBackward0"
    formula = {"a": "solve_triangular_backward(grad, a, out, upper, left, unit)[0]",
               "b": "solve_triangular_backward(grad, a, out, upper, left, unit)[1]"}
    save_output = True
    saved_for = ((0, 1), ())  # PyTorch saves A and the result, never B
    __slots__ = ("upper", "left", "unit")

    def forward(self, a, b):
        t_ = _tri(a, self.upper, self.unit)
        upper = self.upper
        if not self.left:  # x a = b  <=>  a^T x^T = b^T
            t_, b, upper = np.swapaxes(t_, -1, -2), np.swapaxes(b, -1, -2), not upper
        xp = array_module(b)
        n = t_.shape[-1]
        idx = xp.arange(n)
        if (bool(xp.isfinite(t_).all()) and bool(xp.isfinite(b).all())
                and (self.unit or bool((t_[..., idx, idx] != 0).all()))):
            x = _lapack(np.linalg.solve, "linalg.solve_triangular", t_, b)
        else:
            x = _substitute(t_, b, upper, self.unit)
        # PyTorch's LAPACK layout: column-major (the right form's transpose already is)
        return col_major(x) if self.left else np.swapaxes(x, -1, -2)

    def backward(self, grad):
        a, _ = self.saved(grad)
        need = self.needs_input_grad
        ga, gb = _solve_triangular_backward(grad, a, self.result(grad), self.upper, self.left,
                                            self.unit, need[0])
        return ga, (gb if need[1] else None)


def _solve_triangular_backward(grad, a, x, upper, left, unit, need_a: bool = True):
    """(gA, gB) of a triangular solve, gA restricted to A's triangle as PyTorch (dual)."""
    gb = dual.solve_triangular(dual.mT(a), grad, not upper, left, unit)
    ga = None
    if need_a:
        ga = -(gb @ dual.mT(x)) if left else -(dual.mT(x) @ gb)
        n = dual.raw(a).shape[-1]
        k = 1 if unit else 0
        xp = array_module(dual.raw(a))
        m = xp.triu(xp.ones((n, n), bool), k) if upper else xp.tril(xp.ones((n, n), bool), -k)
        ga = dual.mask(ga, m)
    return ga, gb


class TriangularSolve(SolveTriangular):
    name_ = "TriangularSolveBackward0"
    saved_for = None  # the old API's node saves both A and B (and the solution)
    __slots__ = ()


class _Tri:
    __slots__ = ("upper", "left", "unit")

    def __init__(self, upper, left, unit):
        self.upper, self.left, self.unit = upper, left, unit


def solve_triangular(a: Tensor, b: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False, _cls=None) -> Tensor:
    """Solve ``a @ x = b`` for triangular ``a`` (only its triangle is read).

    >>> import leafgrad
    >>> solve_triangular(leafgrad.tensor([[2., 0.], [1., 1.]]), leafgrad.eye(2), upper=False)
    tensor([[ 0.5000,  0.0000],
            [-0.5000,  1.0000]])
    """
    _check_square(a, "linalg.solve_triangular")
    fn = _new(_cls or SolveTriangular)
    fn.upper, fn.left, fn.unit = upper, left, unitriangular
    ad, bd = _operands(a, b)
    if bd.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    return record(fn, (a, b), fn.forward(ad, bd))


def triangular_solve(b: Tensor, a: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False):
    """Old API: (solution, cloned_coefficient) of ``op(a) @ x = b``.

    >>> import leafgrad
    >>> triangular_solve(leafgrad.ones(2, 1), leafgrad.tensor([[2., 1.], [0., 1.]])).solution
    tensor([[0.],
            [1.]])
    """
    aa = dual.mT(a) if transpose else a
    up = upper != transpose
    x = solve_triangular(aa, b, upper=up, unitriangular=unitriangular, _cls=TriangularSolve)
    return return_type("triangular_solve")(x, a.clone())


class CholeskySolve(Op):
    name_ = "CholeskySolveBackward0"
    formula = {"b": "cholesky_solve_backward(grad, L, out, upper)[0]",
               "L": "cholesky_solve_backward(grad, L, out, upper)[1]"}
    save_output = True
    __slots__ = ("upper",)

    def forward(self, b, L):  # noqa: N803
        Lt = np.triu(L) if self.upper else np.tril(L)  # noqa: N806
        A = dual.mT(Lt) @ Lt if self.upper else Lt @ dual.mT(Lt)  # noqa: N806
        return col_major(_lapack(np.linalg.solve, "cholesky_solve", A, b))

    def backward(self, grad):
        _, L = self.saved(grad)  # noqa: N806
        need = self.needs_input_grad
        gb, gL = _cholesky_solve_backward(grad, L, self.result(grad), self.upper,  # noqa: N806
                                          need[1])
        return (gb if need[0] else None), gL


def _cholesky_solve_backward(grad, L, x, upper: bool, need_l: bool = True):  # noqa: N803
    """(gB, gL) of X = (L L^T)^{-1} B, as PyTorch's cholesky_solve_backward (dual)."""
    if isinstance(grad, Tensor) or isinstance(L, Tensor):
        gb = cholesky_solve(grad, L, upper)
    else:
        helper = _new(CholeskySolve)
        helper.upper = upper
        gb = helper.forward(grad, L)
    gL = None  # noqa: N806
    if need_l:
        common = gb @ dual.mT(x)
        common = common + dual.mT(common)
        gL = -(L @ common) if upper else -(common @ L)  # noqa: N806
    return gb, gL


def cholesky_solve(b: Tensor, L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """Solve ``A x = b`` given the Cholesky factor ``L`` of ``A``.

    >>> import leafgrad
    >>> cholesky_solve(leafgrad.ones(2, 1), leafgrad.tensor([[2., 0.], [0., 1.]]))
    tensor([[0.2500],
            [1.0000]])
    """
    fn = _new(CholeskySolve)
    fn.upper = upper
    bd, Ld = _operands(b, L)  # noqa: N806
    return record(fn, (b, L), fn.forward(bd, Ld))
