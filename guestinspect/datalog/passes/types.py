"""Rule pass: types. Each variable gets the kind of the first positive atom column it is
in (or of what an ``=`` assigns it, or of an aggregate's result); then every atom argument,
comparison, constraint, operator and functor call is checked against the kinds it needs.
Sets ``NormRule.var_types`` (the code generator reads it to wrap unsigned arithmetic)."""

from __future__ import annotations

from ..builtin_functors import Functor, args_of, combine, row_of
from ..ir import AggregateLit, AtomLit, CompareLit, ConstraintLit, Lit
from ..syntax import Aggregate, BinOp, Call, Const, Expr, Var, Wildcard
from .context import NUMERIC, Context, RuleJob, const_kind, kind_name, show_constant

#: variable -> (kind, where it got it)
Types = dict[str, tuple[str, str]]


def check_types(ctx: Context, job: RuleJob) -> bool:
    norm = job.norm
    assert norm is not None
    types: Types = {}
    infer(ctx, norm.body, types)
    norm.var_types = {k: v[0] for k, v in types.items()}
    check_lits(ctx, norm.body, types)
    kinds = ctx.analysis.kinds.get(norm.head, [])
    for i, a in enumerate(norm.head_args):
        k = expr_kind(ctx, a, types)
        if i < len(kinds) and k is not None and not _compatible(k, kinds[i]):
            mismatch(ctx, a, norm.head, i, kinds[i], k)
    return True


def _compatible(got: str, want: str) -> bool:
    return got == want or (got in NUMERIC and want in NUMERIC)


def mismatch(ctx: Context, e: Expr, rel: str, i: int, want: str, got: str) -> None:
    col = ctx.analysis.declarations[rel].columns[i].name
    what = (f"the constant {show_constant(e.value)}" if isinstance(e, Const) else
            f"variable '{e.name}'" if isinstance(e, Var) else "the expression")
    ctx.error(e.loc, f"type mismatch: column '{col}' of {rel} is {kind_name(want)}, "
              f"but {what} is {kind_name(got)}")


def infer(ctx: Context, lits: list[Lit], types: Types) -> None:
    """The kinds of the variables: from positive atoms first, then from assignments and
    aggregates (three rounds)."""
    for lit in lits:
        if isinstance(lit, AtomLit) and not lit.negated:
            _infer_atom(ctx, lit, types)
        elif isinstance(lit, AggregateLit):
            infer(ctx, lit.body, types)
    for _ in range(3):
        for lit in lits:
            if isinstance(lit, CompareLit) and lit.op == "=":
                _infer_assignment(ctx, lit, types)
            elif isinstance(lit, AggregateLit) and lit.result not in types:
                _infer_aggregate(ctx, lit, types)


def _infer_atom(ctx: Context, lit: AtomLit, types: Types) -> None:
    kinds = ctx.analysis.kinds.get(lit.relation, [])
    for i, a in enumerate(lit.args):
        if isinstance(a, Var) and i < len(kinds):
            prev = types.get(a.name)
            where = f"{lit.relation}"
            if prev is None:
                types[a.name] = (kinds[i], where)
            elif not _compatible(prev[0], kinds[i]):
                ctx.error(a.loc, f"type mismatch: variable '{a.name}' is "
                          f"{kind_name(prev[0])} in {prev[1]} but "
                          f"{kind_name(kinds[i])} in {where}")


def _infer_assignment(ctx: Context, lit: CompareLit, types: Types) -> None:
    for x, y in ((lit.left, lit.right), (lit.right, lit.left)):
        if isinstance(x, Var) and x.name not in types:
            k = expr_kind(ctx, y, types)
            if k is not None:
                types[x.name] = (k, "a comparison")


def _infer_aggregate(ctx: Context, lit: AggregateLit, types: Types) -> None:
    if lit.op == "count":
        types[lit.result] = ("number", "count")
    elif lit.op == "mean":
        types[lit.result] = ("float", "mean")
    elif lit.target is not None:
        k = expr_kind(ctx, lit.target, types)
        if k is not None:
            types[lit.result] = (k, lit.op)


