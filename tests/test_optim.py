"""leafgrad.optim against torch.optim: every optimizer row of the table, bit for bit.

NOTE on square roots: torch's CPU ``sqrt`` goes through MKL's vector math library, which is not
correctly rounded (about 0.7% of float32 and float64 results are 1 ulp low on AVX-512 machines,
float64 only on AVX2 ones, none on machines without MKL). leafgrad's sqrt is IEEE's, correctly
rounded. So the bit-for-bit tests run torch with ``Tensor.sqrt``/``sqrt_`` replaced by the
correctly rounded one (``correct_sqrt``), which isolates everything else: every other operation
of every update must then agree exactly. ``test_real_torch_sqrt_is_the_only_difference`` runs
the real torch and checks that the results are still equal to rounding.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from optiminfo import NO_GRAD_STEPS, OPTIM_DB, SHAPES

import leafgrad

DTYPES = [np.float32, np.float64]


@pytest.fixture
def correct_sqrt(monkeypatch):
    """torch's Tensor.sqrt / sqrt_ rounded correctly (through NumPy), as leafgrad's are."""
    def sqrt(self):
        return torch.from_numpy(np.asarray(np.sqrt(self.detach().numpy())))

    def sqrt_(self):
        self.copy_(sqrt(self))
        return self

    monkeypatch.setattr(torch.Tensor, "sqrt", sqrt)
    monkeypatch.setattr(torch.Tensor, "sqrt_", sqrt_)


def _problem(dtype, steps, seed=0):
    """Initial parameters and a gradient sequence (scales vary by step, some exact zeros)."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = []
    for k in range(steps):
        gs = []
        for i, s in enumerate(SHAPES):
            g = (rng.standard_normal(s) * 10.0 ** rng.integers(-3, 2)).astype(dtype)
            if k % 5 == 4 and g.ndim:
                g.reshape(-1)[::3] = 0  # zeros exercise sign/ratio corner cases (Rprop, Adam)
            gs.append(None if NO_GRAD_STEPS.get(k) == i else g)
        grads.append(gs)
    return init, grads


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _assert_states_equal(t_state: dict, l_state: dict) -> None:
    assert list(t_state) == list(l_state)
    for i in t_state:
        assert list(t_state[i]) == list(l_state[i]), i
        for k, tv in t_state[i].items():
            lv = l_state[i][k]
            if isinstance(tv, torch.Tensor):
                assert isinstance(lv, leafgrad.Tensor), (i, k)
                assert _same_bits(tv.numpy(), lv.numpy()), (i, k, tv, lv)
            else:
                assert tv == lv, (i, k)


def _run(name, kw, dtype, steps, foreach=True):
    init, grads = _problem(dtype, steps)
    tp = [torch.tensor(a, requires_grad=True) for a in init]
    lp = [leafgrad.tensor(a, requires_grad=True) for a in init]
    if foreach:
        kw = {**kw, "foreach": False}  # torch's single-tensor path, the one leafgrad reproduces
    to = getattr(torch.optim, name)(tp, **kw)
    lo = getattr(leafgrad.optim, name)(lp, **kw)
    for gs in grads:
        for t, p, g in zip(tp, lp, gs):
            t.grad = None if g is None else torch.tensor(g)
            p.grad = None if g is None else leafgrad.tensor(g)
        to.step()
        lo.step()
    return tp, lp, to, lo


