"""Import time: ``import leafgrad`` over ``import numpy``, from a regular (non-editable) install.

Builds a virtual environment (by default /tmp/leafgrad-import-venv; reused when it exists, the
package reinstalled each run) with this NumPy's version and a regular ``pip install`` of this
checkout, then runs fresh interpreters round-robin: ``import numpy`` and ``import numpy;
import leafgrad``, and prints the medians and minima of their CPU time and of what
``python -X importtime`` says the ``leafgrad`` import took (cumulative, NumPy already loaded).
Also lists the modules leafgrad loads that NumPy alone does not, the heaviest first.

    python benchmarks/import_time.py               # --runs N, --venv PATH, --no-install,
                                                   # --instructions (valgrind)
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def venv_python(venv: Path, install: bool) -> str:
    """The venv's interpreter, with NumPy and a regular install of this checkout."""
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        import numpy

        subprocess.run([str(py), "-m", "pip", "install", "-q", f"numpy=={numpy.__version__}"],
                       check=True)
    if install:
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall",
                        str(ROOT)], check=True, cwd="/tmp")
    return str(py)


def importtime(py: str, code: str) -> dict[str, tuple[int, int]]:
    """``{module: (self µs, cumulative µs)}`` from ``-X importtime`` for ``code``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([py, "-X", "importtime", "-c", code], capture_output=True, text=True,
                       check=True, cwd="/tmp", env=env)
    out = {}
    for line in r.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self" not in line:
            self_us, cum_us, name = (p.strip() for p in line[len("import time:"):].split("|"))
            out[name.strip()] = (int(self_us), int(cum_us))
    return out


def cpu(py: str, code: str) -> float:
    """CPU seconds (user + system) a fresh interpreter spends running ``code``.

    NOTE: CPU time, not wall time: on a loaded machine a process start waits for a core."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([py, "-c", code], check=True, cwd="/tmp", env=env)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def main_thread_cpu(py: str, code: str) -> float:
    """CPU seconds the main thread of a fresh interpreter has spent when ``code`` is done.

    NOTE: a process-level CPU figure also counts OpenBLAS's worker threads, which NumPy's import
    starts and which spin while idle for as long as the process lives (on this 2-core machine a
    0.3 s sleep after ``import numpy`` adds ~58 ms of process CPU): it grows with the wall time
    of whatever runs after ``import numpy``, so it charges leafgrad's import about twice."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([py, "-c", code + "; import time; print(time.thread_time())"],
                       capture_output=True, text=True, check=True, cwd="/tmp", env=env)
    return float(r.stdout.split()[-1])


def instructions(py: str, code: str) -> int:
    """Instructions a fresh interpreter executes running ``code`` (valgrind's callgrind)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", py,
                        "-c", code], capture_output=True, text=True, check=True, cwd="/tmp",
                       env=env)
    for line in r.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1])
    raise RuntimeError(r.stderr[-2000:])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--venv", default="/tmp/leafgrad-import-venv")
    p.add_argument("--no-install", action="store_true", help="measure the venv as it is")
    p.add_argument("--instructions", action="store_true",
                   help="also count instructions with valgrind (stable under load)")
    args = p.parse_args(argv)
    py = venv_python(Path(args.venv), not args.no_install)
    where = subprocess.run([py, "-c", "import leafgrad; print(leafgrad.__file__)"],
                           capture_output=True, text=True, check=True, cwd="/tmp").stdout.strip()
    assert "site-packages" in where, where  # a regular install, not this checkout
    base, lg, cum, tbase, tlg = [], [], [], [], []
    for _ in range(args.runs):
        base.append(cpu(py, "import numpy"))
        lg.append(cpu(py, "import numpy; import leafgrad"))
        tbase.append(main_thread_cpu(py, "import numpy"))
        tlg.append(main_thread_cpu(py, "import numpy; import leafgrad"))
        cum.append(importtime(py, "import numpy; import leafgrad")["leafgrad"][1] / 1e3)
    print(f"import time ({args.runs} runs, interleaved; leafgrad from {where})")
    print(f"  python -c 'import numpy'                  median {statistics.median(base) * 1e3:6.1f}"
          f" ms  min {min(base) * 1e3:6.1f} ms")
    print(f"  python -c 'import numpy; import leafgrad' median {statistics.median(lg) * 1e3:6.1f}"
          f" ms  min {min(lg) * 1e3:6.1f} ms")
    diff = [b - a for a, b in zip(base, lg)]
    print(f"  leafgrad over numpy (CPU)                 median {statistics.median(diff) * 1e3:6.1f}"
          f" ms  min {(min(lg) - min(base)) * 1e3:6.1f} ms (difference of minima)")
    tdiff = [b - a for a, b in zip(tbase, tlg)]
    print(f"  leafgrad over numpy (main-thread CPU)     median "
          f"{statistics.median(tdiff) * 1e3:6.1f} ms  min {(min(tlg) - min(tbase)) * 1e3:6.1f} ms"
          " (difference of minima)")
    print(f"  -X importtime, leafgrad cumulative        median {statistics.median(cum):6.1f} ms"
          f"  min {min(cum):6.1f} ms")
    if args.instructions:
        a = instructions(py, "import numpy")
        b = instructions(py, "import numpy; import leafgrad")
        print(f"  instructions: import numpy {a / 1e6:7.1f} M, + import leafgrad "
              f"{(b - a) / 1e6:7.1f} M ({(b - a) / a:.2f}x numpy's)")
    np_only = importtime(py, "import numpy")
    both = importtime(py, "import numpy; import leafgrad")
    extra = sorted(((v[0], k) for k, v in both.items() if k not in np_only), reverse=True)
    print(f"  modules leafgrad adds: {len(extra)}; heaviest (self µs):")
    print("   " + ", ".join(f"{k} {us}" for us, k in extra[:15]))
    unwanted = [m for m in ("numpy.random", "json", "html", "inspect", "pickle", "zipfile")
                if m in both and m not in np_only]
    print(f"  loaded at start-up that NumPy does not load: {unwanted or 'none of'} "
          "(numpy.random, json, html, inspect, pickle, zipfile)")


if __name__ == "__main__":
    main()
