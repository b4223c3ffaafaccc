"""No silent hangs: every wait has a deadline, and a rank that fails, dies or leaves is named.

One ``Control`` per process owns a duplicate of ``MPI_COMM_WORLD`` that carries only notices:

- **FAIL**: a rank whose script raised (``sys.excepthook``) tells every other rank why, waits a
  moment for their acknowledgements (so that they can print who failed) and calls ``MPI_Abort``;
- **EXIT**: a rank reaching the end of its script tells the others how many collectives it made
  on each group, so that a rank waiting for a collective that rank never made is told so;
- a rank that **died** (killed, ``os._exit``) cannot speak: ranks on the same machine see its
  process gone; on ``SIGTERM`` (``mpirun`` ending the job) a rank prints who failed or died.

Waits never block inside MPI: they test the requests in a loop that also reads notices, checks
that the peers live and enforces the process group's timeout (``MPI_Test`` with a deadline).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import signal
import socket
import sys
import threading
import time

import numpy as np

from ._errors import DistBackendError, PeerFailure

TAG_FAIL, TAG_ACK, TAG_EXIT = 1, 2, 3
LIVENESS_EVERY = 0.2  # seconds between checks that the peers' processes still exist
SPIN_SECONDS = 50e-6  # a wait first tests without pausing for this long
SPINS = 200  # then tests, yielding the core between tests, before it starts sleeping
MAX_SLEEP = 1e-3

_control: Control | None = None


def control() -> Control | None:
    """The process's control plane, once ``init_process_group`` has created it."""
    return _control


