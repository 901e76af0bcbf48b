"""Rule pass: what a rule refers to exists and fits. Every relation it uses is declared with
that many columns, every functor is known with that many arguments, a constant regular
expression is one RE2 accepts, the head has no wildcard and is not a Python relation, and the
body is not too long to plan. Works on the syntax tree, before lowering."""

from __future__ import annotations

from ..builtin_functors import FUNCTORS
from ..runtime import regex_problem
from ..syntax import (
    Aggregate,
    Atom,
    BinOp,
    Call,
    Comparison,
    Const,
    Constraint,
    Disjunction,
    Expr,
    Literal,
    Location,
    Negation,
    UnOp,
    Wildcard,
)
from .context import Context, RuleJob, show_constant

#: Body literals of one rule (its join is planned in quadratic time and compiled to nested
#: functions: a rule of thousands of atoms would take minutes, then exceed Python's limits).
MAX_BODY_LITERALS = 500


def check_references(ctx: Context, job: RuleJob) -> bool:
    """Check one rule; False stops its passes (a body too long to check further)."""
    rule = job.rule
    if len(rule.body) > MAX_BODY_LITERALS:
        ctx.error(rule.loc, f"this rule has {len(rule.body)} body literals, more than "
                  f"{MAX_BODY_LITERALS}")
        return False
    check_atom(ctx, rule.head)
    for a in rule.head.args:
        if isinstance(a, Wildcard):
            ctx.error(a.loc, f"wildcard '_' in the head of '{rule.head.relation}'")
    if rule.head.relation in ctx.modes:
        ctx.error(rule.head.loc, f"relation '{rule.head.relation}' is computed by "
                  "Python and cannot have rules or facts")
    check_literals(ctx, rule.body)
    return True


def check_pattern(ctx: Context, e: Expr) -> None:
    """A constant regular expression that is invalid is a warning, not an error (as in
    Soufflé: the program runs, and the pattern matches nothing)."""
    if isinstance(e, Const) and isinstance(e.value, str):
        problem = regex_problem(e.value)
        if problem is not None:
            ctx.analysis.warn(e.loc, f"invalid regular expression {show_constant(e.value)}: "
                              f"{problem} (RE2 syntax); it matches nothing")


def check_atom(ctx: Context, atom: Atom) -> None:
    for col in ctx.patterns.get(atom.relation, ()):
        if col < len(atom.args):
            check_pattern(ctx, atom.args[col])
    decl = ctx.analysis.declarations.get(atom.relation)
    if decl is None:
        ctx.error(atom.loc, f"undeclared relation '{atom.relation}'")
    elif len(decl.columns) != len(atom.args):
        ctx.error(atom.loc, f"relation '{atom.relation}' has {len(decl.columns)} "
                  f"column{'s' if len(decl.columns) != 1 else ''}, but "
                  f"{len(atom.args)} argument{'s were' if len(atom.args) != 1 else ' was'}"
                  " given")
    for a in atom.args:
        check_expr(ctx, a)


def check_literals(ctx: Context, lits: tuple[Literal, ...]) -> None:
    for lit in lits:
        if isinstance(lit, Atom):
            check_atom(ctx, lit)
        elif isinstance(lit, Negation):
            check_atom(ctx, lit.atom)
        elif isinstance(lit, Comparison):
            check_expr(ctx, lit.left)
            check_expr(ctx, lit.right)
        elif isinstance(lit, Constraint):
            check_call(ctx, lit.name, lit.args, False, lit.loc)
        elif isinstance(lit, Disjunction):
            for alt in lit.alternatives:
                check_literals(ctx, alt)


def check_expr(ctx: Context, e: Expr) -> None:
    if isinstance(e, BinOp):
        check_expr(ctx, e.left)
        check_expr(ctx, e.right)
    elif isinstance(e, UnOp):
        check_expr(ctx, e.arg)
    elif isinstance(e, Call):
        check_call(ctx, e.name, e.args, e.user, e.loc)
    elif isinstance(e, Aggregate):
        if e.target is not None:
            check_expr(ctx, e.target)
        check_literals(ctx, e.body)


def check_call(ctx: Context, name: str, args: tuple[Expr, ...], user: bool,
               loc: Location) -> None:
    for a in args:
        check_expr(ctx, a)
    if user:
        decl = ctx.analysis.functors.get(name)
        if decl is None:
            ctx.error(loc, f"unknown functor '@{name}'")
        elif len(decl.params) != len(args):
            ctx.error(loc, f"functor '@{name}' takes {len(decl.params)} arguments, "
                      f"but {len(args)} were given")
        return
    row = FUNCTORS.get(name)
    if row is None:
        ctx.error(loc, f"unknown functor '{name}'")
        return
    if row.regex_arg is not None and len(args) > row.regex_arg:
        check_pattern(ctx, args[row.regex_arg])
    if not row.accepts(len(args)):
        lo = len(row.params)
        want = f"at least {lo}" if row.variadic else str(lo)
        ctx.error(loc, f"functor '{name}' takes {want} argument"
                  f"{'s' if lo != 1 or row.variadic else ''}, but {len(args)} "
                  f"{'were' if len(args) != 1 else 'was'} given")
