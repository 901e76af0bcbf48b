"""Explanations: one well-founded derivation tree per derived tuple."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from guestinspect.datalog import (
    Database,
    DatalogError,
    Derivation,
    Program,
    PyRelation,
    check_files,
)

RULES = """.decl File(fs: symbol, path: symbol)
.decl Dir(fs: symbol, path: symbol)
.decl HurdRoot(fs: symbol)
.decl LinuxRoot(fs: symbol)
HurdRoot(fs) :- Dir(fs, "/servers").
LinuxRoot(fs) :- File(fs, "/etc/fstab"), Dir(fs, "/etc"), !HurdRoot(fs).
.decl Edge(x: number, y: number)
.decl Path(x: number, y: number)
Path(x, y) :- Edge(x, y).
Path(x, z) :- Path(x, y), Path(y, z).
"""


def leaves(d: Derivation) -> list[Derivation]:
    if not d.children:
        return [d]
    return [leaf for c in d.children for leaf in leaves(c)]


def check_tree(db: Database, d: Derivation, seen: tuple[tuple[str, object], ...] = ()) -> None:
    """Every node is a known tuple, no node repeats on its own branch."""
    assert d.tuple in db.tuples(d.relation)
    key = (d.relation, d.tuple)
    assert key not in seen
    for c in d.children:
        check_tree(db, c, seen + (key,))


def test_explain_nonrecursive_rule_with_location() -> None:
    db = Database(Program.from_text(RULES, filename="rules/linux.dl"))
    db.add_facts("File", [("/dev/sda1", "/etc/fstab")])
    db.add_facts("Dir", [("/dev/sda1", "/etc")])
    db.run()
    d = db.explain("LinuxRoot", ("/dev/sda1",))
    assert d is not None
    assert d.location == "rules/linux.dl:6:1"
    assert d.rule_text == ('LinuxRoot(fs) :- File(fs, "/etc/fstab"), Dir(fs, "/etc"), '
                           '!HurdRoot(fs).')
    assert [(c.relation, c.tuple, c.location) for c in d.children] == [
        ("File", ("/dev/sda1", "/etc/fstab"), None), ("Dir", ("/dev/sda1", "/etc"), None)]
    assert d.render().splitlines() == [
        'LinuxRoot("/dev/sda1")  <- rules/linux.dl:6:1: ' + d.rule_text,
        '  File("/dev/sda1", "/etc/fstab")  (base fact)',
        '  Dir("/dev/sda1", "/etc")  (base fact)',
    ]
    assert db.explain("LinuxRoot", ("/dev/sdb1",)) is None
    base = db.explain("File", ("/dev/sda1", "/etc/fstab"))
    assert base is not None and base.location is None and base.children == []


def test_explain_recursive_tuples_is_well_founded() -> None:
    db = Database(Program.from_text(RULES))
    n = 40
    db.add_facts("Edge", [(i, i + 1) for i in range(n)] + [(n, 0)])
    db.run()
    for t in [(0, n), (5, 5), (n, 3), (17, 16)]:
        d = db.explain("Path", t)
        assert d is not None and d.tuple == t
        check_tree(db, d)
        assert all(leaf.relation == "Edge" and leaf.location is None for leaf in leaves(d))
        # the leaves of a path proof chain from t[0] to t[1]
        chain = [leaf.tuple for leaf in leaves(d)]
        assert chain[0][0] == t[0] and chain[-1][1] == t[1]
        assert all(a[1] == b[0] for a, b in zip(chain, chain[1:], strict=False))


def test_explain_a_proof_deeper_than_the_recursion_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A chain of 3,000 derivations is explained without recursion (the process-wide
    recursion limit is neither needed nor touched)."""
    text = (".decl Next(x: number, y: number)\n.decl Reach(x: number)\nReach(0).\n"
            "Reach(y) :- Reach(x), Next(x, y).\n")
    db = Database(Program.from_text(text))
    n = 3000
    db.add_facts("Next", [(i, i + 1) for i in range(n)])
    db.run()

    def refuse(limit: int) -> None:
        raise AssertionError(f"sys.setrecursionlimit({limit}) called")

    monkeypatch.setattr("sys.setrecursionlimit", refuse)
    d = db.explain("Reach", (n,))
    assert d is not None
    depth = 0
    node: Derivation | None = d
    while node is not None:
        assert node.tuple == (n - depth,)
        assert node.rule_text is not None
        depth += 1
        node = next((c for c in node.children if c.relation == "Reach"), None)
    assert depth == n + 1
    assert len(d.render().splitlines()) == 2 * n + 1  # each step: Reach and its Next


def test_explain_after_incremental_run() -> None:
    db = Database(Program.from_text(RULES))
    db.add_facts("Edge", [(1, 2)])
    db.run()
    db.add_facts("Edge", [(2, 3)])
    db.run()
    d = db.explain("Path", (1, 3))
    assert d is not None
    assert sorted(leaf.tuple for leaf in leaves(d)) == [(1, 2), (2, 3)]


def test_explain_program_fact_and_python_relation() -> None:
    text = """
    .decl Words(s: symbol, w: symbol)
    .decl Text(s: symbol)
    Text("a b").
    .decl W(w: symbol)
    W(w) :- Text(s), Words(s, w).
    """
    db = Database(Program.from_text(text, filename="w.dl", relations={
        "Words": PyRelation(lambda s: ((w,) for w in s.split()), "bf")}))
    db.run()
    d = db.explain("W", ("b",))
    assert d is not None
    text_node, words_node = d.children
    assert text_node.location == "w.dl:4:5" and text_node.rule_text == 'Text("a b").'
    assert words_node.tuple == ("a b", "b") and words_node.rule_text == "computed by Python"


