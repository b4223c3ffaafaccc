"""Anomaly mode: record where each node was created and fail on NaN gradients, naming the node.

While on, the record functions store each node's creation site (``leafgrad.autograd.sites``),
and the engine passes every node's backward results to ``check_backward_outputs``, which raises
PyTorch's error for NaN values after warning with the forward line that created the node.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from . import sites as _sites

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "check_backward_outputs"]


class _State:
    # NOTE: global, not thread-local, as PyTorch's AnomalyMode is
    __slots__ = ("enabled", "check_nan")

    def __init__(self) -> None:
        self.enabled = False
        self.check_nan = True


state = _State()


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on.

    >>> is_anomaly_enabled()
    False
    """
    return state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks backward outputs for NaN.

    >>> is_anomaly_check_nan_enabled()
    True
    """
    return state.check_nan


def _set(enabled: bool, check_nan: bool) -> None:
    state.enabled = bool(enabled)
    state.check_nan = bool(check_nan)
    # sites are recorded per thread: this thread's ops get their creation line
    _sites.set_on(enabled)


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Context manager / decorator: anomaly detection on inside (warns that it is slow).

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     with detect_anomaly():
    ...         is_anomaly_enabled()
    True
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self.prev = (False, True, False)
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should "
            "only be enabled for debugging.", UserWarning, stacklevel=2,
        )

    def __enter__(self) -> None:
        self.prev = (state.enabled, state.check_nan, _sites.state.on)
        _set(True, self.check_nan)

    def __exit__(self, *exc) -> None:
        state.enabled, state.check_nan = self.prev[:2]
        _sites.set_on(self.prev[2])

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = (state.enabled, state.check_nan, _sites.state.on)
            _set(True, self.check_nan)
            try:
                return func(*args, **kwargs)
            finally:
                state.enabled, state.check_nan = prev[:2]
                _sites.set_on(prev[2])

        return wrapper


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Turn anomaly detection on or off at once; as a context manager, restore on exit.

    >>> _ = set_detect_anomaly(True); is_anomaly_enabled()
    True
    >>> _ = set_detect_anomaly(False); is_anomaly_enabled()
    False
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = (state.enabled, state.check_nan, _sites.state.on)
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        state.enabled, state.check_nan = self.prev[:2]
        _sites.set_on(self.prev[2])


def _has_nan(r) -> bool:
    a = getattr(r, "_data", r)
    return a.dtype.kind in "fc" and bool(np.isnan(a).any())


def forward_trace(node) -> str:
    """The creation site of ``node`` as a traceback line, or a hint when none was recorded."""
    site = _sites.site_of(node)
    if site is None:
        return ("No forward pass information available. Enable detect anomaly during forward "
                "pass for more information.")
    return f'  File "{site.filename}", line {site.lineno}, in {site.function}\n    {site.line}\n'


def check_backward_outputs(node, results: tuple) -> None:
    """Raise if anomaly mode checks NaN and ``node``'s backward returned NaN (called by engine).

    >>> check_backward_outputs(None, (np.ones(2),))
    """
    if not state.check_nan:
        return
    for i, r in enumerate(results):
        if r is not None and _has_nan(r):
            # NOTE: PyTorch warns with the forward traceback, then raises naming the node
            warnings.warn(
                f"Error detected in {node.name()}. Traceback of forward call that caused the "
                f"error:\n{forward_trace(node)}", UserWarning, stacklevel=2,
            )
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {i}th output.\n"
                f"The node was created at:\n{forward_trace(node)}"
            )
