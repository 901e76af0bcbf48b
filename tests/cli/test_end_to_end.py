"""The whole pipeline against upstream's expected virt-inspector output.

* on fact snapshots ``facts/<guest>/`` (no appliance; recorded by the collectors), and
* on the phony test images (``@pytest.mark.appliance``; one launch per guest).

Both compare XML byte for byte with ``expected-<guest>.img.xml``, after the two
normalisations upstream's own tests make: NTFS uuids are ignored, and ``ROOTUUID`` stands
for the LUKS container's uuid. All output is also validated against the schema.
"""

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from guestinspect.api import Inspector
from guestinspect.cli import cli
from guestinspect.reporting.xml import to_xml
from tests.oracles import ROOT, SCHEMA, expected_files, guest_of
from tests.snapshots import SNAPSHOTS

FACTS = ROOT / "facts"
GUESTS = [guest_of(p) for p in expected_files()]


def normalise(xml: str) -> str:
    xml = re.sub(r"<uuid>[0-9A-F]{16}</uuid>", "<uuid>NTFS</uuid>", xml)
    return re.sub(r"luks-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                  "luks-ROOTUUID", xml)


def expected(guest: str) -> str:
    path = next(p for p in expected_files() if guest_of(p) == guest)
    return normalise(path.read_text())


def validate(xml: str) -> None:
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    assert schema.validate(etree.fromstring(xml.encode())), schema.error_log


def snapshot(guest: str) -> Path:
    d = FACTS / guest
    assert (d / "Disk.facts").is_file(), (
        f"no fact snapshot {d}: record it with python -m tests.snapshots {guest}")
    return d


@pytest.mark.parametrize("guest", GUESTS)
def test_snapshot_matches_virt_inspector(guest: str) -> None:
    result = CliRunner().invoke(cli, ["--facts", str(snapshot(guest))])
    assert result.exit_code == 0, result.stderr
    validate(result.stdout)
    assert normalise(result.stdout) == expected(guest)


@pytest.mark.parametrize("guest", GUESTS)
def test_snapshot_json_matches_xml(guest: str) -> None:
    from guestinspect.reporting.json import from_json

    result = CliRunner().invoke(cli, ["--facts", str(snapshot(guest)), "--json"])
    assert result.exit_code == 0, result.stderr
    assert normalise(to_xml(from_json(result.stdout))) == expected(guest)


@pytest.mark.parametrize("field", ["distro", "hostname", "mountpoints", "product_name"])
def test_snapshot_explain(field: str) -> None:
    result = CliRunner().invoke(cli, ["--facts", str(snapshot("debian")), "--explain", field])
    assert result.exit_code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("/dev/debian/root: " + field)
    assert ".dl:" in result.stdout  # rules are shown with file:line


# ---- on images (slow: one appliance launch per guest, shared: tests/conftest.py) --------------


@pytest.mark.appliance
@pytest.mark.parametrize("guest", GUESTS)
def test_image_matches_virt_inspector(guest: str, recorded: Callable[[str], Path]) -> None:
    """The guest's image recorded afresh (the collector and driver loop over the appliance),
    then inspected: test_image_and_its_snapshot_agree shows this is what inspecting the
    image directly gives."""
    with Inspector.from_facts(recorded(guest)) as insp:
        xml = to_xml(insp.inspect())
        explanation = insp.explain("distro")
    validate(xml)
    assert normalise(xml) == expected(guest)
    assert "OsDistro" in explanation


@pytest.mark.appliance
def test_image_and_its_snapshot_agree(tmp_path: Path, recorded: Callable[[str], Path]) -> None:
    """Inspecting an image through the API (its keys too) gives what inspecting its recorded
    facts gives, and what the shared recording gives."""
    from tests.images import image

    guest = "fedora-lvm-on-luks"
    os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    with Inspector([image(guest)], format="raw", keys=SNAPSHOTS[guest].keys) as insp:
        from_image = insp.inspect()
        insp.write_facts(tmp_path / guest)
    assert normalise(to_xml(from_image)) == expected(guest)
    assert Inspector.from_facts(tmp_path / guest).inspect() == from_image
    assert Inspector.from_facts(recorded(guest)).inspect() == from_image


@pytest.mark.appliance
def test_windows_icon_as_virt_inspector_makes_it(recorded: Callable[[str], Path]) -> None:
    """Upstream has no oracle with a Windows icon: the real virt-inspector (guestfs-tools, with
    icoutils and netpbm) on the windows-gpt image is one. The XML is the same but for the
    icon's PNG encoding, and the icon's pixels are the same."""
    from tests.images import image
    from tests.rules.windows.icons import ppm

    if shutil.which("virt-inspector") is None:
        pytest.skip("virt-inspector is not installed")
    os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    theirs = subprocess.run(["virt-inspector", "--format=raw", "-a", str(image("windows-gpt"))],
                            capture_output=True, text=True, check=True).stdout
    with Inspector.from_facts(recorded("windows-gpt")) as insp:
        ours = to_xml(insp.inspect())
    icon = re.compile(r"<icon>(.*?)</icon>", re.S)
    assert icon.sub("<icon/>", ours) == icon.sub("<icon/>", theirs)
    (their_icon,) = icon.findall(theirs)
    (our_icon,) = icon.findall(ours)
    assert ppm(re.sub(r"\s", "", our_icon)) == ppm(re.sub(r"\s", "", their_icon))