def _host_key() -> int:
    """An id for "same machine and same PID namespace", so that peers' pids can be checked."""
    parts = [socket.gethostname()]
    with contextlib.suppress(OSError):
        with open("/proc/sys/kernel/random/boot_id") as f:
            parts.append(f.read().strip())
    with contextlib.suppress(OSError):
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "little", signed=True)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _summary(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    out = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return out if len(out) <= 400 else out[:397] + "..."


class Control:
    """Notices between ranks, deadlines on waits, and the process's fault handlers."""

    def __init__(self, MPI, timeout: float) -> None:
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD.Dup()
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.timeout = timeout
        self.counts: dict[str, int] = {}  # collectives started on each group (by uid)
        self.exits: dict[int, dict] = {}  # rank -> its counts when it reached the end
        self.failure: tuple[int, str] | None = None  # (rank, summary) once a FAIL is read
        self.broken: str | None = None  # why the groups can no longer be used
        self._sends: list = []  # pending notices (their buffers must outlive the sends)
        self._next_liveness = 0.0
        self._finished = False
        self.local: dict[int, int] = {}  # rank -> pid, for the peers on this machine
        self.pid = os.getpid()  # a forked child (a DataLoader worker) is not this rank
        self._install_handlers()
        mine = np.array([_host_key(), os.getpid()], dtype=np.int64)
        table = np.empty((self.size, 2), dtype=np.int64)
        req = self.comm.Iallgather(mine, table)
        self.wait(req.Test, timeout, "init_process_group (waiting for every rank of the MPI "
                  f"world, {self.size} processes, to call it)")
        self.local = {r: int(pid) for r, (h, pid) in enumerate(table.tolist())
                      if h == mine[0] and r != self.rank}

    # -- waiting -----------------------------------------------------------------------------
    def wait(self, done, timeout: float, what: str, uid: str | None = None, k: int = 0,
             members=None) -> None:
        """Call ``done()`` until it returns True; raise if a peer fails or the deadline passes.

        ``uid``/``k``/``members``: the group and call number being waited for, so that a rank
        that left before making that call is reported instead of waited for.
        """
        if done():
            return
        if self.broken is not None:
            raise DistBackendError(self.broken)
        # a short pure spin first: small collectives complete within microseconds once the
        # peers arrive, and yielding the core here can cost a whole time slice on a busy machine
        start = time.perf_counter()
        while time.perf_counter() - start < SPIN_SECONDS:
            if done():
                return
        sleep = 0.0
        spins = 0
        deadline = time.monotonic() + timeout
        while not done():
            self.poll(uid, k, members, what)
            now = time.monotonic()
            if now >= deadline:
                where = f" (call #{k} on process group {uid})" if uid is not None else ""
                self.broken = (f"a collective timed out on rank {self.rank}: {what}{where}; "
                               "the process groups cannot be used after a timeout")
                raise DistBackendError(
                    f"[rank {self.rank}] {what}{where} timed out after {timeout:g} s: not every "
                    "rank of the group reached it.\nWhy: a collective completes only when every "
                    "rank of its group calls it; a rank that is still computing, waiting in a "
                    "different collective or stuck never arrives (leafgrad waits up to the "
                    "timeout given to init_process_group). Fix: make every rank make the same "
                    "collective calls in the same order, or pass a larger timeout=."
                )
            spins += 1
            if spins < SPINS:
                os.sched_yield()
            else:
                sleep = min(MAX_SLEEP, sleep * 2 or 1e-5)
                time.sleep(sleep)

    def _read_notices(self) -> None:
        """Receive the notices that have arrived (a FAIL is acknowledged and remembered)."""
        MPI = self.MPI
        status = MPI.Status()
        while self.comm.Iprobe(MPI.ANY_SOURCE, MPI.ANY_TAG, status):
            src, tag = status.Get_source(), status.Get_tag()
            body = self._recv(src, tag)
            if tag == TAG_FAIL:
                self._send(src, TAG_ACK, {})
                if self.failure is None:
                    self.failure = (src, body.get("msg", "an error"))
                    self.broken = f"rank {src} failed ({self.failure[1]})"
            elif tag == TAG_EXIT:
                self.exits[src] = body.get("counts", {})

    def poll(self, uid: str | None = None, k: int = 0, members=None, what: str = "") -> None:
        """Read notices and check the peers; raise ``PeerFailure`` when the job cannot go on."""
        self._read_notices()
        if self.failure is not None:
            src, summary = self.failure
            raise PeerFailure(
                f"[rank {self.rank}] rank {src} failed with {summary}; rank {self.rank} stops "
                f"too, since the job cannot go on without it (rank {src}'s traceback is printed "
                "above by that rank).", src)
        if uid is not None:
            for r, counts in self.exits.items():
                if (members is None or r in members) and counts.get(uid, 0) < k:
                    self.broken = f"rank {r} left before {what}"
                    raise PeerFailure(
                        f"[rank {self.rank}] rank {r} reached the end of its script (or called "
                        f"sys.exit) without making {what} (call #{k} on process group {uid}), "
                        f"which rank {self.rank} is waiting for.\nWhy: every rank of a group "
                        "must make the same collective calls in the same order; rank "
                        f"{r} made only {counts.get(uid, 0)} on this group.", r)
        now = time.monotonic()
        if now >= self._next_liveness:
            self._next_liveness = now + LIVENESS_EVERY
            dead = self.dead_peers()
            if dead:
                # a rank that failed reported it before it stopped: look for its notice first
                for _ in range(50):
                    self._read_notices()
                    if self.failure is not None:
                        return self.poll(uid, k, members, what)
                    time.sleep(1e-3)
                r, pid = dead[0]
                self.broken = f"rank {r} died"
                raise PeerFailure(
                    f"[rank {self.rank}] rank {r} (pid {pid}) died without reporting an error "
                    "(killed by a signal, os._exit, or out of memory); rank "
                    f"{self.rank} stops too, since the job cannot go on without it.", r)

    def dead_peers(self) -> list[tuple[int, int]]:
        """Peers on this machine whose process is gone (ranks elsewhere cannot be checked)."""
        return [(r, pid) for r, pid in self.local.items() if not _alive(pid)]

    # -- notices -----------------------------------------------------------------------------
    def _send(self, dest: int, tag: int, body: dict) -> None:
        data = np.frombuffer(json.dumps(body).encode(), dtype=np.uint8).copy()
        self._sends.append((data, self.comm.Isend([data, self.MPI.BYTE], dest, tag)))
        self._sends = [(d, r) for d, r in self._sends if not r.Test()]

    def _recv(self, src: int, tag: int) -> dict:
        status = self.MPI.Status()
        self.comm.Probe(src, tag, status)
        buf = np.empty(status.Get_count(self.MPI.BYTE), dtype=np.uint8)
        self.comm.Recv([buf, self.MPI.BYTE], src, tag)
        try:
            body = json.loads(buf.tobytes().decode())  # JSON, never pickle: data, not code
        except ValueError:
            body = {}
        return body if isinstance(body, dict) else {}

    def announce_failure(self, summary: str, grace: float) -> None:
        """Tell every other rank that this one failed; wait (bounded) until they have heard."""
        pending = set(range(self.size)) - {self.rank}
        for r in pending:
            self._send(r, TAG_FAIL, {"msg": summary})
        deadline = time.monotonic() + grace
        status = self.MPI.Status()
        while pending and time.monotonic() < deadline:
            while self.comm.Iprobe(self.MPI.ANY_SOURCE, self.MPI.ANY_TAG, status):
                src, tag = status.Get_source(), status.Get_tag()
                self._recv(src, tag)
                if tag == TAG_FAIL:  # it failed too: it will not acknowledge, it knows
                    self._send(src, TAG_ACK, {})
                if tag in (TAG_ACK, TAG_FAIL):
                    pending.discard(src)
            pending -= {r for r, _ in self.dead_peers()}
            time.sleep(1e-3)

    # -- process hooks -----------------------------------------------------------------------
    def _install_handlers(self) -> None:
        self._prev_hook = sys.excepthook
        sys.excepthook = self._excepthook
        atexit.register(self._at_exit)
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, self._on_sigterm)

    def _excepthook(self, etype, exc, tb) -> None:
        """An uncaught exception: print it, tell the other ranks, stop the whole job."""
        if self.size == 1 or os.getpid() != self.pid:
            return self._prev_hook(etype, exc, tb)
        try:
            self._prev_hook(etype, exc, tb)
            if isinstance(exc, PeerFailure):
                report(self.rank, str(exc).split("\n")[0])
            else:
                report(self.rank, f"failed with {_summary(exc)}")
                sys.stderr.write(f"leafgrad.distributed: rank {self.rank} failed; stopping all "
                                 f"{self.size} ranks (MPI_Abort)\n")
                sys.stderr.flush()
                self.announce_failure(_summary(exc), min(self.timeout, 3.0))
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            self.MPI.COMM_WORLD.Abort(1)

    def _at_exit(self) -> None:
        """End of the script: say so, then wait for the others (still hearing failures)."""
        if self._finished or self.size == 1 or os.getpid() != self.pid:
            return
        self._finished = True
        report(self.rank, _END)
        for r in range(self.size):
            if r != self.rank:
                self._send(r, TAG_EXIT, {"counts": self.counts})
        req = self.comm.Ibarrier()
        try:
            # no deadline: a rank that is done may wait as long as the others work
            self.wait(req.Test, float("inf"), "the end of the script")
        except DistBackendError as e:  # a peer failed, or this rank saw a timeout and went on
            report(self.rank, f"at the end of its script: {str(e).splitlines()[0]}")
            sys.stdout.flush()
            sys.stderr.write(f"{e}\nleafgrad.distributed: rank {self.rank} stops the job "
                             "(MPI_Abort)\n")
            sys.stderr.flush()
            self.MPI.COMM_WORLD.Abort(1)

    def _on_sigterm(self, signum, frame) -> None:
        """``mpirun`` is ending the job: say why, as far as this rank can tell, at once.

        mpirun follows SIGTERM with SIGKILL within a fraction of a second, so nothing here
        waits: the other ranks' reports (under ``leafgrad run -n``), the notices already in,
        one look for new ones, then which peers on this machine are gone.
        """
        if os.getpid() != self.pid:  # a forked child: die as SIGTERM's default would
            os._exit(128 + signal.SIGTERM)
        msg = None
        with contextlib.suppress(Exception):
            said = others_reports(self.rank)
            if said:
                q, line = said[0]
                msg = f"rank {q} {line}" if line.startswith("failed with") else \
                    f"rank {q} stopped ({line})"
        if msg is None:
            with contextlib.suppress(Exception):
                self._read_notices()
            if self.failure is not None:
                msg = f"rank {self.failure[0]} failed with {self.failure[1]}"
        if msg is None:
            with contextlib.suppress(Exception):
                dead = self.dead_peers()
                if dead:
                    msg = f"rank {dead[0][0]} (pid {dead[0][1]}) died"
        if msg is None:
            msg = "another rank failed or the job was cancelled (see the launcher's report)"
        what = "stopped by the launcher (SIGTERM)"
        if self._finished:
            what = f"reached the end of its script, then was {what} while waiting for the others"
        report(self.rank, f"{what}: {msg}")
        sys.stdout.flush()
        sys.stderr.write(f"[rank {self.rank}] {what}: {msg}.\n")
        sys.stderr.flush()
        os._exit(128 + signal.SIGTERM)


