"""The child process of the direct backend (backends/direct.py); run as a script.

It parses the guest's bytes with the libyal C libraries, so it runs apart from the inspection,
under limits it sets itself (address space, CPU time per request, no core files), and speaks
JSON lines (backends/wire.py) on the descriptor that was its stdout (fd 1 then goes to stderr,
so that nothing a library prints can break the protocol). Requests, one per line:

- ``{"op": "open", "disks", "format", "keys", "tmp", "memory", "fault"}``: open the volumes
  (volumes/direct.py); the answer gives the start facts, the warnings, the ``unreadable``
  volumes, the mountable filesystems a view may read (``candidates``) and why each other one
  cannot be read (``views``);
- ``{"op": "view", "fs", "cpu_seconds"}``: open a view of one filesystem (``{"view": null}``
  or why not), one request each so that a crash while opening one costs that one;
- ``{"op": "answer", "fs", "wants", "cpu_seconds", "seconds"}``: the answerers' answer to the
  Want… tuples of one filesystem: ``{"facts", "warnings", "phases"}``.

An error the child can report is ``{"error": "…"}``; a crash or a hang is seen by the parent.
``fault`` (tests only: GUESTINSPECT_TEST_DIRECT_FAULT) makes the child misbehave when asked
about one filesystem (or at ``open``).
"""

import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, BinaryIO

if __name__ == "__main__":  # run with -I: the package is the one this file belongs to
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from guestinspect.collectors import child_limits  # noqa: E402
from guestinspect.collectors.answerers import answer  # noqa: E402
from guestinspect.collectors.answerers.context import AnswerContext  # noqa: E402
from guestinspect.collectors.backends import wire  # noqa: E402
from guestinspect.collectors.base import FactSet  # noqa: E402
from guestinspect.collectors.deadline import NO_DEADLINE, Deadline  # noqa: E402
from guestinspect.collectors.keys import KeySelector, KeySpec  # noqa: E402
from guestinspect.collectors.resolver import GuestFilesystem  # noqa: E402
from guestinspect.collectors.volumes.base import NOT_MOUNTABLE  # noqa: E402
from guestinspect.collectors.volumes.direct import DirectVolumes  # noqa: E402
from guestinspect.errors import CollectorError  # noqa: E402


