"""``leafgrad run``: unmodified PyTorch scripts (tests/scripts) give real torch's output."""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import subprocess
import sys

import pytest
import torch as real_torch

import leafgrad
from leafgrad._torch_alias import real_torch_in, run_script, torch_as_leafgrad
from leafgrad.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "tests", "scripts")


def _script(name: str) -> str:
    return os.path.join(SCRIPTS, name) if "/" not in name else os.path.join(ROOT, name)


def _with_torch(path: str, args: list[str]) -> str:
    """The script's stdout under the real PyTorch (already imported by the test process)."""
    out, old = io.StringIO(), sys.argv
    sys.argv = [path, *args]
    try:
        with contextlib.redirect_stdout(out):
            with contextlib.suppress(SystemExit):
                runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv = old
    return out.getvalue()


def _with_leafgrad(path: str, args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = run_script(path, args)
    return status, out.getvalue()


CASES = [
    ("founding.py", []),
    ("linear_regression.py", ["--steps", "31", "--lr", "0.2"]),
    ("autograd_tour.py", []),
    ("linalg_solve.py", []),
    ("rnn_raw.py", []),
    ("main_guard.py", []),
    ("examples/fit_line.py", []),  # the README's first command runs this one
]


@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_script_prints_what_torch_prints(name, args):
    path = _script(name)
    want = _with_torch(path, args)
    status, got = _with_leafgrad(path, args)
    assert status == 0
    assert want.strip() and got == want
    assert sys.modules["torch"] is real_torch  # the real torch is back after the run
    assert "leafgrad.nn" not in sys.modules or sys.modules.get("torch.nn") is not leafgrad


def test_main_semantics_argv_and_exit_status(capsys):
    assert run_script(_script("main_guard.py"), ["7"]) == 7
    out = capsys.readouterr().out
    # the guard ran, a class defined in the script pickled (so __main__ was the script), argv
    assert out.splitlines() == ["__main__ [1.0, 2.0] ['7']", "tensor(3.)"]


def test_every_torch_import_form_resolves_to_leafgrad(tmp_path, capsys):
    script = tmp_path / "forms.py"
    script.write_text("import torch\nimport torch.autograd\nimport torch.linalg as LA\n"
                      "from torch import autograd\nfrom torch.autograd.functional import jacobian\n"
                      "import importlib\nm = importlib.import_module('torch.autograd.grad_mode')\n"
                      "print(torch.__name__, torch.autograd.__name__, LA.__name__,\n"
                      "      autograd is torch.autograd, jacobian.__module__, m.__name__)\n")
    assert run_script(str(script)) == 0
    assert capsys.readouterr().out.split() == [
        "leafgrad", "leafgrad.autograd", "leafgrad.linalg", "True",
        "leafgrad.autograd.functional", "leafgrad.autograd.grad_mode"]
    assert leafgrad.__spec__.name == "leafgrad"  # the alias left leafgrad's own spec alone
    assert leafgrad.autograd.__spec__.name == "leafgrad.autograd"


def test_unsupported_submodule_names_itself(capsys):
    assert run_script(_script("unsupported.py")) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n")
    assert f'File "{_script("unsupported.py")}", line 2, in <module>' in err
    assert "_torch_alias" not in err and "cli.py" not in err  # only the script's frames
    last = err.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: No module named 'torch.distributions': "
                           "torch.distributions is not supported by leafgrad")
    with torch_as_leafgrad(), pytest.raises(ImportError, match="torch.fft is not supported"):
        import torch.fft  # noqa: F401


def test_hook_is_scoped_to_the_run():
    before = list(sys.meta_path)
    with torch_as_leafgrad() as report:
        import torch
        assert torch is leafgrad
    assert sys.meta_path == before
    assert sys.modules["torch"] is real_torch
    assert "torch" in report.preloaded  # the test process had the real torch already
    assert report.aliased == ["torch"] and report.appeared == []


def test_uncaught_exception_status_and_traceback_match_python():
    path = _script("raises.py")
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONIOENCODING="utf-8")
    ours = subprocess.run([sys.executable, "-m", "leafgrad", "run", path], capture_output=True,
                          text=True, env=env, timeout=120)
    theirs = subprocess.run([sys.executable, path], capture_output=True, text=True, env=env,
                            timeout=120)
    assert ours.returncode == theirs.returncode == 1
    assert ours.stdout == theirs.stdout == "before\n"

    def script_frames(err):
        return re.findall(r'File "([^"]+)", line (\d+), in (\S+)\n\s+(.*)', err)

    want = [f for f in script_frames(theirs.stderr) if f[0] == path]
    got = script_frames(ours.stderr)
    assert want and got[:len(want)] == want  # the same script frames, first, in order
    assert ours.stderr.startswith("Traceback (most recent call last):\n")
    assert "\nRuntimeError: Trying to backward through the graph a second time" in ours.stderr


def test_run_command_line_passes_arguments(capsys):
    assert main(["run", _script("main_guard.py"), "0", "--flag"]) == 0
    out, err = capsys.readouterr()
    assert "['0', '--flag']" in out
    # this test process imported the real torch before the run: the command says so
    assert "the real torch was already imported in this process" in err
    assert main(["run", os.path.join(SCRIPTS, "missing.py")]) == 2
    assert "can't open file" in capsys.readouterr().err


def test_explain_runs_torch_scripts_through_the_hook(capsys):
    assert main(["explain", _script("founding.py")]) == 0
    out = capsys.readouterr().out
    assert "ran 1 backward pass(es)" in out and "PowBackward0" in out
    assert "∂z/∂x₃ = 1 × 2·(-1) = -2" in out


def test_explain_says_when_the_script_used_the_real_torch(tmp_path, capsys, monkeypatch):
    # a library imported before the run hands the script the real torch
    lib = type(sys)("lib_with_real_torch")
    lib.torch = real_torch
    monkeypatch.setitem(sys.modules, "lib_with_real_torch", lib)
    script = tmp_path / "sneaky.py"
    script.write_text("from lib_with_real_torch import torch\n"
                      "x = torch.ones(2, requires_grad=True)\n(x * x).sum().backward()\n")
    assert main(["explain", str(script)]) == 1
    out = capsys.readouterr().out
    assert "ran with the real PyTorch (torch, x), not leafgrad" in out
    # under `leafgrad run` the real torch's own imports fail, and the error says why
    assert main(["run", str(script)]) == 1
    err = capsys.readouterr().err
    assert "ModuleNotFoundError: the real PyTorch (torch.autograd, __init__.py:" in err
    assert "the script is using the real PyTorch" in err
    assert "ran with the real PyTorch (torch, x)" in err
    assert "no backward()" not in out
    assert real_torch_in({"t": real_torch.ones(1), "m": real_torch.nn}) == ["t", "m"]
