"""One resource of a PE file (an .exe or .dll), found by its numeric type and name.

The resource tree of a PE file has three levels: type (2 is a bitmap, 3 an icon, …), name,
language. The data of the first language of the asked type and name is returned as stored:
a bitmap resource is a DIB (a BMP without its 14-byte file header). Reading goes through
``read(offset, size)``, so a collector fetches only the few blocks it needs from a guest.

The file is a guest's: every field is bounds-checked and every read bounded (the PE header
offset, the section count, a directory's entries, a resource's size); any damage is a
:class:`PeError` (docs/security.md, "Parsers of guest bytes").
"""

import struct
from collections.abc import Callable

from guestinspect.errors import ParseError

#: ``read(offset, size) -> bytes``: at most ``size`` bytes of the file from ``offset``.
Reader = Callable[[int, int], bytes]

#: Enough for the DOS stub, the PE headers and a usual section table.
HEADER_BYTES = 4096
#: Larger resources are refused (the largest bitmap of Windows 7's explorer.exe is ~200 KiB).
RESOURCE_LIMIT = 4 * 1024 * 1024
#: The data directory entry of the resource table.
_RESOURCE_DIRECTORY = 2
_OPTIONAL_MAGIC = {0x10B: 96, 0x20B: 112}  # PE32, PE32+: offset of the data directories
_SUBDIRECTORY = 0x80000000
#: The PE header must start within this many bytes (it is at 0x80..0x400 in practice).
MAX_PE_OFFSET = 64 * 1024
#: Sections of a PE file at most (the Windows loader's own limit).
MAX_SECTIONS = 96


class PeError(ParseError):
    """A file that is not a PE file, or a damaged one."""


def _unpack(fmt: str, buf: bytes, offset: int) -> tuple[int, ...]:
    """``struct.unpack_from`` that raises PeError when ``buf`` is too short."""
    if offset < 0 or offset + struct.calcsize(fmt) > len(buf):
        raise PeError(f"truncated PE file (a field at {offset:#x})")
    return struct.unpack_from(fmt, buf, offset)


class _Image:
    """A PE file's sections, to turn the RVAs of the resource tree into file offsets."""

    def __init__(self, read: Reader) -> None:
        self.read = read
        head = read(0, HEADER_BYTES)
        if len(head) < 0x40 or head[:2] != b"MZ":
            raise PeError("not a PE file")
        (pe,) = _unpack("<I", head, 0x3C)
        if pe > MAX_PE_OFFSET:
            raise PeError(f"PE header at {pe:#x}")
        if pe + 24 > len(head):
            head = read(0, pe + HEADER_BYTES)
        if head[pe : pe + 4] != b"PE\0\0":
            raise PeError("not a PE file")
        sections, optional_size = _unpack("<H12xH", head, pe + 6)
        if sections > MAX_SECTIONS:
            raise PeError(f"{sections} sections")
        optional = pe + 24
        (magic,) = _unpack("<H", head, optional)
        if magic not in _OPTIONAL_MAGIC:
            raise PeError("unknown PE optional header")
        table = optional + optional_size
        if table + 40 * sections > len(head):
            head = read(0, table + 40 * sections)
        dirs = optional + _OPTIONAL_MAGIC[magic]
        (count,) = _unpack("<I", head, dirs - 4)
        if count <= _RESOURCE_DIRECTORY or dirs + 8 * 3 > table:
            raise PeError("no resource directory")
        self.rsrc, _ = _unpack("<II", head, dirs + 8 * _RESOURCE_DIRECTORY)
        self.sections = [
            _unpack("<IIII", head, table + 40 * i + 8) for i in range(sections)
        ]  # (virtual size, RVA, raw size, raw offset)

    def at(self, rva: int, size: int) -> bytes:
        """``size`` bytes at ``rva``; PeError if they are not all in one section's data."""
        for vsize, start, raw_size, raw_offset in self.sections:
            if start <= rva and rva + size <= start + min(vsize or raw_size, raw_size):
                data = self.read(raw_offset + rva - start, size)
                if len(data) == size:
                    return data
        raise PeError(f"RVA {rva:#x}+{size} is outside the file")

    def entries(self, rva: int) -> list[tuple[int, int]]:
        """The (id, entry) pairs of a resource directory; named entries are left out."""
        named, numbered = struct.unpack_from("<12xHH", self.at(rva, 16))
        raw = self.at(rva + 16, 8 * (named + numbered))  # 1 MiB at most: two 16-bit counts
        return list(struct.iter_unpack("<II", raw))[named:]


def pe_resource(read: Reader, type_id: int, name_id: int) -> bytes | None:
    """The data of resource ``type_id``/``name_id`` (its first language), or None when the file
    has no such resource. Raises PeError when the file is not a PE file or is damaged."""
    image = _Image(read)
    if image.rsrc == 0:
        return None
    level = image.rsrc
    for wanted in (type_id, name_id):
        found = [e for ident, e in image.entries(level) if ident == wanted]
        if not found or not found[0] & _SUBDIRECTORY:
            return None
        level = image.rsrc + (found[0] & ~_SUBDIRECTORY)  # three levels: no loop
    first_language = image.entries(level)
    if not first_language or first_language[0][1] & _SUBDIRECTORY:
        return None
    data_rva, size = struct.unpack_from("<II", image.at(image.rsrc + first_language[0][1], 8))
    if size > RESOURCE_LIMIT:
        raise PeError(f"resource of {size} bytes")
    return image.at(data_rva, size)
