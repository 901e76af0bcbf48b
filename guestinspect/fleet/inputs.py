"""The guests of a fleet: from arguments, ``--from`` files (``-`` for stdin) and directories.

A guest is one disk image, or several joined with ``+`` (``a.img+b.img``: the disks of one
guest). A directory stands for every disk image under it, recursively, recognized by content
(:mod:`guestinspect.fleet.detect`); what cannot be read there (a symlink loop, a directory
without permission) is a warning. A URI (``nbd://…``) is passed on as it is.
"""

import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from guestinspect.errors import UsageError
from guestinspect.fleet.detect import DetectError, detect_file

#: A ``--from`` file may not be larger than this.
MAX_LIST_BYTES = 64 * 1024 * 1024
#: Directories deeper than this below a given one are not walked (a warning says so).
MAX_DEPTH = 64

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Guest:
    """One guest to inspect: its disks (paths or URIs), as given."""

    disks: tuple[str, ...]

    @property
    def name(self) -> str:
        """The guest as the inventory names it: its disks joined with ``+``."""
        return "+".join(self.disks)


@dataclass
class Gathered:
    guests: list[Guest] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def add(self, guest: Guest) -> None:
        if guest.name not in self._seen:
            self._seen.add(guest.name)
            self.guests.append(guest)


def is_uri(text: str) -> bool:
    return _URI.match(text) is not None


def _split(item: str) -> list[str]:
    """``a.img+b.img`` -> its disks (unless a file of that very name exists)."""
    if "+" not in item or is_uri(item) or os.path.lexists(item):
        return [item]
    return [part for part in item.split("+") if part]


def gather(items: Iterable[str], from_files: Iterable[str] = (),
           stdin: BinaryIO | None = None) -> Gathered:
    """Every guest the arguments and ``--from`` files name, in order, each once."""
    out = Gathered()
    for item in items:
        _item(item, out)
    for name in from_files:
        for line in read_list(name, stdin):
            _item(line, out)
    return out


def read_list(name: str, stdin: BinaryIO | None = None) -> list[str]:
    """The entries of a ``--from`` file: one guest per line; blank lines and lines starting
    with ``#`` are ignored."""
    try:
        if name == "-":
            if stdin is None:
                raise UsageError("--from -: no standard input")
            data = stdin.read(MAX_LIST_BYTES + 1)
        else:
            with open(name, "rb") as f:  # a pipe too: --from <(find …)
                data = f.read(MAX_LIST_BYTES + 1)
    except OSError as e:
        raise UsageError(f"--from {name}: {e.strerror}") from e
    if len(data) > MAX_LIST_BYTES:
        raise UsageError(f"--from {name}: larger than {MAX_LIST_BYTES // (1024 * 1024)} MiB")
    lines = []
    for raw in data.splitlines():
        line = os.fsdecode(raw.strip())
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def _item(item: str, out: Gathered) -> None:
    disks = _split(item)
    if len(disks) == 1 and not is_uri(item) and os.path.isdir(item):
        _walk(Path(item), out)
        return
    out.add(Guest(tuple(disks)))


def _walk(top: Path, out: Gathered) -> None:
    """Every disk image under ``top`` (symlinks followed, each directory once)."""
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, int]] = [(top, 0)]
    while stack:
        directory, depth = stack.pop()
        try:
            st = directory.stat()
        except OSError as e:
            out.warnings.append(f"{directory}: {e.strerror}")
            continue
        if (st.st_dev, st.st_ino) in seen:
            out.warnings.append(f"{directory}: a directory already walked (a symlink loop?); "
                                "skipped")
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            out.warnings.append(f"{directory}: {e.strerror}")
            continue
        subdirs: list[Path] = []
        for entry in entries:
            path = Path(entry.path)
            try:
                mode = os.stat(path).st_mode
            except OSError as e:
                out.warnings.append(f"{path}: {e.strerror}")
                continue
            if stat.S_ISDIR(mode):
                if depth + 1 > MAX_DEPTH:
                    out.warnings.append(f"{path}: deeper than {MAX_DEPTH} directories; skipped")
                else:
                    subdirs.append(path)
            elif stat.S_ISREG(mode):
                try:
                    if detect_file(path) is not None:
                        out.add(Guest((str(path),)))
                except DetectError as e:
                    out.warnings.append(str(e))
        stack.extend((d, depth + 1) for d in reversed(subdirs))
