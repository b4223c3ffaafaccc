"""Linear algebra: matrix products (``matmul`` / ``@``, ``mm``)."""

from __future__ import annotations

import math

from ..autograd.node import Op
from ..backend import array_module
from ..tensor import Tensor
from ._apply import record
from .dual import mT, squeeze, t, unsqueeze
from .elementwise import _operands

_new = object.__new__


def _shape_str(s) -> str:
    return "x".join(str(d) for d in s)


class Mm(Op):
    name_ = "MmBackward0"
    op_name = "mm"
    formula = {"a": "grad @ b.mT", "b": "a.mT @ grad"}
    __slots__ = ()

    def forward(self, a, b):
        return a @ b

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        return (grad @ mT(b) if nf[0][0] is not None else None,
                mT(a) @ grad if nf[1][0] is not None else None)


class Mv(Op):
    name_ = "MvBackward0"
    formula = {"a": "grad.unsqueeze(1) * b.unsqueeze(0)", "b": "a.t() @ grad"}
    __slots__ = ()

    def forward(self, a, b):
        return a @ b

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        return (unsqueeze(grad, 1) * unsqueeze(b, 0) if nf[0][0] is not None else None,
                t(a) @ grad if nf[1][0] is not None else None)


class Dot(Op):
    name_ = "DotBackward0"
    formula = {"a": "grad * b", "b": "grad * a"}
    __slots__ = ()

    def forward(self, a, b):
        return array_module(a).dot(a, b)

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        return (grad * b if nf[0][0] is not None else None,
                grad * a if nf[1][0] is not None else None)


class Matmul(Op):
    """Batched / broadcasting matmul (1-d operands are promoted and their dim removed)."""

    name_ = "MatmulBackward0"
    # (1-d operands act as a row / column; the engine sums broadcast batch dims back)
    formula = {"a": "grad @ b.mT", "b": "a.mT @ grad"}
    __slots__ = ()

    def forward(self, a, b):
        return a @ b

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        a2 = unsqueeze(a, 0) if a_vec else a
        b2 = unsqueeze(b, -1) if b_vec else b
        g = grad
        if a_vec:
            g = unsqueeze(g, -2)
        if b_vec:
            g = unsqueeze(g, -1)
        ga = gb = None
        if nf[0][0] is not None:
            ga = g @ mT(b2)
            if a_vec:
                ga = squeeze(ga, -2)
        if nf[1][0] is not None:
            gb = mT(a2) @ g
            if b_vec:
                gb = squeeze(gb, -1)
        # the engine sums the broadcast batch dims back to each input's shape
        return ga, gb


def _mismatch(a: Tensor, b: Tensor) -> RuntimeError:
    sa, sb = a._data.shape, b._data.shape
    if len(sa) == 1 and len(sb) == 1:
        return RuntimeError(
            f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the "
            "same number of elements, but got "
            f"{sa[0]} and {sb[0]} elements respectively\nWhy: a dot product pairs elements "
            "one to one."
        )
    ra = (1, sa[0]) if len(sa) == 1 else sa[-2:]
    if len(sa) > 2 and len(sb) == 2:
        # NOTE: PyTorch folds a batched operand times a matrix into one mm: (2, 64, 100) @ W
        # reports 128x100, as a Linear layer's error does
        ra = (math.prod(sa[:-1]), sa[-1])
    rb = (sb[0], 1) if len(sb) == 1 else sb[-2:]
    return RuntimeError(
        f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(ra)} and {_shape_str(rb)})\n"
        f"matmul(): shapes {list(sa)} and {list(sb)}. Why: in A @ B the columns of A must "
        f"equal the rows of B ({ra[-1]} != {rb[0]}); transpose one operand (B.mT) or fix the "
        "layer sizes."
    )


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with broadcasting over batch dims (``a @ b``).

    >>> import leafgrad
    >>> matmul(leafgrad.ones(2, 3), leafgrad.ones(3)).tolist()
    [3.0, 3.0]
    """
    if not isinstance(b, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not {type(b).__name__}")
    na, nb = a._data.ndim, b._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D\n"
            "Why: a 0-d tensor is a scalar; multiply with * instead."
        )
    ad, bd = _operands(a, b)
    cls = Mm if na == 2 and nb == 2 else Mv if na == 2 and nb == 1 else (
        Dot if na == 1 and nb == 1 else Matmul)
    fn = _new(cls)
    try:
        out = fn.forward(ad, bd)
    except ValueError:
        raise _mismatch(a, b) from None
    return record(fn, (a, b), out)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Product of two 2-d matrices (no broadcasting)."""
    if a._data.ndim != 2:
        raise RuntimeError(f"self must be a matrix (got a {a._data.ndim}-d tensor)")
    if b._data.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix (got a {b._data.ndim}-d tensor)")
    return matmul(a, b)


# ================================================================================================
# The rest of linear algebra. Decompositions run NumPy's LAPACK; their backward formulas are
# PyTorch's (FunctionsManual.cpp), written with operators and the dual helpers below so that a
# create_graph backward records them (higher derivatives for free).
# ================================================================================================

