"""Rule pass: ground the witnesses of nested aggregates, as Soufflé's GroundWitnesses does.

A *witness* is a variable bound only inside an aggregate's body and used outside it. For a
``min``/``max`` aggregate written directly in the rule, the scope pass (aggregates.py) lets
the value come from a body tuple that achieves the extremum. A witness of a ``min``/``max``
nested in another aggregate is exported by grounding: inside the nested aggregate the witness
is renamed (it becomes local there), and the rule gets a copy of the aggregate (``N'``) and
copies of its body literals whose target is that value, so that the witness takes the value
of every body tuple that achieves the extremum::

    F(r, w) :- r = count : { B(x, _), x > min y : { D(y, w) } }.
    # becomes
    F(r, w) :- r = count : { B(x, _), x > min y : { D(y, w1) } },
               m = min y2 : { D(y2, w2) }, D(m, w).

A nested aggregate whose witness is grounded must use no variable of the aggregates around it
(its other inputs are bound by the rule's own literals) and hold no aggregate itself; a
witness of a nested ``count``, ``sum`` or ``mean`` is an error, as in Soufflé.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..ir import AggregateLit, AtomLit, CompareLit, ConstraintLit, Lit, NormRule, lit_vars
from ..syntax import BinOp, Call, Expr, UnOp, Var, expr_vars
from .context import Context, RuleJob
from .safety import grounded


def ground_witnesses(ctx: Context, job: RuleJob) -> bool:
    norm = job.norm
    assert norm is not None
    outside = _rule_vars(norm)
    for top in [lit for lit in norm.body if isinstance(lit, AggregateLit)]:
        others = [lit for lit in norm.body if lit is not top]
        bound = grounded(ctx.modes, others, set(), lenient=True)
        for agg, above in _nested(top, set()):
            found = sorted((_own_vars(agg) & outside) - bound - above)
            if found:
                _ground(ctx, norm, agg, found, above | outside, bound)
    return not job.failed(ctx)


def _rule_vars(norm: NormRule) -> set[str]:
    """The variables of the head and of the rule's own literals (not inside aggregates)."""
    out = {v.name for a in norm.head_args for v in expr_vars(a, [])}
    for lit in norm.body:
        out |= {lit.result} if isinstance(lit, AggregateLit) else lit_vars(lit)
    return out


def _own_vars(agg: AggregateLit) -> set[str]:
    """The variables the aggregate's own literals mention (not those of aggregates in it)."""
    out: set[str] = set()
    for lit in agg.body:
        if not isinstance(lit, AggregateLit):
            out |= lit_vars(lit)
    return out


def _nested(agg: AggregateLit, above: set[str]) -> Iterator[tuple[AggregateLit, set[str]]]:
    """The aggregates nested in ``agg`` (at any depth), each with the variables of the
    aggregates around it (their own literals and targets)."""
    here = above | _own_vars(agg) | _target_vars(agg)
    for lit in agg.body:
        if isinstance(lit, AggregateLit):
            yield lit, here
            yield from _nested(lit, here)


def _target_vars(agg: AggregateLit) -> set[str]:
    return {v.name for v in expr_vars(agg.target, [])}


def _ground(ctx: Context, norm: NormRule, agg: AggregateLit, witnesses: list[str],
            elsewhere: set[str], bound: set[str]) -> None:
    names = _own_vars(agg) | _target_vars(agg)
    inputs = (names & elsewhere) - set(witnesses)
    if agg.op not in ("min", "max"):
        ctx.error(agg.loc, f"unsupported: aggregate witness variable '{witnesses[0]}' "
                  f"(bound only inside a {agg.op} aggregate)")
        return
    if any(isinstance(lit, AggregateLit) for lit in agg.body) or not inputs <= bound:
        ctx.error(agg.loc, f"unsupported: witness variable '{witnesses[0]}' of an aggregate "
                  "that is nested in another and uses its variables or holds an aggregate")
        return
    locals_ = sorted(names - inputs - set(witnesses))
    # the nested aggregate keeps the witness to itself
    inside = {w: _fresh(ctx, w) for w in witnesses}
    agg.body = [_rename(lit, inside) for lit in agg.body]
    agg.target = _expr(agg.target, inside)
    # its copy in the rule, every local renamed, and the literals that ground the witness
    copy_names = {v: _fresh(ctx, v) for v in [*locals_, *witnesses]}
    value = Var(_fresh(ctx, "_agg"), agg.loc)
    norm.body.append(AggregateLit(value.name, agg.op, _expr(agg.target, _rekey(inside, copy_names)),
                                  [_rename(lit, _rekey(inside, copy_names)) for lit in agg.body],
                                  agg.loc))
    grounding = {v: _fresh(ctx, v) for v in locals_}
    target = agg.target
    assert target is not None  # min and max have one
    if isinstance(target, Var) and target.name in grounding:
        grounding[target.name] = value.name
        extra: list[Lit] = []
    else:
        extra = [CompareLit("=", value, _sub(target, _rekey(inside, grounding)), agg.loc)]
    for lit in agg.body:
        norm.body.append(_rename(lit, _rekey(inside, grounding)))
    norm.body.extend(extra)


def _rekey(inside: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    """A renaming of the nested aggregate's literals (whose witnesses are already renamed
    ``inside``): locals by ``names``, each renamed witness back to ``names``' choice for it
    or to the witness itself."""
    out = dict(names)
    for w, w_in in inside.items():
        out[w_in] = names.get(w, w)
    return out


def _fresh(ctx: Context, base: str) -> str:
    ctx.fresh += 1
    return f"_{base.lstrip('_')}{ctx.fresh}"


def _expr(e: Expr | None, names: dict[str, str]) -> Expr | None:
    if isinstance(e, Var):
        return Var(names.get(e.name, e.name), e.loc)
    if isinstance(e, BinOp):
        return BinOp(e.op, _sub(e.left, names), _sub(e.right, names), e.loc)
    if isinstance(e, UnOp):
        return UnOp(e.op, _sub(e.arg, names), e.loc)
    if isinstance(e, Call):
        return Call(e.name, tuple(_sub(a, names) for a in e.args), e.user, e.loc)
    return e


def _sub(e: Expr, names: dict[str, str]) -> Expr:
    out = _expr(e, names)
    assert out is not None
    return out


def _rename(lit: Lit, names: dict[str, str]) -> Lit:
    if isinstance(lit, AtomLit):
        args = tuple(Var(names.get(a.name, a.name), a.loc) if isinstance(a, Var) else a
                     for a in lit.args)
        return AtomLit(lit.relation, args, lit.negated, lit.loc, lit.python)
    if isinstance(lit, CompareLit):
        return CompareLit(lit.op, _sub(lit.left, names), _sub(lit.right, names), lit.loc)
    if isinstance(lit, ConstraintLit):
        return ConstraintLit(lit.name, tuple(_sub(a, names) for a in lit.args), lit.negated,
                             lit.loc)
    raise AssertionError("an aggregate in a grounded aggregate")  # refused by _ground

