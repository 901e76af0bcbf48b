"""A recursive rule whose delta atom is bound by one stored atom and Python relations
(``codegen.filtered_delta``): once the delta is large, each row of the stored atom tests the
delta (``delta_last_plan``) instead of each delta row scanning the stored atom; the tuples
are those of a naive fixpoint computed here in plain Python."""

from __future__ import annotations

import random
from collections.abc import Iterator

from guestinspect.datalog import Database, Program, PyRelation

# "No(path)": a wanted path is absent when its parent is (paths.dl's WinLookupOrAbsent shape).
ABSENT = """
.decl Want(fs: symbol, p: symbol)
.decl Gone(fs: symbol, p: symbol)
.decl Split(p: symbol, parent: symbol, name: symbol)
.decl No(fs: symbol, p: symbol)
No(fs, p) :- Gone(fs, p).
No(fs, p) :- Want(fs, p), Split(p, parent, _), No(fs, parent).
"""


def split(path: str) -> Iterator[tuple[str, str]]:
    parent, _, name = path.rpartition("/")
    if name:
        yield parent or "/", name


def _naive(want: set[tuple[str, str]], gone: set[tuple[str, str]]) -> set[tuple[str, str]]:
    no = set(gone)
    while True:
        new = no | {(fs, p) for fs, p in want for parent, _ in split(p) if (fs, parent) in no}
        if new == no:
            return no
        no = new


def test_delta_tested_by_the_stored_atom_gives_the_naive_fixpoint() -> None:
    rng = random.Random(15)
    want: set[tuple[str, str]] = set()
    for fs in ("a", "b"):
        for _ in range(300):
            path = ""
            for _ in range(rng.randrange(1, 6)):  # the path and its ancestors
                path += f"/d{rng.randrange(4)}"
                want.add((fs, path))
    gone = {("a", "/d1"), ("a", "/d2/d3"), ("b", "/d0")}
    program = Program.from_text(ABSENT, relations={"Split": PyRelation(split, "bff")})
    db = Database(program)
    db.add_facts("Want", want)
    db.add_facts("Gone", gone)
    db.run()
    expected = _naive(want, gone)
    assert db.tuples("No") == expected and len(expected) > 100
    # the plan: a delta of more than 11 rows was tested, not scanned
    tested = [fn for (index, delta, _), fn in db._bound.items()
              if delta is not None and "S_R1 = R1.tuples" in (fn.__doc__ or "")]
    assert tested and all(" in S_" in (fn.__doc__ or "") for fn in tested)
    # and more facts continue from the new tuples the same way
    db.add_facts("Gone", [("b", "/d1")])
    db.add_facts("Want", [("b", "/d1/d9/d9")])
    db.run()
    assert db.tuples("No") == _naive(want | {("b", "/d1/d9/d9")}, gone | {("b", "/d1")})
