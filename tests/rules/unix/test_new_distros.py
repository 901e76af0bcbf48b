"""Distros beyond libguestfs, from their real os-release files (tests/snapshots/synthetic.py):
an ID the tables do not know falls back on ID_LIKE for package format, manager and family,
keeping its own product name and version."""

from __future__ import annotations

import pytest

from guestinspect.datalog import Database, Program
from guestinspect.inspection.driver import run_collector
from tests.snapshots.synthetic import FS, GUESTS, Expected

FIELDS = ("OsDistro", "ProductName", "MajorVersion", "MinorVersion", "PackageFormat",
          "PackageManagement", "Osinfo")


def one(db: Database, relation: str) -> str | int | None:
    values = {t[1] for t in db.tuples(relation) if t[0] == FS}
    assert len(values) <= 1, (relation, values)
    return values.pop() if values else None


def extra(db: Database, field: str) -> str | None:
    values = {t[2] for t in db.tuples("Extra") if t[0] == FS and t[1] == field}
    assert len(values) <= 1, (field, values)
    return str(values.pop()) if values else None


@pytest.mark.parametrize("name", list(GUESTS))
def test_distro_from_os_release(program: Program, name: str) -> None:
    guest = GUESTS[name]
    db = run_collector(program, guest.collector())
    assert db.tuples("Root") == {(FS,)}
    e: Expected = guest.expected
    got = tuple(one(db, r) for r in FIELDS)
    assert got == (e.distro, e.product, e.major, e.minor, e.package_format,
                   e.package_management, e.osinfo)
    assert extra(db, "os_family") == e.os_family
    assert one(db, "Hostname") == name
    assert one(db, "Arch") == "x86_64"


def test_unknown_id_without_a_known_id_like_is_not_a_distro(program: Program) -> None:
    """Nothing to go by: the ID alone does not make a distro (the other files may)."""
    guest = GUESTS["pop-os"]
    files = dict(guest.files)
    files["/etc/os-release"] = 'ID=frobos\nID_LIKE="nothing known"\nVERSION_ID=1\nPRETTY_NAME=F'
    files["/etc/debian_version"] = "bookworm/sid\n"
    from tests.snapshots.synthetic import SyntheticGuest

    db = run_collector(program, SyntheticGuest("x", files, guest.expected).collector())
    assert one(db, "OsDistro") == "debian"


def test_id_like_order_decides(program: Program) -> None:
    """The first word of ID_LIKE that the tables know gives the family."""
    from tests.snapshots.synthetic import SyntheticGuest

    guest = GUESTS["pop-os"]
    text = 'ID=hybrid\nID_LIKE="nothing arch debian"\nPRETTY_NAME="Hybrid"\nVERSION_ID=2.5'
    files = {**guest.files, "/etc/os-release": text}
    db = run_collector(program, SyntheticGuest("x", files, guest.expected).collector())
    assert (one(db, "OsDistro"), one(db, "PackageFormat"), one(db, "MajorVersion"),
            one(db, "MinorVersion"), one(db, "Osinfo")) == ("hybrid", "pacman", 2, 5, None)
