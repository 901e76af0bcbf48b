"""Evaluate a program bottom-up, stratum by stratum, with semi-naive iteration."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .codegen import TICK_EVERY, compile_explainer, compile_probe
from .errors import DatalogError
from .explain import Derivation, WhyNot, atom_pattern, show_literal
from .factfiles import format_rows, read_facts, write_facts
from .failures import FailureLog
from .gcpause import paused_gc
from .ir import AggregateLit, AtomLit, Lit, NormRule
from .limits import LimitExceeded, Limits, limit_hint
from .program import Program, RuleInfo, size_class, size_classes
from .relation import Relation, Row
from .syntax import Const, Var

if TYPE_CHECKING:
    from .stratify import Stratum

RuleFn = Callable[[set[Row] | None, Callable[[Row], None], Callable[[], int]], None]
#: Loop iterations one rule's "why not" search may take before it gives its best so far.
WHY_NOT_STEPS = 200_000
#: How many derived atoms deep ``why_not`` follows a missing tuple.
WHY_NOT_DEPTH = 12
#: How many rules of one relation ``why_not`` tries (the first ones written).
WHY_NOT_RULES = 200


def _order(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Which of several bindings "why not" reports: the lowest numbers (ranks), then the
    first strings; the same whatever order the tuples are stored in."""
    return (tuple(v for v in values if not isinstance(v, str)),
            tuple(v for v in values if isinstance(v, str)))


class _ProbeDone(Exception):
    """The search of one rule is over (its whole body held, or its budget is spent)."""


