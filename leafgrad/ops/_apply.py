"""Running an op: forward on arrays, then (grad mode on, an input requiring grad) recording it.

This is the hot path of every op, so it is written for speed: no per-op closures, slots only,
and the common cases (one input; two same-shape inputs; nothing modified in place) first.
"""

from __future__ import annotations

from ..autograd import graph as _graph
from ..autograd import sites as _sites
from ..autograd.grad_mode import state
from ..autograd.node import EPOCH, NONE_EDGE, SavedVersions, accumulate_node
from ..tensor import Tensor, VersionCounter, _wrap
from .inplace_view import refresh_view

_site_state = _sites.state
_hooks_state = _graph.state


def _version0(t) -> bool:
    """True when ``t`` is not a tensor, or its memory was never modified in place."""
    if not isinstance(t, Tensor):
        return True
    vc = t._vc
    return vc is None or vc.v == 0


def _save(fn, inputs: tuple, t: Tensor) -> None:
    """Save what backward needs and how to tell if it was modified in place before backward.

    NOTE: when every saved tensor is at version 0 (the usual case) the node stores the global
    in-place epoch (an int) instead of their ``SavedVersions``; backward compares one int.
    """
    cls = type(fn)  # NOTE: a class attribute read through the type skips Op.__getattr__'s hook
    if cls.save_inputs:
        fn.inputs = inputs
        if all(_version0(i) for i in inputs):
            fn._vers = EPOCH.v
        else:
            fn._vers = SavedVersions(
                ((i._vc.v if i._vc is not None else 0) if isinstance(i, Tensor) else None)
                for i in inputs
            )
    else:
        fn._vers = None
    if cls.save_output:
        vc = t._vc = VersionCounter()
        fn._out = t._data
        fn._out_vc = vc
        if fn._vers is None:
            fn._vers = EPOCH.v


def record(fn, inputs: tuple, out) -> Tensor:
    """Wrap ``out``; when grad mode is on and a Tensor input requires grad, make ``fn`` its node.

    ``inputs`` may hold Python scalars (PyTorch's wrapped numbers): their edge is ``(None, 0)``.
    """
    t = _wrap(out)
    if not state.enabled:
        return t
    for i in inputs:
        if isinstance(i, Tensor) and i._rg:
            break
    else:
        return t
    out = t._data
    shape, dt = out.shape, out.dtype
    nexts = []
    need = []
    meta = None
    for k, i in enumerate(inputs):
        rg = isinstance(i, Tensor) and i._rg
        need.append(rg)
        if rg:
            if i._x is not None and i._x.base is not None:
                refresh_view(i)
            g = i.grad_fn
            nexts.append((g, i._out_nr) if g is not None else (accumulate_node(i), 0))
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
    if _site_state.on:  # explaining: also the value and the user's names of the inputs
        fn._site = _sites.capture(t._data, inputs)
    t._rg = True
    t.grad_fn = fn
    if _hooks_state.stack:  # saved_tensors_hooks are active: pack what the node saved
        _graph.pack_node(fn, t)
    return t


def record2(fn, a: Tensor, b, out) -> Tensor:
    """``record`` specialised for a binary op whose first operand is a Tensor."""
    t = _wrap(out)
    b_is_t = isinstance(b, Tensor)
    b_rg = b_is_t and b._rg
    if not (a._rg or b_rg):
        return t
    out = t._data
    meta = None
    if a._rg:
        if a._x is not None and a._x.base is not None:
            refresh_view(a)
        g = a.grad_fn
        ea = (g, a._out_nr) if g is not None else (accumulate_node(a), 0)
        d = a._data
        if d.shape != out.shape or d.dtype is not out.dtype:
            meta = [(d.shape, d.dtype), None]
    else:
        ea = NONE_EDGE
    if b_rg:
        if b._x is not None and b._x.base is not None:
            refresh_view(b)
        g = b.grad_fn
        eb = (g, b._out_nr) if g is not None else (accumulate_node(b), 0)
        d = b._data
        if d.shape != out.shape or d.dtype is not out.dtype:
            if meta is None:
                meta = [None, None]
            meta[1] = (d.shape, d.dtype)
    else:
        eb = NONE_EDGE
    fn.next_functions = (ea, eb)
    fn.needs_input_grad = (a._rg, b_rg)
    fn._x = None
    fn._meta = None if meta is None else tuple(meta)
    cls = type(fn)  # NOTE: a class attribute read through the type skips Op.__getattr__'s hook
    if cls.save_inputs and not cls.save_output:
        fn.inputs = (a, b)
        va = a._vc
        vb = b._vc if b_is_t else None
        if (va is None or va.v == 0) and (vb is None or vb.v == 0):
            fn._vers = EPOCH.v
        else:
            fn._vers = SavedVersions((0 if va is None else va.v,
                                      ((0 if vb is None else vb.v) if b_is_t else None)))
    else:
        _save(fn, (a, b), t)
    if _site_state.on:
        fn._site = _sites.capture(t._data, (a, b))
    t._rg = True
    t.grad_fn = fn
    if _hooks_state.stack:  # saved_tensors_hooks are active: pack what the node saved
        _graph.pack_node(fn, t)
    return t


def record_unary(fn, x: Tensor, out) -> Tensor:
    """``record`` specialised for one Tensor input (the hot path of elementwise chains)."""
    t = _wrap(out)
    if not (x._rg and state.enabled):
        return t
    if x._x is not None and x._x.base is not None:
        refresh_view(x)  # its base's history may have been rewritten through another view
    g = x.grad_fn
    fn.next_functions = ((g, x._out_nr) if g is not None else (accumulate_node(x), 0),)
    fn._x = None
    cls = type(fn)  # NOTE: a class attribute read through the type skips Op.__getattr__'s hook
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
        fn._vers = EPOCH.v if vc is None or vc.v == 0 else SavedVersions((vc.v,))
    else:
        fn._vers = None
    if cls.save_output:
        vc = t._vc = VersionCounter()
        fn._out = t._data
        fn._out_vc = vc
        if fn._vers is None:
            fn._vers = EPOCH.v
    if _site_state.on:
        fn._site = _sites.capture(t._data, (x,))
    t._rg = True
    t.grad_fn = fn
    if _hooks_state.stack:  # saved_tensors_hooks are active: pack what the node saved
        _graph.pack_node(fn, t)
    return t
