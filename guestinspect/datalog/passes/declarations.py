"""Pass: the program's declarations. Types resolve to a base kind (no cycles, no unknown
types), relations and functors are declared once, every registered Python relation has a
binding pattern that fits its declaration, and ``.input``/``.output``/``.plumbing`` name
declared relations. Fills ``Analysis.types``, ``declarations``, ``kinds`` and ``functors``."""

from __future__ import annotations

from ..syntax import Location, TypeDecl
from .context import BASE_KINDS, Context


def check_declarations(ctx: Context) -> None:
    check_types(ctx)
    check_relations(ctx)
    check_functors(ctx)
    check_modes(ctx)
    check_directives(ctx)


def check_relations(ctx: Context) -> None:
    a = ctx.analysis
    for d in ctx.module.declarations:
        if d.name in a.declarations:
            prev = a.declarations[d.name].loc
            a.error(d.loc, f"relation '{d.name}' is declared twice (first at {prev})")
            continue
        kinds = []
        for c in d.columns:
            kinds.append(resolve(ctx, c.type, c.loc))
        a.declarations[d.name] = d
        a.kinds[d.name] = kinds


def check_functors(ctx: Context) -> None:
    a = ctx.analysis
    for f in ctx.module.functors:
        for c in f.params:
            resolve(ctx, c.type, c.loc)
        resolve(ctx, f.result, f.loc)
        if f.name in a.functors:
            a.error(f.loc, f"functor '{f.name}' is declared twice")
        elif f.name not in ctx.functors:
            a.error(f.loc, f"functor '{f.name}' is declared but no Python function "
                    "is registered for it")
        a.functors[f.name] = f


def check_modes(ctx: Context) -> None:
    a = ctx.analysis
    for name, mode in ctx.modes.items():
        decl = a.declarations.get(name)
        if decl is None:
            continue
        if len(mode) != len(decl.columns) or set(mode) - {"b", "f"}:
            a.error(decl.loc, f"Python relation '{name}' has binding pattern "
                    f"'{mode}', but it needs one letter b or f for each of its "
                    f"{len(decl.columns)} columns")


def check_directives(ctx: Context) -> None:
    a = ctx.analysis
    for io in ctx.module.io:
        if io.relation not in a.declarations:
            a.error(io.loc, f"undeclared relation '{io.relation}' in .{io.kind}")
        elif io.relation in ctx.modes:
            a.error(io.loc, f"relation '{io.relation}' is computed by Python and "
                    f"cannot be used in .{io.kind}")
    for mark in ctx.module.plumbing:
        if mark.relation not in a.declarations:
            a.error(mark.loc, f"undeclared relation '{mark.relation}' in .plumbing")


def check_types(ctx: Context) -> None:
    """Resolve every type definition to its base kind, depth first without recursion
    (a chain of thousands of types is fine); a cycle of definitions is an error."""
    types = ctx.analysis.types
    pending = {t.name: t for t in ctx.module.types}
    for t in ctx.module.types:
        if t.name in BASE_KINDS:
            ctx.error(t.loc, f"cannot redefine the built-in type '{t.name}'")
    for first in ctx.module.types:
        if first.name not in types:
            _resolve_chain(ctx, pending, first.name)


def _resolve_chain(ctx: Context, pending: dict[str, TypeDecl], first: str) -> None:
    """Resolve ``first`` and the definitions it depends on, deepest first."""
    types = ctx.analysis.types
    stack = [first]
    on_path = {first}
    while stack:
        name = stack[-1]
        nxt = next((b for b in pending[name].bases if b not in types and b in pending), None)
        if nxt is None:
            stack.pop()
            on_path.discard(name)
            types[name] = base_kind(ctx, pending[name])
        elif nxt in on_path:
            cycle = stack[stack.index(nxt):]
            ctx.error(pending[nxt].loc, f"type '{nxt}' is defined in terms of "
                      f"itself ({' -> '.join([*cycle, nxt])})")
            for c in cycle:
                types[c] = "symbol"
            del stack[stack.index(nxt):]
            on_path.difference_update(cycle)
        else:
            stack.append(nxt)
            on_path.add(nxt)


def base_kind(ctx: Context, t: TypeDecl) -> str:
    """The kind of a type whose bases are all resolved (or unknown)."""
    types = ctx.analysis.types
    bad = [b for b in t.bases if b not in types]
    if bad:
        ctx.error(t.loc, f"unknown type '{bad[0]}' in the definition of '{t.name}'")
        return "symbol"
    kinds = {types[b] for b in t.bases}
    if len(kinds) > 1 and kinds != {"number", "unsigned"}:
        ctx.error(t.loc, f"type '{t.name}' mixes symbols and numbers")
    return sorted(kinds)[0]


def resolve(ctx: Context, name: str, loc: Location) -> str:
    """The kind of type ``name`` (an unknown type is an error, then taken as a symbol)."""
    kind = ctx.analysis.types.get(name)
    if kind is None:
        ctx.error(loc, f"unknown type '{name}'")
        ctx.analysis.types[name] = "symbol"
        return "symbol"
    return kind
