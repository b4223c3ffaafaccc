"""Autograd Functions used by modules: the identity node that carries full backward hooks."""

from __future__ import annotations

from ...autograd.function import Function


class BackwardHookFunction(Function):
    """Identity on tensors; its node (``BackwardHookFunctionBackward``) hosts Module hooks."""

    @staticmethod
    def forward(ctx, *args):
        ctx.mark_non_differentiable(*[a for a in args if not a.requires_grad])
        return args

    @staticmethod
    def backward(ctx, *args):
        return args
