"""``guestinspect query``: the user's rules over a fleet inventory (docs/fleet.md "Queries")."""

from __future__ import annotations

from pathlib import Path

import click

from guestinspect.errors import UsageError

PROG = "guestinspect"
#: --explain shows at most this many tuples.
MAX_EXPLAINED = 50


@click.command("query")
@click.argument("programs", nargs=-1, type=click.Path(path_type=Path), metavar="[PROGRAM.dl]…")
@click.option("-e", "expressions", multiple=True, metavar="RULES",
              help="Rules given on the command line (repeatable), e.g. "
              "'Deb(i) :- OsDistro(i, _, \"debian\").'")
@click.option("--inventory", type=click.Path(dir_okay=False, path_type=Path), required=True,
              metavar="FILE", help="The inventory written by guestinspect fleet --inventory.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--explain", metavar="RELATION",
              help="Print why each tuple of RELATION holds (derivation trees) instead.")
@click.option("--max-tuples", type=click.IntRange(min=1), default=None, metavar="N",
              help="Stop evaluating past N tuples (default: the engine's limit).")
def query(programs: tuple[Path, ...], expressions: tuple[str, ...], inventory: Path,
          as_csv: bool, as_json: bool, explain: str | None, max_tuples: int | None) -> None:
    """Evaluate Datalog rules over every image of a fleet inventory and print the .output
    relations (with no .output: the relations the rules define).

    Every relation of the inventory is available with the image as its first column
    (OsDistro(image, root, distro)), and Image(image, status, key, error).
    """
    from guestinspect.datalog import Limits
    from guestinspect.query import output
    from guestinspect.query.inventory import InventoryReader
    from guestinspect.query.program import Source, compile_query, evaluate

    if not programs and not expressions:
        raise UsageError("no rules given (PROGRAM.dl files or -e 'RULES')")
    if as_csv and as_json:
        raise UsageError("--csv and --json are exclusive")
    for p in programs:
        try:
            p.stat()
        except OSError as e:
            raise UsageError(f"{p}: {e.strerror}") from e
    sources = [Source(path=p) for p in programs] + [Source(text=e) for e in expressions]
    limits = Limits(max_tuples=max_tuples) if max_tuples is not None else Limits()
    reader = InventoryReader.open(inventory)
    try:
        from guestinspect.query.program import shipped_program

        shipped = shipped_program()
        program, warnings = compile_query(shipped, reader, sources, limits)
        result = evaluate(program, reader, shipped, explain)
        warnings += reader.warnings()
    finally:
        reader.close()
    for w in warnings:
        click.echo(f"{PROG}: warning: {w}", err=True)
    failures = result.db.failures.messages()
    for f in failures:
        click.echo(f"{PROG}: warning: {f}", err=True)
    if explain is not None:
        click.echo(_explanations(result, explain), nl=False)
        return
    tables = [output.table_of(name, [c for c, _ in program.declarations[name]],
                              result.db.tuples(name))
              for name in result.relations if name not in program.modes]
    text = output.as_csv(tables) if as_csv else output.as_json(tables) if as_json else \
        output.text(tables)
    click.echo(text, nl=False)


def _explanations(result: object, relation: str) -> str:
    from guestinspect.query.output import table_of
    from guestinspect.query.program import Result, explained
    from guestinspect.reporting.explain import render

    assert isinstance(result, Result)
    _, _, rows = table_of(relation, [], result.db.tuples(relation))
    if not rows:
        return f"{relation}: no tuples\n"
    out: list[str] = []
    for row in rows[:MAX_EXPLAINED]:
        d = explained(result, relation, row)
        out.append(render(d) if d is not None else f"{relation}{row!r}: (no derivation found)")
        out.append("")
    if len(rows) > MAX_EXPLAINED:
        out.append(f"… and {len(rows) - MAX_EXPLAINED} more {relation} tuples")
    return "\n".join(out).rstrip("\n") + "\n"
