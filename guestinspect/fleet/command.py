"""``guestinspect fleet``: inspect many guests, one JSON Lines record each (docs/fleet.md)."""

import contextlib
import hashlib
import os
import sys
from collections.abc import Generator
from importlib import metadata
from pathlib import Path

import click

from guestinspect.collectors.keys import KeySpec
from guestinspect.errors import UsageError
from guestinspect.fleet.inputs import Guest, gather
from guestinspect.fleet.worker import Options, Outcome, guest_key

PROG = "guestinspect"


def rules_hash(options: Options, version: str) -> str:
    """A hash of the rules (shipped and the user's), the version and the options that change
    a record: an inventory's records all come from one of these."""
    from guestinspect.inspection.driver import rules_dir, user_rule_files

    h = hashlib.sha256(f"{version}\0{options.applications}\0{options.format}\0".encode())
    shipped = sorted(rules_dir().rglob("*.dl"))
    user = user_rule_files([Path(r) for r in options.rules])
    for path in [*shipped, *user]:
        try:
            h.update(str(path).encode("utf-8", "surrogateescape") + b"\0" + path.read_bytes())
        except OSError as e:
            raise UsageError(f"--rules {path}: {e.strerror}") from e
    return h.hexdigest()


def _version() -> str:
    try:
        return metadata.version("guestinspect")
    except metadata.PackageNotFoundError:
        return "unknown"


def _cache_dir(cache_dir: Path | None, no_cache: bool) -> str | None:
    if no_cache:
        return None
    from guestinspect.fleet.cache import default_dir

    directory = cache_dir if cache_dir is not None else default_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--cache-dir {directory}: cannot create it: {e.strerror}") from e
    return str(directory)


@click.command("fleet")
@click.argument("images", nargs=-1, metavar="[IMAGE|A+B|DIR]…")
@click.option("--from", "from_files", multiple=True, metavar="FILE",
              help="Read guests from FILE, one a line (a+b: the disks of one guest; - for "
              "stdin).")
@click.option("--inventory", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write (or resume) the SQLite inventory FILE: records and every fact.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Worker processes (default: the number of cores).")
@click.option("--timeout", type=click.FloatRange(min=0), default=600.0, metavar="SECONDS",
              show_default=True, help="Deadline of each image's inspection, as for one image; "
              "0 for none.")
@click.option("--memory-limit", type=click.IntRange(min=64), default=2048, metavar="MiB",
              show_default=True, help="Kill a worker whose resident memory passes this (its "
              "image gets an error record).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="The fact cache (default: $XDG_CACHE_HOME/guestinspect/facts).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the fact cache.")
@click.option("--refresh", is_flag=True, help="Read every image again (the cache and the "
              "inventory's records are not reused; the cache is rewritten).")
@click.option("--rules", multiple=True, type=click.Path(path_type=Path), metavar="DIR",
              help="Add your own .dl rule files (a directory or a file; repeatable).")
@click.option("--no-applications", is_flag=True, help="Do not list installed applications.")
@click.option("--key", "keys", multiple=True, metavar="SELECTOR",
              help="LUKS key for every guest, as for one image (DEVICE:key:PASSPHRASE, "
              "DEVICE:file:FILENAME; DEVICE may be all).")
@click.option("--format", "format_", metavar="raw|qcow2|…",
              help="Format of every disk image (default: detected).")
@click.option("--dask", "dask_address", metavar="tcp://HOST:PORT",
              help="Run the inspections on this Dask scheduler's workers.")
@click.option("--backend", type=click.Choice(("auto", "direct", "appliance")), default=None,
              help="Who reads the images: auto (the default), direct or appliance (docs/cli.md).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
def fleet(images: tuple[str, ...], from_files: tuple[str, ...], inventory: Path | None,
          jobs: int | None, timeout: float, memory_limit: int, cache_dir: Path | None,
          no_cache: bool, refresh: bool, rules: tuple[Path, ...], no_applications: bool,
          keys: tuple[str, ...], format_: str | None, dask_address: str | None,
          backend: str | None, quiet: bool) -> None:
    """Inspect many guests in parallel: one JSON Lines record per guest on stdout.

    Exit status: 0 if every guest was inspected (ok or partial), 1 if any has an error
    record, 2 for bad usage, 130 if interrupted.
    """
    if not images and not from_files:
        raise UsageError("no images given (arguments, --from FILE or a directory)")
    found = gather(images, from_files, sys.stdin.buffer)
    for warning in found.warnings:
        click.echo(f"{PROG}: warning: {warning}", err=True)
    if not found.guests:
        click.echo(f"{PROG}: warning: no disk images found", err=True)
        return
    from guestinspect.api import program

    options = Options(rules=tuple(str(r) for r in rules), applications=not no_applications,
                      format=format_, timeout=timeout or None,
                      cache_dir=_cache_dir(cache_dir, no_cache), refresh=refresh,
                      keys=keys, facts=inventory is not None, backend=backend)
    KeySpec.parse(keys, False, None)  # a bad selector now, once
    program(rules)  # the rules' errors now, once, not once per image
    try:
        failed = run_fleet(found.guests, options, inventory, jobs or os.cpu_count() or 1,
                           memory_limit * 1024 * 1024, dask_address, quiet)
    except KeyboardInterrupt:  # (click would make it "aborted", exit status 1)
        click.echo(f"{PROG}: error: interrupted", err=True)
        sys.exit(130)
    if failed:
        sys.exit(1)


def run_fleet(guests: list[Guest], options: Options, inventory_path: Path | None, jobs: int,
              memory_limit: int, dask_address: str | None, quiet: bool) -> int:
    """Inspect ``guests``, print their records, fill the inventory; the number of errors."""
    from guestinspect.fleet.inventory import Inventory, record_line
    from guestinspect.fleet.progress import Progress

    inventory = None
    todo = list(guests)
    recorded: list[tuple[str, str]] = []
    if inventory_path is not None:
        version = _version()
        inventory = Inventory(inventory_path, version, rules_hash(options, version))
        done = inventory.done()
        if not options.refresh:
            todo = []
            for guest in guests:
                label = _label(guest)
                if label in done and done[label][1] != "error" and done[label][0] is not None \
                        and done[label][0] == guest_key(guest, options):
                    recorded.append((label, done[label][2]))
                else:
                    todo.append(guest)
    errors = 0
    try:
        with Progress(len(guests), quiet=quiet) as progress:
            for label, line in recorded:
                click.echo(line)
                progress.skipped(label)
            with contextlib.closing(_outcomes(todo, options, jobs, memory_limit,
                                              dask_address)) as outcomes:
                for outcome in outcomes:
                    line = record_line(outcome.record)
                    if inventory is not None:
                        inventory.write(outcome, line)
                    click.echo(line)
                    progress.done(outcome)
                    errors += outcome.status == "error"
    finally:
        if inventory is not None:
            inventory.close()
    return errors


def _label(guest: Guest) -> str:
    from guestinspect.reporting.surrogates import replace_surrogates

    label: str = replace_surrogates(guest.name)
    return label


def _outcomes(guests: list[Guest], options: Options, jobs: int, memory_limit: int,
              dask_address: str | None) -> Generator[Outcome, None, None]:
    if not guests:
        return
    if dask_address is not None:
        from guestinspect.fleet import dask

        yield from dask.run(dask_address, guests, options)
        return
    from guestinspect.fleet.pool import Pool

    yield from Pool(min(jobs, len(guests)), options, memory_limit).run(guests)
