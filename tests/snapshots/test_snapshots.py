"""The committed fact snapshots are what the collectors (or, for facts/synthetic, the fake
collector) produce now."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from guestinspect.api import Inspector
from guestinspect.cli import cli
from tests.oracles import SCHEMA, expected_files, guest_of
from tests.snapshots import (
    FACTS,
    SNAPSHOTS,
    differences,
    fixed_uuids,
    normalise,
    unanswered,
)
from tests.snapshots.synthetic import GUESTS, check_synthetic


def test_every_oracle_guest_has_a_snapshot() -> None:
    assert {guest_of(p) for p in expected_files()} <= set(SNAPSHOTS)


@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_snapshot_is_committed(name: str) -> None:
    directory = SNAPSHOTS[name].directory
    assert (directory / "Disk.facts").is_file(), f"record it: python -m tests.snapshots {name}"
    assert Inspector.from_facts(directory).inspect() is not None


@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_snapshot_answers_what_the_rules_ask(name: str) -> None:
    """A snapshot recorded before a rule asked for more is stale: re-record it."""
    directory = SNAPSHOTS[name].directory
    assert directory.is_dir(), f"record it: python -m tests.snapshots {name}"
    assert unanswered(directory) == [], f"stale; re-record: python -m tests.snapshots {name}"


def test_only_random_uuids_are_masked() -> None:
    fixed = fixed_uuids()
    assert "01234567-0123-0123-0123-012345678901" in fixed
    text = ("/dev/sda1\t01234567-0123-0123-0123-012345678901\t"
            "luks-2f1c9e4a-0b7d-4c55-9e36-1a2b3c4d5e6f")
    assert normalise(text, fixed) == ("/dev/sda1\t01234567-0123-0123-0123-012345678901\t"
                                      "luks-<random-uuid>")


def test_differences_reports_changed_lines(tmp_path: pytest.TempPathFactory) -> None:
    a, b = tmp_path / "a", tmp_path / "b"  # type: ignore[operator]
    a.mkdir()
    b.mkdir()
    (a / "Disk.facts").write_text("/dev/sda\t0\t100\n")
    (b / "Disk.facts").write_text("/dev/sda\t0\t200\n")
    assert differences(a, a) == []
    diffs = differences(a, b)
    assert any("- /dev/sda\t0\t100" in d for d in diffs)


@pytest.mark.parametrize("name", list(GUESTS))
def test_synthetic_snapshot_is_current(name: str) -> None:
    assert check_synthetic(name) == [], "regenerate: python -m tests.snapshots --synthetic"


@pytest.mark.parametrize("name", list(GUESTS))
def test_synthetic_snapshot_inspects_as_expected(name: str) -> None:
    result = CliRunner().invoke(cli, ["--facts", str(FACTS / "synthetic" / name)])
    assert result.exit_code == 0, result.stderr
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    doc = etree.fromstring(result.stdout.encode())
    assert schema.validate(doc), schema.error_log
    e = GUESTS[name].expected
    assert doc.findtext("operatingsystem/distro") == e.distro
    assert doc.findtext("operatingsystem/product_name") == e.product
    assert doc.findtext("operatingsystem/major_version") == str(e.major)
    assert doc.findtext("operatingsystem/minor_version") == str(e.minor)
    assert doc.findtext("operatingsystem/package_format") == e.package_format
    assert doc.findtext("operatingsystem/osinfo") == e.osinfo


@pytest.mark.appliance
@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_snapshot_matches_its_image(name: str, recorded: Callable[[str], Path]) -> None:
    """A fresh recording of the guest's image (shared with the other image tests)."""
    found = differences(SNAPSHOTS[name].directory, recorded(name))
    assert found == [], f"re-record: python -m tests.snapshots {name}"


def test_no_empty_fact_file_is_committed() -> None:
    """A relation without facts has no file in a snapshot (a missing file is read as empty)."""
    empty = sorted(str(p.relative_to(FACTS)) for p in FACTS.rglob("*.facts")
                   if p.stat().st_size == 0)
    assert empty == [], f"{len(empty)} empty .facts files, e.g. {empty[:3]}"


def test_written_snapshot_has_no_empty_files_and_round_trips(tmp_path: Path) -> None:
    """``Inspector.write_facts`` writes the committed snapshot again, file for file: no file for
    an empty relation (an old one is removed), and it inspects the same."""
    committed = FACTS / "debian"
    with Inspector.from_facts(committed) as insp:
        empty = sorted(set(insp.program.input_relations())
                       - {p.stem for p in committed.glob("*.facts")})
        assert empty, "the debian snapshot has empty relations"
        out = tmp_path / "snap"
        out.mkdir()
        (out / f"{empty[0]}.facts").write_text("stale\n")  # from an older recording
        insp.write_facts(out)
        inspected = insp.inspect()
    written = {p.name: p.read_bytes() for p in out.iterdir()}
    assert written == {p.name: p.read_bytes() for p in committed.glob("*.facts")}
    assert Inspector.from_facts(out).inspect() == inspected
