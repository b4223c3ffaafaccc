"""Decompositions: cholesky, qr, svd, eigh, pinv, lstsq, matrix_rank."""

from __future__ import annotations

import numpy as np

from ...autograd.node import Op
from ...backend import array_module, as_array
from ...tensor import Tensor, _wrap
from .. import dual
from .._apply import record, record_unary
from ..elementwise import _operands
from ..reduce import _outs, record_multi, return_type
from .einsum import builtins_max
from .products import _new
from .solve import _check_float, _check_square, _lapack, col_major


# -- decompositions --------------------------------------------------------------------------------
class Cholesky(Op):
    name_ = "LinalgCholeskyExBackward0"
    formula = {"a": "cholesky_backward(grad, out, upper)"}
    save_inputs = False
    save_output = True
    __slots__ = ("upper",)

    def forward(self, a):
        L = _lapack(np.linalg.cholesky, "linalg.cholesky", a)  # noqa: N806
        return col_major(dual.mT(L) if self.upper else L)  # PyTorch's LAPACK layout

    def backward(self, grad):
        return _cholesky_backward(grad, self.result(grad), self.upper)


def _cholesky_backward(grad, L, upper: bool):  # noqa: N803
    """PyTorch's cholesky_backward (Murray 2016): L^-H phi(L^H gL) L^-1 (dual)."""
    if upper:
        L = dual.mT(L)  # noqa: N806
        grad = dual.mT(grad)
    n = dual.raw(L).shape[-1]
    xp = array_module(dual.raw(L))
    low = xp.tril(xp.ones((n, n), bool))
    strict = xp.tril(xp.ones((n, n), bool), -1)
    ga = dual.mask(dual.mT(L) @ grad, low)
    ga = (ga + dual.mT(dual.mask(ga, strict))) * 0.5
    # gA = L^{-H} gA L^{-1}
    ga = dual.solve_triangular(dual.mT(L), ga, True, True, False)
    ga = dual.solve_triangular(L, ga, False, False, False)
    return ga


class CholeskyOld(Cholesky):
    name_ = "CholeskyBackward0"
    __slots__ = ()


def cholesky(a: Tensor, upper: bool = False, *, _cls=None) -> Tensor:
    """Cholesky factor of a symmetric positive-definite matrix (lower unless ``upper``).

    >>> import leafgrad
    >>> cholesky(leafgrad.tensor([[4., 0.], [0., 9.]]))
    tensor([[2., 0.],
            [0., 3.]])
    """
    _check_square(a, "linalg.cholesky")
    _check_float(a, "linalg.cholesky")
    fn = _new(_cls or Cholesky)
    fn.upper = upper
    return record_unary(fn, a, fn.forward(a._data))


class Qr(Op):
    name_ = "LinalgQrBackward0"
    formula = {"a": "qr_backward(grad_Q, grad_R, Q, R)"}
    save_inputs = False
    saved_outputs = (0, 1)  # PyTorch saves Q and R
    saved_state = ("outs",)
    _nout = 2
    __slots__ = ("mode", "outs")

    def forward(self, a):
        q, r = _lapack(np.linalg.qr, "linalg.qr", a,
                      mode="complete" if self.mode == "complete" else "reduced")
        return q, r

    def backward(self, gq, gr):
        g0 = gq if gq is not None else gr
        q, r = _outs(self, g0)
        m, n = dual.raw(q).shape[-2], dual.raw(r).shape[-1]
        if m < n or self.mode == "complete" and m > n:
            raise NotImplementedError(
                "The derivative of linalg.qr is implemented here for mode='reduced' with "
                "m >= n only (tall or square inputs)")
        k = n
        mm_ = 0.0
        if gr is not None:
            mm_ = r @ dual.mT(gr)
        if gq is not None:
            mm_ = mm_ - dual.mT(gq) @ q
        xp = array_module(dual.raw(q))
        low = xp.tril(xp.ones((k, k), bool), -1)
        diag = xp.eye(k, dtype=bool)
        if isinstance(mm_, float):
            c = 0.0
        else:
            lo = dual.mask(mm_, low)
            c = lo + dual.mT(lo) + dual.mask(mm_, diag)
        b = (gq if gq is not None else 0.0) + q @ c
        # gA = b R^{-T}: solve R X^T = b^T  (R upper triangular)
        return dual.mT(dual.solve_triangular(r, dual.mT(b), True, True, False))


