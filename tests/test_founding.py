"""The founding example prints exactly what PyTorch prints (memory addresses aside)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent("""
    import {lib} as torch
    x = torch.tensor([[1.0, 0.], [-1., 1.]], requires_grad=True)
    z = x.pow(2).sum()
    print(x); print(z); print(z.is_leaf, x.is_leaf, x.grad_fn, z.grad_fn)
    print(z.grad_fn.next_functions, z.grad_fn.next_functions[0][0].next_functions)
    z.backward()
    print(x.grad)
""")


def _run(lib: str) -> str:
    out = subprocess.run([sys.executable, "-c", PROGRAM.format(lib=lib)], capture_output=True,
                         text=True, check=True).stdout
    # Node objects print their address (different every run, in torch too)
    return re.sub(r"0x[0-9a-f]+", "0x…", out)


def test_founding_program_output_equals_pytorch():
    expected = _run("torch")
    assert "tensor([[ 2.,  0.],\n        [-2.,  2.]])" in expected
    assert _run("leafgrad") == expected
