"""Shared fixtures: deterministic inputs for leafgrad and torch side by side."""

from __future__ import annotations

import os

# NOTE: pin torch's MKL vector math to its AVX2 code before torch is imported. On AVX-512 CPUs MKL
# picks other kernels whose float64 results differ in the last bit (torch.sqrt(tensor(2.,
# dtype=float64)) gives 1.414213562373095 instead of the correctly rounded ...0951), so the same
# suite would test a different oracle on different CI machines. leafgrad itself does not use MKL;
# see docs/random.md, "Testing on AVX2 and AVX-512 machines".
os.environ.setdefault("MKL_ENABLE_INSTRUCTIONS", "AVX2")

import fakedevice  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import settings  # noqa: E402

import leafgrad  # noqa: E402

torch.set_num_threads(1)  # these machines have 2 cores; threads only add noise to the tests
fakedevice.register()  # the strict fake accelerator (tests/fakedevice.py): device("fake")

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


def _cupy_missing() -> str:
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # no CuPy, or no GPU / driver behind it
        return f"CUDA tests need CuPy and a GPU: {type(e).__name__}: {e}"
    return ""


@pytest.fixture(params=["cpu", "fake", "cuda"])
def device(request):
    """The device a test runs on: cpu, the strict fake device (always), cuda (where CuPy runs)."""
    if request.param == "cuda":
        reason = _cupy_missing()
        if reason:
            pytest.skip(reason)
    return leafgrad.device(request.param)


@pytest.fixture(params=["cpu", "fake", "cuda"])
def each_device(request, monkeypatch):
    """Run a test module's tests on every device: off the CPU, the module's ``leafgrad`` (and
    ``LIBS``) become ``fakedevice.OnDevice`` proxies, so the tensors its tests create are made
    on that device. A module opts in with ``pytestmark = pytest.mark.usefixtures("each_device")``
    and reads results with ``.cpu().numpy()``."""
    if request.param == "cuda":
        reason = _cupy_missing()
        if reason:
            pytest.skip(reason)
    dev = leafgrad.device(request.param)
    if dev.type != "cpu" and request.node.get_closest_marker("cpu_only"):
        pytest.skip("device-independent and slow: run on the CPU only")
    if dev.type != "cpu":
        mod = request.module
        proxy = fakedevice.OnDevice(leafgrad, dev)
        monkeypatch.setattr(mod, "leafgrad", proxy, raising=False)
        if hasattr(mod, "LIBS"):  # (leafgrad, torch) or [(leafgrad, its submodule), ...]
            def sub(x):
                if x is leafgrad:
                    return proxy
                return type(x)(sub(i) for i in x) if isinstance(x, (tuple, list)) else x
            monkeypatch.setattr(mod, "LIBS", sub(mod.LIBS))
    return dev
