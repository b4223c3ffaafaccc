"""``autograd.functional``: jacobian, hessian, vjp, jvp, hvp and vhp of a function of tensors.

Everything is built from ``autograd.grad``. ``jvp`` uses the double-vjp trick (the vjp is linear
in its cotangent u, so differentiating ``u -> J^T u`` by u against v gives ``J v``); ``vectorize``
is accepted and runs the same per-row loop.
"""

from __future__ import annotations

from .engine import grad as _grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _tensor_cls():
    from ..tensor import Tensor

    return Tensor


def _as_tuple(inp, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    Tensor = _tensor_cls()
    if isinstance(inp, Tensor):
        return False, (inp,)
    if not isinstance(inp, tuple):
        if arg_name == "outputs of the user-provided function":
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors"
                f" but the given {arg_name} has type {type(inp)}."
            )
        raise TypeError(
            f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but"
            f" the given {arg_name} has type {type(inp)}."
        )
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors"
                f" but the value at index {i} has type {type(el)}."
            )
    return True, inp


def _outputs(func, inputs, fn_name: str) -> tuple[bool, tuple]:
    out = func(*inputs)
    Tensor = _tensor_cls()
    if not isinstance(out, (Tensor, tuple)):
        raise TypeError(
            f"The outputs of the user-provided function given to {fn_name} must be either a Tensor"
            f" or a tuple of Tensors but the given outputs of the user-provided function has type "
            f"{type(out)}."
        )
    return _as_tuple(out, "outputs of the user-provided function", fn_name)


