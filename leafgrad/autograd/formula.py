"""Evaluate an op's ``formula`` (the text ``explain`` prints) on real tensors."""

from __future__ import annotations

import math


def _inverse(dims: tuple) -> tuple:
    inv = [0] * len(dims)
    for i, d in enumerate(dims):
        inv[d] = i
    return tuple(inv)


def namespace() -> dict:
    """Helpers a formula may call, beyond Tensor methods and operators."""
    from ..ops.elementwise import threshold_backward, where
    from ..ops.movement import _d_diag_scatter, _embed, _put
    from ..ops.reduce import _expand_back
    from ..tensor import _wrap
    from .engine import sum_to

    def put(g, index, value):
        return _put(g, index, _wrap(g._data.dtype.type(value)) if not hasattr(
            value, "_data") else value)

    import importlib
    import pkgutil

    from .. import ops as _ops_pkg

    ns = {
        "math": math, "where": where, "threshold_backward": threshold_backward,
        "sum_to": sum_to, "expand_back": _expand_back,
        "embed": lambda g, shape, index, acc=False: _embed(g, shape, index, acc),
        "put": put, "inverse": _inverse, "diag_scatter": _d_diag_scatter,
    }
    # each op module may export the dual helpers its formulas call
    for info in pkgutil.iter_modules(_ops_pkg.__path__):
        mod = importlib.import_module(f"{_ops_pkg.__name__}.{info.name}")
        ns.update(getattr(mod, "FORMULA_HELPERS", {}))
    return ns


def evaluate(node, key: str, grad, inputs: tuple | None = None):
    """The gradient for input ``key`` of ``node`` as its formula computes it.

    ``inputs`` supplies forward inputs for ops that did not save them (in formula-key order).

    >>> import leafgrad
    >>> x = leafgrad.tensor([1.0, 2.0], requires_grad=True); y = x * x
    >>> evaluate(y.grad_fn, "a", leafgrad.ones(2))
    tensor([1., 2.], grad_fn=<MulBackward0>)
    """
    ns = namespace()
    names = list(node.formula)
    saved = node.inputs if node.inputs is not None else inputs
    if saved is not None:
        ns.update(zip(names, saved))
    for cls in type(node).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if slot.startswith("_") or slot in ("inputs", "next_functions"):
                continue
            if hasattr(node, slot):
                ns[slot] = getattr(node, slot)
    if node._out is not None:
        ns["out"] = node.out
    ns["grad"] = grad
    return eval(node.formula[key], ns)  # noqa: S307 - formulas are our own source text
