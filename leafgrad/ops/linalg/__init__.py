"""Linear algebra: matrix products, einsum, inverses and solves, decompositions, norms.

The package re-exports every name of its modules, so ``from leafgrad.ops.linalg import matmul``
keeps working:

- ``products``: matmul, mm, mv, dot, bmm, vdot, addmm family
- ``einsum``: einsum, tensordot, inner, outer, kron, cross, multi_dot, matrix_power
- ``solve``: inv, det, slogdet, solve, solve_triangular, cholesky_solve
- ``decomp``: cholesky, qr, svd, eigh, pinv, lstsq, matrix_rank
- ``norms``: matrix_norm, norm, cond
- ``formulas``: the helpers the formulas call
"""

from __future__ import annotations

from .decomp import (
    Cholesky,
    CholeskyOld,
    Eigh,
    Lstsq,
    Pinv,
    Qr,
    Svd,
    _cholesky_backward,
    _pinv_backward,
    _pinv_np,
    _tols,
    cholesky,
    eigh,
    eigvalsh,
    lstsq,
    matrix_rank,
    pinv,
    qr,
    svd,
    svdvals,
)
from .einsum import (
    _LETTERS,
    Cross,
    Einsum,
    _cross,
    _parse_einsum,
    builtins_max,
    chain_matmul,
    cross,
    einsum,
    inner,
    kron,
    matrix_power,
    multi_dot,
    outer,
    tensordot,
)
from .formulas import (
    FORMULA_HELPERS,
    _eigh_backward,
    _einsum_grad,
    _qr_backward,
    _svd_backward,
)
from .norms import (
    cond,
    linalg_norm,
    matrix_norm,
)
from .products import (
    Addbmm,
    Addmm,
    Addmv,
    Baddbmm,
    Bmm,
    Dot,
    Matmul,
    Mm,
    Mv,
    Vdot,
    _addmm,
    _check_dot,
    _chk_bmm,
    _chk_mm,
    _chk_mv,
    _mismatch,
    _new,
    _scaled,
    _shape_str,
    addbmm,
    addmm,
    addmv,
    baddbmm,
    bmm,
    dot,
    matmul,
    mm,
    mv,
    vdot,
)
from .solve import (
    CholeskySolve,
    Det,
    Inv,
    Slogdet,
    Solve,
    SolveTriangular,
    TriangularSolve,
    _check_float,
    _check_square,
    _cholesky_solve_backward,
    _is_vector_rhs,
    _lapack,
    _solve_backward,
    _solve_triangular_backward,
    _Tri,
    _tri,
    cholesky_solve,
    det,
    inv,
    logdet,
    slogdet,
    solve,
    solve_triangular,
    triangular_solve,
)
