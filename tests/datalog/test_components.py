"""Soufflé's components: ``.comp``, ``.init``, ``.override`` and qualified names."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from guestinspect.datalog import Database, DatalogError, Program

GRAPH = """.type node <: symbol
.comp DiGraph {
    .decl edge(a: node, b: node)
    .decl reach(a: node, b: node)
    reach(x, y) :- edge(x, y).
    reach(x, z) :- reach(x, y), edge(y, z).
}
.comp Graph : DiGraph {
    edge(x, y) :- edge(y, x).
}
"""


def run(text: str) -> Database:
    db = Database(Program.from_text(text, filename="t.dl"))
    db.run()
    return db


def errors_of(text: str) -> list[str]:
    with pytest.raises(DatalogError) as info:
        Program.from_text(text, filename="t.dl")
    return info.value.errors


def test_two_instances_are_independent() -> None:
    db = run(GRAPH + """.init a = DiGraph
.init b = DiGraph
a.edge("1", "2"). a.edge("2", "3").
b.edge("7", "8").
""")
    assert db.tuples("a.reach") == {("1", "2"), ("2", "3"), ("1", "3")}
    assert db.tuples("b.reach") == {("7", "8")}


def test_inheritance_adds_rules_to_the_base() -> None:
    db = run(GRAPH + '.init u = Graph\nu.edge("1", "2").\n')
    assert db.tuples("u.reach") == {("1", "2"), ("2", "1"), ("1", "1"), ("2", "2")}


def test_nested_instances_and_qualified_names_in_rules_and_output(tmp_path: Path) -> None:
    db = run(GRAPH + """.comp Traffic {
    .init train = DiGraph
    .init ship = DiGraph
    .decl reach(a: node, b: node)
    reach(x, y) :- train.reach(x, y) ; ship.reach(x, y).
    reach(x, z) :- reach(x, y), reach(y, z).
}
.init london = Traffic
london.train.edge("airport", "waterloo").
london.ship.edge("waterloo", "bridge").
.decl Result(x: symbol)
Result("connected") :- london.reach("airport", "bridge"), !london.train.reach("x", "y").
.output london.reach
""")
    assert db.tuples("Result") == {("connected",)}
    assert db.tuples("london.train.reach") == {("airport", "waterloo")}
    db.write_outputs(tmp_path, sys.stdout)
    assert (tmp_path / "london.reach.csv").read_text().splitlines() == [
        "airport\tbridge", "airport\twaterloo", "waterloo\tbridge"]


def test_type_parameters_and_types_declared_inside() -> None:
    db = run(""".comp Box<T> {
    .type Item <: T
    .decl In(x: Item)
    .decl Count(n: number)
    Count(n) :- n = count : { In(_) }.
}
.init numbers = Box<number>
.init words = Box<symbol>
numbers.In(1). numbers.In(2).
words.In("a").
""")
    assert db.tuples("numbers.Count") == {(2,)}
    assert db.tuples("words.Count") == {(1,)}
    # the type parameter is checked as the type it stands for
    [err] = errors_of(".comp Box<T> {\n .decl In(x: T)\n}\n.init numbers = Box<number>\n"
                      'numbers.In("a").\n')
    assert err.startswith("t.dl:5:12: ")


def test_a_component_named_by_a_type_parameter() -> None:
    db = run(""".comp Zero { .decl V(x: number) V(0). }
