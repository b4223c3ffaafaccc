"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from . import _fma, _fused
from . import _kernels as K
from .optimizer import Optimizer, _call_closure, _check_lr, _to_scalar, _value

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), step for step as ``torch.optim.SGD``.

    >>> import leafgrad
    >>> w = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = leafgrad.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([0.8000, 1.6000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay=0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        if fused and differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("nesterov", False), ("maximize", False), ("foreach", None),
                         ("differentiable", False), ("fused", False)):
                group.setdefault(k, v)

    def step(self, closure=None):
        """Update the parameters once; ``closure`` (optional) recomputes and returns the loss."""
        loss = _call_closure(closure)
        with _fma.errors():  # torch's inf/nan without warnings; float errors noted
            for group in self.param_groups:
                params = self._with_grads(group, "SGD")
                lr = _value(_to_scalar(group["lr"]))
                wd = _value(group["weight_decay"])
                momentum, dampening = group["momentum"], group["dampening"]
                nesterov, maximize = group["nesterov"], group["maximize"]
                for p in params:
                    if not self._fused_step(p, lr, wd, momentum, dampening, nesterov, maximize):
                        self._array_step(p, lr, wd, momentum, dampening, nesterov, maximize)
        return loss

    def _fused_step(self, p, lr, wd, momentum, dampening, nesterov, maximize) -> bool:
        """The update of a contiguous float32 parameter, chunk by chunk (``_fused.sgd``);
        False (nothing done) for any other parameter."""
        pd, grad = p._data, p._grad._data
        if not _fused.usable(pd, grad):
            return False
        buf = None
        first = False
        if momentum != 0:
            state = self.state[p]
            buf_t = state.get("momentum_buffer")
            if buf_t is None:
                first = True
                buf_t = state["momentum_buffer"] = _wrap(np.empty_like(pd))
            elif not _fused.usable(buf_t._data):
                return False
            buf = buf_t._data.reshape(-1)
        _fused.sgd(pd.reshape(-1), grad.reshape(-1), buf, lr=lr, weight_decay=wd,
                   momentum=momentum, dampening=dampening, nesterov=nesterov, maximize=maximize,
                   first=first)
        p._bump_version()
        return True

    def _array_step(self, p, lr, wd, momentum, dampening, nesterov, maximize) -> None:
        """The update of any other parameter, op by op over whole arrays (``_kernels``)."""
        pd = K.nd(p._data)
        grad = K.nd(p._grad._data)
        if maximize:
            grad = np.negative(grad)
        if wd != 0:
            g2 = K.temp("grad", pd)
            K.add(g2, grad, pd, wd)
            grad = g2
        if momentum != 0:
            state = self.state[p]
            buf_t = state.get("momentum_buffer")
            if buf_t is None:
                buf_t = state["momentum_buffer"] = _wrap(grad.reshape(p._data.shape).copy())
                buf = K.nd(buf_t._data)
            else:
                buf = K.nd(buf_t._data)
                K.mul_scalar(buf, buf, momentum)
                K.add(buf, buf, grad, 1 - dampening)
            if nesterov:
                g2 = K.temp("nesterov", pd)
                K.add(g2, grad, buf, momentum)
                grad = g2
            else:
                grad = buf
        K.add(pd, pd, grad, -lr)
        p._bump_version()
