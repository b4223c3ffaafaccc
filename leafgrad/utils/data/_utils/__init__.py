"""Helpers of the data loader (``torch.utils.data._utils``): collation."""

from __future__ import annotations

from . import collate

__all__ = ["collate"]
