"""One derivation tree of a known tuple (:meth:`Database.explain`), found by a depth-first
search over the rules that derive it, without recursion: a proof thousands of levels deep
needs no raised recursion limit.

A goal is proved by a base fact, or by a rule instance whose positive body tuples are all
proved in turn; within a recursive stratum a body tuple must have been derived in an earlier
round than the goal, so the search never loops. A goal once proved is remembered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .explain import Derivation
from .ir import AtomLit, NormRule
from .relation import Row

#: A rule's explainer (codegen.compile_explainer): goal -> body tuples, and the atoms.
Explainer = tuple[Callable[..., Iterator[tuple[Row, ...]]], list[AtomLit]]


@dataclass
class _Goal:
    relation: str
    row: Row
    members: set[str]  # the relations of its stratum, when recursive
    mine: int  # the round that derived it
    rules: Iterator[NormRule]
    rule: NormRule | None = None
    atoms: list[AtomLit] = field(default_factory=list)
    instances: Iterator[tuple[Row, ...]] = field(default_factory=lambda: iter(()))
    witnesses: tuple[Row, ...] | None = None  # the instance being proved
    children: list[Derivation] = field(default_factory=list)


class Prover:
    """The derivation search over one database: ``base`` facts by relation, the rules by
    head, ``recursive(relation)`` (its stratum's relations, or an empty set), ``rank`` (the
    round that derived a tuple) and ``explainer`` (a rule's compiled explainer)."""

    def __init__(self, base: dict[str, set[Row]], rules_by_head: dict[str, list[NormRule]],
                 recursive: Callable[[str], set[str]], rank: Callable[[str, Row], int],
                 explainer: Callable[[NormRule], Explainer]) -> None:
        self.base = base
        self.rules_by_head = rules_by_head
        self.recursive = recursive
        self.rank = rank
        self.explainer = explainer
        self.memo: dict[tuple[str, Row], Derivation] = {}

    def known(self, relation: str, row: Row) -> Derivation | None:
        """A derivation without search: remembered, or a base fact."""
        d = self.memo.get((relation, row))
        if d is None and row in self.base[relation]:
            d = self.memo[(relation, row)] = Derivation(relation, row, None, None, [])
        return d

    def goal(self, relation: str, row: Row) -> _Goal:
        members = self.recursive(relation)
        mine = self.rank(relation, row) if members else 0
        return _Goal(relation, row, members, mine,
                     iter(self.rules_by_head.get(relation, [])))

    def prove(self, relation: str, row: Row) -> Derivation | None:
        found = self.known(relation, row)
        if found is not None:
            return found
        stack = [self.goal(relation, row)]
        answer: Derivation | None = None
        returned = False  # a sub-goal just finished, with ``answer``
        while stack:
            g = stack[-1]
            if returned:
                returned = False
                if answer is None:
                    g.witnesses = None  # a body tuple has no proof: the next instance
                else:
                    g.children.append(answer)
            step = self.advance(g)
            if isinstance(step, _Goal):
                stack.append(step)
                continue
            stack.pop()
            answer, returned = step, True
        return answer

    def advance(self, g: _Goal) -> _Goal | Derivation | None:
        """Go on with ``g``: a sub-goal to prove first, or ``g``'s derivation (None: none)."""
        while True:
            if g.witnesses is None and not self.next_instance(g):
                return None
            assert g.witnesses is not None and g.rule is not None
            while len(g.children) < len(g.atoms):
                a, w = g.atoms[len(g.children)], g.witnesses[len(g.children)]
                if a.python:
                    g.children.append(Derivation(a.relation, w, "computed by Python", None))
                    continue
                child = self.known(a.relation, w)
                if child is None:
                    return self.goal(a.relation, w)
                g.children.append(child)
            return self.finish(g)

    def next_instance(self, g: _Goal) -> bool:
        """Move ``g`` to its next rule instance whose body tuples are older than it."""
        while True:
            for witnesses in g.instances:
                if not any(a.relation in g.members and self.rank(a.relation, w) >= g.mine
                           for a, w in zip(g.atoms, witnesses, strict=True)):
                    g.witnesses, g.children = witnesses, []
                    return True
            rule = next(g.rules, None)
            if rule is None:
                return False
            g.rule = rule
            fn, g.atoms = self.explainer(rule)
            g.instances = iter(fn(g.row))

    def finish(self, g: _Goal) -> Derivation:
        """``g``'s derivation, its children in the order of the rule's body."""
        assert g.rule is not None
        position = {id(lit): i for i, lit in enumerate(g.rule.body)}
        order = sorted(range(len(g.atoms)), key=lambda k: position[id(g.atoms[k])])
        d = Derivation(g.relation, g.row, g.rule.source.text, str(g.rule.source.loc),
                       [g.children[k] for k in order])
        self.memo[(g.relation, g.row)] = d
        return d
