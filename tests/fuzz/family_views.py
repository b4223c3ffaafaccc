"""The kinds of lines a program is made of (2/3): views, in-place ops (aliasing included) and
indexing (getitem / setitem with every index kind)."""

from __future__ import annotations

import ast
import math

import torch

from .families import _broadcastable, _bshape, _dim, _dimval, _idx, _shape
from .generate import Gen, _Skip


# -- views and aliases ----------------------------------------------------------------------
def _factor(g: Gen, n: int) -> tuple[int, ...]:
    """A random shape with ``n`` elements (one entry may be -1)."""
    r = g.rng
    dims = []
    m = n
    for _ in range(r.randint(0, 2)):
        ds = [k for k in range(1, m + 1) if m % k == 0] if m else [0, 1, 2]
        k = r.choice(ds)
        dims.append(k)
        m = m // k if k else m
    dims.append(m)
    r.shuffle(dims)
    if dims and r.random() < 0.3:
        dims[r.randrange(len(dims))] = -1
    return tuple(dims)


def _slice(g: Gen, n: int) -> str:
    r = g.rng
    a = r.choice(("", str(r.randint(-n - 1, n)), str(r.randint(0, max(n - 1, 0)))))
    b = r.choice(("", str(r.randint(-n, n + 1))))
    c = r.choice(("", "", "2", "3", "1")) if r.random() < 0.97 else r.choice(("0", "-1"))
    return f"{a}:{b}" + (f":{c}" if c else "")


def view(g: Gen, x: str | None = None) -> str:
    """A view (or an alias-returning op) of a variable; in-place lines then write through it."""
    r = g.rng
    x = x or g.pick(recent=0.4) or g.leaf()
    s = _shape(g, x)
    nd = len(s)
    n = math.prod(s)
    c: list[tuple[str, str]] = [
        ("None", f"{x}[None]"), ("ellipsis", f"{x}[...]"), ("detach", f"{x}.detach()"),
        ("view_as", f"{x}.view_as({x})"), ("squeeze", f"{x}.squeeze()"),
        ("unsqueeze", f"{x}.unsqueeze({_dim(g, nd, 1)})"), ("view_flat", f"{x}.view(-1)"),
        ("reshape", f"{x}.reshape({_factor(g, n)})"), ("view", f"{x}.view({_factor(g, n)})"),
        ("contiguous", f"{x}.contiguous()"), ("to_same", f"{x}.to({g.val(x).dtype})"),
        ("data", f"{x}.data"), ("T", f"{x}.T"), ("flatten", f"{x}.flatten()"),
        ("as_tensor", f"torch.as_tensor({x})"), ("real", f"{x}.real"),
        ("empty_index", f"{x}[()]"),
    ]
    if nd <= 2:
        c.append(("t", f"{x}.t()"))
    if nd >= 1:
        d, d2 = _dim(g, nd), _dim(g, nd)
        i = _idx(g, s[0])
        perm = list(range(nd))
        r.shuffle(perm)
        dv = _dimval(d, nd)
        size = s[dv] if dv is not None else 1
        c += [
            ("select_int", f"{x}[{i}]"), ("slice", f"{x}[{_slice(g, s[0])}]"),
            ("transpose", f"{x}.transpose({d}, {d2})"), ("permute", f"{x}.permute{tuple(perm)}"
                                                         if nd > 1 else f"{x}.permute(0)"),
            ("ellipsis_int", f"{x}[..., {_idx(g, s[-1])}]"), ("select", f"{x}.select({d}, {i})"),
            ("narrow", f"{x}.narrow({d}, {r.randint(-size, size)}, {r.randint(0, size)})"),
            ("unfold", f"{x}.unfold({d}, {r.randint(0, size + 1)}, {r.randint(1, 2)})"),
            ("unbind", f"{x}.unbind({d})[{r.randint(-1, max(size - 1, 0))}]"),
            ("split", f"{x}.split({r.randint(1, 2)}, {d})[{r.randint(-1, 1)}]"),
            ("chunk", f"{x}.chunk({r.randint(1, 3)}, {d})[{r.randint(0, 1)}]"),
            ("movedim", f"{x}.movedim({d}, {d2})"), ("squeeze_dim", f"{x}.squeeze({d})"),
            ("expand", f"{x}.expand({(2,) + tuple(s)})"),
            ("expand_1", f"{x}.expand({tuple(-1 if k != 1 else r.randint(1, 3) for k in s)})"),
            ("unflatten", f"{x}.unflatten(0, {_factor(g, s[0])})"),
            ("as_strided", f"{x}.as_strided(({max(n - 1, 0)},), (1,), {min(n, 1)})"),
            ("swapaxes", f"{x}.swapaxes({d}, {d2})"), ("tensor_split",
                                                       f"{x}.tensor_split(2, {d})[1]"),
        ]
    if nd >= 2:
        c += [
            ("select_2", f"{x}[{_idx(g, s[0])}, {_idx(g, s[1])}]"), ("mT", f"{x}.mT"),
            ("slice_2", f"{x}[:, {_slice(g, s[1])}]"),
            ("diagonal", f"{x}.diagonal({r.randint(-1, 1)}, {_dim(g, nd)}, {_dim(g, nd)})"),
        ]
    label, code = r.choice(c)
    name = g.fresh()
    g.emit(f"{name} = {code}", f"view:{label}", "view", (name,), base=g.root(x))
    return name


