"""Run unmodified PyTorch code on leafgrad: an import hook that resolves ``torch`` to leafgrad.

``torch_as_leafgrad()`` installs a ``sys.meta_path`` finder for the duration of a block: every
``import torch``, ``import torch.xxx`` and ``from torch... import`` gets the leafgrad module of
the same name (the same object, so ``torch.Tensor is leafgrad.Tensor``). A torch submodule that
leafgrad lacks raises ``ModuleNotFoundError`` naming it. On exit the aliases go and anything the
process had imported of the real torch before the block is put back.

``run_script(path, args)`` runs a script as ``python path args`` would (``sys.argv``,
``sys.path[0]``, ``__main__``, exit status, traceback) inside that block: ``leafgrad run``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["AliasReport", "TorchAlias", "real_torch_in", "run_script", "torch_as_leafgrad"]

_TORCH = "torch"
_LEAFGRAD = __name__.rpartition(".")[0] or "leafgrad"


def _is_torch_name(name: str) -> bool:
    return name == _TORCH or name.startswith(_TORCH + ".")


def _is_real_torch(mod) -> bool:
    """True for a module of the real PyTorch (not a leafgrad module seen under a torch name)."""
    name = getattr(mod, "__name__", None)
    return isinstance(mod, types.ModuleType) and isinstance(name, str) and _is_torch_name(name)


class _AliasLoader(importlib.abc.Loader):
    """Hands out an already imported leafgrad module for a torch name."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module) -> None:
        # the import system stamped the alias spec on the module: give it back its own
        module.__spec__ = self.spec


class TorchAlias(importlib.abc.MetaPathFinder):
    """A ``sys.meta_path`` finder answering ``torch`` and ``torch.<sub>`` with leafgrad's.

    >>> finder = TorchAlias()
    >>> finder.find_spec("numpy", None) is None
    True
    >>> finder.find_spec("torch.autograd", None).name
    'torch.autograd'
    """

    def __init__(self) -> None:
        self.aliased: list[str] = []

    def find_spec(self, fullname, path, target=None):
        """The spec of ``fullname``'s leafgrad twin, or None for a name outside ``torch``."""
        if not _is_torch_name(fullname):
            return None
        twin = _LEAFGRAD + fullname[len(_TORCH):]
        caller = _real_torch_caller()
        if caller is not None:
            msg = (f"the real PyTorch ({caller}) imported {fullname} while `leafgrad run` "
                   "resolves torch to leafgrad. Why: the script is using the real PyTorch, which "
                   "it got from a module imported before the run (leafgrad's hook cannot reach "
                   "it); import torch directly in the script, or run it with python instead.")
            raise ModuleNotFoundError(msg, name=fullname)
        module = _leafgrad_module(twin)
        if module is None:
            msg = (f"No module named '{fullname}': {fullname} is not supported by leafgrad "
                   f"(leafgrad has no {twin}). Why: `leafgrad run` resolves every torch module "
                   "to the leafgrad module of the same name, and this one does not exist yet; "
                   "remove the import or run the script with the real PyTorch.")
            raise ModuleNotFoundError(msg, name=fullname)
        self.aliased.append(fullname)
        is_pkg = hasattr(module, "__path__")
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module), is_package=is_pkg)


def _real_torch_caller() -> str | None:
    """The file of the real torch's code that is importing now, if it is the real torch's."""
    f = sys._getframe(2)
    while f is not None and (f.f_code.co_filename.startswith("<frozen importlib") or
                             f.f_code.co_filename == __file__):
        f = f.f_back
    if f is None:
        return None
    g = f.f_globals
    name, path = g.get("__name__"), g.get("__file__") or ""
    if isinstance(name, str) and _is_torch_name(name) and not path.startswith(_LEAFGRAD_DIR):
        return f"{name}, {os.path.basename(path)}:{f.f_lineno}"
    return None


_LEAFGRAD_DIR = os.path.dirname(os.path.abspath(__file__))


def _leafgrad_module(name: str) -> types.ModuleType | None:
    """The leafgrad module ``name``, imported if need be; None where leafgrad has none."""
    parent, _, child = name.rpartition(".")
    if parent:
        pmod = _leafgrad_module(parent)
        if pmod is None:
            return None
        attr = getattr(pmod, child, None)
        if isinstance(attr, types.ModuleType):
            return attr
    mod = sys.modules.get(name)
    if mod is not None:
        return mod
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        return None
    if spec is None:
        return None
    return importlib.import_module(name)


@dataclass
class AliasReport:
    """What happened to the real torch around an aliased run."""

    preloaded: list[str] = field(default_factory=list)  # real torch modules imported before
    appeared: list[str] = field(default_factory=list)  # real torch modules imported during
    aliased: list[str] = field(default_factory=list)  # torch names answered with leafgrad

    @property
    def real_torch_version(self) -> str | None:
        """The real torch's version string if it was (or got) imported, else None."""
        mod = sys.modules.get(_TORCH)
        if _is_real_torch(mod):
            return getattr(mod, "__version__", "?")
        return None


