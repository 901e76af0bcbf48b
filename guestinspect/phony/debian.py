"""The sample guest: Debian 5 on LVM, as libguestfs's phony ``debian`` guest (its layout,
labels, UUIDs and files are such that a correct inspector prints upstream's
``expected-debian.img.xml``). ``python -m guestinspect.sample`` builds and inspects it; the
test guests (``tests/images/guests.py``) reuse its helpers.
"""

from __future__ import annotations

from guestinspect.phony import content
from guestinspect.phony.build import Ctx, Guest, MiB

SECTOR = 512
UUID_BOOT = "01234567-0123-0123-0123-012345678901"
UUID_ROOT = "01234567-0123-0123-0123-012345678902"


def two_partitions(ctx: Ctx, size: int, disk: int = 0) -> None:
    """MBR; partition 1 from sector 64 to the middle, partition 2 from there to 64 before end."""
    dev = ctx.disks[disk]
    middle = size // 2 // SECTOR
    ctx.g.part_init(dev, "mbr")
    ctx.g.part_add(dev, "p", 64, middle - 1)
    ctx.g.part_add(dev, "p", middle, -64)


def ext(ctx: Ctx, dev: str, vfs: str, fs_uuid: str | None = None, label: str = "") -> None:
    ctx.g.mkfs(vfs, dev, blocksize=4096)
    if label:
        ctx.g.set_label(dev, label)
    if fs_uuid:
        ctx.g.set_uuid(dev, fs_uuid)


def grub(ctx: Ctx) -> None:
    ctx.mkdirs("/boot/grub")
    ctx.g.touch("/boot/grub/grub.conf")


# --- the guest ---------------------------------------------------------------------------

DEBIAN_FSTAB = """\
LABEL=BOOT /boot ext2 default 0 0
/dev/debian/root / ext2 default 0 0
/dev/debian/usr /usr ext2 default 1 2
/dev/debian/var /var ext2 default 1 2
/dev/debian/home /home ext2 default 1 2
"""


def build_debian(ctx: Ctx) -> None:
    g = ctx.g
    two_partitions(ctx, 512 * MiB)
    pv = ctx.part(2)
    g.pvcreate(pv)
    g.vgcreate("debian", [pv])
    for lv, mb in (("root", 64), ("usr", 32), ("var", 32), ("home", 32)):
        g.lvcreate(lv, "debian", mb)
    ext(ctx, ctx.part(1), "ext2", UUID_BOOT, "BOOT")
    for i, lv in enumerate(("root", "usr", "var", "home")):
        ext(ctx, f"/dev/debian/{lv}", "ext2", f"01234567-0123-0123-0123-01234567890{i + 2}")
    g.mount("/dev/debian/root", "/")
    for mp, dev in (
        ("/boot", ctx.part(1)),
        ("/usr", "/dev/debian/usr"),
        ("/var", "/dev/debian/var"),
        ("/home", "/dev/debian/home"),
    ):
        g.mkdir(mp)
        g.mount(dev, mp)
    ctx.mkdirs("/bin", "/etc", "/var/lib/dpkg", "/var/lib/urandom", "/var/log")
    ctx.write("/etc/fstab", DEBIAN_FSTAB)
    ctx.write("/etc/debian_version", "5.0.1")
    ctx.write("/etc/hostname", "debian.invalid")
    ctx.upload(content.data_file("debian-packages"), "/var/lib/dpkg/status")
    ctx.elf("/bin/ls")
    ctx.write("/var/log/syslog", "Jan  1 00:00:00 debian kernel: phony guest\n")
    grub(ctx)


DEBIAN = Guest(
    "debian",
    "Debian 5, LVM VG debian (root/usr/var/home), /boot on sda1",
    (512 * MiB,),
    build_debian,
    ("debian-packages",),
)
