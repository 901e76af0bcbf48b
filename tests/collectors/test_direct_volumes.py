"""The direct volume layer (collectors/volumes/direct.py) gives the start facts the appliance
gave when it recorded each guest's snapshot (facts/<guest>/), on the same test images (built
by tests/images if they are not cached), without an appliance.

What it declares unreadable (md RAID members, btrfs, ufs) is checked too, and for those guests
what the appliance found beyond them (the md arrays and what they hold, btrfs subvolumes) is
left out of the comparison; everything else must be equal."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from guestinspect.collectors.keys import KeySpec
from guestinspect.collectors.volumes.direct import DirectVolumes, disk_name, open_volumes
from tests.images import images
from tests.snapshots import SNAPSHOTS, fixed_uuids, read_dir

#: The start facts of the volume layer.
RELATIONS = ("Disk", "MbrSignature", "PartitionTable", "Partition", "PartitionMbrType",
             "PartitionGptType", "PartitionGptGuid", "PartitionName", "PartitionDisklabel",
             "LvmVg", "LvmPv", "LvmLv", "LuksContainer", "LuksOpened", "LuksLocked",
             "Filesystem", "FsUuid", "FsLabel", "FsVersion")

_MD = "md RAID member (assembled by the appliance)"
_BTRFS = "btrfs (its subvolumes need the appliance)"
#: guest -> what the direct layer declares it cannot read (every other guest: nothing).
UNREADABLE = {
    "fedora-md": {d: _MD for d in ("/dev/sda1", "/dev/sda2", "/dev/sdb1", "/dev/sdb2")},
    "fedora-btrfs": {"/dev/sda2": _BTRFS},
    "opensuse-tumbleweed": {"/dev/sda2": _BTRFS},
    "freebsd-ufs2": {"/dev/sda2": "ufs: no direct reader"},
    "freebsd-ufs1": {"/dev/sda2": "ufs: no direct reader"},
    "openbsd": {"/dev/sda5": "ufs: no direct reader", "/dev/sda7": "ufs: no direct reader"},
}


def _open(name: str) -> tuple[DirectVolumes, float, list[str]]:
    snap = SNAPSHOTS[name]
    paths = images(snap.guest)
    warnings: list[str] = []
    t0 = time.perf_counter()
    vols = open_volumes(paths, snap.format, KeySpec.parse(snap.keys), warnings.append)
    return vols, time.perf_counter() - t0, warnings


def _write(vols: DirectVolumes, directory: Path) -> None:
    directory.mkdir()
    for rel, tuples in vols.facts.items():
        lines = sorted("\t".join(map(str, t)) for t in tuples)
        (directory / f"{rel}.facts").write_text("".join(f"{line}\n" for line in lines))


def _beyond(expected: dict[str, list[str]], known: set[str]) -> dict[str, list[str]]:
    """``expected`` without what the appliance found past the devices the direct layer
    knows: tuples naming an md array, a btrfs subvolume or an LV of a VG on md, and those
    VGs."""
    def devices(line: str) -> set[str]:
        return {c for c in line.split("\t") if c.startswith(("/dev/", "btrfsvol:"))}

    gone = {d for lines in expected.values() for line in lines for d in devices(line)} - known
    vgs = {line.split("\t")[1] for line in expected.get("LvmPv.facts", [])
           if line.split("\t")[0] in gone}
    out: dict[str, list[str]] = {}
    for rel, lines in expected.items():
        keep = [line for line in lines if not devices(line) & gone
                and not (rel == "LvmVg.facts" and line.split("\t")[0] in vgs)]
        if keep:
            out[rel] = keep
    return out


@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_start_facts_equal_the_appliance_snapshot(name: str, tmp_path: Path) -> None:
    vols, seconds, warnings = _open(name)
    with vols:
        assert vols.unreadable == UNREADABLE.get(name, {})
        assert warnings == vols.warnings == []
        _write(vols, tmp_path / "direct")
        known = {t[0] for rel in ("Disk", "Partition", "LvmLv", "Filesystem")
                 for t in vols.facts.get(rel, ())}
        known |= {t[1] for t in vols.facts.get("LuksOpened", ())}
        # every filesystem has its block device, of the size the facts say
        assert set(vols.devices) == {t[0] for t in vols.facts.get("Filesystem", ())}
        for part, _, _, _, size in vols.facts.get("Partition", ()):
            assert vols.devices.get(str(part), None) is None or \
                vols.devices[str(part)].get_size() == size
    fixed = fixed_uuids()
    expected = {rel: lines for rel, lines in read_dir(SNAPSHOTS[name].directory, fixed).items()
                if rel.removesuffix(".facts") in RELATIONS}
    if name in UNREADABLE:
        expected = _beyond(expected, known)
    assert read_dir(tmp_path / "direct", fixed) == expected
    # no VM: a guest without LUKS (whose KDF costs by design) opens in well under a second
    if not vols.facts.get("LuksContainer"):
        assert seconds < 1.0, f"{name}: {seconds:.3f} s"


def test_disk_names_follow_the_appliance() -> None:
    assert [disk_name(i) for i in (0, 1, 25, 26, 27, 701)] == [
        "/dev/sda", "/dev/sdb", "/dev/sdz", "/dev/sdaa", "/dev/sdab", "/dev/sdzz"]


def test_wrong_key_leaves_the_container_locked() -> None:
    snap = SNAPSHOTS["fedora-lvm-on-luks"]
    warnings: list[str] = []
    with open_volumes(images(snap.guest), "raw", KeySpec.parse(["all:key:WRONG"]),
                      warnings.append) as vols:
        assert vols.facts["LuksLocked"] == {("/dev/sda2", "wrong key")}
        assert "LuksOpened" not in vols.facts and "LvmVg" not in vols.facts
        assert warnings == ["/dev/sda2: LUKS container left closed (wrong key)"]
        assert ("/dev/sda2", "crypto_LUKS") in vols.facts["Filesystem"]
    with open_volumes(images(snap.guest), None, KeySpec(), lambda m: None) as vols:
        assert vols.facts["LuksLocked"] == {("/dev/sda2", "no key")}


def test_direct_types_are_what_the_direct_views_read() -> None:
    from guestinspect.collectors.backends.direct_fs import READABLE_TYPES
    from guestinspect.collectors.volumes.direct import DIRECT_TYPES

    assert DIRECT_TYPES == READABLE_TYPES