def qr(a: Tensor, mode: str = "reduced"):
    """QR decomposition as a (Q, R) named tuple.

    >>> import leafgrad
    >>> qr(leafgrad.tensor([[2., 0.], [0., 3.]])).R.abs()
    tensor([[2., 0.],
            [0., 3.]])
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    _check_float(a, "linalg.qr")
    fn = _new(Qr)
    fn.mode = mode
    q, r = fn.forward(a._data)
    if mode == "r":
        # NOTE: as PyTorch, mode='r' returns an empty Q and an R that is not differentiable
        return return_type("linalg_qr")(_wrap(array_module(r).zeros((0,), r.dtype)), _wrap(r))
    return return_type("linalg_qr")(*record_multi(fn, (a,), (q, r)))


class Svd(Op):
    name_ = "LinalgSvdBackward0"
    formula = {"a": "svd_backward(grad_U, grad_S, grad_Vh, U, S, Vh)"}
    save_inputs = False
    saved_outputs = (0, 1, 2)  # PyTorch saves U, S and Vh
    saved_state = ("outs",)
    _nout = 3
    __slots__ = ("full", "outs", "uv")

    def forward(self, a):
        return _lapack(np.linalg.svd, "linalg.svd", a, full_matrices=self.full)

    def backward(self, gu, gs, gvh):
        g0 = gu if gu is not None else gs if gs is not None else gvh
        u, s, vh = _outs(self, g0)
        k = dual.raw(s).shape[-1]
        m, n = dual.raw(u).shape[-2], dual.raw(vh).shape[-1]
        if self.full:
            u = u[..., :, :k] if isinstance(u, Tensor) else u[..., :, :k]
            vh = vh[..., :k, :] if isinstance(vh, Tensor) else vh[..., :k, :]
            if gu is not None:
                gu = gu[..., :, :k]
            if gvh is not None:
                gvh = gvh[..., :k, :]
        if gu is None and gvh is None:
            return (u * dual.unsqueeze(gs, -2)) @ vh
        v = dual.mT(vh)
        gv = dual.mT(gvh) if gvh is not None else None
        # e[i, j] = s_j^2 - s_i^2, 1 on the diagonal (PyTorch's E), built from S itself so that
        # a create_graph backward differentiates it too (a constant dropped S's terms from
        # second derivatives)
        s2 = s * s
        e = dual.unsqueeze(s2, -2) - dual.unsqueeze(s2, -1)
        e = dual.where(array_module(dual.raw(s)).eye(k, dtype=bool), 1.0, e)
        su = dual.unsqueeze(s, -2)  # S as a row: multiplies columns
        sl = dual.unsqueeze(s, -1)
        inner_ = 0.0
        if gu is not None:
            uhgu = dual.mT(u) @ gu
            inner_ = (uhgu - dual.mT(uhgu)) * su
        if gv is not None:
            vhgv = dual.mT(v) @ gv
            inner_ = inner_ + sl * (vhgv - dual.mT(vhgv))
        with np.errstate(divide="ignore", invalid="ignore"):
            inner_ = inner_ / e
        if gs is not None:
            inner_ = inner_ + dual.diag_embed(gs)
        ga = u @ inner_ @ vh
        if gu is not None and m > k:
            ga = ga + ((gu - u @ (dual.mT(u) @ gu)) / su) @ vh
        if gv is not None and n > k:
            ga = ga + u @ dual.mT((gv - v @ (dual.mT(v) @ gv)) / su)
        return ga


def svd(a: Tensor, full_matrices: bool = True):
    """Singular value decomposition as a (U, S, Vh) named tuple.

    >>> import leafgrad
    >>> svd(leafgrad.tensor([[3., 0.], [0., 2.]])).S
    tensor([3., 2.])
    """
    _check_float(a, "linalg.svd")
    if a._data.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    fn = _new(Svd)
    fn.full = full_matrices
    u, s, vh = fn.forward(a._data)
    return return_type("linalg_svd")(*record_multi(fn, (a,), (u, s, vh)))


def svdvals(a: Tensor) -> Tensor:
    """Singular values, in descending order.

    >>> import leafgrad
    >>> svdvals(leafgrad.tensor([[3., 0.], [0., 4.]]))
    tensor([4., 3.])
    """
    return svd(a, full_matrices=False).S


class Eigh(Op):
    name_ = "LinalgEighBackward0"
    formula = {"a": "eigh_backward(grad_eigenvalues, grad_eigenvectors, eigenvalues, "
                    "eigenvectors)"}
    save_inputs = False
    saved_outputs = (0, 1)  # PyTorch saves the eigenvalues and eigenvectors
    saved_state = ("outs",)
    _nout = 2
    __slots__ = ("uplo", "outs")

    def forward(self, a):
        return _lapack(np.linalg.eigh, "linalg.eigh", a, UPLO=self.uplo)

    def backward(self, gl, gv):
        g0 = gl if gl is not None else gv
        lam, v = _outs(self, g0)
        n = dual.raw(lam).shape[-1]
        xp = array_module(dual.raw(lam))
        # e[i, j] = λ_j - λ_i, 1 on the diagonal, from the eigenvalues themselves (differentiated
        # again under create_graph, as PyTorch's Econj)
        e = dual.where(xp.eye(n, dtype=bool), 1.0,
                       dual.unsqueeze(lam, -2) - dual.unsqueeze(lam, -1))
        ga = 0.0
        if gv is not None:
            vhgv = dual.mT(v) @ gv
            vhgv = (vhgv - dual.mT(vhgv)) * 0.5
            with np.errstate(divide="ignore", invalid="ignore"):
                ga = vhgv / e
            offd = ~xp.eye(n, dtype=bool)
            ga = dual.mask(ga, offd)
        if gl is not None:
            ga = ga + dual.diag_embed(gl)
        return v @ ga @ dual.mT(v)


def eigh(a: Tensor, UPLO: str = "L"):  # noqa: N803
    """Eigen-decomposition of a symmetric matrix: (eigenvalues, eigenvectors), ascending.

    >>> import leafgrad
    >>> eigh(leafgrad.tensor([[2., 0.], [0., 1.]])).eigenvalues
    tensor([1., 2.])
    """
    _check_square(a, "linalg.eigh")
    _check_float(a, "linalg.eigh")
    fn = _new(Eigh)
    fn.uplo = UPLO
    lam, v = fn.forward(a._data)
    return return_type("linalg_eigh")(*record_multi(fn, (a,), (lam, v)))


def eigvalsh(a: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    """Eigenvalues of a symmetric matrix, ascending.

    >>> import leafgrad
    >>> eigvalsh(leafgrad.tensor([[2., 0.], [0., 1.]]))
    tensor([1., 2.])
    """
    return eigh(a, UPLO).eigenvalues


def _pinv_backward(grad, pa, a):
    """PyTorch's pinv_backward (real case)."""
    m, n = dual.raw(a).shape[-2], dual.raw(a).shape[-1]
    pah = dual.mT(pa)
    gh = dual.mT(grad)
    if m <= n:
        k = gh @ pa
        kpah = k @ pah
        return -dual.mT(pa @ k) + kpah - (a @ pa) @ kpah + (pah @ pa) @ (gh - k @ a)
    k = pa @ gh
    pahk = pah @ k
    return -dual.mT(k @ pa) + (gh - a @ k) @ pa @ pah + pahk - pahk @ pa @ a


