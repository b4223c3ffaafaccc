"""``import leafgrad`` stays light: nn, optim, viz, serialization, numpy.random... load on use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

import leafgrad

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("leafgrad.nn", "leafgrad.optim", "leafgrad.viz", "leafgrad.utils",
         "leafgrad.serialization", "leafgrad.distributed", "numpy.random", "json", "pickle",
         "zipfile", "socket", "html", "leafgrad.autograd.explanation",
         "leafgrad.autograd.gradflow", "leafgrad.autograd.stepper")


def _python(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.strip()


def test_import_loads_none_of_the_heavy_modules():
    code = (f"import sys, numpy; b = set(sys.modules); import leafgrad; "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules and m not in b))")
    assert _python(code) == "[]"


def test_lazy_names_resolve_as_before():
    code = ("import leafgrad as torch\n"
            "from leafgrad import nn, optim\n"
            "m = torch.nn.Linear(2, 3); o = optim.SGD(m.parameters(), lr=0.1)\n"
            "import leafgrad.nn.functional as F, leafgrad.serialization as S\n"
            "print(type(m).__name__, type(o).__name__, torch.selu is F.selu, "
            "torch.save is S.save, torch.from_dlpack.__name__, torch.viz.__name__, "
            "nn is torch.nn, 'softmax' in torch.__all__)")
    assert _python(code) == "Linear SGD True True from_dlpack leafgrad.viz True True"


def test_default_generator_made_on_first_draw_matches_torch():
    # the twister is made on the first draw, seeded from the default seed: torch's stream
    out = _python("import leafgrad; print(leafgrad.rand(4).tolist())")
    assert eval(out) == torch.rand(4, generator=torch.Generator()).tolist()


def test_fresh_generator_state_and_clone_match_torch():
    g, t = leafgrad.Generator(), torch.Generator()
    assert bytes(g.get_state().numpy()) == bytes(t.get_state().numpy())  # before any draw
    g.manual_seed(5)
    t.manual_seed(5)
    g2 = leafgrad.Generator()
    g2.set_state(g.get_state())
    assert (leafgrad.rand(3, generator=g2).tolist() == leafgrad.rand(3, generator=g).tolist()
            == torch.rand(3, generator=t).tolist())
