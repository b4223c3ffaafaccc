"""RAdam: Adam with a rectified (variance-aware) adaptive learning rate."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from . import _kernels as K
from .adam import _steps_as_tensors
from .optimizer import Optimizer, _call_closure, _check_betas, _check_lr, _step_tensor, _to_scalar
from .optimizer import _value as _v

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam (Liu et al.), as ``torch.optim.RAdam`` (``decoupled_weight_decay=True``: RAdamW).

    >>> import leafgrad
    >>> w = leafgrad.tensor([1.0], requires_grad=True)
    >>> opt = leafgrad.optim.RAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([0.8000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("decoupled_weight_decay", False), ("capturable", False)):
                group.setdefault(k, v)
        _steps_as_tensors(self)

    def step(self, closure=None):
        """Update the parameters once; ``closure`` (optional) recomputes and returns the loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params = self._with_grads(group, "RAdam")
            beta1, beta2 = group["betas"]
            lr = _v(_to_scalar(group["lr"]))
            eps, wd = group["eps"], group["weight_decay"]
            for p in params:
                state = self.state[p]
                pd = K.nd(p._data)
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _wrap(np.zeros_like(p._data))
                    state["exp_avg_sq"] = _wrap(np.zeros_like(p._data))
                grad = K.nd(p._grad._data)
                if group["maximize"]:
                    grad = np.negative(grad)
                exp_avg, exp_avg_sq = K.nd(state["exp_avg"]._data), K.nd(state["exp_avg_sq"]._data)
                step_t = state["step"]._data
                step_t += 1
                step = step_t.item()
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        K.mul_scalar(pd, pd, 1 - lr * wd)
                        p._bump_version()
                    else:
                        g2 = np.empty_like(pd)
                        K.add(g2, grad, pd, wd)
                        grad = g2
                K.lerp(exp_avg, exp_avg, grad, 1 - beta1)
                K.mul_scalar(exp_avg_sq, exp_avg_sq, beta2)
                K.addcmul(exp_avg_sq, exp_avg_sq, grad, grad, 1 - beta2)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                update = np.empty_like(pd)
                K.div_scalar(update, exp_avg, bias_correction1)  # the bias-corrected exp_avg
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                K.mul_scalar(update, update, lr)
                if rho_t > 5.0:
                    # (bias_correction2 ** 0.5) / sqrt_avg: torch's __rtruediv__ is
                    # reciprocal() * scalar, two roundings
                    adaptive = np.empty_like(pd)
                    K.sqrt(adaptive, exp_avg_sq)
                    K.add_scalar(adaptive, adaptive, eps)
                    np.divide(adaptive.dtype.type(1), adaptive, out=adaptive)
                    K.mul_scalar(adaptive, adaptive, bias_correction2**0.5)
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    np.multiply(update, adaptive, out=update)
                    K.mul_scalar(update, update, rect)
                np.subtract(pd, update, out=pd)
                p._bump_version()
        return loss
