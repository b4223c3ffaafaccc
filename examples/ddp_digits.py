"""Train a digit classifier data-parallel: the PyTorch DDP recipe, unchanged, on leafgrad.

    leafgrad run -n 2 examples/ddp_digits.py            # 2 ranks through mpirun
    mpirun -n 2 python examples/ddp_digits.py           # the same, started by hand
    python examples/ddp_digits.py                       # 1 rank

The data is leafgrad's bundled 8x8 handwritten digits (``leafgrad.datasets.load_digits``, the
set ``leafgrad demo`` learns), split 1,437 to train on and 360 to test as the demo does. Each
rank reads its share of every epoch (DistributedSampler), DistributedDataParallel averages the
gradients over the ranks during backward, and rank 0 reports the test accuracy.
"""

from __future__ import annotations

import argparse

import leafgrad as torch
import leafgrad.distributed as dist
import leafgrad.nn as nn
import leafgrad.nn.functional as F
from leafgrad.datasets import load_digits
from leafgrad.nn.parallel import DistributedDataParallel as DDP
from leafgrad.utils.data import DataLoader, DistributedSampler, TensorDataset


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64, help="per rank")
    p.add_argument("--lr", type=float, default=0.3)
    args = p.parse_args()

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)

    images, labels = load_digits()  # float32 pixels in [0, 1], int64 labels
    xtr, ytr, xte, yte = images[:1437], labels[:1437], images[1437:], labels[1437:]
    train = TensorDataset(torch.tensor(xtr), torch.tensor(ytr))
    sampler = DistributedSampler(train, shuffle=True, seed=0)
    loader = DataLoader(train, batch_size=args.batch_size, sampler=sampler)

    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    ddp = DDP(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=args.lr, momentum=0.9)
    xt, yt = torch.tensor(xte), torch.tensor(yte)
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        ddp.train()
        total = torch.zeros(2)
        for x, y in loader:
            opt.zero_grad()
            loss = F.cross_entropy(ddp(x), y)
            loss.backward()
            opt.step()
            total += torch.tensor([loss.item() * len(y), len(y)])
        dist.all_reduce(total)  # the epoch's mean loss over every rank's samples
        ddp.eval()
        with torch.no_grad():
            acc = (ddp(xt).argmax(1) == yt).float().mean().item()
        if rank == 0:
            print(f"epoch {epoch + 1}: train loss {(total[0] / total[1]).item():.4f}, "
                  f"test accuracy {acc:.3f} ({world} rank{'s' if world > 1 else ''})",
                  flush=True)
    # every rank holds the same model: check it (a gather of the parameters' sums)
    sums = [None] * world
    dist.all_gather_object(sums, [float(p.detach().double().sum()) for p in model.parameters()])
    if rank == 0:
        print("ranks agree on the trained model" if all(s == sums[0] for s in sums)
              else f"ranks DISAGREE: {sums}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
