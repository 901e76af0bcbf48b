"""Partition tables decoded from raw sectors (guestinspect.collectors.partitions)."""

import struct
import uuid
import zlib

from guestinspect.collectors.partitions import SECTOR, read_table


def _mbr(entries: list[tuple[int, int, int]], sector: bytearray | None = None) -> bytearray:
    s = sector if sector is not None else bytearray(SECTOR)
    for i, (ptype, start, count) in enumerate(entries):
        struct.pack_into("<B3xB3xII", s, 0x1BE + 16 * i, 0, ptype, start, count)
    s[510:512] = b"\x55\xaa"
    return s


def _disk(sectors: int) -> bytearray:
    return bytearray(sectors * SECTOR)


def _reader(disk: bytearray):  # type: ignore[no-untyped-def]
    return lambda n, off: bytes(disk[off : off + n])


def test_mbr_with_logical_partitions() -> None:
    disk = _disk(4096)
    disk[:SECTOR] = _mbr([(0x83, 2048, 100), (0x05, 3000, 1000)])
    # EBR 1 at 3000: logical at +10, next EBR at ext+500; EBR 2: logical at +10, no next.
    disk[3000 * SECTOR : 3001 * SECTOR] = _mbr([(0x83, 10, 50), (0x05, 500, 100)])
    disk[3500 * SECTOR : 3501 * SECTOR] = _mbr([(0x82, 10, 20)])
    t = read_table(bytes(disk[:65536]), _reader(disk))
    assert t is not None and t.type == "msdos"
    got = [(p.num, p.start // SECTOR, p.size // SECTOR, p.mbr_type) for p in t.parts]
    assert got == [(1, 2048, 100, 0x83), (2, 3000, 1000, 5), (5, 3010, 50, 0x83),
                   (6, 3510, 20, 0x82)]


def test_ebr_loop_stops() -> None:
    disk = _disk(4096)
    disk[:SECTOR] = _mbr([(0x0F, 3000, 1000)])
    disk[3000 * SECTOR : 3001 * SECTOR] = _mbr([(0x83, 10, 50), (0x05, 0 + 1, 100)])
    disk[3001 * SECTOR : 3002 * SECTOR] = _mbr([(0x83, 10, 50), (0x05, 0 + 0, 100)])
    t = read_table(bytes(disk[:65536]), _reader(disk))
    assert t is not None and len(t.parts) <= 3


def test_not_a_table() -> None:
    assert read_table(bytes(65536), _reader(_disk(1))) is None
    fat = _mbr([(0x83, 1, 1)])
    fat[0x1BE] = 0x4F  # boot code where the entries would be
    assert read_table(bytes(fat) + bytes(SECTOR), _reader(fat)) is None


def test_gpt() -> None:
    disk = _disk(128)
    disk[:SECTOR] = _mbr([(0xEE, 1, 127)])
    ptype, guid = uuid.uuid4(), uuid.uuid4()
    entry = bytearray(128)
    entry[:16], entry[16:32] = ptype.bytes_le, guid.bytes_le
    struct.pack_into("<QQ", entry, 32, 34, 99)
    name = "EFI system".encode("utf-16-le")
    entry[56 : 56 + len(name)] = name
    entries = bytes(entry) + bytes(128 * 127)
    disk[2 * SECTOR : 2 * SECTOR + len(entries)] = entries
    hdr = bytearray(92)
    hdr[:8] = b"EFI PART"
    struct.pack_into("<QII", hdr, 72, 2, 128, 128)
    struct.pack_into("<I", hdr, 88, zlib.crc32(entries))
    disk[SECTOR : SECTOR + 92] = hdr
    t = read_table(bytes(disk[:65536]), _reader(disk))
    assert t is not None and t.type == "gpt"
    (p,) = t.parts
    assert (p.num, p.start, p.size) == (1, 34 * SECTOR, 66 * SECTOR)
    assert (p.gpt_type, p.gpt_guid, p.name) == (str(ptype).upper(), str(guid).upper(),
                                                "EFI system")