.comp One { .decl V(x: number) V(1). }
.comp Use<C> { .init inner = C }
.init a = Use<Zero>
.init b = Use<One>
""")
    assert db.tuples("a.inner.V") == {(0,)} and db.tuples("b.inner.V") == {(1,)}


def test_override_replaces_the_inherited_rules() -> None:
    db = run(""".comp Base {
    .decl R(x: number) overridable
    R(1).
    .decl S(x: number)
    S(x) :- R(x).
}
.comp Derived : Base {
    .override R
    R(2).
}
.init b = Base
.init d = Derived
""")
    assert db.tuples("b.S") == {(1,)}
    assert db.tuples("d.S") == {(2,)}


def test_a_rule_for_an_outside_relation() -> None:
    """A rule whose head the component does not declare is for the enclosing program's."""
    db = run(""".decl Seen(x: symbol)
.comp Probe { .decl Hit(x: symbol) Hit("a"). Seen(x) :- Hit(x). }
.init p = Probe
.init q = Probe
""")
    assert db.tuples("Seen") == {("a",)}


def test_errors_and_explanations_point_inside_the_component() -> None:
    text = GRAPH + '.init g = Graph\ng.edge("1", "2").\n'
    db = run(text)
    d = db.explain("g.reach", ("2", "1"))
    assert d is not None and d.location == "t.dl:5:5"
    assert d.rule_text == "reach(x, y) :- edge(x, y)."
    assert d.children[0].relation == "g.edge" and d.children[0].location == "t.dl:9:5"
    w = db.why_not("g.reach", ("3", None))
    assert w is not None and w.location.startswith("t.dl:")
    # an error in a component's rule: at the rule, once however many instances there are
    errs = errors_of(".comp C {\n  .decl R(x: number)\n  R(x) :- R(y).\n}\n.init c = C\n"
                     ".init d = C\n")
    assert errs == ["t.dl:3:5: unsafe variable 'x' in the head: it is not bound by a positive "
                    "body atom"]


@pytest.mark.parametrize(("text", "error"), [
    (".init a = Nope\n", "t.dl:1:11: unknown component 'Nope'"),
    (".comp C<T> { }\n.init a = C\n", "t.dl:2:11: component 'C' takes 1 type parameter, not 0"),
    (".comp C { }\n.init a = C<number, symbol>\n",
     "t.dl:2:11: component 'C' takes 0 type parameters, not 2"),
    (".comp C : Nope { }\n", "t.dl:1:11: unknown component 'Nope'"),
    (".comp A { .init x = B }\n.comp B { .init y = A }\n.init a = A\n",
     "t.dl:2:17: instantiation cycle: component 'A' instantiates itself (a.x.y)"),
    (".comp A : B { }\n.comp B : A { }\n", "t.dl:1:1: component 'A' inherits from itself"),
    (".comp A { .decl R(x: number) R(1). }\n.comp B : A { .override R R(2). }\n",
     "t.dl:2:25: component 'B' overrides relation 'R' of 'A', which is not declared "
     "overridable (at t.dl:1:17)"),
    (".comp A { .decl R(x: number) .override R }\n",
     "t.dl:1:40: component 'A' overrides its own relation 'R'"),
    (".decl C(x: number)\n.comp C { }\n",
     "t.dl:2:1: name clash: component 'C' has the name of the relation at t.dl:1:7"),
    (".comp C { }\n.init C = C\n",
     "t.dl:2:7: name clash: instance 'C' has the name of the component at t.dl:1:1"),
    (".override R\n", "t.dl:1:11: '.override R' outside a component"),
    (".comp C {\n.decl R(x: number)\n", "t.dl:1:1: unterminated component, missing '}'"),
    (".comp C { .functor f(x: number): number }\n",
     "t.dl:1:20: '.functor' inside a component is not supported"),
])
def test_component_errors_are_one_line(text: str, error: str) -> None:
    errs = errors_of(text + ".decl Z(x: number)\n")
    assert errs[0].startswith(error), errs
    assert all("\n" not in e for e in errs)


def test_an_error_removes_the_uses_of_instances() -> None:
    """An unknown component is one error, not one more for each use of its instance."""
    errs = errors_of(".init a = Nope\n.decl Z(x: number)\nZ(x) :- a.R(x).\n.output a.R\n")
    assert errs == ["t.dl:1:11: unknown component 'Nope'"]


