"""A small scratch guest with awkward files, built with libguestfs for the collector tests.

Disk (128 MiB, MBR):
  p1 ext4 "ROOT": a Linux-like tree with symlinks (absolute, relative, a loop, a dangling
     one, directory symlinks), a FIFO, a 2 GiB sparse file, a non-UTF-8 name, an ELF binary,
     a dpkg status file, an apk database, a pacman database.
  p2 ext4 "WIN": /windows/system32/config/system (a real SYSTEM hive, lowercase names),
     /var/lib/rpm/rpmdb.sqlite (the phony Fedora database, 172 packages).
  p3 LUKS (passphrase "s3cret") -> VG "vgcrypt" -> LV "lv0", ext4 "INLUKS" with /hello.
"""

import io
import lzma
import os
import shutil
import struct
import subprocess
import tarfile
import zlib
from pathlib import Path

import guestfs

from tests.oracles import SHARED

TESTDATA = SHARED / "testdata"
PHONY = TESTDATA / "libguestfs-phony"
LUKS_KEY = "s3cret"
MiB = 1024 * 1024

OS_RELEASE = b'NAME="Scratch"\nID=scratch\nVERSION_ID=1.0\n'
APK_DB = b"C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nU:https://musl.libc.org/\nT:the C library\n" \
    b"F:lib\nR:libc.musl-x86_64.so.1\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\nT:Size optimized\n\n"
NON_UTF8 = b"caf\xe9.conf"


