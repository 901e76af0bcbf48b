"""The direct backend (issue 11) end to end: ``guestinspect --backend direct`` prints the same
XML as the appliance on every test guest whose volumes and filesystems it reads.

Oracles, none of which costs an appliance launch of its own:

* upstream's ``expected-<guest>.img.xml`` (after test_end_to_end's ``normalise``) for its
  guests, and ``tests/expected/<guest>.xml`` (the appliance's output, checked against
  virt-inspector) for the guests of tests/images/direct.py;
* the committed fact snapshot ``facts/<guest>/`` (the appliance's facts) of every other
  guest, its random UUIDs masked (they change with each build of the image);
* with ``-m appliance``: byte for byte, the XML of the session's appliance recording of the
  same image (``recorded``, shared with tests/snapshots and test_end_to_end) and of the hostile
  guests' appliance runs (``inspected``, shared with test_hostile_guests).

The other formats of ``debian12-lvm`` (tests/images/derived.py: qcow2, a qcow2 overlay with a
backing file, vmdk, vhd, vhdx) print its oracle, the overlay with its own hostname, and so does
the image with its xfs cloned (a new UUID by ``xfs_admin -U``), with that UUID. A btrfs
guest under ``--backend auto`` launches the appliance (the only launch of this module) and
prints its oracle; under ``--backend direct`` it launches nothing and says what it could not
read.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestinspect.cli import cli
from tests.cli.hostile_runs import Run
from tests.cli.test_end_to_end import expected as upstream_expected
from tests.cli.test_end_to_end import normalise, validate
from tests.images import GUESTS, images
from tests.images.derived import CLONED_XFS, FORMS, OVERLAY_HOSTNAME, derived
from tests.images.direct import DIRECT, LVM_HOSTNAME
from tests.images.hostile import HOSTILE
from tests.oracles import ROOT, expected_files, guest_of
from tests.snapshots import SNAPSHOTS, fixed_uuids
from tests.snapshots import normalise as mask

#: Guests with a part the direct backend does not read (md RAID, btrfs, UFS, OpenBSD's FFS).
UNREADABLE = {"fedora-md", "fedora-btrfs", "opensuse-tumbleweed", "freebsd-ufs1",
              "freebsd-ufs2", "openbsd"}
HOSTILE_NAMES = {g.name for g in HOSTILE}
NEW = [g.name for g in DIRECT]
UPSTREAM = {guest_of(p) for p in expected_files()}
#: Every guest the direct backend reads that has a fact snapshot.
SNAPSHOT_GUESTS = [name for name in SNAPSHOTS if SNAPSHOTS[name].guest not in UNREADABLE]
EXPECTED = ROOT / "tests" / "expected"


def test_every_guest_is_covered() -> None:
    """A guest added to tests/images without a place here fails this test."""
    covered = set(SNAPSHOT_GUESTS) | HOSTILE_NAMES | set(NEW) | UNREADABLE
    assert set(GUESTS) <= covered, sorted(set(GUESTS) - covered)


def direct(disks: list[Path], *args: str, backend: str = "direct") -> tuple[str, str]:
    """``guestinspect --backend BACKEND`` over the disks: (stdout, stderr); exit status 0."""
    os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    argv = ["--backend", backend, *args]
    for disk in disks:
        argv += ["-a", str(disk)]
    return run(argv)


def run(argv: list[str]) -> tuple[str, str]:
    """The command line in this process: (stdout, stderr); exit status 0, valid XML."""
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.stderr
    if "<operatingsystem>" in result.stdout:  # (the schema wants one at least)
        validate(result.stdout)
    return result.stdout, result.stderr


@pytest.fixture(scope="module")
def inspect_direct() -> Callable[[str], tuple[str, str]]:
    """``inspect_direct(guest)``: the direct backend's run on the guest's image (raw, with its
    snapshot's keys), once a module."""
    runs: dict[str, tuple[str, str]] = {}

    def get(name: str) -> tuple[str, str]:
        if name not in runs:
            keys = SNAPSHOTS[name].keys if name in SNAPSHOTS else ()
            runs[name] = direct(images(name), "--format", "raw",
                                *[arg for key in keys for arg in ("--key", key)])
        return runs[name]

    return get


# ---- without an appliance ------------------------------------------------------------------


@pytest.mark.parametrize("name", SNAPSHOT_GUESTS)
def test_direct_is_the_snapshots_xml(name: str,
                                     inspect_direct: Callable[[str], tuple[str, str]]) -> None:
    """The direct backend on the image == the appliance's recorded facts of that guest, its
    random UUIDs masked (those are fixed in the appliance test below)."""
    xml, _ = inspect_direct(name)
    appliance, _ = run(["--facts", str(SNAPSHOTS[name].directory)])
    fixed = fixed_uuids()
    assert mask(normalise(xml), fixed) == mask(normalise(appliance), fixed)


@pytest.mark.parametrize("name", sorted(UPSTREAM))
def test_direct_is_upstreams_oracle(name: str,
                                    inspect_direct: Callable[[str], tuple[str, str]]) -> None:
    xml, _ = inspect_direct(name)
    assert normalise(xml) == upstream_expected(name)


def expected(guest: str) -> str:
    return (EXPECTED / f"{guest}.xml").read_text()


@pytest.mark.parametrize("guest", NEW)
def test_direct_is_the_new_guests_oracle(guest: str,
                                         inspect_direct: Callable[[str], tuple[str, str]]) -> None:
    xml, stderr = inspect_direct(guest)
    assert xml == expected(guest)
    assert stderr == ""


@pytest.mark.parametrize("form", [f for f in FORMS if f not in ("qcow2-overlay", "xfs-cloned")])
def test_other_formats_are_the_raw_images_xml(form: str) -> None:
    path, fmt = derived("debian12-lvm", form)
    xml, stderr = direct([path], "--format", fmt)
    assert xml == expected("debian12-lvm")
    assert stderr == ""


def test_qcow2_overlay_is_the_raw_image_with_its_change() -> None:
    """The overlay (its backing file a qcow2 of the raw image) changes /etc/hostname only."""
    path, fmt = derived("debian12-lvm", "qcow2-overlay")
    xml, _ = direct([path], "--format", fmt)
    old, new = f"<hostname>{LVM_HOSTNAME}</hostname>", f"<hostname>{OVERLAY_HOSTNAME}</hostname>"
    assert old in expected("debian12-lvm")
    assert xml == expected("debian12-lvm").replace(old, new)


def test_cloned_xfs_is_read() -> None:
    """An xfs whose UUID ``xfs_admin -U`` changed (a cloned guest's: the incompatible feature
    meta_uuid set, which libfsxfs itself refuses) is read, under its new UUID, with its dpkg
    database: the appliance's XML, checked by hand, is the raw image's with that UUID."""
    path, fmt = derived("debian12-lvm", "xfs-cloned")
    old, new = CLONED_XFS["debian12-lvm"]
    xml, stderr = direct([path], "--format", fmt)
    assert expected("debian12-lvm").count(old) == 1
    assert xml == expected("debian12-lvm").replace(old, new)
    assert stderr == ""


def test_overlay_is_an_overlay() -> None:
    """What the two tests above read: the overlay is small, its backing file the qcow2 beside
    it, named relative to it; the other forms have no backing file."""
    overlay, _ = derived("debian12-lvm", "qcow2-overlay")
    base, _ = derived("debian12-lvm", "qcow2")
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(overlay)],
                                     capture_output=True, text=True, check=True).stdout)
    assert (info["format"], info["backing-filename"]) == ("qcow2", base.name)
    assert info["full-backing-filename"] == str(base)
    assert overlay.stat().st_size < 4 * 1024 * 1024 < base.stat().st_size
    for form in ("vmdk", "vhd", "vhdx"):
        path, fmt = derived("debian12-lvm", form)
        info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(path)],
                                         capture_output=True, text=True, check=True).stdout)
        assert info["format"] == fmt and "backing-filename" not in info


