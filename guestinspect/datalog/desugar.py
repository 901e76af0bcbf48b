"""Rewrite Soufflé conveniences into the core language, before the static checks.

- ``range(lo, hi[, step])`` in an expression becomes an atom of a hidden Python relation
  (``range.bbf`` / ``range.bbbf``) that yields the values, bound to a fresh variable: the
  generator is the functor's only non-functional part, so it joins like any relation.
- ``!(a, b, ...)``, a negated conjunction, becomes ``!aux(v...)`` with a rule
  ``aux(v...) :- a, b, ...`` over the conjunction's variables that the rest of the rule also
  uses (a hidden relation, one per negated conjunction).
- An ``eqrel`` relation gets the rules that close it under reflexivity, symmetry and
  transitivity (Soufflé stores it as a union-find; here the pairs are materialised, which is
  what ``.output`` writes anyway, under the same tuple limit as any relation).

The names of hidden relations contain a character no Soufflé name can (``.``), so they
cannot collide with the program's. Each rewrite is linear in the size of the rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from .independent import hoist_independent
from .limits import LimitExceeded
from .parser import SUBSUMES, expand_disjunctions
from .records import rewrite_records
from .syntax import (
    Aggregate,
    Atom,
    BinOp,
    Call,
    Column,
    Comparison,
    Constraint,
    Declaration,
    Disjunction,
    Expr,
    Literal,
    Location,
    Module,
    NegatedGroup,
    Negation,
    Rule,
    UnOp,
    Var,
    Wildcard,
    walk,
)

Generator = Callable[..., Iterator[tuple[object, ...]]]

#: The number of values one ``range`` call may yield; more stops the evaluation in the rule.
MAX_RANGE_VALUES = 2_000_000


def _range(lo: object, hi: object, step: object = None) -> Iterator[tuple[object, ...]]:
    """Soufflé's ``range``: from ``lo`` towards ``hi`` (excluded) by ``step``; without a step,
    by 1 or -1 as ``hi`` lies above or below; a step pointing away from ``hi`` (or 0) yields
    nothing."""
    if not all(isinstance(v, int | float) for v in (lo, hi)) or (
            step is not None and not isinstance(step, int | float)):
        return
    assert isinstance(lo, int | float) and isinstance(hi, int | float)
    if step is None:
        step = 1 if lo <= hi else -1
    assert isinstance(step, int | float)
    if step == 0 or (step > 0 and lo > hi) or (step < 0 and lo < hi):
        return
    for i in range(MAX_RANGE_VALUES + 1):
        x = lo + i * step
        if (step > 0 and x >= hi) or (step < 0 and x <= hi):
            return
        if i == MAX_RANGE_VALUES:
            raise LimitExceeded(f"range({lo}, {hi}, {step}) yields more than "
                                f"{MAX_RANGE_VALUES} values")
        yield (x,)


@dataclass
class Hidden:
    """What the rewrites add: relations computed by Python (name -> (function, modes))."""

    python: dict[str, tuple[Generator, str]] = field(default_factory=dict)
    declarations: list[Declaration] = field(default_factory=list)  # of those, if typed
    errors: list[str] = field(default_factory=list)  # what cannot be rewritten


RANGE_RELATIONS = {2: "range.bbf", 3: "range.bbbf"}


class _Rewriter:
    def __init__(self, module: Module, hidden: Hidden) -> None:
        self.module = module
        self.hidden = hidden
        self.fresh = 0
        self.types = {(d.name, i): c.type for d in module.declarations
                      for i, c in enumerate(d.columns)}
        self.current: Rule | None = None
        self.pending: list[Rule] = []
        self.new_decls: list[Declaration] = []

    def new_var(self, prefix: str, loc: Location) -> Var:
        self.fresh += 1
        return Var(f"{prefix}.{self.fresh}", loc)

    # ---- range ---------------------------------------------------------------------------
    def expr(self, e: Expr, pre: list[Literal]) -> Expr:
        """``e`` with each ``range(...)`` replaced by a fresh variable bound in ``pre``."""
        if isinstance(e, BinOp):
            return replace(e, left=self.expr(e.left, pre), right=self.expr(e.right, pre))
        if isinstance(e, UnOp):
            return replace(e, arg=self.expr(e.arg, pre))
        if isinstance(e, Aggregate):
            return replace(e, body=self.body(e.body))
        if not isinstance(e, Call):
            return e
        args = tuple(self.expr(a, pre) for a in e.args)
        if e.user or e.name != "range" or len(args) not in RANGE_RELATIONS:
            return replace(e, args=args)
        name = RANGE_RELATIONS[len(args)]
        self.hidden.python[name] = (_range, "b" * len(args) + "f")
        v = self.new_var("range", e.loc)
        pre.append(Atom(name, (*args, v), e.loc))
        return v

    # ---- bodies --------------------------------------------------------------------------
    def body(self, lits: tuple[Literal, ...]) -> tuple[Literal, ...]:
        out: list[Literal] = []
        for lit in lits:
            if isinstance(lit, Disjunction) and len(lit.alternatives) == 1:
                out.extend(self.body(lit.alternatives[0]))  # a comparison chain
                continue
            pre: list[Literal] = []
            new = self.literal(lit, pre)
            out.extend(pre)
            out.append(new)
        return tuple(out)

    # ---- negated conjunctions ------------------------------------------------------------
    def negated_group(self, group: NegatedGroup) -> Literal:
        """``!(alternatives)`` as ``!aux(shared...)`` with one ``aux`` rule per alternative."""
        rule = self.current
        assert rule is not None
        rest = _names([rule.head], exclude=group) | _names(rule.body, exclude=group)
        shared = sorted(_names(group.alternatives) & rest)
        self.fresh += 1
        name = f"not.{self.fresh}"
        loc = group.loc
        columns = [Column(v, self.var_type(v, rule), loc) for v in shared]
        self.new_decls.append(Declaration(name, columns, loc))
        head = Atom(name, tuple(Var(v, loc) for v in shared), loc)
        guard = tuple(lit for lit in rule.body if isinstance(lit, Atom)
                      and _names([lit]) & set(shared))
        for alt in group.alternatives:
            for conj in expand_disjunctions(alt):
                bound = _atom_vars(conj)
                body = conj if set(shared) <= bound else (*guard, *conj)
                self.pending.append(Rule(head, body, rule.loc, rule.text))
        return Negation(head, loc)

    def var_type(self, var: str, rule: Rule) -> str:
        """The declared type of a column where ``var`` is an argument (``number`` if none)."""
        for atom in _atoms([rule.head, *rule.body]):
            for i, a in enumerate(atom.args):
                if isinstance(a, Var) and a.name == var and (atom.relation, i) in self.types:
                    return self.types[(atom.relation, i)]
        return "number"

    def literal(self, lit: Literal, pre: list[Literal]) -> Literal:
        if isinstance(lit, Atom):
            return replace(lit, args=tuple(self.expr(a, pre) for a in lit.args))
        if isinstance(lit, Negation):
            return replace(lit, atom=replace(
                lit.atom, args=tuple(self.expr(a, pre) for a in lit.atom.args)))
        if isinstance(lit, Comparison):
            return replace(lit, left=self.expr(lit.left, pre), right=self.expr(lit.right, pre))
        if isinstance(lit, Constraint):
            return replace(lit, args=tuple(self.expr(a, pre) for a in lit.args))
        if isinstance(lit, Disjunction):
            return replace(lit, alternatives=tuple(self.body(alt)
                                                   for alt in lit.alternatives))
        if isinstance(lit, NegatedGroup):
            return self.negated_group(lit)
        return lit

    def rule(self, rule: Rule) -> Rule:
        outer, self.current = self.current, rule
        pre: list[Literal] = []
        head = replace(rule.head, args=tuple(self.expr(a, pre) for a in rule.head.args))
        out = replace(rule, head=head, body=(*pre, *self.body(rule.body)))
        self.current = outer
        return out

    def rules(self, rules: list[Rule]) -> list[Rule]:
        """Every rule rewritten, then the auxiliary rules the rewrites made (rewritten too)."""
        out = [self.rule(r) if needs_rewrite(r) else r for r in rules]
        while self.pending:
            todo, self.pending = self.pending, []
            out.extend(self.rule(r) for r in todo)
        return out


def _names(node: object, exclude: object = None) -> set[str]:
    return {n.name for n in walk(node, exclude=exclude) if isinstance(n, Var)}


def _atoms(node: object) -> Iterator[Atom]:
    return (n for n in walk(node) if isinstance(n, Atom))


def _atom_vars(conj: tuple[Literal, ...]) -> set[str]:
    """Variables that a positive atom of the conjunction binds."""
    return {a.name for lit in conj if isinstance(lit, Atom) for a in lit.args
            if isinstance(a, Var)}


SUGAR = re.compile(r"\brange\b|!\s*[(!]|[<>=]\s*[^,;:]*?[<>=]")


def needs_rewrite(rule: Rule) -> bool:
    """Whether a rule may use a convenience (most rules do not: they are left as they are).
    The text is the clause as written: a ``range``, a ``!`` before ``(`` or ``!``, or two
    comparisons without a comma between them (a chain)."""
    return SUGAR.search(rule.text) is not None


def uses_sugar(module: Module) -> bool:
    return any(needs_rewrite(r) for r in module.rules)


def eqrel_rules(decl: Declaration) -> list[Rule]:
    """The rules that make a binary relation an equivalence: every value it mentions is
    equal to itself, and the pairs are symmetric and transitive."""
    loc, name = decl.loc, decl.name
    x, y, z = (Var(v, loc) for v in ("x", "y", "z"))
    any_ = Wildcard(loc)

    def atom(a: Var, b: Var | Wildcard) -> Atom:
        return Atom(name, (a, b), loc)

    text = f".decl {name} eqrel"
    return [Rule(atom(x, x), (atom(x, any_),), loc, text),
            Rule(atom(y, x), (atom(x, y),), loc, text),
            Rule(atom(x, z), (atom(x, y), atom(y, z)), loc, text)]


def subsumption(module: Module, errors: list[str]) -> Module:
    """``R(a) <= R(b) :- body``: R keeps only the tuples no other tuple subsumes. R's rules
    derive ``R.all`` (recursion reads it too), ``R.dominated`` holds the subsumed tuples and
    ``R(x) :- R.all(x), !R.dominated(x)``. A recursive R is an error (Soufflé prunes
    between iterations: without that, the longer paths of a shortest-path program have no
    end)."""
    marks = [r for r in module.rules if r.body and isinstance(r.body[0], Atom)
             and r.body[0].relation == SUBSUMES]
    if not marks:
        return module
    columns = {d.name: d.columns for d in module.declarations}
    for r in marks:
        cols = columns.get(r.head.relation)
        if cols is None:
            errors.append(f"{r.head.loc}: undeclared relation '{r.head.relation}'")
        elif len(r.head.args) != 2 * len(cols):
            errors.append(f"{r.head.loc}: relation '{r.head.relation}' has {len(cols)} "
                          f"columns, but the subsumption compares tuples of "
                          f"{len(r.head.args) // 2}")
    names = {r.head.relation for r in marks}
    mark_ids = {id(r) for r in marks}
    rules: list[Rule] = []
    for r in module.rules:
        if id(r) in mark_ids:
            rules.extend(dominated_rules(replace(r, body=r.body[1:])))
            continue
        head = r.head
        if head.relation in names:
            if any(isinstance(lit, Atom) and lit.relation == head.relation for lit in r.body):
                errors.append(f"{r.loc}: unsupported: subsumption of a recursive relation "
                              f"('{head.relation}' reads itself)")
            r = replace(r, head=replace(head, relation=f"{head.relation}.all"))
        rules.append(r)
    decls = list(module.declarations)
    for name in sorted(names & set(columns)):
        loc = next(d.loc for d in module.declarations if d.name == name)
        xs = tuple(Var(f"x{i}", loc) for i in range(len(columns[name])))
        decls.append(Declaration(f"{name}.all", list(columns[name]), loc))
        decls.append(Declaration(f"{name}.dominated", list(columns[name]), loc))
        rules.append(Rule(Atom(name, xs, loc), (Atom(f"{name}.all", xs, loc), Negation(
            Atom(f"{name}.dominated", xs, loc), loc)), loc, f"{name}: subsumption"))
    return replace(module, rules=rules, declarations=decls)


def _read_all(lit: Literal, name: str) -> Literal:
    """A subsumption's condition reads every tuple of the relation (``R.all``)."""
    if isinstance(lit, Atom) and lit.relation == name:
        return replace(lit, relation=f"{name}.all")
    if isinstance(lit, Negation) and lit.atom.relation == name:
        return replace(lit, atom=replace(lit.atom, relation=f"{name}.all"))
    return lit


def dominated_rules(mark: Rule) -> list[Rule]:
    """The rules of ``R.dominated`` for one ``R(a) <= R(b) :- body``: a is dominated when b
    holds too, differs from a, and the body holds (one rule per column they may differ in)."""
    name = mark.head.relation
    n = len(mark.head.args) // 2
    a, b = mark.head.args[:n], mark.head.args[n:]
    loc = mark.loc
    out = []
    conditions = tuple(_read_all(lit, name) for lit in mark.body)
    for i in range(n):
        body = (Atom(f"{name}.all", a, loc), Atom(f"{name}.all", b, loc), *conditions,
                Comparison("!=", a[i], b[i], loc))
        out.append(Rule(Atom(f"{name}.dominated", a, loc), body, loc, mark.text))
    return out


def desugar(module: Module) -> tuple[Module, Hidden]:
    """The module with its conveniences rewritten, and the hidden relations they use."""
    hidden = Hidden()
    closure = [r for d in module.eqrel if len(d.columns) == 2 for r in eqrel_rules(d)]
    if closure:
        module = replace(module, rules=[*module.rules, *closure])
    if module.inline:
        from .inline import inline_relations  # here, not at the top: start-up time
        module = inline_relations(module, set(module.inline))
    module = subsumption(module, hidden.errors)
    module = rewrite_records(module, hidden.python, hidden.declarations)
    if uses_sugar(module):
        rw = _Rewriter(module, hidden)
        module = replace(module, rules=rw.rules(module.rules),
                         declarations=[*module.declarations, *rw.new_decls])
    module = hoist_independent(module)
    typed = {d.name for d in hidden.declarations}
    loc = Location("<range>", 1, 1)
    for name, (_fn, modes) in hidden.python.items():
        if name not in typed:
            hidden.declarations.append(Declaration(name, [Column(f"c{i}", "number", loc)
                                                          for i in range(len(modes))], loc))
    if hidden.declarations:
        module = replace(module, declarations=[*module.declarations, *hidden.declarations])
    return module, hidden
