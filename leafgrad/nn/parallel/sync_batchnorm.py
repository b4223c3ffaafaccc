"""``nn.SyncBatchNorm``: batch norm whose statistics span the whole process group (on the CPU).

In training, each rank computes its batch's per-channel mean and sum of squared deviations; the
ranks gather them (one ``all_gather_into_tensor``) and merge them into the statistics of the
global batch (Chan's parallel variance), which normalise every rank's batch and update the
running statistics (unbiased variance over the global count). Backward all-reduces the
per-channel sums of ``grad`` and ``grad * x_hat`` to form the input gradient; the weight and
bias gradients stay per rank, for DistributedDataParallel to average. DDP + SyncBatchNorm on N
ranks therefore trains like one process on the full batch. PyTorch runs it on GPUs only;
leafgrad runs it on the CPU over MPI.
"""

from __future__ import annotations

from ...tensor import Tensor
from ..modules.batchnorm import _BatchNorm
from ..modules.module import Module
from . import _functions

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """Batch norm over the global batch of a process group (torch's ``nn.SyncBatchNorm``).

    >>> SyncBatchNorm(4)
    SyncBatchNorm(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, input: Tensor) -> Tensor:
        from ... import distributed as dist

        self._check_input_dim(input)
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        group = self.process_group
        sync = self.training and dist.is_initialized() and dist.get_world_size(group) > 1
        if not sync:
            return super().forward(input)  # one rank, or eval: plain batch norm
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(int(self.num_batches_tracked))
        track = self.track_running_stats
        return _functions.SyncBatchNorm.apply(input, self.weight, self.bias,
                                    self.running_mean if track else None,
                                    self.running_var if track else None, self.eps, factor,
                                    group, dist.get_world_size(group))

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with every BatchNorm*d replaced by a SyncBatchNorm sharing its state.

        >>> from leafgrad import nn
        >>> m = SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm1d(2)))
        >>> type(m[0]).__name__, m[0].num_features
        ('SyncBatchNorm', 2)
        """
        out = module
        if isinstance(module, _BatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                out.weight = module.weight
                out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out

