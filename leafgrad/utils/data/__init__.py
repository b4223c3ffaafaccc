"""Data loading (``torch.utils.data``): datasets, samplers, ``DataLoader`` with worker processes.

Shuffling draws from leafgrad's generator exactly as torch's DataLoader draws from torch's, so
``manual_seed(s)`` gives torch's batches in torch's order.
"""

from __future__ import annotations

from . import _utils
from .dataloader import DataLoader, default_collate, default_convert, get_worker_info
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .distributed import DistributedSampler
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .worker import WorkerInfo

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "DistributedSampler", "IterableDataset", "RandomSampler", "Sampler",
           "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset",
           "WeightedRandomSampler", "WorkerInfo", "_utils", "default_collate", "default_convert",
           "get_worker_info", "random_split"]
