"""Process groups over MPI (torch's ``distributed_c10d``): init, groups, ranks, ReduceOp, Backend.

The default group is a duplicate of ``MPI_COMM_WORLD``: the world is whatever ``mpirun`` (or
``leafgrad run -n N``) started, and ``init_process_group`` checks what the script says about it
(``rank``, ``world_size``, torchrun's ``RANK``/``WORLD_SIZE``) against it. Each group gets its
own communicators (collectives, and two for point-to-point headers and payloads), so traffic of
different groups, of DistributedDataParallel and of the fault notices never mixes.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import os
import warnings

import numpy as np

from . import _mpi, _watchdog
from ._errors import DistBackendError

__all__ = [
    "Backend", "ReduceOp", "RedOpType", "ProcessGroup", "GroupMember", "group",
    "default_pg_timeout", "init_process_group", "destroy_process_group", "is_initialized",
    "is_mpi_available", "is_nccl_available", "is_gloo_available", "is_ucc_available",
    "is_xccl_available", "is_backend_available", "is_torchelastic_launched", "get_rank",
    "get_world_size", "get_backend", "new_group", "get_process_group_ranks", "get_global_rank",
    "get_group_rank", "get_node_local_rank",
]

default_pg_timeout = datetime.timedelta(minutes=30)  # torch's default for CPU backends

_DOCS = "docs/distributed.md"
_CHECKS_ENV = "LEAFGRAD_DISTRIBUTED_CHECKS"


class Backend(str):
    """A backend name: ``Backend("mpi")``; the others are named here so errors can name them.

    >>> Backend("MPI"), Backend.MPI
    ('mpi', 'mpi')
    """

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"
    backend_list = [UNDEFINED, GLOO, NCCL, UCC, MPI, XCCL]

    def __new__(cls, name: str) -> str:
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, got {name!r}")
        value = name.lower()
        if value == Backend.UNDEFINED:
            raise ValueError(f"Invalid backend: '{name}'")
        return value


class RedOpType(enum.Enum):
    """The reduction operations (torch's ``ReduceOp.RedOpType``)."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8
    UNUSED = 9

    def __str__(self) -> str:
        return f"RedOpType.{self.name}"


class ReduceOp:
    """How a reduction combines the ranks' tensors: ``ReduceOp.SUM``, ``AVG``, ``PRODUCT``...

    >>> ReduceOp.SUM, ReduceOp.MAX.name
    (<RedOpType.SUM: 0>, 'MAX')
    """

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM
    UNUSED = RedOpType.UNUSED


class ProcessGroup:
    """Ranks that make collectives together (built by ``init_process_group``/``new_group``).

    ``rank()`` and ``size()`` are this process's rank in the group and the group's size.
    """

    def __init__(self, comm, ranks: list[int], uid: str, timeout: float, desc: str) -> None:
        self._comm = comm                 # collectives
        self._hdr = comm.Dup()            # point-to-point: shape/dtype headers
        self._data = comm.Dup()           # point-to-point: payloads
        self._ranks = list(ranks)         # global rank of each group rank
        self._index = {g: i for i, g in enumerate(self._ranks)}
        self._uid = uid
        self._timeout = timeout
        self._desc = desc
        self._seq = 0                     # collectives started (a check compares it)
        self._children = 0                # communicators made from this one (DDP's)
        self._recv_queue: list = []       # receives waiting for their header (p2p.py)

    def rank(self) -> int:
        """This process's rank in the group."""
        return self._comm.Get_rank()

    def size(self) -> int:
        """How many ranks the group has."""
        return self._comm.Get_size()

    def name(self) -> str:
        """The backend's name (``"mpi"``)."""
        return Backend.MPI

    @property
    def group_name(self) -> str:
        return self._uid

    @property
    def group_desc(self) -> str:
        return self._desc

    def __repr__(self) -> str:
        return f"<ProcessGroup mpi {self._desc} ranks={self._ranks}>"

    # -- used by the collectives -------------------------------------------------------------
    def _start(self) -> int:
        """Count one more collective on this group (the count identifies it across ranks)."""
        self._seq += 1
        ctl = _watchdog.control()
        ctl.counts[self._uid] = self._seq
        return self._seq

    def _wait(self, done, what: str, k: int, timeout: float | None = None) -> None:
        _watchdog.control().wait(done, self._timeout if timeout is None else timeout, what,
                                 self._uid, k, self._index)

    def _dup(self, what: str):
        """A new communicator over this group's ranks, and its uid (e.g. for DDP's buckets)."""
        k = self._start()
        req = self._comm.Ibarrier()
        self._wait(req.Test, what, k)
        self._children += 1
        return self._comm.Dup(), f"{self._uid}/{self._children}"


class _WorldMeta(type):
    @property
    def WORLD(cls) -> ProcessGroup | None:
        return _state.world


class GroupMember(metaclass=_WorldMeta):
    """``GroupMember.WORLD`` (the default group) and ``NON_GROUP_MEMBER`` (not in a group)."""

    NON_GROUP_MEMBER = -100


class group(metaclass=_WorldMeta):
    """``group.WORLD``: the default process group."""


class _State:
    def __init__(self) -> None:
        self.world: ProcessGroup | None = None
        self.groups: dict[str, ProcessGroup] = {}
        self.created = 0  # new_group calls (all ranks make them, so the count is shared)
        self.local_created: dict[tuple, int] = {}
        self.checks = True


_state = _State()


# -- availability --------------------------------------------------------------------------------
def is_mpi_available() -> bool:
    """Whether the MPI backend can be used (mpi4py is installed).

    >>> isinstance(is_mpi_available(), bool)
    True
    """
    return _mpi.available()


def is_nccl_available() -> bool:
    """False: leafgrad has no NCCL backend.

    >>> is_nccl_available()
    False
    """
    return False


def is_gloo_available() -> bool:
    """False: leafgrad has no Gloo backend (MPI is its one backend).

    >>> is_gloo_available()
    False
    """
    return False


def is_ucc_available() -> bool:
    """False: leafgrad has no UCC backend.

    >>> is_ucc_available()
    False
    """
    return False


def is_xccl_available() -> bool:
    """False: leafgrad has no XCCL backend.

    >>> is_xccl_available()
    False
    """
    return False


def is_backend_available(backend: str) -> bool:
    """Whether ``backend`` can be used here (only ``"mpi"``, with mpi4py installed).

    >>> is_backend_available("nccl")
    False
    """
    return str(backend).lower() == Backend.MPI and is_mpi_available()


def is_torchelastic_launched() -> bool:
    """Whether torchelastic (torchrun) started this process; leafgrad's launcher is mpirun.

    >>> isinstance(is_torchelastic_launched(), bool)
    True
    """
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def is_initialized() -> bool:
    """Whether the default process group exists.

    >>> is_initialized()
    False
    """
    return _state.world is not None


# -- the launcher's environment ------------------------------------------------------------------
_LAUNCHER_VARS = (  # (rank, size, local rank, local size) as MPI launchers set them
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
     "OMPI_COMM_WORLD_LOCAL_SIZE"),
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
    ("PMIX_RANK", "PMIX_SIZE", "PMIX_LOCAL_RANK", "PMIX_LOCAL_SIZE"),
)


