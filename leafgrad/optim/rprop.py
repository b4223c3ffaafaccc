"""Rprop: per-coordinate step sizes that grow while the gradient keeps its sign."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from . import _kernels as K
from .adam import _steps_as_tensors
from .optimizer import Optimizer, _call_closure, _check_lr, _step_tensor, _to_scalar
from .optimizer import _value as _v

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller and Braun), as ``torch.optim.Rprop``.

    >>> import leafgrad
    >>> w = leafgrad.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = leafgrad.optim.Rprop([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
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
            params = self._with_grads(group, "Rprop")
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p in params:
                state = self.state[p]
                pd = K.nd(p._data)
                grad = K.nd(p._grad._data)
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["prev"] = _wrap(np.zeros_like(p._data))
                    lr = _v(_to_scalar(group["lr"]))
                    state["step_size"] = _wrap(np.full_like(p._grad._data, lr))
                if group["maximize"]:
                    grad = np.negative(grad)
                prev, step_size = K.nd(state["prev"]._data), K.nd(state["step_size"]._data)
                state["step"]._data += 1
                sign = np.sign(np.multiply(grad, prev))
                dt = sign.dtype.type
                pos, neg, zero = sign > 0, sign < 0, sign == 0
                sign[pos] = dt(etaplus)
                sign[neg] = dt(etaminus)
                sign[zero] = 1
                np.multiply(step_size, sign, out=step_size)
                np.clip(step_size, dt(step_size_min), dt(step_size_max), out=step_size)
                grad = grad.copy()
                grad[sign == dt(etaminus)] = 0
                K.addcmul(pd, pd, np.sign(grad), step_size, -1)
                prev[...] = grad
                p._bump_version()
        return loss
