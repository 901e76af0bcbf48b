"""Every static error names file:line:col and says what is wrong, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from guestinspect.datalog import DatalogError, Program, PyRelation, check_files


def errors(text: str, **kw: object) -> list[str]:
    with pytest.raises(DatalogError) as info:
        Program.from_text(text, filename="t.dl", **kw)  # type: ignore[arg-type]
    assert str(info.value) == info.value.errors[0]
    return info.value.errors


def test_syntax_error_names_what_was_expected() -> None:
    assert errors(".decl A(x: symbol)\nA(x) :- A(x)\n") == [
        "t.dl:3:1: syntax error: expected '.' at the end of the clause, found end of file"]
    assert errors(".decl A(x symbol)\n") == [
        "t.dl:1:11: syntax error: expected ':' and a type after the column name, "
        "found 'symbol'"]
    assert errors(".decl A(x: number)\nA(x) :- A(x), x <.\n") == [
        "t.dl:2:18: syntax error: expected an expression, found '.'"]


def test_several_syntax_errors_are_all_reported() -> None:
    errs = errors(".decl A(x: number)\nA(x) :- A(x) A(x).\nA(x) :- , A(x).\n")
    assert [e.split(": ")[0] for e in errs] == ["t.dl:2:14", "t.dl:3:9"]


def test_unterminated_string() -> None:
    assert errors('.decl A(x: symbol)\nA("abc).\n') == ["t.dl:2:3: unterminated string"]


def test_undeclared_relation() -> None:
    assert errors(".decl A(x: symbol)\nA(x) :- B(x).\n") == [
        "t.dl:2:9: undeclared relation 'B'"]
    assert errors(".output C\n") == ["t.dl:1:9: undeclared relation 'C' in .output"]


def test_arity_mismatch() -> None:
    assert errors(".decl A(x: symbol)\nA(x) :- A(x, y).\n") == [
        "t.dl:2:9: relation 'A' has 1 column, but 2 arguments were given"]


def test_type_mismatch_constant_and_comparison() -> None:
    assert errors('.decl A(x: number)\nA("a").\n') == [
        "t.dl:2:3: type mismatch: column 'x' of A is a number, but the constant \"a\" is a "
        "symbol"]
    assert errors('.decl A(x: number)\nA(x) :- A(x), x = "a".\n') == [
        "t.dl:2:17: type mismatch: cannot compare a number with a symbol using '='"]


def test_type_mismatch_between_atoms() -> None:
    text = ".decl A(x: number)\n.decl B(y: symbol)\n.decl C(x: number)\nC(x) :- A(x), B(x).\n"
    assert errors(text) == [
        "t.dl:4:17: type mismatch: variable 'x' is a number in A but a symbol in B"]


def test_type_alias_resolves_to_its_base() -> None:
    p = Program.from_text(".type Path <: symbol\n.decl F(p: Path)\nF(\"/etc\").\n")
    assert p.declarations["F"] == (("p", "Path"),)
    assert errors(".type Path <: symbol\n.decl F(p: Path)\nF(3).\n") == [
        "t.dl:3:3: type mismatch: column 'p' of F is a symbol, but the constant 3 is a "
        "number"]
    assert errors(".decl F(p: Paht)\n") == ["t.dl:1:12: unknown type 'Paht'"]


def test_unsafe_variable_in_head() -> None:
    assert errors(".decl A(x: symbol, y: symbol)\nA(x, y) :- A(x, _).\n") == [
        "t.dl:2:6: unsafe variable 'y' in the head: it is not bound by a positive body atom"]


def test_unsafe_variable_in_negation() -> None:
    text = ".decl A(x: symbol)\n.decl B(x: symbol, y: symbol)\nA(x) :- A(x), !B(x, y).\n"
    assert errors(text) == [
        "t.dl:3:21: unsafe variable 'y' in the negation !B(...): it is not bound by a "
        "positive body atom"]


def test_unsafe_variable_in_comparison() -> None:
    assert errors(".decl A(x: number)\nA(x) :- A(x), y < 3.\n") == [
        "t.dl:2:15: unsafe variable 'y' in a comparison: it is not bound by a positive body "
        "atom"]


def test_wildcard_in_head() -> None:
    assert errors(".decl A(x: number)\nA(_) :- A(1).\n") == [
        "t.dl:2:3: wildcard '_' in the head of 'A'"]


def test_unstratifiable_negation_names_the_cycle() -> None:
    text = (".decl A(x: symbol)\n.decl B(x: symbol)\n.decl C(x: symbol)\n"
            "A(x) :- C(x), !B(x).\nB(x) :- A(x).\n")
    assert errors(text) == [
        "t.dl:4:16: cannot stratify: negation of B in the cycle A -> B -> A"]


def test_unstratifiable_aggregate_names_the_cycle() -> None:
    assert errors(".decl A(x: number)\nA(n) :- A(_), n = count : { A(_) }.\n") == [
        "t.dl:2:19: cannot stratify: aggregate over A in the cycle A -> A"]


def test_unknown_functor() -> None:
    assert errors(".decl A(x: symbol)\nA(x) :- A(y), x = @lower(y).\n") == [
        "t.dl:2:19: unknown functor '@lower'"]
    assert errors(".decl A(x: symbol)\nA(x) :- A(y), x = shout(y).\n") == [
        "t.dl:2:19: unknown functor 'shout'"]
    assert errors(".decl A(x: symbol)\nA(x) :- A(y), x = substr(y, 1).\n") == [
        "t.dl:2:19: functor 'substr' takes 3 arguments, but 2 were given"]


def test_declared_functor_must_be_registered() -> None:
    assert errors(".functor lower(s: symbol): symbol\n") == [
        "t.dl:1:10: functor 'lower' is declared but no Python function is registered for it"]


def test_python_relation_with_unbound_input() -> None:
    text = ".decl L(t: symbol, l: symbol)\n.decl A(x: symbol)\nA(x) :- L(z, x).\n"
    rel = {"L": PyRelation(lambda s: iter(()), "bf")}
    assert errors(text, relations=rel) == [
        "t.dl:3:9: Python relation 'L' needs argument 1 bound, but 'z' is not bound"]
    assert errors(".decl L(t: symbol, l: symbol)\n", relations={
        "L": PyRelation(lambda s: iter(()), "bfb")}) == [
        "t.dl:1:7: Python relation 'L' has binding pattern 'bfb', but it needs one letter b "
        "or f for each of its 2 columns"]


def test_include_of_missing_file(tmp_path: Path) -> None:
    main = tmp_path / "main.dl"
    main.write_text('.decl A(x: symbol)\n#include "nope.dl"\n')
    assert check_files([main]) == [f'{main}:2:1: cannot include "nope.dl": file not found']


def test_errors_in_included_file_name_that_file(tmp_path: Path) -> None:
    (tmp_path / "sub.dl").write_text(".decl B(x: symbol)\nB(x) :- C(x).\n")
    main = tmp_path / "main.dl"
    main.write_text('#include "sub.dl"\n')
    assert check_files([main]) == [f"{tmp_path / 'sub.dl'}:2:9: undeclared relation 'C'"]


def test_check_files_reports_all_errors_and_nothing_runs(tmp_path: Path) -> None:
    f = tmp_path / "x.dl"
    f.write_text(".decl A(x: number)\n.output A\nA(1).\nA(x) :- B(x).\nA(y) :- A(x).\n")
    errs = check_files([f])
    assert errs == [f"{f}:4:9: undeclared relation 'B'",
                    f"{f}:5:3: unsafe variable 'y' in the head: it is not bound by a "
                    "positive body atom"]
    assert check_files([tmp_path / "x.dl"], functors={}) == errs
    good = tmp_path / "good.dl"
    good.write_text(".decl A(x: number)\nA(1).\n")
    assert check_files([good]) == []
