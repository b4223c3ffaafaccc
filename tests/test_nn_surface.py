"""Guard: every name of OPS.md's "nn.functional (grad)" and "nn modules" sections exists and has
a row in the op table (functionals) or the module table (modules); and PyTorch-style training
code runs unchanged and matches torch step for step.

The spatial family (conv, pooling, padding, interpolation, fold, pixel shuffle) and the
recurrent and attention layers are listed by their own issues' tests: a tests/moduleinfo_<area>.py
may add names with ``SURFACE_FUNCTIONAL`` / ``SURFACE_MODULES``.
"""

from __future__ import annotations

import importlib
import pathlib

import numpy as np
import torch
from moduleinfo import MODULES
from opinfo import OPS

import leafgrad

# OPS.md, "nn.functional (grad)": everything but (later), attention and the spatial family
FUNCTIONAL = """
relu relu6 leaky_relu elu selu celu gelu silu mish softplus softsign hardtanh hardsigmoid
hardswish hardshrink softshrink tanhshrink threshold prelu rrelu glu logsigmoid sigmoid tanh
softmax log_softmax softmin gumbel_softmax dropout dropout1d dropout2d alpha_dropout linear
bilinear embedding embedding_bag one_hot batch_norm layer_norm group_norm instance_norm
rms_norm local_response_norm normalize cosine_similarity pairwise_distance cdist pdist
mse_loss l1_loss smooth_l1_loss huber_loss cross_entropy nll_loss binary_cross_entropy
binary_cross_entropy_with_logits kl_div poisson_nll_loss gaussian_nll_loss margin_ranking_loss
hinge_embedding_loss soft_margin_loss multilabel_soft_margin_loss multi_margin_loss
multilabel_margin_loss cosine_embedding_loss triplet_margin_loss ctc_loss
""".split()

# OPS.md, "nn modules": everything but LazyLinear (later), recurrent/attention and spatial
MODULE_NAMES = """
Sequential ModuleList ModuleDict ParameterList ParameterDict Identity Flatten Unflatten Linear
Bilinear ReLU ReLU6 LeakyReLU ELU SELU CELU GELU SiLU Mish Softplus Softsign Hardtanh
Hardsigmoid Hardswish Hardshrink Softshrink Tanhshrink Threshold PReLU RReLU GLU LogSigmoid
Sigmoid Tanh Softmax LogSoftmax Softmin BatchNorm1d BatchNorm2d LayerNorm GroupNorm
InstanceNorm1d InstanceNorm2d RMSNorm LocalResponseNorm Dropout Dropout1d Dropout2d AlphaDropout
Embedding EmbeddingBag CosineSimilarity PairwiseDistance MSELoss L1Loss SmoothL1Loss HuberLoss
CrossEntropyLoss NLLLoss BCELoss BCEWithLogitsLoss KLDivLoss PoissonNLLLoss GaussianNLLLoss
MarginRankingLoss HingeEmbeddingLoss SoftMarginLoss MultiLabelSoftMarginLoss MultiMarginLoss
MultiLabelMarginLoss CosineEmbeddingLoss TripletMarginLoss CTCLoss
""".split()

# Module API (OPS.md's Module entry), nn.init and nn.utils
MODULE_API = """
parameters named_parameters buffers named_buffers children named_children modules
named_modules get_submodule get_parameter state_dict load_state_dict train eval requires_grad_
zero_grad apply to float double half cpu register_buffer register_parameter register_module
add_module register_forward_pre_hook register_forward_hook register_full_backward_hook
register_full_backward_pre_hook extra_repr
""".split()
INIT = """
uniform_ normal_ constant_ ones_ zeros_ eye_ dirac_ xavier_uniform_ xavier_normal_
kaiming_uniform_ kaiming_normal_ trunc_normal_ orthogonal_ sparse_ calculate_gain
""".split()
UTILS = "clip_grad_norm_ clip_grad_value_ parameters_to_vector vector_to_parameters".split()

# containers are exercised by tests/test_nn_module.py rather than the module table
CONTAINERS = {"Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"}


def _area_extras(attr: str) -> list[str]:
    here = pathlib.Path(__file__).parent
    names: list[str] = []
    for path in sorted(here.glob("moduleinfo_*.py")):
        names += getattr(importlib.import_module(path.stem), attr, [])
    return names


