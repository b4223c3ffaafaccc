"""I/O: save and load of a 100 MB state dict, leafgrad against torch, interleaved, medians, MB/s.

Contenders write and read the same kind of checkpoint (PyTorch's zip format) on the same file
system: save to a path, load from it (weights_only=True), and load with mmap=True. The files
stay in the page cache, so this measures the libraries, not the disk. leafgrad checks every
record's CRC-32 on a normal load (PyTorch does not); the mmap load reads lazily and checks none.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from harness import measure, report  # noqa: E402


def state_dict(lib, mb: int, n_tensors: int, data: np.ndarray):
    """``n_tensors`` float32 tensors totalling ``mb`` MB, as a model's state dict would be."""
    per = mb * 1_000_000 // 4 // n_tensors
    return {f"layer{i}.weight": lib.from_numpy(data[i * per:(i + 1) * per].copy())
            for i in range(n_tensors)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--mb", type=int, default=100)
    p.add_argument("--tensors", type=int, default=100)
    args = p.parse_args(argv)
    import torch

    import leafgrad

    torch.set_num_threads(1)
    data = np.random.default_rng(0).standard_normal(args.mb * 250_000).astype(np.float32)
    sd_l = state_dict(leafgrad, args.mb, args.tensors, data)
    sd_t = state_dict(torch, args.mb, args.tensors, data)
    tmp = tempfile.mkdtemp()
    pl, pt = os.path.join(tmp, "leafgrad.pt"), os.path.join(tmp, "torch.pt")
    leafgrad.save(sd_l, pl)
    torch.save(sd_t, pt)
    assert np.array_equal(leafgrad.load(pl)["layer3.weight"].numpy(),
                          torch.load(pl, weights_only=True)["layer3.weight"].numpy())

    def touch(sd) -> float:  # an mmap load reads nothing until used: read every tensor once
        return sum(float(v.sum()) for v in sd.values())

    saves = measure({"leafgrad.save": lambda: leafgrad.save(sd_l, pl),
                     "torch.save": lambda: torch.save(sd_t, pt)},
                    repeats=args.repeats, warmup=1)
    loads = measure({"leafgrad.load": lambda: leafgrad.load(pl),
                     "torch.load": lambda: torch.load(pt, weights_only=True)},
                    repeats=args.repeats, warmup=1)
    mmaps = measure({"leafgrad.load(mmap) + read": lambda: touch(leafgrad.load(pl, mmap=True)),
                     "torch.load(mmap) + read": lambda: touch(
                         torch.load(pt, mmap=True, weights_only=True))},
                    repeats=args.repeats, warmup=1)
    mb = os.path.getsize(pl) / 1e6
    for title, med, base in (("save", saves, "torch.save"), ("load", loads, "torch.load"),
                             ("load with mmap=True, then read every tensor", mmaps,
                              "torch.load(mmap) + read")):
        print(report(f"{title} ({mb:.0f} MB, {args.tensors} tensors)", med, unit="ms",
                     baseline=base))
        for k, v in med.items():
            print(f"  {k:<28} {mb / v:10.0f} MB/s")
    for path in (pl, pt):
        os.unlink(path)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
