"""Plan the join order of a rule body and compile it to a Python function.

A compiled rule is nested ``for`` loops over index lookups (``index.get(key, ())``), with
membership tests for negations and fully bound atoms, written as Python source and ``exec``-ed
once. Nothing is interpreted per tuple.

The source is compiled into a *factory* (:class:`CompiledRule`) that knows nothing of one
database: :meth:`CompiledRule.bind` gives it one database's relations, Python relations,
functors and failure log and returns the rule function. A program keeps its compiled rules
(``Program.compiled``), so a second database of the same program only binds them.
"""

from __future__ import annotations

import itertools
import marshal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import CodeType
from typing import Any

from . import runtime
from .builtin_functors import FALLIBLE, FUNCTORS, HELPERS, Functor, args_of, row_of, value_kind
from .failures import FailureLog
from .ir import AggregateLit, AtomLit, CompareLit, ConstraintLit, Lit, NormRule, lit_vars
from .relation import Relation
from .syntax import U32, Call, Const, Expr, Var, Wildcard, expr_vars

PY_COMPARE = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


#: Nested blocks of one generated function before the rest of a body goes to a nested helper
#: function (Python allows 20 nested loops and 100 indentation levels per function).
SPLIT_DEPTH = 12
#: Loop iterations between two calls of ``tick`` (the database's limits check).
TICK_EVERY = 10_000


# ---- planning ----------------------------------------------------------------------------


def _expr_names(e: Expr | None) -> set[str]:
    return {v.name for v in expr_vars(e, [])}


def _tuple_code(items: list[str], always: bool = False) -> str:
    """``a`` for one item (unless ``always``), else ``(a, b, )``."""
    if len(items) == 1 and not always:
        return items[0]
    return "(" + "".join(i + ", " for i in items) + ")"


def _body_vars(agg: AggregateLit) -> set[str]:
    """The variables an aggregate's body binds or reads at its own level (and its target's)."""
    out = _expr_names(agg.target)
    for lit in agg.body:
        out |= lit_vars(lit)
    return out


def plan(body: list[Lit], bound: set[str], sizes: Mapping[str, int],
         modes: Mapping[str, str], first: int | None = None) -> list[Lit]:
    """Order a body: ``first`` (a delta atom) leads; then filters as soon as their variables
    are bound, then assignments and aggregates, then the atom with the most bound columns
    and the fewest tuples."""
    remaining = list(range(len(body)))
    order: list[Lit] = []
    bound = set(bound)

    def take(i: int) -> None:
        remaining.remove(i)
        lit = body[i]
        order.append(lit)
        bound.update(lit_vars(lit))
        if isinstance(lit, AggregateLit):
            bound.add(lit.result)

    if first is not None:
        take(first)
    while remaining:
        chosen = next((i for i in remaining if _is_filter(body[i], bound)), None)
        if chosen is None:  # then assignments and aggregates
            chosen = next((i for i in remaining if _is_assignment(body[i], bound)), None)
        if chosen is None:
            chosen = _best_atom(body, remaining, bound, sizes, modes)
        if chosen is None:  # cannot happen for a checked rule; keep source order
            chosen = remaining[0]
        take(chosen)
    return order


def _is_filter(lit: Lit, bound: set[str]) -> bool:
    """A negation, constraint or comparison whose variables are all bound."""
    return (isinstance(lit, ConstraintLit | CompareLit)
            or (isinstance(lit, AtomLit) and lit.negated)) and lit_vars(lit) <= bound


def _is_assignment(lit: Lit, bound: set[str]) -> bool:
    """``x = expr`` that binds a variable, or an aggregate whose outer variables are bound."""
    if isinstance(lit, CompareLit):
        return lit.op == "=" and _assignable(lit, bound)
    return isinstance(lit, AggregateLit) and lit.outer <= bound


def _best_atom(body: list[Lit], remaining: list[int], bound: set[str],
               sizes: Mapping[str, int], modes: Mapping[str, str]) -> int | None:
    """The positive atom to join next: the most bound columns and the fewest tuples (the
    first of equals); a Python relation only once its input columns are bound."""
    chosen: int | None = None
    best: tuple[int, int, float] | None = None
    for i in remaining:
        score = _atom_score(body[i], bound, sizes, modes)
        if score is not None and (best is None or score < best):
            best, chosen = score, i
    return chosen


def _atom_score(lit: Lit, bound: set[str], sizes: Mapping[str, int],
                modes: Mapping[str, str]) -> tuple[int, int, float] | None:
    """How good joining ``lit`` next is (lower is better); None if it cannot be joined now."""
    if not isinstance(lit, AtomLit) or lit.negated:
        return None
    keys = sum(1 for a in lit.args if isinstance(a, Const) or
               (isinstance(a, Var) and a.name in bound))
    if lit.python:
        mode = modes[lit.relation]
        if not all(isinstance(a, Const) or (isinstance(a, Var) and a.name in bound)
                   for a, m in zip(lit.args, mode, strict=False) if m == "b"):
            return None
        return (0 if keys == len(lit.args) else 1, 0, 1.0)
    size = sizes.get(lit.relation, 0)
    full = keys == len(lit.args)
    return (0 if full else 1, 0 if keys else 1, size / (1 + 10 * keys))


