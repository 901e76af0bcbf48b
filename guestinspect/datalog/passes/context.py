"""What the passes of the static checks share: the program, what the passes found so far
(:class:`Analysis`), and the rule being checked (:class:`RuleJob`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..ir import NormRule
from ..syntax import Declaration, FunctorDecl, Location, Module, Rule

BASE_KINDS = {"symbol": "symbol", "number": "number", "unsigned": "unsigned", "float": "float"}
NUMERIC = {"number", "unsigned", "float"}


def kind_name(kind: str) -> str:
    return {"symbol": "a symbol", "number": "a number", "unsigned": "an unsigned",
            "float": "a float"}[kind]


def const_kind(value: object, unsigned: bool = False) -> str:
    if unsigned:
        return "unsigned"
    if isinstance(value, str):
        return "symbol"
    return "float" if isinstance(value, float) else "number"


def show_constant(value: object) -> str:
    """A constant as the language writes it (symbols quoted), for an error message."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


@dataclass
class Analysis:
    """What the checks found: the declarations, the lowered rules, and the errors (each
    ``file:line:col: message``, in the order they were found)."""

    declarations: dict[str, Declaration] = field(default_factory=dict)
    kinds: dict[str, list[str]] = field(default_factory=dict)  # relation -> column kinds
    functors: dict[str, FunctorDecl] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=lambda: dict(BASE_KINDS))  # type -> kind
    rules: list[NormRule] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # not errors: the program still runs

    def error(self, loc: Location, message: str) -> None:
        self.errors.append(f"{loc}: {message}")

    def warn(self, loc: Location, message: str) -> None:
        self.warnings.append(f"{loc}: {message}")


@dataclass
class Context:
    """The program under check and what the caller registered for it."""

    module: Module
    functors: Mapping[str, Callable[..., Any]]  # registered Python functors
    modes: Mapping[str, str]  # Python relation -> binding pattern
    patterns: Mapping[str, tuple[int, ...]]  # Python relation -> columns holding a regex
    analysis: Analysis = field(default_factory=Analysis)
    fresh: int = 0  # fresh variables made by lowering

    def error(self, loc: Location, message: str) -> None:
        self.analysis.error(loc, message)


@dataclass
class RuleJob:
    """One rule going through the rule passes: ``norm`` is set by lowering."""

    index: int
    rule: Rule
    errors_before: int
    norm: NormRule | None = None

    def failed(self, ctx: Context) -> bool:
        """Whether a pass reported an error for this rule."""
        return len(ctx.analysis.errors) > self.errors_before
