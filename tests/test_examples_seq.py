"""examples/char_rnn.py and examples/tiny_gpt.py: plain PyTorch scripts that run unchanged on
leafgrad. Same seed -> the same losses as torch for the first steps (float32 tolerance), the
same text sampled, on the Shakespeare text shipped in leafgrad/datasets."""

from __future__ import annotations

import contextlib
import io
import os
import runpy

import numpy as np
import pytest

from leafgrad._torch_alias import torch_as_leafgrad

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES = [
    ("char_rnn.py", ["--steps", "4", "--hidden", "32", "--seq-len", "16", "--batch-size", "4",
                     "--sample-len", "30", "--print-every", "1"]),
    ("tiny_gpt.py", ["--steps", "4", "--n-embd", "32", "--n-layer", "2", "--block-size", "16",
                     "--batch-size", "4", "--sample-len", "30", "--print-every", "1",
                     "--warmup", "2"]),
]


def _run(path: str, args: list, leafgrad: bool) -> tuple[list, str]:
    """Load the example as a module (under leafgrad: with ``import torch`` resolving to it) and
    call its main; returns (losses, printed text)."""
    out = io.StringIO()
    ctx = torch_as_leafgrad() if leafgrad else contextlib.nullcontext()
    with ctx:
        mod = runpy.run_path(path, run_name="example")
    with contextlib.redirect_stdout(out):
        losses = mod["main"](args)
    return losses, out.getvalue()


@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_example_trains_as_torch(name, args):
    path = os.path.join(ROOT, "examples", name)
    want, t_out = _run(path, args, leafgrad=False)
    got, l_out = _run(path, args, leafgrad=True)
    assert len(got) == len(want) == 4
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)
    assert got[0] < 4.2  # close to log(61) = 4.11 at the start: the model is wired as torch's
    # the sampled text (after "---") comes from the same draws
    sample_l, sample_t = l_out.split("---\n")[1], t_out.split("---\n")[1]
    assert len(sample_l) == len(sample_t) > 20
    assert sample_l == sample_t
