"""The XML writer prints exactly what virt-inspector prints."""

import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from guestinspect.reporting.xml import escape_attribute, escape_text, to_xml
from tests.oracles import SCHEMA, example_files, expected_files
from tests.reporting.xmlreader import read_xml, read_xml_file

# example-rhel-6.xml lists /dev/vg_rhel6x32/* before /dev/sda1: it predates virt-inspector's
# sorting of filesystems by device name, so it is only checked against the schema.
ORACLE_FILES = expected_files() + [p for p in example_files() if p.name != "example-rhel-6.xml"]


def without_comments(data: bytes) -> bytes:
    """The upstream examples were cut down by hand, leaving a comment where they were cut."""
    return re.sub(rb"\n *<!--.*?-->", b"", data, flags=re.S)


def validate(xml: str) -> None:
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    doc = etree.fromstring(xml.encode())
    assert schema.validate(doc), schema.error_log


def test_oracles_are_present() -> None:
    assert len(expected_files()) == 8
    assert len(example_files()) == 5


@pytest.mark.parametrize("path", ORACLE_FILES, ids=lambda p: p.name)
def test_round_trip_is_byte_exact(path: Path) -> None:
    inspections = read_xml_file(path)
    assert to_xml(inspections).encode() == without_comments(path.read_bytes())


@pytest.mark.parametrize("path", ORACLE_FILES, ids=lambda p: p.name)
def test_order_does_not_depend_on_input_order(path: Path) -> None:
    inspections = read_xml_file(path)
    for os in inspections:
        for key in ("mountpoints", "filesystems", "drive_mappings", "applications"):
            if key == "applications" and key in os:
                # equal names keep their order (reverse=True sorts stably)
                os[key] = sorted(os[key], key=lambda a: a["name"], reverse=True)
            elif key in os:
                os[key] = list(reversed(os[key]))
    assert to_xml(inspections).encode() == without_comments(path.read_bytes())


@pytest.mark.parametrize("path", expected_files() + example_files(), ids=lambda p: p.name)
def test_output_is_valid(path: Path) -> None:
    validate(to_xml(read_xml_file(path)))


def test_no_operating_system() -> None:
    assert to_xml([]) == '<?xml version="1.0"?>\n<operatingsystems/>\n'


def minimal(**fields: Any) -> dict[str, Any]:
    os: dict[str, Any] = {
        "root": "/dev/sda1",
        "name": "linux",
        "major_version": 0,
        "minor_version": 0,
        "mountpoints": [{"dev": "/dev/sda1", "path": "/"}],
        "filesystems": [{"dev": "/dev/sda1", "type": "ext4"}],
    }
    os.update(fields)
    return os


def test_major_minor_always_printed_unknown_omitted() -> None:
    xml = to_xml([minimal(distro="unknown", arch="x86_64")])
    assert "<major_version>0</major_version>\n    <minor_version>0</minor_version>" in xml
    assert "distro" not in xml
    assert "<arch>x86_64</arch>" in xml
    assert "applications" not in xml  # --no-applications
    validate(xml)


def test_mountpoints_sorted_by_length_then_path() -> None:
    mps = [{"dev": d, "path": p} for p, d in [("/var", "b"), ("/", "a"), ("/home", "c"),
                                              ("/boot", "d"), ("/usr", "e")]]
    xml = to_xml([minimal(mountpoints=mps)])
    paths = [m["path"] for m in read_xml(xml.encode())[0]["mountpoints"]]
    assert paths == ["/", "/usr", "/var", "/boot", "/home"]


def test_drive_mappings_sorted_ignoring_case() -> None:
    drives = [{"name": "d", "dev": "/dev/sdb1"}, {"name": "C", "dev": "/dev/sda2"}]
    xml = to_xml([minimal(drive_mappings=drives)])
    assert xml.index('name="C"') < xml.index('name="d"')


def test_group_policy_and_build_id_positions() -> None:
    xml = to_xml([minimal(name="windows", windows_systemroot="/Windows",
                          windows_current_control_set="ControlSet001",
                          windows_group_policy=True, hostname="h", build_id="b",
                          osinfo="win10")])
    order = ["<windows_current_control_set>", "<windows_group_policy/>", "<hostname>",
             "<build_id>", "<osinfo>", "<mountpoints>"]
    positions = [xml.index(tag) for tag in order]
    assert positions == sorted(positions)
    validate(xml)


def test_filesystem_version_only_for_xfs() -> None:
    fss = [{"dev": "/dev/sda1", "type": "xfs", "version": "5", "uuid": "u"},
           {"dev": "/dev/sda2", "type": "ext4", "version": "1.0"},
           {"dev": "/dev/sda3"}]
    xml = to_xml([minimal(filesystems=fss)])
    assert '<type version="5">xfs</type>' in xml
    assert "<type>ext4</type>" in xml
    assert '<filesystem dev="/dev/sda3"/>' in xml
    validate(xml)


def test_escaping_like_libxml2() -> None:
    assert escape_text('a<b>&"c\'\r\n\té') == 'a&lt;b&gt;&amp;&quot;c\'&#13;\n\té'
    assert escape_attribute('a<&"\n\t\ré') == "a&lt;&amp;&quot;&#10;&#9;&#13;&#xE9;"
    xml = to_xml([minimal(hostname="x<y", applications=[{"name": "p&q", "epoch": 0}])])
    assert "<hostname>x&lt;y</hostname>" in xml
    assert "<name>p&amp;q</name>" in xml
    assert "epoch" not in xml
    assert read_xml(xml.encode())[0]["hostname"] == "x<y"


def test_application_fields_in_virt_inspector_order() -> None:
    app = {"class": "c", "description": "d", "summary": "s", "source_package": "sp",
           "url": "u", "publisher": "p", "install_path": "i", "arch": "a", "release": "r",
           "version": "v", "epoch": 2, "display_name": "dn", "name": "n"}
    xml = to_xml([minimal(applications=[app])])
    tags = [t for t in ("name", "display_name", "epoch", "version", "release", "arch",
                        "install_path", "publisher", "url", "source_package", "summary",
                        "description", "class")]
    positions = [xml.index(f"<{t}>", xml.index("<application>")) for t in tags]
    assert positions == sorted(positions)
    validate(xml)


def test_new_distros_are_valid() -> None:
    for distro in ("circle", "rocky", "openeuler", "opencloudos", "tencentos"):
        validate(to_xml([minimal(distro=distro)]))
