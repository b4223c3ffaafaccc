"""Deliberate differences checked by running the program again in torch, rewritten.

Each row here names one op whose torch result is inconsistent (docs/differences.md). Its
condition reruns the program's lines so far in torch with that op, and only that op, rewritten
into torch's own other answer (its scalar kernel one element at a time, the same reduction
spelled ``dim=None``, contiguous operands...): the elements it explains are those where torch
differs from leafgrad and the rewritten torch program gives leafgrad's value. A line with none
of the op is never explained, and an element torch's other path does not reproduce stays a
mismatch.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # deliberate.py imports this module (for its rows) once it defines these
    from .deliberate import Seen

_F = "torch.nn.functional."


# -- the rerun --------------------------------------------------------------------------------
def _scalarwise(f, x, *args, inplace: bool = False, **kw):
    """``f`` applied to each element of ``x`` as a one-element tensor: torch's scalar kernel
    (forward and backward) for every element, whatever the tensor's length."""
    import torch

    src = x.clone() if inplace else x
    flat = src.reshape(-1)
    if flat.numel() == 0:
        out = f(src, *args, **kw)
    else:
        out = torch.cat([f(flat[i:i + 1], *args, **kw) for i in range(flat.numel())])
        out = out.reshape(x.shape)
    return x.copy_(out) if inplace else out


def _prelu_ref(x, w):
    """PReLU spelled with torch.where: x where x > 0, else w * x (weight per channel, dim 1),
    the formula of torch's own first derivative (w at x = 0)."""
    if w.numel() != 1 and x.dim() >= 2:
        w = w.reshape((-1,) + (1,) * (x.dim() - 2))
    return x.where(x > 0, w * x)


def _rerun(s: Seen, rewrite: Callable[[str], str]) -> np.ndarray | None:
    """Torch's values of ``s.path`` after the program so far, every line rewritten; None when
    no line changed, or the path cannot be read."""
    import torch

    from .runner import _exec, _fresh_ns

    lines = [rewrite(c) for c in s.program]
    if not s.program or lines == list(s.program):
        return None
    before, rng = torch.is_grad_enabled(), torch.random.get_rng_state()
    dtype = torch.get_default_dtype()
    try:
        torch.set_grad_enabled(True)
        torch.manual_seed(0)  # as runner.reset_state at the program's start
        ns = _fresh_ns(torch)
        ns.update(_scalarwise=_scalarwise, _prelu_ref=_prelu_ref)
        for code in lines:
            _exec(code, ns)
        try:
            v = eval(s.path, ns)  # noqa: S307 (the runner's own path, e.g. "x4[0].grad")
        except Exception:
            return None
    finally:
        torch.random.set_rng_state(rng)
        torch.set_grad_enabled(before)
        torch.set_default_dtype(dtype)
    return v.detach().numpy() if isinstance(v, torch.Tensor) else None


def _explained(s: Seen, again: np.ndarray | None) -> np.ndarray | None:
    """Elements where torch differs from leafgrad and torch's other path gives leafgrad's."""
    t, lv = s.torch, s.leafgrad
    if again is None or again.shape != t.shape or t.dtype.kind != "f":
        return None
    differ = ~((t == lv) | (np.isnan(t) & np.isnan(lv)))
    rtol = 1e-10 if t.dtype == np.float64 else 1e-5
    same = np.isclose(again.astype(t.dtype), lv, rtol=rtol, atol=0.0, equal_nan=True)
    m = differ & same
    return m if m.any() else None


def _rerun_applies(op: re.Pattern, rewrite: Callable[[str], str], grad_only: bool = True):
    """The condition of one row: a gradient (or any value, when not ``grad_only``) after a
    line calling ``op``, explained where torch's rewritten program gives leafgrad's value."""
    def applies(s: Seen) -> np.ndarray | None:
        if s.category not in ("silent-value", "silent-grad") or s.torch.shape != \
                s.leafgrad.shape or (grad_only and s.category != "silent-grad"):
            return None
        if not any(op.search(c) for c in s.program):
            return None
        return _explained(s, _rerun(s, rewrite))
    return applies


# -- 1. std/var with dim=() --------------------------------------------------------------------
_EMPTY_DIM = re.compile(r"(\.(?:std|var)\(|torch\.(?:std|var)(?:_mean)?\(\w+, )\(\)")


def _empty_dim_rewrite(code: str) -> str:
    return _EMPTY_DIM.sub(r"\1None", code)


def _empty_dim_torch() -> bool:
    import torch

    x = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    (g_empty,) = torch.autograd.grad(x.std(()), x)
    (g_all,) = torch.autograd.grad(x.std(), x)
    (v_empty,) = torch.autograd.grad(x.var(()), x)
    same_value = x.std(()).item() == x.std().item()
    return same_value and bool(torch.isinf(g_empty).all() and torch.isinf(v_empty).all()
                               and torch.isfinite(g_all).all())


