"""Adam (with AMSGrad and optional decoupled weight decay), as ``torch.optim.Adam``."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _wrap
from . import _fma, _fused
from . import _kernels as K
from .optimizer import (
    Optimizer,
    _call_closure,
    _check_betas,
    _check_lr,
    _step_tensor,
    _to_scalar,
    _value,
)

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam: bias-corrected moving averages of the gradient and its square.

    >>> import leafgrad
    >>> w = leafgrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = leafgrad.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas):
            if isinstance(b, Tensor) and b.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(map(_to_scalar, betas))
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        if fused and differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("amsgrad", False), ("maximize", False), ("foreach", None),
                         ("capturable", False), ("differentiable", False),
                         ("decoupled_weight_decay", False), ("fused", None)):
                group.setdefault(k, v)
        _steps_as_tensors(self)

    def step(self, closure=None):
        """Update the parameters once; ``closure`` (optional) recomputes and returns the loss."""
        loss = _call_closure(closure)
        name = type(self).__name__
        with _fma.errors():  # torch's inf/nan without warnings; float errors noted
            for group in self.param_groups:
                params = self._with_grads(group, name)
                beta1, beta2 = (_value(b) for b in group["betas"])
                hp = {"lr": _value(_to_scalar(group["lr"])), "beta1": beta1, "beta2": beta2,
                      "eps": group["eps"], "weight_decay": group["weight_decay"],
                      "decoupled": group["decoupled_weight_decay"],
                      "maximize": group["maximize"]}
                amsgrad = group["amsgrad"]
                for p in params:
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _step_tensor()
                        state["exp_avg"] = _wrap(np.zeros_like(p._data))
                        state["exp_avg_sq"] = _wrap(np.zeros_like(p._data))
                        if amsgrad:
                            state["max_exp_avg_sq"] = _wrap(np.zeros_like(p._data))
                    step_t = state["step"]._data
                    step_t += 1
                    step = step_t.item()
                    # torch's Python-float arithmetic, in its order
                    bias_correction1 = 1 - beta1**step
                    bias_correction2 = 1 - beta2**step
                    step_size = hp["lr"] / bias_correction1
                    bc2_sqrt = bias_correction2**0.5
                    arrays = (p._data, p._grad._data, state["exp_avg"]._data,
                              state["exp_avg_sq"]._data,
                              state["max_exp_avg_sq"]._data if amsgrad else None)
                    if _fused.usable(*(a for a in arrays if a is not None)):
                        _fused.adam(*(None if a is None else a.reshape(-1) for a in arrays),
                                    step_size=step_size, bias_correction2_sqrt=bc2_sqrt, **hp)
                    else:
                        _array_step(*(None if a is None else K.nd(a) for a in arrays),
                                    step_size=step_size, bias_correction2_sqrt=bc2_sqrt, **hp)
                    if hp["decoupled"] and hp["weight_decay"] != 0:
                        p._bump_version()  # param.mul_(1 - lr * weight_decay)
                    p._bump_version()  # param.addcdiv_(...)
        return loss


def _array_step(pd, grad, exp_avg, exp_avg_sq, mx, *, lr, beta1, beta2, eps, weight_decay,
                decoupled, maximize, step_size, bias_correction2_sqrt) -> None:
    """One Adam update op by op over whole arrays (``_kernels``): any dtype and layout."""
    if maximize:
        grad = np.negative(grad)
    if weight_decay != 0:
        if decoupled:
            K.mul_scalar(pd, pd, 1 - lr * weight_decay)
        else:
            g2 = K.temp("grad", pd)
            K.add(g2, grad, pd, weight_decay)
            grad = g2
    K.lerp(exp_avg, exp_avg, grad, 1 - beta1)
    K.mul_scalar(exp_avg_sq, exp_avg_sq, beta2)
    K.addcmul(exp_avg_sq, exp_avg_sq, grad, grad, 1 - beta2)
    denom = K.temp("denom", pd)
    if mx is not None:
        np.maximum(mx, exp_avg_sq, out=mx)
        K.sqrt(denom, mx)
    else:
        K.sqrt(denom, exp_avg_sq)
    K.div_scalar(denom, denom, bias_correction2_sqrt)
    K.add_scalar(denom, denom, eps)
    K.addcdiv(pd, pd, exp_avg, denom, -step_size)


def _steps_as_tensors(opt: Optimizer, keys: tuple[str, ...] = ("step",)) -> None:
    """Old state dicts stored ``step`` as a number; torch turns it into a float tensor on load."""
    for group in opt.param_groups:
        for p in group["params"]:
            st = opt.state.get(p)
            if st:
                for k in keys:
                    if k in st and not isinstance(st[k], Tensor):
                        st[k] = _step_tensor(float(st[k]))
