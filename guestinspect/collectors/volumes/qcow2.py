"""A qcow2 reader of our own, for what libqcow does not read right: an overlay whose backing
file is not qcow2 (libqcow takes a qcow2 parent only) and compressed clusters (libqcow
20260703 returns zeros for some of them). The rest of qcow2 goes through pyqcow
(collectors/volumes/images.py).

The image's metadata is a guest's (docs/security.md, "Parsers of guest bytes"): the header is
checked (version 2 or 3, clusters of 512 B to 2 MiB, no incompatible feature but the dirty
and corrupt bits, no encryption), the L1 table is at most :data:`MAX_L1` bytes inside the
file, an L2 table is read (and kept, at most :data:`L2_CACHE` of them) only when a read needs
it, a compressed cluster decompresses to at most one cluster (zlib; zstd is refused), and
each read is of at most :data:`MAX_READ` bytes. Errors are :class:`Qcow2Error`.
"""

import struct
import zlib
from collections import OrderedDict
from collections.abc import Callable

from guestinspect.errors import ParseError

#: Bytes of an L1 table read at most (qemu's own limit).
MAX_L1 = 32 * 1024 * 1024
#: L2 tables kept in memory at most.
L2_CACHE = 64
#: Bytes one read returns at most.
MAX_READ = 16 * 1024 * 1024
_OFFSET_MASK = 0x00FFFFFFFFFFFE00
_COMPRESSED = 1 << 62
_ZERO = 1
#: Incompatible features a reader may ignore: dirty, corrupt (it only reads).
_IGNORABLE = 0b11

Reader = Callable[[int, int], bytes]  # (offset, size) -> bytes


class Qcow2Error(ParseError):
    """qcow2 metadata (the header, the L1 and L2 tables, a compressed cluster) that cannot be
    read."""


class Qcow2Image:
    """One qcow2 image read from ``read`` (a file of ``file_size`` bytes), its unallocated
    clusters read from ``backing`` (None: zeros)."""

    def __init__(self, read: Reader, file_size: int, backing: Reader | None = None) -> None:
        self._read, self._file_size, self._backing = read, file_size, backing
        header = read(0, 104)
        if len(header) < 72 or header[:4] != b"QFI\xfb":
            raise Qcow2Error("not a qcow2 header")
        version, _, _, bits, size, crypt, l1_size, l1_offset = \
            struct.unpack_from(">IQIIQIIQ", header, 4)
        self.cluster_bits: int = bits
        self.size: int = size
        if version not in (2, 3):
            raise Qcow2Error(f"qcow2 version {version}")
        if not 9 <= self.cluster_bits <= 21:
            raise Qcow2Error(f"clusters of 2^{self.cluster_bits} bytes")
        if crypt:
            raise Qcow2Error("encrypted")
        if version == 3:
            if len(header) < 104:
                raise Qcow2Error("qcow2 v3 header cut short")
            incompatible = struct.unpack_from(">Q", header, 72)[0]
            if incompatible & ~_IGNORABLE:
                raise Qcow2Error(f"incompatible features {incompatible:#x}")
        self.cluster = 1 << self.cluster_bits
        self._l2_entries = self.cluster // 8
        if self.size >= 1 << 62:
            raise Qcow2Error(f"virtual size {self.size}")
        needed = -(-self.size // (self.cluster * self._l2_entries))
        if l1_size < needed or l1_size * 8 > MAX_L1 or l1_offset + l1_size * 8 > file_size:
            raise Qcow2Error(f"L1 table of {l1_size} entries at {l1_offset}")
        raw = read(l1_offset, l1_size * 8)
        if len(raw) != l1_size * 8:
            raise Qcow2Error("L1 table cut short")
        self._l1 = struct.unpack(f">{l1_size}Q", raw)
        self._l2: OrderedDict[int, tuple[int, ...]] = OrderedDict()

    def backing_file(self) -> str:
        """The backing file's name as the header gives it ("" for none)."""
        header = self._read(0, 20)
        offset, size = struct.unpack_from(">QI", header, 8)
        if not offset:
            return ""
        if size > 1023 or offset + size > self._file_size:
            raise Qcow2Error(f"backing file name of {size} bytes at {offset}")
        return self._read(offset, size).decode("utf-8", "replace")

    def _l2_table(self, offset: int) -> tuple[int, ...]:
        if offset in self._l2:
            self._l2.move_to_end(offset)
            return self._l2[offset]
        if offset + self.cluster > self._file_size:
            raise Qcow2Error(f"L2 table at {offset}, past the end of the file")
        raw = self._read(offset, self.cluster)
        if len(raw) != self.cluster:
            raise Qcow2Error(f"L2 table at {offset} cut short")
        table = struct.unpack(f">{self._l2_entries}Q", raw)
        self._l2[offset] = table
        if len(self._l2) > L2_CACHE:
            self._l2.popitem(last=False)
        return table

    def _entry(self, index: int) -> int:
        """The L2 entry of cluster ``index`` of the virtual disk (0: unallocated)."""
        l1_index, l2_index = divmod(index, self._l2_entries)
        l2 = self._l1[l1_index] & _OFFSET_MASK
        return self._l2_table(l2)[l2_index] if l2 else 0

    def _compressed(self, entry: int) -> bytes:
        bits = 62 - (self.cluster_bits - 8)
        offset = entry & ((1 << bits) - 1)
        sectors = ((entry >> bits) & ((1 << (self.cluster_bits - 8)) - 1)) + 1
        size = sectors * 512 - (offset & 511)
        size = min(size, self._file_size - offset)
        if size <= 0:
            raise Qcow2Error(f"compressed cluster at {offset}, past the end of the file")
        d = zlib.decompressobj(-12)
        try:
            data = d.decompress(self._read(offset, size), self.cluster)
        except zlib.error as e:
            raise Qcow2Error(f"compressed cluster at {offset}: {e}") from e
        if len(data) != self.cluster:
            raise Qcow2Error(f"compressed cluster at {offset} decompresses short")
        return data

    def _cluster_part(self, index: int, start: int, size: int) -> bytes:
        """``size`` bytes from ``start`` in cluster ``index`` of the virtual disk."""
        entry = self._entry(index)
        if entry & _COMPRESSED:
            return self._compressed(entry)[start : start + size]
        host = entry & _OFFSET_MASK
        if entry & _ZERO or (not host and self._backing is None):
            return bytes(size)
        if not host:
            assert self._backing is not None
            return self._backing(index * self.cluster + start, size).ljust(size, b"\0")
        if host + self.cluster > self._file_size:
            raise Qcow2Error(f"cluster at {host}, past the end of the file")
        return self._read(host + start, size).ljust(size, b"\0")

    def pread(self, offset: int, size: int) -> bytes:
        size = min(size, self.size - offset, MAX_READ)
        if size <= 0 or offset < 0:
            return b""
        out = bytearray()
        while size > 0:
            index, start = divmod(offset, self.cluster)
            n = min(size, self.cluster - start)
            out += self._cluster_part(index, start, n)
            offset, size = offset + n, size - n
        return bytes(out)


def has_compressed_clusters(image: Qcow2Image) -> bool:
    """Whether any allocated cluster of ``image`` is compressed (each L2 table read once)."""
    for l2 in sorted({e & _OFFSET_MASK for e in image._l1} - {0}):
        if any(e & _COMPRESSED for e in image._l2_table(l2)):
            return True
    return False
