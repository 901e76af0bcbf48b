"""Rule pass: lower a rule's syntax tree to the IR (:class:`NormRule`). Aggregates become
fresh variables bound by :class:`AggregateLit`; an atom's argument that is an expression
becomes a fresh variable and an ``=`` comparison; a body with ``false`` drops the rule. After
this pass a rule with errors goes no further."""

from __future__ import annotations

from ..desugar import RANGE_RELATIONS
from ..ir import AggregateLit, AtomLit, CompareLit, ConstraintLit, Lit, NormRule, Term
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
    Truth,
    UnOp,
    Var,
    Wildcard,
    walk,
)
from .context import Context, RuleJob


def lower_rule(ctx: Context, job: RuleJob) -> bool:
    """Set ``job.norm``; False (stop) when the body is false or the rule has errors."""
    rule = job.rule
    body = lower_body(ctx, rule.body)
    if body is None:
        return False
    head_out: list[Lit] = []
    head_args = tuple(lift(ctx, a, head_out) for a in rule.head.args)
    body.extend(head_out)
    job.norm = NormRule(job.index, rule.head.relation, head_args, body, rule)
    return not job.failed(ctx)


def new_var(ctx: Context, prefix: str, loc: Location) -> Var:
    ctx.fresh += 1
    return Var(f"{prefix}{ctx.fresh}", loc)


def lift(ctx: Context, e: Expr, out: list[Lit]) -> Expr:
    """Replace aggregates in an expression by fresh variables bound in ``out``."""
    if isinstance(e, Aggregate):
        v = new_var(ctx, "_agg", e.loc)
        target = lift(ctx, e.target, out) if e.target is not None else None
        body = lower_body(ctx, e.body)
        out.append(AggregateLit(v.name, e.op, target, body if body is not None else [],
                                e.loc, distinct=materialized(e)))
        return v
    if isinstance(e, BinOp):
        return BinOp(e.op, lift(ctx, e.left, out), lift(ctx, e.right, out), e.loc)
    if isinstance(e, UnOp):
        return UnOp(e.op, lift(ctx, e.arg, out), e.loc)
    if isinstance(e, Call):
        return Call(e.name, tuple(lift(ctx, a, out) for a in e.args), e.user, e.loc)
    return e


def materialized(e: Aggregate) -> bool:
    """Whether Soufflé evaluates the aggregate over a relation of its body's distinct
    variable bindings (MaterializeAggregationQueries): a body of more than one atom (a
    ``range``, desugared to an atom, is one), an aggregate inside, or a variable repeated in
    its one atom. Otherwise it reads the atom's tuples, each once."""
    atoms = [lit for lit in e.body if isinstance(lit, Atom)]
    if len(atoms) > 1 or any(isinstance(n, Aggregate) for n in walk(e.target, e.body)):
        return True
    if any(isinstance(n, Atom) and n.relation in RANGE_RELATIONS.values()
           for n in walk(e.target, e.body)):
        return True
    names = [n.name for n in walk(atoms) if isinstance(n, Var)]
    return len(names) != len(set(names))


def terms(ctx: Context, args: tuple[Expr, ...], out: list[Lit]) -> tuple[Term, ...]:
    """An atom's arguments as terms: an expression becomes a fresh variable bound in ``out``."""
    result: list[Term] = []
    for a in args:
        lifted = lift(ctx, a, out)
        if isinstance(lifted, Var | Const | Wildcard):
            result.append(lifted)
        else:
            v = new_var(ctx, "_e", a.loc)
            out.append(CompareLit("=", v, lifted, a.loc))
            result.append(v)
    return tuple(result)


def lower_body(ctx: Context, lits: tuple[Literal, ...]) -> list[Lit] | None:
    """Lower a conjunction; None if it contains ``false``."""
    out: list[Lit] = []
    for lit in lits:
        if isinstance(lit, Atom | Negation):
            atom = lit if isinstance(lit, Atom) else lit.atom
            args = terms(ctx, atom.args, out)
            out.append(AtomLit(atom.relation, args, isinstance(lit, Negation), atom.loc,
                               atom.relation in ctx.modes))
        elif isinstance(lit, Comparison):
            left, right = lift(ctx, lit.left, out), lift(ctx, lit.right, out)
            if not isinstance(left, Wildcard) and not isinstance(right, Wildcard):
                out.append(CompareLit(lit.op, left, right, lit.loc))
            elif lit.op != "=":  # ``_ = expr`` only evaluates expr (an aggregate)
                ctx.error(lit.loc, f"wildcard '_' in a '{lit.op}' comparison")
        elif isinstance(lit, Constraint):
            args2 = tuple(lift(ctx, a, out) for a in lit.args)
            out.append(ConstraintLit(lit.name, args2, lit.negated, lit.loc))
        elif isinstance(lit, Truth):
            if not lit.value:
                return None
        elif isinstance(lit, Disjunction):
            ctx.error(lit.loc, "disjunction in an aggregate body is not supported")
    return out