import numpy as np  # noqa: E402

from ..tensor import _wrap  # noqa: E402
from ._apply import record_unary  # noqa: E402
from .reduce import _outs, record_multi, return_type  # noqa: E402


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _dinv(a):
    """Matrix inverse (dual)."""
    return inv(a) if isinstance(a, Tensor) else np.linalg.inv(a)


def _dsolve(a, b):
    """``a^{-1} b`` for matrix ``b`` (dual)."""
    return solve(a, b) if isinstance(a, Tensor) or isinstance(b, Tensor) else np.linalg.solve(a, b)


def _mask(x, m):
    """``x`` times a constant 0/1 mask (triangle selection), dual."""
    return x * m if not isinstance(x, Tensor) else x * _wrap(m.astype(x._data.dtype))


def _tri_mask(n: int, m: int, k: int, lower: bool):
    return np.tri(n, m, k, dtype=bool) if lower else ~np.tri(n, m, k - 1, dtype=bool)


def _diag_embed(v):
    """Batched diagonal matrices from vectors (dual)."""
    n = _raw(v).shape[-1]
    eye = np.eye(n, dtype=_raw(v).dtype)
    return unsqueeze(v, -1) * (_wrap(eye) if isinstance(v, Tensor) else eye)


def _dmatmul(a, b):
    return a @ b


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


def _lapack(fn, op: str, *args):
    try:
        with np.errstate(all="ignore"):
            return fn(*args)
    except np.linalg.LinAlgError as e:
        raise RuntimeError(
            f"{op}: The input matrix is singular or not positive-definite ({e}).\n"
            "Why: the decomposition failed in LAPACK; check that the matrix is invertible "
            "(or symmetric positive-definite for cholesky).") from None


# -- bmm / vdot / addmm family ---------------------------------------------------------------------
class Bmm(Mm):
    name_ = "BmmBackward0"
    op_name = "bmm"
    __slots__ = ()


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched product of two 3-d tensors (no broadcasting).

    >>> import leafgrad
    >>> bmm(leafgrad.ones(2, 1, 3), leafgrad.ones(2, 3, 1)).shape
    torch.Size([2, 1, 1])
    """
    sa, sb = a._data.shape, b._data.shape
    if len(sa) != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (got {len(sa)}-d)")
    if len(sb) != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor (got {len(sb)}-d)")
    if sa[0] != sb[0] or sa[2] != sb[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{sa[0]}, {sa[2]}] "
            f"but got: [{sb[0]}, {sb[1]}].\nWhy: bmm multiplies matching batches of (n x m) and "
            "(m x p) matrices.")
    ad, bd = _operands(a, b)
    fn = _new(Bmm)
    return record(fn, (a, b), fn.forward(ad, bd))


class Vdot(Dot):
    name_ = "VdotBackward0"
    __slots__ = ()


def _check_dot(a: Tensor, b: Tensor, op: str) -> None:
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D "
                           f"tensors\nWhy: {op} is the inner product of two vectors; use matmul "
                           "for matrices.")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op} : expected both vectors to have same dtype, but found "
                           f"{a.dtype.name.capitalize()} and {b.dtype.name.capitalize()}")
    if a._data.shape[0] != b._data.shape[0]:
        raise _mismatch(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-d tensors.

    >>> import leafgrad
    >>> dot(leafgrad.tensor([1., 2.]), leafgrad.tensor([3., 4.]))
    tensor(11.)
    """
    _check_dot(a, b, "dot")
    return matmul(a, b)


def vdot(a: Tensor, b: Tensor) -> Tensor:
    """Conjugating inner product of two 1-d tensors (real tensors: ``dot``).

    >>> import leafgrad
    >>> vdot(leafgrad.tensor([1., 2.]), leafgrad.tensor([3., 4.]))
    tensor(11.)
    """
    _check_dot(a, b, "vdot")
    fn = _new(Vdot)
    return record(fn, (a, b), np.asarray(fn.forward(a._data, b._data)))


def mv(a: Tensor, v: Tensor) -> Tensor:
    """Matrix-vector product.

    >>> import leafgrad
    >>> mv(leafgrad.ones(2, 3), leafgrad.ones(3))
    tensor([3., 3.])
    """
    if a._data.ndim != 2 or v._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {a._data.ndim}, "
                           f"{v._data.ndim}\nWhy: mv takes a 2-d matrix and a 1-d vector.")
    return matmul(a, v)


def _scaled(g, c):
    return g if c == 1 else g * c


