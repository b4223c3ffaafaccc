"""``leafgrad.distributed`` (PyTorch's ``torch.distributed``) on MPI, through mpi4py.

Start the ranks with ``leafgrad run -n 4 train.py`` (or ``mpirun -n 4 python train.py``), call
``init_process_group("mpi")``, then use the collectives and ``nn.parallel.
DistributedDataParallel`` as in PyTorch. See docs/distributed.md: what is supported, what is not
(NCCL, Gloo, RPC, FSDP, DTensor, pipelining...) and the errors that say so.
"""

from __future__ import annotations

from . import _unsupported
from ._errors import DistBackendError, DistError, DistNetworkError, DistStoreError
from .c10d import (
    Backend,
    GroupMember,
    ProcessGroup,
    ReduceOp,
    default_pg_timeout,
    destroy_process_group,
    export_launcher_env,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_node_local_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_backend_available,
    is_gloo_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    is_torchelastic_launched,
    is_ucc_available,
    is_xccl_available,
    new_group,
)
from .collectives import (
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    all_to_all,
    all_to_all_single,
    barrier,
    broadcast,
    gather,
    monitored_barrier,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
)
from .objects import all_gather_object, broadcast_object_list, gather_object, scatter_object_list
from .p2p import P2POp, batch_isend_irecv, irecv, isend, recv, send

__all__ = [
    "is_available", "Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "group",
    "default_pg_timeout", "DistError", "DistBackendError", "DistNetworkError", "DistStoreError",
    "init_process_group", "destroy_process_group", "is_initialized", "is_mpi_available",
    "is_nccl_available", "is_gloo_available", "is_ucc_available", "is_xccl_available",
    "is_backend_available", "is_torchelastic_launched", "get_rank", "get_world_size",
    "get_backend", "new_group", "get_process_group_ranks", "get_global_rank", "get_group_rank",
    "get_node_local_rank", "all_reduce", "broadcast", "reduce", "all_gather",
    "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter",
    "all_to_all", "all_to_all_single", "barrier", "monitored_barrier", "send", "recv", "isend",
    "irecv", "P2POp", "batch_isend_irecv", "broadcast_object_list", "all_gather_object",
    "gather_object", "scatter_object_list",
]


def is_available() -> bool:
    """True: leafgrad always has its distributed package (its backend needs mpi4py).

    >>> is_available()
    True
    """
    return True


def __getattr__(name: str):
    if name in _unsupported.NAMES:
        raise AttributeError(_unsupported.message(_unsupported.NAMES[name]))
    if name in _unsupported.MODULES:
        raise AttributeError(_unsupported.message(_unsupported.MODULES[name]))
    raise AttributeError(f"module 'leafgrad.distributed' has no attribute '{name}'")


_unsupported.install()
export_launcher_env()  # `mpirun -n 4 python train.py`: torchrun's RANK, LOCAL_RANK... are set
