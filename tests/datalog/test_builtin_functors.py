"""The table of built-in functors and operators (datalog/builtin_functors.py): every row is
reached through the parser, type-checked, compiled and evaluated, and gives the value written
here; the parser's, checks', code generator's and run time's views come from the table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guestinspect.datalog import Database, DatalogError, Program
from guestinspect.datalog.builtin_functors import (
    BINARY,
    FALLIBLE,
    FUNCTORS,
    HELPERS,
    OPERATOR_WORDS,
    PRECEDENCE,
    TABLE,
    UNARY,
    Functor,
)
from guestinspect.datalog.parser import Loader
from guestinspect.datalog.syntax import U32

# (form, name) -> cases: the arguments as (column type, value), the result's type, the value
CASES: dict[tuple[str, str], list[tuple[list[tuple[str, Any]], str, Any]]] = {
    ("functor", "cat"): [([("symbol", "ab"), ("symbol", "cd")], "symbol", "abcd"),
                         ([("symbol", "a"), ("symbol", "b"), ("symbol", "c")], "symbol", "abc"),
                         ([("symbol", "solo")], "symbol", "solo")],
    ("functor", "strlen"): [([("symbol", "héllo")], "number", 5)],
    ("functor", "substr"): [([("symbol", "hello"), ("number", 1), ("number", 3)], "symbol",
                             "ell")],
    ("functor", "ord"): [([("symbol", "A")], "number", 65)],
    ("functor", "to_number"): [([("symbol", "42")], "number", 42),
                               ([("symbol", "0x10")], "number", 16)],
    ("functor", "to_unsigned"): [([("symbol", "-1")], "unsigned", U32)],
    ("functor", "to_float"): [([("symbol", "2.5")], "float", 2.5)],
    ("functor", "to_string"): [([("number", 10)], "symbol", "10")],
    ("functor", "itof"): [([("number", 3)], "float", 3.0)],
    ("functor", "utof"): [([("unsigned", 3)], "float", 3.0)],
    ("functor", "ftoi"): [([("float", 2.7)], "number", 2)],
    ("functor", "ftou"): [([("float", 2.7)], "unsigned", 2)],
    ("functor", "itou"): [([("number", -1)], "unsigned", U32)],
    ("functor", "utoi"): [([("unsigned", 5)], "number", 5)],
    ("functor", "abs"): [([("number", -4)], "number", 4)],
    ("functor", "min"): [([("number", 3), ("number", 1), ("number", 2)], "number", 1),
                         ([("symbol", "b"), ("symbol", "a")], "symbol", "a")],
    ("functor", "max"): [([("number", 3), ("number", 1), ("number", 2)], "number", 3)],
    ("constraint", "contains"): [([("symbol", "b"), ("symbol", "abc")], "bool", True),
                                 ([("symbol", "x"), ("symbol", "abc")], "bool", False)],
    ("constraint", "match"): [([("symbol", "a.c"), ("symbol", "abc")], "bool", True),
                              ([("symbol", "a.c"), ("symbol", "abcd")], "bool", False)],
    ("unary", "-"): [([("number", 4)], "number", -4), ([("float", 1.5)], "float", -1.5)],
    ("unary", "bnot"): [([("number", 5)], "number", -6),
                        ([("unsigned", 5)], "unsigned", U32 - 5)],
    ("unary", "lnot"): [([("number", 0)], "number", 1), ([("number", 7)], "number", 0)],
    ("binary", "lor"): [([("number", 0), ("number", 2)], "number", 1)],
    ("binary", "lxor"): [([("number", 1), ("number", 1)], "number", 0)],
    ("binary", "land"): [([("number", 1), ("number", 2)], "number", 1)],
    ("binary", "bor"): [([("number", 5), ("number", 2)], "number", 7)],
    ("binary", "bxor"): [([("number", 6), ("number", 3)], "number", 5)],
    ("binary", "band"): [([("number", 6), ("number", 3)], "number", 2)],
    ("binary", "bshl"): [([("number", 1), ("number", 4)], "number", 16),
                         ([("unsigned", 1), ("unsigned", 32)], "unsigned", 0)],
    ("binary", "bshr"): [([("number", -16), ("number", 2)], "number", -4)],
    ("binary", "bshru"): [([("number", -16), ("number", 28)], "number", 15)],
    ("binary", "+"): [([("number", 2), ("number", 3)], "number", 5),
                      ([("unsigned", U32), ("unsigned", 1)], "unsigned", 0),
                      ([("float", 0.5), ("float", 0.25)], "float", 0.75)],
    ("binary", "-"): [([("number", 2), ("number", 3)], "number", -1),
                      ([("unsigned", 2), ("unsigned", 3)], "unsigned", U32)],
    ("binary", "*"): [([("number", 4), ("number", 5)], "number", 20)],
    ("binary", "/"): [([("number", -7), ("number", 2)], "number", -3),
                      ([("float", 1.0), ("float", 4.0)], "float", 0.25)],
    ("binary", "%"): [([("number", -7), ("number", 2)], "number", -1)],
    ("binary", "^"): [([("number", 2), ("number", 10)], "number", 1024)],
}


def expression(row: Functor, names: list[str]) -> str:
    """The row applied to ``names``, as the language writes it."""
    if row.form == "binary":
        return f"{names[0]} {row.name} {names[1]}"
    if row.form == "unary":
        return f"{row.name} {names[0]}"
    return f"{row.name}({', '.join(names)})"


def program_text(row: Functor, args: list[tuple[str, Any]], result: str) -> str:
    names = [f"a{i}" for i in range(len(args))]
    columns = ", ".join(f"{n}: {t}" for n, (t, _) in zip(names, args, strict=True))
    head = f".decl In({columns})\n"
    if result == "bool":
        return (head + ".decl Out(x: number)\n"
                f"Out(1) :- In({', '.join(names)}), {expression(row, names)}.\n"
                f"Out(0) :- In({', '.join(names)}), !{expression(row, names)}.\n")
    return (head + f".decl Out(x: {result})\n"
            f"Out({expression(row, names)}) :- In({', '.join(names)}).\n")


#: Rows whose value is not a function of the arguments, tested on their own.
STATEFUL = {("functor", "autoinc")}


def test_every_row_has_cases_here() -> None:
    assert {(f.form, f.name) for f in TABLE} == set(CASES) | STATEFUL
    assert len({(f.form, f.name) for f in TABLE}) == len(TABLE)


@pytest.mark.parametrize(("form", "name"), sorted(CASES))
def test_every_row_parses_checks_and_evaluates(form: str, name: str) -> None:
    row = next(f for f in TABLE if (f.form, f.name) == (form, name))
    for args, result, expected in CASES[(form, name)]:
        text = program_text(row, args, result)
        db = Database(Program.from_text(text, filename="t.dl"))
        db.add_facts("In", [tuple(v for _, v in args)])
        db.run()
        want = {(1,) if expected else (0,)} if result == "bool" else {(expected,)}
        assert db.tuples("Out") == want, text
        assert not db.failures.messages()
        # the row's Python implementation computes the same (before unsigned wrapping)
        value = row.impl(*(v for _, v in args))
        if result == "unsigned":
            value &= U32
        assert value == expected


def test_autoinc_gives_a_new_number_at_each_call() -> None:
    text = ".decl In(x: number)\n.decl Out(n: number, x: number)\nOut(autoinc(), x) :- In(x).\n"
    db = Database(Program.from_text(text, filename="t.dl"))
    db.add_facts("In", [(7,), (8,), (9,)])
    db.run()
    ids = sorted(n for n, _ in db.tuples("Out"))
    assert len(set(ids)) == 3 and ids == list(range(ids[0], ids[0] + 3))
    with pytest.raises(DatalogError, match="autoinc"):
        Program.from_text(".decl Out(n: number)\nOut(autoinc(1)).")


def test_fallible_rows_report_their_own_name() -> None:
    text = ".decl In(x: symbol)\n.decl Out(x: unsigned)\nOut(to_unsigned(x)) :- In(x).\n"
    db = Database(Program.from_text(text, filename="t.dl"))
    db.add_facts("In", [("nope",)])
    db.run()
    assert db.tuples("Out") == set()
    assert db.failures.messages() == [
        "t.dl:3:1: to_unsigned('nope') failed (EvaluationError: to_number: 'nope' is not a "
        "number); that tuple is skipped"]


def test_the_views_come_from_the_table() -> None:
    assert set(FUNCTORS) == {f.name for f in TABLE if f.form in ("functor", "constraint")}
    assert set(BINARY) == set(PRECEDENCE)
    assert set(UNARY) == {"-", "bnot", "lnot"}
    assert OPERATOR_WORDS == {"bnot", "lnot", "band", "bor", "bxor", "bshl", "bshr", "bshru",
                              "land", "lor", "lxor"}
    assert set(FALLIBLE) <= set(HELPERS)
    for f in TABLE:
        assert f.inline is not None or f.helper in HELPERS
        assert (f.helper in FALLIBLE) == f.fallible
    # precedence: * binds tighter than +, band tighter than bor, ^ to the right
    assert PRECEDENCE["*"] > PRECEDENCE["+"] > PRECEDENCE["band"] > PRECEDENCE["bor"]
    db = Database(Program.from_text(
        ".decl Out(x: number)\nOut(1 + 2 * 3 band 6).\nOut(2 ^ 3 ^ 2).\n", filename="t.dl"))
    db.run()
    assert db.tuples("Out") == {(6,), (512,)}


@pytest.mark.parametrize(("text", "message"), [
    ("Out(strlen(1)).", "t.dl:2:12: type mismatch: strlen() needs a symbol, but got a number"),
    ('Out(to_string("a")).', "t.dl:2:15: type mismatch: to_string() needs a number, but got "
                              "a symbol"),
    ('Out(strlen(substr("a", "b", 1))).', "t.dl:2:24: type mismatch: substr() argument is a "
                                          "symbol, expected a number"),
    ('Out(cat()).', "t.dl:2:5: functor 'cat' takes at least 1 arguments, but 0 were given"),
    ('Out(ord("a", "b")).', "t.dl:2:5: functor 'ord' takes 1 argument, but 2 were given"),
    ('Out(strlen("a") + "b").', "t.dl:2:17: type mismatch: operator '+' on a symbol"),
])
def test_arity_and_kinds_from_the_table(text: str, message: str) -> None:
    with pytest.raises(DatalogError) as e:
        Program.from_text(".decl Out(x: number)\n" + text + "\n", filename="t.dl")
    assert message in str(e.value)


def test_every_functor_name_is_a_call_to_the_parser() -> None:
    for name in FUNCTORS:
        loader = Loader()
        loader.load_text(f".decl A(x: number)\nA(1) :- {name}(1, 2) = {name}(3).\n", "t.dl")
        assert not any("unknown functor" in e for e in loader.errors), name
    loader = Loader()
    loader.load_text(".decl A(x: number)\nA(1) :- 1 = nosuch(1).\n", "t.dl")
    assert loader.errors == ["t.dl:2:13: unknown functor 'nosuch'"]


def test_every_functor_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "rule-language.md").read_text()
    section = doc.split("### Built-in functors", 1)[1].split("\n### ", 1)[0]
    missing = [name for name in FUNCTORS if f"`{name}" not in section and f"{name}`" not in
               section]
    assert missing == []
