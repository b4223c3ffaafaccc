"""Utilities: ``checkpoint`` (recompute activations in backward), ``dlpack``, ``safetensors``."""

from __future__ import annotations

from . import checkpoint, dlpack, safetensors

__all__ = ["checkpoint", "dlpack", "safetensors"]
