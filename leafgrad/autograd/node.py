"""Graph nodes: ``Node``, ``Op`` (the base of every differentiable op), ``AccumulateGrad``."""

from __future__ import annotations

import re
import weakref

import numpy as np

from .grad_mode import state


def _link() -> None:
    """Import what this module needs from leafgrad.tensor, which imports it (docs/design.md,
    "The import cycle"); run once by leafgrad.tensor when Tensor exists."""
    global _Tensor, _wrap, _Packed
    from ..tensor import Tensor as _Tensor
    from ..tensor import _wrap
    from .graph import Packed as _Packed


class Epoch:
    """Counts every in-place change anywhere; while it has not moved, no saved tensor changed."""

    __slots__ = ("v",)

    def __init__(self) -> None:
        self.v = 0


EPOCH = Epoch()


# -- the state of a node's saved tensors (Op._vers) ------------------------------------------
# One slot, five states, each with a name:
#   None             nothing saved: nothing to check.
#   an int           the in-place EPOCH when saved. While EPOCH has not moved nothing was
#                    modified, so the engine's check is one comparison (the usual case, kept
#                    a bare int). The saved tensors were at version 0 then, or at the
#                    versions in the node's ``_saved_v`` (a parameter updated in place by an
#                    optimizer: every node saving it would otherwise take the slow check).
#   SavedVersions    the saved tensors' versions (some had been modified before saving).
#   RELEASED         freed after backward (without retain_graph).
#   graph.Packed     packed by saved_tensors_hooks; unpacked on use, not version-checked.
# Op._check_saved is the one place that reads them all.
class SavedVersions(tuple):
    """Each saved input's version when it was saved (None for a non-tensor input)."""

    __slots__ = ()


class _Released:
    """The state of a node whose saved tensors were freed after its backward ran."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "RELEASED"


RELEASED = _Released()


class NotSaved:
    """What a node keeps in ``inputs`` in place of an input tensor it does not save: no gradient
    asked of it needs that tensor's value (``saved_for``), so, as in PyTorch, the node must not
    keep it alive (``y * 1.01`` keeps the number, not ``y``). It keeps the tensor's shape and
    dtype (PyTorch keeps sizes too); NumPy arithmetic with it raises, so a formula that read
    its value by mistake fails loudly instead of computing a wrong gradient.

    >>> import leafgrad
    >>> y = leafgrad.ones(2, requires_grad=True) * leafgrad.ones(2)  # x's gradient reads w only
    >>> y.grad_fn.inputs[0]
    NotSaved(shape=(2,), dtype=float32)
    """

    __slots__ = ("shape", "dtype")
    __array_ufunc__ = None

    def __init__(self, t) -> None:
        d = t._data
        self.shape = d.shape
        self.dtype = d.dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions of the tensor it stands for."""
        return len(self.shape)

    def __repr__(self) -> str:
        return f"NotSaved(shape={self.shape}, dtype={self.dtype})"

_ndarray = np.ndarray

FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward.\n"
    "Why: to save memory, each node drops the tensors it saved for its derivative as soon as the "
    "backward pass has used them, so a second pass through {name} has nothing to compute with."
)


