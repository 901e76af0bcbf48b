"""Unmounting a FUSE mount with ``fusermount -u``, retrying while it is busy (as
``guestunmount`` does), and finding out whether a directory is a FUSE mount at all."""

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from guestinspect.errors import UnmountError

#: Exit codes of ``guestinspect umount``, guestunmount's: could not unmount, not mounted.
EXIT_BUSY = 2
EXIT_NOT_MOUNTED = 3


def _unescape(field: str) -> str:
    """A path field of /proc/self/mountinfo (space, tab, newline, backslash are ``\\ooo``)."""
    out, i = [], 0
    while i < len(field):
        code = field[i + 1 : i + 4]
        if field[i] == "\\" and len(code) == 3 and all(c in "01234567" for c in code):
            out.append(chr(int(code, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mount_type(path: Path) -> str | None:
    """The filesystem type mounted on ``path`` (``fuse``, ``ext4`` …), None if it is not a
    mountpoint. A dead FUSE mount (its process gone) is still one."""
    target = os.path.realpath(path)  # does not fail on a dead FUSE mount
    found = None
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            fields = line.split()
            if "-" not in fields[6:]:
                continue
            sep = fields.index("-", 6)
            if len(fields) > sep + 1 and _unescape(fields[4]) == target:
                found = fields[sep + 1]  # the last one listed is the one on top
    return found


def is_fuse(fstype: str | None) -> bool:
    return fstype is not None and (fstype == "fuse" or fstype.startswith("fuse."))


def _fusermount() -> str:
    for name in ("fusermount", "fusermount3"):
        found = shutil.which(name)
        if found:
            return found
    raise UnmountError("fusermount was not found on PATH (install the fuse3 package)")


def fusermount(path: Path, lazy: bool = False) -> tuple[bool, str]:
    """Run ``fusermount -u`` (``-z``: lazily) once: whether it worked, and why not (its
    error line without the program's name, ``Device or resource busy`` for the usual one)."""
    program = _fusermount()
    cmd = [program, "-u", *(["-z"] if lazy else []), "--", str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    error = lines[-1] if lines else f"exit status {proc.returncode}"
    error = error.removeprefix(f"{program}: ").removeprefix(f"failed to unmount {path}: ")
    return proc.returncode == 0, error


def unmount(
    path: Path,
    retries: int = 5,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[str], None] | None = None,
) -> None:
    """Unmount the FUSE mount on ``path``: up to ``retries`` retries while it fails (busy),
    after 1, 2, 4 … seconds. UnmountError (exit status 3) if ``path`` is not mounted, 1 if it
    is not a FUSE mount, 2 if it is still mounted after the retries."""
    fstype = mount_type(path)
    if fstype is None:
        raise UnmountError(f"{path}: not mounted", EXIT_NOT_MOUNTED)
    if not is_fuse(fstype):
        raise UnmountError(f"{path}: not a FUSE mount ({fstype}): guestinspect umount only "
                           "unmounts what guestinspect mount (or another FUSE program) mounted")
    delay = 1.0
    for attempt in range(retries + 1):
        ok, error = fusermount(path)
        if ok or not is_fuse(mount_type(path)):
            return
        if attempt == retries:
            break
        if on_retry is not None:
            on_retry(f"{path}: {error}; retrying in {delay:.0f}s")
        sleep(delay)
        delay *= 2
    raise UnmountError(f"{path}: cannot unmount: {error}", EXIT_BUSY)
