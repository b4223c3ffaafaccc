"""Numbers about gradient flow that explain, ``diagnose`` and the training monitor share.

Units: a layer's output of shape (N, C) or (N, T, C) has C units (features, the last axis); a
convolution's (N, C, H, W) has C units (channels, axis 1). A unit is *dead* for a batch when
its ReLU output is zero everywhere in the batch: no gradient passes it back for any sample.
"""

from __future__ import annotations

import math

import numpy as np

_BARS = "▁▂▃▄▅▆▇█"


def unit_axis(ndim: int) -> int | None:
    """The axis that indexes units for an activation of ``ndim`` dims (None: one unit).

    >>> unit_axis(2), unit_axis(4), unit_axis(0)
    (1, 1, None)
    """
    if ndim == 0:
        return None
    if ndim <= 3:
        return ndim - 1
    return 1


def dead_units(out) -> tuple[int, int]:
    """``(dead, units)``: units whose ReLU output ``out`` is zero for the whole batch.

    >>> dead_units(np.array([[0.0, 1.0, 0.0], [0.0, 2.0, 3.0]]))
    (1, 3)
    """
    a = np.asarray(out)
    ax = unit_axis(a.ndim)
    if ax is None:
        return int(a == 0), 1
    alive = np.moveaxis(a != 0, ax, 0).reshape(a.shape[ax], -1).any(axis=1)
    return int((~alive).sum()), int(a.shape[ax])


def saturated(kind: str, out) -> float:
    """The fraction of a sigmoid's or tanh's outputs in its flat tails (derivative < ~0.01).

    >>> saturated("sigmoid", np.array([0.5, 0.999, 0.001, 0.2]))
    0.5
    """
    a = np.asarray(out, dtype=np.float64)
    if a.size == 0:
        return 0.0
    if kind == "sigmoid":
        flat = (a < 0.01) | (a > 0.99)  # σ' = σ(1 - σ) < 0.0099
    else:
        flat = np.abs(a) > 0.995  # tanh' = 1 - tanh² < 0.01
    return float(flat.mean())


def norm(a) -> float:
    """The Euclidean norm of all elements, in float64 (nan and inf stay visible).

    >>> norm(np.array([3.0, 4.0]))
    5.0
    """
    a = np.asarray(a)
    if a.size == 0:
        return 0.0
    with np.errstate(all="ignore"):
        return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


def finite(a) -> bool:
    """True when every element is finite (no nan, no inf).

    >>> finite(np.array([1.0, np.inf]))
    False
    """
    a = np.asarray(a)
    return a.dtype.kind not in "fc" or bool(np.isfinite(a).all())


def histogram(a, bins: int = 12) -> tuple[list[int], float, float]:
    """``(counts, low, high)`` of the finite elements of ``a`` in ``bins`` equal bins.

    >>> histogram(np.array([0.0, 0.0, 1.0]), 2)
    ([2, 1], 0.0, 1.0)
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return [0] * bins, 0.0, 0.0
    lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        counts = [0] * bins
        counts[bins // 2] = int(a.size)
        return counts, lo, hi
    c, _ = np.histogram(a, bins=bins, range=(lo, hi))
    return [int(v) for v in c], lo, hi


def sparkline(counts: list[int]) -> str:
    """Counts as a row of bar characters (an empty bin is a dot).

    >>> sparkline([0, 1, 4, 2])
    '·▂█▄'
    """
    top = max(counts) if counts else 0
    if top == 0:
        return "·" * len(counts)
    return "".join("·" if c == 0 else _BARS[min(7, max(0, math.ceil(c / top * 8) - 1))]
                   for c in counts)
