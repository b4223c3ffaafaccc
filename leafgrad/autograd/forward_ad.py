"""Forward-mode AD (``dual_level``, ``make_dual``, ``unpack_dual``), derived from reverse mode.

How it works (no per-op forward rules, so every differentiable op is supported):

- ``make_dual(p, t)`` returns a leaf sharing ``p``'s memory that *requires grad*, and registers
  ``t`` as its tangent for the current level. Ops on it are then recorded as usual.
- ``unpack_dual(y)`` computes y's tangent ``sum_k J_k t_k`` (J_k = dy/d dual_k) by the
  double-vjp trick: with a dummy cotangent u (zeros that require grad), the vjp
  ``g_k(u) = J_k^T u`` is linear in u, so differentiating ``sum_k <g_k(u), t_k>`` by u gives
  ``sum_k J_k t_k``. That is two reverse passes with ``create_graph`` over the part of the graph
  between the duals and ``y``.

Cost and differences from PyTorch: each ``unpack_dual`` of a computed tensor costs about three
backward passes over y's graph (the first builds a graph of the backward), instead of one
forward-mode sweep; the forward pass keeps the graph alive (memory as in reverse mode); and
tensors computed from duals report ``requires_grad=True`` (PyTorch's report False).
"""

from __future__ import annotations

import collections
import contextlib
import weakref

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]

UnpackedDualTensor = collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = "What ``unpack_dual`` returns: ``primal`` and ``tangent``."


class _Level:
    __slots__ = ("idx", "duals")

    def __init__(self, idx: int) -> None:
        self.idx = idx
        self.duals: dict = {}  # id(dual) -> (weakref to dual, tangent)


_current: _Level | None = None


def enter_dual_level() -> int:
    """Enter a new forward-AD level (only one at a time, as in PyTorch) and return its index.

    >>> exit_dual_level(level=enter_dual_level())
    """
    global _current
    if _current is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current = _Level(0)
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Leave the current level; its tangents are forgotten.

    >>> exit_dual_level(level=enter_dual_level())
    """
    global _current
    if _current is None or (level is not None and level != _current.idx):
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. "
            "This is not supported."
        )
    _current = None


@contextlib.contextmanager
def dual_level():
    """Context manager: dual tensors made inside carry tangents until the block ends.

    >>> import leafgrad
    >>> with dual_level():
    ...     x = make_dual(leafgrad.tensor([1.0, 2.0]), leafgrad.tensor([1.0, 0.0]))
    ...     unpack_dual(x * x).tangent
    tensor([2., 0.])
    """
    level = enter_dual_level()
    try:
        yield level
    finally:
        exit_dual_level(level=level)


def make_dual(tensor, tangent, *, level: int | None = None):
    """A tensor with ``tensor``'s values whose forward gradient is ``tangent``.

    >>> import leafgrad
    >>> with dual_level():
    ...     unpack_dual(make_dual(leafgrad.ones(2), leafgrad.zeros(2))).tangent
    tensor([0., 0.])
    """
    from ..tensor import _wrap

    if _current is None:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to "
            "enter_dual_level() first."
        )
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}."
        )
    if not tensor.dtype.is_floating_point:
        raise ValueError(
            f"Expected primal to be floating point or complex, but got: {tensor.dtype}"
        )
    dual = _wrap(tensor._data)
    dual._vc = tensor._shared_vc()  # in-place changes to the primal stay visible
    dual._rg = True
    if tangent.dtype != tensor.dtype:
        tangent = tangent.to(tensor.dtype)
    _current.duals[id(dual)] = (weakref.ref(dual), tangent.detach())
    return dual


def unpack_dual(tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of a tensor; the tangent is None when it does not depend on a dual.

    >>> import leafgrad
    >>> unpack_dual(leafgrad.ones(1)).tangent is None
    True
    """
    from .. import zeros_like
    from .engine import grad as _grad

    lv = _current
    if lv is None:
        return UnpackedDualTensor(tensor, None)
    entry = lv.duals.get(id(tensor))
    if entry is not None and entry[0]() is tensor:
        return UnpackedDualTensor(tensor.detach(), entry[1])
    primal = tensor.detach()
    if not tensor.requires_grad or tensor.grad_fn is None:
        return UnpackedDualTensor(primal, None)
    duals, tangents = [], []
    for ref, tan in list(lv.duals.values()):
        d = ref()
        if d is not None:
            duals.append(d)
            tangents.append(tan)
    if not duals:
        return UnpackedDualTensor(primal, None)
    u = zeros_like(primal).requires_grad_(True)
    gs = _grad(tensor, duals, u, retain_graph=True, create_graph=True, allow_unused=True)
    pairs = [(g, t) for g, t in zip(gs, tangents) if g is not None and g.requires_grad]
    if not pairs:
        if any(g is not None for g in gs):
            return UnpackedDualTensor(primal, zeros_like(primal))
        return UnpackedDualTensor(primal, None)
    (jv,) = _grad([g for g, _ in pairs], u, [t for _, t in pairs], allow_unused=True)
    if jv is None:
        jv = zeros_like(primal)
    return UnpackedDualTensor(primal, jv.detach())
