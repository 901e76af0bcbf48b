"""What a Database does not evaluate again: rules whose body reads no relation (once per
program), rules whose planned body begins with an empty relation, a Python relation on
arguments it was already called on (once per run); and what it still does each time."""

from collections.abc import Iterator

from guestinspect.datalog import Database, Program, PyRelation


def _run(program: Program, facts: dict[str, list[tuple[object, ...]]] | None = None
         ) -> Database:
    db = Database(program)
    for rel, rows in (facts or {}).items():
        db.add_facts(rel, rows)
    db.run()
    return db


def test_constant_rules_once_per_program_same_tuples() -> None:
    program = Program.from_text("""
        .decl R(s: symbol, n: number)
        R(cat("a", "b"), 1 + 2).
        R(x, n) :- ( x = "c" ; x = "d" ), n = strlen(x) * 10.
    """)
    want = {("ab", 3), ("c", 10), ("d", 10)}
    assert _run(program).tuples("R") == want
    assert _run(program).tuples("R") == want
    assert set(program._constant.values()) == {frozenset({("ab", 3)}), frozenset({("c", 10)}),
                                               frozenset({("d", 10)})}


def test_constant_rules_that_fail_or_are_not_functions_run_in_each_database() -> None:
    calls: list[str] = []

    def tag(s: str) -> str:
        calls.append(s)
        return s + "!"

    program = Program.from_text("""
        .functor tag(s: symbol): symbol
        .decl Bad(n: number)
        .decl Id(n: number)
        .decl Tagged(s: symbol)
        Bad(to_number("x")).
        Id(autoinc()).
        Tagged(@tag("t")).
    """, functors={"tag": tag})
    first, second = _run(program), _run(program)
    assert len(first.failures) == 1 and len(second.failures) == 1
    assert first.tuples("Bad") == second.tuples("Bad") == set()
    assert first.tuples("Id") != second.tuples("Id")  # a new number in each evaluation
    assert first.tuples("Tagged") == second.tuples("Tagged") == {("t!",)}
    assert calls == ["t", "t"]  # a user functor may not be a function: called each time


def test_a_rule_that_begins_with_an_empty_relation_is_not_run() -> None:
    program = Program.from_text("""
        .decl E(s: symbol)
        .decl F(s: symbol, t: symbol)
        .decl R(s: symbol, n: number)
        R(s, to_number(t)) :- E(s), F(s, t).
    """)
    db = _run(program, {"F": [("a", "1"), ("b", "x")]})
    assert db.tuples("R") == set() and len(db.failures) == 0
    db = _run(program, {"E": [("a",), ("b",)], "F": [("a", "1"), ("b", "x")]})
    assert db.tuples("R") == {("a", 1)} and len(db.failures) == 1


def test_python_relation_called_once_per_arguments_in_a_run() -> None:
    calls: list[str] = []

    def split(path: str) -> Iterator[tuple[str, str]]:
        calls.append(path)
        if path == "/bad":
            raise ValueError("bad path")
        parent, _, name = path.rpartition("/")
        yield parent or "/", name

    program = Program.from_text("""
        .decl P(p: symbol)
        .decl Split(p: symbol, d: symbol, n: symbol)
        .decl Parent(p: symbol, d: symbol)
        .decl Name(p: symbol, n: symbol)
        Parent(p, d) :- P(p), Split(p, d, _).
        Name(p, n) :- P(p), Split(p, _, n).
    """, relations={"Split": PyRelation(split, "bff")})
    db = _run(program, {"P": [("/a/b",), ("/c",), ("/bad",)]})
    assert db.tuples("Parent") == {("/a/b", "/a"), ("/c", "/")}
    assert db.tuples("Name") == {("/a/b", "b"), ("/c", "c")}
    # each path once for both rules; the failing one in each rule (each failure recorded)
    assert sorted(calls) == ["/a/b", "/bad", "/bad", "/c"]
    assert len(db.failures) == 2
    calls.clear()
    db.add_facts("P", [("/d/e",)])
    db.run()  # a new run: the results of the last one are not kept
    assert sorted(set(calls)) == ["/d/e"]
    assert ("/d/e", "/d") in db.tuples("Parent")
