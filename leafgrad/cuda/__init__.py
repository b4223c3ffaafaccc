"""``torch.cuda`` as scripts probe it: answers for a machine without CUDA, CuPy's where it runs.

leafgrad's CUDA tensors live in CuPy arrays (``pip install leafgrad[gpu]``). Without CuPy or a
GPU, ``is_available()`` is False and ``device_count()`` 0, seeding and cache functions do
nothing (as in PyTorch, which ignores them when CUDA is unavailable), the memory counters read
0, and the functions that need a device raise PyTorch's ``AssertionError`` with the reason.

>>> import leafgrad
>>> leafgrad.cuda.is_available() in (True, False)
True
"""

from __future__ import annotations

import importlib.util

from .._compat import OutOfMemoryError
from . import amp

__all__ = [
    "OutOfMemoryError", "amp", "current_device", "device_count", "empty_cache",
    "get_device_capability", "get_device_name", "get_rng_state", "get_rng_state_all", "init",
    "initial_seed", "ipc_collect", "is_available", "is_bf16_supported", "is_initialized",
    "manual_seed", "manual_seed_all", "max_memory_allocated", "max_memory_reserved",
    "mem_get_info", "memory_allocated", "memory_reserved", "seed", "seed_all", "set_device",
    "set_rng_state", "synchronize",
]

_runtime_cache: list = []


def _runtime():
    """CuPy's CUDA runtime module when CuPy is installed and sees a GPU, else None."""
    if not _runtime_cache:
        rt = None
        if importlib.util.find_spec("cupy") is not None:
            try:
                import cupy  # noqa: PLC0415 - optional, imported only when asked about CUDA

                if cupy.cuda.runtime.getDeviceCount() > 0:
                    rt = cupy.cuda.runtime
            except Exception:  # noqa: BLE001 - no driver, no device: CUDA is not available
                rt = None
        _runtime_cache.append(rt)
    return _runtime_cache[0]


