"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from . import _kernels as K
from .adam import _steps_as_tensors
from .optimizer import Optimizer, _call_closure, _check_lr, _step_tensor, _to_scalar
from .optimizer import _value as _v

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (Zeiler), as ``torch.optim.Adadelta``.

    >>> import leafgrad
    >>> w = leafgrad.tensor([1.0], requires_grad=True)
    >>> opt = leafgrad.optim.Adadelta([w], lr=1.0)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([0.9968], requires_grad=True)
    """

    def __init__(self, params, lr=1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
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
            params = self._with_grads(group, "Adadelta")
            lr = _v(_to_scalar(group["lr"]))
            rho, eps, wd = group["rho"], group["eps"], group["weight_decay"]
            for p in params:
                state = self.state[p]
                pd = K.nd(p._data)
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _wrap(np.zeros_like(p._data))
                    state["acc_delta"] = _wrap(np.zeros_like(p._data))
                state["step"]._data += 1
                grad = K.nd(p._grad._data)
                if group["maximize"]:
                    grad = np.negative(grad)
                if wd != 0:
                    g2 = np.empty_like(pd)
                    K.add(g2, grad, pd, wd)
                    grad = g2
                square_avg = K.nd(state["square_avg"]._data)
                acc_delta = K.nd(state["acc_delta"]._data)
                K.mul_scalar(square_avg, square_avg, rho)
                K.addcmul(square_avg, square_avg, grad, grad, 1 - rho)
                std = np.empty_like(pd)
                K.add_scalar(std, square_avg, eps)
                K.sqrt(std, std)
                delta = np.empty_like(pd)
                K.add_scalar(delta, acc_delta, eps)
                K.sqrt(delta, delta)
                np.divide(delta, std, out=delta)
                np.multiply(delta, grad, out=delta)
                K.mul_scalar(acc_delta, acc_delta, rho)
                K.addcmul(acc_delta, acc_delta, delta, delta, 1 - rho)
                K.add(pd, pd, delta, -lr)
                p._bump_version()
        return loss
