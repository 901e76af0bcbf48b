"""The image collector on real images (one shared appliance launch per image)."""

from pathlib import Path

import pytest

from guestinspect.collectors.base import Fact, FactSet
from guestinspect.collectors.image import ImageCollector
from guestinspect.collectors.keys import KeySpec
from tests.collectors import scratch

pytestmark = pytest.mark.appliance

ROOT, WIN = "/dev/sda1", "/dev/sda2"
ODD, BROKEN = "/dev/sdb1", "/dev/sdb2"  # the odd disk (scratch.build_odd)
LV = "/dev/vgcrypt/lv0"
HIVE = "/Windows/System32/config/SYSTEM"  # stored as windows/system32/config/system

WANTS: FactSet = {
    "WantPath": {(ROOT, p) for p in ("/etc/hostname", "/etc/nope", "/nodir/x", "/etc/fifo",
                                     "/etc/loop1", "/sbin/true", "/etc/sparse-2g")},
    "WantContent": {(ROOT, p) for p in ("/etc/os-release", "/etc/os-release-rel", "/etc/loop1",
                                        "/etc/fifo", "/etc/sparse-2g", "/etc/big-text",
                                        "/etc/escape", "/etc/dangling", "/etc/hostname")}
    | {(LV, "/hello")},
    "WantDir": {(ROOT, "/etc"), (ROOT, "/sbin"), (ROOT, "/etc/hostname")},
    "WantArch": {(ROOT, "/bin/true"), (ROOT, "/sbin/true"), (ROOT, "/etc/dangling")},
    "WantRegistryKey": {(WIN, HIVE, "Select"),
                        (WIN, HIVE, "ControlSet001\\Control\\ComputerName\\ComputerName"),
                        (WIN, HIVE, "No\\Such"),
                        (WIN, "/Windows/System32/config/SOFTWARE", "Microsoft")},
    "WantPackages": {(ROOT, "dpkg", "/var/lib/dpkg/status"),
                     (ROOT, "pacman", "/var/lib/pacman/local"),
                     (ROOT, "apk", "/lib/apk/db/installed"), (WIN, "rpm", "/var/lib/rpm"),
                     (ROOT, "rpm", "/var/lib/rpm")},
}


@pytest.fixture(scope="module")
def answers(scratch_collector: tuple[ImageCollector, FactSet]) -> FactSet:
    return scratch_collector[0].answer(WANTS)


def test_block_devices(scratch_collector: tuple[ImageCollector, FactSet]) -> None:
    _, f = scratch_collector
    assert f["Disk"] == {("/dev/sda", 0, 128 * 1024 * 1024), ("/dev/sdb", 1, 96 * 1024 * 1024)}
    assert f["PartitionTable"] == {("/dev/sda", "msdos"), ("/dev/sdb", "gpt")}
    sig = {t[1] for t in f["MbrSignature"] if t[0] == "/dev/sda"}.pop()
    assert len(str(sig)) == 8 and int(str(sig), 16) >= 0
    assert ("/dev/sda1", "/dev/sda", 1, 1024 * 1024, 40 * 1024 * 1024) in f["Partition"]
    assert {t[1] for t in f["PartitionMbrType"]} == {0x83}


def test_luks_lvm_filesystems(scratch_collector: tuple[ImageCollector, FactSet]) -> None:
    _, f = scratch_collector
    ((dev, uuid),) = f["LuksContainer"]
    assert dev == "/dev/sda3"
    assert f["LuksOpened"] == {(dev, f"/dev/mapper/luks-{uuid}")}
    assert {t[0] for t in f["LvmVg"]} == {"vgcrypt"}
    assert f["LvmPv"] == {(f"/dev/mapper/luks-{uuid}", "vgcrypt")}
    ((lv, vg, name, lv_uuid),) = f["LvmLv"]
    assert (lv, vg, name, len(str(lv_uuid))) == (LV, "vgcrypt", "lv0", 38)
    assert {(ROOT, "ext4"), (WIN, "ext4"), (LV, "ext4")} <= f["Filesystem"]
    assert {(ROOT, "ROOT"), (WIN, "WIN"), (LV, "INLUKS"), (ODD, "ODD"), (BROKEN, "BROKEN")} \
        == f["FsLabel"]
    assert {t[0] for t in f["FsUuid"]} == {ROOT, WIN, LV, ODD, BROKEN}
    assert f["Mounted"] == {(ROOT,), (WIN,), (LV,), (ODD,)}
    assert "LuksLocked" not in f


def test_paths(answers: FactSet) -> None:
    entries = {t[1]: t[2] for t in answers["Entry"] if t[0] == ROOT}
    assert entries["/etc/hostname"] == "file"
    assert entries["/etc/fifo"] == "other"
    assert entries["/etc/loop1"] == "symlink"
    assert entries["/sbin/true"] == "file"  # /sbin -> /usr/bin, absolute, resolved in-guest
    missing = {t[1] for t in answers["Missing"] if t[0] == ROOT}
    assert {"/etc/nope", "/nodir/x"} <= missing
    assert (ROOT, "/etc/sparse-2g", 2 * 1024**3) in answers["FileSize"]
    assert (ROOT, "/etc/os-release", "/usr/lib/os-release") in answers["Symlink"]


