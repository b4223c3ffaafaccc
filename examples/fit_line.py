"""Fit a line with plain PyTorch: runs unchanged on PyTorch and on leafgrad.

    python examples/fit_line.py            # with PyTorch
    leafgrad run examples/fit_line.py      # the same script, on leafgrad
    leafgrad explain examples/fit_line.py --html fit.html   # and its last backward, narrated
"""
import torch

torch.manual_seed(0)
x = torch.linspace(-1, 1, 20).unsqueeze(1)
y = 3 * x + 2 + 0.1 * torch.randn(20, 1)

w = torch.zeros(1, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
for step in range(101):
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.3 * w.grad
        b -= 0.3 * b.grad
    w.grad = None
    b.grad = None
    if step % 25 == 0:
        print(f"step {step:3d}  loss {loss.item():.5f}")
print(f"w = {w.item():.4f} (true 3), b = {b.item():.4f} (true 2)")
