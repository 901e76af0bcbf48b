"""NTFS reparse points as ntfs-3g (the appliance's NTFS driver) shows them.

ntfs-3g shows every reparse point as a symlink. A symbolic link (``IO_REPARSE_TAG_SYMLINK``)
with a relative target reads as that path with ``/``; one with an absolute target
``\\??\\X:\\path`` as ``<mount point>/.NTFS-3G/X:/path``. A junction
(``IO_REPARSE_TAG_MOUNT_POINT``) to ``\\??\\X:\\path`` reads as ``<mount point>/path`` when that
path exists on the volume (each component as stored), else (assumed) as the ``.NTFS-3G`` form.
Any other tag (a WOF-compressed file, deduplication, a cloud placeholder) reads as
``unsupported reparse tag 0x<tag>`` (ntfs-3g's text when no plugin reads it). The symlinks and
the junctions were checked against the appliance (docs/architecture.md). The mount point is
the appliance's (``/fs/<n>``) when the backend names it, else empty: the targets are then
paths within the volume (``/Users``), which the resolver follows.
"""

from collections.abc import Callable

SYMLINK = 0xA000000C
MOUNT_POINT = 0xA0000003
_NT_PREFIX = "\\??\\"


def _drive_path(substitute: str) -> tuple[str, str] | None:
    """(drive, path with '/') of ``\\??\\X:\\path``; None for anything else."""
    if not substitute.startswith(_NT_PREFIX):
        return None
    rest = substitute[len(_NT_PREFIX):]
    if len(rest) < 2 or rest[1] != ":" or not rest[0].isalpha():
        return None
    return rest[0], rest[2:].replace("\\", "/").strip("/")


def link_target(tag: int, substitute: str, mount_point: str,
                stored_path: Callable[[str], str | None]) -> str:
    """What ntfs-3g's readlink gives for a reparse point; ``stored_path`` finds a path of
    this volume without regard to case and gives it as stored (None if there is none)."""
    if tag not in (SYMLINK, MOUNT_POINT):
        return f"unsupported reparse tag 0x{tag:08x}"
    drive_path = _drive_path(substitute)
    if drive_path is None:
        if tag == SYMLINK and not substitute.startswith("\\"):
            return substitute.replace("\\", "/")
        return f"unsupported reparse tag 0x{tag:08x}"
    drive, path = drive_path
    if tag == MOUNT_POINT:
        found = stored_path("/" + path)
        if found is not None:
            return mount_point + found if found != "/" else mount_point + "/"
    return f"{mount_point}/.NTFS-3G/{drive}:/{path}" if path else \
        f"{mount_point}/.NTFS-3G/{drive}:"
