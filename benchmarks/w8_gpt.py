"""W8: one training step of the tiny GPT of examples/tiny_gpt.py (4 layers, 4 heads, d=128,
context 64, batch 16, dropout 0.1 unless --dropout says otherwise, float32): forward,
cross-entropy, backward, gradient
clipping and an AdamW step with weight-decay groups. The example's own code runs on both
sides (loaded once with ``import torch`` as torch, once as leafgrad), from the same weights.

Reported: wall-time medians (interleaved with torch at one thread and at its default thread
count), CPU-time medians (single-threaded contenders) and a per-phase split.
"""

from __future__ import annotations

import argparse
import contextlib
import runpy
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# harness first: it pins OpenBLAS to one thread, which only works before NumPy loads
from harness import measure, measure_cpu, report  # noqa: E402, I001
import numpy as np  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "tiny_gpt.py"
LAYERS, HEADS, D, CONTEXT, BATCH, VOCAB = 4, 4, 128, 64, 16, 61


def load_example(on_leafgrad: bool) -> dict:
    """The example's globals, with ``torch`` bound to leafgrad or to PyTorch."""
    if on_leafgrad:
        from leafgrad._torch_alias import torch_as_leafgrad

        ctx = torch_as_leafgrad()
    else:
        ctx = contextlib.nullcontext()
    with ctx:
        return runpy.run_path(str(EXAMPLE), run_name="tiny_gpt")


def make_step(ex: dict, seed: int = 0, state: dict | None = None, dropout: float = 0.1):
    """(step, model, phase_fns) for the example module ``ex``."""
    lib = ex["torch"]
    lib.manual_seed(seed)
    model = ex["GPT"](VOCAB, CONTEXT, LAYERS, HEADS, D, dropout)
    if state is not None:
        model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95))
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.integers(0, VOCAB, (BATCH, CONTEXT)))
    y = lib.tensor(rng.integers(0, VOCAB, (BATCH, CONTEXT)))

    def step():
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    def phases():
        t0 = time.process_time()
        _, loss = model(x, y)
        t1 = time.process_time()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.process_time()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        t3 = time.process_time()
        return t1 - t0, t2 - t1, t3 - t2

    return step, model, phases


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--dropout", type=float, default=0.1,
                   help="the example's dropout (0.1; nanoGPT's pretraining default is 0.0)")
    args = p.parse_args(argv)

    lex = load_example(on_leafgrad=True)
    lstep, lmodel, lphases = make_step(lex, dropout=args.dropout)
    state = {k: v.numpy().copy() for k, v in lmodel.state_dict().items()}
    contenders = {"leafgrad": lstep}
    all_phases = {"leafgrad": lphases}
    if not args.no_torch:
        tex = load_example(on_leafgrad=False)
        torch = tex["torch"]
        tstep, _, tphases = make_step(tex, state=state, dropout=args.dropout)
        n_default = torch.get_num_threads()

        def torch_1thread():
            torch.set_num_threads(1)
            try:
                return tstep()
            finally:
                torch.set_num_threads(n_default)

        contenders["torch (1 thread)"] = torch_1thread
        contenders[f"torch ({n_default} threads)"] = tstep
        all_phases["torch (1 thread)"] = tphases
        # correctness first: same weights and same dropout draws give the same first losses
        for _ in range(2):
            lex["torch"].manual_seed(1)
            torch.manual_seed(1)
            a, b = lstep().item(), tstep().item()
            assert abs(a - b) < 1e-4 * abs(b), (a, b)
    base = "torch (1 thread)" if not args.no_torch else None
    med = measure(contenders, repeats=args.repeats)
    print(report(f"W8: tiny GPT ({LAYERS} layers, {HEADS} heads, d={D}, context {CONTEXT}, "
                 f"batch {BATCH}, dropout {args.dropout}), one AdamW training step (wall time)",
                 med, unit="ms", baseline=base))
    single = {k: v for k, v in contenders.items() if "threads)" not in k}
    if not args.no_torch:
        torch.set_num_threads(1)
    cpu = measure_cpu(single, repeats=args.repeats, inner=2)
    print(report("W8, CPU time (single-threaded contenders)", cpu, unit="ms", baseline=base))
    print("W8 phases, CPU ms (median): forward / backward / clip + AdamW step")
    for name, fn in all_phases.items():
        ph = [fn() for _ in range(args.repeats)]
        f, b, s = (statistics.median(c) * 1e3 for c in zip(*ph))
        print(f"  {name:<18} {f:8.1f} {b:8.1f} {s:8.1f}")


if __name__ == "__main__":
    main()