def test_parse_errors_inside_a_component_are_reported_and_parsing_goes_on() -> None:
    errs = errors_of(".comp C {\n  .decl R(x: number)\n  R(1) :- .\n  R(2) :- R(.\n}\n"
                     ".decl Z(x: number)\nZ(1) :- .\n")
    assert [e.split(": ")[0] for e in errs] == ["t.dl:3:11", "t.dl:4:13", "t.dl:7:9"]


def test_qualified_names_need_their_dots_to_touch() -> None:
    """``y.`` then ``C(1).`` on the next line is the end of a clause and a fact, and a
    relation of an instance may be called like a directive."""
    db = run(""".decl A(x: number)
.decl C(x: number)
.comp K { .decl type(x: number) type(5). }
.init k = K
A(x) :- C(x), x = y, y = 1.
C(1).
A(x) :- k.type(x).
""")
    assert db.tuples("A") == {(1,), (5,)}


def test_the_example_of_the_docs() -> None:
    """docs/rule-language.md's example, with the relations it uses from outside."""
    text = (Path(__file__).parents[2] / "docs" / "rule-language.md").read_text()
    example = text.split("## Components", 1)[1].split("```", 2)[1]
    db = run(""".decl Mounted(fs: symbol)
.decl WantDir(fs: symbol, dir: symbol)
.decl PathSplit(path: symbol, dir: symbol, name: symbol)
Mounted("sda1").
PathSplit("/boot.ini", "/", "boot.ini").
""" + example)
    assert db.tuples("WinPaths.Want") == {("sda1", "/boot.ini"), ("sda1", "/")}
    assert db.tuples("WinPaths.Path") == {("sda1", "/", "/", "dir")}
    assert db.tuples("WantDir") == {("sda1", "/")}
    assert db.tuples("WinLate.Want") == set() and db.tuples("WinPaths.No") == set()
    assert db.program.output_relations() == ["WinLate.Path"]


def test_soufflé_programs_without_components_are_unchanged() -> None:
    text = ".decl A(x: number)\nA(1).\n"
    program = Program.from_text(text)
    assert program.module.components == [] and len(program.module.rules) == 1


# ---- hostile programs: bounded expansion ---------------------------------------------------


def doubling(levels: int) -> str:
    """Each component instantiates the one below twice: 2^levels instances."""
    lines = [".comp C0 { .decl R(x: number) R(1). }"]
    lines += [f".comp C{i} {{ .init a = C{i - 1} .init b = C{i - 1} }}"
              for i in range(1, levels + 1)]
    return "\n".join(lines) + f"\n.init top = C{levels}\n"


def chain(levels: int) -> str:
    lines = [".comp C0 { .decl R(x: number) R(1). }"]
    lines += [f".comp C{i} {{ .init a = C{i - 1} }}" for i in range(1, levels + 1)]
    return "\n".join(lines) + f"\n.init top = C{levels}\n"


@pytest.mark.parametrize(("text", "error"), [
    (doubling(40), "the program makes more than 10000 instances of components"),
    (chain(150), "components instantiated more than 100 deep (top.a.a…)"),
    (".comp C {" * 1000 + "}" * 1000, "components nested too deeply (more than 64 levels)"),
    (".comp C<T> : T { }\n.init a = C<C>\n", "component 'C' takes 1 type parameter, not 0"),
])
def test_hostile_components_stop_with_one_error(text: str, error: str) -> None:
    start = time.monotonic()
    errs = errors_of(text)
    assert time.monotonic() - start < 10
    assert len(errs) == 1 and error in errs[0], errs


def test_expansion_within_the_limits_evaluates() -> None:
    db = run(doubling(8) + ".decl N(n: number)\n"
             "N(n) :- n = count : { top.a.a.a.a.a.a.a.a.R(_) }.\n")
    assert db.tuples("N") == {(1,)}
    assert len(db.program.declarations) == 256 + 1
