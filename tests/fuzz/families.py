"""The kinds of lines a program is made of: op-table calls, dims, views, in-place ops, setitem,
``out=``, Python-scalar arithmetic, creation, random sampling and autograd.

Each family is a function of the generator state ``g`` that appends one operation (plus the
leaves it needs). Choices are mostly valid; a small share is deliberately invalid (a dim out of
range, a float dim, an index past the end, a shape that does not broadcast) to compare errors.
"""

from __future__ import annotations

import ast
import math

import torch

from .generate import Gen, _Skip
from .optable import Template, templates

_EXTRA: list[Template] = []


def all_templates() -> tuple[Template, ...]:
    """The op table's templates plus rows whose helper is more than one expression."""
    if not _EXTRA:
        import opinfo  # noqa: F401  (templates() put tests/ on sys.path)

        rows = {r.name: r for r in __import__("opinfo").OPS}
        if "eigh" in rows:  # _eigh binds a local; the same computation in three lines
            _EXTRA.append(Template("eigh", 1, (
                ("__T0__", "torch.linalg.eigh(__A0__ + __A0__.mT)"),
                ("__T1__", "__T0__.eigenvectors"),
                (None, "__T1__ * (__T0__.eigenvalues ** 3).unsqueeze(-2) @ __T1__.mT "
                       "+ __T1__ * __T1__")), rows["eigh"]))
    return templates()[0] + tuple(_EXTRA)

# rows whose inputs must be fresh values without ties: decompositions are ill-posed on
# degenerate inputs (repeated eigen/singular values, singular matrices) and the index-returning
# ops (sort, topk, median...) may break ties either way (PyTorch does not specify which).
# products and norms of the linear-algebra table: any input is fine
_PRODUCTS = {
    "bmm_fn", "mv_fn", "dot_fn", "vdot", "inner", "outer", "ger", "addmm", "addmm_scaled",
    "addmv", "addbmm", "baddbmm", "einsum", "einsum_trace", "einsum_diag_batch",
    "einsum_sum_out", "einsum_list", "tensordot", "tensordot_int", "kron", "cross",
    "cross_linalg", "chain_matmul", "multi_dot", "matrix_power_0", "linalg_norm_ord",
    "vector_norm", "vector_norm_inf",
}


def _linalg_rows() -> set[str]:
    import opinfo  # noqa: F401  (optable put tests/ on sys.path)

    return {r.name for r in __import__("opinfo").OPS
            if r.fn.__code__.co_filename.endswith("opinfo_linalg.py")}


# every other row of the linear-algebra table (a new row lands here by default): fresh,
# finite, generic inputs. Decompositions are ill-posed on degenerate inputs, and NumPy's SVD
# never returns on some matrices holding inf (seed 4315 of the first run hung in dbdsqr, a
# hang Python cannot interrupt: fuzz_findings.md lists it; a direct test belongs with the fix)
_DECOMP = (_linalg_rows() - _PRODUCTS) | {"eigh"}
_TIES = {
    "sort", "sort_desc", "msort", "topk", "topk_small", "kthvalue", "kthvalue_keep", "median",
    "median_dim", "nanmedian", "nanmedian_dim", "mode", "quantile", "quantile_dim",
    "quantile_lower", "quantile_midpoint", "quantile_nearest", "nanquantile", "argsort",
    "sort_indices", "cummax", "cummin", "unique", "unique_consecutive",
}
# special functions: NumPy/leafgrad and torch use different series; a looser tolerance
# decompositions whose raw outputs are defined up to sign: only the row's sign-invariant
# result is compared (the raw tuple's shapes and dtypes still are)
_SIGNED = {"qr", "svd", "svd_full", "svd_old", "eigh"}
# contractions: the order of the sum decides whether inf * 0 (NaN) is reached
CONTRACTIONS = {
    "mm", "mv", "dot", "vec_mat", "bmm", "mm_method", "bmm_fn", "mv_fn", "dot_fn", "vdot",
    "inner", "addmm", "addmm_scaled", "addmv", "addbmm", "baddbmm", "einsum", "einsum_trace",
    "einsum_diag_batch", "einsum_sum_out", "einsum_list", "tensordot", "tensordot_int",
    "chain_matmul", "multi_dot", "matrix_power", "matrix_power_neg", "matrix_power_0", "@",
    "matmul", "trace", "cross", "cross_linalg", "kron", "trapezoid", "trapezoid_x",
} | _DECOMP
_SPECIAL_FN = {"lgamma", "lgamma_neg", "digamma", "polygamma", "polygamma_2", "erfinv", "erfc",
               "sinc", "logit", "logit_eps", "float_power", "float_power_scalar"}


