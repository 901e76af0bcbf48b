"""openSUSE guests, laid out as their installer lays them out.

openSUSE Tumbleweed's root is a btrfs snapshot (the default subvolume), with /var, /home and
/.snapshots as subvolumes of their own, mounted by fstab. Its rpm database lives in
/usr/lib/sysimage/rpm, and /var/lib/rpm (on the /var subvolume) is a relative symlink to it.
"""

from __future__ import annotations

from guestinspect.phony.build import Ctx
from tests.images import content

GPT_BIOS_BOOT = "21686148-6449-6E6F-744E-656564454649"
GPT_LINUX_SWAP = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"

TUMBLEWEED_BTRFS_UUID = "01234567-0123-0123-0123-0123456789e1"
TUMBLEWEED_SWAP_UUID = "01234567-0123-0123-0123-0123456789e2"

TUMBLEWEED_FSTAB = f"""\
UUID={TUMBLEWEED_BTRFS_UUID}  /  btrfs  defaults  0  0
UUID={TUMBLEWEED_BTRFS_UUID}  /var  btrfs  subvol=/@/var  0  0
UUID={TUMBLEWEED_BTRFS_UUID}  /home  btrfs  subvol=/@/home  0  0
UUID={TUMBLEWEED_BTRFS_UUID}  /.snapshots  btrfs  subvol=/@/.snapshots  0  0
UUID={TUMBLEWEED_SWAP_UUID}  swap  swap  defaults  0  0
"""

TUMBLEWEED_OS_RELEASE = """\
NAME="openSUSE Tumbleweed"
# VERSION="20241120"
ID="opensuse-tumbleweed"
ID_LIKE="opensuse suse"
VERSION_ID="20241120"
PRETTY_NAME="openSUSE Tumbleweed"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:opensuse:tumbleweed:20241120"
HOME_URL="https://www.opensuse.org"
DOCUMENTATION_URL="https://en.opensuse.org/Portal:Tumbleweed"
LOGO="distributor-logo-Tumbleweed"
"""


def build_opensuse_tumbleweed(ctx: Ctx) -> None:
    g, dev = ctx.g, ctx.disks[0]
    g.part_init(dev, "gpt")
    g.part_add(dev, "p", 2048, 18431)  # BIOS boot, 8 MiB
    g.part_add(dev, "p", 18432, 18432 + 800 * 2048 - 1)  # btrfs, 800 MiB
    g.part_add(dev, "p", 18432 + 800 * 2048, -64)  # swap
    for n, guid in ((1, GPT_BIOS_BOOT), (3, GPT_LINUX_SWAP)):
        g.part_set_gpt_type(dev, n, guid)
    root = ctx.part(2)
    g.mkfs_btrfs([root])
    g.set_uuid(root, TUMBLEWEED_BTRFS_UUID)
    g.mkswap(ctx.part(3), uuid=TUMBLEWEED_SWAP_UUID)

    g.mount(root, "/")
    g.btrfs_subvolume_create("/@")
    for sub in ("var", "home", ".snapshots"):
        g.btrfs_subvolume_create(f"/@/{sub}")
    g.mkdir("/@/.snapshots/1")
    g.btrfs_subvolume_create("/@/.snapshots/1/snapshot")
    ctx.write("/@/.snapshots/1/info.xml", "<snapshot><type>single</type><num>1</num>"
              "<description>first root filesystem</description></snapshot>\n")
    snapshot = next(s for s in g.btrfs_subvolume_list("/")
                    if s["btrfssubvolume_path"] == "@/.snapshots/1/snapshot")
    g.btrfs_subvolume_set_default(snapshot["btrfssubvolume_id"], "/")
    g.umount("/")

    g.mount(root, "/")  # the default subvolume: snapshot 1
    ctx.mkdirs("/etc", "/usr/bin", "/usr/lib/sysimage/rpm", "/var", "/home", "/.snapshots",
               "/boot/grub2", "/root")
    g.mount(f"btrfsvol:{root}/@/var", "/var")
    g.mount(f"btrfsvol:{root}/@/home", "/home")
    g.ln_s("usr/bin", "/bin")
    g.ln_s("usr/lib", "/lib")
    ctx.elf("/usr/bin/ls")
    ctx.elf("/usr/bin/bash")
    ctx.write("/etc/fstab", TUMBLEWEED_FSTAB)
    ctx.write("/usr/lib/os-release", TUMBLEWEED_OS_RELEASE)
    g.ln_s("../usr/lib/os-release", "/etc/os-release")
    ctx.write("/etc/hostname", "tumbleweed.invalid\n")
    ctx.upload(content.fedora_rpmdb(ctx.workdir), "/usr/lib/sysimage/rpm/rpmdb.sqlite")
    ctx.mkdirs("/usr/lib/rpm")
    ctx.write("/usr/lib/rpm/macros", "%_dbpath /usr/lib/sysimage/rpm\n%_db_backend sqlite\n")
    ctx.mkdirs("/var/lib", "/var/log", "/home/geeko")
    g.ln_s("../../usr/lib/sysimage/rpm", "/var/lib/rpm")
    g.touch("/boot/grub2/grub.cfg")
