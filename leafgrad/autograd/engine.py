"""The backward engine: one iterative pass over the graph with dependency counts."""

from __future__ import annotations

import threading
import warnings

import numpy as np

from ..backend import array_module as _xp
from ..backend import writeable
from . import anomaly as _anomaly
from .grad_mode import state
from .node import (
    _IGNORE,
    EPOCH,
    RELEASED,
    RESHAPED,
    AccumulateGrad,
    _quiet_off,
    _quiet_on,
    accumulate_node,
)


def _link() -> None:
    """Import what this module needs from modules that import it (docs/design.md, "The import
    cycle"); run once by leafgrad.tensor when Tensor exists."""
    global Tensor, _wrap, dual, _FunctionCtx, _NotImplemented
    from ..ops import dual
    from ..ops.elementwise.binary import NotImplementedOp as _NotImplemented
    from ..tensor import Tensor, _wrap
    from .function import FunctionCtx as _FunctionCtx


def _not_requiring_grad(i: int) -> RuntimeError:
    return RuntimeError(
        f"element {i} of tensors does not require grad and does not have a grad_fn\n"
        "Why: autograd only records operations on tensors that require grad; create the leaf "
        "with requires_grad=True (or call x.requires_grad_()) before computing from it, and do "
        "not compute it under no_grad()."
    )


def make_root_grads(tensors, grads, create_graph: bool) -> list:
    """Check or create the gradient that seeds each output (ones for a scalar output)."""
    out = []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs\n"
                    f"Why: the output has shape {list(t._data.shape)}, so 'the' derivative is a "
                    "Jacobian, not a gradient; pass gradient=... (the vector v of the product "
                    "v^T J), e.g. y.backward(torch.ones_like(y)), or reduce y to a scalar first "
                    "(y.sum().backward())."
                )
            if not t.dtype.is_floating_point:
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got {t.dtype}"
                )
            xp = _xp(t._data)
            g = _wrap(xp.ones(t._data.shape, dtype=t._data.dtype))
        else:
            if not isinstance(g, Tensor):
                g = _wrap(_xp(t._data).asarray(g, dtype=t._data.dtype))
            if g._data.shape != t._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of "
                    f"torch.Size({list(g._data.shape)}) and output[{i}] has a shape of "
                    f"torch.Size({list(t._data.shape)}).\n"
                    "Why: the gradient passed to backward() is dL/d(output), so it must have "
                    "exactly the output's shape."
                )
            if g._data.dtype != t._data.dtype:
                g = g.to(t.dtype)
            if not create_graph:
                g = g.detach()
        fn = t._fn
        if RESHAPED.n and fn is not None and fn._x is not None and t._out_nr in fn._x.shapes:
            g = _fits_shape(g, fn._x.shapes[t._out_nr], f"invalid gradient at index {i}")
        out.append(g)
    return out


def graph_roots(tensors) -> list:
    """``(node, output_nr)`` of each tensor a pass starts from (a leaf: its AccumulateGrad)."""
    roots = []
    for i, t in enumerate(tensors):
        fn = t.grad_fn  # a view's node is regenerated here if its memory changed in place
        if fn is None:
            if not t._rg:
                raise _not_requiring_grad(i)
            fn = accumulate_node(t)
        roots.append((fn, t._out_nr))
    return roots


_final = threading.local()  # .stack: one list of queued callbacks per backward pass running


def queue_callback(callback) -> None:
    """Call ``callback()`` when the backward pass now running has finished (torch's
    ``Variable._execution_engine.queue_callback``; DistributedDataParallel waits for its
    gradient all-reduces there).

    >>> import leafgrad
    >>> x = leafgrad.ones(2, requires_grad=True); seen = []
    >>> h = x.register_post_accumulate_grad_hook(lambda p: queue_callback(lambda: seen.append(1)))
    >>> x.sum().backward(); seen
    [1]
    """
    stack = getattr(_final, "stack", None)
    if not stack:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    stack[-1][0].append(callback)


