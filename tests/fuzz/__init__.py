"""leafgrad's differential fuzzer: random programs run in torch and in leafgrad, compared line by
line (see README.md in this folder)."""

import os

# the same oracle as the test suite (tests/conftest.py): torch's MKL pinned to its AVX2 kernels,
# set before anything here imports torch (python -m tests.fuzz runs without conftest)
os.environ.setdefault("MKL_ENABLE_INSTRUCTIONS", "AVX2")
