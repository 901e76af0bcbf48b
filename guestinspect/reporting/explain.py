"""``--explain FIELD``: why each operating system has the value it has, for a person.

The default is short and evidence-first: for each root, the conclusion, the rule that made it
(``file:line``), and the base facts it finally rests on as what they are on the disk (a file
with the lines that mattered, a registry value and what it was read as, partition data),
described by the table in ``fact_text.py``; helper relations marked ``.plumbing`` in the
rules are folded away. ``depth=N`` gives the derivation tree, plumbing folded, down to N
levels; ``full=True`` the whole tree, every step. A field with no value on a root says which
rule came closest and what it lacked (``Database.why_not``). When no operating system was
found, it says which filesystems were examined and what the rules looked for on each of
them. Every value from the guest is made safe for a terminal (``shorten``).
"""

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from guestinspect.collectors.answerers.table import ANSWERERS
from guestinspect.datalog import Derivation
from guestinspect.datalog.explain import WhyNot
from guestinspect.errors import UsageError
from guestinspect.inspection.results import FIELD_RELATIONS
from guestinspect.reporting.fact_text import FACT_TEXT, READINGS

#: Longest value shown in full; longer ones are cut.
MAX_VALUE = 80
#: At most this many tuples are explained per root and field (applications can be many).
MAX_TUPLES = 20
#: At most this many requests are listed per filesystem when nothing was found.
MAX_WANTS = 40
#: At most this many lines of one file are shown as what a conclusion rests on.
MAX_LINES = 5
#: Rule texts are cut to this many characters in a tree, and in the short form.
MAX_RULE = 120
MAX_RULE_SHORT = 200

#: The requests whose paths are listed as looked for (collectors/answerers/table.py).
_WANT_PATH_RELATIONS = tuple(row.relation for row in ANSWERERS if row.looked_for)


class ExplainSource(Protocol):
    """What this module needs of a ``guestinspect.datalog.Database``."""

    relations: Any
    program: Any

    def tuples(self, name: str) -> Any: ...

    def explain(self, relation: str, row: Iterable[Any]) -> Derivation | None: ...

    def why_not(self, relation: str, pattern: Iterable[Any],
                stop: Iterable[str] = ()) -> WhyNot | None: ...


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


