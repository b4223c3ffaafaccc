"""``leafgrad.nn.parallel`` (PyTorch's ``torch.nn.parallel``): DistributedDataParallel, and
DataParallel as PyTorch runs it without GPUs (the module itself); SyncBatchNorm (``nn.
SyncBatchNorm`` in PyTorch) lives here too, beside the process groups it synchronises over."""

from __future__ import annotations

from ..modules.module import Module
from .distributed import DistributedDataParallel
from .sync_batchnorm import SyncBatchNorm

__all__ = ["DistributedDataParallel", "DataParallel"]


class DataParallel(Module):
    """torch's ``DataParallel`` on a machine without GPUs: it runs the module as it is.

    >>> import leafgrad
    >>> dp = DataParallel(leafgrad.nn.Linear(2, 1)); list(dp.state_dict())
    ['module.weight', 'module.bias']
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        if device_ids:
            raise RuntimeError(
                "DataParallel with device_ids needs GPUs, which leafgrad's DataParallel does not "
                "use. Fix: leave device_ids out (the module then runs as it is), or use "
                "DistributedDataParallel with one process per core (leafgrad run -n N)."
            )
        self.module = module
        self.device_ids: list = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
