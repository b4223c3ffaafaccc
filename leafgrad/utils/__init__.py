"""Utilities: ``checkpoint`` (recompute activations in backward to save memory) and ``data``
(datasets, samplers, DataLoader)."""

from __future__ import annotations

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
