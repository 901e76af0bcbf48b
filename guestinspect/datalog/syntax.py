"""The abstract syntax of a Datalog program, every node with its source location."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

Value = str | int | float
U32 = 0xFFFFFFFF  # unsigned values wrap like Soufflé's default 32-bit RAM domain


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        name = self.file if self.file.isprintable() else \
            self.file.encode("unicode_escape").decode("ascii")  # an error stays one line
        return f"{name}:{self.line}:{self.col}"

    def __reduce__(self) -> tuple[type[Location], tuple[str, int, int]]:
        # the dataclass's own pickling of a slotted class is Python code per object: a cached
        # program (program_cache.py) holds tens of thousands of locations
        return (Location, (self.file, self.line, self.col))


# ---- expressions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Var:
    name: str
    loc: Location


@dataclass(frozen=True)
class Wildcard:
    loc: Location


@dataclass(frozen=True)
class Const:
    value: Value
    loc: Location
    unsigned: bool = False  # written with a ``u`` suffix


@dataclass(frozen=True)
class BinOp:
    op: str  # + - * / % ^ band bor bxor bshl bshr bshru land lor
    left: Expr
    right: Expr
    loc: Location


@dataclass(frozen=True)
class UnOp:
    op: str  # - bnot lnot
    arg: Expr
    loc: Location


@dataclass(frozen=True)
class Call:
    """A built-in functor (``cat(a, b)``) or a user functor (``@name(a)``)."""

    name: str
    args: tuple[Expr, ...]
    user: bool
    loc: Location


@dataclass(frozen=True)
class Aggregate:
    op: str  # count sum min max mean
    target: Expr | None
    body: tuple[Literal, ...]
    loc: Location


#: The name of the functor call ``[a, b, …]`` is parsed as: a record (records.py rewrites it)
RECORD = "[]"

Expr = Var | Wildcard | Const | BinOp | UnOp | Call | Aggregate


# ---- literals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Atom:
    relation: str
    args: tuple[Expr, ...]
    loc: Location


@dataclass(frozen=True)
class Negation:
    atom: Atom
    loc: Location


@dataclass(frozen=True)
class Comparison:
    op: str  # = != < <= > >=
    left: Expr
    right: Expr
    loc: Location


@dataclass(frozen=True)
class Constraint:
    """A boolean functor used as a literal: ``contains(a, b)``, ``!match(p, s)``."""

    name: str
    args: tuple[Expr, ...]
    negated: bool
    loc: Location


@dataclass(frozen=True)
class Truth:
    value: bool
    loc: Location


@dataclass(frozen=True)
class Disjunction:
    """``(a ; b)`` inside a body: each alternative is a conjunction."""

    alternatives: tuple[tuple[Literal, ...], ...]
    loc: Location


@dataclass(frozen=True)
class NegatedGroup:
    """``!( body )``: no alternative holds (rewritten by desugar.py into a negated atom)."""

    alternatives: tuple[tuple[Literal, ...], ...]
    loc: Location


Literal = Atom | Negation | Comparison | Constraint | Truth | Disjunction | NegatedGroup


# ---- clauses and directives --------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    head: Atom
    body: tuple[Literal, ...]  # a conjunction (disjunctions are split into several rules)
    loc: Location
    text: str  # the clause as written


@dataclass
class Column:
    name: str
    type: str  # the declared type name
    loc: Location


@dataclass
class Declaration:
    name: str
    columns: list[Column]
    loc: Location
    overridable: bool = False  # a component's relation whose rules a derived one may replace


@dataclass
class FunctorDecl:
    name: str
    params: list[Column]
    result: str
    loc: Location


@dataclass
class IODirective:
    kind: str  # input output printsize
    relation: str
    options: dict[str, str]
    loc: Location


@dataclass
class PlumbingMark:
    """``.plumbing Rel``: a helper relation that explanations fold away (engine: no effect)."""

    relation: str
    loc: Location


@dataclass
class KeyPart:
    relation: str
    columns: list[str]
    loc: Location


@dataclass
class KeyDecl:
    """``.key Rel(col, ...), Rel2(col, ...)``: the named columns determine the rest, among
    the tuples the program text writes, over all the relations named (checked when the
    program loads: keys.py)."""

    parts: list[KeyPart]
    loc: Location


@dataclass
class TypeDecl:
    name: str
    bases: list[str]  # one for a subtype, several for a union
    loc: Location


@dataclass
class ComponentType:
    """A component's name with its type parameters: ``Graph<node>`` (see components.py)."""

    name: str
    params: list[str]
    loc: Location