# -- in-place ------------------------------------------------------------------------------
_INPLACE_ANY = ("add_", "sub_", "mul_", "zero_", "fill_", "copy_", "clamp_", "neg_", "abs_",
                "masked_fill_", "index_fill_", "index_add_", "scatter_", "+=", "-=", "*=",
                "squeeze_", "unsqueeze_", "t_", "pow_")
_INPLACE_FLOAT = ("div_", "exp_", "log_", "sin_", "tanh_", "sigmoid_", "relu_", "sqrt_",
                  "floor_", "round_", "sign_", "/=", "lerp_", "addcmul_", "clamp_min_",
                  "nan_to_num_", "reciprocal_", "logit_", "requires_grad_", "detach_")


def _target(g: Gen) -> str | None:
    """Where to write: a view, a base with views, a sibling, or an input/output of the last op."""
    r = g.rng
    k = r.random()
    views = [v for v, i in g.info.items() if i.base and v in g.ns
             and isinstance(g.val(v), torch.Tensor)]
    if k < 0.3 and views:
        return r.choice(views)
    if k < 0.35:
        return g.pick(lambda t: not (t.is_leaf and t.requires_grad))
    if k < 0.5 and views:
        return g.root(r.choice(views))
    if k < 0.75 and g.last_op is not None:
        cands = [n for n in g.last_op.reads + g.last_op.writes
                 if isinstance(g.val(n), torch.Tensor)]
        if cands:
            return r.choice(cands)
    return g.pick(recent=0.5)


def _operand(g: Gen, x: str) -> str:
    """A right-hand side for an in-place op on ``x``: scalar, alias, sibling or new tensor."""
    r = g.rng
    s = _shape(g, x)
    k = r.random()
    if k < 0.35:
        return g.scalar()
    if k < 0.47:
        return x                        # x.op_(x): full overlap with itself
    if k < 0.6:
        sib = [v for v in g.views_of(g.root(x)) + [g.root(x)] if v != x
               and isinstance(g.val(v), torch.Tensor)]
        if sib:
            return r.choice(sib)        # a sibling view or the base: may partially overlap
    if k < 0.7 and len(s) == 2 and s[0] == s[1]:
        return f"{x}.t()"
    y = g.pick(lambda t: _broadcastable(tuple(t.shape), s) and t is not g.val(x))
    if y is not None and r.random() < 0.5:
        return y
    dt = str(g.val(x).dtype)[6:]
    return g.leaf(_bshape(g, s), dt if r.random() < 0.8 else g.dtype())


