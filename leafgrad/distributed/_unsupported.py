"""What of torch.distributed leafgrad does not provide, and the error that says so.

``import torch.distributed.fsdp`` (or ``leafgrad.distributed.fsdp``) raises a
``ModuleNotFoundError`` naming the feature; ``dist.TCPStore`` and the like raise an
``AttributeError`` saying the same. A finder on ``sys.meta_path`` answers those module names
only (no stub files, which the doctest collection would try to import).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

PACKAGE = __name__.rpartition(".")[0]
PROVIDED = ("process groups over MPI, collectives, point-to-point and object collectives, and "
            "nn.parallel.DistributedDataParallel")

MODULES = {
    "rpc": "RPC (torch.distributed.rpc: remote procedure calls, RRefs)",
    "fsdp": "FullyShardedDataParallel (torch.distributed.fsdp)",
    "tensor": "DTensor and tensor parallelism (torch.distributed.tensor)",
    "_tensor": "DTensor (torch.distributed._tensor)",
    "device_mesh": "DeviceMesh (torch.distributed.device_mesh)",
    "pipelining": "pipeline parallelism (torch.distributed.pipelining)",
    "checkpoint": "distributed checkpointing (torch.distributed.checkpoint)",
    "elastic": "torchelastic (torch.distributed.elastic); leafgrad launches with mpirun",
    "launcher": "torchelastic's launcher (torch.distributed.launcher)",
    "launch": "the deprecated torch.distributed.launch; use `leafgrad run -n N script.py`",
    "autograd": "distributed autograd (torch.distributed.autograd, for RPC)",
    "optim": "torch.distributed.optim (ZeroRedundancyOptimizer, DistributedOptimizer)",
    "nn": "torch.distributed.nn (differentiable collectives, RemoteModule)",
    "algorithms": "torch.distributed.algorithms (DDP communication hooks, Join)",
    "_composable": "composable FSDP and replicate (torch.distributed._composable)",
}

NAMES = {
    "Store": "key-value stores (Store)", "TCPStore": "key-value stores (TCPStore)",
    "FileStore": "key-value stores (FileStore)", "HashStore": "key-value stores (HashStore)",
    "PrefixStore": "key-value stores (PrefixStore)",
    "DeviceMesh": "DeviceMesh (torch.distributed.device_mesh)",
    "init_device_mesh": "DeviceMesh (torch.distributed.device_mesh.init_device_mesh)",
    "rendezvous": "torch.distributed.rendezvous (the MPI launcher does the rendezvous)",
}


def message(what: str) -> str:
    """The sentence for a feature that is not provided.

    >>> message("RPC").split(".")[0]
    'RPC is not provided by leafgrad'
    """
    return (f"{what} is not provided by leafgrad. leafgrad.distributed provides {PROVIDED}; "
            "see docs/distributed.md for what is supported.")


class _Refuse(importlib.abc.Loader):
    def __init__(self, what: str) -> None:
        self.what = what

    def create_module(self, spec):
        raise ModuleNotFoundError(message(self.what), name=spec.name)

    def exec_module(self, module) -> None:  # never reached: create_module raised
        raise ModuleNotFoundError(message(self.what), name=module.__name__)


class Finder(importlib.abc.MetaPathFinder):
    """Answers ``leafgrad.distributed.<not provided>`` with a loader that raises the message."""

    def find_spec(self, fullname, path, target=None):
        parent, _, child = fullname.rpartition(".")
        head = child if parent == PACKAGE else None
        if head is None and parent.startswith(PACKAGE + "."):
            head = parent[len(PACKAGE) + 1:].split(".")[0]
        if head in MODULES:
            return importlib.machinery.ModuleSpec(fullname, _Refuse(MODULES[head]))
        return None


def install() -> None:
    """Put the finder at the end of ``sys.meta_path`` (once): real modules are found first."""
    if not any(isinstance(f, Finder) for f in sys.meta_path):
        sys.meta_path.append(Finder())
