"""Incremental evaluation: facts added in random batches, ``run()`` after each, give the same
relations as one run over all the facts, and every derived tuple can still be explained."""

from __future__ import annotations

import lang
from hypothesis import given, settings
from hypothesis import strategies as st
from lang import Spec

from guestinspect.datalog import Database, Program
from guestinspect.datalog.explain import Derivation

from .common import SETTINGS, programs, run_ours


def leaves_are_base_facts(d: Derivation, spec: Spec) -> bool:
    if d.rule_text is None:
        return d.tuple in spec.facts.get(d.relation, [])
    return all(leaves_are_base_facts(c, spec) for c in d.children)


@settings(max_examples=100, **SETTINGS)
@given(spec=programs(), data=st.data())
def test_batches_equal_one_run(spec: Spec, data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 5), label="batches")
    which = {rel: [data.draw(st.integers(0, n - 1)) for _ in tuples]
             for rel, tuples in spec.facts.items()}
    db = Database(Program.from_text(lang.to_souffle(spec), filename="<random>"))
    for k in range(n):
        for rel, tuples in spec.facts.items():
            db.add_facts(rel, [t for t, b in zip(tuples, which[rel], strict=True) if b == k])
        db.run()
    expected = run_ours(spec)
    got = {rel: db.tuples(rel) for rel in spec.outputs}
    assert got == expected, lang.to_souffle(spec)
    for rel in spec.outputs:
        for t in got[rel]:
            d = db.explain(rel, t)
            assert d is not None and leaves_are_base_facts(d, spec), (rel, t)
