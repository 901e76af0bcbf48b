"""A collector for rule tests: disks, partitions and filesystems described in memory, registry
hives that are real hive files read with hivex (guestinspect.collectors.registry).

It answers every Want… request the way docs/facts.md says, and records what was asked, so
that tests run the shipped rules and the driver loop without an appliance.
"""

from __future__ import annotations

import base64
import posixpath
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from guestinspect.collectors import registry
from guestinspect.collectors.base import CollectorStats, Fact, FactSet, merge
from guestinspect.collectors.resources import pe_resource

#: PE Machine field -> architecture (as the appliance names it).
PE_MACHINES = {0x014C: "i386", 0x8664: "x86_64", 0xAA64: "aarch64"}


def pe_arch(data: bytes) -> str | None:
    """The architecture of a PE executable's COFF header (None if it is not one)."""
    if len(data) < 0x40 or data[:2] != b"MZ":
        return None
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if len(data) < pe + 6 or data[pe : pe + 4] != b"PE\0\0":
        return None
    machine: int = struct.unpack_from("<H", data, pe + 4)[0]
    return PE_MACHINES.get(machine)


def pe_executable(machine: int) -> bytes:
    """The headers of a PE file for ``machine`` (enough for :func:`pe_arch`)."""
    head = bytearray(0x200)
    head[0:2] = b"MZ"
    struct.pack_into("<I", head, 0x3C, 0x40)
    head[0x40:0x44] = b"PE\0\0"
    struct.pack_into("<H", head, 0x44, machine)
    return bytes(head)


@dataclass
class FakeFs:
    """One mountable filesystem: files (path -> bytes), extra directories, hives.

    ``hives`` maps a file's path in the filesystem to a local hive file; the file is listed
    with that hive's size and registry requests for it are answered from it with hivex.
    """

    vfs: str = "ntfs"
    files: dict[str, bytes] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)
    hives: dict[str, Path] = field(default_factory=dict)
    uuid: str | None = None
    label: str | None = None
    mounted: bool = True

    def kinds(self) -> dict[str, str]:
        """path -> ``file`` or ``dir`` for everything in the filesystem."""
        out: dict[str, str] = {"/": "dir"}
        for path in [*self.files, *self.hives]:
            out[path] = "file"
        for path in [*self.files, *self.hives, *self.dirs]:
            if path in self.dirs:
                out[path] = "dir"
            parent = posixpath.dirname(path)
            while parent not in out or out[parent] != "dir":
                out[parent] = "dir"
                parent = posixpath.dirname(parent)
        return out

    def size(self, path: str) -> int:
        if path in self.hives:
            return self.hives[path].stat().st_size
        return len(self.files[path])

    def data(self, path: str) -> bytes:
        if path in self.hives:
            return self.hives[path].read_bytes()
        return self.files[path]


@dataclass
class FakeDisk:
    """A whole disk with its partitions: (number, start in bytes, size in bytes, filesystem
    device name or None); ``sig`` is the MBR signature (4 bytes), ``guids`` the GPT unique
    partition GUIDs by partition number."""

    dev: str
    table: str = "msdos"
    sig: bytes | None = None
    parts: list[tuple[int, int, int]] = field(default_factory=list)
    guids: dict[int, str] = field(default_factory=dict)
    size: int = 1 << 30


