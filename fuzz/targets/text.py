"""The text functors and Python relations (functors/text.py), the engine's conversions and
regular expressions (datalog/runtime.py) and the XML and JSON writers, on hostile text.

Guest bytes are decoded with ``surrogateescape`` (lone surrogates included). The functors may
raise only ValueError (the engine turns it into a warning and skips the tuple); the writers
may raise nothing, and their output must parse (lxml, json).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from lxml import etree

from fuzz.targets import target
from guestinspect.datalog import Database
from guestinspect.datalog import runtime as rt
from guestinspect.datalog.ir import AtomLit, ConstraintLit
from guestinspect.datalog.regex_braces import brace_problem as regex_braces_problem
from guestinspect.datalog.syntax import Const
from guestinspect.functors import text
from guestinspect.reporting.json import to_json
from guestinspect.reporting.xml import to_xml

_OS_RELEASE = b"""NAME="Fedora Linux"
VERSION="39 (Thirty Nine)"
ID=fedora
VERSION_ID=39
PRETTY_NAME='Fedora Linux 39'
export HOME_URL="https://fedoraproject.org/\\"x\\""
# a comment
"""
_FSTAB = b"""UUID=0a1b-2c3d /boot vfat defaults 0 2
/dev/mapper/vg-root / ext4 defaults 0 1
LABEL=my\\040disk /mnt/my\\040disk ext4 rw 0 0
/dev/ada0p2 none swap sw 0 0
"""
_RELEASE = b"CentOS release 6.10 (Final)\nCentOS Linux release 7.9.2009 (Core)\n" \
    b"Red Hat Enterprise Linux Server release 5.11 (Tikanga) Update 11\n"


def _seeds() -> list[bytes]:
    return [_OS_RELEASE, _FSTAB, _RELEASE, b"1:2.3-4.fc39", b"/usr/lib/../lib64//x",
            b"78563412", b"sdab", b"a\\101b \"quoted\\\" text\"", b"9" * 5000,
            b"\xff\xfe\x00invalid utf-8 \xc3(\n\r\n", b"V7Update6"]


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _two(data: bytes) -> tuple[str, str]:
    """Two texts from one input: split at the first NUL (or the middle)."""
    a, sep, b = data.partition(b"\0")
    if not sep:
        a, b = data[: len(data) // 2], data[len(data) // 2:]
    return _text(a), _text(b)


@target("text.relations", _seeds, expected=(ValueError,))
def relations(data: bytes) -> None:
    s = _text(data)
    for name, relation in text.RELATIONS.items():
        if name in ("RegexGroups", "SplitOn"):
            continue
        for row in relation.fn(s):
            assert isinstance(row, tuple) and len(row) == relation.modes.count("f"), name
    a, b = _two(data)
    for row in text.split_on(a, b[:4]):
        assert isinstance(row[1], str)
    for _n, line in text.lines(s):
        for _key, value in text.key_value(line):
            assert isinstance(value, str)
        for _i, field in text.fields(line):
            assert field.strip() == field


@target("text.functors", _seeds, expected=(ValueError,))
def functors(data: bytes) -> None:
    s = _text(data)
    a, b = _two(data)
    width = data[0] if data else 0
    for fn in (text.unquote, text.first_line, text.trim, text.lower, text.upper,
               text.canonical_path, text.dirname, text.basename, text.unescape_octal,
               text.hex_reverse, text.hex_digits):
        assert isinstance(fn(s), str)
    assert text.canonical_path(s).startswith("/")
    assert isinstance(text.path_resolve(a, b), str) and isinstance(text.path_join(a, b), str)
    assert isinstance(text.replace(s, a[:3], b[:3]), str)
    assert len(text.zero_pad(a, width)) >= len(a)
    assert text.zero_pad2(width) == f"{width:02d}"
    assert text.disk_index(a) >= -1


@target("text.conversions", _seeds, expected=(ValueError,))
def conversions(data: bytes) -> None:
    """The engine's built-ins on guest text; a computed pattern from guest text too."""
    s = _text(data)
    for fn in (rt.to_number, rt.to_float):
        try:
            fn(s)
        except rt.EvaluationError:
            pass
    assert rt.ord_(s) >= 0
    try:
        rt.substr(s, len(data) % 7, len(data) % 11)
    except rt.EvaluationError:
        pass
    a, b = _two(data)
    rt.match(a[:200], b)  # RE2 rejects some patterns: ValueError


