"""ASGD: SGD with a decaying step size and a running (Polyak) average of the iterates."""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..tensor import _wrap
from . import _kernels as K
from .adam import _steps_as_tensors
from .optimizer import Optimizer, _call_closure, _check_lr, _step_tensor, _to_scalar
from .optimizer import _value as _v

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged SGD (Polyak and Juditsky), as ``torch.optim.ASGD``; ``state['ax']`` is the average.

    >>> import leafgrad
    >>> w = leafgrad.tensor([1.0], requires_grad=True)
    >>> opt = leafgrad.optim.ASGD([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([0.8000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("capturable", False)):
                group.setdefault(k, v)
        _steps_as_tensors(self, ("step", "eta", "mu"))

    def step(self, closure=None):
        """Update the parameters once; ``closure`` (optional) recomputes and returns the loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params = self._with_grads(group, "ASGD")
            lr = _v(_to_scalar(group["lr"]))
            lambd, alpha, t0, wd = group["lambd"], group["alpha"], group["t0"], group[
                "weight_decay"]
            for p in params:
                state = self.state[p]
                pd = K.nd(p._data)
                if len(state) == 0:
                    # NOTE: torch's ASGD keeps step, eta and mu on the parameter's device
                    state["step"] = _step_tensor(like=p._data)
                    state["eta"] = _step_tensor(lr, like=p._data)
                    state["mu"] = _step_tensor(1.0, like=p._data)
                    state["ax"] = _wrap(np.zeros_like(p._data))
                grad = K.nd(p._grad._data)
                if group["maximize"]:
                    grad = np.negative(grad)
                step_t, eta, mu = state["step"]._data, state["eta"]._data, state["mu"]._data
                ax = K.nd(state["ax"]._data)
                step_t += 1
                if wd != 0:
                    g2 = np.empty_like(pd)
                    K.add(g2, grad, pd, wd)
                    grad = g2
                eta_value = eta.item()
                K.mul_scalar(pd, pd, 1 - lambd * eta_value)
                K.add(pd, pd, grad, -eta_value)
                p._bump_version()
                p._bump_version()
                if mu.item() != 1:
                    diff = np.subtract(pd, ax)
                    np.multiply(diff, mu.astype(diff.dtype), out=diff)
                    np.add(ax, diff, out=ax)
                else:
                    ax[...] = pd
                step = step_t.item()
                # torch.as_tensor(float) makes a default-dtype tensor, then copies it into eta/mu
                default = _dt.get_default_dtype().np
                eta[...] = default.type(lr / ((1 + lambd * lr * step) ** alpha))
                mu[...] = default.type(1 / max(1, step - t0))
        return loss
