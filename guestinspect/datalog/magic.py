"""The magic-set transformation, for programs that ask for it (``.pragma "magic-transform"``).

A relation queried with some arguments known (``query() :- samegen(16384, 32767).``) is then
computed only for what the query needs: each use of a transformed relation ``R`` with the
argument positions ``b``ound or ``f``ree (its *adornment*, left to right as in Soufflé) reads
a copy ``R.bf`` whose rules start with ``magic.R.bf(bound arguments)``, and ``magic.R.bf``
holds the bound values that the rules using it can reach (the literals before the use). A
relation is transformed when the pragma names it (or says ``*``), it has rules, it is not
read or written by I/O, not ``eqrel``, never negated nor aggregated, and its heads' arguments
are variables or constants. A transformed relation that no other rule reads is a result,
computed whole; the others hold nothing, only their adorned copies do (``Database.tuples``
of them is empty: the program asked for this).

The magic rules keep only the literals before a use that bind its arguments (positive atoms
and computable comparisons): a superset of the needed values, so the result is the same. The
copies are at most one per relation and adornment; a transformation that would more than
quadruple the program is not done, and :class:`Program` evaluates the program untransformed
when the transformed one does not stratify.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .syntax import (
    Aggregate,
    Atom,
    BinOp,
    Call,
    Column,
    Comparison,
    Const,
    Declaration,
    Expr,
    Literal,
    Module,
    Negation,
    Rule,
    UnOp,
    Var,
    Wildcard,
    expr_depth,
    expr_vars,
    has_aggregate,
)


def wanted(module: Module) -> set[str] | None:
    """The relations the program asks to transform (``{"*"}`` for all), or None."""
    names: set[str] = set()
    for key, value in module.pragmas:
        if key == "magic-transform":
            names.update(n.strip() for n in value.split(","))
    return names or None


def _subexprs(e: Expr) -> list[Expr]:
    if isinstance(e, BinOp):
        return [e.left, e.right]
    if isinstance(e, UnOp):
        return [e.arg]
    if isinstance(e, Call):
        return list(e.args)
    return []


def _aggregated(lits: tuple[Literal, ...], out: set[str], inside: bool) -> None:
    """Add to ``out`` the relations used inside aggregates (any depth) or negated."""
    for lit in lits:
        if isinstance(lit, Negation):
            out.add(lit.atom.relation)
        exprs: list[Expr] = []
        if isinstance(lit, Atom):
            if inside:
                out.add(lit.relation)
            exprs = list(lit.args)
        elif isinstance(lit, Comparison):
            exprs = [lit.left, lit.right]
        for e in exprs:
            _aggregates_in(e, out)


def _aggregates_in(e: Expr, out: set[str]) -> None:
    stack = [e]
    while stack:
        n = stack.pop()
        if isinstance(n, Aggregate):
            _aggregated(n.body, out, True)
            if n.target is not None:
                stack.append(n.target)
        stack.extend(_subexprs(n))


def eligible(module: Module, names: set[str]) -> set[str]:
    heads = {r.head.relation for r in module.rules}
    excluded = {d.relation for d in module.io} | {d.name for d in module.eqrel}
    for r in module.rules:
        _aggregated(r.body, excluded, False)
        for a in r.head.args:
            _aggregates_in(a, excluded)
            if not isinstance(a, Var | Const):
                excluded.add(r.head.relation)
    chosen = heads if "*" in names else heads & names
    return chosen - excluded


@dataclass
class _Transform:
    module: Module
    targets: set[str]
    columns: dict[str, list[Column]]
    rules_of: dict[str, list[Rule]] = field(default_factory=dict)
    out: list[Rule] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)
    todo: list[tuple[str, str]] = field(default_factory=list)
    decls: list[Declaration] = field(default_factory=list)
    whole: set[str] = field(default_factory=set)  # targets computed whole, as results

    def use(self, relation: str, adornment: str) -> None:
        if (relation, adornment) in self.seen:
            return
        self.seen.add((relation, adornment))
        self.todo.append((relation, adornment))
        cols = self.columns[relation]
        loc = self.rules_of[relation][0].loc
        self.decls.append(Declaration(f"{relation}.{adornment}", list(cols), loc))
        self.decls.append(Declaration(f"magic.{relation}.{adornment}",
                                      [c for c, a in zip(cols, adornment, strict=True)
                                       if a == "b"], loc))

    def rule(self, rule: Rule, adornment: str | None) -> None:
        head = rule.head
        kept: list[Literal] = []
        bound: set[str] = set()
        if adornment is not None:
            bound_args = tuple(a for a, m in zip(head.args, adornment, strict=True) if m == "b")
            bound = {v.name for a in bound_args for v in expr_vars(a, [])}
            kept.append(Atom(f"magic.{head.relation}.{adornment}", bound_args, head.loc))
            head = replace(head, relation=f"{head.relation}.{adornment}")
        body: list[Literal] = []
        for lit in rule.body:
            body.append(self.literal(lit, kept, bound, rule))
        self.out.append(replace(rule, head=head, body=(*kept[:1], *body)
                                if adornment is not None else tuple(body)))

    def literal(self, lit: Literal, kept: list[Literal], bound: set[str], rule: Rule) -> Literal:
        if isinstance(lit, Atom):
            if lit.relation in self.targets:
                # as Soufflé, only a variable or constant is a bound argument: a magic rule
                # ``magic.R(x + 1) :- magic.R(x)`` would count for ever
                adornment = "".join("b" if isinstance(a, Const) or (
                    isinstance(a, Var) and a.name in bound) else "f" for a in lit.args)
                self.use(lit.relation, adornment)
                magic = Atom(f"magic.{lit.relation}.{adornment}",
                             tuple(a for a, m in zip(lit.args, adornment, strict=True)
                                   if m == "b"), lit.loc)
                self.out.append(Rule(magic, tuple(kept), rule.loc, rule.text))
                lit = replace(lit, relation=f"{lit.relation}.{adornment}")
            kept.append(lit)
            bound.update(a.name for a in lit.args if isinstance(a, Var))
        elif isinstance(lit, Comparison) and not (has_aggregate(lit.left) or
                                                  has_aggregate(lit.right)):
            for x, y in ((lit.left, lit.right), (lit.right, lit.left)):
                if lit.op == "=" and isinstance(x, Var) and _known(y, bound):
                    bound.add(x.name)
            if _known(lit.left, bound) and _known(lit.right, bound):
                kept.append(lit)
        return lit

    def run(self) -> list[Rule]:
        roots = [r for r in self.module.rules if r.head.relation not in self.targets]
        while True:
            for rule in roots:
                self.rule(rule, None)
            while self.todo:
                relation, adornment = self.todo.pop()
                for rule in self.rules_of[relation]:
                    self.rule(rule, adornment)
            roots = self.results()
            if not roots:
                return self.out

    def results(self) -> list[Rule]:
        """The rules of the targets that are results: read by no other relation's rule (or,
        if only a cycle is left, every target not reached yet), computed whole."""
        reached = {relation for relation, _ in self.seen} | self.whole
        left = {r for r in self.targets if r not in reached}
        read = {lit.relation for r in self.module.rules if r.head.relation in left
                for lit in r.body if isinstance(lit, Atom) and lit.relation != r.head.relation}
        chosen = (left - read) or left
        self.whole |= chosen
        return [r for r in self.module.rules if r.head.relation in chosen]


def _known(e: Expr, bound: set[str]) -> bool:
    """Whether ``e`` can be computed from the bound variables (a constant, for one)."""
    if isinstance(e, Wildcard) or has_aggregate(e) or expr_depth(e) > 64:
        return False
    return all(v.name in bound for v in expr_vars(e, []))


def magic_transform(module: Module) -> Module:
    """The module transformed as its pragma asks (the same module if it asks nothing)."""
    names = wanted(module)
    if names is None:
        return module
    targets = eligible(module, names)
    if not targets:
        return module
    columns = {d.name: d.columns for d in module.declarations}
    targets &= set(columns)
    t = _Transform(module, targets, columns)
    for r in module.rules:
        t.rules_of.setdefault(r.head.relation, []).append(r)
    rules = t.run()
    if len(rules) > 4 * len(module.rules) + 100:
        return module
    return replace(module, rules=rules, declarations=[*module.declarations, *t.decls])
