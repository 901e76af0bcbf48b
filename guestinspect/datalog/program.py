"""A checked, stratified Datalog program, ready to be evaluated by a :class:`Database`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checks import Checker
from .errors import DatalogError
from .ir import AtomLit, NormRule
from .limits import DEFAULT_LIMITS, Limits
from .parser import Loader
from .stratify import Stratum, dependencies, stratify
from .syntax import IODirective, Module

Functors = Mapping[str, Callable[..., Any]]


@dataclass(frozen=True)
class PyRelation:
    """A relation computed by Python: ``fn(*bound_values)`` yields tuples of the free values.

    ``modes`` has one letter per column: ``b`` (must be bound when used) or ``f`` (free).
    ``patterns`` are the columns that hold a regular expression (RE2): a constant there that
    RE2 rejects is a static error.
    """

    fn: Callable[..., Iterable[tuple[Any, ...]]]
    modes: str
    patterns: tuple[int, ...] = ()


PyRelations = Mapping[str, PyRelation]


class Program:
    """Parse with :meth:`from_files` or :meth:`from_text`; static errors raise DatalogError."""

    def __init__(self, module: Module, functors: Functors | None = None,
                 relations: PyRelations | None = None, errors: list[str] | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits  # what a Database of this program may use (see limits.py)
        self.functors: dict[str, Callable[..., Any]] = dict(functors or {})
        self.python_relations: dict[str, PyRelation] = dict(relations or {})
        self.errors = self._analyse(module, list(errors or []))
        if self.errors:
            raise DatalogError(self.errors)

    @classmethod
    def from_files(cls, paths: Iterable[str | Path], functors: Functors | None = None,
                   relations: PyRelations | None = None,
                   include_dirs: Iterable[str | Path] = (),
                   limits: Limits = DEFAULT_LIMITS) -> Program:
        loader = Loader([Path(d) for d in include_dirs], limits)
        for p in paths:
            loader.load_file(Path(p))
        return cls(loader.module, functors, relations, loader.errors, limits)

    @classmethod
    def from_text(cls, text: str, filename: str = "<text>", functors: Functors | None = None,
                  relations: PyRelations | None = None,
                  include_dirs: Iterable[str | Path] = (),
                  limits: Limits = DEFAULT_LIMITS) -> Program:
        loader = Loader([Path(d) for d in include_dirs], limits)
        loader.load_text(text, filename, Path.cwd() if filename.startswith("<") else
                         Path(filename).parent)
        return cls(loader.module, functors, relations, loader.errors, limits)

    def _analyse(self, module: Module, errors: list[str]) -> list[str]:
        self.module = module
        modes = {n: r.modes for n, r in self.python_relations.items()}
        patterns = {n: r.patterns for n, r in self.python_relations.items() if r.patterns}
        analysis = Checker(module, self.functors, modes, patterns).run()
        errors.extend(analysis.errors)
        self.kinds: dict[str, list[str]] = analysis.kinds
        self.declarations: dict[str, tuple[tuple[str, str], ...]] = {
            name: tuple((c.name, c.type) for c in d.columns)
            for name, d in analysis.declarations.items()
        }
        self.locations = {name: str(d.loc) for name, d in analysis.declarations.items()}
        self.modes = {n: m for n, m in modes.items() if n in self.declarations}
        self.rules: list[NormRule] = analysis.rules
        stored = [n for n in self.declarations if n not in self.modes]
        self.strata: list[Stratum] = []
        if not errors:
            self.strata, strat_errors = stratify(stored, self.rules)
            errors.extend(strat_errors)
        self.stratum_of = {r: i for i, s in enumerate(self.strata) for r in s.relations}
        self.rules_by_head: dict[str, list[NormRule]] = {}
        for rule in self.rules:
            self.rules_by_head.setdefault(rule.head, []).append(rule)
        self.io: dict[str, list[IODirective]] = {"input": [], "output": [], "printsize": []}
        for d in module.io:
            self.io.setdefault(d.kind, []).append(d)
        # for incremental evaluation: which relations each stratum reads, and which of them
        # it negates or aggregates (a change there means recomputing the stratum)
        self.reads: list[set[str]] = []
        self.negative_reads: list[set[str]] = []
        for s in self.strata:
            edges = [e for rule in s.rules for e in dependencies(rule)]
            self.reads.append({e.target for e in edges})
            self.negative_reads.append({e.target for e in edges if e.negative})
        return errors

    def input_relations(self) -> list[str]:
        return list(dict.fromkeys(d.relation for d in self.io["input"]))

    def output_relations(self) -> list[str]:
        return list(dict.fromkeys(d.relation for d in self.io["output"]))

    def recursive_atoms(self, rule: NormRule) -> list[int]:
        """Body positions of positive atoms over relations in the rule's own stratum."""
        members = set(self.strata[self.stratum_of[rule.head]].relations)
        out: list[int] = []
        for i in rule.positive_atoms():
            lit = rule.body[i]
            if isinstance(lit, AtomLit) and lit.relation in members:
                out.append(i)
        return out


def check_files(paths: Iterable[str | Path], functors: Functors | None = None,
                relations: PyRelations | None = None,
                include_dirs: Iterable[str | Path] = (),
                limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Every static error in the given files (empty if they are fine); nothing is evaluated."""
    try:
        Program.from_files(paths, functors, relations, include_dirs, limits)
    except DatalogError as e:
        return e.errors
    return []
