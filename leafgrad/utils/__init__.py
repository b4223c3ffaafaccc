"""Utilities: ``checkpoint`` (recompute activations in backward to save memory), ``data``
(datasets, samplers, DataLoader), ``dlpack`` and ``safetensors``."""

from __future__ import annotations

from . import checkpoint, data, dlpack, safetensors

__all__ = ["checkpoint", "data", "dlpack", "safetensors"]
