"""``guestinspect mount`` and ``guestinspect umount`` (guestmount -i and guestunmount)."""

import os
import sys
from pathlib import Path

import click

from guestinspect.errors import UsageError
from guestinspect.mount.plan import check_mountpoint, choose_root, fuse_options, mount_order
from guestinspect.mount.umount import unmount

PROG = "guestinspect"


def _warn(message: str) -> None:
    click.echo(f"{PROG}: warning: {message}", err=True)


def _check_fd(fd: int | None) -> None:
    if fd is None:
        return
    try:
        os.fstat(fd)
    except OSError:
        raise UsageError(f"--fd {fd}: not an open file descriptor") from None


def _check_pid_file(pid_file: Path | None) -> None:
    """Create the pid file now (empty), so that it can be written once the guest is mounted."""
    if pid_file is None:
        return
    try:  # a FIFO would block, a device is no pid file
        if pid_file.exists() and not pid_file.is_file():
            raise UsageError(f"--pid-file {pid_file}: not a regular file")
        pid_file.write_text("")
    except OSError as e:
        raise UsageError(f"--pid-file {pid_file}: {e.strerror}") from None


def _ready(mountpoint: Path, what: str, pid_file: Path | None, fd: int | None) -> None:
    """The mount exists: write the pid file, one byte to FD, and say so on a terminal."""
    try:
        if pid_file is not None:
            pid_file.write_text(f"{os.getpid()}\n")
        if fd is not None:
            os.write(fd, b"\0")
            os.close(fd)
    except OSError as e:
        _warn(f"{pid_file if pid_file is not None else fd}: {e.strerror}")
    if sys.stderr.isatty():
        click.echo(f"{PROG}: {what} mounted read-only on {mountpoint}; unmount with "
                   f"'{PROG} umount {mountpoint}' or Ctrl-C", err=True)


@click.command("mount")
@click.argument("mountpoint", type=click.Path(path_type=Path))
@click.option("-a", "--add", "disks", multiple=True, required=True, metavar="DISK",
              help="A disk image or URI of the guest (repeatable).")
@click.option("--format", "format_", metavar="raw|qcow2|…",
              help="Format of the disk images (default: detected).")
@click.option("--password-file", type=click.Path(path_type=Path), metavar="FILE",
              help="Password of the -a URIs that take one: the first line of FILE.")
@click.option("--ask-password", is_flag=True, help="Ask for that password on the terminal.")
@click.option("--root", metavar="ROOT",
              help="The operating system to mount, on a disk with several (its root device).")
@click.option("--key", "keys", multiple=True, metavar="SELECTOR",
              help="LUKS key: DEVICE:key:PASSPHRASE or DEVICE:file:FILENAME (DEVICE may be all).")
@click.option("--keys-from-stdin", is_flag=True, help="Read LUKS passphrases from stdin.")
@click.option("--rules", "rules", multiple=True, type=click.Path(path_type=Path), metavar="DIR",
              help="Add your own .dl rule files (a directory or a file; repeatable).")
@click.option("-o", "--option", "options", multiple=True, metavar="OPTION",
              help="A FUSE mount option (allow_other, default_permissions, …; repeatable).")
@click.option("--pid-file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the process id to FILE once the guest is mounted.")
@click.option("--fd", type=click.IntRange(min=0), metavar="FD",
              help="Write one byte to file descriptor FD (and close it) once the guest is "
              "mounted.")
@click.option("--timeout", type=click.FloatRange(min=0), default=600.0, metavar="SECONDS",
              show_default=True, help="Deadline of the inspection (not of the mount); 0 for "
              "none.")
@click.option("--stall-timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Retry the appliance's launch under TCG when its console is silent this "
              "long (default: $GUESTINSPECT_STALL_TIMEOUT or 20; 0: never).")
@click.option("-i", "--inspector", is_flag=True, hidden=True)  # guestmount's; always so here
@click.option("-r", "--ro", is_flag=True, hidden=True)  # guestmount's; always so here
@click.option("--no-fork", is_flag=True, hidden=True)  # guestmount's; never forks here
@click.option("-v", "--verbose", is_flag=True, help="Verbose messages (libguestfs debug).")
@click.option("-x", "trace", is_flag=True, help="Trace libguestfs calls.")
def mount(
    mountpoint: Path,
    disks: tuple[str, ...],
    format_: str | None,
    password_file: Path | None,
    ask_password: bool,
    root: str | None,
    keys: tuple[str, ...],
    keys_from_stdin: bool,
    rules: tuple[Path, ...],
    options: tuple[str, ...],
    pid_file: Path | None,
    fd: int | None,
    timeout: float,
    stall_timeout: float | None,
    inspector: bool,
    ro: bool,
    no_fork: bool,
    verbose: bool,
    trace: bool,
) -> None:
    """Inspect the guest on DISKs and mount its filesystems read-only on MOUNTPOINT (an empty
    directory), each where the guest mounts it, until 'guestinspect umount MOUNTPOINT' or
    Ctrl-C."""
    from guestinspect.api import Inspector
    from guestinspect.collectors.password import remote_password
    from guestinspect.mount.fuse import serve

    check_mountpoint(mountpoint)
    fuse_opts = fuse_options(options)
    _check_fd(fd)
    _check_pid_file(pid_file)
    if verbose:
        os.environ["LIBGUESTFS_DEBUG"] = "1"
    if trace:
        os.environ["LIBGUESTFS_TRACE"] = "1"
    images = list(disks)  # a str may be a URI (docs/cli.md, "Remote disks")
    with Inspector(
        images,
        format=format_,
        password=remote_password(password_file, ask_password, images),
        keys=keys,
        keys_from_stdin=keys_from_stdin,
        applications=False,
        rules=rules,
        progress=not verbose,  # a spinner on a terminal; -v prints libguestfs's messages
        timeout=timeout or None,
        stall_timeout=stall_timeout,
        backend="appliance",  # the guest is mounted by the appliance
    ) as insp:
        inspections = insp.inspect()
        for warning in insp.warnings():
            _warn(warning)
        chosen = choose_root(inspections, root)
        mounts, skipped = mount_order(chosen)
        collector = insp.image_collector()
        for warning in [*skipped, *collector.mount_guest(mounts)]:
            _warn(warning)
        check_mountpoint(mountpoint)  # still empty after the inspection
        what = " ".join(str(chosen.get(k, "")) for k in ("root", "distro", "product_name"))
        serve(collector.g, mountpoint, fuse_opts,
              lambda: _ready(mountpoint, what.strip(), pid_file, fd), _warn)


@click.command("umount")
@click.argument("mountpoint", type=click.Path(path_type=Path))
@click.option("--retry", "retries", type=click.IntRange(min=0), default=5, show_default=True,
              metavar="N", help="Retry N times while the mount is busy (after 1, 2, 4 … s).")
@click.option("--no-retry", is_flag=True, help="Try once.")
@click.option("-q", "--quiet", is_flag=True, help="Say nothing while retrying.")
def umount(mountpoint: Path, retries: int, no_retry: bool, quiet: bool) -> None:
    """Unmount what 'guestinspect mount' mounted on MOUNTPOINT (exit status 2: still busy, 3:
    not mounted)."""
    unmount(mountpoint, 0 if no_retry else retries,
            on_retry=None if quiet else lambda m: click.echo(f"{PROG}: {m}", err=True))