def test_every_functional_exists_and_has_a_table_row():
    F = leafgrad.nn.functional
    covered = set()
    for op in OPS:
        covered |= {op.name, *op.funcs}
        parts = op.name.split("_")
        covered |= {"_".join(parts[:k]) for k in range(1, len(parts) + 1)}
    missing, absent = [], []
    for name in FUNCTIONAL + _area_extras("SURFACE_FUNCTIONAL"):
        if not hasattr(F, name) and not (name == "cdist" and hasattr(leafgrad, name)):
            absent.append(name)
        if name not in covered:
            missing.append(name)
    assert not absent, f"nn.functional lacks {absent}"
    assert not missing, f"no op-table row (tests/opinfo_nn.py) for {missing}"
    # and every public function of nn.functional is one of them or a variant with a row
    extra = [n for n in F.__all__ if n not in covered]
    assert not extra, f"nn.functional names with no op-table row: {extra}"


def test_every_module_exists_and_has_a_table_row():
    covered = set()
    for row in MODULES:
        covered |= {row.name.split("_")[0], *row.covers}
    absent = [n for n in MODULE_NAMES + _area_extras("SURFACE_MODULES")
              if not hasattr(leafgrad.nn, n)]
    assert not absent, f"leafgrad.nn lacks {absent}"
    missing = [n for n in MODULE_NAMES + _area_extras("SURFACE_MODULES")
               if n not in covered and n not in CONTAINERS]
    assert not missing, f"no module-table row (tests/moduleinfo.py) for {missing}"
    assert not [n for n in MODULE_API if not hasattr(leafgrad.nn.Module, n)]
    assert not [n for n in INIT if not hasattr(leafgrad.nn.init, n)]
    assert not [n for n in UTILS if not hasattr(leafgrad.nn.utils, n)]
    assert hasattr(leafgrad.nn.utils.rnn, "pad_sequence")


def test_imports_as_a_pytorch_user_writes_them():
    import leafgrad as torch_  # noqa: F401 - the alias users write
    import leafgrad.nn as nn
    import leafgrad.nn.functional as F
    from leafgrad.nn import init

    assert torch_.nn is nn and nn.functional is F and nn.init is init
    assert isinstance(nn.Parameter(torch_.ones(1)), torch_.Tensor)


# -- an MLP written exactly as a PyTorch user writes it ------------------------------------------
def _train_mlp(lib, steps: int = 6):
    """A user's script: nothing in it knows which library ``lib`` is."""
    torch = lib
    nn = torch.nn
    F = torch.nn.functional

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(20, 32)
            self.fc2 = nn.Linear(32, 32)
            self.drop = nn.Dropout(0.2)
            self.norm = nn.LayerNorm(32)
            self.out = nn.Linear(32, 4)

        def forward(self, x):
            x = F.relu(self.fc1(x))
            x = self.drop(self.norm(F.gelu(self.fc2(x))))
            return self.out(x)

    torch.manual_seed(0)
    model = MLP()
    data = torch.randn(64, 20)
    labels = torch.randint(0, 4, (64,))
    lr = 0.1
    losses = []
    for step in range(steps):
        model.train()
        batch = slice(16 * (step % 4), 16 * (step % 4) + 16)
        model.zero_grad()
        loss = F.cross_entropy(model(data[batch]), labels[batch])
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p.sub_(p.grad, alpha=lr)
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        acc = (model(data).argmax(1) == labels).float().mean().item()
    return losses, acc, {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_mlp_trains_like_torch_step_for_step():
    l_losses, l_acc, l_state = _train_mlp(leafgrad)
    t_losses, t_acc, t_state = _train_mlp(torch)
    np.testing.assert_allclose(l_losses, t_losses, rtol=1e-4)
    assert l_losses[-1] < l_losses[0]
    assert abs(l_acc - t_acc) < 1e-6
    for k in t_state:
        np.testing.assert_allclose(l_state[k], t_state[k], rtol=1e-3, atol=1e-5, err_msg=k)


def test_user_script_runs_unchanged_through_leafgrad_run():
    """tests/scripts/mlp_train.py imports torch, torch.nn, torch.nn.functional; under
    ``leafgrad run`` it prints exactly what it prints with the real PyTorch."""
    import contextlib
    import io
    import runpy

    from leafgrad._torch_alias import run_script

    path = str(pathlib.Path(__file__).parent / "scripts" / "mlp_train.py")
    real = io.StringIO()
    with contextlib.redirect_stdout(real):
        runpy.run_path(path, run_name="__main__")
    ours = io.StringIO()
    with contextlib.redirect_stdout(ours):
        status = run_script(path, [])
    assert status == 0
    assert ours.getvalue() == real.getvalue()
