"""Classify the 8x8 handwritten digits with a small MLP: nn, optim, DataLoader, as in PyTorch.

    python examples/mlp_digits.py

The script is ordinary PyTorch code; only its first import differs (`import leafgrad as torch`).
Replace that line with `import torch` and it runs on PyTorch: from the same seed the losses and
accuracies are the same (tests/test_examples.py checks it).
"""

import leafgrad as torch
from leafgrad.datasets import load_digits  # NumPy arrays, usable from either library

nn = torch.nn
F = torch.nn.functional
DataLoader = torch.utils.data.DataLoader
TensorDataset = torch.utils.data.TensorDataset


class MLP(nn.Module):
    def __init__(self, hidden=96, p_drop=0.1):
        super().__init__()
        self.fc1 = nn.Linear(64, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 10)
        self.drop = nn.Dropout(p_drop)

    def forward(self, x):
        x = self.drop(F.relu(self.fc1(x)))
        x = self.drop(F.relu(self.fc2(x)))
        return self.out(x)


def evaluate(model, loader):
    model.eval()
    correct, total, loss = 0, 0, 0.0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(dim=1) == y).sum().item()
            total += y.numel()
    return loss / total, correct / total


def main(epochs=12, seed=0, verbose=True):
    torch.manual_seed(seed)
    images, labels = load_digits()
    dataset = TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
    train_set, val_set = torch.utils.data.random_split(
        dataset, [0.8, 0.2], generator=torch.Generator().manual_seed(1))
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=256)

    model = MLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-5)
    history = []
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        val_loss, val_acc = evaluate(model, val_loader)
        history.append((loss.item(), val_loss, val_acc))
        if verbose:
            print(f"epoch {epoch + 1:2d}  last batch loss {loss.item():.4f}  "
                  f"val loss {val_loss:.4f}  val accuracy {val_acc:.1%}")
    return history


if __name__ == "__main__":
    main()
