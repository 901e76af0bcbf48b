"""Output relations -> inspection dicts, checked against the oracles.

Each oracle is turned into the output relations the rules would derive (plus the base
filesystem facts), and ``build_inspections`` must give the oracle's dicts back.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from guestinspect.inspection.results import (
    FIELD_RELATIONS,
    NUMBER_FIELDS,
    STRING_FIELDS,
    build_inspections,
)
from guestinspect.reporting.xml import to_xml
from tests.oracles import expected_files
from tests.reporting.xmlreader import read_xml_file


class Relations:
    def __init__(self) -> None:
        self.data: dict[str, set[tuple[object, ...]]] = {}

    def add(self, name: str, *t: object) -> None:
        self.data.setdefault(name, set()).add(t)

    def tuples(self, name: str) -> Iterable[tuple[object, ...]]:
        return self.data.get(name, set())


def relations_of(inspections: list[dict[str, Any]]) -> Relations:
    r = Relations()
    for os in inspections:
        root = os["root"]
        r.add("Root", root)
        for field, rel in {**STRING_FIELDS, **NUMBER_FIELDS}.items():
            if field in os:
                r.add(rel, root, os[field])
        if os.get("windows_group_policy"):
            r.add("WindowsGroupPolicy", root)
        for m in os.get("mountpoints", []):
            r.add("Mountpoint", root, m["path"], m["dev"])
        for fs in os.get("filesystems", []):
            r.add("RootFilesystem", root, fs["dev"])
            for key, rel in [("type", "Filesystem"), ("label", "FsLabel"), ("uuid", "FsUuid"),
                             ("version", "FsVersion")]:
                if key in fs:
                    r.add(rel, fs["dev"], fs[key])
        for d in os.get("drive_mappings", []):
            r.add("DriveMapping", root, d["name"], d["dev"])
        for i, app in enumerate(os.get("applications", [])):
            key = f"{app['name']}#{i:05}"  # two packages may share a name
            r.add("Application", root, key)
            for field, value in app.items():
                r.add("ApplicationField", root, key, field, str(value))
    return r


@pytest.mark.parametrize("path", expected_files(), ids=lambda p: p.name)
def test_build_inspections_gives_the_oracle_back(path: Path) -> None:
    expected = read_xml_file(path)
    got = build_inspections(relations_of(expected))
    assert got == expected
    assert to_xml(got).encode() == path.read_bytes()


def test_missing_fields_are_absent_and_extras_merged() -> None:
    r = Relations()
    r.add("Root", "/dev/sda2")
    r.add("OsType", "/dev/sda2", "windows")
    r.add("Extra", "/dev/sda2", "edition_id", "Professional")
    r.add("Extra", "/dev/sda2", "hostname", "not-used")
    r.add("Hostname", "/dev/sda2", "win")
    r.add("Application", "/dev/sda2", "app")
    r.add("ApplicationField", "/dev/sda2", "app", "epoch", "3")
    [os] = build_inspections(r)
    assert os == {
        "root": "/dev/sda2",
        "name": "windows",
        "hostname": "win",
        "mountpoints": [],
        "filesystems": [],
        "applications": [{"name": "app", "epoch": 3}],
        "edition_id": "Professional",
    }


def test_roots_sorted_and_independent() -> None:
    r = Relations()
    for root in ("/dev/sdb1", "/dev/sda1"):
        r.add("Root", root)
        r.add("Mountpoint", root, "/", root)
    got = build_inspections(r)
    assert [os["root"] for os in got] == ["/dev/sda1", "/dev/sdb1"]
    assert got[0]["mountpoints"] == [{"dev": "/dev/sda1", "path": "/"}]


def test_every_field_has_a_relation() -> None:
    assert FIELD_RELATIONS["distro"] == "OsDistro"
    assert FIELD_RELATIONS["drive_mappings"] == "DriveMapping"