def accumulating() -> bool:
    """Whether the backward pass now running fills ``.grad`` (``backward()``, not
    ``autograd.grad``): DistributedDataParallel averages gradients only for those.

    >>> accumulating()
    False
    """
    stack = getattr(_final, "stack", None)
    return bool(stack) and stack[-1][1]


def run_backward(tensors, grads, retain_graph: bool, create_graph: bool, inputs=None,
                 accumulate: bool = True, allow_unused: bool = True):
    """Run one backward pass, then the callbacks queued during it (``queue_callback``)."""
    stack = getattr(_final, "stack", None)
    if stack is None:
        stack = _final.stack = []
    queued: list = []
    stack.append((queued, accumulate))
    try:
        out = _run_backward(tensors, grads, retain_graph, create_graph, inputs, accumulate,
                            allow_unused)
        i = 0
        while i < len(queued):  # a callback may queue another
            queued[i]()
            i += 1
        return out
    finally:
        stack.pop()


def _run_backward(tensors, grads, retain_graph: bool, create_graph: bool, inputs=None,
                  accumulate: bool = True, allow_unused: bool = True):
    """Run one backward pass from ``tensors`` seeded with ``grads``.

    With ``inputs`` given, only gradients for those tensors are computed. With ``accumulate``
    they are added into ``.grad`` (``Tensor.backward``); otherwise returned (``autograd.grad``).

    NOTE: without ``create_graph`` the gradients travel as raw arrays and each node's backward
    formula runs on arrays (NumPy speed); with it they are Tensors and every step is recorded.
    Tensors are made only where the user can see a gradient: hooks, captures and ``.grad``.
    """
    roots = graph_roots(tensors)
    p = Pass(create_graph, retain_graph, accumulate)
    p.shared = {id(g._data) for g in grads}  # arrays the user sees: never adopted as a .grad
    deps = count_consumers(roots)
    if inputs is not None:
        p.target(inputs, deps)
    recorder = None
    if capture is not None and accumulate and inputs is None:
        recorder = p.observe = capture(tensors, grads)  # explaining(): narrate this very pass
    drive(roots, [g if create_graph else g._data for g in grads], deps, p)
    if recorder is not None:
        recorder.done()
    captured = p.captured
    if accumulate and inputs is not None:
        # backward(inputs=[non_leaf]) fills the non-leaf's .grad too, as PyTorch does
        for t, c in zip(inputs, captured):
            if t.grad_fn is not None and c is not None:
                _accumulate(t, c if create_graph else c._data, p.shared)
    if captured is not None and not allow_unused:
        for k, c in enumerate(captured):
            if c is None:
                raise RuntimeError(
                    f"One of the differentiated Tensors appears to not have been used in the graph "
                    f"(input {k}). Set allow_unused=True if this is the desired behavior.\n"
                    "Why: no path leads from the outputs back to that input, so its gradient is "
                    "not zero but undefined."
                )
    return captured


# Set by explaining() (leafgrad.autograd.explanation.capture): called with (tensors, grads) at
# the start of a plain backward(), it returns an observer of the pass (see Pass.observe).
capture = None


def count_consumers(roots) -> dict:
    """For every node reachable from ``roots``: how many edges point at it (its consumers)."""
    deps: dict = {fn: 0 for fn, _ in roots}  # roots start visited, with no consumers yet
    stack = list(deps)
    get_dep = deps.get
    while stack:
        fn = stack.pop()
        for nxt, _ in fn.next_functions:
            if nxt is not None:
                c = get_dep(nxt)
                if c is None:
                    deps[nxt] = 1
                    stack.append(nxt)
                else:
                    deps[nxt] = c + 1
    return deps


