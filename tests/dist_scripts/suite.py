"""The collectives checks, then the DDP checks, in one run (one MPI start-up for both).

The second ``init_process_group`` after the first ``destroy_process_group`` is tested on the way.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    import collectives
    import ddp

    sys.exit(collectives.main() | ddp.main())
