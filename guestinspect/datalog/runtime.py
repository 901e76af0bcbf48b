"""Functions that compiled rules call for Soufflé's operators and built-in functors (the
table :mod:`.functors` says which function is which functor), and their failure guards."""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from .errors import DatalogError
from .failures import FailureLog
from .regex_braces import brace_problem

#: Numbers from ``to_number`` are in Soufflé's 64-bit domain; more is a failure.
MAX_NUMBER = 2**63
#: Shifts and powers that would need more bits than this fail (no runaway integers).
MAX_BITS = 65536


class EvaluationError(ValueError):
    """A run-time error in a rule (division by zero, a bad conversion, ...)."""


#: Delta tuples looked at to decide whether grouping a delta by its join key pays.
GROUP_SAMPLE = 1024


def grouped(rows: Iterable[tuple[Any, ...]], cols: tuple[int, ...]) -> bool:
    """Whether the first ``GROUP_SAMPLE`` rows have at least two per key (``cols``) on
    average: then a rule runs the rest of its body once per key (codegen.pass_through).
    (Of a larger delta, the sample has fewer per key than the whole: the answer errs on the
    side of not grouping.)"""
    sample = list(itertools.islice(rows, GROUP_SAMPLE))
    if len(cols) == 1:
        c = cols[0]
        keys = len({t[c] for t in sample})
    else:
        keys = len({tuple([t[c] for c in cols]) for t in sample})
    return len(sample) >= 2 * keys


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
        if abs(a) > 1 and b > 0 and b * a.bit_length() > MAX_BITS:
            raise EvaluationError(f"power: {a} ^ {b} is too large")
        return a**b if b >= 0 else 0 if abs(a) != 1 else a**b
    return float(a) ** b


def shl(a: int, b: int) -> int:
    if b < 0 or b > MAX_BITS:
        raise EvaluationError(f"shift count {b} out of range")
    return a << b


def shr(a: int, b: int) -> int:
    if b < 0:
        raise EvaluationError(f"shift count {b} out of range")
    return a >> b


def shru(a: int, b: int) -> int:
    """Logical shift right in Soufflé's default 32-bit domain."""
    if b < 0:
        raise EvaluationError(f"shift count {b} out of range")
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
    """A decimal (or ``0x``/``0b``) text as a number; EvaluationError for anything else, and
    for a number outside the 64-bit domain (a guest's text of thousands of digits)."""
    if not isinstance(s, str):
        n = int(s)
    else:
        t = s.strip()
        if len(t) > 80:  # no 64-bit number is that long (and int() refuses 4,300 digits)
            raise EvaluationError(f"to_number: a text of {len(t)} characters is no number")
        try:
            n = int(t, 0) if t.lower().startswith(("0x", "0b")) else int(s)
        except ValueError:
            raise EvaluationError(f"to_number: {s!r} is not a number") from None
    if not -MAX_NUMBER <= n < 2 * MAX_NUMBER:
        raise EvaluationError(f"to_number: {n} is outside the 64-bit range")
    return n


def to_float(s: Any) -> float:
    if not isinstance(s, str):
        return float(s)
    try:
        return float(s)
    except ValueError:
        raise EvaluationError(f"to_float: {s!r} is not a number") from None


def to_string(n: Any) -> str:
    """A number as text (ValueError for an integer of over 4,300 digits: a failure)."""
    if isinstance(n, float):
        return f"{n:f}"  # as Soufflé (C++'s std::to_string): six decimals
    return str(n)


def ftoi(x: Any) -> int:
    return int(x)


# ---- regular expressions: RE2 ------------------------------------------------------------

@functools.cache
def _re2() -> tuple[Any, Any, Any]:
    """The re2 module, our options and the anchor of a whole match for :func:`fullmatches`
    (None if the module has none), imported when a first pattern is compiled (a program
    without ``match`` does not pay for the import)."""
    import re2

    options = re2.Options()
    options.log_errors = False  # a bad pattern is our error to report, not a line on stderr
    anchor = getattr(getattr(re2, "_Anchor", None), "ANCHOR_BOTH", None)
    return re2, options, anchor