def drive(roots, seeds, deps: dict, p: Pass) -> None:
    """The scheduler: run ``p.visit(node, grad)`` for every node, each once all its consumers ran.

    The one walk of the graph, driven by the engine and by the stepper (so explain's narration
    is the pass that fills ``.grad``). Gradients arriving at a node are summed in its buffer;
    a node runs when its last consumer has run (no sorting, no recursion). ``visit`` returns
    the gradients for ``node.next_functions``, or None to stop there (a leaf, a pruned branch).
    NOTE: a node whose last consumer just ran, and that has no gradient waiting in a buffer,
    runs next with the gradient handed over directly (depth first, no trip through the buffers).
    """
    buffers: dict = {}
    for (fn, nr), g in zip(roots, seeds):
        _add(buffers, fn, nr, g)
    ready = [fn for fn in dict.fromkeys(fn for fn, _ in roots) if not deps[fn]]
    pop_buffer, get_buffer, push, visit = buffers.pop, buffers.get, ready.append, p.visit
    early = p.targets is None  # leaves accumulate as soon as complete (see below)
    reshaped = RESHAPED.n  # some node's output changed shape outside autograd: check edges
    fn = None
    prev_enabled = state.enabled
    state.enabled = p.create_graph  # a graph of the backward is built only with create_graph
    token = _quiet_on(_IGNORE)  # inf / nan in a gradient are values, as in PyTorch: no warnings
    try:
        while ready:
            fn = ready.pop()
            g = pop_buffer(fn, None)
            while fn is not None:
                results = visit(fn, g)
                if results is None:
                    break
                nexts = fn.next_functions
                if reshaped:
                    results = _fit_recorded_shapes(fn, nexts, results)
                fn = None
                n = len(nexts)
                if len(results) < n:
                    n = len(results)  # (as zip would: a backward may return fewer)
                i = 0
                while i < n:  # NOTE: for ... in zip(nexts, results) costs 3x this, per node
                    nxt, nr = nexts[i]
                    gi = results[i]
                    i += 1
                    if nxt is None:
                        continue
                    d = deps[nxt] - 1
                    if d:
                        deps[nxt] = d  # (a count reaching 0 is not read again)
                    elif ((kind := type(nxt)) is AccumulateGrad and early and nxt._x is None
                          or kind is _NotImplemented and (gi is not None or nxt in buffers)):
                        # NOTE: PyTorch's top-priority nodes (sequence number UINT64_MAX) run
                        # as soon as they are complete, in edge order. A leaf accumulates now,
                        # so that post-accumulate hooks (DDP's all-reduce) start while the rest
                        # of the pass runs (AccumulateGrad has nothing downstream); a
                        # NotImplemented node raises (or, pruned by autograd.grad, returns
                        # None) before the leaves completing with it accumulate anything
                        acc = pop_buffer(nxt, None)
                        if gi is not None:
                            acc = gi if acc is None else acc + gi
                        visit(nxt, acc)
                        continue
                    if gi is not None:
                        if nxt._nout != 1:
                            _add(buffers, nxt, nr, gi)
                        elif d == 0 and fn is None and not buffers:
                            fn, g = nxt, gi  # hand over (nothing waits in any buffer: a chain)
                            continue
                        else:
                            prev = get_buffer(nxt)
                            if prev is not None:
                                buffers[nxt] = prev + gi  # paths meet: sum (recorded if building)
                                if d == 0:
                                    push(nxt)
                                continue
                            if d == 0 and fn is None:
                                fn, g = nxt, gi  # hand over: run it next
                                continue
                            buffers[nxt] = gi
                    if d == 0:
                        push(nxt)
    except RuntimeError as e:  # name the user's line that created the failing node, if recorded
        site = getattr(fn, "_site", None) if fn is not None else None
        if site is not None:
            e.add_note(f'{fn.name()} was created at File "{site.filename}", line {site.lineno}: '
                       f"{site.line}")
        raise
    finally:
        _quiet_off(token)
        state.enabled = prev_enabled