REPORTS_ENV = "LEAFGRAD_RUN_REPORTS"
_END = "reached the end of its script"


def report(rank: int, text: str) -> None:
    """Leave a line for ``leafgrad run -n``, which prints every rank's after the job ends.

    The launcher's summary does not depend on mpirun forwarding the output of ranks it is
    stopping (it drops some when a rank dies).
    """
    folder = os.environ.get(REPORTS_ENV)
    if not folder:
        return
    text = text.strip().replace("\n", " ")
    prefix = f"[rank {rank}] "
    if text.startswith(prefix):
        text = text[len(prefix):]
    with contextlib.suppress(OSError):
        with open(os.path.join(folder, f"rank-{rank}.txt"), "a") as f:
            f.write(text + "\n")


def others_reports(me: int) -> list[tuple[int, str]]:
    """(rank, last line) of the other ranks' reports that say why they stopped, failures first."""
    folder = os.environ.get(REPORTS_ENV)
    found = []
    if folder and os.path.isdir(folder):
        for name in sorted(os.listdir(folder)):
            if not (name.startswith("rank-") and name.endswith(".txt")):
                continue
            r = int(name[5:-4])
            if r == me:
                continue
            with open(os.path.join(folder, name)) as f:
                lines = f.read().splitlines()
            if lines and lines[-1] != _END:
                found.append((r, lines[-1]))
    found.sort(key=lambda item: not item[1].startswith("failed with"))
    return found


def start(MPI, timeout: float) -> Control:
    """Create the process's control plane (once), or update its timeout."""
    global _control
    if _control is None:
        _control = Control(MPI, timeout)
    else:
        _control.timeout = timeout
    return _control