class RemovableHandle:
    """Handle returned by ``register_*hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class NodeExtras:
    """Rarely-used per-node state, allocated only when a hook or retain_grad needs it."""

    __slots__ = ("pre_hooks", "hooks", "tensor_hooks", "retained", "shapes")

    def __init__(self) -> None:
        self.pre_hooks: list = []      # grad_fn.register_prehook(fn(grad_outputs))
        self.hooks: list = []          # grad_fn.register_hook(fn(grad_inputs, grad_outputs))
        self.tensor_hooks: dict = {}   # output_nr -> [hooks] from Tensor.register_hook
        self.retained: dict = {}       # output_nr -> weakref to a tensor that called retain_grad()
        # output_nr -> the output's shape when recorded, kept when an unrecorded in-place op
        # (t_() under no_grad) changed the tensor's shape since: the gradient must fit it
        self.shapes: dict = {}


class _Count:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


# How many nodes have an entry in NodeExtras.shapes (the engine checks gradients' shapes
# against them only while there is one: PyTorch's validate_outputs, see engine._fits_shape)
RESHAPED = _Count()


def keep_recorded_shape(t, old_shape: tuple) -> None:
    """``t``'s shape changed in place outside autograd (``t_()`` under no_grad): its node still
    expects gradients of ``old_shape``, the shape it recorded, as PyTorch's input metadata do.

    >>> import leafgrad
    >>> x = leafgrad.ones(2, 1, requires_grad=True) * 1
    >>> with leafgrad.no_grad(): _ = x.t_()
    >>> x.grad_fn._x.shapes
    {0: (2, 1)}
    """
    fn = t._fn
    if fn is None:
        return
    shapes = fn._extras().shapes
    if t._out_nr not in shapes:
        shapes[t._out_nr] = tuple(old_shape)
        RESHAPED.n += 1


class Node:
    """A node of the backward graph; ``grad_fn`` of a tensor is one of these.

    >>> import leafgrad
    >>> x = leafgrad.ones(2, requires_grad=True)
    >>> (x * 2).grad_fn.name()
    'MulBackward0'
    """

    __slots__ = ("next_functions", "_x", "_site", "__weakref__")
    _nout = 1  # number of forward outputs this node differentiates
    elementwise = False  # see Op

    def name(self) -> str:
        """PyTorch's name of the node, e.g. ``'PowBackward0'``."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    def _extras(self) -> NodeExtras:
        if self._x is None:
            self._x = NodeExtras()
        return self._x

    def register_prehook(self, fn) -> RemovableHandle:
        """Run ``fn(grad_outputs)`` before this node's backward; it may return replacements."""
        hooks = self._extras().pre_hooks
        hooks.append(fn)
        return RemovableHandle(hooks, fn)

    def register_hook(self, fn) -> RemovableHandle:
        """Run ``fn(grad_inputs, grad_outputs)`` after this node's backward."""
        hooks = self._extras().hooks
        hooks.append(fn)
        return RemovableHandle(hooks, fn)

    @property
    def metadata(self) -> dict:
        """A free-form dict attached to the node (as in PyTorch)."""
        return _node_metadata.setdefault(self, {})


_node_metadata: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class AccumulateGrad(Node):
    """The node that adds the incoming gradient into a leaf tensor's ``.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable) -> None:
        self.variable = variable
        self.next_functions = ()
        self._x = None


def _errstate_switch():
    """(set, reset, ignore) for NumPy's floating-point error state, as cheap as NumPy allows."""
    try:  # NumPy >= 2: the error state is a context variable; set/reset are two C calls
        from numpy._core._ufunc_config import _extobj_contextvar as var  # noqa: PLC0415
    except ImportError:  # older NumPy: through np.errstate
        return _enter, _exit, None
    with np.errstate(all="ignore"):
        ignore = var.get()
    return var.set, var.reset, ignore


def _enter(_):
    cm = np.errstate(all="ignore")
    cm.__enter__()
    return cm


def _exit(cm) -> None:
    cm.__exit__(None, None, None)


_quiet_on, _quiet_off, _IGNORE = _errstate_switch()


def _quiet(forward):
    """``forward`` run with NumPy's floating-point warnings off.

    NOTE: PyTorch computes inf and nan without a word; NumPy would warn "divide by zero",
    "overflow", "invalid value". Every op's forward runs through this (Op.__init_subclass__), as
    the engine runs backward under np.errstate, so no such warning reaches the user.
    """
    def run(self, *args, **kwargs):
        token = _quiet_on(_IGNORE)
        try:
            return forward(self, *args, **kwargs)
        finally:
            _quiet_off(token)

    run.__wrapped__ = forward
    run.__name__, run.__qualname__, run.__doc__ = (forward.__name__, forward.__qualname__,
                                                   forward.__doc__)
    return run


