"""Worker processes, each inspecting one guest at a time, watched from the parent.

Each worker is a fresh Python process (``spawn``) in its own session, so that a Ctrl-C on the
terminal reaches only the parent and a worker can be killed with everything it started (the
libguestfs appliance's qemu is in its process group). A guest costs at most itself:

- a worker that dies (a crash, a signal) gives its guest an ``error`` record and is replaced;
- past the guest's hard deadline (``--timeout`` plus :data:`GRACE` seconds; the inspection's
  own deadline reports what was read before it, this one is for a worker stuck beyond it) the
  worker is killed, and its guest gets an ``error`` record;
- a worker whose parent is gone (killed without the time to stop it) kills itself and its
  appliance;
- a worker whose resident memory (its Python heap; qemu is a process of its own, not counted)
  passes the memory limit is killed the same way. An RSS watchdog, not an rlimit: qemu,
  forked from the worker, inherits rlimits, and a guest's RAM needs a large address space.
"""

import gc
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from guestinspect.fleet.inputs import Guest
from guestinspect.fleet.worker import Options, Outcome, error_outcome, inspect_guest

#: Seconds a worker may run past the inspection's own deadline before it is killed.
GRACE = 120.0
#: How often the parent looks at its workers (seconds).
TICK = 0.5


def _orphaned(parent: int) -> None:
    """Kill this worker's process group (its appliance with it) once its parent is gone (the
    parent killed with no time to stop its workers)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.killpg(os.getpgid(0), signal.SIGKILL)


def _worker_main(conn: Connection, options: Options) -> None:
    """A worker process: inspect the guests the parent sends, one at a time."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.setsid()  # its own process group: killed with its appliance, away from Ctrl-C
    except OSError:
        pass
    else:  # (only then is its process group its own to kill)
        threading.Thread(target=_orphaned, args=(os.getppid(),), daemon=True).start()
    while True:
        try:
            guest = conn.recv()
        except (EOFError, OSError):
            return
        if guest is None:
            return
        conn.send(inspect_guest(guest, options))
        if not gc.get_freeze_count():
            # The rules, compiled by the first guest, live as long as the worker: out of the
            # garbage collector's scans (a warm guest then costs ~15 % less).
            gc.collect()
            gc.freeze()


def rss_bytes(pid: int) -> int:
    """The resident memory of a process (0 if it cannot be read)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            fields = f.read(256).split()
        return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    guest: Guest | None = None
    started: float = 0.0

    def kill(self) -> None:
        pid = self.process.pid
        if pid is not None:
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        self.process.join(5)
        self.conn.close()


class Pool:
    """``jobs`` worker processes inspecting guests with ``options``."""

    def __init__(self, jobs: int, options: Options, memory_limit: int | None = None) -> None:
        self.jobs = max(1, jobs)
        self.options = options
        #: bytes of resident memory a worker may use (None: no limit)
        self.memory_limit = memory_limit
        self.hard_deadline = options.timeout + GRACE if options.timeout else None
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] = []
        self._busy: list[_Worker] = []

    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker_main, args=(child, self.options),
                                    name="guestinspect-fleet-worker", daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def run(self, guests: Iterable[Guest],
            started: Callable[[Guest], None] | None = None) -> Iterator[Outcome]:
        """Inspect ``guests``; yield each one's outcome as it is done (in any order)."""
        pending = deque(guests)
        try:
            while pending or self._busy:
                while pending and len(self._busy) < self.jobs:
                    worker = self._idle.pop() if self._idle else self._start()
                    guest = pending.popleft()
                    try:
                        worker.conn.send(guest)
                    except OSError:  # it died while idle: another one
                        worker.kill()
                        pending.appendleft(guest)
                        continue
                    worker.guest, worker.started = guest, time.monotonic()
                    self._busy.append(worker)
                    if started is not None:
                        started(guest)
                waitables = [w.conn for w in self._busy] + [w.process.sentinel
                                                            for w in self._busy]
                wait(waitables, timeout=TICK)
                for worker in list(self._busy):
                    outcome = self._check(worker)
                    if outcome is not None:
                        yield outcome
        finally:
            self.close()

    def _check(self, worker: _Worker) -> Outcome | None:
        """The worker's outcome if it has one (or it failed), else None."""
        assert worker.guest is not None
        guest = worker.guest
        elapsed = time.monotonic() - worker.started
        message: str | None = None
        if worker.conn.poll():
            try:
                outcome: Outcome = worker.conn.recv()
            except (EOFError, OSError):
                message = self._death(worker)
            else:
                self._busy.remove(worker)
                worker.guest = None
                self._idle.append(worker)
                return outcome
        elif not worker.process.is_alive():
            message = self._death(worker)
        elif self.hard_deadline is not None and elapsed > self.hard_deadline:
            message = (f"the worker was killed {elapsed:.0f}s into the inspection (past the "
                       f"deadline of {self.options.timeout:g}s and {GRACE:g}s of grace)")
        elif self.memory_limit is not None and worker.process.pid is not None:
            rss = rss_bytes(worker.process.pid)
            if rss > self.memory_limit:
                message = (f"the worker was killed: {rss // (1 << 20)} MiB of memory used "
                           f"(limit {self.memory_limit // (1 << 20)} MiB)")
        if message is None:
            return None
        worker.kill()
        self._busy.remove(worker)
        return error_outcome(guest, message, elapsed)

    @staticmethod
    def _death(worker: _Worker) -> str:
        worker.process.join(5)
        code = worker.process.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the worker process died ({name})"
        return f"the worker process died (exit status {code})"

    def close(self) -> None:
        """Stop every worker (the busy ones killed with their appliance)."""
        for worker in self._idle:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in self._busy:
            worker.kill()
        for worker in self._idle:
            worker.process.join(2)
            if worker.process.is_alive():
                worker.kill()
            worker.conn.close()
        self._idle, self._busy = [], []