class Addmm(Op):
    name_ = "AddmmBackward0"
    formula = {"input": "grad * beta", "a": "grad @ b.mT * alpha", "b": "a.mT @ grad * alpha"}
    __slots__ = ("alpha", "beta")

    def forward(self, c, a, b):
        p = a @ b
        if self.alpha != 1:
            p = p * self.alpha
        if self.beta == 0:
            return np.broadcast_to(np.zeros((), p.dtype), p.shape) + p  # NOTE: input ignored
        return p + (c if self.beta == 1 else c * self.beta)

    def backward(self, grad):
        c, a, b = self.saved(grad)
        nf = self.next_functions
        gc = _scaled(grad, self.beta) if nf[0][0] is not None and self.beta != 0 else None
        if nf[0][0] is not None and self.beta == 0:
            gc = grad * 0.0
        ga = _scaled(self._ga(grad, b), self.alpha) if nf[1][0] is not None else None
        gb = _scaled(self._gb(grad, a), self.alpha) if nf[2][0] is not None else None
        return gc, ga, gb

    def _ga(self, g, b):
        return g @ mT(b)

    def _gb(self, g, a):
        return mT(a) @ g


class Addmv(Addmm):
    name_ = "AddmvBackward0"
    formula = {"input": "grad * beta", "a": "grad.unsqueeze(-1) * b.unsqueeze(0) * alpha",
               "b": "a.mT @ grad * alpha"}
    __slots__ = ()

    def _ga(self, g, b):
        return unsqueeze(g, -1) * unsqueeze(b, 0)

    def _gb(self, g, a):
        return t(a) @ g


class Baddbmm(Addmm):
    name_ = "BaddbmmBackward0"
    __slots__ = ()


class Addbmm(Addmm):
    name_ = "AddbmmBackward0"
    formula = {"input": "grad * beta", "a": "grad.unsqueeze(0) @ b.mT * alpha",
               "b": "a.mT @ grad.unsqueeze(0) * alpha"}
    __slots__ = ()

    def forward(self, c, a, b):
        p = (a @ b).sum(axis=0)
        if self.alpha != 1:
            p = p * self.alpha
        if self.beta == 0:
            return np.broadcast_to(np.zeros((), p.dtype), p.shape) + p
        return p + (c if self.beta == 1 else c * self.beta)

    def _ga(self, g, b):
        return unsqueeze(g, 0) @ mT(b)

    def _gb(self, g, a):
        return mT(a) @ unsqueeze(g, 0)


def _addmm(cls, c: Tensor, a: Tensor, b: Tensor, beta, alpha, check) -> Tensor:
    check(a, b)
    fn = _new(cls)
    fn.alpha = alpha
    fn.beta = beta
    p_shape = np.broadcast_shapes(np.empty(0).shape, ())  # placeholder for typing tools
    del p_shape
    out = fn.forward(c._data, a._data, b._data)
    try:
        np.broadcast_to(c._data, out.shape)
    except ValueError:
        raise RuntimeError(f"The expanded size of the input {list(c._data.shape)} must match "
                           f"the product's size {list(out.shape)}") from None
    return record(fn, (c, a, b), np.ascontiguousarray(out) if out.ndim else out)


def _chk_mm(a, b):
    if a._data.ndim != 2 or b._data.ndim != 2:
        raise RuntimeError("mat1 must be a matrix and mat2 must be a matrix")
    if a._data.shape[1] != b._data.shape[0]:
        raise _mismatch(a, b)


def _chk_mv(a, b):
    if a._data.ndim != 2 or b._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {a._data.ndim}, "
                           f"{b._data.ndim}")
    if a._data.shape[1] != b._data.shape[0]:
        raise _mismatch(a, b)


def _chk_bmm(a, b):
    bmm(a.detach(), b.detach()) if a._data.size * b._data.size < 0 else None
    sa, sb = a._data.shape, b._data.shape
    if len(sa) != 3 or len(sb) != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor and batch2 must be a 3D tensor (got "
                           f"{len(sa)}-d and {len(sb)}-d)")
    if sa[0] != sb[0] or sa[2] != sb[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{sa[0]}, {sa[2]}] but got: [{sb[0]}, {sb[1]}].")


def addmm(c: Tensor, a: Tensor, b: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * c + alpha * (a @ b)`` for matrices.

    >>> import leafgrad
    >>> addmm(leafgrad.zeros(2, 2), leafgrad.ones(2, 3), leafgrad.ones(3, 2))[0]
    tensor([3., 3.])
    """
    return _addmm(Addmm, c, a, b, beta, alpha, _chk_mm)


def addmv(c: Tensor, a: Tensor, v: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * c + alpha * (a @ v)``.

    >>> import leafgrad
    >>> addmv(leafgrad.zeros(2), leafgrad.ones(2, 3), leafgrad.ones(3))
    tensor([3., 3.])
    """
    return _addmm(Addmv, c, a, v, beta, alpha, _chk_mv)


def baddbmm(c: Tensor, a: Tensor, b: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * c + alpha * bmm(a, b)``.

    >>> import leafgrad
    >>> baddbmm(leafgrad.zeros(1, 2, 2), leafgrad.ones(1, 2, 3), leafgrad.ones(1, 3, 2)).shape
    torch.Size([1, 2, 2])
    """
    return _addmm(Baddbmm, c, a, b, beta, alpha, _chk_bmm)


def addbmm(c: Tensor, a: Tensor, b: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * c + alpha * sum_b(a[b] @ b[b])``.

    >>> import leafgrad
    >>> addbmm(leafgrad.zeros(2, 2), leafgrad.ones(4, 2, 3), leafgrad.ones(4, 3, 2))[0]
    tensor([12., 12.])
    """
    return _addmm(Addbmm, c, a, b, beta, alpha, _chk_bmm)


# -- einsum and friends ----------------------------------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse_einsum(eq: str, shapes: list) -> tuple[list, str]:
    """Explicit subscripts (ellipsis expanded to letters) for each operand and the output."""
    eq = eq.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum(): {len(terms)} subscript terms for {len(shapes)} operands")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in _LETTERS if c not in used]
    nell = 0
    for term, s in zip(terms, shapes):
        if "..." in term:
            nell = builtins_max(nell, len(s) - (len(term) - 3))
    ell = "".join(free[:nell])
    out_terms = []
    for term, s in zip(terms, shapes):
        if "..." in term:
            k = len(s) - (len(term) - 3)
            term = term.replace("...", ell[nell - k:] if k else "")
        if len(term) != len(s):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(term)})"
                               f" does not match the number of dimensions ({len(s)}) for an "
                               "operand and no ellipsis was given")
        out_terms.append(term)
    if "->" in eq:
        out = rhs.replace("...", ell)
    else:
        counts = {}
        for term in out_terms:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return out_terms, out