class Pass:
    """One backward pass: its settings, and ``visit``, the work at each node (see ``drive``).

    ``dry`` (the stepper: explain, ``backward_steps``) computes every gradient as a real pass
    would, hooks included, but writes nothing: no ``.grad``, no retained grads, no freed
    saved tensors, no post-accumulate hooks. ``observe`` (explain) sees each node's work.
    """

    __slots__ = ("create_graph", "raw", "retain", "accumulate", "dry", "anomaly", "shared",
                 "targets", "captured", "needed", "observe")

    def __init__(self, create_graph: bool, retain_graph: bool, accumulate: bool,
                 dry: bool = False) -> None:
        self.create_graph = create_graph
        self.raw = not create_graph  # gradients travel as raw arrays
        self.retain = retain_graph or dry
        self.accumulate = accumulate and not dry
        self.dry = dry
        self.anomaly = _anomaly.state.enabled  # fixed for the whole pass
        self.shared: set = set()
        self.targets = self.captured = self.needed = self.observe = None

    def target(self, inputs, deps: dict) -> None:
        """Capture the gradients flowing into ``inputs`` (autograd.grad, backward(inputs=...))."""
        targets: dict = {}
        for k, t in enumerate(inputs):
            if t.grad_fn is None:
                if not t.requires_grad:  # (a view of a leaf made to require grad later does)
                    raise RuntimeError(
                        f"One of the differentiated Tensors does not require grad (input {k})\n"
                        "Why: only tensors that require grad have a gradient to ask for."
                    )
                targets.setdefault((accumulate_node(t), 0), []).append(k)
            else:
                targets.setdefault((t.grad_fn, t._out_nr), []).append(k)
        self.targets = targets
        self.captured = [None] * len(inputs)
        self.needed = _nodes_leading_to({fn for fn, _ in targets}, deps.keys())

    def visit(self, fn, g):
        """Hooks, capture, then ``fn``'s backward; the gradients for its inputs, or None."""
        x = fn._x
        if x is not None and g is not None:
            g = _run_pre_hooks(fn, g, self)
        if self.targets is not None:
            _capture(fn, g, self)
            if fn.__class__ is AccumulateGrad:
                if g is not None and (fn, 0) in self.targets:
                    self.leaf(fn, g)
                return None
            if not any(n in self.needed for n, _ in fn.next_functions if n is not None):
                return None
        elif type(fn) is AccumulateGrad:
            if g is not None:
                self.leaf(fn, g)
            elif self.observe is not None:
                self.observe.leaf(fn, None)
            return None
        single = fn._nout == 1
        if g is None or (not single and all(v is None for v in g)):
            results = (None,) * len(fn.next_functions)
            if self.observe is not None:
                self.observe.node(fn, None, None, results)
            return results
        vers = fn._vers
        # an int is the in-place epoch when saved: unchanged, nothing was modified since
        if vers is not None and (type(vers) is not int or vers != EPOCH.v):
            fn._check_saved()  # modified in place since, freed, or packed by hooks
        masked = None if self.targets is None else _mask_unneeded(fn, self.needed)
        if masked is None:
            results = raw = fn.backward(g) if single else fn.backward(*g)
        else:
            try:
                results = raw = fn.backward(g) if single else fn.backward(*g)
            finally:
                fn.needs_input_grad = masked  # the node's own flags again
        if type(results) is not tuple:
            results = raw = (results,)
        if self.anomaly:
            _anomaly.check_backward_outputs(fn, results)
        if fn._meta is not None:
            results = _fit(fn, results, g)
        if x is not None and x.hooks:
            results = _run_post_hooks(fn, results, g, self.raw)
        if self.observe is not None:
            self.observe.node(fn, g, raw, results)
        if vers is not None and not self.retain and (fn.saved_for is None or
                                                     not fn._saves_nothing()):
            # free what the node saved as soon as its backward has run
            fn.inputs = fn._out = fn._kept = None
            fn._vers = RELEASED
            if fn.saved_state:
                for name in fn.saved_state:
                    setattr(fn, name, None)
        return results

    def leaf(self, fn, g) -> None:
        """AccumulateGrad: the leaf's own hooks, then into ``.grad`` (a dry pass only observes)."""
        var = fn.variable
        if not var._rg:
            return  # requires_grad_(False) / detach_() since the graph was built: as PyTorch
        if not self.dry:
            if self.accumulate:
                _accumulate(var, g, self.shared, self.observe, fn)
            return
        g = _leaf_hooks(var, g, self.shared)
        if g.dtype != var._data.dtype:
            g = g.astype(var._data.dtype) if self.raw else g.to(var.dtype)
        if self.observe is not None:
            self.observe.leaf(fn, g)


