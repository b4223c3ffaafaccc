"""``torch.backends``: the flags scripts read and set (``cudnn.benchmark``, ``mps.is_available()``).

leafgrad computes with NumPy (and CuPy for CUDA tensors): none of cuDNN, MPS, MKL, oneDNN or
OpenMP is used, so their ``is_available()`` say False and their flags are kept for scripts to
read and set without changing any result, as on a PyTorch build without that backend.

>>> import leafgrad
>>> leafgrad.backends.mps.is_available(), leafgrad.backends.cudnn.is_available()
(False, False)
"""

from __future__ import annotations

from . import cpu, cuda, cudnn, mha, mkl, mkldnn, mps, openmp, opt_einsum

__all__ = ["cpu", "cuda", "cudnn", "mha", "mkl", "mkldnn", "mps", "openmp", "opt_einsum"]