_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def shorten(value: object, limit: int = MAX_VALUE) -> str:
    """A value on one line, safe for a terminal, cut to ``limit`` characters.

    Newlines, tabs and every other character that is not printable (escape sequences,
    bidirectional overrides, …) are written as backslash escapes; only as much of the value
    as is shown is looked at."""
    out: list[str] = []
    size = 0
    for ch in str(value):
        if ch.isprintable():
            piece = ch
        elif ch in _ESCAPES:
            piece = _ESCAPES[ch]
        else:
            code = ord(ch)
            piece = f"\\x{code:02x}" if code < 0x100 else (
                f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        out.append(piece)
        size += len(piece)
        if size > limit:
            break
    text = "".join(out)
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


def _rule_text(text: str | None, limit: int = MAX_RULE) -> str:
    return shorten(" ".join((text or "").split()), limit)


def _hints(d: Derivation, out: set[str]) -> set[str]:
    """Short strings of the tree: what a file's relevant line probably contains."""
    for v in d.tuple:
        if isinstance(v, str) and 2 <= len(v) <= MAX_VALUE and "\n" not in v:
            out.add(v)
    for c in d.children:
        if c.relation != "Content":
            _hints(c, out)
    return out


def _nonempty_lines(text: str) -> list[tuple[int, str]]:
    return [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def relevant_line(text: str, hints: set[str]) -> str:
    """The line of a file's text that holds the longest hint, else its first non-empty line."""
    lines = [line for _, line in _nonempty_lines(text)]
    for hint in sorted(hints, key=len, reverse=True):
        for line in lines:
            if hint in line:
                return shorten(line.strip())
    return shorten(lines[0].strip()) if lines else '""'


def _columns(db: ExplainSource | None, relation: str) -> tuple[str, ...] | None:
    if db is None:
        return None
    decl = db.program.declarations.get(relation)
    return tuple(name for name, _ in decl) if decl is not None else None


def _base64_size(data: str) -> int:
    return len(data) * 3 // 4 - data[-2:].count("=")


def _fill(template: str, values: dict[str, Any], empty: tuple[tuple[str, str], ...] = ()
          ) -> str | None:
    """A template of the fact table with the values made safe; None if it does not fit."""
    shown = {name: shorten(v) for name, v in values.items()}
    for name, text in empty:
        if values.get(name) == "":
            shown[name] = text
    sizes = {f"{name}:bytes": str(_base64_size(str(v))) for name, v in values.items()}

    def field(m: re.Match[str]) -> str:
        key = m.group(1)
        if key in sizes:
            return sizes[key]
        return shown[key]

    try:
        return re.sub(r"\{([a-z_]+(?::bytes)?)\}", field, template)
    except KeyError:
        return None


def describe_fact(relation: str, t: tuple[Any, ...], hints: set[str],
                  columns: tuple[str, ...] | None = None) -> str:
    """A base fact as what it is on the disk (``fact_text.FACT_TEXT``); a file's content by
    the line that holds the longest hint."""
    spec = FACT_TEXT.get(relation)
    if spec is None or columns is None or len(columns) != len(t):
        return _tuple(relation, t)
    values = dict(zip(columns, t, strict=True))
    text = _fill(spec.template, values, spec.empty)
    if text is None:
        return _tuple(relation, t)
    if spec.text is not None:
        text += f": {relevant_line(str(values[spec.text]), hints)}"
    return text


def _tuple(relation: str, t: tuple[Any, ...]) -> str:
    return f"{relation}({', '.join(shorten(v, 60) for v in t)})"


def _is_base(node: Derivation) -> bool:
    return node.location is None and node.rule_text is None


def _unfolded(node: Derivation, plumbing: frozenset[str]) -> list[Derivation]:
    """A node's children with plumbing steps replaced by what they rest on."""
    out: list[Derivation] = []
    stack = list(reversed(node.children))
    while stack:
        c = stack.pop()
        if c.relation in plumbing and not _is_base(c):
            stack.extend(reversed(c.children))
        else:
            out.append(c)
    return out


def render(d: Derivation, hints: set[str] | None = None, db: ExplainSource | None = None,
           plumbing: frozenset[str] = frozenset(), max_depth: int | None = None) -> str:
    """A derivation tree made readable: rules with file:line, base facts as disk contents;
    ``plumbing`` steps folded into their parents; at most ``max_depth`` levels."""
    hints = _hints(d, set()) if hints is None else hints
    lines: list[str] = []
    seen: set[tuple[str, tuple[Any, ...]]] = set()

    def walk(node: Derivation, depth: int) -> None:
        pad = "  " * depth
        key = (node.relation, node.tuple)
        if node.location is None:
            if node.rule_text is None:
                text = describe_fact(node.relation, node.tuple, hints,
                                     _columns(db, node.relation))
                lines.append(f"{pad}{text}")
            else:
                lines.append(f"{pad}{_tuple(node.relation, node.tuple)}  ({node.rule_text})")
            return
        if key in seen:
            lines.append(f"{pad}{_tuple(node.relation, node.tuple)}  (shown above)")
            return
        seen.add(key)
        lines.append(f"{pad}{_tuple(node.relation, node.tuple)}  [{_location(node.location)}]")
        lines.append(f"{pad}    by {_rule_text(node.rule_text)}")
        children = _unfolded(node, plumbing) if plumbing else node.children
        if max_depth is not None and depth + 1 >= max_depth:
            if children:
                lines.append(f"{pad}  …")
            return
        for child in children:
            walk(child, depth + 1)

    walk(d, 0)
    return "\n".join(lines)


# ---- the short form ------------------------------------------------------------------------


def _evidence(d: Derivation, plumbing: frozenset[str]
              ) -> tuple[list[Derivation], list[Derivation], set[str]]:
    """The base facts a tree rests on, in the order of the rule's conditions and, under each,
    nearest the conclusion first (plumbing steps do not count as levels); the tuples of
    Python relations in it; its short strings."""
    facts: list[Derivation] = []
    readings: list[Derivation] = []
    hints: set[str] = set()
    seen: set[tuple[str, tuple[Any, ...]]] = set()

    def visit(node: Derivation, level: list[Derivation], below: list[Derivation]) -> None:
        key = (node.relation, node.tuple)
        if key in seen:
            return
        seen.add(key)
        if _is_base(node):
            facts.append(node)
        elif node.relation in plumbing:
            level.extend(node.children)
        else:
            hints.update(v for v in node.tuple if isinstance(v, str) and "\n" not in v
                         and 0 < len(v.strip()) <= MAX_VALUE)
            if node.location is None:
                readings.append(node)
            below.extend(node.children)

    top: list[Derivation] = []
    visit(d, [], top)
    for condition in top:  # each condition of the conclusion's rule, in turn
        level = [condition]
        while level:
            below: list[Derivation] = []
            i = 0
            while i < len(level):
                visit(level[i], level, below)
                i += 1
            level = below
    return facts, readings, hints


def _subject(node: Derivation, columns: tuple[str, ...] | None) -> tuple[str, str] | None:
    spec = FACT_TEXT.get(node.relation)
    if spec is None or spec.subject is None or columns is None:
        return None
    values = dict(zip(columns, node.tuple, strict=False))
    fs_col, path_col = spec.subject
    if fs_col not in values or (path_col and path_col not in values):
        return None
    return str(values[fs_col]), str(values[path_col]) if path_col else ""


def _below(path: str, other: str) -> bool:
    """``other`` is a path strictly below ``path`` ("" is the whole filesystem)."""
    if path in ("", "/"):
        return other not in ("", "/")
    return other.startswith(path.rstrip("/") + "/")


def _implied(facts: list[Derivation], db: ExplainSource) -> list[Derivation]:
    """The facts without those another fact shown implies (``FactText.implied``)."""
    subjects = [_subject(f, _columns(db, f.relation)) for f in facts]
    kept: list[Derivation] = []
    for f, subj in zip(facts, subjects, strict=True):
        spec = FACT_TEXT.get(f.relation)
        if spec is not None and spec.implied and subj is not None and any(
            other is not None and other[0] == subj[0] and g is not f and (
                _below(subj[1], other[1]) or (
                    other[1] == subj[1] and not FACT_TEXT[g.relation].implied))
            for g, other in zip(facts, subjects, strict=True)
        ):
            continue
        kept.append(f)
    return kept


def _file_lines(text: str, readings: list[Derivation], hints: set[str]) -> list[str]:
    """The lines of a file the conclusion rests on: those the rules split it into and used
    (``Lines``), else those equal to a value of the tree, else the line with the longest
    value in it."""
    numbered = _nonempty_lines(text)
    wanted = {int(r.tuple[1]) for r in readings
              if r.relation == "Lines" and len(r.tuple) == 3 and r.tuple[0] == text}
    if not wanted:
        wanted = {n for n, line in numbered if line.strip() in hints}
    if not wanted:
        for hint in sorted(hints, key=len, reverse=True):
            found = next((n for n, line in numbered if hint in line), None)
            if found is not None:
                wanted = {found}
                break
    if not wanted and numbered:
        wanted = {numbered[0][0]}
    lines = [f"line {n}: {shorten(line.strip())}" for n, line in numbered if n in wanted]
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"… and {len(lines) - MAX_LINES} more lines"]
    return lines


def _reading(r: Derivation, db: ExplainSource) -> str | None:
    columns = _columns(db, r.relation)
    if r.relation not in READINGS or columns is None or len(columns) != len(r.tuple):
        return None
    return _fill(READINGS[r.relation], dict(zip(columns, r.tuple, strict=True)))


def short(d: Derivation, db: ExplainSource) -> list[str]:
    """The rule of a conclusion and the base facts it rests on, one per line (indented)."""
    plumbing: frozenset[str] = db.program.plumbing
    lines: list[str] = []
    if d.location is not None:
        lines.append(f"  rule: {_location(d.location)}  "
                     f"{_rule_text(d.rule_text, MAX_RULE_SHORT)}")
    facts, readings, hints = _evidence(d, plumbing)
    facts = _implied(facts, db)
    if not facts:
        lines.append("  facts: none (the rules state it)")
        return lines
    lines.append("  facts:")
    for f in facts:
        columns = _columns(db, f.relation)
        spec = FACT_TEXT.get(f.relation)
        text = describe_fact(f.relation, f.tuple, hints, columns)
        head = None
        if spec is not None and spec.text is not None and columns is not None \
                and len(columns) == len(f.tuple):
            values = dict(zip(columns, f.tuple, strict=True))
            head = _fill(spec.template, values, spec.empty)
        if head is not None and spec is not None and spec.text is not None:
            text = head  # the file; the lines that mattered follow
            shown = _file_lines(str(values[spec.text]), readings, hints)
            if len(shown) == 1:
                lines.append(f"    {text} {shown[0]}")
            else:
                lines.append(f"    {text}")
                lines.extend(f"      {line}" for line in shown)
            continue
        read = [x for r in readings if r.tuple and r.tuple[0] in f.tuple
                and (x := _reading(r, db)) is not None]
        if read:
            text += ", read as " + "; ".join(dict.fromkeys(read))
        lines.append(f"    {text}")
    return lines


# ---- why not -----------------------------------------------------------------------------


def _pattern(relation: str, pattern: tuple[Any, ...]) -> str:
    return f"{relation}({', '.join('_' if v is None else shorten(v, 60) for v in pattern)})"


def why_not(db: ExplainSource, relation: str, pattern: tuple[Any, ...]) -> list[str]:
    """Which rule came closest to a missing tuple and what it lacked, down to the fact;
    the steps inside plumbing relations are left out but for the last one."""
    plumbing: frozenset[str] = db.program.plumbing
    why = db.why_not(relation, pattern)
    if why is None:
        return [f"  no rule derives {relation}"]
    lines = [f"  closest rule: {_location(why.location)}  "
             f"{_rule_text(why.rule_text, MAX_RULE_SHORT)}",
             f"    ({why.held} of {why.total} conditions held for {_pattern(relation, pattern)})"]
    steps: list[WhyNot] = []
    step: WhyNot | None = why
    while step is not None and step.failed:
        steps.append(step)
        step = step.cause
    if not steps:
        lines.append("  its conditions hold, but not for these values")
        return lines
    lines.append(f"  it lacks {shorten(steps[0].failed, MAX_RULE)}")
    for k, step in enumerate(steps[1:], 1):
        if step.relation in plumbing and k < len(steps) - 1:
            continue
        lines.append(f"    which needs ({_location(step.location)}, {step.held} of "
                     f"{step.total} held) {shorten(step.failed, MAX_RULE)}")
    last = steps[-1].failed_relation
    if last is not None and last in db.relations and not db.program.rules_by_head.get(last):
        lines.append(f"    (no such {last} fact was read from the disk)")
    return lines


# ---- fields --------------------------------------------------------------------------------


def _value_of(relation: str, t: tuple[Any, ...]) -> str:
    rest = t[1:]
    if relation == "Mountpoint":
        return f"{shorten(rest[0])} on {shorten(rest[1])}"
    if relation == "DriveMapping":
        return f"{shorten(rest[0])}: {shorten(rest[1])}"
    if not rest:
        return "yes"
    return ", ".join(shorten(v) for v in rest)


def explain_field(db: ExplainSource, field: str, depth: int | None = None,
                  full: bool = False) -> str:
    """Why every root has its value of ``field`` (or, with no root, what was examined).

    The short form by default; ``depth``: the derivation tree with plumbing folded, down to
    ``depth`` levels; ``full``: the whole tree, every step."""
    if depth is not None and depth < 1:
        raise UsageError("--explain-depth must be at least 1")
    relation = field_relation(field, db)
    roots = sorted({str(t[0]) for t in _tuples(db, "Root")})
    if not roots:
        return diagnose(db)
    plumbing: frozenset[str] = db.program.plumbing
    out: list[str] = []
    for root in roots:
        rows = sorted(
            (t for t in _tuples(db, relation) if str(t[0]) == root
             and (relation != "Extra" or t[1] == field)),
            key=lambda t: tuple(str(v) for v in t),
        )
        if not rows:
            out.append(f"{shorten(root)}: {field}: no value")
            arity = len(db.program.declarations.get(relation, ()))
            pattern = (root, field) if relation == "Extra" else (root,)
            out.extend(why_not(db, relation, pattern + (None,) * (arity - len(pattern))))
            out.append("")
            continue
        for t in rows[:MAX_TUPLES]:
            out.append(f"{shorten(root)}: {field} = {_value_of(relation, t)}")
            d = db.explain(relation, t)
            if d is None:
                out.append("  (no derivation found)")
            elif full:
                out.append(render(d, db=db))
            elif depth is not None:
                out.append(render(d, db=db, plumbing=plumbing, max_depth=depth))
            else:
                out.extend(short(d, db))
        if len(rows) > MAX_TUPLES:
            out.append(f"{shorten(root)}: … and {len(rows) - MAX_TUPLES} more {relation} "
                       "tuples")
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
        out.append(f"  {shorten(fs)} ({shorten(types.get(fs, 'unknown'))}): {state}")

    candidate_relations = sorted(
        name for name in db.relations
        if ("Candidate" in name or "Root" in name) and name != "Root"
    )
    found = {(str(t[0]), str(t[1])): str(t[2]) for t in _tuples(db, "Entry")}
    missing = {(str(t[0]), str(t[1])) for t in _tuples(db, "Missing")}
    listed = {(str(t[0]), str(t[1])) for t in _tuples(db, "Listed")}
    for fs in sorted(mounted):
        out.append("")
        out.append(f"{shorten(fs)}:")
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
                out.append(f"    {shorten(path)}: {shorten(state)}")
            if len(asked) > MAX_WANTS:
                out.append(f"    … and {len(asked) - MAX_WANTS} more")
    return "\n".join(out) + "\n"
