"""The optimizer table (torch's ``optim_db`` idea): every optimizer with the options to test.

Each row names an optimizer class (the same name in ``torch.optim`` and ``leafgrad.optim``) and
the keyword sets it is run with. ``tests/test_optim.py`` runs every row in float32 and float64
against torch's single-tensor implementation (``foreach=False``) and compares parameters and state
bit for bit. A guard test fails if an optimizer in ``leafgrad.optim`` has no row.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class OptimInfo:
    name: str
    configs: list[dict] = field(default_factory=list)
    foreach: bool = True   # torch's constructor takes foreach= (LBFGS does not)
    steps: int = 25


OPTIM_DB = [
    OptimInfo("SGD", [
        dict(lr=0.1),
        dict(lr=0.05, momentum=0.9),
        dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01),
        dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
        dict(lr=0.05, momentum=0.5, maximize=True),
    ]),
    OptimInfo("Adam", [
        dict(lr=0.01),
        dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1),
        dict(lr=0.01, amsgrad=True, maximize=True),
        dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=True),
    ]),
    OptimInfo("AdamW", [
        dict(lr=0.01),
        dict(lr=0.01, weight_decay=0.3, amsgrad=True, maximize=True),
    ]),
    OptimInfo("Adamax", [
        dict(lr=0.01),
        dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, maximize=True),
    ]),
    OptimInfo("NAdam", [
        dict(lr=0.01),
        dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01),
        dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
    ]),
    OptimInfo("RAdam", [
        dict(lr=0.01),
        dict(lr=0.01, weight_decay=0.1, betas=(0.9, 0.9)),
        dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
    ]),
    OptimInfo("RMSprop", [
        dict(lr=0.01),
        dict(lr=0.01, alpha=0.9, centered=True),
        dict(lr=0.01, momentum=0.9, weight_decay=0.1),
        dict(lr=0.01, momentum=0.5, centered=True, maximize=True),
    ]),
    OptimInfo("Adagrad", [
        dict(lr=0.1),
        dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1),
        dict(lr=0.1, eps=1e-6, maximize=True),
    ]),
    OptimInfo("Adadelta", [
        dict(lr=1.0),
        dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True),
    ]),
    OptimInfo("Rprop", [
        dict(lr=0.01),
        dict(lr=0.01, etas=(0.3, 1.5), step_sizes=(1e-3, 1.0), maximize=True),
    ]),
    OptimInfo("ASGD", [
        dict(lr=0.01),
        dict(lr=0.01, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.1, maximize=True),
    ]),
    OptimInfo("LBFGS", [
        dict(lr=0.8, history_size=3, max_iter=7),
        dict(lr=1.0, history_size=5, max_iter=10, line_search_fn="strong_wolfe"),
    ], foreach=False, steps=4),
]

# Every parameter shape the table runs (a matrix, a long vector crossing SIMD widths, one
# element, a 0-d tensor) and the steps at which one parameter gets no gradient (torch skips it).
SHAPES = [(5, 3), (67,), (1,), ()]
NO_GRAD_STEPS = {3: 1, 7: 2}