def _mask_unneeded(fn, needed: set) -> tuple | None:
    """autograd.grad: switch off ``fn.needs_input_grad`` for inputs whose edge leads to no
    target, as PyTorch's engine does, so their gradients are neither computed nor, with
    create_graph, recorded (``grad(out, x)`` skips every weight's gradient). Returns the flags
    to put back after the node's backward, or None when nothing changed."""
    need = fn.needs_input_grad
    if need is None:
        return None
    for k, (n, _) in zip(need, fn.next_functions):
        if k and n not in needed:
            break
    else:
        return None  # every input asked for leads to a target (the usual case)
    if isinstance(fn, _FunctionCtx):  # a custom Function's ctx.needs_input_grad: the user's
        return None
    fn.needs_input_grad = tuple(k and nf[0] in needed for k, nf in zip(need, fn.next_functions))
    return need


def _capture(fn, g, p: Pass) -> None:
    """autograd.grad / backward(inputs=...): keep the gradient flowing into a target."""
    leaf = fn.variable if fn.__class__ is AccumulateGrad else None
    for nr in range(fn._nout):
        for k in p.targets.get((fn, nr), ()):
            gk = g if fn._nout == 1 else (g[nr] if g is not None else None)
            if gk is not None and leaf is not None:
                # PyTorch's validate_outputs: a leaf's gradient in the leaf's shape and dtype
                if gk.shape != leaf._data.shape:
                    gk = _leaf_shape(gk, leaf._data.shape)
                if gk.dtype != leaf._data.dtype:
                    gk = gk.astype(leaf._data.dtype) if p.raw else gk.to(leaf.dtype)
            if gk is not None:
                p.shared.add(id(gk if p.raw else gk._data))
                if p.raw:
                    gk = _wrap(gk)
            p.captured[k] = gk


def _nodes_leading_to(target_nodes: set, graph_nodes: set) -> set:
    """Nodes from which some target node can be reached (only those need to run)."""
    # Build reverse edges once, then walk up from the targets.
    parents: dict = {}
    for fn in graph_nodes:
        for nxt, _ in fn.next_functions:
            if nxt is not None:
                parents.setdefault(nxt, []).append(fn)
    needed = set()
    stack = [t for t in target_nodes if t in graph_nodes]
    while stack:
        n = stack.pop()
        if n in needed:
            continue
        needed.add(n)
        stack.extend(parents.get(n, ()))
    return needed


def _add(buffers: dict, fn, nr: int, g) -> None:
    """Add gradient ``g`` into ``fn``'s input buffer for output ``nr`` (several paths meet here)."""
    if fn._nout == 1:
        prev = buffers.get(fn)
        buffers[fn] = g if prev is None else prev + g
    else:
        buf = buffers.get(fn)
        if buf is None:
            buf = buffers[fn] = [None] * fn._nout
        buf[nr] = g if buf[nr] is None else buf[nr] + g


def _fit_recorded_shapes(fn, nexts: tuple, results: tuple) -> tuple:
    """PyTorch's validate_outputs for nodes whose output changed shape in place outside
    autograd (``keep_recorded_shape``): a gradient must fit the shape the next node recorded,
    summed to it when that shape expands to the gradient's, else the pass fails."""
    out = None
    for i, ((nxt, nr), g) in enumerate(zip(nexts, results)):
        x = nxt._x if nxt is not None else None
        if x is None or g is None or nr not in x.shapes:
            continue
        fixed = _fits_shape(g, x.shapes[nr], f"Function {fn.name()} returned an invalid "
                            f"gradient at index {i}")
        if fixed is not g:
            out = list(results) if out is None else out
            out[i] = fixed
    return results if out is None else tuple(out)