@contextlib.contextmanager
def torch_as_leafgrad() -> Iterator[AliasReport]:
    """Resolve ``import torch`` (and its submodules) to leafgrad inside the block.

    >>> with torch_as_leafgrad():
    ...     import torch
    ...     t = torch.ones(2)
    >>> type(t).__module__
    'leafgrad'
    """
    report = AliasReport()
    stash = {k: v for k, v in sys.modules.items() if _is_torch_name(k)}
    report.preloaded = sorted(k for k, v in stash.items() if _is_real_torch(v))
    for k in stash:
        del sys.modules[k]
    finder = TorchAlias()
    sys.meta_path.insert(0, finder)
    try:
        yield report
    finally:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(finder)
        report.aliased = sorted(set(finder.aliased))
        for k in [k for k in sys.modules if _is_torch_name(k)]:
            mod = sys.modules.pop(k)
            if _is_real_torch(mod):
                report.appeared.append(k)
        sys.modules.update(stash)


def real_torch_in(namespace: dict) -> list[str]:
    """Names in ``namespace`` bound to the real PyTorch: its modules, tensors or other objects.

    >>> import leafgrad
    >>> real_torch_in({"torch": leafgrad, "x": leafgrad.ones(1)})
    []
    """
    found = []
    for k, v in namespace.items():
        if k.startswith("__"):
            continue
        if _is_real_torch(v):
            found.append(k)
            continue
        mod = getattr(type(v), "__module__", None) or ""
        if not isinstance(v, type) and _is_torch_name(mod):
            found.append(k)
    return found


def _exit_status(code) -> int:
    """The process status ``sys.exit(code)`` gives, printing a non-int code as Python does."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _print_traceback(exc: BaseException, path: str) -> None:
    """Print ``exc``'s traceback from the script's first frame on, as ``python script`` would.

    The runner's own frames above the script are dropped, and so is the import hook's frame
    below it (Python hides its import machinery the same way).
    """
    tb = exc.__traceback__
    first = tb
    while first is not None and os.path.abspath(first.tb_frame.f_code.co_filename) != path:
        first = first.tb_next
    if first is None:
        first = tb
    else:  # unlink a trailing hook frame: the error reads as raised by the import line
        last = first
        while last.tb_next is not None:
            if last.tb_next.tb_frame.f_code.co_filename == __file__ and \
                    last.tb_next.tb_next is None:
                last.tb_next = None
                break
            last = last.tb_next
    sys.excepthook(type(exc), exc.with_traceback(first), first)


def _exec_main(full: str, ns: dict) -> None:
    """Execute the script file as the ``__main__`` module, with ``ns`` as its globals."""
    import builtins
    from importlib.machinery import SourceFileLoader

    if os.path.isdir(full) or not full.endswith((".py", ".pyw")) and _is_zip(full):
        ns.update(runpy.run_path(full, run_name="__main__"))  # a directory or zip with __main__
        return
    with open(full, "rb") as f:  # bytes: compile() honours the file's coding cookie
        source = f.read()
    code = compile(source, full, "exec", dont_inherit=True)
    module = types.ModuleType("__main__")
    module.__dict__.update(__file__=full, __cached__=None, __builtins__=builtins,
                           __loader__=SourceFileLoader("__main__", full), __spec__=None,
                           __package__=None)
    old_main = sys.modules.get("__main__")
    sys.modules["__main__"] = module  # pickle and `if __name__ == "__main__"` see the script
    try:
        exec(code, module.__dict__)  # noqa: S102 - running the user's script is the point
    finally:
        ns.update(module.__dict__)
        if old_main is not None:
            sys.modules["__main__"] = old_main


def _is_zip(path: str) -> bool:
    import zipfile

    return zipfile.is_zipfile(path)


def run_script(path: str, args: list[str] | None = None, *,
               namespace_out: dict | None = None) -> int:
    """Run ``path`` with ``args`` as ``python path args`` would, torch resolved to leafgrad.

    Returns the exit status (the script's ``sys.exit`` code, 1 after an uncaught exception,
    whose traceback is printed as Python prints it). ``namespace_out``, when given, receives
    the script's globals and, under ``"__leafgrad_alias__"``, the ``AliasReport``.

    >>> import os, tempfile
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "s.py")
    >>> _ = open(p, "w").write("import torch\\nprint(torch.ones(2).sum())\\n")
    >>> run_script(p)
    tensor(2.)
    0
    """
    full = os.path.abspath(path)
    if not os.path.exists(full):
        print(f"{sys.executable}: can't open file {full!r}: [Errno 2] No such file or directory",
              file=sys.stderr)
        return 2
    old_argv, old_path = sys.argv, list(sys.path)
    sys.argv = [path, *(args or [])]
    # python puts the script's directory first on sys.path
    sys.path.insert(0, os.path.dirname(full))
    status = 0
    ns: dict = {}
    try:
        with torch_as_leafgrad() as report:
            try:
                _exec_main(full, ns)
            except SystemExit as e:
                status = _exit_status(e.code)
            except SyntaxError as e:  # python shows the offending line, no traceback
                sys.excepthook(type(e), e, None)
                status = 1
            except KeyboardInterrupt as e:
                _print_traceback(e, full)
                status = 130
            except BaseException as e:  # noqa: BLE001 - printed as python prints it
                _print_traceback(e, full)
                status = 1
    finally:
        sys.argv = old_argv
        sys.path[:] = old_path
        with contextlib.suppress(Exception):
            sys.stdout.flush()
    if namespace_out is not None:
        namespace_out.update(ns)
        namespace_out["__leafgrad_alias__"] = report
    return status