def _tol(name: str) -> float:
    if name in _DECOMP:
        return 1000.0
    return 100.0 if name in _SPECIAL_FN else 1.0


def _dimval(d: str, nd: int) -> int | None:
    """The dim ``d`` (text) as a valid non-negative index into a shape of ``nd`` dims, or None."""
    try:
        k = int(d)
    except ValueError:
        return None
    return k % nd if nd and -nd <= k < nd else None


def _shape(g: Gen, name: str) -> tuple[int, ...]:
    return tuple(g.val(name).shape)


def _is_float(t) -> bool:
    return isinstance(t, torch.Tensor) and t.is_floating_point()


# -- op-table rows ---------------------------------------------------------------------------
# rows marked grad=False because torch's own backward fails there (tests/opinfo*.py says why):
# their inputs never require grad
_NO_GRAD_INPUTS = {"scatter_big_src", "scatter_add_big_src", "cond_fro"}


def op_row(g: Gen, nonleaf_first: bool = False) -> str | None:
    """One op-table row, on reused variables of the row's shapes or on fresh leaves.

    ``nonleaf_first``: the first input is ``leaf * 1`` (so that it can be modified in place
    afterwards: the saved-tensor scenario). Returns the first input's name.
    """
    r = g.rng
    tpl = r.choice(all_templates())
    row = tpl.row
    shapes = r.choice(list(row.shapes()))
    dts = list(row.dtypes)
    if row.int_dtypes and r.random() < 0.3:
        dts = list(row.int_dtypes)
    dtype = r.choice(dts)
    generic = row.name in _DECOMP or row.name in _TIES
    nograd = row.name in _NO_GRAD_INPUTS
    args = []
    for s in shapes:
        name = None
        k = r.random()
        if nograd:
            pass
        elif not generic and k < 0.45:
            name = g.pick(lambda t, s=s: tuple(t.shape) == tuple(s)
                          and (str(t.dtype) == f"torch.{dtype}" or r.random() < 0.1))
        elif not generic and k < 0.53:
            name = g.pick()
        if name is None:
            rg = r.random() < (0.6 if row.grad else 0.2) and not nograd
            if nonleaf_first and not args:
                rg = row.grad and dtype in ("float32", "float64")
            name = g.leaf(s, dtype, row.domain, generic, rg)
            if nonleaf_first and not args:
                base = g.fresh()
                g.emit(f"{base} = {name} * 1", "op:mul_one", "op", (base,), generic=generic)
                name = base
        args.append(name)
    _emit_template(g, tpl, args)
    return args[0] if args else None


def _node_ok(row) -> bool:
    """Whether the row's node name is leafgrad's promise (tests/opinfo.py: node_differs)."""
    return row.grad and not row.node_differs


def _emit_template(g: Gen, tpl, args, out_kw: str | None = None) -> bool:
    temps: dict[str, str] = {}
    ok = True
    for i, (target, expr) in enumerate(tpl.lines):
        code = expr
        for k, a in enumerate(args):
            code = code.replace(f"__A{k}__", a)
        for t, v in temps.items():
            code = code.replace(t, v)
        if out_kw is not None and i == len(tpl.lines) - 1:
            code = _with_out(code, out_kw)
            if code is None:
                return False
            ok = g.emit(code, f"out:{tpl.name}", "out", tol=_tol(tpl.name),
                        node_ok=_node_ok(tpl.row))
            continue
        name = g.fresh()
        if target is not None:
            temps[target] = name
        ok = g.emit(f"{name} = {code}", f"op:{tpl.name}", "op", (name,), tol=_tol(tpl.name),
                    node_ok=_node_ok(tpl.row),
                    values_ok=target is None or tpl.row.name not in _SIGNED)
        if not ok:
            return False
    return ok


