"""Package version comparison, as dpkg and rpm order versions (``@version_cmp``).

``version_cmp(kind, a, b)`` is -1, 0 or 1 as ``a`` sorts before, equal to or after ``b``
under the rules of ``kind``:

``dpkg`` (Debian's ``[epoch:]upstream[-revision]``)
    The epoch (digits before the first ``:``, 0 if absent) compares as a number; then the
    upstream version (up to the last ``-``) and the revision (after it, ``""`` if absent) each
    compare as alternating runs of non-digits and digits. Non-digit runs compare character by
    character, where ``~`` sorts before everything, even the end of the run, letters before
    all other characters, and the others by their code; digit runs compare as numbers.
    So ``1.0~rc1 < 1.0 < 1.0a < 1.0+b1 < 1.0.1``, and ``1.0 == 1.0-0``.

``rpm`` (``[epoch:]version[-release]``, compared as ``rpmvercmp`` does)
    The epoch (0 if absent) compares as a number, then the version, then the release, only
    when both sides have one (as in rpm, ``1.0`` matches any release of 1.0). Each part is
    split into runs of ASCII letters and of digits; every other character only separates
    runs. Digit runs compare as numbers and beat letter runs; letter runs compare as text;
    ``~`` sorts before everything (also the end), ``^`` after the end but before anything
    else. So ``1.0~rc1 < 1.0 < 1.0^git1 < 1.0.1``, and ``1.0a < 1.0.1`` (a number beats
    letters), but ``1.0 < 1.0a`` (a part left over wins).

Both run in time linear in the length of the versions; versions longer than MAX_VERSION
characters are refused (ValueError: the engine skips the tuple and warns).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Longer versions are refused (real ones are a few dozen characters).
MAX_VERSION = 1024


def _check(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(f"a version is a text, not {type(v).__name__}")
    if len(v) > MAX_VERSION:
        raise ValueError(f"a version of {len(v)} characters (at most {MAX_VERSION})")
    return v


def _digit(c: str) -> bool:
    return "0" <= c <= "9"


def _alpha(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z"


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


def _numbers(a: str, b: str) -> int:
    """Compare two runs of ASCII digits as numbers (no conversion: any length, linear)."""
    a = a.lstrip("0")
    b = b.lstrip("0")
    if len(a) != len(b):
        return _sign(len(a) - len(b))
    return _sign((a > b) - (a < b))


def _epoch(v: str, kind: str) -> tuple[str, str]:
    """(epoch digits, the rest); epoch "0" if there is none."""
    head, colon, rest = v.partition(":")
    if not colon:
        return "0", v
    if head.isascii() and head.isdigit():
        return head, rest
    if kind == "rpm":  # rpm: a prefix that is not all digits is no epoch
        return "0", v
    raise ValueError(f"dpkg version {v[:80]!r}: the epoch is not a number")


# ---- dpkg -------------------------------------------------------------------------------


def _dpkg_order(c: str) -> int:
    """The weight of one character in a non-digit run ("" is the end of the run)."""
    if not c or _digit(c):
        return 0
    if _alpha(c):
        return ord(c)
    if c == "~":
        return -1
    return ord(c) + 256


def _dpkg_part(a: str, b: str) -> int:
    """dpkg's comparison of two upstream versions or two revisions."""
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        while (i < la and not _digit(a[i])) or (j < lb and not _digit(b[j])):
            ca = _dpkg_order(a[i] if i < la else "")
            cb = _dpkg_order(b[j] if j < lb else "")
            if ca != cb:
                return _sign(ca - cb)
            i += 1
            j += 1
        si = i
        while i < la and _digit(a[i]):
            i += 1
        sj = j
        while j < lb and _digit(b[j]):
            j += 1
        r = _numbers(a[si:i], b[sj:j])
        if r:
            return r
    return 0


