"""``.key Rel(col, ...)``: a uniqueness constraint on the tuples the program text writes,
checked when the program loads (static: no evaluation).

The key columns must determine the other columns among the *written* tuples of ``Rel``: its
facts, and the heads of its rules. A rule's head is taken as written when its key columns
are constants; a key column that is a variable bound by a positive atom of a *table* (a
relation the program only gives facts for) is instantiated with each fact of the table that
the atom matches, so a rule that copies ranks out of a table is checked fact by fact. Two
written tuples with the same key collide unless every other column is the same in both: the
same constant, a variable in both (the thing the choice is made for: a filesystem, a root),
or the same expression. A clause whose key is not known statically (a variable bound by a
derived relation, an expression) is not checked.

It is meant for ranked choices: ``.key FsRoleCandidate(rank)`` makes two candidates of one
rank with different outcomes (two winners of ``k = min j : FsRoleCandidate(fs, j, _, _)``)
an error naming both places, not a silent second answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .explain import show_expr, show_value
from .syntax import (
    Atom,
    Const,
    Declaration,
    Expr,
    KeyDecl,
    KeyPart,
    Location,
    Module,
    Rule,
    Value,
    Var,
)

#: The most tuples one clause is instantiated into (a product of large tables is not checked).
MAX_INSTANCES = 10_000


@dataclass(frozen=True)
class Written:
    """One tuple the program text writes: each column's text (a constant as written, ``_``
    for a variable, an expression as written), whether the key columns are all constants, and
    where it is written (the fact's place when it comes from a table)."""

    columns: tuple[str, ...]
    known: bool
    loc: Location


def check_keys(module: Module, declarations: dict[str, Declaration]) -> list[str]:
    """Errors ``file:line:col: message`` for each ``.key`` that is malformed or violated."""
    tables = _tables(module.rules)
    errors: list[str] = []
    for key in module.keys:
        parts: list[tuple[KeyPart, list[int]]] = []
        for part in key.parts:
            problem = _malformed(part, declarations, len(key.parts[0].columns))
            if problem:
                errors.append(f"{part.loc}: {problem}")
            else:
                names = [c.name for c in declarations[part.relation].columns]
                parts.append((part, [names.index(c) for c in part.columns]))
        if len(parts) == len(key.parts):
            errors.extend(_collisions(key, parts, module, tables))
    return errors


def _malformed(part: KeyPart, declarations: dict[str, Declaration], width: int) -> str:
    decl = declarations.get(part.relation)
    if decl is None:
        return f"undeclared relation '{part.relation}' in .key"
    names = [c.name for c in decl.columns]
    unknown = [c for c in part.columns if c not in names]
    if unknown:
        return f"relation '{part.relation}' has no column '{unknown[0]}' (.key)"
    if len(part.columns) != width:
        return f".key names {width} columns of each relation, {len(part.columns)} here"
    return ""


def _tables(rules: list[Rule]) -> dict[str, list[Rule]]:
    """The relations given only by facts, with their facts."""
    facts: dict[str, list[Rule]] = {}
    derived: set[str] = set()
    for rule in rules:
        if rule.body:
            derived.add(rule.head.relation)
        else:
            facts.setdefault(rule.head.relation, []).append(rule)
    return {name: rows for name, rows in facts.items() if name not in derived}


def _collisions(key: KeyDecl, parts: list[tuple[KeyPart, list[int]]], module: Module,
                tables: dict[str, list[Rule]]) -> list[str]:
    first: dict[tuple[str, ...], tuple[str, Written]] = {}
    errors: list[str] = []
    title = ", ".join(f"{p.relation}({', '.join(p.columns)})" for p, _ in parts)
    cols_of = {p.relation: cols for p, cols in parts}
    for rule in module.rules:
        cols = cols_of.get(rule.head.relation)
        if cols is None:
            continue
        for w in _written(rule, cols, tables):
            if not w.known:
                continue
            k = tuple(w.columns[i] for i in cols)
            relation, seen = first.setdefault(k, (rule.head.relation, w))
            if (relation, seen.columns) != (rule.head.relation, w.columns):
                errors.append(
                    f"{w.loc}: .key {title}: {', '.join(k)} is given twice: "
                    f"{_show(rule.head.relation, w)} here and {_show(relation, seen)} at "
                    f"{seen.loc}")
    return errors


def _show(relation: str, w: Written) -> str:
    return f"{relation}({', '.join(w.columns)})"


def _written(rule: Rule, cols: list[int], tables: dict[str, list[Rule]]) -> Iterator[Written]:
    """The tuples a clause writes, its key variables instantiated from the tables."""
    head = rule.head.args
    wanted = {a.name for i, a in enumerate(head) if i in cols and isinstance(a, Var)}
    atoms = [lit for lit in rule.body if isinstance(lit, Atom) and lit.relation in tables
             and wanted & {a.name for a in lit.args if isinstance(a, Var)}]
    substitutions: list[tuple[dict[str, Value], Location]] = [({}, rule.loc)]
    for atom in atoms:
        substitutions = [(s2, fact.loc) for s, _ in substitutions
                         for fact in tables[atom.relation]
                         if (s2 := _match(atom, fact.head, s)) is not None]
        if len(substitutions) > MAX_INSTANCES:
            return
    for s, loc in substitutions:
        columns = tuple(_text(a, s) for a in head)
        yield Written(columns, all(_known(head[i], s) for i in cols), loc)


def _known(e: Expr, s: dict[str, Value]) -> bool:
    return isinstance(e, Const) or (isinstance(e, Var) and e.name in s)


def _match(atom: Atom, fact: Atom, s: dict[str, Value]) -> dict[str, Value] | None:
    """``s`` extended so that ``atom`` is ``fact`` (None: it cannot be)."""
    out = dict(s)
    for a, f in zip(atom.args, fact.args, strict=False):
        if not isinstance(f, Const):
            return None
        if isinstance(a, Const) and a.value != f.value:
            return None
        if isinstance(a, Var):
            if out.setdefault(a.name, f.value) != f.value:
                return None
    return out


def _text(e: Expr, s: dict[str, Value]) -> str:
    if isinstance(e, Var):
        return show_value(s[e.name]) if e.name in s else "_"
    return show_expr(e, s)
