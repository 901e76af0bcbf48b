"""Static checks: declarations, arities, types, safety; and normalisation of rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .builtin_functors import FUNCTORS, Functor, args_of, combine, row_of
from .ir import AggregateLit, AtomLit, CompareLit, ConstraintLit, Lit, NormRule, Term
from .runtime import regex_problem
from .syntax import (
    Aggregate,
    Atom,
    BinOp,
    Call,
    Comparison,
    Const,
    Constraint,
    Declaration,
    Disjunction,
    Expr,
    FunctorDecl,
    Literal,
    Location,
    Module,
    Negation,
    Rule,
    Truth,
    TypeDecl,
    UnOp,
    Var,
    Wildcard,
    expr_vars,
)

BASE_KINDS = {"symbol": "symbol", "number": "number", "unsigned": "unsigned", "float": "float"}
NUMERIC = {"number", "unsigned", "float"}
#: Body literals of one rule (its join is planned in quadratic time and compiled to nested
#: functions: a rule of thousands of atoms would take minutes, then exceed Python's limits).
MAX_BODY_LITERALS = 500


def kind_name(kind: str) -> str:
    return {"symbol": "a symbol", "number": "a number", "unsigned": "an unsigned",
            "float": "a float"}[kind]


def const_kind(value: object, unsigned: bool = False) -> str:
    if unsigned:
        return "unsigned"
    if isinstance(value, str):
        return "symbol"
    return "float" if isinstance(value, float) else "number"


@dataclass
class Analysis:
    declarations: dict[str, Declaration] = field(default_factory=dict)
    kinds: dict[str, list[str]] = field(default_factory=dict)  # relation -> column kinds
    functors: dict[str, FunctorDecl] = field(default_factory=dict)
    rules: list[NormRule] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def error(self, loc: Location, message: str) -> None:
        self.errors.append(f"{loc}: {message}")


class Checker:
    def __init__(self, module: Module, functors: dict[str, Callable[..., Any]],
                 modes: dict[str, str], patterns: dict[str, tuple[int, ...]] | None = None,
                 ) -> None:
        self.module = module
        self.registered_functors = functors
        self.modes = modes  # python relation -> binding pattern
        self.patterns = patterns or {}  # python relation -> columns holding a regex
        self.a = Analysis()
        self.types: dict[str, str] = dict(BASE_KINDS)
        self.fresh = 0

    # ---- declarations --------------------------------------------------------------------
    def run(self) -> Analysis:
        self.check_types()
        for d in self.module.declarations:
            if d.name in self.a.declarations:
                prev = self.a.declarations[d.name].loc
                self.a.error(d.loc, f"relation '{d.name}' is declared twice (first at {prev})")
                continue
            kinds = []
            for c in d.columns:
                kinds.append(self.resolve(c.type, c.loc))
            self.a.declarations[d.name] = d
            self.a.kinds[d.name] = kinds
        for f in self.module.functors:
            for c in f.params:
                self.resolve(c.type, c.loc)
            self.resolve(f.result, f.loc)
            if f.name in self.a.functors:
                self.a.error(f.loc, f"functor '{f.name}' is declared twice")
            elif f.name not in self.registered_functors:
                self.a.error(f.loc, f"functor '{f.name}' is declared but no Python function "
                             "is registered for it")
            self.a.functors[f.name] = f
        for name, mode in self.modes.items():
            decl = self.a.declarations.get(name)
            if decl is None:
                continue
            if len(mode) != len(decl.columns) or set(mode) - {"b", "f"}:
                self.a.error(decl.loc, f"Python relation '{name}' has binding pattern "
                             f"'{mode}', but it needs one letter b or f for each of its "
                             f"{len(decl.columns)} columns")
        for io in self.module.io:
            if io.relation not in self.a.declarations:
                self.a.error(io.loc, f"undeclared relation '{io.relation}' in .{io.kind}")
            elif io.relation in self.modes:
                self.a.error(io.loc, f"relation '{io.relation}' is computed by Python and "
                             f"cannot be used in .{io.kind}")
        for mark in self.module.plumbing:
            if mark.relation not in self.a.declarations:
                self.a.error(mark.loc, f"undeclared relation '{mark.relation}' in .plumbing")
        for i, rule in enumerate(self.module.rules):
            norm = self.rule(i, rule)
            if norm is not None:
                self.a.rules.append(norm)
        return self.a

    def check_types(self) -> None:
        """Resolve every type definition to its base kind, depth first without recursion
        (a chain of thousands of types is fine); a cycle of definitions is an error."""
        pending = {t.name: t for t in self.module.types}
        for t in self.module.types:
            if t.name in BASE_KINDS:
                self.a.error(t.loc, f"cannot redefine the built-in type '{t.name}'")
        for first in self.module.types:
            if first.name in self.types:
                continue
            stack = [first.name]
            on_path = {first.name}
            while stack:
                name = stack[-1]
                nxt = next((b for b in pending[name].bases
                            if b not in self.types and b in pending), None)
                if nxt is None:
                    stack.pop()
                    on_path.discard(name)
                    self.types[name] = self.base_kind(pending[name])
                elif nxt in on_path:
                    cycle = stack[stack.index(nxt):]
                    self.a.error(pending[nxt].loc, f"type '{nxt}' is defined in terms of "
                                 f"itself ({' -> '.join([*cycle, nxt])})")
                    for c in cycle:
                        self.types[c] = "symbol"
                    del stack[stack.index(nxt):]
                    on_path.difference_update(cycle)
                else:
                    stack.append(nxt)
                    on_path.add(nxt)

    def base_kind(self, t: TypeDecl) -> str:
        """The kind of a type whose bases are all resolved (or unknown)."""
        bad = [b for b in t.bases if b not in self.types]
        if bad:
            self.a.error(t.loc, f"unknown type '{bad[0]}' in the definition of '{t.name}'")
            return "symbol"
        kinds = {self.types[b] for b in t.bases}
        if len(kinds) > 1 and kinds != {"number", "unsigned"}:
            self.a.error(t.loc, f"type '{t.name}' mixes symbols and numbers")
        return sorted(kinds)[0]

    def resolve(self, name: str, loc: Location) -> str:
        kind = self.types.get(name)
        if kind is None:
            self.a.error(loc, f"unknown type '{name}'")
            self.types[name] = "symbol"
            return "symbol"
        return kind

    # ---- normalisation -------------------------------------------------------------------
    def new_var(self, prefix: str, loc: Location) -> Var:
        self.fresh += 1
        return Var(f"{prefix}{self.fresh}", loc)

    def lift(self, e: Expr, out: list[Lit]) -> Expr:
        """Replace aggregates in an expression by fresh variables bound in ``out``."""
        if isinstance(e, Aggregate):
            v = self.new_var("_agg", e.loc)
            target = self.lift(e.target, out) if e.target is not None else None
            body = self.body(e.body)
            out.append(AggregateLit(v.name, e.op, target, body if body is not None else [],
                                    e.loc))
            return v
        if isinstance(e, BinOp):
            return BinOp(e.op, self.lift(e.left, out), self.lift(e.right, out), e.loc)
        if isinstance(e, UnOp):
            return UnOp(e.op, self.lift(e.arg, out), e.loc)
        if isinstance(e, Call):
            return Call(e.name, tuple(self.lift(a, out) for a in e.args), e.user, e.loc)
        return e

    def terms(self, args: tuple[Expr, ...], out: list[Lit]) -> tuple[Term, ...]:
        result: list[Term] = []
        for a in args:
            lifted = self.lift(a, out)
            if isinstance(lifted, Var | Const | Wildcard):
                result.append(lifted)
            else:
                v = self.new_var("_e", a.loc)
                out.append(CompareLit("=", v, lifted, a.loc))
                result.append(v)
        return tuple(result)

    def body(self, lits: tuple[Literal, ...]) -> list[Lit] | None:
        """Normalise a conjunction; None if it contains ``false``."""
        out: list[Lit] = []
        for lit in lits:
            if isinstance(lit, Atom):
                args = self.terms(lit.args, out)
                out.append(AtomLit(lit.relation, args, False, lit.loc,
                                   lit.relation in self.modes))
            elif isinstance(lit, Negation):
                args = self.terms(lit.atom.args, out)
                out.append(AtomLit(lit.atom.relation, args, True, lit.atom.loc,
                                   lit.atom.relation in self.modes))
            elif isinstance(lit, Comparison):
                left, right = self.lift(lit.left, out), self.lift(lit.right, out)
                if not isinstance(left, Wildcard) and not isinstance(right, Wildcard):
                    out.append(CompareLit(lit.op, left, right, lit.loc))
                elif lit.op != "=":  # ``_ = expr`` only evaluates expr (an aggregate)
                    self.a.error(lit.loc, f"wildcard '_' in a '{lit.op}' comparison")
            elif isinstance(lit, Constraint):
                args2 = tuple(self.lift(a, out) for a in lit.args)
                out.append(ConstraintLit(lit.name, args2, lit.negated, lit.loc))
            elif isinstance(lit, Truth):
                if not lit.value:
                    return None
            elif isinstance(lit, Disjunction):
                self.a.error(lit.loc, "disjunction in an aggregate body is not supported")
        return out

    # ---- rules ---------------------------------------------------------------------------
    def rule(self, index: int, rule: Rule) -> NormRule | None:
        before = len(self.a.errors)
        if len(rule.body) > MAX_BODY_LITERALS:
            self.a.error(rule.loc, f"this rule has {len(rule.body)} body literals, more than "
                         f"{MAX_BODY_LITERALS}")
            return None
        self.check_atom(rule.head, "head")
        for a in rule.head.args:
            if isinstance(a, Wildcard):
                self.a.error(a.loc, f"wildcard '_' in the head of '{rule.head.relation}'")
        if rule.head.relation in self.modes:
            self.a.error(rule.head.loc, f"relation '{rule.head.relation}' is computed by "
                         "Python and cannot have rules or facts")
        self.check_literals(rule.body)
        body = self.body(rule.body)
        if body is None:
            return None
        head_out: list[Lit] = []
        head_args = tuple(self.lift(a, head_out) for a in rule.head.args)
        body.extend(head_out)
        norm = NormRule(index, rule.head.relation, head_args, body, rule)
        if len(self.a.errors) > before:
            return None
        self.mark_outer(norm)
        self.safety(norm)
        self.typecheck(norm)
        if len(self.a.errors) > before:
            return None
        return norm

    def check_pattern(self, e: Expr) -> None:
        """A constant regular expression must be one RE2 accepts."""
        if isinstance(e, Const) and isinstance(e.value, str):
            problem = regex_problem(e.value)
            if problem is not None:
                self.a.error(e.loc, f"invalid regular expression {_show(e.value)}: "
                             f"{problem} (RE2 syntax)")

    def check_atom(self, atom: Atom, where: str) -> None:
        for col in self.patterns.get(atom.relation, ()):
            if col < len(atom.args):
                self.check_pattern(atom.args[col])
        decl = self.a.declarations.get(atom.relation)
        if decl is None:
            self.a.error(atom.loc, f"undeclared relation '{atom.relation}'")
        elif len(decl.columns) != len(atom.args):
            self.a.error(atom.loc, f"relation '{atom.relation}' has {len(decl.columns)} "
                         f"column{'s' if len(decl.columns) != 1 else ''}, but "
                         f"{len(atom.args)} argument{'s were' if len(atom.args) != 1 else ' was'}"
                         " given")
        for a in atom.args:
            self.check_expr(a)

    def check_literals(self, lits: tuple[Literal, ...]) -> None:
        for lit in lits:
            if isinstance(lit, Atom):
                self.check_atom(lit, "body")
            elif isinstance(lit, Negation):
                self.check_atom(lit.atom, "negation")
            elif isinstance(lit, Comparison):
                self.check_expr(lit.left)
                self.check_expr(lit.right)
            elif isinstance(lit, Constraint):
                self.check_call(lit.name, lit.args, False, lit.loc)
            elif isinstance(lit, Disjunction):
                for alt in lit.alternatives:
                    self.check_literals(alt)

    def check_expr(self, e: Expr) -> None:
        if isinstance(e, BinOp):
            self.check_expr(e.left)
            self.check_expr(e.right)
        elif isinstance(e, UnOp):
            self.check_expr(e.arg)
        elif isinstance(e, Call):
            self.check_call(e.name, e.args, e.user, e.loc)
        elif isinstance(e, Aggregate):
            if e.target is not None:
                self.check_expr(e.target)
            self.check_literals(e.body)

    def check_call(self, name: str, args: tuple[Expr, ...], user: bool, loc: Location) -> None:
        for a in args:
            self.check_expr(a)
        if user:
            decl = self.a.functors.get(name)
            if decl is None:
                self.a.error(loc, f"unknown functor '@{name}'")
            elif len(decl.params) != len(args):
                self.a.error(loc, f"functor '@{name}' takes {len(decl.params)} arguments, "
                             f"but {len(args)} were given")
            return
        row = FUNCTORS.get(name)
        if row is None:
            self.a.error(loc, f"unknown functor '{name}'")
            return
        if row.regex_arg is not None and len(args) > row.regex_arg:
            self.check_pattern(args[row.regex_arg])
        if not row.accepts(len(args)):
            lo = len(row.params)
            want = f"at least {lo}" if row.variadic else str(lo)
            self.a.error(loc, f"functor '{name}' takes {want} argument"
                         f"{'s' if lo != 1 or row.variadic else ''}, but {len(args)} "
                         f"{'were' if len(args) != 1 else 'was'} given")

    def mark_outer(self, norm: NormRule) -> None:
        outside: set[str] = set()
        for a in norm.head_args:
            outside |= {v.name for v in expr_vars(a, [])}
        for lit in norm.body:
            if not isinstance(lit, AggregateLit):
                outside |= _plain_vars(lit)
            else:
                outside.add(lit.result)
        aggregates = [lit for lit in norm.body if isinstance(lit, AggregateLit)]
        for agg in aggregates:
            _set_outer(agg, outside)
        # a variable shared with the rest of the rule is an input of the aggregate only if
        # the rest of the rule binds it (``Y = min Z + Y : {...}`` has a local Y)
        for agg in aggregates:
            others = [lit for lit in norm.body if lit is not agg]
            bound_elsewhere = self.grounded(others, set(), lenient=True)
            shared = set(agg.outer)
            _set_outer(agg, outside & bound_elsewhere)
            # bound only inside, used outside: a witness (not a variable the result is
            # assigned to: ``Y = min Z + Y : {...}`` has a local Y)
            results = {agg.result} | {
                v for lit in others if isinstance(lit, CompareLit) and lit.op == "="
                for v in _var_names(lit.left, lit.right)
                if agg.result in _var_names(lit.left, lit.right)}
            witnesses = sorted(shared - bound_elsewhere - results)
            if witnesses and agg.op not in ("min", "max"):
                self.a.error(agg.loc, f"unsupported: aggregate witness variable "
                             f"'{witnesses[0]}' (bound only inside a {agg.op} aggregate)")
            agg.witnesses = witnesses

    # ---- safety --------------------------------------------------------------------------
    def grounded(self, lits: list[Lit], start: set[str], lenient: bool = False) -> set[str]:
        """Variables bound by the body; ``lenient`` lets Python relations bind theirs even
        when their inputs are unbound (that error is reported once, on the relation)."""
        g = set(start)
        changed = True
        while changed:
            changed = False
            for lit in lits:
                new: set[str] = set()
                if isinstance(lit, AtomLit) and not lit.negated:
                    if not lit.python:
                        new = {a.name for a in lit.args if isinstance(a, Var)}
                    else:
                        mode = self.modes[lit.relation]
                        if lenient or all(_term_bound(a, g) for a, m in
                                          zip(lit.args, mode, strict=False) if m == "b"):
                            new = {a.name for a in lit.args if isinstance(a, Var)}
                elif isinstance(lit, CompareLit) and lit.op == "=":
                    lv = {v.name for v in expr_vars(lit.left, [])}
                    rv = {v.name for v in expr_vars(lit.right, [])}
                    if isinstance(lit.left, Var) and rv <= g:
                        new = {lit.left.name}
                    if isinstance(lit.right, Var) and lv <= g:
                        new |= {lit.right.name}
                elif isinstance(lit, AggregateLit) and lit.outer <= g:
                    new = {lit.result, *lit.witnesses}
                if not new <= g:
                    g |= new
                    changed = True
        return g

    def safety(self, norm: NormRule) -> None:
        g = self.check_safe(norm.body, set(), set())
        reported: set[str] = set()
        for a in norm.head_args:
            for v in expr_vars(a, []):
                if v.name not in g and v.name not in reported:
                    reported.add(v.name)
                    self.unsafe(v, "the head")

    def unsafe(self, v: Var, where: str) -> None:
        self.a.error(v.loc, f"unsafe variable '{v.name}' in {where}: it is not bound by a "
                     "positive body atom")

    def check_safe(self, lits: list[Lit], start: set[str], reported: set[str]) -> set[str]:
        strict = self.grounded(lits, start)
        g = self.grounded(lits, start, lenient=True)

        def need(exprs: list[Expr], where: str) -> None:
            for e in exprs:
                for v in expr_vars(e, []):
                    if v.name not in g and v.name not in reported:
                        reported.add(v.name)
                        self.unsafe(v, where)

        for lit in lits:
            if isinstance(lit, AtomLit):
                if lit.negated:
                    need(list(lit.args), f"the negation !{lit.relation}(...)")
                if lit.python:
                    mode = self.modes[lit.relation]
                    for i, (a, m) in enumerate(zip(lit.args, mode, strict=False)):
                        if m == "b" and not _term_bound(a, strict):
                            what = f"'{a.name}' is not bound" if isinstance(a, Var) else \
                                "it is a wildcard"
                            self.a.error(lit.loc, f"Python relation '{lit.relation}' needs "
                                         f"argument {i + 1} bound, but {what}")
            elif isinstance(lit, CompareLit):
                need([lit.left, lit.right], "a comparison")
            elif isinstance(lit, ConstraintLit):
                need(list(lit.args), f"{lit.name}(...)")
            else:
                for name in sorted(lit.outer - g):
                    if name not in reported:
                        reported.add(name)
                        self.unsafe(Var(name, lit.loc), "an aggregate")
                inner = self.check_safe(lit.body, set(lit.outer), reported)
                if lit.target is not None:
                    for v in expr_vars(lit.target, []):
                        if v.name not in inner and v.name not in reported:
                            reported.add(v.name)
                            self.unsafe(v, "an aggregate")
        return g

    # ---- types ---------------------------------------------------------------------------
    def typecheck(self, norm: NormRule) -> None:
        types: dict[str, tuple[str, str]] = {}  # var -> (kind, where it got it)
        self.infer(norm.body, types)
        norm.var_types = {k: v[0] for k, v in types.items()}
        self.check_lits(norm.body, types)
        kinds = self.a.kinds.get(norm.head, [])
        for i, a in enumerate(norm.head_args):
            k = self.expr_kind(a, types)
            if i < len(kinds) and k is not None and k != kinds[i] and not (
                    k in NUMERIC and kinds[i] in NUMERIC):
                self.mismatch(a, norm.head, i, kinds[i], k)

    def mismatch(self, e: Expr, rel: str, i: int, want: str, got: str) -> None:
        col = self.a.declarations[rel].columns[i].name
        what = (f"the constant {_show(e.value)}" if isinstance(e, Const) else
                f"variable '{e.name}'" if isinstance(e, Var) else "the expression")
        self.a.error(e.loc, f"type mismatch: column '{col}' of {rel} is {kind_name(want)}, "
                     f"but {what} is {kind_name(got)}")

    def infer(self, lits: list[Lit], types: dict[str, tuple[str, str]]) -> None:
        for lit in lits:
            if isinstance(lit, AtomLit) and not lit.negated:
                kinds = self.a.kinds.get(lit.relation, [])
                for i, a in enumerate(lit.args):
                    if isinstance(a, Var) and i < len(kinds):
                        prev = types.get(a.name)
                        where = f"{lit.relation}"
                        if prev is None:
                            types[a.name] = (kinds[i], where)
                        elif prev[0] != kinds[i] and not (prev[0] in NUMERIC and
                                                          kinds[i] in NUMERIC):
                            self.a.error(a.loc, f"type mismatch: variable '{a.name}' is "
                                         f"{kind_name(prev[0])} in {prev[1]} but "
                                         f"{kind_name(kinds[i])} in {where}")
            elif isinstance(lit, AggregateLit):
                self.infer(lit.body, types)
        for _ in range(3):
            for lit in lits:
                if isinstance(lit, CompareLit) and lit.op == "=":
                    for x, y in ((lit.left, lit.right), (lit.right, lit.left)):
                        if isinstance(x, Var) and x.name not in types:
                            k = self.expr_kind(y, types)
                            if k is not None:
                                types[x.name] = (k, "a comparison")
                elif isinstance(lit, AggregateLit) and lit.result not in types:
                    if lit.op == "count":
                        types[lit.result] = ("number", "count")
                    elif lit.op == "mean":
                        types[lit.result] = ("float", "mean")
                    elif lit.target is not None:
                        k = self.expr_kind(lit.target, types)
                        if k is not None:
                            types[lit.result] = (k, lit.op)

    def check_lits(self, lits: list[Lit], types: dict[str, tuple[str, str]]) -> None:
        for lit in lits:
            if isinstance(lit, AtomLit):
                kinds = self.a.kinds.get(lit.relation, [])
                for i, a in enumerate(lit.args):
                    if i >= len(kinds) or (isinstance(a, Var) and not lit.negated):
                        continue  # a variable's kind comes from the positive atoms
                    k = self.expr_kind(a, types) if not isinstance(a, Wildcard) else None
                    if k is not None and k != kinds[i] and not (k in NUMERIC and
                                                                kinds[i] in NUMERIC):
                        self.mismatch(a, lit.relation, i, kinds[i], k)
            elif isinstance(lit, CompareLit):
                lk = self.expr_kind(lit.left, types)
                rk = self.expr_kind(lit.right, types)
                if lk is not None and rk is not None and (lk == "symbol") != (rk == "symbol"):
                    self.a.error(lit.loc, f"type mismatch: cannot compare {kind_name(lk)} "
                                 f"with {kind_name(rk)} using '{lit.op}'")
            elif isinstance(lit, ConstraintLit):
                for arg in lit.args:
                    k = self.expr_kind(arg, types)
                    if k is not None and k != "symbol":
                        self.a.error(arg.loc, f"type mismatch: {lit.name}() needs symbols, "
                                     f"but got {kind_name(k)}")
            elif isinstance(lit, AggregateLit):
                self.check_lits(lit.body, types)
                if lit.target is not None and lit.op in ("sum", "mean"):
                    k = self.expr_kind(lit.target, types)
                    if k == "symbol":
                        self.a.error(lit.loc, f"type mismatch: {lit.op} of a symbol")

    def expr_kind(self, e: Expr | None, types: dict[str, tuple[str, str]]) -> str | None:
        if e is None or isinstance(e, Wildcard | Aggregate):
            return None
        if isinstance(e, Const):
            return const_kind(e.value, e.unsigned)
        if isinstance(e, Var):
            t = types.get(e.name)
            return t[0] if t else None
        if isinstance(e, Call) and e.user:
            return self.user_call_kind(e, types)
        row = row_of(e)
        if row is None:
            return None
        kinds = [self.expr_kind(a, types) for a in args_of(e)]
        if isinstance(e, BinOp) and e.op == "+" and "symbol" in kinds and \
                set(kinds) <= {"symbol", None}:
            return "symbol"  # Soufflé: '+' on symbols concatenates
        if isinstance(e, Call):
            self.check_arguments(e, row, kinds)
        elif "symbol" in kinds:
            self.a.error(e.loc, f"type mismatch: operator '{row.name}' on a symbol")
            if isinstance(e, BinOp):
                return None
        return combine(row.result, kinds)

    def user_call_kind(self, e: Call, types: dict[str, tuple[str, str]]) -> str | None:
        decl = self.a.functors.get(e.name)
        if decl is None:
            return None
        for a, p in zip(e.args, decl.params, strict=False):
            k = self.expr_kind(a, types)
            want = self.types.get(p.type, "symbol")
            if k is not None and (k == "symbol") != (want == "symbol"):
                self.a.error(a.loc, f"type mismatch: argument '{p.name}' of @{e.name} is "
                             f"{kind_name(want)}, but got {kind_name(k)}")
        return self.types.get(decl.result, "symbol")

    def check_arguments(self, e: Call, row: Functor, kinds: list[str | None]) -> None:
        """Each argument of a built-in functor against its parameter's kind."""
        uniform = len(set(row.params)) == 1
        for i, (a, k) in enumerate(zip(e.args, kinds, strict=True)):
            want = row.param(i)
            if k is None or want == "any" or (want == "symbol") == (k == "symbol"):
                continue
            if uniform:
                self.a.error(a.loc, f"type mismatch: {e.name}() needs "
                             f"{'a symbol' if want == 'symbol' else 'a number'}, "
                             f"but got {kind_name(k)}")
            else:
                self.a.error(a.loc, f"type mismatch: {e.name}() argument is "
                             f"{kind_name(k)}, expected {kind_name(want)}")

def _term_bound(t: Expr, g: set[str]) -> bool:
    return isinstance(t, Const) or (isinstance(t, Var) and t.name in g)


def _var_names(*exprs: Expr) -> set[str]:
    return {v.name for e in exprs for v in expr_vars(e, [])}


def _plain_vars(lit: Lit) -> set[str]:
    from .ir import lit_vars

    return lit_vars(lit)


def _set_outer(agg: AggregateLit, outside: set[str]) -> None:
    inner: set[str] = set()
    if agg.target is not None:
        inner |= {v.name for v in expr_vars(agg.target, [])}
    for lit in agg.body:
        if isinstance(lit, AggregateLit):
            _set_outer(lit, outside | inner | _all_vars(agg.body))
            inner |= lit.outer
        else:
            inner |= _plain_vars(lit)
    agg.outer = inner & outside


def _all_vars(lits: list[Lit]) -> set[str]:
    out: set[str] = set()
    for lit in lits:
        if not isinstance(lit, AggregateLit):
            out |= _plain_vars(lit)
    return out


def _show(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)
