"""The direct backend: the guest's disk images read without a VM, in a child process.

The volume layer (volumes/direct.py), a view of each filesystem (backends/direct_fs.py) and
the answerers (collectors/answerers/) run in ``python -I backends/direct_child.py``, which
parses the guest's bytes with the libyal C libraries. The parent speaks JSON lines with it
(backends/wire.py; never pickle) and sends the requests one filesystem at a time (every Want…
tuple names its filesystem in its first column), so that a crash, a limit or a hang while
reading one filesystem costs that filesystem only: a warning, the filesystem given up
(:attr:`DirectCollector.lost`; under ``--backend auto`` the appliance reads it instead), and a
fresh child for the next request (the volumes opened again).

The child's limits are :class:`isolate.Limits`, as for the hive reader: address space
(``RLIMIT_AS``: what the interpreter uses after start-up plus :attr:`Limits.memory`), CPU
seconds per request (``RLIMIT_CPU``), no core files, and a wall-clock time per request (the
shorter of :attr:`Limits.seconds` and what is left of the inspection's deadline), after which
the parent kills it.
"""

import os
import select
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guestinspect.collectors import child_limits, isolate
from guestinspect.collectors.backends import wire
from guestinspect.collectors.base import WANT_RELATIONS, CollectorStats, FactSet
from guestinspect.collectors.deadline import NO_DEADLINE, Deadline
from guestinspect.collectors.keys import KeySpec
from guestinspect.collectors.local_disk import check_local_disk
from guestinspect.collectors.progress import Progress
from guestinspect.errors import CollectorError, ImageError

#: The direct child's limits (per request: wall and CPU seconds; memory on top of start-up).
DEFAULT_LIMITS = isolate.Limits(seconds=300.0, cpu_seconds=120, memory=2 << 30)
#: Tests only: ``FAULT:FILESYSTEM`` (``segv:/dev/sda1``, ``hang:open``) makes the child
#: misbehave when asked about that filesystem (``open``: while opening the volumes;
#: ``view:/dev/sda1``: while opening that filesystem); FAULT is one of child_limits.FAULTS.
#: docs/security.md, "The direct backend".
FAULT_ENV = "GUESTINSPECT_TEST_DIRECT_FAULT"
_CHILD = Path(__file__).with_name("direct_child.py")
#: The start facts the volume layer may give.
START_RELATIONS = (
    "Disk", "PartitionTable", "MbrSignature", "Partition", "PartitionMbrType",
    "PartitionGptType", "PartitionGptGuid", "PartitionName", "PartitionDisklabel", "LvmVg",
    "LvmPv", "LvmLv", "MdArray", "MdMember", "LuksContainer", "LuksOpened", "LuksLocked",
    "Filesystem", "FsUuid", "FsLabel", "FsVersion", "BtrfsSubvolume",
)
#: The facts that answer requests (every one with the filesystem in its first column).
ANSWER_RELATIONS = (
    "Entry", "Symlink", "FileSize", "Missing", "Listed", "Content", "ContentTruncated",
    "BinaryArch", "Blob", "PeResource", "RegistryKeyFound", "RegistryKeyMissing",
    "RegistryValue", "RegistrySubkey", "HiveError", "PackageField", "PackageDbError",
)


