"""Warnings attributed to the user's line, as PyTorch's appear (not to leafgrad's internals)."""

from __future__ import annotations

import os
import sys
import warnings

_PKG_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn at the innermost stack frame outside the leafgrad package.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn("careful")
    >>> str(w[0].message), w[0].filename.endswith("_warn.py")
    ('careful', False)
    """
    # NOTE: a fixed stacklevel points inside leafgrad for some call paths (method, function,
    # keepdims alias); counting our own frames is right for all of them
    level, f = 2, sys._getframe(1)  # level 2: the caller of warn()
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        level, f = level + 1, f.f_back
    warnings.warn(message, category, stacklevel=level)
