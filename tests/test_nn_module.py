"""nn.Module against torch.nn.Module: registration, iteration, state_dict, hooks, repr, errors."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import leafgrad


def _build(lib, seed: int = 0):
    """The same small model in either library."""
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 3)
            self.act = nn.ReLU()
            self.blocks = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3)])
            self.head = nn.Sequential(OrderedDict(fc=nn.Linear(3, 2), tanh=nn.Tanh()))
            self.register_buffer("steps", lib.zeros(1))
            self.register_buffer("scratch", lib.ones(2), persistent=False)
            self.scale = nn.Parameter(lib.ones(1))

        def forward(self, x):
            x = self.act(self.fc1(x))
            for b in self.blocks:
                x = b(x)
            return self.head(x) * self.scale

    lib.manual_seed(seed)
    return Net()


def test_parameters_identical_and_names_match():
    lm, tm = _build(leafgrad), _build(torch)
    ln = list(lm.named_parameters())
    tn = list(tm.named_parameters())
    assert [n for n, _ in ln] == [n for n, _ in tn]
    for (_, a), (_, b) in zip(ln, tn):
        assert isinstance(a, leafgrad.nn.Parameter) and isinstance(a, leafgrad.Tensor)
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert [n for n, _ in lm.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert [n for n, _ in lm.named_modules()] == [n for n, _ in tm.named_modules()]
    assert [n for n, _ in lm.named_children()] == [n for n, _ in tm.named_children()]
    assert list(lm.state_dict()) == list(tm.state_dict())
    assert repr(lm) == repr(tm)


def test_named_members_prefix_recurse_duplicates():
    for lib in (leafgrad, torch):
        lib.manual_seed(0)
    out = []
    for lib in (leafgrad, torch):
        nn = lib.nn
        lib.manual_seed(0)
        shared = nn.Linear(2, 2)
        m = nn.Sequential(shared, nn.ReLU(), shared)
        out.append((
            [n for n, _ in m.named_parameters(prefix="model")],
            [n for n, _ in m.named_parameters(remove_duplicate=False)],
            [n for n, _ in m.named_parameters(recurse=False)],
            [n for n, _ in m.named_modules(prefix="root")],
            [n for n, _ in m.named_modules(remove_duplicate=False)],
            len(list(m.parameters())), len(list(m.modules())), len(list(m.children())),
        ))
    assert out[0] == out[1]


def test_forward_backward_match_torch():
    lm, tm = _build(leafgrad), _build(torch)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    ly, ty = lm(leafgrad.tensor(x)), tm(torch.tensor(x))
    np.testing.assert_allclose(ly.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-7)
    ly.sum().backward()
    ty.sum().backward()
    for (n, a), (_, b) in zip(lm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=n)
    lm.zero_grad()
    assert all(p.grad is None for p in lm.parameters())
    ly = lm(leafgrad.tensor(x)).sum()
    ly.backward()
    lm.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in lm.parameters())


def test_state_dict_round_trip_through_torch():
    lm, tm = _build(leafgrad, seed=1), _build(torch, seed=2)
    sd = {k: torch.tensor(v.numpy()) for k, v in lm.state_dict().items()}
    assert repr(tm.load_state_dict(sd)) == "<All keys matched successfully>"
    back = {k: leafgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()}
    lm2 = _build(leafgrad, seed=3)
    res = lm2.load_state_dict(back)
    assert repr(res) == "<All keys matched successfully>"
    for (k, a), (_, b) in zip(lm2.state_dict().items(), lm.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    # state_dict values are detached and share memory
    sd = lm.state_dict()
    assert not sd["fc1.weight"].requires_grad
    sd["fc1.weight"][0, 0] = 42.0
    assert float(lm.fc1.weight[0, 0]) == 42.0


def _load_errors(lib, sd_fn, strict=True):
    m = _build(lib)
    sd = sd_fn(lib, m)
    try:
        res = m.load_state_dict(sd, strict=strict)
    except Exception as e:  # noqa: BLE001 - compared across libraries
        return type(e).__name__, str(e).split("\nWhy")[0]
    return "ok", repr(res)


@pytest.mark.parametrize("case", ["missing", "unexpected", "shape", "nonstrict", "notensor"])
def test_load_state_dict_errors_as_torch(case):
    def sd_fn(lib, m):
        sd = m.state_dict()
        if case in ("missing", "nonstrict"):
            del sd["fc1.bias"]
            sd["extra.weight"] = lib.zeros(1)
        if case == "unexpected":
            sd["head.fc.gamma"] = lib.zeros(1)
        if case == "shape":
            sd["fc1.weight"] = lib.zeros(2, 2)
            sd["blocks.0.bias"] = lib.zeros(5)
        if case == "notensor":
            sd["fc1.bias"] = [1.0, 2.0, 3.0]
        return sd

    assert _load_errors(leafgrad, sd_fn, strict=case != "nonstrict") == \
        _load_errors(torch, sd_fn, strict=case != "nonstrict")


def test_failed_load_changes_nothing():
    lm = _build(leafgrad)
    before = {k: v.numpy().copy() for k, v in lm.state_dict().items()}
    sd = {k: leafgrad.zeros_like(v) for k, v in lm.state_dict().items()}
    sd["blocks.1.weight"] = leafgrad.zeros(7)  # one bad entry: everything else would load
    with pytest.raises(RuntimeError, match="size mismatch for blocks.1.weight"):
        lm.load_state_dict(sd)
    for k, v in lm.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_attribute_errors_and_registration_errors_as_torch():
    def run(lib, action):
        m = lib.nn.Linear(2, 2)
        try:
            action(lib, m)
        except Exception as e:  # noqa: BLE001
            return type(e).__name__, str(e)
        return "ok", None

    actions = [
        lambda lib, m: m.nonexistent,
        lambda lib, m: setattr(m, "weight", lib.ones(2, 2)),
        lambda lib, m: m.register_buffer("weight", lib.ones(1)),
        lambda lib, m: m.register_buffer("a.b", lib.ones(1)),
        lambda lib, m: m.register_buffer("", lib.ones(1)),
        lambda lib, m: m.register_buffer("x", 3),
        lambda lib, m: m.register_parameter("x", lib.ones(1)),
        lambda lib, m: m.register_parameter("x", lib.nn.Parameter(lib.ones(1)) * 2),
        lambda lib, m: m.add_module("x", 3),
        lambda lib, m: m.add_module("weight", lib.nn.ReLU()),
        lambda lib, m: m.get_submodule("a.b"),
        lambda lib, m: m.get_parameter("nothing"),
        lambda lib, m: m.get_parameter("in_features"),
        lambda lib, m: m.train("yes"),
        lambda lib, m: m.to(lib.int64),
        lambda lib, m: delattr(m, "bias") or m.bias,
        lambda lib, m: lib.nn.Module()(lib.ones(1)),
        lambda lib, m: lib.nn.Sequential(m)[3],
        lambda lib, m: lib.nn.ModuleList([m])[-2],
    ]
    for i, act in enumerate(actions):
        assert run(leafgrad, act) == run(torch, act), i


def test_setattr_moves_between_kinds_and_delattr():
    for lib in (leafgrad, torch):
        m = lib.nn.Module()
        m.a = lib.nn.Parameter(lib.ones(1))
        m.register_buffer("b", lib.ones(1))
        m.b = lib.zeros(1)  # stays a buffer
        assert "b" in m._buffers
        with pytest.raises(TypeError, match="as parameter 'a'"):
            m.a = lib.nn.ReLU()
        m.a = None  # a parameter slot may be emptied
        assert m._parameters["a"] is None
        m.r = lib.nn.ReLU()
        m.r = None
        assert m._modules["r"] is None
        del m.b
        assert "b" not in m._buffers
        m.c = lib.nn.Buffer(lib.ones(1), persistent=False)
        assert list(m.state_dict()) == [] and "c" in m._buffers


def test_train_eval_apply_requires_grad_and_dtype():
    lm = _build(leafgrad)
    lm.eval()
    assert all(not m.training for m in lm.modules())
    lm.train()
    assert all(m.training for m in lm.modules())
    names = []
    lm.apply(lambda m: names.append(type(m).__name__))
    tm = _build(torch)
    tnames = []
    tm.apply(lambda m: tnames.append(type(m).__name__))
    assert names == tnames
    lm.requires_grad_(False)
    assert not any(p.requires_grad for p in lm.parameters())
    lm.requires_grad_()
    w = lm.fc1.weight
    lm.double()
    assert lm.fc1.weight is w and w.dtype == leafgrad.float64 and lm.steps.dtype == leafgrad.float64
    lm.float()
    assert w.dtype == leafgrad.float32
    lm.to(leafgrad.float64)
    assert lm.head.fc.bias.dtype == leafgrad.float64
    lm.half().cpu()
    assert lm.scale.dtype == leafgrad.float16


def test_forward_hooks_with_kwargs_and_always_call():
    logs = {}
    for lib in (leafgrad, torch):
        log = logs[lib.__name__] = []

        class M(lib.nn.Module):
            def forward(self, x, scale=1.0):
                log.append(("forward", scale))  # noqa: B023 - called within the iteration
                return x * scale

        m = M()
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
        h2 = m.register_forward_pre_hook(
            lambda mod, args, kwargs: (args, {**kwargs, "scale": 3.0}), with_kwargs=True)
        h3 = m.register_forward_hook(lambda mod, args, out: out + 100, prepend=True)
        h4 = m.register_forward_hook(lambda mod, args, kwargs, out, log=log: log.append(
            ("post", kwargs.get("scale"))), with_kwargs=True, always_call=True)
        y = m(lib.ones(1), scale=2.0)
        log.append(("y", float(y)))
        for h in (h1, h2, h3):
            h.remove()
        log.append(("plain", float(m(lib.ones(1)))))
        h4.remove()
    assert logs["leafgrad"] == logs["torch"]


def test_full_backward_hooks_match_torch():
    rec = {}
    for lib in (leafgrad, torch):
        r = rec[lib.__name__] = []
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 2)
        m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
        m.register_full_backward_hook(
            lambda mod, gi, go, r=r: r.append((gi[0].numpy().copy(), go[0].numpy().copy())))
        x = lib.ones(4, 3, requires_grad=True)
        m(x).sum().backward()
        r.append(x.grad.numpy().copy())
        r.append(m.weight.grad.numpy().copy())
    for a, b in zip(rec["leafgrad"], rec["torch"]):
        for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            np.testing.assert_allclose(u, v, rtol=1e-6)
    assert len(rec["leafgrad"]) == len(rec["torch"]) == 3


def test_deepcopy_and_parameter_repr():
    lm = _build(leafgrad)
    cp = copy.deepcopy(lm)
    assert cp.fc1.weight is not lm.fc1.weight
    assert isinstance(cp.fc1.weight, leafgrad.nn.Parameter) and cp.fc1.weight.requires_grad
    np.testing.assert_array_equal(cp.fc1.weight.detach().numpy(), lm.fc1.weight.detach().numpy())
    p = leafgrad.nn.Parameter(leafgrad.tensor([1.0, 2.0]))
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert type(p * 2) is leafgrad.Tensor and p.is_leaf


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_parameter_copies_keep_what_torch_keeps(how):
    import pickle

    seen = {}
    for lib in (leafgrad, torch):
        a = lib.nn.Parameter(lib.arange(4.0))
        b = lib.nn.Parameter(a.data[1:])  # shares a's memory
        a.tag = "first"
        a.grad = lib.ones(4)
        ca, cb = copy.deepcopy([a, b]) if how == "deepcopy" else pickle.loads(pickle.dumps([a, b]))
        with lib.no_grad():
            ca[1] = 9.0  # a write through the copy of a: the copy of b sees it when shared
        seen[lib] = (type(ca).__name__, getattr(ca, "tag", None), ca.requires_grad, cb.tolist(),
                     None if ca.grad is None else ca.grad.tolist(), a.tolist())
    assert seen[leafgrad] == seen[torch]


def test_containers_behave_as_torch():
    out = []
    for lib in (leafgrad, torch):
        nn = lib.nn
        seq = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid())
        seq.append(nn.Identity())
        seq.insert(1, nn.Flatten())
        del seq[0]
        sl = seq[1:3]
        ml = nn.ModuleList([nn.ReLU()]) + nn.ModuleList([nn.Tanh(), nn.Tanh()])
        ml.extend([nn.Identity()])
        md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
        md.update([("c", nn.Identity())])
        pl = nn.ParameterList([lib.ones(2), nn.Parameter(lib.zeros(1, 3))])
        pd = nn.ParameterDict({"z": lib.ones(1), "a": lib.zeros(2)})
        out.append((repr(seq), repr(sl), len(seq), repr(ml), repr(md), list(md.keys()),
                    repr(pl), repr(pd), list(pd.keys()), repr(nn.Unflatten(1, (2, 2))),
                    [n for n, _ in pl.named_parameters()], repr(seq * 2), repr(ml[1:])))
    assert out[0] == out[1]
