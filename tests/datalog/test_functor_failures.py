"""A functor, a conversion or a Python relation that fails on one value costs that tuple, not
the evaluation: the failure is recorded with the rule's location and the value (issue 10,
class 4)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from click.testing import CliRunner

from guestinspect.cli import cli
from guestinspect.datalog import Database, Program, PyRelation
from guestinspect.inspection.driver import load_program, run_collector
from guestinspect.inspection.results import build_inspections
from tests.rules.unix.guests import fedora

HUGE = "7" * 5000


def strict_int(text: str) -> int:
    return int(text)


def shout(text: str) -> Iterator[tuple[str]]:
    if text == "boom":
        raise RuntimeError("cannot shout boom")
    yield (text.upper(),)


PROGRAM = """\
.functor strict_int(text: symbol): number
.decl A(x: symbol)
.decl Parsed(x: symbol, n: number)
Parsed(x, @strict_int(x) + 1) :- A(x).
.decl Loud(x: symbol, y: symbol)
Loud(x, y) :- A(x), Shout(x, y).
.decl Quiet(x: symbol)
Quiet(x) :- A(x), !Shout(x, "NOPE").
.decl Number(x: symbol, n: number)
Number(x, 100 / to_number(x)) :- A(x).
.decl Shout(x: symbol, y: symbol)
"""


def evaluate(values: list[str]) -> Database:
    program = Program.from_text(PROGRAM, "t.dl", functors={"strict_int": strict_int},
                                relations={"Shout": PyRelation(shout, "bf")})
    db = Database(program)
    db.add_facts("A", [(v,) for v in values])
    db.run()
    return db


def test_a_failing_functor_skips_its_tuple_and_names_rule_and_value() -> None:
    db = evaluate(["1", "boom", HUGE])
    assert db.tuples("Parsed") == {("1", 2)}
    messages = db.failures.messages()
    assert "t.dl:4:1: @strict_int('boom') failed (ValueError: invalid literal for int() " \
           "with base 10: 'boom'); that tuple is skipped" in messages
    huge = [m for m in messages if m.startswith("t.dl:4:1: @strict_int('777")]
    assert len(huge) == 1 and "... (5000 characters)" in huge[0] and len(huge[0]) < 400


def test_a_failing_python_relation_yields_nothing_positive_or_negated() -> None:
    db = evaluate(["a", "boom"])
    assert db.tuples("Loud") == {("a", "A")}
    assert db.tuples("Quiet") == {("a",)}  # a negation over a failure is no proof either
    assert "t.dl:6:1: Shout('boom') failed (RuntimeError: cannot shout boom); that tuple " \
           "is skipped" in db.failures.messages()
    assert "t.dl:8:1: Shout('boom') failed (RuntimeError: cannot shout boom); that tuple " \
           "is skipped" in db.failures.messages()


def test_builtin_conversions_fail_per_tuple() -> None:
    db = evaluate(["4", "0", "x1", HUGE, "9" * 30])
    assert db.tuples("Number") == {("4", 25)}
    failures = {m.split(" failed ")[0]: m for m in db.failures.messages()
                if m.startswith("t.dl:10:1:")}
    assert "t.dl:10:1: /(100, 0)" in failures
    assert "t.dl:10:1: to_number('x1')" in failures
    assert any("a text of 5000 characters is no number" in m for m in failures.values())
    assert any("is outside the 64-bit range" in m for m in failures.values())


def test_repeated_failures_are_kept_once_and_counted_past_the_cap() -> None:
    db = evaluate([f"bad{i}" for i in range(150)])
    messages = db.failures.messages()
    assert len(db.failures) > 100
    assert messages[-1].endswith("more functor failures not shown")
    db.run()  # nothing new: the same failures are not recorded twice
    assert db.failures.messages() == messages


def test_standalone_engine_prints_failures_as_warnings(tmp_path: Path) -> None:
    (tmp_path / "p.dl").write_text(
        ".decl A(x: symbol)\n.input A\n.decl N(x: symbol, n: number)\n.output N\n"
        "N(x, to_number(x)) :- A(x).\n")
    (tmp_path / "A.facts").write_text("12\nbanana\n")
    run = subprocess.run([sys.executable, "-m", "guestinspect.datalog", str(tmp_path / "p.dl"),
                          "-F", str(tmp_path), "-D", "-"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert "12\t12" in run.stdout
    assert run.stderr.strip() == (
        f"warning: {tmp_path / 'p.dl'}:5:1: to_number('banana') failed (EvaluationError: "
        "to_number: 'banana' is not a number); that tuple is skipped")


def test_a_version_id_of_5000_digits_costs_only_the_version() -> None:
    """The real rules over a Fedora guest whose os-release VERSION_ID has 5,000 digits."""
    program = load_program()
    plain = fedora()
    hostile = fedora()
    root = next(dev for (dev, path) in hostile.files if path == "/etc/redhat-release")
    hostile.write(root, "/etc/os-release",
                  f'NAME=Fedora\nID=fedora\nVERSION_ID={HUGE}\nPRETTY_NAME="Fedora {HUGE}"\n')
    db = run_collector(program, hostile.collector())
    [got] = build_inspections(db)
    [want] = build_inspections(run_collector(program, plain.collector()))
    for field in ("distro", "product_name", "major_version", "minor_version", "hostname",
                  "package_format", "mountpoints", "filesystems", "applications", "arch"):
        assert got.get(field) == want.get(field), field
    assert want["hostname"] == "fedora.invalid" and want["major_version"] == 14
    warnings = db.failures.messages()
    assert any("rules/unix/release.dl:" in w and "MajorMinor('777" in w
               and "(5000 characters)" in w for w in warnings), warnings


def test_the_command_line_warns_and_prints_the_rest(tmp_path: Path) -> None:
    """End to end: a fact snapshot of that guest through ``guestinspect --facts``."""
    guest = fedora()
    root = next(dev for (dev, path) in guest.files if path == "/etc/redhat-release")
    guest.write(root, "/etc/os-release", f"ID=fedora\nVERSION_ID={HUGE}\nPRETTY_NAME=F\n")
    run_collector(load_program(), guest.collector()).write_facts_dir(tmp_path)
    run = CliRunner().invoke(cli, ["--facts", str(tmp_path)])
    assert run.exit_code == 0, run.stderr
    assert "<hostname>fedora.invalid</hostname>" in run.stdout
    assert "<major_version>14</major_version>" in run.stdout
    [warning] = [w for w in run.stderr.splitlines() if "MajorMinor('777" in w]
    assert warning.startswith("guestinspect: warning: ") and "release.dl:" in warning