def _limit_cpu(cpu_seconds: int) -> None:
    """At most ``cpu_seconds`` more seconds of CPU (for the request about to be answered)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime) + 1
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = spent + max(1, cpu_seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _commit(fault: str) -> None:
    """Misbehave on purpose (tests only); ``garbage``: answer a fact of another filesystem."""
    child_limits.commit(fault, _garbage)


def _garbage() -> None:
    raise _Garbage


class _Unsupported(Exception):
    """An image the volume layer does not read (the appliance may)."""


class _Garbage(Exception):
    """The ``garbage`` fault: answer a fact about another filesystem."""


class Reader:
    """What the child holds between requests: the volumes, a view per filesystem."""

    def __init__(self) -> None:
        self.stack = ExitStack()
        self.tmp = Path()  # a directory of its own in the parent's (removed by the parent too)
        self.filesystems: dict[str, GuestFilesystem] = {}
        self.ctx: AnswerContext | None = None
        self.volumes: DirectVolumes | None = None
        #: filesystem -> its type and the appliance's mount point for it, if a view may read it
        self.mountable: dict[str, tuple[str, str]] = {}
        self.warnings: list[str] = []
        self.fault: tuple[str, str] | None = None

    def open(self, req: dict[str, Any]) -> dict[str, Any]:
        from guestinspect.collectors.volumes.direct import open_volumes
        from guestinspect.collectors.volumes.images import UnsupportedImage

        self.tmp = Path(tempfile.mkdtemp(prefix="child-", dir=str(req["tmp"])))
        self.stack.callback(shutil.rmtree, self.tmp, True)
        keys = KeySpec([KeySelector(str(d), str(p)) for d, p in req["keys"]["selectors"]],
                       req["keys"]["stdin_lines"])
        phases: dict[str, float] = {}
        with _timed(phases, "volumes"):
            try:
                volumes = open_volumes([Path(d) for d in req["disks"]], req["format"], keys,
                                       self.warnings.append)
            except UnsupportedImage as e:  # the appliance may read it: not the user's error
                raise _Unsupported(str(e)) from e
        self.stack.enter_context(volumes)
        self.volumes = volumes
        views: dict[str, str | None] = {}
        mounted = 0  # the appliance mounts the n-th mountable filesystem at /fs/<n>
        for fs, vfs in sorted(volumes.facts.get("Filesystem", ())):
            fs, vfs = str(fs), str(vfs)
            if vfs in NOT_MOUNTABLE:
                continue
            mount_point, mounted = f"/fs/{mounted}", mounted + 1
            if fs in volumes.unreadable or fs not in volumes.devices:
                views[fs] = volumes.unreadable.get(fs, "no block device for it")
            else:
                self.mountable[fs] = (vfs, mount_point)
        self.ctx = AnswerContext(self.filesystems, self.warnings.append, self.tmp)
        return {
            "facts": wire.facts_out(volumes.facts),
            "unreadable": dict(volumes.unreadable),
            "views": views,
            "candidates": sorted(self.mountable),
            "warnings": self._drain(),  # (volumes.warnings: the same, given to warn)
            "phases": phases,
        }

    def view(self, fs: str) -> str | None:
        """Open the view of the filesystem ``fs`` (once): None, or why it cannot be read."""
        from guestinspect.collectors.backends.direct_fs import open_view
        from guestinspect.collectors.view import ReadError

        if fs in self.filesystems:
            return None
        if self.volumes is None or fs not in self.mountable:
            return "not a filesystem the direct backend reads"
        if self.fault is not None and self.fault[1] == f"view:{fs}":
            _commit(self.fault[0])
        vfs, mount_point = self.mountable[fs]
        try:
            view = open_view(vfs, self.volumes.devices[fs], self.warnings.append, fs=fs,
                             mount_point=mount_point)
        except ReadError as e:
            return _line(str(e)) or f"cannot read {vfs}"
        self.filesystems[fs] = GuestFilesystem(fs, view)
        return None

    def answer(self, req: dict[str, Any]) -> dict[str, Any]:
        fs = str(req["fs"])
        why = self.view(fs)  # (a fresh child opens it now)
        if self.ctx is None or why is not None:
            return {"error": f"{fs}: {why or 'the images are not open'}"}
        if self.fault is not None and self.fault[1] == fs:
            _commit(self.fault[0])
        wants: FactSet = {
            rel: {tuple(row) for row in rows} for rel, rows in dict(req["wants"]).items()
        }
        phases: dict[str, float] = {}

        @contextmanager
        def phase(name: str) -> Iterator[None]:
            with _timed(phases, name):
                yield

        seconds = req.get("seconds")
        self.ctx.deadline = Deadline(float(seconds)) if seconds else NO_DEADLINE
        self.ctx.phase = phase
        facts = answer(self.ctx, wants)
        return {"facts": wire.facts_out(facts), "warnings": self._drain(), "phases": phases}

    def _drain(self) -> list[str]:
        out, self.warnings[:] = list(self.warnings), []
        return out


@contextmanager
def _timed(phases: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.monotonic()
    try:
        yield
    finally:
        phases[name] = phases.get(name, 0.0) + time.monotonic() - t0


def _line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0][:500] if lines else ""


def _handle(reader: Reader, req: dict[str, Any]) -> dict[str, Any]:
    op = req.get("op")
    if op == "open":
        child_limits.limit_memory(int(req["memory"]))
        _limit_cpu(int(req["cpu_seconds"]))
        fault = req.get("fault")
        if fault:
            reader.fault = (str(fault[0]), str(fault[1]))
            if reader.fault[1] == "open":
                _commit(reader.fault[0])
        return reader.open(req)
    if op == "view":
        _limit_cpu(int(req["cpu_seconds"]))
        return {"view": reader.view(str(req["fs"])), "warnings": reader._drain()}
    if op == "answer":
        _limit_cpu(int(req["cpu_seconds"]))
        try:
            return reader.answer(req)
        except _Garbage:
            return {"facts": {"Entry": [["/dev/not-asked", "/", "dir"]]}, "warnings": [],
                    "phases": {}}
    return {"error": f"unknown request {str(op)[:40]!r}"}


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """Answer requests, one line each, until the parent closes the pipe."""
    reader = Reader()
    with reader.stack:
        for line in requests:
            try:
                answer = _handle(reader, wire.decode(line))
            except MemoryError:
                answer = {"error": "out of memory"}
            except _Unsupported as e:
                answer = {"error": _line(str(e)), "unsupported": True}
            except CollectorError as e:  # not a disk image, no such file: the user's error
                answer = {"error": _line(str(e)), "image": True}
            except OSError as e:
                answer = {"error": f"cannot read the images: {e.strerror or e}"}
            except Exception as e:  # noqa: BLE001 - one line for the parent, never a traceback
                answer = {"error": f"{type(e).__name__}: {_line(str(e))}"}
            try:
                data = wire.encode(answer)
            except MemoryError:
                data = wire.encode({"error": "out of memory"})
            answers.write(data)
            answers.flush()


def main() -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library's printing goes to stderr, not into the answers
    serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
