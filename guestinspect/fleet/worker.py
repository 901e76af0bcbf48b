"""Inspect one guest of a fleet: its JSON Lines record and every fact of its database.

:func:`inspect_guest` is the per-image task, the same in a local worker process and on a
Dask worker. It goes through the public API (:class:`guestinspect.api.Inspector`), so the
record holds what :func:`guestinspect.inspect` returns; the only difference is the collector,
wrapped in the fact cache's :class:`~guestinspect.fleet.cache.CachingCollector`.
"""

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guestinspect.api import Inspector
from guestinspect.collectors.base import Collector
from guestinspect.collectors.deadline import Deadline
from guestinspect.datalog import Database
from guestinspect.errors import GuestinspectError
from guestinspect.fleet.cache import (
    CacheError,
    CachingCollector,
    Entry,
    FactCache,
    StaleEntry,
    image_key,
)
from guestinspect.fleet.inputs import Guest
from guestinspect.reporting.surrogates import replace_surrogates

#: A fact of the inventory: (relation, derived?, tuple)
InventoryFact = tuple[str, bool, tuple[str | int, ...]]


@dataclass(frozen=True)
class Options:
    """What every guest of a fleet is inspected with."""

    rules: tuple[str, ...] = ()
    applications: bool = True
    format: str | None = None
    timeout: float | None = 600.0
    cache_dir: str | None = None  # None: no fact cache
    refresh: bool = False
    keys: tuple[str, ...] = ()  # LUKS --key selectors
    facts: bool = True  # send every fact back (for an inventory)
    #: auto, direct or appliance (None: $GUESTINSPECT_BACKEND or auto); the same facts either
    #: way, so not part of the cache key
    backend: str | None = None

    def key_options(self) -> dict[str, Any]:
        """The options that change what is read from an image (part of the cache key; the
        LUKS keys by a hash only)."""
        keys = hashlib.sha256("\0".join(self.keys).encode("utf-8", "surrogateescape"))
        return {"applications": self.applications, "format": self.format,
                "keys": keys.hexdigest() if self.keys else None}


@dataclass
class Outcome:
    """The result of one guest: its record (as printed), its facts, its cache key."""

    guest: Guest
    record: dict[str, Any]
    facts: list[InventoryFact] = field(default_factory=list)
    key: str | None = None
    #: real collectors opened (0: answered from the cache, or nothing to open)
    opened: int = 0

    @property
    def status(self) -> str:
        return str(self.record["status"])


def guest_key(guest: Guest, options: Options) -> str | None:
    """The guest's cache key, None if it has none (a missing file, a URI…)."""
    try:
        return image_key(guest.disks, options.key_options())
    except CacheError:
        return None


def record(guest: Guest, *, status: str, error: str | None = None,
           inspections: Sequence[Any] = (), warnings: Sequence[str] = (),
           cached: bool = False, total: float = 0.0, collect: float = 0.0) -> dict[str, Any]:
    """A JSON Lines record (docs/fleet.md)."""
    rec: dict[str, Any] = {
        "image": guest.name,
        "disks": list(guest.disks),
        "status": status,
        "error": error,
        "inspections": list(inspections),
        "warnings": list(warnings),
        "cached": cached,
        "seconds": {"total": round(total, 3), "collect": round(collect, 3),
                    "evaluate": round(max(0.0, total - collect), 3)},
    }
    result: dict[str, Any] = replace_surrogates(rec)
    return result


def error_outcome(guest: Guest, message: str, seconds: float = 0.0,
                  key: str | None = None) -> Outcome:
    return Outcome(guest, record(guest, status="error", error=message, total=seconds), key=key)


