"""libguestfs's phony Linux guests, described for the fake collector (tests/rules/fakefs.py).

Each follows upstream's build script (guestfs-tools test-data/phony-guests/make-*-img.*):
the same partitions, volumes, labels, uuids and files, so that the rules' conclusions can be
compared with upstream's expected virt-inspector output.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fuzz.targets.packages import rpm_header, rpm_sqlite
from guestinspect.collectors.base import Fact, FactSet
from guestinspect.collectors.packages import RPM_TAGS
from tests.images.guests import COREOS_OS_RELEASE
from tests.oracles import SHARED
from tests.rules.fakefs import FakeCollector, Node, Record

PHONY = SHARED / "testdata" / "libguestfs-phony"
MIB = 1024 * 1024


def uuid(n: int) -> str:
    return f"01234567-0123-0123-0123-0123456789{n:02d}"


@dataclass
class Guest:
    """Files (package databases among them), initial facts and binaries' architectures of
    one guest."""

    files: dict[tuple[str, str], Node] = field(default_factory=dict)
    facts: FactSet = field(default_factory=dict)
    arch: dict[tuple[str, str], str] = field(default_factory=dict)

    def fact(self, relation: str, *values: str | int) -> None:
        self.facts.setdefault(relation, set()).add(tuple(values))

    def fs(self, dev: str, vfs: str, uuid: str | None = None, label: str | None = None) -> None:
        self.fact("Filesystem", dev, vfs)
        self.fact("Mounted", dev)
        self.files.setdefault((dev, "/"), None)
        if uuid:
            self.fact("FsUuid", dev, uuid)
        if label:
            self.fact("FsLabel", dev, label)

    def disk(self, dev: str, index: int, parts: int) -> None:
        self.fact("Disk", dev, index, 512 * MIB)
        for n in range(1, parts + 1):
            self.fact("Partition", f"{dev}{n}", dev, n, n * MIB, MIB)

    def lv(self, vg: str, name: str) -> str:
        lv: Fact = (f"/dev/{vg}/{name}", vg, name, f"uuid-{vg}-{name}")
        self.facts.setdefault("LvmLv", set()).add(lv)
        return str(lv[0])

    def write(self, dev: str, path: str, text: str) -> None:
        self.files[(dev, path)] = text

    def mkdir(self, dev: str, *paths: str) -> None:
        for p in paths:
            self.files[(dev, p)] = None

    def ln_s(self, dev: str, target: str, path: str) -> None:
        self.files[(dev, path)] = ("symlink", target)

    def binary(self, dev: str, path: str, arch: str = "x86_64") -> None:
        self.files[(dev, path)] = "\x7fELF"
        self.arch[(dev, path)] = arch

    def collector(self) -> FakeCollector:
        return FakeCollector(self.files, self.facts, self.arch)


def debian() -> Guest:
    g = Guest()
    g.disk("/dev/sda", 0, 2)
    g.fs("/dev/sda1", "ext2", uuid(1), "BOOT")
    for n, name in enumerate(["root", "usr", "var", "home"], start=2):
        g.fs(g.lv("debian", name), "ext2", uuid(n))
    root, var = "/dev/debian/root", "/dev/debian/var"
    g.write(root, "/etc/fstab", "LABEL=BOOT /boot ext2 default 0 0\n"
            "/dev/debian/root / ext2 default 0 0\n/dev/debian/usr /usr ext2 default 1 2\n"
            "/dev/debian/var /var ext2 default 1 2\n/dev/debian/home /home ext2 default 1 2\n")
    g.mkdir(root, "/boot", "/usr", "/var", "/home", "/bin", "/etc")
    g.write(root, "/etc/debian_version", "5.0.1")
    g.write(root, "/etc/hostname", "debian.invalid")
    g.binary(root, "/bin/ls")
    status = (PHONY / "debian-packages").read_text()
    g.write(var, "/lib/dpkg/status", status)
    g.mkdir(var, "/lib/urandom", "/log")
    g.write(var, "/log/syslog", "")
    g.write("/dev/sda1", "/grub/grub.conf", "")
    return g


def ubuntu() -> Guest:
    g = Guest()
    g.disk("/dev/sda", 0, 2)
    g.fs("/dev/sda1", "ext2", uuid(1), "BOOT")
    g.fs("/dev/sda2", "ext2", uuid(2))
    root = "/dev/sda2"
    g.write(root, "/etc/fstab", "LABEL=BOOT /boot ext2 default 0 0\n"
            "/dev/sda2 / ext2 default 1 2\n\n# RHBZ#811872: dummy encrypted swap device\n"
            "/dev/mapper/cryptswap1 none swap sw 0 0\n")
    g.mkdir(root, "/boot", "/bin", "/etc", "/home", "/usr", "/var/lib/urandom")
    g.write(root, "/etc/debian_version", "5.0.1")
    g.write(root, "/etc/lsb-release", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=10.10\n"
            "DISTRIB_CODENAME=maverick\nDISTRIB_DESCRIPTION=\"Ubuntu 10.10 (Phony Pharaoh)\"\n")
    g.write(root, "/etc/hostname", "ubuntu.invalid")
    status = (PHONY / "debian-packages").read_text()
    g.write(root, "/var/lib/dpkg/status", status)
    g.binary(root, "/bin/ls")
    g.write("/dev/sda1", "/grub/grub.conf", "")
    return g


#: A few records of the Fedora guest's rpm database (fedora-db.sql.xz holds 172).
FEDORA_RPMS: list[Record] = [
    {"name": "bash", "epoch": "", "version": "5.1.16", "release": "2.fc36", "arch": "x86_64",
     "url": "https://www.gnu.org/software/bash", "summary": "The GNU Bourne Again shell",
     "description": "The GNU Bourne Again shell (Bash) is a shell"},
    {"name": "basesystem", "epoch": "0", "version": "11", "release": "13.fc36",
     "arch": "noarch", "url": "(none)", "summary": "The skeleton package",
     "description": "Basesystem defines the components of a basic Fedora system"},
    {"name": "phony-epoch", "epoch": "1", "version": "9.0", "release": "8.fc36",
     "arch": "x86_64", "url": "https://www.gnu.org/software/coreutils/", "summary": "core",
     "description": "These are the GNU core utilities."},
]


def rpmdb_sqlite(records: Sequence[Record]) -> bytes:
    """An rpmdb.sqlite holding a header of each of ``records`` (an empty field left out)."""
    tags = {name: tag for tag, name in RPM_TAGS.items()}
    headers: list[object] = [
        rpm_header({tags[k]: int(v) if k == "epoch" else v for k, v in r.items() if v})
        for r in records
    ]
    with tempfile.TemporaryDirectory() as d:
        return rpm_sqlite(Path(d) / "rpmdb.sqlite", headers).read_bytes()


def fedora(layout: str = "partitions") -> Guest:
    """``partitions``, ``lvm-on-luks`` or ``luks-on-lvm`` (make-fedora-img.pl LAYOUT=)."""
    g = Guest()
    g.disk("/dev/sda", 0, 2)
    if layout == "luks-on-lvm":
        vg = "Volume-Group"
        root = "/dev/mapper/luks-" + uuid(99)
        for name in ["Root", "Logical-Volume-1", "Logical-Volume-2", "Logical-Volume-3"]:
            lv = g.lv(vg, name)
            g.fact("LuksContainer", lv, f"luks-{name}")
        g.fact("LuksOpened", f"/dev/{vg}/Root", root)
        g.fs(root, "ext2", uuid(2), "ROOT")
        for n in (1, 2, 3):
            g.fs(f"/dev/mapper/luks-lv{n}", "ext2", None, f"LV{n}")
    else:
        if layout == "lvm-on-luks":
            g.fact("LuksContainer", "/dev/sda2", "luks-sda2")
            g.fact("LuksOpened", "/dev/sda2", "/dev/mapper/luks-sda2")
        root = g.lv("VG", "Root")
        g.fs(root, "ext2", uuid(2), "ROOT")
        for n in (1, 2, 3):
            g.fs(g.lv("VG", f"LV{n}"), "ext2")
    g.fs("/dev/sda1", "ext2", uuid(1), "BOOT")
    g.write(root, "/etc/fstab",
            "LABEL=BOOT /boot ext2 default 0 0\nLABEL=ROOT / ext2 default 0 0\n")
    g.mkdir(root, "/boot", "/bin", "/etc/sysconfig", "/sbin", "/usr/share/zoneinfo/Europe",
            "/var/lib/rpm", "/usr/lib/rpm", "/var/log/journal")
    g.write(root, "/usr/share/zoneinfo/Europe/London", "")
    g.write(root, "/etc/shadow", "root::15440:0:99999:7:::\n")
    g.write(root, "/etc/motd", "Welcome to Fedora release 14 (Phony)\n")
    g.write(root, "/etc/redhat-release", "Fedora release 14 (Phony)")
    g.write(root, "/etc/fedora-release", "Fedora release 14 (Phony)")
    g.write(root, "/etc/sysconfig/network", "HOSTNAME=fedora.invalid")
    g.files[(root, "/var/lib/rpm/rpmdb.sqlite")] = rpmdb_sqlite(FEDORA_RPMS)
    g.binary(root, "/bin/ls")
    g.binary(root, "/bin/sh")
    g.write("/dev/sda1", "/grub/grub.conf", "title Fedora\n")
    return g


def archlinux() -> Guest:
    g = Guest()
    g.disk("/dev/sda", 0, 1)
    root = "/dev/sda1"
    g.fs(root, "ext4", uuid(2))
    g.mkdir(root, "/boot", "/bin", "/etc", "/home", "/usr")
    g.write(root, "/etc/fstab", "/dev/sda1 / ext4 rw,relatime,data=ordered 0 1")
    g.write(root, "/etc/arch-release", "")
    g.write(root, "/etc/hostname", "archlinux.test")
    desc = (PHONY / "archlinux-package").read_text()
    g.write(root, "/var/lib/pacman/local/test-package-1:0.1-1/desc", desc)
    g.binary(root, "/bin/ls")
    g.write(root, "/boot/grub/grub.conf", "")
    return g


# The same os-release the CoreOS test image carries.
COREOS_RELEASE = COREOS_OS_RELEASE


def coreos() -> Guest:
    g = Guest()
    g.fact("Disk", "/dev/sda", 0, 512 * MIB)
    g.fact("PartitionTable", "/dev/sda", "gpt")
    for n, name in enumerate(["EFI_SYSTEM", "BIOS-BOOT", "USR-A", "USR-B", "ROOT"], start=1):
        g.fact("Partition", f"/dev/sda{n}", "/dev/sda", n, n * MIB, MIB)
        g.fact("PartitionName", f"/dev/sda{n}", name)
    g.fs("/dev/sda1", "vfat")
    usr, root = "/dev/sda3", "/dev/sda5"
    g.fs(usr, "ext4", uuid(1), "USR-A")
    g.fs(root, "ext4", uuid(2), "ROOT")
    g.mkdir(root, "/etc/coreos", "/usr", "/root", "/home")
    g.mkdir(usr, "/bin", "/lib64", "/local", "/share/coreos")
    g.ln_s(root, "usr/bin", "/bin")
    g.ln_s(root, "usr/lib64", "/lib64")
    g.ln_s(root, "lib64", "/lib")
    g.ln_s(usr, "lib64", "/lib")
    g.write(root, "/etc/coreos/update.conf", "GROUP=stable")
    g.write(usr, "/lib64/os-release", COREOS_RELEASE)
    g.ln_s(root, "../usr/lib/os-release", "/etc/os-release")
    g.write(root, "/etc/hostname", "coreos.invalid")
    return g


PHONY_GUESTS = {
    "debian": debian,
    "ubuntu": ubuntu,
    "fedora": fedora,
    "fedora-lvm-on-luks": lambda: fedora("lvm-on-luks"),
    "fedora-luks-on-lvm": lambda: fedora("luks-on-lvm"),
    "archlinux": archlinux,
    "coreos": coreos,
}
