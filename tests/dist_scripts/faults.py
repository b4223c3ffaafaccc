"""Run under ``leafgrad run -n 2`` by tests/test_distributed.py: rank 1 fails in one way.

``python faults.py MODE``: both ranks make one all-reduce (on a group whose timeout is 2 s),
then rank 1 raises (``raise``),
is killed (``kill``), never arrives (``hang``: rank 0 times out) or ends its script early
(``early``) while rank 0 waits in a second all-reduce.
"""

from __future__ import annotations

import datetime
import os
import signal
import sys
import time


def main(mode: str) -> int:
    import leafgrad as torch
    import leafgrad.distributed as dist

    # the short timeout on a group of its own: start-up (imports) may skew the ranks by seconds
    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=120))
    group = dist.new_group(timeout=datetime.timedelta(seconds=2))
    r = dist.get_rank()
    t = torch.ones(3)
    dist.all_reduce(t, group=group)
    if r == 1:
        if mode == "raise":
            raise ValueError("rank 1 fails on purpose")
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "hang":
            time.sleep(60)
        if mode == "early":
            return 0
    dist.all_reduce(t, group=group)
    print(f"rank {r}: the second all-reduce returned", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
