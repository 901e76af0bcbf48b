"""The guest's icon: rules/unix/icon.dl picks the logo file (a fake collector answers the
requests, no appliance), the collector's Blob carries its bytes, the XML prints <icon>."""

import base64
import xml.etree.ElementTree as ET

import pytest

from guestinspect.datalog import Database, Program
from guestinspect.inspection.driver import load_program, run_collector
from guestinspect.inspection.results import build_inspections, png_icon
from guestinspect.reporting.xml import to_xml
from tests.collectors.scratch import png
from tests.rules.fakefs import FakeCollector, Node

FS = "/dev/sda1"
FEDORA = "/usr/share/icons/hicolor/96x96/apps/fedora-logo-icon.png"
DEBIAN = "/usr/share/pixmaps/debian-logo.png"
OS_RELEASE = {
    "fedora": 'ID=fedora\nVERSION_ID=39\nPRETTY_NAME="Fedora Linux 39"\n',
    "debian": 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"\n',
}


@pytest.fixture(scope="module")
def program() -> Program:
    return load_program()


def inspect(program: Program, distro: str, files: dict[str, bytes | str]) -> Database:
    tree: dict[tuple[str, str], Node] = {(FS, "/etc/fstab"): "", (FS, "/bin"): None,
                                         (FS, "/etc/os-release"): OS_RELEASE[distro]}
    for path, data in files.items():
        tree[(FS, path)] = data if isinstance(data, bytes) else ("symlink", data)
    return run_collector(program, FakeCollector(tree))


def test_fedora_icon(program: Program) -> None:
    icon = png(48, 48)
    db = inspect(program, "fedora", {FEDORA: icon, DEBIAN: png(32, 32)})
    assert {(r, base64.b64decode(d)) for r, d in db.tuples("Icon")} == {(FS, icon)}
    (os_,) = build_inspections(db)
    assert base64.b64decode(os_["icon"]) == icon
    root = ET.fromstring(to_xml([os_]).encode())
    text = root.findtext("operatingsystem/icon")
    assert text is not None and base64.b64decode(text) == icon
    assert [e.tag for e in root.find("operatingsystem") or []][-1] == "icon"


def test_icon_through_a_symlink(program: Program) -> None:
    icon = png(16, 16)
    db = inspect(program, "fedora", {"/usr/share/logo.png": icon, FEDORA: "/usr/share/logo.png"})
    (os_,) = build_inspections(db)
    assert base64.b64decode(os_["icon"]) == icon


@pytest.mark.parametrize("data", [png(64, 64) + bytes(2048), b"not a png at all", png(8, 8),
                                  png(2048, 16)])
def test_debian_icon_too_big_or_not_a_png(program: Program, data: bytes) -> None:
    db = inspect(program, "debian", {DEBIAN: data})
    (os_,) = build_inspections(db)
    assert "icon" not in os_
    if len(data) > 2048:  # over Debian's limit: not even fetched
        assert not db.tuples("Blob")


def test_no_icon_file(program: Program) -> None:
    db = inspect(program, "fedora", {})
    assert not db.tuples("Icon") and not db.tuples("WantBlob")
    (os_,) = build_inspections(db)
    assert "icon" not in os_ and "<icon>" not in to_xml([os_])


def test_png_icon() -> None:
    assert png_icon(base64.b64encode(png(16, 1024)).decode())
    assert not png_icon(base64.b64encode(png(15, 16)).decode())
    assert not png_icon("%%%not base64")
    assert not png_icon("")
