"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from . import _kernels as K
from .adam import _steps_as_tensors
from .optimizer import Optimizer, _call_closure, _check_lr, _step_tensor, _to_scalar
from .optimizer import _value as _v

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton), optionally centered and with momentum, as ``torch.optim.RMSprop``.

    >>> import leafgrad
    >>> w = leafgrad.tensor([1.0], requires_grad=True)
    >>> opt = leafgrad.optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([0.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "capturable": capturable,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("momentum", 0), ("centered", False), ("foreach", None),
                         ("maximize", False), ("differentiable", False), ("capturable", False)):
                group.setdefault(k, v)
        _steps_as_tensors(self)

    def step(self, closure=None):
        """Update the parameters once; ``closure`` (optional) recomputes and returns the loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params = self._with_grads(group, "RMSprop")
            lr = _v(_to_scalar(group["lr"]))
            alpha, eps, wd = group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered = group["momentum"], group["centered"]
            for p in params:
                state = self.state[p]
                pd = K.nd(p._data)
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _wrap(np.zeros_like(p._data))
                    if momentum > 0:
                        state["momentum_buffer"] = _wrap(np.zeros_like(p._data))
                    if centered:
                        state["grad_avg"] = _wrap(np.zeros_like(p._data))
                grad = K.nd(p._grad._data)
                if group["maximize"]:
                    grad = np.negative(grad)
                square_avg = K.nd(state["square_avg"]._data)
                state["step"]._data += 1
                if wd != 0:
                    g2 = np.empty_like(pd)
                    K.add(g2, grad, pd, wd)
                    grad = g2
                K.mul_scalar(square_avg, square_avg, alpha)
                K.addcmul(square_avg, square_avg, grad, grad, 1 - alpha)
                avg = np.empty_like(pd)
                if centered:
                    grad_avg = K.nd(state["grad_avg"]._data)
                    K.lerp(grad_avg, grad_avg, grad, 1 - alpha)
                    K.addcmul(avg, square_avg, grad_avg, grad_avg, -1)
                    K.sqrt(avg, avg)
                else:
                    K.sqrt(avg, square_avg)
                K.add_scalar(avg, avg, eps)
                if momentum > 0:
                    buf = K.nd(state["momentum_buffer"]._data)
                    K.mul_scalar(buf, buf, momentum)
                    K.addcdiv(buf, buf, grad, avg)
                    K.add(pd, pd, buf, -lr)
                else:
                    K.addcdiv(pd, pd, grad, avg, -lr)
                p._bump_version()
        return loss
