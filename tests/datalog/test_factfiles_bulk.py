"""read_facts' bulk path (a file read at once, parsed at C speed) reads what the
line-by-line reader reads, and leaves every error to it (the same ``file:line:col``)."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pytest

from guestinspect.datalog import factfiles
from guestinspect.datalog.errors import DatalogError

PIECES = ["a", "b c", "12", "-3", " 7", "0x1f", "1_0", "2.5", "", "\t", "\t", "\n", "\n",
          "\\t", "\\", "\r", "é", "\xff", "18446744073709551616", "-9223372036854775808",
          "9" * 71, "()", ","]


def _line_by_line(path: Path, kinds: list[str], delimiter: str,
                  max_rows: int | None) -> list[tuple[Any, ...]] | str:
    try:
        return factfiles._read_lines(path, io.BytesIO(path.read_bytes()), kinds, delimiter,
                                     max_rows, "too many")
    except DatalogError as e:
        return str(e.errors)


def _read(path: Path, kinds: list[str], delimiter: str,
          max_rows: int | None) -> list[tuple[Any, ...]] | str:
    try:
        return factfiles.read_facts(path, kinds, delimiter, max_rows, "too many")
    except DatalogError as e:
        return str(e.errors)


@pytest.mark.parametrize("kinds", [["symbol"], ["number"], ["symbol", "symbol"],
                                   ["number", "symbol"], ["float", "unsigned", "symbol"], []])
def test_bulk_reads_what_line_by_line_reads(tmp_path: Path, kinds: list[str]) -> None:
    rng = random.Random(len(kinds))
    path = tmp_path / "R.facts"
    bulk = 0
    for _ in range(200):
        pieces = rng.choices(PIECES, k=rng.randrange(0, 12))
        data = "".join(pieces).encode("utf-8", "surrogateescape")
        if rng.random() < 0.5:  # often well-formed: the bulk path's own answers
            row = ["a" if k == "symbol" else "12" for k in kinds]
            data = ("\t".join(row) + "\n").encode() * rng.randrange(1, 4)
        if "\xff" in pieces:
            data = data.replace("ÿ".encode(), b"\xff")
        path.write_bytes(data)
        delimiter = rng.choice(["\t", "\t", ","])
        max_rows = rng.choice([None, 1, 2, 100])
        expected = _line_by_line(path, kinds, delimiter, max_rows)
        assert _read(path, kinds, delimiter, max_rows) == expected, data
        with path.open("rb") as f:
            bulk += factfiles._read_bulk(f, kinds, delimiter, max_rows) is not None
    assert bulk > 30 or not kinds  # the fast path was taken, not only the fallback


def test_bulk_numbers_as_parse_value(tmp_path: Path) -> None:
    path = tmp_path / "R.facts"
    path.write_text("1\t-2\n 3\t+4\n18446744073709551615\t-9223372036854775808\n")
    with path.open("rb") as f:
        rows = factfiles._read_bulk(f, ["number", "number"], "\t", None)
    assert rows == [(1, -2), (3, 4), (2**64 - 1, -(2**63))]
    path.write_text("1\t18446744073709551616\n")
    with pytest.raises(DatalogError, match=r"R.facts:1:1: number out of range"):
        factfiles.read_facts(path, ["number", "number"])


def test_bulk_unescapes_symbols(tmp_path: Path) -> None:
    path = tmp_path / "R.facts"
    path.write_text("a\\tb\t1\nc\\\\d\\n\t2\nplain\\x\t3\n")
    with path.open("rb") as f:
        rows = factfiles._read_bulk(f, ["symbol", "number"], "\t", None)
    assert rows == [("a\tb", 1), ("c\\d\n", 2), ("plain\\x", 3)]
    assert rows == _line_by_line(path, ["symbol", "number"], "\t", None)
