"""xfs superblocks (collectors/backends/xfs_meta_uuid.py): the META_UUID bit hidden from
libfsxfs in every allocation group's superblock as the device is read."""

from __future__ import annotations

import struct

from fuzz.targets import target
from guestinspect.collectors.backends import xfs_meta_uuid


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def pread(self, offset: int, size: int) -> bytes:
        return self.data[offset:offset + size] if offset >= 0 else b""

    def read(self, size: int = -1) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def tell(self) -> int:
        return 0

    def get_size(self) -> int:
        return len(self.data)


def _seeds() -> list[bytes]:
    sb = bytearray(512)
    sb[:4] = b"XFSB"
    struct.pack_into(">I", sb, 4, 512)
    struct.pack_into(">I", sb, 84, 32768)  # 16 MiB groups
    struct.pack_into(">H", sb, 100, 0xB4A5)
    struct.pack_into(">I", sb, 216, 0xF)
    return [bytes(sb), bytes(sb[:300])]


@target("xfs.meta_uuid", _seeds, max_len=4096)
def run(data: bytes) -> None:
    dev = xfs_meta_uuid.for_libfsxfs(_Bytes(data))
    for offset, size in ((0, 512), (0, len(data)), (100, 300), (-5, 10)):
        out = dev.pread(offset, size)
        assert len(out) == len(_Bytes(data).pread(offset, size))
    if xfs_meta_uuid.ag_bytes(data) is not None:
        assert not xfs_meta_uuid.ag_bytes(dev.pread(0, 512))