# -- 2. activations at NaN: vectorized and scalar backward kernels -----------------------------
_ACTS = ("hardtanh", "relu6", "elu", "selu", "celu", "hardswish", "hardshrink", "softshrink")
_ACT_CALL = re.compile(r"torch\.nn\.functional\.(" + "|".join(_ACTS) + r")\(")


def _act_rewrite(code: str) -> str:
    return _ACT_CALL.sub(lambda m: f"_scalarwise({_F}{m.group(1)}, ", code)


def _act_applies(s: Seen) -> np.ndarray | None:
    m = _rerun_applies(_ACT_CALL, _act_rewrite)(s)
    # the scalar kernels differ from the vectorized ones only at NaN: a NaN on one side
    if m is None or not (np.isnan(s.torch[m]) | np.isnan(s.leafgrad[m])
                         | (s.torch[m] == 0)).all():
        return None
    return m


def _act_torch() -> bool:
    import torch

    F = torch.nn.functional
    for f in (F.hardtanh, F.relu6, F.elu, F.selu, F.celu, F.hardswish, F.hardshrink,
              F.softshrink):
        one = torch.full((1,), float("nan"), requires_grad=True)
        many = torch.full((64,), float("nan"), requires_grad=True)
        f(one).sum().backward()
        f(many).sum().backward()
        if one.grad[0].item() == 0 or one.grad.isnan().any() or \
                not (many.grad[0].item() == 0 or many.grad[0].isnan()):
            return False
    return True


# -- 3. logit's gradient at -0.0 ---------------------------------------------------------------
_LOGIT = re.compile(r"(\w+)\.logit_\(\)|torch\.logit\(")


def _logit_rewrite(code: str) -> str:
    code = re.sub(r"(\w+)\.logit_\(\)", r"_scalarwise(torch.logit, \1, inplace=True)", code)
    return code.replace("torch.logit(", "_scalarwise(torch.logit, ")


def _logit_applies(s: Seen) -> np.ndarray | None:
    m = _rerun_applies(_LOGIT, _logit_rewrite)(s)
    if m is None or not (np.isinf(s.torch[m]) & np.isinf(s.leafgrad[m])).all():
        return None
    return m


def _logit_torch() -> bool:
    import torch

    one = torch.full((1,), -0.0, requires_grad=True)
    many = torch.full((64,), -0.0, requires_grad=True)
    torch.logit(one).sum().backward()
    torch.logit(many).sum().backward()
    return one.grad[0].item() == float("inf") and many.grad[0].item() == -float("inf")


# -- 4. prelu's double backward at x = 0 -------------------------------------------------------
_PRELU = re.compile(r"torch\.nn\.functional\.prelu\(")


def _prelu_rewrite(code: str) -> str:
    return _PRELU.sub("_prelu_ref(", code)


def _prelu_torch() -> bool:
    import torch

    x = torch.tensor([0.0, -1.0], requires_grad=True)
    w = torch.tensor([0.25], requires_grad=True)
    (g,) = torch.autograd.grad(torch.nn.functional.prelu(x, w).sum(), x, create_graph=True)
    (gw,) = torch.autograd.grad(g.sum(), w)
    # dprelu/dx at 0 is w (x > 0 is false), yet its derivative in w counts only x = -1
    return g[0].item() == 0.25 and gw.item() == 1.0


# -- 5. batch_norm's backward with a non-contiguous weight -------------------------------------
_BN = re.compile(r"torch\.nn\.functional\.batch_norm\(")


def _bn_rewrite(code: str) -> str:
    if not _BN.search(code):
        return code
    head, call = code.split("batch_norm(", 1)
    return head + "batch_norm(" + re.sub(r"\b(x\d+)\b(?!\.)", r"\1.contiguous()", call)


def _bn_torch() -> bool:
    import torch

    def grad(w):
        x = torch.ones(4, 3, requires_grad=True)
        torch.nn.functional.batch_norm(x, torch.zeros(3), torch.ones(3), w).backward(
            torch.ones(4, 3))
        return (x.grad[0] * (1 + 1e-5) ** 0.5).tolist()  # w / sqrt(running_var + eps)

    w = torch.tensor([-2.0, 9.0, 0.5, 9.0, -2.0, 9.0])[::2]      # [-2, 0.5, -2]
    strided, dense = grad(w), grad(w.contiguous())
    return np.allclose(strided, [-2.0, 9.0, 0.5]) and np.allclose(dense, [-2.0, 0.5, -2.0])


# -- 6. pow(False) at 0 ------------------------------------------------------------------------
_POW_FALSE = re.compile(r"\.pow\(False\)|\*\* False\b|torch\.pow\(\w+, False\)")


def _pow_rewrite(code: str) -> str:
    code = code.replace(".pow(False)", ".pow(0)").replace("** False", "** 0")
    return re.sub(r"torch\.pow\((\w+), False\)", r"torch.pow(\1, 0)", code)


def _pow_applies(s: Seen) -> np.ndarray | None:
    m = _rerun_applies(_POW_FALSE, _pow_rewrite)(s)
    return m if m is not None and np.isnan(s.torch[m]).all() else None


