"""Which public functions take ``out=`` in PyTorch, and a sample call of each (for test_out.py).

PyTorch's own list: the generated stub ``torch/_C/_VariableFunctions.pyi`` for the functions
bound in C++ (each overload spells its ``out`` argument), ``inspect.signature`` for those
written in Python (``torch.functional``), and the docstring's ``out (Tensor...`` entry for
``torch.linalg`` (bound in C++ without a stub).
"""

from __future__ import annotations

import ast
import inspect
import os
import re

import numpy as np
import torch

import leafgrad


def _stub_has_out() -> dict[str, bool]:
    path = os.path.join(os.path.dirname(torch.__file__), "_C", "_VariableFunctions.pyi")
    has: dict[str, bool] = {}
    for node in ast.parse(open(path).read()).body:
        if isinstance(node, ast.FunctionDef):
            names = [a.arg for a in node.args.args + node.args.kwonlyargs]
            has[node.name] = has.get(node.name, False) or "out" in names
    return has


_STUB = _stub_has_out()


def torch_has_out(tmod, name: str) -> bool | None:
    """Whether ``tmod.name`` takes ``out=`` (None: torch has no such function)."""
    f = getattr(tmod, name, None)
    if f is None:
        return None
    if tmod is torch and name in _STUB and getattr(torch._C._VariableFunctions, name, None) is f:
        return _STUB[name]
    try:
        return "out" in inspect.signature(f).parameters
    except (TypeError, ValueError):
        pass
    doc = (getattr(f, "__doc__", "") or "").strip()
    m = re.match(r"Alias for :func:`torch\.(\w+)`", doc)
    if m:
        return torch_has_out(torch, m.group(1))
    return "out=None" in doc.split("\n\n")[0]


def leafgrad_has_out(f) -> bool | None:
    try:
        return "out" in inspect.signature(f).parameters
    except (TypeError, ValueError):
        return None


NAMESPACES = ((leafgrad, torch), (leafgrad.linalg, torch.linalg))


def public_functions(lmod):
    for n in sorted(dir(lmod)):
        if n.startswith("_"):
            continue
        f = getattr(lmod, n)
        if inspect.isclass(f) or inspect.ismodule(f) or not callable(f):
            continue
        yield n, f


# -- sample calls ----------------------------------------------------------------------------
_R = np.random.default_rng(0)
_A = _R.uniform(0.5, 1.5, (3, 4)).astype(np.float32)
_M = _R.standard_normal((3, 3))
_S = (_M @ _M.T + 3 * np.eye(3)).astype(np.float32)          # symmetric positive definite
_V = _R.uniform(0.5, 1.5, 3).astype(np.float32)
_B = _R.uniform(0.5, 1.5, (2, 3, 3)).astype(np.float32)
_IDX = np.array([0, 2])
_IDX2 = np.array([[0, 1, 2, 0], [2, 2, 1, 0], [1, 0, 0, 2]])
_MASK = _A > 1.0
_SORTED = np.array([0.6, 0.9, 1.2], dtype=np.float32)


def _t(L, a):
    return L.tensor(a.copy())


# Calls tried in order for every function (the first torch accepts is used)...
GENERIC = [
    lambda L: ((_t(L, _A),), {}),
    lambda L: ((_t(L, _A), _t(L, _A)), {}),
    lambda L: ((_t(L, _A), 1), {}),
    lambda L: ((_t(L, _A), 0), {}),
    lambda L: ((_t(L, _S),), {}),
    lambda L: ((_t(L, _S), _t(L, _S)), {}),
    lambda L: ((_t(L, _S), _t(L, _V)), {}),
    lambda L: ((_t(L, _V), _t(L, _V)), {}),
    lambda L: ((_t(L, _B), _t(L, _B)), {}),
    lambda L: ((_t(L, _S), _t(L, _S), _t(L, _S)), {}),
    lambda L: ((_t(L, _A), _t(L, _A), _t(L, _A)), {}),
    lambda L: ((_t(L, _V), _t(L, _S), _t(L, _V)), {}),
    lambda L: ((_t(L, _S), _t(L, _B), _t(L, _B)), {}),
    lambda L: ((_t(L, _B), _t(L, _B), _t(L, _B)), {}),
    lambda L: ((_t(L, _V), _t(L, _V), _t(L, _V)), {}),
    lambda L: ((_t(L, _A), 2, 1), {}),
    lambda L: ((1, _t(L, _A)), {}),
    lambda L: ((_t(L, _IDX2),), {}),
    lambda L: ((_t(L, _IDX2), _t(L, _IDX2)), {}),
]