def test_content(answers: FactSet) -> None:
    content = {t[1]: t[2] for t in answers["Content"] if t[0] == ROOT}
    release = scratch.OS_RELEASE.decode()
    assert content["/etc/os-release"] == release  # absolute symlink, same filesystem
    assert content["/etc/os-release-rel"] == release
    assert content["/etc/escape"] == "scratchhost\n"  # .. stops at the filesystem root
    assert content["/etc/hostname"] == "scratchhost\n"
    for path in ("/etc/loop1", "/etc/fifo", "/etc/dangling"):
        assert path not in content
    assert len(str(content["/etc/big-text"])) == 1024 * 1024
    assert len(str(content["/etc/sparse-2g"])) == 1024 * 1024
    assert {t[1] for t in answers["ContentTruncated"]} == {"/etc/big-text", "/etc/sparse-2g"}
    assert (LV, "/hello", "hello from inside LUKS\n") in answers["Content"]


def test_dirs(answers: FactSet) -> None:
    assert {(ROOT, "/etc"), (ROOT, "/sbin")} <= answers["Listed"]
    entries = {t[1]: t[2] for t in answers["Entry"] if t[0] == ROOT}
    assert entries["/sbin/true"] == "file"
    assert entries["/etc/caf\ufffd.conf"] == "other"  # not UTF-8: named with U+FFFD
    assert (ROOT, "/etc/hostname") in answers["Missing"]  # WantDir of a file


def test_arch(answers: FactSet) -> None:
    arch = {t[1]: t[2] for t in answers["BinaryArch"]}
    assert arch["/bin/true"] == arch["/sbin/true"] == "x86_64"
    assert (ROOT, "/etc/dangling") in answers["Missing"]


def test_registry(answers: FactSet) -> None:
    assert (WIN, HIVE, "Select", "current", "dword", "1") in answers["RegistryValue"]
    key = "ControlSet001\\Control\\ComputerName\\ComputerName"
    assert (WIN, HIVE, key, "computername", "sz", "WKS-WIN732BITA") in answers["RegistryValue"]
    assert (WIN, HIVE, "No\\Such") in answers["RegistryKeyMissing"]
    assert {t[1] for t in answers["HiveError"]} == {"/Windows/System32/config/SOFTWARE"}


def test_packages(answers: FactSet) -> None:
    def names(fs: str, kind: str, field: str) -> set[str]:
        return {str(t[4]) for t in answers["PackageField"]
                if t[:2] == (fs, kind) and t[3] == field}

    assert names(ROOT, "dpkg", "package") == {"test1", "test2", "test3"}
    assert names(ROOT, "pacman", "name") == {"test-package"}
    assert names(ROOT, "apk", "name") == {"musl", "busybox"}
    assert len(names(WIN, "rpm", "name")) > 100
    assert len({t[2] for t in answers["PackageField"] if t[:2] == (WIN, "rpm")}) == 172
    assert {t[:3] for t in answers["PackageDbError"]} == {(ROOT, "rpm", "/var/lib/rpm")}


def test_batched_calls(scratch_collector: tuple[ImageCollector, FactSet]) -> None:
    c, _ = scratch_collector
    before = c.stats().guestfs_calls
    paths: set[Fact] = {(ROOT, f"/usr/lib/{n}") for n in ("a", "b", "c", "d", "os-release")}
    paths |= {(ROOT, f"/nodir{i}/sub/x") for i in range(20)}  # missing parents
    got = c.answer({"WantPath": paths})
    assert len(got["Missing"]) == 24
    assert c.stats().guestfs_calls - before <= 3  # one lstatnslist per directory level
    assert c.stats().launch_seconds > 0


def test_no_key_leaves_luks_locked(scratch_image: Path) -> None:
    with ImageCollector([scratch_image], keys=KeySpec(), progress=False) as c:
        f = c.initial_facts()
        assert f["LuksLocked"] == {("/dev/sda3", "no key")}
        assert "LvmVg" not in f
        assert f["Mounted"] == {(ROOT,), (WIN,)}
        assert any("LUKS" in w for w in c.stats().warnings)


def test_debian(debian_collector: tuple[ImageCollector, FactSet]) -> None:
    c, f = debian_collector
    assert {t[0] for t in f["LvmVg"]} == {"debian"}
    lvs = {t[0] for t in f["LvmLv"]}
    assert lvs == {f"/dev/debian/{n}" for n in ("root", "usr", "var", "home")}
    assert ("/dev/sda1", "BOOT") in f["FsLabel"]
    assert ("/dev/debian/root", "01234567-0123-0123-0123-012345678902") in f["FsUuid"]
    a = c.answer({
        "WantContent": {("/dev/debian/root", "/etc/hostname")},
        "WantPackages": {("/dev/debian/var", "dpkg", "/lib/dpkg/status")},
        "WantArch": {("/dev/debian/usr", "/bin/ls"), ("/dev/debian/root", "/bin/ls")},
    })
    assert ("/dev/debian/root", "/etc/hostname", "debian.invalid") in {
        (t[0], t[1], str(t[2]).strip()) for t in a["Content"]}
    assert len({t[2] for t in a["PackageField"]}) == 3
    assert a.get("BinaryArch")
