import torch


def step(x):
    y = (x * x).sum()
    y.backward()
    y.backward()  # the graph was freed by the first call


print("before")
step(torch.ones(2, requires_grad=True))
print("never printed")
