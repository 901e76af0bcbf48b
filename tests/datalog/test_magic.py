"""The magic-set transformation (datalog/magic.py), done when a program asks for it."""

from __future__ import annotations

from guestinspect.datalog import Database, Program
from guestinspect.datalog.magic import magic_transform
from guestinspect.datalog.parser import Loader

SAMEGEN = """
.decl Node(x: number)
.decl Parent(x: number, y: number)
.decl SameGen(x: number, y: number)
.decl Query()
.output Query
SameGen(x, x) :- Node(x).
SameGen(x, y) :- Parent(x, a), SameGen(a, b), Parent(y, b).
Query() :- SameGen(QX, QY).
"""


def tree(depth: int) -> tuple[list[tuple[int]], list[tuple[int, int]]]:
    """A complete binary tree, node n's children 2n and 2n+1."""
    nodes = list(range(1, 2 ** (depth + 1)))
    return [(n,) for n in nodes], [(n, n // 2) for n in nodes if n > 1]


def samegen(depth: int, x: int, y: int, magic: bool) -> Database:
    text = SAMEGEN.replace("QX", str(x)).replace("QY", str(y))
    if magic:
        text = '.pragma "magic-transform" "*"\n' + text
    db = Database(Program.from_text(text))
    nodes, parents = tree(depth)
    db.add_facts("Node", nodes)
    db.add_facts("Parent", parents)
    db.run()
    return db


def tuples_held(db: Database) -> int:
    return sum(len(db.tuples(name)) for name in db.program.declarations)


def test_same_answers_with_and_without_the_transformation() -> None:
    for x, y in ((8, 15), (8, 3), (5, 6)):
        assert samegen(3, x, y, True).tuples("Query") == samegen(3, x, y, False).tuples("Query")
    assert samegen(3, 8, 15, True).tuples("Query") == {()}
    assert samegen(3, 8, 3, True).tuples("Query") == set()


def test_only_what_the_query_needs_is_computed() -> None:
    # the whole of SameGen over a 13-level tree has ~22 million pairs; the query needs the
    # ancestors of 4096 and the nodes of their generations
    db = samegen(12, 4096, 8191, True)
    assert db.tuples("Query") == {()}
    assert tuples_held(db) < 60_000
    assert db.tuples("SameGen") == set()  # only the adorned copies are computed


def test_a_functor_argument_is_not_bound() -> None:
    # magic.Gen(x + 1) :- magic.Gen(x) would never end: x + 1 counts as free
    db = Database(Program.from_text("""
    .pragma "magic-transform" "*"
    .decl Seed(x: number)
    .decl Valid(x: number)
    .decl Gen(x: number)
    .decl Query()
    Gen(x) :- Seed(x).
    Gen(x) :- Gen(x + 1), Valid(x).
    Query() :- Gen(0).
    """))
    db.add_facts("Seed", [(3,)])
    db.add_facts("Valid", [(0,), (1,), (2,)])
    db.run()
    assert db.tuples("Query") == {()}


CYCLE = """
.decl A(x: number)
.decl Q(x: number)
.decl S(x: number)
.decl R(x: number)
.decl T(x: number)
A(1). A(2). A(3).
Q(x) :- A(x), !S(x).
S(x) :- A(x), R(x), x > 1.
R(x) :- A(x).
T(x) :- Q(x), R(x).
"""


def test_a_transformation_that_breaks_stratification_is_not_done() -> None:
    # magic.R.b would read Q, which negates S, which reads R.b: a cycle through negation
    loader = Loader()
    loader.load_text('.pragma "magic-transform" "*"\n' + CYCLE, "t.dl")
    assert magic_transform(loader.module) is not loader.module
    db = Database(Program.from_text('.pragma "magic-transform" "*"\n' + CYCLE))
    db.run()
    assert db.tuples("T") == {(1,)}
    assert "magic.R.b" not in db.program.declarations


def test_negated_aggregated_and_io_relations_are_left_alone() -> None:
    loader = Loader()
    loader.load_text("""
    .pragma "magic-transform" "*"
    .decl E(x: number, y: number)
    .input E
    .decl P(x: number, y: number)
    .decl N(x: number)
    .decl C(n: number)
    .decl Out(x: number)
    .output Out
    P(x, y) :- E(x, y).
    N(x) :- E(x, _).
    C(n) :- n = count : { P(_, _) }.
    Out(x) :- E(x, _), !N(x).
    Out(x) :- P(1, x), C(_).
    """, "t.dl")
    names = {d.name for d in magic_transform(loader.module).declarations}
    assert {"C.f", "magic.C.f"} <= names  # C is used with its argument free
    assert not any(n.startswith(("P.", "N.", "E.", "Out.", "magic.P", "magic.N")) for n in names)


def test_a_relation_that_nothing_else_reads_is_computed_whole() -> None:
    db = Database(Program.from_text("""
    .pragma "magic-transform" "*"
    .decl E(x: number, y: number)
    .decl P(x: number, y: number)
    .decl Q(x: number)
    E(1, 2). E(2, 3).
    P(x, y) :- E(x, y).
    P(x, z) :- P(x, y), E(y, z).
    Q(y) :- P(1, y).
    """))
    db.run()
    assert db.tuples("Q") == {(2,), (3,)}
    assert db.tuples("P.bf") == {(1, 2), (1, 3)}  # only what Q needs
    assert db.tuples("P") == set()
