"""The program of ``guestinspect query``: the user's rules over a whole inventory.

Before the user's files and ``-e`` texts comes a prelude, written from the shipped inspection
program and the inventory (docs/fleet.md "Queries"):

* every stored relation of the shipped program, and every other relation the inventory
  holds, declared with the image as an extra first column ``image: symbol``
  (``Distro(image, root, distro)``); the types of a relation the shipped program does not
  declare are guessed from its rows;
* ``Image(image, status, key, error)``: every image of the inventory;
* the shipped functors (``@version_cmp``, ``@lower``, …) and Python relations (``Lines``,
  ``SplitOn``, …), as in the inspection rules.

Only the relations the user's rules read (and ``.output`` or ``--explain``) are loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guestinspect.datalog import (
    Database,
    DatalogError,
    Derivation,
    Limits,
    Program,
    builtin_functors,
)
from guestinspect.datalog.parser import Loader
from guestinspect.datalog.syntax import (
    Aggregate,
    Atom,
    BinOp,
    Call,
    Comparison,
    Const,
    Expr,
    Module,
    Negation,
    UnOp,
    Var,
)
from guestinspect.errors import RuleError, UsageError
from guestinspect.functors import FUNCTORS, RELATIONS
from guestinspect.query.inventory import InventoryReader, guess_kinds

#: The relation of the images themselves.
IMAGE = "Image"
IMAGE_COLUMNS = (("image", "symbol"), ("status", "symbol"), ("key", "symbol"),
                 ("error", "symbol"))
PRELUDE = "<inventory>"


@dataclass(frozen=True)
class Source:
    """A rule file (``path``) or a ``-e`` text."""

    text: str | None = None
    path: Path | None = None


def shipped_program() -> Program:
    from guestinspect.inspection.driver import load_program

    return load_program()


def _first_column(columns: Sequence[str]) -> str:
    name = "image"
    while name in columns:
        name += "_"
    return name


def prelude(shipped: Program, reader: InventoryReader) -> tuple[str, list[str]]:
    """The declarations before the user's rules, and warnings (relations not declared)."""
    lines: list[str] = []
    warnings: list[str] = []
    declared: set[str] = {IMAGE, *shipped.modes}
    lines.append(f".decl {IMAGE}(" + ", ".join(f"{c}: {t}" for c, t in IMAGE_COLUMNS) + ")")
    for name, cols in shipped.declarations.items():
        kinds = shipped.kinds[name]
        if name in shipped.modes:  # a Python relation: as the shipped rules declare it
            lines.append(f".decl {name}(" + ", ".join(
                f"{c}: {k}" for (c, _), k in zip(cols, kinds, strict=True)) + ")")
            continue
        declared.add(name)
        first = _first_column([c for c, _ in cols])
        lines.append(f".decl {name}({first}: symbol" + "".join(
            f", {c}: {k}" for (c, _), k in zip(cols, kinds, strict=True)) + ")")
    for name in reader.relations():
        if name in declared:
            continue
        guessed = guess_kinds(reader.sample(name))
        if guessed is None or name in shipped.functors:
            warnings.append(f"--inventory {reader.path}: relation '{name}' not declared "
                            "(its rows do not agree on their columns' types)")
            continue
        declared.add(name)
        lines.append(f".decl {name}(image: symbol" + "".join(
            f", c{i}: {k}" for i, k in enumerate(guessed, 1)) + ")")
    for f in shipped.module.functors:
        params = ", ".join(f"{p.name}: {p.type}" for p in f.params)
        lines.append(f".functor {f.name}({params}): {f.result}")
    return "\n".join(lines) + "\n", warnings


def compile_query(shipped: Program, reader: InventoryReader, sources: Sequence[Source],
                  limits: Limits) -> tuple[Program, list[str]]:
    """The user's program after the prelude; RuleError (``file:line:col: …``) if wrong."""
    text, warnings = prelude(shipped, reader)
    loader = Loader([], limits)
    loader.load_text(text, PRELUDE, Path.cwd())
    n = sum(1 for s in sources if s.path is None)
    k = 0
    for s in sources:
        if s.path is not None:
            loader.load_file(s.path)
        else:
            k += 1
            loader.load_text(s.text or "", "<-e>" if n == 1 else f"<-e {k}>", Path.cwd())
    if not loader.errors:
        declared = head_declarations(loader.module)
        if declared:
            loader.load_text(declared, "<-e>", Path.cwd())
    try:
        program = Program(loader.module, FUNCTORS, RELATIONS, loader.errors, limits)
    except DatalogError as e:
        raise RuleError(e.errors[0], e.errors) from None
    return program, warnings