def filtered_delta(rule: NormRule, delta: int, modes: Mapping[str, str]) -> AtomLit | None:
    """The stored atom ``S`` when the rest of ``rule``'s body (all but the ``delta`` atom) is
    ``S``, Python relations and filters, which bind every column of the delta atom (no
    wildcard in it, no aggregate): then the delta atom can be a test of each row ``S`` gives
    (``delta_last_plan``) instead of leading the join. None otherwise."""
    d = rule.body[delta]
    if not isinstance(d, AtomLit) or not all(isinstance(a, Var | Const) for a in d.args):
        return None
    rest = [lit for i, lit in enumerate(rule.body) if i != delta]
    stored = [lit for lit in rest if isinstance(lit, AtomLit) and not lit.negated and
              not lit.python]
    if len(stored) != 1 or any(isinstance(lit, AggregateLit) for lit in rest):
        return None
    bound: set[str] = set()
    for lit in plan(rest, set(), {}, modes):
        if not _placeable(lit, bound, modes):
            return None
        bound.update(lit_vars(lit))
    return stored[0] if lit_vars(d) <= bound else None


def _placeable(lit: Lit, bound: set[str], modes: Mapping[str, str]) -> bool:
    """Whether ``plan`` put ``lit`` where it can be evaluated (not its last resort)."""
    if _is_filter(lit, bound) or _is_assignment(lit, bound):
        return True
    return _atom_score(lit, bound, {}, modes) is not None


def delta_last_plan(body: list[Lit], delta: int, sizes: Mapping[str, int],
                    modes: Mapping[str, str], delta_size: int) -> list[Lit] | None:
    """For a rule whose delta atom ``filtered_delta`` allows to test: the rest of the body
    planned alone, the delta atom tested as soon as its columns are bound, when that is
    cheaper than leading with the delta (estimated as ``plan`` does: ``delta_size`` rows,
    each joined to ``S`` through the columns it binds, a lookup 10 times as selective per
    column); else None."""
    d = body[delta]
    assert isinstance(d, AtomLit)
    rest = [lit for i, lit in enumerate(body) if i != delta]
    s = next(lit for lit in rest if isinstance(lit, AtomLit) and not lit.negated and
             not lit.python)
    names = lit_vars(d)
    keys = sum(1 for a in s.args if isinstance(a, Const) or
               (isinstance(a, Var) and a.name in names))
    if delta_size <= 1 + 10 * keys:  # leading: delta_size * |S| / (1 + 10 * keys) rows
        return None  # (as _atom_score estimates a lookup); testing: |S| rows
    order = plan(rest, set(), sizes, modes)
    bound: set[str] = set()
    for i, lit in enumerate(order):
        bound.update(lit_vars(lit))
        if names <= bound:
            return [*order[:i + 1], d, *order[i + 1:]]
    return None


def source_plan(body: list[Lit], bound: set[str], modes: Mapping[str, str]) -> list[Lit]:
    """Order a body as written, as far as it can be evaluated so: filters as soon as their
    variables are bound, then assignments and aggregates, then the first atom written that
    can be evaluated (a Python relation once its input columns are bound). For a person
    reading "why not", not for speed."""
    remaining = list(body)
    order: list[Lit] = []
    bound = set(bound)

    def ready(lit: Lit, stage: int) -> bool:
        if stage == 0:
            return (isinstance(lit, ConstraintLit | CompareLit) or
                    (isinstance(lit, AtomLit) and lit.negated)) and lit_vars(lit) <= bound
        if stage == 1:
            return ((isinstance(lit, CompareLit) and lit.op == "=" and _assignable(lit, bound))
                    or (isinstance(lit, AggregateLit) and lit.outer <= bound))
        if not isinstance(lit, AtomLit) or lit.negated:
            return False
        return not lit.python or all(
            isinstance(a, Const) or (isinstance(a, Var) and a.name in bound)
            for a, m in zip(lit.args, modes[lit.relation], strict=False) if m == "b")

    while remaining:
        chosen = next((lit for stage in (0, 1, 2) for lit in remaining if ready(lit, stage)),
                      remaining[0])
        remaining.remove(chosen)
        order.append(chosen)
        bound.update(lit_vars(chosen))
        if isinstance(chosen, AggregateLit):
            bound.add(chosen.result)
    return order


def _assignable(lit: CompareLit, bound: set[str]) -> bool:
    if isinstance(lit.left, Var) and lit.left.name not in bound:
        return _expr_names(lit.right) <= bound
    if isinstance(lit.right, Var) and lit.right.name not in bound:
        return _expr_names(lit.left) <= bound
    return False


# ---- code generation ---------------------------------------------------------------------


