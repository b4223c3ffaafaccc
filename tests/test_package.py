"""The package as a newcomer meets it: metadata, licence, version, entry points, a terminal that
cannot print Unicode, and an import that loads only what it needs."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tomllib

import leafgrad
from leafgrad import _version
from leafgrad._textout import ascii_safe

ROOT = pathlib.Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _run(*args: str, encoding: str = "utf-8") -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONIOENCODING=encoding)
    return subprocess.run([sys.executable, *args], capture_output=True, env=env, cwd=ROOT,
                          timeout=120)


def test_metadata_licence_and_single_version_source():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    # the SPDX string needs setuptools >= 77; a License :: classifier beside it is an error there
    assert "setuptools>=77" in PYPROJECT["build-system"]["requires"]
    assert not any(c.startswith("License ::") for c in project["classifiers"])
    assert "Typing :: Typed" in project["classifiers"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "leafgrad._version.__version__"}
    assert leafgrad.__version__ == _version.__version__
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["leafgrad"]
    assert (ROOT / "leafgrad" / "py.typed").exists()


def test_readme_and_docs_stand_alone():
    """A clone has no ../shared: nothing a user reads may point there."""
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert "../shared" not in doc.read_text(), doc.name
    readme = (ROOT / "README.md").read_text()
    assert "python3 -m venv" in readme and "download.pytorch.org/whl/cpu" in readme


def test_python_dash_m_leafgrad_and_a_lean_import():
    code = ("import sys, leafgrad; "
            "print(sorted(m for m in sys.modules if m.startswith('leafgrad.') and "
            "m.split('.')[1] in ('cuda', 'backends', 'amp', 'accelerator', 'cpu', 'version', "
            "'_compat')))")
    r = _run("-c", code)
    assert r.returncode == 0 and r.stdout.decode().strip() == "[]", r.stderr
    r = _run("-m", "leafgrad", "--version")
    assert r.returncode == 0 and r.stdout.decode().strip() == f"leafgrad {leafgrad.__version__}"


def test_tour_on_an_ascii_terminal_writes_stand_ins():
    r = _run("-m", "leafgrad", "tour", encoding="ascii")
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    out = r.stdout.decode("ascii")  # every byte is ASCII
    assert "dz/dx_1 = 1 * 2*(1) = 2" in out
    assert "SumBackward0 -> PowBackward0 -> AccumulateGrad" in out


def test_tour_on_a_cp1252_terminal_keeps_what_it_can_show():
    r = _run("-m", "leafgrad", "tour", encoding="cp1252")
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    out = r.stdout.decode("cp1252")
    assert "dz/dx_1 = 1 × 2·(1) = 2" in out  # × and · exist in cp1252; ∂ and ₁ do not


def test_ascii_stand_ins():
    want = 'dz/dx_i = 2*x_i, x_1^2 -> y >= 0, "sigma"'
    assert ascii_safe("∂z/∂xᵢ = 2·xᵢ, x₁² → y ≥ 0, “σ”") == want
    assert ascii_safe("é") == "e" and ascii_safe("好") == "?"
