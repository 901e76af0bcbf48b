"""@version_cmp: dpkg's and rpm's version orders (guestinspect/functors/versions.py).

The cases are the well-known tricky ones (the ``~`` and ``^`` rules, epochs, leading zeros,
separators, letters against numbers), checked both ways round, and through a rule."""

import time

import pytest

from guestinspect.datalog import Database, DatalogError, Program
from guestinspect.functors import FUNCTORS, RELATIONS
from guestinspect.functors.versions import MAX_VERSION, dpkg_cmp, rpm_cmp, version_cmp

DPKG = [
    ("1.0", "1.0", 0),
    ("1.0", "1.0-0", 0),          # no revision is revision "" which equals "0"
    ("0:1.0", "1.0", 0),          # no epoch is epoch 0
    ("1.0", "1.1", -1),
    ("0.9", "0.10", -1),          # digit runs are numbers
    ("1.01", "1.1", 0),           # leading zeros do not count
    ("1.0.0", "1.0", 1),          # anything left over (not ~) wins
    ("1:0.1", "2.0", 1),          # the epoch first
    ("2:0.1", "10:0.1", -1),      # epochs are numbers
    ("1.0~rc1", "1.0", -1),       # ~ before the end
    ("1.0~rc1", "1.0~rc2", -1),
    ("1.0~~", "1.0~~a", -1),      # Debian policy's example: ~~ < ~~a < ~ < "" < a
    ("1.0~~a", "1.0~", -1),
    ("1.0~", "1.0", -1),
    ("1.0", "1.0a", -1),
    ("1.0a", "1.0+", -1),         # letters before other characters
    ("1.0+b1", "1.0.1", -1),      # '+' before '.'
    ("1.0-1", "1.0-2", -1),       # the revision
    ("1.0-1~bpo1", "1.0-1", -1),
    ("1.0-1", "1.0-1+deb12u1", -1),
    ("1.2-3-4", "1.2-3-5", -1),   # the revision is after the last hyphen
    ("1.2-3-4", "1.2-4-1", -1),   # upstream 1.2-3 < 1.2-4
    ("3.0.11-1~deb12u2", "3.0.13-1~deb12u1", -1),
    ("1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1", 0),
    ("0.9.8", "1.0.0", -1),
    (" 1.0 ", "1.0", 0),          # surrounding blanks are ignored, as dpkg does
]

RPM = [
    ("1.0", "1.0", 0),
    ("1.0", "2.0", -1),
    ("2.0.1", "2.0", 1),
    ("2.0.1a", "2.0.1", 1),
    ("5.5p1", "5.5p2", -1),
    ("5.5p10", "5.5p1", 1),
    ("10xyz", "10.1xyz", -1),
    ("xyz10", "xyz10.1", -1),
    ("xyz.4", "8", -1),           # letters against a number: the number is newer
    ("8", "xyz.4", 1),
    ("6.0.rc1", "6.0", 1),        # unlike dpkg's ~, a letter part left over wins
    ("10b2", "10a1", 1),
    ("1.0aa", "1.0a", 1),
    ("10.0001", "10.1", 0),       # leading zeros
    ("10.0001", "10.0039", -1),
    ("4.999.9", "5.0", -1),
    ("20101121", "20101121", 0),
    ("2_0", "2.0", 0),            # every separator is the same
    ("+_", "_+", 0),
    ("1b.fc17", "1.fc17", -1),
    ("1.0a", "1.0.1", -1),        # letters lose against a number in the same place
    ("1.0~rc1", "1.0", -1),       # ~ before everything, the end included
    ("1.0~rc1", "1.0~rc2", -1),
    ("1.0~rc1~git123", "1.0~rc1", -1),
    ("1.0^", "1.0", 1),           # ^ after the end ...
    ("1.0^git1", "1.0", 1),
    ("1.0^git1", "1.01", -1),     # ... but before anything else
    ("1.0^20160101", "1.0.1", -1),
    ("1.0^20160101^git1", "1.0^20160101", 1),
    ("1.0~rc1^git1", "1.0~rc1", 1),
    ("1.0^git1~pre", "1.0^git1", -1),
    ("1:1.0-1", "2.0-1", 1),      # epoch:version-release
    ("0:1.0-1", "1.0-1", 0),
    ("1.0-1", "1.0-2", -1),
    ("1.0-10", "1.0-9", 1),
    ("1.0", "1.0-5", 0),          # a version without release matches every release
    ("3.0.7-27.el9", "3.0.7-28.el9", -1),
    ("1.1.1k-12.el8_9", "1.1.1k-9.el8_7", 1),
]


