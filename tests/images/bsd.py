"""BSD guests, laid out as their installers lay them out.

Linux cannot write UFS, so each root filesystem is made on the host by `makefs` (Debian's
package of NetBSD's tool) from a scratch directory, and copied onto its partition.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

from guestinspect.phony.build import Ctx, MiB
from tests.images import content

# FreeBSD's GPT partition types.
GPT_FREEBSD_BOOT = "83BD6B9D-7F41-11DC-BE0B-001560B84F0F"
GPT_FREEBSD_UFS = "516E7CB6-6ECF-11D6-8FF8-00022D09712B"
GPT_FREEBSD_SWAP = "516E7CB5-6ECF-11D6-8FF8-00022D09712B"

FREEBSD_ROOT_SIZE = 96 * MiB

FREEBSD_FSTAB = """\
# Device\tMountpoint\tFStype\tOptions\tDump\tPass#
/dev/ada0p2\t/\t\tufs\trw\t1\t1
/dev/ada0p3\tnone\t\tswap\tsw\t0\t0
"""

FREEBSD_RC_CONF = """\
hostname="{hostname}"
ifconfig_vtnet0="DHCP"
sshd_enable="YES"
dumpdev="AUTO"
"""

# Written at boot from /etc/motd.template; /etc/motd links to it (FreeBSD 13 and later).
FREEBSD_MOTD = """\
FreeBSD 14.1-RELEASE (GENERIC) releng/14.1-n267679-10e31f0946d8

Welcome to FreeBSD!
"""

FREEBSD_UPDATE_CONF = "ServerName update.FreeBSD.org\nComponents src world kernel\n"

FREEBSD_VERSION_SCRIPT = """\
#!/bin/sh
USERLAND_VERSION="14.1-RELEASE"
echo $USERLAND_VERSION
"""


def _tree(root: Path, files: dict[str, str], links: dict[str, str], elves: list[str]) -> None:
    """Lay out a guest's root directory on the host."""
    for path, text in files.items():
        dest = root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    for path, target in links.items():
        dest = root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(target)
    for path in elves:
        dest = root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(content.host_x86_64_elf(), dest)
        dest.chmod(0o755)


def makefs_ufs(directory: Path, image: Path, version: int, size: int, fs_id: str) -> Path:
    """A UFS1 (version 1) or UFS2 (version 2) filesystem image of `directory`, whose
    filesystem ID (blkid's UUID: 16 hex digits) is `fs_id` rather than the time of the build."""
    if shutil.which("makefs") is None:
        raise RuntimeError("makefs is not installed (Debian package makefs; `make setup`)")
    options = f"version={version}" + (",bsize=16384,fsize=2048" if version == 2 else "")
    subprocess.run(
        ["makefs", "-t", "ffs", "-B", "le", "-s", str(size), "-f", "256", "-o", options,
         str(image), str(directory)],
        check=True, capture_output=True,
    )
    with image.open("r+b") as f:  # fs_id: two 32-bit words at offset 144 of the superblock
        f.seek(8192 + 144)
        f.write(struct.pack("<II", int(fs_id[:8], 16), int(fs_id[8:], 16)))
    if version == 2:
        _ufs2_superblock_at_64k(image)
    return image


def _ufs2_superblock_at_64k(image: Path) -> None:
    """Copy a UFS2 superblock from 8 KiB, where Debian's makefs (MirBSD's) writes it, to
    64 KiB, where FreeBSD's newfs writes it and Linux's `ufstype=ufs2` looks for it.

    With 16 KiB blocks and 2 KiB fragments, 64 KiB lies in the first cylinder group's inode
    table, 16 KiB past its start: inodes 64 to 95 (256 bytes each), never allocated in a tree
    of a few dozen files. UFS2 leaves unallocated inode blocks uninitialised, so a copy there
    makes no inconsistency a reader of this filesystem could see."""
    with image.open("r+b") as f:
        f.seek(8192)
        sb = f.read(8192)
        iblkno, fsize = struct.unpack_from("<I", sb, 16)[0], struct.unpack_from("<I", sb, 52)[0]
        ipg = struct.unpack_from("<I", sb, 184)[0]
        table = iblkno * fsize
        first_inode = (65536 - table) // 256
        if not (table <= 65536 and 65536 + 8192 <= table + ipg * 256 and first_inode >= 64):
            raise RuntimeError(f"unexpected UFS2 layout (inode table at {table}, {ipg} inodes)")
        f.seek(65536)
        f.write(sb)


def _build_freebsd(ctx: Ctx, ufs_version: int, hostname: str, fs_id: str) -> None:
    g, dev = ctx.g, ctx.disks[0]
    scratch = ctx.workdir / ctx.name
    root = scratch / "root"
    if scratch.exists():
        shutil.rmtree(scratch)
    root.mkdir(parents=True)
    _tree(
        root,
        {
            "/etc/fstab": FREEBSD_FSTAB,
            "/etc/rc.conf": FREEBSD_RC_CONF.format(hostname=hostname),
            "/etc/freebsd-update.conf": FREEBSD_UPDATE_CONF,
            "/etc/motd.template": "\nWelcome to FreeBSD!\n",
            "/var/run/motd": FREEBSD_MOTD,
            "/bin/freebsd-version": FREEBSD_VERSION_SCRIPT,
            "/root/.profile": "PATH=/sbin:/bin:/usr/sbin:/usr/bin\n",
            "/usr/home/.keep": "",
        },
        {"/etc/motd": "../var/run/motd", "/home": "usr/home"},
        ["/bin/ls", "/bin/sh", "/usr/bin/true"],
    )
    image = makefs_ufs(root, scratch / "root.ufs", ufs_version, FREEBSD_ROOT_SIZE, fs_id)
    # GPT: freebsd-boot (512 KiB), freebsd-ufs root, freebsd-swap, as bsdinstall makes them.
    g.part_init(dev, "gpt")
    first = 40
    boot_end = first + 1024 - 1
    root_start = 2048
    root_end = root_start + FREEBSD_ROOT_SIZE // 512 - 1
    g.part_add(dev, "p", first, boot_end)
    g.part_add(dev, "p", root_start, root_end)
    g.part_add(dev, "p", root_end + 1, -64)
    for n, guid in ((1, GPT_FREEBSD_BOOT), (2, GPT_FREEBSD_UFS), (3, GPT_FREEBSD_SWAP)):
        g.part_set_gpt_type(dev, n, guid)
    g.upload(str(image), ctx.part(2))


def build_freebsd_ufs2(ctx: Ctx) -> None:
    """FreeBSD 14.1 as bsdinstall lays it out: UFS2 root."""
    _build_freebsd(ctx, 2, "freebsd14.invalid", "0123456789abcd02")


def build_freebsd_ufs1(ctx: Ctx) -> None:
    """The same on a UFS1 root (what makefs writes by default)."""
    _build_freebsd(ctx, 1, "freebsd14-ufs1.invalid", "0123456789abcd01")
