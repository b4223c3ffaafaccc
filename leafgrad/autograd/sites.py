"""Where in the user's code each graph node was created (for explain, anomaly mode, errors).

Recording a site walks the Python stack, which is too slow to do for every op by default; it is
switched on by ``explain`` and anomaly detection, or by ``record_sites(True)``. While it is on,
a site also keeps what explain shows of the node: the module calls running when it was made
(``Module.__call__`` pushes itself on ``state.scope`` only while recording is on, so the module
scope costs nothing otherwise), the node's output value, the names the user's code gave its
input tensors at that moment, and a sequence number (the forward order).
"""

from __future__ import annotations

import contextlib
import itertools
import linecache
import os
import sys
import threading

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _State(threading.local):
    on = False
    # the module calls running now, outermost first: ((module, call number), ...)
    scope: tuple = ()


state = _State()
_seq = itertools.count(1)  # creation order of recorded nodes (forward order)
_calls = itertools.count(1)  # numbers module calls, so two calls of one module stay apart


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
    """A source location (file, line number, function name, the line's text) and what explain
    shows of the node made there: ``scope`` (the module calls running), ``value`` (a ``Snap``
    of its output), ``names`` (the user's names of its inputs then) and ``seq``."""

    __slots__ = ("filename", "lineno", "function", "line", "scope", "value", "names", "seq")

    def __init__(self, filename: str, lineno: int, function: str, scope: tuple = (),
                 value=None, names: tuple = ()) -> None:
        self.filename = filename
        self.lineno = lineno
        self.function = function
        self.line = linecache.getline(filename, lineno).strip()
        self.scope = scope
        self.value = value
        self.names = names
        self.seq = next(_seq)

    def __repr__(self) -> str:
        return f"{os.path.basename(self.filename)}:{self.lineno}: {self.line}"


def capture(value=None, inputs: tuple = ()) -> Site | None:
    """The innermost stack frame outside the leafgrad package (the user's line).

    ``value`` (the node's output array) is kept as a ``Snap``; ``inputs`` are named from the
    user's local variables at this moment (a name bound to the tensor itself, else None).
    """
    f = sys._getframe(1)
    while f is not None:
        fname = f.f_code.co_filename
        if not fname.startswith(_PKG_DIR):
            snap = None
            if value is not None:
                from .stepper import Snap

                snap = Snap(value)
            return Site(fname, f.f_lineno, f.f_code.co_name, state.scope, snap,
                        _input_names(f, inputs) if inputs else ())
        f = f.f_back
    return None


def _input_names(frame, inputs: tuple) -> tuple:
    """For each input, the name a local variable of ``frame`` gives it (None if none does)."""
    want = {id(t): k for k, t in enumerate(inputs) if hasattr(t, "_data")}
    if not want:
        return ()
    names: list = [None] * len(inputs)
    for name, v in frame.f_locals.items():
        k = want.get(id(v))
        if k is not None and not name.startswith("_") and \
                (names[k] is None or len(name) < len(names[k])):
            names[k] = name
    return tuple(names)


def in_module(module, call, args: tuple, kwargs: dict):
    """Run ``call(*args, **kwargs)`` with ``module`` pushed on this thread's module scope."""
    st = state
    prev = st.scope
    st.scope = prev + ((module, next(_calls)),)
    try:
        return call(*args, **kwargs)
    finally:
        st.scope = prev


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
