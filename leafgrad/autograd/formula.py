"""Evaluate an op's ``formula`` (the text ``explain`` prints) on real tensors."""

from __future__ import annotations

import math


def namespace() -> dict:
    """Names a formula may call, beyond Tensor methods and operators: the two-mode vocabulary
    of ``leafgrad.ops.dual`` (what backward code calls), the ops' own derivative helpers."""
    from ..ops import dual
    from ..ops.linalg.formulas import FORMULA_HELPERS as linalg_helpers
    from ..ops.reduce.formulas import FORMULA_HELPERS as reduce_helpers

    ns = {name: getattr(dual, name) for name in dual.__all__}
    ns.update(reduce_helpers)
    ns.update(linalg_helpers)
    # the single-module op families (nn: activation, loss, normalization, ...) export theirs
    import importlib
    import pkgutil

    from .. import ops as ops_pkg

    for info in pkgutil.iter_modules(ops_pkg.__path__):
        if not info.ispkg:
            mod = importlib.import_module(f"{ops_pkg.__name__}.{info.name}")
            ns.update(getattr(mod, "FORMULA_HELPERS", {}))
    ns["math"] = math
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