class Emitter:
    """Functors, fallible built-ins and Python relations are called through guards
    (runtime.guard): a call that raises is recorded in ``failures`` and its tuple skipped.
    Each such call is hoisted out of its expression into ``if (fN := call) is not _FAIL``
    before the line that uses it (``guards``, emitted by :meth:`open_if`)."""

    def __init__(self, rule: NormRule, sizes: Mapping[str, int],
                 modes: Mapping[str, str]) -> None:
        self.rule = rule
        self.where = str(rule.source.loc)
        self.guards: list[str] = []
        self.sizes = sizes  # relation sizes for the planner
        self.modes = modes
        self.lines: list[str] = []
        self.prelude: list[str] = []
        self.env: dict[str, Any] = {}  # what the code uses that is the same for every database
        self.bindings: dict[str, Binding] = {}  # what one database gives (CompiledRule.bind)
        self.names: dict[str, str] = {}
        self.consts: dict[tuple[type, Any], str] = {}  # (type, value) -> name (see const)
        self.counter = 0
        self.helpers: set[str] = set()
        self.witnesses: list[str] = []  # explain mode: tuple variables of positive atoms
        self.counting = 0  # > 0 inside an aggregate: every matching tuple counts
        self.ticking = False  # count loop iterations and call ``tick`` (compile_rule)
        self.defs: list[str] = []  # nested helper functions of the function being written
        self.shared: list[str] = []  # aggregate accumulators a helper assigns (nonlocal)
        self.generator = False  # the function being written yields (explain mode)
        self.grouped = ""  # the list of passing values in a grouped delta (group_delta)
        self.accumulated = ""  # head values -> set of passing values (group_delta)
        #: called after each body literal is emitted (index, depth, bound): compile_probe
        self.after_literal: Callable[[int, int, set[str]], None] | None = None

    def var(self, name: str) -> str:
        n = self.names.get(name)
        if n is None:
            n = self.names[name] = f"v{len(self.names)}"
        return n

    def tmp(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, value: Any) -> str:
        """A constant, passed to the factory (``_make``) rather than written in the source,
        so that rules that differ only in their constants share one compiled code object."""
        key = (type(value), value)
        name = self.consts.get(key)
        if name is None:
            name = self.consts[key] = f"K{len(self.consts)}"
        return name

    def emit(self, depth: int, line: str) -> None:
        assert not self.guards, "guarded calls not emitted before the line that uses them"
        self.lines.append("    " * depth + line)

    def hoist(self, call: str, failed: str = "_FAIL") -> str:
        """A temporary for a guarded ``call``, checked by the next :meth:`open_if`."""
        t = self.tmp("f")
        self.guards.append(f"({t} := {call}) is not {failed}")
        self.env["_FAIL"] = runtime.FAIL
        return t

    def open_if(self, depth: int, cond: str | None) -> int:
        """``if <guards> and cond:`` (nothing if neither); the depth inside it."""
        conds = self.guards + ([cond] if cond else [])
        self.guards = []
        if not conds:
            return depth
        self.emit(depth, f"if {' and '.join(conds)}:")
        return depth + 1

    def helper(self, name: str, args: list[str]) -> str:
        self.helpers.add(name)
        call = f"{name}({', '.join(args)})"
        return self.hoist(call) if name in FALLIBLE else call

    # expressions
    def kind(self, e: Expr | None) -> str | None:
        """``unsigned`` or ``float`` for an expression of that type, else None."""
        if isinstance(e, Const):
            return "unsigned" if e.unsigned else "float" if isinstance(e.value, float) else None
        if isinstance(e, Var):
            return self.rule.var_types.get(e.name)
        row = row_of(e)
        if row is None:
            return None
        return value_kind(row, [self.kind(a) for a in args_of(e)])

    def expr(self, e: Expr | None) -> str:
        code = self._expr(e)
        row = row_of(e)
        if row is not None and row.wraps and self.kind(e) == "unsigned":
            return f"({code} & {U32})"
        return code

    def _expr(self, e: Expr | None) -> str:
        if isinstance(e, Var):
            return self.var(e.name)
        if isinstance(e, Const):
            return self.const(e.value)
        if isinstance(e, Call) and e.user:
            args = [self.expr(a) for a in e.args]
            fname = f"F_{e.name}"
            self.bindings[fname] = Binding(fname, "functor", e.name, f"@{e.name}")
            return self.hoist(f"{fname}({', '.join(args)})")
        row = row_of(e)
        if row is None:
            raise AssertionError(f"cannot compile expression {e!r}")
        return self.call(row, [self.expr(a) for a in args_of(e)])

    def call(self, row: Functor, args: list[str]) -> str:
        """A built-in functor or operator applied to ``args`` (code)."""
        code = row.code(args)
        return code if code is not None else self.helper(row.helper, args)

    def relation_ref(self, lit: AtomLit) -> str:
        name = self.tmp("R")
        kind = "pyrel" if lit.python else "relation"
        self.bindings[name] = Binding(name, kind, lit.relation, lit.relation)
        return name

    # literals
    def body(self, lits: list[Lit], i: int, depth: int, bound: set[str],
             inner: Callable[[int, set[str]], None], delta: AtomLit | None,
             explain: bool) -> None:
        """Emit ``lits[i:]`` then ``inner``, each literal nested in the previous one."""
        bound = set(bound)
        for k in range(i, len(lits)):
            if depth >= SPLIT_DEPTH:
                self.split(lits, k, depth, bound, inner, delta, explain)
                return
            depth = self.literal(lits[k], depth, bound, delta, explain)
            if self.after_literal is not None:
                self.after_literal(k, depth, bound)
        inner(depth, bound)

    def split(self, lits: list[Lit], i: int, depth: int, bound: set[str],
              inner: Callable[[int, set[str]], None], delta: AtomLit | None,
              explain: bool) -> None:
        """Emit ``lits[i:]`` as a nested function and a call to it: a rule of many atoms
        stays within Python's limits on nested blocks. The helper reads the variables bound
        so far as closure variables; it assigns the accumulators of the aggregates it is in
        (``nonlocal``)."""
        name = self.tmp("_part")
        outer_lines, outer_defs = self.lines, self.defs
        self.lines, self.defs = [], []
        self.body(lits, i, 0, bound, inner, delta, explain)
        lines, defs = self.lines, self.defs
        self.lines, self.defs = outer_lines, outer_defs
        shared = [*self.shared, "_n"] if self.ticking else list(self.shared)
        text = [f"def {name}():"]
        if shared:
            text.append(f"    nonlocal {', '.join(dict.fromkeys(shared))}")
        text.extend("    " + ln for ln in defs + lines)
        self.defs.extend(text)
        generator = self.generator and not self.counting
        self.emit(depth, f"yield from {name}()" if generator else f"{name}()")

    def loop(self, depth: int, header: str) -> int:
        """``for …:`` and, when ticking, the iteration countdown; the depth inside it."""
        self.emit(depth, f"for {header}:")
        if self.ticking:
            self.emit(depth + 1, "_n -= 1")
            self.emit(depth + 1, "if not _n:")
            self.emit(depth + 2, "_n = tick()")
        return depth + 1

    def literal(self, lit: Lit, depth: int, bound: set[str], delta: AtomLit | None,
                explain: bool) -> int:
        """Emit one body literal (adding what it binds to ``bound``); the depth inside it."""
        if isinstance(lit, AtomLit) and lit.python:
            depth = self.python_atom(lit, depth, bound, explain)
        elif isinstance(lit, AtomLit):
            depth = self.atom(lit, depth, bound, lit is delta, explain)
        elif isinstance(lit, CompareLit):
            if lit.op == "=" and _assignable(lit, bound):
                target, value = (lit.left, lit.right) if (
                    isinstance(lit.left, Var) and lit.left.name not in bound) else (
                    lit.right, lit.left)
                assert isinstance(target, Var)
                code = self.expr(value)
                depth = self.open_if(depth, None)
                self.emit(depth, f"{self.var(target.name)} = {code}")
                bound.add(target.name)
            else:
                op = PY_COMPARE[lit.op]
                left, right = self.expr(lit.left), self.expr(lit.right)
                depth = self.open_if(depth, f"{left} {op} {right}")
        elif isinstance(lit, ConstraintLit):
            row = FUNCTORS[lit.name]
            args = [self.expr(a) for a in lit.args]
            if lit.negated and row.negated_impl is not None:  # its negation can fail too
                call = self.helper(row.negated_helper, args)
            else:
                call = self.call(row, args)
                if lit.negated:
                    call = "not " + call
            depth = self.open_if(depth, call)
        else:
            depth = self.aggregate(lit, depth, bound)
            bound.add(lit.result)
        return depth

    def atom(self, lit: AtomLit, depth: int, bound: set[str], is_delta: bool,
             explain: bool) -> int:
        ref = self.relation_ref(lit)
        keys: list[int] = []
        key_exprs: list[str] = []
        binds: list[tuple[int, str]] = []  # (column, variable)
        checks: list[tuple[int, str]] = []  # (column, variable bound earlier in this atom)
        seen: set[str] = set()
        for col, a in enumerate(lit.args):
            if isinstance(a, Const) or (isinstance(a, Var) and a.name in bound):
                keys.append(col)
                key_exprs.append(self.expr(a))
            elif isinstance(a, Var):
                if a.name in seen:
                    checks.append((col, self.var(a.name)))
                else:
                    seen.add(a.name)
                    binds.append((col, self.var(a.name)))
        depth = self.open_if(depth, None)
        bound.update(seen)
        arity = len(lit.args)
        tset = "delta" if is_delta else f"{ref}.tuples"
        key = key_exprs[0] if len(keys) == 1 else "(" + ", ".join(key_exprs) + ",)"
        if lit.negated:
            return self.negated_atom(ref, keys, key_exprs, arity, depth)
        witness = self.tmp("t")
        if explain:
            self.witnesses.append(witness)
        if not binds and not checks and len(keys) == arity:
            full = "(" + "".join(e + ", " for e in key_exprs) + ")"
            self.prelude.append(f"S_{ref} = {tset}")
            self.emit(depth, f"{witness} = {full}")
            self.emit(depth, f"if {witness} in S_{ref}:")
            return depth + 1
        if not keys or is_delta:
            source = f"S_{ref}"
            self.prelude.append(f"S_{ref} = {tset}")
            filters = [(c, key_exprs[j]) for j, c in enumerate(keys)]
        else:
            self.prelude.append(f"I_{ref} = {ref}.index({tuple(keys)!r})")
            source = f"I_{ref}.get({key}, ())"
            filters = []
        if not binds and not checks and not filters and not explain and not self.counting:
            self.emit(depth, f"if {source}:")  # existence only
            return depth + 1
        if explain or checks or filters or arity > 6 or not binds:
            depth = self.loop(depth, f"{witness} in {source}")
            for col, v in binds:
                self.emit(depth, f"{v} = {witness}[{col}]")
            conds = [f"{witness}[{c}] == {v}" for c, v in checks + filters]
        else:
            target = ["_"] * arity
            for col, v in binds:
                target[col] = v
            depth = self.loop(depth, f"({', '.join(target)},) in {source}")
            conds = []
        if conds:
            self.emit(depth, f"if {' and '.join(conds)}:")
            depth += 1
        return depth

    def negated_atom(self, ref: str, keys: list[int], key_exprs: list[str], arity: int,
                     depth: int) -> int:
        """``!R(…)`` whose columns ``keys`` (valued ``key_exprs``) are bound: a test of the
        tuple, of the relation's emptiness, or of an index."""
        if len(keys) == arity:
            full = "(" + "".join(e + ", " for e in key_exprs) + ")"
            self.emit(depth, f"if {full} not in S_{ref}:")
            self.prelude.append(f"S_{ref} = {ref}.tuples")
        elif not keys:
            self.emit(depth, f"if not S_{ref}:")
            self.prelude.append(f"S_{ref} = {ref}.tuples")
        else:
            key = key_exprs[0] if len(keys) == 1 else "(" + ", ".join(key_exprs) + ",)"
            self.prelude.append(f"I_{ref} = {ref}.index({tuple(keys)!r})")
            self.emit(depth, f"if {key} not in I_{ref}:")
        return depth + 1

    def python_atom(self, lit: AtomLit, depth: int, bound: set[str], explain: bool) -> int:
        ref = self.relation_ref(lit)
        mode = self.modes[lit.relation]
        inputs: list[str] = []
        out = self.tmp("o")
        parts: list[str] = []
        conds: list[str] = []
        binds: list[tuple[str, str]] = []
        j = 0
        for a, m in zip(lit.args, mode, strict=False):
            if m == "b":
                inputs.append(self.expr(a))
                parts.append(inputs[-1])
                continue
            slot = f"{out}[{j}]"
            j += 1
            parts.append(slot)
            if isinstance(a, Const) or (isinstance(a, Var) and a.name in bound):
                conds.append(f"{slot} == {self.expr(a)}")
            elif isinstance(a, Var):
                if any(a.name == n for n, _ in binds):
                    conds.append(f"{slot} == {self.var(a.name)}")
                else:
                    binds.append((a.name, slot))
        rows = self.hoist(f"{ref}({', '.join(inputs)})", "None")
        if lit.negated:
            cond = " and ".join(conds) or "True"
            return self.open_if(depth, f"not any({cond} for {out} in {rows})")
        depth = self.open_if(depth, None)
        depth = self.loop(depth, f"{out} in {rows}")
        for name, slot in binds:
            self.emit(depth, f"{self.var(name)} = {slot}")
            bound.add(name)
        if explain:
            witness = self.tmp("t")
            self.witnesses.append(witness)
            self.emit(depth, f"{witness} = ({''.join(p + ', ' for p in parts)})")
        if conds:
            self.emit(depth, f"if {' and '.join(conds)}:")
            depth += 1
        return depth

    def aggregate(self, lit: AggregateLit, depth: int, bound: set[str]) -> int:
        acc = self.tmp("acc")
        cnt = self.tmp("n")
        result = self.var(lit.result)
        op = lit.op
        if op in ("count", "sum"):
            self.emit(depth, f"{acc} = 0")
        elif op == "mean":
            self.emit(depth, f"{acc} = 0")
            self.emit(depth, f"{cnt} = 0")
        else:
            self.emit(depth, f"{acc} = None")
        order = plan(lit.body, bound, self.sizes, self.modes)

        seen = self.tmp("seen") if lit.distinct and op in ("count", "sum", "mean") else None
        if seen is not None:
            self.emit(depth, f"{seen} = set()")

        def inner(d: int, inner_bound: set[str]) -> None:
            if seen is not None:  # each distinct binding of the body's variables once
                names = sorted(_body_vars(lit) & inner_bound - bound)
                key = "(" + "".join(self.var(n) + ", " for n in names) + ")"
                self.emit(d, f"if {key} not in {seen}:")
                self.emit(d + 1, f"{seen}.add({key})")
                d += 1
            if op == "count":
                self.emit(d, f"{acc} += 1")
                return
            value = self.expr(lit.target)
            d = self.open_if(d, None)
            if op == "sum":
                self.emit(d, f"{acc} += {value}")
            elif op == "mean":
                self.emit(d, f"{acc} += {value}")
                self.emit(d, f"{cnt} += 1")
            else:
                cmp = "<" if op == "min" else ">"
                val = self.tmp("x")
                self.emit(d, f"{val} = {value}")
                self.emit(d, f"if {acc} is None or {val} {cmp} {acc}:")
                self.emit(d + 1, f"{acc} = {val}")
                for w, var in saved_witnesses:
                    self.emit(d + 1, f"{w} = {var}")

        saved_witnesses = [(self.tmp("w"), self.var(name)) for name in lit.witnesses]
        for w, _var in saved_witnesses:
            self.emit(depth, f"{w} = None")
        saved = self.witnesses
        self.witnesses = []
        self.counting += 1
        shared = len(self.shared)
        self.shared += [acc, *([cnt] if op == "mean" else []), *(w for w, _ in saved_witnesses),
                        *([seen] if seen is not None else [])]
        self.body(order, 0, depth, bound, inner, None, False)
        del self.shared[shared:]
        self.counting -= 1
        self.witnesses = saved
        value = acc
        if op == "mean":
            self.emit(depth, f"if {cnt}:")
            depth += 1
            value = f"{acc} / {cnt}"
        elif op in ("min", "max"):
            self.emit(depth, f"if {acc} is not None:")
            depth += 1
            for w, var in saved_witnesses:
                self.emit(depth, f"{var} = {w}")
            bound.update(lit.witnesses)
        if lit.result in bound:  # already bound by an atom placed earlier: compare
            self.emit(depth, f"if {value} == {result}:")
            return depth + 1
        self.emit(depth, f"{result} = {value}")
        return depth

    def group_delta(self, lit: AtomLit, passing: list[str], depth: int) -> int:
        """Group the delta (atom ``lit``) by its key variables (those not ``passing``) into
        lists of the passing values, then loop over the groups with the keys bound; the
        depth inside the loop."""
        groups, got, self.accumulated = self.tmp("G"), self.tmp("g"), self.tmp("A")
        keys = [a.name for a in lit.args if isinstance(a, Var) and a.name not in passing]
        target = [self.var(a.name) if isinstance(a, Var) else "_" for a in lit.args]
        key = _tuple_code([self.var(k) for k in keys])
        value = _tuple_code([self.var(p) for p in passing])
        self.emit(depth, f"{groups} = {{}}")
        self.emit(depth, f"{self.accumulated} = {{}}")
        self.emit(depth, f"for ({', '.join(target)},) in delta:")
        self.emit(depth + 1, f"{got} = {groups}.get({key})")
        self.emit(depth + 1, f"if {got} is None:")
        self.emit(depth + 2, f"{groups}[{key}] = [{value}]")
        self.emit(depth + 1, "else:")
        self.emit(depth + 2, f"{got}.append({value})")
        self.grouped = got
        return self.loop(depth, f"{key}, {got} in {groups}.items()")

    def _others(self, passing: list[str]) -> list[int]:
        """Positions of the head arguments that are not passing variables."""
        return [i for i, a in enumerate(self.rule.head_args)
                if not (isinstance(a, Var) and a.name in passing)]

    def grouped_head(self, depth: int, passing: list[str]) -> None:
        """One match of the rest of the body: the group's passing values join the set
        accumulated for the values of the head's other arguments."""
        others = [self.expr(self.rule.head_args[i]) for i in self._others(passing)]
        depth = self.open_if(depth, None)
        key, got, acc = _tuple_code(others), self.tmp("s"), self.accumulated
        self.emit(depth, f"{got} = {acc}.get({key})")
        self.emit(depth, f"if {got} is None:")
        self.emit(depth + 1, f"{acc}[{key}] = set({self.grouped})")
        self.emit(depth, "else:")
        self.emit(depth + 1, f"{got}.update({self.grouped})")

    def flush_groups(self, depth: int, passing: list[str]) -> None:
        """The head tuples of the accumulated sets, each made once (``zip`` with
        ``repeat``-ed values for one passing variable, else a list of tuples)."""
        others = self._others(passing)
        key, got = self.tmp("k"), self.tmp("s")
        self.emit(depth, "out_update = out_add.__self__.update")  # out_add: a set's add
        self.emit(depth, f"for {key}, {got} in {self.accumulated}.items():")
        part = {i: key if len(others) == 1 else f"{key}[{j}]" for j, i in enumerate(others)}
        args = self.rule.head_args
        if len(passing) == 1:
            self.env["repeat"] = itertools.repeat
            cols = [f"repeat({part[i]})" if i in part else got for i in range(len(args))]
            self.emit(depth + 1, f"out_update(zip({', '.join(cols)}))")
            return
        names = {p: self.tmp("p") for p in passing}
        items = [part[i] if i in part else names[a.name]  # type: ignore[union-attr]
                 for i, a in enumerate(args)]
        unpack = _tuple_code(list(names.values()))
        self.emit(depth + 1, f"out_update([{_tuple_code(items, True)} for {unpack} in {got}])")

    def head(self) -> str:
        args = [self.expr(a) for a in self.rule.head_args]
        return "(" + "".join(a + ", " for a in args) + ")"

    def finish(self, header: str) -> CompiledRule:
        for h in sorted(self.helpers):
            if h in FALLIBLE:
                self.bindings[h] = Binding(h, "helper", h, FALLIBLE[h])
            else:
                self.env[h] = HELPERS[h]
        names = list(self.bindings)
        lines = [f"def _make({', '.join([*names, *self.consts.values()])}):", "    " + header]
        for p in dict.fromkeys(self.prelude):
            lines.append("        " + p)
        lines.extend("        " + ln for ln in self.defs + self.lines)
        if len(lines) == 2 or not self.lines:
            lines.append("        pass")
        lines.append("    return rule")
        source = "\n".join(lines) + "\n"
        make = _FACTORIES.get(source)
        if make is None:
            code = compile(source, f"<rule {self.rule.source.loc}>", "exec")
            make = factory(source, code, tuple(sorted(self.env)))
        return CompiledRule(make, tuple(self.bindings[n] for n in names), self.where, source,
                            tuple(value for _, value in self.consts))


