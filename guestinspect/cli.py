"""The ``guestinspect`` command: virt-inspector's options, plus subcommands.

``guestinspect -a DISK [-a DISK…]`` inspects (the default); ``guestinspect datalog``,
``guestinspect facts`` and ``guestinspect rules check`` are the subcommands. Every error is
printed as one line (``guestinspect: error: …``), never a traceback.
"""

import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from guestinspect.errors import GuestinspectError, UsageError

if TYPE_CHECKING:
    from guestinspect.api import Inspector

PROG = "guestinspect"
#: ``--backend``'s choices (collectors/backends/choose.py, not imported before it is needed)
BACKENDS = ("auto", "direct", "appliance")


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"{PROG}: error: {message}", err=True)
    sys.exit(code)


class OneLineErrors(click.Group):
    """A click group whose errors are one line on stderr: bad usage exits 2, others 1."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or _lazy_command(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def main(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as e:
            click.echo(e.ctx.get_help() if e.ctx else str(e))
            sys.exit(2)
        except click.ClickException as e:
            _fail(" ".join(e.format_message().split()), e.exit_code)
        except click.Abort:
            _fail("aborted")
        except GuestinspectError as e:
            _fail(str(e), getattr(e, "exit_code", 1))
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except BrokenPipeError:
            sys.exit(1)
        # The last resort: whatever a hostile argument still gets through is one line too.
        except OSError as e:
            where = f"{e.filename}: " if e.filename else ""
            _fail(f"{where}{e.strerror or type(e).__name__}")
        except MemoryError:
            _fail("out of memory")
        except RecursionError:
            _fail("input nested too deeply")
        except Exception as e:  # noqa: BLE001 - a bug, but still not a traceback
            if os.environ.get("GUESTINSPECT_DEBUG"):
                raise
            _fail(f"internal error: {type(e).__name__}: {_one_line(str(e))} "
                  "(set GUESTINSPECT_DEBUG=1 for the traceback)", 70)


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0] if lines else ""


def _output_dir(path: Path, option: str) -> None:
    """Create the output directory ``path`` now (before a long inspection), or say why not."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"{option} {path}: cannot create the directory: {e.strerror}") from e
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: directory not writable")


def _etree() -> Any:
    """lxml's etree, or a one-line error saying that --xpath needs it."""
    try:
        from lxml import etree  # type: ignore[import-untyped,unused-ignore]
    except ImportError as e:
        raise UsageError(
            "--xpath needs the lxml module, which is not installed (pip install lxml)"
        ) from e
    return etree


def _xpath(expr: str, xml: bytes) -> str:
    """Apply an XPath expression to the XML and format the result as virt-inspector does."""
    etree = _etree()

    try:
        doc = etree.fromstring(xml, etree.XMLParser(remove_blank_text=True))
    except etree.XMLSyntaxError as e:
        raise UsageError(f"--xpath: unable to parse XML: {e}") from e
    try:
        from guestinspect.inspection.extras import NAMESPACE, PREFIX

        result = doc.xpath(expr, namespaces={PREFIX: NAMESPACE})  # --extended's elements
    except etree.XPathError as e:
        raise UsageError(f"--xpath {expr!r}: {e}") from e
    if isinstance(result, list):
        parts: list[str] = []
        for item in result:
            if isinstance(item, etree._Element):
                parts.append(etree.tostring(item, pretty_print=True, encoding="unicode"))
            else:
                text = str(item)
                parts.append(text if text.endswith("\n") else text + "\n")
        return "".join(parts)
    if isinstance(result, bool):
        return ("true" if result else "false") + "\n"
    if isinstance(result, float):
        if math.isnan(result):
            return "NaN\n"
        return (str(int(result)) if result.is_integer() else repr(result)) + "\n"
    text = str(result)
    return text if not text or text.endswith("\n") else text + "\n"


