"""PE resources (collectors/resources.py): a bitmap resource found in a PE file's resource
tree. Seeds are PE32 and PE32+ files with bitmaps, as the test images' explorer.exe."""

from __future__ import annotations

from fuzz.targets import target
from guestinspect.collectors.resources import PeError, pe_resource
from tests.images.content import RT_BITMAP, bitmap, pe_with_resources


def _seeds() -> list[bytes]:
    return [
        pe_with_resources({(RT_BITMAP, 6801): bitmap(8, 12), (RT_BITMAP, 143): bitmap(4, 4, 8)}),
        pe_with_resources({(RT_BITMAP, 6801): bitmap(6, 6, 32), ("PNG", 1): b"x" * 40},
                          machine=0x8664),
        pe_with_resources({}),
    ]


@target("pe.resource", _seeds, (PeError,))
def run(data: bytes) -> None:
    def read(offset: int, size: int) -> bytes:
        assert 0 <= size <= 4 << 20, f"asked for {size} bytes"
        return data[offset : offset + size] if offset >= 0 else b""

    for kind, name in ((RT_BITMAP, 6801), (RT_BITMAP, 143), (3, 1)):
        found = pe_resource(read, kind, name)
        assert found is None or isinstance(found, bytes)