class Pinv(Op):
    name_ = "LinalgPinvBackward0"
    formula = {"a": "pinv_backward(grad, out, a)"}
    save_output = True
    __slots__ = ("atol", "rtol", "hermitian")

    def forward(self, a):
        return _pinv_np(a, self.atol, self.rtol, self.hermitian)

    def backward(self, grad):
        (a,) = self.saved(grad)
        return _pinv_backward(grad, self.result(grad), a)


def _tols(a_shape, atol, rtol, dtype):
    if atol is None and rtol is None:
        rtol = np.finfo(dtype).eps * builtins_max(a_shape[-2], a_shape[-1])
    return atol or 0.0, rtol or 0.0


def _pinv_np(a, atol, rtol, hermitian):
    atol, rtol = _tols(a.shape, atol, rtol, a.dtype)
    if a.size == 0:
        return array_module(a).zeros(a.shape[:-2] + (a.shape[-1], a.shape[-2]), a.dtype)
    u, s, vh = _lapack(np.linalg.svd, "linalg.pinv", a, full_matrices=False)
    tol = np.maximum(atol, rtol * s[..., :1])
    sinv = np.where(s > tol, 1.0 / np.where(s > tol, s, 1), 0).astype(a.dtype)
    return (dual.mT(vh) * sinv[..., None, :]) @ dual.mT(u)