def dpkg_cmp(a: str, b: str) -> int:
    """-1, 0 or 1: ``a`` before, equal to or after ``b`` in dpkg's order."""
    a, b = _check(a).strip(), _check(b).strip()
    for v in (a, b):
        if not v:
            raise ValueError("an empty dpkg version")
        if any(c.isspace() for c in v):
            raise ValueError(f"dpkg version {v[:80]!r} has spaces inside")
    ea, ra = _epoch(a, "dpkg")
    eb, rb = _epoch(b, "dpkg")
    r = _numbers(ea, eb)
    if r:
        return r
    ua, _, va = ra.rpartition("-") if "-" in ra else (ra, "", "")
    ub, _, vb = rb.rpartition("-") if "-" in rb else (rb, "", "")
    return _dpkg_part(ua, ub) or _dpkg_part(va, vb)


# ---- rpm --------------------------------------------------------------------------------


def _rpm_skip(s: str, i: int) -> int:
    """The index past the separators from ``i`` (all but letters, digits, ``~`` and ``^``)."""
    while i < len(s) and not (_digit(s[i]) or _alpha(s[i]) or s[i] in "~^"):
        i += 1
    return i


def _rpm_marks(ca: str, cb: str) -> int | None:
    """The order a ``~`` or ``^`` at the current characters gives (0: the same mark on both
    sides, go on past it); None when neither is one."""
    if ca == "~" or cb == "~":  # before everything, the end included
        if ca != "~":
            return 1
        return -1 if cb != "~" else 0
    if ca == "^" or cb == "^":  # after the end, before anything else
        if not ca:
            return -1
        if not cb or ca != "^":
            return 1
        return -1 if cb != "^" else 0
    return None


def _rpm_segment(a: str, i: int, b: str, j: int) -> tuple[int, int, int]:
    """Compare the runs of digits (or of letters, as ``a[i]`` is) at ``a[i:]`` and ``b[j:]``:
    the order, and the indexes past both runs."""
    run: Callable[[str], bool] = _digit if _digit(a[i]) else _alpha
    si, sj = i, j
    while i < len(a) and run(a[i]):
        i += 1
    while j < len(b) and run(b[j]):
        j += 1
    if sj == j:  # a number against letters: the number is newer
        return (1 if run is _digit else -1), i, j
    if run is _digit:
        return _numbers(a[si:i], b[sj:j]), i, j
    x, y = a[si:i], b[sj:j]
    return (x > y) - (x < y), i, j


def rpmvercmp(a: str, b: str) -> int:
    """rpm's comparison of two versions or two releases (``rpmvercmp``)."""
    if a == b:
        return 0
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        i, j = _rpm_skip(a, i), _rpm_skip(b, j)
        ca = a[i] if i < la else ""
        cb = b[j] if j < lb else ""
        mark = _rpm_marks(ca, cb)
        if mark is not None:
            if mark:
                return mark
            i += 1
            j += 1
            continue
        if not (ca and cb):
            break
        r, i, j = _rpm_segment(a, i, b, j)
        if r:
            return r
    if i >= la and j >= lb:
        return 0
    return -1 if i >= la else 1


def rpm_cmp(a: str, b: str) -> int:
    """-1, 0 or 1: ``[epoch:]version[-release]`` ``a`` against ``b`` in rpm's order."""
    ea, ra = _epoch(_check(a), "rpm")
    eb, rb = _epoch(_check(b), "rpm")
    r = _numbers(ea, eb)
    if r:
        return r
    va, dash_a, rel_a = ra.rpartition("-") if "-" in ra else (ra, "", "")
    vb, dash_b, rel_b = rb.rpartition("-") if "-" in rb else (rb, "", "")
    r = rpmvercmp(va, vb)
    if r or not (dash_a and dash_b):
        return r
    return rpmvercmp(rel_a, rel_b)


_KINDS: dict[str, Callable[[str, str], int]] = {"dpkg": dpkg_cmp, "rpm": rpm_cmp}


def version_cmp(kind: str, a: str, b: str) -> int:
    """``@version_cmp(kind, a, b)``: -1, 0 or 1; ``kind`` is ``dpkg`` or ``rpm``."""
    fn = _KINDS.get(kind)
    if fn is None:
        raise ValueError(f"version_cmp: unknown kind {str(kind)[:40]!r} (dpkg or rpm)")
    return fn(a, b)


FUNCTORS: dict[str, Callable[..., Any]] = {"version_cmp": version_cmp}
