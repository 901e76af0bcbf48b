"""What every inspection must satisfy, checked on every recorded fact snapshot."""

from collections import Counter
from pathlib import Path

import pytest

from guestinspect.datalog import Program
from guestinspect.inspection.driver import load_program, run_snapshot
from tests.oracles import ROOT

SNAPSHOTS = sorted(
    p for p in [*(ROOT / "facts").glob("*"), *(ROOT / "facts" / "synthetic").glob("*")]
    if p.is_dir() and p.name != "synthetic"
)

#: Output relations holding at most one value per root (docs/architecture.md).
SINGLE_VALUED = [
    "OsType", "OsDistro", "ProductName", "ProductVariant", "MajorVersion", "MinorVersion",
    "Arch", "Hostname", "PackageFormat", "PackageManagement", "Osinfo", "BuildId",
    "WindowsSystemroot", "WindowsCurrentControlSet",
]


@pytest.fixture(scope="module")
def program() -> Program:
    return load_program()


def test_there_are_snapshots() -> None:
    assert len(SNAPSHOTS) >= 20


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=lambda p: p.name)
def test_single_valued_outputs(program: Program, snapshot: Path) -> None:
    db = run_snapshot(program, snapshot)
    roots = {t[0] for t in db.tuples("Root")}
    for name in SINGLE_VALUED:
        per_root = Counter(t[0] for t in db.tuples(name))
        assert all(n == 1 for n in per_root.values()), (name, sorted(db.tuples(name)))
        assert set(per_root) <= roots, name
    mounts = Counter((t[0], t[1]) for t in db.tuples("Mountpoint"))
    assert all(n == 1 for n in mounts.values()), sorted(db.tuples("Mountpoint"))
    letters = Counter((t[0], t[1]) for t in db.tuples("DriveMapping"))
    assert all(n == 1 for n in letters.values()), sorted(db.tuples("DriveMapping"))
    for root in roots:
        assert (root,) in {(t[0],) for t in db.tuples("OsType")}, root