def builtins_max(a, b):
    return a if a > b else b


class Einsum(Op):
    name_ = "EinsumBackward0"
    # one entry per operand (the first n apply to an n-operand einsum)
    formula = {f"operand{i}": f"einsum_grad(terms, out_term, {i}, grad, operands)"
               for i in range(8)}
    __slots__ = ("terms", "out_term", "operands")

    def forward(self, *ops):
        eq = ",".join(self.terms) + "->" + self.out_term
        return np.asarray(np.einsum(eq, *ops, optimize=len(ops) > 2))

    def backward(self, grad):
        ops = self.saved(grad)
        res = []
        for i, nf in enumerate(self.next_functions):
            if nf[0] is None:
                res.append(None)
                continue
            res.append(self._grad_for(i, grad, ops))
        return tuple(res)

    def _grad_for(self, i: int, grad, ops):
        term = self.terms[i]
        shape = _raw(ops[i]).shape
        # repeated letters in the operand (diagonals): rename, add identity operands
        seen, new_term, extra, extra_terms = {}, "", [], []
        used = set("".join(self.terms) + self.out_term)
        free = [c for c in _LETTERS if c not in used]
        for k, c in enumerate(term):
            if c in seen:
                f = free.pop(0)
                new_term += f
                e = np.eye(shape[k], dtype=_raw(grad).dtype)
                extra.append(_wrap(e) if isinstance(grad, Tensor) else e)
                extra_terms.append(c + f)
            else:
                seen[c] = k
                new_term += c
        others = [ops[j] for j in range(len(ops)) if j != i]
        other_terms = [self.terms[j] for j in range(len(ops)) if j != i]
        avail = set(self.out_term + "".join(other_terms) + "".join(extra_terms))
        target = "".join(c for c in new_term if c in avail)
        g = einsum(",".join([self.out_term] + other_terms + extra_terms) + "->" + target,
                   grad, *others, *extra) if isinstance(grad, Tensor) else np.einsum(
            ",".join([self.out_term] + other_terms + extra_terms) + "->" + target,
            grad, *others, *extra)
        if target != new_term:
            # letters only in this operand were summed out: broadcast back over them
            shp = [shape[k] if c in avail else 1 for k, c in enumerate(new_term)]
            g = g.reshape(tuple(shp))
            from .dual import expand

            g = expand(g, shape)
        return g


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation (``'ij,jk->ik'``, implicit output, ellipsis).

    >>> import leafgrad
    >>> einsum('ii->', leafgrad.eye(3))
    tensor(3.)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    terms, out = _parse_einsum(equation, [o._data.shape for o in operands])
    fn = _new(Einsum)
    fn.terms = tuple(terms)
    fn.out_term = out
    fn.operands = tuple(operands)
    datas = [o._data for o in operands]
    if len(set(d.dtype for d in datas)) > 1:
        raise RuntimeError(f"einsum(): expected scalar type {operands[0].dtype} but found "
                           f"{[o.dtype for o in operands if o._data.dtype != datas[0].dtype][0]}")
    try:
        out_arr = fn.forward(*datas)
    except ValueError as e:
        raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes ({e})") \
            from None
    return record(fn, tuple(operands), out_arr)


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Sum of products over the given dims of ``a`` and ``b``.

    >>> import leafgrad
    >>> tensordot(leafgrad.ones(2, 3), leafgrad.ones(3, 4), 1).shape
    torch.Size([2, 4])
    """
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = dims
        if isinstance(da, int):
            da, db = [da], [db]
        da = [d % na for d in da]
        db = [d % nb for d in db]
    la = list(_LETTERS[:na])
    lb = list(_LETTERS[na:na + nb])
    for x, y in zip(da, db):
        if a._data.shape[x] != b._data.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a._data.shape[x]} in dim {x} and second has size "
                               f"{b._data.shape[y]} in dim {y}")
        lb[y] = la[x]
    out = "".join(c for k, c in enumerate(la) if k not in da) + "".join(
        c for k, c in enumerate(lb) if k not in db)
    return einsum("".join(la) + "," + "".join(lb) + "->" + out, a, b)


def inner(a: Tensor, b: Tensor) -> Tensor:
    """Inner product over the last dims (scalars multiply).

    >>> import leafgrad
    >>> inner(leafgrad.tensor([1., 2.]), leafgrad.tensor([3., 4.]))
    tensor(11.)
    """
    if a._data.ndim == 0 or b._data.ndim == 0:
        return a * b
    if a._data.shape[-1] != b._data.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"{list(a._data.shape)} and {list(b._data.shape)}")
    return tensordot(a, b, ([-1], [-1]))


def outer(a: Tensor, b: Tensor) -> Tensor:
    """Outer product of two vectors.

    >>> import leafgrad
    >>> outer(leafgrad.tensor([1., 2.]), leafgrad.tensor([1., 3.]))
    tensor([[1., 3.],
            [2., 6.]])
    """
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {a._data.ndim}-D")
    return a.reshape(-1, 1) * b


def kron(a: Tensor, b: Tensor) -> Tensor:
    """Kronecker product.

    >>> import leafgrad
    >>> kron(leafgrad.eye(2), leafgrad.ones(1, 2))
    tensor([[1., 1., 0., 0.],
            [0., 0., 1., 1.]])
    """
    n = builtins_max(a._data.ndim, b._data.ndim)
    sa = (1,) * (n - a._data.ndim) + a._data.shape
    sb = (1,) * (n - b._data.ndim) + b._data.shape
    ia = []
    ib = []
    for x, y in zip(sa, sb):
        ia += [x, 1]
        ib += [1, y]
    p = a.reshape(tuple(ia)) * b.reshape(tuple(ib))
    return p.reshape(tuple(x * y for x, y in zip(sa, sb)))


class Cross(Op):
    name_ = "LinalgCrossBackward0"
    formula = {"a": "cross(b, grad, dim)", "b": "cross(grad, a, dim)"}  # (helpers: dual)
    __slots__ = ("dim",)

    def forward(self, a, b):
        return np.cross(a, b, axis=self.dim)

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        return (_dcross(b, grad, self.dim) if nf[0][0] is not None else None,
                _dcross(grad, a, self.dim) if nf[1][0] is not None else None)


def _dcross(a, b, dim: int):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return _cross(a, b, dim)
    return np.cross(a, b, axis=dim)


def _cross(a: Tensor, b: Tensor, dim: int) -> Tensor:
    fn = _new(Cross)
    ad, bd = _operands(a, b)
    nd = builtins_max(ad.ndim, bd.ndim)
    fn.dim = dim - nd if dim >= 0 else dim
    return record(fn, (a, b), np.asarray(fn.forward(ad, bd)))


def cross(a: Tensor, b: Tensor, dim=None, *, _linalg: bool = False) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (torch.cross: the first size-3 dim by default).

    >>> import leafgrad
    >>> cross(leafgrad.tensor([1., 0., 0.]), leafgrad.tensor([0., 1., 0.]))
    tensor([0., 0., 1.])
    """
    ad, bd = a._data, b._data
    nd = builtins_max(ad.ndim, bd.ndim)
    if dim is None:
        if _linalg:
            dim = -1
        else:
            shp = np.broadcast_shapes(ad.shape, bd.shape)
            dim = next((k for k, s in enumerate(shp) if s == 3), -1)
    from .._dims import _wrap_dim

    d = _wrap_dim(int(dim), nd, "cross")
    if (ad.shape[d - nd + ad.ndim] if ad.ndim else 0) != 3 or (
            bd.shape[d - nd + bd.ndim] if bd.ndim else 0) != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{ad.shape[d] if d < ad.ndim else 0} and "
                           f"{bd.shape[d] if d < bd.ndim else 0}")
    return _cross(a, b, d)


