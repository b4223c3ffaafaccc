"""Train a small classifier with plain PyTorch (nn, optim): runs unchanged on leafgrad.

    python examples/train_mlp.py                            # with PyTorch
    leafgrad run examples/train_mlp.py                      # the same script, on leafgrad
    leafgrad explain examples/train_mlp.py --html mlp.html  # its last backward, module by module
"""
import torch
from torch import nn

torch.manual_seed(0)
# two interleaved spirals, one per class
n = 200
radius = torch.rand(n) * 3
label = torch.randint(0, 2, (n,))
angle = radius * 2 + label * 3.14159
x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
x = x + 0.1 * torch.randn(n, 2)

model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                      nn.Linear(32, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()
for step in range(301):
    optimizer.zero_grad()
    loss = loss_fn(model(x), label)
    loss.backward()
    optimizer.step()
    if step % 100 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")
with torch.no_grad():
    accuracy = (model(x).argmax(dim=1) == label).float().mean()
print(f"training accuracy {accuracy.item():.1%}")
