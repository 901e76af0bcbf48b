"""An OpenBSD guest, laid out as its installer lays out a disk without EFI.

An MBR whose one partition, of type 0xA6, covers the disk and holds OpenBSD's disklabel at its
sector 1: a (root), b (swap), c (the whole disk), d (/home). Linux lists a, b and d as the
disk's partitions 5, 6 and 7. The FFS2 filesystems are made on the host by `makefs`
(tests/images/bsd.py).

A module of its own: the image hash covers a builder's module, and the FreeBSD guests' images
(and the snapshots recorded from them) stay as they are. The hash does not cover bsd.py, whose
helpers this module uses: a change to `makefs_ufs` rebuilds this guest only by hand.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

from guestinspect.phony.build import Ctx, MiB
from tests.images.bsd import _tree, makefs_ufs

SECTOR = 512
DISK_SIZE = 160 * MiB
DISKMAGIC = 0x82564557
FS_UNUSED, FS_SWAP, FS_BSDFFS = 0, 1, 7
DTYPE_ESDI = 5  # what OpenBSD's wd(4) driver says of an IDE disk

SLICE_START = 64  # sectors: OpenBSD's fdisk -i
ROOT_SIZE = 96 * MiB
SWAP_SIZE = 16 * MiB
HOME_SIZE = 32 * MiB
#: Disklabel UID (OpenBSD's DUID): fstab may name a partition by it, 3f5c1b7e09a2d486.a
DUID = bytes.fromhex("3f5c1b7e09a2d486")
DISK_SIGNATURE = bytes.fromhex("0b5d0075")

OPENBSD_FSTAB = """\
/dev/wd0a / ffs rw 1 1
/dev/wd0d /home ffs rw,nodev,nosuid 1 2
/dev/wd0b none swap sw
"""

OPENBSD_MOTD = """\
OpenBSD 7.5 (GENERIC.MP) #82: Wed Mar 20 15:48:40 MDT 2024

Welcome to OpenBSD: The proactively secure Unix-like operating system.

Please use the sendbug(1) utility to report bugs in the system.
Before reporting a bug, please try to reproduce it with the latest
version of the code.  With bug reports, please try to ensure that
enough information to reproduce the problem is enclosed, and if a
known fix for it exists, include that as well.

"""


def disklabel(sectors: int, parts: list[tuple[int, int, int]]) -> bytes:
    """OpenBSD's disklabel of a disk of `sectors` sectors: (p_size, p_offset, p_fstype) for
    a, b, c, ... (sectors, absolute), in its little-endian on-disk form, checksum included."""
    label = bytearray(SECTOR)
    struct.pack_into("<IHH", label, 0, DISKMAGIC, DTYPE_ESDI, 0)
    label[8:24] = b"ESDI/IDE disk".ljust(16, b"\0")
    label[24:32] = DUID
    heads, per_track = 255, 63
    struct.pack_into("<IIIIII", label, 40, SECTOR, per_track, heads,
                     sectors // (heads * per_track), heads * per_track, sectors)
    struct.pack_into("<I", label, 132, DISKMAGIC)
    npartitions = 16
    struct.pack_into("<HII", label, 138, npartitions, 8192, 65536)
    for i, (size, offset, fstype) in enumerate(parts):
        fsize, frag = (2048, 8) if fstype == FS_BSDFFS else (0, 0)
        struct.pack_into("<IIIBBH", label, 148 + 16 * i, size, offset, fsize, fstype, frag,
                         1 if fstype == FS_BSDFFS else 0)
    end = 148 + 16 * npartitions
    checksum = 0
    for (word,) in struct.iter_unpack("<H", label[:end]):
        checksum ^= word
    struct.pack_into("<H", label, 136, checksum)
    return bytes(label)


def build_openbsd(ctx: Ctx) -> None:
    """OpenBSD 7.5: MBR partition 0xA6, disklabel a = / (FFS2), b = swap, d = /home (FFS2)."""
    g, dev = ctx.g, ctx.disks[0]
    scratch = ctx.workdir / ctx.name
    if scratch.exists():
        shutil.rmtree(scratch)
    root, home = scratch / "root", scratch / "home"
    root.mkdir(parents=True)
    _tree(
        root,
        {
            "/etc/fstab": OPENBSD_FSTAB,
            "/etc/myname": "openbsd75.invalid\n",
            "/etc/motd": OPENBSD_MOTD,
            "/etc/installurl": "https://cdn.openbsd.org/pub/OpenBSD\n",
            "/etc/hosts": "127.0.0.1\tlocalhost\n::1\t\tlocalhost\n",
            "/root/.profile": "PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin\n",
        },
        {},
        ["/bsd", "/bin/ls", "/bin/sh", "/usr/bin/true"],
    )
    (root / "home").mkdir()
    _tree(home, {"/puffy/.profile": "PATH=$HOME/bin:/bin:/usr/bin:/usr/local/bin\n"}, {}, [])

    sectors = DISK_SIZE // SECTOR
    a = (ROOT_SIZE // SECTOR, SLICE_START, FS_BSDFFS)
    b = (SWAP_SIZE // SECTOR, a[1] + a[0], FS_SWAP)
    c = (sectors, 0, FS_UNUSED)
    d = (HOME_SIZE // SECTOR, b[1] + b[0], FS_BSDFFS)
    label = disklabel(sectors, [a, b, c, d])

    root_image = makefs_ufs(root, scratch / "root.ffs", 2, ROOT_SIZE, "3f5c1b7e00000a02")
    home_image = makefs_ufs(home, scratch / "home.ffs", 2, HOME_SIZE, "3f5c1b7e00000d02")
    # The label is at sector 1 of the slice, which is sector 1 of partition a: inside the
    # 8 KiB FFS leaves to boot code, as on OpenBSD.
    _patch(root_image, SECTOR, label)

    g.part_init(dev, "msdos")
    g.part_add(dev, "p", SLICE_START, sectors - 1)
    g.part_set_mbr_id(dev, 1, 0xA6)
    g.part_set_bootable(dev, 1, True)
    g.pwrite_device(dev, DISK_SIGNATURE, 0x1B8)
    g.pwrite_device(dev, label, (SLICE_START + 1) * SECTOR)
    g.blockdev_rereadpt(dev)
    parts = set(g.list_partitions())
    if not {ctx.part(5), ctx.part(6), ctx.part(7)} <= parts:
        raise RuntimeError(f"the kernel did not list the disklabel's partitions: {parts}")
    g.upload(str(root_image), ctx.part(5))
    g.upload(str(home_image), ctx.part(7))


def _patch(image: Path, offset: int, data: bytes) -> None:
    with image.open("r+b") as f:
        f.seek(offset)
        f.write(data)
