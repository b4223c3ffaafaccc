"""Matrix norms: matrix_norm, linalg.norm, cond."""

from __future__ import annotations

import numpy as np

from ...tensor import Tensor
from .decomp import svdvals
from .solve import inv


# -- norms -----------------------------------------------------------------------------------------
def matrix_norm(a: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """Matrix norm: 'fro', 'nuc', 1, -1, 2, -2, inf, -inf.

    >>> import leafgrad
    >>> matrix_norm(leafgrad.tensor([[3., 0.], [0., 4.]]))
    tensor(5.)
    """
    from .. import reduce as R  # noqa: N812
    from ..movement import permute as _permute

    if dtype is not None:
        a = a.to(dtype)
    nd = a._data.ndim
    if nd < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    d0, d1 = (d % nd for d in dim)
    if ord == "fro":
        return R.vector_norm(a, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        rest = [k for k in range(nd) if k not in (d0, d1)]
        s = svdvals(_permute(a, tuple(rest + [d0, d1])))
        r = s.sum(-1) if ord == "nuc" else R.amax(s, -1) if ord == 2 else R.amin(s, -1)
        if keepdim:
            for k in sorted((d0, d1)):
                r = r.unsqueeze(k)
        return r
    if ord in (1, -1, np.inf, -np.inf):
        red, other = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = R.vector_norm(a, 1, red, True)
        r = R.amax(s, other, True) if ord > 0 else R.amin(s, other, True)
        if not keepdim:
            r = r.squeeze((d0, d1)) if hasattr(r, "squeeze") else r
        return r
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def linalg_norm(a: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """linalg.norm: vector norm for 1-d / int dim, matrix norm for 2-d / a pair of dims.

    >>> import leafgrad
    >>> linalg_norm(leafgrad.tensor([3., 4.]))
    tensor(5.)
    """
    from .. import reduce as R  # noqa: N812

    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        return R.vector_norm(a, 2, dim, keepdim, dtype=dtype)
    if (dim is not None and len(dim) == 2) or (dim is None and a._data.ndim == 2):
        return matrix_norm(a, ord, dim if dim is not None else (-2, -1), keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: ord={ord} requires a 2-d input or a pair of dims")
    return R.vector_norm(a, ord, dim, keepdim, dtype=dtype)


def cond(a: Tensor, p=None) -> Tensor:
    """Condition number (ratio of extreme singular values for ``p`` None / 2 / -2).

    >>> import leafgrad
    >>> cond(leafgrad.tensor([[4., 0.], [0., 2.]]))
    tensor(2.)
    """
    if p is None or p in (2, -2):
        s = svdvals(a)
        hi, lo = s[..., 0], s[..., -1]
        return hi / lo if p != -2 else lo / hi
    return matrix_norm(a, p) * matrix_norm(inv(a), p)
