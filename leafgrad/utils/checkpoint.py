"""Activation checkpointing: run a segment without saving its intermediates, recompute in backward.

``checkpoint(fn, *args)`` runs ``fn`` under no_grad inside a custom Function that saves only
the tensor arguments. Its backward restores the RNG state of the forward (so dropout draws the
same mask), reruns ``fn`` with grad mode on, and backpropagates through that fresh graph:
gradients reach the arguments (returned) and any parameters ``fn`` closes over (accumulated
into their ``.grad`` by the inner backward, as PyTorch's reentrant checkpoint does).

NOTE: leafgrad runs the same recomputing Function for ``use_reentrant=True`` and ``False``
(PyTorch's non-reentrant variant is built on saved-tensor hooks instead); gradients agree, and
the output's ``grad_fn`` is ``CheckpointFunctionBackward`` in both cases.
"""

from __future__ import annotations

import functools
import warnings

from ..autograd.engine import backward as _backward
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad

__all__ = ["checkpoint", "checkpoint_sequential"]


def _is_tensor(x) -> bool:
    from ..tensor import Tensor

    return isinstance(x, Tensor)


class CheckpointFunction(Function):
    """The node of one checkpointed segment: saves the inputs only, recomputes in backward."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        from .. import random as _random

        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        if preserve_rng_state:
            ctx.fwd_rng_state = _random.get_rng_state()
        ctx.tensor_indices = [i for i, a in enumerate(args) if _is_tensor(a)]
        ctx.args = [None if _is_tensor(a) else a for a in args]
        ctx.save_for_backward(*(a for a in args if _is_tensor(a)))
        return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        from .. import random as _random

        inputs = list(ctx.args)
        tensors = ctx.saved_tensors
        for i, t in zip(ctx.tensor_indices, tensors):
            d = t.detach()
            d.requires_grad_(t.requires_grad)
            inputs[i] = d
        state = None
        if ctx.preserve_rng_state:
            state = _random.get_rng_state()
            _random.set_rng_state(ctx.fwd_rng_state)
        try:
            with enable_grad():
                outputs = ctx.run_function(*inputs)
        finally:
            if state is not None:
                _random.set_rng_state(state)
        if _is_tensor(outputs):
            outputs = (outputs,)
        outs, gs = [], []
        for o, g in zip(outputs, grads):
            if _is_tensor(o) and o.requires_grad and g is not None:
                outs.append(o)
                gs.append(g)
        if not outs:
            raise RuntimeError(
                "none of output has requires_grad=True, this checkpoint() is not necessary"
            )
        _backward(outs, gs)
        return (None, None) + tuple(
            inp.grad if _is_tensor(inp) else None for inp in inputs)


def checkpoint(function, *args, use_reentrant: bool | None = None, context_fn=None,
               determinism_check: str = "default", debug: bool = False,
               preserve_rng_state: bool = True, **kwargs):
    """Run ``function(*args)`` without keeping its intermediates; recompute them in backward.

    >>> import leafgrad
    >>> x = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> checkpoint(lambda t: (t * t).sin(), x, use_reentrant=False).sum().backward()
    >>> x.grad
    tensor([ 1.0806, -2.6146])
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", UserWarning, stacklevel=2,
        )
        use_reentrant = True
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not None:
            raise ValueError("Passing `context_fn` is only supported when use_reentrant=False.")
    elif kwargs:
        function = functools.partial(function, **kwargs)
    return CheckpointFunction.apply(function, preserve_rng_state, *args)


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None,
                          **kwargs):
    """Checkpoint a sequence of functions (or a Sequential) in ``segments`` chunks.

    >>> import leafgrad
    >>> x = leafgrad.tensor([1.0], requires_grad=True)
    >>> checkpoint_sequential([lambda t: t * 2, lambda t: t * 3], 2, x, use_reentrant=False)
    tensor([6.], grad_fn=<MulBackward0>)
    """
    if hasattr(functions, "children"):
        functions = list(functions.children())
    functions = list(functions)

    def run(start, end):
        def fwd(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return fwd

    seg = len(functions) // segments
    end = -1
    for start in range(0, seg * (segments - 1), seg):
        end = start + seg - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run(end + 1, len(functions) - 1)(input)
