"""The superblock probe (collectors/volumes/probe.py) against blkid itself: filesystems and
containers made by their own tools (mke2fs, mkfs.xfs, mkfs.btrfs, mkfs.fat, mkntfs, mkswap,
cryptsetup) in small sparse files, probed by both; and hostile superblocks."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from guestinspect.collectors.volumes.probe import MAX_READ, ProbeError, probe

PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
TAGS = ("TYPE", "UUID", "LABEL", "VERSION")
UUID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

#: name -> (size in MiB, command; {f} is the file).
MAKERS = {
    "ext2": (8, f"mkfs.ext2 -q -F -L BOOT -U {UUID} {{f}}"),
    "ext3": (8, "mkfs.ext3 -q -F -L root {f}"),
    "ext4": (16, f"mkfs.ext4 -q -F -L ROOT -U {UUID} {{f}}"),
    "ext4-nojournal": (8, "mkfs.ext4 -q -F -O ^has_journal {f}"),
    "ext4-64bit": (16, "mkfs.ext4 -q -F -O 64bit,metadata_csum {f}"),
    "ext2-large-file": (8, "mkfs.ext2 -q -F -O large_file,^resize_inode {f}"),
    "xfs": (320, f"mkfs.xfs -q -f -L data -m uuid={UUID} {{f}}"),
    "btrfs": (128, f"mkfs.btrfs -q -f -L pool -U {UUID} {{f}}"),
    "fat12": (2, "mkfs.fat -F 12 -n ESP -i 1234ABCD {f}"),
    "fat16": (32, "mkfs.fat -F 16 -i DEADBEEF {f}"),
    "fat32": (64, "mkfs.fat -F 32 -n 'EFI SYSTEM' -i 0000F00D {f}"),
    "ntfs": (16, "mkntfs -q -F -f -L Windows {f}"),
    "ntfs-nolabel": (16, "mkntfs -q -F -f {f}"),
    "swap": (8, f"mkswap -L swap0 -U {UUID} {{f}}"),
    "luks1": (4, "echo -n k | cryptsetup luksFormat -q --type luks1 "
                 "--pbkdf-force-iterations 1000 --key-file - {f}"),
    "luks2": (20, "echo -n k | cryptsetup luksFormat -q --type luks2 --label secret "
                  "--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file - {f}"),
}


def _blkid(path: Path) -> dict[str, str]:
    out = subprocess.run(["blkid", "-p", "-o", "export", str(path)], capture_output=True,
                         text=True, check=False, env={**os.environ, "PATH": PATH}).stdout
    tags = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    # export escapes white space and the like with a backslash
    return {k: re.sub(r"\\(.)", r"\1", v) for k, v in tags.items() if k in TAGS}


def _probe(path: Path) -> dict[str, str]:
    data = path.read_bytes()
    tags = probe(lambda off, n: data[off : off + n], len(data))
    return {k: v for k, v in tags.items() if k in TAGS}


@pytest.mark.parametrize("name", list(MAKERS))
def test_probe_says_what_blkid_says(name: str, tmp_path: Path) -> None:
    size, command = MAKERS[name]
    tool = command.split()[0] if not command.startswith("echo") else "cryptsetup"
    assert shutil.which(tool, path=PATH), f"{tool}: install it (APT_PACKAGES in the Makefile)"
    f = tmp_path / "fs.img"
    with f.open("wb") as out:
        out.truncate(size << 20)
    subprocess.run(command.format(f=f), shell=True, check=True, capture_output=True,
                   env={**os.environ, "PATH": PATH})
    expected = _blkid(f)
    assert expected.get("TYPE"), expected
    assert _probe(f) == expected


def test_vfat_label_is_the_root_directory_entry(tmp_path: Path) -> None:
    """blkid's LABEL of a FAT is its root directory's volume entry, not the boot sector's."""
    f = tmp_path / "fat.img"
    with f.open("wb") as out:
        out.truncate(2 << 20)
    subprocess.run(["mkfs.fat", "-F", "12", "-n", "OLD", str(f)], check=True,
                   capture_output=True, env={**os.environ, "PATH": PATH})
    data = bytearray(f.read_bytes())
    data[43:54] = b"BOOTSECTOR "  # the boot sector's label only
    f.write_bytes(bytes(data))
    assert _probe(f)["LABEL"] == _blkid(f)["LABEL"] == "OLD"


def _reader(data: bytes):  # type: ignore[no-untyped-def]
    def read(offset: int, size: int) -> bytes:
        assert 0 <= offset and 0 < size <= MAX_READ
        return data[offset : offset + size]

    return read


def test_nothing_known_is_no_tags() -> None:
    for data in (b"", bytes(4096), b"\xff" * 300000, os.urandom(70000)):
        assert probe(_reader(data), len(data)) == {}


def test_hostile_ntfs_volume_record() -> None:
    """An NTFS whose $Volume record's attributes point outside it, loop, or are empty."""
    boot = bytearray(512)
    boot[3:11] = b"NTFS    "
    struct.pack_into("<HB", boot, 11, 512, 8)
    struct.pack_into("<QQQb", boot, 40, 8192, 4, 8, -10)  # sectors, $MFT, $MFTMirr, 1 KiB
    struct.pack_into("<Q", boot, 72, 0x1122334455667788)
    data = bytearray(64 * 1024)
    data[:512] = boot
    for attr_offset, length in ((1020, 8), (56, 0), (56, 8), (56, 0xFFFFFFF0)):
        record = bytearray(1024)
        record[:4] = b"FILE"
        struct.pack_into("<HxxxxxxI", record, 20, attr_offset, 1024)
        struct.pack_into("<II", record, 56, 0x30, length)
        data[4 * 4096 : 4 * 4096 + 1024] = b"FILE" + bytes(1020)
        data[4 * 4096 + 3 * 1024 : 4 * 4096 + 4 * 1024] = record
        tags = probe(_reader(bytes(data)), len(data))
        assert tags == {"TYPE": "ntfs", "UUID": "1122334455667788"}


def test_fat32_root_directory_chain_that_loops() -> None:
    """A FAT32 root directory whose cluster chain points to itself: the walk ends."""
    boot = bytearray(512)
    boot[0] = 0xEB
    struct.pack_into("<HBHBHHBH", boot, 11, 512, 1, 32, 2, 0, 0, 0xF8, 0)
    struct.pack_into("<I", boot, 32, 70000)
    struct.pack_into("<I", boot, 36, 600)  # sectors per FAT
    struct.pack_into("<I", boot, 44, 2)  # root cluster
    boot[67:71], boot[82:90], boot[510:512] = b"\x01\x02\x03\x04", b"FAT32   ", b"\x55\xaa"
    data = bytearray(70000 * 512 // 16)  # only the start is read
    data[:512] = boot
    struct.pack_into("<I", data, 32 * 512 + 2 * 4, 2)  # cluster 2 -> cluster 2
    data[(32 + 1200) * 512 : (32 + 1200) * 512 + 512] = b"\x20" * 512  # no end of directory
    size = 70000 * 512
    tags = probe(lambda off, n: bytes(data[off : off + n]).ljust(n, b"\0"), size)
    assert tags == {"TYPE": "vfat", "UUID": "0403-0201", "VERSION": "FAT32"}


def test_a_read_that_fails_is_a_probe_error() -> None:
    def read(offset: int, size: int) -> bytes:
        raise OSError("libqcow: unable to read")

    with pytest.raises(ProbeError, match="unable to read"):
        probe(read, 1 << 20)