def inplace(g: Gen, x: str | None = None) -> None:
    """An in-place op on a base, a view or a sibling (aliasing and no_grad included)."""
    r = g.rng
    x = x or _target(g)
    if x is None or not isinstance(g.val(x), torch.Tensor):
        raise _Skip
    t = g.val(x)
    ops = _INPLACE_ANY + (_INPLACE_FLOAT if t.is_floating_point() or r.random() < 0.1 else ())
    op = r.choice(ops)
    s = tuple(t.shape)
    nd = len(s)
    if op in ("+=", "-=", "*=", "/="):
        code = f"{x} {op} {_operand(g, x)}"
        if r.random() < 0.25:
            code = f"{x}[:] {op} {_operand(g, x)}"  # getitem, in-place op, setitem back
    elif op in ("zero_", "neg_", "abs_", "exp_", "log_", "sin_", "tanh_", "sigmoid_", "relu_",
                "sqrt_", "floor_", "round_", "sign_", "t_", "squeeze_", "nan_to_num_",
                "reciprocal_", "requires_grad_", "detach_", "logit_"):
        code = f"{x}.{op}()"
    elif op == "unsqueeze_":
        code = f"{x}.unsqueeze_({_dim(g, nd, 1)})"
    elif op == "fill_":
        code = f"{x}.fill_({g.scalar() if r.random() < 0.8 else _operand(g, x)})"
    elif op in ("clamp_", "clamp_min_"):
        code = f"{x}.{op}({g.scalar()})" if op == "clamp_min_" else \
            f"{x}.clamp_({r.choice(('min=', 'max=', ''))}{_operand(g, x)})"
    elif op == "pow_":
        code = f"{x}.pow_({r.choice(('2', '0.5', '-1', '3', _operand(g, x)))})"
    elif op == "masked_fill_":
        code = f"{x}.masked_fill_({x} > 0, {g.scalar()})"
    elif op in ("index_fill_", "index_add_", "scatter_"):
        d = _dim(g, nd)
        dv = _dimval(d, nd)
        size = s[dv] if dv is not None else 1
        il = [_idx(g, size) for _ in range(r.randint(1, 2))]
        if op == "index_fill_":
            code = f"{x}.index_fill_({d}, torch.tensor({il}), {g.scalar()})"
        elif op == "index_add_":
            ss = list(s)
            if dv is not None:
                ss[dv] = len(il)
            src = g.leaf(tuple(ss), str(t.dtype)[6:], layout="contig")
            code = f"{x}.index_add_({d}, torch.tensor({il}), {src})"
        else:
            code = f"{x}.scatter_({d}, torch.zeros({s}, dtype=torch.int64), {g.scalar()})"
    elif op == "lerp_":
        code = f"{x}.lerp_({_operand(g, x)}, {r.choice(('0.5', '0.25', _operand(g, x)))})"
    elif op == "addcmul_":
        code = f"{x}.addcmul_({_operand(g, x)}, {_operand(g, x)}, value={g.scalar()})"
    elif op == "logit_":
        code = f"{x}.logit_()"
    else:  # add_ sub_ mul_ div_ copy_
        rhs = _operand(g, x)
        if r.random() < 0.15 and nd == 2 and s[0] == s[1]:
            code = f"{x}.t().{op}({x})"     # partial overlap of the written view and the input
        else:
            code = f"{x}.{op}({rhs})"
    if r.random() < 0.15:
        code = "with torch.no_grad():\n    " + code
    g.emit(code, f"inplace:{op}", "inplace", undefined=_alias_undefined(g, code))


def _elements(t: torch.Tensor) -> set[int]:
    """The storage offsets (in elements) a small tensor covers."""
    offs = {t.storage_offset()} if t.numel() else set()
    for size, stride in zip(t.shape, t.stride()):
        offs = {o + k * stride for o in offs for k in range(size)}
    return offs


def _alias_undefined(g: Gen, code: str) -> bool:
    """True when an in-place line reads memory it writes through a *different* layout.

    torch refuses such partial overlaps only when it can prove them (dense, non-overlapping
    tensors); otherwise (a strided or broadcast operand: "TOO_HARD") it computes the result
    in its kernel's order, so the value is not defined and cannot serve as the oracle. A full
    overlap with the same layout (``x.mul_(x)``) is elementwise and well defined.
    """
    try:
        st = ast.parse(code).body[0]
    except SyntaxError:
        return False
    if isinstance(st, ast.With):
        st = st.body[0]
    if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(
            st.value.func, ast.Attribute):
        target, args = st.value.func.value, st.value.args + [k.value for k in st.value.keywords]
    elif isinstance(st, ast.AugAssign):
        target, args = st.target, [st.value]
    elif isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Subscript):
        target, args = st.targets[0], [st.value]
    else:
        return False
    env = dict(g.ns)
    try:
        with torch.no_grad():
            a = eval(ast.unparse(target), env)  # noqa: S307 (our own text)
            if not isinstance(a, torch.Tensor):
                return False
            ea = _elements(a)
            for arg in args:
                b = eval(ast.unparse(arg), env)  # noqa: S307
                if not isinstance(b, torch.Tensor) or b.untyped_storage().data_ptr() != \
                        a.untyped_storage().data_ptr() or b.element_size() != a.element_size():
                    continue
                same = (a.storage_offset(), a.shape, a.stride()) == (
                    b.storage_offset(), b.shape, b.stride())
                if not same and ea & _elements(b):
                    return True
    except Exception:
        return False
    return False


