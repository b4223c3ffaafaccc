"""Capturing the backward passes of running code: ``explaining`` and its ``Recorder``."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ...locale import strings
from .. import engine as _engine
from .. import sites as _sites
from ..stepper import (
    MAX_ELEMENTS,
    _user_frame,
)

if TYPE_CHECKING:
    pass
from .forms import _Names, loop_targets
from .narration import Explanation, _explain


# -- capturing the backward passes of running code ---------------------------------------------
class Recorder:
    """What ``explaining()`` captured: ``last`` (the last backward pass) and ``count``."""

    def __init__(self, lang: str, keep: int) -> None:
        self.lang = lang
        self.keep = keep
        self.explanations: list[Explanation] = []
        self.count = 0
        self.errors: list[str] = []

    @property
    def last(self) -> Explanation | None:
        """The explanation of the most recent backward pass, or None."""
        return self.explanations[-1] if self.explanations else None

    def _capture(self, tensors, grads, frame) -> None:
        self.count += 1
        scopes = [frame.f_globals, frame.f_locals] if frame is not None else []
        seeds_given = None
        if any(g is not None for g in grads):
            seeds_given = tuple(grads)
        names = _Names(scopes, loop_targets(frame))
        ex = _explain(tuple(tensors), seeds_given, names, self.lang, MAX_ELEMENTS)
        self.explanations.append(ex)
        del self.explanations[:-self.keep]


_recorders: list[Recorder] = []
_original_run_backward = None


def _capturing_run_backward(tensors, grads, retain_graph, create_graph, inputs=None,
                            accumulate=True, allow_unused=True):
    if accumulate and inputs is None and _recorders:
        rec = _recorders[-1]
        try:
            frame = _user_frame()
            # the engine's seeds for scalar outputs are ones: narrate them as backward() does
            given = [None if (g._data.size == 1 and t._data.size == 1 and float(g._data) == 1)
                     else g for t, g in zip(tensors, grads)]
            rec._capture(tensors, given, frame)
        except Exception as e:  # noqa: BLE001 - the real pass below reports real errors
            rec.errors.append(str(e))
    out = _original_run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs,
                                 accumulate=accumulate, allow_unused=allow_unused)
    if accumulate and inputs is None and _recorders and _recorders[-1].explanations:
        _recorders[-1].explanations[-1].applied = True
    return out


@contextlib.contextmanager
def explaining(lang: str = "en", keep: int = 1):
    """Record creation sites and capture each backward pass run inside the block.

    >>> import leafgrad
    >>> with explaining() as rec:
    ...     x = leafgrad.tensor([1.0, -2.0], requires_grad=True)
    ...     (x * x).sum().backward()
    >>> rec.last.grad_of(x)
    tensor([ 2., -4.])
    """
    global _original_run_backward
    strings(lang)
    rec = Recorder(lang, keep)
    if not _recorders:
        _original_run_backward = _engine.run_backward
        _engine.run_backward = _capturing_run_backward
    _recorders.append(rec)
    try:
        with _sites.recording_sites():
            yield rec
    finally:
        _recorders.remove(rec)
        if not _recorders:
            _engine.run_backward = _original_run_backward
