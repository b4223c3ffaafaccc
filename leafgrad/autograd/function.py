"""Custom autograd Functions: ``Function`` with static ``forward`` / ``backward``, as in PyTorch.

The node a custom Function records is an ``Op`` subclass made per Function class and named
``<ClassName>Backward`` (PyTorch's name). That node is also the ``ctx`` the user's ``forward``
and ``backward`` receive, so tensors saved with ``ctx.save_for_backward`` live in the Op's
``inputs`` / ``_vers`` and get the engine's version check and freeing for free.
"""

from __future__ import annotations

import functools
import inspect

from . import graph as _graph
from . import sites as _sites
from .grad_mode import _NoGrad, state
from .node import EPOCH, NONE_EDGE, Op, SavedVersions, _modified_error, edge

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable"]


def _link() -> None:
    """Import what this module needs from leafgrad.tensor, which imports it (docs/design.md,
    "The import cycle"); run once by leafgrad.tensor when Tensor exists."""
    global _Tensor, _wrap
    from ..tensor import Tensor as _Tensor
    from ..tensor import _wrap


class FunctionCtx:
    """The ``ctx`` API (save_for_backward, mark_dirty...), mixed into every custom node."""

    def save_for_backward(self, *tensors) -> None:
        """Save tensors (or None) for ``backward``; read them back with ``ctx.saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, _Tensor):
                raise TypeError(
                    "save_for_backward can only save variables, but argument "
                    f"{i} is of type {type(t).__name__}"
                )
        self.to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        """Save tensors for a forward-mode ``jvp`` (kept as given)."""
        self.saved_for_forward = tensors

    def mark_dirty(self, *tensors) -> None:
        """Declare inputs that ``forward`` modified in place (they must be returned as outputs)."""
        self.dirty_tensors = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that get no gradient (e.g. indices); they will not require grad."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """Whether missing output gradients reach ``backward`` as zeros (default) or None."""
        self.materialize_grads = bool(value)


class BackwardCFunction(FunctionCtx, Op):
    """The node (and ``ctx``) of one call of a custom Function.

    No ``__slots__``: users store arbitrary attributes on ``ctx``.
    """

    save_inputs = False
    _inputs_are_edges = False  # (its inputs are the tensors it saved)
    needs_input_grad = None  # set per call, one flag per argument of apply (tensor or not)
    materialize_grads = True
    to_save = None
    dirty_tensors = ()
    non_differentiable = ()
    _forward_cls = None

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward`` (raises once the graph is freed)."""
        inputs = self._saved_inputs()
        return () if inputs is None else inputs

    saved_variables = saved_tensors

    def _unpack_saved(self, packed) -> None:
        """Nothing to restore: ``saved_tensors`` unpacks on each access, as in PyTorch."""

    def _modified(self, t, which, now: int, expected: int) -> RuntimeError:
        err = _modified_error(self, t, which, now, expected)
        # NOTE: PyTorch names a custom Function's output by the class ("output 0 of Exp"),
        # i.e. the node name without its "Backward" suffix.
        fn = t.grad_fn
        if fn is not None:
            name = fn.name()
            base = name.removesuffix("Backward0").removesuffix("Backward")
            err = RuntimeError(str(err).replace(
                f"output {t._out_nr} of {name.removesuffix('Backward0')},",
                f"output {t._out_nr} of {base},", 1))
        return err

    # -- the engine's entry point --------------------------------------------------------------
    def backward(self, *grads):
        """Run the user's ``backward`` on Tensors; hand the engine arrays in a plain backward."""
        graph = any(isinstance(g, _Tensor) for g in grads)
        outs = self._out_meta
        gts = []
        for g, meta in zip(grads, outs):
            if g is None:
                if meta is not None and self.materialize_grads:
                    shape, dt, xp = meta
                    z = _wrap(xp.zeros(shape, dtype=dt))
                    gts.append(z)
                else:
                    gts.append(None)
            else:
                gts.append(g if graph else _wrap(g))
        res = self._forward_cls.backward(self, *gts)
        if not isinstance(res, tuple):
            res = (res,)
        nargs = len(self._arg_is_tensor)
        if len(res) != nargs:
            if len(res) < nargs or any(r is not None for r in res[nargs:]):
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients "
                    f"(expected {nargs}, got {len(res)})"
                )
            res = res[:nargs]
        out = []
        for k, (r, is_t) in enumerate(zip(res, self._arg_is_tensor)):
            if not is_t:
                if r is not None:
                    raise RuntimeError(
                        f"function {self.name()} returned a gradient different than None at "
                        f"position {k + 1}, but the corresponding forward input was not a Variable"
                    )
                continue
            if r is not None and not isinstance(r, _Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(r).__name__})")
            out.append(r if r is None or graph else r._data)
        return tuple(out)


