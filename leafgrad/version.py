"""``torch.version``: leafgrad's version, and None for the GPU toolkits it was not built with.

>>> import leafgrad
>>> leafgrad.version.__version__ == leafgrad.__version__, leafgrad.version.cuda
(True, None)
"""

from ._version import __version__

__all__ = ["__version__", "cuda", "debug", "hip"]

# NOTE: torch.version.cuda is the CUDA toolkit torch was compiled against (None on CPU builds);
# leafgrad is compiled against nothing (CuPy brings its own toolkit).
cuda = None
hip = None
debug = False
