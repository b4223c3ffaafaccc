"""Running an op: forward on arrays, then (grad mode on, an input requiring grad) recording it.

This is the hot path of every op, so it is written for speed: no per-op closures, slots only,
every node slot assigned (reads of a node's attributes then take CPython's fast path), one
thread-local read per op (grad mode), and the common cases (one input; two same-shape
inputs; nothing modified in place; no sites or saved-tensor hooks) first.
"""

from __future__ import annotations

from ..autograd import graph as _graph
from ..autograd import sites as _sites
from ..autograd.grad_mode import state
from ..autograd.node import EPOCH, NONE_EDGE, NotSaved, SavedVersions, accumulate_node
from ..autograd.sites import EXTRAS
from ..tensor import Tensor, VersionCounter, _wrap
from .inplace_view import refresh_view

_site_state = _sites.state
_hooks_state = _graph.state
_ONE_NEEDS = (True,)


def _view_rg(v: Tensor) -> bool:
    """Whether view ``v`` requires grad, after regenerating its node if its memory changed in
    place since (PyTorch: a view requires grad when its base does)."""
    refresh_view(v)
    return v._rg or v._fn is not None or v._x.base._rg


def _edge(t: Tensor) -> tuple:
    """The edge to input ``t`` (which requires grad): its node, or a leaf's AccumulateGrad.

    NOTE: a view taken under no_grad of a base that requires grad has no node and is no leaf
    of its own: PyTorch records no edge to it (the gradient stops there).
    """
    g = t._fn
    if g is not None:
        return (g, t._out_nr)
    if t._rg:
        return (accumulate_node(t), 0)
    return NONE_EDGE


def _versions(fn, inputs: tuple) -> int:
    """The saved inputs' version state: the in-place epoch (backward then compares one int
    while nothing was modified), with their versions in ``fn._saved_v`` unless all are 0."""
    for i in inputs:
        if i.__class__ is Tensor or isinstance(i, Tensor):
            vc = i._vc
            if vc is not None and vc.v:
                break
    else:
        return EPOCH.v
    fn._saved_v = SavedVersions(((i._vc.v if i._vc is not None else 0) if isinstance(i, Tensor)
                                 else None) for i in inputs)
    return EPOCH.v


def _saved_only(fn, inputs: tuple, need: tuple) -> tuple:
    """``inputs`` with a NotSaved stand-in for each tensor that no gradient asked of the node
    reads (``saved_for``): PyTorch's node does not keep it, so neither does ours (``y * 1.01``
    must not keep ``y`` alive). While explain records sites, every input is kept for its
    narration."""
    if EXTRAS.n and _site_state.on:
        return inputs
    key = (fn.__class__, need)
    keep = _KEEP.get(key)
    if keep is None:  # which inputs this class saves for these gradients, worked out once
        n = len(need)
        keep = tuple(any(j < n and need[j] for j in deps) for deps in fn.saved_for)
        keep = _KEEP[key] = True if all(keep) else keep
    if keep is True:
        return inputs
    return tuple(i if k or not isinstance(i, Tensor) else NotSaved(i)
                 for i, k in zip(inputs, keep))


_KEEP: dict = {}  # (op class, needs_input_grad) -> inputs saved (True: all), for _saved_only


def _save(fn, inputs: tuple, t: Tensor) -> None:
    """Save what backward needs (``save_inputs``, ``save_output``) and its version state."""
    cls = type(fn)
    if cls.save_inputs:
        if fn.saved_for is not None:
            inputs = _saved_only(fn, inputs, fn.needs_input_grad)
        fn.inputs = inputs
        fn._vers = _versions(fn, inputs)
    else:
        # a node keeping state PyTorch saves (indices...) is checked and freed like one saving
        fn.inputs = None
        fn._vers = EPOCH.v if cls.saved_state else None
    if cls.save_output:
        vc = t._vc = VersionCounter()
        fn._out = t._data
        fn._out_vc = vc
        if fn._vers is None:
            fn._vers = EPOCH.v
    else:
        fn._out = fn._out_vc = None


def _extras(fn, t: Tensor, inputs: tuple) -> None:
    """The rare parts of recording: the creation site, saved-tensor hooks (see sites.EXTRAS)."""
    if _site_state.on:  # explaining: also the value and the user's names of the inputs
        fn._site = _sites.capture(t._data, inputs)
    if _hooks_state.stack:  # saved_tensors_hooks are active: pack what the node saved
        _graph.pack_node(fn, t)


def record(fn, inputs: tuple, out) -> Tensor:
    """Wrap ``out``; when grad mode is on and a Tensor input requires grad, make ``fn`` its node.

    ``inputs`` may hold Python scalars (PyTorch's wrapped numbers): their edge is ``(None, 0)``.
    """
    t = _wrap(out)
    if not state.enabled:
        return t
    for i in inputs:
        if isinstance(i, Tensor) and (_view_rg(i) if i._x is not None and i._x.base is not None
                                      else i._rg):
            break
    else:
        return t
    out = t._data
    shape, dt = out.shape, out.dtype
    nexts = []
    need = []
    meta = None
    for k, i in enumerate(inputs):
        rg = isinstance(i, Tensor) and (i._rg or (i._x is not None and i._x.base is not None
                                                  and _view_rg(i)))
        need.append(rg)
        if rg:
            nexts.append(_edge(i))
            d = i._data
            if d.shape != shape or d.dtype != dt:
                # the engine sums the gradient back to this shape / casts to this dtype
                if meta is None:
                    meta = [None] * len(inputs)
                meta[k] = (d.shape, d.dtype)
        else:
            nexts.append(NONE_EDGE)
    fn.next_functions = tuple(nexts)
    fn.needs_input_grad = tuple(need)
    fn._x = None
    fn._meta = None if meta is None else tuple(meta)
    _save(fn, inputs, t)
    t._rg = True
    t._fn = fn
    if EXTRAS.n:
        _extras(fn, t, inputs)
    return t


