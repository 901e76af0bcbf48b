"""The phony guests: one builder per guest, run inside a launched appliance.

Each builder gets a `Ctx` whose disks are that guest's own (they may be /dev/sdc, /dev/sdd, ...
inside a shared appliance), and writes text that names devices as the guest will see them on
its own (/dev/sda...).  Layouts, labels, UUIDs and file contents follow libguestfs's phony
guests, so that a correct inspector prints the upstream expected-*.img.xml for them.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from guestinspect.phony.build import Ctx, GiB, Guest, MiB
from guestinspect.phony.debian import (
    DEBIAN,
    SECTOR,
    UUID_BOOT,
    UUID_ROOT,
)
from guestinspect.phony.debian import ext as _ext
from guestinspect.phony.debian import grub as _grub
from guestinspect.phony.debian import two_partitions as _two_partitions
from tests.images import bsd, content, openbsd, suse

# GPT partition type GUIDs.
GPT_ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
GPT_MSR = "E3C9E316-0B5C-4DB8-817D-F92DF00215AE"
GPT_BASIC_DATA = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"


def _scratch(ctx: Ctx) -> Path:
    path = ctx.workdir / ctx.name
    path.mkdir(exist_ok=True)
    return path


def _ntfs(ctx: Ctx, dev: str, serial: str) -> None:
    """mkfs NTFS, then set its volume serial (what blkid prints as UUID) to `serial`.

    The serial is the little-endian 64-bit number at offset 0x48 of the boot sector; mkntfs
    keeps a backup boot sector in the last sector of the partition, patched the same way.
    """
    ctx.g.mkfs("ntfs", dev)
    data = int(serial, 16).to_bytes(8, "little")
    ctx.g.pwrite_device(dev, data, 0x48)
    ctx.g.pwrite_device(dev, data, ctx.g.blockdev_getsize64(dev) - SECTOR + 0x48)


def _vfat(ctx: Ctx, dev: str, serial: str) -> None:
    """mkfs FAT, then set its volume ID (blkid's UUID, "ABCD-1234") to `serial`: a
    little-endian 32-bit number at offset 0x43 of the boot sector for FAT32 (and of its backup
    in sector 6), at 0x27 for FAT12 and FAT16."""
    ctx.g.mkfs("vfat", dev)
    data = int(serial.replace("-", ""), 16).to_bytes(4, "little")
    if ctx.g.pread_device(dev, 8, 0x52) == b"FAT32   ":
        ctx.g.pwrite_device(dev, data, 0x43)
        ctx.g.pwrite_device(dev, data, 6 * SECTOR + 0x43)
    else:
        ctx.g.pwrite_device(dev, data, 0x27)


# --- Ubuntu (Debian, the sample guest, is in guestinspect/phony/debian.py) ---------------

UBUNTU_FSTAB = """\
LABEL=BOOT /boot ext2 default 0 0
/dev/sda2 / ext2 default 1 2

# RHBZ#811872: dummy encrypted swap device
/dev/mapper/cryptswap1 none swap sw 0 0
"""

UBUNTU_LSB_RELEASE = """\
DISTRIB_ID=Ubuntu
DISTRIB_RELEASE=10.10
DISTRIB_CODENAME=maverick
DISTRIB_DESCRIPTION="Ubuntu 10.10 (Phony Pharaoh)"
"""


def build_ubuntu(ctx: Ctx) -> None:
    g = ctx.g
    _two_partitions(ctx, 512 * MiB)
    _ext(ctx, ctx.part(1), "ext2", UUID_BOOT, "BOOT")
    _ext(ctx, ctx.part(2), "ext2", UUID_ROOT)
    g.mount(ctx.part(2), "/")
    g.mkdir("/boot")
    g.mount(ctx.part(1), "/boot")
    ctx.mkdirs("/bin", "/etc", "/home", "/usr", "/var/lib/dpkg", "/var/lib/urandom")
    ctx.write("/etc/fstab", UBUNTU_FSTAB)
    ctx.write("/etc/debian_version", "5.0.1")
    ctx.write("/etc/lsb-release", UBUNTU_LSB_RELEASE)
    ctx.write("/etc/hostname", "ubuntu.invalid")
    ctx.upload(content.data_file("debian-packages"), "/var/lib/dpkg/status")
    ctx.elf("/bin/ls")
    _grub(ctx)


# --- Arch Linux, CoreOS -----------------------------------------------------------------------


def build_archlinux(ctx: Ctx) -> None:
    g = ctx.g
    g.part_init(ctx.disks[0], "mbr")
    g.part_add(ctx.disks[0], "p", 64, -64)
    _ext(ctx, ctx.part(1), "ext4", UUID_ROOT)
    g.mount(ctx.part(1), "/")
    pkgdir = "/var/lib/pacman/local/test-package-1:0.1-1"
    ctx.mkdirs("/boot", "/bin", "/etc", "/home", "/usr", pkgdir)
    ctx.write("/etc/fstab", "/dev/sda1 / ext4 rw,relatime,data=ordered 0 1")
    g.touch("/etc/arch-release")
    ctx.write("/etc/hostname", "archlinux.test")
    ctx.upload(content.data_file("archlinux-package"), f"{pkgdir}/desc")
    ctx.elf("/bin/ls")
    _grub(ctx)


COREOS_OS_RELEASE = """\
NAME=CoreOS
ID=coreos
VERSION=899.13.0
VERSION_ID=899.13.0
BUILD_ID=2016-03-23-0120
PRETTY_NAME="CoreOS 899.13.0"
ANSI_COLOR="1;32"
HOME_URL="https://coreos.com/"
BUG_REPORT_URL="https://github.com/coreos/bugs/issues"
"""


def build_coreos(ctx: Ctx) -> None:
    g = ctx.g
    dev = ctx.disks[0]
    g.part_init(dev, "gpt")
    for start, end in (
        (4096, 266239),
        (266240, 270335),
        (270336, 532479),
        (532480, 794623),
        (794624, -4096),
    ):
        g.part_add(dev, "p", start, end)
    for n, name in enumerate(("EFI_SYSTEM", "BIOS-BOOT", "USR-A", "USR-B", "ROOT"), start=1):
        g.part_set_name(dev, n, name)
    g.part_set_bootable(dev, 1, True)
    _vfat(ctx, ctx.part(1), "C0E5-0E51")
    g.mkfs("ext4", ctx.part(3))
    g.set_label(ctx.part(3), "USR-A")
    g.set_uuid(ctx.part(3), UUID_BOOT)
    g.mkfs("ext4", ctx.part(5))
    g.set_label(ctx.part(5), "ROOT")
    g.set_uuid(ctx.part(5), UUID_ROOT)
    g.mount(ctx.part(5), "/")
    ctx.mkdirs("/etc/coreos", "/usr")
    g.mount(ctx.part(3), "/usr")
    ctx.mkdirs("/usr/bin", "/usr/lib64", "/usr/local", "/usr/share/coreos")
    g.ln_s("usr/bin", "/bin")
    g.ln_s("usr/lib64", "/lib64")
    g.ln_s("lib64", "/lib")
    g.ln_s("lib64", "/usr/lib")
    ctx.mkdirs("/root", "/home")
    ctx.write("/etc/coreos/update.conf", "GROUP=stable")
    ctx.write("/usr/lib/os-release", COREOS_OS_RELEASE)  # lands in /usr/lib64 via the link
    g.ln_s("../usr/lib/os-release", "/etc/os-release")
    ctx.write("/etc/hostname", "coreos.invalid")


# --- Fedora and its storage layouts -----------------------------------------------------------

FEDORA_FSTAB = "LABEL=BOOT /boot ext2 default 0 0\nLABEL=ROOT / ext2 default 0 0\n"
FEDORA_KERNEL = "5.19.0-0.rc1.14.fc37.x86_64"
FEDORA_SIZE = 1 * GiB


def _fedora_lvm_root(ctx: Ctx, pv: str) -> None:
    """VG "VG" on `pv` with LVs Root (the root filesystem, mounted on /), LV1, LV2, LV3."""
    g = ctx.g
    g.lvm_set_filter([pv])
    g.pvcreate(pv)
    g.vgcreate("VG", [pv])
    for lv, mb in (("Root", 256), ("LV1", 32), ("LV2", 32), ("LV3", 64)):
        g.lvcreate(lv, "VG", mb)
    _ext(ctx, "/dev/VG/Root", "ext2", UUID_ROOT, "ROOT")
    for lv, blocksize in (("LV1", 4096), ("LV2", 1024), ("LV3", 2048)):
        g.mkfs("ext2", f"/dev/VG/{lv}", blocksize=blocksize)
    g.mount("/dev/VG/Root", "/")


def _fedora_files(ctx: Ctx, bootdev: str, fstab: str, mdadm_conf: str = "") -> None:
    """The /boot filesystem and every file of the Fedora guest; its root is mounted on /."""
    g = ctx.g
    _ext(ctx, bootdev, "ext2", UUID_BOOT, "BOOT")
    g.mkdir("/boot")
    g.mount(bootdev, "/boot")
    ctx.mkdirs(
        "/bin",
        "/etc/sysconfig",
        "/sbin",
        "/usr/share/zoneinfo/Europe",
        "/var/lib/rpm",
        "/usr/lib/rpm",
        "/var/log/journal",
    )
    g.touch("/usr/share/zoneinfo/Europe/London")
    ctx.write("/etc/shadow", "root::15440:0:99999:7:::\n")
    g.chmod(0, "/etc/shadow")
    label = "system_u:object_r:shadow_t:s0"  # the bindings take no NUL, so none is stored
    g.lsetxattr("security.selinux", label, len(label), "/etc/shadow")
    ctx.write("/etc/fstab", fstab)
    ctx.write("/etc/motd", "Welcome to Fedora release 14 (Phony)\n")
    ctx.write("/etc/redhat-release", "Fedora release 14 (Phony)")
    ctx.write("/etc/fedora-release", "Fedora release 14 (Phony)")
    ctx.write("/etc/sysconfig/network", "HOSTNAME=fedora.invalid")
    if mdadm_conf:
        ctx.write("/etc/mdadm.conf", mdadm_conf)
    ctx.upload(content.fedora_rpmdb(ctx.workdir), "/var/lib/rpm/rpmdb.sqlite")
    g.touch("/usr/lib/rpm/rpmrc")
    ctx.write("/usr/lib/rpm/macros", "%_dbpath /var/lib/rpm\n%_db_backend sqlite\n")
    ctx.elf("/bin/ls")
    kver = FEDORA_KERNEL
    ctx.mkdirs("/boot/grub")
    ctx.write(
        "/boot/grub/grub.conf",
        f"title Fedora\n    root (hd0,0)\n    kernel /vmlinuz-{kver}\n"
        f"    initrd /initramfs-{kver}.img\n",
    )
    g.touch("/etc/modprobe.conf")
    ctx.write("/etc/test1", "abcdefg")
    ctx.write("/etc/test2", "")
    ctx.write("/etc/test3", "a\nb\nc\nd\ne\nf\n")
    g.chown(10, 11, "/etc/test3")
    g.chmod(0o600, "/etc/test3")
    for name, text in (
        ("test1", "abcdefg"),
        ("test2", "zxcvbnm"),
        ("test3", "1234567"),
        ("test4", ""),
    ):
        ctx.write(f"/bin/{name}", text)
    g.ln_s("/bin/test1", "/bin/test5")
    g.mkfifo(0o777, "/bin/test6")
    g.mknod_c(0o777, 10, 10, "/bin/test7")
    for path in ("/bin/sh", "/bin/rpm", "/sbin/dracut"):
        ctx.elf(path)
        g.chmod(0o777, path)
    g.touch(f"/boot/vmlinuz-{kver}")
    g.touch(f"/boot/initramfs-{kver}.img")
    moddir = f"/lib/modules/{kver}/kernel/drivers/block"
    ctx.mkdirs(moddir)
    ctx.elf(f"{moddir}/virtio_blk.ko")


def build_fedora(ctx: Ctx) -> None:
    _two_partitions(ctx, FEDORA_SIZE)
    _fedora_lvm_root(ctx, ctx.part(2))
    _fedora_files(ctx, ctx.part(1), FEDORA_FSTAB)


def build_fedora_lvm_on_luks(ctx: Ctx) -> None:
    g = ctx.g
    _two_partitions(ctx, FEDORA_SIZE)
    g.luks_format(ctx.part(2), "FEDORA", 0)
    _fedora_lvm_root(ctx, ctx.luks_open(ctx.part(2), "FEDORA", f"luks-{ctx.name}"))
    _fedora_files(ctx, ctx.part(1), FEDORA_FSTAB)


def build_fedora_luks_on_lvm(ctx: Ctx) -> None:
    """VG "Volume-Group"; each LV is a LUKS container with its own key (FEDORA-Root, -LV1...)."""
    g = ctx.g
    _two_partitions(ctx, FEDORA_SIZE)
    pv = ctx.part(2)
    g.lvm_set_filter([pv])
    g.pvcreate(pv)
    g.vgcreate("Volume-Group", [pv])
    volumes = (  # LV name, size MB, key, label, ext2 blocksize
        ("Root", 256, "FEDORA-Root", "ROOT", 4096),
        ("Logical-Volume-1", 32, "FEDORA-LV1", "LV1", 4096),
        ("Logical-Volume-2", 32, "FEDORA-LV2", "LV2", 1024),
        ("Logical-Volume-3", 64, "FEDORA-LV3", "LV3", 2048),
    )
    for lv, mb, _, _, _ in volumes:
        g.lvcreate(lv, "Volume-Group", mb)
    for lv, _, key, label, blocksize in volumes:
        dev = f"/dev/Volume-Group/{lv}"
        g.luks_format(dev, key, 0)
        mapped = ctx.luks_open(dev, key, f"{ctx.name}-{label}")
        g.mkfs("ext2", mapped, blocksize=blocksize, label=label)
    root = f"/dev/mapper/{ctx.name}-ROOT"
    g.set_uuid(root, UUID_ROOT)
    g.mount(root, "/")
    _fedora_files(ctx, ctx.part(1), FEDORA_FSTAB)


FEDORA_BTRFS_FSTAB = """\
LABEL=BOOT /boot ext2 default 0 0
LABEL=ROOT / btrfs subvol=root 0 0
LABEL=ROOT /home btrfs subvol=home 0 0
"""


def build_fedora_btrfs(ctx: Ctx) -> None:
    g = ctx.g
    dev = ctx.disks[0]
    g.part_init(dev, "mbr")
    g.part_add(dev, "p", 64, 524287)
    g.part_add(dev, "p", 524288, -64)
    g.mkfs_btrfs([ctx.part(2)], label="ROOT")
    g.mount(ctx.part(2), "/")
    g.btrfs_subvolume_create("/root")
    g.btrfs_subvolume_create("/home")
    g.umount("/")
    g.mount(f"btrfsvol:{ctx.part(2)}/root", "/")
    _fedora_files(ctx, ctx.part(1), FEDORA_BTRFS_FSTAB)


FEDORA_MD_FSTAB = "/dev/md0 /boot ext2 default 0 0\nLABEL=ROOT / ext2 default 0 0\n"


def build_fedora_md(ctx: Ctx) -> None:
    """Two disks; md RAID1 "bootdev" over the first partitions, "rootdev" (LVM) over the second."""
    g = ctx.g
    for disk in range(2):
        _two_partitions(ctx, FEDORA_SIZE, disk)
    g.md_create("bootdev", [ctx.part(1, 0), ctx.part(1, 1)])
    g.md_create("rootdev", [ctx.part(2, 0), ctx.part(2, 1)])
    mdadm = "MAILADDR root\nAUTO +imsm +1.x -all\n"
    for i, name in enumerate(("bootdev", "rootdev")):
        detail = g.md_detail(f"/dev/md/{name}")
        mdadm += f"ARRAY /dev/md{i} level=raid1 num-devices=2 UUID={detail['uuid']}\n"
    _fedora_lvm_root(ctx, "/dev/md/rootdev")
    _fedora_files(ctx, "/dev/md/bootdev", FEDORA_MD_FSTAB, mdadm)


# --- Windows ----------------------------------------------------------------------------------

WINDOWS_DISK_SIGNATURE = b"1234"


def _windows_files(ctx: Ctx, system_hive: Path, explorer: dict[str, bytes] | None = None) -> None:
    """The Windows tree on the NTFS filesystem mounted on /; ``explorer``: more files (the
    explorer.exe the icon comes from) by path."""
    g = ctx.g
    ctx.mkdirs("/Windows/System32/Config", "/Windows/System32/Drivers")
    for path, data in (explorer or {}).items():
        ctx.mkdirs(posixpath.dirname(path))
        ctx.write(path, data)
    ctx.upload(content.software_hive(_scratch(ctx)), "/Windows/System32/Config/SOFTWARE")
    ctx.upload(system_hive, "/Windows/System32/Config/SYSTEM")
    ctx.write("/Windows/System32/cmd.exe", content.pe32_i386_executable())
    g.mkdir("/Program Files")
    g.touch("/autoexec.bat")


def build_windows(ctx: Ctx) -> None:
    g = ctx.g
    _two_partitions(ctx, 512 * MiB)
    # Disk signature; the SYSTEM hive maps C: to (signature, offset of partition 2).
    g.pwrite_device(ctx.disks[0], WINDOWS_DISK_SIGNATURE, 0x1B8)
    _ntfs(ctx, ctx.part(1), "5A5B6C6D7E7F8091")
    _ntfs(ctx, ctx.part(2), "091A29CC586B609C")  # the serial in expected-windows.img.xml
    g.mount(ctx.part(2), "/")
    _windows_files(ctx, content.system_hive(_scratch(ctx)))


WINDOWS_GPT_C_GUID = "5C3E7E4F-1D2B-4A6C-9E8F-0123456789AB"
#: Windows 7's icon is the top of bitmap 6801 of explorer.exe, the 32-bit one first.
WINDOWS_GPT_EXPLORER = content.pe_with_resources(
    {(content.RT_BITMAP, 6801): content.bitmap(48, 110)})


def build_windows_gpt(ctx: Ctx) -> None:
    """GPT: EFI system partition, Microsoft reserved, then C: (NTFS) mapped by its GUID."""
    g = ctx.g
    dev = ctx.disks[0]
    g.part_init(dev, "gpt")
    g.part_add(dev, "p", 2048, 206847)
    g.part_add(dev, "p", 206848, 239615)
    g.part_add(dev, "p", 239616, -2048)
    for n, (type_guid, name) in enumerate(
        (
            (GPT_ESP, "EFI system partition"),
            (GPT_MSR, "Microsoft reserved partition"),
            (GPT_BASIC_DATA, "Basic data partition"),
        ),
        start=1,
    ):
        g.part_set_gpt_type(dev, n, type_guid)
        g.part_set_name(dev, n, name)
    g.part_set_gpt_guid(dev, 3, WINDOWS_GPT_C_GUID)
    _vfat(ctx, ctx.part(1), "E5F1-0E51")
    _ntfs(ctx, ctx.part(3), "1C2D3E4F5A6B7C8D")
    g.mount(ctx.part(1), "/")
    ctx.mkdirs("/EFI/Microsoft/Boot", "/EFI/Boot")
    g.umount("/")
    g.mount(ctx.part(3), "/")
    mounted_c = content.gpt_mounted_device(WINDOWS_GPT_C_GUID)
    _windows_files(ctx, content.system_hive(_scratch(ctx), mounted_c),
                   {"/Windows/SysWOW64/explorer.exe": WINDOWS_GPT_EXPLORER})


# --- Other Linux guests -----------------------------------------------------------------------

DEBIAN12_OS_RELEASE = """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"""

DEBIAN11_OS_RELEASE = (
    DEBIAN12_OS_RELEASE.replace("12 (bookworm)", "11 (bullseye)")
    .replace('VERSION_ID="12"', 'VERSION_ID="11"')
    .replace("bookworm", "bullseye")
)

MULTIBOOT_DISK_SIGNATURE = b"MBT1"
MULTIBOOT_EXPLORER = content.pe_with_resources(
    {(content.RT_BITMAP, 6801): content.bitmap(40, 80, 32)}, machine=0x8664)
MULTIBOOT_LINUX_UUID = "01234567-0123-0123-0123-0123456789b2"


def build_multiboot(ctx: Ctx) -> None:
    """One MBR disk: Windows (NTFS) on partition 1, Debian 12 (ext4) on partition 2."""
    g = ctx.g
    _two_partitions(ctx, 512 * MiB)
    g.pwrite_device(ctx.disks[0], MULTIBOOT_DISK_SIGNATURE, 0x1B8)
    _ntfs(ctx, ctx.part(1), "0B1C2D3E4F5A6B7C")
    _ext(ctx, ctx.part(2), "ext4", MULTIBOOT_LINUX_UUID)
    g.mount(ctx.part(1), "/")
    mounted_c = content.mbr_mounted_device(MULTIBOOT_DISK_SIGNATURE, 64 * SECTOR)
    _windows_files(ctx, content.system_hive(_scratch(ctx), mounted_c),
                   {"/Windows/explorer.exe": MULTIBOOT_EXPLORER})
    g.umount("/")
    g.mount(ctx.part(2), "/")
    ctx.mkdirs("/bin", "/etc", "/home", "/usr/bin", "/var/lib/dpkg", "/boot/grub")
    ctx.write("/etc/fstab", f"UUID={MULTIBOOT_LINUX_UUID} / ext4 errors=remount-ro 0 1\n")
    ctx.write("/etc/debian_version", "12.5\n")
    ctx.write("/etc/os-release", DEBIAN12_OS_RELEASE)
    ctx.write("/etc/hostname", "multiboot.invalid\n")
    ctx.upload(content.data_file("debian-packages"), "/var/lib/dpkg/status")
    ctx.elf("/bin/ls")
    g.touch("/boot/grub/grub.cfg")


ALPINE_UUID = "01234567-0123-0123-0123-0123456789c1"

ALPINE_OS_RELEASE = """\
NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
"""

ALPINE_APK_INSTALLED = """\
C:Q1PhonyChecksumMusl0000000000000=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:383152
I:622592
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teras <timo.teras@iki.fi>
t:1700000000
c:0000000000000000000000000000000000000000

C:Q1PhonyChecksumBusybox000000000000=
P:busybox
V:1.36.1-r15
A:x86_64
S:509528
I:962560
T:Size optimized toolbox of many common UNIX utilities
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1700000001
c:0000000000000000000000000000000000000001
D:so:libc.musl-x86_64.so.1

"""


def build_alpine(ctx: Ctx) -> None:
    g = ctx.g
    g.part_init(ctx.disks[0], "mbr")
    g.part_add(ctx.disks[0], "p", 2048, -64)
    _ext(ctx, ctx.part(1), "ext4", ALPINE_UUID)
    g.mount(ctx.part(1), "/")
    ctx.mkdirs("/bin", "/etc/apk", "/lib/apk/db", "/home", "/usr/bin", "/boot", "/var")
    ctx.elf("/bin/busybox")
    g.ln_s("/bin/busybox", "/bin/sh")
    g.ln_s("/bin/busybox", "/bin/ls")
    ctx.write("/etc/alpine-release", "3.19.1\n")
    ctx.write("/etc/os-release", ALPINE_OS_RELEASE)
    ctx.write("/etc/hostname", "alpine.invalid\n")
    ctx.write("/etc/fstab", f"UUID={ALPINE_UUID}\t/\text4\trw,relatime 0 1\n")
    ctx.write("/etc/apk/world", "busybox\nmusl\n")
    ctx.write("/lib/apk/db/installed", ALPINE_APK_INSTALLED)


SPLIT_USR_ROOT_UUID = "01234567-0123-0123-0123-0123456789d1"
SPLIT_USR_USR_UUID = "01234567-0123-0123-0123-0123456789d2"


def build_split_usr_by_uuid(ctx: Ctx) -> None:
    """Debian 11 with /usr on partition 2; fstab names both by /dev/disk/by-uuid/."""
    g = ctx.g
    _two_partitions(ctx, 512 * MiB)
    _ext(ctx, ctx.part(1), "ext4", SPLIT_USR_ROOT_UUID)
    _ext(ctx, ctx.part(2), "ext4", SPLIT_USR_USR_UUID)
    g.mount(ctx.part(1), "/")
    g.mkdir("/usr")
    g.mount(ctx.part(2), "/usr")
    ctx.mkdirs(
        "/bin",
        "/etc",
        "/home",
        "/boot/grub",
        "/var/lib/dpkg",
        "/usr/bin",
        "/usr/lib",
        "/usr/share/doc",
    )
    ctx.write(
        "/etc/fstab",
        f"/dev/disk/by-uuid/{SPLIT_USR_ROOT_UUID} / ext4 errors=remount-ro 0 1\n"
        f"/dev/disk/by-uuid/{SPLIT_USR_USR_UUID} /usr ext4 defaults 0 2\n",
    )
    ctx.write("/etc/debian_version", "11.9\n")
    ctx.write("/etc/os-release", DEBIAN11_OS_RELEASE)
    ctx.write("/etc/hostname", "split-usr.invalid\n")
    ctx.upload(content.data_file("debian-packages"), "/var/lib/dpkg/status")
    ctx.elf("/bin/ls")
    ctx.elf("/usr/bin/env")
    g.touch("/boot/grub/grub.cfg")


# --- Blank disks ------------------------------------------------------------------------------


def build_blank_part(ctx: Ctx) -> None:
    ctx.g.part_init(ctx.disks[0], "mbr")
    ctx.g.part_add(ctx.disks[0], "p", 2048, -64)


def build_blank_fs(ctx: Ctx) -> None:
    build_blank_part(ctx)
    ctx.g.mkfs("ext4", ctx.part(1))


# --- The registry -----------------------------------------------------------------------------

_FEDORA_DATA = ("fedora-db.sql.xz",)
_WINDOWS_DATA = ("minimal-hive", "windows-software.reg", "windows-system.reg")

# The hostile guests (issue 10) build on the helpers above, hence imported here.
from tests.images.hostile import HOSTILE  # noqa: E402

_ALL: list[Guest] = [
    DEBIAN,
    Guest(
        "fedora",
        "Fedora 14, VG VG with Root, /boot on sda1, sqlite rpmdb",
        (FEDORA_SIZE,),
        build_fedora,
        _FEDORA_DATA,
    ),
    Guest(
        "ubuntu",
        "Ubuntu 10.10 (lsb-release), root sda2, /boot sda1",
        (512 * MiB,),
        build_ubuntu,
        ("debian-packages",),
    ),
    Guest(
        "archlinux",
        "Arch Linux, ext4 root on sda1, pacman db",
        (512 * MiB,),
        build_archlinux,
        ("archlinux-package",),
    ),
    Guest("coreos", "CoreOS 899.13.0, GPT, root sda5, /usr on sda3", (512 * MiB,), build_coreos),
    Guest(
        "windows",
        "Windows 7 (phony), MBR, NTFS C: on sda2",
        (512 * MiB,),
        build_windows,
        _WINDOWS_DATA,
    ),
    Guest(
        "fedora-lvm-on-luks",
        "fedora with VG VG inside LUKS on sda2 (passphrase FEDORA)",
        (FEDORA_SIZE,),
        build_fedora_lvm_on_luks,
        _FEDORA_DATA,
    ),
    Guest(
        "fedora-luks-on-lvm",
        "fedora with each LV of Volume-Group a LUKS container (keys FEDORA-Root, FEDORA-LV1..3)",
        (FEDORA_SIZE,),
        build_fedora_luks_on_lvm,
        _FEDORA_DATA,
    ),
    Guest(
        "fedora-btrfs",
        "fedora with root and home as btrfs subvolumes of sda2 (label ROOT)",
        (FEDORA_SIZE,),
        build_fedora_btrfs,
        _FEDORA_DATA,
    ),
    Guest(
        "fedora-md",
        "fedora on md RAID1 over two disks (bootdev, rootdev with LVM)",
        (FEDORA_SIZE, FEDORA_SIZE),
        build_fedora_md,
        _FEDORA_DATA,
    ),
    Guest("blank-disk", "no partition table", (64 * MiB,), None),
    Guest("blank-part", "MBR with one empty partition", (64 * MiB,), build_blank_part),
    Guest("blank-fs", "MBR with one ext4 filesystem and no OS", (64 * MiB,), build_blank_fs),
    Guest(
        "windows-gpt",
        "Windows 7 (phony) on GPT: ESP, MSR, C: mapped by DMIO:ID: GUID",
        (512 * MiB,),
        build_windows_gpt,
        _WINDOWS_DATA,
    ),
    Guest("alpine", "Alpine 3.19, ext4 root, busybox, apk db", (256 * MiB,), build_alpine),
    Guest(
        "split-usr-by-uuid",
        "Debian 11, /usr on sda2, fstab by /dev/disk/by-uuid/",
        (512 * MiB,),
        build_split_usr_by_uuid,
        ("debian-packages",),
    ),
    Guest(
        "multiboot",
        "Windows on sda1 and Debian 12 on sda2 of one MBR disk",
        (512 * MiB,),
        build_multiboot,
        ("debian-packages",) + _WINDOWS_DATA,
    ),
    Guest(
        "freebsd-ufs2",
        "FreeBSD 14.1, GPT (freebsd-boot, UFS2 root ada0p2, swap), made by makefs",
        (128 * MiB,),
        bsd.build_freebsd_ufs2,
    ),
    Guest(
        "freebsd-ufs1",
        "FreeBSD 14.1 as freebsd-ufs2, its root UFS1",
        (128 * MiB,),
        bsd.build_freebsd_ufs1,
    ),
    Guest(
        "opensuse-tumbleweed",
        "openSUSE Tumbleweed: btrfs root snapshot, /var subvolume, rpmdb in /usr/lib/sysimage",
        (1 * GiB,),
        suse.build_opensuse_tumbleweed,
        _FEDORA_DATA,
    ),
    Guest(
        "openbsd",
        "OpenBSD 7.5: MBR partition 0xA6, disklabel a = / (FFS2), b = swap, d = /home (FFS2)",
        (openbsd.DISK_SIZE,),
        openbsd.build_openbsd,
    ),
]

GUESTS: dict[str, Guest] = {guest.name: guest for guest in [*_ALL, *HOSTILE]}

#: Guests asked for that this appliance cannot make, with the reason.
UNSUPPORTED: dict[str, str] = {
    "netbsd-like": "NetBSD's installer puts FFS inside a disklabel in an MBR partition of type "
    "0xA9; Linux reads it; makefs writes no disklabel, openbsd.py writes OpenBSD's but no NetBSD "
    "one (left for later)",
}
