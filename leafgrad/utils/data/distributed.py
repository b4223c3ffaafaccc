"""``DistributedSampler``: each of ``num_replicas`` processes gets its own share of the indices."""

from __future__ import annotations

import math
from collections.abc import Iterator

from ... import random as _random
from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _world():
    """(world size, rank) of the initialised process group, or an error saying how to proceed."""
    try:
        from ... import distributed as dist  # provided by leafgrad's distributed package
    except ImportError:
        dist = None
    if dist is None or not getattr(dist, "is_initialized", lambda: False)():
        raise RuntimeError(
            "Requires distributed package to be available\nWhy: without num_replicas and rank, "
            "DistributedSampler asks the process group for them, and none is initialised; pass "
            "num_replicas= and rank= explicitly.")
    return dist.get_world_size(), dist.get_rank()


class DistributedSampler(Sampler):
    """The indices of replica ``rank`` of ``num_replicas``: a shuffled (per ``seed + epoch``),
    padded or trimmed index list, dealt out round-robin, identical to torch's.

    >>> s = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
    >>> list(s), len(s)
    ([1, 4, 7, 0], 4)
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            world, me = _world()
            num_replicas = world if num_replicas is None else num_replicas
            rank = me if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas)
                                         / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            g = _random.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = _random.randperm(len(self.dataset), generator=g).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:  # pad by repeating indices so every replica gets as many
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use this epoch's shuffle (call it before each epoch, on every replica)."""
        self.epoch = epoch
