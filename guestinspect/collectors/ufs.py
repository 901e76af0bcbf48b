"""Which UFS a filesystem is, from its superblock, to mount it with Linux's `ufstype=`.

Linux cannot tell UFS variants apart by itself: without `ufstype` it assumes the old SunOS
layout and refuses (or misreads) what the BSDs write. The superblock's magic number tells UFS1
from UFS2; both are read at their standard places (docs/security.md: a bounded, fixed read).
"""

from __future__ import annotations

from collections.abc import Callable

#: (offset of the superblock, its magic number, Linux's ufstype for it), most likely first.
#: UFS2 keeps its superblock at 64 KiB (or 256 KiB, "piggy"), UFS1 at 8 KiB.
_SUPERBLOCKS = (
    (65536, 0x19540119, "ufs2"),
    (262144, 0x19540119, "ufs2"),
    (8192, 0x00011954, "44bsd"),
)
#: Where fs_magic is in a superblock.
MAGIC_OFFSET = 1372

#: Linux's other UFS flavours, tried in this order when no magic number is recognised.
OTHER_TYPES = ("ufs2", "44bsd", "sun", "sunx86", "old")

Reader = Callable[[int, int], bytes]


def ufs_type(read: Reader) -> str | None:
    """Linux's `ufstype` for the UFS whose bytes `read(offset, size)` returns, or None."""
    for sb, magic, name in _SUPERBLOCKS:
        raw = read(sb + MAGIC_OFFSET, 4)
        if len(raw) != 4:
            continue
        if magic in (int.from_bytes(raw, "little"), int.from_bytes(raw, "big")):
            return name
    return None


def mount_types(read: Reader) -> list[str]:
    """The `ufstype` values to try, in order: the one the superblock names first."""
    first = ufs_type(read)
    return ([first] if first else []) + [t for t in OTHER_TYPES if t != first]
