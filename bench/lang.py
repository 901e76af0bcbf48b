"""A tiny engine-neutral Datalog representation, its renderings and a brute-force evaluator.

The benchmarks (``bench/run.py``) and the differential tests (``tests/differential``) describe
each program once as a :class:`Spec` and render it for every engine:

* :func:`to_souffle`: the Soufflé subset read by ``guestinspect.datalog``;
* :func:`to_pydatalog`: pyDatalog's text syntax (``p(X) <= q(X) & ~r(X)``), for ``pyDatalog.load``;
* :func:`to_clingo`: ASP (gringo) syntax, for ``clingo.Control.add``.

Relation names are prefixed with ``r_`` for pyDatalog and clingo (both need a lower-case first
letter) and variables with ``V`` (both need an upper-case one). :func:`naive_eval` is a slow,
obviously-correct stratified naive evaluator used as the reference in tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

Value = str | int


@dataclass(frozen=True)
class V:
    """A variable."""

    name: str


Term = V | str | int


@dataclass(frozen=True)
class Lit:
    """An atom ``rel(args)``, negated when ``neg``."""

    rel: str
    args: tuple[Term, ...]
    neg: bool = False


@dataclass(frozen=True)
class Cmp:
    """A comparison between two terms (``!=``, ``=``, ``<``, ``<=``, ``>``, ``>=``)."""

    op: str
    left: Term
    right: Term


BodyItem = Lit | Cmp


@dataclass(frozen=True)
class Rule:
    head: Lit
    body: tuple[BodyItem, ...]


@dataclass
class Spec:
    """A program with its input facts; ``types`` maps every relation to its column types."""

    name: str
    types: dict[str, tuple[str, ...]]  # column types: "symbol" or "number"
    facts: dict[str, list[tuple[Value, ...]]]
    rules: list[Rule]
    outputs: list[str]
    notes: str = ""
    extra: dict[str, int] = field(default_factory=dict)


Result = dict[str, set[tuple[Value, ...]]]


# ---- rendering --------------------------------------------------------------------------


def _souffle_const(c: Value) -> str:
    if isinstance(c, int):
        return str(c)
    return '"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _souffle_term(t: Term) -> str:
    return t.name if isinstance(t, V) else _souffle_const(t)


def _souffle_item(b: BodyItem) -> str:
    if isinstance(b, Cmp):
        return f"{_souffle_term(b.left)} {b.op} {_souffle_term(b.right)}"
    atom = f"{b.rel}({', '.join(_souffle_term(a) for a in b.args)})"
    return "!" + atom if b.neg else atom


def to_souffle(spec: Spec, with_inputs: bool = False) -> str:
    """The program (no facts) in Soufflé syntax; outputs get ``.output``."""
    lines: list[str] = []
    idb = {r.head.rel for r in spec.rules}
    for rel, cols in spec.types.items():
        decl = ", ".join(f"c{i}: {t}" for i, t in enumerate(cols))
        lines.append(f".decl {rel}({decl})")
        if with_inputs and rel not in idb:
            lines.append(f".input {rel}")
    for rel in spec.outputs:
        lines.append(f".output {rel}")
    for r in spec.rules:
        head = _souffle_item(r.head)
        if r.body:
            lines.append(f"{head} :- {', '.join(_souffle_item(b) for b in r.body)}.")
        else:
            lines.append(f"{head}.")
    return "\n".join(lines) + "\n"


def _py_term(t: Term, fresh: list[int]) -> str:
    if isinstance(t, V):
        if t.name == "_":  # pyDatalog has no anonymous variable: a fresh one per occurrence
            fresh[0] += 1
            return f"Wild{fresh[0]}"
        return "V" + t.name
    return repr(t)


def to_pydatalog(spec: Spec) -> str:
    """The rules in pyDatalog syntax (facts are asserted with ``pyDatalog.assert_fact``)."""
    lines = []
    fresh = [0]
    for r in spec.rules:
        head = f"r_{r.head.rel}({', '.join(_py_term(a, fresh) for a in r.head.args)})"
        items = []
        for b in r.body:
            if isinstance(b, Cmp):
                items.append(f"({_py_term(b.left, fresh)} {'==' if b.op == '=' else b.op} "
                             f"{_py_term(b.right, fresh)})")
            else:
                atom = f"r_{b.rel}({', '.join(_py_term(a, fresh) for a in b.args)})"
                items.append("~" + atom if b.neg else atom)
        if not items:
            raise ValueError("pyDatalog rendering: rules need a body (use facts)")
        lines.append(f"{head} <= {' & '.join(items)}")
    return "\n".join(lines) + "\n"


def _asp_const(c: Value) -> str:
    if isinstance(c, int):
        return str(c)
    return '"' + c.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _asp_term(t: Term) -> str:
    if isinstance(t, V):
        return "_" if t.name == "_" else "V" + t.name
    return _asp_const(t)


def _asp_item(b: BodyItem) -> str:
    if isinstance(b, Cmp):
        return f"{_asp_term(b.left)} {b.op} {_asp_term(b.right)}"
    atom = f"r_{b.rel}({', '.join(_asp_term(a) for a in b.args)})"
    return "not " + atom if b.neg else atom


def to_clingo(spec: Spec) -> str:
    """The rules and ``#show`` directives in ASP syntax (facts: :func:`clingo_facts`)."""
    lines = []
    for r in spec.rules:
        head = _asp_item(r.head)
        if r.body:
            lines.append(f"{head} :- {', '.join(_asp_item(b) for b in r.body)}.")
        else:
            lines.append(f"{head}.")
    for rel in spec.outputs:
        lines.append(f"#show r_{rel}/{len(spec.types[rel])}.")
    return "\n".join(lines) + "\n"


