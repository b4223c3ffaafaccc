"""einsum and friends: tensordot, inner, outer, kron, cross, multi_dot, matrix_power."""

from __future__ import annotations

import numpy as np

from ...autograd.node import Op
from ...backend import array_module, as_array
from ...dtypes import int64 as _int64
from ...tensor import Tensor, _wrap
from .. import dual
from .._apply import record
from ..elementwise import _operands
from .products import _new, matmul
from .solve import _check_square, inv

# -- einsum and friends ----------------------------------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse_einsum(eq: str, shapes: list) -> tuple[list, str]:
    """Explicit subscripts (ellipsis expanded to letters) for each operand and the output."""
    eq = eq.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): {len(terms)} subscript terms for {len(shapes)} operands"
                           "\nWhy: each operand needs its own comma-separated subscripts.")
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
    formula = {f"operand{i}": f"einsum_grad(terms, out_term, shapes, {i}, grad, inputs)"
               for i in range(8)}
    # shapes: the operands' shapes (an operand's own gradient needs its shape, not its value;
    # the node keeps no operand beyond what saved_for says, as PyTorch's)
    __slots__ = ("terms", "out_term", "shapes")

    @property
    def saved_for(self) -> tuple:
        """Operand i is needed by every other operand's gradient (only its shape by its own)."""
        n = len(self.terms)
        return tuple(tuple(j for j in range(n) if j != i) for i in range(n))

    def forward(self, *ops):
        eq = ",".join(self.terms) + "->" + self.out_term
        return as_array(np.einsum(eq, *ops, optimize=len(ops) > 2))

    def backward(self, grad):
        ops = self.saved(grad)
        res = []
        for i, need in enumerate(self.needs_input_grad):
            if not need:
                res.append(None)
                continue
            res.append(self._grad_for(i, grad, ops))
        return tuple(res)

    def _grad_for(self, i: int, grad, ops):
        term = self.terms[i]
        shape = self.shapes[i]  # (the operand itself may not be saved)
        # repeated letters in the operand (a diagonal): the gradient is computed for the
        # letters' first occurrences, then written on the diagonal with zeros elsewhere, as the
        # backward of PyTorch's diagonal view does (not contracted with identity matrices,
        # whose zeros would turn an infinite gradient into NaN off the diagonal)
        uniq = "".join(dict.fromkeys(term))
        ushape = tuple(shape[term.index(c)] for c in uniq)
        others = [ops[j] for j in range(len(ops)) if j != i]
        other_terms = [self.terms[j] for j in range(len(ops)) if j != i]
        avail = set(self.out_term + "".join(other_terms))
        target = "".join(c for c in uniq if c in avail)
        eq = ",".join([self.out_term] + other_terms) + "->" + target
        g = einsum(eq, grad, *others) if isinstance(grad, Tensor) else np.einsum(
            eq, grad, *others)
        if target != uniq:
            # letters only in this operand were summed out: broadcast back over them
            shp = [ushape[k] if c in avail else 1 for k, c in enumerate(uniq)]
            g = dual.expand(g.reshape(tuple(shp)), ushape)
        if uniq != term:
            xp = array_module(dual.raw(g))
            m = len(uniq)
            index = tuple(xp.arange(ushape[j]).reshape((1,) * j + (-1,) + (1,) * (m - j - 1))
                          for j in (uniq.index(c) for c in term))
            g = dual.embed(g, shape, index)
        return g


def _integer_einsum(terms: list, out: str, operands: tuple) -> tuple:
    """PyTorch's einsum on integer/bool operands: a label in one operand only, not in the
    output, is summed first (sum: int64, bool counted, not OR-ed as NumPy's einsum does); a
    label shared by operands is contracted by bmm, which has no bool kernel."""
    counts: dict = {}
    for t in terms:
        for c in set(t):
            counts[c] = counts.get(c, 0) + 1
    gone = [c for c in counts if c not in out]
    contracted = any(counts[c] > 1 for c in gone)
    if contracted and operands[0]._data.dtype.kind == "b":
        raise NotImplementedError(
            "\"bmm\" not implemented for 'Bool'\nWhy: einsum contracts the shared labels with a "
            "matrix product, which PyTorch has no bool kernel for; convert first (x.long()).")
    if gone and not contracted:
        return tuple(o.to(_int64) for o in operands)
    return operands


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
    fn.shapes = tuple(o._data.shape for o in operands)
    datas = [o._data for o in operands]
    if len(set(d.dtype for d in datas)) > 1:
        raise RuntimeError(f"einsum(): expected scalar type {operands[0].dtype} but found "
                           f"{[o.dtype for o in operands if o._data.dtype != datas[0].dtype][0]}")
    if datas and datas[0].dtype.kind in "biu":
        operands = _integer_einsum(terms, out, operands)
        datas = [o._data for o in operands]
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
    saved_for = ((1,), (0,))  # PyTorch saves other for self's gradient, self for other's
    __slots__ = ("dim",)

    def forward(self, a, b):
        return np.cross(a, b, axis=self.dim)

    def backward(self, grad):
        a, b = self.saved(grad)
        need = self.needs_input_grad
        return (dual.cross(b, grad, self.dim) if need[0] else None,
                dual.cross(grad, a, self.dim) if need[1] else None)


