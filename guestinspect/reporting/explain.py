"""``--explain FIELD``: why each operating system has the value it has, as readable trees.

Each tree starts at the output relation tuple of the field and goes down, rule by rule
(shown with its ``file:line``), to the base facts the collectors read from the image: a
device, a file and the line of it the conclusion rests on, a registry value, a package
record. When no operating system was found, it says which filesystems were examined and
what the rules looked for on each of them.
"""

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from guestinspect.datalog import Derivation
from guestinspect.errors import UsageError
from guestinspect.inspection.results import FIELD_RELATIONS

#: Longest value shown in full; longer ones are cut.
MAX_VALUE = 80
#: At most this many tuples are explained per root and field (applications can be many).
MAX_TUPLES = 20
#: At most this many requests are listed per filesystem when nothing was found.
MAX_WANTS = 40

_WANT_PATH_RELATIONS = ("WantPath", "WantContent", "WantDir", "WantArch")


class ExplainSource(Protocol):
    """What this module needs of a ``guestinspect.datalog.Database``."""

    relations: Any

    def tuples(self, name: str) -> Any: ...

    def explain(self, relation: str, row: Iterable[Any]) -> Derivation | None: ...


def _tuples(db: ExplainSource, name: str) -> list[tuple[Any, ...]]:
    """The tuples of a relation, none if the program does not declare it."""
    return list(db.tuples(name)) if name in db.relations else []


def field_relation(field: str, db: ExplainSource | None = None) -> str:
    """The output relation a field comes from; ``Extra`` for the rules' extra fields."""
    if field in FIELD_RELATIONS:
        return FIELD_RELATIONS[field]
    if db is not None and any(t[1] == field for t in _tuples(db, "Extra")):
        return "Extra"
    known = ", ".join(sorted(FIELD_RELATIONS))
    raise UsageError(f"--explain {field}: unknown field (known fields: {known})")


def shorten(value: object, limit: int = MAX_VALUE) -> str:
    """A value on one line, cut to ``limit`` characters."""
    text = str(value).replace("\n", "\\n").replace("\t", "\\t")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _location(loc: str) -> str:
    """``/abs/path/rules/unix/x.dl:3:1`` -> ``rules/unix/x.dl:3`` (line is enough to read)."""
    m = re.match(r"(.*):(\d+):(\d+)$", loc)
    path, line = (m.group(1), m.group(2)) if m else (loc, "")
    p = Path(path)
    parts = p.parts
    if "rules" in parts:
        p = Path(*parts[len(parts) - 1 - parts[::-1].index("rules") :])
    else:
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            pass
    return f"{p}:{line}" if line else str(p)


def _rule_text(text: str | None) -> str:
    return shorten(" ".join((text or "").split()), 120)


def _hints(d: Derivation, out: set[str]) -> set[str]:
    """Short strings of the tree: what a file's relevant line probably contains."""
    for v in d.tuple:
        if isinstance(v, str) and 2 <= len(v) <= MAX_VALUE and "\n" not in v:
            out.add(v)
    for c in d.children:
        if c.relation != "Content":
            _hints(c, out)
    return out


def relevant_line(text: str, hints: set[str]) -> str:
    """The line of a file's text that holds the longest hint, else its first non-empty line."""
    lines = [line for line in text.splitlines() if line.strip()]
    for hint in sorted(hints, key=len, reverse=True):
        for line in lines:
            if hint in line:
                return shorten(line.strip())
    return shorten(lines[0].strip()) if lines else '""'


def describe_fact(relation: str, t: tuple[Any, ...], hints: set[str]) -> str:
    """A base fact as what it is on the disk."""
    if relation == "Content" and len(t) == 3:
        return f"file {t[0]}:{t[1]}: {relevant_line(str(t[2]), hints)}"
    if relation == "Entry" and len(t) == 3:
        return f"{t[2]} {t[0]}:{t[1]} exists"
    if relation == "Missing" and len(t) == 2:
        return f"{t[0]}:{t[1]} does not exist"
    if relation == "Symlink" and len(t) == 3:
        return f"symlink {t[0]}:{t[1]} -> {shorten(t[2])}"
    if relation == "RegistryValue" and len(t) == 6:
        name = t[3] or "(default)"
        return f"registry {t[0]}:{t[1]} {t[2]}\\{name} = {shorten(t[5])} ({t[4]})"
    if relation in ("RegistryKeyFound", "RegistryKeyMissing") and len(t) == 3:
        state = "exists" if relation == "RegistryKeyFound" else "does not exist"
        return f"registry key {t[0]}:{t[1]} {t[2]} {state}"
    if relation == "RegistrySubkey" and len(t) == 4:
        return f"registry key {t[0]}:{t[1]} {t[2]} has subkey {t[3]}"
    if relation == "PackageField" and len(t) == 5:
        return f"{t[1]} package record {t[2]} on {t[0]}: {t[3]} = {shorten(t[4])}"
    if relation == "Filesystem" and len(t) == 2:
        return f"filesystem {t[0]} is {t[1]}"
    if relation == "Mounted" and len(t) == 1:
        return f"filesystem {t[0]} mounted"
    if relation == "BinaryArch" and len(t) == 3:
        return f"binary {t[0]}:{t[1]} is {t[2]}"
    if relation == "Blob" and len(t) == 3:
        return f"file {t[0]}:{t[1]} read ({_base64_size(str(t[2]))} bytes)"
    if relation == "PeResource" and len(t) == 5:
        return (f"resource type {t[2]} name {t[3]} of {t[0]}:{t[1]} "
                f"({_base64_size(str(t[4]))} bytes)")
    return _tuple(relation, t)


