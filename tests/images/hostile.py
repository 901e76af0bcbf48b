"""Hostile guests (issue 10): complete, small guests each with ONE damaged or malicious part.

Each is an otherwise ordinary guest made of the phony guests' pieces (guests.py), so that an
inspection of it must report everything but the damaged part, plus a warning naming it:

| guest | damaged part | class |
|---|---|---|
| hostile-hive | SOFTWARE hive: its second hbin page's magic zeroed (hivex refuses it) | 1 |
| hostile-hive-crash | SYSTEM hive: the real Windows 7 one, cut where hivex segfaults | 1 |
| hostile-rpmdb | rpmdb.sqlite: NULL, integer, text and garbage rows among the good ones | 2 |
| hostile-pe | SysWOW64/explorer.exe cut inside its optional header | 3 |
| hostile-osrelease | os-release VERSION_ID of 5,000 digits | 4 |
| hostile-regex | centos- and redhat-release: a 64 KiB line that backtracking makes cubic | 5 |
| hostile-hostname | /etc/hostname with \\x01 and \\x0b | 6 |
| hostile-dpkg | dpkg status: 3 records of 1,000,000 continuation lines, damaged lines | 7 |

tests/cli/test_hostile_guests.py inspects them end to end.
"""

from __future__ import annotations

import lzma
import sqlite3
import struct
from pathlib import Path

from guestinspect.phony.build import Ctx, Guest, MiB
from tests.images import content
from tests.images.guests import (
    _FEDORA_DATA,
    _WINDOWS_DATA,
    ALPINE_APK_INSTALLED,
    ALPINE_OS_RELEASE,
    DEBIAN12_OS_RELEASE,
    FEDORA_FSTAB,
    SECTOR,
    UUID_ROOT,
    WINDOWS_GPT_EXPLORER,
    _ext,
    _fedora_files,
    _ntfs,
    _scratch,
    _two_partitions,
    _windows_files,
)
from tests.oracles import SHARED

HBIN = 0x1000  # hive pages start here, each with the magic "hbin"
HOSTILE_DISK_SIGNATURE = b"HOST"
HOSTILE_NTFS_SERIAL = "0C1D2E3F40516273"

# --- Class 1: a hive hivex refuses --------------------------------------------------------------


def damaged_software_hive(workdir: Path) -> Path:
    """The phony SOFTWARE hive with the magic of its last hbin page zeroed: hivex refuses it
    ("Operation not supported"); in its unsafe mode it opens it but cannot list the root's
    subkeys (they are in that page)."""
    hive = content.software_hive(workdir)
    data = bytearray(hive.read_bytes())
    pages = [off for off in range(HBIN, len(data), HBIN) if data[off : off + 4] == b"hbin"]
    if len(pages) < 2:
        raise RuntimeError(f"{hive}: expected two hbin pages or more, found {len(pages)}")
    data[pages[-1] : pages[-1] + 4] = bytes(4)
    damaged = workdir / "SOFTWARE.damaged"
    damaged.write_bytes(bytes(data))
    return damaged


def _windows_one_partition(ctx: Ctx, explorer: dict[str, bytes] | None = None) -> None:
    """Windows 7 (phony) on one NTFS partition from sector 64 of an MBR disk, as C:."""
    g = ctx.g
    dev = ctx.disks[0]
    g.part_init(dev, "mbr")
    g.part_add(dev, "p", 64, -64)
    g.pwrite_device(dev, HOSTILE_DISK_SIGNATURE, 0x1B8)
    _ntfs(ctx, ctx.part(1), HOSTILE_NTFS_SERIAL)
    g.mount(ctx.part(1), "/")
    mounted_c = content.mbr_mounted_device(HOSTILE_DISK_SIGNATURE, 64 * SECTOR)
    _windows_files(ctx, content.system_hive(_scratch(ctx), mounted_c), explorer)


