"""A tanh RNN cell unrolled over four steps, written with raw tensor ops."""
import torch

torch.manual_seed(1)
W_x = torch.randn(3, 4, requires_grad=True)
W_h = torch.randn(4, 4, requires_grad=True)
b = torch.zeros(4, requires_grad=True)
xs = torch.randn(4, 2, 3)
h = torch.zeros(2, 4)
for t in range(xs.shape[0]):
    h = torch.tanh(xs[t] @ W_x + h @ W_h + b)
loss = h.pow(2).mean()
loss.backward()
torch.set_printoptions(precision=4)
print(loss)
print(W_x.grad)
print(W_h.grad.norm(), b.grad)