class _FunctionMeta(type):
    """Gives each custom Function class its node class, ``<Name>Backward``."""

    def __init__(cls, name, bases, attrs) -> None:
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,),
                                 {"_forward_cls": cls, "name_": name + "Backward",
                                  "__module__": cls.__module__})
        super().__init__(name, bases, attrs)


class Function(FunctionCtx, metaclass=_FunctionMeta):
    """Base of custom differentiable operations with static ``forward`` and ``backward``.

    >>> import leafgrad
    >>> class Double(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         return x * 2
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         return g * 2
    >>> x = leafgrad.ones(2, requires_grad=True)
    >>> y = Double.apply(x); y.sum().backward(); y.grad_fn.name(), x.grad
    ('DoubleBackward', tensor([2., 2.]))
    """

    def __init__(self, *args, **kwargs) -> None:
        import warnings

        warnings.warn(
            f"{self.__class__} should not be instantiated. Methods on autograd functions are all "
            "static, so you should invoke them on the class itself. Instantiating an autograd "
            "function will raise an error in a future version of PyTorch.",
            DeprecationWarning, stacklevel=2,
        )

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @staticmethod
    def forward(*args, **kwargs):
        """Compute the outputs from the inputs (override; runs with grad mode off)."""
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx, inputs: tuple, output) -> None:
        """Save what backward needs when ``forward`` does not take ``ctx`` (override)."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """One gradient per forward input (None for non-tensors); override."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Forward-mode derivative (not used: leafgrad's forward AD is generic)."""
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, when an input requires grad, record the call as a graph node."""
        ctx = object.__new__(cls._backward_cls)
        ctx._x = None
        ctx._vers = None
        ctx._meta = None
        ctx.inputs = ctx._out = ctx._out_vc = None
        ctx.next_functions = ()
        ctx.needs_input_grad = tuple(isinstance(a, _Tensor) and a._rg for a in args)
        new_style = _overrides(cls, "setup_context")
        with _NoGrad():
            if new_style:
                if kwargs:
                    bound = inspect.signature(cls.forward).bind(*args, **kwargs)
                    bound.apply_defaults()
                    inputs = tuple(bound.arguments.values())
                else:
                    inputs = _with_defaults(cls.forward, args)
                outputs = cls.forward(*inputs)
                cls.setup_context(ctx, inputs, outputs)
                args = inputs
                ctx.needs_input_grad = tuple(isinstance(a, _Tensor) and a._rg for a in args)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        return _wrap_outputs(ctx, args, outputs)


def _overrides(cls, name: str) -> bool:
    for k in cls.__mro__:
        if k is Function:
            return False
        if name in k.__dict__:
            return True
    return False


def _with_defaults(fn, args: tuple) -> tuple:
    """``args`` plus the defaults of ``fn``'s remaining parameters (PyTorch binds them too)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return args
    extra = []
    for p in params[len(args):]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is p.empty:
            break
        extra.append(p.default)
    return args + tuple(extra)


