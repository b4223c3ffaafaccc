"""``torch.amp``: ``autocast`` and ``GradScaler``, which leafgrad accepts but does not act on.

leafgrad has no mixed-precision kernels: every op computes in its inputs' dtype. So
``autocast`` changes nothing. Where PyTorch would disable it too (``'cuda'`` without CUDA, an
unsupported dtype) it warns as PyTorch does; where PyTorch would compute in bfloat16/float16
(``'cpu'``), leafgrad warns once that it computes in full precision instead, so results are more
precise than PyTorch's rather than silently different. ``GradScaler`` behaves as PyTorch's
disabled scaler (``scale`` returns the loss, ``step`` calls ``optimizer.step()``): gradients in
full precision need no scaling.

>>> import leafgrad, warnings
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     with leafgrad.autocast("cuda"):
...         (leafgrad.ones(2, 2) @ leafgrad.ones(2, 2)).dtype
torch.float32
"""

from __future__ import annotations

import functools
import warnings

__all__ = ["GradScaler", "autocast", "is_autocast_available"]

# PyTorch's device types (its error message lists them in this order)
_TORCH_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                       "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu",
                       "mtia", "privateuseone")
_warned_cpu = [False]


def _cuda_available() -> bool:
    from .. import cuda  # noqa: PLC0415 - torch.cuda loads on first use

    return cuda.is_available()


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast acts on ``device_type``: never in leafgrad (it has no low-precision path).

    >>> is_autocast_available("cpu")
    False
    """
    return False


class autocast:  # noqa: N801 - PyTorch's name
    """A context manager and decorator that leaves every op in full precision (see the module).

    >>> with autocast("cpu", enabled=False):
    ...     pass
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        kind = device_type.split(":", 1)[0]
        if kind not in _TORCH_DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(_TORCH_DEVICE_TYPES)} device type at start of "
                f"device string: {device_type}")
        from .. import dtypes as _dt  # noqa: PLC0415

        self.device = kind
        self.fast_dtype = dtype if dtype is not None else (
            _dt.bfloat16 if kind == "cpu" else _dt.float16)
        self._enabled = bool(enabled)
        if not self._enabled:
            return
        if kind == "cuda" and not _cuda_available():
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                          UserWarning, stacklevel=2)
            self._enabled = False
        elif kind == "cpu" and self.fast_dtype not in (_dt.bfloat16, _dt.float16):
            warnings.warn(
                "In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                UserWarning, stacklevel=2)
            self._enabled = False
        elif kind in ("cpu", "cuda") and not _warned_cpu[0]:
            _warned_cpu[0] = True
            warnings.warn(
                f"leafgrad does not implement autocast: inside torch.autocast('{kind}') ops keep "
                f"computing in their inputs' dtype, where PyTorch would run matmul, linear, conv "
                f"and friends in {self.fast_dtype}. Results are more precise than PyTorch's and "
                "can differ from them in the low bits (warned once)", UserWarning, stacklevel=2)
            self._enabled = False
        else:
            self._enabled = False

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper


class GradScaler:
    """PyTorch's loss scaler, always disabled: gradients in full precision need no scaling.

    Constructed for ``'cuda'`` without CUDA it warns as PyTorch does; enabled for a device where
    PyTorch would scale, it warns that leafgrad does not. Then ``scale(loss)`` is ``loss``,
    ``unscale_`` and ``update`` do nothing and ``step(optimizer)`` is ``optimizer.step()``, which
    gives PyTorch's parameters except where PyTorch would have skipped a step on an overflow.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     s = GradScaler("cpu")
    >>> s.is_enabled(), s.get_scale()
    (False, 1.0)
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = device
        self._init_scale = init_scale
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        if enabled and device == "cuda" and not _cuda_available():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", UserWarning, stacklevel=2)
        elif enabled:
            warnings.warn(
                f"leafgrad's GradScaler('{device}') does not scale: leafgrad has no float16 "
                "autocast, so gradients are computed in full precision and cannot underflow. "
                "scale() returns the loss unchanged and step() calls optimizer.step()",
                UserWarning, stacklevel=2)
        self._enabled = False

    def scale(self, outputs):
        """The outputs unchanged (a disabled scaler's scale is 1)."""
        return outputs

    def unscale_(self, optimizer) -> None:
        """Nothing to unscale."""
        return None

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)``."""
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        """Nothing to update."""
        return None

    def get_scale(self) -> float:
        """1.0, as PyTorch's disabled scaler."""
        return 1.0

    def is_enabled(self) -> bool:
        """False."""
        return self._enabled

    def get_growth_factor(self) -> float:
        """The growth factor given to the constructor."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Set the growth factor (kept, unused)."""
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        """The backoff factor given to the constructor."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Set the backoff factor (kept, unused)."""
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        """The growth interval given to the constructor."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Set the growth interval (kept, unused)."""
        self._growth_interval = new_interval

    def state_dict(self) -> dict:
        """``{}``, as PyTorch's disabled scaler."""
        return {}

    def load_state_dict(self, state_dict: dict) -> None:
        """Accept a saved scaler state (a disabled scaler has none to restore)."""
        return None
