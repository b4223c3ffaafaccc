"""Bad input gets PyTorch's exception type, the gist of its message, and a sentence that teaches."""

from __future__ import annotations

import pytest
import torch

import leafgrad

CASES = [
    ("non-scalar backward", lambda m: (m.ones(2, requires_grad=True) * 2).backward(),
     "implicitly created only for scalar outputs"),
    ("backward without grad", lambda m: m.ones(2).sum().backward(),
     "does not require grad and does not have a grad_fn"),
    ("gradient shape mismatch",
     lambda m: (m.ones(2, requires_grad=True) * 2).backward(m.ones(3)), "Mismatch in shape"),
    ("add broadcast", lambda m: m.ones(2, 3) + m.ones(4), "must match the size of tensor b"),
    ("mul broadcast", lambda m: m.ones(2, 3) * m.ones(2), "must match the size of tensor b"),
    ("matmul shapes", lambda m: m.ones(2, 3) @ m.ones(4, 5), "cannot be multiplied"),
    ("matmul 0-d", lambda m: m.ones(2) @ m.tensor(1.0), "at least 1D"),
    ("in-place on leaf", lambda m: m.ones(2, requires_grad=True).add_(1), "leaf Variable"),
    ("int requires grad", lambda m: m.ones(2, dtype=m.int64).requires_grad_(),
     "floating point"),
    ("numpy of grad tensor", lambda m: m.ones(2, requires_grad=True).numpy(),
     "Use tensor.detach().numpy()"),
    ("item of many", lambda m: m.ones(3).item(), "cannot be converted to Scalar"),
    ("bool of many", lambda m: bool(m.ones(3)), "ambiguous"),
    ("view incompatible", lambda m: m.ones(2, 3).t().view(-1), "view size is not compatible"),
    ("reshape bad size", lambda m: m.ones(2, 3).reshape(4), "is invalid for input of size 6"),
    ("sum bad dim", lambda m: m.ones(2, 3).sum(2), "Dimension out of range"),
    ("index out of range", lambda m: m.ones(2, 3)[5], "out of bounds"),
    ("negative step", lambda m: m.ones(4)[::-1], "step must be greater than zero"),
    ("mean of ints", lambda m: m.ones(3, dtype=m.int64).mean(), "mean(): could not infer"),
    ("modified saved tensor", lambda m: _modified(m), "modified by an inplace operation"),
    ("non-leaf requires_grad False",
     lambda m: setattr(m.ones(2, requires_grad=True) * 2, "requires_grad", False),
     "only change requires_grad flags of leaf variables"),
]


def _modified(m):
    x = m.ones(3, requires_grad=True)
    y = x * 2
    z = y * y
    y.add_(1)
    z.sum().backward()


@pytest.mark.parametrize("name,fn,gist", CASES, ids=[c[0] for c in CASES])
def test_error_type_and_message_match_torch(name, fn, gist):
    with pytest.raises(Exception) as t_err:
        fn(torch)
    with pytest.raises(type(t_err.value)) as l_err:
        fn(leafgrad)
    assert type(l_err.value) is type(t_err.value)
    assert gist in str(t_err.value), "the gist should be torch's own words"
    assert gist in str(l_err.value)


TEACHING = ["non-scalar backward", "backward without grad", "gradient shape mismatch",
            "add broadcast", "matmul shapes", "modified saved tensor", "in-place on leaf"]


@pytest.mark.parametrize("name", TEACHING)
def test_messages_teach_the_concept(name):
    fn = next(c[1] for c in CASES if c[0] == name)
    with pytest.raises(Exception) as e:
        fn(leafgrad)
    assert "Why:" in str(e.value)


def test_broadcast_error_names_op_and_both_shapes():
    with pytest.raises(RuntimeError) as e:
        leafgrad.ones(2, 3) - leafgrad.ones(4)
    msg = str(e.value)
    assert "sub()" in msg and "[2, 3]" in msg and "[4]" in msg


def test_modified_error_names_versions_like_torch():
    msgs = []
    for m in (leafgrad, torch):
        with pytest.raises(RuntimeError) as e:
            _modified(m)
        msgs.append(str(e.value).split("Hint")[0])
    assert msgs[0] == msgs[1]
