"""Guests laid out as their distributions lay them out: FreeBSD 14 on a UFS2 root (as
bsdinstall makes it) and on a UFS1 root, openSUSE Tumbleweed (root a btrfs snapshot, /var a
subvolume of its own, /var/lib/rpm a relative symlink to /usr/lib/sysimage/rpm), OpenBSD 7.5
(FFS2 root and /home in the disklabel of an MBR partition of type 0xA6).

Each is inspected from its committed fact snapshot and, with the appliance, from its image;
both give ``tests/expected/<guest>.xml`` byte for byte. ``tests/expected/virt-inspector-1.48/``
holds what Debian 12's virt-inspector (libguestfs 1.48) makes of the same images, made with

    virt-inspector --format=raw -a "$(python -m tests.images GUEST | cut -d' ' -f2)"

(``--no-applications`` for Tumbleweed, where it fails otherwise): the tests below pin every
difference, each listed in docs/compatibility.md.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestinspect.api import Inspector
from guestinspect.cli import cli
from guestinspect.reporting.xml import to_xml
from tests.cli.test_end_to_end import validate
from tests.oracles import ROOT

GUESTS = ["freebsd-ufs2", "freebsd-ufs1", "opensuse-tumbleweed", "openbsd"]
EXPECTED = ROOT / "tests" / "expected"
VIRT_INSPECTOR = EXPECTED / "virt-inspector-1.48"
FACTS = ROOT / "facts"


def expected(guest: str) -> str:
    return (EXPECTED / f"{guest}.xml").read_text()


@pytest.mark.parametrize("guest", GUESTS)
def test_snapshot_inspects_as_expected(guest: str) -> None:
    result = CliRunner().invoke(cli, ["--facts", str(FACTS / guest)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # no warning: every filesystem mounted, every database read
    validate(result.stdout)
    assert result.stdout == expected(guest)


@pytest.mark.appliance
@pytest.mark.parametrize("guest", GUESTS)
def test_image_inspects_as_expected(guest: str, recorded: Callable[[str], Path]) -> None:
    with Inspector.from_facts(recorded(guest)) as insp:
        assert to_xml(insp.inspect()) == expected(guest)
        assert insp.warnings() == []


def test_freebsd_on_ufs1_is_what_virt_inspector_says() -> None:
    assert expected("freebsd-ufs1") == (VIRT_INSPECTOR / "freebsd-ufs1.xml").read_text()


def test_freebsd_on_ufs2_virt_inspector_cannot_mount() -> None:
    """libguestfs 1.48 mounts UFS without `ufstype`, which Linux needs for UFS2: it stops with
    an error. We mount it as `ufstype=ufs2` and report the same fields as on UFS1."""
    theirs = (VIRT_INSPECTOR / "freebsd-ufs2.stderr").read_text()
    assert "mount_ro: mount exited with status 32" in theirs
    ours, ufs1 = expected("freebsd-ufs2"), expected("freebsd-ufs1")
    assert ours == ufs1.replace("freebsd14-ufs1.invalid", "freebsd14.invalid").replace(
        "0123456789abcd01", "0123456789abcd02")


def test_openbsd_virt_inspector_finds_no_os() -> None:
    """libguestfs 1.48 asks sfdisk for the MBR type of every partition the kernel lists;
    sfdisk knows no disklabel, fails on partition 5 and the inspection stops with no OS. We
    decode the disklabel as Linux does: fstab's /dev/wd0a and /dev/wd0d are partitions 5 and 7
    (c, the whole disk, is not listed), the slice itself is not probed as a filesystem."""
    theirs = (VIRT_INSPECTOR / "openbsd.stderr").read_text()
    assert "partition 5: partition table contains only 4 partitions" in theirs
    assert "no operating system could be detected" in theirs
    ours = expected("openbsd")
    assert "<osinfo>openbsd7.5</osinfo>" in ours
    assert re.findall(r'<mountpoint dev="([^"]+)">([^<]+)<', ours) == [
        ("/dev/sda5", "/"), ("/dev/sda7", "/home")]
    assert re.findall(r'<filesystem dev="([^"]+)"', ours) == ["/dev/sda5", "/dev/sda6",
                                                              "/dev/sda7"]
    partitions = (FACTS / "openbsd" / "Partition.facts").read_text().splitlines()
    assert [line.split("\t")[2] for line in partitions] == ["1", "5", "6", "7"]


def test_openbsd_fstab_by_duid(tmp_path: Path) -> None:
    """OpenBSD's installer names partitions by the disklabel's DUID (3f5c1b7e09a2d486.d):
    the same guest with such an fstab inspects the same."""
    snapshot = tmp_path / "openbsd"
    shutil.copytree(FACTS / "openbsd", snapshot)
    content = snapshot / "Content.facts"
    fstab = ("/dev/sda5\t/etc/fstab\t3f5c1b7e09a2d486.b none swap sw\\n"
             "3f5c1b7e09a2d486.a / ffs rw,wxallowed 1 1\\n"
             "3f5c1b7e09a2d486.d /home ffs rw,nodev,nosuid 1 2\\n")
    lines = [fstab if line.startswith("/dev/sda5\t/etc/fstab\t") else line
             for line in content.read_text().splitlines()]
    assert fstab in lines
    content.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(cli, ["--facts", str(snapshot)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == expected("openbsd")


def test_tumbleweed_differs_from_virt_inspector_only_as_documented() -> None:
    """Three documented differences (docs/compatibility.md): Tumbleweed's snapshot date is no
    version (0.0, osinfo ``opensusetumbleweed``); a subvolume named ``subvol=/@/var`` is written
    ``btrfsvol:/dev/sda2/@/var``, not with virt-inspector's doubled slash; and the applications,
    which libguestfs 1.48 fails to list (an error and no output at all)."""
    theirs = (VIRT_INSPECTOR / "opensuse-tumbleweed-no-applications.xml").read_text()
    theirs = theirs.replace("<major_version>20241120</major_version>",
                            "<major_version>0</major_version>")
    theirs = theirs.replace("<osinfo>opensuse20241120.0</osinfo>",
                            "<osinfo>opensusetumbleweed</osinfo>")
    theirs = theirs.replace("btrfsvol:/dev/sda2//@/", "btrfsvol:/dev/sda2/@/")
    ours = re.sub(r"    <applications>\n.*?    </applications>\n", "", expected(
        "opensuse-tumbleweed"), flags=re.S)
    assert ours == theirs
    stderr = (VIRT_INSPECTOR / "opensuse-tumbleweed.stderr").read_text()
    assert "internal_list_rpm_applications" in stderr


def test_tumbleweed_packages_come_from_usr_lib_sysimage() -> None:
    """The rpm database is read where /var/lib/rpm (on the /var subvolume) points, on the
    root subvolume, and no warning says it is missing."""
    with Inspector.from_facts(FACTS / "opensuse-tumbleweed") as insp:
        (os_,) = insp.inspect()
        why = insp.explain("applications")
        assert insp.warnings() == []
    apps = os_["applications"]
    assert len(apps) == 172
    assert {a["name"] for a in apps} >= {"bash", "kernel", "rpm"}
    assert "/usr/lib/sysimage/rpm" in why
