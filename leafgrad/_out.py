"""``out=``: the one path every free function with an ``out`` argument takes.

A function decorated with :func:`out_variant` computes its result as usual, then the wrapper
writes it into ``out`` as PyTorch does:

- refused (RuntimeError) when grad mode is on and an argument or ``out`` requires grad;
- the result's dtype must fit ``out``'s: ``rule="cast"`` (TensorIterator ops: any cast
  ``can_cast`` allows), ``rule="exact"`` (BLAS-like ops: the same dtype), ``rule="dtype"``
  (reductions, scans, factories: ``out``'s dtype is the computation dtype, passed as
  ``dtype=`` when none was given), ``rule="cast_with_tensors"`` (clamp: "cast" when a bound is
  a tensor, "exact" when the bounds are numbers);
- ``out`` of another shape is resized (with PyTorch's deprecation warning when it had
  elements); of the same shape it is written in place, so its views see the values;
- ``out`` overlapping an input partially is refused (an identical layout is fine: the result is
  computed before it is written); ``out`` that is an input of another shape than the result is
  refused too (a deliberate difference: PyTorch resizes it before reading it, and then returns
  wrong values for mean, std, max..., raises IndexError for sum, or gets it right for a few);
- ``out``'s version counter moves; ``out`` itself (or the tuple of outs) is returned.

``leafgrad.autograd``'s ``tests/test_out.py`` enumerates PyTorch's functions with ``out`` for
every public leafgrad name and checks that each is decorated here (a function cannot accept
``out`` and ignore it).
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from ._dims import check_tensor_input
from .autograd.grad_mode import state as _grad_state

_OUT_PARAM = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None)


def out_variant(name: str | None = None, *, rule: str = "cast", alias: str | None = None,
                error: type = RuntimeError, needs: tuple = (), resize_warns=True):
    """Give a free function PyTorch's ``out=`` argument (see the module's docstring).

    ``alias``: ``"same"`` (the default) lets ``out`` be an input of the result's layout (the
    result is computed before it is written, as PyTorch's result is), ``"refuse"`` makes any
    overlap with an input an error (PyTorch refuses: gather, cross; or its kernel reads what it
    has already written and returns wrong values: bmm, normal), a tuple of parameter names
    lets only those inputs share ``out``'s layout (solve_triangular's ``b``, not its ``a``);
    ``error``: the exception a dtype that does not fit raises (``cat``'s is a TypeError);
    ``needs``: arguments without which PyTorch has no ``out`` overload (``sum(x)`` has none,
    ``sum(x, dim)`` has one); ``resize_warns``: False when resizing a non-empty ``out`` is
    silent (factories, random sampling), or ``f(out, shape) -> message`` for a warning of the
    function's own (arange warns on every resize).

    >>> import leafgrad
    >>> o = leafgrad.zeros(2)
    >>> leafgrad.add(leafgrad.ones(2), 1, out=o) is o, o
    (True, tensor([2., 2.]))
    """
    if rule not in ("cast", "exact", "dtype", "any", "cast_with_tensors"):
        raise ValueError(f"out_variant: unknown rule {rule!r}")

    def deco(f):
        fname = name or f.__name__
        how = alias or "same"
        sig = inspect.signature(f)
        params = [p for p in sig.parameters.values() if p.name != "out"]
        pass_dtype = rule == "dtype" and "dtype" in sig.parameters
        if params and params[-1].kind is inspect.Parameter.VAR_KEYWORD:
            params.insert(len(params) - 1, _OUT_PARAM)
        else:
            params.append(_OUT_PARAM)

        check_input = bool(params) and params[0].name == "input" and fname not in _NUMBER_FIRST

        @functools.wraps(f)
        def wrapper(*args, out=None, **kwargs):
            if check_input:
                x = args[0] if args else kwargs.get("input", _NONE)
                if x is not _NONE:
                    check_tensor_input(fname, x)
            if out is None:
                return f(*args, **kwargs)
            if needs:
                _check_needs(sig, fname, needs, args, kwargs)
            return _call(f, fname, rule, how, error, pass_dtype, resize_warns, args, kwargs,
                         out)

        wrapper.__signature__ = sig.replace(parameters=params)
        wrapper.__out_variant__ = (fname, rule)
        return wrapper

    return deco


# Free functions whose ``input`` may be a Python number (PyTorch has a Scalar overload, or wraps
# the number); every other function with an ``input`` parameter refuses a non-Tensor there.
_NUMBER_FIRST = frozenset((
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "pow", "float_power", "xlogy", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_left_shift", "bitwise_right_shift", "bucketize", "norm"))
_NONE = object()


def _tensors(obj, acc: list) -> list:
    """The Tensors among arguments (inside lists and tuples too)."""
    from .tensor import Tensor

    if isinstance(obj, Tensor):
        acc.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors(o, acc)
    return acc


def _out_list(out, fname: str) -> list:
    from .tensor import Tensor

    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)) and out and all(isinstance(o, Tensor) for o in out):
        return list(out)
    raise TypeError(f"{fname}(): argument 'out' must be Tensor, not {type(out).__name__}\n"
                    "Why: out= names the tensor (or tuple of tensors) to write the result into.")


def _check_needs(sig, fname: str, needs: tuple, args, kwargs) -> None:
    try:
        bound = sig.bind(*args, **kwargs).arguments
    except TypeError:
        return  # the function's own call reports it
    if not all(bound.get(n) is not None for n in needs):
        raise TypeError(
            f"{fname}() received an invalid combination of arguments - out= is accepted only "
            f"with {' and '.join(repr(n) for n in needs)} given\nWhy: PyTorch's {fname} has no "
            f"out= form without {', '.join(needs)}.")


def _check_grad(fname: str, tensors: list) -> None:
    if _grad_state.enabled and any(t._rg for t in tensors):
        raise RuntimeError(
            f"{fname}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad.\nWhy: out= writes into "
            "an existing tensor outside the graph; call it without out= (or under no_grad()).")


# PyTorch's out= forms that are composites of other ops skip the autograd check and write the
# values (no graph, as leafgrad's); argsort's runs sort's, whose values are differentiable
_GRAD_UNCHECKED = frozenset({
    "diag", "floor_divide", "heaviside", "histc", "histogram", "inner", "log_softmax",
    "nanquantile", "quantile", "softmax", "tensordot", "linalg.cond", "linalg.matrix_norm",
    "linalg.norm"})
_GRAD_CHECKED = frozenset({"argsort"})


def _extent(a: np.ndarray) -> tuple[int, int]:
    """First and one-past-last byte address an array touches."""
    lo = hi = a.__array_interface__["data"][0]
    for n, s in zip(a.shape, a.strides):
        if s > 0:
            hi += (n - 1) * s
        else:
            lo += (n - 1) * s
    return lo, hi + a.itemsize


def _check_overlap(fname: str, ins: list, outs: list, results: list, alias: str) -> None:
    for o, r in zip(outs, results):
        od = o._data
        if od.size == 0 or not isinstance(od, np.ndarray):
            continue
        olo, ohi = _extent(od)
        for t in ins:
            d = t._data
            if d.size == 0 or not isinstance(d, np.ndarray):
                continue
            lo, hi = _extent(d)
            if hi <= olo or ohi <= lo or not np.shares_memory(d, od):
                continue
            if alias == "refuse" and od.shape == r._data.shape:
                raise RuntimeError(
                    "unsupported operation: some elements of the input tensor and the "
                    "written-to tensor refer to a single memory location. Please clone() the "
                    f"tensor before performing the operation.\nWhy: {fname}(out=...) writes "
                    "its result while still reading its inputs; pass a fresh out tensor.")
            if od.shape != r._data.shape:
                # NOTE: PyTorch resizes out first, so the aliased input is read resized (its
                # values then are the old memory reinterpreted): refused here, never silent
                raise RuntimeError(
                    f"unsupported operation: {fname}(out=...) got an out tensor that is also an "
                    f"input, of shape {list(od.shape)} where the result has shape "
                    f"{list(r._data.shape)}.\nWhy: out= would be resized before the input is "
                    "read (PyTorch then reads reinterpreted memory); pass a fresh out tensor.")
            same = (lo == olo and d.shape == od.shape and d.strides == od.strides)
            if not same:
                raise RuntimeError(
                    "unsupported operation: some elements of the input tensor and the "
                    "written-to tensor refer to a single memory location. Please clone() the "
                    f"tensor before performing the operation.\nWhy: {fname}(out=...) would "
                    "overwrite input elements it has not read yet.")


_TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
                "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
                "complex128": "ComplexDouble"}


def _scalar_name(d) -> str:
    """PyTorch's ScalarType name (Float, Long...) used in its cast messages."""
    return _TORCH_NAMES.get(str(d)[6:], str(d)[6:])


def check_dtype(o, res, fname: str, rule: str, error: type = RuntimeError) -> None:
    """Raise PyTorch's error when a result of ``res``'s dtype may not be written into ``o``."""
    from . import dtypes as _dt
    from .dtypes import FROM_NP

    rd = FROM_NP[res._data.dtype]
    od = o.dtype
    if rd == od or rule in ("any", "dtype"):
        return
    if rule == "exact":
        raise RuntimeError(
            f"{fname}(): Expected out tensor to have dtype {str(rd)[6:]}, but got "
            f"{str(od)[6:]} instead\nWhy: {fname} writes its result without a cast; pass "
            f"out= of dtype {rd}.")
    if not _dt.can_cast(rd, od):
        raise error(
            f"result type {_scalar_name(rd)} can't be cast to the desired output type "
            f"{_scalar_name(od)}\nWhy: out= of {fname}() keeps its dtype and a {rd} result "
            f"does not fit a {od} tensor; pass out= of dtype {rd}.")


def _resize_warning(o, shape: tuple) -> None:
    warnings.warn(
        f"An output with one or more elements was resized since it had shape "
        f"{list(o._data.shape)}, which does not match the required output shape {list(shape)}. "
        "This behavior is deprecated, and in a future PyTorch release outputs will not be "
        "resized unless they have zero elements. You can explicitly reuse an out tensor t by "
        "resizing it, inplace, to zero elements with t.resize_(0).", UserWarning, stacklevel=5)


def commit(o, res, resize_warns=True) -> None:
    """Write a checked result into ``o``: in place when the shape agrees, else resized."""
    data = res._data
    if o._data.shape == data.shape:
        o._data[...] = data  # casts; views of ``o`` see the new values
    else:
        if callable(resize_warns):
            msg = resize_warns(o, data.shape)
            if msg:
                warnings.warn(msg, UserWarning, stacklevel=4)
        elif o._data.size and resize_warns:
            _resize_warning(o, data.shape)
        o._data = data.astype(o._data.dtype, copy=data is not res._data or data.base is not None)
    o._bump_version()


def write(o, res, fname: str, rule: str = "cast"):
    """Check and write one result into one ``out`` tensor; returns ``o``."""
    check_dtype(o, res, fname, rule)
    commit(o, res)
    return o


def _call(f, fname, rule, alias, error, pass_dtype, resize_warns, args, kwargs, out):
    from .autograd.grad_mode import no_grad
    from .tensor import Tensor

    ins = _tensors(args, [])
    _tensors(tuple(kwargs.values()), ins)
    if isinstance(alias, tuple):  # only the named inputs may share out's layout
        try:
            bound = inspect.signature(f).bind(*args, **kwargs).arguments
        except TypeError:
            bound = {}
        same = _tensors(tuple(v for k, v in bound.items() if k in alias), [])
        refused = [t for t in ins if not any(t is u for u in same)]
    else:
        refused = []
    outs = _out_list(out, fname)
    if pass_dtype and kwargs.get("dtype") is None:
        kwargs["dtype"] = outs[0].dtype
    if (fname in _GRAD_UNCHECKED and _grad_state.enabled and any(t._rg for t in ins)
            and isinstance(out, Tensor) and not out._rg):
        # NOTE: PyTorch's composite out= forms copy the differentiable result into out, which
        # then joins the graph (requires_grad, a CopyBackwards node): do the same
        res = f(*args, **kwargs)
        if out._data.shape != res._data.shape:
            commit(out, res.detach(), resize_warns)
        out.copy_(res)
        return out
    with no_grad():
        res = f(*args, **kwargs)
    multi = isinstance(res, tuple)
    n = len(res) if multi else 1
    if len(outs) != n or (multi and not isinstance(out, (tuple, list))):
        want = "Tensor" if not multi else f"tuple of {n} Tensors"
        raise TypeError(f"{fname}(): argument 'out' must be {want}, not {len(outs)} "
                        f"tensor(s)\nWhy: out= takes one tensor for each result.")
    results = list(res) if multi else [res]
    if fname in _GRAD_CHECKED or (fname not in _GRAD_UNCHECKED
                                  and any(r._data.dtype.kind in "fc" for r in results)):
        # NOTE: as PyTorch, only a differentiable (floating) result is refused; comparisons,
        # argmax, logical ops... write into out= whatever their inputs require
        _check_grad(fname, ins + outs)
    if isinstance(alias, tuple):
        _check_overlap(fname, refused, outs, results, "refuse")
        _check_overlap(fname, [t for t in ins if not any(t is u for u in refused)], outs,
                       results, "same")
    else:
        _check_overlap(fname, ins, outs, results, alias)
    # NOTE: every out is checked before any is written, so an error leaves all untouched
    if rule == "cast_with_tensors":  # clamp: TensorIterator's cast with tensor bounds, else exact
        rule = "cast" if any(isinstance(v, Tensor) for v in (*args[1:], *kwargs.values())) \
            else "exact"
    rules = ["exact" if multi and r._data.dtype.kind in "iu" else rule for r in results]
    for o, r, ru in zip(outs, results, rules):
        check_dtype(o, r, fname, ru, error)
    for o, r in zip(outs, results):
        commit(o, r, resize_warns)
    if not multi:
        return outs[0]
    return type(res)(*outs) if hasattr(res, "_fields") else type(res)(outs)