def _cross(a: Tensor, b: Tensor, dim: int) -> Tensor:
    fn = _new(Cross)
    ad, bd = _operands(a, b)
    nd = builtins_max(ad.ndim, bd.ndim)
    fn.dim = dim - nd if dim >= 0 else dim
    return record(fn, (a, b), as_array(fn.forward(ad, bd)))


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
    from ..._dims import _wrap_dim

    d = _wrap_dim(dim, nd, "cross")
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
    n = len(ts)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    _check_chain(ts)
    mats = list(ts)
    if ts[0].dim() == 1:
        mats[0] = ts[0].unsqueeze(0)
    if ts[-1].dim() == 1:
        mats[-1] = ts[-1].unsqueeze(-1)
    # NOTE: PyTorch's order of products (hence its graph: which MmBackward0 saved which
    # operand, the order in which a modified-in-place error and the leaves' gradients come)
    if n == 2:
        out = mats[0].mm(mats[1])
    elif n == 3:
        a, b = mats[0].shape
        c, d = mats[2].shape
        if (a * c) * (b + d) > (b * d) * (a + c):
            out = mats[0].mm(mats[1].mm(mats[2]))
        else:
            out = mats[0].mm(mats[1]).mm(mats[2])
    else:
        out = _chain(mats, _chain_order(mats), 0, n - 1)
    shape = tuple(out.shape)
    if ts[0].dim() == 1:
        shape = shape[1:]
    if ts[-1].dim() == 1:
        shape = shape[:-1]
    return out.view(shape)


def _check_chain(ts: list) -> None:
    """PyTorch's multi_dot argument checks (dims, dtypes, inner sizes)."""
    n = len(ts)
    for i, t in enumerate(ts):
        d = t.dim()
        if i in (0, n - 1) and d not in (1, 2):
            which = "first" if i == 0 else "last"
            raise RuntimeError(f"multi_dot(): the {which} tensor must be 1D or 2D but got {d}D")
        if 0 < i < n - 1 and d != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {d}D")
        if t.dtype != ts[0].dtype:
            raise RuntimeError(
                "multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                f"{_tname(ts[0])} and tensor {i} {_tname(t)}")
    for i in range(n - 1):
        a, b = ts[i], ts[i + 1]
        if a.shape[-1] != b.shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {i} and {i + 1} with shapes {list(a.shape)} and "
                f"{list(b.shape)} cannot be multiplied")


def _tname(t: Tensor) -> str:
    return str(t.dtype).replace("torch.", "").replace("float32", "float").replace(
        "float64", "double").replace("int64", "long").replace("int32", "int")


def _chain_order(mats: list) -> list:
    """The split points of the cheapest parenthesisation (CLRS; the first minimum wins)."""
    p = [m.shape[0] for m in mats] + [mats[-1].shape[1]]
    n = len(mats)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if cost[i][j] is None or q < cost[i][j]:
                    cost[i][j], split[i][j] = q, k
    return split


def _chain(mats: list, split: list, i: int, j: int) -> Tensor:
    if i == j:
        return mats[i]
    k = split[i][j]
    return _chain(mats, split, i, k).mm(_chain(mats, split, k + 1, j))


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
        xp = array_module(a._data)
        eye = np.broadcast_to(xp.eye(a._data.shape[-1], dtype=a._data.dtype), a._data.shape)
        # NOTE: as PyTorch, a copy of a overwritten by the identity (CopyBackwards: zeros)
        return a.clone().copy_(_wrap(eye))
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
