"""The results of ``guestinspect query``: aligned tables, CSV or JSON.

Values come from guest images: in a table, control characters are shown escaped (``\\n``,
``\\x1b``) so that a hostname cannot move the terminal's cursor; lone surrogates (undecodable
guest bytes) become U+FFFD in every format.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from typing import Any

from guestinspect.reporting.surrogates import replace_surrogates

Table = tuple[str, list[str], list[tuple[Any, ...]]]  # relation, column names, sorted rows

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\"}


def _sort_key(row: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, v) if isinstance(v, int | float) else (1, str(v)) for v in row)


def table_of(name: str, columns: Sequence[str], rows: set[tuple[Any, ...]]) -> Table:
    clean = [tuple(replace_surrogates(v) if isinstance(v, str) else v for v in r)
             for r in rows]
    return name, list(columns), sorted(clean, key=_sort_key)


def _cell(v: Any) -> str:
    if not isinstance(v, str):
        return str(v)
    return _CONTROLS.sub(lambda m: _ESCAPES.get(m.group(), f"\\x{ord(m.group()):02x}"),
                         v.replace("\\", "\\\\"))


def text(tables: Sequence[Table]) -> str:
    """Aligned columns under a header; with several relations, each under its name."""
    out: list[str] = []
    for name, columns, rows in tables:
        if len(tables) > 1:
            if out:
                out.append("")
            out.append(f"{name} ({len(rows)} row{'s' if len(rows) != 1 else ''})")
        cells = [[_cell(v) for v in r] for r in rows]
        widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
        numeric = [bool(rows) and all(isinstance(r[i], int | float) for r in rows)
                   for i in range(len(columns))]

        def line(values: Sequence[str], numeric: Sequence[bool] = numeric,
                 widths: Sequence[int] = widths) -> str:
            return "  ".join(v.rjust(w) if n else v.ljust(w)
                             for v, w, n in zip(values, widths, numeric, strict=True)).rstrip()

        out.append(line(columns, [False] * len(columns)))
        out.append("  ".join("-" * w for w in widths))
        out.extend(line(r) for r in cells)
    return "\n".join(out) + "\n" if out else ""


def as_csv(tables: Sequence[Table]) -> str:
    """A header row and the rows (RFC 4180); several relations: blocks apart by an empty
    line, each with its header, whose first cell is the relation's name."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for i, (name, columns, rows) in enumerate(tables):
        if i:
            buf.write("\r\n")
        if len(tables) > 1:
            writer.writerow([name, *columns])
            writer.writerows([name, *r] for r in rows)
        else:
            writer.writerow(columns)
            writer.writerows(rows)
    return buf.getvalue()


def as_json(tables: Sequence[Table]) -> str:
    """``{"Relation": [{"column": value, …}, …], …}``."""
    doc = {name: [dict(zip(columns, r, strict=True)) for r in rows]
           for name, columns, rows in tables}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
