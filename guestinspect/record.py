"""``guestinspect facts``: inspect disk images and record every base fact as a snapshot.

It goes through the public API (``Inspector(...).write_facts``), so its errors are the API's:
a libguestfs failure is an ``ImageError``, a rule or evaluation error a ``RuleError``, each
printed as one line by ``guestinspect.cli``.
"""

from pathlib import Path

import click


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
@click.option("--backend", type=click.Choice(("auto", "direct", "appliance")), default=None,
              help="Who reads the images: auto (the default), direct or appliance (docs/cli.md).")
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
    backend: str | None,
    verbose: bool,
) -> None:
    """Run the inspection over DISKs and write every base fact to DIR (a fact snapshot)."""
    from guestinspect.api import Inspector
    from guestinspect.collectors.password import remote_password

    password = remote_password(password_file, ask_password, disks)
    try:  # now, not after the inspection
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise click.BadParameter(f"{out}: cannot create the directory: {e.strerror}",
                                 param_hint="-o") from None
    with Inspector(disks, format=fmt, password=password, keys=keys,
                   keys_from_stdin=keys_from_stdin, progress=True,
                   timeout=timeout or None, backend=backend) as inspector:
        inspector.write_facts(out)
        stats = inspector.stats()
    if stats is not None:
        for warning in stats.warnings:
            click.echo(f"guestinspect: warning: {warning}", err=True)
        if verbose:
            click.echo(f"guestinspect: {stats.summary()}", err=True)
