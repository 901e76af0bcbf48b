"""The phony guests (as the fake collector describes them) against upstream's expected output."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from guestinspect.datalog import Database, Program
from guestinspect.inspection.driver import run_collector
from tests.oracles import ORACLES
from tests.rules.unix.guests import FEDORA_RPMS, PHONY_GUESTS, uuid

SINGLE = {
    "name": "OsType", "arch": "Arch", "distro": "OsDistro", "product_name": "ProductName",
    "major_version": "MajorVersion", "minor_version": "MinorVersion",
    "package_format": "PackageFormat", "package_management": "PackageManagement",
    "hostname": "Hostname", "osinfo": "Osinfo", "build_id": "BuildId",
}


def value(db: Database, relation: str, root: str) -> str | None:
    values = {str(t[1]) for t in db.tuples(relation) if t[0] == root}
    assert len(values) <= 1, (relation, values)
    return values.pop() if values else None


@pytest.mark.parametrize("guest", sorted(PHONY_GUESTS))
def test_phony_guest_matches_oracle(program: Program, guest: str) -> None:
    os_ = ET.parse(ORACLES / f"expected-{guest}.img.xml").getroot().find("operatingsystem")
    assert os_ is not None
    root = (os_.findtext("root") or "").replace("ROOTUUID", uuid(99))
    db = run_collector(program, PHONY_GUESTS[guest]().collector())
    assert db.tuples("Root") == {(root,)}
    for tag, relation in SINGLE.items():
        assert value(db, relation, root) == os_.findtext(tag), tag
    expected_mps = {(m.text, m.get("dev")) for m in os_.iter("mountpoint")}
    got_mps = {(t[1], t[2]) for t in db.tuples("Mountpoint") if t[0] == root}
    expected_fs = {f.get("dev") for f in os_.iter("filesystem")}
    got_fs = {t[1] for t in db.tuples("RootFilesystem") if t[0] == root}
    fix = uuid(99)
    assert got_mps == {(p, str(d).replace("ROOTUUID", fix)) for p, d in expected_mps}
    assert got_fs == {str(d).replace("ROOTUUID", fix) for d in expected_fs}
    expected_apps = {
        a.findtext("name"): {c.tag: c.text for c in a if c.tag != "name"}
        for a in os_.iter("application")
    }
    by_key: dict[str, dict[str, str]] = {str(t[1]): {} for t in db.tuples("Application")}
    for _, key, f, v in db.tuples("ApplicationField"):
        by_key[str(key)][str(f)] = str(v)
    got_apps = {fields.pop("name", key): fields for key, fields in by_key.items()}
    if guest.startswith("fedora"):
        # The fake rpm database holds a few records; those upstream lists must agree.
        for name, fields in got_apps.items():
            if name in expected_apps:
                for f in ("version", "release", "arch", "url"):
                    assert fields[f] == expected_apps[name][f]
        assert set(got_apps) == {r["name"] for r in FEDORA_RPMS}
        assert got_apps["phony-epoch"]["epoch"] == "1"
        assert "epoch" not in got_apps["basesystem"]
    else:
        assert got_apps == expected_apps
