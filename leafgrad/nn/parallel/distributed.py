"""``DistributedDataParallel``: one model replica per rank, gradients averaged during backward.

At construction the ranks check that their models have the same parameters, and rank 0's
parameters and buffers are broadcast to all. Each forward pass (in training, with gradients on)
first broadcasts rank 0's buffers (BatchNorm's running statistics) and then readies the
reducer (``_reducer.py``), which averages the gradients over the ranks with bucketed
non-blocking all-reduces while backward runs. ``no_sync()`` skips the averaging for
gradient accumulation; the next synchronised backward averages the accumulated gradients.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np

from ...autograd import grad_mode
from ...distributed import _mpi, _watchdog
from ...distributed import c10d as _c10d
from ...distributed._unsupported import message as _not_provided
from ..modules.module import Module
from ._reducer import FIRST_BUCKET_BYTES, Reducer

__all__ = ["DistributedDataParallel"]

_MB = 1024 * 1024
_DEFAULT_BUCKET_CAP_MB = 25


class DistributedDataParallel(Module):
    """Data parallelism over the ranks of a process group (torch's ``DistributedDataParallel``).

    >>> ddp = DistributedDataParallel(model)  # doctest: +SKIP
    >>> loss_fn(ddp(x), y).backward()  # gradients are averaged over the ranks  # doctest: +SKIP
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool | None = None, init_sync: bool = True,
                 process_group=None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None,
                 mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params: bool = False, bucket_cap_mb_list=None,
                 batched_grad_copy: bool = False, forward_sync_buffers: bool | None = None
                 ) -> None:
        super().__init__()
        for name, value in (("mixed_precision", mixed_precision), ("device_mesh", device_mesh),
                            ("delay_all_reduce_named_params", delay_all_reduce_named_params),
                            ("param_to_hook_all_reduce", param_to_hook_all_reduce),
                            ("bucket_cap_mb_list", bucket_cap_mb_list)):
            if value is not None:
                raise RuntimeError(_not_provided(f"DistributedDataParallel's {name}"))
        if device_ids or output_device is not None:
            devs = {str(d) for d in (device_ids or [])} | (
                {str(output_device)} if output_device is not None else set())
            if any(not d.startswith("cpu") for d in devs):
                raise ValueError(
                    "DistributedDataParallel device_ids and output_device arguments only work "
                    "with single-device/multiple-device GPU modules or CPU modules; leafgrad's "
                    f"DistributedDataParallel runs on the CPU (got device_ids {device_ids}, "
                    f"output_device {output_device}). Fix: leave them out."
                )
        pg = _c10d.resolve(process_group, "DistributedDataParallel")
        if pg is None:
            raise RuntimeError("DistributedDataParallel: this rank is not a member of "
                               "process_group")
        if hasattr(module, "_ddp_params_and_buffers_to_ignore"):
            self.parameters_to_ignore = set(module._ddp_params_and_buffers_to_ignore)
        else:
            self.parameters_to_ignore = set()
        named = [(n, p) for n, p in module.named_parameters()
                 if n not in self.parameters_to_ignore]
        if not any(p.requires_grad for _, p in named):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have "
                               "any parameter that requires a gradient.")
        if any(p.device.type != "cpu" for _, p in named):
            raise RuntimeError("DistributedDataParallel: leafgrad's MPI backend moves CPU tensors "
                               "only; move the module to the CPU first (NCCL is not provided)")
        if broadcast_buffers is not None:
            if forward_sync_buffers is not None:
                warnings.warn(
                    "Both `broadcast_buffers` and `forward_sync_buffers` were specified. "
                    "`broadcast_buffers` is deprecated and its value is ignored when "
                    "`forward_sync_buffers` is provided.", FutureWarning, stacklevel=2)
            else:
                warnings.warn(
                    "`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead. "
                    "IMPORTANT: unlike `broadcast_buffers=False`, `forward_sync_buffers=False` "
                    "still syncs buffers at init. If you rely on buffers NOT being synced at init "
                    "(e.g. rank-local buffers), keep using `broadcast_buffers=False` until "
                    "`init_sync_buffers` is available.", FutureWarning, stacklevel=2)
        if forward_sync_buffers is not None:
            self.forward_sync_buffers = forward_sync_buffers
            init_sync_buffers = True
        else:
            self.forward_sync_buffers = broadcast_buffers if broadcast_buffers is not None \
                else True
            init_sync_buffers = self.forward_sync_buffers
        if check_reduction:
            warnings.warn("The `check_reduction` argument in `DistributedDataParallel` module is "
                          "deprecated. Please avoid using it.", FutureWarning, stacklevel=2)
        self.module = module
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.process_group = pg
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        # accepted for compatibility: gradients are always copied back into each .grad
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.skip_all_reduce_unused_params = skip_all_reduce_unused_params
        self.batched_grad_copy = batched_grad_copy
        cap_mb = _DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        self.bucket_bytes_cap = int(cap_mb * _MB)
        first_cap = FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap

        comm, uid = pg._dup("DistributedDataParallel construction")
        names = [n for n, p in named if p.requires_grad]
        params = [p for _, p in named if p.requires_grad]
        object.__setattr__(self, "_comm", comm)
        object.__setattr__(self, "_uid", uid)
        object.__setattr__(self, "_calls", 0)
        self._verify_same_parameters(names, params)
        if init_sync:
            self._broadcast([p for _, p in named], "parameters")
            if init_sync_buffers:
                self._broadcast(self._module_buffers(), "buffers")
        reducer = Reducer(self, ["module." + n for n in names], params, comm, uid, pg._ranks,
                          pg._timeout, first_cap, self.bucket_bytes_cap)
        object.__setattr__(self, "reducer", reducer)  # not a submodule, not in state_dict

    # -- the broadcasts ----------------------------------------------------------------------
    @property
    def broadcast_buffers(self) -> bool:
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value: bool) -> None:
        self.forward_sync_buffers = value

    def _module_buffers(self) -> list:
        return [b for n, b in self.module.named_buffers()
                if n not in self.parameters_to_ignore and b is not None]

    def _count(self) -> int:
        """One more collective on DDP's communicator (the watchdog's count for it)."""
        n = self._calls + 1
        object.__setattr__(self, "_calls", n)
        _watchdog.control().counts[self._uid] = n
        return n

    def _wait(self, req, what: str) -> None:
        n = self._count()
        _watchdog.control().wait(req.Test, self.process_group._timeout, what, self._uid, n,
                                 self.process_group._index)

    def _broadcast(self, tensors: list, what: str) -> None:
        """Rank 0's values into every rank's tensors: one broadcast per dtype (coalesced)."""
        if self._comm.Get_size() == 1 or not tensors:
            return
        by_dtype: dict = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for dt, ts in by_dtype.items():
            flat = np.concatenate([t._data.reshape(-1) for t in ts]) if ts else np.empty(0, dt)
            self._wait(self._comm.Ibcast(_mpi.byte_buffer(flat), 0),
                       f"DistributedDataParallel's broadcast of {what}")
            off = 0
            for t in ts:
                n = t._data.size
                t._data[...] = flat[off:off + n].reshape(t._data.shape)
                off += n

    def _verify_same_parameters(self, names: list[str], params: list) -> None:
        """Every rank must wrap the same parameters (count, shapes, dtypes), else say which."""
        n = self._comm.Get_size()
        if n == 1:
            return
        counts = np.empty(n, dtype=np.int64)
        self._wait(self._comm.Iallgather(np.array([len(params)], dtype=np.int64), counts),
                   "DistributedDataParallel's parameter check")
        if len(set(counts.tolist())) != 1:
            raise RuntimeError(
                "DDP expects same model across all ranks, but the ranks have "
                f"{counts.tolist()} parameters (rank i's count at index i).\nWhy: DDP averages "
                "each parameter's gradient with the same parameter on the other ranks. Fix: "
                "build the same model on every rank."
            )
        from ...distributed.collectives import fingerprint

        mine = np.stack([fingerprint("broadcast", 0, p._data.dtype, p._data.shape)
                         for p in params]) if params else np.empty((0, 16), np.int64)
        table = np.empty((n,) + mine.shape, dtype=np.int64)
        self._wait(self._comm.Iallgather(mine, table), "DistributedDataParallel's parameter check")
        bad = np.nonzero((table != table[0]).any(axis=(0, 2)))[0]
        if len(bad):
            from ...distributed.collectives import _show

            i = int(bad[0])
            shown = "; ".join(f"rank {r}: {_show(table[r, i]).split(') ', 1)[1]}"
                              for r in range(n))
            raise RuntimeError(
                f"DDP expects same model across all ranks, but parameter {names[i]} differs: "
                f"{shown}.\nWhy: DDP averages each parameter's gradient with the same parameter "
                "on the other ranks. Fix: build the same model on every rank."
            )

    # -- forward -----------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        sync_grads = grad_mode.state.enabled and self.require_backward_grad_sync
        if self.require_forward_param_sync and self.forward_sync_buffers and \
                self._comm.Get_size() > 1:
            buffers = self._module_buffers()
            if buffers:
                self._broadcast(buffers, "buffers")
        output = self.module(*inputs, **kwargs)
        if sync_grads:
            self.require_forward_param_sync = True
            self.reducer.prepare(output, self.find_unused_parameters and not self.static_graph)
        else:
            self.require_forward_param_sync = False
        return output

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside this block, backward accumulates gradients locally (no averaging).

        >>> with ddp.no_sync():  # doctest: +SKIP
        ...     ddp(x1).sum().backward()
        >>> ddp(x2).sum().backward()  # averages the accumulated gradients  # doctest: +SKIP
        """
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # -- what is not provided ----------------------------------------------------------------
    def join(self, *args, **kwargs):
        """Uneven inputs (torch's ``Join``) are not provided."""
        raise RuntimeError(_not_provided("DistributedDataParallel.join (uneven inputs)"))

    def register_comm_hook(self, state, hook) -> None:
        """Communication hooks are not provided."""
        raise RuntimeError(_not_provided("DistributedDataParallel.register_comm_hook"))

    def _set_static_graph(self) -> None:
        self.static_graph = True

