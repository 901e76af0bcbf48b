"""A collector for rule tests: filesystems described by an in-memory dict, no appliance, read
by the real answerers and parsers (guestinspect.collectors.answerers) over the memory
backend (guestinspect.collectors.backends.memory).

``files`` maps ``(fs, path)`` to the file's contents (``str`` text or ``bytes``), ``None`` (a
directory) or ``("symlink", target)``. Parent directories are implied. Package databases are
real database files (a dpkg status text, pacman ``desc`` files, an rpmdb.sqlite …): see
:func:`dpkg_status`. ``FakeCollector(files, facts)`` answers every Want… request as the image
collector does, so tests run the shipped rules and the real driver loop. ``facts`` are the
initial facts (Filesystem, Mounted, FsLabel, LvmLv, …); by default every filesystem that has
files is an ``ext4`` one, mounted.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path

from guestinspect.collectors.answerers import AnswerContext, answer
from guestinspect.collectors.backends.memory import MemoryView
from guestinspect.collectors.backends.memory import Node as Node
from guestinspect.collectors.base import CollectorStats, Fact, FactSet
from guestinspect.collectors.resolver import GuestFilesystem

Files = Mapping[tuple[str, str], Node]
#: One package database record: field name -> value.
Record = Mapping[str, str]


class FakeCollector:
    """Answers Want… requests from ``files``; ``arch`` maps ``(fs, path)`` of a binary to its
    architecture (what the appliance's ``file_architecture`` would say of it)."""

    def __init__(
        self,
        files: Files,
        facts: FactSet | None = None,
        arch: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        self.files = dict(files)
        self.facts = facts if facts is not None else default_facts(files)
        mounted = {str(t[0]) for t in self.facts.get("Mounted", ())}
        by_fs: dict[str, dict[str, Node]] = {fs: {} for fs in mounted}
        for (fs, path), node in files.items():
            by_fs.setdefault(fs, {})[path] = node
        binaries: dict[str, dict[str, str]] = {}
        for (fs, path), name in (arch or {}).items():
            binaries.setdefault(fs, {})[path] = name
        self.asked: list[FactSet] = []
        self._stats = CollectorStats()
        self._tmp = Path(tempfile.mkdtemp(prefix="guestinspect-fake-"))
        self._ctx = AnswerContext(
            {fs: GuestFilesystem(fs, MemoryView(nodes, binaries.get(fs)))
             for fs, nodes in by_fs.items()},
            self._stats.warnings.append, self._tmp)
        weakref.finalize(self, shutil.rmtree, self._tmp, True)

    # ---- the collector protocol ----------------------------------------------------------
    def initial_facts(self) -> FactSet:
        return {name: set(tuples) for name, tuples in self.facts.items()}

    def answer(self, wants: FactSet) -> FactSet:
        self.asked.append(wants)
        return answer(self._ctx, wants)

    def stats(self) -> CollectorStats:
        return self._stats

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


def default_facts(files: Files, vfs: str = "ext4") -> FactSet:
    """Every filesystem named in ``files`` is a mounted ``vfs`` filesystem."""
    filesystems = {fs for fs, _ in files}
    return {
        "Filesystem": {(fs, vfs) for fs in filesystems},
        "Mounted": {(fs,) for fs in filesystems},
    }


def dpkg_status(records: Iterable[Record]) -> str:
    """A dpkg status file of ``records`` (field -> value; a value's further lines are
    continuation lines, written as they are)."""
    return "".join(
        "".join(f"{name}: {value}\n" for name, value in record.items()) + "\n"
        for record in records
    )


def t(*items: Fact) -> set[Fact]:
    """A set of tuples (shorthand for tests)."""
    return set(items)


__all__ = ["FakeCollector", "Files", "Node", "default_facts", "dpkg_status"]
