import torch

x = torch.tensor([[1.0, 0.], [-1., 1.]], requires_grad=True)
z = x.pow(2).sum()
z.backward()
print(x.grad)
print(z.grad_fn.name(), type(z.grad_fn).__name__, x.is_leaf, z.is_leaf)
