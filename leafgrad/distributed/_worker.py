"""One rank started by ``leafgrad run -n N``: run the script as ``leafgrad run`` does.

``python -m leafgrad.distributed._worker script.py args``; importing leafgrad.distributed has
already set torchrun's RANK / WORLD_SIZE / LOCAL_RANK from the MPI launcher's variables.
"""

from __future__ import annotations

import sys

from ..cli import run


def main(argv: list[str]) -> int:
    """Run ``argv[0]`` with arguments ``argv[1:]``; return its exit status."""
    if not argv:
        print("usage: python -m leafgrad.distributed._worker SCRIPT [ARGS]", file=sys.stderr)
        return 2
    return run(argv[0], argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
