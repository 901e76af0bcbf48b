"""Partition tables (collectors/partitions.py): MBR with an extended chain and BSD disklabels
(FreeBSD, OpenBSD, NetBSD slices), GPT, decoded from a disk's first sectors. The input is the
disk itself (its first 64 KiB)."""

from __future__ import annotations

import struct
import uuid

from fuzz.targets import target
from guestinspect.collectors.partitions import HEAD_BYTES, SECTOR, PartitionTableError, read_table
from tests.collectors.test_partitions import disklabel, mbr

DUID = bytes(range(1, 9))  # OpenBSD's disklabel UID in the seeds


def _seeds() -> list[bytes]:
    msdos = bytearray(128 * SECTOR)
    msdos[:SECTOR] = mbr([(0x83, 2, 10), (0x05, 20, 100)])
    msdos[20 * SECTOR : 21 * SECTOR] = mbr([(0x83, 1, 5), (0x05, 30, 10)])
    msdos[50 * SECTOR : 51 * SECTOR] = mbr([(0x82, 1, 5)])
    gpt = bytearray(128 * SECTOR)
    gpt[:SECTOR] = mbr([(0xEE, 1, 127)])
    hdr = b"EFI PART" + bytes(64) + struct.pack("<QII", 2, 4, 128)
    gpt[SECTOR : SECTOR + len(hdr)] = hdr
    for i in range(2):
        entry = bytearray(128)
        entry[:16], entry[16:32] = uuid.UUID(int=i + 1).bytes_le, uuid.UUID(int=99 - i).bytes_le
        struct.pack_into("<QQ", entry, 32, 34 + 40 * i, 70 + 40 * i)
        name = f"part{i}".encode("utf-16-le")
        entry[56 : 56 + len(name)] = name
        gpt[2 * SECTOR + 128 * i : 2 * SECTOR + 128 * (i + 1)] = entry
    return [bytes(msdos), bytes(gpt), *_disklabel_seeds()]


def _disklabel_seeds() -> list[bytes]:
    """An OpenBSD slice (a, b, c the whole disk, d), a FreeBSD slice with relative offsets
    after a logical partition, a NetBSD one beside it whose label claims 16 entries."""
    openbsd = bytearray(128 * SECTOR)
    openbsd[:SECTOR] = mbr([(0xA6, 4, 124)])
    openbsd[5 * SECTOR : 6 * SECTOR] = disklabel(
        [(60, 4, 7), (20, 64, 1), (128, 0, 0), (44, 84, 7)], 16, DUID)
    mixed = bytearray(128 * SECTOR)
    mixed[:SECTOR] = mbr([(0x05, 2, 10), (0xA5, 20, 50), (0xA9, 70, 58)])
    mixed[2 * SECTOR : 3 * SECTOR] = mbr([(0x83, 1, 5)])
    mixed[21 * SECTOR : 22 * SECTOR] = disklabel(
        [(20, 0, 7), (10, 20, 1), (50, 0, 0), (20, 30, 7)], 8, DUID)
    mixed[71 * SECTOR : 72 * SECTOR] = disklabel(
        [(30, 70, 7), (10, 100, 1), (128, 0, 0), (58, 70, 7)] * 4, 16, DUID)
    return [bytes(openbsd), bytes(mixed)]


@target("partitions.table", _seeds, (PartitionTableError,), max_len=HEAD_BYTES)
def run(data: bytes) -> None:
    reads = 0

    def read(size: int, offset: int) -> bytes:
        nonlocal reads
        reads += 1
        assert 0 <= size <= 1 << 20 and reads <= 1000, f"read {reads}: {size} bytes"
        return data[offset : offset + size]

    table = read_table(data, read)
    assert table is None or table.type in ("msdos", "gpt")