class Op(Node):
    """Base of every differentiable op: ``forward`` on raw arrays; ``backward`` written once, run
    on raw arrays in a plain backward and on Tensors with ``create_graph`` (``leafgrad.ops.dual``).

    Subclasses set ``formula`` (what ``explain`` prints for each input's gradient), the PyTorch
    node name ``name_`` (e.g. ``"MulBackward0"``, which becomes the class ``__name__``), and declare
    whether backward needs the inputs (``save_inputs``) or the result (``save_output``).
    """

    # needs_input_grad: for each input, whether a gradient flows to it (its edge leads
    # somewhere), recorded with next_functions and read by backward.
    # _vers: the state of the saved tensors (see SavedVersions above).
    # NOTE: the slots a recorded node always has are assigned when it is recorded
    # (leafgrad.ops._apply, make_node), and Op defines no __getattr__: either would make each
    # attribute read of a node take CPython's slow path (~7x the instructions), on the hottest
    # path there is. The rarely set ones (_out_v, _kept, _outs_vc, _saved_v) are read only by
    # _check_saved and _saves_nothing, with getattr defaults.
    __slots__ = ("inputs", "needs_input_grad", "_vers", "_meta", "_out", "_out_vc", "_out_v",
                 "_kept", "_outs_vc", "_saved_v")
    formula: dict[str, str] = {}
    # -- what the node saves, as PyTorch's node does (checked at backward, freed after it) -----
    # saved_for: None (every input in ``inputs`` is saved), or per input the inputs whose
    # gradient needs it: input i is checked for in-place changes only when one of those
    # requires grad (PyTorch saves ``other`` for ``self``'s gradient only when self needs one).
    saved_for: tuple | None = None
    # saved_state: slots holding what PyTorch saves as tensors but the node keeps as arrays
    # (indices, masks, a multi-output op's ``outs``): freed after backward, so a second
    # backward is refused as PyTorch refuses it.
    saved_state: tuple[str, ...] = ()
    # saved_outputs: for a multi-output op, the outputs PyTorch saves (version-checked).
    saved_outputs: tuple[int, ...] = ()
    # _kept: other tensors saved with their versions (an index tensor): ``keep`` in _apply.
    # _inputs_are_edges: inputs[i] is the tensor of next_functions[i] (not so for a custom
    # Function's ctx, whose inputs are its saved tensors)
    _inputs_are_edges = True
    # -- what explain says about the node (leafgrad.autograd.explanation) --------------------
    # elementwise: each output element depends on the same element of each input only, so
    # explain shows every input's local derivative element by element. ``local`` writes them
    # (input key -> ∂out/∂input, e.g. "cos {x}"), ``forward_text`` the forward computation
    # (e.g. "{x}.sin()"): templates filled with the inputs' labels or elements ({x}, {a}, {b},
    # {out}) and the node's parameters ({alpha}, {shape}...: numbers as explain writes them,
    # tuples as "2, 3"); an op that needs more overrides _narrate_local / _narrate_forward.
    # ``scalar`` says how the output reads in its inputs' elements (explain's "in scalar
    # terms" line): ("infix", symbol, binds_like, right_operand_binds_like) with "sum",
    # "product" or "power", ("call", name), ("neg",), ("pow",), ("abs",), ("sum",), ("mean",).
    # The prose explain adds for a node is in the locale files, keyed by the node name.
    elementwise = False
    local: dict[str, str] = {}
    forward_text: str | None = None
    scalar: tuple | None = None
    save_inputs = True
    save_output = False
    same_shape = False  # unary op whose output has its input's shape and dtype (elementwise)
    # number_as_array: a binary op whose forward is one NumPy ufunc, given a Python float operand
    # as a 0-d array of the tensor's dtype (the value NumPy would use; its Python-number path
    # costs as much again as the arithmetic on a small tensor). See ops/elementwise/dispatch.py.
    number_as_array = False
    name_ = ""  # the PyTorch node name; see __init_subclass__

    def __init_subclass__(cls, **kw) -> None:
        super().__init_subclass__(**kw)
        if cls.__dict__.get("name_"):
            # NOTE: type(t.grad_fn).__name__ reads as PyTorch's ("MulBackward0"); __qualname__
            # keeps the op's own name ("Mul") for tracebacks.
            cls.__name__ = cls.name_
        # _saved_for_any: the inputs whose gradient reads some saved input (_saves_nothing);
        # None when saved_for is computed per node (a property)
        sf = cls.saved_for
        cls._saved_for_any = (tuple(sorted({j for d in sf for j in d}))
                              if isinstance(sf, tuple) else None)
        fwd = cls.__dict__.get("forward")
        if fwd is not None:
            # _forward: the forward for dispatchers that make NumPy quiet themselves (the hot
            # path: no wrapper frame); a forward wrapped already is run as it is
            cls._forward = fwd
            if not hasattr(fwd, "__wrapped__"):
                cls.forward = _quiet(fwd)

    # -- to override ---------------------------------------------------------------------------
    def forward(self, *arrays):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- helpers for backward ------------------------------------------------------------------
    def saved(self, grad) -> tuple:
        """The saved inputs, in ``grad``'s form: Tensors when a graph of the backward is being
        built (``create_graph``), raw arrays otherwise (a plain backward runs at NumPy speed)."""
        inputs = self.inputs
        if inputs is None:
            raise RuntimeError(FREED_MSG.format(name=self.name()))
        if grad.__class__ is not _ndarray and isinstance(grad, _Tensor):
            return inputs
        n = len(inputs)
        if n == 1:
            i = inputs[0]
            return (i._data if i.__class__ is not NotSaved else i,)
        if n == 2:
            a, b = inputs
            return (a._data if isinstance(a, _Tensor) else a,
                    b._data if isinstance(b, _Tensor) else b)
        return tuple(i._data if isinstance(i, _Tensor) else i for i in inputs)

    def result(self, grad):
        """The forward result, in ``grad``'s form (see ``saved``)."""
        if grad.__class__ is _Tensor or isinstance(grad, _Tensor):
            return self.out
        if self._out is None:
            raise RuntimeError(FREED_MSG.format(name=self.name()))
        return self._out

    @property
    def out(self):
        """The forward result as a Tensor (linked to this node when building a double backward)."""
        if self._out is None:
            raise RuntimeError(FREED_MSG.format(name=self.name()))
        t = _wrap(self._out)
        if state.enabled:
            t._rg = True
            t.grad_fn = self
        return t

    def _saved_inputs(self) -> tuple | None:
        vers = self._vers
        if vers is RELEASED:
            raise RuntimeError(FREED_MSG.format(name=self.name()))
        if vers.__class__ is _Packed:
            return vers.unpack_inputs()  # unpack runs on every access, as in PyTorch
        return self.inputs

    @property
    def _saved_self(self):
        t = self._saved_inputs()[0]
        return None if t.__class__ is NotSaved else t  # not saved: None, as PyTorch's

    @property
    def _saved_other(self):
        t = self._saved_inputs()[1]
        return None if t.__class__ is NotSaved else t

    @property
    def _saved_result(self):
        vers = self._vers
        if vers.__class__ is _Packed:
            return vers.out.get()
        return self.out

    # -- explain support -----------------------------------------------------------------------
    def _narrate_forward(self, s) -> str | None:
        """How explain writes the forward computation (``forward_text`` filled from ``s``)."""
        return None if self.forward_text is None else self.forward_text.format_map(s)

    def _narrate_local(self, key: str, s) -> str | None:
        """How explain writes input ``key``'s local derivative (``local[key]`` filled)."""
        t = self.local.get(key)
        return None if t is None else t.format_map(s)

    # -- engine support ------------------------------------------------------------------------
    def _check_saved(self) -> None:
        """Raise if the saved tensors were freed or modified in place since the forward pass.

        The engine calls it when the state is not the current epoch (see ``SavedVersions``).
        """
        vers = self._vers
        if vers is None:
            return
        if vers is RELEASED:
            raise RuntimeError(FREED_MSG.format(name=self.name()))
        if vers.__class__ is _Packed:
            # NOTE: as in PyTorch, tensors packed by saved_tensors_hooks skip the version check
            self._unpack_saved(vers)
            return
        inputs = self.inputs
        if inputs is not None:
            if vers.__class__ is int:  # the versions when saved: _saved_v's, or all 0
                vers = getattr(self, "_saved_v", None) or tuple(
                    0 if hasattr(t, "_vc") else None for t in inputs)
            sf = self.saved_for
            need = self.needs_input_grad if sf is not None else None
            for i, (t, v) in enumerate(zip(inputs, vers)):
                if v is not None:
                    if sf is not None and not any(j < len(need) and need[j] for j in sf[i]):
                        continue  # not saved by PyTorch: its gradients do not need it
                    vc = t._vc
                    if vc is not None and vc.v != v:
                        raise self._modified(t, i, vc.v, v)
                    if t._fn is None and self._inputs_are_edges:
                        e = self.next_functions[i][0]
                        if e is not None and e.__class__ is not AccumulateGrad:
                            raise RuntimeError(_DETACHED_MSG)  # a non-leaf, detached in place
        out_vc = self._out_vc
        if out_vc is not None:
            # _out_v: the result's version when saved (0, or after an in-place op wrote it)
            out_v = getattr(self, "_out_v", 0)
            if out_vc.v != out_v:
                raise self._modified(self.out, "result", out_vc.v, out_v)
        kept = getattr(self, "_kept", None)
        if kept is not None:
            for t, v in kept:
                if t._version != v:
                    raise self._modified(t, -1, t._version, v)
        outs_vc = getattr(self, "_outs_vc", None)
        if outs_vc is not None:
            for k, vc in enumerate(outs_vc):
                if vc is not None and vc.v != 0:
                    raise _modified_error(self, _wrap(self.outs[k]), ("result", k), vc.v, 0)

    def _saves_nothing(self) -> bool:
        """True when, by ``saved_for``, PyTorch's node would save no tensor for the gradients
        asked of it: such a node is never freed (a second backward through it is allowed)."""
        sf = self.saved_for
        if sf is None:
            return False
        need = self.needs_input_grad
        n = len(need)
        # NOTE: a Python number operand counts: PyTorch saves it as a wrapped 0-d tensor
        # (``3 * x`` refuses a second backward; only in-place changes to x are allowed).
        # The usual answer (some needed gradient reads a saved input) first: it is cheapest.
        union = self._saved_for_any
        for j in union if union is not None else {j for d in sf for j in d}:
            if j < n and need[j]:
                return False
        return not (self.saved_state or self._out_vc is not None or
                    getattr(self, "_kept", None))

    def _unpack_saved(self, packed) -> None:
        """Put the tensors packed by saved_tensors_hooks back on the node before its backward."""
        packed.restore(self)

    def _modified(self, t, which, now: int, expected: int) -> RuntimeError:
        """The error for saved tensor ``t`` (input ``which`` or "result") modified in place."""
        return _modified_error(self, t, which, now, expected)


