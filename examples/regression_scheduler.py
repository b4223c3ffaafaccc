"""Fit a noisy curve with an MLP, mini-batches from a DataLoader and a learning-rate schedule.

    python examples/regression_scheduler.py

Ordinary PyTorch code (`import leafgrad as torch`; with `import torch` it runs on PyTorch and
prints the same numbers from the same seed): the data come from the seeded generator, the
optimizer is SGD with momentum, and OneCycleLR warms the learning rate up and anneals it down,
one scheduler step per batch.
"""

import math

import leafgrad as torch

nn = torch.nn
DataLoader = torch.utils.data.DataLoader
TensorDataset = torch.utils.data.TensorDataset


def make_data(n=512):
    x = torch.rand(n, 1) * 6 - 3
    y = torch.sin(x) + 0.3 * x + 0.1 * torch.randn(n, 1)
    return x, y


def main(epochs=20, seed=0, verbose=True):
    torch.manual_seed(seed)
    x, y = make_data()
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, drop_last=True)

    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                          nn.Linear(32, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=0.05, epochs=epochs, steps_per_epoch=len(loader))
    loss_fn = nn.MSELoss()

    history = []
    for epoch in range(epochs):
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
        history.append((total / len(loader), scheduler.get_last_lr()[0]))
        if verbose:
            print(f"epoch {epoch + 1:2d}  mean loss {history[-1][0]:.5f}  "
                  f"lr {history[-1][1]:.5f}")
    with torch.no_grad():
        grid = torch.linspace(-3, 3, 7).unsqueeze(1)
        fit = model(grid).squeeze(1).tolist()
    if verbose:
        truth = [math.sin(v) + 0.3 * v for v in grid.squeeze(1).tolist()]
        print("x      fit     truth")
        for v, f, t in zip(grid.squeeze(1).tolist(), fit, truth):
            print(f"{v:+.1f}  {f:+.3f}  {t:+.3f}")
    return history


if __name__ == "__main__":
    main()
