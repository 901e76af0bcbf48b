"""Table-driven tests of the Unix rules: one small fake filesystem per case, the shipped
program, the real driver loop (tests/rules/fakefs.py answers the requests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from guestinspect.collectors.base import merge
from guestinspect.datalog import Database, Program
from guestinspect.inspection.driver import load_program, run_collector
from tests.rules.fakefs import FakeCollector, Node, dpkg_status

FS = "/dev/sda1"
#: The least that makes a Linux root.
BASE: dict[str, Node] = {"/etc/fstab": "", "/bin": None}


def inspect(program: Program, files: dict[str, Node], **kw: object) -> Database:
    collector = FakeCollector({(FS, p): v for p, v in {**BASE, **files}.items()}, **kw)  # type: ignore[arg-type]
    return run_collector(program, collector)


def one(db: Database, relation: str) -> str | int | None:
    values = {t[1] for t in db.tuples(relation) if t[0] == FS}
    assert len(values) <= 1, (relation, values)
    return values.pop() if values else None


def identity(db: Database) -> tuple[object, ...]:
    return tuple(one(db, r) for r in ("OsDistro", "ProductName", "MajorVersion", "MinorVersion"))


RELEASES = [
    # (files, distro, product, major, minor)
    ({"/etc/os-release": 'ID=fedora\nVERSION_ID=39\nPRETTY_NAME="Fedora Linux 39"\n'},
     "fedora", "Fedora Linux 39", 39, 0),
    ({"/etc/os-release": 'ID="rhel"\nVERSION_ID="9.3"\nPRETTY_NAME="Red Hat Enterprise Linux 9.3"'},
     "rhel", "Red Hat Enterprise Linux 9.3", 9, 3),
    ({"/etc/os-release": "ID=opensuse-leap\nVERSION_ID=15.5\nPRETTY_NAME='openSUSE Leap 15.5'"},
     "opensuse", "openSUSE Leap 15.5", 15, 5),
    ({"/etc/os-release": 'ID=arch\nPRETTY_NAME="Arch Linux"\nBUILD_ID=rolling'},
     "archlinux", "Arch Linux", 0, 0),
    ({"/etc/os-release": 'ID=neokylin\nVERSION_ID="V7Update6"\nPRETTY_NAME="NeoKylin 7"'},
     "neokylin", "NeoKylin 7", 7, 6),
    # Debian's os-release has only the major version: /etc/debian_version says more.
    ({"/etc/os-release": 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"',
      "/etc/debian_version": "12.5\n"}, "debian", "12.5", 12, 5),
    ({"/etc/lsb-release": "DISTRIB_ID=LinuxMint\nDISTRIB_RELEASE=10\n"
      'DISTRIB_DESCRIPTION="Linux Mint 10 Julia"'}, "linuxmint", "Linux Mint 10 Julia", 10, 0),
    ({"/etc/redhat-release": "Red Hat Enterprise Linux Server release 6.4 (Santiago)\n"},
     "rhel", "Red Hat Enterprise Linux Server release 6.4 (Santiago)", 6, 4),
    ({"/etc/redhat-release": "Red Hat Enterprise Linux AS release 4 (Nahant Update 8)"},
     "rhel", "Red Hat Enterprise Linux AS release 4 (Nahant Update 8)", 4, 8),
    ({"/etc/redhat-release": "CentOS Linux release 7.9.2009 (Core)"},
     "centos", "CentOS Linux release 7.9.2009 (Core)", 7, 9),
    ({"/etc/centos-release": "CentOS release 5.11 (Final)", "/etc/redhat-release": "x"},
     "centos", "CentOS release 5.11 (Final)", 5, 11),
    ({"/etc/redhat-release": "Something Else 3.2"}, "redhat-based", "Something Else 3.2", 3, 2),
    ({"/etc/redhat-release": ""}, "redhat-based", None, None, None),
    ({"/etc/alpine-release": "3.19.1\n"}, "alpinelinux", "3.19.1", 3, 19),
    ({"/etc/arch-release": ""}, "archlinux", None, 0, 0),
    ({"/etc/gentoo-release": "Gentoo Base System release 2.14"},
     "gentoo", "Gentoo Base System release 2.14", 2, 14),
    ({"/etc/SuSE-release": "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\n"
      "PATCHLEVEL = 2\n"}, "sles", "SUSE Linux Enterprise Server 11 (x86_64)", 11, 2),
    ({"/etc/SuSE-release": "openSUSE 13.1 (x86_64)\nVERSION = 13.1\n"},
     "opensuse", "openSUSE 13.1 (x86_64)", 13, 1),
    # CirrOS is built with Buildroot: /etc/br-version plus CirrOS's logo (as libguestfs).
    ({"/etc/br-version": "2015.05-g31a5e7c\n", "/usr/share/cirros/logo": "logo"},
     "cirros", "2015.05-g31a5e7c", 2015, 5),
    ({"/etc/br-version": "2022.02.4\n"}, "buildroot", "2022.02.4", 2022, 2),
    ({"/etc/cirros/version": "0.6.2\n", "/etc/br-version": "2022.02.4\n",
      "/usr/share/cirros/logo": "logo"}, "cirros", "0.6.2", 0, 6),
    # A symlinked release file is followed.
    ({"/etc/os-release": ("symlink", "../usr/lib/os-release"),
      "/usr/lib/os-release": 'ID=ubuntu\nVERSION_ID="22.04"\nPRETTY_NAME="Ubuntu 22.04.3 LTS"'},
     "ubuntu", "Ubuntu 22.04.3 LTS", 22, 4),
]


@pytest.mark.parametrize(("files", "distro", "product", "major", "minor"), RELEASES)
def test_release_files(program: Program, files: dict[str, Node], distro: str,
                       product: str | None, major: int | None, minor: int | None) -> None:
    db = inspect(program, files)
    assert db.tuples("Root") == {(FS,)}
    assert identity(db) == (distro, product, major, minor)


PRECEDENCE = [
    # os-release beats lsb-release beats the distro's own file.
    ({"/etc/os-release": 'ID=ubuntu\nVERSION_ID="20.04"\nPRETTY_NAME="Ubuntu 20.04"',
      "/etc/lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=19.10\nDISTRIB_DESCRIPTION=old",
      "/etc/debian_version": "bullseye/sid"}, "ubuntu", "Ubuntu 20.04", 20, 4),
    ({"/etc/lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=19.10\nDISTRIB_DESCRIPTION=U",
      "/etc/debian_version": "bullseye/sid"}, "ubuntu", "U", 19, 10),
    # An unknown os-release ID falls through to the release files.
    ({"/etc/os-release": 'ID=someday\nVERSION_ID=1\nPRETTY_NAME="Someday 1"',
      "/etc/redhat-release": "Fedora release 40 (Forty)"},
     "fedora", "Fedora release 40 (Forty)", 40, 0),
    # The last of a repeated key counts.
    ({"/etc/os-release": 'ID=fedora\nVERSION_ID=1\nVERSION_ID=38\nPRETTY_NAME="F"'},
     "fedora", "F", 38, 0),
]


@pytest.mark.parametrize(("files", "distro", "product", "major", "minor"), PRECEDENCE)
def test_precedence(program: Program, files: dict[str, Node], distro: str, product: str,
                    major: int, minor: int) -> None:
    assert identity(inspect(program, files)) == (distro, product, major, minor)


HOSTILE: list[dict[str, Node]] = [
    {"/etc/os-release": ""},
    {"/etc/os-release": "\x00\x01\xff\ufffd" * 1000},
    {"/etc/os-release": "ID=fedora\n" + "X" * (10 * 1024 * 1024)},
    {"/etc/os-release": "no equals sign here\nID\n=fedora\n"},
    {"/etc/os-release": 'ID="fedora\nPRETTY_NAME=\'unbalanced\nVERSION_ID="'},
    {"/etc/os-release": "ID=fedora\n" * 50000},
    {"/etc/fstab": "\x00garbage\nnot an fstab line at all with far too many fields here\n"},
    {"/etc/fstab": "UUID= / ext4\nLABEL=\n/dev/sda1\n"},
    {"/etc/os-release": ("symlink", "/etc/os-release")},
    {"/etc/os-release": ("symlink", "a/b/../../etc/os-release")},
    {"/etc/hostname": "\n\n# comment only\n"},
]


@pytest.mark.parametrize("files", HOSTILE)
def test_hostile_inputs_do_not_break_inspection(program: Program, files: dict[str, Node]) -> None:
    db = inspect(program, files)
    assert db.tuples("Root") == {(FS,)}
    assert one(db, "OsType") == "linux"
    for relation in ("OsDistro", "ProductName", "MajorVersion", "Hostname"):
        one(db, relation)  # at most one value
    assert ("/", FS) in {(t[1], t[2]) for t in db.tuples("Mountpoint")}


def test_malformed_fstab_line_is_skipped_with_a_warning(program: Program) -> None:
    facts: dict[str, set[tuple[str | int, ...]]] = {
             "Filesystem": {(FS, "ext4"), ("/dev/sda2", "ext4")},
             "Mounted": {(FS,), ("/dev/sda2",)}, "FsLabel": {("/dev/sda2", "HOME")}}
    files: dict[tuple[str, str], Node] = {
        (FS, "/etc/fstab"): "/dev/sda1 / ext4 defaults 0 1\nbroken-line\n"
        "LABEL=HOME /home ext4 defaults 0 2\n", (FS, "/bin"): None, ("/dev/sda2", "/x"): None}
    db = run_collector(program, FakeCollector(files, facts))
    assert {(t[1], t[2]) for t in db.tuples("Mountpoint")} == {("/", FS), ("/home", "/dev/sda2")}
    assert [m for s, m in db.tuples("Warning") if s == FS] == [
        "/etc/fstab line 2: expected 3 to 6 fields, found 1; line skipped"]


FSTAB = [
    # (fstab line, facts, expected mountpoint device or None if skipped)
    ("UUID=ABCD-1234 /data ext4 defaults 0 0", {"FsUuid": {("/dev/sdb1", "abcd-1234")}},
     "/dev/sdb1"),
    ('LABEL="my\\040data" /data ext4 defaults', {"FsLabel": {("/dev/sdb1", "my data")}},
     "/dev/sdb1"),
    ("PARTLABEL=data /data ext4", {"PartitionName": {("/dev/sdb1", "data")}}, "/dev/sdb1"),
    ("PARTUUID=0f1e2d3c-aaaa-bbbb-cccc-000011112222 /data ext4",
     {"PartitionGptGuid": {("/dev/sdb1", "0F1E2D3C-AAAA-BBBB-CCCC-000011112222")}}, "/dev/sdb1"),
    ("PARTUUID=12345678-02 /data ext4", {"MbrSignature": {("/dev/sdb", "78563412")},
                                         "Partition": {("/dev/sdb2", "/dev/sdb", 2, 0, 1)}},
     "/dev/sdb2"),
    ("/dev/vdb1 /data ext4", {"Disk": {("/dev/sda", 0, 1), ("/dev/sdb", 1, 1)},
                              "Partition": {("/dev/sdb1", "/dev/sdb", 1, 0, 1)}}, "/dev/sdb1"),
    ("/dev/xvda2 /data ext4", {"Disk": {("/dev/sda", 0, 1)},
                               "Partition": {("/dev/sda2", "/dev/sda", 2, 0, 1)}}, "/dev/sda2"),
    ("/dev/mapper/vg--x-lv--y /data ext4", {"LvmLv": {("/dev/vg-x/lv-y", "vg-x", "lv-y", "u")}},
     "/dev/vg-x/lv-y"),
    ("/dev/disk/by-uuid/abcd /data ext4", {"FsUuid": {("/dev/sdb1", "ABCD")}}, "/dev/sdb1"),
    ("/dev/md0 /data ext4", {"MdArray": {("/dev/md127", "aaaa:bbbb:cccc:dddd")}}, "/dev/md127"),
    ("/dev/md/data /data ext4", {"MdArray": {("/dev/md126", "11112222:33334444")}}, "/dev/md126"),
    # by-id / by-path: partition N; with several disks, the one whose filesystem type fits.
    ("/dev/disk/by-id/virtio-abc-part2 /data ext4",
     {"Partition": {("/dev/sda2", "/dev/sda", 2, 0, 1)}}, "/dev/sda2"),
    ("/dev/disk/by-path/pci-0000:00:05.0-part1 /data xfs",
     {"Partition": {("/dev/sda1", "/dev/sda", 1, 0, 1), ("/dev/sdb1", "/dev/sdb", 1, 0, 1)},
      "Filesystem": {("/dev/sdb1", "xfs")}}, "/dev/sdb1"),
    ("/dev/disk/by-id/ata-QEMU_HARDDISK_QM00002-part1 /data ext4",
     {"Partition": {("/dev/sda1", "/dev/sda", 1, 0, 1), ("/dev/sdb1", "/dev/sdb", 1, 0, 1)},
      "Filesystem": {("/dev/sdb1", "ext4")}}, None),  # both ext4: ambiguous, skipped
    ("/dev/some/lv //data// ext4", {}, "/dev/some/lv"),
    ("/dev/sdb1 /da\\040ta ext4", {}, "/dev/sdb1"),
    ("tmpfs /data tmpfs defaults", {}, None),
    ("/dev/cdrom /data iso9660", {}, None),
    ("/dev/sdb1 /proc/x ext4", {}, None),
    ("UUID=missing /data ext4", {}, None),
]


@pytest.mark.parametrize(("line", "facts", "dev"), FSTAB)
def test_fstab_forms(program: Program, line: str, facts: dict[str, set[tuple[str | int, ...]]],
                     dev: str | None) -> None:
    base: dict[str, set[tuple[str | int, ...]]] = {"Filesystem": {(FS, "ext4")},
                                                   "Mounted": {(FS,)}}
    merge(base, facts)
    files: dict[tuple[str, str], Node] = {
        (FS, "/etc/fstab"): f"/dev/sda1 / ext4 defaults 0 1\n{line}\n", (FS, "/bin"): None,
        (FS, "/etc/mdadm.conf"): "ARRAY /dev/md0 level=raid1 UUID=aaaabbbb:ccccdddd\n"
        "ARRAY /dev/md/data metadata=1.2 name=host:data UUID=11112222:33334444\n"}
    db = run_collector(program, FakeCollector(files, base))
    mps = {str(t[1]): t[2] for t in db.tuples("Mountpoint")}
    path = "/da ta" if "da\\040ta" in line else "/data"
    assert mps.get(path) == dev
    assert mps["/"] == FS


def test_split_usr_counts_for_the_root(program: Program) -> None:
    """/bin -> usr/bin with /usr on its own filesystem: the architecture and os-release are
    read across the mountpoint."""
    usr = "/dev/sda2"
    files: dict[tuple[str, str], Node] = {
        (FS, "/etc/fstab"): "/dev/sda1 / ext4 defaults\n/dev/sda2 /usr ext4 defaults\n",
        (FS, "/bin"): ("symlink", "usr/bin"), (FS, "/usr"): None,
        (FS, "/etc/os-release"): ("symlink", "../usr/lib/os-release"),
        (usr, "/lib/os-release"): 'ID=fedora\nVERSION_ID=40\nPRETTY_NAME="Fedora Linux 40"',
        (usr, "/bin/bash"): "\x7fELF", (usr, "/bin/dnf"): "#!"}
    db = run_collector(program, FakeCollector(files, arch={(usr, "/bin/bash"): "aarch64"}))
    assert identity(db) == ("fedora", "Fedora Linux 40", 40, 0)
    assert one(db, "Arch") == "aarch64"
    assert one(db, "PackageManagement") == "dnf"
    assert {t[0] for t in db.tuples("Root")} == {FS}


DPKG = [
    # (Version, Status, expected (epoch, version, release) or None if not listed)
    ("1:2.3-4", "install ok installed", ("1", "2.3", "4")),
    ("2.36-9+deb12u4", "install ok installed", (None, "2.36", "9+deb12u4")),
    ("1.0-beta-2", "install ok installed", (None, "1.0-beta", "2")),
    ("5.2", "install ok installed", (None, "5.2", None)),
    ("0:1.0-1", "install ok installed", (None, "1.0", "1")),
    ("1.0-1", "deinstall ok config-files", None),
    ("1.0-1", "purge ok not-installed", None),
    ("1.0-1", "installed ok", (None, "1.0", "1")),
]


@pytest.mark.parametrize(("version", "status", "expected"), DPKG)
def test_dpkg_versions_and_status(program: Program, version: str, status: str,
                                  expected: tuple[str | None, ...] | None) -> None:
    record = {"package": "pkg", "status": status, "version": version, "architecture": "amd64",
              "description": "short\n long line one\n .\n line two", "source": "src (1.0)"}
    db = inspect(program, {"/etc/debian_version": "12.0",
                           "/var/lib/dpkg/status": dpkg_status([record])})
    apps = {t[1] for t in db.tuples("Application")}
    if expected is None:
        assert apps == set()
        return
    assert apps == {"pkg"}
    fields = {str(t[2]): t[3] for t in db.tuples("ApplicationField")}
    assert (fields.get("epoch"), fields.get("version"), fields.get("release")) == expected
    assert fields["summary"] == "short"
    assert fields["description"] == "long line one\n.\nline two"
    assert fields["source_package"] == "src"


HOSTNAMES = [
    ({"/etc/hostname": "\n# a comment\n  host.example  \n"}, "host.example"),
    ({"/etc/HOSTNAME": "old", "/etc/hostname": "new"}, "old"),
    ({"/etc/sysconfig/network": 'NETWORKING=yes\nHOSTNAME="rhel.example"\n'}, "rhel.example"),
    ({"/etc/hostname": ""}, None),
]


@pytest.mark.parametrize(("files", "hostname"), HOSTNAMES)
def test_hostname(program: Program, files: dict[str, Node], hostname: str | None) -> None:
    assert one(inspect(program, files), "Hostname") == hostname


def test_bsd_roots(program: Program) -> None:
    files: dict[str, Node] = {
        "/etc/fstab": "/dev/ada0p2 / ufs rw 1 1\n", "/bsd": "", "/bin": None,
        "/etc/motd": "OpenBSD 7.4 (GENERIC.MP) #1397: Tue Oct 10 09:02:37 MDT 2023\n",
        "/etc/myname": "puffy.example\n"}
    db = run_collector(program, FakeCollector({(FS, p): v for p, v in files.items()}))
    assert (one(db, "OsType"), one(db, "OsDistro")) == ("openbsd", "openbsd")
    assert (one(db, "MajorVersion"), one(db, "MinorVersion")) == (7, 4)
    assert one(db, "Hostname") == "puffy.example"
    assert one(db, "Osinfo") == "openbsd7.4"
    assert {(t[1], t[2]) for t in db.tuples("Mountpoint")} == {("/", FS)}


def test_grub_boot_is_not_a_root(program: Program) -> None:
    db = inspect(program, {"/grub/grub.conf": "", "/etc": None})
    assert db.tuples("Root") == set()


def test_osinfo_and_package_manager(program: Program) -> None:
    db = inspect(program, {"/etc/redhat-release": "CentOS release 6.10 (Final)"})
    assert (one(db, "Osinfo"), one(db, "PackageManagement")) == ("centos6.10", "yum")
    db = inspect(program, {"/etc/os-release": 'ID=rocky\nVERSION_ID="9.3"\nPRETTY_NAME=R'})
    assert (one(db, "Osinfo"), one(db, "PackageManagement")) == ("rocky9", "dnf")
    assert ("os_family", "redhat") in {(t[1], t[2]) for t in db.tuples("Extra")}


NEW_DISTRO = """
Distro("phonyos", "redhat", "rpm").
DistroPackageManager("phonyos", 0, "dnf").
ReleaseFile("linux", 75, "/etc/phony-release", "phonyos", "PhonyOS release (\\\\d+)\\\\.(\\\\d+)").
"""


def test_new_distro_in_a_few_lines(tmp_path: Path) -> None:
    """The worked example of docs/writing-rules.md."""
    (tmp_path / "phonyos.dl").write_text(NEW_DISTRO)
    program = load_program([tmp_path])
    db = inspect(program, {"/etc/phony-release": "PhonyOS release 3.1 (Bogus)\n"})
    assert identity(db) == ("phonyos", "PhonyOS release 3.1 (Bogus)", 3, 1)
    assert (one(db, "PackageFormat"), one(db, "PackageManagement")) == ("rpm", "dnf")
    assert one(db, "Osinfo") == "phonyos3.1"


BSD_FSTAB = [
    # (os marker files, fstab line, partitions of disk 0 (or 1), expected device)
    ("freebsd", "/dev/ada0p3 /usr ufs rw 2 2", {3}, 0, "/dev/sda3"),
    ("freebsd", "/dev/vtbd1p2 /usr ufs rw 2 2", {2}, 1, "/dev/sdb2"),
    ("freebsd", "/dev/nvd0p4 /usr ufs rw 2 2", {4}, 0, "/dev/sda4"),
    ("freebsd", "/dev/ada0s1d /usr ufs rw 2 2", {1, 5, 6, 7, 8}, 0, "/dev/sda8"),
    ("freebsd", "/dev/ada0s2d /usr ufs rw 2 2", {1, 2, 5}, 0, None),  # only slice 1
    ("netbsd", "/dev/wd0e /usr ffs rw 1 2", {1, 5, 6, 7, 8, 9}, 0, "/dev/sda9"),
    ("netbsd", "/dev/ld1a /usr ffs rw 1 2", {1, 5}, 1, "/dev/sdb5"),
    ("openbsd", "/dev/sd0d /usr ffs rw 1 2", {1, 5, 6, 7}, 0, "/dev/sda7"),
    ("openbsd", "/dev/wd0b none swap sw", {1, 5, 6}, 0, None),  # not a mountpoint
    ("openbsd", "/dev/wd0c /usr ffs rw 1 2", {1, 5, 6}, 0, None),  # the whole disk
]

BSD_MARKERS: dict[str, dict[str, Node]] = {
    "freebsd": {"/etc/freebsd-update.conf": ""},
    "netbsd": {"/netbsd": "", "/etc/release": "NetBSD 9.3 (GENERIC) #0\n"},
    "openbsd": {"/bsd": "", "/etc/motd": "OpenBSD 7.4 (GENERIC.MP) #1397\n"},
}


@pytest.mark.parametrize(("os", "line", "parts", "disk", "dev"), BSD_FSTAB)
def test_bsd_fstab_devices(program: Program, os: str, line: str, parts: set[int], disk: int,
                           dev: str | None) -> None:
    disks = ["/dev/sda", "/dev/sdb"][: disk + 1]
    facts: dict[str, set[tuple[str | int, ...]]] = {
        "Filesystem": {(FS, "ufs")}, "Mounted": {(FS,)},
        "Disk": {(d, i, 1 << 30) for i, d in enumerate(disks)},
        "Partition": {(f"{disks[disk]}{n}", disks[disk], n, n << 20, 1 << 20) for n in parts}
        | {(FS, "/dev/sda", 1, 1 << 20, 1 << 20)},
    }
    files = {"/etc/fstab": f"/dev/ada0s1a / ufs rw 1 1\n{line}\n", "/bin": None,
             **BSD_MARKERS[os]}
    db = run_collector(program, FakeCollector({(FS, p): v for p, v in files.items()}, facts))
    assert one(db, "OsType") == os
    mps = {str(t[1]): t[2] for t in db.tuples("Mountpoint")}
    assert mps["/"] == FS
    assert mps.get("/usr") == dev
    if dev is None and "swap" not in line:
        assert any("cannot resolve" in str(t[1]) for t in db.tuples("Warning"))


def test_records_sharing_a_name(program: Program) -> None:
    """Multi-arch dpkg: libc6:amd64 and libc6:i386 are two applications named libc6, the
    later record first; a name of its own is its key."""
    from guestinspect.inspection.results import build_inspections

    def rec(arch: str) -> dict[str, str]:
        return {"package": "libc6", "status": "install ok installed", "version": "2.36-9",
                "architecture": arch, "multi-arch": "same"}

    records = [rec("i386"), {**rec("amd64"), "package": "zlib1g"}, rec("amd64")]
    db = inspect(program, {"/etc/debian_version": "12.0",
                           "/var/lib/dpkg/status": dpkg_status(records)})
    keys = {str(t[1]) for t in db.tuples("Application")}
    assert keys == {"zlib1g", "libc6#dpkg#999999999", "libc6#dpkg#999999997"}
    apps = build_inspections(db)[0]["applications"]
    assert [(a["name"], a.get("arch")) for a in apps] == [
        ("libc6", "amd64"), ("libc6", "i386"), ("zlib1g", "amd64")]


BSD_DISKLABEL_FSTAB = [
    # (os, fstab line, disklabel letters of slice `slice` as partitions 5, 6, ..., expected)
    # Linux skips unused letters: with no b, d is partition 6 (numbering would say 7).
    ("openbsd", "/dev/wd0d /usr ffs rw 1 2", 1, "ade", "/dev/sda6"),
    ("openbsd", "3F5C1B7E09A2D486.e /usr ffs rw 1 2", 1, "ade", "/dev/sda7"),
    ("openbsd", "3f5c1b7e09a2d486.b /usr ffs rw 1 2", 1, "ade", None),  # no such letter
    ("openbsd", "0000000000000000.a /usr ffs rw 1 2", 1, "ade", None),  # another disk's
    # NetBSD's c (the slice) and d (the disk) are not listed: e is partition 7, not 9.
    ("netbsd", "/dev/wd0e /usr ffs rw 1 2", 1, "abe", "/dev/sda7"),
    # FreeBSD: any slice, by its letters.
    ("freebsd", "/dev/ada0s2d /usr ufs rw 2 2", 2, "ad", "/dev/sda6"),
    ("freebsd", "/dev/ada0s1d /usr ufs rw 2 2", 2, "ad", None),
]


@pytest.mark.parametrize(("os", "line", "slice_", "letters", "dev"), BSD_DISKLABEL_FSTAB)
def test_bsd_fstab_devices_by_disklabel_letter(program: Program, os: str, line: str,
                                               slice_: int, letters: str,
                                               dev: str | None) -> None:
    """Where the collector decoded a disklabel (PartitionDisklabel), its letters and OpenBSD's
    DUID name the partitions, whatever numbers Linux gave them."""
    parts = {f"/dev/sda{5 + i}": letter for i, letter in enumerate(letters)}
    facts: dict[str, set[tuple[str | int, ...]]] = {
        "Filesystem": {(FS, "ufs")}, "Mounted": {(FS,)},
        "Disk": {("/dev/sda", 0, 1 << 30)},
        "Partition": {(p, "/dev/sda", int(p[8:]), 1 << 20, 1 << 20) for p in parts}
        | {(FS, "/dev/sda", slice_, 1 << 20, 1 << 30)},
        "PartitionDisklabel": {(p, slice_, letter, "3f5c1b7e09a2d486" if os == "openbsd" else "")
                               for p, letter in parts.items()},
    }
    files = {"/etc/fstab": f"/dev/wd0a / ffs rw 1 1\n{line}\n", "/bin": None,
             **BSD_MARKERS[os]}
    db = run_collector(program, FakeCollector({(FS, p): v for p, v in files.items()}, facts))
    assert one(db, "OsType") == os
    mps = {str(t[1]): t[2] for t in db.tuples("Mountpoint")}
    assert mps["/"] == FS
    assert mps.get("/usr") == dev