def _libvirt_disks(domain: str, uri: str | None) -> list[Path]:
    """The disk images of a libvirt domain (needs the libvirt Python module)."""
    try:
        import libvirt  # type: ignore[import-not-found,unused-ignore]
    except ImportError as e:
        raise UsageError(
            "-d needs the libvirt Python module (python3-libvirt), which is not installed; "
            "use -a with the disk images instead"
        ) from e
    from lxml import etree  # type: ignore[import-untyped,unused-ignore]

    try:
        conn = libvirt.openReadOnly(uri)
        xml = conn.lookupByName(domain).XMLDesc(0)
    except libvirt.libvirtError as e:
        raise UsageError(f"-d {domain}: {e}") from e
    tree = etree.fromstring(xml.encode())
    files = tree.xpath("/domain/devices/disk[@device='disk']/source/@file | "
                       "/domain/devices/disk[@device='disk']/source/@dev")
    if not files:
        raise UsageError(f"-d {domain}: the domain has no disk images")
    return [Path(str(f)) for f in files]


def _check_combinations(images: bool, facts: bool, as_json: bool, xpath: bool, extended: bool,
                        no_extras: bool, explain: bool, explain_depth: bool,
                        explain_full: bool) -> None:
    """UsageError for options given (true) that cannot go together, or one without another."""
    if not images and not facts:
        raise UsageError("you must specify at least one -a or -d option (or --facts DIR)")
    if images and facts:
        raise UsageError("--facts cannot be used with -a or -d")
    if as_json and xpath:
        raise UsageError("--json and --xpath cannot be used together")
    if extended and (no_extras or as_json):
        other = "--no-extras" if no_extras else "--json"
        raise UsageError(f"--extended cannot be used with {other}")
    if (explain_depth or explain_full) and not explain:
        raise UsageError("--explain-depth and --explain-full need --explain FIELD")
    if explain_depth and explain_full:
        raise UsageError("--explain-depth and --explain-full cannot be used together")


def _xml(inspections: list[Any], extended: bool, xpath: str | None) -> str:
    """virt-inspector's XML (with the extra fields if ``extended``), or an XPath's result."""
    from guestinspect.reporting.xml import to_xml

    text = to_xml(inspections, extended=extended)
    return _xpath(xpath, text.encode()) if xpath is not None else text


def _libguestfs_env(ctx: click.Context, name: str) -> None:
    """Set ``name`` to 1 (libguestfs reads it when a handle is made) for this command only:
    the environment is as it was once the command ends, so that an in-process caller (the
    API's users, click's CliRunner) does not get libguestfs's debug output afterwards."""
    before = os.environ.get(name)
    os.environ[name] = "1"

    def restore() -> None:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before

    ctx.call_on_close(restore)


@click.group(cls=OneLineErrors, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="guestinspect", prog_name=PROG)
@click.option("-a", "--add", "disks", multiple=True, metavar="DISK",
              help="Add a disk image (repeat for a guest with several disks).")
@click.option("--format", "format_", metavar="raw|qcow2|…",
              help="Format of the disk images (default: detected).")
@click.option("--password-file", type=click.Path(path_type=Path), metavar="FILE",
              help="Password of the -a URIs that take one (http, https, ftp, ftps, iscsi, "
              "rbd): the first line of FILE.")
@click.option("--ask-password", is_flag=True, help="Ask for that password on the terminal.")
@click.option("-d", "--domain", metavar="GUEST", help="Inspect a libvirt guest's disks.")
@click.option("-c", "--connect", "uri", metavar="URI", help="libvirt URI (with -d).")
@click.option("--key", "keys", multiple=True, metavar="SELECTOR",
              help="LUKS key: DEVICE:key:PASSPHRASE or DEVICE:file:FILENAME (DEVICE may be all).")
@click.option("--keys-from-stdin", is_flag=True, help="Read LUKS passphrases from stdin.")
@click.option("--echo-keys", is_flag=True, help="Accepted for compatibility (keys are not echoed "
              "as nothing is read from a terminal).")
@click.option("--no-applications", is_flag=True, help="Do not list installed applications.")
@click.option("--no-icon", is_flag=True, help="Do not include the guest's icon.")
@click.option("--xpath", metavar="EXPR", help="Apply an XPath expression to the XML (read from "
              "stdin when no disk or snapshot is given) and print the result.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of XML.")