def _fits_shape(g, shape: tuple, what: str):
    """``g`` when of ``shape``; summed to it when ``shape`` expands to ``g``'s; else an error
    in PyTorch's words (``what``: which gradient)."""
    gs = tuple(g.shape)
    if gs == shape:
        return g
    if dual.expands_to(shape, gs):
        return dual.sum_to(g, shape)
    raise RuntimeError(
        f"{what} - got {list(gs)} but expected shape compatible with {list(shape)}\n"
        "Why: the tensor's shape was changed in place outside autograd (e.g. t_() or "
        "squeeze_() under no_grad) after the op that made it was recorded; that op's "
        "derivative is for the shape it saw. Change the shape out of place (t(), squeeze()) "
        "or outside the graph (detach() first)."
    )


def _fit(fn, results: tuple, grad) -> tuple:
    """Sum broadcast gradients back to each input's shape and cast to its dtype (done once here).

    ``fn._meta`` exists when some input's shape or dtype differs from the output's; an entry of
    None means "like the output". NOTE: the dtype is checked for every input then, because NumPy
    promotes some mixes past PyTorch's result (float32 grad * float64 0-d input is float64).
    """
    out = list(results)
    out_dt = grad.dtype if fn._nout == 1 else None
    for i, (g, meta) in enumerate(zip(results, fn._meta)):
        if g is None:
            continue
        if meta is None:
            if out_dt is not None and g.dtype != out_dt:
                out[i] = dual.to_dtype(g, out_dt)
            continue
        shape, dt = meta
        if g.shape != shape:
            g = dual.sum_to(g, shape, fn, i)
        if dual.raw(g).dtype != dt:  # dt: a NumPy dtype (a Tensor's .dtype is leafgrad's)
            g = dual.to_dtype(g, dt)
        out[i] = g
    return tuple(out)


def _run_pre_hooks(fn, g, p: Pass):
    """Tensor hooks and retain_grad on ``fn``'s outputs, then the node's own pre-hooks."""
    x = fn._x
    raw = p.raw
    grads = [g] if fn._nout == 1 else list(g)
    for nr in range(fn._nout):
        if grads[nr] is None:
            continue
        hooks = x.tensor_hooks.get(nr, ())
        ref = x.retained.get(nr)
        if not hooks and ref is None:
            continue
        gt = _wrap(grads[nr]) if raw else grads[nr]
        for h in hooks:
            r = h(gt)
            if r is not None:
                gt = r
                p.shared.add(id(gt._data))
        if ref is not None and not p.dry:
            _retain(ref(), gt)
        grads[nr] = gt._data if raw else gt
    if x.pre_hooks:
        gts = tuple(_wrap(v) if raw and v is not None else v for v in grads)
        for h in x.pre_hooks:
            r = h(gts)
            if r is not None:
                gts = tuple(r)
        grads = [v._data if raw and v is not None else v for v in gts]
    return grads[0] if fn._nout == 1 else grads


def _run_post_hooks(fn, results: tuple, g, raw: bool) -> tuple:
    def t(v):
        return _wrap(v) if raw and v is not None else v

    grad_outputs = (t(g),) if fn._nout == 1 else tuple(t(v) for v in g)
    res = tuple(t(v) for v in results)
    for h in fn._x.hooks:
        r = h(res, grad_outputs)
        if r is not None:
            res = tuple(r)
    return tuple(v._data if raw and v is not None else v for v in res)


def _retain(t, g) -> None:
    """retain_grad(): keep a copy of a non-leaf's gradient in its ``.grad``."""
    if t is None:
        return
    if t._grad is None:
        t._grad = g.detach().clone() if not state.enabled else g.clone()
    else:
        t._grad = t._grad + g