def multi_dot(tensors) -> Tensor:
    """Product of a chain of matrices (first / last may be vectors).

    >>> import leafgrad
    >>> multi_dot([leafgrad.ones(2, 3), leafgrad.ones(3, 4), leafgrad.ones(4)]).shape
    torch.Size([2])
    """
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    out = ts[0]
    for x in ts[1:]:
        out = matmul(out, x)
    return out


def chain_matmul(*matrices) -> Tensor:
    """Product of a chain of 2-d matrices (deprecated in PyTorch for linalg.multi_dot).

    >>> import leafgrad
    >>> chain_matmul(leafgrad.eye(2), leafgrad.eye(2))
    tensor([[1., 0.],
            [0., 1.]])
    """
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(matrices)


def matrix_power(a: Tensor, n: int) -> Tensor:
    """``a`` multiplied by itself ``n`` times (negative ``n``: powers of the inverse).

    >>> import leafgrad
    >>> matrix_power(leafgrad.tensor([[1., 1.], [0., 1.]]), 3)
    tensor([[1., 3.],
            [0., 1.]])
    """
    _check_square(a, "linalg.matrix_power")
    if n == 0:
        eye = np.broadcast_to(np.eye(a._data.shape[-1], dtype=a._data.dtype), a._data.shape)
        return a * 0 + _wrap(eye.copy())
    if n < 0:
        a = inv(a)
        n = -n
    result = None
    base = a
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result if result is not a else a.clone()