class _FleetInspector(Inspector):
    """The public Inspector, its collector wrapped in the fact cache (``cache``/``key``: where
    the guest's entry is, None: no cache; ``entry``: the entry already read, if any;
    ``replay``: see :class:`CachingCollector`)."""

    #: No child started ahead: a worker loads the rules once (nothing to overlap), and a guest
    #: answered from the cache needs no child at all.
    _prestart = False

    def __init__(self, guest: Guest, options: Options, cache: FactCache | None,
                 key: str | None, entry: Entry | None = None, replay: bool = False) -> None:
        super().__init__(list(guest.disks), format=options.format, keys=options.keys,
                         applications=options.applications, rules=list(options.rules),
                         progress=False, timeout=options.timeout, backend=options.backend)
        self.refresh = options.refresh
        self.cache = cache if key is not None else None
        self.key = key
        self.entry = entry
        self.replay = replay
        self.caching: CachingCollector | None = None
        self.deadline: Deadline | None = None
        self.cache_warnings: list[str] = []

    def _entry(self) -> Entry:
        if self.entry is not None:
            return self.entry
        entry = None
        if self.cache is not None and self.key is not None and not self.refresh:
            try:
                entry = self.cache.load(self.key, self.program)
            except CacheError as e:
                self.cache_warnings.append(f"fact cache: {e}; the image is read again")
        self.entry = entry or Entry()
        return self.entry

    def _open_collector(self, deadline: Deadline) -> Collector:
        self.deadline = deadline
        if self.cache is None:
            collector: Collector = super()._open_collector(deadline)
            return collector
        self.caching = CachingCollector(
            self._entry(), lambda: super(_FleetInspector, self)._open_collector(deadline),
            replay=self.replay)
        return self.caching

    def save(self) -> str | None:
        """Write what was read to the cache; a warning if it cannot be written."""
        c = self.caching
        if self.cache is None or self.key is None or c is None or not c.dirty:
            return None
        if self.deadline is not None and self.deadline.expired():
            return None  # answers read as the appliance was being killed: not kept
        try:
            self.cache.save(self.key, c.entry)
        except OSError as e:
            return f"fact cache: cannot write {self.cache.path(self.key)}: {e.strerror}"
        return None


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


def _error_message(e: BaseException) -> str:
    """The one line the single-image command prints for ``e`` (after ``guestinspect: error:``)."""
    if isinstance(e, GuestinspectError):
        return _one_line(str(e))
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        return f"{where}{e.strerror or type(e).__name__}"
    if isinstance(e, MemoryError):
        return "out of memory"
    if isinstance(e, RecursionError):
        return "input nested too deeply"
    return f"internal error: {type(e).__name__}: {_one_line(str(e))}"


def database_facts(db: Database) -> list[InventoryFact]:
    """Every tuple of every relation: base facts and derived ones."""
    out: list[InventoryFact] = []
    for name in sorted(db.relations):
        base = db.base.get(name, set())
        for t in sorted(db.tuples(name), key=repr):
            out.append((name, t not in base, t))
    return out


def inspect_guest(guest: Guest, options: Options) -> Outcome:
    """Inspect one guest; never raises (an error is the record's ``error``)."""
    started = time.monotonic()
    key = guest_key(guest, options) if options.cache_dir is not None else None
    cache = FactCache(Path(options.cache_dir)) if options.cache_dir is not None else None
    try:
        insp = _FleetInspector(guest, options, cache, key)
        try:
            done = _evaluate(insp, options.facts)
        except StaleEntry:  # the image named its devices otherwise this time: read it afresh
            insp = _FleetInspector(guest, options, cache, key, Entry())
            done = _evaluate(insp, options.facts)
        if done is None:  # the cache held answers no rule asked for now: again, batch by batch
            assert insp.caching is not None
            opened, collect = insp.caching.opened, insp.caching.collect_seconds
            insp = _FleetInspector(guest, options, cache, key, insp.caching.entry, replay=True)
            done = _evaluate(insp, options.facts)
            assert done is not None
            done.opened += opened
            done.collect += collect
        trouble = insp.save()
        if trouble is not None:
            done.warnings.append(trouble)
        total = time.monotonic() - started
        rec = record(guest, status="partial" if done.warnings else "ok",
                     inspections=done.inspections, warnings=done.warnings,
                     cached=done.opened == 0, total=total, collect=done.collect)
        return Outcome(guest, rec, done.facts, key, done.opened)
    except Exception as e:  # noqa: BLE001 - one guest's failure is its record's error
        if os.environ.get("GUESTINSPECT_DEBUG"):
            raise
        return error_outcome(guest, _error_message(e), time.monotonic() - started, key)


@dataclass
class _Done:
    inspections: list[Any]
    warnings: list[str]
    facts: list[InventoryFact]
    opened: int
    collect: float


def _evaluate(insp: _FleetInspector, facts: bool = True) -> _Done | None:
    """Inspect (the collector closed after); None if the cache gave answers no rule asked
    for (:meth:`CachingCollector.exact`)."""
    with insp:
        db = insp.database()
        caching = insp.caching
        if caching is not None and not caching.exact():
            return None
        inspections: list[Any] = list(insp.inspect())
        warnings = insp.cache_warnings + insp.warnings()
        if caching is not None:
            opened, collect = caching.opened, caching.collect_seconds
        else:
            stats = insp.stats()
            opened, collect = 1, stats.seconds if stats is not None else 0.0
        return _Done(inspections, warnings, database_facts(db) if facts else [], opened,
                     collect)
