"""The fact cache: what a collector read from a guest's images, kept under a key made from
their identity, so that a later inspection derives its conclusions without opening them.

An entry holds the collector's initial facts and, per answer it gave (a batch), the requests
(``Want…`` tuples) answered, the facts and the warnings. :class:`CachingCollector` answers
from an entry and opens the image (through the factory it is given, lazily) only for a
request the entry cannot answer; what it then reads is added to the entry.

The key (:func:`image_key`) covers each disk's absolute path, size, modification time, inode
and device, and for a qcow2 image the same of each file of its backing chain (read from the
header, at most :data:`MAX_CHAIN` deep), plus the options that change what is read. Entries
are written atomically (a temporary file renamed) and read as hostile input: an entry that is
not what it should be is ignored, with a warning, and the image read afresh.
"""

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guestinspect.collectors.base import Collector, CollectorStats, Fact, FactSet, merge
from guestinspect.datalog import Program
from guestinspect.fleet.detect import DetectError, backing_file
from guestinspect.fleet.inputs import is_uri

#: Version of the entries' format (an entry of another version is refused, with a warning).
FORMAT = 2
#: How deep a qcow2 backing chain is followed for the key.
MAX_CHAIN = 16
#: An entry larger than this is not read.
MAX_ENTRY_BYTES = 512 * 1024 * 1024


class CacheError(Exception):
    """A cache entry that cannot be used (one line)."""


class StaleEntry(Exception):
    """The image, opened again, does not show the devices the entry recorded (md arrays, for
    one, are numbered anew at each appliance launch): the entry's answers name devices that
    may now be others, so the inspection must start afresh."""


