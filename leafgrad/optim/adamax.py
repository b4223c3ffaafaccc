"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from . import _kernels as K
from .adam import _steps_as_tensors
from .optimizer import Optimizer, _call_closure, _check_betas, _check_lr, _step_tensor, _to_scalar
from .optimizer import _value as _v

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax (Kingma and Ba), as ``torch.optim.Adamax``.

    >>> import leafgrad
    >>> w = leafgrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = leafgrad.optim.Adamax([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("capturable", False)):
                group.setdefault(k, v)
        _steps_as_tensors(self)

    def step(self, closure=None):
        """Update the parameters once; ``closure`` (optional) recomputes and returns the loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params = self._with_grads(group, "Adamax")
            beta1, beta2 = group["betas"]
            lr = _v(_to_scalar(group["lr"]))
            eps, wd = group["eps"], group["weight_decay"]
            for p in params:
                state = self.state[p]
                pd = K.nd(p._data)
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _wrap(np.zeros_like(p._data))
                    state["exp_inf"] = _wrap(np.zeros_like(p._data))
                grad = K.nd(p._grad._data)
                if group["maximize"]:
                    grad = np.negative(grad)
                exp_avg, exp_inf = K.nd(state["exp_avg"]._data), K.nd(state["exp_inf"]._data)
                step_t = state["step"]._data
                step_t += 1
                if wd != 0:
                    g2 = np.empty_like(pd)
                    K.add(g2, grad, pd, wd)
                    grad = g2
                K.lerp(exp_avg, exp_avg, grad, 1 - beta1)
                K.mul_scalar(exp_inf, exp_inf, beta2)
                norm = np.abs(grad)
                K.add_scalar(norm, norm, eps)
                np.maximum(exp_inf, norm, out=exp_inf)
                clr = lr / (1 - beta1 ** step_t.item())
                K.addcdiv(pd, pd, exp_avg, exp_inf, -clr)
                p._bump_version()
        return loss