_DETACHED_MSG = (
    "Trying to use a saved tensor that has been detached in-place, i.e. with .detach_().This is "
    "not supported, please use out-of-place `.detach()` instead\nWhy: the tensor was saved for "
    "this node's derivative while it was part of the graph; detach_() cut it out afterwards.")


def _modified_error(node, t, which, now: int, expected: int) -> RuntimeError:
    shape = ", ".join(str(d) for d in t._data.shape)
    if which == "result" or which.__class__ is tuple:
        k = 0 if which == "result" else which[1]
        owner = f", which is output {k} of {_strip_backward(node.name())},"
    elif t.grad_fn is not None:
        owner = f", which is output {t._out_nr} of {_strip_backward(t.grad_fn.name())},"
    else:
        owner = ""  # PyTorch names no producer for a leaf
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [torch.{_type_name(t)} [{shape}]]{owner} is at version {now}; "
        f"expected version {expected} instead. Hint: enable anomaly detection to find the "
        "operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False).\n"
        f"Why: {node.name()} saved this tensor in the forward pass to compute its derivative; "
        "changing it in place afterwards would make that derivative silently wrong, so autograd "
        "refuses. Use the out-of-place op (x = x + 1 rather than x += 1) or clone() it first."
    )


def _strip_backward(name: str) -> str:
    """PyTorch names a node's op without its ``Backward<N>`` suffix in this message."""
    return re.sub(r"Backward\d*$", "", name)


def _type_name(t) -> str:
    return {
        "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
        "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
        "uint8": "ByteTensor", "bool": "BoolTensor",
    }[t.dtype.name]


NONE_EDGE = (None, 0)


def edge(t) -> tuple:
    """The ``next_functions`` entry for input tensor ``t`` (which requires grad)."""
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._out_nr)
    return (accumulate_node(t), 0)


def make_node(cls, next_functions: tuple) -> Op:
    """A node recorded by hand (no forward run through ``record``): edges set, nothing saved."""
    fn = object.__new__(cls)
    fn.next_functions = next_functions
    fn.needs_input_grad = tuple(e[0] is not None for e in next_functions)
    fn._x = None
    fn._meta = None
    fn._vers = None
    fn.inputs = fn._out = fn._out_vc = None
    return fn


def accumulate_node(t) -> AccumulateGrad:
    """The leaf's AccumulateGrad node, shared by all uses while it is alive (as in PyTorch)."""
    x = t._extras()
    ref = x.accum
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(t)
        # weak: the leaf must not keep its node alive (the node holds the leaf strongly)
        x.accum = weakref.ref(node)
    return node
