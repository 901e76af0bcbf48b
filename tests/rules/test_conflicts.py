"""A rule that gives a single-valued field two values is reported, not silently resolved.

On a small program of the real output relations, then through the CLI on a recorded guest
with a user's rule file that gives ``distro`` and ``hostname`` a second value.
"""

from pathlib import Path

from click.testing import CliRunner

from guestinspect import Inspector
from guestinspect.cli import cli
from guestinspect.datalog import Database, Program
from guestinspect.inspection.conflicts import Conflict, conflicts
from guestinspect.inspection.results import build_inspections
from guestinspect.reporting.xml import to_xml
from tests.oracles import ROOT
from tests.rules.test_invariants import single_valued_violations

PROGRAM = (ROOT / "rules" / "output.dl").read_text() + """
.decl Seen(root: symbol, file: symbol)
.decl Filesystem(fs: symbol, type: symbol)
.decl FsLabel(fs: symbol, label: symbol)
.decl FsUuid(fs: symbol, uuid: symbol)
.decl FsVersion(fs: symbol, version: symbol)
Seen("/dev/sda1", "/etc/debian_version").
Seen("/dev/sda1", "/etc/lsb-release").
Seen("/dev/sda2", "/etc/debian_version").
Root(r) :- Seen(r, _).
OsType(r, "linux") :- Root(r).
OsDistro(r, "debian") :- Seen(r, "/etc/debian_version").
OsDistro(r, "ubuntu") :- Seen(r, "/etc/lsb-release").
MajorVersion(r, 12) :- Root(r).
MajorVersion(r, 22) :- Seen(r, "/etc/lsb-release").
"""


def small_db() -> Database:
    db = Database(Program.from_text(PROGRAM, filename="two.dl"))
    db.run()
    return db


def test_two_values_are_reported() -> None:
    db = small_db()
    assert conflicts(db) == [
        Conflict("/dev/sda1", "distro", "OsDistro", ("debian", "ubuntu")),
        Conflict("/dev/sda1", "major_version", "MajorVersion", (12, 22)),
    ]
    assert conflicts(db)[0].message() == (
        "/dev/sda1: single-valued field distro (OsDistro) has 2 values, 'debian' and "
        "'ubuntu'; 'debian' is kept"
    )
    # The invariant test fails on it.
    assert len(single_valued_violations(db)) == 2


def test_the_output_stays_deterministic() -> None:
    sda1, sda2 = build_inspections(small_db())
    assert (sda1["distro"], sda1["major_version"]) == ("debian", 12)  # the least kept
    assert (sda2["distro"], sda2["major_version"]) == ("debian", 12)  # no conflict


def test_a_users_rule_warns_on_the_cli(tmp_path: Path) -> None:
    snapshot = ROOT / "facts" / "debian"
    rule = tmp_path / "second.dl"
    rule.write_text('OsDistro(r, "zz-other") :- Root(r).\nHostname(r, "aa-host") :- Root(r).\n')
    with Inspector.from_facts(snapshot) as plain:
        [os] = plain.inspect()
        want_xml = to_xml([os])
        assert plain.warnings() == []
    root, hostname = os["root"], os["hostname"]
    assert os["distro"] == "debian" and hostname > "aa-host"

    result = CliRunner().invoke(cli, ["--facts", str(snapshot), "--rules", str(rule)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"guestinspect: warning: {root}: single-valued field distro (OsDistro) has 2 values, "
        "'debian' and 'zz-other'; 'debian' is kept",
        f"guestinspect: warning: {root}: single-valued field hostname (Hostname) has 2 values, "
        f"'aa-host' and '{hostname}'; 'aa-host' is kept",
    ]
    assert result.stdout == want_xml.replace(f">{hostname}<", ">aa-host<")


def test_an_extra_scalar_and_attribute() -> None:
    program = Program.from_text((ROOT / "rules" / "output.dl").read_text() + """
.decl MachineIdValue(root: symbol, id: symbol)
.decl Timezone(root: symbol, attr: symbol, n: number, value: symbol)
Root("/dev/sda1").
MachineIdValue("/dev/sda1", "4c4c"). MachineIdValue("/dev/sda1", "4c4d").
Timezone("/dev/sda1", "name", 0, "UTC"). Timezone("/dev/sda1", "name", 0, "Europe/Paris").
Timezone("/dev/sda1", "bias", 0, "60"). Timezone("/dev/sda1", "bias", 0, "x").
""")
    db = Database(program)
    db.run()
    assert conflicts(db) == [
        Conflict("/dev/sda1", "timezone.name", "Timezone", ("Europe/Paris", "UTC")),
        Conflict("/dev/sda1", "machine_id", "MachineIdValue", ("4c4c", "4c4d")),
    ]
