"""Rule pass: the scope of each aggregate. Which of its variables come from the rest of the
rule (``AggregateLit.outer``: inputs, bound outside) and which are witnesses (bound only
inside a ``min``/``max`` and used outside: ``witnesses``); a witness of another aggregate is
an error. Runs on the lowered rule, before safety (which reads both)."""

from __future__ import annotations

from ..ir import AggregateLit, CompareLit, Lit, lit_vars
from ..syntax import Expr, expr_vars
from .context import Context, RuleJob
from .safety import grounded


def scope_aggregates(ctx: Context, job: RuleJob) -> bool:
    norm = job.norm
    assert norm is not None
    outside: set[str] = set()
    for a in norm.head_args:
        outside |= {v.name for v in expr_vars(a, [])}
    for lit in norm.body:
        if not isinstance(lit, AggregateLit):
            outside |= lit_vars(lit)
        else:
            outside.add(lit.result)
    aggregates = [lit for lit in norm.body if isinstance(lit, AggregateLit)]
    for agg in aggregates:
        _set_outer(agg, outside)
    # a variable shared with the rest of the rule is an input of the aggregate only if
    # the rest of the rule binds it (``Y = min Z + Y : {...}`` has a local Y)
    for agg in aggregates:
        others = [lit for lit in norm.body if lit is not agg]
        bound_elsewhere = grounded(ctx.modes, others, set(), lenient=True)
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
            ctx.error(agg.loc, f"unsupported: aggregate witness variable "
                      f"'{witnesses[0]}' (bound only inside a {agg.op} aggregate)")
        agg.witnesses = witnesses
    return True


def _var_names(*exprs: Expr) -> set[str]:
    return {v.name for e in exprs for v in expr_vars(e, [])}


def _set_outer(agg: AggregateLit, outside: set[str]) -> None:
    inner: set[str] = set()
    if agg.target is not None:
        inner |= {v.name for v in expr_vars(agg.target, [])}
    for lit in agg.body:
        if isinstance(lit, AggregateLit):
            _set_outer(lit, outside | inner | _all_vars(agg.body))
            inner |= lit.outer
        else:
            inner |= lit_vars(lit)
    agg.outer = inner & outside


def _all_vars(lits: list[Lit]) -> set[str]:
    out: set[str] = set()
    for lit in lits:
        if not isinstance(lit, AggregateLit):
            out |= lit_vars(lit)
    return out
