"""Guard: every name of OPS.md's "optim" and "utils.data" sections exists in leafgrad (and in
torch), and has its tests: an optimizer table row, a scheduler case, a data test that uses it."""

from __future__ import annotations

import pathlib

import torch
from optiminfo import OPTIM_DB
from test_lr_scheduler import CASES

import leafgrad

OPTIMIZERS = "SGD Adam AdamW Adamax NAdam RAdam RMSprop Adagrad Adadelta Rprop ASGD LBFGS".split()
OPTIMIZER_API = ("param_groups add_param_group state state_dict load_state_dict zero_grad "
                 "step").split()
SCHEDULERS = """LambdaLR MultiplicativeLR StepLR MultiStepLR ExponentialLR CosineAnnealingLR
CosineAnnealingWarmRestarts ReduceLROnPlateau OneCycleLR CyclicLR LinearLR ConstantLR SequentialLR
ChainedScheduler PolynomialLR""".split()
DATA = """Dataset IterableDataset TensorDataset ConcatDataset Subset random_split DataLoader
default_collate Sampler SequentialSampler RandomSampler BatchSampler WeightedRandomSampler
SubsetRandomSampler DistributedSampler get_worker_info""".split()


def test_optim_surface():
    rows = {info.name for info in OPTIM_DB}
    for name in OPTIMIZERS:
        assert hasattr(torch.optim, name) and hasattr(leafgrad.optim, name), name
        assert name in rows, f"{name} has no row in tests/optiminfo.py"
    opt = leafgrad.optim.SGD([leafgrad.zeros(1, requires_grad=True)], lr=0.1)
    for attr in OPTIMIZER_API:
        assert hasattr(opt, attr), attr


def test_lr_scheduler_surface():
    tested = {c[0].split("-")[0] for c in CASES}
    for name in SCHEDULERS:
        assert hasattr(torch.optim.lr_scheduler, name), name
        assert hasattr(leafgrad.optim.lr_scheduler, name), name
        assert name in tested, f"{name} has no case in tests/test_lr_scheduler.py"


def test_utils_data_surface():
    source = (pathlib.Path(__file__).parent / "test_data.py").read_text()
    for name in DATA:
        assert hasattr(torch.utils.data, name) and hasattr(leafgrad.utils.data, name), name
        assert f"data.{name}" in source or f"lud.{name}" in source, \
            f"tests/test_data.py does not exercise {name}"
