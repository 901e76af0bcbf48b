"""The password of remote disks: from a file (``--password-file``) or asked on the terminal
(``--ask-password``), never from the command line itself."""

from __future__ import annotations

import getpass
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from guestinspect.collectors.uri import parse_disk, password_takers
from guestinspect.errors import UsageError

#: Longest password accepted (bytes).
MAX_PASSWORD = 4096


def remote_password(
    password_file: Path | None, ask: bool, disks: Sequence[str | Path]
) -> str | None:
    """The password of ``--password-file FILE`` or ``--ask-password`` (None if neither),
    after checking that an ``-a`` URI takes one."""
    if password_file is not None and ask:
        raise UsageError("--password-file and --ask-password cannot be used together")
    if password_file is None and not ask:
        return None
    takers = password_takers([parse_disk(d) for d in disks])
    if password_file is not None:
        return read_password_file(password_file)
    return ask_password(str(takers[0]) if len(takers) == 1 else f"{len(takers)} disks")


def read_password_file(path: Path) -> str:
    """The first line of ``path`` (a regular file), without its line end."""
    where = f"--password-file {path}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as e:
        raise UsageError(f"{where}: {(e.strerror or 'cannot open').lower()}") from e
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"{where}: not a regular file")
        data = os.read(fd, MAX_PASSWORD + 2)
    except OSError as e:
        raise UsageError(f"{where}: {(e.strerror or 'cannot read').lower()}") from e
    finally:
        os.close(fd)
    line = data.split(b"\n", 1)[0].removesuffix(b"\r")
    if len(line) > MAX_PASSWORD:
        raise UsageError(f"{where}: the password is longer than {MAX_PASSWORD} bytes")
    return _checked(line, where)


def ask_password(what: str) -> str:
    """Ask for the password of ``what`` on the terminal (not echoed)."""
    if not has_terminal():
        raise UsageError("--ask-password needs a terminal; use --password-file FILE")
    answer = getpass.getpass(f"password for {what}: ")
    encoded = answer.encode("utf-8", "surrogateescape")
    if len(encoded) > MAX_PASSWORD:
        raise UsageError(f"--ask-password: the password is longer than {MAX_PASSWORD} bytes")
    return _checked(encoded, "--ask-password")


def has_terminal() -> bool:
    """Whether this process has a controlling terminal to ask on."""
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return False
    return True


def _checked(line: bytes, where: str) -> str:
    if not line:
        raise UsageError(f"{where}: empty password")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"{where}: the password is not UTF-8") from e
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise UsageError(f"{where}: the password holds a control character")
    return text