def _prep(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Inputs as fresh tensors that require grad (linked to the originals with create_graph)."""
    res = []
    for x in inputs:
        if create_graph and x.requires_grad:
            res.append(x * 1)  # a new non-leaf linked to x (PyTorch uses view_as)
        else:
            res.append(x.detach().requires_grad_(need_graph))
    return tuple(res)


def _post(xs, create_graph: bool):
    if isinstance(xs, tuple):
        return tuple(_post(x, create_graph) for x in xs)
    return xs if create_graph else xs.detach()


def _validate_v(v: tuple, other: tuple, is_tuple: bool) -> None:
    if len(v) != len(other):
        raise RuntimeError(
            f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
        )
    for i, (a, b) in enumerate(zip(v, other)):
        if a.shape != b.shape:
            pre = f"Entry {i} in " if is_tuple else ""
            raise RuntimeError(
                f"{pre}v has invalid size: should be {b.shape} but got {a.shape}."
            )


def _check_requires_grad(outputs: tuple, kind: str, strict: bool) -> None:
    if not strict:
        return
    for i, o in enumerate(outputs):
        if o is None or not o.requires_grad:
            if kind == "hessian":
                raise RuntimeError(
                    f"The hessian of the user-provided function with respect to input {i} is "
                    "independent of the input. This is not allowed in strict mode."
                )
            if kind == "outputs":
                raise RuntimeError(
                    f"Output {i} of the user-provided function does not require gradients. The "
                    "outputs must be computed in a differentiable manner from the input when "
                    "running in strict mode."
                )
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. This is "
                "not allowed in strict mode."
            )


def _autograd_grad(outputs, inputs, grad_outputs, create_graph: bool) -> tuple:
    """``autograd.grad`` that skips outputs not requiring grad (their gradient is None)."""
    outs, gos = [], []
    for o, g in zip(outputs, grad_outputs):
        if o is not None and o.requires_grad:
            outs.append(o)
            gos.append(g)
    if not outs:
        return (None,) * len(inputs)
    return _grad(outs, inputs, gos, create_graph=create_graph, retain_graph=True,
                 allow_unused=True)


def _second_pass(firsts, wrt, v, create_graph: bool) -> tuple:
    """Differentiate the first-pass gradients ``firsts`` against ``v``, w.r.t. ``wrt``."""
    pairs = [(f, vi) for f, vi in zip(firsts, v) if f is not None and f.requires_grad]
    if not pairs:
        return (None,) * len(wrt)
    return _grad([p[0] for p in pairs], wrt, [p[1] for p in pairs], create_graph=create_graph,
                 retain_graph=True, allow_unused=True)


def _fill_zeros(grads, refs, strict: bool, create_graph: bool, kind: str) -> tuple:
    from .. import zeros_like

    res = []
    for i, (g, r) in enumerate(zip(grads, refs)):
        if g is None:
            if strict and kind != "none":
                raise RuntimeError(
                    f"The output of the user-provided function is independent of input {i}. "
                    "This is not allowed in strict mode."
                    if kind == "back" else
                    "The gradient with respect to the input is independent of entry "
                    f"{i} in the grad_outputs when using the double backward trick to compute "
                    "forward mode gradients. This is not allowed in strict mode."
                )
            g = zeros_like(r)
        res.append(g)
    return tuple(res)


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product of ``func`` at ``inputs``.

    >>> import leafgrad
    >>> vjp(lambda x: x * x, leafgrad.tensor([1.0, 2.0]), leafgrad.ones(2))[1]
    tensor([2., 4.])
    """
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prep(inputs, create_graph, True)
        is_out_tuple, outputs = _outputs(func, inputs, "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        if v is not None:
            _, v = _as_tuple(v, "v", "vjp")
            v = _prep(v, create_graph, False)
            _validate_v(v, outputs, is_out_tuple)
        else:
            if len(outputs) != 1 or outputs[0].numel() != 1:
                raise RuntimeError(
                    "The vector v can only be None if the user-provided function returns a "
                    "single Tensor with a single element."
                )
            v = (None,)
        grads = _autograd_grad(outputs, inputs, v, create_graph)
        vj = _fill_zeros(grads, inputs, strict, create_graph, "back")
    out = _post(outputs, create_graph)
    vj = _post(vj, create_graph)
    return (out if is_out_tuple else out[0]), (vj if is_in_tuple else vj[0])


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), J v)``: the Jacobian-vector product (by the double-vjp trick).

    >>> import leafgrad
    >>> jvp(lambda x: x * x, leafgrad.tensor([1.0, 2.0]), leafgrad.ones(2))[1]
    tensor([2., 4.])
    """
    from .. import zeros_like

    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prep(inputs, create_graph, True)
        if v is not None:
            _, v = _as_tuple(v, "v", "jvp")
            v = _prep(v, create_graph, False)
            _validate_v(v, inputs, is_in_tuple)
        else:
            if len(inputs) != 1 or inputs[0].numel() != 1:
                raise RuntimeError(
                    "The vector v can only be None if the input to the user-provided function "
                    "is a single Tensor with a single element."
                )
        is_out_tuple, outputs = _outputs(func, inputs, "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        # NOTE: PyTorch's double-backward trick: u -> J^T u is linear in u, so d/du (J^T u)^T v
        # is J v. u must require grad; its value does not matter.
        us = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        g = _autograd_grad(outputs, inputs, us, create_graph=True)
        _check_requires_grad(g, "back", strict)
        if v is None:
            from .. import ones_like

            v = (ones_like(inputs[0]),)
        jv = _fill_zeros(_second_pass(g, us, v, create_graph), outputs, strict, create_graph,
                         "double")
    out = _post(outputs, create_graph)
    jv = _post(jv, create_graph)
    return (out if is_out_tuple else out[0]), (jv if is_out_tuple else jv[0])


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: shape ``output.shape + input.shape`` per pair.

    >>> import leafgrad
    >>> jacobian(lambda x: x * x, leafgrad.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    from .. import zeros

    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and `strategy=\"forward-"
                "mode\"` are not supported together (yet). Please either set `create_graph=False`"
                " or `strategy=\"reverse-mode\"`."
            )
        if not vectorize:
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                "only implemented for `vectorize=True`."
            )
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prep(inputs, create_graph, True)
        is_out_tuple, outputs = _outputs(func, inputs, "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        jac = []
        for i, out in enumerate(outputs):
            flat = out.reshape(-1)
            rows: list[list] = [[] for _ in inputs]
            for j in range(flat.numel()):
                if out.requires_grad:
                    gs = _grad(flat[j], inputs, retain_graph=True, create_graph=create_graph,
                               allow_unused=True)
                else:
                    gs = (None,) * len(inputs)
                for k, (g, x) in enumerate(zip(gs, inputs)):
                    if g is None:
                        if strict and out.requires_grad:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {k}. This is not allowed in strict mode."
                            )
                        g = zeros(x.shape, dtype=x.dtype)
                    rows[k].append(g)
            per_in = []
            for k, x in enumerate(inputs):
                if rows[k]:
                    j_ik = _stack(rows[k]).reshape(tuple(out.shape) + tuple(x.shape))
                else:
                    j_ik = zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype)
                per_in.append(_post(j_ik, create_graph))
            jac.append(tuple(per_in) if is_in_tuple else per_in[0])
    return tuple(jac) if is_out_tuple else jac[0]


def _stack(rows: list):
    """Stack equally shaped tensors along a new dim 0, differentiably."""
    import leafgrad

    if hasattr(leafgrad, "stack"):
        return leafgrad.stack(rows)
    # NOTE: without a stack op, sum one-hot outer products: differentiable in every row
    import numpy as np

    from ..tensor import _wrap

    n = len(rows)
    out = None
    for j, r in enumerate(rows):
        e = np.zeros((n,) + (1,) * r.dim(), dtype=r._data.dtype)
        e[j] = 1
        term = _wrap(e) * r.unsqueeze(0)
        out = term if out is None else out + term
    return out


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of scalar ``func`` at ``inputs`` (the Jacobian of its gradient).

    >>> import leafgrad
    >>> hessian(lambda x: (x ** 3).sum(), leafgrad.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar_func(*inp):
        out = func(*inp)
        is_tuple, t = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if is_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if t[0].numel() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single "
                "element"
            )
        return t[0].squeeze()

    def jac_func(*inp):
        return jacobian(scalar_func, inp, create_graph=True, strict=strict)

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return res if is_in_tuple else res[0][0]


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T H)`` for scalar ``func``.

    >>> import leafgrad
    >>> vhp(lambda x: (x ** 3).sum(), leafgrad.tensor([1.0, 2.0]), leafgrad.ones(2))[1]
    tensor([ 6., 12.])
    """
    return _hess_prod(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), H v)`` for scalar ``func``.

    NOTE: the Hessian of a twice-differentiable function is symmetric, so H v = (v^T H)^T; we
    compute it with one double backward, as PyTorch's docs suggest vhp for speed.

    >>> import leafgrad
    >>> hvp(lambda x: (x ** 3).sum(), leafgrad.tensor([1.0, 2.0]), leafgrad.ones(2))[1]
    tensor([ 6., 12.])
    """
    return _hess_prod(func, inputs, v, create_graph, strict, "hvp")


def _hess_prod(func, inputs, v, create_graph: bool, strict: bool, name: str):
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", name)
        inputs = _prep(inputs, create_graph, True)
        if v is not None:
            _, v = _as_tuple(v, "v", name)
            v = _prep(v, create_graph, False)
            _validate_v(v, inputs, is_in_tuple)
        else:
            if len(inputs) != 1 or inputs[0].numel() != 1:
                raise RuntimeError(
                    "The vector v can only be None if the input to the user-provided function "
                    "is a single Tensor with a single element."
                )
        is_out_tuple, outputs = _outputs(func, inputs, name)
        if is_out_tuple or outputs[0].numel() != 1:
            raise RuntimeError(
                f"The function given to {name} should return a single Tensor"
                if is_out_tuple else
                f"The Tensor returned by the function given to {name} should contain a single "
                "element"
            )
        _check_requires_grad(outputs, "outputs", strict)
        jac = _autograd_grad(outputs, inputs, (None,), create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
        if v is None:
            from .. import ones_like

            v = (ones_like(inputs[0]),)
        res = _fill_zeros(_second_pass(jac, inputs, v, create_graph), inputs, strict,
                          create_graph, "back")
    out = _post(outputs[0], create_graph)
    res = _post(res, create_graph)
    return out, (res if is_in_tuple else res[0])
