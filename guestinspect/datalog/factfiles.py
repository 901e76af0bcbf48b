"""Read and write Soufflé-style tab-separated fact files, with backslash escapes.

A field escapes ``\\``, tab, newline and carriage return as ``\\\\``, ``\\t``, ``\\n``, ``\\r``;
any other backslash is kept as it is, so a Soufflé file without backslashes reads the same.
The ``.output`` files are written ``verbatim`` instead, as Soufflé writes them (no escapes).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from itertools import chain, islice
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Any, BinaryIO

from .errors import DatalogError
from .files import FileRefused, decode_utf8, open_regular
from .syntax import Location

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


#: The longest line of a fact file.
MAX_LINE_BYTES = 16 << 20
#: Number fields: 64 bits, signed or unsigned.
MIN_NUMBER, MAX_NUMBER = -(2**63), 2**64 - 1


def parse_value(field: str, kind: str) -> Any:
    """A field's value; ValueError (with a short message) if it is not one."""
    if kind == "symbol":
        return unescape(field)
    if kind == "float":
        return float(field)
    text = field.strip()
    if len(text) > 70:  # more digits than 64 bits have, even in binary with a sign
        raise ValueError(f"number out of range (more than 64 bits): {text[:20]}...")
    try:
        value = int(text)
    except ValueError:
        try:
            value = int(text, 0)
        except ValueError:
            raise ValueError(f"not a number: {field[:40]!r}") from None
    if not MIN_NUMBER <= value <= MAX_NUMBER:
        raise ValueError(f"number out of range (more than 64 bits): {text[:20]}")
    return value


#: A fact file of at most this size is read at once and, if every line is plain (see
#: ``_bulk_rows``), parsed at C speed; anything else is read line by line.
MAX_BULK_BYTES = 64 << 20


def _open(path: Path) -> BinaryIO:
    try:
        f, _ = open_regular(path)
    except FileRefused as e:
        raise DatalogError([f"{Location(str(path), 1, 1)}: cannot read the fact file: {e}"]) \
            from None
    return f


def _lines(path: Path, f: BinaryIO) -> Iterator[tuple[int, str]]:
    """The numbered lines of a fact file, without their end of line; DatalogError (at
    ``file:line:col``) for a file that is not UTF-8 or has a huge line."""
    n = 0
    while True:
        n += 1
        try:
            raw = f.readline(MAX_LINE_BYTES + 1)
        except OSError as e:
            raise DatalogError([f"{Location(str(path), n, 1)}: cannot read the fact file: "
                                f"{e.strerror}"]) from None
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES:
            raise DatalogError([f"{Location(str(path), n, 1)}: line longer than "
                                f"{MAX_LINE_BYTES} bytes"])
        text, bad = decode_utf8(raw)
        if bad is not None:
            _, col, message = bad
            raise DatalogError([f"{Location(str(path), n, col)}: {message}"])
        yield n, text[:-1] if text.endswith("\n") else text


def read_facts(path: Path, kinds: list[str], delimiter: str = "\t", max_rows: int | None = None,
               too_many: str = "too many lines") -> list[tuple[Any, ...]]:
    """The rows of a tab-separated fact file; DatalogError at ``file:line:col`` if it is not
    one (not a regular file, not UTF-8, a wrong number of fields, a bad value) or if it has
    more than ``max_rows`` rows (the error says ``too_many``)."""
    with _open(path) as f:
        rows = _read_bulk(f, kinds, delimiter, max_rows)
        if rows is not None:
            return rows
        f.seek(0)
        return _read_lines(path, f, kinds, delimiter, max_rows, too_many)


