"""ext directory records (collectors/backends/ext_names.py): the names libfsext cannot decode."""

from __future__ import annotations

import struct

from fuzz.targets import target
from guestinspect.collectors.backends import ext_names


def _record(inode: int, name: bytes, rec_len: int = 0) -> bytes:
    size = rec_len or (8 + len(name) + 3) // 4 * 4
    return struct.pack("<IHBB", inode, size, len(name), 1) + name + bytes(size - 8 - len(name))


def _seeds() -> list[bytes]:
    block = _record(2, b".") + _record(2, b"..") + _record(12, b"bad\xffname")
    block += _record(0, b"", 1024 - len(block))
    dx_root = _record(2, b".", 12) + _record(2, b"..", 1012) + _record(13, b"dir\xfe")
    return [block, dx_root, block + block]


@target("ext.directory_records", _seeds, max_len=8192)
def run(data: bytes) -> None:
    names: dict[int, list[bytes]] = {}
    ext_names.parse_records(data, names)
    assert sum(len(n) for n in names.values()) <= len(data) // 8
    half = len(data) // 2
    got = ext_names.names_by_inode([(0, half), (half, len(data) - half), (-1, 5)],
                                   lambda off, size: data[off:off + size])
    assert all(isinstance(n, bytes) for ns in got.values() for n in ns)
