"""The checked, normalised form of rules that the planner and code generator work on.

In a normalised body every atom argument is a variable, a constant or a wildcard (other
expressions were moved into ``=`` comparisons on fresh variables), and every aggregate was
lifted out of its expression into an :class:`AggregateLit` that binds a fresh variable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .syntax import Const, Expr, Location, Rule, Var, Wildcard

Term = Var | Const | Wildcard


@dataclass
class AtomLit:
    relation: str
    args: tuple[Term, ...]
    negated: bool
    loc: Location
    python: bool = False  # a relation computed by a registered Python function


@dataclass
class CompareLit:
    op: str
    left: Expr
    right: Expr
    loc: Location


@dataclass
class ConstraintLit:
    name: str  # contains / match
    args: tuple[Expr, ...]
    negated: bool
    loc: Location


@dataclass
class AggregateLit:
    result: str  # the fresh variable the value is bound to
    op: str
    target: Expr | None
    body: list[Lit]
    loc: Location
    outer: set[str] = field(default_factory=set)  # variables shared with the rest of the rule
    # min/max: variables bound only inside the body and used outside, taken from one tuple
    # that achieves the extremum (Soufflé's witnesses)
    witnesses: list[str] = field(default_factory=list)
    # the body is a set of distinct tuples of its variables (Soufflé materializes a body of
    # several atoms, an inner aggregate, a ``range`` or a variable repeated in its atom):
    # ``count``, ``sum`` and ``mean`` take each distinct binding of its variables once
    distinct: bool = False


Lit = AtomLit | CompareLit | ConstraintLit | AggregateLit


@dataclass
class NormRule:
    index: int  # position in the program's rule list
    head: str
    head_args: tuple[Expr, ...]
    body: list[Lit]
    source: Rule
    var_types: dict[str, str] = field(default_factory=dict)  # variable -> symbol/number/float

    def positive_atoms(self) -> list[int]:
        return [i for i, lit in enumerate(self.body)
                if isinstance(lit, AtomLit) and not lit.negated and not lit.python]


def lit_vars(lit: Lit) -> set[str]:
    """Variables a literal mentions (for an aggregate: only those shared with the rule)."""
    from .syntax import expr_vars

    if isinstance(lit, AtomLit):
        return {a.name for a in lit.args if isinstance(a, Var)}
    if isinstance(lit, CompareLit):
        return {v.name for v in expr_vars(lit.left, []) + expr_vars(lit.right, [])}
    if isinstance(lit, ConstraintLit):
        out: list[Var] = []
        for a in lit.args:
            expr_vars(a, out)
        return {v.name for v in out}
    return set(lit.outer) | {lit.result} | set(lit.witnesses)