def launcher_env(environ=None) -> dict[str, str]:
    """torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE) from an MPI launcher's.

    >>> launcher_env({"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "2"})
    {'RANK': '1', 'WORLD_SIZE': '2', 'LOCAL_RANK': '1', 'LOCAL_WORLD_SIZE': '2'}
    """
    env = os.environ if environ is None else environ
    for rank, size, lrank, lsize in _LAUNCHER_VARS:
        if rank in env and size in env:
            return {"RANK": env[rank], "WORLD_SIZE": env[size],
                    "LOCAL_RANK": env.get(lrank, env[rank]),
                    "LOCAL_WORLD_SIZE": env.get(lsize, env[size])}
    return {}


def export_launcher_env() -> None:
    """Under mpirun, set torchrun's variables for scripts that read them (if none is set)."""
    if any(k in os.environ for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK")):
        return
    os.environ.update(launcher_env())


# -- init / destroy ------------------------------------------------------------------------------
def _not_provided(what: str, why: str) -> RuntimeError:
    return RuntimeError(
        f"{what} is not provided by leafgrad.distributed.\nWhy: {why} leafgrad's process groups "
        "run on MPI (backend='mpi', or backend=None). Fix: init_process_group('mpi') and start "
        f"the ranks with `leafgrad run -n N script.py` or `mpirun -n N python script.py` "
        f"(see {_DOCS})."
    )


def _check_backend(backend) -> str:
    if backend is None:
        return Backend.MPI
    name = str(backend).lower()
    if name == Backend.MPI or name in ("cpu:mpi",):
        return Backend.MPI
    if "nccl" in name:
        raise _not_provided(f"The NCCL backend ({backend!r})", "NCCL moves CUDA tensors between "
                            "GPUs; leafgrad has no GPU collectives.")
    if name in (Backend.GLOO, Backend.UCC, Backend.XCCL) or ":" in name:
        raise _not_provided(f"The {backend!r} backend", "leafgrad has one backend, MPI.")
    raise ValueError(f"Invalid backend: '{backend}'. leafgrad.distributed supports backend='mpi' "
                     "(or None)")


def _timeout_seconds(timeout) -> float:
    if timeout is None:
        return default_pg_timeout.total_seconds()
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(
            f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout)}"
        )
    if timeout.total_seconds() <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    return timeout.total_seconds()