class FakeGuest:
    """The collector (guestinspect.collectors.base.Collector) over in-memory disks."""

    def __init__(self, disks: Iterable[FakeDisk], filesystems: dict[str, FakeFs]) -> None:
        self.disks = list(disks)
        self.filesystems = filesystems
        self.asked: FactSet = {}
        self._stats = CollectorStats()
        self._kinds = {fs: f.kinds() for fs, f in filesystems.items()}

    # ---- the Collector protocol ----

    def initial_facts(self) -> FactSet:
        facts: FactSet = {}

        def add(rel: str, *cols: str | int) -> None:
            facts.setdefault(rel, set()).add(tuple(cols))

        for index, d in enumerate(self.disks):
            add("Disk", d.dev, index, d.size)
            add("PartitionTable", d.dev, d.table)
            if d.sig is not None:
                add("MbrSignature", d.dev, d.sig.hex())
            for num, start, size in d.parts:
                part = f"{d.dev}{num}"
                add("Partition", part, d.dev, num, start, size)
                if num in d.guids:
                    add("PartitionGptGuid", part, d.guids[num].upper())
        for fs, f in self.filesystems.items():
            add("Filesystem", fs, f.vfs)
            if f.uuid is not None:
                add("FsUuid", fs, f.uuid)
            if f.label is not None:
                add("FsLabel", fs, f.label)
            if f.mounted:
                add("Mounted", fs)
        return facts

    def answer(self, wants: FactSet) -> FactSet:
        merge(self.asked, wants)
        facts: FactSet = {}
        for rel, tuples in wants.items():
            if rel == "WantRegistryKey":  # each hive opened once, as the image collector does
                merge(facts, self._registry_keys(tuples))
                continue
            for t in tuples:
                merge(facts, self._answer(rel, t))
        return facts

    def _registry_keys(self, wants: Iterable[Fact]) -> FactSet:
        by_hive: dict[tuple[str, str], list[str]] = {}
        for t in wants:
            by_hive.setdefault((str(t[0]), str(t[1])), []).append(str(t[2]))
        facts: FactSet = {}
        for (fs, hive), keys in sorted(by_hive.items()):
            f = self.filesystems.get(fs)
            if f is None or not f.mounted:
                continue
            local = f.hives.get(hive)
            if local is None:
                merge(facts, {"HiveError": {(fs, hive, "not a registry hive")}})
            else:
                merge(facts, registry.read_keys(local, fs, hive, sorted(keys)))
        return facts

    def stats(self) -> CollectorStats:
        return self._stats

    def close(self) -> None:
        pass

    # ---- answers ----

    def _answer(self, rel: str, t: Fact) -> FactSet:
        fs, path = str(t[0]), str(t[1])
        f = self.filesystems.get(fs)
        if f is None or not f.mounted:
            return {}
        kinds = self._kinds[fs]
        if rel == "WantPackages":
            return {"PackageDbError": {(fs, path, str(t[2]), "not in this fake guest")}}
        if path not in kinds:
            return {"Missing": {(fs, path)}}
        facts: FactSet = {"Entry": {(fs, path, kinds[path])}}
        if kinds[path] == "file":
            facts["FileSize"] = {(fs, path, f.size(path))}
        if rel == "WantContent" and kinds[path] == "file":
            text = f.data(path).decode("utf-8", "replace")
            facts["Content"] = {(fs, path, text)}
        elif rel == "WantDir":
            if kinds[path] != "dir":
                return {"Missing": {(fs, path)}}
            self._listing(fs, path, facts)
        elif rel == "WantArch":
            arch = pe_arch(f.data(path)) if kinds[path] == "file" else None
            if arch is None:
                return {"Missing": {(fs, path)}}
            facts["BinaryArch"] = {(fs, path, arch)}
        elif rel == "WantBlob" and kinds[path] == "file":
            facts["Blob"] = {(fs, path, base64.b64encode(f.data(path)).decode())}
        elif rel == "WantPeResource" and kinds[path] == "file":
            data = f.data(path)
            try:
                found = pe_resource(lambda at, n: data[at : at + n], int(t[2]), int(t[3]))
            except ValueError:
                found = None
            if found is not None:
                facts["PeResource"] = {(*t, base64.b64encode(found).decode())}
        return facts

    def _listing(self, fs: str, path: str, facts: FactSet) -> None:
        """The entries (and file sizes) of the directory ``path``, and that it was listed."""
        f = self.filesystems[fs]
        for child, kind in self._kinds[fs].items():
            if child != "/" and posixpath.dirname(child) == path:
                facts["Entry"].add((fs, child, kind))
                if kind == "file":
                    facts.setdefault("FileSize", set()).add((fs, child, f.size(child)))
        facts["Listed"] = {(fs, path)}
