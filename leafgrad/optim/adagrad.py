"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _wrap
from . import _kernels as K
from .optimizer import Optimizer, _call_closure, _check_lr, _step_tensor, _to_scalar
from .optimizer import _value as _v

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), as ``torch.optim.Adagrad``; its state exists from construction.

    >>> import leafgrad
    >>> w = leafgrad.tensor([1.0], requires_grad=True)
    >>> opt = leafgrad.optim.Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([0.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        if fused and differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, initial_accumulator_value)

    def _init_state(self, p: Tensor, init) -> None:
        state = self.state[p]
        state["step"] = _step_tensor()
        state["sum"] = _wrap(np.full_like(p._data, init))

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("fused", None)):
                group.setdefault(k, v)
        for st in self.state.values():
            if "step" in st and not isinstance(st["step"], Tensor):
                st["step"] = _step_tensor(float(st["step"]))

    def share_memory(self) -> None:
        """Move the accumulators to shared memory (a no-op: NumPy arrays stay where they are)."""

    def step(self, closure=None):
        """Update the parameters once; ``closure`` (optional) recomputes and returns the loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params = self._with_grads(group, "Adagrad")
            lr = _v(_to_scalar(group["lr"]))
            wd, lr_decay, eps = group["weight_decay"], group["lr_decay"], group["eps"]
            for p in params:
                state = self.state[p]
                if len(state) == 0:  # a parameter added later with add_param_group
                    self._init_state(p, self.defaults["initial_accumulator_value"])
                pd = K.nd(p._data)
                step_t = state["step"]._data
                step_t += 1
                step = step_t.item()
                grad = K.nd(p._grad._data)
                if group["maximize"]:
                    grad = np.negative(grad)
                if wd != 0:
                    g2 = np.empty_like(pd)
                    K.add(g2, grad, pd, wd)
                    grad = g2
                clr = lr / (1 + (step - 1) * lr_decay)
                state_sum = K.nd(state["sum"]._data)
                K.addcmul(state_sum, state_sum, grad, grad, 1)
                std = np.empty_like(pd)
                K.sqrt(std, state_sum)
                K.add_scalar(std, std, eps)
                K.addcdiv(pd, pd, grad, std, -clr)
                p._bump_version()
        return loss