class Database:
    """The tuples of one program's relations: add facts, run, read, query, explain."""

    def __init__(self, program: Program, limits: Limits | None = None) -> None:
        self.program = program
        self.limits = limits if limits is not None else program.limits
        self.held = 0  # tuples in the relations
        self._round: dict[str, set[Row]] = {}  # tuples derived in the current round
        self._deadline: float | None = None
        self.relations: dict[str, Relation] = {
            name: Relation(name, len(cols)) for name, cols in program.declarations.items()
            if name not in program.modes
        }
        # the base facts of each relation: for one that no rule derives, its own tuples
        self.base: dict[str, set[Row]] = {
            name: set() if name in program.rules_by_head else rel.tuples
            for name, rel in self.relations.items()}
        self.pyfns = {n: r.fn for n, r in program.python_relations.items()
                      if n in program.modes}
        self.pending: dict[str, set[Row]] = {}  # base tuples added since the last run
        self.evaluated = False
        # recursive relations: the tuples each round added, oldest first (for explain)
        self.rounds: dict[str, list[set[Row]]] = {}
        self._bound: dict[tuple[int, int | None, tuple[int, ...]], RuleFn] = {}
        self._explainers: dict[int, tuple[Callable[..., Any], list[AtomLit]]] = {}
        self._probes: dict[tuple[int, tuple[int, ...]],
                           tuple[Callable[..., Any], list[Any], list[list[str]]]] = {}
        #: functors and Python relations that raised on a value (their tuples were skipped)
        self.failures = FailureLog()
        # the results of the Python relations in this run, by relation and arguments
        # (runtime.guard_relation): emptied after each run
        self._memo: dict[str, dict[Any, Any]] = {}

    # ---- facts in ------------------------------------------------------------------------
    def _relation(self, name: str) -> Relation:
        rel = self.relations.get(name)
        if rel is None:
            if name in self.program.modes:
                raise DatalogError([f"relation '{name}' is computed by Python"])
            raise DatalogError([f"undeclared relation '{name}'"])
        return rel

    def add_facts(self, relation: str, rows: Iterable[Iterable[Any]]) -> int:
        """Add base facts; returns how many were not already in the relation."""
        with paused_gc():
            return self._add_facts(relation, rows)

    def _add_facts(self, relation: str, rows: Iterable[Iterable[Any]],
                   typed: bool = False) -> int:
        """``typed``: the rows are tuples of the relation's arity and column types already
        (``read_facts`` makes them so): they are not checked again."""
        rel = self._relation(relation)
        facts = rows if typed and isinstance(rows, list) else list(map(tuple, rows))
        if not typed:
            _check_facts(relation, facts, rel.arity, self.program.kinds[relation],
                         self.program.declarations[relation])
        base = self.base[relation]
        if base is rel.tuples:  # no rule derives the relation: its tuples are its facts
            added = rel.add(facts)
        else:
            new = set(facts)
            new -= base
            if not new:
                return 0
            base |= new
            added = rel.add(new)
        self.held += len(added)
        if self.held > self.limits.max_tuples:
            raise DatalogError([f"cannot add the facts: {self._too_many()}"])
        if added and self.evaluated:  # before the first run, every tuple is new anyway
            self.pending.setdefault(relation, set()).update(added)
        return len(added)

    def load_facts_dir(self, directory: str | Path) -> int:
        """Load every ``.input`` relation from ``<Name>.facts`` (or its ``filename=``)."""
        with paused_gc():
            return self._load_facts_dir(directory)

    def _load_facts_dir(self, directory: str | Path) -> int:
        total = 0
        try:  # one listing rather than a look-up of each relation's file
            listed: set[str] | None = set(os.listdir(directory))
        except OSError:
            listed = None
        for d in self.program.io["input"]:
            opts = d.options
            if opts.get("IO", "file") != "file":
                continue
            name = opts.get("filename", f"{d.relation}.facts")
            path = _fact_file(directory, name, listed)
            if path is None:  # a missing file: no facts
                continue  # (anything else that is not a regular file is an error)
            rows = read_facts(path, self.program.kinds[d.relation], _delimiter(opts),
                              self.limits.max_tuples - self.held,
                              f"cannot add the facts: {self._too_many()}")
            total += self._add_facts(d.relation, rows, typed=True)
        return total

    # ---- evaluation ----------------------------------------------------------------------
    def run(self) -> None:
        """Evaluate. After more ``add_facts``, a stratum that reads changed relations only
        through positive atoms continues semi-naively from the new tuples; one that negates or
        aggregates a changed relation (or reads one that lost tuples) is recomputed.

        Evaluation stops with a DatalogError when it holds more than ``limits.max_tuples``
        tuples or takes more than ``limits.max_seconds``."""
        seconds = self.limits.max_seconds
        self._deadline = time.monotonic() + seconds if seconds is not None else None
        try:
            with paused_gc():
                self._run()
        except LimitExceeded as e:
            message = str(e)
            raise DatalogError([message if ": evaluation stopped" in message else
                                f"evaluation stopped: {message}"]) from None
        finally:
            self._round = {}
            for results in self._memo.values():
                results.clear()

    def _run(self) -> None:
        if not self.evaluated:
            for stratum in self.program.strata:
                self._evaluate(stratum)
            self.pending.clear()
            self.evaluated = True
            return
        delta = self.pending  # relation -> tuples new in this run
        self.pending = {}
        shrunk: set[str] = set()  # relations that lost tuples in a recomputation
        for i, stratum in enumerate(self.program.strata):
            if not stratum.rules:
                continue
            reads = self.program.reads[i]
            changed = {r for r in reads if delta.get(r)} | (reads & shrunk)
            if not changed and not any(delta.get(r) for r in stratum.relations):
                continue
            if changed & (self.program.negative_reads[i] | shrunk):
                self._recompute(stratum, delta, shrunk)
            else:
                self._continue(stratum, delta)
        self.evaluated = True

    def _recompute(self, stratum: Stratum, delta: dict[str, set[Row]],
                   shrunk: set[str]) -> None:
        old = {r: set(self.relations[r].tuples) for r in stratum.relations}
        for r in stratum.relations:
            rel = self.relations[r]
            self.held -= len(rel)
            rel.clear()
            rel.add_new(set(self.base[r]))
            self.held += len(rel)
        for layers in (self.rounds.get(r) for r in stratum.relations):
            if layers is not None:
                layers.clear()
        self._evaluate(stratum)
        for r, before in old.items():
            now = self.relations[r].tuples
            if before - now:
                shrunk.add(r)
            delta[r] = now - before

    def _continue(self, stratum: Stratum, delta: dict[str, set[Row]]) -> None:
        """Semi-naive from ``delta``: the rules joined with the new tuples of the relations
        they read (other strata), then the usual rounds over the stratum's own relations."""
        members = set(stratum.relations)
        new: dict[str, set[Row]] = {r: set() for r in stratum.relations}
        self._round = new
        for rule in stratum.rules:
            for pos in rule.positive_atoms():
                lit = rule.body[pos]
                assert isinstance(lit, AtomLit)
                d = delta.get(lit.relation)
                if d and lit.relation not in members:
                    self._call(rule, pos, d, new[rule.head])
        deltas = {r: self._store(r, rows) | delta.get(r, set()) for r, rows in new.items()}
        if stratum.recursive:
            deltas = self._fixpoint(stratum, deltas, collect=True)
        delta.update(deltas)

    def _fn(self, rule: NormRule, info: RuleInfo, delta: int | None,
            rows: set[Row] | None) -> RuleFn:
        """The rule compiled for this database: the program's compiled code for the current
        size classes of the relations the rule reads (``Program.rule_code``), bound to this
        database's relations; ``_nothing`` when one of the relations its planned body begins
        with is empty (``CompiledRule.needs``: the size classes say it, 0 is empty)."""
        p = self.program
        relations = self.relations
        classes = size_classes(relations, info.planned)
        if rows is not None and delta is not None and p.filters_delta(rule, delta):
            classes += (size_class(len(rows)),)
        key = (rule.index, delta, classes)
        fn = self._bound.get(key)
        if fn is None:
            code = p.rule_code(rule, delta, classes)
            if any(not relations[r].tuples for r in code.needs):
                fn = _nothing
            else:
                fn = code.bind(relations, self.pyfns, p.functors, self.failures, self._memo)
            self._bound[key] = fn
        return fn

    def _store(self, relation: str, rows: set[Row]) -> set[Row]:
        if not rows:
            return rows
        added = self.relations[relation].add(rows)
        self.held += len(added)
        return added

    def _too_many(self) -> str:
        return f"more than {self.limits.max_tuples} tuples ({limit_hint('max_tuples')})"

    def _tick(self) -> int:
        """The limits check, called before each rule and by compiled rules as they loop;
        returns how many iterations until the next call."""
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise LimitExceeded(f"it took more than "
                                f"{self.limits.max_seconds:g} s ({limit_hint('max_seconds')})")
        if self.held + sum(map(len, self._round.values())) > \
                self.limits.max_tuples:
            raise LimitExceeded(self._too_many())
        return TICK_EVERY

    def _call(self, rule: NormRule, delta: int | None, rows: set[Row] | None,
              out: set[Row]) -> None:
        info = self.program.info(rule)
        if info.constant is not None:
            out |= info.constant
            return
        if info.stored is not None:  # idle if one of its other positive atoms is empty and
            relations = self.relations  # nothing in it can fail (``Program.stored_atoms``)
            if any(pos != delta and not relations[r].tuples for pos, r in info.stored):
                return
        try:
            self._tick()
            self._fn(rule, info, delta, rows)(rows, out.add, self._tick)
        except LimitExceeded as e:
            raise LimitExceeded(f"{rule.source.loc}: evaluation stopped in this rule: {e}") \
                from None
        except DatalogError:
            raise
        except Exception as e:  # a run-time error in a functor, a conversion, ...
            raise DatalogError([f"{rule.source.loc}: error while evaluating the rule: "
                                f"{type(e).__name__}: {e}"]) from e

    def _evaluate(self, stratum: Stratum) -> None:
        if not stratum.rules:
            return
        constants, rules = self.program.stratum_rules(stratum)
        new: dict[str, set[Row]] = {r: set(constants.get(r, ())) for r in stratum.relations}
        self._round = new
        for rule in rules:
            self._call(rule, None, None, new[rule.head])
        deltas = {r: self._store(r, rows) for r, rows in new.items()}
        if stratum.recursive:
            self._fixpoint(stratum, deltas)

    def _fixpoint(self, stratum: Stratum, deltas: dict[str, set[Row]],
                  collect: bool = False) -> dict[str, set[Row]]:
        """Semi-naive rounds over a recursive stratum from ``deltas`` (tuples just added);
        each round's tuples are appended to ``self.rounds`` (for explain). With ``collect``,
        returns every tuple added, ``deltas`` included (else nothing)."""
        rounds = {r: self.rounds.setdefault(r, []) for r in stratum.relations}
        added: dict[str, set[Row]] = {r: set() for r in stratum.relations}
        plans = [(rule, self.program.recursive_atoms(rule)) for rule in stratum.rules]
        while any(deltas.values()):
            for r, d in deltas.items():
                rounds[r].append(d)
                if collect:
                    added[r] |= d
            new: dict[str, set[Row]] = {r: set() for r in stratum.relations}
            self._round = new
            for rule, positions in plans:
                for pos in positions:
                    lit = rule.body[pos]
                    assert isinstance(lit, AtomLit)
                    d = deltas[lit.relation]
                    if d:
                        self._call(rule, pos, d, new[rule.head])
            deltas = {r: self._store(r, rows) for r, rows in new.items()}
        return added

    # ---- reading -------------------------------------------------------------------------
    def tuples(self, relation: str) -> set[Row]:
        return set(self._relation(relation).tuples)

    def query(self, relation: str, *pattern: Any) -> set[Row]:
        """Tuples matching ``pattern`` (one value per column; None matches anything)."""
        rel = self._relation(relation)
        if len(pattern) != rel.arity:
            raise DatalogError([f"relation '{relation}' has {rel.arity} columns, but the "
                                f"query has {len(pattern)}"])
        cols = tuple(i for i, v in enumerate(pattern) if v is not None)
        if not cols:
            return set(rel.tuples)
        if len(cols) == rel.arity:
            t = tuple(pattern)
            return {t} if t in rel.tuples else set()
        key = pattern[cols[0]] if len(cols) == 1 else tuple(pattern[c] for c in cols)
        return set(rel.index(cols).get(key, ()))

    def write_outputs(self, directory: str | Path, stdout: TextIO) -> None:
        """Write every ``.output`` relation as ``<Name>.csv`` in ``directory``, those with
        ``IO=stdout`` and the ``.printsize`` counts to ``stdout`` (a stream the caller
        gives: the engine prints nothing itself). Strings are written as they are, as Soufflé
        writes them (a newline in a symbol is one): unlike :meth:`write_facts_dir`, whose files
        escape them and read back exactly."""
        for d in self.program.io["output"]:
            rel = self.relations[d.relation]
            rows = rel.tuples
            opts = d.options
            if opts.get("IO", "file") == "stdout":
                stdout.write(f"---------------\n{d.relation}\n===============\n")
                stdout.write(format_rows(rows, _delimiter(opts), verbatim=True,
                                         arity=rel.arity))
                stdout.write("===============\n")
                continue
            path = Path(directory) / opts.get("filename", f"{d.relation}.csv")
            path.parent.mkdir(parents=True, exist_ok=True)
            write_facts(path, rows, _delimiter(opts), verbatim=True, arity=rel.arity)
        for d in self.program.io["printsize"]:
            stdout.write(f"{d.relation}\t{len(self.relations[d.relation])}\n")

    def write_facts_dir(self, directory: str | Path, relations: Iterable[str] | None = None,
                        *, skip_empty: bool = False) -> None:
        """Write relations (default: every ``.input`` one) as ``<Name>.facts``, sorted.

        ``skip_empty``: an empty relation gets no file (and loses an old one), as
        :meth:`load_facts_dir` reads a missing file as an empty relation."""
        Path(directory).mkdir(parents=True, exist_ok=True)
        names = list(relations) if relations is not None else self.program.input_relations()
        for name in names:
            path = Path(directory) / f"{name}.facts"
            rel = self._relation(name)
            if skip_empty and not rel.tuples:
                path.unlink(missing_ok=True)
            else:
                write_facts(path, rel.tuples, arity=rel.arity)

    # ---- explanations --------------------------------------------------------------------
    def explain(self, relation: str, row: Iterable[Any]) -> Derivation | None:
        """One derivation tree of a known tuple, down to base facts; None if not known."""
        t = tuple(row)
        if t not in self._relation(relation).tuples:
            return None
        from .proof import Prover  # here, not at the top: start-up time
        return Prover(self.base, self.program.rules_by_head, self._recursive, self._rank,
                      self._explainer).prove(relation, t)

    def _recursive(self, relation: str) -> set[str]:
        """The relations of ``relation``'s stratum if it is recursive, else none."""
        stratum = self.program.strata[self.program.stratum_of[relation]]
        return set(stratum.relations) if stratum.recursive else set()

    def why_not(self, relation: str, pattern: Iterable[Any],
                stop: Iterable[str] = ()) -> WhyNot | None:
        """Why no tuple of ``relation`` matches ``pattern`` (None: any value): the rule that
        came closest and the literal it lacked, followed down derived atoms (not into the
        relations of ``stop``). None when a tuple matches or no rule derives the relation."""
        return self._why_not(relation, tuple(pattern), frozenset(stop), 0, set())

    def _why_not(self, relation: str, pattern: Row, stop: frozenset[str], depth: int,
                 seen: set[tuple[str, Row]]) -> WhyNot | None:
        rules = self.program.rules_by_head.get(relation, [])
        if not rules or relation in self.program.modes or (relation, pattern) in seen:
            return None
        if self.query(relation, *pattern):
            return None
        seen.add((relation, pattern))
        columns = tuple(i for i, v in enumerate(pattern) if v is not None)
        best: tuple[int, NormRule, list[Any], dict[str, Any]] | None = None
        for rule in rules[:WHY_NOT_RULES]:
            if any(isinstance(a, Const) and a.value != pattern[i]
                   for i, a in ((i, rule.head_args[i]) for i in columns)):
                continue
            held, order, values = self._probe(rule, columns, pattern)
            if best is None or held > best[0]:
                best = (held, rule, order, values)
        if best is None:
            return None
        held, rule, order, values = best
        total = len(order)
        why = WhyNot(relation, pattern, rule.source.text, str(rule.source.loc),
                     min(held, total), total, "")
        if held < total:
            lit = self._lacking(order[held], values)
            why.failed = show_literal(lit, values)
            if isinstance(lit, AtomLit) and not lit.negated:
                why.failed_relation = lit.relation
                why.failed_pattern = atom_pattern(lit, values)
                if lit.relation not in stop and depth + 1 < WHY_NOT_DEPTH:
                    why.cause = self._why_not(lit.relation, why.failed_pattern, stop,
                                              depth + 1, seen)
        return why

    def _lacking(self, lit: Lit, values: dict[str, Any]) -> Lit:
        """What a failed literal lacks: for a ``min``/``max`` that gave no value, the first
        positive atom of its body when no tuple matches it (``k = min j : Cand(r, j, _)``
        lacks ``Cand(r, j, _)``); else the literal itself."""
        if isinstance(lit, AggregateLit) and lit.op in ("min", "max"):
            atoms = [a for a in lit.body if isinstance(a, AtomLit) and not a.negated]
            if atoms and not atoms[0].python and not self.query(
                    atoms[0].relation, *atom_pattern(atoms[0], values)):
                return atoms[0]
        return lit

    def _probe(self, rule: NormRule, columns: tuple[int, ...], goal: Row
               ) -> tuple[int, list[Any], dict[str, Any]]:
        """How many literals of ``rule``'s planned body hold with ``goal`` bound at
        ``columns``; the planned body; the values bound when the most held."""
        key = (rule.index, columns)
        probe = self._probes.get(key)
        if probe is None:
            p = self.program
            probe = compile_probe(rule, self.relations, self.pyfns, p.functors, p.modes,
                                  columns)
            self._probes[key] = probe
        fn, order, names = probe
        best: list[Any] = [0, ()]  # the most literals that held, and the values then
        budget = [WHY_NOT_STEPS // TICK_EVERY]

        def reach(k: int, values: tuple[Any, ...]) -> None:
            if k > best[0] or (k == best[0] and _order(values) < _order(best[1])):
                best[0], best[1] = k, values
            if k > len(order):
                raise _ProbeDone

        def tick() -> int:
            budget[0] -= 1
            if budget[0] <= 0:
                raise _ProbeDone
            return TICK_EVERY

        try:
            fn(goal, reach, tick)
        except _ProbeDone:
            pass
        held: int = best[0]
        values = {a.name: goal[i] for i, a in enumerate(rule.head_args)
                  if i in columns and isinstance(a, Var)}
        if 0 < held <= len(order):
            values.update(zip(names[held], best[1], strict=True))
        return held, order, values

    def _rank(self, relation: str, t: Row) -> int:
        """The evaluation round that first derived ``t`` (0 for a base fact)."""
        if t in self.base[relation]:
            return 0
        for i, layer in enumerate(self.rounds.get(relation, ())):
            if t in layer:
                return i + 1
        return sys.maxsize

    def _explainer(self, rule: NormRule) -> tuple[Callable[..., Any], list[AtomLit]]:
        e = self._explainers.get(rule.index)
        if e is None:
            p = self.program
            e = compile_explainer(rule, self.relations, self.pyfns, p.functors, p.modes)
            self._explainers[rule.index] = e
        return e


def _nothing(delta: set[Row] | None, out_add: Callable[[Row], None],
             tick: Callable[[], int]) -> None:
    """A rule that derives nothing in the current state (see ``Database._fn``)."""


def _check_facts(relation: str, facts: list[Row], arity: int, kinds: list[str],
                 cols: tuple[tuple[str, str], ...]) -> None:
    """DatalogError for the first fact of the wrong length, else for the first value of the
    wrong type (column by column). The checks run over whole columns at C speed: the set of
    the lengths, then of the value types of each column."""
    if any(n != arity for n in set(map(len, facts))):
        t = next(t for t in facts if len(t) != arity)
        raise DatalogError([f"relation '{relation}' has {arity} columns, but "
                            f"the fact {t!r} has {len(t)}"])
    for i, kind in enumerate(kinds):
        want: type | tuple[type, ...] = str if kind == "symbol" else (
            (int, float) if kind == "float" else int)
        if all(issubclass(k, want) for k in set(map(type, map(itemgetter(i), facts)))):
            continue
        t = next(t for t in facts if not isinstance(t[i], want))
        raise DatalogError([f"relation '{relation}' column '{cols[i][0]}' is "
                            f"{'a ' + kind}, but the fact {t!r} has {t[i]!r}"])


def _fact_file(directory: str | Path, name: str, listed: set[str] | None) -> Path | None:
    """The fact file ``name`` of ``directory``, None if there is none (not a file of any
    kind); ``listed``: the names in the directory, if it could be listed."""
    if listed is not None and "/" not in name and name not in ("", ".", ".."):
        return Path(directory) / name if name in listed else None
    path = Path(directory) / name
    return path if path.exists() or path.is_symlink() else None


def _delimiter(opts: dict[str, str]) -> str:
    d = opts.get("delimiter", "\t")
    return d.replace("\\t", "\t") if d else "\t"