def build_hostile_hive(ctx: Ctx) -> None:
    _windows_one_partition(ctx)
    ctx.upload(damaged_software_hive(_scratch(ctx)), "/Windows/System32/Config/SOFTWARE")


def segfaulting_system_hive(workdir: Path) -> Path:
    """The real Windows 7 SYSTEM hive (shared/testdata/real-hives) with 4 bytes cut at 5930808
    and cut short at 6102156 bytes, as fuzz/targets/registry.py found it: hivex 1.3.x refuses
    it, and dies of SIGSEGV reading it in its unsafe mode (the collector's retry)."""
    data = bytearray(lzma.decompress((SHARED / "testdata" / "real-hives" / "SYSTEM.xz")
                                     .read_bytes()))
    del data[5930808:5930812]
    del data[6102156:]
    path = workdir / "SYSTEM.segv"
    path.write_bytes(bytes(data))
    return path


def build_hostile_hive_crash(ctx: Ctx) -> None:
    _windows_one_partition(ctx)
    ctx.upload(segfaulting_system_hive(_scratch(ctx)), "/Windows/System32/Config/SYSTEM")


# --- Class 2: a damaged rpmdb.sqlite ------------------------------------------------------------

#: hnum -> what the row's blob column holds instead of a header (the good rows keep theirs).
BAD_RPM_ROWS: dict[int, object] = {
    100001: None,
    100002: 2**62,  # bytes(2**62) would try to allocate 4 EiB
    100003: -1,
    100004: 1.5,
    100005: "not a header",
    100006: bytes(range(256)) * 4,  # garbage
    100007: struct.pack(">II", 0x7FFFFFFF, 0x7FFFFFFF),  # claims 2**31 index entries
    100008: struct.pack(">II", 1, 4) + struct.pack(">IIII", 1000, 6, 1 << 30, 1) + b"abc\0",
}


def damaged_rpmdb(workdir: Path) -> Path:
    """Fedora's rpmdb.sqlite whose Packages table (its NOT NULL dropped) also holds rows
    of BAD_RPM_ROWS."""
    good = content.fedora_rpmdb(workdir)
    db = workdir / "rpmdb-damaged.sqlite"
    db.unlink(missing_ok=True)
    db.write_bytes(good.read_bytes())
    con = sqlite3.connect(str(db))
    try:
        con.executescript(
            "ALTER TABLE Packages RENAME TO GoodPackages;"
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB);"
            "INSERT INTO Packages SELECT hnum, blob FROM GoodPackages;"
            "DROP TABLE GoodPackages;"
        )
        con.executemany("INSERT INTO Packages VALUES (?, ?)", sorted(BAD_RPM_ROWS.items()))
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()
    return db


def _fedora_two_partitions(ctx: Ctx, size: int) -> None:
    """Fedora 14 (phony) without LVM: sda1 ext2 BOOT (/boot), sda2 ext2 ROOT (/)."""
    _two_partitions(ctx, size)
    _ext(ctx, ctx.part(2), "ext2", UUID_ROOT, "ROOT")
    ctx.g.mount(ctx.part(2), "/")
    _fedora_files(ctx, ctx.part(1), FEDORA_FSTAB)


def build_hostile_rpmdb(ctx: Ctx) -> None:
    _fedora_two_partitions(ctx, 256 * MiB)
    ctx.upload(damaged_rpmdb(_scratch(ctx)), "/var/lib/rpm/rpmdb.sqlite")


# --- Class 3: a truncated PE file ---------------------------------------------------------------

#: Windows 7's explorer.exe (with bitmap 6801) cut inside its optional header: the PE
#: signature and file header are there, the data directories are not.
TRUNCATED_EXPLORER = WINDOWS_GPT_EXPLORER[: 0x40 + 4 + 20 + 16]


def build_hostile_pe(ctx: Ctx) -> None:
    """The damaged explorer.exe is the first the icon rules try (SysWOW64); a good one is in
    /Windows, the second place they look."""
    _windows_one_partition(ctx, {
        "/Windows/SysWOW64/explorer.exe": TRUNCATED_EXPLORER,
        "/Windows/explorer.exe": WINDOWS_GPT_EXPLORER,
    })