@dataclass
class Component:
    """``.comp Name<T…> : Base<…> { … }``: its body is a module of its own."""

    type: ComponentType
    bases: list[ComponentType]
    body: Module
    loc: Location


@dataclass
class ComponentInit:
    """``.init instance = Name<…>``."""

    instance: str
    type: ComponentType
    loc: Location


@dataclass
class Override:
    """``.override Rel`` in a component: the inherited rules of ``Rel`` are left out."""

    relation: str
    loc: Location


@dataclass
class Module:
    """Everything parsed from a set of files (includes already followed)."""

    declarations: list[Declaration] = field(default_factory=list)
    functors: list[FunctorDecl] = field(default_factory=list)
    types: list[TypeDecl] = field(default_factory=list)
    io: list[IODirective] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)  # facts are rules with an empty body
    plumbing: list[PlumbingMark] = field(default_factory=list)
    components: list[Component] = field(default_factory=list)  # expanded by components.py
    inits: list[ComponentInit] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)  # in a component's body only
    eqrel: list[Declaration] = field(default_factory=list)  # equivalence relations
    pragmas: list[tuple[str, str]] = field(default_factory=list)  # .pragma key value
    inline: list[str] = field(default_factory=list)  # relations declared inline
    records: dict[str, list[Column]] = field(default_factory=dict)  # record type -> fields
    keys: list[KeyDecl] = field(default_factory=list)


def walk(*roots: object, exclude: object = None) -> Iterator[object]:
    """Every syntax node under ``roots`` (literals, expressions, aggregates' bodies, the
    alternatives of a disjunction or a negated group; tuples and lists followed), without
    recursion; ``exclude`` (a node) and what is under it are left out."""
    stack = list(roots)
    while stack:
        n = stack.pop()
        if n is exclude or n is None:
            continue
        yield n
        if isinstance(n, tuple | list):
            stack.extend(n)
        elif isinstance(n, Atom | Call | Constraint):
            stack.extend(n.args)
        elif isinstance(n, Negation):
            stack.append(n.atom)
        elif isinstance(n, Comparison | BinOp):
            stack.extend((n.left, n.right))
        elif isinstance(n, UnOp):
            stack.append(n.arg)
        elif isinstance(n, Aggregate):
            stack.extend((n.target, n.body))
        elif isinstance(n, Disjunction | NegatedGroup):
            stack.extend(n.alternatives)


def has_aggregate(e: Expr) -> bool:
    """Whether an expression has an aggregate anywhere in it (without recursion)."""
    return any(isinstance(n, Aggregate) for n in walk(e))


def expr_vars(e: Expr | None, out: list[Var]) -> list[Var]:
    """Append the variables of an expression (not those local to an aggregate)."""
    if isinstance(e, Var):
        out.append(e)
    elif isinstance(e, BinOp):
        expr_vars(e.left, out)
        expr_vars(e.right, out)
    elif isinstance(e, UnOp):
        expr_vars(e.arg, out)
    elif isinstance(e, Call):
        for a in e.args:
            expr_vars(a, out)
    return out


def literal_exprs(lit: Literal) -> list[Expr]:
    if isinstance(lit, Atom):
        return list(lit.args)
    if isinstance(lit, Negation):
        return list(lit.atom.args)
    if isinstance(lit, Comparison):
        return [lit.left, lit.right]
    if isinstance(lit, Constraint):
        return list(lit.args)
    return []


def expr_depth(e: Expr) -> int:
    """How deep an expression's tree is (a constant or variable is 1), without recursion."""
    deepest = 0
    stack: list[tuple[Expr, int]] = [(e, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, BinOp):
            stack.append((node.left, depth + 1))
            stack.append((node.right, depth + 1))
        elif isinstance(node, UnOp):
            stack.append((node.arg, depth + 1))
        elif isinstance(node, Call):
            stack.extend((a, depth + 1) for a in node.args)
        elif isinstance(node, Aggregate) and node.target is not None:
            stack.append((node.target, depth + 1))
    return deepest
