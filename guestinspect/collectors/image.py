"""The image collector (the appliance backend): base facts from disk images read
(read-only) with libguestfs.

The volume layer (backends/appliance_volumes.py) gives the start facts and mounts every
mountable filesystem read-only under its own directory of the appliance (``/fs/0``,
``/fs/1`` …); the answerers (collectors/answerers/) answer the rules' requests over an
:class:`~backends.appliance_view.ApplianceView` of each. Guest paths are resolved by
collectors/resolver.py, not by the appliance's kernel: an absolute symlink inside a guest
filesystem means that filesystem's root.
"""

import os
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from guestinspect.collectors import answerers
from guestinspect.collectors.answerers.table import PHASE_WORDS
from guestinspect.collectors.appliance import CountingHandle, DeadlineWatchdog, launch
from guestinspect.collectors.backends.appliance_view import ApplianceView, case_lookup
from guestinspect.collectors.backends.appliance_volumes import ApplianceVolumes
from guestinspect.collectors.base import CollectorStats, FactSet
from guestinspect.collectors.console import stall_seconds
from guestinspect.collectors.deadline import NO_DEADLINE, Deadline
from guestinspect.collectors.keys import KeySpec
from guestinspect.collectors.progress import Progress
from guestinspect.collectors.remote import probe, recheck
from guestinspect.collectors.resolver import GuestFilesystem
from guestinspect.collectors.uri import RemoteDisk, parse_disk, redact
from guestinspect.collectors.volumes.base import NOT_MOUNTABLE
from guestinspect.errors import CollectorError, ImageError, UsageError

#: Tests only: the phase (``registry``, ``packages``, …) in which the collector makes a
#: libguestfs call that never returns, to test the deadline (docs/security.md, "Deadlines").
_STALL = os.environ.get("GUESTINSPECT_TEST_STALL_PHASE")