def _root_tar(path: Path) -> None:
    def add(tf: tarfile.TarFile, name: str | bytes, data: bytes = b"", **kw: object) -> None:
        if isinstance(name, bytes):
            name = name.decode("utf-8", "surrogateescape")
        info = tarfile.TarInfo(name)
        for k, v in kw.items():
            setattr(info, k, v)
        if info.type == tarfile.REGTYPE:
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        else:
            tf.addfile(info)

    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT, encoding="utf-8",
                      errors="surrogateescape") as tf:
        for d in ("etc", "usr", "usr/lib", "usr/bin", "var", "var/lib", "var/lib/dpkg",
                  "var/lib/pacman", "var/lib/pacman/local", "var/lib/pacman/local/test-0.1-1",
                  "lib", "lib/apk", "lib/apk/db", "dev"):
            add(tf, d, type=tarfile.DIRTYPE, mode=0o755)
        add(tf, "usr/lib/os-release", OS_RELEASE)
        add(tf, "etc/os-release", type=tarfile.SYMTYPE, linkname="/usr/lib/os-release")
        add(tf, "etc/os-release-rel", type=tarfile.SYMTYPE, linkname="../usr/lib/os-release")
        add(tf, "etc/hostname", b"scratchhost\n")
        add(tf, "etc/loop1", type=tarfile.SYMTYPE, linkname="loop2")
        add(tf, "etc/loop2", type=tarfile.SYMTYPE, linkname="loop1")
        add(tf, "etc/dangling", type=tarfile.SYMTYPE, linkname="/nowhere/at/all")
        add(tf, "etc/escape", type=tarfile.SYMTYPE, linkname="../../../../etc/hostname")
        add(tf, "etc/fifo", type=tarfile.FIFOTYPE)
        add(tf, b"etc/" + NON_UTF8, b"bytes \xff\xfe not utf-8\n")
        add(tf, "bin", type=tarfile.SYMTYPE, linkname="usr/bin")
        add(tf, "sbin", type=tarfile.SYMTYPE, linkname="/usr/bin")
        add(tf, "usr/bin/true", Path("/bin/true").read_bytes(), mode=0o755)
        add(tf, "var/lib/dpkg/status", (PHONY / "debian-packages").read_bytes())
        add(tf, "var/lib/pacman/local/test-0.1-1/desc", (PHONY / "archlinux-package").read_bytes())
        add(tf, "var/lib/pacman/local/test-0.1-1/files", b"%FILES%\nusr/\n")
        add(tf, "lib/apk/db/installed", APK_DB)
        add(tf, "etc/big-text", b"x" * (3 * MiB // 2))


def _win_tar(path: Path, work: Path) -> None:
    hive = lzma.decompress((TESTDATA / "real-hives" / "SYSTEM.xz").read_bytes())
    sqlite = work / "rpmdb.sqlite"
    sql = lzma.decompress((PHONY / "fedora-db.sql.xz").read_bytes())
    subprocess.run(["sqlite3", str(sqlite)], input=sql, check=True)
    with tarfile.open(path, "w") as tf:
        for d in ("windows", "windows/system32", "windows/system32/config", "var", "var/lib",
                  "var/lib/rpm"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tf.addfile(info)
        info = tarfile.TarInfo("windows/system32/config/system")
        info.size = len(hive)
        tf.addfile(info, io.BytesIO(hive))
        tf.add(sqlite, "var/lib/rpm/rpmdb.sqlite")


def build(dest: Path) -> Path:
    """Build the scratch disk at ``dest`` (raw) if it is not there yet; return it."""
    if dest.exists():
        return dest
    work = dest.parent / (dest.name + ".work")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    _root_tar(work / "root.tar")
    _win_tar(work / "win.tar", work)
    tmp = work / "disk.img"
    with tmp.open("wb") as f:
        f.truncate(128 * MiB)
    g = guestfs.GuestFS(python_return_dict=True)
    g.add_drive_opts(str(tmp), format="raw", readonly=False)
    g.launch()
    g.part_init("/dev/sda", "msdos")
    g.part_add("/dev/sda", "p", 2048, 2048 + 40 * 2048 - 1)
    g.part_add("/dev/sda", "p", 2048 + 40 * 2048, 2048 + 70 * 2048 - 1)
    g.part_add("/dev/sda", "p", 2048 + 70 * 2048, -2048)
    g.mkfs("ext4", "/dev/sda1", label="ROOT")
    g.mkfs("ext4", "/dev/sda2", label="WIN")
    g.mount("/dev/sda1", "/")
    g.tar_in(str(work / "root.tar"), "/")
    g.touch("/etc/sparse-2g")
    g.truncate_size("/etc/sparse-2g", 2 * 1024 * MiB)
    g.umount_all()
    g.mount("/dev/sda2", "/")
    g.tar_in(str(work / "win.tar"), "/")
    g.umount_all()
    g.luks_format("/dev/sda3", LUKS_KEY, 0)
    g.cryptsetup_open("/dev/sda3", LUKS_KEY, "cr")
    g.pvcreate("/dev/mapper/cr")
    g.vgcreate("vgcrypt", ["/dev/mapper/cr"])
    g.lvcreate("lv0", "vgcrypt", 8)
    g.mkfs("ext4", "/dev/vgcrypt/lv0", label="INLUKS")
    g.mount("/dev/vgcrypt/lv0", "/")
    g.write("/hello", b"hello from inside LUKS\n")
    g.umount_all()
    g.vg_activate_all(False)
    g.cryptsetup_close("/dev/mapper/cr")
    g.shutdown()
    g.close()
    os.replace(tmp, dest)
    shutil.rmtree(work, ignore_errors=True)
    return dest


# ---- the second scratch disk: built on the host (sfdisk, mke2fs), no appliance ----------

#: GPT partitions on the odd disk.
ODD_PARTS = 64
ICON_PATH = "/usr/share/icons/hicolor/96x96/apps/fedora-logo-icon.png"
LATIN1 = b"caf\xe9=cr\xe8me\n"


def png(width: int, height: int) -> bytes:
    """A small valid PNG (all transparent) of the given size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\0" + bytes(4 * width) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


ICON = png(32, 32)


def build_odd(dest: Path) -> Path:
    """A 96 MiB GPT disk with 64 partitions: p1 ext4 "ODD" (a Fedora logo, a Latin-1 config
    file, a directory symlink loop), p2 ext2 that the kernel refuses to mount (an unknown
    incompatible feature), p3… empty. Built with sfdisk and mke2fs on the host."""
    if dest.exists():
        return dest
    sfdisk, mke2fs = shutil.which("sfdisk"), shutil.which("mke2fs")
    if sfdisk is None or mke2fs is None:
        raise RuntimeError("building the odd scratch disk needs sfdisk and mke2fs")
    work = dest.parent / (dest.name + ".work")
    shutil.rmtree(work, ignore_errors=True)
    tree = work / "tree"
    (tree / ICON_PATH[1:]).parent.mkdir(parents=True)
    (tree / ICON_PATH[1:]).write_bytes(ICON)
    (tree / "etc").mkdir()
    (tree / "etc" / "latin1.conf").write_bytes(LATIN1)
    (tree / "etc" / "a").symlink_to("b")
    (tree / "etc" / "b").symlink_to("a")
    tmp = work / "odd.img"
    with tmp.open("wb") as f:
        f.truncate(96 * MiB)
    lines = ["label: gpt", "first-lba: 2048", "start=2048, size=16MiB, name=odd",
             "size=4MiB, name=broken"]
    lines += [f"size=1MiB, name=p{n}" for n in range(3, ODD_PARTS + 1)]
    subprocess.run([sfdisk, "-q", str(tmp)], input="\n".join(lines) + "\n", text=True,
                   check=True, capture_output=True)
    p1, p2 = 2048 * 512, 2048 * 512 + 16 * MiB
    run = {"check": True, "capture_output": True}
    subprocess.run([mke2fs, "-q", "-F", "-t", "ext4", "-L", "ODD", "-d", str(tree),
                    "-E", f"offset={p1}", str(tmp), "16M"], **run)  # type: ignore[call-overload]
    subprocess.run([mke2fs, "-q", "-F", "-t", "ext2", "-L", "BROKEN", "-E", f"offset={p2}",
                    str(tmp), "4M"], **run)  # type: ignore[call-overload]
    with tmp.open("r+b") as f:  # s_feature_incompat |= an unknown bit: mount refuses
        f.seek(p2 + 1024 + 0x60)
        (incompat,) = struct.unpack("<I", f.read(4))
        f.seek(p2 + 1024 + 0x60)
        f.write(struct.pack("<I", incompat | 0x10000000))
    os.replace(tmp, dest)
    shutil.rmtree(work, ignore_errors=True)
    return dest