def _need_cuda(what: str):
    rt = _runtime()
    if rt is None:
        # NOTE: PyTorch's CPU-only build raises AssertionError("Torch not compiled with CUDA
        # enabled") from these functions; leafgrad raises the same type and says why.
        raise AssertionError(
            f"torch.cuda.{what}() needs a CUDA device, and there is none here: leafgrad uses "
            "CUDA through CuPy (pip install leafgrad[gpu]) on a machine with an NVIDIA GPU. "
            "Guard GPU-only code with `if torch.cuda.is_available():`"
        )
    return rt


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU.

    >>> isinstance(is_available(), bool)
    True
    """
    return _runtime() is not None


def device_count() -> int:
    """Number of CUDA devices CuPy sees (0 without CuPy or a GPU).

    >>> device_count() >= 0
    True
    """
    rt = _runtime()
    return 0 if rt is None else int(rt.getDeviceCount())


def is_initialized() -> bool:
    """Whether CUDA has been initialised (True once a device is found).

    >>> is_initialized() == is_available()
    True
    """
    return _runtime() is not None


def init() -> None:
    """Initialise CUDA; raises ``AssertionError`` where there is no device."""
    _need_cuda("init")


def current_device() -> int:
    """Index of the current CUDA device."""
    return int(_need_cuda("current_device").getDevice())


def set_device(device) -> None:
    """Make ``device`` (an index, ``'cuda:1'`` or a ``torch.device``) the current CUDA device."""
    from ..backend import device as _device

    rt = _need_cuda("set_device")
    index = device if isinstance(device, int) else _device(device).index
    rt.setDevice(index or 0)


def get_device_name(device=None) -> str:
    """Name of a CUDA device (default: the current one)."""
    rt = _need_cuda("get_device_name")
    props = rt.getDeviceProperties(_index(device, rt))
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def get_device_capability(device=None) -> tuple[int, int]:
    """Compute capability ``(major, minor)`` of a CUDA device."""
    rt = _need_cuda("get_device_capability")
    props = rt.getDeviceProperties(_index(device, rt))
    return int(props["major"]), int(props["minor"])


def _index(device, rt) -> int:
    from ..backend import device as _device

    if device is None:
        return int(rt.getDevice())
    if isinstance(device, int):
        return device
    return _device(device).index or 0


def synchronize(device=None) -> None:
    """Wait for the device's queued work; a no-op without CUDA (leafgrad's CPU work is synchronous).

    NOTE: PyTorch's CPU-only build raises here; leafgrad's CPU tensors have nothing to wait for.

    >>> synchronize() if not is_available() else None
    """
    rt = _runtime()
    if rt is not None:
        rt.deviceSynchronize()


def empty_cache() -> None:
    """Return cached GPU memory to the driver (CuPy's memory pool); a no-op without CUDA.

    >>> empty_cache() if not is_available() else None
    """
    if _runtime() is not None:
        import cupy  # noqa: PLC0415

        cupy.get_default_memory_pool().free_all_blocks()


def ipc_collect() -> None:
    """Nothing to collect: leafgrad shares no CUDA memory between processes."""
    _need_cuda("ipc_collect")


def mem_get_info(device=None) -> tuple[int, int]:
    """``(free, total)`` bytes of a CUDA device."""
    rt = _need_cuda("mem_get_info")
    free, total = rt.memGetInfo()
    return int(free), int(total)


def _pool_bytes(what: str, used: bool) -> int:
    if _runtime() is None:
        return 0  # as PyTorch: no CUDA, nothing allocated
    import cupy  # noqa: PLC0415

    pool = cupy.get_default_memory_pool()
    return int(pool.used_bytes() if used else pool.total_bytes())


def memory_allocated(device=None) -> int:
    """Bytes held by CUDA tensors (CuPy's pool); 0 without CUDA.

    >>> memory_allocated() if not is_available() else 0
    0
    """
    return _pool_bytes("memory_allocated", True)


def memory_reserved(device=None) -> int:
    """Bytes reserved by the caching allocator (CuPy's pool); 0 without CUDA.

    >>> memory_reserved() if not is_available() else 0
    0
    """
    return _pool_bytes("memory_reserved", False)


def max_memory_allocated(device=None) -> int:
    """Peak of :func:`memory_allocated`: 0 without CUDA; CuPy does not track the peak.

    >>> max_memory_allocated() if not is_available() else 0
    0
    """
    if _runtime() is None:
        return 0
    raise NotImplementedError(
        "torch.cuda.max_memory_allocated: leafgrad's CUDA memory is CuPy's pool, which does not "
        "record a peak; read torch.cuda.memory_allocated() where you want to know"
    )


def max_memory_reserved(device=None) -> int:
    """Peak of :func:`memory_reserved`: 0 without CUDA; CuPy does not track the peak.

    >>> max_memory_reserved() if not is_available() else 0
    0
    """
    if _runtime() is None:
        return 0
    raise NotImplementedError(
        "torch.cuda.max_memory_reserved: leafgrad's CUDA memory is CuPy's pool, which does not "
        "record a peak; read torch.cuda.memory_reserved() where you want to know"
    )


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: leafgrad has no bfloat16 tensors (see ``leafgrad.bfloat16``).

    >>> is_bf16_supported()
    False
    """
    return False


# NOTE: leafgrad draws CUDA tensors' random numbers from the CPU generator and moves them (see
# docs/random.md), so there is no CUDA generator to seed; PyTorch, too, silently ignores these
# calls when CUDA is unavailable, and scripts call them unconditionally.


def manual_seed(seed: int) -> None:
    """Seed the CUDA generator: nothing to seed (CUDA samples come from the CPU generator).

    >>> manual_seed(0)
    """


def manual_seed_all(seed: int) -> None:
    """Seed every CUDA generator: nothing to seed, as :func:`manual_seed`.

    >>> manual_seed_all(0)
    """


def seed() -> None:
    """Seed the CUDA generator randomly: nothing to seed, as :func:`manual_seed`.

    >>> seed()
    """


def seed_all() -> None:
    """Seed every CUDA generator randomly: nothing to seed, as :func:`manual_seed`.

    >>> seed_all()
    """


def initial_seed() -> int:
    """The CUDA generator's seed: there is none (PyTorch raises the same way without CUDA)."""
    _need_cuda("initial_seed")
    raise RuntimeError(
        "torch.cuda.initial_seed: leafgrad has no CUDA generator; CUDA tensors are drawn from "
        "the CPU generator: use torch.initial_seed()"
    )


def get_rng_state(device="cuda"):
    """The CUDA generator's state: there is none (PyTorch raises the same way without CUDA)."""
    _need_cuda("get_rng_state")
    raise RuntimeError(
        "torch.cuda.get_rng_state: leafgrad has no CUDA generator; CUDA tensors are drawn from "
        "the CPU generator: use torch.get_rng_state()"
    )


def get_rng_state_all() -> list:
    """Every CUDA generator's state: an empty list (there are none).

    >>> get_rng_state_all()
    []
    """
    return []


def set_rng_state(new_state, device="cuda") -> None:
    """Set the CUDA generator's state: nothing to set (PyTorch ignores it without CUDA).

    >>> set_rng_state(None)
    """