def check_lits(ctx: Context, lits: list[Lit], types: Types) -> None:
    for lit in lits:
        if isinstance(lit, AtomLit):
            _check_atom(ctx, lit, types)
        elif isinstance(lit, CompareLit):
            lk = expr_kind(ctx, lit.left, types)
            rk = expr_kind(ctx, lit.right, types)
            if lk is not None and rk is not None and (lk == "symbol") != (rk == "symbol"):
                ctx.error(lit.loc, f"type mismatch: cannot compare {kind_name(lk)} "
                          f"with {kind_name(rk)} using '{lit.op}'")
        elif isinstance(lit, ConstraintLit):
            for arg in lit.args:
                k = expr_kind(ctx, arg, types)
                if k is not None and k != "symbol":
                    ctx.error(arg.loc, f"type mismatch: {lit.name}() needs symbols, "
                              f"but got {kind_name(k)}")
        elif isinstance(lit, AggregateLit):
            check_lits(ctx, lit.body, types)
            if lit.target is not None and lit.op in ("sum", "mean"):
                k = expr_kind(ctx, lit.target, types)
                if k == "symbol":
                    ctx.error(lit.loc, f"type mismatch: {lit.op} of a symbol")


def _check_atom(ctx: Context, lit: AtomLit, types: Types) -> None:
    kinds = ctx.analysis.kinds.get(lit.relation, [])
    for i, a in enumerate(lit.args):
        if i >= len(kinds) or (isinstance(a, Var) and not lit.negated):
            continue  # a variable's kind comes from the positive atoms
        k = expr_kind(ctx, a, types) if not isinstance(a, Wildcard) else None
        if k is not None and not _compatible(k, kinds[i]):
            mismatch(ctx, a, lit.relation, i, kinds[i], k)


def expr_kind(ctx: Context, e: Expr | None, types: Types) -> str | None:
    """The kind of an expression (None: not known), reporting misused operators and
    functors on the way."""
    if e is None or isinstance(e, Wildcard | Aggregate):
        return None
    if isinstance(e, Const):
        return const_kind(e.value, e.unsigned)
    if isinstance(e, Var):
        t = types.get(e.name)
        return t[0] if t else None
    if isinstance(e, Call) and e.user:
        return user_call_kind(ctx, e, types)
    row = row_of(e)
    if row is None:
        return None
    kinds = [expr_kind(ctx, a, types) for a in args_of(e)]
    if isinstance(e, BinOp) and e.op == "+" and "symbol" in kinds and \
            set(kinds) <= {"symbol", None}:
        return "symbol"  # Soufflé: '+' on symbols concatenates
    if isinstance(e, Call):
        check_arguments(ctx, e, row, kinds)
    elif "symbol" in kinds:
        ctx.error(e.loc, f"type mismatch: operator '{row.name}' on a symbol")
        if isinstance(e, BinOp):
            return None
    return combine(row.result, kinds)


def user_call_kind(ctx: Context, e: Call, types: Types) -> str | None:
    decl = ctx.analysis.functors.get(e.name)
    if decl is None:
        return None
    for a, p in zip(e.args, decl.params, strict=False):
        k = expr_kind(ctx, a, types)
        want = ctx.analysis.types.get(p.type, "symbol")
        if k is not None and (k == "symbol") != (want == "symbol"):
            ctx.error(a.loc, f"type mismatch: argument '{p.name}' of @{e.name} is "
                      f"{kind_name(want)}, but got {kind_name(k)}")
    return ctx.analysis.types.get(decl.result, "symbol")


def check_arguments(ctx: Context, e: Call, row: Functor, kinds: list[str | None]) -> None:
    """Each argument of a built-in functor against its parameter's kind."""
    uniform = len(set(row.params)) == 1
    for i, (a, k) in enumerate(zip(e.args, kinds, strict=True)):
        want = row.param(i)
        if k is None or want == "any" or (want == "symbol") == (k == "symbol"):
            continue
        if uniform:
            ctx.error(a.loc, f"type mismatch: {e.name}() needs "
                      f"{'a symbol' if want == 'symbol' else 'a number'}, "
                      f"but got {kind_name(k)}")
        else:
            ctx.error(a.loc, f"type mismatch: {e.name}() argument is "
                      f"{kind_name(k)}, expected {kind_name(want)}")
