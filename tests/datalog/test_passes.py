"""The passes of the static checks (datalog/passes/), each on its own, and the pipeline that
runs them: what each pass finds and what it leaves for the next."""

from __future__ import annotations

import pytest

from guestinspect.datalog import Database, DatalogError, Program
from guestinspect.datalog.ir import AggregateLit, AtomLit, CompareLit
from guestinspect.datalog.limits import Limits
from guestinspect.datalog.parser import Loader
from guestinspect.datalog.passes import Context, RuleJob, check, pipeline
from guestinspect.datalog.passes.aggregates import scope_aggregates
from guestinspect.datalog.passes.declarations import check_declarations
from guestinspect.datalog.passes.lowering import lower_rule
from guestinspect.datalog.passes.references import MAX_BODY_LITERALS, check_references
from guestinspect.datalog.passes.safety import check_safety
from guestinspect.datalog.passes.types import check_types
from guestinspect.datalog.passes.witnesses import ground_witnesses
from guestinspect.datalog.syntax import Module, Var

DECLS = """
.type Name <: symbol
.type Count = number | unsigned
.decl A(x: Name, n: Count)
.decl B(x: symbol)
.decl C(n: number)
.decl F(x: float)
"""


def parse(text: str) -> Module:
    loader = Loader()
    loader.load_text(DECLS + text, "t.dl")
    assert loader.errors == []
    return loader.module


def context(text: str, modes: dict[str, str] | None = None) -> Context:
    ctx = Context(parse(text), {}, modes or {}, {})
    check_declarations(ctx)
    return ctx


def job(ctx: Context, index: int = 0) -> RuleJob:
    return RuleJob(index, ctx.module.rules[index], len(ctx.analysis.errors))


def lowered(text: str, modes: dict[str, str] | None = None) -> tuple[Context, RuleJob]:
    ctx = context(text, modes)
    j = job(ctx)
    assert check_references(ctx, j) and lower_rule(ctx, j), ctx.analysis.errors
    return ctx, j


def errors(ctx: Context) -> list[str]:
    return [e.split(": ", 1)[1] for e in ctx.analysis.errors]


# ---- declarations -------------------------------------------------------------------------

def test_declarations_resolve_types_and_columns() -> None:
    ctx = context("")
    assert ctx.analysis.errors == []
    assert ctx.analysis.types["Name"] == "symbol"
    assert ctx.analysis.types["Count"] == "number"  # number and unsigned may mix
    assert ctx.analysis.kinds == {"A": ["symbol", "number"], "B": ["symbol"],
                                  "C": ["number"], "F": ["float"]}


def test_declarations_report_cycles_twice_declared_and_unknown() -> None:
    ctx = context(".type P <: Q\n.type Q <: P\n.decl B(y: number)\n.decl D(x: Nope)\n"
                  ".output E\n.type M = symbol | number\n")
    assert errors(ctx) == [
        "type 'P' is defined in terms of itself (P -> Q -> P)",
        "type 'M' mixes symbols and numbers",
        "relation 'B' is declared twice (first at t.dl:5:7)",
        "unknown type 'Nope'",
        "undeclared relation 'E' in .output"]


def test_declarations_check_python_binding_patterns() -> None:
    ctx = context("", {"B": "bf", "C": "f"})
    assert errors(ctx) == ["Python relation 'B' has binding pattern 'bf', but it needs one "
                           "letter b or f for each of its 1 columns"]


# ---- references ---------------------------------------------------------------------------

def test_references_find_undeclared_relations_arity_and_functors() -> None:
    ctx = context('B(x) :- Z(x), A(x), x = cat(), match("(", x), @f(x) = x.\n')
    assert check_references(ctx, job(ctx))
    assert errors(ctx) == [
        "undeclared relation 'Z'",
        "relation 'A' has 2 columns, but 1 argument was given",
        "functor 'cat' takes at least 1 arguments, but 0 were given",
        "unknown functor '@f'"]
    assert [w.split(": ", 1)[1] for w in ctx.analysis.warnings] == [
        'invalid regular expression "(": missing ): ( (RE2 syntax); it matches nothing']


def test_references_stop_a_rule_too_long_to_plan() -> None:
    body = ", ".join("B(x)" for _ in range(MAX_BODY_LITERALS + 1))
    ctx = context(f"B(x) :- {body}.\n")
    assert not check_references(ctx, job(ctx))
    assert errors(ctx) == [f"this rule has {MAX_BODY_LITERALS + 1} body literals, more "
                           f"than {MAX_BODY_LITERALS}"]


