"""Partition tables (MBR with its extended chain and BSD disklabels, GPT) decoded from the
disk's first sectors.

One ``pread_device`` replaces parted's per-partition calls (several seconds of appliance time
each under TCG). The image collector checks the result against the partitions the appliance's
kernel sees and falls back to parted when they disagree.

The sectors are a guest's: every read is bounded (MAX_LOGICAL EBRs, MAX_GPT_ENTRIES entries of
at most MAX_GPT_ENTRY bytes), an extended chain that loops ends, and a damaged table is a
:class:`PartitionTableError` (docs/security.md, "Parsers of guest bytes").
"""

import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from guestinspect.errors import ParseError

#: Bytes read from the start of a disk: the MBR, a GPT header and the usual 128 entries.
HEAD_BYTES = 64 * 1024
SECTOR = 512
MBR_EXTENDED = {0x05, 0x0F, 0x85}
#: Logical partitions followed in an extended chain before giving up (a loop).
MAX_LOGICAL = 256
#: GPT entries read at most.
MAX_GPT_ENTRIES = 1024
#: Bytes of one GPT entry at most (128 in practice; a power of two times 128 by the spec).
MAX_GPT_ENTRY = 4096
#: MBR partition types holding a BSD disklabel, their flavour, and how many of
#: its entries Linux reads at most (block/partitions/msdos.c, parse_bsd).
BSD_SLICES = {0xA5: ("freebsd", 8), 0xA6: ("openbsd", 16), 0xA9: ("netbsd", 8)}
BSD_DISKMAGIC = 0x82564557
#: Partition numbers Linux gives at most (its limit for a disk, DISK_MAX_PARTS).
MAX_PARTS = 256


class PartitionTableError(ParseError):
    """A partition table that is there but damaged."""

Reader = Callable[[int, int], bytes]  # (size, offset) -> bytes


@dataclass(frozen=True)
class Part:
    num: int
    start: int  # bytes
    size: int  # bytes
    mbr_type: int | None = None
    gpt_type: str = ""
    gpt_guid: str = ""
    name: str = ""
    #: A BSD slice: the flavour of the disklabel decoded in it (it holds partitions, not a
    #: filesystem). A partition of that disklabel: its slice's number, its letter (a, b, ...),
    #: its p_fstype and the label's DUID (OpenBSD's, 16 hex digits; "" elsewhere or unset).
    disklabel: str = ""
    slice: int = 0
    letter: str = ""
    bsd_fstype: int | None = None
    duid: str = ""


@dataclass(frozen=True)
class Table:
    type: str  # msdos or gpt
    parts: tuple[Part, ...]


def _guid(raw: bytes) -> str:
    return str(uuid.UUID(bytes_le=raw)).upper()


def _mbr_entries(sector: bytes) -> list[tuple[int, int, int, int]]:
    """(status, type, start LBA, sectors) of the four entries of an MBR/EBR sector."""
    out = []
    for i in range(4):
        e = sector[0x1BE + 16 * i : 0x1BE + 16 * (i + 1)]
        status, ptype = e[0], e[4]
        start, count = struct.unpack_from("<II", e, 8)
        out.append((status, ptype, start, count))
    return out


def _gpt(head: bytes, read: Reader) -> Table | None:
    hdr = head[SECTOR : 2 * SECTOR]
    if hdr[:8] != b"EFI PART":
        return None
    entries_lba, count, esize = struct.unpack_from("<QII", hdr, 72)
    if esize < 128 or esize > MAX_GPT_ENTRY or esize % 128 or count > MAX_GPT_ENTRIES:
        raise PartitionTableError(f"GPT of {count} entries of {esize} bytes")
    if entries_lba < 2 or entries_lba >= 1 << 48:
        raise PartitionTableError(f"GPT entries at sector {entries_lba}")
    offset, length = entries_lba * SECTOR, count * esize
    data = (
        head[offset : offset + length]
        if offset + length <= len(head)
        else read(length, offset)
    )
    parts = []
    for i in range(count):
        e = data[i * esize : i * esize + 128]
        if len(e) < 128 or e[:16] == bytes(16):
            continue
        first, last = struct.unpack_from("<QQ", e, 32)
        if last < first:
            raise PartitionTableError(f"GPT entry {i + 1} ends before it starts")
        name = e[56:128].decode("utf-16-le", "replace").split("\0", 1)[0]
        parts.append(Part(i + 1, first * SECTOR, (last - first + 1) * SECTOR,
                          gpt_type=_guid(e[:16]), gpt_guid=_guid(e[16:32]), name=name))
    return Table("gpt", tuple(parts))


