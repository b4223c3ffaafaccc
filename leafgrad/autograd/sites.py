"""Where in the user's code each graph node was created (for explain, anomaly mode, errors).

Recording a site walks the Python stack, which is too slow to do for every op by default; it is
switched on by ``explain`` and anomaly detection, or by ``record_sites(True)``.
"""

from __future__ import annotations

import contextlib
import linecache
import os
import sys
import threading

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _State(threading.local):
    on = False


state = _State()


class _Count:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


# How many threads record sites or pack saved tensors (saved_tensors_hooks, graph.py). A plain
# global, so that an op's record checks one number; only when it is not 0 does it read the
# thread-local flags. NOTE: a thread that ends with sites on leaves it above 0: ops then take
# the slower path, never a wrong one.
EXTRAS = _Count()


def set_on(on: bool) -> bool:
    """Turn site recording on or off for this thread; returns the previous setting."""
    prev = state.on
    on = bool(on)
    if on != prev:
        state.on = on
        EXTRAS.n += 1 if on else -1
    return prev


class Site:
    """A source location: file, line number, function name and the line's text."""

    __slots__ = ("filename", "lineno", "function", "line")

    def __init__(self, filename: str, lineno: int, function: str) -> None:
        self.filename = filename
        self.lineno = lineno
        self.function = function
        self.line = linecache.getline(filename, lineno).strip()

    def __repr__(self) -> str:
        return f"{os.path.basename(self.filename)}:{self.lineno}: {self.line}"


def capture() -> Site | None:
    """The innermost stack frame outside the leafgrad package (the user's line)."""
    f = sys._getframe(1)
    while f is not None:
        fname = f.f_code.co_filename
        if not fname.startswith(_PKG_DIR):
            return Site(fname, f.f_lineno, f.f_code.co_name)
        f = f.f_back
    return None


def record_sites(on: bool = True) -> None:
    """Turn creation-site recording on or off for this thread.

    >>> record_sites(True); record_sites(False)
    """
    set_on(on)


@contextlib.contextmanager
def recording_sites():
    """Record creation sites inside this block (restores the previous setting on exit).

    >>> import leafgrad
    >>> with recording_sites():
    ...     y = leafgrad.ones(1, requires_grad=True) * 2
    >>> y.grad_fn._site.line.startswith("y = leafgrad.ones")
    True
    """
    prev = set_on(True)
    try:
        yield
    finally:
        set_on(prev)


def site_of(node) -> Site | None:
    """The creation site of a node, if it was recorded."""
    return getattr(node, "_site", None)