class ImageCollector:
    """Base facts of one guest's disk images (docs/facts.md), opened read-only."""

    def __init__(
        self,
        disks: Sequence[Path | str | RemoteDisk],
        format: str | None = None,
        keys: KeySpec | None = None,
        progress: bool = True,
        launch_timeout: float = 600.0,
        deadline: Deadline = NO_DEADLINE,
        stall_timeout: float | None = None,
    ) -> None:
        if not disks:
            raise ImageError("no disk image given")
        try:
            #: Seconds of a silent appliance console before a launch is retried under TCG
            #: (None: $GUESTINSPECT_STALL_TIMEOUT or 20; 0: never; collectors/console.py).
            self._stall = stall_seconds(stall_timeout)
        except ValueError as e:
            raise UsageError(str(e)) from e
        # a str may be a URI (a remote disk, collectors/uri.py); a Path is a local file
        self._disks = [(d, probe(d, format)) for d in map(parse_disk, disks)]
        self._keys = keys if keys is not None else KeySpec()
        #: The spinner on stderr while the collector works (a terminal only).
        self._progress = Progress(progress)
        self._timeout = launch_timeout
        self._deadline = deadline
        self._g: CountingHandle | None = None
        self._watchdog: DeadlineWatchdog | None = None
        self._stats = CollectorStats()
        self._tmp = Path(tempfile.mkdtemp(prefix="guestinspect-"))
        self._volumes: ApplianceVolumes | None = None
        self._fs_types: dict[str, str] = {}  # filesystem -> type, once initial_facts() ran
        #: What the answerers work with: the mounted filesystems (once initial_facts() ran).
        self._ctx = answerers.AnswerContext({}, self.warn, self._tmp, deadline, self._phase)

    # ---- Collector protocol ----

    def stats(self) -> CollectorStats:
        if self._g is not None:
            self._stats.guestfs_calls = self._g.calls
            self._stats.phase_calls = dict(self._g.phase_calls)
        return self._stats

    def close(self) -> None:
        self._progress.stop()
        if self._watchdog is not None:
            self._watchdog.stop()
            self._watchdog = None
        if self._g is not None:
            try:
                self._g.shutdown()  # the drives are read-only: nothing to unmount first
            except RuntimeError:
                pass
            self._g.close()
            self._g = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> "ImageCollector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def warn(self, message: str) -> None:
        self._stats.warnings.append(message)

    def _launch(self) -> None:
        try:
            started = launch(self._disks, self._timeout, self._deadline, self._progress,
                             self._stall)
        except CollectorError as e:  # a remote disk's password never in a message
            gone = recheck(self._disks)  # a server gone since the probe says why
            error = gone or e
            error.args = (redact(str(error), [d for d, _ in self._disks]),)
            if gone is None:
                raise
            raise gone from e
        self._g, self._stats.launch_seconds = started.handle, started.seconds
        disks = [d for d, _ in self._disks]  # (the retry's warning quotes qemu)
        self._stats.warnings.extend(redact(w, disks) for w in started.warnings)
        self._watchdog = DeadlineWatchdog(self._g)
        self._stats.phase_seconds["launch"] = self._stats.launch_seconds

    def initial_facts(self) -> FactSet:
        t0 = time.monotonic()
        try:
            if self._g is None:
                self._launch()
            facts: FactSet = defaultdict(set)
            volumes = self._volumes = ApplianceVolumes(self.g, self._keys, self.warn)
            with self._phase("devices"):
                volumes.devices(facts)
            with self._phase("filesystems"):
                self._fs_types = volumes.filesystems(facts)
            with self._phase("mount"):
                volumes.mount_all(self._fs_types, facts)
            self._ctx.filesystems = {
                fs: GuestFilesystem(fs, ApplianceView(self.g, fs, d, self._tmp, self.warn),
                                    case_lookup(self.g, d))
                for fs, d in volumes.mounts.items()
            }
        finally:
            self._progress.stop()
        self._stats.seconds += time.monotonic() - t0
        return dict(facts)

    @contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        """Count the libguestfs calls and seconds of what runs inside under ``name``."""
        g = self.g
        before, t0 = g.phase, time.monotonic()
        g.phase = name
        self._progress.show(f"reading {PHASE_WORDS.get(name, name)}")
        if _STALL == name:  # tests only: a libguestfs call that never returns
            g.debug("sh", ["sleep 3600"])
        try:
            yield
        finally:
            g.phase = before
            secs = self._stats.phase_seconds
            secs[name] = secs.get(name, 0.0) + time.monotonic() - t0

    def answer(self, wants: FactSet) -> FactSet:
        t0 = time.monotonic()
        try:
            return answerers.answer(self._ctx, wants)
        finally:
            self._progress.stop()
            self._stats.seconds += time.monotonic() - t0

    @property
    def g(self) -> Any:
        if self._g is None:
            raise RuntimeError("initial_facts() was not called")
        return self._g

    def mount_guest(self, mounts: Sequence[tuple[str, str]]) -> list[str]:
        """Mount the guest's filesystems read-only as the guest mounts them, for
        ``guestinspect mount``: ``(guest path, filesystem)`` pairs, parents first.

        The inspection's own mounts (``/fs/N``) are unmounted first, and its deadline no longer
        applies; no request can be answered afterwards. Returns one warning per filesystem not
        mounted (the rest are mounted) or mounted with fallback options; ImageError if
        ``/`` (the first) cannot be mounted.
        """
        g = self.g
        if self._watchdog is not None:
            self._watchdog.stop()
            self._watchdog = None
        g.deadline = NO_DEADLINE
        g.umount_all()
        self._ctx.filesystems = {}
        volumes = self._volumes or ApplianceVolumes(g, self._keys, self.warn)
        before = len(self._stats.warnings)
        for path, fs in mounts:
            vfs = self._fs_types.get(fs, "")
            error = "not a filesystem" if vfs in NOT_MOUNTABLE else volumes.mount(fs, vfs, path)
            if error is not None and path == "/":
                raise ImageError(f"{fs}: cannot mount the guest's /: {error}")
            if error is not None:
                self.warn(f"{fs}: cannot mount on {path}: {error}")
        return self._stats.warnings[before:]