def record2(fn, a: Tensor, b, out) -> Tensor:
    """``record`` specialised for a binary op whose first operand is a Tensor."""
    t = _wrap(out)
    if not state.enabled:
        return t
    b_is_t = b.__class__ is Tensor or isinstance(b, Tensor)
    # a view's requires_grad and node follow its base's in-place changes (_view_rg)
    a_rg = _view_rg(a) if a._x is not None and a._x.base is not None else a._rg
    b_rg = b_is_t and (_view_rg(b) if b._x is not None and b._x.base is not None else b._rg)
    if not (a_rg or b_rg):
        return t
    out = t._data
    meta = None
    if a_rg:
        g = a._fn
        ea = (g, a._out_nr) if g is not None else _edge(a)
        d = a._data
        if d.shape != out.shape or d.dtype is not out.dtype:
            meta = [(d.shape, d.dtype), None]
    else:
        ea = NONE_EDGE
    if b_rg:
        g = b._fn
        eb = (g, b._out_nr) if g is not None else _edge(b)
        d = b._data
        if d.shape != out.shape or d.dtype is not out.dtype:
            if meta is None:
                meta = [None, None]
            meta[1] = (d.shape, d.dtype)
    else:
        eb = NONE_EDGE
    fn.next_functions = (ea, eb)
    fn.needs_input_grad = (a_rg, b_rg)
    fn._x = None
    fn._meta = None if meta is None else tuple(meta)
    cls = type(fn)  # class attributes: read from the type
    if cls.save_inputs and not cls.save_output:
        if a_rg and b_rg or cls.saved_for is None:
            fn.inputs = (a, b)
        else:  # keep only the operand the other's gradient needs (see _saved_only)
            fn.inputs = _saved_only(fn, (a, b), fn.needs_input_grad)
        va = a._vc
        vb = b._vc if b_is_t else None
        fn._vers = EPOCH.v
        if not ((va is None or va.v == 0) and (vb is None or vb.v == 0)):  # see _versions
            fn._saved_v = SavedVersions((0 if va is None else va.v,
                                         ((0 if vb is None else vb.v) if b_is_t else None)))
        fn._out = fn._out_vc = None
    else:
        _save(fn, (a, b), t)
    t._rg = True
    t._fn = fn
    if EXTRAS.n:
        _extras(fn, t, (a, b))
    return t


def record_kernel(fn, operands: tuple):
    """``fn.forward`` (a fused backward kernel) on the operands' arrays, recorded as ``fn``'s
    node when one of them is a Tensor (a backward run with create_graph): PyTorch's
    ``*BackwardBackward0`` nodes, differentiated with their own formulas."""
    if not any(isinstance(v, Tensor) for v in operands):
        return fn.forward(*operands)
    ts = tuple(v if isinstance(v, Tensor) else _wrap(v) for v in operands)
    return record(fn, ts, fn.forward(*(t._data for t in ts)))


def record_unary(fn, x: Tensor, out) -> Tensor:
    """``record`` specialised for one Tensor input (the hot path of elementwise chains)."""
    t = _wrap(out)
    if not state.enabled:
        return t
    if not x._rg:
        if x._x is None or x._x.base is None or not _view_rg(x):
            return t
    elif x._x is not None and x._x.base is not None:
        _view_rg(x)  # its base's history may have been rewritten through another view
    g = x._fn
    fn.next_functions = ((g, x._out_nr) if g is not None else _edge(x),)
    fn.needs_input_grad = _ONE_NEEDS
    fn._x = None
    cls = type(fn)  # class attributes: read from the type
    if cls.same_shape:
        fn._meta = None  # elementwise: same shape and dtype as the input, nothing to fit
    else:
        d = x._data
        out = t._data
        fn._meta = None if (d.shape == out.shape and d.dtype is out.dtype) else (
            (d.shape, d.dtype),)
    if cls.save_inputs:
        fn.inputs = (x,)
        vc = x._vc
        fn._vers = EPOCH.v
        if vc is not None and vc.v:
            fn._saved_v = SavedVersions((vc.v,))  # (see _versions)
    else:
        # a node keeping state PyTorch saves (indices...) is checked and freed like one saving
        fn.inputs = None
        fn._vers = EPOCH.v if cls.saved_state else None
    if cls.save_output:
        vc = t._vc = VersionCounter()
        fn._out = t._data
        fn._out_vc = vc
        if fn._vers is None:
            fn._vers = EPOCH.v
    else:
        fn._out = fn._out_vc = None
    t._rg = True
    t._fn = fn
    if EXTRAS.n:
        _extras(fn, t, (x,))
    return t


def keep(t: Tensor, *tensors) -> Tensor:
    """Save ``tensors`` (e.g. an index tensor) on ``t``'s node as PyTorch saves them: an in-place
    change to one before backward is refused, and they are freed after it. Returns ``t``."""
    fn = t._fn
    if fn is None or not state.enabled:
        return t
    kept = tuple((k, k._version) for k in tensors if isinstance(k, Tensor))
    if kept:
        fn._kept = kept
        if fn._vers is None:
            fn._vers = EPOCH.v
    return t
