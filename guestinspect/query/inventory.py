"""Reading a fleet inventory (docs/fleet.md) for ``guestinspect query``, as hostile input.

The file is opened read-only; its tables must be the contract's tables (not views), its
``schema_version`` the one this code reads. Relation names must be identifiers; every fact
row is at most MAX_ROW characters of JSON, an array of the declared number of values of the
declared types. A row that is not is skipped and counted (a warning per relation), never
passed on.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guestinspect.errors import UsageError

#: The inventory schema version this code reads (guestinspect/fleet/inventory.py writes it).
SCHEMA_VERSION = "1"
#: A fact row longer than this (characters of JSON) is skipped.
MAX_ROW = 16 * 1024 * 1024
#: Relation names: identifiers of at most this many characters, at most MAX_RELATIONS of them.
MAX_NAME = 128
MAX_RELATIONS = 10_000
#: Numbers stay in the engine's 64-bit domain.
MIN_NUMBER, MAX_NUMBER = -(2**63), 2**64 - 1

#: An identifier, or a qualified one (``WinPaths.Path``: a relation of a component's instance).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_COLUMNS = {
    "meta": {"key", "value"},
    "images": {"id", "image", "key", "status", "error", "record", "finished"},
    "facts": {"image_id", "relation", "derived", "tuple"},
}


@dataclass(frozen=True)
class ImageRow:
    id: int
    image: str
    key: str
    status: str
    error: str


@dataclass
class Skipped:
    """Rows of one relation that were not loaded, and why (the first reason)."""

    count: int = 0
    reason: str = ""


@dataclass
class InventoryReader:
    """An open inventory; :meth:`open` checks it is one."""

    path: Path
    db: sqlite3.Connection
    skipped: dict[str, Skipped] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path) -> InventoryReader:
        try:
            st = path.stat()
        except OSError as e:
            raise UsageError(f"--inventory {path}: no such inventory ({e.strerror})") from e
        if not path.is_file():
            raise UsageError(f"--inventory {path}: not a file")
        if st.st_size == 0:
            raise UsageError(f"--inventory {path}: an empty file, not an inventory")
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            db.execute("PRAGMA query_only = ON")
            db.execute("PRAGMA trusted_schema = OFF")
            reader = cls(path, db)
            reader._check()
        except sqlite3.Error as e:
            raise UsageError(f"--inventory {path}: not an inventory ({_one_line(e)})") from e
        return reader

    def _check(self) -> None:
        kinds = dict(self.db.execute(
            "SELECT name, type FROM sqlite_master WHERE name IN ('meta', 'images', 'facts')"))
        for table, columns in _COLUMNS.items():
            if kinds.get(table) != "table":
                raise UsageError(f"--inventory {self.path}: not an inventory (no table "
                                 f"'{table}')")
            have = {str(r[1]) for r in self.db.execute(f"PRAGMA table_info({table})")}
            if not columns <= have:
                raise UsageError(f"--inventory {self.path}: not an inventory (table '{table}' "
                                 f"lacks {', '.join(sorted(columns - have))})")
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = row[0] if row is not None else None
        if version != SCHEMA_VERSION:
            shown = "none" if version is None else repr(str(version)[:20])
            raise UsageError(f"--inventory {self.path}: schema version {shown}, but this "
                             f"guestinspect reads version {SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    # ---- reading ---------------------------------------------------------------------------
    def images(self) -> list[ImageRow]:
        """Every image recorded (text columns as text; NULL as "")."""
        out: list[ImageRow] = []
        for id_, image, key, status, error in self.db.execute(
                "SELECT id, image, key, status, error FROM images ORDER BY id"):
            if not isinstance(id_, int) or not isinstance(image, str):
                self._skip("Image", "an image row without an id or a name")
                continue
            out.append(ImageRow(id_, image, _text(key), _text(status), _text(error)))
        return out

    def relations(self) -> list[str]:
        """The relation names the facts table holds (those that are identifiers, qualified or
        not)."""
        names: list[str] = []
        for (name,) in self.db.execute("SELECT DISTINCT relation FROM facts"):
            if not isinstance(name, str) or len(name) > MAX_NAME or not _NAME.fullmatch(name):
                self._skip("?", f"a relation name that is no identifier: {str(name)[:40]!r}")
                continue
            names.append(name)
            if len(names) >= MAX_RELATIONS:
                break
        return sorted(names)

    def sample(self, relation: str, limit: int = 50) -> list[list[Any]]:
        """A few rows of ``relation`` decoded (to guess the types of a relation the shipped
        rules do not declare)."""
        out: list[list[Any]] = []
        for (text,) in self.db.execute(
                "SELECT tuple FROM facts WHERE relation = ? LIMIT ?", (relation, limit)):
            values = _decode(text)
            if values is not None:
                out.append(values)
        return out

    def facts(self, relation: str, kinds: list[str], images: dict[int, str]
              ) -> Iterator[tuple[tuple[Any, ...], bool]]:
        """``(image, values…)`` and whether it was derived, for every well-formed row of
        ``relation`` (``kinds``: the declared types of the values, image excluded)."""
        for image_id, derived, text in self.db.execute(
                "SELECT image_id, derived, tuple FROM facts WHERE relation = ?", (relation,)):
            image = images.get(image_id) if isinstance(image_id, int) else None
            if image is None:
                self._skip(relation, "a fact of no recorded image")
                continue
            values = _decode(text)
            if values is None:
                self._skip(relation, "not a JSON array")
                continue
            problem = _mismatch(values, kinds)
            if problem is not None:
                self._skip(relation, problem)
                continue
            yield (image, *values), bool(derived)

    def _skip(self, relation: str, reason: str) -> None:
        s = self.skipped.setdefault(relation, Skipped())
        s.count += 1
        if not s.reason:
            s.reason = reason

    def warnings(self) -> list[str]:
        return [f"--inventory {self.path}: {s.count} row(s) of '{name}' skipped: {s.reason}"
                for name, s in sorted(self.skipped.items())]


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else type(e).__name__


def _text(v: object) -> str:
    return v if isinstance(v, str) else "" if v is None else str(v)[:200]


def _decode(text: object) -> list[Any] | None:
    if not isinstance(text, str) or len(text) > MAX_ROW:
        return None
    try:
        values = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return values if isinstance(values, list) else None


def _mismatch(values: list[Any], kinds: list[str]) -> str | None:
    """Why ``values`` do not fit columns of ``kinds`` (None if they do)."""
    if len(values) != len(kinds):
        return f"{len(values)} values where the relation has {len(kinds)}"
    for v, kind in zip(values, kinds, strict=True):
        if kind == "symbol":
            if not isinstance(v, str):
                return f"{_show(v)} where a symbol is declared"
        elif kind == "float":
            if isinstance(v, bool) or not isinstance(v, int | float):
                return f"{_show(v)} where a float is declared"
        elif isinstance(v, bool) or not isinstance(v, int) or not (
                MIN_NUMBER <= v <= MAX_NUMBER) or (kind == "unsigned" and v < 0):
            return f"{_show(v)} where {'an' if kind == 'unsigned' else 'a'} {kind} is declared"
    return None


def _show(v: object) -> str:
    text = json.dumps(v)
    return text if len(text) <= 40 else text[:39] + "…"


def guess_kinds(rows: list[list[Any]]) -> list[str] | None:
    """Column types for a relation known only from its rows: all of one arity, each column
    all integers (number) or all strings (symbol); None if the rows do not agree."""
    if not rows:
        return None
    arity = len(rows[0])
    if arity == 0 or any(len(r) != arity for r in rows):
        return None
    kinds: list[str] = []
    for i in range(arity):
        if all(isinstance(r[i], str) for r in rows):
            kinds.append("symbol")
        elif all(isinstance(r[i], int) and not isinstance(r[i], bool) for r in rows):
            kinds.append("number")
        else:
            return None
    return kinds
