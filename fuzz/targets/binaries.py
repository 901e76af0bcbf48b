"""ELF and PE headers (collectors/binaries.py): the architecture of a guest binary."""

from __future__ import annotations

import struct

from fuzz.targets import target
from guestinspect.collectors.binaries import binary_arch


def _seeds() -> list[bytes]:
    elf64 = b"\x7fELF\x02\x01\x01" + bytes(11) + struct.pack("<H", 62) + bytes(44)
    elf32be = b"\x7fELF\x01\x02\x01" + bytes(11) + struct.pack(">H", 20) + bytes(32)
    pe = bytearray(b"MZ" + bytes(0x3A) + struct.pack("<I", 0x40) + b"PE\0\0")
    pe += struct.pack("<H", 0x8664) + bytes(18)
    return [elf64, elf32be, bytes(pe)]


@target("binaries.arch", _seeds, max_len=4096)
def run(data: bytes) -> None:
    result = binary_arch(data)
    assert result is None or isinstance(result, str)
