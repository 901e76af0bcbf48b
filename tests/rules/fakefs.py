"""A collector for rule tests: filesystems described by an in-memory dict, no appliance.

``files`` maps ``(fs, path)`` to the file's text (a regular file), ``None`` (a directory) or
``("symlink", target)``. Parent directories are implied. ``FakeCollector(files, facts)``
answers every Want… request the way docs/facts.md says (intermediate symlinks are followed
as the kernel would, the last component is not, except for ``WantArch``), so tests run the
shipped rules and the real driver loop. ``facts`` are the initial facts (Filesystem, Mounted,
FsLabel, LvmLv, …); by default every filesystem that has files is an ``ext4`` one, mounted.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence

from guestinspect.collectors.base import CollectorStats, Fact, FactSet, merge

Node = str | None | tuple[str, str]
Files = Mapping[tuple[str, str], Node]
#: One package database record: field name -> value.
Record = Mapping[str, str]

#: Content longer than this is truncated (as the real collector does).
READ_LIMIT = 1024 * 1024


class FakeCollector:
    """Answers Want… requests from ``files``; ``arch`` maps ``(fs, path)`` of a binary to its
    architecture; ``packages`` maps ``(fs, kind)`` to the records of that package database."""

    def __init__(
        self,
        files: Files,
        facts: FactSet | None = None,
        arch: Mapping[tuple[str, str], str] | None = None,
        packages: Mapping[tuple[str, str], Sequence[Record]] | None = None,
    ) -> None:
        self.nodes: dict[tuple[str, str], Node] = {}
        for (fs, path), node in files.items():
            self.nodes[(fs, path)] = node
            parent = posixpath.dirname(path)
            while (fs, parent) not in self.nodes:
                self.nodes[(fs, parent)] = None
                parent = posixpath.dirname(parent)
        for fs in {fs for fs, _ in files}:
            self.nodes[(fs, "/")] = None
        self.facts = facts if facts is not None else default_facts(files)
        self.arch = dict(arch or {})
        self.packages = dict(packages or {})
        self.asked: list[FactSet] = []
        self._stats = CollectorStats()

    # ---- the collector protocol ----------------------------------------------------------
    def initial_facts(self) -> FactSet:
        return {name: set(tuples) for name, tuples in self.facts.items()}

    def answer(self, wants: FactSet) -> FactSet:
        self.asked.append(wants)
        out: FactSet = {}
        for fs, path in wants.get("WantPath", set()):
            merge(out, self._stat(str(fs), str(path)))
        for fs, path in wants.get("WantContent", set()):
            merge(out, self._stat(str(fs), str(path), read=True))
        for fs, path in wants.get("WantDir", set()):
            merge(out, self._list(str(fs), str(path)))
        for fs, path in wants.get("WantArch", set()):
            merge(out, self._arch(str(fs), str(path)))
        for fs, kind, path in wants.get("WantPackages", set()):
            merge(out, self._packages(str(fs), str(kind), str(path)))
        return out

    def stats(self) -> CollectorStats:
        return self._stats

    def close(self) -> None:
        pass

    # ---- helpers -------------------------------------------------------------------------
    def _resolve(self, fs: str, path: str, follow_last: bool) -> str | None:
        """The real path of ``path`` (intermediate symlinks followed), or None if absent."""
        parts = [p for p in path.split("/") if p]
        current = "/"
        hops = 0
        while parts:
            part = parts.pop(0)
            if part in (".", ".."):
                current = posixpath.dirname(current) if part == ".." else current
                continue
            nxt = posixpath.join(current, part)
            node = self.nodes.get((fs, nxt), "<missing>")
            if node == "<missing>":
                return None
            if isinstance(node, tuple) and (parts or follow_last):
                hops += 1
                if hops > 40:
                    return None
                target = node[1]
                parts = [p for p in target.split("/") if p] + parts
                if target.startswith("/"):
                    current = "/"
                continue
            current = nxt
        return posixpath.normpath(current)

    def _entry(self, fs: str, asked: str, real: str) -> FactSet:
        node = self.nodes[(fs, real)]
        out: FactSet = {}
        if isinstance(node, tuple):
            out["Entry"] = {(fs, asked, "symlink")}
            out["Symlink"] = {(fs, asked, node[1])}
        elif node is None:
            out["Entry"] = {(fs, asked, "dir")}
        else:
            out["Entry"] = {(fs, asked, "file")}
            out["FileSize"] = {(fs, asked, len(node.encode()))}
        return out

    def _stat(self, fs: str, path: str, read: bool = False) -> FactSet:
        real = self._resolve(fs, path, follow_last=False)
        if real is None:
            return {"Missing": {(fs, path)}}
        out = self._entry(fs, path, real)
        node = self.nodes[(fs, real)]
        if read and isinstance(node, str):
            out["Content"] = {(fs, path, node[:READ_LIMIT])}
            if len(node) > READ_LIMIT:
                out["ContentTruncated"] = {(fs, path)}
        return out

    def _list(self, fs: str, path: str) -> FactSet:
        real = self._resolve(fs, path, follow_last=True)
        if real is None or self.nodes[(fs, real)] is not None:
            return {"Missing": {(fs, path)}}
        out: FactSet = {"Listed": {(fs, path)}}
        for (f, p) in list(self.nodes):
            if f == fs and p != "/" and posixpath.dirname(p) == real:
                child = posixpath.join(path, posixpath.basename(p))
                merge(out, self._entry(fs, child, p))
        return out

    def _arch(self, fs: str, path: str) -> FactSet:
        real = self._resolve(fs, path, follow_last=True)
        if real is None or (fs, real) not in self.arch:
            return {"Missing": {(fs, path)}}
        return {"BinaryArch": {(fs, path, self.arch[(fs, real)])}}

    def _packages(self, fs: str, kind: str, path: str) -> FactSet:
        records = self.packages.get((fs, kind))
        if records is None:
            return {"PackageDbError": {(fs, kind, path, "no such database")}}
        rows: set[Fact] = set()
        for n, record in enumerate(records):
            for name, value in record.items():
                rows.add((fs, kind, str(n), name, value))
        return {"PackageField": rows}


def default_facts(files: Files, vfs: str = "ext4") -> FactSet:
    """Every filesystem named in ``files`` is a mounted ``vfs`` filesystem."""
    filesystems = {fs for fs, _ in files}
    return {
        "Filesystem": {(fs, vfs) for fs in filesystems},
        "Mounted": {(fs,) for fs in filesystems},
    }


def parse_dpkg_status(text: str) -> list[dict[str, str]]:
    """The records of a dpkg status file, as the collectors report them (field names
    lowercased, continuation lines kept with their leading space, joined by newlines)."""
    records: list[dict[str, str]] = []
    record: dict[str, str] = {}
    last = ""
    for line in text.split("\n"):
        if not line.strip():
            if record:
                records.append(record)
            record, last = {}, ""
        elif line[0] in " \t" and last:
            record[last] += "\n" + line
        elif ":" in line:
            key, value = line.split(":", 1)
            last = key.strip().lower()
            record[last] = value.strip()
    if record:
        records.append(record)
    return records


def parse_pacman_desc(text: str) -> dict[str, str]:
    """One pacman ``desc`` file as a record (``%NAME%`` -> ``name``)."""
    record: dict[str, str] = {}
    key = ""
    for line in text.split("\n"):
        if line.startswith("%") and line.endswith("%"):
            key = line.strip("%").lower()
        elif key and line:
            record[key] = line if key not in record else record[key] + "\n" + line
    return record


def t(*items: Fact) -> set[Fact]:
    """A set of tuples (shorthand for tests)."""
    return set(items)


__all__ = ["FakeCollector", "Files", "default_facts", "parse_dpkg_status", "parse_pacman_desc"]
