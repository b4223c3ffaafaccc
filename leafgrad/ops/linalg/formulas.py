"""Linear algebra's own derivative helpers that its formulas name (leafgrad.autograd.formula
adds them to its namespace, after leafgrad.ops.dual's vocabulary)."""

from __future__ import annotations

from ...autograd.node import make_node
from .decomp import Eigh, Qr, Svd, _cholesky_backward, _pinv_backward
from .einsum import Einsum
from .products import _new
from .solve import _cholesky_solve_backward, _solve_backward, _solve_triangular_backward


def _qr_backward(gq, gr, q, r):
    fn = make_node(Qr, ((1, 0),))
    fn.mode = "reduced"
    fn.outs = (q, r)
    return fn.backward(gq, gr)


def _svd_backward(gu, gs, gvh, u, s, vh):
    fn = make_node(Svd, ((1, 0),))
    fn.full = False
    fn.outs = (u, s, vh)
    return fn.backward(gu, gs, gvh)


def _eigh_backward(gl, gv, lam, v):
    fn = make_node(Eigh, ((1, 0),))
    fn.outs = (lam, v)
    return fn.backward(gl, gv)


def _einsum_grad(terms, out_term, shapes, i: int, grad, operands):
    fn = _new(Einsum)
    fn.terms, fn.out_term, fn.shapes = terms, out_term, shapes
    return fn._grad_for(i, grad, operands)


FORMULA_HELPERS = {
    "solve_backward": _solve_backward,
    "solve_triangular_backward": _solve_triangular_backward,
    "cholesky_solve_backward": _cholesky_solve_backward, "cholesky_backward": _cholesky_backward,
    "qr_backward": _qr_backward, "svd_backward": _svd_backward, "eigh_backward": _eigh_backward,
    "einsum_grad": _einsum_grad, "pinv_backward": _pinv_backward,
}
