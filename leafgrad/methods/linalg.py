"""Linear-algebra Tensor methods and free functions: matrix products, einsum, det, solves."""

from __future__ import annotations

from .._out import out_variant

__all__ = [
    "addbmm", "addmm", "addmv", "baddbmm", "bmm", "chain_matmul", "cholesky", "cholesky_solve",
    "cross", "det", "dot", "einsum", "ger", "inner", "inverse", "kron", "logdet", "matmul",
    "matrix_power", "mm", "mv", "outer", "pinverse", "slogdet", "svd", "tensordot",
    "triangular_solve", "vdot",
]


def _link() -> None:
    """Import what this module needs from modules that import it (docs/design.md, "The import
    cycle"); run once by leafgrad.tensor when Tensor exists."""
    global Tensor, _ops
    from ..ops import linalg as _ops
    from ..tensor import Tensor


class LinalgMethods:
    """Tensor methods for linear algebra (mixed into Tensor)."""

    __slots__ = ()

    # -- products --------------------------------------------------------------------------
    def matmul(self, other: Tensor) -> Tensor:
        """Matrix product with NumPy/PyTorch broadcasting rules (``@``)."""
        return _ops.matmul(self, other)

    def mm(self, other: Tensor) -> Tensor:
        """Product of two 2-d matrices."""
        return _ops.mm(self, other)

    def bmm(self, other: Tensor) -> Tensor:
        """Batched product of 3-d tensors."""
        return _ops.bmm(self, other)

    def mv(self, vec: Tensor) -> Tensor:
        """Matrix-vector product."""
        return _ops.mv(self, vec)

    def dot(self, other: Tensor) -> Tensor:
        """Inner product of two vectors."""
        return _ops.dot(self, other)

    def vdot(self, other: Tensor) -> Tensor:
        """Conjugating inner product of two vectors."""
        return _ops.vdot(self, other)

    def inner(self, other: Tensor) -> Tensor:
        """Inner product over the last dims."""
        return _ops.inner(self, other)

    def outer(self, other: Tensor) -> Tensor:
        """Outer product of two vectors."""
        return _ops.outer(self, other)

    ger = outer

    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
        """``beta * self + alpha * mat1 @ mat2``."""
        return _ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmv(self, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
        """``beta * self + alpha * mat @ vec``."""
        return _ops.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addbmm(self, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
        """``beta * self + alpha * sum_b batch1[b] @ batch2[b]``."""
        return _ops.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
        """``beta * self + alpha * bmm(batch1, batch2)``."""
        return _ops.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addmm_(self, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
        """In-place addmm."""
        return self._inplace(self.addmm, "addmm_", mat1, mat2, beta=beta, alpha=alpha)

    def kron(self, other: Tensor) -> Tensor:
        """Kronecker product."""
        return _ops.kron(self, other)

    def cross(self, other: Tensor, dim=None) -> Tensor:
        """Cross product of 3-vectors along ``dim``."""
        return _ops.cross(self, other, dim)

    def matrix_power(self, n: int) -> Tensor:
        """``self`` multiplied by itself ``n`` times."""
        return _ops.matrix_power(self, n)

    # -- determinants, inverses, solves ----------------------------------------------------
    def det(self) -> Tensor:
        """Determinant."""
        return _ops.det(self)

    def svd(self, some: bool = True, compute_uv: bool = True):
        """The old ``torch.svd``: ``(U, S, V)`` with ``A = U diag(S) V^T`` (V, not Vh)."""
        from ..ops.reduce.multi import return_type

        U, S, Vh = _ops.svd(self, full_matrices=not some)
        if not compute_uv:
            # NOTE: PyTorch returns zero-filled U and V (full-size) and only S is computed
            from ..creation import zeros

            m, n = self.shape[-2], self.shape[-1]
            lead = tuple(self.shape[:-2])
            U = zeros(*lead, m, m, dtype=S.dtype)
            return return_type("svd")(U, _ops.svdvals(self), zeros(*lead, n, n, dtype=S.dtype))
        return return_type("svd")(U, S, Vh.mT)

    def slogdet(self):
        """(sign, log|det|) named tuple."""
        return _ops.slogdet(self)

    def logdet(self) -> Tensor:
        """log(det(self)), nan for a negative determinant."""
        return _ops.logdet(self)

    def inverse(self) -> Tensor:
        """Matrix inverse."""
        return _ops.inv(self)

    def pinverse(self, rcond: float = 1e-15) -> Tensor:
        """Pseudo-inverse."""
        return _ops.pinv(self, rtol=rcond)

    def cholesky(self, upper: bool = False) -> Tensor:
        """Cholesky factor (torch.cholesky, deprecated in PyTorch for linalg.cholesky)."""
        return _ops.cholesky(self, upper, _cls=_ops.CholeskyOld)

    def cholesky_solve(self, input2: Tensor, upper: bool = False) -> Tensor:
        """Solve with a Cholesky factor ``input2``."""
        return _ops.cholesky_solve(self, input2, upper)

    def triangular_solve(self, A: Tensor, upper: bool = True, transpose: bool = False,  # noqa: N803
                         unitriangular: bool = False):
        """(solution, cloned_coefficient) of a triangular system."""
        return _ops.triangular_solve(self, A, upper, transpose, unitriangular)

    def __matmul__(self, other) -> Tensor:
        # NOTE: as PyTorch, a non-Tensor operand gives NotImplemented (then Python's TypeError)
        if not isinstance(other, Tensor):
            return NotImplemented
        return self.matmul(other)

    def __rmatmul__(self, other) -> Tensor:
        if not isinstance(other, Tensor):
            return NotImplemented
        return other.matmul(self)


# -- free functions (leafgrad.matmul(a, b), ...) ---------------------------------------------


@out_variant(rule="exact")
def matmul(input, other) -> Tensor:  # noqa: A002
    """Matrix product with broadcasting."""
    return input.matmul(other)


@out_variant(rule="exact")
def mm(input, mat2) -> Tensor:  # noqa: A002
    """Product of two matrices."""
    return input.mm(mat2)


@out_variant(rule="exact", alias="refuse")
def bmm(input, mat2) -> Tensor:  # noqa: A002
    """Batched product of 3-d tensors.

    >>> import leafgrad
    >>> leafgrad.bmm(leafgrad.ones(2, 1, 3), leafgrad.ones(2, 3, 1)).shape
    torch.Size([2, 1, 1])
    """
    return input.bmm(mat2)


@out_variant(rule="exact")
def mv(input, vec) -> Tensor:  # noqa: A002
    """Matrix-vector product."""
    return input.mv(vec)


@out_variant(rule="exact")
def dot(input, other) -> Tensor:  # noqa: A002
    """Inner product of two vectors."""
    return input.dot(other)


@out_variant(rule="exact")
def vdot(input, other) -> Tensor:  # noqa: A002
    """Conjugating inner product of two vectors."""
    return input.vdot(other)


@out_variant(rule="exact")
def inner(input, other) -> Tensor:  # noqa: A002
    """Inner product over the last dims."""
    return input.inner(other)


@out_variant()
def outer(input, vec2) -> Tensor:  # noqa: A002
    """Outer product of two vectors."""
    return input.outer(vec2)


ger = outer


@out_variant(rule="exact")
def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * mat1 @ mat2``."""
    return input.addmm(mat1, mat2, beta=beta, alpha=alpha)


@out_variant(rule="exact")
def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * mat @ vec``."""
    return input.addmv(mat, vec, beta=beta, alpha=alpha)


@out_variant(rule="exact", resize_warns=False)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``."""
    return input.addbmm(batch1, batch2, beta=beta, alpha=alpha)


@out_variant(rule="exact")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return input.baddbmm(batch1, batch2, beta=beta, alpha=alpha)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation.

    >>> import leafgrad
    >>> leafgrad.einsum('ij->j', leafgrad.ones(2, 3))
    tensor([2., 2., 2.])
    """
    return _ops.einsum(equation, *operands)


@out_variant(rule="exact")
def tensordot(a, b, dims=2) -> Tensor:
    """Sum of products over the given dims."""
    return _ops.tensordot(a, b, dims)


@out_variant()
def kron(input, other) -> Tensor:  # noqa: A002
    """Kronecker product."""
    return input.kron(other)


@out_variant(rule="exact", alias="refuse")
def cross(input, other, dim=None) -> Tensor:  # noqa: A002
    """Cross product of 3-vectors."""
    return input.cross(other, dim)


@out_variant(rule="exact")
def chain_matmul(*matrices) -> Tensor:
    """Product of a chain of matrices."""
    return _ops.chain_matmul(*matrices)


@out_variant(rule="exact")
def matrix_power(input, n: int) -> Tensor:  # noqa: A002
    """Integer matrix power."""
    return input.matrix_power(n)


def det(input) -> Tensor:  # noqa: A002
    """Determinant."""
    return input.det()


@out_variant(rule="exact")
def svd(input, some: bool = True, compute_uv: bool = True):  # noqa: A002
    """``torch.svd``: ``(U, S, V)`` of a matrix, ``V`` not transposed (see ``linalg.svd``).

    >>> import leafgrad
    >>> [tuple(x.shape) for x in leafgrad.svd(leafgrad.ones(3, 2))]
    [(3, 2), (2,), (2, 2)]
    """
    return input.svd(some, compute_uv)


@out_variant(rule="exact")
def slogdet(input):  # noqa: A002
    """(sign, log|det|)."""
    return _ops.slogdet(input)


def logdet(input) -> Tensor:  # noqa: A002
    """log(det(input))."""
    return input.logdet()


@out_variant(rule="exact")
def inverse(input) -> Tensor:  # noqa: A002
    """Matrix inverse."""
    return input.inverse()


def pinverse(input, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    """Pseudo-inverse."""
    return input.pinverse(rcond)


@out_variant()
def cholesky(input, upper: bool = False) -> Tensor:  # noqa: A002
    """Cholesky factor (deprecated in PyTorch for linalg.cholesky)."""
    return input.cholesky(upper)


@out_variant()
def cholesky_solve(input, input2, upper: bool = False) -> Tensor:  # noqa: A002
    """Solve ``A x = input`` given the Cholesky factor ``input2`` of A."""
    return input.cholesky_solve(input2, upper)


@out_variant(rule="exact")
def triangular_solve(b, A, upper: bool = True, transpose: bool = False,  # noqa: N803
                     unitriangular: bool = False):
    """(solution, cloned_coefficient) of a triangular system."""
    return _ops.triangular_solve(b, A, upper, transpose, unitriangular)
