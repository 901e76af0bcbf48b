"""What every inspection must satisfy, checked on every recorded fact snapshot."""

from collections import Counter
from pathlib import Path

import pytest

from guestinspect.datalog import Program
from guestinspect.inspection.driver import load_program, run_snapshot
from guestinspect.inspection.extras import convert
from guestinspect.inspection.fields import EXTRA_FIELDS
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


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=lambda p: p.name)
def test_extra_fields(program: Program, snapshot: Path) -> None:
    """The extra fields' relations hold what their declarations say (inspection/fields.py):
    roots only, declared attributes of the declared type, one value of a single attribute."""
    db = run_snapshot(program, snapshot)
    roots = {t[0] for t in db.tuples("Root")}
    for spec in EXTRA_FIELDS:
        rows = db.tuples(spec.relation)
        assert {t[0] for t in rows} <= roots, spec.relation
        if spec.shape == "scalar":
            per_root = Counter(t[0] for t in rows)
            assert all(n == 1 for n in per_root.values()), (spec.relation, sorted(rows))
        if spec.shape in ("scalar", "values"):
            assert all(convert(t[1], spec.type) is not None for t in rows), spec.relation
            continue
        single: Counter[tuple[object, ...]] = Counter()
        for t in rows:
            *item, attr_name, n, value = t
            attr = spec.attr(str(attr_name))
            assert attr is not None, f"{spec.relation}: undeclared attribute in {t}"
            assert convert(value, attr.type) is not None, f"{spec.relation}: bad value {t}"
            if not attr.multi:
                assert n == 0, t
                single[(*item, attr_name)] += 1
        assert all(c == 1 for c in single.values()), (spec.relation, single.most_common(3))