def factory(source: str, code: CodeType, helpers: tuple[str, ...]) -> Callable[..., Any]:
    """The factory ``_make`` of ``source`` compiled to ``code`` (which reads the helpers
    ``helpers`` of HELPERS as globals), kept in the shared cache with its code (see
    :func:`factory_code`: the persistent program cache, program_cache.py, stores it)."""
    if len(_FACTORIES) >= MAX_FACTORIES:
        _FACTORIES.clear()
        _CODES.clear()
    namespace: dict[str, Any] = {h: _global(h) for h in helpers}
    exec(code, namespace)
    make: Callable[..., Any] = namespace["_make"]
    _FACTORIES[source] = make
    _CODES[source] = (code, helpers)
    return make


def _global(name: str) -> Any:
    """What the generated code's global ``name`` is (Emitter.env)."""
    special = {"_FAIL": runtime.FAIL, "repeat": itertools.repeat, "grouped": runtime.grouped}
    return special[name] if name in special else HELPERS[name]


def restore(record: tuple[Any, ...], sources: Mapping[str, tuple[bytes, tuple[str, ...]]]
            ) -> CompiledRule:
    """A compiled rule from its record in the persistent program cache (program_cache.py):
    ``(bindings, where, source, consts, needs)``, its code marshalled in ``sources``."""
    bindings, where, source, consts, needs = record
    make = _FACTORIES.get(source)
    if make is None:
        blob, helpers = sources[source]
        make = factory(source, marshal.loads(blob), helpers)
    return CompiledRule(make, bindings, where, source, consts, needs)


