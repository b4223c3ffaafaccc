"""W1 in instructions: CPU instructions per W1 run (100 ops fwd+bwd on a (2,2) tensor), counted
by valgrind's callgrind, so the figure does not move with the machine's load.

Runs the W1 chain N and N + K times in two processes and reports the difference over K (start-up
and import cancel out). Compare two checkouts by pointing PYTHONPATH at each:

    PYTHONPATH=/path/to/checkout python benchmarks/w1_instructions.py
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_RUNNER = """
import sys
sys.path.insert(0, {bench!r})
import leafgrad
from w1_small_chain import chain
run = chain(leafgrad)
for _ in range(int(sys.argv[1])):
    run()
"""

# --workload mixed: fifteen reductions, indexing and gather ops on a (4, 5) tensor, forward and
# backward (the ops whose array creation moved to the backend; see benchmarks/README.md)
_MIXED = """
import sys
import numpy as np
import leafgrad as L
x = L.tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
idx = L.tensor([0, 2, 1])
col = L.tensor([[0], [1], [2], [3]])
def run():
    ys = [x.amax(1), x.var(0), x.argmax(1), x[[0, 2, 0]], x.gather(1, col), x.cummax(1).values,
          x.topk(2).values, L.where(x > 0, x, 0.0), x.max(), x.logsumexp(1), x.norm(), x.prod(),
          x.sort(1).values, x.median(1).values, L.nn.functional.embedding(idx, x)]
    sum(y.float().sum() if y.requires_grad else 0 for y in ys).backward()
for _ in range(int(sys.argv[1])):
    run()
"""


def _instructions(script: Path, n: int) -> int:
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={d}/cg.out",
             sys.executable, str(script), str(n)],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"})
    m = re.search(r"Collected : (\d+)", out.stderr)
    if m is None:
        raise RuntimeError("callgrind printed no instruction count:\n" + out.stderr[-2000:])
    return int(m.group(1))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--base", type=int, default=10, help="W1 runs in the first process")
    p.add_argument("--extra", type=int, default=100, help="more W1 runs in the second")
    p.add_argument("--workload", choices=("w1", "mixed"), default="w1")
    args = p.parse_args(argv)
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "w1_run.py"
        src = _RUNNER.format(bench=str(Path(__file__).resolve().parent))
        script.write_text(src if args.workload == "w1" else _MIXED)
        a = _instructions(script, args.base)
        b = _instructions(script, args.base + args.extra)
    per_run = (b - a) / args.extra
    import leafgrad

    print(f"leafgrad from {Path(leafgrad.__file__).parent}")
    if args.workload == "w1":
        print(f"W1: {per_run:,.0f} instructions per run, {per_run / 100:,.0f} per op")
    else:
        print(f"mixed: {per_run:,.0f} instructions per round")


if __name__ == "__main__":
    main()
