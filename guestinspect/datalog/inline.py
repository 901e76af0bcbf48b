"""Relations declared ``inline``: their rules are substituted where they are used.

``.decl Pair(x: number, y: number) inline`` with ``Pair(x, y) :- Nat(x), Nat(y).`` makes
``Q(x) :- Pair(x, x), x < 2.`` read ``Q(x) :- Nat(x), Nat(x), x < 2.``: the relation itself
(here 10^8 pairs) is never computed. One rule per combination of the inlined relations'
rules; a relation's head is unified with the call (a head variable takes the argument, a
repeated variable or an expression becomes an ``=``). Not inlined, and computed as usual: a
recursive inline relation, one that is negated or aggregated, and a rule whose combinations
would exceed the limit of rules per clause; nothing, if the program would exceed
``MAX_TOTAL_RULES``. Inline relations that use inline relations are
expanded too, at most ``MAX_ROUNDS`` deep.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from .syntax import (
    Aggregate,
    Atom,
    BinOp,
    Call,
    Comparison,
    Constraint,
    Disjunction,
    Expr,
    Literal,
    Module,
    NegatedGroup,
    Negation,
    Rule,
    UnOp,
    Var,
    Wildcard,
    walk,
)

MAX_ROUNDS = 8
#: The rules a program may have once inlined (and at most ten times its own plus 10,000),
#: else nothing is inlined.
MAX_TOTAL_RULES = 100_000


def _expr(e: Expr, names: dict[str, Expr]) -> Expr:
    if isinstance(e, Var):
        return names.get(e.name, e)
    if isinstance(e, BinOp):
        return replace(e, left=_expr(e.left, names), right=_expr(e.right, names))
    if isinstance(e, UnOp):
        return replace(e, arg=_expr(e.arg, names))
    if isinstance(e, Call):
        return replace(e, args=tuple(_expr(a, names) for a in e.args))
    if isinstance(e, Aggregate):
        target = None if e.target is None else _expr(e.target, names)
        return replace(e, target=target, body=tuple(_lit(x, names) for x in e.body))
    return e


def _lit(lit: Literal, names: dict[str, Expr]) -> Literal:
    if isinstance(lit, Atom):
        return replace(lit, args=tuple(_expr(a, names) for a in lit.args))
    if isinstance(lit, Negation):
        return replace(lit, atom=replace(lit.atom, args=tuple(_expr(a, names)
                                                              for a in lit.atom.args)))
    if isinstance(lit, Comparison):
        return replace(lit, left=_expr(lit.left, names), right=_expr(lit.right, names))
    if isinstance(lit, Constraint):
        return replace(lit, args=tuple(_expr(a, names) for a in lit.args))
    if isinstance(lit, Disjunction | NegatedGroup):
        return replace(lit, alternatives=tuple(tuple(_lit(x, names) for x in alt)
                                               for alt in lit.alternatives))
    return lit


def _vars_of(rule: Rule) -> set[str]:
    return {n.name for n in walk(rule.head, *rule.body) if isinstance(n, Var)}


class _Inliner:
    def __init__(self, rules_of: dict[str, list[Rule]], max_rules: int) -> None:
        self.rules_of = rules_of
        self.max_rules = max_rules
        self.fresh = 0

    def instance(self, rule: Rule, call: Atom) -> tuple[Literal, ...]:
        """The body of ``rule`` with its head unified with ``call`` (variables renamed)."""
        self.fresh += 1
        suffix = f".inl{self.fresh}"
        names: dict[str, Expr] = {v: Var(v + suffix, call.loc) for v in _vars_of(rule)}
        extra: list[Literal] = []
        taken: set[str] = set()
        for h, t in zip(rule.head.args, call.args, strict=True):
            if isinstance(t, Wildcard):
                continue
            if isinstance(h, Var) and h.name not in taken:
                taken.add(h.name)
                names[h.name] = t if isinstance(t, Var) or not isinstance(
                    t, BinOp | UnOp | Call | Aggregate) else names[h.name]
                if names[h.name] is not t:
                    extra.append(Comparison("=", names[h.name], t, call.loc))
                continue
            extra.append(Comparison("=", _expr(h, names), t, call.loc))
        return (*(_lit(x, names) for x in rule.body), *extra)

    def rule(self, rule: Rule, inline: set[str]) -> list[Rule] | None:
        """The rules ``rule`` becomes (None: nothing to inline, or too many)."""
        choices: list[list[tuple[Literal, ...]]] = []
        count = 1
        for lit in rule.body:
            if isinstance(lit, Atom) and lit.relation in inline:
                defs = self.rules_of.get(lit.relation, [])
                choices.append([self.instance(r, lit) for r in defs])
                count *= len(defs)
            else:
                choices.append([(lit,)])
        if all(len(c) == 1 and len(c[0]) == 1 and c[0][0] is lit
               for c, lit in zip(choices, rule.body, strict=True)):
            return None
        if count > self.max_rules:
            return None
        return [replace(rule, body=tuple(itertools.chain.from_iterable(combo)))
                for combo in itertools.product(*choices)]


def _blocked(module: Module, inline: set[str]) -> set[str]:
    """Inline relations that must be computed: recursive, negated or aggregated ones."""
    blocked: set[str] = set()
    for r in module.rules:
        if r.head.relation in inline and any(
                isinstance(x, Atom) and x.relation == r.head.relation for x in r.body):
            blocked.add(r.head.relation)
        stack: list[object] = list(r.body)
        while stack:
            n = stack.pop()
            if isinstance(n, Negation) and n.atom.relation in inline:
                blocked.add(n.atom.relation)
            elif isinstance(n, Aggregate):
                blocked |= {x.relation for x in n.body if isinstance(x, Atom)} & inline
                stack.extend(n.body)
            elif isinstance(n, Comparison):
                stack.extend((n.left, n.right))
            elif isinstance(n, Atom):
                stack.extend(n.args)
            elif isinstance(n, BinOp):
                stack.extend((n.left, n.right))
    return blocked


def inline_relations(module: Module, names: set[str], max_rules: int = 10_000) -> Module:
    """The module with the uses of its inline relations replaced by their bodies."""
    inline = names - _blocked(module, names)
    if not inline:
        return module
    rules = list(module.rules)
    for _ in range(MAX_ROUNDS):
        rules_of: dict[str, list[Rule]] = {}
        for r in rules:
            rules_of.setdefault(r.head.relation, []).append(r)
        inliner = _Inliner(rules_of, max_rules)
        changed = False
        out: list[Rule] = []
        for r in rules:
            new = inliner.rule(r, inline)
            if new is None:
                out.append(r)
            else:
                out.extend(new)
                changed = True
            if len(out) > min(MAX_TOTAL_RULES, 10 * len(module.rules) + 10_000):
                return module  # too many combinations: computed as written
        rules = out
        if not changed:
            break
    used = {x.relation for r in rules for x in r.body if isinstance(x, Atom)}
    rules = [r for r in rules if r.head.relation not in inline or r.head.relation in used]
    return replace(module, rules=rules)

