"""``torch.cpu.amp``: the deprecated spelling of ``torch.amp.autocast('cpu')``."""

from __future__ import annotations

import warnings

from .. import amp as _amp

__all__ = ["GradScaler", "autocast"]


class autocast(_amp.autocast):  # noqa: N801 - PyTorch's name
    """``torch.amp.autocast('cpu', ...)``, deprecated spelling (FutureWarning, as PyTorch).

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     with autocast(enabled=False): pass
    """

    def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool = True):
        warnings.warn(
            "`torch.cpu.amp.autocast(args...)` is deprecated. Please use "
            "`torch.amp.autocast('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        from .. import dtypes as _dt  # noqa: PLC0415

        super().__init__("cpu", enabled=enabled, dtype=dtype or _dt.bfloat16,
                         cache_enabled=cache_enabled)


class GradScaler(_amp.GradScaler):
    """``torch.amp.GradScaler('cpu', ...)``, deprecated spelling (FutureWarning, as PyTorch)."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warnings.warn(
            "`torch.cpu.amp.GradScaler(args...)` is deprecated. Please use "
            "`torch.amp.GradScaler('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)
