"""DataLoader throughput: batches per second over the bundled digits (1,797 samples, batch 64,
shuffled TensorDataset), leafgrad against torch, in the main process and with 2 workers.

Each timed call is one full epoch (29 batches); worker runs include starting and stopping the
worker processes, as a non-persistent loader does every epoch, and are also timed with
``persistent_workers=True`` (start-up paid once). Interleaved round-robin; wall-clock medians
(workers run in other processes, so CPU time of this one would not count them).

    python benchmarks/data_loader.py            # --repeats N
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import measure  # noqa: E402, I001  (pins OpenBLAS to one thread before NumPy loads)

BATCH = 64


def make_epoch(lib, data, workers: int, persistent: bool = False):
    from leafgrad.datasets import load_digits

    x, y = load_digits()
    ds = data.TensorDataset(lib.from_numpy(x), lib.from_numpy(y))
    kw = {"num_workers": workers, "persistent_workers": persistent} if workers else {}
    loader = data.DataLoader(ds, batch_size=BATCH, shuffle=True, **kw)

    def epoch():
        n = 0
        for _batch in loader:
            n += 1
        return n

    return epoch, len(loader)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=15)
    args = p.parse_args(argv)
    import torch
    import torch.utils.data as tud

    import leafgrad
    import leafgrad.utils.data as lud

    torch.set_num_threads(1)
    configs = {}
    for label, workers, persistent in (("0 workers", 0, False), ("2 workers", 2, False),
                                       ("2 persistent workers", 2, True)):
        for name, lib, data in (("leafgrad", leafgrad, lud), ("torch", torch, tud)):
            configs[f"{name}, {label}"] = make_epoch(lib, data, workers, persistent)
    nbatches = next(iter(configs.values()))[1]
    medians = measure({k: v[0] for k, v in configs.items()}, repeats=args.repeats, warmup=1)
    print(f"DataLoader over the digits: {nbatches} batches of {BATCH} per epoch; wall-clock "
          "median per epoch")
    for label in ("0 workers", "2 workers", "2 persistent workers"):
        lg, tc = medians[f"leafgrad, {label}"], medians[f"torch, {label}"]
        print(f"  {label:<22} leafgrad {nbatches / lg:8.0f} batches/s   torch "
              f"{nbatches / tc:8.0f} batches/s   ratio (time) {lg / tc:.2f}x")


if __name__ == "__main__":
    main()
