"""Run under mpirun by tests/test_distributed.py: DistributedDataParallel against one process.

Each rank trains on its 1/N of the batch with DDP; every rank also trains the same model in one
process on the full batch (or, for BatchNorm, N replicas the way DDP runs them) and compares.
"""

from __future__ import annotations

import copy
import datetime
import sys

import numpy as np
from collectives import Checks  # same folder (the script's directory is on sys.path)


def main() -> int:
    import leafgrad as torch
    import leafgrad.distributed as dist
    import leafgrad.nn as nn
    from leafgrad.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=120))
    r, n = dist.get_rank(), dist.get_world_size()
    c = Checks(r)
    B = 8 * n

    def mlp(dtype):
        return nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).to(dtype)

    def batch(step, dtype, size=B):
        g = np.random.default_rng(step)
        x = torch.tensor(g.standard_normal((size, 5)), dtype=dtype)
        y = torch.tensor(g.standard_normal((size, 3)), dtype=dtype)
        return x, y

    def mine(t):
        return t.chunk(n)[r]

    def close(a_params, b_params, rtol, atol, what):
        worst = max(float((a.detach() - b.detach()).abs().max()) for a, b in
                    zip(a_params, b_params))
        scale = max(float(b.detach().abs().max()) for b in b_params)
        c.ok(worst <= atol + rtol * scale, f"{what}: max difference {worst:.3g}")

    # 1-3. plain, bucketed and accumulated training equals one process on the full batch
    for dtype, rtol, atol in ((torch.float64, 1e-12, 1e-14), (torch.float32, 2e-6, 1e-6)):
        for cap, accum in ((None, 1), (0.0001, 1), (None, 2)):
            torch.manual_seed(r + 1)  # different on each rank: DDP must broadcast rank 0's
            model = mlp(dtype)
            ddp = DDP(model, bucket_cap_mb=cap)
            ref = mlp(dtype)
            ref.load_state_dict(ddp.module.state_dict())
            opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
            ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
            for step in range(3):
                opt.zero_grad()
                ref_opt.zero_grad()
                x, y = batch(step, dtype, B * accum)
                for k, (xs, ys) in enumerate(zip(x.chunk(accum), y.chunk(accum))):
                    ctx = ddp.no_sync() if k < accum - 1 else _null()
                    with ctx:
                        loss = ((ddp(mine(xs)) - mine(ys)) ** 2).mean() / accum
                        loss.backward()
                    (((ref(xs) - ys) ** 2).mean() / accum).backward()
                opt.step()
                ref_opt.step()
            what = f"DDP {dtype} bucket_cap_mb={cap} accumulation={accum}"
            close(list(ddp.module.parameters()), list(ref.parameters()), rtol, atol, what)
            if cap is not None:
                c.ok(len(ddp.reducer.buckets) > 1, f"{what}: several buckets")

    # 4. BatchNorm: buffers broadcast from rank 0 at each forward, as N replicas would run
    def bn_model():
        return nn.Sequential(nn.Linear(5, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
    torch.manual_seed(r + 7)
    ddp = DDP(bn_model().double())
    replicas = [copy.deepcopy(ddp.module) for _ in range(n)]
    opt = torch.optim.SGD(ddp.parameters(), lr=0.05)
    ropts = [torch.optim.SGD(m.parameters(), lr=0.05) for m in replicas]
    for step in range(3):
        x, y = batch(10 + step, torch.float64)
        opt.zero_grad()
        ((ddp(mine(x)) - mine(y)) ** 2).mean().backward()
        opt.step()
        for q in range(1, n):  # DDP's broadcast of rank 0's buffers before the forward
            for bq, b0 in zip(replicas[q].buffers(), replicas[0].buffers()):
                bq.copy_(b0)
        grads = []
        for q, m in enumerate(replicas):
            m.zero_grad()
            ((m(x.chunk(n)[q]) - y.chunk(n)[q]) ** 2).mean().backward()
            grads.append([p.grad.clone() for p in m.parameters()])
        for m, o in zip(replicas, ropts):
            for i, p in enumerate(m.parameters()):
                p.grad = sum(g[i] * (1.0 / n) for g in grads)
            o.step()
    close(list(ddp.module.parameters()), list(replicas[r].parameters()), 1e-12, 1e-14,
          "DDP with BatchNorm: parameters")
    close(list(ddp.module.buffers())[:2], list(replicas[r].buffers())[:2], 1e-12, 1e-14,
          "DDP with BatchNorm: this rank's running statistics")
    c.ok(int(ddp.module[1].num_batches_tracked) == 3, "BatchNorm num_batches_tracked")

    # 4b. SyncBatchNorm: DDP on N ranks trains exactly like one process on the full batch
    def bn3d_model():
        return nn.Sequential(nn.Conv1d(2, 4, 3), nn.BatchNorm1d(4), nn.ReLU(), nn.Flatten(),
                             nn.Linear(4 * 4, 3))
    torch.manual_seed(11)
    full = bn3d_model().double()
    local = copy.deepcopy(full)
    ddp = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(local))
    opt = torch.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.5)
    ref_opt = torch.optim.SGD(full.parameters(), lr=0.05, momentum=0.5)
    for step in range(3):
        g = np.random.default_rng(30 + step)
        x = torch.tensor(g.standard_normal((B, 2, 6)))
        y = torch.tensor(g.standard_normal((B, 3)))
        opt.zero_grad()
        ref_opt.zero_grad()
        out = ddp(mine(x))
        ((out - mine(y)) ** 2).mean().backward()
        ((full(x) - y) ** 2).mean().backward()
        opt.step()
        ref_opt.step()
    c.ok(type(ddp.module[1]).__name__ == "SyncBatchNorm" and
         (n == 1 or out.grad_fn is not None), "converted to SyncBatchNorm")
    close(list(ddp.module.parameters()), list(full.parameters()), 1e-12, 1e-14,
          "DDP + SyncBatchNorm = one process on the full batch: parameters")
    close(list(ddp.module.buffers())[:2], list(full.buffers())[:2], 1e-12, 1e-14,
          "DDP + SyncBatchNorm = one process on the full batch: running statistics")
    if n > 1:
        probe = ddp.module[1](ddp.module[0](mine(x)))
        c.ok(type(probe.grad_fn).__name__ == "SyncBatchNormBackward", "SyncBatchNorm node name")

    # 5. find_unused_parameters: head b used on rank 0 only, head c never
    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = nn.Linear(4, 2), nn.Linear(4, 2), nn.Linear(4, 2)

        def forward(self, x, use_b):
            out = self.a(x)
            return out + self.b(x) if use_b else out

    torch.manual_seed(3)
    heads = Heads().double()
    ddp = DDP(heads, find_unused_parameters=True)
    ref = copy.deepcopy(heads)
    x = torch.tensor(np.random.default_rng(5).standard_normal((2 * n, 4)))
    ddp(mine(x), r == 0).pow(2).sum().backward()
    c.ok(heads.c.weight.grad is None and heads.c.bias.grad is None,
         "find_unused_parameters: a parameter no rank used keeps grad None")
    ref(x.chunk(n)[0], True).pow(2).sum().backward()
    want_b = ref.b.weight.grad * (1.0 / n)
    ref.zero_grad()
    for q in range(n):
        ref(x.chunk(n)[q], q == 0).pow(2).sum().backward()
    want_a = ref.a.weight.grad * (1.0 / n)
    close([heads.a.weight.grad, heads.b.weight.grad], [want_a, want_b], 1e-12, 1e-14,
          "find_unused_parameters: averages with zeros from ranks that did not use it")

    # 6-7. the classic DDP hang, as an error on every rank naming the parameters
    torch.manual_seed(3)
    ddp = DDP(Heads().double())
    e = c.raises(lambda: ddp(mine(x), True).sum().backward(), RuntimeError,
                 "module.c.weight", "a parameter no rank used, find_unused_parameters=False")
    c.ok(e is not None and f"on 0 of {n} ranks)" in str(e), "the message counts the ranks")
    if n > 1:
        e = c.raises(lambda: ddp(mine(x), r != 1).sum().backward(), RuntimeError,
                     "module.b.weight", "a parameter rank 1 did not use")
        here = str(e).split("Missing on this rank")[-1].split("Why")[0] if e is not None else ""
        c.ok(e is not None and f"on {n - 1} of {n} ranks)" in str(e) and
             ("module.b.weight" in here) == (r == 1), "the message says where it was missing")

    # autograd.grad through DDP's output (a gradient penalty) is not a synchronised backward
    torch.manual_seed(0)
    ddp = DDP(mlp(torch.float64))
    ref = copy.deepcopy(ddp.module)
    x, _ = batch(20, torch.float64)

    def penalised(model, xs):
        xs = xs.clone().requires_grad_()
        out = model(xs)
        (gx,) = torch.autograd.grad(out.sum(), xs, create_graph=True)
        return out.pow(2).mean() + gx.pow(2).sum()
    penalised(ddp, mine(x)).backward()
    for q in range(n):
        penalised(ref, x.chunk(n)[q]).backward()
    close([p.grad for p in ddp.module.parameters()],
          [p.grad * (1.0 / n) for p in ref.parameters()], 1e-12, 1e-14,
          "DDP with autograd.grad inside the loss (double backward)")

    # DistributedSampler asks the process group for its share
    from leafgrad.utils.data import DistributedSampler

    shares = [None] * n
    dist.all_gather_object(shares, list(DistributedSampler(range(10), shuffle=False)))
    padded = list(range(10)) + list(range(10))[:-10 % n]  # torch pads by repeating the start
    c.ok(set().union(*shares) == set(range(10)) and shares[r] == padded[r::n],
         "DistributedSampler splits the data")

    # 8. what users see of the wrapper
    torch.manual_seed(0)
    model = mlp(torch.float32)
    ddp = DDP(model)
    c.ok(ddp.module is model and list(ddp.state_dict())[0] == "module.0.weight" and
         repr(ddp).startswith("DistributedDataParallel("), "module attribute, state_dict prefix")
    loss = ddp(torch.ones(2, 5)).sum()
    loss.backward(retain_graph=True)
    c.raises(lambda: loss.backward(retain_graph=True), RuntimeError, "already averaged",
             "a second backward through one forward")
    with ddp.no_sync():
        loss.backward()  # explicitly local: allowed
    c.ok(True, "no_sync backward allowed")

    # a dropped wrapper lets go of its module's parameters: a new one can wrap them
    import gc
    import weakref
    old = weakref.ref(ddp)
    del ddp
    gc.collect()
    c.ok(old() is None and all(not p._x.post_hooks for p in model.parameters()),
         "a dropped DDP unhooks from the parameters")
    ddp = DDP(model)
    ddp(torch.ones(2, 5)).sum().backward()
    c.ok(True, "a second DDP around the same module trains")

    # 9. different models on different ranks: refused at construction, on every rank
    if n > 1:
        c.raises(lambda: DDP(nn.Linear(3, 2 + (r > 0))), RuntimeError,
                 "DDP expects same model across all ranks", "different models")
        layers = [nn.Linear(2, 2) for _ in range(1 + (r > 0))]
        c.raises(lambda: DDP(nn.Sequential(*layers)), RuntimeError,
                 "DDP expects same model across all ranks", "different parameter counts")
    c.raises(lambda: DDP(nn.Linear(2, 2).requires_grad_(False)), RuntimeError,
             "doesn't have any parameter that requires a gradient", "no trainable parameter")
    c.raises(lambda: DDP(nn.Linear(2, 2), mixed_precision=object()), RuntimeError,
             "not provided", "mixed_precision")

    dist.destroy_process_group()
    for f in c.failed:
        print(f"rank {r} FAILED: {f}", flush=True)
    print(f"rank {r}: {c.n} DDP checks, {len(c.failed)} failed", flush=True)
    return 1 if c.failed else 0


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *a):
        return False


if __name__ == "__main__":
    sys.exit(main())
