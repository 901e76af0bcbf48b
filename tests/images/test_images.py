"""Checks that the phony guests are laid out as intended.

The appliance tests open a few built images read-only in one shared launch.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guestinspect.collectors.partitions import read_table
from guestinspect.phony.build import disk_paths, guest_hash
from guestinspect.phony.content import EM_X86_64, elf_machine, host_x86_64_elf
from tests.images import GUESTS, content, image, images, openbsd

# --- No appliance needed ----------------------------------------------------------------------


def test_pe32_header_is_i386_console() -> None:
    exe = content.pe32_i386_executable()
    assert exe[:2] == b"MZ"
    pe = struct.unpack_from("<I", exe, 0x3C)[0]
    assert exe[pe : pe + 4] == b"PE\0\0"
    assert struct.unpack_from("<H", exe, pe + 4)[0] == 0x014C  # i386
    assert struct.unpack_from("<H", exe, pe + 24)[0] == 0x010B  # PE32
    assert struct.unpack_from("<H", exe, pe + 24 + 68)[0] == 3  # console subsystem


def test_mounted_device_values() -> None:
    # As in the upstream SYSTEM hive: "1234" then offset 0x10000000 (sector 524288).
    assert content.mbr_mounted_device(b"1234", 524288 * 512) == bytes.fromhex(
        "313233340000001000000000"
    )
    guid = "5C3E7E4F-1D2B-4A6C-9E8F-0123456789AB"
    data = content.gpt_mounted_device(guid)
    assert data[:8] == b"DMIO:ID:" and data[8:12] == bytes.fromhex("4f7e3e5c")


def test_host_elf_is_x86_64() -> None:
    assert elf_machine(host_x86_64_elf()) == EM_X86_64


def test_openbsd_disklabel_is_what_linux_lists() -> None:
    """The builder's disklabel, as the project's decoder (Linux's rules) reads it: a, b, d
    are partitions 5, 6, 7; its checksum (the xor of its 16-bit words) is right."""
    sectors = openbsd.DISK_SIZE // 512
    label = openbsd.disklabel(sectors, [(1000, 64, 7), (200, 1064, 1), (sectors, 0, 0),
                                        (500, 1264, 7)])
    xor = 0
    for (word,) in struct.iter_unpack("<H", label[: 148 + 16 * 16]):
        xor ^= word
    assert xor == 0 and label[24:32] == openbsd.DUID
    disk = bytearray(2048 * 512)
    struct.pack_into("<B3xB3xII", disk, 0x1BE, 0x80, 0xA6, 64, sectors - 64)
    disk[510:512] = b"\x55\xaa"
    disk[65 * 512 : 66 * 512] = label
    table = read_table(bytes(disk[:65536]), lambda n, off: bytes(disk[off : off + n]))
    assert table is not None
    assert [(p.num, p.start // 512, p.size // 512, p.bsd_fstype) for p in table.parts] == [
        (1, 64, sectors - 64, None), (5, 64, 1000, 7), (6, 1064, 200, 1), (7, 1264, 500, 7)]


def test_cache_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUESTINSPECT_IMAGE_CACHE", str(tmp_path))
    md = disk_paths(GUESTS["fedora-md"])
    assert [p.name for p in md] == [
        f"fedora-md-{guest_hash(GUESTS['fedora-md'])}-{i}.img" for i in (1, 2)
    ]
    assert all(p.parent == tmp_path for p in md)
    assert guest_hash(GUESTS["debian"]) != guest_hash(GUESTS["ubuntu"])


# --- With one shared appliance ----------------------------------------------------------------

CHECKED = ["debian", "windows", "fedora"]  # /dev/sda, /dev/sdb, /dev/sdc


@pytest.fixture(scope="module")
def g() -> Iterator[Any]:
    guestfs = pytest.importorskip("guestfs")
    import os

    os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    paths = [image(name) for name in CHECKED]
    handle = guestfs.GuestFS(python_return_dict=True)
    for path in paths:
        handle.add_drive_opts(str(path), format="raw", readonly=True)
    handle.launch()
    yield handle
    handle.close()


def _read(g: Any, dev: str, path: str) -> str:
    g.umount_all()
    g.mount_ro(dev, "/")
    text: str = g.cat(path)
    return text


@pytest.mark.appliance
def test_debian_layout(g: Any) -> None:
    assert {"/dev/debian/root", "/dev/debian/usr", "/dev/debian/var", "/dev/debian/home"} <= set(
        g.lvs()
    )
    assert g.vfs_label("/dev/sda1") == "BOOT"
    assert g.vfs_uuid("/dev/debian/home") == "01234567-0123-0123-0123-012345678905"
    assert _read(g, "/dev/debian/root", "/etc/hostname") == "debian.invalid"
    assert "/dev/debian/usr /usr" in g.cat("/etc/fstab")
    assert g.file_architecture("/bin/ls") == "x86_64"
    g.umount_all()
    g.mount_ro("/dev/debian/var", "/")
    assert g.cat("/lib/dpkg/status").startswith("Package: test1\n")


@pytest.mark.appliance
def test_windows_layout(g: Any, tmp_path: Path) -> None:
    assert g.pread_device("/dev/sdb", 4, 0x1B8) == b"1234"
    assert g.vfs_type("/dev/sdb2") == "ntfs"
    assert g.vfs_uuid("/dev/sdb2") == "091A29CC586B609C"
    g.umount_all()
    g.mount_ro("/dev/sdb2", "/")
    assert g.file_architecture("/Windows/System32/cmd.exe") == "i386"
    g.download("/Windows/System32/Config/SYSTEM", str(tmp_path / "SYSTEM"))
    hivex = pytest.importorskip("hivex")
    h = hivex.Hivex(str(tmp_path / "SYSTEM"))
    mounted = h.node_get_child(h.root(), "MountedDevices")
    value = h.node_get_value(mounted, "\\DosDevices\\C:")
    assert h.value_value(value)[1] == b"1234" + struct.pack("<Q", 524288 * 512)


@pytest.mark.appliance
def test_fedora_layout(g: Any, tmp_path: Path) -> None:
    assert "/dev/VG/Root" in g.lvs()
    assert g.vfs_label("/dev/VG/Root") == "ROOT"
    assert _read(g, "/dev/VG/Root", "/etc/redhat-release") == "Fedora release 14 (Phony)"
    g.download("/var/lib/rpm/rpmdb.sqlite", str(tmp_path / "rpmdb.sqlite"))
    with sqlite3.connect(tmp_path / "rpmdb.sqlite") as db:
        (count,) = db.execute("SELECT count(*) FROM Packages").fetchone()
    assert count == 172


@pytest.mark.appliance
def test_multi_disk_guest_paths() -> None:
    disks = images("fedora-md")
    assert len(disks) == 2 and all(p.is_file() for p in disks)
    assert images("debian") == [image("debian")]
