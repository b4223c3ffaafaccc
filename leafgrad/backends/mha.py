"""``torch.backends.mha``: the switch for PyTorch's fused multi-head-attention inference path.

leafgrad has one implementation; the switch decides, as in PyTorch, whether
``nn.MultiheadAttention`` and ``nn.TransformerEncoder`` in inference (eval mode, no gradient) give
the fused path's results where they differ from the training path (a query row that attends to
nothing is NaN there; padded positions of a nested-tensor encoder are zeros).

>>> import leafgrad
>>> leafgrad.backends.mha.get_fastpath_enabled()
True
"""

from __future__ import annotations

__all__ = ["get_fastpath_enabled", "set_fastpath_enabled"]

_enabled = True


def get_fastpath_enabled() -> bool:
    """Whether the fused inference path is on (it is by default).

    >>> get_fastpath_enabled()
    True
    """
    return _enabled


def set_fastpath_enabled(value: bool) -> None:
    """Turn the fused inference path on or off.

    >>> set_fastpath_enabled(True)
    """
    global _enabled
    _enabled = bool(value)
