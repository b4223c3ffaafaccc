from __future__ import annotations

import ast
import math

import torch

from .generate import Gen
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
    # stride()/is_contiguous() of a non-view result read the layout a kernel chose (and the
    # stride of a size-1 dim is arbitrary): compared by type and length, not by value
    g.emit(f"{name} = {code}", f"create:{label}", "op", (name,),
           values_ok=label not in ("stride", "is_contiguous"))


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
