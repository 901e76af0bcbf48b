"""Open rule and fact files safely: regular files only, never blocking, bounded in size.

A FIFO or a device named where a rule or fact file is expected would block ``open()`` or
never end; a file may also be replaced between a check and the open, so the check is made
on the opened file (``fstat``), not on the name.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO


class FileRefused(Exception):
    """The file cannot be read; the message says why, in a few words (no file name)."""


def open_regular(path: Path) -> tuple[BinaryIO, os.stat_result]:
    """Open ``path`` for reading if it is a regular file (following symbolic links)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | \
        getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise FileRefused(e.strerror or type(e).__name__) from None
    except ValueError:  # a NUL byte in the name
        raise FileRefused("invalid file name") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused("directory, not a file" if stat.S_ISDIR(st.st_mode) else
                              "not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most ``max_bytes``, and its ``stat``."""
    f, st = open_regular(path)
    with f:
        try:
            data = f.read(max_bytes + 1)
        except OSError as e:
            raise FileRefused(e.strerror or type(e).__name__) from None
    if len(data) > max_bytes:
        raise FileRefused(f"larger than {max_bytes // (1 << 20)} MiB")
    return data, st


def decode_utf8(data: bytes) -> tuple[str, tuple[int, int, str] | None]:
    """The text of UTF-8 ``data``; or, if it is not UTF-8, ``""`` and the line, column and
    description of the first bad byte."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        line_start = data.rfind(b"\n", 0, e.start) + 1
        col = len(data[line_start : e.start].decode("utf-8", "replace")) + 1
        return "", (line, col, f"not UTF-8 text (byte 0x{data[e.start]:02x})")


def digest(data: bytes) -> str:
    """The SHA-256 of ``data``, in hex: a file's identity by content (program_cache.py)."""
    return hashlib.sha256(data).hexdigest()
