"""``gradcheck`` / ``gradgradcheck``: compare autograd's gradients with central differences."""

from __future__ import annotations

import numpy as np

from ..backend import like, to_numpy
from .engine import grad as _grad


class GradcheckError(RuntimeError):
    """Raised when an analytical gradient disagrees with the finite-difference estimate."""


def _as_tuple(x) -> tuple:
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _outputs(func, inputs) -> tuple:
    from ..tensor import Tensor

    out = _as_tuple(func(*inputs))
    return tuple(o for o in out if isinstance(o, Tensor) and o.dtype.is_floating_point)


def _numerical_jacobian(func, inputs, i: int, eps: float) -> list[np.ndarray]:
    """d(outputs)/d(inputs[i]) by central differences, one column per input element."""
    x = inputs[i]
    # NOTE: x's own memory is perturbed in place, element by element in logical (C) order,
    # through its strides: reshape(-1) of a transposed or sliced input is a copy, and
    # perturbing that left x unchanged (a zero numerical Jacobian)
    data = x._data
    outs = _outputs(func, inputs)
    jac = [np.zeros((data.size, o._data.size)) for o in outs]
    # NOTE: func runs with grad mode on: for gradgradcheck it computes gradients itself.
    for k, idx in enumerate(np.ndindex(data.shape)):
        orig = data[idx].item()
        data[idx] = orig + eps
        plus = [to_numpy(o._data).astype(np.float64).reshape(-1) for o in _outputs(func, inputs)]
        data[idx] = orig - eps
        minus = [to_numpy(o._data).astype(np.float64).reshape(-1)
                 for o in _outputs(func, inputs)]
        data[idx] = orig
        for j in range(len(outs)):
            jac[j][k] = (plus[j] - minus[j]) / (2 * eps)
    return jac


def _analytical_jacobian(func, inputs, i: int) -> list[np.ndarray]:
    """d(outputs)/d(inputs[i]) by backward passes, one per output element."""
    from ..tensor import _wrap

    x = inputs[i]
    outs = _outputs(func, inputs)
    jac = []
    for o in outs:
        j = np.zeros((x._data.size, o._data.size))
        if not o.requires_grad:
            jac.append(j)  # an output that does not depend on any input: zero Jacobian
            continue
        for k in range(o._data.size):
            onehot = np.zeros(o._data.size, dtype=o._data.dtype)
            onehot[k] = 1
            go = _wrap(like(onehot.reshape(o._data.shape), o._data))  # on the output's device
            (g,) = _grad(o, x, go, retain_graph=True, allow_unused=True)
            if g is not None:
                j[:, k] = to_numpy(g._data).astype(np.float64).reshape(-1)
        jac.append(j)
    return jac


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, **kwargs) -> bool:
    """Check ``func``'s gradients w.r.t. float64 ``inputs`` that require grad, element by element.

    >>> import leafgrad
    >>> x = leafgrad.tensor([1.0, 2.0], dtype=leafgrad.float64, requires_grad=True)
    >>> gradcheck(lambda t: (t * t).sum(), (x,))
    True
    """
    from ..tensor import Tensor

    inputs = _as_tuple(inputs)
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        if x.dtype.name != "float64":
            import warnings

            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point. "
                "This check will likely fail if all the inputs are not of double precision "
                "floating point.", UserWarning, stacklevel=2,
            )
        num = _numerical_jacobian(func, inputs, i, eps)
        ana = _analytical_jacobian(func, inputs, i)
        for j, (n, a) in enumerate(zip(num, ana)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                bad = np.argwhere(~np.isclose(a, n, rtol=rtol, atol=atol))[0]
                msg = (
                    f"Jacobian mismatch for output {j} with respect to input {i},\n"
                    f"numerical:{n}\nanalytical:{a}\n"
                    f"first disagreement: d output[{bad[1]}] / d input[{bad[0]}]: "
                    f"numerical {n[tuple(bad)]:.6g} vs analytical {a[tuple(bad)]:.6g}"
                )
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, **kwargs) -> bool:
    """Check second derivatives: gradcheck of the function that returns ``func``'s gradients.

    >>> import leafgrad
    >>> x = leafgrad.tensor([1.0, 2.0], dtype=leafgrad.float64, requires_grad=True)
    >>> gradgradcheck(lambda t: (t ** 3).sum(), (x,))
    True
    """
    from ..creation import tensor
    from ..tensor import Tensor

    inputs = _as_tuple(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        # NOTE: like PyTorch, the random grad_outputs require grad, so the first derivative
        # of a linear function (constant in the inputs) is still a differentiable output.
        grad_outputs = tuple(tensor(rng.standard_normal(o._data.shape), dtype=o.dtype,
                                    device=o.device, requires_grad=True) for o in outs)
    grad_outputs = _as_tuple(grad_outputs)

    def first_grads(*xs):
        o = _outputs(func, xs)
        gs = _grad(o, [x for x in xs if isinstance(x, Tensor) and x.requires_grad],
                   grad_outputs, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
