"""Automatic differentiation: the graph, the engine and grad modes."""

from __future__ import annotations

from .engine import backward, grad
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .node import AccumulateGrad, Node, Op

__all__ = [
    "AccumulateGrad", "GradcheckError", "Node", "Op", "backward", "gradcheck", "gradgradcheck",
    "enable_grad", "grad", "inference_mode",
    "is_grad_enabled", "is_inference_mode_enabled", "no_grad", "set_grad_enabled",
]
