"""leafgrad.optim.lr_scheduler against torch's: every scheduler's lr sequence over 100 steps."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import leafgrad

STEPS = 100


def _opt(lib, name="SGD", groups=2):
    params = [{"params": [lib.zeros(1, requires_grad=True)], "lr": 0.1 * (i + 1)}
              for i in range(groups)]
    kw = {"momentum": 0.9} if name == "SGD" else {}
    return getattr(lib.optim, name)(params, lr=0.1, **kw)


def _lambda(e):
    return 0.97 ** e


def _mult(e):
    return 0.95 if e % 3 else 1.01


# name, constructor (given the library's scheduler module and optimizer), optimizer name
CASES = [
    ("LambdaLR", lambda S, o: S.LambdaLR(o, _lambda), "SGD"),
    ("LambdaLR-list", lambda S, o: S.LambdaLR(o, [_lambda, lambda e: 1 / (e + 1)]), "SGD"),
    ("MultiplicativeLR", lambda S, o: S.MultiplicativeLR(o, _mult), "SGD"),
    ("StepLR", lambda S, o: S.StepLR(o, step_size=7, gamma=0.7), "SGD"),
    ("MultiStepLR", lambda S, o: S.MultiStepLR(o, [10, 30, 30, 60], gamma=0.3), "SGD"),
    ("ConstantLR", lambda S, o: S.ConstantLR(o, factor=0.3, total_iters=13), "SGD"),
    ("LinearLR", lambda S, o: S.LinearLR(o, 0.1, 0.9, total_iters=37), "SGD"),
    ("ExponentialLR", lambda S, o: S.ExponentialLR(o, gamma=0.93), "SGD"),
    ("PolynomialLR", lambda S, o: S.PolynomialLR(o, total_iters=60, power=2.5), "SGD"),
    ("CosineAnnealingLR", lambda S, o: S.CosineAnnealingLR(o, T_max=17, eta_min=1e-3), "SGD"),
    ("CosineAnnealingWarmRestarts",
     lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-4), "SGD"),
    ("CyclicLR-triangular", lambda S, o: S.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=7,
                                                    step_size_down=4), "SGD"),
    ("CyclicLR-triangular2", lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=5,
                                                     mode="triangular2"), "SGD"),
    ("CyclicLR-exp_range-adam", lambda S, o: S.CyclicLR(o, 0.001, 0.01, step_size_up=9,
                                                        mode="exp_range", gamma=0.99), "Adam"),
    ("CyclicLR-scale_fn", lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=5,
                                                  scale_fn=_lambda, scale_mode="iterations",
                                                  cycle_momentum=False), "SGD"),
    ("OneCycleLR", lambda S, o: S.OneCycleLR(o, [0.5, 1.0], total_steps=STEPS), "SGD"),
    ("OneCycleLR-three-linear-adam",
     lambda S, o: S.OneCycleLR(o, 0.3, epochs=10, steps_per_epoch=10, three_phase=True,
                               anneal_strategy="linear", pct_start=0.25), "Adam"),
    ("SequentialLR", lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, 0.2, total_iters=10), S.CosineAnnealingLR(o, T_max=30),
            S.ExponentialLR(o, 0.9)], milestones=[10, 50]), "SGD"),
    ("ChainedScheduler", lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.5, total_iters=20), S.ExponentialLR(o, 0.97),
         S.StepLR(o, 11, 0.5)]), "SGD"),
    ("ReduceLROnPlateau", lambda S, o: S.ReduceLROnPlateau(o, patience=3, factor=0.5,
                                                           cooldown=2, min_lr=[1e-3, 0]), "SGD"),
    ("ReduceLROnPlateau-max-abs", lambda S, o: S.ReduceLROnPlateau(
        o, mode="max", threshold_mode="abs", threshold=0.05, patience=2), "SGD"),
]


def _metric(k):
    return 1.0 / (1 + k) + 0.3 * math.sin(k)


def _trace(lib, make, optim_name):
    opt = _opt(lib, optim_name)
    sched = make(lib.optim.lr_scheduler, opt)
    plateau = isinstance(sched, lib.optim.lr_scheduler.ReduceLROnPlateau)
    out = [sched.get_last_lr()]
    for k in range(STEPS):
        opt.step()
        sched.step(_metric(k)) if plateau else sched.step()
        momentum = [g.get("momentum", g.get("betas")) for g in opt.param_groups]
        out.append((sched.get_last_lr(), [g["lr"] for g in opt.param_groups], momentum))
    return out, sched


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_lr_sequence_matches_torch(case):
    _, make, optim_name = case
    t, ts = _trace(torch, make, optim_name)
    lg, ls = _trace(leafgrad, make, optim_name)
    assert lg == t  # exact: the same float operations in the same order
    assert set(ls.state_dict()) == set(ts.state_dict())


@pytest.mark.parametrize("name,make", [
    ("StepLR", lambda S, o: S.StepLR(o, 3, 0.5)),
    ("MultiStepLR", lambda S, o: S.MultiStepLR(o, [2, 5, 5], 0.5)),
    ("ConstantLR", lambda S, o: S.ConstantLR(o, 0.5, 4)),
    ("LinearLR", lambda S, o: S.LinearLR(o, 0.2, 0.8, 6)),
    ("ExponentialLR", lambda S, o: S.ExponentialLR(o, 0.9)),
    ("PolynomialLR", lambda S, o: S.PolynomialLR(o, 8, 2.0)),
    ("CosineAnnealingLR", lambda S, o: S.CosineAnnealingLR(o, 7, 0.01)),
    ("CosineAnnealingWarmRestarts", lambda S, o: S.CosineAnnealingWarmRestarts(o, 3, 2)),
])
def test_closed_form_with_epoch_matches_torch(name, make):
    epochs = [3, 7, 1, 12, 0, 5.5 if name == "CosineAnnealingWarmRestarts" else 5, 20]
    seqs = []
    for lib in (torch, leafgrad):
        opt = _opt(lib)
        sched = make(lib.optim.lr_scheduler, opt)
        seq = []
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            for e in epochs:
                opt.step()
                sched.step(e)
                seq.append(sched.get_last_lr())
        seqs.append((seq, sorted({str(x.message)[:40] for x in w})))
    assert seqs[0] == seqs[1]


def test_state_dict_round_trip_resumes_the_schedule():
    def run(lib, split):
        opt = _opt(lib)
        S = lib.optim.lr_scheduler
        sched = S.SequentialLR(opt, [S.LinearLR(opt, 0.2, total_iters=5),
                                     S.CyclicLR(opt, 0.01, 0.1, step_size_up=4)], [5])
        lrs = []
        for k in range(30):
            if k == split:
                sd = sched.state_dict()
                opt2 = _opt(lib)
                opt2.load_state_dict(opt.state_dict())
                sched = S.SequentialLR(opt2, [S.LinearLR(opt2, 0.2, total_iters=5),
                                              S.CyclicLR(opt2, 0.01, 0.1, step_size_up=4)], [5])
                sched.load_state_dict(sd)
                opt = opt2
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        return lrs
    assert run(leafgrad, 12) == run(leafgrad, -1) == run(torch, -1)


def test_get_lr_outside_step_warns_like_torch():
    for lib in (torch, leafgrad):
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)
        with pytest.warns(UserWarning, match="get_last_lr"):
            sched.get_lr()


def test_scheduler_errors_match_torch():
    for lib in (torch, leafgrad):
        S = lib.optim.lr_scheduler
        opt = _opt(lib)
        with pytest.raises(TypeError):
            S.StepLR(object(), 1)
        with pytest.raises(KeyError, match="initial_lr"):
            S.StepLR(_opt(lib), 1, last_epoch=3)
        with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
            S.LambdaLR(opt, [_lambda])
        with pytest.raises(ValueError, match="factor"):
            S.ConstantLR(opt, factor=2)
        with pytest.raises(ValueError):
            S.SequentialLR(opt, [S.StepLR(opt, 1)], milestones=[3])
        with pytest.raises(ValueError, match="ReduceLROnPlateau"):
            S.ChainedScheduler([S.ReduceLROnPlateau(opt)])
        with pytest.raises(ValueError, match="total_steps"):
            S.OneCycleLR(opt, 0.1)
        with pytest.raises(ValueError, match="Tried to step"):
            sched = S.OneCycleLR(opt, 0.1, total_steps=2)
            for _ in range(3):
                opt.step()
                sched.step()