def test_renamed_vmdk(tmp_path: Path) -> None:
    """A monolithic sparse vmdk renamed after it was made (its descriptor names the old file):
    its one extent is the file itself, as qemu reads it."""
    path, fmt = derived("debian12-lvm", "vmdk")
    renamed = tmp_path / "renamed.vmdk"
    os.link(path, renamed)
    xml, _ = direct([renamed], "--format", fmt)
    assert xml == expected("debian12-lvm")


def test_direct_launches_no_appliance_on_btrfs(monkeypatch: pytest.MonkeyPatch) -> None:
    """--backend direct never launches a VM: the btrfs root is a warning, not an appliance."""
    import guestfs

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("--backend direct launched the appliance")

    monkeypatch.setattr(guestfs.GuestFS, "launch", refuse)
    start = time.monotonic()
    xml, stderr = direct(images("opensuse-tumbleweed"), "--format", "raw")
    assert time.monotonic() - start < 30
    assert "btrfs" in stderr
    assert "<operatingsystem>" not in xml


# ---- with the appliance (runs shared with the other image tests) ---------------------------


@pytest.mark.appliance
@pytest.mark.parametrize("name", SNAPSHOT_GUESTS)
def test_direct_is_the_appliances_xml(name: str, recorded: Callable[[str], Path],
                                      inspect_direct: Callable[[str], tuple[str, str]]) -> None:
    xml, _ = inspect_direct(name)
    assert xml == run(["--facts", str(recorded(name))])[0]


@pytest.mark.appliance
@pytest.mark.parametrize("name", sorted(HOSTILE_NAMES))
def test_direct_is_the_appliances_xml_on_hostile_guests(
        name: str, inspected: Callable[[str], Run]) -> None:
    appliance = inspected(name)
    xml, _ = direct(images(name), "--format", "raw")
    assert xml == appliance.xml


@pytest.mark.appliance
def test_auto_sends_btrfs_to_the_appliance() -> None:
    """openSUSE Tumbleweed's root is btrfs: auto launches the appliance for it and prints the
    oracle (tests/expected, the same as test_distro_layouts)."""
    xml, stderr = direct(images("opensuse-tumbleweed"), "--format", "raw", "-v", backend="auto")
    assert xml == expected("opensuse-tumbleweed")
    assert "the appliance reads" in stderr
