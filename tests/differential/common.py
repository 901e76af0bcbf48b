"""What the differential tests share: the random program generator and our evaluation.

Programs are generated over three input relations (``e``, ``f``: pairs, ``u``: singletons, all
numbers 0-5) and five derived ones in three strata: ``p0``/``p1`` (pairs, stratum 0, often
recursive: transitive closure left/right/non-linear, mutual recursion), ``p2``/``p3`` (stratum
1) and ``p4`` (stratum 2). A rule has 1-3 positive atoms (variables, constants, ``_``),
optionally a negated atom over a lower stratum and a comparison.
"""

from __future__ import annotations

from typing import Any

import lang
from hypothesis import HealthCheck
from hypothesis import strategies as st
from lang import Cmp, Lit, Rule, Spec, V

from guestinspect.datalog import Database, Program

DOMAIN = range(6)
EDB = {"e": 2, "f": 2, "u": 1}
STRATUM = {"p0": 0, "p1": 0, "p2": 1, "p3": 1, "p4": 2}
VARS = [V("A"), V("B"), V("C"), V("D")]
A, B, C = VARS[:3]

TEMPLATES: dict[str, list[Rule]] = {
    "tc-left": [Rule(Lit("p0", (A, B)), (Lit("e", (A, B)),)),
                Rule(Lit("p0", (A, C)), (Lit("p0", (A, B)), Lit("e", (B, C))))],
    "tc-right": [Rule(Lit("p0", (A, B)), (Lit("f", (A, B)),)),
                 Rule(Lit("p0", (A, C)), (Lit("f", (A, B)), Lit("p0", (B, C))))],
    "tc-nonlinear": [Rule(Lit("p1", (A, B)), (Lit("e", (A, B)),)),
                     Rule(Lit("p1", (A, C)), (Lit("p1", (A, B)), Lit("p1", (B, C))))],
    "mutual": [Rule(Lit("p0", (A, B)), (Lit("e", (A, B)),)),
               Rule(Lit("p1", (A, C)), (Lit("p0", (A, B)), Lit("f", (B, C)))),
               Rule(Lit("p0", (A, C)), (Lit("p1", (A, B)), Lit("e", (B, C))))],
}


@st.composite
def programs(draw: st.DrawFn) -> Spec:
    arity = {"p0": 2, "p1": 2}
    for p in ("p2", "p3", "p4"):
        arity[p] = draw(st.integers(1, 2))
    arity.update(EDB)
    rules: list[Rule] = []
    for name in draw(st.lists(st.sampled_from(sorted(TEMPLATES)), max_size=2, unique=True)):
        rules.extend(TEMPLATES[name])
    heads = list(STRATUM)
    # every derived relation gets at least one rule (pyDatalog rejects undefined predicates)
    heads += draw(st.lists(st.sampled_from(list(STRATUM)), max_size=4))
    for head in heads:
        rules.append(draw(rule_for(head, arity)))
    facts = {
        rel: sorted(draw(st.sets(st.tuples(*[st.sampled_from(DOMAIN)] * n), max_size=10)))
        for rel, n in EDB.items()
    }
    return Spec(
        name="random",
        types={rel: ("number",) * n for rel, n in arity.items()},
        facts={rel: list(t) for rel, t in facts.items()},
        rules=rules,
        outputs=list(STRATUM),
    )


def _term(draw: st.DrawFn, allowed: list[V], wildcard: bool) -> lang.Term:
    kind = draw(st.sampled_from(["var"] * 6 + ["const"] + (["_"] if wildcard else [])))
    if kind == "const" or not allowed:
        return draw(st.sampled_from(DOMAIN))
    if kind == "_":
        return V("_")
    return draw(st.sampled_from(allowed))


@st.composite
def rule_for(draw: st.DrawFn, head: str, arity: dict[str, int]) -> Rule:
    level = STRATUM[head]
    pos_rels = sorted(EDB) + [p for p, s in STRATUM.items() if s <= level]
    neg_rels = sorted(EDB) + [p for p, s in STRATUM.items() if s < level]
    body: list[lang.BodyItem] = []
    for _ in range(draw(st.integers(1, 3))):
        rel = draw(st.sampled_from(pos_rels))
        body.append(Lit(rel, tuple(_term(draw, VARS, True) for _ in range(arity[rel]))))
    bound = sorted(lang.rel_vars(a for b in body if isinstance(b, Lit) for a in b.args)
                   - {"_"})
    bound_vars = [V(n) for n in bound]
    if draw(st.booleans()):
        rel = draw(st.sampled_from(neg_rels))
        body.append(Lit(rel, tuple(_term(draw, bound_vars, False) for _ in range(arity[rel])),
                        neg=True))
    if bound_vars and draw(st.booleans()):
        op = draw(st.sampled_from(["!=", "<", "<=", ">", ">=", "="]))
        body.append(Cmp(op, draw(st.sampled_from(bound_vars)), _term(draw, bound_vars, False)))
    head_args = tuple(_term(draw, bound_vars, False) for _ in range(arity[head]))
    return Rule(Lit(head, head_args), tuple(body))


def run_ours(spec: Spec) -> lang.Result:
    """The output relations of ``spec`` by our engine, all facts added before one run."""
    db = Database(Program.from_text(lang.to_souffle(spec), filename=f"<{spec.name}>"))
    for rel, tuples in spec.facts.items():
        db.add_facts(rel, tuples)
    db.run()
    return {rel: set(db.tuples(rel)) for rel in spec.outputs}


SETTINGS: dict[str, Any] = {
    "deadline": None, "derandomize": True, "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                              HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
}
