import torch
from torch import linalg

A = torch.tensor([[4.0, 1.0], [2.0, 3.0]], requires_grad=True)
b = torch.tensor([[1.0], [2.0]], requires_grad=True)
sol = linalg.solve(A, b)
loss = sol.sum() + linalg.det(A) + torch.linalg.norm(A)
loss.backward()
print(sol)
print(A.grad)
print(b.grad)
print(torch.linalg.inv(A.detach()))
