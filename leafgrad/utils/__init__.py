"""Utilities: ``checkpoint`` (recompute activations in backward to save memory)."""

from __future__ import annotations

from . import checkpoint

__all__ = ["checkpoint"]
