"""``torch.backends.cuda``: the cuBLAS flags (``matmul.allow_tf32``...) and ``is_built()``.

leafgrad's CUDA matmuls are CuPy's; these flags are kept for scripts to set and read.
"""

from __future__ import annotations

import importlib.util

__all__ = ["is_built", "matmul"]


class cuBLASModule:  # noqa: N801 - PyTorch's name
    """``torch.backends.cuda.matmul``: settable precision flags with PyTorch's defaults.

    >>> matmul.allow_tf32
    False
    """

    _DEFAULTS = {"allow_tf32": False, "allow_fp16_reduced_precision_reduction": True,
                 "allow_bf16_reduced_precision_reduction": True, "fp32_precision": "none"}

    def __init__(self) -> None:
        object.__setattr__(self, "_flags", dict(self._DEFAULTS))

    def __getattr__(self, name: str):
        flags = object.__getattribute__(self, "_flags")
        if name in flags:
            return flags[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name: str, value) -> None:
        if name not in self._flags:
            raise AttributeError(f"Unknown attribute {name}")
        self._flags[name] = value


matmul = cuBLASModule()


def is_built() -> bool:
    """Whether leafgrad can use CUDA here: CuPy is installed (a GPU may still be absent).

    >>> isinstance(is_built(), bool)
    True
    """
    return importlib.util.find_spec("cupy") is not None