def _read_bulk(f: BinaryIO, kinds: list[str], delimiter: str,
               max_rows: int | None) -> list[tuple[Any, ...]] | None:
    """The rows of a small file read at once when every line is plain; else None (then
    ``_read_lines`` reads it again and says what is wrong, where)."""
    if len(kinds) == 0 or not delimiter or any(c in delimiter for c in "\\\n\r"):
        return None
    try:
        data = f.read(MAX_BULK_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_BULK_BYTES or b"\r" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if (max_rows is not None and len(lines) > max_rows) or \
            max(map(len, lines), default=0) >= MAX_LINE_BYTES // 4:
        return None
    return _bulk_rows(lines, kinds, delimiter, "\\" in text)


def _bulk_rows(lines: list[str], kinds: list[str], delimiter: str,
               escapes: bool = True) -> list[tuple[Any, ...]] | None:
    """The rows of ``lines`` (without carriage returns) if each has one field per column and
    every number parses as ``parse_value`` would; else None. ``escapes``: whether a line may
    hold a backslash (then the symbols are unescaped as ``parse_value`` does)."""
    arity = len(kinds)
    if arity != 1 and "" in lines:
        lines = [line for line in lines if line]
    if arity == 1:
        if delimiter in "\n".join(lines):
            return None
        columns: list[list[str]] = [lines]
    elif len(delimiter) == 1:  # arity - 1 delimiters a line: split all at once, slice
        if set(map(methodcaller("count", delimiter), lines)) - {arity - 1}:
            return None
        fields = delimiter.join(lines).split(delimiter) if lines else []
        columns = [fields[i::arity] for i in range(arity)]
    else:
        split = [line.split(delimiter) for line in lines]
        if any(len(fields) != arity for fields in split):
            return None
        columns = [list(c) for c in zip(*split, strict=True)] if split else [[]] * arity
    values: list[Iterable[Any]] = []
    for column, kind in zip(columns, kinds, strict=True):
        try:
            if kind == "symbol":
                values.append(_unescaped(column) if escapes else column)
            elif kind == "float":
                values.append(list(map(float, column)))
            else:
                values.append(_numbers(column))
        except ValueError:
            return None
    return list(zip(*values, strict=True))


def _unescaped(column: list[str]) -> list[str]:
    """``unescape`` of each value of ``column``: at once, over the column's values joined by
    NUL when none holds one."""
    text = "\0".join(column)
    if "\\" not in text:
        return column
    if text.count("\0") != len(column) - 1:
        return [unescape(v) for v in column]
    return unescape(text).split("\0")


def _numbers(column: list[str]) -> list[int]:
    """The ints of a column as ``parse_value`` reads them; ValueError for anything else
    (then the line-by-line reader says what)."""
    numbers = list(map(int, column))
    if numbers and (min(numbers) < MIN_NUMBER or max(numbers) > MAX_NUMBER or
                    max(map(len, column)) > 70):
        raise ValueError("not a plain number column")
    return numbers


def _read_lines(path: Path, f: BinaryIO, kinds: list[str], delimiter: str,
                max_rows: int | None, too_many: str) -> list[tuple[Any, ...]]:
    """``read_facts`` line by line: every error at its ``file:line:col``."""
    rows: list[tuple[Any, ...]] = []
    arity = len(kinds)
    symbols = all(k == "symbol" for k in kinds) and delimiter == "\t"
    for n, line in _lines(path, f):
        if max_rows is not None and len(rows) >= max_rows:
            raise DatalogError([f"{Location(str(path), n, 1)}: {too_many}"])
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
            raise DatalogError([f"{Location(str(path), n, 1)}: expected {arity} field"
                                f"{'s' if arity != 1 else ''} separated by "
                                f"{delimiter!r}, found {len(fields)}"])
        if symbols and "\\" not in line:
            rows.append(tuple(fields))
            continue
        try:
            rows.append(tuple(parse_value(f, k) for f, k in zip(fields, kinds, strict=True)))
        except ValueError as e:
            raise DatalogError([f"{Location(str(path), n, 1)}: {e}"]) from None
    return rows


def format_verbatim(v: Any) -> str:
    """A value as Soufflé writes it in an output: a string as it is, without escapes."""
    return v if isinstance(v, str) else format_value(v)


def format_rows(rows: Iterable[tuple[Any, ...]], delimiter: str = "\t", *,
                verbatim: bool = False, arity: int | None = None) -> str:
    """The lines of a fact file, sorted: the text of ``format_value`` of each value of
    ``sorted(rows)``, made at C speed when each column holds only ints or only strings.
    ``verbatim``: strings as they are (``format_verbatim``), as Soufflé writes its outputs.
    ``arity``: the length of every row, when the caller knows it (a relation's tuples)."""
    fmt = format_verbatim if verbatim else format_value
    if arity is None:
        rows = list(rows)
        lengths = set(map(len, rows))
        arity = lengths.pop() if len(lengths) == 1 else 0
    if arity in (1, 2) and isinstance(rows, Collection) and len(rows) >= 64:
        text = _grouped_text(rows, arity, delimiter)  # from the rows as they are: no copy
        if text is not None:
            return text
    ordered = list(rows)
    if not ordered:
        return ""
    if not arity:  # no columns, or not one relation's rows
        return "".join(("()" if not row else delimiter.join(map(fmt, row))) + "\n"
                       for row in sorted(ordered))
    if len(ordered) < 64:
        ordered.sort()
    else:  # by each column from the last to the first (stable sorts: the same order),
        for i in reversed(range(arity)):  # comparing values, not tuples: several times faster
            ordered.sort(key=itemgetter(i))
    text = _plain_text(ordered, arity, delimiter)
    if text is not None:
        return text
    return "".join(delimiter.join(map(fmt, row)) + "\n" for row in ordered)


def _grouped_text(rows: Collection[tuple[Any, ...]], arity: int, delimiter: str
                  ) -> str | None:
    """The sorted lines of a relation of one or two columns when each column holds only ints
    or only strings (``str`` is then ``format_value``) and no string needs an escape; else
    None. The rows are not sorted as tuples: the values of the second column are grouped by
    the first (one pass), and the first column's values and each group are sorted as plain
    values, several times faster for the same order (each column is totally ordered) unless
    the groups are small: then (the first eighth of the rows has few equal first values)
    None too."""
    if not _plain_delimiter(delimiter):
        return None
    groups: defaultdict[Any, list[Any]] = defaultdict(list)
    if arity == 1:
        groups[None] = list(map(itemgetter(0), rows))
    else:
        sample = list(islice(rows, len(rows) // 8))  # a set's order is its tuples' hashes'
        if len(sample) < 1.5 * len(set(map(itemgetter(0), sample))):
            return None
        for first, second in rows:
            groups[first].append(second)
    kinds = {int}, {str}
    values = set(map(type, chain.from_iterable(groups.values())))
    if values not in kinds or (arity == 2 and set(map(type, groups)) not in kinds):
        return None
    parts: list[str] = []
    for first in sorted(groups):
        group = groups[first]
        group.sort()
        prefix = "" if arity == 1 else f"{first}{delimiter}"
        parts.append(prefix)
        parts.append(f"\n{prefix}".join(group if str in values else map(str, group)))
        parts.append("\n")
    text = "".join(parts)
    if _needs_escape(text, len(rows), arity, delimiter, values | set(map(type, groups))):
        return None
    return text


def _plain_delimiter(delimiter: str) -> bool:
    """Whether lines made with ``delimiter`` can be checked for escapes on their text."""
    return not any(c in delimiter for c in "\\\n\r") and \
        ("\t" not in delimiter or delimiter == "\t")


def _needs_escape(text: str, rows: int, arity: int, delimiter: str, types: set[type]) -> bool:
    """Whether a string in the ``rows`` lines of ``text`` has a character to escape."""
    if str not in types:  # numbers have nothing to escape
        return False
    tabs = rows * (arity - 1) if delimiter == "\t" else 0
    return "\\" in text or "\r" in text or text.count("\n") != rows or \
        text.count("\t") != tabs


def _plain_text(rows: list[tuple[Any, ...]], arity: int, delimiter: str) -> str | None:
    """The lines of ``rows`` if every value is an int, a bool or a string (``format_value``
    is ``str`` for them) and no string needs an escape (checked on the text made); else
    None."""
    if not _plain_delimiter(delimiter):
        return None
    values = tuple(chain.from_iterable(rows))
    types = set(map(type, values))
    if types == {str}:
        text = "\n".join(map(delimiter.join, rows)) + "\n"
    elif types <= {int, bool, str}:  # one format of every line at once, at C speed
        line = delimiter.replace("%", "%%").join(["%s"] * arity) + "\n"
        text = (line * len(rows)) % values
    else:
        return None
    if _needs_escape(text, len(rows), arity, delimiter, types):
        return None  # a string with a character to escape
    return text


def write_facts(path: Path, rows: Iterable[tuple[Any, ...]], delimiter: str = "\t", *,
                verbatim: bool = False, arity: int | None = None) -> None:
    path.write_text(format_rows(rows, delimiter, verbatim=verbatim, arity=arity),
                    encoding="utf-8")