def factory_code(source: str) -> tuple[CodeType, tuple[str, ...]] | None:
    """The code object and helper names the factory of ``source`` was made from, if it is
    still in the shared cache."""
    return _CODES.get(source)


#: Compiled factories by source text, shared by every rule (of any program) of that source:
#: rules that differ only in their constants and relations are compiled once.
_FACTORIES: dict[str, Callable[..., Callable[..., Any]]] = {}
#: Factories kept at most (then the cache starts again).
MAX_FACTORIES = 20_000
#: The code object and helper names of each factory of _FACTORIES (see :func:`factory`).
_CODES: dict[str, tuple[CodeType, tuple[str, ...]]] = {}


@dataclass(frozen=True)
class Binding:
    """A name the compiled code gets from one database: a stored relation (``relation``), a
    Python relation, a user functor or a fallible helper (the last three guarded: their
    failures go to that database's log, under ``label``)."""

    name: str
    kind: str  # relation | pyrel | functor | helper
    target: str
    label: str


@dataclass(frozen=True)
class CompiledRule:
    """A rule's compiled code, independent of any database."""

    make: Callable[..., Callable[..., Any]]
    bindings: tuple[Binding, ...]
    where: str  # the rule's file:line:col
    source: str
    consts: tuple[Any, ...] = ()  # the values of the constants K0, K1, ... of the source
    #: relations that must hold tuples for the rule to do anything (``_leading_relations``)
    needs: tuple[str, ...] = ()
    #: the relations of the bindings when they are all stored relations (else empty)
    plain: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        plain = all(b.kind == "relation" for b in self.bindings) and bool(self.bindings)
        object.__setattr__(self, "plain",
                           tuple(b.target for b in self.bindings) if plain else ())

    def bind(self, relations: Mapping[str, Relation],
             pyrels: Mapping[str, Callable[..., Any]],
             functors: Mapping[str, Callable[..., Any]],
             failures: FailureLog, memo: dict[str, dict[Any, Any]] | None = None
             ) -> Callable[..., Any]:
        """The rule function over one database's relations (failures recorded in
        ``failures``; with ``memo``, the Python relations' results kept there, a dict per
        relation: see ``runtime.guard_relation``)."""
        if self.plain:  # only stored relations: the common case, at C speed
            fn = self.make(*map(relations.__getitem__, self.plain), *self.consts)
            fn.__doc__ = self.source
            return fn
        args: list[Any] = []
        for b in self.bindings:
            if b.kind == "relation":
                args.append(relations[b.target])
            elif b.kind == "pyrel":
                args.append(runtime.guard_relation(
                    pyrels[b.target], self.where, b.label, failures,
                    None if memo is None else memo.setdefault(b.target, {})))
            else:
                fn = (functors[b.target] if b.kind == "functor" else
                      HELPERS[b.target])
                args.append(runtime.guard(fn, self.where, b.label, failures))
        fn = self.make(*args, *self.consts)
        fn.__doc__ = self.source
        return fn


