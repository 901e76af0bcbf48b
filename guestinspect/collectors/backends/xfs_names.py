"""The names of an xfs directory's entries as bytes, read from the directory itself.

libfsxfs gives no name that is not UTF-8 (it fails), and Linux lists such a name as its bytes;
this reads them so that the view can list the name decoded with replacement, as the appliance
does. A small directory lives in its inode ("short form": a header, then ``namelen offset
name [ftype] inumber`` records); a bigger one in directory blocks (the extents libfsxfs gives)
whose data blocks hold ``inumber namelen name [ftype] tag`` records 8-byte aligned, free
spans marked 0xFFFF, and, in a single-block directory, a leaf table and tail at the end.
Leaf, node and free-index blocks are told by their magic and skipped.

Everything read is bounded: the inode's own size, at most ``MAX_DIRECTORY_BYTES`` of blocks
(directory_extents.py), and every record inside its block (linear in the bytes read). A
damaged record ends the parse of its block; what was read before it is kept.
"""

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from guestinspect.collectors.backends.directory_extents import bounded

_BLOCK_MAGICS = {b"XD2B": 16, b"XDB3": 64}  # single-block directory: header size
_DATA_MAGICS = {b"XD2D": 16, b"XDD3": 64}  # data block of a bigger directory
_FREE_TAG = 0xFFFF
_V3_CORE = 176
_V2_CORE = 100
_LOCAL = 1  # di_format: the data fork is in the inode


def _u32(data: bytes, offset: int) -> int:
    return int(struct.unpack_from(">I", data, offset)[0])


@dataclass(frozen=True)
class Geometry:
    """What the superblock says about where inodes are and what records hold."""

    blocksize: int
    agblocks: int
    inodesize: int
    agblklog: int
    inopblog: int
    dirblksize: int
    ftype: bool

    @classmethod
    def parse(cls, sb: bytes) -> "Geometry | None":
        if len(sb) < 220 or sb[:4] != b"XFSB":
            return None
        blocksize, agblocks = _u32(sb, 4), _u32(sb, 84)
        inodesize = struct.unpack_from(">H", sb, 104)[0]
        version = struct.unpack_from(">H", sb, 100)[0] & 0xF
        ftype = bool(_u32(sb, 216) & 0x1) if version == 5 else bool(_u32(sb, 200) & 0x200)
        if not (512 <= blocksize <= 65536 and 256 <= inodesize <= 2048 and sb[192] <= 8):
            return None
        return cls(blocksize, agblocks, inodesize, sb[124], sb[123], blocksize << sb[192], ftype)

    def block_offset(self, fsbno_bytes: int) -> int:
        """The byte offset of an extent libfsxfs gives as its filesystem block number times
        the block size (an allocation group's number in the high bits, not a linear
        block)."""
        fsbno = fsbno_bytes // self.blocksize
        agno, agbno = fsbno >> self.agblklog, fsbno & ((1 << self.agblklog) - 1)
        return (agno * self.agblocks + agbno) * self.blocksize

    def inode_offset(self, ino: int) -> int:
        agno = ino >> (self.agblklog + self.inopblog)
        agino = ino & ((1 << (self.agblklog + self.inopblog)) - 1)
        agbno, index = agino >> self.inopblog, agino & ((1 << self.inopblog) - 1)
        return (agno * self.agblocks + agbno) * self.blocksize + index * self.inodesize


def parse_shortform(inode: bytes, geo: Geometry, names: dict[int, list[bytes]]) -> None:
    """Add ``inode -> name`` for each record of a short-form directory inode."""
    if len(inode) < _V2_CORE or inode[:2] != b"IN" or inode[5] != _LOCAL:
        return
    pos = _V3_CORE if inode[4] >= 3 else _V2_CORE
    end = min(len(inode), pos + struct.unpack_from(">Q", inode, 56)[0])  # di_size
    if pos + 2 > end:
        return
    count, i8count = inode[pos], inode[pos + 1]
    width = 8 if i8count else 4
    pos += 2 + width
    for _ in range(i8count or count):
        if pos + 3 > end:
            return
        namelen = inode[pos]
        name_at = pos + 3
        number_at = name_at + namelen + (1 if geo.ftype else 0)
        if number_at + width > end:
            return
        number = int.from_bytes(inode[number_at:number_at + width], "big")
        names.setdefault(number, []).append(inode[name_at:name_at + namelen])
        pos = number_at + width


def parse_block(block: bytes, geo: Geometry, names: dict[int, list[bytes]]) -> None:
    """Add ``inode -> name`` for each record of one directory block (not a data block: none)."""
    magic = block[:4]
    if magic in _BLOCK_MAGICS:
        pos = _BLOCK_MAGICS[magic]
        if len(block) < pos + 8:
            return
        leaves = struct.unpack_from(">I", block, len(block) - 8)[0]
        end = len(block) - 8 - 8 * leaves
    elif magic in _DATA_MAGICS:
        pos, end = _DATA_MAGICS[magic], len(block)
    else:
        return
    while pos + 8 <= end:
        if struct.unpack_from(">H", block, pos)[0] == _FREE_TAG:
            length = struct.unpack_from(">H", block, pos + 2)[0]
            if length < 8 or length % 8:
                return
            pos += length
            continue
        if pos + 9 > end:
            return
        number, namelen = struct.unpack_from(">QB", block, pos)
        size = (8 + 1 + namelen + (1 if geo.ftype else 0) + 2 + 7) // 8 * 8
        if pos + size > end:
            return
        names.setdefault(number, []).append(block[pos + 9:pos + 9 + namelen])
        pos += size


def names_by_inode(directory: int, extents: Sequence[tuple[int, int]],
                   pread: Callable[[int, int], bytes]) -> dict[int, list[bytes]]:
    """inode -> names of the records of the xfs directory inode ``directory``: from the inode
    itself if it is short-form, else from its blocks in ``extents`` ((offset, size) as
    libfsxfs gives them)."""
    names: dict[int, list[bytes]] = {}
    geo = Geometry.parse(pread(0, 512))
    if geo is None:
        return names
    if not extents:
        parse_shortform(pread(geo.inode_offset(directory), geo.inodesize), geo, names)
        return names
    for offset, size in bounded(extents):
        data = pread(geo.block_offset(offset), size)
        for start in range(0, len(data) - geo.dirblksize + 1, geo.dirblksize):
            parse_block(data[start:start + geo.dirblksize], geo, names)
    return names
