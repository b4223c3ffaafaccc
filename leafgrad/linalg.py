"""``leafgrad.linalg``: PyTorch's ``torch.linalg`` namespace (norms, decompositions, solves)."""

from __future__ import annotations

from ._out import out_variant
from .methods import _keepdims
from .ops import linalg as _ops
from .ops import reduce as _reduce
from .ops.linalg.solve import LinAlgError

__all__ = [
    "LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "eigh", "eigvalsh", "inv",
    "inv_ex",
    "lstsq", "matmul", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv",
    "qr", "slogdet", "solve", "solve_triangular", "svd", "svdvals", "vecdot", "vector_norm",
]

# NOTE: torch.linalg's functions all take out= (leafgrad._out); most want out's dtype exact
matmul = out_variant("linalg.matmul", rule="exact")(_ops.matmul)
det = out_variant("linalg.det", rule="exact")(_ops.det)
slogdet = out_variant("linalg.slogdet", rule="exact")(_ops.slogdet)
inv = out_variant("linalg.inv", rule="exact")(_ops.inv)
solve = out_variant("linalg.solve", rule="exact")(_ops.solve)
qr = out_variant("linalg.qr", rule="exact")(_ops.qr)
svd = out_variant("linalg.svd", rule="exact")(_ops.svd)
svdvals = out_variant("linalg.svdvals", rule="exact")(_ops.svdvals)
eigh = out_variant("linalg.eigh", rule="exact")(_ops.eigh)
eigvalsh = out_variant("linalg.eigvalsh", rule="exact")(_ops.eigvalsh)
pinv = out_variant("linalg.pinv")(_ops.pinv)
lstsq = _ops.lstsq
matrix_rank = out_variant("linalg.matrix_rank")(_ops.matrix_rank)
matrix_norm = out_variant("linalg.matrix_norm", rule="exact")(_ops.matrix_norm)
matrix_power = out_variant("linalg.matrix_power", rule="exact")(_ops.matrix_power)
multi_dot = out_variant("linalg.multi_dot", rule="exact")(_ops.multi_dot)
cond = out_variant("linalg.cond")(_ops.cond)
solve_triangular = out_variant("linalg.solve_triangular", rule="exact",
                               alias=("b",))(_ops.solve_triangular)
norm = out_variant("linalg.norm", rule="exact")(_ops.linalg_norm)
vector_norm = out_variant("linalg.vector_norm", rule="exact")(_reduce.vector_norm)


@out_variant("linalg.cholesky", rule="exact")
def cholesky(A, *, upper: bool = False):  # noqa: N803
    """Cholesky factor of a symmetric positive-definite matrix.

    >>> import leafgrad, leafgrad.linalg
    >>> leafgrad.linalg.cholesky(leafgrad.tensor([[4., 0.], [0., 1.]]))
    tensor([[2., 0.],
            [0., 1.]])
    """
    return _ops.cholesky(A, upper)


@out_variant("linalg.cholesky_ex", rule="exact")
def cholesky_ex(A, *, upper: bool = False, check_errors: bool = False):  # noqa: N803
    """(L, info): the Cholesky factor and a LAPACK status (0: success)."""
    import numpy as np

    from .tensor import _wrap

    L = _ops.cholesky(A, upper)  # noqa: N806
    return _reduce.return_type("linalg_cholesky_ex")(L, _wrap(np.zeros(A.shape[:-2], np.int32)))


@out_variant("linalg.inv_ex", rule="exact")
def inv_ex(A, *, check_errors: bool = False):  # noqa: N803
    """(inverse, info)."""
    import numpy as np

    from .tensor import _wrap

    return _reduce.return_type("linalg_inv_ex")(_ops.inv(A),
                                                _wrap(np.zeros(A.shape[:-2], np.int32)))


@out_variant("linalg.cross", rule="exact", alias="refuse")
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


@out_variant("linalg.vecdot", rule="exact")
def vecdot(x, y, *, dim: int = -1):
    """Dot product of vectors along ``dim``, broadcasting.

    >>> import leafgrad, leafgrad.linalg
    >>> leafgrad.linalg.vecdot(leafgrad.ones(2, 3), leafgrad.ones(3))
    tensor([3., 3.])
    """
    return (x * y).sum(dim)

# the norms also take PyTorch's `keepdims` spelling
_keepdims.accept_keepdims_in(globals(), __all__)
