"""DLPack exchange, as ``torch.utils.dlpack``: zero-copy tensors to and from other libraries."""

from __future__ import annotations

from .. import _interop

__all__ = ["from_dlpack", "to_dlpack"]


def to_dlpack(tensor):
    """A DLPack capsule sharing ``tensor``'s memory (consumable once, e.g. by np.from_dlpack).

    >>> import leafgrad
    >>> to_dlpack(leafgrad.ones(2))  # doctest: +ELLIPSIS
    <capsule object "dltensor" at ...>
    """
    return tensor.__dlpack__()


def from_dlpack(ext_tensor):
    """A tensor sharing memory with a DLPack producer (NumPy, PyTorch, CuPy...) or capsule.

    >>> import numpy as np
    >>> a = np.zeros(2, dtype=np.float32); t = from_dlpack(a); _ = t.add_(1); a
    array([1., 1.], dtype=float32)
    """
    return _interop.from_dlpack(ext_tensor)
