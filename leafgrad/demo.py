"""The training script that ``leafgrad demo`` runs: a small MLP learns the 8x8 handwritten digits.

It is written the way a PyTorch user writes it (``import leafgrad as torch``); with
``import torch`` instead it runs on PyTorch and, from the same seed, gives the same numbers.
Run it yourself with ``python -m leafgrad.demo`` or read it: every line is ordinary PyTorch.
"""

from __future__ import annotations

import sys
import time

import leafgrad as torch
from leafgrad.datasets import load_digits

nn = torch.nn
DataLoader = torch.utils.data.DataLoader
TensorDataset = torch.utils.data.TensorDataset
random_split = torch.utils.data.random_split


def progress(iterable, total: int, desc: str):
    """A progress bar: tqdm's when it is installed, a plain one otherwise."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _PlainBar(iterable, total, desc)
    return tqdm(iterable, total=total, desc=desc, leave=False)


class _PlainBar:
    """The fallback bar: redraws one line on a terminal, prints nothing when piped."""

    def __init__(self, iterable, total: int, desc: str) -> None:
        self.iterable, self.total, self.desc = iterable, total, desc
        self.live = sys.stdout.isatty()

    def __iter__(self):
        for i, item in enumerate(self.iterable, 1):
            yield item
            if self.live:
                done = 30 * i // self.total
                print(f"\r{self.desc} [{'#' * done}{'.' * (30 - done)}] {i}/{self.total}",
                      end="", flush=True)
        if self.live:
            print("\r" + " " * (len(self.desc) + 45) + "\r", end="", flush=True)


def accuracy(model, loader) -> float:
    """Share of the samples in ``loader`` whose highest-scoring class is the label."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            total += labels.numel()
    return correct / total


def main(epochs: int = 15, batch_size: int = 32, lr: float = 0.1, seed: int = 0,
         verbose: bool = True) -> dict:
    """Train the MLP on 1,437 digits, test it on the other 360; return the figures."""
    start = time.perf_counter()
    torch.manual_seed(seed)

    # the data: 1,797 images of 8x8 pixels (scaled to 0..1) and their digit labels
    images, labels = load_digits()
    dataset = TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
    train_set, test_set = random_split(dataset, [1437, 360],
                                       generator=torch.Generator().manual_seed(0))
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=360)

    # the model: 64 pixels -> 128 hidden units -> 10 scores, one per digit
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()

    losses = []
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for x, y in progress(train_loader, len(train_loader), f"epoch {epoch:2d}/{epochs}"):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        losses.append(total / len(train_set))
        if verbose:
            print(f"epoch {epoch:2d}/{epochs}  train loss {losses[-1]:.4f}", flush=True)

    test_accuracy = accuracy(model, test_loader)
    seconds = time.perf_counter() - start
    if verbose:
        print(f"held-out accuracy {test_accuracy:.1%} on {len(test_set)} digits the model never "
              f"saw, in {seconds:.1f} s")
    return {"losses": losses, "accuracy": test_accuracy, "seconds": seconds}


if __name__ == "__main__":
    main()
