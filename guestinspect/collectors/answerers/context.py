"""What the answerers need of a backend: its mounted filesystems and a few services."""

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from guestinspect.collectors.deadline import NO_DEADLINE, Deadline
from guestinspect.collectors.factset import FactSet
from guestinspect.collectors.resolver import GuestFilesystem
from guestinspect.collectors.view import Warn


@contextmanager
def no_phase(name: str) -> Iterator[None]:
    """A phase that counts nothing (a backend without per-phase figures)."""
    yield


def one_line(e: BaseException) -> str:
    """The first line of an error's message (a warning is one line)."""
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


@dataclass
class AnswerContext:
    """One backend's state for answering, kept across the rounds of an inspection."""

    #: filesystem name -> the mounted (readable) filesystem
    filesystems: Mapping[str, GuestFilesystem]
    #: a warning sink (one line each)
    warn: Warn
    #: a private temporary directory (hives and package databases are copied there)
    tmp: Path
    deadline: Deadline = NO_DEADLINE
    #: ``with ctx.phase("paths"):`` counts what runs inside under that phase (``-v``)
    phase: Callable[[str], AbstractContextManager[None]] = no_phase
    #: (filesystem, hive path) -> its local copy, or why there is none (copied once)
    hives: dict[tuple[str, str], Path | str] = field(default_factory=dict)
    #: filesystems already warned about as requested but not mounted
    unmounted: set[str] = field(default_factory=set)
    #: reads keys of a local hive copy: (hive file, fs, hive path, keys) -> facts; None:
    #: hivex in a child process under the deadline (collectors/isolate.py). The rule tests'
    #: fakes read their own well-formed hives in-process (registry.read_keys), faster.
    read_hive: Callable[[Path, str, str, list[str]], FactSet] | None = None
