"""Evaluate an op's ``formula`` (the text ``explain`` prints) on real tensors."""

from __future__ import annotations

import math


def namespace() -> dict:
    """Names a formula may call, beyond Tensor methods and operators: the two-mode vocabulary
    of ``leafgrad.ops.dual`` (what backward code calls), then the ops' own derivative helpers
    (each op module that has some lists them in ``FORMULA_HELPERS``, imported here by name)."""
    from ..ops import (
        activation,
        attention,
        distance,
        dual,
        embedding,
        loss,
        loss_extra,
        normalization,
        rnn,
    )
    from ..ops.linalg import formulas as linalg_formulas
    from ..ops.reduce import formulas as reduce_formulas

    ns = {name: getattr(dual, name) for name in dual.__all__}
    for mod in (reduce_formulas, linalg_formulas, activation, attention, distance, embedding,
                loss, loss_extra, normalization, rnn):
        ns.update(mod.FORMULA_HELPERS)
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
        ns["inputs"] = tuple(saved)  # all of them, for a variadic op's formula (einsum)
    for cls in type(node).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if slot.startswith("_") or slot in ("inputs", "next_functions", "needs_input_grad"):
                continue
            if hasattr(node, slot):
                ns[slot] = getattr(node, slot)
    if node._out is not None:
        ns["out"] = node.out
    ns["grad"] = grad
    return eval(node.formula[key], ns)  # noqa: S307 - formulas are our own source text
