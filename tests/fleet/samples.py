"""Headers of every kind of disk image the fleet recognizes, and files it must not take for
one (shared by the detection tests and the fuzz target ``fleet.detect``)."""

from __future__ import annotations

import struct

from tests.collectors.test_partitions import mbr


def qcow2(backing: bytes | None = None, version: int = 3, offset: int = 512) -> bytes:
    """A qcow2 header (the first 4 KiB), naming ``backing`` as its backing file."""
    head = bytearray(4096)
    head[:4] = b"QFI\xfb"
    if backing is None:
        struct.pack_into(">IQI", head, 4, version, 0, 0)
    else:
        struct.pack_into(">IQI", head, 4, version, offset, len(backing))
        head[offset : offset + len(backing)] = backing
    return bytes(head)


def _at(offset: int, magic: bytes, size: int = 72 * 1024) -> bytes:
    data = bytearray(size)
    data[offset : offset + len(magic)] = magic
    return bytes(data)


def images() -> dict[str, tuple[bytes, bytes, str]]:
    """name -> (head, tail, the format detect() must say)."""
    ext = bytearray(4096)
    struct.pack_into("<H", ext, 1024 + 56, 0xEF53)
    vdi = bytearray(512)
    vdi[:4] = b"<<< "
    struct.pack_into("<I", vdi, 0x40, 0xBEDA107F)
    return {
        "qcow2": (qcow2(), b"", "qcow2"),
        "qcow2-backed": (qcow2(b"base.qcow2"), b"", "qcow2"),
        "vmdk-sparse": (b"KDMV" + bytes(508), b"", "vmdk"),
        "vmdk-descriptor": (b"# Disk DescriptorFile\nversion=1\n", b"", "vmdk"),
        "vhdx": (b"vhdxfile" + bytes(504), b"", "vhdx"),
        "vhd-dynamic": (b"conectix" + bytes(504), b"", "vhd"),
        "vhd-fixed": (bytes(4096), b"conectix" + bytes(504), "vhd"),
        "vdi": (bytes(vdi), b"", "vdi"),
        "mbr": (bytes(mbr([(0x83, 2048, 4096)])) + bytes(512), b"", "raw"),
        "gpt": (_at(512, b"EFI PART", 4096), b"", "raw"),
        "luks": (b"LUKS\xba\xbe\x00\x01" + bytes(504), b"", "raw"),
        "lvm-pv": (_at(512, b"LABELONE", 2048), b"", "raw"),
        "ext4": (bytes(ext), b"", "raw"),
        "xfs": (b"XFSB" + bytes(508), b"", "raw"),
        "ntfs": (b"\xebR\x90NTFS    " + bytes(501), b"", "raw"),
        "btrfs": (_at(65536 + 64, b"_BHRfS_M"), b"", "raw"),
        "ufs2": (_at(65536 + 1372, struct.pack("<I", 0x19540119)), b"", "raw"),
    }


def not_images() -> dict[str, bytes]:
    """Files that are no disk image."""
    return {
        "empty": b"",
        "text": b"just some notes\n" * 100,
        "zeros": bytes(1 << 16),
        "elf": b"\x7fELF\x02\x01\x01" + bytes(1000),
        "vdi-without-signature": b"<<< Oracle VM VirtualBox Disk Image >>>\n" + bytes(100),
        "short-mbr": b"\x55\xaa",
    }
