"""A checked, stratified Datalog program, ready to be evaluated by a :class:`Database`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .builtin_functors import TABLE
from .codegen import TICK_EVERY, CompiledRule, filtered_delta, restore, rule_code
from .errors import DatalogError
from .failures import FailureLog
from .ir import AggregateLit, AtomLit, CompareLit, ConstraintLit, Lit, NormRule
from .limits import DEFAULT_LIMITS, Limits
from .syntax import BinOp, Call, Const, Expr, IODirective, Module, UnOp, Var, walk

if TYPE_CHECKING:
    from .desugar import Hidden
    from .relation import Relation
    from .stratify import Stratum

# The front end (parser, passes, desugar, keys, stratify) is imported when a program is
# compiled, not at the top: a program from the cache (program_cache.py) needs none of it, and
# `guestinspect datalog`'s start-up time is what it imports.

Functors = Mapping[str, Callable[..., Any]]
#: A compiled rule's key: (rule index, delta position, size classes), see Program.rule_code.
CodeKey = tuple[int, int | None, tuple[int, ...]]


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
        self._code: dict[CodeKey, CompiledRule] = {}
        self._planned: dict[int, tuple[str, ...]] = {}
        self._constant: dict[int, frozenset[tuple[Any, ...]] | None] = {}
        self._filters: dict[tuple[int, int], bool] = {}
        self._info: dict[int, RuleInfo] = {}
        self._recursive: dict[int, list[int]] = {}
        self._strata: dict[str, tuple[dict[str, frozenset[tuple[Any, ...]]], list[NormRule]]] = {}
        #: compiled rules of an earlier process (program_cache.py): key -> record, and the
        #: marshalled code of their sources; and what the program's files were when read
        self.cached_rules: dict[CodeKey, tuple[Any, ...]] = {}
        self.cached_sources: dict[str, tuple[bytes, tuple[str, ...]]] = {}
        self.inputs: tuple[tuple[object, ...], ...] = ()
        # an error in a component's rule is the same line for each of its instances: once
        self.errors = list(dict.fromkeys(self._analyse(module, list(errors or []))))
        if self.errors:
            raise DatalogError(self.errors)

    @classmethod
    def from_files(cls, paths: Iterable[str | Path], functors: Functors | None = None,
                   relations: PyRelations | None = None,
                   include_dirs: Iterable[str | Path] = (),
                   limits: Limits = DEFAULT_LIMITS) -> Program:
        from .parser import Loader

        loader = Loader([Path(d) for d in include_dirs], limits)
        for p in paths:
            loader.load_file(Path(p))
        program = cls(loader.module, functors, relations, loader.errors, limits)
        program.inputs = tuple(loader.inputs)
        return program

    @classmethod
    def from_text(cls, text: str, filename: str = "<text>", functors: Functors | None = None,
                  relations: PyRelations | None = None,
                  include_dirs: Iterable[str | Path] = (),
                  limits: Limits = DEFAULT_LIMITS) -> Program:
        from .parser import Loader

        loader = Loader([Path(d) for d in include_dirs], limits)
        loader.load_text(text, filename, Path.cwd() if filename.startswith("<") else
                         Path(filename).parent)
        return cls(loader.module, functors, relations, loader.errors, limits)

    def _analyse(self, module: Module, errors: list[str]) -> list[str]:
        from .desugar import desugar
        from .passes import transform

        keys = module.keys
        module, transform_errors = transform(module, self.limits)
        errors.extend(transform_errors)
        module, hidden = desugar(module)
        errors.extend(hidden.errors)
        module.keys = keys  # checked on the rules as written (keys.py)
        transformed = module
        if any(key == "magic-transform" for key, _ in module.pragmas):
            from .magic import magic_transform  # here, not at the top: start-up time
            transformed = magic_transform(module)
        if transformed is not module and not errors:
            # the magic-set transformation the program asks for; as written if that fails
            found = self._analyse_module(transformed, hidden, [])
            if not found:
                return found
        return self._analyse_module(module, hidden, errors)

    def _analyse_module(self, module: Module, hidden: Hidden, errors: list[str]) -> list[str]:
        from .keys import check_keys
        from .passes import check
        from .stratify import dependencies, stratify

        self.module = module
        for name, (fn, hidden_modes) in hidden.python.items():
            self.python_relations[name] = PyRelation(fn, hidden_modes)
        modes = {n: r.modes for n, r in self.python_relations.items()}
        patterns = {n: r.patterns for n, r in self.python_relations.items() if r.patterns}
        analysis = check(module, self.functors, modes, patterns)
        errors.extend(analysis.errors)
        #: static warnings (``file:line:col: message``): an invalid constant regex ...
        self.warnings: list[str] = list(dict.fromkeys(analysis.warnings))
        errors.extend(check_keys(module, analysis.declarations))
        self.kinds: dict[str, list[str]] = analysis.kinds
        self.declarations: dict[str, tuple[tuple[str, str], ...]] = {
            name: tuple((c.name, c.type) for c in d.columns)
            for name, d in analysis.declarations.items()
        }
        self.locations = {name: str(d.loc) for name, d in analysis.declarations.items()}
        #: relations marked ``.plumbing``: no effect on evaluation, read by explanations
        self.plumbing: frozenset[str] = frozenset(m.relation for m in module.plumbing)
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

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_code"] = {}  # compiled code is not picklable; it is compiled again
        state["cached_rules"] = {}
        state["cached_sources"] = {}
        return state

    # ---- compiled rules, shared by every database of the program --------------------------
    def info(self, rule: NormRule) -> RuleInfo:
        """What a database looks at before it runs ``rule`` (one lookup instead of three: a
        database calls this for every rule it evaluates)."""
        info = self._info.get(rule.index)
        if info is None:
            info = self._info[rule.index] = RuleInfo(
                self.constant_rows(rule), self.stored_atoms(rule), self.planned_relations(rule))
        return info

    def stratum_rules(self, stratum: Stratum
                      ) -> tuple[dict[str, frozenset[tuple[Any, ...]]], list[NormRule]]:
        """What the constant rules of ``stratum`` derive (:meth:`constant_rows`), by relation,
        and its other rules: a database adds the first at once and runs the others."""
        found = self._strata.get(stratum.relations[0])
        if found is None:
            constants: dict[str, set[tuple[Any, ...]]] = {}
            rules: list[NormRule] = []
            for rule in stratum.rules:
                rows = self.constant_rows(rule)
                if rows is None:
                    rules.append(rule)
                else:
                    constants.setdefault(rule.head, set()).update(rows)
            found = self._strata[stratum.relations[0]] = (
                {r: frozenset(rows) for r, rows in constants.items()}, rules)
        return found

    def planned_relations(self, rule: NormRule) -> tuple[str, ...]:
        """The stored relations whose sizes order the joins of ``rule`` (its atoms and its
        aggregates' atoms)."""
        names = self._planned.get(rule.index)
        if names is None:
            names = self._planned[rule.index] = tuple(dict.fromkeys(_atom_relations(rule.body)))
        return names

    def stored_atoms(self, rule: NormRule) -> tuple[tuple[int, str], ...] | None:
        """(position, relation) of the positive atoms of ``rule`` when nothing else in its
        body can fail or raise (only stored atoms and comparisons of plain arithmetic): while
        one of those relations is empty the rule derives nothing, and need not run. None for
        a rule with anything else (a functor, a Python relation, an aggregate...), which is
        always run: its failures are recorded whether or not its atoms match. (Kept by
        :meth:`info`, its one caller.)"""
        if not all(_infallible(lit) for lit in rule.body):
            return None
        return tuple((i, lit.relation) for i, lit in enumerate(rule.body)
                     if isinstance(lit, AtomLit) and not lit.negated)

    def rule_code(self, rule: NormRule, delta: int | None,
                  classes: tuple[int, ...]) -> CompiledRule:
        """``rule`` compiled (for ``delta``, see ``codegen.rule_code``), its joins ordered for
        relations of the size classes ``classes`` (one per :meth:`planned_relations`, see
        :func:`size_class`). Compiled once per program and key: a database only binds it."""
        key = (rule.index, delta, classes)
        code = self._code.get(key)
        if code is None:
            if len(self._code) >= MAX_COMPILED:
                self._code.clear()
            record = self.cached_rules.get(key)
            if record is not None:
                code = self._code[key] = restore(record, self.cached_sources)
            else:
                planned = self.planned_relations(rule)
                sizes = {r: class_size(c) for r, c in zip(planned, classes, strict=False)}
                delta_size = class_size(classes[-1]) if len(classes) > len(planned) else None
                code = self._code[key] = rule_code(rule, sizes, self.modes, delta, delta_size)
        return code

    def filters_delta(self, rule: NormRule, delta: int) -> bool:
        """Whether the join order of ``rule`` for ``delta`` depends on the delta's size too
        (``codegen.filtered_delta``): then its size class ends the classes of
        :meth:`rule_code`."""
        key = (rule.index, delta)
        found = self._filters.get(key)
        if found is None:
            found = self._filters[key] = filtered_delta(rule, delta, self.modes) is not None
        return found

    def constant_rows(self, rule: NormRule) -> frozenset[tuple[Any, ...]] | None:
        """What ``rule`` derives if its body reads no relation (a fact written as a rule, or
        a body of comparisons and assignments of constants, its head maybe computed by
        functors): the same in every database, evaluated once per program. None for a rule
        with an atom or an aggregate, or one that fails (then each database evaluates it and
        records the failure in its own log)."""
        if rule.index not in self._constant:
            if any(isinstance(lit, AtomLit | AggregateLit) for lit in rule.body) or \
                    not _pure(rule):
                self._constant[rule.index] = None
                return None
            out: set[tuple[Any, ...]] = set()
            failures = FailureLog()
            fn = self.rule_code(rule, None, ()).bind({}, {}, self.functors, failures)
            fn(None, out.add, lambda: TICK_EVERY)
            self._constant[rule.index] = None if len(failures) else frozenset(out)
        return self._constant[rule.index]

    def input_relations(self) -> list[str]:
        return list(dict.fromkeys(d.relation for d in self.io["input"]))

    def output_relations(self) -> list[str]:
        return list(dict.fromkeys(d.relation for d in self.io["output"]))

    def recursive_atoms(self, rule: NormRule) -> list[int]:
        """Body positions of positive atoms over relations in the rule's own stratum."""
        out = self._recursive.get(rule.index)
        if out is None:
            members = set(self.strata[self.stratum_of[rule.head]].relations)
            out = self._recursive[rule.index] = []
            for i in rule.positive_atoms():
                lit = rule.body[i]
                if isinstance(lit, AtomLit) and lit.relation in members:
                    out.append(i)
        return out


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One rule's :meth:`Program.constant_rows`, :meth:`Program.stored_atoms` and
    :meth:`Program.planned_relations`."""

    constant: frozenset[tuple[Any, ...]] | None
    stored: tuple[tuple[int, str], ...] | None
    planned: tuple[str, ...]


#: Compiled rules a program keeps at most (then it starts again; each one is a few KiB).
MAX_COMPILED = 50_000


def size_class(n: int) -> int:
    """A relation size as the planner sees it: 0 for empty, then one class per factor of 4
    (1..3, 4..15, 16..63, ...), so that databases of similar sizes share compiled rules."""
    return (n.bit_length() + 1) >> 1


def size_classes(relations: Mapping[str, Relation], names: tuple[str, ...]) -> tuple[int, ...]:
    """:func:`size_class` of each of the relations ``names`` (inlined: a database computes
    this for every rule it runs)."""
    return tuple([(len(relations[r].tuples).bit_length() + 1) >> 1 for r in names])


def class_size(c: int) -> int:
    """The smallest size of class ``c``."""
    return 0 if c == 0 else 1 << (2 * c - 2)


def _infallible(lit: Lit) -> bool:
    if isinstance(lit, AtomLit):
        return not lit.python
    return isinstance(lit, CompareLit) and _plain(lit.left) and _plain(lit.right)


def _plain(e: Expr) -> bool:
    """An expression that cannot fail: variables, constants, ``+ - *`` and bit operations."""
    if isinstance(e, Var | Const):
        return True
    if isinstance(e, BinOp):
        return e.op in ("+", "-", "*", "band", "bor", "bxor") and _plain(e.left) and \
            _plain(e.right)
    if isinstance(e, UnOp):
        return e.op in ("-", "bnot") and _plain(e.arg)
    return False


def _pure(rule: NormRule) -> bool:
    """Whether every functor ``rule`` calls gives the same value for the same arguments: no
    user functor (the engine cannot know), no stateful built-in (``autoinc``)."""
    roots: list[object] = [*rule.head_args]
    for lit in rule.body:
        if isinstance(lit, CompareLit):
            roots += [lit.left, lit.right]
        elif isinstance(lit, ConstraintLit):
            roots += lit.args
    return not any(isinstance(n, Call) and (n.user or n.name in STATEFUL)
                   for n in walk(*roots))


#: The built-in functors that are not functions of their arguments.
STATEFUL = frozenset(f.name for f in TABLE if f.stateful)


def _atom_relations(body: list[Lit]) -> list[str]:
    out: list[str] = []
    for lit in body:
        if isinstance(lit, AtomLit) and not lit.python:
            out.append(lit.relation)
        elif isinstance(lit, AggregateLit):
            out.extend(_atom_relations(lit.body))
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
