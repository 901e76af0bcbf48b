"""The fleet inventory: an SQLite database of records and facts, one row per image (schema in
docs/fleet.md, shared with ``guestinspect query``).

Each image's record and facts are written in one transaction, so that an interrupted run
leaves whole images only. ``meta.rules_hash`` names the rules and options the records were
made with; an inventory made with others is emptied when a run starts (the fact cache makes
re-deriving cheap), so that every record of an inventory comes from the same rules.
"""

import json
import sqlite3
import time
from pathlib import Path

from guestinspect.errors import UsageError
from guestinspect.fleet.worker import Outcome

SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images(
  id       INTEGER PRIMARY KEY,
  image    TEXT NOT NULL UNIQUE,
  key      TEXT,
  status   TEXT NOT NULL,
  error    TEXT,
  record   TEXT NOT NULL,
  finished REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS facts(
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  relation TEXT NOT NULL,
  derived  INTEGER NOT NULL,
  tuple    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS facts_by_relation ON facts(relation, image_id);
"""


def record_line(record: dict[str, object]) -> str:
    """A record as one JSON line (as printed on stdout and kept in ``images.record``)."""
    return json.dumps(record, ensure_ascii=False)


class Inventory:
    """An inventory file, opened for a run."""

    def __init__(self, path: Path, version: str, rules_hash: str) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path, isolation_level=None)
            self.db.execute("PRAGMA foreign_keys = ON")
            self._prepare(version, rules_hash)
        except sqlite3.Error as e:
            raise UsageError(f"--inventory {path}: {e}") from e

    def _prepare(self, version: str, rules_hash: str) -> None:
        tables = {r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "meta" in tables:
            row = self.db.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None or row[0] != SCHEMA_VERSION:
                raise UsageError(f"--inventory {self.path}: not an inventory of schema version "
                                 f"{SCHEMA_VERSION}")
        elif tables:
            raise UsageError(f"--inventory {self.path}: an SQLite database, but not an "
                             "inventory")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            old = self.db.execute("SELECT value FROM meta WHERE key = 'rules_hash'").fetchone()
            if old is not None and old[0] != rules_hash:
                self.db.execute("DELETE FROM facts")
                self.db.execute("DELETE FROM images")
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [
                ("schema_version", SCHEMA_VERSION), ("guestinspect_version", version),
                ("rules_hash", rules_hash)])
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def done(self) -> dict[str, tuple[str | None, str, str]]:
        """image -> (key, status, record line) of every image recorded."""
        return {image: (key, status, record) for image, key, status, record in self.db.execute(
            "SELECT image, key, status, record FROM images")}

    def write(self, outcome: Outcome, line: str) -> None:
        """Record one image (replacing what was recorded of it), in one transaction."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute("DELETE FROM images WHERE image = ?", (outcome.record["image"],))
                cur = self.db.execute(
                    "INSERT INTO images(image, key, status, error, record, finished) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (outcome.record["image"], outcome.key, outcome.status,
                     outcome.record.get("error"), line, time.time()))
                image_id = cur.lastrowid
                self.db.executemany(
                    "INSERT INTO facts(image_id, relation, derived, tuple) VALUES (?, ?, ?, ?)",
                    ((image_id, rel, int(derived), json.dumps(list(t)))
                     for rel, derived, t in outcome.facts))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise UsageError(f"--inventory {self.path}: {e}") from e

    def close(self) -> None:
        self.db.close()
