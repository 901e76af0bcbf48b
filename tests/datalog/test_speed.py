"""The engine's shortcuts for speed (issue 15) keep its results and its reports."""

from __future__ import annotations

import gc
import random

from guestinspect.datalog import Database, Program
from guestinspect.datalog.factfiles import format_rows, format_value, format_verbatim

TEMPLATED = """
.decl File(fs: symbol, path: symbol)
.decl A(fs: symbol)
.decl B(fs: symbol)
A(fs) :- File(fs, "/etc/a"), File(fs, "/etc/b").
B(fs) :- File(fs, "/usr/x"), File(fs, "/usr/y").
"""


def test_rules_differing_in_constants_share_their_compiled_code() -> None:
    db = Database(Program.from_text(TEMPLATED))
    db.add_facts("File", [("sda1", "/etc/a"), ("sda1", "/etc/b"), ("sda2", "/usr/x"),
                          ("sda2", "/usr/y"), ("sda3", "/etc/a")])
    db.run()
    assert db.tuples("A") == {("sda1",)}
    assert db.tuples("B") == {("sda2",)}
    codes = {fn.__code__ for fn in db._bound.values()}
    assert len(db._bound) == 2 and len(codes) == 1


def test_the_callers_gc_setting_is_kept() -> None:
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            db = Database(Program.from_text(TEMPLATED))
            db.add_facts("File", [("sda1", "/etc/a"), ("sda1", "/etc/b")])
            db.run()
            assert gc.isenabled() is enabled
            assert db.tuples("A") == {("sda1",)}
    finally:
        (gc.enable if was else gc.disable)()


def test_a_rule_over_an_empty_relation_is_skipped_unless_it_can_fail() -> None:
    prog = Program.from_text("""
        .decl E(x: number)
        .decl F(x: number)
        .decl A(x: number)
        .decl C(x: number)
        A(x) :- F(x), E(x).
        C(x) :- x = to_number("z"), E(x).
        A(x) :- F(x), x > 1.
    """)
    db = Database(prog)
    db.add_facts("F", [(1,), (2,)])
    db.run()
    assert db.tuples("A") == {(2,)}
    assert db.tuples("C") == set()
    ran = {key[0] for key in db._bound}
    assert 0 not in ran  # E is empty: nothing to bind, nothing to run
    assert {1, 2} <= ran
    assert any("to_number" in m for m in db.failures.messages())  # still run and reported
    db.add_facts("E", [(2,)])
    db.run()
    assert 0 in {key[0] for key in db._bound}
    assert db.tuples("A") == {(2,)}


def _plain(rows: set[tuple[object, ...]], delimiter: str = "\t", fmt: object = format_value
           ) -> str:
    return "".join(("()" if not row else delimiter.join(fmt(v) for v in row)) + "\n"  # type: ignore[operator]
                   for row in sorted(rows))  # type: ignore[type-var]


def test_fact_files_are_written_as_sorted_formatted_values() -> None:
    rng = random.Random(1)
    cases: list[set[tuple[object, ...]]] = [
        {(rng.randrange(150), rng.randrange(150)) for _ in range(3000)},
        {(rng.choice(["a", "b\tc", "x\\y", "é", "", "z\n", "r\r"]), rng.randrange(-5, 5),
          rng.random()) for _ in range(500)},
        {(rng.choice(["a", "bb", "c"]), rng.choice(["/etc", "/usr"]),
          rng.randrange(-2**63, 2**64)) for _ in range(300)},
        {(1, 2.0), (1, 1), (0, -3.5), (2, float("inf"))} | {(i, i / 3) for i in range(100)},
        {(True, 1), (False, 0)} | {(i, i) for i in range(100)},
        set(), {()}, {(1,), (3,), (2,)}, {("b",), ("a\t",)}, {(str(i),) for i in range(300)},
        {(i % 7, str(i), i) for i in range(500)},
        {("a%s", "b")} | {(str(i), "x") for i in range(99)},
        # one or two columns of ints or strings, as the grouped path makes them
        {(str(i % 13), i) for i in range(400)}, {(i - 200,) for i in range(400)},
        {(i % 9, rng.choice(["a", "b\tc", "x\\y", "é", "", "z\n", "r\r", "%s"]))
         for i in range(300)},
        {(rng.choice(["a", "b\tc", "é", "", "z\n"]), str(i)) for i in range(200)},
        {(2**64 - i, -2**63 + i // 2) for i in range(100)}, {(i, -i) for i in range(100)},
        {(i % 5, i / 2) for i in range(100)}, {(str(i), True) for i in range(100)},
    ]
    for rows in cases:
        for delimiter in ("\t", ",", "%", "%d", "\\", ";\t"):
            assert format_rows(rows, delimiter) == _plain(rows, delimiter)
            assert format_rows(rows, delimiter, verbatim=True) == \
                _plain(rows, delimiter, format_verbatim)
            arity = len(next(iter(rows), ()))  # as a relation gives it
            assert format_rows(rows, delimiter, arity=arity) == _plain(rows, delimiter)
