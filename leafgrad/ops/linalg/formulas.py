"""The helpers linear-algebra formulas call (added to leafgrad.autograd.formula's namespace)."""

from __future__ import annotations

from ...tensor import Tensor
from .decomp import Eigh, Qr, Svd, _cholesky_backward, _pinv_backward, _pinv_np, pinv
from .einsum import Einsum, _dcross
from .products import _new
from .solve import _cholesky_solve_backward, _solve_backward, _solve_triangular_backward


def _qr_backward(gq, gr, q, r):
    fn = _new(Qr)
    fn.mode = "reduced"
    fn.outs = (q, r)
    return fn.backward(gq, gr)


def _svd_backward(gu, gs, gvh, u, s, vh):
    fn = _new(Svd)
    fn.full = False
    fn.outs = (u, s, vh)
    return fn.backward(gu, gs, gvh)


def _eigh_backward(gl, gv, lam, v):
    fn = _new(Eigh)
    fn.outs = (lam, v)
    return fn.backward(gl, gv)


def _einsum_grad(terms, out_term, i: int, grad, operands):
    fn = _new(Einsum)
    fn.terms, fn.out_term = terms, out_term
    return fn._grad_for(i, grad, operands)


def _pinv_dual(a):
    return pinv(a) if isinstance(a, Tensor) else _pinv_np(a, None, None, False)


# Helpers the op formulas above call (added to leafgrad.autograd.formula's namespace).
FORMULA_HELPERS = {
    "cross": _dcross, "solve_backward": _solve_backward,
    "solve_triangular_backward": _solve_triangular_backward,
    "cholesky_solve_backward": _cholesky_solve_backward, "cholesky_backward": _cholesky_backward,
    "qr_backward": _qr_backward, "svd_backward": _svd_backward, "eigh_backward": _eigh_backward,
    "einsum_grad": _einsum_grad, "pinv_backward": _pinv_backward, "pinv": _pinv_dual,
}
