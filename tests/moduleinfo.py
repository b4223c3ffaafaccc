"""The module table: one row per module configuration; test_modules.py builds each in torch and
leafgrad from the same seed and compares parameters, outputs, gradients, state_dict and repr.

A row says how to construct the module (``ctor(nn)`` with ``nn`` either library's ``nn``) and
which inputs to call it with. An input spec is a shape (float, drawn in ``domain``, requires
grad), a NumPy array (a constant: class indices, targets) or a callable ``rng -> array``
(a float input drawn some other way). Extra rows load from tests/moduleinfo_<area>.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ModuleInfo:
    """How to test one module configuration against torch."""

    name: str
    ctor: Callable  # ctor(nn) -> module
    inputs: tuple  # input specs, see the module docstring
    domain: tuple[float, float] = (-2.0, 2.0)
    atol: float = 1e-5
    rtol: float = 1e-4
    train_differs: bool = False  # train() and eval() give different outputs
    random: bool = False  # forward draws random numbers (reseeded identically on both sides)
    dtypes: tuple[str, ...] = ("float32", "float64")
    covers: tuple[str, ...] = ()  # module names the row tests, beyond its name's first word


def const(values, dtype="int64") -> np.ndarray:
    """A constant (non-differentiable) input."""
    return np.asarray(values, dtype=dtype)


def probs(shape):
    """Floats in (0.05, 0.95), e.g. probabilities for BCELoss."""
    return lambda rng: rng.uniform(0.05, 0.95, size=shape)


def signs(shape):
    """A constant ±1 float target."""
    return lambda rng: np.where(rng.uniform(size=shape) > 0.5, 1.0, -1.0)


X = (4, 6)  # a batch of features
T = const([0, 5, 2, 1])  # class indices for X

MODULES: list[ModuleInfo] = [
    # -- linear and containers --------------------------------------------------------------------
    ModuleInfo("Linear", lambda nn: nn.Linear(6, 3), (X,)),
    ModuleInfo("Linear_nobias_3d", lambda nn: nn.Linear(6, 2, bias=False), ((2, 3, 6),)),
    ModuleInfo("Bilinear", lambda nn: nn.Bilinear(6, 4, 3), (X, (4, 4))),
    ModuleInfo("Identity", lambda nn: nn.Identity(3, unused=True), (X,)),
    ModuleInfo("Flatten", lambda nn: nn.Flatten(), ((2, 3, 4),)),
    ModuleInfo("Unflatten", lambda nn: nn.Unflatten(1, (2, 3)), (X,)),
    ModuleInfo("Sequential", lambda nn: nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Dropout(0.3),
                                                      nn.Linear(5, 2)), (X,),
               train_differs=True, random=True, covers=("Linear", "ReLU", "Dropout")),
    # -- activations -------------------------------------------------------------------------------
    ModuleInfo("ReLU", lambda nn: nn.ReLU(), (X,)),
    ModuleInfo("ReLU_inplace", lambda nn: nn.Sequential(nn.Linear(6, 6), nn.ReLU(inplace=True)),
               (X,)),
    ModuleInfo("ReLU6", lambda nn: nn.ReLU6(), (X,), domain=(-3.0, 9.0)),
    ModuleInfo("LeakyReLU", lambda nn: nn.LeakyReLU(0.2), (X,)),
    ModuleInfo("PReLU", lambda nn: nn.PReLU(), (X,)),
    ModuleInfo("PReLU_channels", lambda nn: nn.PReLU(3, init=0.1), ((2, 3, 4),)),
    ModuleInfo("RReLU", lambda nn: nn.RReLU(0.1, 0.3), (X,), train_differs=True, random=True),
    ModuleInfo("ELU", lambda nn: nn.ELU(0.5), (X,)),
    ModuleInfo("SELU", lambda nn: nn.SELU(), (X,)),
    ModuleInfo("CELU", lambda nn: nn.CELU(2.0), (X,)),
    ModuleInfo("GELU", lambda nn: nn.GELU(), (X,)),
    ModuleInfo("GELU_tanh", lambda nn: nn.GELU("tanh"), (X,)),
    ModuleInfo("SiLU", lambda nn: nn.SiLU(), (X,)),
    ModuleInfo("Mish", lambda nn: nn.Mish(), (X,)),
    ModuleInfo("Softplus", lambda nn: nn.Softplus(2.0, 5.0), (X,)),
    ModuleInfo("Softsign", lambda nn: nn.Softsign(), (X,)),
    ModuleInfo("Hardtanh", lambda nn: nn.Hardtanh(-0.5, 1.5), (X,)),
    ModuleInfo("Hardsigmoid", lambda nn: nn.Hardsigmoid(), (X,), domain=(-4.0, 4.0)),
    ModuleInfo("Hardswish", lambda nn: nn.Hardswish(), (X,), domain=(-4.0, 4.0)),
    ModuleInfo("Hardshrink", lambda nn: nn.Hardshrink(0.3), (X,)),
    ModuleInfo("Softshrink", lambda nn: nn.Softshrink(0.3), (X,)),
    ModuleInfo("Tanhshrink", lambda nn: nn.Tanhshrink(), (X,)),
    ModuleInfo("Threshold", lambda nn: nn.Threshold(0.1, 20.0), (X,)),
    ModuleInfo("GLU", lambda nn: nn.GLU(), (X,)),
    ModuleInfo("LogSigmoid", lambda nn: nn.LogSigmoid(), (X,)),
    ModuleInfo("Sigmoid", lambda nn: nn.Sigmoid(), (X,)),
    ModuleInfo("Tanh", lambda nn: nn.Tanh(), (X,)),
    ModuleInfo("Softmax", lambda nn: nn.Softmax(dim=1), (X,)),
    ModuleInfo("Softmin", lambda nn: nn.Softmin(dim=0), (X,)),
    ModuleInfo("LogSoftmax", lambda nn: nn.LogSoftmax(dim=-1), (X,)),
    ModuleInfo("Softmax2d", lambda nn: nn.Softmax2d(), ((2, 3, 2, 2),)),
    # -- normalisation ----------------------------------------------------------------------------
    ModuleInfo("BatchNorm1d", lambda nn: nn.BatchNorm1d(6), (X,), train_differs=True),
    ModuleInfo("BatchNorm1d_3d_cumulative", lambda nn: nn.BatchNorm1d(3, momentum=None),
               ((4, 3, 5),), train_differs=True),
    ModuleInfo("BatchNorm1d_untracked", lambda nn: nn.BatchNorm1d(6, track_running_stats=False,
                                                                  affine=False), (X,)),
    ModuleInfo("BatchNorm2d", lambda nn: nn.BatchNorm2d(3, eps=1e-3, momentum=0.3),
               ((2, 3, 4, 4),), train_differs=True),
    ModuleInfo("BatchNorm3d", lambda nn: nn.BatchNorm3d(2, bias=False), ((2, 2, 2, 3, 2),),
               train_differs=True),
    ModuleInfo("InstanceNorm1d", lambda nn: nn.InstanceNorm1d(3), ((2, 3, 5),)),
    ModuleInfo("InstanceNorm1d_nobatch", lambda nn: nn.InstanceNorm1d(3, affine=True),
               ((3, 5),)),
    ModuleInfo("InstanceNorm2d", lambda nn: nn.InstanceNorm2d(3, affine=True,
                                                              track_running_stats=True),
               ((2, 3, 4, 4),), train_differs=True),
    ModuleInfo("InstanceNorm3d", lambda nn: nn.InstanceNorm3d(2), ((2, 2, 2, 3, 2),)),
    ModuleInfo("LayerNorm", lambda nn: nn.LayerNorm(6), (X,)),
    ModuleInfo("LayerNorm_2d_nobias", lambda nn: nn.LayerNorm([3, 4], bias=False),
               ((2, 3, 4),)),
    ModuleInfo("LayerNorm_noaffine", lambda nn: nn.LayerNorm(6, elementwise_affine=False), (X,)),
    ModuleInfo("GroupNorm", lambda nn: nn.GroupNorm(2, 6), ((2, 6, 3),)),
    ModuleInfo("RMSNorm", lambda nn: nn.RMSNorm(6), (X,)),
    ModuleInfo("RMSNorm_eps", lambda nn: nn.RMSNorm([2, 3], eps=1e-4,
                                                    elementwise_affine=False), ((4, 2, 3),)),
    ModuleInfo("LocalResponseNorm", lambda nn: nn.LocalResponseNorm(3), ((2, 5, 3),)),
    # -- dropout (masks drawn from the same generator as torch's) ------------------------------
    ModuleInfo("Dropout", lambda nn: nn.Dropout(0.3), (X,), train_differs=True, random=True),
    ModuleInfo("Dropout1d", lambda nn: nn.Dropout1d(0.4), ((3, 5, 2),), train_differs=True,
               random=True),
    ModuleInfo("Dropout2d", lambda nn: nn.Dropout2d(0.4), ((2, 5, 2, 2),), train_differs=True,
               random=True),
    ModuleInfo("Dropout3d", lambda nn: nn.Dropout3d(0.4), ((2, 5, 2, 2, 1),),
               train_differs=True, random=True),
    ModuleInfo("AlphaDropout", lambda nn: nn.AlphaDropout(0.2), (X,), train_differs=True,
               random=True),
    ModuleInfo("FeatureAlphaDropout", lambda nn: nn.FeatureAlphaDropout(0.5), ((3, 4, 2),),
               train_differs=True, random=True),
    # -- embeddings --------------------------------------------------------------------------------
    ModuleInfo("Embedding", lambda nn: nn.Embedding(7, 3), (const([[0, 6, 2], [2, 2, 5]]),)),
    ModuleInfo("Embedding_padding", lambda nn: nn.Embedding(7, 3, padding_idx=-1),
               (const([0, 6, 2, 6]),)),
    ModuleInfo("Embedding_max_norm", lambda nn: nn.Embedding(7, 3, max_norm=1.0),
               (const([0, 6, 2, 6]),)),
    ModuleInfo("EmbeddingBag", lambda nn: nn.EmbeddingBag(7, 3),
               (const([0, 6, 2, 6, 1]), const([0, 2]))),
    ModuleInfo("EmbeddingBag_sum", lambda nn: nn.EmbeddingBag(7, 3, mode="sum"),
               (const([[0, 6], [2, 1]]),)),
    ModuleInfo("EmbeddingBag_max", lambda nn: nn.EmbeddingBag(7, 3, mode="max",
                                                              padding_idx=2),
               (const([0, 6, 2, 6, 1]), const([0, 3]))),
    # -- distances ---------------------------------------------------------------------------------
    ModuleInfo("CosineSimilarity", lambda nn: nn.CosineSimilarity(dim=1), (X, X)),
    ModuleInfo("PairwiseDistance", lambda nn: nn.PairwiseDistance(p=3.0), (X, X)),
    # -- losses ------------------------------------------------------------------------------------
    ModuleInfo("MSELoss", lambda nn: nn.MSELoss(), (X, X)),
    ModuleInfo("L1Loss", lambda nn: nn.L1Loss(reduction="sum"), (X, X)),
    ModuleInfo("SmoothL1Loss", lambda nn: nn.SmoothL1Loss(beta=0.5), (X, X)),
    ModuleInfo("HuberLoss", lambda nn: nn.HuberLoss(delta=0.5), (X, X)),
    ModuleInfo("CrossEntropyLoss", lambda nn: nn.CrossEntropyLoss(), (X, T)),
    ModuleInfo("CrossEntropyLoss_options", lambda nn: nn.CrossEntropyLoss(
        weight=_weight(nn), ignore_index=2, label_smoothing=0.1), (X, T)),
    ModuleInfo("CrossEntropyLoss_probs", lambda nn: nn.CrossEntropyLoss(), (X, probs(X))),
    ModuleInfo("NLLLoss", lambda nn: nn.NLLLoss(weight=_weight(nn), reduction="sum"), (X, T)),
    ModuleInfo("NLLLoss2d", lambda nn: _quiet(nn.NLLLoss2d), ((2, 3, 2, 2), const(
        [[[0, 1], [2, 2]], [[1, 0], [0, 2]]]))),
    ModuleInfo("BCELoss", lambda nn: nn.BCELoss(), (X, probs(X)), domain=(0.05, 0.95)),
    ModuleInfo("BCEWithLogitsLoss", lambda nn: nn.BCEWithLogitsLoss(pos_weight=_pos(nn)),
               (X, probs(X))),
    ModuleInfo("KLDivLoss", lambda nn: nn.KLDivLoss(reduction="batchmean"), (X, probs(X))),
    ModuleInfo("PoissonNLLLoss", lambda nn: nn.PoissonNLLLoss(), (X, probs(X))),
    ModuleInfo("GaussianNLLLoss", lambda nn: nn.GaussianNLLLoss(), (X, X, probs(X))),
    ModuleInfo("MarginRankingLoss", lambda nn: nn.MarginRankingLoss(0.2), ((5,), (5,),
                                                                           signs((5,)))),
    ModuleInfo("HingeEmbeddingLoss", lambda nn: nn.HingeEmbeddingLoss(), (X, signs(X))),
    ModuleInfo("SoftMarginLoss", lambda nn: nn.SoftMarginLoss(), (X, signs(X))),
    ModuleInfo("MultiLabelSoftMarginLoss", lambda nn: nn.MultiLabelSoftMarginLoss(),
               (X, lambda rng: (rng.uniform(size=X) > 0.5).astype(float))),
    ModuleInfo("MultiMarginLoss", lambda nn: nn.MultiMarginLoss(p=2, margin=0.7), (X, T)),
    ModuleInfo("MultiLabelMarginLoss", lambda nn: nn.MultiLabelMarginLoss(),
               ((2, 4), const([[3, 0, -1, 1], [1, 2, 0, 3]]))),
    ModuleInfo("CosineEmbeddingLoss", lambda nn: nn.CosineEmbeddingLoss(0.1),
               (X, X, signs((4,)))),
    ModuleInfo("TripletMarginLoss", lambda nn: nn.TripletMarginLoss(swap=True), (X, X, X)),
    ModuleInfo("TripletMarginWithDistanceLoss",
               lambda nn: nn.TripletMarginWithDistanceLoss(margin=0.5), (X, X, X)),
    ModuleInfo("CTCLoss", lambda nn: _CTC(nn), ((6, 2, 4),)),
]


def _quiet(cls):
    """``cls()`` without its deprecation warning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return cls()


