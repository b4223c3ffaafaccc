"""``Parameter`` (a Tensor a Module registers as learnable) and ``Buffer`` markers, as PyTorch's."""

from __future__ import annotations

import weakref

from ..tensor import Tensor, _wrap

__all__ = ["Parameter", "Buffer", "is_lazy"]


class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter when assigned as an attribute.

    It shares memory with ``data`` and is a leaf; ``requires_grad`` defaults to True.

    >>> import leafgrad
    >>> p = Parameter(leafgrad.zeros(2)); p
    Parameter containing:
    tensor([0., 0.], requires_grad=True)
    >>> isinstance(p, leafgrad.Tensor), p.is_leaf
    (True, True)
    """

    # no __slots__: like PyTorch's tensors, a Parameter accepts user attributes

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            from ..creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter(): expected a Tensor as data, got {type(data).__name__}\n"
                "Why: a Parameter wraps an existing tensor's memory; build one with "
                "torch.tensor(...) first."
            )
        p = object.__new__(cls)
        p._data = data._data  # NOTE: shares memory with data (PyTorch's _make_subclass)
        p._rg = False
        p.grad_fn = None
        p._out_nr = 0
        p._grad = None
        p._vc = data._shared_vc()
        p._x = None
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass  # all done in __new__ (Tensor.__init__ would treat data as a size)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo):
        # NOTE: as PyTorch's Parameter: a fresh clone of the data; grad and attributes are not
        # copied, and parameters sharing memory do not share it in the copy
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(_wrap(self._data.copy()), self._rg)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, proto):
        # the user's attributes travel (PyTorch's _rebuild_parameter_with_state); grad does not
        return (_rebuild_parameter, (_wrap(self._data), self._rg, dict(self.__dict__)))


def _rebuild_parameter(data: Tensor, requires_grad: bool, state: dict | None = None) -> Parameter:
    p = Parameter(data, requires_grad)
    if state:
        p.__dict__.update(state)
    return p


class _BufferMeta(type):
    # NOTE: as in PyTorch, ``Buffer(t)`` marks a plain tensor; isinstance checks the mark
    def __instancecheck__(cls, instance) -> bool:
        entry = _marked.get(id(instance))
        return entry is not None and entry[0]() is instance


class Buffer(metaclass=_BufferMeta):
    """Marks a tensor as a buffer when assigned to a Module attribute (PyTorch's ``nn.Buffer``).

    >>> import leafgrad
    >>> class M(leafgrad.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.stat = Buffer(leafgrad.zeros(1), persistent=False)
    >>> list(M().state_dict())
    []
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            from ..creation import empty

            data = empty(0)
        t = _wrap(data._data)
        t._vc = data._shared_vc()
        key = id(t)
        _marked[key] = (weakref.ref(t, lambda _r: _marked.pop(key, None)), persistent)
        return t


# Tensors have __slots__, so Buffer's marks live here, keyed by the tensor's id while it lives.
_marked: dict[int, tuple] = {}


def _buffer_mark(t) -> tuple[bool, bool]:
    """(is a Buffer, persistent) for ``t``."""
    entry = _marked.get(id(t))
    if entry is None or entry[0]() is not t:
        return False, True
    return True, entry[1]


def is_lazy(param) -> bool:
    """Whether ``param`` is an uninitialised (lazy) parameter; leafgrad has none yet."""
    return False