def default_dir() -> Path:
    """``$XDG_CACHE_HOME/guestinspect/facts`` (``~/.cache/guestinspect/facts``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "guestinspect" / "facts"


def _identity(path: str) -> dict[str, Any]:
    try:
        st = os.stat(path)
    except OSError as e:
        raise CacheError(f"{path}: {e.strerror}") from e
    return {"path": os.path.abspath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "inode": st.st_ino, "device": st.st_dev}


def _chain(path: str) -> list[dict[str, Any]]:
    """The identity of ``path`` and of each backing file after it."""
    out = [_identity(path)]
    current = path
    for _ in range(MAX_CHAIN):
        try:
            name = backing_file(Path(current))
        except DetectError as e:
            raise CacheError(str(e)) from e
        if name is None:
            return out
        if is_uri(name):
            out.append({"uri": name})  # a remote backing file: not cacheable
            raise CacheError(f"{current}: its backing file {name} is remote")
        current = os.path.join(os.path.dirname(os.path.abspath(current)), name)
        out.append(_identity(current))
    raise CacheError(f"{path}: a backing chain deeper than {MAX_CHAIN}")


def image_key(disks: Sequence[str], options: dict[str, Any]) -> str:
    """The cache key of a guest: raises CacheError if it cannot be made (a missing file, a
    URI, a damaged qcow2 header)."""
    if any(is_uri(d) for d in disks):
        raise CacheError("remote images are not cached")
    ident = {"format": FORMAT, "disks": [_chain(d) for d in disks], "options": options}
    text = json.dumps(ident, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


Want = tuple[str, Fact]


@dataclass
class Batch:
    """One answer of the real collector: the requests asked, the facts and warnings it gave."""

    wants: set[Want]
    facts: FactSet
    warnings: list[str] = field(default_factory=list)


class Entry:
    """What was read from one guest (see the module's docstring)."""

    def __init__(self) -> None:
        self.initial: FactSet | None = None
        self.warnings: list[str] = []  # of the initial facts
        self.batches: list[Batch] = []

    def answered(self) -> set[Want]:
        return {w for batch in self.batches for w in batch.wants}

    def to_json(self) -> str:
        def facts(fs: FactSet) -> dict[str, list[list[str | int]]]:
            return {name: sorted(map(list, ts), key=repr) for name, ts in sorted(fs.items())}

        return json.dumps({
            "format": FORMAT,
            "initial": facts(self.initial or {}),
            "warnings": self.warnings,
            "batches": [{"wants": sorted(([n, list(t)] for n, t in b.wants), key=repr),
                         "facts": facts(b.facts), "warnings": b.warnings}
                        for b in self.batches],
        })

    @classmethod
    def from_json(cls, text: str, program: Program) -> "Entry":
        """An entry read back; CacheError if it is not one (every relation and tuple is
        checked against ``program``'s declarations)."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise CacheError(f"not JSON: {e}") from e
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CacheError("not a cache entry of this version")
        entry = cls()
        entry.initial = _factset(data.get("initial"), program)
        entry.warnings = _strings(data.get("warnings"))
        batches = data.get("batches")
        if not isinstance(batches, list):
            raise CacheError("no list of batches")
        for item in batches:
            if not isinstance(item, dict):
                raise CacheError("a batch that is not an object")
            wants = item.get("wants")
            if not isinstance(wants, list):
                raise CacheError("a batch without a list of requests")
            asked: set[Want] = set()
            for want in wants:
                if not (isinstance(want, list) and len(want) == 2
                        and isinstance(want[0], str)):
                    raise CacheError("a request that is not [relation, tuple]")
                asked.add((want[0], _tuple(want[0], want[1], program)))
            entry.batches.append(Batch(asked, _factset(item.get("facts"), program),
                                       _strings(item.get("warnings"))))
        return entry


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
        raise CacheError("warnings that are not a list of strings")
    return value


def _tuple(relation: str, value: object, program: Program) -> Fact:
    kinds = program.kinds.get(relation)
    if kinds is None:
        raise CacheError(f"relation {relation!r} is not declared")
    if not isinstance(value, list) or len(value) != len(kinds):
        raise CacheError(f"a tuple of {relation} that is not a list of {len(kinds)} values")
    for v, kind in zip(value, kinds, strict=True):
        ok = isinstance(v, str) if kind == "symbol" else (
            isinstance(v, int) and not isinstance(v, bool))
        if not ok:
            raise CacheError(f"a tuple of {relation} with a value not a {kind}")
    return tuple(value)


def _factset(value: object, program: Program) -> FactSet:
    if not isinstance(value, dict):
        raise CacheError("facts that are not an object")
    out: FactSet = {}
    for name, tuples in value.items():
        if not isinstance(tuples, list):
            raise CacheError(f"facts of {name} that are not a list")
        if name not in program.kinds:  # checked here too: an empty list has no tuple to check
            raise CacheError(f"relation {name!r} is not declared")
        out[name] = {_tuple(name, t, program) for t in tuples}
    return out


class FactCache:
    """A directory of entries, one file per key (``<key[:2]>/<key>.json``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def load(self, key: str, program: Program) -> Entry | None:
        """The entry of ``key`` (None if there is none); CacheError if it is damaged."""
        path = self.path(key)
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_ENTRY_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise CacheError(f"{path}: {e.strerror}") from e
        if len(data) > MAX_ENTRY_BYTES:
            raise CacheError(f"{path}: larger than {MAX_ENTRY_BYTES} bytes")
        try:
            return Entry.from_json(data.decode("utf-8"), program)
        except UnicodeDecodeError as e:
            raise CacheError(f"{path}: not UTF-8") from e
        except CacheError as e:
            raise CacheError(f"{path}: {e}") from e

    def save(self, key: str, entry: Entry) -> None:
        """Write the entry atomically (a temporary file in the same directory, renamed)."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:8]}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(entry.to_json())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class CachingCollector:
    """A collector answering from a cache entry; it opens the real collector (``opener()``)
    only for requests the entry cannot answer, and adds each of its answers to the entry as
    a batch.

    By default the first :meth:`answer` hands out every batch at once (one evaluation round,
    where the image took several): :meth:`exact` then says whether every batch was asked
    for; if not (a rule asking for it was removed since), the inspection is done again with
    ``replay=True``, where a batch is handed out only when one of its requests is asked, so
    that the database holds the facts a fresh read would give. ``opened`` counts the real
    collectors opened (0 when the entry answered everything).
    """

    def __init__(self, entry: Entry, opener: Callable[[], Collector],
                 replay: bool = False) -> None:
        self.entry = entry
        self._opener = opener
        self._replay = replay
        self._real: Collector | None = None
        self._real_warnings = 0  # real collector warnings already copied
        self._given: set[int] = set()  # indexes of the batches handed out
        self._asked: set[Want] = set()
        self._stats = CollectorStats(warnings=list(entry.warnings))
        self.opened = 0
        self.dirty = False
        #: seconds spent in the real collector (launch included)
        self.collect_seconds = 0.0

    def _open(self) -> Collector:
        if self._real is None:
            started = time.monotonic()
            self._real = self._opener()
            self.opened += 1
            initial = self._real.initial_facts()
            if self.entry.initial is None:
                self.entry.initial = initial
                self.entry.warnings.extend(self._new_warnings())
                self._stats.warnings.extend(self.entry.warnings)
            elif initial != self.entry.initial:
                raise StaleEntry("the devices differ from the cache entry's")
            else:  # the same image read again: its first warnings are in the entry already
                self._new_warnings()
            self.collect_seconds += time.monotonic() - started
        return self._real

    def _new_warnings(self) -> list[str]:
        assert self._real is not None
        real = self._real.stats()
        new = real.warnings[self._real_warnings :]
        self._real_warnings = len(real.warnings)
        self._stats.guestfs_calls = real.guestfs_calls
        self._stats.launch_seconds = real.launch_seconds
        self._stats.seconds = real.seconds
        return new

    def initial_facts(self) -> FactSet:
        if self.entry.initial is None:
            self._open()
            self.dirty = True
        assert self.entry.initial is not None
        return {name: set(tuples) for name, tuples in self.entry.initial.items()}

    def _give(self, index: int, out: FactSet) -> None:
        if index not in self._given:
            self._given.add(index)
            batch = self.entry.batches[index]
            merge(out, batch.facts)
            self._stats.warnings.extend(batch.warnings)

    def answer(self, wants: FactSet) -> FactSet:
        asked = {(name, t) for name, tuples in wants.items() for t in tuples}
        self._asked |= asked
        out: FactSet = {}
        for i, batch in enumerate(self.entry.batches):
            if not self._replay or batch.wants & asked:
                self._give(i, out)
        missing = asked - self.entry.answered()
        if not missing:
            return out
        real = self._open()
        request: FactSet = {}
        for name, t in missing:
            request.setdefault(name, set()).add(t)
        started = time.monotonic()
        answers = real.answer(request)
        self.collect_seconds += time.monotonic() - started
        batch = Batch(missing, answers, self._new_warnings())
        self.entry.batches.append(batch)
        self._give(len(self.entry.batches) - 1, out)
        self.dirty = True
        return out

    def exact(self) -> bool:
        """Whether every batch handed out was asked for (the database is what a fresh read
        of the image gives)."""
        return all(self.entry.batches[i].wants & self._asked for i in self._given)

    def stats(self) -> CollectorStats:
        return self._stats

    def close(self) -> None:
        if self._real is not None:
            self._real.close()
            self._real = None
