"""DataLoader worker processes: their loop, their seeding, ``get_worker_info()``, and how
tensors and exceptions travel back to the main process."""

from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from ...tensor import Tensor, _wrap

__all__ = ["WorkerInfo", "get_worker_info"]

# How often a waiting process checks that the other side is still alive (seconds).
MP_STATUS_CHECK_INTERVAL = 1.0

_worker_info: WorkerInfo | None = None


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker process knows about itself: ``id``, ``num_workers``, ``seed``, ``dataset``
    (its own copy)."""

    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info() -> WorkerInfo | None:
    """This worker's ``WorkerInfo`` inside a DataLoader worker process; ``None`` elsewhere.

    >>> get_worker_info() is None
    True
    """
    return _worker_info


class ExceptionWrapper:
    """An exception with its formatted traceback, sent from a worker and re-raised in the main
    process (with the same type when it can be built from a message)."""

    def __init__(self, exc_info=None, where: str = "in background") -> None:
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise the wrapped exception here, its original traceback in the message."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exc


class _KeyErrorMessage(str):
    """A str whose repr is itself, so a re-raised KeyError shows its traceback readably."""

    __slots__ = ()

    def __repr__(self) -> str:
        return self


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Sent to persistent workers at the start of each new epoch."""


class _TensorBox:
    """A tensor on its way through a multiprocessing queue: just its array (and the flag)."""

    __slots__ = ("data", "requires_grad")

    def __init__(self, data, requires_grad: bool) -> None:
        self.data = data
        self.requires_grad = requires_grad

    def __getstate__(self):
        return self.data, self.requires_grad

    def __setstate__(self, state) -> None:
        self.data, self.requires_grad = state


def pack(obj):
    """Replace the tensors in a batch (nested in dicts, lists, tuples) by their arrays."""
    if isinstance(obj, Tensor):
        if obj.grad_fn is not None:
            raise RuntimeError(
                "Cowardly refusing to serialize non-leaf tensor which requires_grad, since "
                "autograd does not support crossing process boundaries.  If you just want to "
                "transfer the data, call detach() on the tensor before serializing (e.g., "
                "putting it on the queue).")
        return _TensorBox(obj._data, obj.requires_grad)
    return _map(obj, pack)


def unpack(obj):
    """The inverse of ``pack``."""
    if isinstance(obj, _TensorBox):
        t = _wrap(obj.data)
        return t.requires_grad_() if obj.requires_grad else t
    return _map(obj, unpack)


def _map(obj, fn):
    if isinstance(obj, dict):
        return type(obj)((k, fn(v)) for k, v in obj.items()) if type(obj) is not dict else {
            k: fn(v) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(fn(v) for v in obj))
    if isinstance(obj, list | tuple):
        return type(obj)(fn(v) for v in obj)
    return obj


def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """The NumPy seed torch gives a worker: a SeedSequence-style hash of (worker id, base seed)
    into four 32-bit words."""
    mask = 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask, base_seed >> 32, 0]
    hash_a = 1135663077  # the hashing constant changes after every word it mixes

    def hash_word(value: int) -> int:
        nonlocal hash_a
        value = (value ^ hash_a) & mask
        hash_a = (hash_a * 2468251765) & mask
        value = (value * hash_a) & mask
        return (value ^ (value >> 16)) & mask

    def mix(x: int, y: int) -> int:
        r = (((3389127133 * x) & mask) - ((1232336661 * y) & mask)) & mask
        return (r ^ (r >> 16)) & mask

    pool = [hash_word(e) for e in entropy]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hash_word(pool[src]))
    hash_b = 2337405405
    state = []
    for word in pool:
        word = (word ^ hash_b) & mask
        hash_b = (hash_b * 1492356589) & mask
        word = (word * hash_b) & mask
        state.append((word ^ (word >> 16)) & mask)
    return state


class _ManagerWatchdog:
    """Tells a worker whether the process that started it is still alive."""

    def __init__(self) -> None:
        self.manager_pid = os.getppid()
        self.dead = False

    def is_alive(self) -> bool:
        if not self.dead:
            self.dead = os.getppid() != self.manager_pid
        return not self.dead


def _seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed Python's, leafgrad's and NumPy's global generators as torch seeds a worker's."""
    from ... import random as lg_random

    seed = base_seed + worker_id
    random.seed(seed)
    lg_random.manual_seed(seed)
    np.random.seed(_generate_state(base_seed, worker_id))
    return seed


def _worker_loop(kind: str, dataset, index_queue, data_queue, done_event, auto_collation: bool,
                 collate_fn, drop_last: bool, base_seed: int, init_fn, worker_id: int,
                 num_workers: int) -> None:
    """A worker process: fetch the batches whose indices arrive on ``index_queue``."""
    from .dataloader import _make_fetcher

    global _worker_info
    try:
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        init_exception = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _make_fetcher(kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        iteration_end = False
        watchdog = _ManagerWatchdog()
        while watchdog.is_alive():
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(r, _ResumeIteration):
                data_queue.put((r, None))
                iteration_end = False
                fetcher = _make_fetcher(kind, dataset, auto_collation, collate_fn, drop_last)
                continue
            if r is None:  # shut down
                break
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    data = pack(fetcher.fetch(index))
                except StopIteration:
                    if kind != "iterable":
                        data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
                    else:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                except Exception:
                    data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            try:
                data_queue.put((idx, data))
            except Exception:  # e.g. the batch cannot be pickled: say so, don't die silently
                data_queue.put((idx, ExceptionWrapper(
                    where=f"in DataLoader worker process {worker_id} (sending the batch)")))
            del data, idx, index, r
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