# ---- lowering -----------------------------------------------------------------------------

def test_lowering_names_expressions_and_lifts_aggregates() -> None:
    _, j = lowered("C(n + 1) :- A(x, n * 2), n = count : { B(x) }.\n")
    norm = j.norm
    assert norm is not None and norm.head == "C"
    assign, atom, agg, compare = norm.body[0], norm.body[1], norm.body[2], norm.body[3]
    assert isinstance(atom, AtomLit) and atom.relation == "A"
    assert atom.args[0] == Var("x", atom.args[0].loc)
    assert isinstance(atom.args[1], Var) and atom.args[1].name.startswith("_e")
    assert isinstance(assign, CompareLit) and assign.left == atom.args[1]
    assert isinstance(agg, AggregateLit) and agg.op == "count" and agg.result.startswith("_agg")
    assert isinstance(compare, CompareLit) and isinstance(compare.right, Var)
    assert compare.right.name == agg.result


def test_lowering_drops_a_false_body_and_stops_on_errors() -> None:
    ctx = context("B(x) :- B(x), false.\nB(x) :- B(x), x < _.\n")
    first = job(ctx)
    assert not lower_rule(ctx, first) and first.norm is None and ctx.analysis.errors == []
    second = job(ctx, 1)
    assert not lower_rule(ctx, second)
    assert errors(ctx) == ["wildcard '_' in a '<' comparison"]


# ---- aggregate scopes ---------------------------------------------------------------------

def test_aggregates_find_inputs_and_witnesses() -> None:
    ctx, j = lowered("A(y, m) :- B(x), m = min n : { A(x, n), A(y, n) }.\n")
    assert scope_aggregates(ctx, j)
    agg = next(lit for lit in j.norm.body if isinstance(lit, AggregateLit))  # type: ignore[union-attr]
    assert agg.outer == {"x"} and agg.witnesses == ["y"]
    assert ctx.analysis.errors == []


def test_aggregates_refuse_a_witness_of_count() -> None:
    ctx, j = lowered("B(y) :- k = count : { A(y, _) }, C(k).\n")
    scope_aggregates(ctx, j)
    assert errors(ctx) == ["unsupported: aggregate witness variable 'y' (bound only inside a "
                           "count aggregate)"]


# ---- witnesses of nested aggregates -------------------------------------------------------

def test_witnesses_of_a_nested_min_are_grounded_in_the_rule() -> None:
    ctx, j = lowered("A(y, k) :- k = count : { C(n), n > min m : { A(y, m) } }.\n")
    assert ground_witnesses(ctx, j) and ctx.analysis.errors == []
    assert j.norm is not None
    count, _, copy, grounding = j.norm.body  # the count, k = count, the copy, A(y, min)
    assert isinstance(count, AggregateLit) and isinstance(copy, AggregateLit)
    nested = next(lit for lit in count.body if isinstance(lit, AggregateLit))
    inner = nested.body[0]  # A(y', m): the witness renamed, local to the nested min
    assert isinstance(inner, AtomLit) and isinstance(inner.args[0], Var)
    assert inner.args[0].name not in ("y", "m")
    # the rule: A(y, <the min>) with the copy's value, the copy itself all local
    assert isinstance(grounding, AtomLit) and grounding.relation == "A"
    assert [a.name for a in grounding.args] == ["y", copy.result]  # type: ignore[union-attr]
    copy_vars = {a.name for lit in copy.body for a in lit.args}  # type: ignore[union-attr]
    assert "y" not in copy_vars and copy.op == "min"
    # the count then has no witness left, and the rule is safe
    assert scope_aggregates(ctx, j) and check_safety(ctx, j) and ctx.analysis.errors == []
    assert count.witnesses == [] and count.outer == set()


def test_witnesses_of_a_nested_count_or_of_one_using_outer_variables_are_refused() -> None:
    ctx, j = lowered("B(x) :- k = count : { C(n), n > count : { A(x, _) } }, C(k).\n")
    assert not ground_witnesses(ctx, j)
    assert errors(ctx) == ["unsupported: aggregate witness variable 'x' (bound only inside a "
                           "count aggregate)"]
    ctx, j = lowered("B(x) :- k = count : { C(n), n > min m : { A(x, m), C(n) } }, C(k).\n")
    assert not ground_witnesses(ctx, j)
    assert errors(ctx) == ["unsupported: witness variable 'x' of an aggregate that is nested "
                           "in another and uses its variables or holds an aggregate"]


