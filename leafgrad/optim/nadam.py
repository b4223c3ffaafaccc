"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _wrap
from . import _kernels as K
from .optimizer import Optimizer, _call_closure, _check_betas, _check_lr, _step_tensor, _to_scalar
from .optimizer import _value as _v

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam (Dozat), as ``torch.optim.NAdam`` (``decoupled_weight_decay=True`` is NAdamW).

    >>> import leafgrad
    >>> w = leafgrad.tensor([1.0], requires_grad=True)
    >>> opt = leafgrad.optim.NAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([0.8944], requires_grad=True)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("maximize", False), ("foreach", None), ("capturable", False),
                         ("differentiable", False), ("decoupled_weight_decay", False)):
                group.setdefault(k, v)
            for p in group["params"]:
                st = self.state.get(p)
                if st:
                    for k in ("step", "mu_product"):
                        if not isinstance(st[k], Tensor):
                            st[k] = _step_tensor(float(st[k]))

    def step(self, closure=None):
        """Update the parameters once; ``closure`` (optional) recomputes and returns the loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params = self._with_grads(group, "NAdam")
            beta1, beta2 = group["betas"]
            lr = _v(_to_scalar(group["lr"]))
            eps, wd, momentum_decay = group["eps"], group["weight_decay"], group["momentum_decay"]
            for p in params:
                state = self.state[p]
                pd = K.nd(p._data)
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["mu_product"] = _step_tensor(1.0)
                    state["exp_avg"] = _wrap(np.zeros_like(p._data))
                    state["exp_avg_sq"] = _wrap(np.zeros_like(p._data))
                grad = K.nd(p._grad._data)
                if group["maximize"]:
                    grad = np.negative(grad)
                exp_avg, exp_avg_sq = K.nd(state["exp_avg"]._data), K.nd(state["exp_avg_sq"]._data)
                mu_product = state["mu_product"]._data
                step_t = state["step"]._data
                step_t += 1
                step = step_t.item()
                bias_correction2 = 1 - beta2**step
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        K.mul_scalar(pd, pd, 1 - lr * wd)
                        p._bump_version()
                    else:
                        g2 = np.empty_like(pd)
                        K.add(g2, grad, pd, wd)
                        grad = g2
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                K.mul_scalar(mu_product, mu_product, mu)
                K.lerp(exp_avg, exp_avg, grad, 1 - beta1)
                K.mul_scalar(exp_avg_sq, exp_avg_sq, beta2)
                K.addcmul(exp_avg_sq, exp_avg_sq, grad, grad, 1 - beta2)
                denom = np.empty_like(pd)
                K.div_scalar(denom, exp_avg_sq, bias_correction2)
                K.sqrt(denom, denom)
                mu_product_v = mu_product.item()
                mu_product_next = mu_product_v * mu_next
                K.add_scalar(denom, denom, eps)
                K.addcdiv(pd, pd, grad, denom, -lr * (1.0 - mu) / (1.0 - mu_product_v))
                K.addcdiv(pd, pd, exp_avg, denom, (-lr * mu_next) / (1.0 - mu_product_next))
                p._bump_version()
                p._bump_version()
        return loss