def _env_int(name: str) -> int | None:
    v = os.environ.get(name)
    if v is None or v == "":
        return None
    try:
        return int(v)
    except ValueError:
        raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: "
                         f"environment variable {name} must be an integer, got {v!r}") from None


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1,
                       rank: int = -1, store=None, group_name: str = "", pg_options=None,
                       device_id=None) -> None:
    """Join the ranks ``mpirun`` started into the default process group (``backend="mpi"``).

    ``rank``/``world_size`` and torchrun's ``RANK``/``WORLD_SIZE`` are optional and checked
    against the MPI world; ``timeout`` bounds every wait (30 minutes by default).

    >>> import leafgrad.distributed as dist
    >>> dist.init_process_group("mpi"); dist.get_world_size()  # doctest: +SKIP
    1
    """
    if _state.world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    backend = _check_backend(backend)
    if store is not None:
        raise _not_provided("A Store (TCPStore, FileStore, ...)",
                            "MPI's launcher does the rendezvous a store does for Gloo and NCCL.")
    if pg_options is not None:
        raise _not_provided("pg_options", "they configure NCCL/Gloo process groups.")
    if device_id is not None and str(getattr(device_id, "type", device_id)).split(":")[0] != "cpu":
        raise _not_provided(f"device_id={device_id!r}", "leafgrad's collectives move CPU tensors.")
    if init_method is not None:
        if not isinstance(init_method, str):
            raise TypeError(f"init_method must be a string URL, got {type(init_method).__name__}")
        scheme = init_method.split("://", 1)[0] if "://" in init_method else ""
        if scheme not in ("env", "tcp", "file"):
            raise ValueError(f"Unsupported init_method {init_method!r}: leafgrad accepts env://, "
                             "tcp:// and file:// (the MPI launcher does the rendezvous)")
    seconds = _timeout_seconds(timeout)
    env_rank = env_size = None
    if init_method is None or init_method.startswith("env://"):
        env_rank, env_size = _env_int("RANK"), _env_int("WORLD_SIZE")
    MPI = _mpi.mpi()
    ctl = _watchdog.start(MPI, seconds)
    me, n = ctl.rank, ctl.size
    how = ("started by mpirun" if launcher_env() else
           "not started by an MPI launcher, so it is a world of its own")
    for what, given, actual in (("world_size", world_size, n), ("rank", rank, me),
                                ("WORLD_SIZE (environment)", env_size, n),
                                ("RANK (environment)", env_rank, me)):
        if given is not None and given != -1 and given != actual:
            other = (" The launcher's own variables say otherwise: that mpirun belongs to "
                     "another MPI than the one mpi4py loaded (see `python -m mpi4py "
                     "--mpi-lib-version`); use the matching mpirun, e.g. `leafgrad run -n N`."
                     if launcher_env() and n == 1 else "")
            raise ValueError(
                f"init_process_group: {what}={given} but the MPI world says {actual} (this "
                f"process is rank {me} of {n}, {how}).\nWhy: with the MPI backend the launcher "
                "decides the ranks. Fix: start the script with `leafgrad run -n N script.py` "
                "(or `mpirun -n N python script.py`) and leave rank/world_size out, or pass the "
                f"launcher's values.{other}"
            )
    checks = os.environ.get(_CHECKS_ENV, "1") != "0"
    # one polled collective first: it proves that every rank is here before the blocking Dup
    flags = np.empty(n, dtype=np.int64)
    req = ctl.comm.Iallgather(np.array([int(checks)], dtype=np.int64), flags)
    ctl.wait(req.Test, seconds, "init_process_group")
    if len(set(flags.tolist())) != 1:
        raise ValueError(f"{_CHECKS_ENV} differs between ranks ({flags.tolist()}); set it the "
                         "same way for every rank")
    _state.checks = checks
    _state.world = ProcessGroup(MPI.COMM_WORLD.Dup(), list(range(n)), "0", seconds,
                                group_name or "default_pg")
    _state.groups = {"0": _state.world}
    _state.created = 0
    ctl.broken = None


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Destroy one group, or (no argument) every group and the default one.

    >>> destroy_process_group()  # doctest: +SKIP
    """
    if group is None or group is _state.world:
        if _state.world is None:
            raise ValueError("Default process group has not been initialized, please make sure "
                             "to call init_process_group.")
        for pg in _state.groups.values():
            _free(pg)
        _state.groups = {}
        _state.world = None
        return
    if group == GroupMember.NON_GROUP_MEMBER:
        return
    if not isinstance(group, ProcessGroup) or group._uid not in _state.groups:
        raise ValueError("Invalid process group specified")
    _free(_state.groups.pop(group._uid))


def _free(pg: ProcessGroup) -> None:
    for c in (pg._comm, pg._hdr, pg._data):
        try:
            c.Free()
        except Exception:  # noqa: BLE001 - freeing after a failure must not raise
            pass


# -- ranks and groups ----------------------------------------------------------------------------
def default_group() -> ProcessGroup:
    """The default group, or torch's error when ``init_process_group`` has not been called."""
    if _state.world is None:
        raise ValueError("Default process group has not been initialized, please make sure to "
                         "call init_process_group.")
    return _state.world


