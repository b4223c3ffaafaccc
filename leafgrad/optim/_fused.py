"""The float32 updates of SGD and Adam/AdamW, done chunk by chunk.

Every operation of these updates is elementwise, so doing all of an update's operations on one
chunk of a parameter before moving to the next chunk gives exactly the numbers that doing each
operation over the whole parameter gives (the same roundings, in the same order, per element).
It is faster: a chunk's parameter, gradient, state and scratch stay in the core's cache between
the update's dozen passes instead of streaming from memory for each, and nothing is allocated.
The fused multiply-adds are ``_fma.fma32``; call these inside ``_fma.errors()``.

These functions take flat, C-contiguous float32 NumPy arrays (``usable`` says when the caller's
arrays qualify); everything else goes through ``_kernels``, op by op.
"""

from __future__ import annotations

import numpy as np

from . import _fma
from ._fma import _WORK, F32, fma32


def usable(*arrays) -> bool:
    """Whether these arrays can take the chunked path: NumPy float32, C-contiguous.

    >>> usable(np.zeros(3, np.float32)), usable(np.zeros(3))
    (True, False)
    """
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != F32 or not a.flags.c_contiguous:
            return False
    return True


def add(out, a, b, alpha: float, work=None) -> None:
    """``torch.add(a, b, alpha=alpha)`` on float32 chunks: ``fma(b, alpha, a)``."""
    if alpha == 1:
        np.add(a, b, out=out)
    elif alpha == -1:
        np.subtract(a, b, out=out)
    else:
        fma32(out, b, f32(alpha), a, work)


def f32(x) -> float:
    """A Python number rounded to float32 (``Scalar.to<float>()``), as a Python float.

    >>> f32(0.1)
    0.10000000149011612
    """
    return float(np.float32(x))


# -- SGD -------------------------------------------------------------------------------------

def sgd(p, g, buf, *, lr, weight_decay, momentum, dampening, nesterov, maximize, first):
    """One ``torch.optim.SGD`` update of a flat float32 parameter ``p`` (torch's op order).

    ``buf`` is the flat momentum buffer (``None`` without momentum); ``first`` says it is new
    and gets the gradient (torch's ``clone(grad)``).
    """
    w = _WORK.get()
    mom = np.float32(momentum)
    step = _fma.CHUNK
    for i in range(0, p.shape[0], step):
        j = slice(i, i + step)
        pc, gc = p[j], g[j]
        n = pc.shape[0]
        d, q = w.d[:n], w.q[:n]
        if maximize:
            np.negative(gc, out=d)
            gc = d
        if weight_decay != 0:
            add(q, gc, pc, weight_decay, w)
            gc = q
        if momentum != 0:
            bc = buf[j]
            if first:
                np.copyto(bc, gc)
            else:
                np.multiply(bc, mom, out=bc)
                add(bc, bc, gc, 1 - dampening, w)
            if nesterov:
                t = d if gc is q else q  # a scratch that does not hold the gradient
                add(t, gc, bc, momentum, w)
                gc = t
            else:
                gc = bc
        add(pc, pc, gc, -lr, w)


# -- Adam / AdamW ----------------------------------------------------------------------------

def adam(p, g, m, v, vmax, *, lr, beta1, beta2, eps, weight_decay, decoupled, maximize,
         step_size, bias_correction2_sqrt):
    """One ``torch.optim.Adam`` update (AdamW's with ``decoupled``) of flat float32 arrays.

    ``m``, ``v``, ``vmax``: ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq`` (``None`` without
    AMSGrad); ``step_size`` and ``bias_correction2_sqrt`` are torch's Python floats.
    """
    w = _WORK.get()
    decay = np.float32(1 - lr * weight_decay) if decoupled else None
    wgt = f32(1 - beta1)  # lerp's weight: torch's lerp takes one of two forms by its size
    small = abs(wgt) < 0.5
    wgt_m1 = float(np.float32(wgt) - np.float32(1))
    b2 = np.float32(beta2)
    val = 1 - beta2
    val32 = np.float32(val)
    bc2 = np.float32(bias_correction2_sqrt)
    eps32 = np.float32(eps)
    nstep = np.float32(-step_size)
    step = _fma.CHUNK
    for i in range(0, p.shape[0], step):
        j = slice(i, i + step)
        pc, gc, mc, vc = p[j], g[j], m[j], v[j]
        n = pc.shape[0]
        d, q = w.d[:n], w.q[:n]
        if maximize:
            np.negative(gc, out=q)
            gc = q
        if weight_decay != 0:
            if decoupled:
                np.multiply(pc, decay, out=pc)
            else:
                add(q, gc, pc, weight_decay, w)
                gc = q
        # exp_avg.lerp_(grad, 1 - beta1)
        np.subtract(gc, mc, out=d)
        if small:
            fma32(mc, d, wgt, mc, w)
        else:
            fma32(mc, d, wgt_m1, gc, w)
        # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        np.multiply(vc, b2, out=vc)
        if val == 1:
            fma32(vc, gc, gc, vc, w)
        else:
            np.multiply(gc, val32, out=d)
            fma32(vc, d, gc, vc, w)
        # denom = (sqrt(v) / bias_correction2_sqrt).add_(eps); param.addcdiv_(m, denom, -step)
        if vmax is not None:
            xc = vmax[j]
            np.maximum(xc, vc, out=xc)
            np.sqrt(xc, out=d)
        else:
            np.sqrt(vc, out=d)
        np.divide(d, bc2, out=d)
        np.add(d, eps32, out=d)
        if step_size == -1:  # addcdiv with value 1 divides only
            np.divide(mc, d, out=d)
        else:
            np.multiply(mc, nstep, out=q)
            np.divide(q, d, out=d)
        np.add(pc, d, out=pc)
