"""Shared fixtures: deterministic inputs for leafgrad and torch side by side."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from hypothesis import settings

import leafgrad

torch.set_num_threads(1)  # these machines have 2 cores; threads only add noise to the tests

# In CI the property tests draw the same examples every run (derandomized), so a landing run
# checks exactly what was checked before submitting; locally they explore new examples.
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Every test starts with default dtypes and grad mode, whatever the previous one did."""
    yield
    leafgrad.set_default_dtype(leafgrad.float32)
    torch.set_default_dtype(torch.float32)
    leafgrad.set_grad_enabled(True)
    torch.set_grad_enabled(True)


def pair(arr: np.ndarray, requires_grad: bool = False):
    """The same values as a leafgrad tensor and a torch tensor (separate memory)."""
    a = leafgrad.tensor(arr.copy(), requires_grad=requires_grad)
    t = torch.tensor(arr.copy(), requires_grad=requires_grad)
    return a, t
