"""A small convolutional network on the 8x8 handwritten digits, as a PyTorch user writes it.

    python examples/cnn_digits.py

Ordinary PyTorch code; only the first import differs (`import leafgrad as torch`). With
`import torch` it runs on PyTorch and prints the same numbers from the same seed
(tests/test_examples.py checks the losses).
"""

import leafgrad as torch
from leafgrad.datasets import load_digits  # NumPy arrays, usable from either library

nn = torch.nn
F = torch.nn.functional
DataLoader = torch.utils.data.DataLoader
TensorDataset = torch.utils.data.TensorDataset


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)   # 8x8 -> 8x8
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)  # 4x4 -> 4x4
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))   # (N, 8, 4, 4)
        x = self.pool(F.relu(self.conv2(x)))   # (N, 16, 2, 2)
        return self.fc(torch.flatten(x, 1))


def main(epochs=8, seed=0, verbose=True):
    torch.manual_seed(seed)
    images, labels = load_digits()
    x = torch.from_numpy(images).reshape(-1, 1, 8, 8)   # one channel of 8x8 pixels
    dataset = TensorDataset(x, torch.from_numpy(labels))
    train_set, test_set = torch.utils.data.random_split(
        dataset, [1500, 297], generator=torch.Generator().manual_seed(0))
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=297)

    model = SmallCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    history = []
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
        scheduler.step()
        model.eval()
        with torch.no_grad():
            xt, yt = next(iter(test_loader))
            accuracy = (model(xt).argmax(dim=1) == yt).float().mean().item()
        history.append((total / len(train_set), accuracy))
        if verbose:
            print(f"epoch {epoch + 1}  train loss {history[-1][0]:.4f}  "
                  f"test accuracy {accuracy:.1%}")
    return history


if __name__ == "__main__":
    main()
