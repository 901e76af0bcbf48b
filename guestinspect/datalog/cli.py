"""``guestinspect datalog PROGRAM.dl -F FACTDIR -D OUTDIR``, as Soufflé's command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .database import Database
from .errors import DatalogError
from .limits import MAX_RULES, MAX_RULES_PER_CLAUSE, MAX_TUPLES, Limits
from .program import Program
from .program_cache import load_files


def parse_tuple(text: str, program: Program) -> tuple[str, tuple[object, ...]]:
    """Parse ``Rel(a, "b", 3)``: bare words are symbols, numbers follow the column types."""
    from .lexer import LexError, tokenize  # here, not at the top: start-up time

    try:
        tokens = tokenize(text, "<explain>")
    except LexError as e:
        raise click.BadParameter(str(e)) from None
    if len(tokens) < 3 or tokens[0].kind != "ident" or tokens[1].text != "(":
        raise click.BadParameter(f"expected Relation(value, ...), got {text!r}")
    name = tokens[0].text
    if name not in program.declarations:
        raise click.BadParameter(f"undeclared relation '{name}'")
    kinds = program.kinds[name]
    values: list[object] = []
    i = 2  # strictly: value (',' value)* ')' and nothing after, a value maybe after a '-'
    while tokens[i].text != ")" or tokens[i].kind != "punct":
        negative = tokens[i].kind == "punct" and tokens[i].text == "-"
        t = tokens[i + 1] if negative else tokens[i]
        if t.kind not in ("number", "string", "ident") or (negative and t.kind != "number"):
            raise click.BadParameter(f"expected a value at {t.text!r} in {text!r}")
        kind = kinds[len(values)] if len(values) < len(kinds) else "symbol"
        if kind == "symbol":
            values.append(str(t.value))
        else:
            try:
                v = float(t.text) if kind == "float" else int(t.value)
            except (TypeError, ValueError):
                raise click.BadParameter(f"{t.text!r} is not a {kind} in {text!r}") from None
            values.append(-v if negative else v)
        i += 2 if negative else 1
        if tokens[i].kind == "punct" and tokens[i].text == ",":
            i += 1
        elif tokens[i].text != ")" or tokens[i].kind != "punct":
            raise click.BadParameter(f"expected ',' or ')' at {tokens[i].text!r} in {text!r}")
    if tokens[i + 1].kind != "eof":
        raise click.BadParameter(f"unexpected {tokens[i + 1].text!r} after ')' in {text!r}")
    if len(values) != len(kinds):
        raise click.BadParameter(f"relation '{name}' has {len(kinds)} columns, got "
                                 f"{len(values)} values")
    return name, tuple(values)


@click.command("datalog")
@click.argument("program", type=click.Path(path_type=Path))  # the reader says what is wrong
@click.option("-F", "--fact-dir", "fact_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Directory of the .facts input files.")
@click.option("-D", "--output-dir", "output_dir", default=".", show_default=True,
              help="Directory for the .csv output files ('-' prints them).")
@click.option("-I", "--include-dir", "include_dirs", multiple=True,
              type=click.Path(file_okay=False, path_type=Path), help="Where #include looks.")
@click.option("--explain", "explain", multiple=True, metavar="'Rel(a,\"b\")'",
              help="Print why a tuple holds (a derivation tree).")
@click.option("--max-tuples", type=click.IntRange(min=1), default=MAX_TUPLES, show_default=True,
              help="Stop evaluation when the database holds more tuples.")
@click.option("--max-seconds", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop evaluation after this many seconds (default: no limit).")
@click.option("--max-rules", type=click.IntRange(min=1), default=MAX_RULES, show_default=True,
              help="Refuse a program of more rules, once disjunctions are expanded.")
@click.option("--max-rules-per-clause", type=click.IntRange(min=1),
              default=MAX_RULES_PER_CLAUSE, show_default=True,
              help="Refuse a clause whose disjunctions expand to more rules.")
def datalog(program: Path, fact_dir: Path, output_dir: str, include_dirs: tuple[Path, ...],
            explain: tuple[str, ...], max_tuples: int, max_seconds: float | None,
            max_rules: int, max_rules_per_clause: int) -> None:
    """Evaluate a Datalog PROGRAM (a subset of Soufflé's language)."""
    if output_dir != "-":  # now, not after the evaluation: say at once what is wrong
        out = Path(output_dir)
        if out.exists() and not out.is_dir():
            raise click.BadParameter(f"{out}: exists and is not a directory", param_hint="-D")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise click.BadParameter(f"{out}: cannot create the directory: {e.strerror}",
                                     param_hint="-D") from None
    limits = Limits(max_tuples=max_tuples, max_rules_per_clause=max_rules_per_clause,
                    max_rules=max_rules, max_seconds=max_seconds)
    try:
        prog = load_files([program], include_dirs=include_dirs, limits=limits)
        for warning in prog.warnings:
            click.echo(f"warning: {warning}", err=True)
        db = Database(prog)
        db.load_facts_dir(fact_dir)
        db.run()
    except DatalogError as e:
        for err in e.errors:
            click.echo(err, err=True)
        sys.exit(1)
    for failure in db.failures.messages():
        click.echo(f"warning: {failure}", err=True)
    if output_dir == "-":
        for name in prog.output_relations():
            click.echo(f"---------------\n{name}\n===============")
            for row in sorted(db.tuples(name)):
                click.echo("\t".join(str(v) for v in row))
            click.echo("===============")
    else:
        db.write_outputs(output_dir, sys.stdout)
    status = 0
    for text in explain:
        name, row = parse_tuple(text, prog)
        tree = db.explain(name, row)
        if tree is None:
            click.echo(f"{text}: not derived", err=True)
            status = 1
        else:
            click.echo(tree.render())
    sys.exit(status)


def main() -> None:
    datalog(prog_name="python -m guestinspect.datalog")