def _with_out(code: str, out: str) -> str | None:
    """``torch.f(args)`` with ``out=`` added (None when the line is not one such call)."""
    try:
        node = ast.parse(code, mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch"):
        return None
    node.keywords.append(ast.keyword("out", ast.Name(out, ast.Load())))
    return ast.unparse(node)


# -- Python scalars and type promotion -----------------------------------------------------
_BINOPS = ("+", "-", "*", "/", "//", "%", "**", "&", "|", "^", "<<", ">>", "==", "!=", "<",
           "<=", ">", ">=", "@")
_BIN_METHODS = ("add", "sub", "mul", "div", "pow", "remainder", "fmod", "maximum", "minimum",
                "eq", "lt", "logical_and", "bitwise_and", "atan2", "floor_divide", "true_divide")


def binary(g: Gen) -> None:
    """Tensor (op) Python scalar / tensor, in both orders, as operator, method and function."""
    r = g.rng
    x = g.pick() or g.leaf()
    if r.random() < 0.5:
        y = g.scalar() if r.random() < 0.7 else g.scalar_leaf()  # literal or a variable
    else:
        sx = _shape(g, x)
        y = (g.pick(lambda t: _broadcastable(tuple(t.shape), sx) or r.random() < 0.1)
             if r.random() < 0.6 else None)
        y = y or g.leaf(_bshape(g, sx))
    a, b = (x, y) if r.random() < 0.7 else (y, x)
    k = r.random()
    if k < 0.6:
        op = r.choice(_BINOPS)
        code, label = f"{a} {op} {b}", f"binary:{op}"
    elif k < 0.85:
        m = r.choice(_BIN_METHODS)
        code, label = f"{x}.{m}({y})", f"binary:{m}"
    else:
        m = r.choice(_BIN_METHODS)
        alpha = f", alpha={g.scalar()}" if m in ("add", "sub") and r.random() < 0.3 else ""
        code, label = f"torch.{m}({a}, {b}{alpha})", f"binary:{m}"
    name = g.fresh()
    g.emit(f"{name} = {code}", label, "binary", (name,))


def _broadcastable(a, b) -> bool:
    for x, y in zip(reversed(a), reversed(b)):
        if x != y and x != 1 and y != 1:
            return False
    return True


def _bshape(g: Gen, s):
    """A shape that broadcasts with ``s`` (usually): a suffix, ones, or s itself."""
    r = g.rng
    k = r.random()
    if k < 0.4 or not s:
        return s
    if k < 0.7:
        return s[r.randint(0, len(s)):]
    if k < 0.9:
        return tuple(1 if r.random() < 0.5 else n for n in s)
    return g.shape()


# -- dims and indices ----------------------------------------------------------------------
def _dim(g: Gen, nd: int, extra: int = 0, allow_none=False) -> str:
    """A dim: usually valid (negative too), sometimes out of range, float or None."""
    r = g.rng
    k = r.random()
    hi = max(nd + extra, 1)
    if k < 0.85:
        return str(r.randint(-hi, hi - 1))
    if k < 0.93:
        return str(r.choice((hi, -hi - 1, hi + 1)))
    if k < 0.97:
        return "1.0"
    return "None" if allow_none or r.random() < 0.5 else "(0, 0)"


def _dims(g: Gen, nd: int) -> str:
    """A dim, a tuple of dims (possibly repeated) or None."""
    r = g.rng
    k = r.random()
    if k < 0.55:
        return _dim(g, nd)
    if k < 0.85 and nd:
        ds = r.sample(range(-nd, nd), min(nd, r.randint(1, 2)))
        if r.random() < 0.1:
            ds.append(ds[0])  # repeated dim: an error in torch
        return "(" + ", ".join(map(str, ds)) + ("," if len(ds) == 1 else "") + ")"
    return "None" if r.random() < 0.6 else "()"


def _idx(g: Gen, n: int) -> int:
    r = g.rng
    if n and r.random() < 0.88:
        return r.randint(-n, n - 1)
    return r.choice((n, -n - 1, n + 2))


def _kd(g: Gen) -> str:
    k = g.rng.random()
    return "" if k < 0.5 else ", keepdim=True" if k < 0.85 else ", keepdim=False"


_DIM_OPS = (
    ("sum", "{x}.sum({D}{kd})"), ("sum_fn", "torch.sum({x}, dim={D}{kd})"),
    ("mean", "{x}.mean({D}{kd})"), ("prod", "{x}.prod({d}{kd})"),
    ("max_dim", "{x}.max({d}{kd})"), ("min_dim", "torch.min({x}, {d}{kd})"),
    ("amax", "{x}.amax({D}{kd})"), ("amin", "torch.amin({x}, {D}{kd})"),
    ("argmax", "{x}.argmax({dn}{kd})"), ("argmin", "torch.argmin({x}, {dn}{kd})"),
    ("var", "{x}.var({D}{kd})"), ("std", "{x}.std({D}, correction={c}{kd})"),
    ("var_mean", "torch.var_mean({x}, {D}{kd})"), ("std_mean", "torch.std_mean({x}, {D})"),
    ("logsumexp", "{x}.logsumexp({D}{kd})"), ("nansum", "{x}.nansum({D}{kd})"),
    ("nanmean", "{x}.nanmean({D}{kd})"), ("norm", "{x}.norm(dim={D}{kd})"),
    ("norm_p", "torch.norm({x}, {p}, {d})"), ("all", "{x}.all({d}{kd})"),
    ("any", "torch.any({x}, {d}{kd})"), ("count_nonzero", "{x}.count_nonzero({D})"),
    ("cumsum", "{x}.cumsum({d})"), ("cumprod", "torch.cumprod({x}, {d})"),
    ("cummax", "{x}.cummax({d})"), ("cummin", "torch.cummin({x}, {d})"),
    ("logcumsumexp", "{x}.logcumsumexp({d})"), ("median", "{x}.median({d}{kd})"),
    ("nanmedian", "torch.nanmedian({x}, {d}{kd})"), ("mode", "{x}.mode({d}{kd})"),
    ("sort", "{x}.sort({d}, descending={b})"), ("argsort", "torch.argsort({x}, {d})"),
    ("topk", "{x}.topk({k}, {d})"), ("kthvalue", "{x}.kthvalue({k1}, {d}{kd})"),
    ("squeeze", "{x}.squeeze({d})"), ("unsqueeze", "{x}.unsqueeze({du})"),
    ("flatten", "{x}.flatten({d}, {d2})"), ("transpose", "{x}.transpose({d}, {d2})"),
    ("select", "{x}.select({d}, {i})"), ("narrow", "{x}.narrow({d}, {i}, {k})"),
    ("index_select", "{x}.index_select({d}, torch.tensor({il}))"),
    ("gather", "torch.gather({x}, {d}, {gidx})"), ("split", "{x}.split({k1}, {d})"),
    ("chunk", "{x}.chunk({k1}, {d})"), ("unbind", "{x}.unbind({d})"),
    ("flip", "{x}.flip({D})"), ("roll", "{x}.roll({i}, {d})"), ("diff", "{x}.diff(dim={d})"),
    ("cat", "torch.cat([{x}, {x}], {d})"), ("stack", "torch.stack([{x}, {x}], {du})"),
    ("movedim", "{x}.movedim({d}, {d2})"), ("diagonal", "{x}.diagonal({i}, {d}, {d2})"),
    ("unfold", "{x}.unfold({d}, {k}, {k1})"), ("tensor_split", "{x}.tensor_split({k1}, {d})"),
    ("index_add", "{x}.index_add({d}, torch.tensor({il}), {src})"),
    ("index_copy", "{x}.index_copy({d}, torch.tensor({ilu}), {src})"),
    ("index_fill", "{x}.index_fill({d}, torch.tensor({il}), {s})"),
    ("repeat_interleave", "{x}.repeat_interleave({k1}, dim={d})"),
    ("trapezoid", "torch.trapezoid({x}, dim={d})"), ("cumsum_fn", "torch.cumsum({x}, dim={d})"),
)


def dim_op(g: Gen) -> None:
    """A dim-taking method or function with a random (usually valid) dim and keepdim."""
    r = g.rng
    label, fmt = r.choice(_DIM_OPS)
    tie = label in ("median", "nanmedian", "mode", "sort", "argsort", "topk", "kthvalue",
                    "cummax", "cummin", "max_dim", "min_dim")
    x = None if tie else g.pick(lambda t: t.dim() > 0 or r.random() < 0.3)
    if x is None:
        x = g.leaf(g.shape(), g.dtype(), generic=tie)
    s = _shape(g, x)
    nd = len(s)
    d = _dim(g, nd)
    dn = _dim(g, nd, allow_none=True)
    dv = _dimval(d, nd)
    size = s[dv] if dv is not None else 1
    il = [_idx(g, size) for _ in range(r.randint(0, 3))]
    ilu = sorted({i % size for i in il}) if size else []
    if r.random() < 0.1:  # out of range (duplicates would make index_copy nondeterministic)
        ilu = ilu + [size]
    fields = {
        "x": x, "D": _dims(g, nd), "d": d, "dn": dn, "d2": _dim(g, nd), "du": _dim(g, nd, 1),
        "kd": _kd(g), "c": r.choice((0, 1, 2)), "p": r.choice((1, 2, 3, "float('inf')")),
        "b": r.choice(("True", "False")), "k": r.randint(-1, 3), "k1": r.randint(1, 3),
        "i": _idx(g, size), "il": il, "ilu": ilu, "s": g.scalar(),
    }
    if "{gidx}" in fmt:
        gshape = tuple(min(n, r.randint(1, 2)) for n in s)
        vals = [[_idx(g, size) if r.random() < 0.1 else r.randrange(max(size, 1))
                 for _ in range(math.prod(gshape))]]
        fields["gidx"] = (f"torch.tensor({vals[0]}, dtype=torch.int64).reshape({gshape})")
    if "{src}" in fmt:
        ss = list(s)
        if dv is not None:
            ss[dv] = len(fields["ilu"] if "index_copy" in fmt else il)
        fields["src"] = g.leaf(tuple(ss), str(g.val(x).dtype)[6:], layout="contig")
    code = fmt.format(**fields)
    name = g.fresh()
    g.emit(f"{name} = {code}", f"dim:{label}", "dim", (name,))


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


# -- out= ------------------------------------------------------------------------------------
def out_arg(g: Gen) -> None:
    """A free function with ``out=``: right shape, wrong shape (resized), wrong dtype, alias."""
    r = g.rng
    tpls = [t for t in all_templates() if len(t.lines) == 1
            and t.lines[0][1].startswith("torch.") and t.row.name not in _DECOMP
            and t.row.name not in _TIES and t.row.name not in _NO_GRAD_INPUTS]
    tpl = r.choice(tpls)
    shapes = r.choice(list(tpl.row.shapes()))
    dtype = r.choice(tpl.row.dtypes)
    args = [g.leaf(s, dtype, tpl.row.domain, rg=r.random() < 0.3) for s in shapes]
    code = tpl.lines[0][1]
    for k, a in enumerate(args):
        code = code.replace(f"__A{k}__", a)
    try:
        res = eval(code, dict(g.ns))  # noqa: S307 (our own text)
    except Exception:
        res = None
    k = r.random()
    if isinstance(res, torch.Tensor) and k < 0.55:
        o = g.leaf(tuple(res.shape), str(res.dtype)[6:], rg=False, layout="contig")
    elif isinstance(res, torch.Tensor) and k < 0.7:
        o = g.leaf((0,), str(res.dtype)[6:], rg=False, layout="contig")
    elif k < 0.85:
        o = g.leaf(tuple(res.shape) if isinstance(res, torch.Tensor) else (1,), g.dtype(),
                   rg=False, layout="contig")
    else:
        o = r.choice(args)
    _emit_template(g, tpl, args, out_kw=o)


# -- creation and random sampling -------------------------------------------------------------
def creation(g: Gen) -> None:
    """Factories and dtype inference: tensor() of mixed literals, arange, full, *_like."""
    r = g.rng
    x = g.pick()
    s = g.shape()
    c = [
        ("tensor_mixed", f"torch.tensor([{g.scalar()}, {g.scalar()}])"),
        ("tensor_scalar", f"torch.tensor({g.scalar()})"),
        ("tensor_empty", "torch.tensor([])"),
        ("arange", f"torch.arange({r.choice((0, 1, -2))}, {r.choice((3, 4.5, 5))}, "
                   f"{r.choice((1, 2, 0.5, -1))})"),
        ("linspace", f"torch.linspace({g.scalar()}, {g.scalar()}, {r.randint(0, 5)})"),
        ("full", f"torch.full({s}, {g.scalar()})"),
        ("eye", f"torch.eye({r.randint(0, 3)}, {r.randint(0, 3)})"),
        ("zeros", f"torch.zeros({s}, dtype=torch.{g.dtype()})"),
    ]
    if x is not None:
        c += [("zeros_like", f"torch.zeros_like({x})"),
              ("full_like", f"torch.full_like({x}, {g.scalar()})"),
              ("new_ones", f"{x}.new_ones({s})"), ("clone", f"{x}.clone()"),
              ("asarray", f"torch.asarray({x})"), ("type_as", f"{x}.type_as({g.pick()})"),
              ("to_dtype", f"{x}.to(torch.{g.dtype()})"), ("item", f"{x}.item()"),
              ("tolist", f"{x}.tolist()"), ("size", f"{x}.size()"), ("dim", f"{x}.dim()"),
              ("stride", f"{x}.stride()"), ("is_contiguous", f"{x}.is_contiguous()"),
              ("numel", f"{x}.numel()"), ("len", f"len({x})"), ("float", f"{x}.float()"),
              ("long", f"{x}.long()"), ("bool", f"{x}.bool()"), ("double", f"{x}.double()")]
    label, code = r.choice(c)
    name = g.fresh()
    g.emit(f"{name} = {code}", f"create:{label}", "op", (name,))


def sample(g: Gen) -> None:
    """Seeded random sampling (leafgrad's generator is bit-compatible with torch's)."""
    r = g.rng
    s = g.shape()
    seed = r.randint(0, 100)
    x = g.pick(lambda t: t.is_floating_point())
    c = [f"torch.rand({s}, dtype=torch.{r.choice(('float32', 'float64'))})",
         f"torch.randn({s})", f"torch.randint({r.randint(-3, 0)}, {r.randint(1, 9)}, {s})",
         f"torch.randperm({r.randint(0, 6)})"]
    if x is not None:
        c += [f"torch.rand_like({x})", f"torch.bernoulli({x}.detach().clamp(0, 1))",
              f"torch.normal({x}.detach(), 1.0)"]
    name = g.fresh()
    g.emit(f"torch.manual_seed({seed}); {name} = {r.choice(c)}", "random", "op", (name,))


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


FAMILIES = (op_row, binary, dim_op, view, inplace, getitem, setitem, out_arg, creation, sample,
            backward, meta, view_chain, saved_chain)
WEIGHTS = (24, 7, 9, 11, 11, 5, 7, 3, 3, 1, 6, 2, 6, 5)
