import torch
import torch.distributions

print(torch.distributions.Normal(0.0, 1.0))
