"""What every inspection must satisfy, checked on every recorded fact snapshot.

The fields and their relations come from their declarations (``inspection/fields.py``).
"""

from collections import Counter
from pathlib import Path

import pytest

from guestinspect.datalog import Database, Program
from guestinspect.inspection.conflicts import conflicts
from guestinspect.inspection.driver import load_program, run_snapshot
from guestinspect.inspection.extras import convert
from guestinspect.inspection.fields import EXTRA_FIELDS, VIRT_INSPECTOR_FIELDS
from tests.oracles import ROOT

SNAPSHOTS = sorted(
    p for p in [*(ROOT / "facts").glob("*"), *(ROOT / "facts" / "synthetic").glob("*")]
    if p.is_dir() and p.name != "synthetic"
)

_BY_KEY = {f.key: f for f in VIRT_INSPECTOR_FIELDS}

#: Output relations holding at most one value per root (declared single-valued).
SINGLE_VALUED = [f.relation for f in VIRT_INSPECTOR_FIELDS if f.single_valued]


def single_valued_violations(db: Database) -> list[str]:
    """What breaks "one value per root" (and "one device per mount path or drive letter"):
    empty when the rules keep to it."""
    out = [c.message() for c in conflicts(db)]
    for key in ("mountpoints", "drive_mappings"):  # (root, path or letter) -> one device
        rows = db.tuples(_BY_KEY[key].relation)
        twice = [k for k, n in Counter((t[0], t[1]) for t in rows).items() if n > 1]
        out.extend(f"{key}: {k} has several devices" for k in sorted(twice))
    return out


@pytest.fixture(scope="module")
def program() -> Program:
    return load_program()


def test_there_are_snapshots() -> None:
    assert len(SNAPSHOTS) >= 20


def test_the_single_valued_fields() -> None:
    """The list the invariants check is the declared one (not an empty derivation)."""
    assert {"OsType", "OsDistro", "MajorVersion", "Hostname", "Icon"} <= set(SINGLE_VALUED)
    assert "Mountpoint" not in SINGLE_VALUED


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=lambda p: p.name)
def test_single_valued_outputs(program: Program, snapshot: Path) -> None:
    db = run_snapshot(program, snapshot)
    roots = {t[0] for t in db.tuples(_BY_KEY["root"].relation)}
    assert single_valued_violations(db) == []
    for f in VIRT_INSPECTOR_FIELDS:
        assert {t[0] for t in db.tuples(f.relation)} <= roots, f.relation
    names = {t[0] for t in db.tuples(_BY_KEY["name"].relation)}
    for root in roots:
        assert root in names, root


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
