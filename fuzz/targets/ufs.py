"""UFS superblocks (collectors/ufs.py): which `ufstype` a filesystem needs."""

from __future__ import annotations

from fuzz.targets import target
from guestinspect.collectors import ufs


def _seeds() -> list[bytes]:
    out = []
    for offset, magic, order in ((65536, 0x19540119, "little"), (8192, 0x011954, "little"),
                                 (8192, 0x011954, "big"), (262144, 0x19540119, "big")):
        data = bytearray(offset + 2048)
        data[offset + ufs.MAGIC_OFFSET : offset + ufs.MAGIC_OFFSET + 4] = magic.to_bytes(4, order)
        out.append(bytes(data))
    return out


@target("ufs.superblock", _seeds, max_len=270000)
def run(data: bytes) -> None:
    types = ufs.mount_types(lambda offset, size: data[offset : offset + size])
    assert types and len(set(types)) == len(types)
