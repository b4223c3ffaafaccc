"""``saved_tensors_hooks`` and ``save_on_cpu``: control how nodes store the tensors they save.

While a ``saved_tensors_hooks(pack, unpack)`` block is active (per thread, innermost wins),
every tensor a node saves for backward is passed to ``pack`` at record time and the node keeps
only what ``pack`` returned; ``unpack`` turns it back into a tensor each time backward (or
``ctx.saved_tensors`` / ``grad_fn._saved_*``) needs it. A node's packed state is a ``Packed``
object stored in its ``_vers`` slot (one of the states listed in ``leafgrad.autograd.node``):
the engine calls ``_check_saved``, which restores the tensors (and, as in PyTorch, skips the
in-place version check for them).
"""

from __future__ import annotations

import threading

from .node import Node
from .sites import EXTRAS

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "Node"]


class _State(threading.local):
    # stack of (pack, unpack); NOTE: thread-local as PyTorch's default hooks are
    stack: list = []
    disabled: str | None = None

    def __init__(self) -> None:
        self.stack = []
        self.disabled = None


state = _State()


def _current():
    if state.disabled is not None:
        raise RuntimeError(state.disabled)
    return state.stack[-1]


class _Saved:
    """One packed tensor plus the autograd identity the unpacked tensor must get back."""

    __slots__ = ("unpack", "packed", "rg", "grad_fn", "out_nr", "extras")

    def __init__(self, t, pack, unpack) -> None:
        self.unpack = unpack
        self.rg = t._rg
        self.grad_fn = t.grad_fn
        self.out_nr = t._out_nr
        # a leaf keeps its AccumulateGrad through its extras: share them so the unpacked
        # tensor reaches the same leaf when a backward is itself differentiated
        self.extras = t._x if t.grad_fn is None and t._rg else None
        # NOTE: as in PyTorch, ops inside a pack hook are not packed again (no recursion)
        stack = state.stack
        state.stack = []
        try:
            self.packed = pack(t)
        finally:
            state.stack = stack

    def get(self):
        from ..tensor import Tensor, _wrap

        u = self.unpack(self.packed)
        if not isinstance(u, Tensor):
            raise TypeError(
                "Output of saved tensor unpack_hook expected to be a Tensor but got result of "
                f"type {type(u).__name__}"
            )
        t = _wrap(u._data)
        t._rg = self.rg
        t.grad_fn = self.grad_fn
        t._out_nr = self.out_nr
        t._x = self.extras
        return t


class Packed:
    """A node's saved tensors as its active hooks packed them (stored in the node's ``_vers``)."""

    __slots__ = ("inputs", "out")

    def __init__(self, inputs, out) -> None:
        self.inputs = inputs  # tuple: _Saved for tensors, the value itself otherwise
        self.out = out        # _Saved or None

    def unpack_inputs(self) -> tuple | None:
        if self.inputs is None:
            return None
        return tuple(s.get() if s.__class__ is _Saved else s for s in self.inputs)

    def restore(self, node) -> None:
        """Put the unpacked tensors back on ``node`` (called right before its backward)."""
        node.inputs = self.unpack_inputs()
        if self.out is not None:
            node._out = self.out.get()._data


def pack_all(tensors: tuple) -> Packed:
    """Pack a tuple of tensors (None / non-tensors kept as they are) with the active hooks."""
    from ..tensor import Tensor

    pack, unpack = _current()
    return Packed(tuple(_Saved(t, pack, unpack) if isinstance(t, Tensor) else t
                        for t in tensors), None)


def pack_node(fn, out=None) -> None:
    """Pack what ``fn`` saved (``fn.inputs``, and ``out``, the output tensor, if saved).

    Called by the record functions while a ``saved_tensors_hooks`` block is active; afterwards
    the node holds only the packed values, and the engine restores them through
    ``_check_saved``.
    """
    from ..tensor import Tensor

    pack, unpack = _current()
    inputs = fn.inputs
    pi = None
    if inputs is not None:
        pi = tuple(_Saved(t, pack, unpack) if isinstance(t, Tensor) else t for t in inputs)
    po = _Saved(out, pack, unpack) if out is not None and fn._out is not None else None
    if po is not None:
        po.grad_fn, po.rg, po.out_nr = fn, True, 0  # the unpacked result is this node's output
    if pi is None and po is None:
        return
    fn.inputs = None
    fn._out = None
    fn._vers = Packed(pi, po)


class saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Context manager: pack every tensor saved for backward with ``pack``, restore with ``unpack``.

    >>> import leafgrad
    >>> x = leafgrad.ones(2, requires_grad=True)
    >>> with saved_tensors_hooks(lambda t: t * 1, lambda t: t):
    ...     y = x * x
    >>> y.sum().backward(); x.grad
    tensor([2., 2.])
    """

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        _current_check()
        state.stack.append((self.pack_hook, self.unpack_hook))
        EXTRAS.n += 1  # ops now take the record path that packs
        return self

    def __exit__(self, *exc) -> None:
        state.stack.pop()
        EXTRAS.n -= 1


def _current_check() -> None:
    if state.disabled is not None:
        raise RuntimeError(state.disabled)


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """Keep saved tensors on the CPU (a copy) and move them back to their device in backward.

    >>> import leafgrad
    >>> x = leafgrad.ones(2, requires_grad=True)
    >>> with save_on_cpu():
    ...     y = (x * x).sum()
    >>> y.backward(); x.grad
    tensor([2., 2.])
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        from .. import backend
        from ..tensor import _wrap

        def pack(t):
            # NOTE: like PyTorch's save_on_cpu, the saved copy is independent of the original
            return (t.device, _wrap(backend.move(t._data, backend.as_device("cpu")).copy()))

        def unpack(packed):
            device, t = packed
            return _wrap(backend.move(t._data, device))

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Inside this block, entering ``saved_tensors_hooks`` raises RuntimeError(error_message).

    >>> with disable_saved_tensors_hooks("no hooks here"):
    ...     pass
    """

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message
        self.prev = None

    def __enter__(self) -> None:
        self.prev = state.disabled
        state.disabled = self.error_message

    def __exit__(self, *exc) -> None:
        state.disabled = self.prev

