"""A collector for rule tests: disks, partitions and filesystems described in memory, registry
hives that are real hive files.

The real answerers (guestinspect.collectors.answerers) answer every Want… request over the
memory backend, as the image collector does (hives read by hivex in a child process); it
records what was asked, so that tests run the shipped rules and the driver loop without an
appliance.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from guestinspect.collectors import registry
from guestinspect.collectors.answerers import AnswerContext, answer
from guestinspect.collectors.backends.memory import MemoryView, Node
from guestinspect.collectors.base import CollectorStats, FactSet, merge
from guestinspect.collectors.resolver import GuestFilesystem


def pe_executable(machine: int) -> bytes:
    """The headers of a PE file for ``machine`` (enough for :func:`binaries.pe_arch`)."""
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

    def nodes(self) -> dict[str, Node]:
        """path -> node of the memory backend: the files, the hives' bytes, the directories."""
        out: dict[str, Node] = {d: None for d in self.dirs}
        out.update(self.files)
        out.update((path, local.read_bytes()) for path, local in self.hives.items())
        return out


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
        self._tmp = Path(tempfile.mkdtemp(prefix="guestinspect-fakereg-"))
        weakref.finalize(self, shutil.rmtree, self._tmp, True)
        mounted = {fs: GuestFilesystem(fs, MemoryView(f.nodes()))
                   for fs, f in filesystems.items() if f.mounted}
        # hivex in-process: the tests' hives are well-formed (a child per hive costs seconds)
        self._ctx = AnswerContext(mounted, self._stats.warnings.append, self._tmp,
                                  read_hive=registry.read_keys)

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
        return answer(self._ctx, wants)

    def stats(self) -> CollectorStats:
        return self._stats

    def close(self) -> None:
        pass
