"""Independent parts of a rule body, evaluated once (Soufflé does the same).

In ``a(x) :- b(x), c(y), d(y).`` the join of ``c`` and ``d`` shares no variable with the rest
of the rule: it only has to hold. Evaluated in place it is enumerated again for every ``b``
tuple (and in every round of a recursion); as ``exists.N() :- c(y), d(y).`` and
``a(x) :- b(x), exists.N().`` it is computed once, and the rule reads a nullary relation.

A part is moved when it shares no variable with the head or the other literals, has a
positive atom, and holds only atoms, negations and comparisons without aggregates. The
partition is a union-find over the literals' variables: linear in the size of the rule.
"""

from __future__ import annotations

from dataclasses import replace

from .syntax import (
    Atom,
    Comparison,
    Declaration,
    Expr,
    Literal,
    Module,
    Negation,
    Rule,
    Var,
    expr_vars,
    has_aggregate,
    walk,
)


def _vars(lit: Literal) -> set[str] | None:
    """The variables of a movable literal; None if it cannot move (an aggregate, a group)."""
    if isinstance(lit, Atom):
        exprs: list[Expr] = list(lit.args)
    elif isinstance(lit, Negation):
        exprs = list(lit.atom.args)
    elif isinstance(lit, Comparison):
        exprs = [lit.left, lit.right]
    else:
        return None
    if any(has_aggregate(e) for e in exprs):
        return None
    return {v.name for e in exprs for v in expr_vars(e, [])}


def independent_parts(rule: Rule) -> list[list[int]]:
    """Groups of body positions that may move into a nullary relation of their own."""
    parent: dict[str, str] = {}

    def find(v: str) -> str:
        root = v
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[v] != root:
            parent[v], v = root, parent[v]
        return root

    fixed = {v.name for a in rule.head.args for v in expr_vars(a, [])}
    per_lit = [_vars(lit) for lit in rule.body]
    for names in per_lit:
        if names is None:
            continue
        first = next(iter(names), None)
        for v in names:
            parent[find(v)] = find(first) if first is not None else find(v)
    for lit, names in zip(rule.body, per_lit, strict=True):
        if names is None:  # what cannot move stays with everything it touches
            fixed |= {v.name for v in _all_vars(lit)}
    fixed_roots = {find(v) for v in fixed}
    groups: dict[str, list[int]] = {}
    for i, names in enumerate(per_lit):
        if names:
            root = find(next(iter(names)))
            if root not in fixed_roots:
                groups.setdefault(root, []).append(i)
    return [g for g in groups.values()
            if any(isinstance(rule.body[i], Atom) for i in g) and len(g) < len(rule.body)]


def _all_vars(lit: Literal) -> list[Var]:
    """Every variable under a literal, aggregates' bodies included (without recursion)."""
    return [n for n in walk(lit) if isinstance(n, Var)]


def hoist_independent(module: Module) -> Module:
    """The module with each rule's independent parts moved into nullary relations."""
    rules: list[Rule] = []
    decls: list[Declaration] = []
    for rule in module.rules:
        parts = independent_parts(rule) if len(rule.body) > 1 else []
        if not parts:
            rules.append(rule)
            continue
        moved = {i for g in parts for i in g}
        body: list[Literal] = [lit for i, lit in enumerate(rule.body) if i not in moved]
        for g in parts:
            name = f"exists.{len(decls) + 1}"
            decls.append(Declaration(name, [], rule.loc))
            rules.append(Rule(Atom(name, (), rule.loc), tuple(rule.body[i] for i in g),
                              rule.loc, rule.text))
            body.append(Atom(name, (), rule.loc))
        rules.append(replace(rule, body=tuple(body)))
    if not decls:
        return module
    return replace(module, rules=rules, declarations=[*module.declarations, *decls])
