"""Guard: op, nn and optim code makes no host (NumPy) arrays, so CuPy stays a setting.

Arrays are created through the input's array module (``xp = array_module(x)``; ``xp.zeros``,
``xp.asarray``...) or placed with ``leafgrad.backend.like(host, x)``. A call such as
``np.zeros(...)`` or ``np.asarray(...)`` on the ``numpy`` module itself, under
``leafgrad/ops/``, ``leafgrad/nn/`` or ``leafgrad/optim/``, fails this test unless ALLOWED
lists it with the reason it is right (host data on purpose: shapes, Python lists, CPU-only
code). ``np.*_like`` and NumPy's compute functions are not creation: on a CuPy array they
dispatch to CuPy (``__array_function__``), which the fake device checks at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import leafgrad

ROOT = Path(leafgrad.__file__).parent
AREAS = ("ops", "nn", "optim")

# numpy functions that make a new array on the host from sizes or host data
CREATORS = frozenset({
    "array", "asarray", "asanyarray", "ascontiguousarray", "asfortranarray", "zeros", "ones",
    "empty", "full", "eye", "identity", "arange", "linspace", "logspace", "geomspace", "tri",
    "indices", "fromiter", "frombuffer", "fromfunction", "fromstring", "require", "copy",
})
RANDOM = "random"  # np.random.*: leafgrad draws on the CPU through its own generator

# (file under leafgrad/, enclosing function, numpy name) -> why a host array is right there
ALLOWED: dict[tuple[str, str, str], str] = {}


def _numpy_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.asname or a.name for a in node.names if a.name == "numpy"}
    return names


def _host_creations(path: Path):
    """(enclosing function, numpy name, line) of each host-array creation in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    np_names = _numpy_names(tree)
    found = []

    def visit(node, func: str):
        for child in ast.iter_child_nodes(node):
            name = func
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{func}.{child.name}" if func else child.name
            if isinstance(child, ast.Call):
                f = child.func
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) \
                        and f.value.id in np_names and f.attr in CREATORS:
                    found.append((func, f.attr, child.lineno))
                # np.random.<anything>(...)
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Attribute) \
                        and isinstance(f.value.value, ast.Name) \
                        and f.value.value.id in np_names and f.value.attr == RANDOM:
                    found.append((func, f"random.{f.attr}", child.lineno))
            visit(child, name)

    visit(tree, "")
    return found


def _all_creations():
    out = []
    for area in AREAS:
        for path in sorted((ROOT / area).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for func, name, line in _host_creations(path):
                out.append((rel, func, name, line))
    return out


def test_no_host_arrays_in_ops_nn_optim():
    """Every np.<creator>(...) under ops/, nn/, optim/ is on the allow-list, with its reason."""
    bad = [f"leafgrad/{rel}:{line} {func or '<module>'}: np.{name}(...)"
           for rel, func, name, line in _all_creations() if (rel, func, name) not in ALLOWED]
    assert not bad, (
        "host arrays created in device code (make them with xp = array_module(x), or place "
        "host data with leafgrad.backend.like(host, x); if a host array is right, add it to "
        "ALLOWED with the reason):\n" + "\n".join(bad))


def test_allow_list_has_no_stale_entries():
    """Each allow-list entry still matches code (a moved or fixed site leaves no stale pass)."""
    present = {(rel, func, name) for rel, func, name, _ in _all_creations()}
    stale = sorted(k for k in ALLOWED if k not in present)
    assert not stale, f"allow-list entries that match no code: {stale}"


def test_guard_sees_a_host_creation(tmp_path):
    """The guard itself: it finds np.zeros / np.asarray / np.random calls and ignores xp ones."""
    p = tmp_path / "m.py"
    p.write_text("import numpy as np\n"
                 "def f(x, xp):\n"
                 "    a = np.zeros(3)\n"
                 "    b = xp.zeros(3)\n"
                 "    c = np.asarray(x)\n"
                 "    d = np.random.rand(2)\n"
                 "    return np.exp(x) + np.zeros_like(x)\n")
    assert [(f, n) for f, n, _ in _host_creations(p)] == [
        ("f", "zeros"), ("f", "asarray"), ("f", "random.rand")]