def _pow_torch() -> bool:
    import torch

    x = torch.tensor([0.0, 2.0], requires_grad=True)
    (gf,) = torch.autograd.grad(x.pow(False).sum(), x)
    (g0,) = torch.autograd.grad(x.pow(0).sum(), x)
    return bool(gf[0].isnan()) and gf[1].item() == 0 and g0.tolist() == [0.0, 0.0]


def rerun_entries(Deliberate: type) -> tuple:  # noqa: N803 (the class)
    """The rows of this module (deliberate.py passes its ``Deliberate``)."""
    return (
        Deliberate(
            name="std-var-empty-dim-grad",
            summary="torch's std/var (and std_mean/var_mean) with dim=() reduce over all "
                    "elements but their backward divides by 1 - correction instead of N - "
                    "correction; leafgrad gives dim=None's gradient",
            applies=_rerun_applies(_EMPTY_DIM, _empty_dim_rewrite),
            torch_still_differs=_empty_dim_torch,
            example=(("x0 = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float32, "
                      "requires_grad=True)", "leaf"),
                     ("x1 = x0.std((), correction=1)", "dim:std"),
                     ("x2 = torch.autograd.grad(x1.sum(), [x0], allow_unused=True)", "grad")),
        ),
        Deliberate(
            name="activation-nan-grad-kernels",
            summary="torch's hardtanh/relu6/elu/selu/celu/hardswish/hardshrink/softshrink "
                    "backward at a NaN input: the scalar kernel (short tensors) passes the "
                    "gradient, the vectorized one gives 0 or NaN; leafgrad uses the scalar "
                    "formula at every length",
            applies=_act_applies,
            torch_still_differs=_act_torch,
            example=(("x0 = torch.tensor([nan] * 64, dtype=torch.float32, requires_grad=True)",
                      "leaf"),
                     ("x1 = torch.nn.functional.hardtanh(x0, -0.5, 0.7)", "op:hardtanh"),
                     ("x1.sum().backward()", "backward")),
        ),
        Deliberate(
            name="logit-negative-zero-grad",
            summary="torch's logit gradient at -0.0 is +inf in its scalar kernel and -inf in "
                    "its vectorized one; leafgrad gives +inf at every length",
            applies=_logit_applies,
            torch_still_differs=_logit_torch,
            example=(("x0 = torch.tensor([-0.0] * 64, dtype=torch.float32, requires_grad=True)",
                      "leaf"),
                     ("x1 = torch.logit(x0)", "op:logit"),
                     ("x2 = torch.autograd.grad(x1.sum(), [x0], allow_unused=True)", "grad")),
        ),
        Deliberate(
            name="prelu-double-backward-zero",
            summary="torch's prelu: the derivative in x at x = 0 is the weight (x > 0 is "
                    "false), but its derivative in the weight there is 0 (x >= 0); leafgrad 1",
            applies=_rerun_applies(_PRELU, _prelu_rewrite),
            torch_still_differs=_prelu_torch,
            example=(("x0 = torch.tensor([[-0.5], [-0.25], [0.0]], dtype=torch.float32, "
                      "requires_grad=True)", "leaf"),
                     ("x1 = torch.tensor([-2.0], dtype=torch.float32, requires_grad=True)",
                      "leaf"),
                     ("x2 = torch.nn.functional.prelu(x0, x1)", "op:prelu"),
                     ("x3 = torch.autograd.grad(x2.sum(), [x0], retain_graph=True, "
                      "create_graph=True, allow_unused=True)", "grad"),
                     ("x3[0].sum().backward()", "grad2:backward")),
        ),
        Deliberate(
            name="batch-norm-strided-weight-grad",
            summary="torch's batch_norm backward reads a non-contiguous weight in storage "
                    "order (other channels' weights); leafgrad gives the gradient of the "
                    "weight as indexed (torch's own answer for a contiguous copy)",
            applies=_rerun_applies(_BN, _bn_rewrite),
            torch_still_differs=_bn_torch,
            example=(("x0 = torch.ones((4, 3), dtype=torch.float32, requires_grad=True)", "leaf"),
                     ("x1 = torch.tensor([-2.0, 9.0, 0.5, 9.0, -2.0, 9.0], "
                      "dtype=torch.float32)[..., ::2].detach()", "leaf"),
                     ("x2 = torch.nn.functional.batch_norm(x0, torch.zeros(3), torch.ones(3), x1)",
                      "op:batch_norm_eval"),
                     ("x2.backward(torch.ones((4, 3), dtype=torch.float32))", "backward")),
        ),
        Deliberate(
            name="pow-false-zero-grad",
            summary="torch's x.pow(False) at x = 0 has a NaN gradient (x.pow(0) has 0); "
                    "leafgrad treats False as the exponent 0",
            applies=_pow_applies,
            torch_still_differs=_pow_torch,
            example=(("x0 = torch.tensor([0.0, 2.0], dtype=torch.float32, requires_grad=True)",
                      "leaf"),
                     ("x1 = x0.pow(False)", "op:pow_scalar"),
                     ("x1.sum().backward()", "backward")),
        ),
    )

__all__ = ["rerun_entries"]
