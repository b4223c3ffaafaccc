"""W7: a 2-layer LSTM (input 128, hidden 128), batch 32, sequence 50, float32: forward and
backward of ``output.sum()``, written with nn.LSTM on both sides (same weights).

Reported: wall-time medians (interleaved with torch at one thread and at its default thread
count) and CPU-time medians (single-threaded contenders; on a loaded machine wall time also
counts the waits for a core), plus a forward/backward split.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# harness first: it pins OpenBLAS to one thread, which only works before NumPy loads
from harness import measure, measure_cpu, report  # noqa: E402, I001
import numpy as np  # noqa: E402

T, B, I, H, LAYERS = 50, 32, 128, 128, 2


def make_step(lib, seed: int = 0, input_grad: bool = False):
    """(step, model): one forward + backward of a 2-layer LSTM, as a PyTorch user writes it."""
    lib.manual_seed(seed)
    model = lib.nn.LSTM(I, H, LAYERS)
    x = lib.tensor(np.random.default_rng(seed).standard_normal((T, B, I)).astype(np.float32),
                   requires_grad=input_grad)
    params = list(model.parameters())

    def step():
        for p in params:
            p.grad = None
        out, _ = model(x)
        out.sum().backward()
        return out

    return step, model


def phases(lib, repeats: int) -> tuple[float, float]:
    """Median CPU ms of the forward and of the backward."""
    step, model = make_step(lib)
    x = lib.tensor(np.random.default_rng(0).standard_normal((T, B, I)).astype(np.float32))
    fw, bw = [], []
    for _ in range(repeats):
        t0 = time.process_time()
        out, _ = model(x)
        t1 = time.process_time()
        out.sum().backward()
        t2 = time.process_time()
        fw.append(t1 - t0)
        bw.append(t2 - t1)
    return statistics.median(fw) * 1e3, statistics.median(bw) * 1e3


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args(argv)
    import leafgrad

    lstep, lmodel = make_step(leafgrad)
    contenders = {"leafgrad": lstep}
    if not args.no_torch:
        import torch

        tstep, tmodel = make_step(torch)
        tmodel.load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                                lmodel.state_dict().items()})
        n_default = torch.get_num_threads()

        def torch_1thread():
            torch.set_num_threads(1)
            try:
                return tstep()
            finally:
                torch.set_num_threads(n_default)

        contenders["torch (1 thread)"] = torch_1thread
        contenders[f"torch ({n_default} threads)"] = tstep
        # correctness first: same weights, same output and weight gradients
        a, b = lstep().detach().numpy(), tstep().detach().numpy()
        assert np.allclose(a, b, rtol=1e-4, atol=1e-5), np.abs(a - b).max()
        for (k, pa), (_, pb) in zip(lmodel.named_parameters(), tmodel.named_parameters()):
            assert np.allclose(pa.grad.numpy(), pb.grad.numpy(), rtol=1e-3, atol=1e-4), k
    base = "torch (1 thread)" if not args.no_torch else None
    med = measure(contenders, repeats=args.repeats)
    print(report(f"W7: {LAYERS}-layer LSTM {I}->{H}, batch {B}, sequence {T}, forward + backward "
                 "(wall time)", med, unit="ms", baseline=base))
    single = {k: v for k, v in contenders.items() if "threads)" not in k}
    if not args.no_torch:
        torch.set_num_threads(1)
    cpu = measure_cpu(single, repeats=args.repeats, inner=2)
    print(report("W7, CPU time (single-threaded contenders)", cpu, unit="ms", baseline=base))
    libs = [("leafgrad", leafgrad)] + ([] if args.no_torch else [("torch (1 thread)", torch)])
    print("W7 phases, CPU ms (median): forward / backward")
    for name, lib in libs:
        f, b = phases(lib, args.repeats)
        print(f"  {name:<18} {f:8.1f} {b:8.1f}")


if __name__ == "__main__":
    main()