def _wrap_outputs(ctx, args: tuple, outputs):
    """Attach the outputs to ``ctx`` (the node) and check dirty / non-differentiable marks."""
    Tensor = _Tensor
    multi = isinstance(outputs, tuple)
    outs = outputs if multi else (outputs,)
    executable = state.enabled and any(isinstance(a, Tensor) and a._rg for a in args)
    dirty = ctx.dirty_tensors
    for d in dirty:
        if not any(o is d for o in outs):
            raise RuntimeError(
                "Some elements marked as dirty during the forward method were not returned as "
                "output. The inputs that are modified inplace must all be outputs of the Function."
            )
    if not executable:
        _save(ctx, args, outs, executable=False)
        return outputs
    nondiff = ctx.non_differentiable
    ctx.next_functions = tuple(edge(a) if a._rg else NONE_EDGE
                               for a in args if isinstance(a, Tensor))
    ctx._arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
    ctx._meta = tuple((a._data.shape, a._data.dtype) if a._rg else None
                      for a in args if isinstance(a, Tensor))
    ctx._nout = len(outs)
    metas = []
    new_outs = []
    for nr, o in enumerate(outs):
        if not isinstance(o, Tensor):
            metas.append(None)
            new_outs.append(o)
            continue
        d = o._data
        metas.append((d.shape, d.dtype, _xp(d)))
        is_dirty = any(o is t for t in dirty)
        is_input = any(o is a for a in args)
        if is_dirty:
            if o._rg and o.grad_fn is None:
                raise RuntimeError(
                    "a leaf Variable that requires grad has been used in an in-place operation."
                )
            o._bump_version()
        elif is_input:
            # NOTE: PyTorch returns a view of an input returned unchanged, not the input itself
            v = _wrap(o._data)
            v._vc = o._shared_vc()
            v._extras().base = o
            o = v
        if any(o is t for t in nondiff) or not o.dtype.is_floating_point:
            if not is_dirty:
                o._rg = False
            new_outs.append(o)
            continue
        o.grad_fn = ctx
        o._out_nr = nr
        o._rg = True
        new_outs.append(o)
    ctx._out_meta = tuple(metas)
    _save(ctx, args, new_outs, executable=True)
    if _sites.state.on:
        ctx._site = _sites.capture()
    return tuple(new_outs) if multi else new_outs[0]


def _save(ctx, args, outs, executable: bool) -> None:
    """Store the tensors given to ``save_for_backward`` as the node's saved inputs."""
    to_save = ctx.to_save
    if to_save is None:
        return
    if not executable:
        ctx.inputs = tuple(to_save)
        ctx._vers = EPOCH.v
        return
    saved = tuple(to_save)
    if _graph.state.stack:
        # a Packed state: the engine calls _check_saved, which skips packed tensors
        ctx._vers = _graph.pack_all(saved)
        return
    ctx.inputs = saved
    if all(t is None or t._vc is None or t._vc.v == 0 for t in saved):
        ctx._vers = EPOCH.v
    else:
        ctx._vers = SavedVersions(None if t is None else (t._vc.v if t._vc is not None else 0)
                                  for t in saved)


def _xp(a):
    from ..backend import array_module

    return array_module(a)


class _DelayedErrorNode(Op):
    """Node for outputs of a ``once_differentiable`` backward: differentiating it raises."""

    name_ = "DelayedError"
    save_inputs = False

    def backward(self, grad):
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with @once_differentiable"
        )


def once_differentiable(fn):
    """Decorate a custom ``backward`` that is not itself differentiable (runs under no_grad).

    >>> once_differentiable(lambda ctx, g: g).__name__
    '<lambda>'
    """

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with _NoGrad():
            outputs = fn(ctx, *args)
        if not state.enabled:
            return outputs
        requires = any(isinstance(a, _Tensor) and a._rg for a in args)
        if not requires:
            return outputs
        from ..ops._apply import record

        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        wrapped = []
        for o in outs:
            if isinstance(o, _Tensor):
                node = object.__new__(_DelayedErrorNode)
                o = record(node, tuple(a for a in args if isinstance(a, _Tensor)), o._data)
            wrapped.append(o)
        return wrapped[0] if single else tuple(wrapped)

    return wrapper