def head_declarations(module: Module) -> str:
    """``.decl`` lines for the undeclared head relations of ``-e`` rules: a column per head
    argument, named for its variable (else ``c1``, ``c2``…), typed as the first body atom
    that binds the variable declares it (or number for arithmetic, counts and sums, a user
    functor's result type; symbol otherwise)."""
    types: dict[str, list[str]] = {d.name: [c.type for c in d.columns]
                                   for d in module.declarations}
    results = {f.name: f.result for f in module.functors}
    out: dict[str, str] = {}
    for rule in module.rules:
        name = rule.head.relation
        if not rule.loc.file.startswith("<-e") or name in types or name in out:
            continue
        bound: dict[str, str] = {}
        for lit in rule.body:
            atom = lit.atom if isinstance(lit, Negation) else lit
            if isinstance(atom, Atom):
                for a, t in zip(atom.args, types.get(atom.relation, []), strict=False):
                    if isinstance(a, Var):
                        bound.setdefault(a.name, t)
        for lit in rule.body:
            if isinstance(lit, Comparison) and lit.op == "=":
                for var, expr in ((lit.left, lit.right), (lit.right, lit.left)):
                    if isinstance(var, Var) and var.name not in bound:
                        bound[var.name] = _expr_type(expr, bound, results)
        columns: list[str] = []
        for i, a in enumerate(rule.head.args, 1):
            col = a.name if isinstance(a, Var) and a.name not in columns else f"c{i}"
            while col in columns:
                col += "_"
            columns.append(col)
        kinds = [_expr_type(a, bound, results) for a in rule.head.args]
        out[name] = f".decl {name}(" + ", ".join(
            f"{c}: {k}" for c, k in zip(columns, kinds, strict=True)) + ")"
    return "\n".join(out.values()) + "\n" if out else ""


def _expr_type(e: Expr | None, bound: dict[str, str], results: dict[str, str]) -> str:
    if isinstance(e, Var):
        return bound.get(e.name, "symbol")
    if isinstance(e, Const):
        return "symbol" if isinstance(e.value, str) else "float" if isinstance(
            e.value, float) else "unsigned" if e.unsigned else "number"
    if isinstance(e, BinOp | UnOp):
        return "number"
    if isinstance(e, Aggregate):
        return "number" if e.op in ("count", "sum", "mean") else _expr_type(
            e.target, bound, results)
    if isinstance(e, Call):
        if e.user:
            return results.get(e.name, "symbol")
        row = builtin_functors.FUNCTORS.get(e.name)
        return "symbol" if row is not None and row.result == "symbol" else "number"
    return "symbol"


def shown_relations(program: Program) -> list[str]:
    """The ``.output`` relations, or, with none, the heads of the user's rules."""
    outputs = program.output_relations()
    if outputs:
        return outputs
    return list(dict.fromkeys(r.head for r in program.rules))


@dataclass
class Result:
    db: Database
    relations: list[str]  # the relations to print
    derived: dict[str, set[tuple[Any, ...]]]  # inventory tuples derived by an image's rules


def evaluate(program: Program, reader: InventoryReader, shipped: Program,
             explain: str | None = None) -> Result:
    """Load what the program reads from the inventory and run it."""
    shown = shown_relations(program)
    if explain is not None and explain not in program.declarations:
        raise UsageError(f"--explain {explain}: no such relation")
    if explain is not None and explain in program.modes:
        raise UsageError(f"--explain {explain}: a relation computed by Python")
    wanted: set[str] = set(shown) | ({explain} if explain else set())
    for rule in program.rules:
        wanted.update(program.planned_relations(rule))
    db = Database(program)
    images = reader.images()
    derived: dict[str, set[tuple[Any, ...]]] = {}
    try:
        if IMAGE in wanted:
            db.add_facts(IMAGE, [(i.image, i.status, i.key, i.error) for i in images])
        by_id = {i.id: i.image for i in images}
        stored = set(reader.relations())
        for name in sorted(wanted & stored):
            if name == IMAGE or name in program.modes or name not in program.kinds:
                continue
            rows = []
            marks: set[tuple[Any, ...]] = set()
            for t, was_derived in reader.facts(name, program.kinds[name][1:], by_id):
                rows.append(t)
                if was_derived and explain is not None:
                    marks.add(t)
            db.add_facts(name, rows)
            if marks:
                derived[name] = marks
        db.run()
    except DatalogError as e:
        raise UsageError(e.errors[0]) from None
    return Result(db, shown, derived)


def explained(result: Result, relation: str, row: tuple[Any, ...]) -> Derivation | None:
    """The derivation of ``row``, its leaves from the inventory saying so."""
    d = result.db.explain(relation, row)
    if d is None:
        return None
    stack = [d]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.location is None and node.rule_text is None:
            if node.relation == IMAGE:
                node.rule_text = "the inventory's image"
            elif node.tuple in result.derived.get(node.relation, ()):
                node.rule_text = "in the inventory: derived by the image's rules"
            else:
                node.rule_text = "in the inventory: a base fact of the image"
    return d