class DirectFailed(CollectorError):
    """The direct backend could not open the images (a crash, a limit, a library's error).

    ``unsupported``: an image it does not read (a qcow2 over a raw backing file…), or one its
    volume layer calls no disk image (``image``: an ImageError for ``--backend direct``; the
    appliance, under ``auto``, says for itself what it makes of it)."""

    def __init__(self, message: str, unsupported: bool = False, image: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported or image
        self.image = image


class DirectChildFailed(Exception):
    """The child gave no usable answer; the message says why."""


class DirectChild:
    """One child process and its pipes. It is started before it is needed (:func:`prestart`:
    its interpreter starts and imports while the parent loads the rules) and told what to open
    by its first request."""

    def __init__(self, limits: isolate.Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._buffer = bytearray()
        self.proc = subprocess.Popen(
            [sys.executable, "-I", str(_CHILD)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd="/",
        )

    def ask(self, request: dict[str, Any], seconds: float) -> dict[str, Any]:
        """The child's answer to ``request`` within ``seconds`` (DirectChildFailed otherwise)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(wire.encode(request))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it died: its exit status says why
        line = self._line(seconds)
        try:
            return wire.decode(line)
        except wire.WireError as e:
            raise DirectChildFailed(f"the direct reader gave {e}") from e

    def _line(self, seconds: float) -> bytes:
        """The next line from the child (linear time: only new bytes are searched)."""
        assert self.proc.stdout is not None
        fd, end = self.proc.stdout.fileno(), time.monotonic() + seconds
        searched = 0
        while (newline := self._buffer.find(b"\n", searched)) < 0:
            searched = len(self._buffer)
            left = end - time.monotonic()
            if left <= 0:
                self.kill()
                raise DirectChildFailed(f"the direct reader took longer than {seconds:.0f}s "
                                        "and was killed")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise DirectChildFailed(self._died())
            self._buffer += chunk
            if len(self._buffer) > wire.MAX_MESSAGE:
                self.kill()
                raise DirectChildFailed(f"the direct reader's answer is larger than "
                                        f"{wire.MAX_MESSAGE} bytes")
        line = bytes(self._buffer[:newline])
        del self._buffer[:newline + 1]
        return line

    def _died(self) -> str:
        try:
            code = self.proc.wait(5.0)
        except subprocess.TimeoutExpired:
            self.kill()
            return "the direct reader closed its output but did not exit"
        return isolate.died(code, self.limits, "the direct reader", "")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass
        try:
            self.proc.wait(5.0)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Opened:
    """What the direct backend found when it opened the images."""

    #: the start facts (no Mounted, no MountFailed: the collector decides them)
    facts: FactSet
    #: mountable filesystem -> None if the direct backend reads it, else why not
    views: dict[str, str | None]
    #: device -> why the volume layer cannot read it
    unreadable: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    def readable(self) -> set[str]:
        return {fs for fs, why in self.views.items() if why is None}


def _fault() -> list[str] | None:
    value = os.environ.get(FAULT_ENV)
    if not value:
        return None
    kind, _, fs = value.partition(":")
    if kind not in child_limits.FAULTS or not fs:
        raise ValueError(f"{FAULT_ENV}={value!r}: expected FAULT:FILESYSTEM")
    return [kind, fs]


#: The first bytes of an image format written as text (a vmdk descriptor and its extents).
_TEXT_IMAGES = (b"# Disk DescriptorFile",)


def check_disk(path: Path) -> None:
    """What the appliance's probe (appliance.probe_disk) says of a local file before
    qemu-img reads it, the same ImageError words: local_disk.check_local_disk's (no such file,
    a directory, a FIFO, no permission, empty), then text (what qemu-img would call raw)."""
    if not stat.S_ISREG(check_local_disk(path).st_mode):
        return
    with path.open("rb") as f:
        head = f.read(65536)
    if b"\0" not in head and not head.startswith(_TEXT_IMAGES):
        raise ImageError(f"{path}: not a disk image (looks like a text file)")


class DirectCollector:
    """Base facts of one guest's disk images (docs/facts.md), read in a child process."""

    def __init__(
        self,
        disks: Sequence[Path],
        format: str | None = None,
        keys: KeySpec | None = None,
        progress: bool = False,
        deadline: Deadline = NO_DEADLINE,
        limits: isolate.Limits | None = None,
        child: DirectChild | None = None,
    ) -> None:
        if not disks:
            raise ImageError("no disk image given")
        for disk in disks:
            check_disk(Path(disk))
        self._disks = [str(d) for d in disks]
        self._format = format
        keys = keys if keys is not None else KeySpec()
        self._keys = {"selectors": [[s.device, s.passphrase] for s in keys.selectors],
                      "stdin_lines": list(keys.stdin_lines) if keys.stdin_lines else None}
        self._progress = Progress(progress)
        self._deadline = deadline
        self._limits = limits or DEFAULT_LIMITS
        self._fault = _fault()
        #: the children's temporary files (hives, package databases copied out)
        self._tmp = Path(tempfile.mkdtemp(prefix="guestinspect-direct-"))
        self._child: DirectChild | None = None
        #: a child started ahead (prestart), taken by the first _start
        self._spare = child
        self._stats = CollectorStats()
        self._opened: Opened | None = None
        #: filesystem -> why it is no longer read (its reader crashed, hung or failed)
        self.lost: dict[str, str] = {}
        #: what the warning about a lost filesystem says next (AutoCollector: the appliance)
        self.after_loss = "nothing more read from this filesystem"
        self._unmounted: set[str] = set()

    # ---- opening ----

    def _seconds(self) -> float:
        left = self._deadline.remaining()
        return self._limits.seconds if left is None else max(0.0, min(self._limits.seconds, left))

    def _start(self) -> tuple[DirectChild, dict[str, Any]]:
        """A fresh child, the images opened in it; its answer to ``open``."""
        child, self._spare = self._spare, None
        try:
            if child is None or child.proc.poll() is not None:
                child = DirectChild(self._limits)
            child.limits = self._limits
        except OSError as e:
            raise DirectFailed(f"cannot start the direct reader: {e.strerror or e}") from e
        request = {"op": "open", "disks": self._disks, "format": self._format,
                   "keys": self._keys, "memory": self._limits.memory,
                   "cpu_seconds": self._limits.cpu_seconds, "fault": self._fault,
                   "tmp": str(self._tmp)}
        try:
            answer = child.ask(request, self._seconds())
        except DirectChildFailed as e:
            child.kill()
            self._deadline.check()
            raise DirectFailed(f"{e} (while opening the images)") from e
        if "error" in answer:
            child.close()
            message = str(answer["error"])[:500]
            if answer.get("image"):
                raise DirectFailed(message, image=True)
            if answer.get("unsupported"):
                raise DirectFailed(message, unsupported=True)
            raise DirectFailed(f"the direct reader failed: {message}")
        return child, answer

    def open(self) -> Opened:
        """Open the images (once): the start facts and what can be read."""
        if self._opened is not None:
            return self._opened
        t0 = time.monotonic()
        self._progress.show("reading the volumes")
        try:
            self._child, answer = self._start()
            try:
                opened = Opened(
                    wire.facts_in(answer.get("facts"), START_RELATIONS),
                    _views(answer.get("views")),
                    wire.string_map(answer.get("unreadable"), "unreadable volumes"),
                    wire.strings(answer.get("warnings"), "warnings"),
                )
                phases = wire.number_map(answer.get("phases", {}), "phases")
                candidates = wire.strings(answer.get("candidates"), "filesystems")
            except wire.WireError as e:
                self._child.kill()
                raise DirectFailed(f"the direct reader gave {e} (while opening the images)") \
                    from e
            # the child's start (an interpreter, its imports) is what it did not count itself
            phases = {"start": max(0.0, time.monotonic() - t0 - sum(phases.values())), **phases}
            t1 = time.monotonic()
            for fs in candidates:  # one request each: a crash costs that filesystem
                opened.views[fs] = self._open_view(fs)
            phases["views"] = time.monotonic() - t1
        finally:
            self._progress.stop()
        self._add_phases(phases)
        self._stats.seconds += time.monotonic() - t0
        self._opened = opened
        return opened

    def _open_view(self, fs: str) -> str | None:
        """None if the child opened a view of ``fs``, else why not (a crash while opening it
        included: a fresh child is started for the next request)."""
        try:
            answer = self._request({"op": "view", "fs": fs,
                                    "cpu_seconds": self._limits.cpu_seconds})
            why = answer.get("view")
            if why is not None and not isinstance(why, str):
                raise wire.WireError("a malformed view")
            self._stats.warnings.extend(wire.strings(answer.get("warnings"), "warnings"))
            return why
        except wire.WireError as e:
            self._drop_child()
            return f"the direct reader gave {e}"
        except DirectChildFailed as e:
            self._deadline.check()
            self.lost[fs] = str(e)
            return str(e)

    # ---- Collector protocol ----

    def initial_facts(self) -> FactSet:
        try:
            opened = self.open()
        except DirectFailed as e:
            if e.image:
                raise ImageError(str(e)) from e
            raise
        facts: FactSet = {rel: set(tuples) for rel, tuples in opened.facts.items()}
        self._stats.warnings.extend(opened.warnings)
        for dev, why in sorted(opened.unreadable.items()):
            if dev not in opened.views:
                self._stats.warnings.append(f"{dev}: not read: {why}; --backend auto reads "
                                            "it with the appliance")
        for fs, reason in sorted(opened.views.items()):
            if reason is None:
                facts.setdefault("Mounted", set()).add((fs,))
                continue
            facts.setdefault("MountFailed", set()).add((fs, reason))
            self._stats.warnings.append(f"{fs}: cannot mount: {reason}; --backend auto reads "
                                        "it with the appliance")
        for fs in opened.readable():
            self._stats.backends[fs] = "direct"
        return facts

    def answer(self, wants: FactSet) -> FactSet:
        facts: FactSet = {}
        readable = self.open().readable()
        for fs, mine in sorted(by_filesystem(wants).items()):
            if fs not in readable or fs in self.lost:
                if fs not in self._unmounted and fs not in self.lost:
                    self._unmounted.add(fs)
                    self._stats.warnings.append(f"{fs}: requested but not mounted")
                continue
            answered = self.answer_fs(fs, mine)
            for rel, tuples in (answered or {}).items():
                facts.setdefault(rel, set()).update(tuples)
        return facts

    def answer_fs(self, fs: str, wants: FactSet) -> FactSet | None:
        """The answer to the requests ``wants`` about the filesystem ``fs``, or None if its
        reader failed (a warning says why; ``fs`` is then in :attr:`lost`)."""
        t0 = time.monotonic()
        self._progress.show(f"reading {fs}")
        try:
            return self._ask(fs, wants)
        except DirectChildFailed as e:
            self._deadline.check()  # a child killed at the deadline: the deadline's warning
            self.lost[fs] = str(e)
            self._stats.warnings.append(f"{fs}: {e}; {self.after_loss}")
            return None
        finally:
            self._progress.stop()
            self._stats.seconds += time.monotonic() - t0

    def _request(self, request: dict[str, Any]) -> dict[str, Any]:
        """The child's answer to ``request`` (a fresh child if the last one failed);
        DirectChildFailed, the child dropped, if there is none or it is an error."""
        if self._child is None:
            try:
                self._child, _ = self._start()  # the last one failed: the images again
            except DirectFailed as e:
                raise DirectChildFailed(str(e)) from e
        try:
            answer = self._child.ask(request, self._seconds())
        except DirectChildFailed:
            self._drop_child()
            raise
        if "error" in answer:
            self._drop_child()
            raise DirectChildFailed(f"the direct reader failed: {str(answer['error'])[:500]}")
        return answer

    def _ask(self, fs: str, wants: FactSet) -> FactSet:
        answer = self._request({
            "op": "answer", "fs": fs,
            "wants": {rel: sorted(list(t) for t in tuples) for rel, tuples in wants.items()},
            "cpu_seconds": self._limits.cpu_seconds, "seconds": self._deadline.remaining(),
        })
        try:
            facts = wire.facts_in(answer.get("facts"), ANSWER_RELATIONS, (fs,))
            warnings = wire.strings(answer.get("warnings"), "warnings")
            phases = wire.number_map(answer.get("phases", {}), "phases")
        except wire.WireError as e:
            self._drop_child()
            raise DirectChildFailed(f"the direct reader gave {e}") from e
        self._stats.warnings.extend(warnings)
        self._add_phases(phases)
        return facts

    def _drop_child(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child.close()
            self._child = None

    def _add_phases(self, phases: dict[str, float]) -> None:
        for name, secs in phases.items():
            key = f"direct {name}"
            self._stats.phase_seconds[key] = self._stats.phase_seconds.get(key, 0.0) + secs

    def stats(self) -> CollectorStats:
        return self._stats

    def close(self) -> None:
        self._progress.stop()
        for child in (self._child, self._spare):
            if child is not None:
                child.close()
        self._child = self._spare = None
        shutil.rmtree(self._tmp, ignore_errors=True)  # (what a killed child left there too)

    def __enter__(self) -> "DirectCollector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _views(data: object) -> dict[str, str | None]:
    if not isinstance(data, dict) or not all(
        v is None or isinstance(v, str) for v in data.values()
    ):
        raise wire.WireError("malformed filesystems")
    return dict(data)


def by_filesystem(wants: FactSet) -> dict[str, FactSet]:
    """The requests grouped by filesystem (the first column of every Want… tuple)."""
    out: dict[str, FactSet] = defaultdict(dict)
    for rel in WANT_RELATIONS:
        for t in wants.get(rel, ()):
            out[str(t[0])].setdefault(rel, set()).add(t)
    return dict(out)


__all__ = ["DirectCollector", "DirectFailed", "Opened", "by_filesystem"]
