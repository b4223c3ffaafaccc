"""Automatic differentiation: the graph and its nodes, the engine, grad modes, custom Functions,
the functional API, forward-mode AD, anomaly mode, saved-tensor hooks and ``explain``."""

from __future__ import annotations

from . import anomaly, forward_ad, functional, graph
from .anomaly import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from .engine import backward, grad
from .function import Function, FunctionCtx, once_differentiable
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
from .sites import record_sites, recording_sites
from .why import Diagnosis, why_none

__all__ = [
    "Diagnosis", "Explanation", "GradientReport", "Step", "backward_steps", "diagnose", "explain",
    "explaining", "record_sites", "recording_sites", "why_none",
    "Function", "FunctionCtx", "anomaly", "detect_anomaly", "forward_ad", "functional", "graph",
    "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "once_differentiable",
    "set_detect_anomaly",
    "AccumulateGrad", "GradcheckError", "Node", "Op", "backward", "gradcheck", "gradgradcheck",
    "enable_grad", "grad", "inference_mode",
    "is_grad_enabled", "is_inference_mode_enabled", "no_grad", "set_grad_enabled", "Variable",
]


# Explain's narration and the training diagnosis load on first use (they bring html, the
# stepper and the charts), keeping `import leafgrad` lean; Variable (the pre-0.4 spelling of a
# Tensor) too.
_LAZY = {"Explanation": "explanation", "Step": "explanation", "backward_steps": "explanation",
         "explain": "explanation", "explaining": "explanation", "GradientReport": "gradflow",
         "diagnose": "gradflow", "Variable": "variable"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is not None:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'leafgrad.autograd' has no attribute '{name}'")
