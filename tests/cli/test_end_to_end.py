"""The whole pipeline against upstream's expected virt-inspector output.

* on fact snapshots ``facts/<guest>/`` (no appliance; recorded by the collectors), and
* on the phony test images (``@pytest.mark.appliance``; one launch per guest).

Both compare XML byte for byte with ``expected-<guest>.img.xml``, after the two
normalisations upstream's own tests make: NTFS uuids are ignored, and ``ROOTUUID`` stands
for the LUKS container's uuid. All output is also validated against the schema.
"""

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from guestinspect.api import Inspector
from guestinspect.cli import cli
from guestinspect.reporting.xml import to_xml
from tests.oracles import ROOT, SCHEMA, expected_files, guest_of

FACTS = ROOT / "facts"
GUESTS = [guest_of(p) for p in expected_files()]

#: The keys upstream's tests give (inspector/test-virt-inspector-*.sh).
KEYS: dict[str, list[str]] = {
    "fedora-lvm-on-luks": ["all:key:FEDORA"],
    "fedora-luks-on-lvm": [
        "/dev/Volume-Group/Root:key:FEDORA-Root",
        "/dev/Volume-Group/Logical-Volume-1:key:FEDORA-LV1",
        "/dev/Volume-Group/Logical-Volume-2:key:FEDORA-LV2",
        "/dev/Volume-Group/Logical-Volume-3:key:FEDORA-LV3",
    ],
}


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


# ---- on images (slow: one appliance launch per guest) ---------------------------------------


@pytest.fixture(scope="session")
def inspected() -> dict[str, tuple[str, str]]:
    """guest -> (XML, --explain distro text); filled lazily, one launch per guest."""
    return {}


def inspect_image(guest: str, cache: dict[str, tuple[str, str]], tmp: Path) -> tuple[str, str]:
    if guest not in cache:
        from tests.images import images

        os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
        disks = images(guest)
        with Inspector(disks, format="raw", keys=KEYS.get(guest, ())) as insp:
            xml = to_xml(insp.inspect())
            explanation = insp.explain("distro")
            insp.write_facts(tmp / guest)
        cache[guest] = (xml, explanation)
    return cache[guest]


@pytest.mark.appliance
@pytest.mark.parametrize("guest", GUESTS)
def test_image_matches_virt_inspector(
    guest: str, inspected: dict[str, tuple[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    xml, explanation = inspect_image(guest, inspected, tmp_path_factory.mktemp("facts"))
    validate(xml)
    assert normalise(xml) == expected(guest)
    assert "OsDistro" in explanation


@pytest.mark.appliance
def test_image_and_its_snapshot_agree(tmp_path: Path) -> None:
    from tests.images import image

    os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    with Inspector([image("debian")], format="raw") as insp:
        from_image = insp.inspect()
        insp.write_facts(tmp_path / "debian")
    assert Inspector.from_facts(tmp_path / "debian").inspect() == from_image
