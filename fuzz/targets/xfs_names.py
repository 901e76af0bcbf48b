"""xfs directories (collectors/backends/xfs_names.py): the names libfsxfs cannot decode, from
a short-form inode or from directory blocks."""

from __future__ import annotations

import struct

from fuzz.targets import target
from guestinspect.collectors.backends import xfs_names

_GEO = xfs_names.Geometry(blocksize=512, agblocks=1024, inodesize=512, agblklog=10,
                          inopblog=0, dirblksize=512, ftype=True)


def _shortform() -> bytes:
    inode = bytearray(512)
    inode[:2], inode[4], inode[5] = b"IN", 3, 1
    records = b"".join(bytes([len(n)]) + b"\0\0" + n + b"\1" + struct.pack(">I", 100 + i)
                       for i, n in enumerate((b"bad\xffname", b"ok")))
    data = bytes([2, 0]) + struct.pack(">I", 64) + records
    struct.pack_into(">Q", inode, 56, len(data))
    inode[176:176 + len(data)] = data
    return bytes(inode)


def _block(magic: bytes, header: int) -> bytes:
    block = bytearray(512)
    block[:4] = magic
    pos = header
    for i, name in enumerate((b"x\xfe", b"a-name")):
        size = (8 + 1 + len(name) + 1 + 2 + 7) // 8 * 8
        struct.pack_into(">QB", block, pos, 200 + i, len(name))
        block[pos + 9:pos + 9 + len(name)] = name
        pos += size
    struct.pack_into(">HH", block, pos, 0xFFFF, 512 - 8 - 16 - pos)
    struct.pack_into(">I", block, 504, 2)
    return bytes(block)


def _seeds() -> list[bytes]:
    return [b"S" + _shortform(), b"B" + _block(b"XDB3", 64), b"D" + _block(b"XD2D", 16)]


@target("xfs.directory_records", _seeds, max_len=4096)
def run(data: bytes) -> None:
    names: dict[int, list[bytes]] = {}
    kind, body = data[:1], data[1:]
    if kind == b"S":
        xfs_names.parse_shortform(body, _GEO, names)
    else:
        xfs_names.parse_block(body, _GEO, names)
    assert sum(len(n) for ns in names.values() for n in ns) <= len(body)
    xfs_names.names_by_inode(5, [(0, len(body)), (512, 4096)],
                             lambda off, size: body[off:off + size] if off >= 0 else b"")
