"""What the direct backend's parent and child say to each other: JSON lines over pipes.

Never pickle: the child parses hostile bytes with C libraries and may be taken over, and
unpickling what it sends would let it run code in the parent. A message is one JSON object on
one line, at most :data:`MAX_MESSAGE` bytes; the parent checks every fact the child sends
against the base relations' declarations (``rules/facts.dl``: the collectors know nothing of the
rules but these) before taking it, and the answers to one filesystem's requests must all be
about that filesystem. The hive reader's answers (collectors/isolate.py) are checked the same
way.
"""

import json
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from guestinspect.collectors.factset import Fact, FactSet

#: Largest message read from the child (bytes of JSON, one line).
MAX_MESSAGE = 256 << 20

_DECL = re.compile(r"^\.decl\s+(\w+)\(([^)]*)\)", re.MULTILINE)


class WireError(Exception):
    """A message that is not what the protocol says (the message is one line)."""


def _facts_dl() -> Path:
    """``rules/facts.dl``: in the package in a wheel, at the top of a checkout."""
    shipped = Path(str(resources.files("guestinspect"))) / "rules" / "facts.dl"
    if shipped.is_file():
        return shipped
    return Path(__file__).resolve().parents[3] / "rules" / "facts.dl"


@cache
def schema() -> dict[str, tuple[type, ...]]:
    """Base relation -> the Python type of each column (``symbol``: str, ``number``: int)."""
    out: dict[str, tuple[type, ...]] = {}
    for name, columns in _DECL.findall(_facts_dl().read_text(encoding="utf-8")):
        types = [c.split(":")[1].strip() for c in columns.split(",") if ":" in c]
        out[name] = tuple(int if t == "number" else str for t in types)
    return out


def encode(message: dict[str, Any]) -> bytes:
    """One line of JSON (no newline inside: JSON escapes them in strings)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """The object of one line (WireError if it is not one)."""
    try:
        message = json.loads(line)
    except (ValueError, RecursionError) as e:
        raise WireError("a malformed message") from e
    if not isinstance(message, dict):
        raise WireError("a message that is not an object")
    return message


def facts_out(facts: FactSet) -> dict[str, list[list[str | int]]]:
    """Facts as JSON can carry them (sorted: the same facts, the same bytes)."""
    return {rel: sorted(list(t) for t in tuples) for rel, tuples in facts.items() if tuples}


#: What a fact about another filesystem than the one asked about is called.
STRAY = "a {rel} fact about another filesystem than the one asked about"


def _row(rel: str, row: object, types: tuple[type, ...], about: tuple[str, ...],
         stray: str) -> Fact:
    if not isinstance(row, list) or len(row) != len(types):
        raise WireError(f"a malformed {rel} fact")
    for value, kind in zip(row, types, strict=True):
        if type(value) is not kind:  # (bool is not int here)
            raise WireError(f"a malformed {rel} fact")
    fact = tuple(row)
    if fact[:len(about)] != about:
        raise WireError(stray.format(rel=rel))
    return fact


def facts_in(data: object, allowed: Iterable[str], about: tuple[str, ...] = (),
             stray: str = STRAY) -> FactSet:
    """The facts of a message's ``facts`` member (or of a child's whole answer), each checked:
    a relation of ``allowed``, its columns as declared, and its first columns ``about`` (the
    filesystem asked about, the hive…; else a WireError worded by ``stray``)."""
    if not isinstance(data, dict):
        raise WireError("facts that are not an object")
    declared, ok = schema(), set(allowed)
    facts: FactSet = {}
    for rel, rows in data.items():
        if rel not in ok or rel not in declared or not isinstance(rows, list):
            raise WireError(f"an unexpected relation {str(rel)[:80]!r}")
        facts[rel] = {_row(rel, row, declared[rel], about, stray) for row in rows}
    return facts


def strings(data: object, what: str) -> list[str]:
    """A list of strings (WireError if it is not one)."""
    if not isinstance(data, list) or not all(isinstance(s, str) for s in data):
        raise WireError(f"malformed {what}")
    return list(data)


def string_map(data: object, what: str) -> dict[str, str]:
    """An object of strings (WireError if it is not one)."""
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise WireError(f"malformed {what}")
    return dict(data)


def number_map(data: object, what: str) -> dict[str, float]:
    """An object of numbers (WireError if it is not one)."""
    if not isinstance(data, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in data.values()
    ):
        raise WireError(f"malformed {what}")
    return {k: float(v) for k, v in data.items()}
