"""Rule pass: safety. Every variable of the head, of a negation, of a comparison, of a
constraint and of an aggregate is bound by a positive atom (or by an assignment from bound
variables); a Python relation's ``b`` columns are bound where it is used."""

from __future__ import annotations

from collections.abc import Mapping

from ..ir import AggregateLit, AtomLit, CompareLit, ConstraintLit, Lit
from ..syntax import Const, Expr, Var, expr_vars
from .context import Context, RuleJob


def check_safety(ctx: Context, job: RuleJob) -> bool:
    assert job.norm is not None
    g = check_safe(ctx, job.norm.body, set(), set())
    reported: set[str] = set()
    for a in job.norm.head_args:
        for v in expr_vars(a, []):
            if v.name not in g and v.name not in reported:
                reported.add(v.name)
                unsafe(ctx, v, "the head")
    return True


def term_bound(t: Expr, g: set[str]) -> bool:
    return isinstance(t, Const) or (isinstance(t, Var) and t.name in g)


def grounded(modes: Mapping[str, str], lits: list[Lit], start: set[str],
             lenient: bool = False) -> set[str]:
    """Variables bound by the body; ``lenient`` lets Python relations bind theirs even
    when their inputs are unbound (that error is reported once, on the relation)."""
    g = set(start)
    changed = True
    while changed:
        changed = False
        for lit in lits:
            new = _binds(modes, lit, g, lenient)
            if not new <= g:
                g |= new
                changed = True
    return g


def _binds(modes: Mapping[str, str], lit: Lit, g: set[str], lenient: bool) -> set[str]:
    """The variables ``lit`` binds once the variables ``g`` are bound."""
    new: set[str] = set()
    if isinstance(lit, AtomLit) and not lit.negated:
        if not lit.python or lenient or all(
                term_bound(a, g) for a, m in zip(lit.args, modes[lit.relation], strict=False)
                if m == "b"):
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
    return new


def unsafe(ctx: Context, v: Var, where: str) -> None:
    ctx.error(v.loc, f"unsafe variable '{v.name}' in {where}: it is not bound by a "
              "positive body atom")


def _need(ctx: Context, exprs: list[Expr], g: set[str], reported: set[str],
          where: str) -> None:
    for e in exprs:
        for v in expr_vars(e, []):
            if v.name not in g and v.name not in reported:
                reported.add(v.name)
                unsafe(ctx, v, where)


def _check_inputs(ctx: Context, lit: AtomLit, strict: set[str]) -> None:
    """A Python relation's ``b`` columns must be bound by the rest of the body."""
    mode = ctx.modes[lit.relation]
    for i, (a, m) in enumerate(zip(lit.args, mode, strict=False)):
        if m == "b" and not term_bound(a, strict):
            what = f"'{a.name}' is not bound" if isinstance(a, Var) else "it is a wildcard"
            ctx.error(lit.loc, f"Python relation '{lit.relation}' needs "
                      f"argument {i + 1} bound, but {what}")


def _check_aggregate(ctx: Context, lit: AggregateLit, g: set[str],
                     reported: set[str]) -> None:
    for name in sorted(lit.outer - g):
        if name not in reported:
            reported.add(name)
            unsafe(ctx, Var(name, lit.loc), "an aggregate")
    inner = check_safe(ctx, lit.body, set(lit.outer), reported)
    if lit.target is not None:
        for v in expr_vars(lit.target, []):
            if v.name not in inner and v.name not in reported:
                reported.add(v.name)
                unsafe(ctx, v, "an aggregate")


def check_safe(ctx: Context, lits: list[Lit], start: set[str], reported: set[str]) -> set[str]:
    """Report the unsafe variables of ``lits`` (with ``start`` bound); the bound ones."""
    strict = grounded(ctx.modes, lits, start)
    g = grounded(ctx.modes, lits, start, lenient=True)
    for lit in lits:
        if isinstance(lit, AtomLit):
            if lit.negated:
                _need(ctx, list(lit.args), g, reported, f"the negation !{lit.relation}(...)")
            if lit.python:
                _check_inputs(ctx, lit, strict)
        elif isinstance(lit, CompareLit):
            _need(ctx, [lit.left, lit.right], g, reported, "a comparison")
        elif isinstance(lit, ConstraintLit):
            _need(ctx, list(lit.args), g, reported, f"{lit.name}(...)")
        else:
            _check_aggregate(ctx, lit, g, reported)
    return g
