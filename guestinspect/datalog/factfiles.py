"""Read and write Soufflé-style tab-separated fact files, with backslash escapes.

A field escapes ``\\``, tab, newline and carriage return as ``\\\\``, ``\\t``, ``\\n``, ``\\r``;
any other backslash is kept as it is, so a Soufflé file without backslashes reads the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import DatalogError

_UNESCAPE = re.compile(r"\\([\\tnr])")
_UNESCAPED = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def escape(s: str) -> str:
    if "\\" in s:
        s = s.replace("\\", "\\\\")
    if "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


def unescape(s: str) -> str:
    if "\\" not in s:
        return s
    return _UNESCAPE.sub(lambda m: _UNESCAPED[m.group(1)], s)


def format_value(v: Any) -> str:
    if isinstance(v, str):
        return escape(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    return str(v)


def parse_value(field: str, kind: str) -> Any:
    if kind == "symbol":
        return unescape(field)
    if kind == "float":
        return float(field)
    try:
        return int(field)
    except ValueError:
        return int(field.strip(), 0)


def read_facts(path: Path, kinds: list[str], delimiter: str = "\t") -> list[tuple[Any, ...]]:
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    rows: list[tuple[Any, ...]] = []
    arity = len(kinds)
    simple = all(k == "symbol" for k in kinds) and delimiter == "\t" and "\\" not in text \
        and "\r" not in text
    for n, line in enumerate(lines, 1):
        if arity == 0:
            if line.strip() in ("()", ""):
                rows.append(())
            continue
        if line.endswith("\r"):
            line = line[:-1]
        if not line and arity != 1:
            continue
        fields = line.split(delimiter)
        if len(fields) != arity:
            raise DatalogError([f"{path}:{n}:1: expected {arity} field"
                                f"{'s' if arity != 1 else ''} separated by "
                                f"{delimiter!r}, found {len(fields)}"])
        if simple:
            rows.append(tuple(fields))
            continue
        try:
            rows.append(tuple(parse_value(f, k) for f, k in zip(fields, kinds, strict=True)))
        except ValueError as e:
            raise DatalogError([f"{path}:{n}:1: {e}"]) from None
    return rows


def format_rows(rows: Iterable[tuple[Any, ...]], delimiter: str = "\t") -> str:
    out: list[str] = []
    for row in sorted(rows):
        out.append("()" if not row else delimiter.join(format_value(v) for v in row))
    return "".join(line + "\n" for line in out)


def write_facts(path: Path, rows: Iterable[tuple[Any, ...]], delimiter: str = "\t") -> None:
    path.write_text(format_rows(rows, delimiter), encoding="utf-8")
