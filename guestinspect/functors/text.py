"""Functors and Python relations for the text rules: parsing only, no decisions.

Every function here turns text into smaller pieces (lines, fields, KEY=value pairs, version
parts, paths). What the pieces mean is decided by the rules in ``rules/``. All of them accept
any input, however hostile (binary garbage, unbalanced quotes, huge files), and then yield
nothing rather than fail; the few that refuse a value (a version number of thousands of
digits) raise ValueError, which the engine reports as a warning naming the rule and skips.

Regular expressions on guest text are RE2's (linear time, ``guestinspect.datalog.runtime``):
no input can make a pattern backtrack.
"""

import posixpath
import re
from collections.abc import Callable, Iterator
from typing import Any

from guestinspect.datalog import PyRelation
from guestinspect.datalog.runtime import regex, regex_text

#: Lines longer than this are not split further (a hostile file cannot make us quadratic).
MAX_LINE = 64 * 1024
#: At most this many lines of a file are looked at.
MAX_LINES = 100_000
#: A version number of more digits than this is refused (ValueError), not converted.
MAX_DIGITS = 18
#: ``zero_pad`` pads to at most this width.
MAX_WIDTH = 64
#: Linux's PATH_MAX: ``PathPrefix`` refuses longer paths.
MAX_PATH = 4096

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_MAJOR_MINOR = regex(r"([0-9]+)\.([0-9]+)")
_MAJOR = regex(r"([0-9]+)")
_OCTAL = re.compile(r"\\([0-7]{3})")


# ---- relations ---------------------------------------------------------------------------


def lines(text: str) -> Iterator[tuple[int, str]]:
    """``Lines(text, n, line)``: each line of ``text`` with its number from 1 (no ``\\r\\n``)."""
    for n, line in enumerate(text.split("\n")[:MAX_LINES], start=1):
        line = line.rstrip("\r")
        if n > 1 or line or "\n" in text:
            yield n, line


def key_value(line: str) -> Iterator[tuple[str, str]]:
    """``KeyValue(line, key, value)``: a shell-style ``KEY=value`` assignment.

    Leading ``export``, blanks around the line and a surrounding pair of quotes are removed;
    backslash escapes inside double quotes are decoded. Comments, blank lines, lines without
    ``=`` and keys that are not names yield nothing.
    """
    if len(line) > MAX_LINE:
        return
    s = line.strip()
    if s.startswith("export "):
        s = s[len("export "):].lstrip()
    if not s or s.startswith("#") or "=" not in s:
        return
    key, value = s.split("=", 1)
    if _KEY.fullmatch(key) is None:
        return
    yield key, unquote(value.strip())


def fields(line: str) -> Iterator[tuple[int, str]]:
    """``Fields(line, n, field)``: the whitespace-separated fields of a line, numbered from 1."""
    if len(line) > MAX_LINE:
        return
    yield from enumerate(line.split(), start=1)


def words(text: str) -> Iterator[tuple[str]]:
    """``Word(text, word)``: each whitespace-separated word of ``text``."""
    if len(text) > MAX_LINE:
        return
    for w in set(text.split()):
        yield (w,)


def _version_number(digits: str) -> int:
    if len(digits) > MAX_DIGITS:
        raise ValueError(f"a version number of {len(digits)} digits")
    return int(digits)


def major_minor(text: str) -> Iterator[tuple[int, int]]:
    """``MajorMinor(text, major, minor)``: the first ``N.M`` in the text, else ``N`` (minor 0).

    Digits are ASCII digits; a number of more than MAX_DIGITS digits is a ValueError."""
    text = regex_text(text[:MAX_LINE])
    m = _MAJOR_MINOR.search(text)
    if m is not None:
        yield _version_number(m.group(1)), _version_number(m.group(2))
        return
    m = _MAJOR.search(text)
    if m is not None:
        yield _version_number(m.group(1)), 0


def regex_groups(pattern: str, text: str) -> Iterator[tuple[str, str]]:
    """``RegexGroups(pattern, text, g1, g2)``: an RE2 search in the first MAX_LINE characters;
    groups 1 and 2, ``""`` if absent. A pattern RE2 rejects is an error (a warning)."""
    m = regex(pattern).search(regex_text(text[:MAX_LINE]))
    if m is None:
        return
    groups = [g or "" for g in m.groups()] + ["", ""]
    yield groups[0], groups[1]


def evr(version: str) -> Iterator[tuple[str, str, str]]:
    """``Evr(text, epoch, version, release)``: ``[epoch:]version[-release]``.

    The epoch ends at the first ``:``, the release starts after the **last** ``-`` (dpkg and
    pacman versions may contain hyphens in the upstream part). Missing parts are ``""``.
    """
    epoch, sep, rest = version.partition(":")
    if not sep:
        epoch, rest = "", version
    upstream, sep, release = rest.rpartition("-")
    if not sep:
        upstream, release = rest, ""
    yield epoch, upstream, release


def path_prefix(path: str) -> Iterator[tuple[str, str]]:
    """``PathPrefix(path, dir, rest)``: each proper ancestor directory of an absolute path
    (not ``/``) with the rest of the path below it: ``/a/b/c`` gives ``(/a, b/c)``, ``(/a/b, c)``.
    A path longer than MAX_PATH is refused (ValueError): the output would be quadratic.
    """
    if len(path) > MAX_PATH:
        raise ValueError(f"a path of {len(path)} characters")
    norm = "/" + "/".join(p for p in path.split("/") if p)
    start = 1
    while (cut := norm.find("/", start)) != -1:
        yield norm[:cut], norm[cut + 1:]
        start = cut + 1


