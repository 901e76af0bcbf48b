"""``--backend auto``: the direct backend for whatever it reads, the appliance for the rest.

The direct backend (backends/direct.py) opens the images first. The appliance is launched only
when it is needed:

- at start, when the direct side cannot read a volume (md RAID, a BitLocker volume, an LVM
  layout it does not know…) or a filesystem of a mountable type (btrfs, UFS, a library's
  failure): the rules probe every mountable filesystem, so such a filesystem is always needed.
  The appliance's start facts are then the document's (they are the appliance's truth; the
  device names agree, the direct side names devices as the appliance does);
- later, when the direct reader of a filesystem crashes, hangs or fails: that filesystem's
  requests go to the appliance from then on (its start facts are then not used).

Either way the requests about a filesystem the direct side reads still go to it; the others to
the appliance. A guest on remote disks (URIs) is the appliance's alone.
"""

import time
from collections.abc import Callable

from guestinspect.collectors.backends.direct import (
    DirectCollector,
    DirectFailed,
    Opened,
    by_filesystem,
)
from guestinspect.collectors.base import Collector, CollectorStats, FactSet, merge
from guestinspect.errors import CollectorError

#: Opens the appliance's collector (today's ImageCollector) when it is needed.
ApplianceOpener = Callable[[], Collector]


def needs_appliance(opened: Opened) -> list[str]:
    """Why the appliance is needed from the start (nothing: the direct side reads it all)."""
    why = [f"{fs}: {reason}" for fs, reason in sorted(opened.views.items()) if reason]
    why.extend(f"{dev}: {reason}" for dev, reason in sorted(opened.unreadable.items())
               if dev not in opened.views and not _not_mountable(opened, dev))
    return why


def _not_mountable(opened: Opened, dev: str) -> bool:
    """Whether ``dev`` is a filesystem the direct side saw, of a type no one mounts."""
    return any(t[0] == dev for t in opened.facts.get("Filesystem", ()))


class AutoCollector:
    """Base facts of one guest's disk images, read directly where possible (docs/cli.md,
    ``--backend``)."""

    def __init__(self, direct: DirectCollector, open_appliance: ApplianceOpener) -> None:
        self._direct = direct
        direct.after_loss = "the appliance reads it"
        self._open_appliance = open_appliance
        self._appliance: Collector | None = None
        self._seen_warnings = 0  # the appliance's warnings already taken
        self._direct_fs: set[str] = set()  # the filesystems the direct side answers
        self._stats = CollectorStats()
        #: why the appliance could not be started (then it is not tried again)
        self._failed: str | None = None
        self._unread: set[str] = set()  # filesystems warned about as read by no one

    # ---- Collector protocol ----

    def initial_facts(self) -> FactSet:
        t0 = time.monotonic()
        try:
            opened = self._direct.open()
        except DirectFailed as e:
            message = f"the direct backend cannot read the images: {e}; the appliance reads them"
            (self._note if e.unsupported else self._stats.warnings.append)(message)
            return self._appliance_start(t0)
        why = needs_appliance(opened)
        self._direct_fs = opened.readable()
        if why:
            self._note(f"the appliance reads what the direct backend cannot ({'; '.join(why)})")
            try:
                return self._appliance_start(t0)
            except CollectorError as e:  # no appliance here: what the direct side reads
                self._without_appliance(e)
        facts = self._direct.initial_facts()
        for fs in self._direct_fs:
            self._stats.backends[fs] = "direct"
        self._sync()
        self._stats.seconds += time.monotonic() - t0
        return facts

    def _without_appliance(self, e: CollectorError) -> None:
        self._failed = str(e)
        self._stats.warnings.append(f"the appliance could not be started ({e}); only what the "
                                    "direct backend reads is reported")
        if self._appliance is not None:
            self._appliance.close()
            self._appliance = None

    def _appliance_start(self, t0: float) -> FactSet:
        """The appliance launched, its start facts the document's."""
        facts = self._launch().initial_facts()
        for fs, why in sorted(self._direct.lost.items()):  # crashed while opening it
            self._stats.warnings.append(f"{fs}: {why}; the appliance reads it")
        for fs in self._direct_fs:
            self._stats.backends[fs] = "direct"
        mounted = {str(t[0]) for t in facts.get("Mounted", ())}
        for fs in sorted(mounted - self._direct_fs):
            self._stats.backends[fs] = "appliance"
        self._sync()
        self._stats.seconds += time.monotonic() - t0
        return facts

    def _launch(self) -> Collector:
        if self._appliance is None:
            self._appliance = self._open_appliance()
        return self._appliance

    def answer(self, wants: FactSet) -> FactSet:
        t0 = time.monotonic()
        facts: FactSet = {}
        rest: FactSet = {}
        for fs, mine in sorted(by_filesystem(wants).items()):
            answered = self._direct.answer_fs(fs, mine) if fs in self._direct_fs else None
            if answered is not None:
                merge(facts, answered)
                continue
            if fs in self._direct_fs:  # its reader failed (a warning): the appliance's now
                self._direct_fs.discard(fs)
            self._stats.backends[fs] = "appliance"
            merge(rest, mine)
        if rest and self._failed is None:
            try:
                merge(facts, self._appliance_answer(rest))
            except CollectorError as e:
                self._without_appliance(e)
        if rest and self._failed is not None:
            for fs in sorted(by_filesystem(rest)):
                self._stats.backends.pop(fs, None)  # answered by no one
                if fs in self._direct.lost and fs not in self._unread:  # (the others:
                    # MountFailed and its warning, as under --backend direct)
                    self._unread.add(fs)
                    self._stats.warnings.append(f"{fs}: not read (no appliance: "
                                                f"{self._failed})")
        self._sync()
        self._stats.seconds += time.monotonic() - t0
        return facts

    def _appliance_answer(self, wants: FactSet) -> FactSet:
        if self._appliance is None:  # launched late: its start facts are not the document's
            self._launch().initial_facts()
            self._seen_warnings = len(self._launch().stats().warnings)  # (its mount warnings)
        return self._launch().answer(wants)

    def _note(self, message: str) -> None:
        """A line for ``-v`` (not a warning: nothing is lost)."""
        self._stats.notes.append(message)

    def _sync(self) -> None:
        """Bring the stats up to date with both sides' (the driver adds to ours in place)."""
        direct = self._direct.stats()
        self._stats.warnings.extend(direct.warnings)
        direct.warnings.clear()
        phases = dict(direct.phase_seconds)
        if self._appliance is not None:
            a = self._appliance.stats()
            self._stats.warnings.extend(a.warnings[self._seen_warnings:])
            self._seen_warnings = len(a.warnings)
            self._stats.guestfs_calls = a.guestfs_calls
            self._stats.launch_seconds = a.launch_seconds
            self._stats.phase_calls = {f"appliance {k}": v for k, v in a.phase_calls.items()}
            phases.update((f"appliance {k}", v) for k, v in a.phase_seconds.items())
        self._stats.phase_seconds = phases

    def stats(self) -> CollectorStats:
        self._sync()
        return self._stats

    def close(self) -> None:
        try:
            self._direct.close()
        finally:
            if self._appliance is not None:
                self._appliance.close()
                self._appliance = None


__all__ = ["AutoCollector", "needs_appliance"]
