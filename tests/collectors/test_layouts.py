"""Block-device layouts of the phony guests as the image collector reads them: btrfs
subvolumes, md RAID over two disks, GPT."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from guestinspect.inspection.driver import load_program, run_snapshot

pytestmark = pytest.mark.appliance
images = pytest.importorskip("tests.images")

GUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


class Facts:
    """The base facts of a fresh recording of a guest's image (one appliance launch a
    session, shared: tests/conftest.py): ``facts["Relation"]`` is its set of tuples."""

    def __init__(self, directory: Path) -> None:
        self.db = run_snapshot(load_program(), directory)

    def __getitem__(self, relation: str) -> set[tuple[object, ...]]:
        return set(self.db.tuples(relation))


@pytest.fixture
def facts(recorded: Callable[[str], Path]) -> Callable[[str], Facts]:
    return lambda name: Facts(recorded(name))


def test_btrfs_subvolumes(facts: Callable[[str], Facts]) -> None:
    f = facts("fedora-btrfs")
    subs = {(t[0], t[1], t[2]) for t in f["BtrfsSubvolume"]}
    assert subs == {(f"btrfsvol:/dev/sda2/{n}", "/dev/sda2", n) for n in ("root", "home")}
    assert all(int(t[3]) >= 256 for t in f["BtrfsSubvolume"])
    assert {("/dev/sda2", "btrfs"), ("btrfsvol:/dev/sda2/root", "btrfs"),
            ("btrfsvol:/dev/sda2/home", "btrfs")} <= f["Filesystem"]
    uuids = {t[0]: t[1] for t in f["FsUuid"]}
    assert uuids["btrfsvol:/dev/sda2/root"] == uuids["/dev/sda2"]
    assert ("/dev/sda2", "ROOT") in f["FsLabel"]
    assert {("btrfsvol:/dev/sda2/root",), ("btrfsvol:/dev/sda2/home",)} <= f["Mounted"]
    (fstab,) = [t[2] for t in f["Content"] if t[:2] == ("btrfsvol:/dev/sda2/root", "/etc/fstab")]
    assert "subvol=home" in str(fstab)


def test_md_over_two_disks(facts: Callable[[str], Facts]) -> None:
    f = facts("fedora-md")
    assert {t[0] for t in f["Disk"]} == {"/dev/sda", "/dev/sdb"}
    arrays = {str(t[0]): str(t[1]) for t in f["MdArray"]}
    assert len(arrays) == 2
    assert all(re.fullmatch(r"[0-9a-f]{8}(:[0-9a-f]{8}){3}", u) for u in arrays.values())
    members: dict[str, set[str]] = {}
    for m, dev in f["MdMember"]:
        members.setdefault(str(m), set()).add(str(dev))
    assert sorted(map(sorted, members.values())) == [["/dev/sda1", "/dev/sdb1"],
                                                      ["/dev/sda2", "/dev/sdb2"]]
    boot = next(m for m, devs in members.items() if "/dev/sda1" in devs)
    root = next(m for m, devs in members.items() if "/dev/sda2" in devs)
    assert (boot, "ext2") in f["Filesystem"] and (boot,) in f["Mounted"]
    assert {t[0] for t in f["LvmPv"]} == {root}
    # Members and PVs are not filesystems.
    assert not {t[0] for t in f["Filesystem"]} & {"/dev/sda1", "/dev/sdb1", "/dev/sda2", root}


def test_gpt(facts: Callable[[str], Facts]) -> None:
    f = facts("windows-gpt")
    assert f["PartitionTable"] == {("/dev/sda", "gpt")}
    guids = {t[0]: t[1] for t in f["PartitionGptGuid"]}
    assert guids["/dev/sda3"] == images.guests.WINDOWS_GPT_C_GUID
    assert len(guids) == 3 and all(GUID.match(str(g)) for g in guids.values())
    types = {t[0]: t[1] for t in f["PartitionGptType"]}
    assert types == {"/dev/sda1": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
                     "/dev/sda2": "E3C9E316-0B5C-4DB8-817D-F92DF00215AE",
                     "/dev/sda3": "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"}
    assert {t[0]: t[1] for t in f["PartitionName"]} == {
        "/dev/sda1": "EFI", "/dev/sda2": "Microsoft", "/dev/sda3": "Basic"}
    # The Microsoft reserved partition is not looked into (as libguestfs does).
    assert f["Filesystem"] == {("/dev/sda1", "vfat"), ("/dev/sda3", "ntfs")}
    assert ("/dev/sda1", "/dev/sda", 1, 1048576, 104857600) in f["Partition"]
