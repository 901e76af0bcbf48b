"""Registry hives read in a child process: a crash of hivex costs one hive, not the inspection.

hivex is a C library fed the guest's bytes; on some damaged hives (especially in its unsafe
mode, the retry for damaged hives) it may read out of bounds and kill its process. So every
batch of keys of one hive (all the keys one round of the rules wants from it) is read by a
child, ``python -I collectors/hive_child.py`` (about 0.1 s to start), under limits:

- address space (``RLIMIT_AS``): what the interpreter already uses, plus twice the hive, plus
  :attr:`Limits.memory`;
- CPU time (``RLIMIT_CPU``), no core files (``RLIMIT_CORE``);
- wall time: the parent waits at most :attr:`Limits.seconds` (or what is left of the
  inspection's deadline) and then kills the child.

The child answers in JSON (never pickle: a child taken over by a hostile hive must not be able
to run code in the parent), at most :data:`MAX_ANSWER` bytes, and the parent checks every
tuple before taking it, as it checks the direct backend's child (backends/wire.py): its
relation, its columns as rules/facts.dl declares them, the hive's ``fs`` and path. A crash, a
timeout, a limit or a malformed answer gives ``HiveError(fs, hive, message)`` and no other
fact of that batch; the other hives and the rest of the inspection go on.
"""

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from guestinspect.collectors.backends import wire
from guestinspect.collectors.child_limits import FAULTS
from guestinspect.collectors.factset import FactSet

#: The facts a hive reader may answer (their columns: rules/facts.dl).
RELATIONS = ("RegistryKeyFound", "RegistryKeyMissing", "RegistrySubkey", "RegistryValue",
             "HiveError")
#: Largest answer taken from a child (bytes of JSON).
MAX_ANSWER = 256 << 20
_CHILD = Path(__file__).with_name("hive_child.py")


@dataclass(frozen=True)
class Limits:
    """What one child may use."""

    #: Wall-clock seconds before the child is killed.
    seconds: float = 120.0
    #: CPU seconds (``RLIMIT_CPU``).
    cpu_seconds: int = 60
    #: Bytes of address space on top of the interpreter's and twice the hive's size.
    memory: int = 512 << 20


DEFAULT_LIMITS = Limits()


class _NoAnswer(Exception):
    """The child gave no usable answer; the message says why."""


def _checked(data: bytes, fs: str, hive: str) -> FactSet:
    """The facts of a child's JSON answer (raises _NoAnswer if it is not well-formed)."""
    try:
        answer = wire.decode(data)
    except wire.WireError as e:
        raise _NoAnswer("the hive reader gave a malformed answer") from e
    if "error" in answer:
        raise _NoAnswer(f"the hive reader failed: {str(answer['error'])[:500]}")
    try:
        return wire.facts_in(answer, RELATIONS, (fs, hive), stray="a malformed {rel} fact")
    except wire.WireError as e:
        raise _NoAnswer(f"the hive reader gave {e}") from e


def died(returncode: int, limits: Limits, who: str = "the hive reader",
         lost: str = "nothing read from this hive") -> str:
    """Why a child (``who``) that exited gave no answer, in words (``lost``: what that cost,
    if it is to be said)."""
    if returncode < 0:
        sig = -returncode
        if sig == signal.SIGXCPU:
            return f"{who} used more than {limits.cpu_seconds}s of CPU and was killed"
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"{who} crashed ({name})" + (f"; {lost}" if lost else "")
    return f"{who} exited with status {returncode}" + (f"; {lost}" if lost else "")


def _collect(proc: "subprocess.Popen[bytes]", seconds: float) -> bytes:
    """The child's stdout until EOF, within ``seconds`` and MAX_ANSWER bytes."""
    assert proc.stdout is not None
    end = time.monotonic() + seconds
    chunks: list[bytes] = []
    size = 0
    fd = proc.stdout.fileno()
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise _NoAnswer(f"the hive reader took longer than {seconds:.0f}s and was killed")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_ANSWER:
            raise _NoAnswer(f"the hive reader's answer is larger than {MAX_ANSWER} bytes")
        chunks.append(chunk)


def read_keys_isolated(
    path: Path,
    fs: str,
    hive: str,
    keys: list[str],
    *,
    limits: Limits = DEFAULT_LIMITS,
    timeout: float | None = None,
    fault: str | None = None,
) -> FactSet:
    """What :func:`registry.read_keys` gives, read in a child process under ``limits``.

    Never raises for anything the hive does: a failure is a ``HiveError`` fact. ``timeout``
    (seconds, e.g. what is left of the inspection's deadline) shortens the wall-time limit;
    ``fault`` makes the child misbehave on purpose (tests only, one of FAULTS).
    """
    if fault is not None and fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}")
    seconds = limits.seconds if timeout is None else max(0.0, min(limits.seconds, timeout))
    request = json.dumps({
        "path": str(path), "fs": fs, "hive": hive, "keys": list(keys),
        "memory": limits.memory, "cpu_seconds": limits.cpu_seconds, "fault": fault,
    }).encode()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", str(_CHILD)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
    except OSError as e:
        return {"HiveError": {(fs, hive, f"cannot start the hive reader: {e.strerror or e}")}}
    assert proc.stdin is not None and proc.stdout is not None
    try:
        try:
            proc.stdin.write(request)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # it died at once: its exit status says why
        data = _collect(proc, seconds)
        try:
            proc.wait(5.0)
        except subprocess.TimeoutExpired as e:  # closed its stdout but went on
            raise _NoAnswer("the hive reader did not exit after answering") from e
        if proc.returncode != 0 and not data:
            raise _NoAnswer(died(proc.returncode, limits))
        return _checked(data, fs, hive)
    except _NoAnswer as e:
        return {"HiveError": {(fs, hive, str(e))}}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
