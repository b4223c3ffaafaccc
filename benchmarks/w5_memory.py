"""W5: peak memory of a 50-layer chain, forward + backward, each library alone in a subprocess.

The chain (``--chain sin``, the W5 figure): a (1000, 1000) float32 tensor that requires
grad, 50 layers of ``y = (y * 1.01).sin()``, ``y.sum().backward()``. What a library keeps
between forward and backward decides the peak: PyTorch's MulBackward0 saves only the operand
the *other* input's gradient needs (here the number 1.01, not ``y``) and SinBackward0 its
input, so it holds one 4 MB tensor per layer; saving ``y`` for the product too doubles that (as
leafgrad did until its nodes stopped keeping inputs that no requested gradient reads).
Two more chains: ``tanh`` (``(y * 1.01).tanh()``: tanh saves its result, which the next
product's ``y`` is anyway) and ``linear``, an MLP-like stack of 50 ``(y @ w).relu()`` layers on
a (256, 512) batch with (512, 512) weights.

Measured, in a fresh process per library and chain: the peak RSS the pass adds over the
process just before it (Linux ``VmHWM``, reset through ``/proc/self/clear_refs``), with
``MALLOC_MMAP_THRESHOLD_`` set so that every large buffer is its own mapping, returned to the
system when freed (otherwise glibc's heap fragments, differently for each library: PyTorch's
small node allocations split freed 4 MB blocks and its RSS grows by ~8 MB a layer for 4 MB
live); the bytes the graph holds in saved tensors after the forward, counted by walking it
(PyTorch's ``grad_fn._saved_*``; leafgrad's node inputs, results and saved arrays), which does
not depend on the allocator; for leafgrad also the tracemalloc peak.

    python benchmarks/w5_memory.py                 # --chain sin|tanh|linear|all, --layers N
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent.parent / "tests")

CODE = """
import json, sys, tracemalloc
import numpy as np
sys.path.insert(0, {tests!r})
from savedbytes import saved_nbytes
import {lib} as lib
if {lib!r} == "torch":
    lib.set_num_threads(1)

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])

rng = np.random.default_rng(0)
if {chain!r} == "linear":
    x = lib.tensor(rng.standard_normal((256, 512)).astype(np.float32), requires_grad=True)
    ws = [lib.tensor(rng.standard_normal((512, 512)).astype(np.float32) / 23.0,
                     requires_grad=True) for _ in range({layers})]
else:
    x = lib.tensor(rng.standard_normal((1000, 1000)).astype(np.float32) * 0.1,
                   requires_grad=True)
base = status("VmRSS:")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak-RSS counter starts from the current RSS
if {lib!r} == "leafgrad":
    tracemalloc.start()
y = x
for i in range({layers}):
    if {chain!r} == "sin":
        y = (y * 1.01).sin()
    elif {chain!r} == "tanh":
        y = (y * 1.01).tanh()
    else:
        y = (y @ ws[i]).relu()
fwd = status("VmHWM:") - base
saved = saved_nbytes([y], {lib!r})
y.sum().backward()
peak_tm = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None
print(json.dumps({{"peak_kib": status("VmHWM:") - base, "forward_kib": fwd,
                  "saved_kib": saved / 1024,
                  "tracemalloc_kib": None if peak_tm is None else peak_tm / 1024,
                  "check": float(x.grad.double().sum())}}))
"""


def run(lib: str, chain: str, layers: int) -> dict:
    """One library's figures for one chain, measured in a fresh subprocess."""
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
    code = CODE.format(lib=lib, chain=chain, layers=layers, tests=TESTS)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chain", choices=("sin", "tanh", "linear", "all"), default="all")
    p.add_argument("--layers", type=int, default=50)
    p.add_argument("--runs", type=int, default=3, help="subprocesses per library (min is kept)")
    args = p.parse_args(argv)
    chains = ("sin", "tanh", "linear") if args.chain == "all" else (args.chain,)
    for chain in chains:
        res = {}
        for lib in ("leafgrad", "torch"):
            runs = [run(lib, chain, args.layers) for _ in range(args.runs)]
            res[lib] = min(runs, key=lambda r: r["peak_kib"])
        a, b = res["leafgrad"]["check"], res["torch"]["check"]
        assert abs(a - b) <= 1e-3 * max(1.0, abs(b)), (a, b)  # the same gradient, else no figure
        print(f"W5 ({chain} chain, {args.layers} layers): peak RSS added by forward + backward, "
              "saved tensors held after the forward")
        for lib, r in res.items():
            tm = (f"  tracemalloc peak {r['tracemalloc_kib'] / 1024:6.1f} MiB"
                  if r["tracemalloc_kib"] is not None else "")
            ratio = r["peak_kib"] / res["torch"]["peak_kib"]
            print(f"  {lib:<9} peak {r['peak_kib'] / 1024:6.1f} MiB ({ratio:.2f}x torch)  "
                  f"after forward {r['forward_kib'] / 1024:6.1f}  saved "
                  f"{r['saved_kib'] / 1024:6.1f} MiB{tm}")


if __name__ == "__main__":
    main()