@click.option("--no-extras", is_flag=True, help="Only virt-inspector's fields (no users, "
              "network, timezone, … in the JSON).")
@click.option("--extended", is_flag=True, help="Add the extra fields to the XML, in the "
              "namespace of schema/guestinspect-extended.rng.")
@click.option("--facts", "facts_dir", type=click.Path(path_type=Path), metavar="DIR",
              help="Inspect a recorded fact snapshot instead of disk images.")
@click.option("--facts-out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Also record every fact read as a snapshot in DIR.")
@click.option("--rules", "rules", multiple=True, type=click.Path(path_type=Path), metavar="DIR",
              help="Add your own .dl rule files (a directory or a file; repeatable).")
@click.option("--explain", "explain", metavar="FIELD",
              help="Explain a field (distro, hostname, mountpoints, …) instead of printing XML: "
              "its rule and the facts it rests on.")
@click.option("--explain-depth", type=click.IntRange(min=1), metavar="N",
              help="With --explain: the derivation tree, helper relations folded, N levels deep.")
@click.option("--explain-full", is_flag=True,
              help="With --explain: the whole derivation tree, every step.")
@click.option("--timeout", type=click.FloatRange(min=0), default=600.0, metavar="SECONDS",
              show_default=True, help="Deadline of the inspection (appliance start included): "
              "past it, print what was read, with a warning; 0 for none.")
@click.option("--stall-timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Retry the appliance's launch under TCG when its console is silent this "
              "long (default: $GUESTINSPECT_STALL_TIMEOUT or 20; 0: never).")
@click.option("--max-tuples", type=click.IntRange(min=1), default=None, metavar="N",
              help="Stop the rules' evaluation past N tuples (default: 20 million).")
@click.option("--backend", type=click.Choice(BACKENDS), default=None,
              help="Who reads the images: auto (the default: directly, the appliance for what "
              "that cannot read), direct (never a VM) or appliance (libguestfs).")
@click.option("-v", "--verbose", is_flag=True, help="Verbose messages (libguestfs debug).")
@click.option("-x", "trace", is_flag=True, help="Trace libguestfs calls.")
@click.pass_context
def cli(
    ctx: click.Context,
    disks: tuple[str, ...],
    format_: str | None,
    password_file: Path | None,
    ask_password: bool,
    domain: str | None,
    uri: str | None,
    keys: tuple[str, ...],
    keys_from_stdin: bool,
    echo_keys: bool,
    no_applications: bool,
    no_icon: bool,
    xpath: str | None,
    as_json: bool,
    no_extras: bool,
    extended: bool,
    facts_dir: Path | None,
    facts_out: Path | None,
    rules: tuple[Path, ...],
    explain: str | None,
    explain_depth: int | None,
    explain_full: bool,
    timeout: float,
    stall_timeout: float | None,
    max_tuples: int | None,
    backend: str | None,
    verbose: bool,
    trace: bool,
) -> None:
    """Inspect virtual machine disk images and print what virt-inspector prints."""
    if ctx.invoked_subcommand is not None:
        return
    images: list[str | Path] = list(disks)  # a str may be a URI (docs/cli.md, "Remote disks")
    if uri and not domain:
        raise UsageError("-c/--connect needs -d/--domain")
    if domain:
        images.extend(_libvirt_disks(domain, uri))

    if xpath is not None and not images and facts_dir is None:
        click.echo(_xpath(xpath, sys.stdin.buffer.read()), nl=False)
        return
    _check_combinations(bool(images), facts_dir is not None, as_json, xpath is not None,
                        extended, no_extras, explain is not None, explain_depth is not None,
                        explain_full)
    if xpath is not None:
        _etree()  # before the inspection, not after
    if facts_out is not None:
        _output_dir(facts_out, "--facts-out")
    if verbose:
        _libguestfs_env(ctx, "LIBGUESTFS_DEBUG")
    if trace:
        _libguestfs_env(ctx, "LIBGUESTFS_TRACE")

    from guestinspect.api import Inspector
    from guestinspect.collectors.password import remote_password
    from guestinspect.datalog import Limits
    from guestinspect.reporting.json import to_json

    with Inspector(
        images,
        format=format_,
        password=remote_password(password_file, ask_password, images),
        keys=keys,
        keys_from_stdin=keys_from_stdin,
        applications=not no_applications,
        rules=rules,
        facts_dir=facts_dir,
        progress=not verbose,  # a spinner on a terminal; -v prints libguestfs's messages
        timeout=timeout or None,
        stall_timeout=stall_timeout,
        limits=Limits(max_tuples=max_tuples) if max_tuples is not None else None,
        extras=not no_extras,
        backend=backend,
    ) as inspector:
        if explain is not None:
            text = inspector.explain(explain, depth=explain_depth, full=explain_full)
        else:
            inspections = inspector.inspect()
            if no_icon:
                for os_ in inspections:
                    os_.pop("icon", None)
            text = to_json(inspections) if as_json else _xml(inspections, extended, xpath)
        _finish(inspector, facts_out, verbose)
    click.echo(text, nl=False)


