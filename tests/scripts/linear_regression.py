"""Fit y = 3x - 1 by gradient descent; the number of steps comes from the command line."""
import argparse

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=50)
parser.add_argument("--lr", type=float, default=0.1)
args = parser.parse_args()

torch.manual_seed(0)
x = torch.randn(32, 1)
y = 3 * x - 1 + 0.1 * torch.randn(32, 1)
w = torch.zeros(1, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
for step in range(args.steps):
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= args.lr * w.grad
        b -= args.lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    if step % 10 == 0:
        print(f"step {step:3d} loss {loss.item():.6f}")
print(w, b, sep="\n")
