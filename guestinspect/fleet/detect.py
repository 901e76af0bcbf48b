"""Is a file a disk image? Decided by its content, never by its name.

A container format is known by its magic (qcow2, vmdk, vhd, vhdx, vdi); a raw image by a
partition table, a LUKS or LVM header or a filesystem superblock at the place it belongs. Only
the first :data:`HEAD` bytes and the last 512 (a fixed VHD's footer) are read. For qcow2, the
backing file's name is read from the header (:func:`qcow2_backing`).

These are parsers of untrusted bytes: they raise only :class:`DetectError`, whatever the input
(fuzz target ``fleet.detect``).
"""

import os
import stat
import struct
from pathlib import Path

#: Bytes read from the start of a file: enough for btrfs's (64 KiB + 64) and UFS2's
#: (64 KiB + 1372) superblock magics.
HEAD = 72 * 1024
#: A qcow2 backing file name is at most 1023 bytes (as qemu's limit), stored within this many
#: bytes from the start (qcow2 clusters are at most 2 MiB).
QCOW2_NAME_MAX = 1023
QCOW2_HEADER_MAX = 2 * 1024 * 1024


class DetectError(ValueError):
    """A file that cannot be read or whose header is damaged (one line)."""


def _at(data: bytes, offset: int, magic: bytes) -> bool:
    return data[offset : offset + len(magic)] == magic


def _u32le(data: bytes, offset: int) -> int | None:
    if len(data) < offset + 4:
        return None
    value: int = struct.unpack_from("<I", data, offset)[0]
    return value


def _u16le(data: bytes, offset: int) -> int | None:
    if len(data) < offset + 2:
        return None
    value: int = struct.unpack_from("<H", data, offset)[0]
    return value


#: Container formats: (format, offset, magic)
_CONTAINERS = (
    ("qcow2", 0, b"QFI\xfb"),
    ("vmdk", 0, b"KDMV"),
    ("vmdk", 0, b"# Disk DescriptorFile"),
    ("vhdx", 0, b"vhdxfile"),
    ("vhd", 0, b"conectix"),  # a dynamic VHD's copy of the footer
)

#: Signatures of a raw image's first sector(s): (what, offset, magic)
_RAW = (
    ("gpt", 512, b"EFI PART"),
    ("gpt", 4096, b"EFI PART"),  # 4 KiB sectors
    ("luks", 0, b"LUKS\xba\xbe"),
    ("luks2", 0, b"SKUL\xba\xbe"),
    ("lvm", 512, b"LABELONE"),
    ("lvm", 1024, b"LABELONE"),
    ("xfs", 0, b"XFSB"),
    ("ntfs", 3, b"NTFS    "),
    ("btrfs", 65536 + 64, b"_BHRfS_M"),
    ("iso9660", 32769, b"CD001"),
)

_EXT_MAGIC = 0xEF53
_UFS_MAGICS = (0x00011954, 0x19540119)
_VDI_SIGNATURE = 0xBEDA107F
_MD_MAGIC = 0xA92B4EFC


def detect(head: bytes, tail: bytes = b"") -> str | None:
    """The format of a disk image whose first bytes are ``head`` and last 512 are ``tail``:
    ``qcow2``, ``vmdk``, ``vhd``, ``vhdx``, ``vdi`` or ``raw``; None if it looks like no
    disk image."""
    if not isinstance(head, bytes) or not isinstance(tail, bytes):
        raise DetectError("expected bytes")
    for fmt, offset, magic in _CONTAINERS:
        if _at(head, offset, magic):
            return fmt
    if _at(head, 0, b"<<< ") and _u32le(head, 0x40) == _VDI_SIGNATURE:
        return "vdi"
    if len(tail) == 512 and _at(tail, 0, b"conectix"):
        return "vhd"
    if raw_signature(head) is not None:
        return "raw"
    return None


def raw_signature(head: bytes) -> str | None:
    """What marks ``head`` as the start of a raw disk image (``mbr``, ``gpt``, ``ext``, …)."""
    for what, offset, magic in _RAW:
        if _at(head, offset, magic):
            return what
    if _u16le(head, 1024 + 56) == _EXT_MAGIC:
        return "ext"
    for base in (8192, 65536):  # UFS1, UFS2 superblocks; fs_magic at 1372
        if _u32le(head, base + 1372) in _UFS_MAGICS:
            return "ufs"
    if _u32le(head, 4096) == _MD_MAGIC:  # md superblock 1.2
        return "md"
    if _at(head, 510, b"\x55\xaa"):
        return "mbr"
    return None


def qcow2_backing(header: bytes) -> str | None:
    """The backing file name a qcow2 header names (None: no backing file).

    ``header`` is the file's first bytes (at least up to the end of the name; the name is
    at most :data:`QCOW2_NAME_MAX` bytes within the first :data:`QCOW2_HEADER_MAX`).
    """
    if not isinstance(header, bytes):
        raise DetectError("expected bytes")
    if not _at(header, 0, b"QFI\xfb"):
        raise DetectError("not a qcow2 image")
    if len(header) < 20:
        raise DetectError("qcow2 header truncated")
    version, offset, size = struct.unpack_from(">IQI", header, 4)
    if version not in (2, 3):
        raise DetectError(f"qcow2 version {version} unknown")
    if offset == 0 or size == 0:
        return None
    if size > QCOW2_NAME_MAX:
        raise DetectError(f"qcow2 backing file name of {size} bytes (at most {QCOW2_NAME_MAX})")
    if offset < 20 or offset + size > QCOW2_HEADER_MAX:
        raise DetectError(f"qcow2 backing file name at offset {offset}, outside the header")
    if offset + size > len(header):
        raise DetectError("qcow2 backing file name past the end of the file")
    raw = header[offset : offset + size]
    if b"\0" in raw:
        raise DetectError("qcow2 backing file name holds a NUL byte")
    return os.fsdecode(raw)


def _read(path: Path, size: int, tail: bool = False) -> tuple[bytes, bytes]:
    """The first ``size`` bytes of a regular file (and its last 512 if ``tail``)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise DetectError(f"{path}: {e.strerror}") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise DetectError(f"{path}: not a regular file")
        head = os.pread(fd, min(size, st.st_size), 0)
        end = os.pread(fd, 512, st.st_size - 512) if tail and st.st_size >= 512 else b""
    except OSError as e:
        raise DetectError(f"{path}: {e.strerror}") from e
    finally:
        os.close(fd)
    return head, end


def detect_file(path: Path) -> str | None:
    """:func:`detect` on a file (a bounded read of its start and end)."""
    head, tail = _read(path, HEAD, tail=True)
    return detect(head, tail)


def backing_file(path: Path) -> str | None:
    """The backing file a qcow2 image names (as written in it), None for no backing file or
    an image of another format."""
    head, _ = _read(path, 4096)
    if not _at(head, 0, b"QFI\xfb"):
        return None
    if len(head) >= 20:
        offset, size = struct.unpack_from(">QI", head, 8)
        if len(head) < offset + size <= QCOW2_HEADER_MAX:  # the name is past the first 4 KiB
            head, _ = _read(path, offset + size)
    return qcow2_backing(head)