# -- determinants and inverses ---------------------------------------------------------------------
class Inv(Op):
    name_ = "LinalgInvExBackward0"
    formula = {"a": "-out.mT @ grad @ out.mT"}
    save_inputs = False
    save_output = True
    __slots__ = ()

    def forward(self, a):
        return _lapack(np.linalg.inv, "linalg.inv", a)

    def backward(self, grad):
        ai = self.result(grad)
        return -(mT(ai) @ grad @ mT(ai))


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
        return np.asarray(np.linalg.det(a))

    def backward(self, grad):
        (a,) = self.saved(grad)
        out = self.result(grad)
        return unsqueeze(unsqueeze(grad * out, -1), -1) * mT(_dinv(a))


def det(a: Tensor) -> Tensor:
    """Determinant of a square matrix (or batch).

    >>> import leafgrad
    >>> det(leafgrad.tensor([[2., 1.], [1., 3.]]))
    tensor(5.0000)
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
        return unsqueeze(unsqueeze(grad, -1), -1) * mT(_dinv(a))


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
    la = record_unary(fn, a, np.asarray(ld))
    return return_type("linalg_slogdet")(_wrap(np.asarray(s)), la)


def logdet(a: Tensor) -> Tensor:
    """log(det(a)): nan for a negative determinant, -inf for zero.

    >>> import leafgrad
    >>> logdet(leafgrad.tensor([[2., 0.], [0., 3.]]))
    tensor(1.7918)
    """
    s, ld = slogdet(a)
    from .elementwise import where

    return where(s._data < 0, _wrap(np.asarray(np.nan, ld._data.dtype)), ld)


# -- solves ----------------------------------------------------------------------------------------
def _is_vector_rhs(a, b) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) if 1-d or A's batch shape without the column."""
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


class Solve(Op):
    name_ = "LinalgSolveExBackward0"
    formula = {"a": "solve_backward(grad, a, out, vec)[0]",
               "b": "solve_backward(grad, a, out, vec)[1]"}
    save_output = True
    __slots__ = ("vec",)

    def forward(self, a, b):
        if self.vec:
            return _lapack(np.linalg.solve, "linalg.solve", a, b[..., None])[..., 0]
        return _lapack(np.linalg.solve, "linalg.solve", a, b)

    def backward(self, grad):
        a, _ = self.saved(grad)
        nf = self.next_functions
        ga, gb = _solve_backward(grad, a, self.result(grad), self.vec, nf[0][0] is not None)
        return ga, (gb if nf[1][0] is not None else None)


def _solve_backward(grad, a, x, vec: bool, need_a: bool = True):
    """(gA, gB) of X = A^{-1} B (dual)."""
    if vec:
        grad = unsqueeze(grad, -1)
        x = unsqueeze(x, -1)
    gb = _dsolve(mT(a), grad)
    ga = -(gb @ mT(x)) if need_a else None
    if vec:
        gb = squeeze(gb, -1)
    return ga, gb


def solve(a: Tensor, b: Tensor, *, left: bool = True) -> Tensor:
    """Solution ``x`` of ``a @ x = b`` (``x @ a = b`` with ``left=False``).

    >>> import leafgrad
    >>> solve(leafgrad.tensor([[2., 0.], [0., 4.]]), leafgrad.tensor([2., 2.]))
    tensor([1.0000, 0.5000])
    """
    if not left:
        return mT(solve(mT(a), mT(b)))
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
        idx = np.arange(n)
        m = m.copy()
        m[..., idx, idx] = 1
    return m


