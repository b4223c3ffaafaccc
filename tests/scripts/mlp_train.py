"""A PyTorch user's MLP training script, unmodified: `leafgrad run` must print what torch does."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, sizes=(8, 16, 16, 3)):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.drop(F.relu(layer(x)))
        return self.layers[-1](x)


torch.manual_seed(0)
model = MLP()
print(model)
print(sum(p.numel() for p in model.parameters()), "parameters")
x = torch.randn(32, 8)
y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
loss_fn = nn.CrossEntropyLoss()
for step in range(30):
    model.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.5 * p.grad
    if step % 5 == 0:
        print(f"step {step:2d}  loss {loss.item():.4f}")
model.eval()
with torch.no_grad():
    acc = (model(x).argmax(dim=1) == y).float().mean()
print(f"accuracy {acc.item():.3f}")
print(list(model.state_dict().keys()))