def _leaf_hooks(var, g, shared: set):
    """The hooks registered on leaf ``var`` (``register_hook``), run on its incoming gradient."""
    x = var._x
    if x is None or not x.hooks:
        return g
    raw = not isinstance(g, Tensor)
    gt = _wrap(g) if raw else g
    for h in x.hooks:
        r = h(gt)
        if r is not None:
            gt = r
            shared.add(id(gt._data))
    return gt._data if raw else gt


def _accumulate(var, g, shared: set, observe=None, node=None) -> None:
    """AccumulateGrad: add ``g`` into the leaf's ``.grad`` (the one place leaves are written).

    ``g`` is a raw array in a plain backward, a Tensor with ``create_graph``.
    """
    if not var._rg:
        return  # requires_grad_(False) / detach_() since the graph was built: as PyTorch
    raw = not isinstance(g, Tensor)
    if g.shape != var._data.shape:
        g = _leaf_shape(g, var._data.shape)
    g = _leaf_hooks(var, g, shared)
    if g.dtype != var._data.dtype:
        g = g.astype(var._data.dtype) if raw else g.to(var.dtype)
    if observe is not None:
        observe.leaf(node, g)
    x = var._x
    old = var._grad
    if old is None:
        if not raw:
            var._grad = g  # with create_graph, .grad keeps its graph (as in PyTorch)
            return _post_accumulate(var, x)
        # Adopt the array only when nothing else can see it; otherwise copy (a later in-place
        # update of .grad, e.g. by an optimizer, must not write into another tensor's memory).
        if g.__class__ is not np.ndarray or g.base is not None or not g.flags.writeable \
                or id(g) in shared:
            g = np.array(g) if isinstance(g, np.generic) else g.copy()
        shared.add(id(g))
        var._grad = _wrap(g)
    elif not raw or old._rg or not writeable(old._data):
        # (a .grad kept from a create_graph pass may be a read-only broadcast: out of place)
        var._grad = old + (_wrap(g) if raw else g)
    else:
        # NOTE: like PyTorch's AccumulateGrad, accumulate in place when no graph is being built
        old._data += g
        old._bump_version()
    _post_accumulate(var, x)


def _leaf_shape(g, shape: tuple):
    """``g`` summed to the leaf's shape when it broadcasts to ``g``'s (PyTorch's
    validate_outputs: a shape-changing in-place op under no_grad, e.g. ``unsqueeze_`` on a
    non-leaf whose view is then back-propagated, sends a gradient with extra size-1 dims)."""
    shape = tuple(shape)
    if not dual.expands_to(shape, tuple(g.shape)):
        return g  # not expandable: left as is
    return dual.sum_to(g, shape)


def _post_accumulate(var, x) -> None:
    if x is not None and x.post_hooks:
        for h in x.post_hooks:
            h(var)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables=None, inputs=None) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves they depend on.

    >>> import leafgrad
    >>> x = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> backward((x * x).sum()); x.grad
    tensor([2., 4.])
    """
    if grad_variables is not None:
        warnings.warn("'grad_variables' is deprecated. Use 'grad_tensors' instead.", stacklevel=2)
        grad_tensors = grad_variables
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    else:
        grad_tensors = tuple(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(
            f"got {len(grad_tensors)} tensors and {len(tensors)} gradients; pass one gradient "
            "per output (None for a scalar output)"
        )
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    if retain_graph is None:
        retain_graph = create_graph
    grads = make_root_grads(tensors, grad_tensors, create_graph)
    run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple:
    """Return the gradients of ``outputs`` with respect to ``inputs`` (nothing is accumulated).

    >>> import leafgrad
    >>> x = leafgrad.tensor(3.0, requires_grad=True)
    >>> grad(x ** 2, x)
    (tensor(6.),)
    """
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    else:
        grad_outputs = tuple(grad_outputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    grads = make_root_grads(outputs, grad_outputs, create_graph)
    res = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                       accumulate=False, allow_unused=allow_unused)
    if materialize_grads:
        from .. import zeros_like

        res = [zeros_like(i) if r is None else r for r, i in zip(res, inputs)]
    return tuple(res)