def _logical(ext_start: int, first: int, read: Reader) -> list[Part]:
    parts: list[Part] = []
    ebr = ext_start
    seen: set[int] = set()
    while ebr not in seen and len(parts) < MAX_LOGICAL:
        seen.add(ebr)
        sector = read(SECTOR, ebr * SECTOR)
        if len(sector) < SECTOR or sector[510:512] != b"\x55\xaa":
            break
        (_, ptype, start, count), (_, ntype, nstart, _), *_ = _mbr_entries(sector)
        if ptype and count:
            parts.append(Part(first + len(parts), (ebr + start) * SECTOR, count * SECTOR,
                              ptype))
        if ntype not in MBR_EXTENDED or nstart == 0:
            break
        ebr = ext_start + nstart
    return parts


def _disklabel(slot: int, start: int, count: int, flavour: str, most: int, first: int,
               read: Reader) -> list[Part]:
    """The partitions Linux lists from the BSD disklabel at sector 1 of the MBR slice
    ``slot`` (``count`` sectors from ``start``), numbered from ``first``: the used entries
    inside the slice but the slice itself, in label order (parse_bsd)."""
    label = read(SECTOR, (start + 1) * SECTOR)
    if len(label) < SECTOR or struct.unpack_from("<I", label, 0)[0] != BSD_DISKMAGIC:
        return []
    entries = min(struct.unpack_from("<H", label, 138)[0], most)
    # FreeBSD's offsets are relative to the slice when its c partition starts at 0.
    relative = flavour == "freebsd" and struct.unpack_from("<I", label, 148 + 2 * 16 + 4)[0] == 0
    duid = label[24:32].hex() if flavour == "openbsd" and any(label[24:32]) else ""
    parts: list[Part] = []
    for i in range(entries):
        if first + len(parts) >= MAX_PARTS:
            break
        size, offset, _, fstype = struct.unpack_from("<IIIB", label, 148 + 16 * i)
        if fstype == 0:
            continue
        if relative:
            offset += start
        if offset == start and size == count:
            continue  # the whole slice, listed already
        if offset < start or offset + size > start + count:
            continue  # outside the slice: Linux ignores it
        parts.append(Part(first + len(parts), offset * SECTOR, size * SECTOR, slice=slot,
                          letter=chr(ord("a") + i), bsd_fstype=fstype, duid=duid))
    return parts


def read_table(head: bytes, read: Reader) -> Table | None:
    """The partition table whose first sectors are ``head``; None if there is none.
    Raises PartitionTableError for a damaged one."""
    if len(head) < 2 * SECTOR or head[510:512] != b"\x55\xaa":
        return None
    entries = _mbr_entries(head)
    if any(status not in (0, 0x80) for status, *_ in entries):
        return None
    if any(ptype == 0xEE for _, ptype, _, _ in entries):
        return _gpt(head, read)
    parts: list[Part] = []
    following = 5  # the number of the next partition past the primary ones
    for i, (_, ptype, start, count) in enumerate(entries):
        if ptype == 0 or count == 0:
            continue
        parts.append(Part(i + 1, start * SECTOR, count * SECTOR, ptype))
        if ptype in MBR_EXTENDED:
            logical = _logical(start, following, read)
            parts.extend(logical)
            following += len(logical)
    # Then the disklabels of the BSD slices, in slot order, numbered after the logical ones.
    for i, (_, ptype, start, count) in enumerate(entries):
        if ptype not in BSD_SLICES or count == 0:
            continue
        flavour, most = BSD_SLICES[ptype]
        sub = _disklabel(i + 1, start, count, flavour, most, following, read)
        if sub:
            parts[:] = [replace(p, disklabel=flavour) if p.num == i + 1 else p for p in parts]
            parts.extend(sub)
            following += len(sub)
    return Table("msdos", tuple(parts))