_SURROGATES = re.compile("[\ud800-\udfff]")


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> tuple[Any, str | None]:
    re2, options, _ = _re2()
    try:
        compiled = re2.compile(pattern, options)
    except re2.error as e:
        reason = e.args[0] if e.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return None, str(reason)
    except UnicodeEncodeError:
        return None, "the pattern is not valid Unicode (a lone surrogate)"
    problem = brace_problem(pattern)  # RE2 takes it, but std::regex, Soufflé's, does not
    return (compiled, None) if problem is None else (None, problem)


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is invalid (RE2 rejects it: a backreference, a lookaround ...; or a
    brace C++'s std::regex rejects), or None."""
    return _compiled(pattern)[1]


def regex(pattern: str) -> Any:
    """The compiled RE2 pattern; EvaluationError if RE2 rejects it."""
    rx, problem = _compiled(pattern)
    if rx is None:
        raise EvaluationError(f'invalid regular expression "{pattern}": {problem}')
    return rx


def regex_text(s: str) -> str:
    """``s`` as RE2 can take it: lone surrogates (undecodable guest bytes) become U+FFFD."""
    if s.isascii():
        return s
    return _SURROGATES.sub("\ufffd", s)


def fullmatches(rx: Any, s: str) -> bool:
    """Whether the whole of ``s`` matches the compiled pattern ``rx``: RE2's own match, without
    the re2 module's generator, offset decoding and match object (a yes or no needs none of
    them; several times faster); ``rx.fullmatch`` if that module has no such inner matcher."""
    inner = getattr(rx, "_regexp", None)
    anchor = _re2()[2]
    if inner is None or anchor is None:
        return rx.fullmatch(s) is not None
    data = s.encode("utf-8")
    return bool(inner.Match(anchor, data, 0, len(data))[0] != (-1, -1))


def match(pattern: str, s: str) -> bool:
    """``match(pattern, s)``: the whole of ``s`` matches (RE2, linear time)."""
    return fullmatches(regex(pattern), regex_text(s))


def not_match(pattern: str, s: str) -> bool:
    """``!match``: an invalid pattern is a failure too, not a true."""
    return not fullmatches(regex(pattern), regex_text(s))


# ---- failures ----------------------------------------------------------------------------

FAIL = object()
"""What a guarded call returns when the call raised (the tuple is then skipped)."""


def guard(fn: Callable[..., Any], rule: str, name: str,
          log: FailureLog) -> Callable[..., Any]:
    """``fn`` that returns FAIL, and records the failure, instead of raising."""

    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except DatalogError:
            raise
        except Exception as e:  # any error of a functor on a value
            log.record(rule, name, args, e)
            return FAIL

    return call


def guard_relation(fn: Callable[..., Iterable[tuple[Any, ...]]], rule: str, name: str,
                   log: FailureLog, memo: dict[tuple[Any, ...], list[tuple[Any, ...]]] | None
                   = None) -> Callable[..., list[tuple[Any, ...]] | None]:
    """A Python relation whose tuples are read at once: None, and a recorded failure, if it
    raised on the way (none of its tuples are used then). With ``memo`` (one database's, for
    one Python relation: its rules share it), the tuples of each arguments are kept there and
    a second call with the same arguments reads them (a Python relation is a function of its
    arguments); a failure is not kept: a second call fails and records it again."""

    def call(*args: Any) -> list[tuple[Any, ...]] | None:
        try:
            return list(fn(*args))
        except DatalogError:
            raise
        except Exception as e:  # any error of a Python relation on a value
            log.record(rule, name, args, e)
            return None

    if memo is None:
        return call
    known = memo.get

    def remembered(*args: Any) -> list[tuple[Any, ...]] | None:
        rows = known(args)
        if rows is None:
            rows = call(*args)
            if rows is not None:
                memo[args] = rows
        return rows

    return remembered
