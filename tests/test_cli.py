"""The ``leafgrad`` command: tour (en, zh), explain SCRIPT, demo."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

from leafgrad.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_tour_english_walks_through_the_founding_example(capsys):
    assert main(["tour"]) == 0
    out = capsys.readouterr().out
    facts = [
        ">>> x = torch.tensor([[1.0, 0.], [-1., 1.]], requires_grad=True)",
        "x is a leaf", "x.is_leaf is True and x.grad_fn is None",
        "tensor(3., grad_fn=<SumBackward0>)", "z is not a leaf",
        "SumBackward0 → PowBackward0 → AccumulateGrad",
        "z = x₁² + x₂² + x₃² + x₄²", "∂z/∂xᵢ = 2·xᵢ",
        "created at founding_example.py:3:   z = x.pow(2).sum()",
        "∂z/∂x₁ = 1 × 2·(1) = 2", "∂z/∂x₂ = 1 × 2·(0) = 0", "∂z/∂x₃ = 1 × 2·(-1) = -2",
        "∂z/∂x₄ = 1 × 2·(1) = 2",
        ">>> print(x.grad)\ntensor([[ 2.,  0.],\n        [-2.,  2.]])",
        "yes, element for element", "retain_graph=True", "leafgrad explain",
    ]
    flat = " ".join(out.split())  # paragraphs are wrapped at 96 columns
    for f in facts:
        assert f in out or " ".join(f.split()) in flat, f
    # the tour follows the program's order: leaf, graph, mathematics, steps, result
    order = [out.index(s) for s in ("1. A leaf", "2. Computing", "3. The mathematics",
                                    "4. z.backward()", "5. The result")]
    assert order == sorted(order)


def test_tour_chinese(capsys):
    assert main(["tour", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    for f in ("leafgrad 导览", "x 是叶子", "z 不是叶子", "z = x₁² + x₂² + x₃² + x₄²",
              "∂z/∂xᵢ = 2·xᵢ", "∂z/∂x₃ = 1 × 2·(-1) = -2", "链式法则",
              "tensor([[ 2.,  0.],\n        [-2.,  2.]])", "是的，逐个元素相同"):
        assert f in out, f


def test_demo_trains_on_the_digits(capsys):
    # the main job, as the README's first command runs it (default settings)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    acc = float(re.search(r"held-out accuracy ([0-9.]+)%", out).group(1))
    assert acc >= 95.0
    path = re.search(r"Read the code that just ran: (\S+)", out).group(1)
    assert os.path.exists(path) and "import leafgrad as torch" in open(path).read()
    assert "epoch 15/15" in out


SCRIPT = textwrap.dedent("""
    import sys
    import leafgrad as torch

    w = torch.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    xs = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    for step in range(int(sys.argv[1])):
        loss = (xs @ w).tanh().sum()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
    print("done", step)
""")


def test_explain_script_narrates_its_last_backward(tmp_path, capsys):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    html, svg = tmp_path / "out.html", tmp_path / "out.svg"
    assert main(["explain", str(script), "--html", str(html), "--svg", str(svg), "--", "3"]) == 0
    out = capsys.readouterr().out
    assert "done 2" in out  # the script ran, with its argument
    assert "ran 3 backward pass(es)" in out
    assert "created at train.py:8:   loss = (xs @ w).tanh().sum()" in out
    assert "MmBackward0" in out and "TanhBackward0" in out and "w.grad was None" in out
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'data-total="4"' in page
    ET.parse(str(svg))


def test_explain_script_without_backward(tmp_path, capsys):
    script = tmp_path / "nothing.py"
    script.write_text("print('hello')\n")
    assert main(["explain", str(script), "--lang", "zh"]) == 1
    assert "没有调用 backward()" in capsys.readouterr().out


def test_module_entry_point_runs_the_tour():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONIOENCODING="utf-8")
    r = subprocess.run([sys.executable, "-m", "leafgrad.cli", "tour"], capture_output=True,
                       text=True, env=env, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "z = x₁² + x₂² + x₃² + x₄²" in r.stdout