class SolveTriangular(Op):
    name_ = "LinalgSolveTriangularBackward0"
    formula = {"a": "solve_triangular_backward(grad, a, out, upper, left, unit)[0]",
               "b": "solve_triangular_backward(grad, a, out, upper, left, unit)[1]"}
    save_output = True
    __slots__ = ("upper", "left", "unit")

    def forward(self, a, b):
        t_ = _tri(a, self.upper, self.unit)
        if self.left:
            return _lapack(np.linalg.solve, "linalg.solve_triangular", t_, b)
        return np.swapaxes(_lapack(np.linalg.solve, "linalg.solve_triangular",
                                   np.swapaxes(t_, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)

    def backward(self, grad):
        a, _ = self.saved(grad)
        nf = self.next_functions
        ga, gb = _solve_triangular_backward(grad, a, self.result(grad), self.upper, self.left,
                                            self.unit, nf[0][0] is not None)
        return ga, (gb if nf[1][0] is not None else None)


def _solve_triangular_backward(grad, a, x, upper, left, unit, need_a: bool = True):
    """(gA, gB) of a triangular solve, gA restricted to A's triangle as PyTorch (dual)."""
    gb = _dsolve_tri(mT(a), grad, not upper, left, unit)
    ga = None
    if need_a:
        ga = -(gb @ mT(x)) if left else -(mT(x) @ gb)
        n = _raw(a).shape[-1]
        k = 1 if unit else 0
        m = np.triu(np.ones((n, n), bool), k) if upper else np.tril(np.ones((n, n), bool), -k)
        ga = _mask(ga, m)
    return ga, gb


class TriangularSolve(SolveTriangular):
    name_ = "TriangularSolveBackward0"
    __slots__ = ()


def _dsolve_tri(a, b, upper, left, unit):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return solve_triangular(a, b, upper=upper, left=left, unitriangular=unit)
    return SolveTriangular.forward(_Tri(upper, left, unit), a, b)


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
    aa = mT(a) if transpose else a
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
        A = mT(Lt) @ Lt if self.upper else Lt @ mT(Lt)  # noqa: N806
        return _lapack(np.linalg.solve, "cholesky_solve", A, b)

    def backward(self, grad):
        _, L = self.saved(grad)  # noqa: N806
        nf = self.next_functions
        gb, gL = _cholesky_solve_backward(grad, L, self.result(grad), self.upper,  # noqa: N806
                                          nf[1][0] is not None)
        return (gb if nf[0][0] is not None else None), gL


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
        common = gb @ mT(x)
        common = common + mT(common)
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


# -- decompositions --------------------------------------------------------------------------------
class Cholesky(Op):
    name_ = "LinalgCholeskyExBackward0"
    formula = {"a": "cholesky_backward(grad, out, upper)"}
    save_inputs = False
    save_output = True
    __slots__ = ("upper",)

    def forward(self, a):
        L = _lapack(np.linalg.cholesky, "linalg.cholesky", a)  # noqa: N806
        return np.ascontiguousarray(mT(L)) if self.upper else L

    def backward(self, grad):
        return _cholesky_backward(grad, self.result(grad), self.upper)


def _cholesky_backward(grad, L, upper: bool):  # noqa: N803
    """PyTorch's cholesky_backward (Murray 2016): L^-H phi(L^H gL) L^-1 (dual)."""
    if upper:
        L = mT(L)  # noqa: N806
        grad = mT(grad)
    n = _raw(L).shape[-1]
    low = np.tril(np.ones((n, n), bool))
    strict = np.tril(np.ones((n, n), bool), -1)
    ga = _mask(mT(L) @ grad, low)
    ga = (ga + mT(_mask(ga, strict))) * 0.5
    # gA = L^{-H} gA L^{-1}
    ga = _dsolve_tri(mT(L), ga, True, True, False)
    ga = _dsolve_tri(L, ga, False, False, False)
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
    _nout = 2
    __slots__ = ("mode", "outs")

    def forward(self, a):
        q, r = np.linalg.qr(a, mode="complete" if self.mode == "complete" else "reduced")
        return q, r

    def backward(self, gq, gr):
        g0 = gq if gq is not None else gr
        q, r = _outs(self, g0)
        m, n = _raw(q).shape[-2], _raw(r).shape[-1]
        if m < n or self.mode == "complete" and m > n:
            raise NotImplementedError(
                "The derivative of linalg.qr is implemented here for mode='reduced' with "
                "m >= n only (tall or square inputs)")
        k = n
        mm_ = 0.0
        if gr is not None:
            mm_ = r @ mT(gr)
        if gq is not None:
            mm_ = mm_ - mT(gq) @ q
        low = np.tril(np.ones((k, k), bool), -1)
        diag = np.eye(k, dtype=bool)
        if isinstance(mm_, float):
            c = 0.0
        else:
            lo = _mask(mm_, low)
            c = lo + mT(lo) + _mask(mm_, diag)
        b = (gq if gq is not None else 0.0) + q @ c
        # gA = b R^{-T}: solve R X^T = b^T  (R upper triangular)
        return mT(_dsolve_tri(r, mT(b), True, True, False))


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
        return return_type("linalg_qr")(_wrap(np.zeros((0,), a._data.dtype)), _wrap(r))
    return return_type("linalg_qr")(*record_multi(fn, (a,), (q, r)))


class Svd(Op):
    name_ = "LinalgSvdBackward0"
    formula = {"a": "svd_backward(grad_U, grad_S, grad_Vh, U, S, Vh)"}
    save_inputs = False
    _nout = 3
    __slots__ = ("full", "outs", "uv")

    def forward(self, a):
        return np.linalg.svd(a, full_matrices=self.full)

    def backward(self, gu, gs, gvh):
        g0 = gu if gu is not None else gs if gs is not None else gvh
        u, s, vh = _outs(self, g0)
        k = _raw(s).shape[-1]
        m, n = _raw(u).shape[-2], _raw(vh).shape[-1]
        if self.full:
            u = u[..., :, :k] if isinstance(u, Tensor) else u[..., :, :k]
            vh = vh[..., :k, :] if isinstance(vh, Tensor) else vh[..., :k, :]
            if gu is not None:
                gu = gu[..., :, :k]
            if gvh is not None:
                gvh = gvh[..., :k, :]
        if gu is None and gvh is None:
            return (u * unsqueeze(gs, -2)) @ vh
        v = mT(vh)
        gv = mT(gvh) if gvh is not None else None
        s_r = _raw(s)
        s2 = s_r * s_r
        with np.errstate(divide="ignore"):
            e = s2[..., None, :] - s2[..., :, None]  # e[i, j] = s_j^2 - s_i^2
            idx = np.arange(k)
            e[..., idx, idx] = np.inf
            f = 1.0 / e
        fc = _wrap(f) if isinstance(g0, Tensor) else f
        su = unsqueeze(s, -2)  # S as a row: multiplies columns
        sl = unsqueeze(s, -1)
        inner_ = 0.0
        if gu is not None:
            uhgu = mT(u) @ gu
            inner_ = (uhgu - mT(uhgu)) * su
        if gv is not None:
            vhgv = mT(v) @ gv
            inner_ = inner_ + sl * (vhgv - mT(vhgv))
        inner_ = inner_ * fc
        if gs is not None:
            inner_ = inner_ + _diag_embed(gs)
        ga = u @ inner_ @ vh
        if gu is not None and m > k:
            ga = ga + ((gu - u @ (mT(u) @ gu)) / su) @ vh
        if gv is not None and n > k:
            ga = ga + u @ mT((gv - v @ (mT(v) @ gv)) / su)
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
    _nout = 2
    __slots__ = ("uplo", "outs")

    def forward(self, a):
        return np.linalg.eigh(a, UPLO=self.uplo)

    def backward(self, gl, gv):
        g0 = gl if gl is not None else gv
        lam, v = _outs(self, g0)
        n = _raw(lam).shape[-1]
        lr = _raw(lam)
        e = lr[..., None, :] - lr[..., :, None]
        idx = np.arange(n)
        e[..., idx, idx] = 1.0
        ga = 0.0
        if gv is not None:
            vhgv = mT(v) @ gv
            vhgv = (vhgv - mT(vhgv)) * 0.5
            ga = vhgv * (1.0 / (_wrap(e) if isinstance(g0, Tensor) else e))
            offd = ~np.eye(n, dtype=bool)
            ga = _mask(ga, offd)
        if gl is not None:
            ga = ga + _diag_embed(gl)
        return v @ ga @ mT(v)


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
    m, n = _raw(a).shape[-2], _raw(a).shape[-1]
    pah = mT(pa)
    gh = mT(grad)
    if m <= n:
        k = gh @ pa
        kpah = k @ pah
        return -mT(pa @ k) + kpah - (a @ pa) @ kpah + (pah @ pa) @ (gh - k @ a)
    k = pa @ gh
    pahk = pah @ k
    return -mT(k @ pa) + (gh - a @ k) @ pa @ pah + pahk - pahk @ pa @ a


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
        return np.zeros(a.shape[:-2] + (a.shape[-1], a.shape[-2]), a.dtype)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    tol = np.maximum(atol, rtol * s[..., :1])
    sinv = np.where(s > tol, 1.0 / np.where(s > tol, s, 1), 0).astype(a.dtype)
    return (mT(vh) * sinv[..., None, :]) @ mT(u)


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
    __slots__ = ("vec",)

    def forward(self, a, b):
        pa = _pinv_np(a, None, None, False)
        return pa @ b

    def backward(self, grad):
        a, b = self.saved(grad)
        nf = self.next_functions
        pa = pinv(a) if isinstance(a, Tensor) else _pinv_np(a, None, None, False)
        ga = _pinv_backward(grad @ mT(b), pa, a) if nf[0][0] is not None else None
        gb = mT(pa) @ grad if nf[1][0] is not None else None
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
    empty = _wrap(np.zeros((0,), ad.dtype))
    # NOTE: gelsy (PyTorch's CPU default) returns no residuals and no singular values
    return return_type("linalg_lstsq")(x, empty, rank, _wrap(np.zeros((0,), ad.dtype)))


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
    s = np.linalg.svd(d, compute_uv=False) if d.size else np.zeros(d.shape[:-2] + (0,))
    at, rt = _tols(d.shape, atol, rtol, d.dtype)
    thr = np.maximum(at, rt * (s[..., :1] if s.shape[-1] else 0))
    return _wrap(np.asarray((s > thr).sum(-1), dtype=np.int64))


# -- norms -----------------------------------------------------------------------------------------
def matrix_norm(a: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """Matrix norm: 'fro', 'nuc', 1, -1, 2, -2, inf, -inf.

    >>> import leafgrad
    >>> matrix_norm(leafgrad.tensor([[3., 0.], [0., 4.]]))
    tensor(5.)
    """
    from . import reduce as R  # noqa: N812
    from .movement import permute as _permute

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
    from . import reduce as R  # noqa: N812

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
