"""The guest filesystem view: what the answerers need of one guest filesystem, whoever reads
it (the appliance, the direct backend, an in-memory tree in tests).

A view never follows a symlink: every path it is given is absolute, and every component but
the last names a real directory (the caller, :mod:`guestinspect.collectors.resolver`, resolves
symlinks within the filesystem, as the guest would). A read the backend cannot do raises
:class:`ReadError` (a ``RuntimeError``, so the collectors' ``except RuntimeError`` still holds),
whose message is one line for a warning.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Stat:
    kind: str  # file, dir, symlink, other (or missing: MISSING)
    size: int


MISSING = Stat("missing", 0)

#: A warning sink: one line, the filesystem's name and path already in it.
Warn = Callable[[str], None]


def is_utf8(name: bytes) -> bool:
    """Whether a name read from a directory is UTF-8 (else it is listed decoded with
    replacement, kind ``other``, with the warning :func:`not_utf8`)."""
    try:
        name.decode()
        return True
    except UnicodeDecodeError:
        return False


def not_utf8(where: str, name: str) -> str:
    """The warning about a name that is not UTF-8 (``name`` decoded with replacement) in the
    directory ``where`` (the filesystem's name and path)."""
    return f"{where}: file name is not UTF-8: {name!r}"


class ReadError(RuntimeError):
    """A read of the guest filesystem failed (damaged, unsupported, cut short)."""


class FsView(Protocol):
    """One guest filesystem, read-only."""

    def lstat_names(self, directory: str, names: Sequence[str]) -> list[Stat]:
        """lstat of each of ``names`` in the real directory ``directory`` (MISSING for one
        that does not exist), in order."""
        ...

    def readlinks(self, directory: str, names: Sequence[str]) -> list[str | None]:
        """The target of each symlink ``names`` of ``directory`` (None if unreadable)."""
        ...

    def listdir(self, directory: str) -> dict[str, str]:
        """name -> kind (file, dir, symlink, other) of each entry of a real directory, ``.``
        and ``..`` left out. A name that is not UTF-8 is given decoded with replacement and
        kind ``other``, with a warning."""
        ...

    def read(self, path: str, offset: int, size: int) -> bytes:
        """At most ``size`` bytes of the regular file ``path`` from ``offset``."""
        ...

    def copy_out(self, path: str, local: Path, limit: int) -> None:
        """Write the first ``limit`` bytes (or all, if shorter) of the regular file ``path``
        to the local file ``local``."""
        ...

    def file_architecture(self, path: str) -> str | None:
        """The architecture of a binary that :func:`binaries.binary_arch` could not tell, if
        this backend has a way (the appliance's ``file_architecture``); None otherwise."""
        ...
