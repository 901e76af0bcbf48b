"""The semi-naive loop (database.py ``_fixpoint``) on programs of the shapes of Soufflé's
slowest core tests: a points-to analysis like ``hmmer`` (rules joining two recursive
relations, checked against a naive fixpoint computed here in plain Python) and a long chain
of rounds between two relations like ``independent_body3``."""

from __future__ import annotations

import random
from typing import Any

import pytest

from guestinspect.datalog import Database, Program, runtime

POINTS_TO = """
.decl Flow(v:symbol, w:symbol)
.decl Load(v:symbol, w:symbol)
.decl Store(v:symbol, w:symbol)
.decl Alloc(v:symbol, o:symbol)
.decl IsPtr(v:symbol, o:symbol)
.decl Memory(o1:symbol, o2:symbol)
.decl Reach(v:symbol, o:symbol)
.decl Roots(o:symbol)
IsPtr(v, o) :- Alloc(v, o).
IsPtr(d, o) :- Flow(s, d), IsPtr(s, o).
IsPtr(d, o) :- Load(d, a), IsPtr(a, o1), Memory(o1, o).
Memory(o1, o2) :- Store(s, a), IsPtr(s, o2), IsPtr(a, o1).
Reach(v, o) :- IsPtr(v, o).
Reach(v, o) :- Memory(o1, o), Reach(v, o1).
Roots(o) :- Reach(_, o).
"""


def _naive(facts: dict[str, set[tuple[str, str]]]) -> dict[str, set[tuple[str, ...]]]:
    flow, load, store, alloc = facts["Flow"], facts["Load"], facts["Store"], facts["Alloc"]
    ptr: set[tuple[str, str]] = set(alloc)
    mem: set[tuple[str, str]] = set()
    reach: set[tuple[str, str]] = set()
    while True:
        new_ptr = ptr | {(d, o) for s, d in flow for v, o in ptr if v == s}
        new_ptr |= {(d, o) for d, a in load for v, o1 in ptr if v == a
                    for m1, o in mem if m1 == o1}
        new_mem = mem | {(o1, o2) for s, a in store for v, o2 in ptr if v == s
                         for w, o1 in ptr if w == a}
        new_reach = reach | ptr | {(v, o) for o1, o in mem for v, r in reach if r == o1}
        if (new_ptr, new_mem, new_reach) == (ptr, mem, reach):
            return {"IsPtr": ptr, "Memory": mem, "Reach": reach,
                    "Roots": {(o,) for _, o in reach}}
        ptr, mem, reach = new_ptr, new_mem, new_reach


def test_a_points_to_analysis_matches_a_naive_fixpoint() -> None:
    rnd = random.Random(7)
    var = [f"v{i}" for i in range(40)]
    obj = [f"o{i}" for i in range(12)]

    def pairs(n: int, right: list[str]) -> set[tuple[str, str]]:
        return {(rnd.choice(var), rnd.choice(right)) for _ in range(n)}

    facts = {"Flow": pairs(50, var), "Load": pairs(25, var), "Store": pairs(25, var),
             "Alloc": pairs(15, obj)}
    db = Database(Program.from_text(POINTS_TO))
    for name, rows in facts.items():
        db.add_facts(name, rows)
    db.run()
    want = _naive(facts)
    assert len(want["Reach"]) > len(want["IsPtr"]) > 15  # the recursion goes deep enough
    for name, rows in want.items():
        assert db.tuples(name) == rows, name


def test_a_long_chain_of_rounds_between_two_relations() -> None:
    """A thousand rounds, each with one new tuple in one of two relations: every round's
    tuple is kept (``rounds``, which explain reads), one round per tuple."""
    db = Database(Program.from_text("""
        .decl A(x:number)
        .decl B(x:number)
        .decl C(x:number)
        A(x) :- B(x), C(_).
        B(0).
        B(x + 1) :- A(x), x < 1000.
        C(1).
    """))
    db.run()
    assert db.tuples("A") == {(i,) for i in range(1001)}
    assert len(db.rounds["A"]) == len(db.rounds["B"]) >= 2000


def test_a_delta_grouped_by_its_join_key_derives_what_a_naive_fixpoint_does(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules whose delta atom has variables that only pass through to the head run the rest
    of the body once per join key (codegen.pass_through): one, two or a repeated passing
    variable, a wildcard, a constant and an expression in the head."""
    calls: list[bool] = []

    def grouped(rows: Any, cols: tuple[int, ...]) -> bool:
        calls.append(runtime_grouped(rows, cols))
        return calls[-1]

    runtime_grouped = runtime.grouped
    monkeypatch.setattr(runtime, "grouped", grouped)
    rnd = random.Random(11)
    edges = {(rnd.randrange(30), rnd.randrange(30)) for _ in range(70)}
    db = Database(Program.from_text("""
        .decl E(x: number, y: number)
        .decl P(x: number, y: number)
        .decl T(a: number, b: number, y: number)
        .decl U(x: number, y: number, c: number)
        .decl V(x: number, x2: number, y: number)
        P(x, y) :- E(x, y).
        P(x, z) :- P(x, y), E(y, z).
        T(a, b, b) :- E(a, b).
        T(a, b, y) :- T(a, b, x), E(x, y).
        U(x, y, 5) :- E(x, y).
        U(x, z * 2, 5) :- U(x, y, _), E(y, z), z < 20.
        V(x, x, y) :- E(x, y).
        V(x, x, z) :- V(x, _, y), E(y, z).
    """))
    db.add_facts("E", edges)
    db.run()
    path = set(edges)
    while True:
        more = path | {(x, z) for x, y in path for y2, z in edges if y == y2}
        if more == path:
            break
        path = more
    t = {(a, b, b) for a, b in edges}
    while True:
        more = t | {(a, b, y) for a, b, x in t for x2, y in edges if x == x2}
        if more == t:
            break
        t = more
    u = {(x, y, 5) for x, y in edges}
    while True:
        more = u | {(x, z * 2, 5) for x, y, _ in u for y2, z in edges if y == y2 and z < 20}
        if more == u:
            break
        u = more
    assert db.tuples("P") == path and len(path) > 200
    assert db.tuples("T") == t
    assert db.tuples("U") == u
    assert db.tuples("V") == {(x, x, y) for x, y in path}
    assert True in calls and False in calls  # both ways were taken
