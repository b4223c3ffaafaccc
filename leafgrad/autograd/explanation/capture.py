"""Capturing the backward passes of running code: ``explaining`` and its ``Recorder``."""

from __future__ import annotations

import contextlib

from ...locale import strings
from .. import engine as _engine
from .. import sites as _sites
from ..stepper import MAX_ELEMENTS, StepMaker, _user_frame
from .forms import _Names, _scalar_form, loop_targets
from .narration import Explanation, _prepare_names


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


class _PassNarrator(StepMaker):
    """Observes one real backward pass (``engine.Pass.observe``) and narrates it when done.

    Narration never breaks the pass: an error in it is kept in ``Recorder.errors`` and the rest
    of the pass goes unobserved.
    """

    def __init__(self, rec: Recorder, tensors, grads, frame) -> None:
        roots = _engine.graph_roots(tensors)
        super().__init__(MAX_ELEMENTS, len(_engine.count_consumers(roots)))
        self.rec = rec
        self.tensors = tuple(tensors)
        self.seeds = [g._data for g in grads]
        # the engine's seeds for scalar outputs are ones: narrate them as backward() does
        self.seed_given = any(not (g._data.size == 1 and t._data.size == 1
                                   and float(g._data) == 1) for t, g in zip(tensors, grads))
        self.names = _Names([frame.f_globals, frame.f_locals] if frame is not None else [],
                            loop_targets(frame))
        self.form = None
        if len(tensors) == 1 and tensors[0]._data.size == 1 and not self.seed_given:
            self.form = _scalar_form(roots[0][0], roots[0][1], self.names)  # before any freeing
        self.seed(roots, self.seeds)
        self.failed = False

    def node(self, fn, g, raw, fitted) -> None:
        if not self.failed:
            self._guard(super().node, fn, g, raw, fitted)

    def leaf(self, fn, g) -> None:
        if not self.failed:
            self._guard(super().leaf, fn, g)

    def _guard(self, f, *args) -> None:
        try:
            f(*args)
        except Exception as e:  # noqa: BLE001 - the pass itself must go on
            self.failed = True
            self.rec.errors.append(str(e))

    def done(self) -> None:
        """The pass has run: keep its explanation."""
        rec = self.rec
        rec.count += 1
        if self.failed:
            return
        try:
            _prepare_names(self.steps, self.names)  # as _explain does, before narrating
            ex = Explanation(self.tensors, self.seeds, self.steps, self.names, rec.lang,
                             MAX_ELEMENTS, self.form, seed_given=self.seed_given)
        except Exception as e:  # noqa: BLE001 - the pass has run; only its narration is lost
            rec.errors.append(str(e))
            return
        ex.applied = True
        rec.explanations.append(ex)
        del rec.explanations[:-rec.keep]


_recorders: list[Recorder] = []


def _begin(tensors, grads) -> _PassNarrator | None:
    """``engine.capture`` while ``explaining()`` is active: an observer of this pass."""
    rec = _recorders[-1]
    try:
        return _PassNarrator(rec, tensors, grads, _user_frame())
    except Exception as e:  # noqa: BLE001 - the real pass below reports real errors
        rec.count += 1
        rec.errors.append(str(e))
        return None


@contextlib.contextmanager
def explaining(lang: str = "en", keep: int = 1):
    """Record creation sites and narrate each backward pass run inside the block.

    >>> import leafgrad
    >>> with explaining() as rec:
    ...     x = leafgrad.tensor([1.0, -2.0], requires_grad=True)
    ...     (x * x).sum().backward()
    >>> rec.last.grad_of(x)
    tensor([ 2., -4.])
    """
    strings(lang)
    rec = Recorder(lang, keep)
    _recorders.append(rec)
    _engine.capture = _begin
    try:
        with _sites.recording_sites():
            yield rec
    finally:
        _recorders.remove(rec)
        if not _recorders:
            _engine.capture = None
