"""Functions that compiled rules call for Soufflé's operators and built-in functors."""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

_REGEXES: dict[str, re.Pattern[str] | None] = {}


class EvaluationError(Exception):
    """A run-time error in a rule (division by zero, a bad conversion, ...)."""


def div(a: Any, b: Any) -> Any:
    if b == 0:
        raise EvaluationError("division by zero")
    if isinstance(a, int) and isinstance(b, int):
        q = abs(a) // abs(b)
        return q if (a < 0) == (b < 0) else -q
    return a / b


def mod(a: Any, b: Any) -> Any:
    if b == 0:
        raise EvaluationError("modulo by zero")
    if isinstance(a, int) and isinstance(b, int):
        return a - b * div(a, b)
    return math.fmod(a, b)


def power(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        return a**b if b >= 0 else 0 if abs(a) != 1 else a**b
    return float(a) ** b


def shru(a: int, b: int) -> int:
    """Logical shift right in Soufflé's default 32-bit domain."""
    return (a & 0xFFFFFFFF) >> b


def land(a: Any, b: Any) -> int:
    return 1 if a and b else 0


def lor(a: Any, b: Any) -> int:
    return 1 if a or b else 0


def lxor(a: Any, b: Any) -> int:
    return 1 if bool(a) != bool(b) else 0


def lnot(a: Any) -> int:
    return 0 if a else 1


def substr(s: str, start: int, length: int) -> str:
    if start < 0 or start > len(s) or length < 0:
        raise EvaluationError(f"substr: index {start} length {length} out of range for "
                              f"a string of length {len(s)}")
    return s[start : start + length]


def ord_(s: str) -> int:
    return ord(s[0]) if s else 0


def to_number(s: Any) -> int:
    if not isinstance(s, str):
        return int(s)
    try:
        return int(s.strip(), 0) if s.strip().lower().startswith(("0x", "0b")) else int(s)
    except ValueError:
        raise EvaluationError(f"to_number: {s!r} is not a number") from None


def to_float(s: Any) -> float:
    if not isinstance(s, str):
        return float(s)
    try:
        return float(s)
    except ValueError:
        raise EvaluationError(f"to_float: {s!r} is not a number") from None


def to_string(n: Any) -> str:
    if isinstance(n, float):
        return f"{n:g}"
    return str(n)


def ftoi(x: Any) -> int:
    return int(x)


class RegexWarning(UserWarning):
    """A ``match`` pattern that is not a valid (std::regex ECMAScript) regular expression."""


def _regex(pattern: str) -> re.Pattern[str] | None:
    rx = _REGEXES.get(pattern, False)
    if rx is False:
        problem = ecmascript_problem(pattern)
        rx = None
        if problem is None:
            try:
                rx = re.compile(_posix_classes(pattern))
            except re.error as e:
                problem = str(e)
        if rx is None:  # like Soufflé: a warning, and the constraint is false
            warnings.warn(f'wrong pattern provided "{pattern}": {problem}', RegexWarning,
                          stacklevel=2)
        _REGEXES[pattern] = rx
    return rx  # type: ignore[return-value]


def match(pattern: str, s: str) -> bool:
    rx = _regex(pattern)
    return rx is not None and rx.fullmatch(s) is not None


def not_match(pattern: str, s: str) -> bool:
    """``!match``: false too when the pattern is invalid (as in Soufflé)."""
    rx = _regex(pattern)
    return rx is not None and rx.fullmatch(s) is None


_QUANTIFIER = re.compile(r"\{\d+(,\d*)?\}")


def ecmascript_problem(pattern: str) -> str | None:
    """Why std::regex (ECMAScript grammar) rejects a pattern that Python's ``re`` accepts
    with another meaning, or None: a ``{`` that does not start a ``{n}``, ``{n,}`` or ``{n,m}``
    quantifier, Python-only groups ``(?P…)``, ``(?<…)``, ``(?>…)``, ``(?#…)``, inline flags,
    and possessive quantifiers (``a*+``)."""
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "[" and pattern.startswith("[:", i):
                j = pattern.find(":]", i + 2)
                i = j + 2 if j >= 0 else i + 1
                continue
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern.startswith("[^", i):
                i += 1
        elif c == "{":
            m = _QUANTIFIER.match(pattern, i)
            if m is None:
                return f"'{{' at offset {i} is not a quantifier"
            i = m.end()
            if i < n and pattern[i] == "+":
                return f"possessive quantifier at offset {i}"
            continue
        elif c == "(" and pattern.startswith("(?", i) and not pattern.startswith(
                ("(?:", "(?=", "(?!"), i):
            return f"group '{pattern[i:i + 3]}' at offset {i}"
        elif c in "*+?" and pattern.startswith("+", i + 1):
            return f"possessive quantifier at offset {i}"
        i += 1
    return None


_POSIX = {"[:digit:]": "0-9", "[:alpha:]": "a-zA-Z", "[:alnum:]": "a-zA-Z0-9",
          "[:upper:]": "A-Z", "[:lower:]": "a-z", "[:space:]": r"\s", "[:xdigit:]": "0-9a-fA-F",
          "[:punct:]": r"!-/:-@\[-`{-~", "[:blank:]": r" \t", "[:word:]": r"\w"}


def _posix_classes(pattern: str) -> str:
    """Rewrite POSIX bracket classes (``[[:digit:]]``), which ECMAScript regexes allow."""
    if "[:" in pattern:
        for k, v in _POSIX.items():
            pattern = pattern.replace(k, v)
    return pattern


HELPERS: dict[str, Any] = {
    "_div": div, "_mod": mod, "_pow": power, "_shru": shru, "_land": land, "_lor": lor,
    "_lxor": lxor, "_lnot": lnot, "_substr": substr, "_ord": ord_, "_to_number": to_number,
    "_to_float": to_float, "_to_string": to_string, "_ftoi": ftoi, "_match": match,
    "_not_match": not_match,
}
