"""Fact cache entries read back (fleet/cache.py ``Entry.from_json``): a file in the cache
directory is as hostile as a guest's bytes (it may be corrupt, cut short or planted). It may
raise only CacheError, and what it returns has only declared relations and typed tuples."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fuzz.targets import target
from guestinspect.datalog import Program
from guestinspect.fleet.cache import Batch, CacheError, Entry
from guestinspect.inspection.driver import load_program, run_snapshot

_SNAPSHOT = Path(__file__).resolve().parents[2] / "facts" / "debian"


@cache
def _program() -> Program:
    return load_program()


def _seeds() -> list[bytes]:
    base = run_snapshot(_program(), _SNAPSHOT).base
    initial = {name: set(base[name]) for name in ("Disk", "Partition", "Filesystem")
               if name in base}
    answered = {name: set(tuples) for name, tuples in base.items() if name not in initial}
    entry = Entry()
    entry.initial = initial
    entry.batches.append(Batch({("WantPath", ("/dev/debian/root", "/etc/fstab"))}, answered,
                               ["a warning"]))
    empty = Entry()
    empty.initial = {}
    return [entry.to_json().encode(), empty.to_json().encode()]


@target("fleet.cache_entry", _seeds, expected=(CacheError,))
def run(data: bytes) -> None:
    program = _program()
    try:
        entry = Entry.from_json(data.decode("utf-8", "surrogateescape"), program)
    except CacheError:
        return
    for facts in [entry.initial or {}, *(b.facts for b in entry.batches)]:
        for name, tuples in facts.items():
            kinds = program.kinds[name]  # a declared relation (KeyError is a finding)
            for t in tuples:
                assert len(t) == len(kinds)
                for v, kind in zip(t, kinds, strict=True):
                    assert isinstance(v, str) if kind == "symbol" else (
                        isinstance(v, int) and not isinstance(v, bool))
