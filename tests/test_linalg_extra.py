"""Linear-algebra cases beyond the op table: named tuples, errors, einsum forms, batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import leafgrad
import leafgrad.linalg  # noqa: F401  (the lead adds it to leafgrad/__init__.py)
from leafgrad.autograd import gradcheck

RNG = np.random.default_rng(0)


def _spd(n: int, batch=()):
    a = RNG.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _both(arr, rg=True):
    return leafgrad.tensor(arr.copy(), requires_grad=rg), torch.tensor(arr.copy(),
                                                                       requires_grad=rg)


@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("i,i", [(3,), (3,)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]), ("bij->", [(2, 3, 4)]), ("ij->ji", [(2, 3)]),
    ("ijk,ikl,il->jl", [(2, 3, 4), (2, 4, 5), (2, 5)]), ("i,j", [(2,), (3,)]),
    ("iij->j", [(2, 2, 3)]), ("ab,ab->a", [(1, 3), (2, 3)]),
])
def test_einsum_forms_match_torch(eq, shapes):
    arrs = [RNG.standard_normal(s) for s in shapes]
    ls = [leafgrad.tensor(a, requires_grad=True) for a in arrs]
    ts = [torch.tensor(a, requires_grad=True) for a in arrs]
    lo, to = leafgrad.einsum(eq, *ls), torch.einsum(eq, *ts)
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), rtol=1e-10)
    g = RNG.standard_normal(tuple(to.shape))
    lo.backward(leafgrad.tensor(g))
    to.backward(torch.tensor(g))
    for a, b in zip(ls, ts):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10)
    assert gradcheck(lambda *xs: leafgrad.einsum(eq, *xs),
                     [leafgrad.tensor(a, requires_grad=True) for a in arrs])


@pytest.mark.parametrize("name,build", [
    ("det", lambda m, a: m.linalg.det(a)), ("inv", lambda m, a: m.linalg.inv(a)),
    ("slogdet", lambda m, a: m.linalg.slogdet(a).logabsdet),
    ("cholesky", lambda m, a: m.linalg.cholesky(a)),
    ("eigvalsh", lambda m, a: m.linalg.eigvalsh(a)),
    ("solve", lambda m, a: m.linalg.solve(a, a[..., :1] * 2)),
    ("pinv", lambda m, a: m.linalg.pinv(a)),
])
def test_batched_spd_matches_torch_and_gradchecks(name, build):
    a = _spd(3, (2,))
    la, ta = _both(a)
    lo, to = build(leafgrad, la), build(torch, ta)
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), rtol=1e-9, atol=1e-12)
    g = RNG.standard_normal(tuple(to.shape))
    lo.backward(leafgrad.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_allclose(la.grad.numpy(), ta.grad.numpy(), rtol=1e-8, atol=1e-10)
    # symmetrised: cholesky / eigh read one triangle, so only symmetric perturbations are valid
    assert gradcheck(lambda x: build(leafgrad, (x + x.mT) * 0.5),
                     [leafgrad.tensor(a, requires_grad=True)])


def test_singular_and_shape_errors():
    with pytest.raises(RuntimeError):
        leafgrad.linalg.inv(leafgrad.zeros(2, 2))
    with pytest.raises(RuntimeError):
        torch.linalg.inv(torch.zeros(2, 2))
    with pytest.raises(RuntimeError, match="square"):
        leafgrad.linalg.det(leafgrad.ones(2, 3))
    with pytest.raises(RuntimeError):
        leafgrad.linalg.cholesky(-leafgrad.eye(2))
    with pytest.raises(RuntimeError, match="3D"):
        leafgrad.bmm(leafgrad.ones(2, 3), leafgrad.ones(3, 2))
    with pytest.raises(RuntimeError):
        leafgrad.dot(leafgrad.ones(2), leafgrad.ones(3))
    with pytest.raises(RuntimeError):
        leafgrad.mm(leafgrad.ones(2, 3), leafgrad.ones(2, 3))
    with pytest.raises(RuntimeError, match="linalg.cross"):
        leafgrad.linalg.cross(leafgrad.ones(2, 2), leafgrad.ones(2, 2))


def test_named_tuples_and_side_outputs():
    a = RNG.standard_normal((4, 3))
    b = RNG.standard_normal((4, 2))
    lr = leafgrad.linalg.lstsq(leafgrad.tensor(a), leafgrad.tensor(b))
    tr = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b))
    assert type(lr).__name__ == type(tr).__name__ == "linalg_lstsq"
    np.testing.assert_allclose(lr.solution.numpy(), tr.solution.numpy(), rtol=1e-9)
    assert lr.rank.item() == tr.rank.item() and lr.residuals.shape == tr.residuals.shape
    q = leafgrad.linalg.qr(leafgrad.tensor(a), mode="r")
    assert q.Q.numel() == 0 and q.R.shape == (3, 3)
    s = leafgrad.linalg.slogdet(leafgrad.tensor([[0.0, 1.0], [1.0, 0.0]]))
    assert s.sign.item() == -1.0
    assert np.isnan(leafgrad.logdet(leafgrad.tensor([[0.0, 1.0], [1.0, 0.0]])).item())
    ts = torch.triangular_solve(torch.tensor(b[:3]), torch.tensor(np.triu(a[:3]) + 3 * np.eye(3)))
    ls = leafgrad.triangular_solve(leafgrad.tensor(b[:3]),
                                   leafgrad.tensor(np.triu(a[:3]) + 3 * np.eye(3)))
    assert repr(ls).startswith("torch.return_types.triangular_solve(")
    np.testing.assert_allclose(ls.solution.numpy(), ts.solution.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ls.cloned_coefficient.numpy(), ts.cloned_coefficient.numpy())
    m = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert leafgrad.linalg.matrix_rank(leafgrad.tensor(m)).item() == 1


def test_svd_full_matrices_gradient_matches_torch_on_invariant_loss():
    a = RNG.standard_normal((4, 3))
    la, ta = _both(a)

    def loss(m, x):
        r = m.linalg.svd(x)
        k = r.S.shape[0]
        return ((r.U[:, :k] * r.S) @ r.Vh[:k]).sum() + (r.S ** 3).sum()

    loss(leafgrad, la).backward()
    loss(torch, ta).backward()
    np.testing.assert_allclose(la.grad.numpy(), ta.grad.numpy(), rtol=1e-8)


def test_matrix_power_zero_and_cross_default_dim():
    a = RNG.standard_normal((2, 3, 3))
    la, ta = _both(a)
    (leafgrad.matrix_power(la, 0) * 2).sum().backward()
    (torch.matrix_power(ta, 0) * 2).sum().backward()
    np.testing.assert_allclose(la.grad.numpy(), ta.grad.numpy())
    x, y = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    with pytest.warns(UserWarning):
        want = torch.cross(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(leafgrad.cross(leafgrad.tensor(x), leafgrad.tensor(y)).numpy(),
                               want.numpy())


@settings(max_examples=30, deadline=None)
@given(batch=st.lists(st.integers(1, 3), min_size=0, max_size=2), n=st.integers(1, 3),
       k=st.integers(1, 3), p=st.integers(1, 3), bcast=st.booleans())
def test_random_batched_matmul_family(batch, n, k, p, bcast):
    """Broadcasting batched matmul and baddbmm against torch (values and gradients)."""
    sa = tuple(batch) + (n, k)
    sb = ((1,) * len(batch) if bcast else tuple(batch)) + (k, p)
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    (la, ta), (lb, tb) = _both(a), _both(b)
    lo, to = la @ lb, ta @ tb
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), rtol=1e-10)
    g = RNG.standard_normal(tuple(to.shape))
    lo.backward(leafgrad.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_allclose(la.grad.numpy(), ta.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(lb.grad.numpy(), tb.grad.numpy(), rtol=1e-10)
    if len(batch) == 1 and not bcast:
        c = RNG.standard_normal((n, p))
        lo = leafgrad.baddbmm(leafgrad.tensor(c), leafgrad.tensor(a), leafgrad.tensor(b),
                              beta=0.5, alpha=2)
        to = torch.baddbmm(torch.tensor(c), torch.tensor(a), torch.tensor(b), beta=0.5, alpha=2)
        np.testing.assert_allclose(lo.numpy(), to.numpy(), rtol=1e-10)