def _weight(nn):
    return _lib(nn).tensor([1.0, 2.0, 0.5, 1.5, 3.0, 1.0])


def _pos(nn):
    return _lib(nn).tensor([3.0, 1.0, 0.5, 1.0, 2.0, 1.0])


def _lib(nn):
    import importlib

    return importlib.import_module(nn.__name__.rsplit(".", 1)[0])


def _CTC(nn):  # noqa: N802 - builds a module
    """CTCLoss on log_softmax of its input, with fixed targets (a module for the table)."""
    lib = _lib(nn)

    class CTC(nn.Module):
        def __init__(self):
            super().__init__()
            self.loss = nn.CTCLoss(blank=0)

        def forward(self, x):
            lp = x.log_softmax(2)
            return self.loss(lp, lib.tensor([[1, 2, 2], [3, 1, 0]]), lib.tensor([6, 5]),
                             lib.tensor([3, 2]))

    return CTC()


def _load_area_tables() -> None:
    """Add the rows of every tests/moduleinfo_<area>.py (nnconv adds moduleinfo_conv.py)."""
    import importlib
    import pathlib

    here = pathlib.Path(__file__).parent
    for path in sorted(here.glob("moduleinfo_*.py")):
        mod = importlib.import_module(path.stem)
        MODULES.extend(mod.MODULES)


_load_area_tables()
