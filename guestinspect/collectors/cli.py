"""``guestinspect facts``: inspect disk images and record every base fact as a snapshot."""

from pathlib import Path

import click

from guestinspect.collectors.keys import KeySpec


@click.command("facts")
@click.option("-a", "--add", "disks", multiple=True, required=True, metavar="DISK",
              help="A disk image of the guest, or a URI (nbd://, ssh://, http://…; "
              "repeatable).")
@click.option("--format", "fmt", metavar="FMT", default=None,
              help="Disk format (raw, qcow2, …); probed if not given.")
@click.option("--password-file", type=click.Path(path_type=Path), metavar="FILE",
              help="Password of the -a URIs that take one: the first line of FILE.")
@click.option("--ask-password", is_flag=True, help="Ask for that password on the terminal.")
@click.option("--key", "keys", multiple=True, metavar="SELECTOR",
              help="LUKS key: DEVICE:key:PASSPHRASE, DEVICE:file:FILENAME, all:key:PASSPHRASE.")
@click.option("--keys-from-stdin", is_flag=True,
              help="Read LUKS passphrases from stdin, one line per locked container.")
@click.option("-o", "--output", "out", required=True, metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the <Relation>.facts files.")
@click.option("--timeout", type=click.FloatRange(min=0), default=600.0, metavar="SECONDS",
              show_default=True, help="Deadline of the inspection: past it, write what was "
              "read, with a warning; 0 for none.")
@click.option("-v", "--verbose", is_flag=True, help="Print libguestfs call counts and times.")
def facts(
    disks: tuple[str, ...],
    fmt: str | None,
    password_file: Path | None,
    ask_password: bool,
    keys: tuple[str, ...],
    keys_from_stdin: bool,
    out: Path,
    timeout: float,
    verbose: bool,
) -> None:
    """Run the inspection over DISKs and write every base fact to DIR (a fact snapshot)."""
    from guestinspect.collectors.deadline import Deadline
    from guestinspect.collectors.image import ImageCollector  # imports libguestfs
    from guestinspect.collectors.password import remote_password
    from guestinspect.collectors.uri import parse_disk, with_password
    from guestinspect.inspection.driver import load_program, run_collector

    password = remote_password(password_file, ask_password, disks)
    images = with_password([parse_disk(d) for d in disks], password)
    spec = KeySpec.parse(keys, keys_from_stdin)
    try:  # now, not after the inspection
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise click.BadParameter(f"{out}: cannot create the directory: {e.strerror}",
                                 param_hint="-o") from None
    program = load_program()
    deadline = Deadline(timeout or None)
    collector = ImageCollector(images, format=fmt, keys=spec, deadline=deadline)
    try:
        db = run_collector(program, collector, deadline)
        db.write_facts_dir(out)
    finally:
        stats = collector.stats()
        collector.close()
    for warning in stats.warnings:
        click.echo(f"guestinspect: warning: {warning}", err=True)
    if verbose:
        click.echo(f"guestinspect: {stats.summary()}", err=True)
