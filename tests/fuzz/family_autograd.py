"""The kinds of lines a program is made of (3/3): autograd (backward, autograd.grad, second
order, a second backward, retain_grad...) and the scenarios of issue 9's classes 1, 3 and 4."""

from __future__ import annotations

import torch

from .families import op_row
from .family_views import inplace, view
from .generate import Gen, _Skip


# -- autograd --------------------------------------------------------------------------------
def _grad_leaves(g: Gen) -> list[str]:
    return g.tensors(lambda t: t.is_leaf and t.requires_grad)


def backward(g: Gen, closing: bool = False, y: str | None = None) -> None:
    """backward / autograd.grad / second order / a second backward through the same graph."""
    r = g.rng
    if y is not None and not isinstance(g.val(y), torch.Tensor):
        y = None
    y = y or g.pick(lambda t: t.requires_grad and t.is_floating_point(), recent=0.7)
    if y is None:
        if closing:
            return
        y = g.pick(recent=0.7)
        if y is None:
            raise _Skip
    t = g.val(y)
    s = tuple(t.shape)
    k = r.random()
    opts = []
    if r.random() < 0.3:
        opts.append("retain_graph=True")
    if r.random() < 0.15:
        opts.append("create_graph=True")
    o = ", ".join(opts)
    if k < 0.35:
        code = f"{y}.sum().backward({o})"
    elif k < 0.65:
        gv = g.values(s, str(t.dtype)[6:]) if t.is_floating_point() else None
        if gv is None:
            code = f"{y}.backward({o})"
        else:
            from .program import nested
            gt = f"torch.tensor({nested(gv)}, dtype={t.dtype})"
            code = f"{y}.backward({gt}{', ' + o if o else ''})"
    elif k < 0.8 and not s:
        code = f"{y}.backward({o})"
    else:
        leaves = _grad_leaves(g) or [y]
        ins = r.sample(leaves, r.randint(1, min(2, len(leaves))))
        name = g.fresh()
        opt = ", ".join(opts + ["allow_unused=True"])
        code = f"{name} = torch.autograd.grad({y}.sum(), [{', '.join(ins)}], {opt})"
        ok = g.emit(code, "grad", "grad", (name,))
        if ok and "create_graph=True" in opts and r.random() < 0.7:
            gg = g.val(name)
            if gg and gg[0] is not None and gg[0].requires_grad:
                g.emit(f"{name}[0].sum().backward()", "grad2:backward", "backward")
        return
    ok = g.emit(code, "backward", "backward")
    if r.random() < 0.25 or (ok and "retain_graph=True" in opts and r.random() < 0.5):
        g.emit(code, "backward:again", "backward")      # the same graph a second time
    if ok and "create_graph=True" in opts and r.random() < 0.6:
        leaves = [v for v in _grad_leaves(g) if g.val(v).grad is not None
                  and g.val(v).grad.requires_grad]
        if leaves:
            v = r.choice(leaves)
            name = g.fresh()
            g.emit(f"{name} = torch.autograd.grad({v}.grad.sum(), [{v}], allow_unused=True)",
                   "grad2:grad", "grad", (name,))


def meta(g: Gen) -> None:
    """Autograd state changes: retain_grad, requires_grad_, grad = None, grad.zero_()."""
    r = g.rng
    # not on views: torch regenerates the grad_fn of a view of a leaf view from the leaf's
    # base, a quirk no program should depend on (README.md, "Excluded")
    x = g.pick(lambda t: not t._is_view())
    if x is None:
        raise _Skip
    c = [f"{x}.retain_grad()", f"{x}.requires_grad_()", f"{x}.requires_grad_(False)",
         f"{x}.grad = None", f"{x}.grad.zero_()", f"{x}.detach_()"]
    code = r.choice(c)
    g.emit(code, "meta:" + code.split(".", 1)[1].split("(")[0].split(" ")[0], "meta")


# -- scenarios: the sequences the classes 1, 3 and 4 are made of -----------------------
def view_chain(g: Gen) -> None:
    """Non-leaf base, a view (or two), an in-place op on the base / view / sibling, backward."""
    r = g.rng
    x = g.leaf(dtype=g.dtype(floats_only=True), rg=True)
    b = g.fresh()
    g.emit(f"{b} = {x} * {r.choice(('1', '2', '-1'))}", "op:mul_scalar", "op", (b,))
    v = view(g, b)
    views = [v]
    if r.random() < 0.4:
        views.append(view(g, b))
    live = [n for n in [b] + views if isinstance(g.val(n), torch.Tensor)]
    inplace(g, r.choice(live))
    backward(g, y=r.choice(live))


def saved_chain(g: Gen) -> None:
    """An op on a non-leaf input, then that input or the output modified in place, backward."""
    r = g.rng
    a = op_row(g, nonleaf_first=True)
    y = g.prog.stmts[-1].writes[0] if g.prog.stmts[-1].writes else None
    target = r.choice([t for t in (a, y) if t is not None and isinstance(g.val(t),
                                                                          torch.Tensor)] or [a])
    if target is not None and isinstance(g.val(target), torch.Tensor):
        inplace(g, target)
    backward(g, y=y)