def clingo_facts(spec: Spec) -> str:
    parts = []
    for rel, tuples in spec.facts.items():
        for t in tuples:
            parts.append(f"r_{rel}({','.join(_asp_const(v) for v in t)}).\n")
    return "".join(parts)


# ---- results ------------------------------------------------------------------------------


def digest(result: Result) -> tuple[int, str]:
    """(total tuple count, a hash of the sorted, typed tuples) of the output relations."""
    h = hashlib.sha256()
    count = 0
    for rel in sorted(result):
        for line in sorted(repr(t) for t in result[rel]):
            h.update(f"{rel}{line}\n".encode())
            count += 1
    return count, h.hexdigest()[:16]


# ---- the reference evaluator ----------------------------------------------------------------


def strata(spec: Spec) -> list[list[Rule]]:
    """Group the rules by stratum (raises ValueError if negation is not stratified)."""
    rels = set(spec.types)
    level = dict.fromkeys(rels, 0)
    for _ in range(len(rels) + 2):
        changed = False
        for r in spec.rules:
            for b in r.body:
                if isinstance(b, Lit):
                    need = level[b.rel] + (1 if b.neg else 0)
                    if level[r.head.rel] < need:
                        level[r.head.rel] = need
                        changed = True
        if not changed:
            break
    else:
        raise ValueError("negation is not stratified")
    if any(v > len(rels) for v in level.values()):
        raise ValueError("negation is not stratified")
    top = max(level.values(), default=0)
    groups: list[list[Rule]] = [[] for _ in range(top + 1)]
    for r in spec.rules:
        groups[level[r.head.rel]].append(r)
    return groups


_CMP = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _value(t: Term, env: dict[str, Value]) -> Value:
    return env[t.name] if isinstance(t, V) else t


def _match(args: tuple[Term, ...], tup: tuple[Value, ...],
           env: dict[str, Value]) -> dict[str, Value] | None:
    new = dict(env)
    for a, v in zip(args, tup, strict=True):
        if isinstance(a, V):
            if a.name == "_":
                continue
            if a.name in new:
                if new[a.name] != v:
                    return None
            else:
                new[a.name] = v
        elif a != v:
            return None
    return new


def _solve(body: list[BodyItem], env: dict[str, Value], db: Result) -> Iterator[dict[str, Value]]:
    if not body:
        yield env
        return
    # Positive atoms first (in order); negations and comparisons once all their vars are bound.
    for i, b in enumerate(body):
        if isinstance(b, Lit) and b.neg or isinstance(b, Cmp):
            terms = b.args if isinstance(b, Lit) else (b.left, b.right)
            if all(not isinstance(t, V) or t.name in env or t.name == "_" for t in terms):
                rest = body[:i] + body[i + 1:]
                if isinstance(b, Cmp):
                    if _CMP[b.op](_value(b.left, env), _value(b.right, env)):
                        yield from _solve(rest, env, db)
                elif not any(_match(b.args, t, env) is not None for t in db[b.rel]):
                    yield from _solve(rest, env, db)
                return
    for i, b in enumerate(body):
        if isinstance(b, Lit) and not b.neg:
            rest = body[:i] + body[i + 1:]
            for t in list(db[b.rel]):
                e = _match(b.args, t, env)
                if e is not None:
                    yield from _solve(rest, e, db)
            return
    raise ValueError(f"unsafe rule body: {body}")


def naive_eval(spec: Spec) -> Result:
    """Stratified naive bottom-up evaluation by nested loops (for small inputs only)."""
    db: Result = {rel: set() for rel in spec.types}
    for rel, tuples in spec.facts.items():
        db[rel].update(tuple(t) for t in tuples)
    for group in strata(spec):
        changed = True
        while changed:
            changed = False
            for r in group:
                new = {tuple(_value(a, env) for a in r.head.args)
                       for env in _solve(list(r.body), {}, db)}
                if not new <= db[r.head.rel]:
                    db[r.head.rel] |= new
                    changed = True
    return {rel: db[rel] for rel in spec.outputs}


def rel_vars(items: Iterable[Term]) -> set[str]:
    return {t.name for t in items if isinstance(t, V)}