ROWS = [(info.name, i, kw) for info in OPTIM_DB if info.name != "LBFGS"
        for i, kw in enumerate(info.configs)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name,idx,kw", ROWS, ids=[f"{n}-{i}" for n, i, _ in ROWS])
def test_matches_torch_bit_for_bit(name, idx, kw, dtype, correct_sqrt):
    tp, lp, to, lo = _run(name, kw, dtype, 25)
    for t, p in zip(tp, lp):
        assert _same_bits(t.detach().numpy(), p.detach().numpy()), (name, kw)
        assert t._version == p._version  # one bump per in-place op on the parameter
    _assert_states_equal(to.state_dict()["state"], lo.state_dict()["state"])
    tg, lg = to.state_dict()["param_groups"], lo.state_dict()["param_groups"]
    assert tg == lg


@pytest.mark.parametrize("name", ["Adam", "RMSprop"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_real_torch_sqrt_is_the_only_difference(name, dtype):
    # Without the correctly rounded sqrt, torch (MKL) and leafgrad may differ by an ulp here
    # and there; after 25 steps the parameters still agree to rounding.
    tp, lp, _, _ = _run(name, {"lr": 0.01}, dtype, 25)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    for t, p in zip(tp, lp):
        np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=0)


def _quadratic_closure(lib, x, opt, A, b):
    def closure():
        opt.zero_grad()
        r = A @ x - b
        loss = (r * r).sum() + 0.1 * (x**4).sum()
        loss.backward()
        return loss
    return closure


@pytest.mark.parametrize("kw", next(i for i in OPTIM_DB if i.name == "LBFGS").configs,
                         ids=["plain", "strong_wolfe"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_lbfgs_follows_torch(kw, dtype):
    # Dot products come from different BLAS libraries, so L-BFGS agrees to rounding, not bits.
    rng = np.random.default_rng(1)
    A0, b0 = rng.standard_normal((6, 4)).astype(dtype), rng.standard_normal(6).astype(dtype)
    x0 = rng.standard_normal(4).astype(dtype)
    out = []
    for lib in (torch, leafgrad):
        x = lib.tensor(x0.copy(), requires_grad=True)
        opt = lib.optim.LBFGS([x], **kw)
        closure = _quadratic_closure(lib, x, opt, lib.tensor(A0), lib.tensor(b0))
        losses = [float(opt.step(closure).detach()) for _ in range(4)]
        st = opt.state[x]
        out.append((x.detach().numpy().copy(), losses, st["n_iter"]))
    (xt, lt, nt), (xl, ll, nl) = out
    tol = 1e-10 if dtype == np.float64 else 2e-3
    np.testing.assert_allclose(xl, xt, rtol=tol, atol=tol)
    np.testing.assert_allclose(ll, lt, rtol=tol, atol=tol)
    if dtype == np.float64:
        assert nl == nt
    assert ll[-1] < ll[0]


def test_lbfgs_needs_a_closure_and_one_group():
    w = leafgrad.zeros(2, requires_grad=True)
    with pytest.raises(TypeError):
        leafgrad.optim.LBFGS([w]).step()  # as torch: the closure is a required argument
    with pytest.raises(RuntimeError, match="closure"):
        leafgrad.optim.LBFGS([w]).step(None)
    with pytest.raises(ValueError, match="parameter groups"):
        leafgrad.optim.LBFGS([{"params": [w]}, {"params": [leafgrad.zeros(1,
                                                                           requires_grad=True)]}])
    with pytest.raises(RuntimeError, match="strong_wolfe"):
        opt = leafgrad.optim.LBFGS([w], line_search_fn="armijo")
        opt.step(lambda: (w * w).sum())


def test_every_optimizer_has_a_row():
    rows = {info.name for info in OPTIM_DB}
    classes = {n for n in leafgrad.optim.__all__
               if isinstance(getattr(leafgrad.optim, n), type)
               and issubclass(getattr(leafgrad.optim, n), leafgrad.optim.Optimizer)
               and n != "Optimizer"}
    assert classes == rows


# -- state dicts: both directions through NumPy ---------------------------------------------

def _to_numpy(sd):
    """A state dict with every tensor (either library's) replaced by a NumPy array."""
    if isinstance(sd, dict):
        return {k: _to_numpy(v) for k, v in sd.items()}
    if isinstance(sd, list):
        return [_to_numpy(v) for v in sd]
    if isinstance(sd, torch.Tensor | leafgrad.Tensor):
        return np.array(sd.detach().numpy())
    return sd


def _from_numpy(sd, make):
    if isinstance(sd, dict):
        return {k: _from_numpy(v, make) for k, v in sd.items()}
    if isinstance(sd, list):
        return [_from_numpy(v, make) for v in sd]
    if isinstance(sd, np.ndarray):
        return make(sd)
    return sd


@pytest.mark.parametrize("name,kw", [("Adam", {"lr": 0.01, "amsgrad": True}),
                                     ("SGD", {"lr": 0.1, "momentum": 0.9}),
                                     ("NAdam", {"lr": 0.01}), ("ASGD", {"lr": 0.01, "t0": 3}),
                                     ("Rprop", {"lr": 0.01}), ("Adagrad", {"lr": 0.1})])
@pytest.mark.parametrize("direction", ["leafgrad_to_torch", "torch_to_leafgrad"])
def test_state_dict_round_trip(name, kw, direction, correct_sqrt):
    dtype = np.float32
    init, grads = _problem(dtype, 20, seed=3)
    first = leafgrad if direction == "leafgrad_to_torch" else torch
    second = torch if first is leafgrad else leafgrad

    def make(lib, params):
        extra = {"foreach": False} if lib is torch else {}
        return getattr(lib.optim, name)(params, **kw, **extra)

    def feed(lib, params, gs):
        for p, g in zip(params, gs):
            p.grad = None if g is None else lib.tensor(g)

    # the first library runs 10 steps; its state moves to the second through NumPy
    p1 = [first.tensor(a, requires_grad=True) for a in init]
    o1 = make(first, p1)
    for gs in grads[:10]:
        feed(first, p1, gs)
        o1.step()
    arrays = _to_numpy(o1.state_dict())
    p2 = [second.tensor(p.detach().numpy().copy(), requires_grad=True) for p in p1]
    o2 = make(second, p2)
    o2.load_state_dict(_from_numpy(arrays, second.from_numpy))
    # both continue with the same gradients and stay identical
    for gs in grads[10:]:
        feed(first, p1, gs)
        feed(second, p2, gs)
        o1.step()
        o2.step()
    for a, b in zip(p1, p2):
        assert _same_bits(a.detach().numpy(), b.detach().numpy())
    _assert_states_equal(*(
        (o.state_dict()["state"] for o in (o2, o1)) if second is torch
        else (o.state_dict()["state"] for o in (o1, o2))))


def test_load_state_dict_casts_state_to_param_dtype_but_not_step():
    w = leafgrad.zeros(3, dtype=leafgrad.float64, requires_grad=True)
    opt = leafgrad.optim.Adam([w])
    sd = {"state": {0: {"step": np.array(4.0, np.float32), "exp_avg": np.ones(3, np.float32),
                        "exp_avg_sq": np.ones(3, np.float32)}},
          "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
    opt.load_state_dict(sd)
    st = opt.state[w]
    assert st["exp_avg"].dtype == leafgrad.float64 and st["step"].dtype == leafgrad.float32
    # a torch tensor is taken through NumPy too
    sd["state"][0]["exp_avg"] = torch.ones(3)
    opt.load_state_dict(sd)
    assert opt.state[w]["exp_avg"].tolist() == [1.0, 1.0, 1.0]


def test_load_state_dict_group_mismatch_is_a_clear_error():
    opt = leafgrad.optim.SGD([leafgrad.zeros(1, requires_grad=True)], lr=0.1)
    sd = opt.state_dict()
    sd["param_groups"] = sd["param_groups"] * 2
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(sd)
    sd = opt.state_dict()
    sd["param_groups"][0]["params"] = [0, 1]
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(sd)


# -- the base class: groups, zero_grad, hooks, repr, errors ---------------------------------

def test_repr_and_param_groups_match_torch():
    for name, kw in [("Adam", {"lr": 0.01}), ("SGD", {"lr": 0.1, "momentum": 0.9}),
                     ("RMSprop", {}), ("LBFGS", {})]:
        t = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kw)
        lg = getattr(leafgrad.optim, name)([leafgrad.zeros(1, requires_grad=True)], **kw)
        assert repr(lg) == repr(t)
        assert lg.defaults == t.defaults


def test_named_parameters_and_add_param_group():
    a, b = leafgrad.zeros(1, requires_grad=True), leafgrad.zeros(2, requires_grad=True)
    opt = leafgrad.optim.SGD([("a", a)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["a"]
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [b]})
    opt.add_param_group({"params": [("b", b)], "lr": 0.5, "momentum": 0.9})
    assert opt.state_dict()["param_groups"][1] == {
        "lr": 0.5, "momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": False,
        "maximize": False, "foreach": None, "differentiable": False, "fused": None,
        "param_names": ["b"], "params": [1]}


def test_zero_grad_matches_torch():
    for set_to_none in (True, False):
        outs = []
        for lib in (torch, leafgrad):
            w = lib.ones(3, requires_grad=True)
            (w * 2).sum().backward()
            opt = lib.optim.SGD([w], lr=0.1)
            g = w.grad
            opt.zero_grad(set_to_none=set_to_none)
            outs.append((None if w.grad is None else w.grad.tolist(), g._version))
        assert outs[0] == outs[1]


def test_closure_runs_with_grad_and_its_loss_is_returned():
    w = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    opt = leafgrad.optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        assert leafgrad.is_grad_enabled()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with leafgrad.no_grad():
        loss = opt.step(closure)
        assert not leafgrad.is_grad_enabled()  # the step restored the caller's mode
    assert leafgrad.is_grad_enabled()
    assert loss.item() == 5.0
    assert w.tolist() == pytest.approx([0.8, 1.6])


def test_step_hooks_run_in_torch_order():
    calls = []
    w = leafgrad.zeros(1, requires_grad=True)
    w.grad = leafgrad.ones(1)
    opt = leafgrad.optim.SGD([w], lr=0.1)
    h1 = leafgrad.optim.register_optimizer_step_pre_hook(lambda o, a, k: calls.append("gpre"))
    h2 = leafgrad.optim.register_optimizer_step_post_hook(lambda o, a, k: calls.append("gpost"))
    h3 = opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    h4 = opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    try:
        opt.step()
    finally:
        for h in (h1, h2, h3, h4):
            h.remove()
    opt.step()
    assert calls == ["gpre", "pre", "post", "gpost"]
    seen = []
    opt.register_state_dict_pre_hook(lambda o: seen.append("sd_pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_pre_hook(lambda o, sd: seen.append("load_pre"))
    opt.register_load_state_dict_post_hook(lambda o: seen.append("load_post"))
    sd = opt.state_dict()
    assert sd["extra"] == 1
    opt.load_state_dict(sd)
    assert seen == ["sd_pre", "load_pre", "load_post"]


def test_update_is_seen_by_autograd_version_checks():
    # A step between forward and backward modifies a saved tensor: torch's error, not silence.
    w = leafgrad.tensor([1.0, 2.0], requires_grad=True)
    opt = leafgrad.optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    w.grad = leafgrad.ones(2)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def _both(fn, exc):
    """``fn(lib)`` raises ``exc`` for torch and for leafgrad; return leafgrad's message."""
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc) as info:
        fn(leafgrad)
    return str(info.value)


def test_bad_input_errors_match_torch_types():
    msg = _both(lambda lib: lib.optim.SGD([], lr=0.1), ValueError)
    assert "empty parameter list" in msg and "Why:" in msg
    msg = _both(lambda lib: lib.optim.Adam([lib.ones(2, requires_grad=True) * 2]), ValueError)
    assert "non-leaf" in msg and "Why:" in msg
    w = {torch: torch.zeros(1, requires_grad=True), leafgrad: leafgrad.zeros(1,
                                                                            requires_grad=True)}
    msg = _both(lambda lib: lib.optim.SGD([{"params": [w[lib]]}, {"params": [w[lib]]}], lr=1),
                ValueError)
    assert "more than one parameter group" in msg
    _both(lambda lib: lib.optim.SGD(w[lib], lr=0.1), TypeError)
    _both(lambda lib: lib.optim.SGD([{"params": {w[lib]}}], lr=0.1), TypeError)
    _both(lambda lib: lib.optim.SGD([1.0], lr=0.1), TypeError)
    _both(lambda lib: lib.optim.SGD([w[lib]], lr=-1), ValueError)
    _both(lambda lib: lib.optim.SGD([w[lib]], lr=0.1, nesterov=True), ValueError)
    _both(lambda lib: lib.optim.Adam([w[lib]], betas=(1.0, 0.9)), ValueError)
    _both(lambda lib: lib.optim.Adam([w[lib]], betas=(0.9, 1)), ValueError)
    _both(lambda lib: lib.optim.Rprop([w[lib]], etas=(1.5, 1.2)), ValueError)
    _both(lambda lib: lib.optim.Adadelta([w[lib]], rho=1.5), ValueError)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        leafgrad.optim.SGD([w[leafgrad], w[leafgrad]], lr=0.1)


def test_unsupported_flags_are_refused_with_a_reason():
    w = leafgrad.zeros(1, requires_grad=True)
    w.grad = leafgrad.ones(1)
    with pytest.raises(RuntimeError, match=r"fused=True\) is not supported(.|\n)*Why"):
        leafgrad.optim.Adam([w], fused=True).step()
    with pytest.raises(RuntimeError, match=r"differentiable=True\) is not supported"):
        leafgrad.optim.SGD([w], lr=0.1, differentiable=True).step()
    # torch refuses capturable on the CPU with an AssertionError at step time; so does leafgrad
    t = torch.zeros(1, requires_grad=True)
    t.grad = torch.ones(1)
    with pytest.raises(AssertionError):
        torch.optim.Adam([t], capturable=True, foreach=False).step()
    with pytest.raises(AssertionError, match="capturable"):
        leafgrad.optim.Adam([w], capturable=True).step()
    # foreach is accepted and gives the for-loop results
    leafgrad.optim.Adam([w], foreach=True).step()
    assert math.isfinite(w.item())


def test_grad_of_another_shape_is_refused_before_any_update():
    w = leafgrad.zeros(2, requires_grad=True)
    w._grad = leafgrad.ones(3)  # bypass the setter's own check, as a buggy extension might
    opt = leafgrad.optim.Adam([w])
    with pytest.raises(RuntimeError, match="gradient of shape"):
        opt.step()
    assert w.tolist() == [0.0, 0.0] and len(opt.state) == 0


def test_float64_default_dtype_makes_float64_steps():
    leafgrad.set_default_dtype(leafgrad.float64)
    torch.set_default_dtype(torch.float64)
    for lib in (torch, leafgrad):
        w = lib.zeros(1, requires_grad=True)
        w.grad = lib.ones(1)
        opt = lib.optim.Adam([w])
        opt.step()
        assert str(opt.state[w]["step"].dtype) == "torch.float64"


def test_scheduler_before_optimizer_step_warns():
    for lib in (torch, leafgrad):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = lib.optim.lr_scheduler.StepLR(opt, 1)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            sched.step()
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = lib.optim.lr_scheduler.StepLR(opt, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            opt.step()
            sched.step()


def test_a_custom_optimizer_written_for_torch_runs():
    def make(lib):
        class SignSGD(lib.optim.Optimizer):
            def __init__(self, params, lr=0.1):
                super().__init__(params, {"lr": lr})

            @lib.no_grad()
            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is None:
                            continue
                        self.state[p]["n"] = self.state[p].get("n", 0) + 1
                        p.sub_(group["lr"] * p.grad.sign())
        return SignSGD

    outs = []
    for lib in (torch, leafgrad):
        w = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        opt = make(lib)([w], lr=0.25)
        calls = []
        opt.register_step_post_hook(lambda *a, calls=calls: calls.append(1))
        for _ in range(3):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        outs.append((w.tolist(), opt.state_dict()["state"], len(calls), repr(opt)))
    assert outs[0] == outs[1]