# --- Linux guests on one ext4 partition ---------------------------------------------------------

HOSTILE_LINUX_UUID = "01234567-0123-0123-0123-0123456789e1"


def _linux_root(ctx: Ctx) -> None:
    """MBR, one ext4 partition from sector 2048 (the root), mounted on /; /etc/fstab."""
    g = ctx.g
    g.part_init(ctx.disks[0], "mbr")
    g.part_add(ctx.disks[0], "p", 2048, -64)
    _ext(ctx, ctx.part(1), "ext4", HOSTILE_LINUX_UUID)
    g.mount(ctx.part(1), "/")
    ctx.mkdirs("/bin", "/etc", "/home", "/usr/bin", "/boot", "/var/lib")
    ctx.write("/etc/fstab", f"UUID={HOSTILE_LINUX_UUID} / ext4 defaults 0 1\n")
    ctx.elf("/bin/ls")


def _debian12(ctx: Ctx, hostname: bytes, dpkg_status: Path) -> None:
    _linux_root(ctx)
    ctx.mkdirs("/var/lib/dpkg", "/boot/grub")
    ctx.write("/etc/debian_version", "12.5\n")
    ctx.write("/etc/os-release", DEBIAN12_OS_RELEASE)
    ctx.write("/etc/hostname", hostname)
    ctx.upload(dpkg_status, "/var/lib/dpkg/status")
    ctx.g.touch("/boot/grub/grub.cfg")


# --- Class 4: a version of 5,000 digits ---------------------------------------------------------

#: Python refuses to make an int of more than 4,300 digits.
HUGE_VERSION_ID = "3." + "7" * 5000


def build_hostile_osrelease(ctx: Ctx) -> None:
    """Alpine 3.19 whose os-release VERSION_ID is HUGE_VERSION_ID (alpine-release is fine)."""
    _linux_root(ctx)
    ctx.mkdirs("/etc/apk", "/lib/apk/db")
    ctx.write("/etc/alpine-release", "3.19.1\n")
    os_release = ALPINE_OS_RELEASE.replace("VERSION_ID=3.19.1", f"VERSION_ID={HUGE_VERSION_ID}")
    assert HUGE_VERSION_ID in os_release
    ctx.write("/etc/os-release", os_release)
    ctx.write("/etc/hostname", "osrelease.invalid\n")
    ctx.write("/etc/apk/world", "busybox\nmusl\n")
    ctx.write("/lib/apk/db/installed", ALPINE_APK_INSTALLED)


# --- Class 5: a release line that makes backtracking regexes explode ----------------------------

#: 64 KiB of "CentOS release 1 ": for `CentOS.*release (\d+).*Update (\d+)` a backtracking
#: engine tries every CentOS, every later "release N", and scans to the end for "Update":
#: cubic (4 KiB: 0.6 s in Python's re; 64 KiB: about 40 minutes a pattern).
BACKTRACKING_LINE = ("CentOS release 1 " * 4000)[: 64 * 1024]


def build_hostile_regex(ctx: Ctx) -> None:
    """CentOS-like: rpm database, hostname; the release files' first line is BACKTRACKING_LINE."""
    _linux_root(ctx)
    ctx.mkdirs("/var/lib/rpm", "/usr/lib/rpm")
    line = BACKTRACKING_LINE + "\n"
    ctx.write("/etc/centos-release", line)
    ctx.write("/etc/redhat-release", line)
    ctx.write("/etc/hostname", "regex.invalid\n")
    ctx.upload(content.fedora_rpmdb(_scratch(ctx)), "/var/lib/rpm/rpmdb.sqlite")


# --- Class 6: control characters in the hostname -------------------------------------------------

HOSTILE_HOSTNAME = b"bad\x01host\x0bname.invalid\n"