def _finish(inspector: "Inspector", facts_out: Path | None, verbose: bool) -> None:
    """After the inspection: record the facts (``--facts-out``), print the warnings and (with
    ``-v``) the collector's figures on stderr."""
    if facts_out is not None:
        inspector.write_facts(facts_out)
    for warning in inspector.warnings():
        click.echo(f"{PROG}: warning: {warning}", err=True)
    if verbose:
        stats = inspector.stats()
        if stats is not None:
            click.echo(f"{PROG}: {stats.summary()}", err=True)


@cli.group("rules")
def rules_group() -> None:
    """Work with rule files."""


@rules_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--alone", is_flag=True,
              help="Check the files by themselves, without the shipped rules.")
def rules_check(files: Sequence[Path], alone: bool) -> None:
    """Statically check rule FILES or the .dl files of directories (with the shipped rules
    they build on); nothing is run."""
    from guestinspect.datalog import check_files
    from guestinspect.functors import FUNCTORS, RELATIONS
    from guestinspect.inspection.driver import rules_dir, user_rule_files

    for f in files:
        try:
            f.stat()  # says what is wrong: no such file, a symlink loop, permission denied…
        except OSError as e:
            raise UsageError(f"{f}: {e.strerror}") from e
    checked = user_rule_files(files)  # a directory: its .dl files; a FIFO: refused when read
    if not checked:
        raise UsageError(f"{', '.join(map(str, files))}: no .dl files to check")
    paths = checked if alone else [rules_dir() / "inspect.dl", *checked]
    errors = check_files(paths, functors=FUNCTORS, relations=RELATIONS)
    for error in errors:
        click.echo(error, err=True)
    if errors:
        sys.exit(1)
    click.echo(f"{len(checked)} file(s) checked: no errors")


#: The subcommands defined in other modules, imported when one is run (or listed): a command
#: imports only what it needs (``guestinspect datalog`` not the inspector).
LAZY_COMMANDS = {
    "datalog": ("guestinspect.datalog.cli", "datalog"),
    "facts": ("guestinspect.record", "facts"),
    "fleet": ("guestinspect.fleet.command", "fleet"),
    "query": ("guestinspect.query.command", "query"),
    "mount": ("guestinspect.mount.cli", "mount"),
    "umount": ("guestinspect.mount.cli", "umount"),
}


def _lazy_command(name: str) -> click.Command | None:
    """Import and add the subcommand ``name`` of :data:`LAZY_COMMANDS` (None if unknown)."""
    home = LAZY_COMMANDS.get(name)
    if home is None:
        return None
    import importlib

    command: click.Command = getattr(importlib.import_module(home[0]), home[1])
    cli.add_command(command, name)
    return command


def main() -> None:
    """The console script."""
    cli(prog_name=PROG)


if __name__ == "__main__":
    main()
