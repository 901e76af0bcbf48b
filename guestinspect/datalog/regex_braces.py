"""The braces of a regular expression as Soufflé's dialect reads them.

Soufflé matches with C++'s ``std::regex`` (ECMAScript), which rejects a ``{`` that does not
start a repetition ``{n}``, ``{n,}`` or ``{n,m}``; RE2 reads such a brace as literal text. So
that a pattern means the same here as there, :func:`brace_problem` finds such a brace (one pass
over the pattern, linear time) and the pattern is then invalid: a warning and no match.
"""

from __future__ import annotations

import re

_REPETITION = re.compile(r"\{[0-9]+(?:,[0-9]*)?\}")
_MAX_CLASS_NAME = 16  # "[:alnum:]" and the like: a name of a few letters


def _class_end(pattern: str, i: int) -> int:
    """The index just past the character class opening at ``pattern[i]`` (``[``), or
    ``len(pattern)`` if it is not closed (RE2 reports that)."""
    n = len(pattern)
    i += 1
    if i < n and pattern[i] == "^":
        i += 1
    if i < n and pattern[i] == "]":  # a leading ']' is literal
        i += 1
    while i < n and pattern[i] != "]":
        if pattern[i] == "\\":
            i += 2
        elif pattern.startswith("[:", i):
            close = pattern.find(":]", i + 2, i + _MAX_CLASS_NAME)  # bounded: linear
            i = close + 2 if close >= 0 else i + 1
        else:
            i += 1
    return i + 1


def brace_problem(pattern: str) -> str | None:
    """Why ``std::regex`` rejects a brace of ``pattern`` that RE2 accepts, or None."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
        elif c == "[":
            i = _class_end(pattern, i)
        elif c == "{":
            m = _REPETITION.match(pattern, i)
            if m is None:
                return (f"'{{' at offset {i} does not start a repetition {{n}}, {{n,}} or "
                        "{n,m} (C++ std::regex rejects it)")
            i = m.end()
        else:
            i += 1
    return None