def build_hostile_hostname(ctx: Ctx) -> None:
    _debian12(ctx, HOSTILE_HOSTNAME, content.data_file("debian-packages"))


# --- Class 7: a huge, partly damaged dpkg status --------------------------------------------------

#: Records of HUGE_PACKAGES, each with a Description of this many continuation lines: short
#: ones, for a parser that appends each to a string copies the string each time (quadratic:
#: 200,000 lines took 5 s, a million about 2 minutes).
HUGE_CONTINUATION_LINES = 1_000_000
HUGE_PACKAGES = ("huge-1", "huge-2", "huge-3")


def _huge_record(name: str) -> bytes:
    head = (
        f"Package: {name}\nStatus: installed ok\nPriority: optional\nSection: libs\n"
        f"Architecture: amd64\nVersion: 2.0-1\nDescription: {name}, a package with a long "
        "description\n"
    ).encode()
    line = b" .\n"
    return head + line * HUGE_CONTINUATION_LINES + b"\n"


#: Damaged lines among the records: no colon, a continuation before any field, NUL bytes,
#: invalid UTF-8, a field name of 10,000 characters, a CR-only line ending.
DAMAGED_DPKG = (
    b" a continuation line before any field\n"
    b"no colon on this line\n"
    b"Package: \xff\xfe\x00broken\x00\n"
    b"\x00\x00\x00\n"
    + b"X" * 10_000 + b": a long field name\n"
    b"Status\r: installed ok\r\n"
    b"\n"
)


def hostile_dpkg_status(workdir: Path) -> Path:
    """debian-packages (test1..3) after HUGE_PACKAGES and DAMAGED_DPKG: about 9 MB."""
    good = content.data_file("debian-packages").read_bytes().rstrip(b"\n") + b"\n\n"
    path = workdir / "dpkg-status"
    with path.open("wb") as f:
        f.write(DAMAGED_DPKG)
        for name in HUGE_PACKAGES:
            f.write(_huge_record(name))
            f.write(DAMAGED_DPKG)
        f.write(good)
    return path


def build_hostile_dpkg(ctx: Ctx) -> None:
    _debian12(ctx, b"dpkg.invalid\n", hostile_dpkg_status(_scratch(ctx)))


# --- The registry ---------------------------------------------------------------------------------

HOSTILE: list[Guest] = [
    Guest("hostile-hive", "Windows 7 (phony), one NTFS partition; SOFTWARE hive damaged",
          (128 * MiB,), build_hostile_hive, _WINDOWS_DATA),
    Guest("hostile-hive-crash", "Windows 7 (phony), one NTFS partition; a SYSTEM hive that "
          "kills hivex", (128 * MiB,), build_hostile_hive_crash, _WINDOWS_DATA),
    Guest("hostile-rpmdb", "Fedora 14 (phony) without LVM; rpmdb.sqlite with damaged rows",
          (256 * MiB,), build_hostile_rpmdb, _FEDORA_DATA),
    Guest("hostile-pe", "Windows 7 (phony), one NTFS partition; SysWOW64/explorer.exe truncated",
          (128 * MiB,), build_hostile_pe, _WINDOWS_DATA),
    Guest("hostile-osrelease", "Alpine 3.19 on ext4; os-release VERSION_ID of 5,000 digits",
          (64 * MiB,), build_hostile_osrelease),
    Guest("hostile-regex", "CentOS-like on ext4; 64 KiB release line that backtracking hates",
          (128 * MiB,), build_hostile_regex, _FEDORA_DATA),
    Guest("hostile-hostname", "Debian 12 on ext4; /etc/hostname with \\x01 and \\x0b",
          (64 * MiB,), build_hostile_hostname, ("debian-packages",)),
    Guest("hostile-dpkg", "Debian 12 on ext4; 9 MB partly damaged dpkg status",
          (64 * MiB,), build_hostile_dpkg, ("debian-packages",)),
]
