"""Explanations: one well-founded derivation tree per derived tuple."""

from __future__ import annotations

from guestinspect.datalog import Database, Derivation, Program, PyRelation

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