def test_lowering_marks_the_aggregates_souffle_materializes() -> None:
    def distinct(body: str) -> bool:
        ctx, j = lowered(f"C(k) :- k = count : {{ {body} }}.\n")
        assert j.norm is not None
        agg = next(lit for lit in j.norm.body if isinstance(lit, AggregateLit))
        return agg.distinct

    assert not distinct("A(x, _)") and not distinct("A(x, _), x != \"a\"")
    assert not distinct("A(_, n), !C(n)")
    assert distinct("A(x, _), B(x)") and distinct("A(x, n), n = x + 1, A(x, n)")
    assert distinct("A(_, n), n < min m : { C(m) }") and distinct("C(n), C(m), n < m")
    assert distinct("A(x, x)")  # (lowering checks no types)


# ---- safety -------------------------------------------------------------------------------

def test_safety_reports_each_unsafe_variable_once_per_part() -> None:
    ctx, j = lowered("A(x, n) :- !B(x), y < n, x = y.\n")
    scope_aggregates(ctx, j)
    assert check_safety(ctx, j)
    assert errors(ctx) == [
        "unsafe variable 'x' in the negation !B(...): it is not bound by a positive body atom",
        "unsafe variable 'y' in a comparison: it is not bound by a positive body atom",
        "unsafe variable 'n' in a comparison: it is not bound by a positive body atom",
        "unsafe variable 'x' in the head: it is not bound by a positive body atom",
        "unsafe variable 'n' in the head: it is not bound by a positive body atom"]


def test_safety_needs_python_inputs_bound() -> None:
    ctx, j = lowered("C(n) :- B(x), A(y, n).\n", {"A": "bf"})
    scope_aggregates(ctx, j)
    check_safety(ctx, j)
    assert errors(ctx) == ["Python relation 'A' needs argument 1 bound, but 'y' is not bound"]


# ---- types --------------------------------------------------------------------------------

def test_types_infer_variable_kinds() -> None:
    ctx, j = lowered("F(f) :- A(x, n), y = cat(x, \"!\"), f = to_float(y), u = 2u.\n")
    assert check_types(ctx, j) and ctx.analysis.errors == []
    assert j.norm is not None
    assert {k: v for k, v in j.norm.var_types.items() if not k.startswith("_")} == {
        "x": "symbol", "n": "number", "y": "symbol", "f": "float", "u": "unsigned"}


def test_types_report_mismatches() -> None:
    ctx, j = lowered('C(x) :- A(x, n), B(n), n < "a", y = -x, contains(n, x), C(y).\n')
    check_types(ctx, j)
    assert errors(ctx) == [
        "type mismatch: variable 'n' is a number in A but a symbol in B",
        "type mismatch: cannot compare a number with a symbol using '<'",
        "type mismatch: operator '-' on a symbol",
        "type mismatch: cannot compare a number with a symbol using '='",
        "type mismatch: contains() needs symbols, but got a number",
        "type mismatch: column 'n' of C is a number, but variable 'x' is a symbol"]


# ---- the pipeline -------------------------------------------------------------------------

def test_pipeline_keeps_only_rules_without_errors_in_source_order() -> None:
    analysis = check(parse("B(x) :- B(x), C(x).\nB(\"a\").\nC(1) :- B(x), x = 1.\n"
                           "C(n) :- A(_, n).\n"), {}, {})
    assert [r.index for r in analysis.rules] == [1, 3]
    assert [e.split(": ", 1)[1] for e in analysis.errors] == [
        "type mismatch: variable 'x' is a symbol in B but a number in C",
        "type mismatch: cannot compare a symbol with a number using '='"]


def test_a_new_pass_is_one_entry_in_the_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_b_heads(ctx: Context, j: RuleJob) -> bool:
        if j.norm is not None and j.norm.head == "B":
            ctx.error(j.rule.loc, "no rules for B, please")
        return True

    def one_more_fact(module: Module, limits: Limits) -> tuple[Module, list[str]]:
        extra = parse('C(7).\n').rules[0]
        module.rules.append(extra)
        return module, []

    monkeypatch.setattr(pipeline, "RULE_PASSES", [*pipeline.RULE_PASSES, no_b_heads])
    monkeypatch.setattr(pipeline, "TRANSFORMS", [*pipeline.TRANSFORMS, one_more_fact])
    program = Program.from_text(DECLS + "C(1).\n", filename="t.dl")
    db = Database(program)
    db.run()
    assert db.tuples("C") == {(1,), (7,)}
    with pytest.raises(DatalogError) as e:
        Program.from_text(DECLS + 'B("x").\n', filename="t.dl")
    assert e.value.errors == ["t.dl:8:1: no rules for B, please"]