def resolve(group, op: str) -> ProcessGroup | None:
    """The group to use (None: this rank is not a member, the call does nothing, as torch)."""
    if group is None or group is GroupMember.WORLD:
        return default_group()
    if isinstance(group, int) and group == GroupMember.NON_GROUP_MEMBER:
        warnings.warn(f"Running {op} on global rank {get_rank()} which does not belong to the "
                      "given group.", stacklevel=3)
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"{op}: group must be a ProcessGroup (from new_group) or None, got "
                        f"{type(group).__name__}")
    if group._uid not in _state.groups:
        raise ValueError(f"{op}: this process group was destroyed (destroy_process_group)")
    return group


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in ``group`` (the default group if None; -1 if not a member).

    >>> get_rank()  # doctest: +SKIP
    0
    """
    if group is None or group is GroupMember.WORLD:
        return default_group().rank()
    if isinstance(group, int) and group == GroupMember.NON_GROUP_MEMBER:
        return -1
    return resolve(group, "get_rank").rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """How many ranks ``group`` has (the default group if None; -1 if not a member).

    >>> get_world_size()  # doctest: +SKIP
    2
    """
    if isinstance(group, int) and group == GroupMember.NON_GROUP_MEMBER:
        return -1
    return resolve(group, "get_world_size").size()


def get_backend(group: ProcessGroup | None = None) -> str:
    """The backend of ``group``: always ``"mpi"``.

    >>> get_backend()  # doctest: +SKIP
    'mpi'
    """
    resolve(group, "get_backend")
    return Backend.MPI


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:
    """The global ranks of ``group``'s members, in group-rank order."""
    return list(resolve(group, "get_process_group_ranks")._ranks)


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    """The global rank of ``group``'s rank ``group_rank``."""
    pg = resolve(group, "get_global_rank")
    if not 0 <= group_rank < len(pg._ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {pg._ranks}")
    return pg._ranks[group_rank]


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    """The rank in ``group`` of global rank ``global_rank``."""
    pg = resolve(group, "get_group_rank")
    if global_rank not in pg._index:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg._ranks}")
    return pg._index[global_rank]


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank on its machine (LOCAL_RANK, or the MPI launcher's local rank)."""
    v = os.environ.get("LOCAL_RANK") or launcher_env().get("LOCAL_RANK")
    if v is not None:
        return int(v)
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to "
                       "allow `get_node_local_rank` to work, assuming you are not running in a "
                       "multi-device context and want the code to run locally instead.")


