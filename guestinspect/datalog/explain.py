"""Derivation trees: why a tuple holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .ir import AggregateLit, AtomLit, CompareLit, ConstraintLit, Lit
from .syntax import Aggregate, BinOp, Call, Const, Expr, UnOp, Var


def show_value(v: Any) -> str:
    """A value as the rule language writes it (strings quoted, escapes as in the source)."""
    if isinstance(v, str):
        return ('"' + v.replace("\\", "\\\\").replace('"', '\\"')
                .replace("\n", "\\n").replace("\t", "\\t") + '"')
    return str(v)


def show_tuple(relation: str, row: tuple[Any, ...]) -> str:
    return f"{relation}({', '.join(show_value(v) for v in row)})"


@dataclass
class Derivation:
    """One proof of ``relation(tuple)``: the rule that derived it and its body tuples.

    ``location`` is ``file:line:col`` of the rule, or None for a base fact (and for a tuple
    computed by a Python relation, whose ``rule_text`` says so).
    """

    relation: str
    tuple: tuple[Any, ...]
    rule_text: str | None
    location: str | None
    children: list[Derivation] = field(default_factory=list)

    def render(self, indent: str = "  ") -> str:
        """The tree, one node per line, children indented under their parent."""
        lines: list[str] = []
        stack: list[tuple[Derivation, int]] = [(self, 0)]
        while stack:  # iterative: recursive proofs can be thousands of levels deep
            node, depth = stack.pop()
            head = indent * depth + show_tuple(node.relation, node.tuple)
            if node.location is not None:
                head += f"  <- {node.location}: {node.rule_text}"
            elif node.rule_text is not None:
                head += f"  ({node.rule_text})"
            else:
                head += "  (base fact)"
            lines.append(head)
            stack.extend((c, depth + 1) for c in reversed(node.children))
        return "\n".join(lines)


@dataclass
class WhyNot:
    """Why no tuple of ``relation`` matches ``pattern`` (``None``: any value in that column).

    The rule of the relation that came closest: ``held`` of its ``total`` body literals held
    (in the order the engine evaluates them) with the pattern's values bound, and ``failed``
    (the next literal, with the values known at that point; empty when every literal held
    but none gave the pattern's values) did not. ``failed_relation``/``failed_pattern`` are
    set when it is a positive atom; ``cause`` is then the same answer for that atom, when it
    is derived by rules.
    """

    relation: str
    pattern: tuple[Any, ...]
    rule_text: str
    location: str
    held: int
    total: int
    failed: str
    failed_relation: str | None = None
    failed_pattern: tuple[Any, ...] | None = None
    cause: WhyNot | None = None


def show_expr(e: Expr | None, values: dict[str, Any]) -> str:
    """An expression with the variables that have a value replaced by it."""
    if isinstance(e, Var):
        return show_value(values[e.name]) if e.name in values else e.name
    if isinstance(e, Const):
        return show_value(e.value)
    if isinstance(e, BinOp):
        return f"({show_expr(e.left, values)} {e.op} {show_expr(e.right, values)})"
    if isinstance(e, UnOp):
        return f"{e.op}{show_expr(e.arg, values)}"
    if isinstance(e, Call):
        name = "@" + e.name if e.user else e.name
        return f"{name}({', '.join(show_expr(a, values) for a in e.args)})"
    if isinstance(e, Aggregate):
        return f"{e.op} : {{…}}"
    return "_"


def show_literal(lit: Lit, values: dict[str, Any]) -> str:
    """A body literal of a normalised rule, with the values known at that point."""
    if isinstance(lit, AtomLit):
        args = ", ".join(show_expr(a, values) if isinstance(a, Var | Const) else "_"
                         for a in lit.args)
        return f"{'!' if lit.negated else ''}{lit.relation}({args})"
    if isinstance(lit, CompareLit):
        return f"{show_expr(lit.left, values)} {lit.op} {show_expr(lit.right, values)}"
    if isinstance(lit, ConstraintLit):
        args = ", ".join(show_expr(a, values) for a in lit.args)
        return f"{'!' if lit.negated else ''}{lit.name}({args})"
    assert isinstance(lit, AggregateLit)
    return f"{lit.result} = {lit.op} : {{…}}"


def atom_pattern(lit: AtomLit, values: dict[str, Any]) -> tuple[Any, ...]:
    """The columns of a body atom: the value where it is known, else None."""
    out: list[Any] = []
    for a in lit.args:
        if isinstance(a, Const):
            out.append(a.value)
        elif isinstance(a, Var) and a.name in values:
            out.append(values[a.name])
        else:
            out.append(None)
    return tuple(out)
