"""Derivation trees: why a tuple holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def show_tuple(relation: str, row: tuple[Any, ...]) -> str:
    parts = []
    for v in row:
        if isinstance(v, str):
            parts.append('"' + v.replace("\\", "\\\\").replace('"', '\\"')
                         .replace("\n", "\\n").replace("\t", "\\t") + '"')
        else:
            parts.append(str(v))
    return f"{relation}({', '.join(parts)})"


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

    def size(self) -> int:
        """The number of nodes."""
        count = 0
        stack = [self]
        while stack:
            node = stack.pop()
            count += 1
            stack.extend(node.children)
        return count