@pytest.mark.parametrize(("a", "b", "expected"), DPKG)
def test_dpkg(a: str, b: str, expected: int) -> None:
    assert dpkg_cmp(a, b) == expected
    assert dpkg_cmp(b, a) == -expected
    assert version_cmp("dpkg", a, b) == expected


@pytest.mark.parametrize(("a", "b", "expected"), RPM)
def test_rpm(a: str, b: str, expected: int) -> None:
    assert rpm_cmp(a, b) == expected
    assert rpm_cmp(b, a) == -expected
    assert version_cmp("rpm", a, b) == expected


def test_a_sorted_chain_is_sorted_by_both() -> None:
    chain = ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a", "1.0+b1", "1.0.1", "1.1", "1:0.1"]
    for i, a in enumerate(chain):
        for j, b in enumerate(chain):
            assert dpkg_cmp(a, b) == (i > j) - (i < j), (a, b)
    chain = ["1.0~rc1~git1", "1.0~rc1", "1.0~rc2", "1.0", "1.0^git1", "1.0a", "1.0.1", "1.1"]
    for i, a in enumerate(chain):
        for j, b in enumerate(chain):
            assert rpm_cmp(a, b) == (i > j) - (i < j), (a, b)


@pytest.mark.parametrize(("kind", "a", "b"), [
    ("dpkg", "x:1.0", "1.0"),     # an epoch that is not a number
    ("dpkg", "", "1.0"),
    ("dpkg", "1 0", "1.0"),       # spaces inside
    ("deb", "1.0", "1.0"),        # no such kind
    ("rpm", "1" * (MAX_VERSION + 1), "1"),
])
def test_refused(kind: str, a: str, b: str) -> None:
    with pytest.raises(ValueError, match="version"):
        version_cmp(kind, a, b)


def test_hostile_lengths_are_linear() -> None:
    """Versions at the cap made of the worst runs (long digit runs, thousands of
    alternations, all ~ or ^) compare in far less than a millisecond each: no int()
    conversion of long digit runs, no quadratic slicing."""
    n = MAX_VERSION
    worst = ["9" * n, "0" * (n - 1) + "1", "1a" * (n // 2), "~" * n, "^" * n, "1." * (n // 2),
             "1:" + "-" * (n - 2), "é" * n]
    start = time.perf_counter()
    for a in worst:
        for b in worst:
            for kind in ("dpkg", "rpm"):
                try:
                    version_cmp(kind, a, b)
                except ValueError:
                    pass
    assert time.perf_counter() - start < 2.0
    assert rpm_cmp("9" * n, "9" * (n - 1) + "8") == 1
    assert dpkg_cmp("9" * n, "9" * n) == 0


def test_in_a_rule() -> None:
    """Declared in rules/lib.dl's way and called from a rule: a refused value is a failure
    (the tuple skipped, the failure recorded), not an error."""
    program = Program.from_text("""
        .functor version_cmp(kind: symbol, a: symbol, b: symbol): number
        .decl Installed(pkg: symbol, v: symbol)
        .decl Older(pkg: symbol)
        Older(p) :- Installed(p, v), @version_cmp("dpkg", v, "3.0.13-1") < 0.
    """, functors=FUNCTORS, relations=RELATIONS)
    db = Database(program)
    db.add_facts("Installed", [("openssl", "3.0.11-1~deb12u2"), ("zlib", "1:1.2.13"),
                               ("bad", "x:1"), ("new", "3.0.13-1+b1")])
    db.run()
    assert db.tuples("Older") == {("openssl",)}
    assert len(db.failures) == 1
    with pytest.raises(DatalogError):
        Program.from_text('.decl A(x: number)\nA(@version_cmp("dpkg", "1")).',
                          functors=FUNCTORS, relations=RELATIONS)
