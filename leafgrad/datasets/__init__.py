"""Small real datasets bundled with leafgrad, so examples train on real data with no network.

``load_digits()``: the 8x8 handwritten digits (1,797 images, UCI "Optical Recognition of
Handwritten Digits", CC BY 4.0; see ``ATTRIBUTION.md`` beside this file).
``load_tiny_shakespeare()``: 100 KB of Shakespeare's *Coriolanus* (public domain), for
character-level language models.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["DIGITS_PATH", "load_digits", "SHAKESPEARE_PATH", "load_tiny_shakespeare"]

DIGITS_PATH = Path(__file__).with_name("digits.csv.gz")
SHAKESPEARE_PATH = Path(__file__).with_name("tiny_shakespeare.txt")


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(DIGITS_PATH, "rt") as f:
        raw = np.loadtxt(f, delimiter=",", dtype=np.int64)
    raw.setflags(write=False)
    return raw[:, :64], raw[:, 64]


def load_digits(*, scaled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 digits as NumPy arrays: float32 images ``(1797, 64)``, int64 labels ``(1797,)``.

    Pixels are 0..16, divided by 16 when ``scaled`` (the default). NumPy arrays, so the same
    script can turn them into tensors of either library (``torch.from_numpy``).

    >>> x, y = load_digits()
    >>> x.shape, x.dtype, float(x.max()), y.shape, y[:10].tolist()
    ((1797, 64), dtype('float32'), 1.0, (1797,), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    pixels, labels = _digits()
    x = pixels.astype(np.float32)
    if scaled:
        x /= 16
    return x, labels.copy()


def load_tiny_shakespeare() -> str:
    """The bundled Shakespeare text (the examples char_rnn.py and tiny_gpt.py train on it).

    >>> text = load_tiny_shakespeare()
    >>> len(text), len(set(text)), text[:14]
    (99843, 61, 'First Citizen:')
    """
    return SHAKESPEARE_PATH.read_text(encoding="utf-8")
