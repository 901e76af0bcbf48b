"""Soufflé's records (``.type P = [a: number, b: symbol]``, ``[x, y]``, ``nil``), rewritten
into hidden Python relations before the checks (called by desugar.py).

A record value is a :class:`Record` (a tuple, printed ``[1, 2]``; ``nil`` is the empty one).
A record written where its fields are known (a head, a negation, ``r = [x, y]`` with x and y
bound) is built by ``record.pack.P(x, y, r)``; one written where a value is matched (a body
atom's argument, ``r = [x, y]`` with r bound) is taken apart by ``record.unpack.P(r, x, y)``,
so that its fields are bound, or compared when they already are. A record type's kind is
``symbol`` for the checks (records are compared only for equality). ``nil`` is a record only
in a program that declares a record type. Records in ``.facts`` files are not read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TypeGuard

from .syntax import (
    RECORD,
    Aggregate,
    Atom,
    BinOp,
    Call,
    Column,
    Comparison,
    Const,
    Constraint,
    Declaration,
    Expr,
    Literal,
    Location,
    Module,
    Negation,
    Rule,
    UnOp,
    Var,
    Wildcard,
    expr_vars,
    walk,
)

Generator = Callable[..., Iterator[tuple[object, ...]]]

#: Bodies up to this many literals decide each record comparison's direction from what the
#: other literals bind (quadratic); longer ones from what the whole body binds.
MAX_EXACT = 50


class Record(tuple[object, ...]):
    """A record value: ``[1, a]`` as Soufflé prints it; the empty record is ``nil``."""

    __slots__ = ()

    def __str__(self) -> str:
        return "[" + ", ".join(str(v) for v in self) + "]" if self else "nil"


NIL = Record()


def _pack(*fields: object) -> Iterator[tuple[object, ...]]:
    yield (Record(fields),)


def _unpacker(n: int) -> Generator:
    def unpack(r: object) -> Iterator[tuple[object, ...]]:
        if isinstance(r, Record) and len(r) == n:
            yield tuple(r)
    return unpack


def _nil() -> Iterator[tuple[object, ...]]:
    yield (NIL,)


def _is_rec(e: Expr) -> TypeGuard[Call]:
    return isinstance(e, Call) and e.name == RECORD


def _is_nil(e: Expr) -> bool:
    return isinstance(e, Var) and e.name == "nil"


def _is_record(e: Expr) -> bool:
    return _is_rec(e) or _is_nil(e)


class RecordRewriter:
    def __init__(self, module: Module, python: dict[str, tuple[Generator, str]],
                 declarations: list[Declaration]) -> None:
        self.records = module.records
        self.python = python
        self.declarations = declarations
        self.declared: set[str] = set()
        self.types = {(d.name, i): c.type for d in module.declarations
                      for i, c in enumerate(d.columns)}
        self.fresh = 0

    def new_var(self, loc: Location) -> Var:
        self.fresh += 1
        return Var(f"record.{self.fresh}", loc)

    # ---- hidden relations ----------------------------------------------------------------
    def fields(self, rtype: str | None, e: Call) -> tuple[str, list[str]]:
        """The relation suffix and field types of a record of type ``rtype``."""
        cols = self.records.get(rtype or "")
        if cols is None or len(cols) != len(e.args):  # the only record type of that arity?
            same = [n for n, c in self.records.items() if len(c) == len(e.args)]
            rtype = same[0] if len(same) == 1 else rtype
            cols = self.records.get(rtype or "")
        if cols is not None and len(cols) == len(e.args):
            return str(rtype), [c.type for c in cols]
        kinds = ["symbol" if isinstance(a, Const) and isinstance(a.value, str) else "number"
                 for a in e.args]
        return f"{len(e.args)}.{''.join(k[0] for k in kinds)}", kinds

    def declare(self, name: str, fn: Generator, modes: str, types: list[str],
                loc: Location) -> None:
        if name in self.declared:
            return
        self.declared.add(name)
        self.python[name] = (fn, modes)
        self.declarations.append(Declaration(name, [Column(f"c{i}", t, loc)
                                                    for i, t in enumerate(types)], loc))

    def nil(self, e: Expr, out: list[Literal]) -> Var:
        v = self.new_var(e.loc)
        self.declare("record.nil", _nil, "f", ["symbol"], e.loc)
        out.append(Atom("record.nil", (v,), e.loc))
        return v

    # ---- building and matching -----------------------------------------------------------
    def build(self, e: Expr, rtype: str | None, out: list[Literal]) -> Expr:
        """``e`` with its records built (from known fields) into fresh variables."""
        if _is_nil(e):
            return self.nil(e, out)
        if isinstance(e, Call) and e.name == RECORD:
            suffix, types = self.fields(rtype, e)
            args = tuple(self.build(a, t, out) for a, t in zip(e.args, types, strict=True))
            v = self.new_var(e.loc)
            name = f"record.pack.{suffix}"
            self.declare(name, _pack, "b" * len(args) + "f", [*types, rtype or "symbol"],
                         e.loc)
            out.append(Atom(name, (*args, v), e.loc))
            return v
        if isinstance(e, BinOp):
            return replace(e, left=self.build(e.left, None, out),
                           right=self.build(e.right, None, out))
        if isinstance(e, UnOp):
            return replace(e, arg=self.build(e.arg, None, out))
        if isinstance(e, Call):
            return replace(e, args=tuple(self.build(a, None, out) for a in e.args))
        if isinstance(e, Aggregate):
            return replace(e, body=self.body(e.body, set()))
        return e

    def match(self, e: Expr, rtype: str | None, out: list[Literal]) -> Expr:
        """``e`` with its records matched against a value: a fresh variable, taken apart."""
        if _is_nil(e):
            return self.nil(e, out)
        if not _is_rec(e):
            return self.build(e, rtype, out)
        v = self.new_var(e.loc)
        self.unpack(v, e, rtype, out)
        return v

    def unpack(self, v: Expr, e: Call, rtype: str | None, out: list[Literal]) -> None:
        suffix, types = self.fields(rtype, e)
        args = tuple(self.match(a, t, out) for a, t in zip(e.args, types, strict=True))
        name = f"record.unpack.{suffix}"
        self.declare(name, _unpacker(len(args)), "b" + "f" * len(args),
                     [rtype or "symbol", *types], e.loc)
        out.append(Atom(name, (v, *args), e.loc))

    # ---- rules ---------------------------------------------------------------------------
    def var_type(self, name: str, lits: tuple[Literal, ...]) -> str | None:
        for lit in lits:
            if isinstance(lit, Atom):
                for i, a in enumerate(lit.args):
                    if isinstance(a, Var) and a.name == name:
                        return self.types.get((lit.relation, i))
        return None

    def comparison(self, lit: Comparison, bound: set[str], lits: tuple[Literal, ...],
                   out: list[Literal]) -> Literal | None:
        """``x = [a, b]``: built if its fields are known (then compared or assigned), else
        taken apart if x is bound (None: nothing left of the comparison)."""
        rec, other = (lit.left, lit.right) if _is_record(lit.left) else (lit.right, lit.left)
        if len(lits) <= MAX_EXACT:  # what the other literals bind (not this one)
            bound = grounded(tuple(x for x in lits if x is not lit), set())
        buildable = _record_vars(rec) <= bound and not _has_wildcard(rec)
        if lit.op == "=" and _is_rec(rec) and isinstance(other, Var) and \
                other.name in bound and not buildable:
            self.unpack(other, rec, self.var_type(other.name, lits), out)
            return None
        rtype = self.var_type(other.name, lits) if isinstance(other, Var) else None
        return replace(lit, left=self.build(lit.left, rtype, out),
                       right=self.build(lit.right, rtype, out))

    def literal(self, lit: Literal, bound: set[str], lits: tuple[Literal, ...],
                out: list[Literal]) -> None:
        if isinstance(lit, Atom):
            post: list[Literal] = []
            args = tuple(self.match(a, self.types.get((lit.relation, i)), post)
                         for i, a in enumerate(lit.args))
            out.append(replace(lit, args=args))
            out.extend(post)
        elif isinstance(lit, Negation):
            atom = lit.atom
            args = tuple(self.build(a, self.types.get((atom.relation, i)), out)
                         for i, a in enumerate(atom.args))
            out.append(replace(lit, atom=replace(atom, args=args)))
        elif isinstance(lit, Comparison) and (_is_record(lit.left) or _is_record(lit.right)):
            new = self.comparison(lit, bound, lits, out)
            if new is not None:
                out.append(new)
        elif isinstance(lit, Comparison):
            out.append(replace(lit, left=self.build(lit.left, None, out),
                               right=self.build(lit.right, None, out)))
        elif isinstance(lit, Constraint):
            out.append(replace(lit, args=tuple(self.build(a, None, out) for a in lit.args)))
        else:
            out.append(lit)

    def body(self, lits: tuple[Literal, ...], outer: set[str]) -> tuple[Literal, ...]:
        bound = grounded(lits, outer)
        out: list[Literal] = []
        for lit in lits:
            self.literal(lit, bound, lits, out)
        return tuple(out)

    def rule(self, rule: Rule) -> Rule:
        body = list(self.body(rule.body, set()))
        head_args = tuple(self.build(a, self.types.get((rule.head.relation, i)), body)
                          for i, a in enumerate(rule.head.args))
        return replace(rule, head=replace(rule.head, args=head_args), body=tuple(body))


def _has_wildcard(e: Expr) -> bool:
    stack = [e]
    while stack:
        n = stack.pop()
        if isinstance(n, Wildcard):
            return True
        if isinstance(n, Call):
            stack.extend(n.args)
    return False


def _pattern_vars(e: Expr) -> set[str]:
    """The variables that matching a record binds: its fields', nested records' too."""
    out: set[str] = set()
    stack = [e]
    while stack:
        n = stack.pop()
        if isinstance(n, Var) and n.name != "nil":
            out.add(n.name)
        elif _is_rec(n):
            stack.extend(n.args)
    return out


def _record_vars(e: Expr) -> set[str]:
    return {v.name for v in expr_vars(e, []) if v.name != "nil"}


def grounded(lits: tuple[Literal, ...], start: set[str]) -> set[str]:
    """The variables the body binds: those of positive atoms (inside records too), then
    through ``=`` in either direction (a record's fields from a bound record)."""
    g = set(start)
    for lit in lits:
        if isinstance(lit, Atom):
            for a in lit.args:
                g |= _pattern_vars(a)
    eqs = [lit for lit in lits if isinstance(lit, Comparison) and lit.op == "="]
    changed = True
    while changed:
        changed = False
        for lit in eqs:
            for x, y in ((lit.left, lit.right), (lit.right, lit.left)):
                new: set[str] = set()
                if isinstance(x, Var) and _record_vars(y) <= g:
                    new = {x.name}
                elif _is_rec(x) and isinstance(y, Var) and y.name in g:
                    new = _pattern_vars(x)
                if not new <= g:
                    g |= new
                    changed = True
    return g


def rewrite_records(module: Module, python: dict[str, tuple[Generator, str]],
                    declarations: list[Declaration]) -> Module:
    """The module with its records rewritten (the same module if it declares none)."""
    rw = RecordRewriter(module, python, declarations)
    if module.records:
        return replace(module, rules=[rw.rule(r) for r in module.rules])
    marked = [_mentions_record(r) for r in module.rules]  # (a #define may hide the "[")
    if not any(marked):
        return module
    return replace(module, rules=[rw.rule(r) if m else r
                                  for r, m in zip(module.rules, marked, strict=True)])


def _mentions_record(rule: Rule) -> bool:
    """Whether a rule has a ``[…]`` record (without recursion)."""
    return any(isinstance(n, Call) and n.name == RECORD for n in walk(rule.head, *rule.body))
