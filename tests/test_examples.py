"""examples/: each script, run on leafgrad and (with its import line swapped) on torch, gives the
same losses from the same seed."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPORT = "import leafgrad as torch\n"


def _load(name: str, library: str) -> dict:
    """Execute ``examples/name`` as a module whose ``torch`` is leafgrad or the real torch."""
    path = os.path.join(ROOT, "examples", name)
    source = open(path).read()
    assert source.count(IMPORT) == 1, "an example imports leafgrad exactly as torch"
    if library == "torch":
        source = source.replace(IMPORT, "import torch\n")
    ns = {"__name__": f"example_{library}", "__file__": path}
    exec(compile(source, path, "exec"), ns)  # noqa: S102 - the repository's own example
    return ns


@pytest.mark.parametrize("name,kwargs,rtol", [
    ("mlp_digits.py", {"epochs": 3}, 1e-4),
    ("regression_scheduler.py", {"epochs": 4}, 1e-4),
    ("cnn_digits.py", {"epochs": 2}, 1e-4),
])
def test_example_follows_torch(name, kwargs, rtol):
    ours = _load(name, "leafgrad")["main"](verbose=False, **kwargs)
    theirs = _load(name, "torch")["main"](verbose=False, **kwargs)
    # float32 matrix products from different BLAS libraries round differently in the last bit,
    # so the curves agree to rounding; everything random (init, shuffles, dropout) is identical
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=rtol, atol=1e-6)


def test_examples_use_the_library_they_are_given():
    assert _load("mlp_digits.py", "torch")["torch"] is torch
    assert _load("mlp_digits.py", "leafgrad")["torch"].__name__ == "leafgrad"