def new_group(ranks: list[int] | None = None, timeout: datetime.timedelta | None = None,
              backend: str | None = None, pg_options=None, use_local_synchronization: bool = False,
              group_desc: str | None = None, device_id=None):
    """A group of some ranks (every rank calls it; non-members get ``NON_GROUP_MEMBER``).

    >>> evens = new_group([0, 2])  # doctest: +SKIP
    """
    world = default_group()
    _check_backend(backend)
    if pg_options is not None:
        raise _not_provided("pg_options", "they configure NCCL/Gloo process groups.")
    seconds = world._timeout if timeout is None else _timeout_seconds(timeout)
    n = world.size()
    ranks = list(range(n)) if ranks is None else sorted(int(r) for r in ranks)
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: ranks contain duplicates: {ranks}")
    bad = [r for r in ranks if not 0 <= r < n]
    if bad:
        raise ValueError(f"new_group: ranks {bad} are not in the world of {n} ranks")
    me = world.rank()
    MPI = _mpi.mpi()
    digest = int.from_bytes(hashlib.sha256(repr(ranks).encode()).digest()[:7], "little")
    if use_local_synchronization:
        if me not in ranks:
            return GroupMember.NON_GROUP_MEMBER
        key = tuple(ranks)
        _state.local_created[key] = _state.local_created.get(key, 0) + 1
        uid = f"L{digest:x}.{_state.local_created[key]}"
        comm = world._comm.Create_group(world._comm.Get_group().Incl(ranks), digest % 30000)
    else:
        # every rank must call it with the same ranks: check that first (polled, with deadline)
        k = world._start()
        mine = np.array([digest], dtype=np.int64)
        allv = np.empty(n, dtype=np.int64)
        req = world._comm.Iallgather(mine, allv)
        world._wait(req.Test, "new_group", k)
        if len(set(allv.tolist())) != 1:
            raise ValueError("new_group: ranks differ between ranks (every rank must call "
                             f"new_group with the same ranks); this rank passed {ranks}")
        _state.created += 1
        uid = str(_state.created)
        comm = world._comm.Split(0 if me in ranks else MPI.UNDEFINED, me)
        if me not in ranks:
            return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, ranks, uid, seconds, group_desc or f"group {uid}")
    _state.groups[uid] = pg
    return pg


def broken_check() -> None:
    """Refuse to start a collective once a timeout or a peer failure broke the groups."""
    ctl = _watchdog.control()
    if ctl is not None and ctl.broken is not None:
        raise DistBackendError(f"leafgrad.distributed cannot run more collectives: {ctl.broken}."
                               " Destroy the process group and exit.")
