"""Scaled dot-product attention as one fused node (PyTorch's CPU kernel records
``ScaledDotProductFlashAttentionForCpuBackward0``).

softmax(Q Kᵀ · scale + mask) V, with boolean masks (True = attend), additive float masks, a
causal mask, dropout on the attention weights (drawn as PyTorch's math path draws it:
``bernoulli_(1 - p)`` over the weights, then ``div_(1 - p)``), grouped-query attention and
batch dims that broadcast. The softmax is stable (the row maximum is subtracted) and a row that
attends to nothing gives zeros, as PyTorch's kernel gives, not NaN. The backward is written
once for arrays and Tensors, so second derivatives work (PyTorch's CPU kernel has none).
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import state
from ..autograd.node import Op
from ..backend import array_module
from ..tensor import Tensor, _wrap
from . import dual
from ._apply import record

__all__ = ["scaled_dot_product_attention"]

_new = object.__new__


def _swap(a):
    """Transpose the last two dims (array or Tensor)."""
    return dual.mT(a)


def _repeat_heads(a, groups: int):
    """Repeat each key/value head ``groups`` times along dim -3 (grouped-query attention)."""
    if groups == 1:
        return a
    if isinstance(a, Tensor):
        return a.repeat_interleave(groups, dim=-3)
    return array_module(a).repeat(a, groups, axis=-3)


def _fold_heads(g, groups: int):
    """Sum the gradients of the repeated heads back onto each key/value head."""
    if groups == 1:
        return g
    shape = tuple(g.shape)
    return g.reshape(shape[:-3] + (shape[-3] // groups, groups) + shape[-2:]).sum(-3)


def attention_probs(query, key, attn_mask, scale: float, keep, dead):
    """softmax(Q Kᵀ · scale + attn_mask) with ``keep`` (raw bool, True = attend) applied and
    the rows in ``dead`` (raw bool, nothing to attend to) set to zero; arrays or Tensors."""
    s = (query @ _swap(key)) * scale
    if attn_mask is not None:
        s = s + attn_mask
    if isinstance(s, Tensor):
        if keep is not None:
            s = s.masked_fill(_wrap(~keep), float("-inf"))
        if dead is not None:
            s = dual.where(dead, 0.0, s)
        p = s.softmax(-1)
        return p if dead is None else dual.where(dead, 0.0, p)
    xp = array_module(s)
    if keep is not None:
        s = xp.where(keep, s, -xp.inf)
    m = s.max(axis=-1, keepdims=True)
    if dead is not None:
        m[dead] = 0
    s = s - m
    xp.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)
    if dead is not None:
        s = xp.where(dead, 0, s)
    return s


def dropped(a, noise):
    """``a`` times the dropout noise (kept / (1 − p)), or ``a`` without dropout."""
    return a if noise is None else a * noise


def softmax_grad(dp, p):
    """The gradient of the softmax input from the gradient ``dp`` of its output ``p``."""
    return p * (dp - dual.sum(dp * p, (-1,), True))


class ScaledDotProductAttention(Op):
    name_ = "ScaledDotProductFlashAttentionForCpuBackward0"
    formula = {
        "query": "softmax_grad(dropped(grad @ value.mT, noise), attention_probs(query, key, "
                 "attn_mask, scale, keep, dead)) @ key * scale",
        "key": "softmax_grad(dropped(grad @ value.mT, noise), attention_probs(query, key, "
               "attn_mask, scale, keep, dead)).mT @ query * scale",
        "value": "dropped(attention_probs(query, key, attn_mask, scale, keep, dead), noise).mT "
                 "@ grad",
        "attn_mask": "softmax_grad(dropped(grad @ value.mT, noise), attention_probs(query, key, "
                     "attn_mask, scale, keep, dead))",
    }
    __slots__ = ("scale", "keep", "dead", "noise", "groups", "pd")

    def forward(self, q, k, v, bias):
        xp = array_module(q)
        k, v = _repeat_heads(k, self.groups), _repeat_heads(v, self.groups)
        s = q @ _swap(k)
        s *= s.dtype.type(self.scale)
        if bias is not None:
            s = s + bias
        if self.keep is not None:
            if s.shape != xp.broadcast_shapes(s.shape, self.keep.shape):
                s = xp.broadcast_to(s, xp.broadcast_shapes(s.shape, self.keep.shape)).copy()
            xp.copyto(s, -xp.inf, where=~self.keep)  # in place: no second scores array
        m = s.max(axis=-1, keepdims=True)
        # NOTE: a row with nothing to attend to (all masked) would be 0/0 = nan; PyTorch's
        # kernel returns zeros for it (and zero gradients): such rows are marked and zeroed
        dead = xp.isneginf(m)
        if dead.any():
            self.dead = dead
            m = xp.where(dead, 0, m)
        else:
            dead = None
        s -= m
        xp.exp(s, out=s)
        s /= s.sum(axis=-1, keepdims=True)
        p = s if dead is None else xp.where(dead, 0, s)
        pd = dropped(p, self.noise)
        if pd is not p:
            self.pd = pd  # NOTE: the dropped weights, kept for the first backward (V's grad)
        return pd @ v, p

    def backward(self, grad):
        q, k, v, bias, p = self.saved(grad)
        groups = self.groups
        kr, vr = _repeat_heads(k, groups), _repeat_heads(v, groups)
        if isinstance(grad, Tensor):  # a graph of the backward: the weights as a function
            p = attention_probs(q, kr, bias, self.scale, self.keep, self.dead)
        noise = self.noise
        pd = self.pd
        if pd is None or isinstance(grad, Tensor):
            pd = dropped(p, noise)
        else:
            self.pd = None  # a second backward (retain_graph) multiplies again: same values
        need = self.needs_input_grad
        gv = None
        if need[2]:
            gv = dual.sum_to(_fold_heads(_swap(pd) @ grad, groups), tuple(v.shape))
        if not need[0] and not need[1] and not need[3]:
            return None, None, gv, None, None
        ds = softmax_grad(dropped(grad @ _swap(vr), noise), p)
        gq = gk = gb = None
        if need[0]:
            gq = dual.sum_to((ds @ kr) * self.scale, tuple(q.shape))
        if need[1]:
            gk = dual.sum_to(_fold_heads((_swap(ds) @ q) * self.scale, groups), tuple(k.shape))
        if need[3]:
            gb = dual.sum_to(ds, tuple(bias.shape))
        return gq, gk, gv, gb, None

    def __getattr__(self, name: str):
        if name in ("dead", "noise", "keep", "pd"):
            return None
        return super().__getattr__(name)


def _dt(a) -> str:
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "bool": "bool"}.get(a.dtype.name, a.dtype.name)


def _broadcast_error(a: tuple, b: tuple) -> RuntimeError | None:
    """PyTorch's message when shapes ``a`` and ``b`` do not broadcast, else None."""
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for d in range(n - 1, -1, -1):
        if pa[d] != pb[d] and pa[d] != 1 and pb[d] != 1:
            return RuntimeError(
                f"The size of tensor a ({pa[d]}) must match the size of tensor b ({pb[d]}) at "
                f"non-singleton dimension {d}")
    return None


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q Kᵀ / √E + mask) V over the last two dims; masks: bool (True = attend) or
    additive float; ``is_causal`` masks the future; ``dropout_p`` drops attention weights.

    >>> import leafgrad
    >>> q = k = v = leafgrad.eye(2).reshape(1, 2, 2)
    >>> scaled_dot_product_attention(q, k, v, is_causal=True)
    tensor([[[1.0000, 0.0000],
             [0.3302, 0.6698]]])
    """
    q, k, v = query._data, key._data, value._data
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got "
            f"query.dim: {q.ndim} key.dim: {k.ndim} and value.dim: {v.ndim} instead.\nWhy: "
            "attention works on (..., sequence, features) tensors.")
    if not (q.dtype == k.dtype == v.dtype):
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_dt(q)} key.dtype: {_dt(k)} and value.dtype: {_dt(v)} instead.\nWhy: the "
            "products Q Kᵀ and P V do not promote dtypes; convert them to one dtype.")
    if q.dtype.kind != "f":
        raise RuntimeError(
            f"scaled_dot_product_attention: expected floating-point query, key and value, got "
            f"{_dt(q)}\nWhy: attention weights are a softmax; convert with .float().")
    if q.shape[-1] != k.shape[-1]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query and key must have the same feature size (last "
            f"dim), got {q.shape[-1]} and {k.shape[-1]}\nWhy: each attention score is a dot "
            "product of a query row with a key row.")
    if k.shape[-2] != v.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: key and value must have the same sequence length "
            f"(dim -2), got {k.shape[-2]} and {v.shape[-2]}\nWhy: each key scores the value "
            "at the same position.")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    groups = 1
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
        if hk == 0 or hq % hk or hk != hv:
            raise RuntimeError(
                "Number of heads in key and value must divide the number of heads in query\n"
                f"Why: with enable_gqa each key/value head serves a group of query heads; got "
                f"{hq} query heads, {hk} key heads and {hv} value heads.")
        groups = hq // hk
    L, S = q.shape[-2], k.shape[-2]
    kb = k.shape[:-3] + (k.shape[-3] * groups,) if k.ndim >= 3 else k.shape[:-2]
    vb = v.shape[:-3] + (v.shape[-3] * groups,) if v.ndim >= 3 else v.shape[:-2]
    for other in (kb, vb):
        err = _broadcast_error(q.shape[:-2], other)
        if err is not None:
            raise RuntimeError(
                f"{err.args[0]}\nWhy: the batch dims of query {list(q.shape[:-2])}, key "
                f"{list(k.shape[:-2])} and value {list(v.shape[:-2])} must broadcast.")
    batch = np.broadcast_shapes(q.shape[:-2], kb, vb)
    bias = keep = None
    mask_t = None
    if attn_mask is not None:
        m = attn_mask._data
        if m.dtype != np.bool_ and m.dtype != q.dtype:
            raise RuntimeError(
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                f"attn_mask.dtype: {_dt(m)} and  query.dtype: {_dt(q)} instead.\nWhy: a bool "
                "mask says which keys each query may attend to (True = attend); a float mask is "
                "added to the scores, so it must have the scores' dtype.")
        err = _broadcast_error(tuple(batch) + (L, S), m.shape)
        if err is not None or len(m.shape) > len(batch) + 2:
            err = err or RuntimeError(f"attn_mask of shape {list(m.shape)} has more dims than "
                                      f"the scores {list(batch) + [L, S]}")
            raise RuntimeError(
                f"{err.args[0]}\nWhy: attn_mask must broadcast to the attention scores, shaped "
                f"{list(batch) + [L, S]} (batch dims..., query length, key length).")
        if m.dtype == np.bool_:
            keep = m
        else:
            bias, mask_t = m, attn_mask
    if is_causal:
        # NOTE: PyTorch's fused CPU kernel (4-D inputs of one batch shape and head size, no
        # dropout) applies both masks; its math fallback refuses the pair. Same here.
        fused = (q.ndim == k.ndim == v.ndim == 4 and dropout_p == 0.0
                 and q.shape[-1] == v.shape[-1] and q.shape[0] == k.shape[0] == v.shape[0]
                 and k.shape[1] * groups == q.shape[1] and k.shape[1] == v.shape[1])
        if attn_mask is not None and not fused:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                "is_causal=True\nWhy: is_causal builds the mask itself; pass the combined mask "
                "(causal & yours) as attn_mask instead.")
        causal = array_module(q).tril(array_module(q).ones((L, S), dtype=bool))
        keep = causal if keep is None else keep & causal
    fn = _new(ScaledDotProductAttention)
    fn.scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    fn.keep = keep
    fn.groups = groups
    if dropout_p > 0.0:
        from ..random import bernoulli_mask

        shape = tuple(batch) + (L, S)
        from ..backend import move
        from .dropout import _scaled_mask

        if dropout_p == 1.0:  # PyTorch's dropout multiplies by zero and draws nothing
            noise = np.zeros(shape, q.dtype)
        else:  # NOTE: PyTorch's div_(1 - p) in the dtype
            noise = _scaled_mask(bernoulli_mask(shape, 1 - dropout_p), q.dtype, dropout_p)
        fn.noise = move(noise, query.device)  # drawn on the CPU generator, as dropout's
    out, p = fn.forward(q, k, v, bias)
    if not state.enabled:
        return _wrap(out)
    return record(fn, (query, key, value, mask_t, p), out)


FORMULA_HELPERS = {"attention_probs": attention_probs, "softmax_grad": softmax_grad,
                   "dropped": dropped}
