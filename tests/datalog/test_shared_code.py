"""A program compiles its rules once: every Database of it binds the same code to its own
relations, functors' failure log and Python relations."""

from pathlib import Path

import pytest

from guestinspect.datalog import Database, Program, codegen
from guestinspect.datalog.program import class_size, size_class
from guestinspect.inspection.driver import load_program, new_program, run_snapshot
from tests.oracles import ROOT

TEXT = """
.functor num(s: symbol): number
.decl Edge(a: symbol, b: symbol)
.decl Path(a: symbol, b: symbol)
.decl Weight(a: symbol, w: symbol)
.decl Heavy(a: symbol, n: number)
Path(a, b) :- Edge(a, b).
Path(a, c) :- Path(a, b), Edge(b, c).
Heavy(a, @num(w)) :- Weight(a, w), Path(a, _).
"""


def _program() -> Program:
    return Program.from_text(TEXT, functors={"num": int})


def test_a_second_database_compiles_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    program = _program()
    first = Database(program)
    first.add_facts("Edge", [("a", "b"), ("b", "c")])
    first.add_facts("Weight", [("a", "7"), ("b", "x")])
    first.run()
    compiled = len(program._code)
    assert compiled > 0
    calls: list[object] = []
    real = codegen.rule_code
    monkeypatch.setattr("guestinspect.datalog.program.rule_code",
                        lambda *a: calls.append(a) or real(*a))
    second = Database(program)
    second.add_facts("Edge", [("x", "y"), ("y", "z")])
    second.add_facts("Weight", [("y", "oops")])
    second.run()
    assert calls == []
    assert len(program._code) == compiled
    # each database has its own tuples and its own failures
    assert first.tuples("Path") == {("a", "b"), ("b", "c"), ("a", "c")}
    assert second.tuples("Path") == {("x", "y"), ("y", "z"), ("x", "z")}
    assert first.tuples("Heavy") == {("a", 7)}
    assert second.tuples("Heavy") == set()
    assert len(first.failures) == 1 and "'x'" in first.failures.messages()[0]
    assert len(second.failures) == 1 and "'oops'" in second.failures.messages()[0]
    # and an explanation in the first still reads the first's tuples
    d = first.explain("Path", ("a", "c"))
    assert d is not None and "Edge" in d.render()


def test_other_sizes_compile_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The join order is chosen for the size classes of the relations a rule reads."""
    program = _program()
    small = Database(program)
    small.add_facts("Edge", [("a", "b")])
    small.run()
    before = len(program._code)
    big = Database(program)
    big.add_facts("Edge", [(str(i), str(i + 1)) for i in range(40)])
    big.run()
    assert len(program._code) > before
    assert len(big.tuples("Path")) == 40 * 41 // 2


def test_size_classes() -> None:
    assert [size_class(n) for n in (0, 1, 3, 4, 15, 16, 63, 64)] == [0, 1, 1, 2, 2, 3, 3, 4]
    assert all(size_class(class_size(c)) == c for c in range(20))


def test_same_conclusions_whatever_guest_compiled_the_code() -> None:
    """Two programs evaluate the same snapshots in opposite orders (so each reuses code
    compiled, and join orders chosen, for other guests): the same conclusions."""
    names = ["debian", "windows", "fedora"]
    one, two = new_program(), new_program()
    a = {n: run_snapshot(one, ROOT / "facts" / n) for n in names}
    b = {n: run_snapshot(two, ROOT / "facts" / n) for n in reversed(names)}
    for n in names:
        assert a[n].tuples("Root"), n
        for rel in one.output_relations() or ["Root", "OsDistro", "Application", "Warning"]:
            assert a[n].tuples(rel) == b[n].tuples(rel), (n, rel)


def test_a_program_pickles_without_its_code() -> None:
    import pickle

    program = _program()
    db = Database(program)
    db.add_facts("Edge", [("a", "b")])
    db.run()
    again = pickle.loads(pickle.dumps(program))
    assert again._code == {}
    db2 = Database(again)
    db2.add_facts("Edge", [("a", "b")])
    db2.run()
    assert db2.tuples("Path") == {("a", "b")}


def test_load_program_is_kept_while_the_files_are_unchanged(tmp_path: Path) -> None:
    """Inspector after Inspector (a fleet's worker) parses and checks the rules once."""
    assert load_program() is load_program()
    rule = tmp_path / "mine.dl"
    rule.write_text('.decl Mine(x: symbol)\nMine("a").\n')
    mine = load_program([tmp_path])
    assert mine is load_program([tmp_path]) and mine is not load_program()
    rule.write_text('.decl Mine(x: symbol)\nMine("a").\nMine("bb").\n')
    again = load_program([tmp_path])
    assert again is not mine
    db = Database(again)
    db.run()
    assert db.tuples("Mine") == {("a",), ("bb",)}