def pinv(a: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """Moore-Penrose pseudo-inverse (singular values below the tolerance are dropped).

    >>> import leafgrad
    >>> pinv(leafgrad.tensor([[2., 0.], [0., 0.]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.0000]])
    """
    _check_float(a, "linalg.pinv")
    fn = _new(Pinv)
    fn.atol, fn.rtol, fn.hermitian = atol, rtol, hermitian
    return record_unary(fn, a, fn.forward(a._data))


class Lstsq(Op):
    name_ = "LinalgLstsqBackward0"
    formula = {"a": "pinv_backward(grad @ b.mT, pinv(a), a)", "b": "pinv(a).mT @ grad"}
    save_output = True  # PyTorch saves the solution too
    __slots__ = ("vec",)

    def forward(self, a, b):
        pa = _pinv_np(a, None, None, False)
        x = pa @ b
        m, n = a.shape[-2], a.shape[-1]
        if x.ndim < 2 or m <= n:
            return col_major(x)  # PyTorch's LAPACK layout
        # PyTorch's solution is the top n rows of LAPACK's column-major (m, k) right-hand side
        buf = col_major(array_module(x).zeros(x.shape[:-2] + (m, x.shape[-1]), x.dtype))
        buf[..., :n, :] = x
        return buf[..., :n, :]

    def backward(self, grad):
        a, b = self.saved(grad)
        need = self.needs_input_grad
        pa = pinv(a) if isinstance(a, Tensor) else _pinv_np(a, None, None, False)
        ga = _pinv_backward(grad @ dual.mT(b), pa, a) if need[0] else None
        gb = dual.mT(pa) @ grad if need[1] else None
        return ga, gb


def lstsq(a: Tensor, b: Tensor, rcond=None, *, driver=None):
    """Least-squares solution of ``a @ x = b`` (PyTorch CPU's default driver 'gelsy').

    >>> import leafgrad
    >>> lstsq(leafgrad.tensor([[1., 0.], [0., 2.], [0., 0.]]), leafgrad.ones(3, 1)).solution
    tensor([[1.0000],
            [0.5000]])
    """
    _check_float(a, "linalg.lstsq")
    if b._data.ndim < 2 and a._data.ndim >= 2:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to "
                           "other.dim() and (input.dim() - other.dim()) <= 1")
    fn = _new(Lstsq)
    ad, bd = _operands(a, b)
    x = record(fn, (a, b), fn.forward(ad, bd))
    rank = matrix_rank(a.detach(), rtol=rcond) if rcond is not None else matrix_rank(a.detach())
    xp = array_module(ad)
    empty = _wrap(xp.zeros((0,), ad.dtype))
    # NOTE: gelsy (PyTorch's CPU default) returns no residuals and no singular values
    return return_type("linalg_lstsq")(x, empty, rank, _wrap(xp.zeros((0,), ad.dtype)))


def matrix_rank(a: Tensor, *, atol=None, rtol=None, hermitian: bool = False, tol=None) -> Tensor:
    """Number of singular values above the tolerance (int64).

    >>> import leafgrad
    >>> matrix_rank(leafgrad.tensor([[1., 2.], [2., 4.]]))
    tensor(1)
    """
    _check_float(a, "linalg.matrix_rank")
    d = a._data
    if tol is not None:
        atol = tol
    s = (_lapack(np.linalg.svd, "linalg.matrix_rank", d, compute_uv=False) if d.size
         else array_module(d).zeros(d.shape[:-2] + (0,)))
    at, rt = _tols(d.shape, atol, rtol, d.dtype)
    thr = np.maximum(at, rt * (s[..., :1] if s.shape[-1] else 0))
    return _wrap(as_array((s > thr).sum(-1)).astype(np.int64, copy=False))
