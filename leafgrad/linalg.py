"""``leafgrad.linalg``: PyTorch's ``torch.linalg`` namespace (norms, decompositions, solves)."""

from __future__ import annotations

from .methods import _keepdims
from .ops import linalg as _ops
from .ops import reduce as _reduce

__all__ = [
    "cholesky", "cholesky_ex", "cond", "cross", "det", "eigh", "eigvalsh", "inv", "inv_ex",
    "lstsq", "matmul", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv",
    "qr", "slogdet", "solve", "solve_triangular", "svd", "svdvals", "vecdot", "vector_norm",
]

matmul = _ops.matmul
det = _ops.det
slogdet = _ops.slogdet
inv = _ops.inv
solve = _ops.solve
qr = _ops.qr
svd = _ops.svd
svdvals = _ops.svdvals
eigh = _ops.eigh
eigvalsh = _ops.eigvalsh
pinv = _ops.pinv
lstsq = _ops.lstsq
matrix_rank = _ops.matrix_rank
matrix_norm = _ops.matrix_norm
matrix_power = _ops.matrix_power
multi_dot = _ops.multi_dot
cond = _ops.cond
solve_triangular = _ops.solve_triangular
norm = _ops.linalg_norm
vector_norm = _reduce.vector_norm


def cholesky(A, *, upper: bool = False):  # noqa: N803
    """Cholesky factor of a symmetric positive-definite matrix.

    >>> import leafgrad, leafgrad.linalg
    >>> leafgrad.linalg.cholesky(leafgrad.tensor([[4., 0.], [0., 1.]]))
    tensor([[2., 0.],
            [0., 1.]])
    """
    return _ops.cholesky(A, upper)


def cholesky_ex(A, *, upper: bool = False, check_errors: bool = False):  # noqa: N803
    """(L, info): the Cholesky factor and a LAPACK status (0: success)."""
    import numpy as np

    from .tensor import _wrap

    L = _ops.cholesky(A, upper)  # noqa: N806
    return _reduce.return_type("linalg_cholesky_ex")(L, _wrap(np.zeros(A.shape[:-2], np.int32)))


def inv_ex(A, *, check_errors: bool = False):  # noqa: N803
    """(inverse, info)."""
    import numpy as np

    from .tensor import _wrap

    return _reduce.return_type("linalg_inv_ex")(_ops.inv(A),
                                                _wrap(np.zeros(A.shape[:-2], np.int32)))


def cross(input, other, *, dim: int = -1):  # noqa: A002
    """Cross product along ``dim`` (default the last), broadcasting.

    >>> import leafgrad, leafgrad.linalg
    >>> leafgrad.linalg.cross(leafgrad.tensor([0., 1., 0.]), leafgrad.tensor([0., 0., 1.]))
    tensor([1., 0., 0.])
    """
    if input.ndim != other.ndim:
        raise RuntimeError(
            f"linalg.cross: inputs must have the same number of dimensions.\nWhy: got "
            f"{input.ndim}-d and {other.ndim}-d; unsqueeze the smaller one (b.unsqueeze(0)).")
    return _ops.cross(input, other, dim, _linalg=True)


def vecdot(x, y, *, dim: int = -1):
    """Dot product of vectors along ``dim``, broadcasting.

    >>> import leafgrad, leafgrad.linalg
    >>> leafgrad.linalg.vecdot(leafgrad.ones(2, 3), leafgrad.ones(3))
    tensor([3., 3.])
    """
    return (x * y).sum(dim)

# the norms also take PyTorch's `keepdims` spelling
_keepdims.accept_keepdims_in(globals(), __all__)
