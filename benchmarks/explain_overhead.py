"""What explain-by-module costs when it is off: ``Module.__call__`` now tests whether creation
sites are being recorded (to push the module scope). Interleaved in one process:

* W2 (the MLP training step of w2_mlp.py) with today's ``Module.__call__`` and with the one
  before explain-by-module (the same method without the test), swapped in turn;
* the bare cost of calling a module whose forward does nothing, both ways;
* W1's op path needs no measurement: the ops changed only inside ``if _site_state.on:``
  (what ``capture`` is given), a branch not taken when off.

And what it costs when on: the W2 step inside ``explaining()`` (stack walks, values kept)."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import report  # noqa: E402, I001
from w2_mlp import make_step  # noqa: E402

import leafgrad  # noqa: E402
from leafgrad.nn.modules import module as _mod  # noqa: E402

Module = leafgrad.nn.Module
NOW = Module.__call__


def before(self, *args, **kwargs):
    """``Module.__call__`` as it was before explain-by-module."""
    if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
            or self._backward_pre_hooks or _mod._global_forward_pre_hooks
            or _mod._global_forward_hooks or _mod._global_backward_hooks
            or _mod._global_backward_pre_hooks):
        return self.forward(*args, **kwargs)
    return self._call_impl(*args, **kwargs)


def measure(contenders: dict, repeats: int, warmup: int = 3) -> dict:
    """Median CPU seconds per call, contenders interleaved round-robin (CPU time: on a loaded
    machine wall time counts the waits for a core)."""
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    samples: dict = {k: [] for k in contenders}
    for _ in range(repeats):
        for k, fn in contenders.items():
            t0 = time.process_time()
            fn()
            samples[k].append(time.process_time() - t0)
    return {k: statistics.median(v) for k, v in samples.items()}


def with_call(call, fn):
    def run():
        Module.__call__ = call
        try:
            return fn()
        finally:
            Module.__call__ = NOW
    return run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=60)
    args = ap.parse_args()
    step, _ = make_step(leafgrad)
    r = measure({"W2, Module.__call__ now": with_call(NOW, step),
                 "W2, Module.__call__ before": with_call(before, step)}, repeats=args.repeats)
    print(report("W2 step (CPU ms), interleaved", r, unit="ms",
                 baseline="W2, Module.__call__ before"))

    class Nothing(Module):
        def forward(self, x):
            return x

    m = Nothing()

    def calls():
        for _ in range(1000):
            m(1)

    r = measure({"call now": with_call(NOW, calls), "call before": with_call(before, calls)},
                repeats=args.repeats)
    print(report("a module call that does nothing (CPU ns per call)",
                 r, unit="µs", baseline="call before")  # per 1000 calls: µs = ns per call
          .replace("µs", "ns"))

    def explained():
        with leafgrad.autograd.explaining():
            step()

    r = measure({"W2 plain": step, "W2 inside explaining()": explained},
                repeats=max(10, args.repeats // 4))
    print(report("W2 step (CPU ms) when explaining is on", r, unit="ms", baseline="W2 plain"))


if __name__ == "__main__":
    main()
