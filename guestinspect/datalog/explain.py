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
        lines: list[str] = []
        self._render(lines, 0, indent)
        return "\n".join(lines)

    def _render(self, lines: list[str], depth: int, indent: str) -> None:
        head = indent * depth + show_tuple(self.relation, self.tuple)
        if self.location is not None:
            head += f"  <- {self.location}: {self.rule_text}"
        elif self.rule_text is not None:
            head += f"  ({self.rule_text})"
        else:
            head += "  (base fact)"
        lines.append(head)
        for c in self.children:
            c._render(lines, depth + 1, indent)

    def size(self) -> int:
        return 1 + sum(c.size() for c in self.children)
