"""Flatten parameters into one vector and back."""

from __future__ import annotations

from collections.abc import Iterable

from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_param_device(param: Tensor, old_param_device: int | None) -> int:
    on_gpu = param.device.type == "cuda"
    if old_param_device is None:
        return (param.device.index or 0) if on_gpu else -1
    warn = (param.device.index or 0) != old_param_device if on_gpu else old_param_device != -1
    if warn:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return old_param_device


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-d tensor.

    >>> import leafgrad
    >>> parameters_to_vector([leafgrad.ones(2), leafgrad.zeros(1, 2)])
    tensor([1., 1., 0., 0.])
    """
    from ...methods.shape import cat

    param_device = None
    vec = []
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        vec.append(param.view(-1))
    return cat(vec)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Slice ``vec`` into the parameters' shapes and make those slices their data.

    >>> import leafgrad
    >>> ps = [leafgrad.zeros(2), leafgrad.zeros(1)]
    >>> vector_to_parameters(leafgrad.tensor([1.0, 2.0, 3.0]), ps); ps
    [tensor([1., 2.]), tensor([3.])]
    """
    if not isinstance(vec, Tensor):
        from ..modules.module import _typename

        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    param_device = None
    pointer = 0
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
