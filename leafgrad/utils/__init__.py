"""Utilities: ``checkpoint`` (recompute activations in backward to save memory), ``data``
(datasets, samplers, DataLoader) and ``monitor`` (watch a training loop's gradient flow)."""

from __future__ import annotations

from . import checkpoint, data
from .monitoring import Monitor, monitor

__all__ = ["Monitor", "checkpoint", "data", "monitor"]