# ... unless the function is listed here.
SAMPLES = {
    "index_select": lambda L: ((_t(L, _A), 0, _t(L, _IDX)), {}),
    "gather": lambda L: ((_t(L, _A), 1, _t(L, _IDX2)), {}),
    "take_along_dim": lambda L: ((_t(L, _A), _t(L, _IDX2), 1), {}),
    "take": lambda L: ((_t(L, _A), _t(L, _IDX)), {}),
    "scatter": lambda L: ((_t(L, _A), 1, _t(L, _IDX2[:, :1]), _t(L, _A)), {}),
    "scatter_add": lambda L: ((_t(L, _A), 1, _t(L, _IDX2), _t(L, _A)), {}),
    "scatter_reduce": lambda L: ((_t(L, _A), 1, _t(L, _IDX2), _t(L, _A), "sum"), {}),
    "index_add": lambda L: ((_t(L, _A), 0, _t(L, _IDX), _t(L, _A[:2])), {}),
    "index_copy": lambda L: ((_t(L, _A), 0, _t(L, _IDX), _t(L, _A[:2])), {}),
    "masked_select": lambda L: ((_t(L, _A), _t(L, _MASK)), {}),
    "where": lambda L: ((_t(L, _MASK), _t(L, _A), _t(L, -_A)), {}),
    "bucketize": lambda L: ((_t(L, _A), _t(L, _SORTED)), {}),
    "searchsorted": lambda L: ((_t(L, _SORTED), _t(L, _A)), {}),
    "clamp": lambda L: ((_t(L, _A), 0.8, 1.2), {}),
    "clip": lambda L: ((_t(L, _A), 0.8, 1.2), {}),
    "clamp_min": lambda L: ((_t(L, _A), 0.8), {}),
    "clamp_max": lambda L: ((_t(L, _A), 1.2), {}),
    "lerp": lambda L: ((_t(L, _A), _t(L, -_A), 0.25), {}),
    "polygamma": lambda L: ((1, _t(L, _A)), {}),
    "kthvalue": lambda L: ((_t(L, _A), 2, 1), {}),
    "topk": lambda L: ((_t(L, _A), 2), {}),
    "quantile": lambda L: ((_t(L, _A), 0.25), {}),
    "nanquantile": lambda L: ((_t(L, _A), 0.25), {}),
    "std": lambda L: ((_t(L, _A), 1), {}),
    "var": lambda L: ((_t(L, _A), 1), {}),
    "softmax": lambda L: ((_t(L, _A), 1), {}),
    "log_softmax": lambda L: ((_t(L, _A), 1), {}),
    "logsumexp": lambda L: ((_t(L, _A), 1), {}),
    "cumsum": lambda L: ((_t(L, _A), 1), {}),
    "cumprod": lambda L: ((_t(L, _A), 1), {}),
    "cummax": lambda L: ((_t(L, _A), 1), {}),
    "cummin": lambda L: ((_t(L, _A), 1), {}),
    "logcumsumexp": lambda L: ((_t(L, _A), 1), {}),
    "round": lambda L: ((_t(L, _A * 10),), {}),
    "histc": lambda L: ((_t(L, _A),), {"bins": 4}),
    "histogram": lambda L: ((_t(L, _A),), {"bins": 4}),
    "cross": lambda L: ((_t(L, _S), _t(L, _S.T)), {"dim": 1}),
    "arange": lambda L: ((5,), {}),
    "linspace": lambda L: ((0.0, 1.0, 5), {}),
    "logspace": lambda L: ((0.0, 1.0, 5), {}),
    "zeros": lambda L: (((2, 3),), {}),
    "ones": lambda L: (((2, 3),), {}),
    "empty": lambda L: (((2, 3),), {}),
    "full": lambda L: (((2, 3), 1.5), {}),
    "eye": lambda L: ((3,), {}),
    "cat": lambda L: (([_t(L, _A), _t(L, _A)],), {}),
    "concat": lambda L: (([_t(L, _A), _t(L, _A)],), {}),
    "concatenate": lambda L: (([_t(L, _A), _t(L, _A)],), {}),
    "stack": lambda L: (([_t(L, _A), _t(L, _A)],), {}),
    "hstack": lambda L: (([_t(L, _A), _t(L, _A)],), {}),
    "vstack": lambda L: (([_t(L, _A), _t(L, _A)],), {}),
    "dstack": lambda L: (([_t(L, _A), _t(L, _A)],), {}),
    "column_stack": lambda L: (([_t(L, _A), _t(L, _A)],), {}),
    "chain_matmul": lambda L: ((_t(L, _S), _t(L, _S), _t(L, _S)), {}),
    "multi_dot": lambda L: (([_t(L, _S), _t(L, _S), _t(L, _S)],), {}),
    "tensordot": lambda L: ((_t(L, _S), _t(L, _S)), {"dims": 1}),
    "triangular_solve": lambda L: ((_t(L, _S), _t(L, np.triu(_S))), {}),
    "solve_triangular": lambda L: ((_t(L, np.triu(_S)), _t(L, _S)), {"upper": True}),
    "cholesky_solve": lambda L: ((_t(L, _S), _t(L, np.linalg.cholesky(_S))), {}),
    "matrix_power": lambda L: ((_t(L, _S), 2), {}),
    "vecdot": lambda L: ((_t(L, _A), _t(L, _A)), {}),
    "diff": lambda L: ((_t(L, _A),), {}),
    "float_power": lambda L: ((_t(L, _A), 2), {}),
    "addcmul": lambda L: ((_t(L, _A), _t(L, _A), _t(L, _A)), {"value": 0.5}),
    "addcdiv": lambda L: ((_t(L, _A), _t(L, _A), _t(L, _A)), {"value": 0.5}),
    "multinomial": lambda L: ((_t(L, _V), 2), {}),
    "bernoulli": lambda L: ((_t(L, _A / 2),), {}),
    "normal": lambda L: ((_t(L, _A), _t(L, _A)), {}),
    "rand": lambda L: ((2, 3), {}),
    "randn": lambda L: ((2, 3), {}),
    "randint": lambda L: ((0, 5, (2, 3)), {}),
    "randperm": lambda L: ((5,), {}),
    "nonzero": lambda L: ((_t(L, _MASK),), {}),
    "count_nonzero": lambda L: ((_t(L, _MASK),), {}),
    "bincount": lambda L: ((_t(L, _IDX2.ravel()),), {}),
    "argsort": lambda L: ((_t(L, _A),), {"stable": True}),
}
RANDOM = {"multinomial", "bernoulli", "normal", "rand", "randn", "randint", "randperm", "empty"}


def sample(tmod, name: str):
    """A call ``torch`` accepts for ``tmod.name``: (args maker, torch's result), or None."""
    tf = getattr(tmod, name)
    makers = [SAMPLES[name]] if name in SAMPLES else GENERIC
    for mk in makers:
        args, kw = mk(torch)
        try:
            torch.manual_seed(0)
            res = tf(*args, **kw)
            like = (tuple(torch.empty(0, dtype=r.dtype) for r in res)
                    if isinstance(res, tuple) else torch.empty(0, dtype=res.dtype))
            tf(*mk(torch)[0], **mk(torch)[1], out=like)  # an overload with out= exists
        except Exception:
            continue
        return mk, res
    return None
