"""What ``guestinspect mount`` mounts, decided before anything is mounted: the operating
system, its filesystems in mount order, the local mountpoint and the FUSE options.

The mountpoints are the inspection's (the rules' ``Mountpoint``): guest text, so a path that
is not a plain absolute path is skipped with a warning rather than handed to the appliance.
"""

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from guestinspect.errors import UsageError
from guestinspect.inspection.results import Inspection

#: FUSE options refused: the mount is read-only, and a guest's device nodes and setuid files
#: must not act on the host (FUSE mounts are ``nodev,nosuid`` unless told otherwise).
REFUSED_OPTIONS = {
    "rw": "the mount is always read-only",
    "dev": "the guest's device nodes are never usable on the host",
    "suid": "the guest's setuid files are never setuid on the host",
}


def _printable(text: str) -> str:
    """``text`` for a one-line message: control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def choose_root(inspections: Sequence[Inspection], root: str | None) -> Inspection:
    """The operating system to mount: the only one, or the one ``--root`` names."""
    roots = [os_["root"] for os_ in inspections]
    if not roots:
        raise UsageError("no operating system was found on the disks: nothing to mount")
    if root is None:
        if len(roots) == 1:
            return inspections[0]
        raise UsageError(
            f"the disks hold {len(roots)} operating systems ({', '.join(roots)}): "
            "choose one with --root ROOT"
        )
    for os_ in inspections:
        if os_["root"] == root:
            return os_
    raise UsageError(
        f"--root {_printable(root)}: not an operating system of the disks "
        f"(roots: {', '.join(roots)})"
    )


def guest_path(path: str) -> str | None:
    """``path`` normalized (``//usr/./`` is ``/usr``), or None unless it is absolute, free of
    ``..`` and of control characters."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not path.startswith("/") or ".." in parts or not path.isprintable():
        return None
    return "/" + "/".join(parts)


def mount_order(inspection: Inspection) -> tuple[list[tuple[str, str]], list[str]]:
    """``(guest path, filesystem)`` pairs to mount, parents before children (``/`` first, then
    ``/boot`` … ``/var/lib/x`` after ``/var``), and warnings for mountpoints left out."""
    root = inspection["root"]
    mounts: dict[str, str] = {}
    warnings: list[str] = []
    for m in inspection.get("mountpoints", []):
        path = guest_path(m["path"])
        if path is None:
            warnings.append(f"{m['dev']}: mountpoint {_printable(m['path'])!r} is not a plain "
                            "absolute path: not mounted")
        elif path in mounts:
            warnings.append(f"{m['dev']}: {path} is already {mounts[path]}'s: not mounted")
        else:
            mounts[path] = m["dev"]
    if "/" not in mounts:
        raise UsageError(f"{root}: the inspection found no filesystem for / (nothing to mount)")
    order = sorted(mounts.items(), key=lambda pd: (pd[0].count("/") if pd[0] != "/" else 0,
                                                    pd[0]))
    return order, warnings


def check_mountpoint(path: Path) -> Path:
    """``path`` if it is an existing empty directory (guestmount's rule); else UsageError."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UsageError(f"{path}: no such directory (the mountpoint must exist)") from None
    except OSError as e:
        raise UsageError(f"{path}: {e.strerror}") from None
    if not stat.S_ISDIR(mode):
        raise UsageError(f"{path}: not a directory")
    try:
        with os.scandir(path) as entries:
            if next(entries, None) is not None:
                raise UsageError(f"{path}: not empty (the mountpoint must be an empty directory)")
    except OSError as e:
        raise UsageError(f"{path}: {e.strerror}") from None
    return path


def fuse_options(options: Sequence[str]) -> str | None:
    """The ``-o`` options as one comma-separated string for FUSE (None if there are none)."""
    out: list[str] = []
    for group in options:
        for option in group.split(","):
            option = option.strip()
            if not option:
                continue
            if not option.isprintable():
                raise UsageError(f"-o {_printable(option)}: control characters in an option")
            name = option.split("=", 1)[0]
            if name in REFUSED_OPTIONS:
                raise UsageError(f"-o {option}: refused: {REFUSED_OPTIONS[name]}")
            out.append(option)
    return ",".join(out) or None