# -- indexing ------------------------------------------------------------------------------
def _index(g: Gen, s: tuple[int, ...], for_set: bool) -> tuple[str, str]:
    """An index expression for a tensor of shape ``s`` and its kind."""
    r = g.rng
    nd = len(s)
    n0 = s[0] if nd else 0
    kinds = ["int", "slice", "none", "ellipsis", "list", "tensor", "mask", "bool", "mixed",
             "list2", "tensor0d", "mask_prefix"]
    kind = r.choice(kinds if nd else ["none", "ellipsis", "bool", "empty", "mask"])

    def ulist():
        if not n0:
            return []
        vals = r.sample(range(n0), r.randint(1, n0))
        vals = [v - n0 if r.random() < 0.3 else v for v in vals]  # negatives, still unique
        if not for_set and r.random() < 0.3:
            vals.append(vals[0])
        if r.random() < 0.07:
            vals.append(r.choice((n0, -n0 - 1)))
        return vals
    if kind == "int":
        return str(_idx(g, n0)), kind
    if kind == "slice":
        return _slice(g, n0), kind
    if kind == "none":
        return "None", kind
    if kind == "ellipsis":
        return "...", kind
    if kind == "empty":
        return "()", kind
    if kind == "bool":
        return r.choice(("True", "False")), kind
    if kind == "list":
        return str(ulist()), kind
    if kind == "tensor":
        return f"torch.tensor({ulist()}, dtype=torch.int64)", kind
    if kind == "tensor0d":
        return f"torch.tensor({_idx(g, n0)})", kind
    if kind == "mask":
        return f"{'~' if r.random() < 0.3 else ''}(torch.ones({s}) > 0)" if r.random() < 0.2 \
            else f"torch.tensor({_mask(g, s)})", kind
    if kind == "mask_prefix":
        return f"torch.tensor({_mask(g, s[:1])})", kind
    if kind == "list2" and nd >= 2:
        a = ulist()
        b = [r.randrange(s[1]) if s[1] else 0 for _ in a]
        return f"{a}, {b}", kind
    parts = []
    for k, n in enumerate(s[: r.randint(1, min(nd, 3))]):
        parts.append(r.choice((str(_idx(g, n)), _slice(g, n), "None", "...")
                              if k else (str(_idx(g, n)), _slice(g, n), str(ulist()))))
    if parts.count("...") > 1:
        parts = [p for p in parts if p != "..."]
    return ", ".join(parts) + ("," if len(parts) == 1 else ""), "mixed"


def _mask(g: Gen, s) -> list:
    import numpy as np
    return np.array([g.rng.random() < 0.5 for _ in range(math.prod(s))]).reshape(s).tolist()


def getitem(g: Gen) -> None:
    """``y = x[index]`` with every index kind (basic: a view; advanced: a copy)."""
    x = g.pick(recent=0.4) or g.leaf()
    idx, kind = _index(g, _shape(g, x), for_set=False)
    name = g.fresh()
    basic = kind in ("int", "slice", "none", "ellipsis", "empty", "mixed")
    g.emit(f"{name} = {x}[{idx}]", f"getitem:{kind}", "getitem", (name,),
           base=g.root(x) if basic else None)


def setitem(g: Gen) -> None:
    """``x[index] = value`` with every index kind and value kind (scalar, tensor, alias)."""
    r = g.rng
    x = _target(g) if r.random() < 0.5 else g.pick()
    if x is None:
        x = g.leaf()
    idx, kind = _index(g, _shape(g, x), for_set=True)
    try:
        with torch.no_grad():
            rs = tuple(g.val(x)[eval(idx, dict(g.ns))].shape)  # noqa: S307 (our own text)
    except Exception:
        rs = g.shape()
    k = r.random()
    if k < 0.35:
        v = g.scalar()
    elif k < 0.45:
        v = f"torch.tensor({g.scalar()})"
    elif k < 0.55:
        v = x if r.random() < 0.5 else f"{x}[{_idx(g, _shape(g, x)[0]) if _shape(g, x) else ''}]"
    else:
        dt = str(g.val(x).dtype)[6:] if r.random() < 0.8 else g.dtype()
        v = g.leaf(_bshape(g, rs), dt)
    code = f"{x}[{idx}] = {v}"
    g.emit(code, f"setitem:{kind}", "setitem", undefined=_alias_undefined(g, code))