def _base64_size(data: str) -> int:
    return len(data) * 3 // 4 - data[-2:].count("=")


def _tuple(relation: str, t: tuple[Any, ...]) -> str:
    return f"{relation}({', '.join(shorten(v, 60) for v in t)})"


def render(d: Derivation, hints: set[str] | None = None) -> str:
    """A derivation tree made readable: rules with file:line, base facts as disk contents."""
    hints = _hints(d, set()) if hints is None else hints
    lines: list[str] = []
    seen: set[tuple[str, tuple[Any, ...]]] = set()

    def walk(node: Derivation, depth: int) -> None:
        pad = "  " * depth
        key = (node.relation, node.tuple)
        if node.location is None:
            if node.rule_text is None:
                lines.append(f"{pad}{describe_fact(node.relation, node.tuple, hints)}")
            else:
                lines.append(f"{pad}{_tuple(node.relation, node.tuple)}  ({node.rule_text})")
            return
        if key in seen:
            lines.append(f"{pad}{_tuple(node.relation, node.tuple)}  (shown above)")
            return
        seen.add(key)
        lines.append(f"{pad}{_tuple(node.relation, node.tuple)}  [{_location(node.location)}]")
        lines.append(f"{pad}    by {_rule_text(node.rule_text)}")
        for child in node.children:
            walk(child, depth + 1)

    walk(d, 0)
    return "\n".join(lines)


def _value_of(relation: str, t: tuple[Any, ...]) -> str:
    rest = t[1:]
    if relation == "Mountpoint":
        return f"{rest[0]} on {rest[1]}"
    if relation == "DriveMapping":
        return f"{rest[0]}: {rest[1]}"
    if not rest:
        return "yes"
    return ", ".join(shorten(v) for v in rest)


def explain_field(db: ExplainSource, field: str) -> str:
    """Derivation trees of ``field`` for every root (or, with no root, what was examined)."""
    relation = field_relation(field, db)
    roots = sorted({str(t[0]) for t in _tuples(db, "Root")})
    if not roots:
        return diagnose(db)
    out: list[str] = []
    for root in roots:
        rows = sorted(
            (t for t in _tuples(db, relation) if str(t[0]) == root
             and (relation != "Extra" or t[1] == field)),
            key=lambda t: tuple(str(v) for v in t),
        )
        if not rows:
            out.append(f"{root}: {field}: no value (no {relation} tuple was derived)")
            continue
        for t in rows[:MAX_TUPLES]:
            out.append(f"{root}: {field} = {_value_of(relation, t)}")
            d = db.explain(relation, t)
            out.append(render(d) if d is not None else "  (no derivation found)")
        if len(rows) > MAX_TUPLES:
            out.append(f"{root}: … and {len(rows) - MAX_TUPLES} more {relation} tuples")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def diagnose(db: ExplainSource) -> str:
    """No operating system: the filesystems examined, and what the rules found on each."""
    out = ["No operating system was found.", ""]
    types = {str(t[0]): str(t[1]) for t in _tuples(db, "Filesystem")}
    mounted = {str(t[0]) for t in _tuples(db, "Mounted")}
    failed = {str(t[0]): str(t[1]) for t in _tuples(db, "MountFailed")}
    if not types and not mounted:
        out.append("No filesystem was found on the disks.")
        return "\n".join(out) + "\n"
    out.append("Filesystems examined:")
    for fs in sorted(set(types) | mounted | set(failed)):
        state = "mounted" if fs in mounted else (
            f"not mounted: {shorten(failed[fs])}" if fs in failed else "not mounted")
        out.append(f"  {fs} ({types.get(fs, 'unknown')}): {state}")

    candidate_relations = sorted(
        name for name in db.relations
        if ("Candidate" in name or "Root" in name) and name != "Root"
    )
    found = {(str(t[0]), str(t[1])): str(t[2]) for t in _tuples(db, "Entry")}
    missing = {(str(t[0]), str(t[1])) for t in _tuples(db, "Missing")}
    listed = {(str(t[0]), str(t[1])) for t in _tuples(db, "Listed")}
    for fs in sorted(mounted):
        out.append("")
        out.append(f"{fs}:")
        derived = [
            _tuple(name, tuple(t)) for name in candidate_relations
            for t in sorted(_tuples(db, name), key=lambda t: tuple(str(v) for v in t))
            if t and str(t[0]) == fs
        ]
        if derived:
            out.append("  root-candidate facts derived:")
            out.extend(f"    {line}" for line in derived)
        else:
            names = ", ".join(candidate_relations) or "none declared"
            out.append(f"  no root-candidate fact derived ({names})")
        asked = sorted({str(t[1]) for name in _WANT_PATH_RELATIONS
                        for t in _tuples(db, name) if str(t[0]) == fs})
        if asked:
            out.append("  paths the rules looked for:")
            for path in asked[:MAX_WANTS]:
                if (fs, path) in listed:
                    state = "listed"
                elif (fs, path) in found:
                    state = f"found ({found[(fs, path)]})"
                elif (fs, path) in missing:
                    state = "missing"
                else:
                    state = "not answered"
                out.append(f"    {path}: {state}")
            if len(asked) > MAX_WANTS:
                out.append(f"    … and {len(asked) - MAX_WANTS} more")
    return "\n".join(out) + "\n"