def _brace_seeds() -> list[bytes]:
    return [b"fo{2}b.*", b"fo{x}b.*", b"a{2,}[{]\\{[[:digit:]{]+", b"x{1,3}{", *_seeds()]


@target("text.regex_braces", _brace_seeds, expected=())
def regex_braces(data: bytes) -> None:
    """The scan for a '{' std::regex rejects: never raises, and finds one only where a '{' is."""
    s = _text(data)
    problem = regex_braces_problem(s)
    assert problem is None or "{" in s


@functools.cache
def _rule_patterns() -> tuple[list[str], list[str]]:
    """The shipped rules' constant patterns: (for match, for RegexGroups)."""
    from guestinspect.inspection.driver import load_program

    program = load_program()
    matches: set[str] = set()
    groups: set[str] = set()
    for rule in program.rules:
        for lit in rule.body:
            if isinstance(lit, ConstraintLit) and lit.name == "match":
                if isinstance(lit.args[0], Const):
                    matches.add(str(lit.args[0].value))
            elif isinstance(lit, AtomLit) and lit.relation == "RegexGroups":
                if isinstance(lit.args[0], Const):
                    groups.add(str(lit.args[0].value))
    db = Database(program)
    db.run()
    groups |= {str(t[-1]) for t in db.tuples("ReleaseFile") if t[-1]}
    return sorted(matches), sorted(groups)


def _pattern_seeds() -> list[bytes]:
    _rule_patterns()  # load the rules before the cases start (the worker calls this first)
    return _seeds() + [b"/dev/disk/by-id/ata-x-part3", b"/dev/ada0s1a", b"Windows 10 Pro",
                       b"UUID=0a1b-2c3d", b"ubuntu-22.04"]


@target("text.regex", _pattern_seeds, expected=(), max_len=4096)
def patterns(data: bytes) -> None:
    """Every pattern of the shipped rules (RE2) on hostile text: no error, no slow case."""
    s = _text(data)
    matches, groups = _rule_patterns()
    for p in matches:
        assert rt.match(p, s) != rt.not_match(p, s)
    for p in groups:
        for g1, g2 in text.regex_groups(p, s):
            assert isinstance(g1, str) and isinstance(g2, str)


def _inspection(data: bytes) -> list[dict[str, Any]]:
    parts = [_text(p) for p in data.split(b"\0")] + [""] * 8
    return [{
        "root": parts[0], "name": "linux", "arch": parts[1], "distro": parts[2],
        "product_name": parts[3], "major_version": len(parts[4]), "minor_version": 0,
        "package_format": "rpm", "package_management": "dnf", "hostname": parts[5],
        "osinfo": parts[6],
        "mountpoints": [{"path": parts[7], "dev": parts[0]}, {"path": "/", "dev": parts[1]}],
        "filesystems": [{"dev": parts[0], "type": parts[2], "label": parts[3], "uuid": ""}],
        "applications": [{"name": parts[4], "epoch": 1, "version": parts[5],
                          "release": parts[6], "arch": parts[1], "url": parts[7],
                          "description": parts[3]}],
        parts[2][:20] or "extra": parts[3],
    }]


@target("text.writers", _seeds, expected=())
def writers(data: bytes) -> None:
    """The XML and JSON writers: any guest text gives a document that parses."""
    inspections = _inspection(data)
    xml = to_xml(inspections)
    doc = etree.fromstring(xml.encode("utf-8"))
    assert doc.tag == "operatingsystems"
    for ascii_only in (False, True):
        back = json.loads(to_json(inspections, ensure_ascii=ascii_only).encode("utf-8"))
        assert back[0]["name"] == "linux"
