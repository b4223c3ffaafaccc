import torch
import torch.autograd.functional as AF
from torch.autograd import grad


def f(v):
    return (v.sin() * v.exp()).sum()


x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
(g,) = grad(f(x), x, create_graph=True)
print(g)
(gg,) = grad(g.sum(), x)
print(gg)
print(AF.jacobian(lambda v: v ** 2 + v.prod(), x.detach()))
print(AF.hessian(f, x.detach()))

seen = []
h = x * 2
h.register_hook(lambda gr: seen.append(gr.clone()))
h.retain_grad()
(h.tanh() * torch.arange(3.0, dtype=torch.float64)).sum().backward()
print(seen[0], h.grad, x.grad, sep="\n")
with torch.no_grad():
    print((x * 2).requires_grad, torch.is_grad_enabled())