class _LiveSizes(Mapping[str, int]):
    """Relation sizes, read when the planner asks for one (not all of them up front)."""

    def __init__(self, relations: Mapping[str, Relation]) -> None:
        self._relations = relations

    def __getitem__(self, name: str) -> int:
        return len(self._relations[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._relations)

    def __len__(self) -> int:
        return len(self._relations)


def rule_code(rule: NormRule, sizes: Mapping[str, int], modes: Mapping[str, str],
              delta: int | None, delta_size: int | None = None) -> CompiledRule:
    """Compile ``rule`` to ``rule(delta, out_add, tick)`` (once bound to a database); with
    ``delta`` set, body literal number ``delta`` (a positive atom) iterates over the ``delta``
    set instead of its relation (or, given ``delta_size`` for a rule that ``filtered_delta``
    allows, is a test of the rows the rest of the body makes, if that is cheaper). Every
    ``TICK_EVERY`` loop iterations it calls ``tick()`` (which may raise to stop evaluation;
    it returns the next countdown). ``sizes`` (relation sizes) order the joins."""
    em = Emitter(rule, sizes, modes)
    em.ticking = True
    em.prelude.append(f"_n = {TICK_EVERY}")
    order = None
    if delta is not None and delta_size is not None:
        order = delta_last_plan(rule.body, delta, sizes, modes, delta_size)
    if order is None:
        order = plan(rule.body, set(), sizes, modes, delta)
    delta_lit = rule.body[delta] if delta is not None else None
    assert delta_lit is None or isinstance(delta_lit, AtomLit)
    passing = pass_through(rule, delta_lit) \
        if delta_lit is not None and order and order[0] is delta_lit else []

    def inner(depth: int, _bound: set[str]) -> None:
        head = em.head()
        em.emit(em.open_if(depth, None), f"out_add({head})")

    needs = _leading_relations(order, delta_lit)
    if delta_lit is None or not passing:
        em.body(order, 0, 0, set(), inner, delta_lit, False)
        return replace(em.finish("def rule(delta, out_add, tick):"), needs=needs)
    # a delta whose passing values come in groups: the rest of the body once per group
    keys = [i for i, a in enumerate(delta_lit.args)
            if isinstance(a, Var) and a.name not in passing]
    em.env["grouped"] = runtime.grouped
    em.emit(0, f"if grouped(delta, {tuple(keys)!r}):")
    depth = em.group_delta(delta_lit, passing, 1)
    em.body(order, 1, depth, set(lit_vars(delta_lit)) - set(passing),
            lambda d, _bound: em.grouped_head(d, passing), None, False)
    em.flush_groups(1, passing)
    em.emit(0, "else:")
    em.body(order, 0, 1, set(), inner, delta_lit, False)
    return replace(em.finish("def rule(delta, out_add, tick):"), needs=needs)


def _leading_relations(order: list[Lit], delta: AtomLit | None) -> tuple[str, ...]:
    """The stored relations of the positive atoms that begin the planned body ``order`` (the
    ``delta`` atom aside): while one of them is empty, the compiled rule's loops end before
    anything else in the body is evaluated (nothing is derived, nothing can fail)."""
    out: list[str] = []
    for lit in order:
        if not isinstance(lit, AtomLit) or lit.negated or lit.python or \
                not all(isinstance(a, Var | Const | Wildcard) for a in lit.args):
            break
        if lit is not delta:
            out.append(lit.relation)
    return tuple(dict.fromkeys(out))


def pass_through(rule: NormRule, lit: AtomLit) -> list[str]:
    """The variables of the delta atom ``lit`` that only pass through to the head: each a
    head argument of its own, in no other literal of the body and once in ``lit``; none
    when ``lit`` has a constant, a repeated variable, or no other variable (a join key).
    Grouping the delta by its other (key) variables, the rest of the body runs once per key,
    and each of its matches derives the group's head tuples in one ``set.update``."""
    if lit.python or lit.negated or any(isinstance(a, Const) for a in lit.args):
        return []
    names = [a.name for a in lit.args if isinstance(a, Var)]
    if len(set(names)) != len(names):
        return []
    used: set[str] = set()
    for other in rule.body:
        if other is not lit:
            used |= lit_vars(other)
    in_exprs = {v.name for a in rule.head_args if not isinstance(a, Var)
                for v in expr_vars(a, [])}
    heads = {a.name for a in rule.head_args if isinstance(a, Var)}
    passing = [n for n in names if n in heads and n not in used and n not in in_exprs]
    if len(passing) == len(names) or len(rule.body) < 2:
        return []
    return passing


def compile_rule(rule: NormRule, relations: Mapping[str, Relation],
                 pyrels: Mapping[str, Callable[..., Any]],
                 functors: Mapping[str, Callable[..., Any]], modes: Mapping[str, str],
                 delta: int | None, failures: FailureLog | None = None,
                 ) -> Callable[[set[Any] | None, Callable[[Any], None], Callable[[], int]], None]:
    """:func:`rule_code` bound at once to ``relations`` (functor failures go to
    ``failures``)."""
    code = rule_code(rule, _LiveSizes(relations), modes, delta)
    return code.bind(relations, pyrels, functors,
                     failures if failures is not None else FailureLog())


def compile_explainer(rule: NormRule, relations: Mapping[str, Relation],
                      pyrels: Mapping[str, Callable[..., Any]],
                      functors: Mapping[str, Callable[..., Any]],
                      modes: Mapping[str, str]) -> tuple[Callable[..., Any], list[AtomLit]]:
    """Compile ``rule(goal)``: yields, for each body instantiation deriving ``goal``, the tuple
    of positive body tuples (in the order of the returned atoms)."""
    sizes = _LiveSizes(relations)
    em = Emitter(rule, sizes, modes)
    em.generator = True
    bound: set[str] = set()
    for i, a in enumerate(rule.head_args):
        if isinstance(a, Var) and a.name not in bound:
            em.emit(0, f"{em.var(a.name)} = goal[{i}]")
            bound.add(a.name)
    order = plan(rule.body, bound, sizes, modes)
    atoms = [lit for lit in order if isinstance(lit, AtomLit) and not lit.negated]

    def inner(depth: int, _bound: set[str]) -> None:
        d = em.open_if(depth, f"{em.head()} == goal")
        em.emit(d, f"yield ({''.join(w + ', ' for w in em.witnesses)})")

    em.body(order, 0, 0, bound, inner, None, True)
    em.emit(0, "return")
    em.emit(0, "yield ()")
    return em.finish("def rule(goal):").bind(relations, pyrels, functors, FailureLog()), atoms


def compile_probe(rule: NormRule, relations: Mapping[str, Relation],
                  pyrels: Mapping[str, Callable[..., Any]],
                  functors: Mapping[str, Callable[..., Any]], modes: Mapping[str, str],
                  columns: tuple[int, ...]) -> tuple[Callable[..., Any], list[Lit],
                                                     list[list[str]]]:
    """Compile ``rule(goal, reach, tick)`` for "why not": the head's variables at ``columns``
    are bound from ``goal`` (other columns are free), the body runs in source order
    (:func:`source_plan`), and
    after the k-th literal holds it calls ``reach(k, values)`` with the values of the
    variables bound so far (their names: ``names[k]``); ``reach(len(body) + 1, ())`` when
    the head then matches ``goal`` at ``columns``. Returns the function, the planned body
    and the names."""
    em = Emitter(rule, _LiveSizes(relations), modes)
    em.ticking = True
    em.prelude.append(f"_n = {TICK_EVERY}")
    bound: set[str] = set()
    for i in columns:
        a = rule.head_args[i]
        if isinstance(a, Var) and a.name not in bound:
            em.emit(0, f"{em.var(a.name)} = goal[{i}]")
            bound.add(a.name)
    order = source_plan(rule.body, bound, modes)
    names: list[list[str]] = [sorted(bound)]

    def after(k: int, depth: int, now: set[str]) -> None:
        held = sorted(now)
        if len(names) <= k + 1:
            names.append(held)
        values = "".join(em.var(n) + ", " for n in held)
        em.emit(em.open_if(depth, None), f"reach({k + 1}, ({values}))")

    em.after_literal = after

    def inner(depth: int, _bound: set[str]) -> None:
        checks = [f"{em.expr(rule.head_args[i])} == goal[{i}]" for i in columns]
        d = em.open_if(depth, " and ".join(checks) or None)
        em.emit(d, f"reach({len(order) + 1}, ())")

    em.body(order, 0, 0, bound, inner, None, False)
    fn = em.finish("def rule(goal, reach, tick):").bind(relations, pyrels, functors,
                                                           FailureLog())
    return fn, order, names
