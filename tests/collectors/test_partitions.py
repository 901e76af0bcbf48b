"""Partition tables decoded from raw sectors (guestinspect.collectors.partitions)."""

import struct
import uuid
import zlib

from guestinspect.collectors.partitions import SECTOR, read_table


def mbr(entries: list[tuple[int, int, int]], sector: bytearray | None = None) -> bytearray:
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
    disk[:SECTOR] = mbr([(0x83, 2048, 100), (0x05, 3000, 1000)])
    # EBR 1 at 3000: logical at +10, next EBR at ext+500; EBR 2: logical at +10, no next.
    disk[3000 * SECTOR : 3001 * SECTOR] = mbr([(0x83, 10, 50), (0x05, 500, 100)])
    disk[3500 * SECTOR : 3501 * SECTOR] = mbr([(0x82, 10, 20)])
    t = read_table(bytes(disk[:65536]), _reader(disk))
    assert t is not None and t.type == "msdos"
    got = [(p.num, p.start // SECTOR, p.size // SECTOR, p.mbr_type) for p in t.parts]
    assert got == [(1, 2048, 100, 0x83), (2, 3000, 1000, 5), (5, 3010, 50, 0x83),
                   (6, 3510, 20, 0x82)]


def test_ebr_loop_stops() -> None:
    disk = _disk(4096)
    disk[:SECTOR] = mbr([(0x0F, 3000, 1000)])
    disk[3000 * SECTOR : 3001 * SECTOR] = mbr([(0x83, 10, 50), (0x05, 0 + 1, 100)])
    disk[3001 * SECTOR : 3002 * SECTOR] = mbr([(0x83, 10, 50), (0x05, 0 + 0, 100)])
    t = read_table(bytes(disk[:65536]), _reader(disk))
    assert t is not None and len(t.parts) <= 3


def test_not_a_table() -> None:
    assert read_table(bytes(65536), _reader(_disk(1))) is None
    fat = mbr([(0x83, 1, 1)])
    fat[0x1BE] = 0x4F  # boot code where the entries would be
    assert read_table(bytes(fat) + bytes(SECTOR), _reader(fat)) is None


def test_gpt() -> None:
    disk = _disk(128)
    disk[:SECTOR] = mbr([(0xEE, 1, 127)])
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


def disklabel(entries: list[tuple[int, int, int]], npartitions: int | None = None,
               duid: bytes = bytes(8)) -> bytearray:
    """A BSD disklabel sector: (p_size, p_offset, p_fstype) per entry, in label order."""
    label = bytearray(SECTOR)
    struct.pack_into("<I", label, 0, 0x82564557)
    label[24:32] = duid
    struct.pack_into("<I", label, 132, 0x82564557)
    struct.pack_into("<H", label, 138, len(entries) if npartitions is None else npartitions)
    for i, (size, offset, fstype) in enumerate(entries):
        struct.pack_into("<IIIBBH", label, 148 + 16 * i, size, offset, 2048, fstype, 8, 1)
    return label


def _subparts(t: object) -> list[tuple[int, int, int, int | None, int]]:
    assert t is not None
    return [(p.num, p.start // SECTOR, p.size // SECTOR, p.bsd_fstype, p.slice)
            for p in t.parts if p.slice]  # type: ignore[attr-defined]


def test_openbsd_disklabel() -> None:
    # OpenBSD: slice 0xA6 from 64; a root, b swap, c the whole disk (unused, outside the
    # slice), d /home: Linux lists a, b, d as 5, 6, 7.
    disk = _disk(8192)
    disk[:SECTOR] = mbr([(0xA6, 64, 8128)])
    disk[65 * SECTOR : 66 * SECTOR] = disklabel(
        [(4000, 64, 7), (1000, 4064, 1), (8192, 0, 0), (3128, 5064, 7)], duid=b"\x01" * 8)
    t = read_table(bytes(disk[:65536]), _reader(disk))
    assert t is not None and t.type == "msdos"
    assert _subparts(t) == [(5, 64, 4000, 7, 1), (6, 4064, 1000, 1, 1), (7, 5064, 3128, 7, 1)]
    (slice_,) = [p for p in t.parts if p.num == 1]
    assert (slice_.mbr_type, slice_.disklabel) == (0xA6, "openbsd")
    assert [(p.letter, p.duid) for p in t.parts if p.slice] == [
        ("a", "01" * 8), ("b", "01" * 8), ("d", "01" * 8)]


def test_disklabel_after_logical_partitions_and_out_of_slice_entries() -> None:
    disk = _disk(16384)
    disk[:SECTOR] = mbr([(0x05, 2048, 2048), (0xA9, 8192, 4096)])
    disk[2048 * SECTOR : 2049 * SECTOR] = mbr([(0x83, 10, 50)])
    disk[8193 * SECTOR : 8194 * SECTOR] = disklabel([
        (4096, 8192, 7),      # the whole slice: listed already as partition 2
        (1000, 8192, 7),      # a
        (1000, 100, 7),       # before the slice: ignored
        (1000, 12000, 7),     # past its end: ignored
        (500, 9192, 0),       # unused
        (500, 10192, 1),      # swap
    ])
    t = read_table(bytes(disk[:65536]), _reader(disk))
    assert t is not None
    assert sorted(p.num for p in t.parts) == [1, 2, 5, 6, 7]
    assert _subparts(t) == [(6, 8192, 1000, 7, 2), (7, 10192, 500, 1, 2)]
    assert [(p.letter, p.duid) for p in t.parts if p.slice] == [("b", ""), ("f", "")]


def test_freebsd_disklabel_relative_offsets_and_eight_entries() -> None:
    # FreeBSD: c starts at 0, so every offset is relative to the slice; Linux reads at most
    # 8 entries of a FreeBSD or NetBSD label (16 of an OpenBSD one).
    entries = [(100, 16 + 100 * i, 7) for i in range(10)]
    entries[2] = (4000, 0, 0)
    disk = _disk(8192)
    disk[:SECTOR] = mbr([(0xA5, 63, 4000)])
    disk[64 * SECTOR : 65 * SECTOR] = disklabel(entries)
    t = read_table(bytes(disk[:65536]), _reader(disk))
    assert [(n, s) for n, s, *_ in _subparts(t)] == [
        (5, 79), (6, 179), (7, 379), (8, 479), (9, 579), (10, 679), (11, 779)]
    # The same label in an OpenBSD slice: absolute offsets (the first entry, at 16, lies
    # before the slice), all 10 entries read.
    disk[0x1BE + 4] = 0xA6
    t = read_table(bytes(disk[:65536]), _reader(disk))
    assert [(n, s) for n, s, *_ in _subparts(t)] == [
        (5, 116), (6, 316), (7, 416), (8, 516), (9, 616), (10, 716), (11, 816), (12, 916)]


def test_bsd_slice_without_disklabel() -> None:
    disk = _disk(4096)
    disk[:SECTOR] = mbr([(0xA6, 64, 4000)])
    t = read_table(bytes(disk[:65536]), _reader(disk))
    assert t is not None and [(p.num, p.disklabel) for p in t.parts] == [(1, "")]
    disk[65 * SECTOR : 66 * SECTOR] = disklabel([(100, 64, 7)], npartitions=0)
    t = read_table(bytes(disk[:65536]), _reader(disk))
    assert t is not None and [p.num for p in t.parts] == [1]