def split_on(text: str, sep: str) -> Iterator[tuple[int, str]]:
    """``SplitOn(text, sep, n, item)``: ``text.split(sep)`` numbered from 1 (``a,b``)."""
    if not sep or len(text) > MAX_LINE:
        return
    yield from enumerate(text.split(sep), start=1)


def path_split(path: str) -> Iterator[tuple[str, str]]:
    """``PathSplit(path, parent, name)``: ``/a/b`` gives ``(/a, b)``, ``/a`` gives ``(/, a)``;
    ``/`` and a relative path give nothing.
    """
    if not path.startswith("/"):
        return
    parent, _, name = path.rstrip("/").rpartition("/")
    if name:
        yield parent or "/", name


def text_block(text: str) -> Iterator[tuple[str, str]]:
    """``FirstLineRest(text, first, rest)``: the first line, and the following lines each with
    one leading space removed (dpkg's ``Description``: summary and long description).
    """
    first, _, rest = text.partition("\n")
    body = [ln[1:] if ln.startswith(" ") else ln for ln in rest.split("\n")] if rest else []
    yield first.rstrip("\r"), "\n".join(body)


# ---- functors ----------------------------------------------------------------------------


def unquote(s: str) -> str:
    """Remove one surrounding pair of matching quotes; decode ``\\x`` inside double quotes.

    An unbalanced quote is left as it is.
    """
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        inner = s[1:-1]
        if s[0] == '"':
            return re.sub(r"\\(.)", r"\1", inner)
        return inner
    return s


def first_line(s: str) -> str:
    """The first line of a text, without its line end, and at most MAX_LINE characters."""
    return s[:MAX_LINE].split("\n", 1)[0].rstrip("\r")


def trim(s: str) -> str:
    return s.strip()


def lower(s: str) -> str:
    return s.lower()


def upper(s: str) -> str:
    return s.upper()


def replace(s: str, old: str, new: str) -> str:
    return s.replace(old, new) if old else s


def canonical_path(p: str) -> str:
    """``///usr//local//`` -> ``/usr/local``; ``.`` and ``..`` are resolved; always absolute."""
    out = posixpath.normpath("/" + p)
    return "/" + out.lstrip("/")


def path_resolve(link: str, target: str) -> str:
    """The absolute path a symlink at ``link`` points to (within the same tree)."""
    if target.startswith("/"):
        return canonical_path(target)
    return canonical_path(posixpath.join(posixpath.dirname(link), target))


def path_join(directory: str, rest: str) -> str:
    return canonical_path(directory + "/" + rest)


def dirname(p: str) -> str:
    return posixpath.dirname(p) or "/"


def basename(p: str) -> str:
    return posixpath.basename(p)


def unescape_octal(s: str) -> str:
    """fstab's octal escapes: ``\\040`` is a space."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), s)


def hex_reverse(s: str) -> str:
    """Reverse the byte order of a hex string (``78563412`` -> ``12345678``)."""
    return "".join(s[i:i + 2] for i in range(len(s) - 2, -1, -2)) if len(s) % 2 == 0 else s


def disk_index(letters: str) -> int:
    """``a`` -> 0, ``z`` -> 25, ``aa`` -> 26: the disk letters of ``/dev/sdXX`` as an index."""
    n = 0
    for c in letters.lower():
        if not "a" <= c <= "z":
            return -1
        n = n * 26 + (ord(c) - ord("a") + 1)
    return n - 1


def hex_digits(s: str) -> str:
    """Only the hex digits of a text, lowercased (md UUIDs: ``a:b-c`` -> ``abc``)."""
    return "".join(c for c in s.lower() if c in "0123456789abcdef")


def zero_pad2(n: int) -> str:
    """A number as at least two digits (osinfo ids: ``ubuntu10.04``)."""
    return f"{n:02d}"


def zero_pad(s: str, width: int) -> str:
    """A decimal text left-padded with zeros to ``width`` (so that texts sort as numbers);
    any other text is returned as it is. The width is at most MAX_WIDTH."""
    return s.rjust(min(width, MAX_WIDTH), "0") if s.isascii() and s.isdigit() else s


FUNCTORS: dict[str, Callable[..., Any]] = {
    "unquote": unquote,
    "first_line": first_line,
    "trim": trim,
    "lower": lower,
    "upper": upper,
    "replace": replace,
    "canonical_path": canonical_path,
    "path_resolve": path_resolve,
    "path_join": path_join,
    "dirname": dirname,
    "basename": basename,
    "unescape_octal": unescape_octal,
    "hex_reverse": hex_reverse,
    "zero_pad2": zero_pad2,
    "zero_pad": zero_pad,
    "disk_index": disk_index,
    "hex_digits": hex_digits,
}

RELATIONS: dict[str, PyRelation] = {
    "Lines": PyRelation(lines, "bff"),
    "KeyValue": PyRelation(key_value, "bff"),
    "Fields": PyRelation(fields, "bff"),
    "Word": PyRelation(words, "bf"),
    "MajorMinor": PyRelation(major_minor, "bff"),
    "RegexGroups": PyRelation(regex_groups, "bbff", patterns=(0,)),
    "Evr": PyRelation(evr, "bfff"),
    "PathPrefix": PyRelation(path_prefix, "bff"),
    "PathSplit": PyRelation(path_split, "bff"),
    "SplitOn": PyRelation(split_on, "bbff"),
    "FirstLineRest": PyRelation(text_block, "bff"),
}