# ---- plumbing marks and "why not" --------------------------------------------------------

WHY = """.decl Entry(fs: symbol, path: symbol, kind: symbol)
.decl Want(fs: symbol, path: symbol) plumbing
.decl Dir(fs: symbol, path: symbol)
.decl Root(fs: symbol)
.decl Hostname(fs: symbol, name: symbol)
.decl Text(fs: symbol, path: symbol, text: symbol)
.plumbing Dir
.decl Probe(path: symbol)
Probe("/etc"). Probe("/bin").
Want(fs, p) :- Entry(fs, "/", "dir"), Probe(p).
Dir(fs, p) :- Want(fs, p), Entry(fs, p, "dir").
Root(fs) :- Dir(fs, "/etc"), Dir(fs, "/bin").
Hostname(fs, h) :- Root(fs), Text(fs, "/etc/hostname", h), h != "".
Hostname(fs, "localhost") :- Root(fs), Text(fs, "/etc/hostname", "").
"""


def test_plumbing_marks_are_a_property_of_the_program() -> None:
    program = Program.from_text(WHY, filename="rules/why.dl")
    assert program.plumbing == frozenset({"Want", "Dir"})
    plain = Program.from_text(WHY.replace(" plumbing", "").replace(".plumbing Dir", ""))
    assert plain.plumbing == frozenset()
    for p in (program, plain):  # the same tuples either way
        db = Database(p)
        db.add_facts("Entry", [("a", "/", "dir"), ("a", "/etc", "dir")])
        db.run()
        assert db.tuples("Dir") == {("a", "/etc")}


def test_a_plumbing_mark_on_an_undeclared_relation_is_an_error(tmp_path: Path) -> None:
    text = ".decl A(x: number)\n.plumbing A, Nope\n.decl B(x: number)\nA(1).\n.plumbing\n  Gone\n"
    with pytest.raises(DatalogError) as e:
        Program.from_text(text, filename="rules/x.dl")
    assert e.value.errors == ["rules/x.dl:2:14: undeclared relation 'Nope' in .plumbing",
                              "rules/x.dl:6:3: undeclared relation 'Gone' in .plumbing"]
    rule_file = tmp_path / "x.dl"  # what `guestinspect rules check` runs
    rule_file.write_text(text)
    assert check_files([rule_file]) == [e.replace("rules/x.dl", str(rule_file))
                                        for e in e.value.errors]


def test_why_not_finds_the_closest_rule_and_what_it_lacked() -> None:
    db = Database(Program.from_text(WHY, filename="rules/why.dl"))
    db.add_facts("Entry", [("a", "/", "dir"), ("a", "/etc", "dir"), ("a", "/bin", "dir")])
    db.add_facts("Entry", [("b", "/", "dir"), ("b", "/etc", "dir")])
    db.add_facts("Text", [("a", "/etc/motd", "hi")])
    db.run()
    why = db.why_not("Hostname", ("a", None))
    assert why is not None
    assert (why.location, why.held, why.total, why.failed) == (
        "rules/why.dl:13:1", 1, 3, 'Text("a", "/etc/hostname", h)')
    assert (why.failed_relation, why.failed_pattern, why.cause) == (
        "Text", ("a", "/etc/hostname", None), None)  # a base relation: nothing below it
    # b has no /bin: Hostname lacks Root, Root lacks Dir(b, /bin), Dir lacks Entry(b, /bin)
    why = db.why_not("Hostname", ("b", None))
    assert why is not None and why.failed == 'Root("b")' and why.held == 0
    assert why.cause is not None
    assert (why.cause.relation, why.cause.held, why.cause.total, why.cause.failed) == (
        "Root", 1, 2, 'Dir("b", "/bin")')
    below = why.cause.cause
    assert below is not None and (below.held, below.total) == (1, 2)
    assert below.failed == 'Entry("b", "/bin", "dir")' and below.cause is None
    # ... unless Dir is a relation not to look into
    stopped = db.why_not("Hostname", ("b", None), stop={"Dir"})
    assert stopped is not None and stopped.cause is not None
    assert stopped.cause.failed == 'Dir("b", "/bin")' and stopped.cause.cause is None
    # a tuple that holds, or a relation no rule derives: nothing to say
    assert db.why_not("Root", ("a",)) is None
    assert db.why_not("Entry", ("c", None, None)) is None


def test_why_not_is_bounded_on_a_huge_join() -> None:
    """A body that would loop 10^9 times before failing: the search stops after its budget
    and reports how far it got."""
    import time

    text = """.decl B(x: number)
.decl C(a: number, b: number, c: number)
.decl A(r: symbol, a: number)
A("r", a) :- B(a), B(b), B(c), C(a, b, c).
"""
    db = Database(Program.from_text(text, filename="big.dl"))
    db.add_facts("B", [(i,) for i in range(1000)])
    db.run()
    start = time.monotonic()
    why = db.why_not("A", ("r", None))
    assert time.monotonic() - start < 20
    assert why is not None and (why.held, why.total) == (3, 4)
    assert re.fullmatch(r"C\(\d+, \d+, \d+\)", why.failed)  # values the search met
