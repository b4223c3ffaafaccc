"""Utilities: ``checkpoint`` (recompute activations in backward to save memory), ``data``
(datasets, samplers, DataLoader), ``dlpack``, ``safetensors`` and ``monitor`` (watch a
training loop's gradient flow)."""

from __future__ import annotations

from . import checkpoint, data, dlpack, safetensors
from .monitoring import Monitor, monitor

__all__ = ["Monitor", "checkpoint", "data", "dlpack", "monitor", "safetensors"]
