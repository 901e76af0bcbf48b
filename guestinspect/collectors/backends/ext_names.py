"""The names of an ext2/3/4 directory's entries as bytes, read from the directory's blocks.

libfsext gives no name that is not UTF-8 (it fails), and Linux lists such a name as its bytes;
this reads them so that the view can list the name decoded with replacement, as the appliance
does. An ext directory block is a chain of records ``inode (u32) rec_len (u16) name_len (u8)
file_type (u8) name``; a hashed directory's index blocks look like records of inode 0, which
are skipped. Linear in the bytes read, at most ``MAX_DIRECTORY_BYTES`` of them
(directory_extents.py); a damaged record ends the parse of its extent (what was read before it
is kept).
"""

import struct
from collections.abc import Callable, Sequence

from guestinspect.collectors.backends.directory_extents import bounded

_RECORD = struct.Struct("<IHB")


def parse_records(data: bytes, names: dict[int, list[bytes]]) -> None:
    """Add ``inode -> name`` for each record of ``data`` (one or more directory blocks)."""
    pos = 0
    while pos + 8 <= len(data):
        inode, rec_len, name_len = _RECORD.unpack_from(data, pos)
        if rec_len < 8 or pos + rec_len > len(data):
            return
        if inode and 8 + name_len <= rec_len:
            names.setdefault(inode, []).append(data[pos + 8:pos + 8 + name_len])
        pos += rec_len


def names_by_inode(extents: Sequence[tuple[int, int]],
                   pread: Callable[[int, int], bytes]) -> dict[int, list[bytes]]:
    """inode -> names of the records in the directory whose data lies in ``extents``
    ((offset, size) in bytes on the device, as libfsext gives them)."""
    names: dict[int, list[bytes]] = {}
    for offset, size in bounded(extents):
        parse_records(pread(offset, size), names)
    return names
