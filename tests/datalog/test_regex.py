"""Regular expressions are RE2's: linear time on any guest text, one dialect for ``match`` and
``RegexGroups``. An invalid pattern (one RE2 rejects, or a brace C++'s std::regex rejects) is,
as in Soufflé, a warning and no match: a static warning when it is a constant, a run-time one
(a failure) either way (issue 10, class 5; issue 15)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from guestinspect.datalog import Database, Program
from guestinspect.datalog.ir import AggregateLit, AtomLit, ConstraintLit, Lit
from guestinspect.datalog.regex_braces import brace_problem
from guestinspect.datalog.runtime import match, regex_problem
from guestinspect.datalog.syntax import Const
from guestinspect.functors import text
from guestinspect.inspection.driver import load_program, run_collector
from tests.rules.unix.guests import fedora

CENTOS = r"CentOS.*release (\d+).*Update (\d+)"


def hostile_line(size: int) -> str:
    """The worst case for a backtracking engine: many "release N" and no "Update"."""
    unit = "CentOS release 5 "
    return (unit * (size // len(unit) + 1))[:size]


def best_of(n: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def test_the_centos_pattern_is_linear_on_a_64_kib_line() -> None:
    big, small = hostile_line(64 * 1024), hostile_line(8 * 1024)
    assert list(text.regex_groups(CENTOS, big)) == []
    t_big = best_of(3, lambda: list(text.regex_groups(CENTOS, big)))
    t_small = best_of(3, lambda: list(text.regex_groups(CENTOS, small)))
    assert t_big < 0.5, t_big  # a backtracking engine takes minutes
    # 8 times the input: linear is about 8 times the time, cubic 512 times
    assert t_big < 40 * t_small + 0.01, (t_big, t_small)
    t_match = best_of(3, lambda: match(f"{CENTOS}.*", big))
    assert t_match < 0.5, t_match


def test_a_hostile_release_line_through_the_rules_is_quick() -> None:
    guest = fedora()
    root = next(dev for (dev, path) in guest.files if path == "/etc/redhat-release")
    guest.write(root, "/etc/redhat-release", hostile_line(64 * 1024) + " Update 7\n")
    start = time.perf_counter()
    db = run_collector(load_program(), guest.collector())
    assert time.perf_counter() - start < 30
    assert {t[1] for t in db.tuples("OsDistro")} == {"centos"}
    assert {t[1] for t in db.tuples("MajorVersion")} == {5}


def _patterns(lits: list[Lit]) -> Iterator[str]:
    for lit in lits:
        if isinstance(lit, ConstraintLit) and lit.name == "match":
            if isinstance(lit.args[0], Const):
                yield str(lit.args[0].value)
        elif isinstance(lit, AtomLit) and lit.relation == "RegexGroups":
            if isinstance(lit.args[0], Const):
                yield str(lit.args[0].value)
        elif isinstance(lit, AggregateLit):
            yield from _patterns(lit.body)


def test_every_pattern_of_the_shipped_rules_compiles_under_re2() -> None:
    program = load_program()
    patterns = {p for rule in program.rules for p in _patterns(rule.body)}
    db = Database(program)
    db.run()
    table = {rx for *_, rx in db.tuples("ReleaseFile") if rx}  # RegexGroups(rx, ...) patterns
    assert CENTOS in table and "opensuse-.*" in patterns and len(patterns) > 20
    bad = {p: regex_problem(p) for p in patterns | table if regex_problem(p) is not None}
    assert bad == {}
    assert program.warnings == []


@pytest.mark.parametrize(("pattern", "col", "reason"), [
    (r"(a)\\1", 21, "invalid escape sequence"),
    ("(?<=a)b", 21, "invalid perl operator: (?<"),
    ("a(?!b)", 21, "invalid perl operator: (?!"),
    ("(", 21, "missing )"),
])
def test_a_constant_pattern_re2_rejects_is_a_warning_and_no_match(pattern: str, col: int,
                                                                  reason: str) -> None:
    source = ('.decl A(x: symbol)\n.decl B(x: symbol)\nB(x) :- A(x), match("' + pattern
              + '", x).\nB(x) :- A(x), !match("' + pattern + '", x).\nB("kept").\n')
    program = Program.from_text(source, "t.dl")
    first, second = program.warnings  # one warning per place
    assert first.startswith(f"t.dl:3:{col}: invalid regular expression "), first
    assert second.startswith(f"t.dl:4:{col + 1}: invalid regular expression "), second
    assert reason in first and first.endswith("(RE2 syntax); it matches nothing")
    db = Database(program)
    db.add_facts("A", [("a",), ("ab",), ("(",)])
    db.run()
    assert db.tuples("B") == {("kept",)}  # neither match nor !match holds
    assert {m.split(" ")[0] for m in db.failures.messages()} == {"t.dl:3:1:", "t.dl:4:1:"}


@pytest.mark.parametrize(("pattern", "bad"), [
    ("fo{x}b.*", True), ("{", True), ("a{,3}", True), ("a{2", True), ("x{}", True),
    ("fo{2}b.*", False), ("a{2,}", False), ("a{1,3}", False), ("[{]", False),
    ("\\\\{x\\\\}", False), ("[[:alpha:]{]+", False), ("[]{]", False),
])
def test_a_brace_std_regex_rejects_is_invalid_though_re2_takes_it(pattern: str,
                                                                    bad: bool) -> None:
    program = Program.from_text('.decl A(x: symbol)\n.decl B(x: symbol)\n'
                                f'B(x) :- A(x), match("{pattern}", x).\n', "t.dl")
    assert (len(program.warnings) == 1) == bad, program.warnings
    if bad:
        assert "C++ std::regex rejects it" in program.warnings[0]


def test_the_brace_check_is_linear() -> None:
    small, big = "[[:" * 20_000 + "a{", "[[:" * 200_000 + "a{"
    t_small = best_of(3, lambda: brace_problem(small))
    t_big = best_of(3, lambda: brace_problem(big))
    assert t_big < 30 * t_small + 0.01, (t_small, t_big)


def test_one_dialect_for_match_and_regex_groups() -> None:
    db = Database(Program.from_text("""
    .decl A(x: symbol)
    .decl M(x: symbol)
    M(x) :- A(x), match("[[:digit:]]+\\\\.[0-9]+", x).
    .decl G(x: symbol, a: symbol, b: symbol)
    G(x, a, b) :- A(x), RegexGroups("([[:digit:]]+)\\\\.(\\\\d+)", x, a, b).
    .decl RegexGroups(p: symbol, t: symbol, a: symbol, b: symbol)
    """, relations={"RegexGroups": text.RELATIONS["RegexGroups"]}))
    db.add_facts("A", [("7.9",), ("\u0663.1",), ("x7.9y",)])  # U+0663: an Arabic-Indic 3
    db.run()
    assert db.tuples("M") == {("7.9",)}  # \d and [[:digit:]] are ASCII digits only
    assert db.tuples("G") == {("7.9", "7", "9"), ("x7.9y", "7", "9")}


def test_text_with_lone_surrogates_is_matched() -> None:
    assert match("a.b", "a\udcffb")  # an undecodable guest byte is one character
    assert list(text.regex_groups("(x+)(.)", "\udc80xx\udc81")) == [("xx", "\ufffd")]


def test_a_constant_regex_groups_pattern_re2_rejects_is_a_warning() -> None:
    source = ('.decl A(x: symbol)\n.decl B(x: symbol)\n'
              '.decl RegexGroups(p: symbol, t: symbol, a: symbol, b: symbol)\n'
              'B(a) :- A(x), RegexGroups("(a)(?=b)", x, a, _).\n'
              'B(a) :- A(x), RegexGroups(cat("(", x), x, a, _).\n')  # computed: checked later
    program = Program.from_text(source, "t.dl",
                                relations={"RegexGroups": text.RELATIONS["RegexGroups"]})
    assert program.warnings == [
        't.dl:4:27: invalid regular expression "(a)(?=b)": invalid perl operator: (?= '
        "(RE2 syntax); it matches nothing"]


def test_match_answers_as_the_re2_modules_fullmatch() -> None:
    """``match`` asks RE2 itself (runtime.fullmatches), not the re2 module's fullmatch: the
    same answer on every pattern of the shipped rules and on texts around them."""
    from guestinspect.datalog.runtime import _re2, regex, regex_text

    assert _re2()[2] is not None  # RE2's own matcher is there: the path compared here
    patterns = {lit.args[0].value for rule in load_program().rules
                for lit in _constraints(rule.body)
                if isinstance(lit.args[0], Const) and isinstance(lit.args[0].value, str)}
    patterns |= {"", "a*", "(é|e)+", "[0-9]{1,9}", ".*\\n.*", "x?"}
    texts = ["", "a", "aaa", "123", "1234567890", "é", "ée", "abc.conf", "/etc/x", "#c",
             "set default=\"1\"", "r3", "a\nb", "\ud800x", "CentOS release 5 Update 2",
             hostile_line(300)]
    assert len(patterns) > 20
    for pattern in patterns:
        if regex_problem(pattern) is not None:
            continue
        for t in texts:
            assert match(pattern, t) is (regex(pattern).fullmatch(regex_text(t)) is not None), \
                (pattern, t)


def _constraints(body: list[Lit]) -> Iterator[ConstraintLit]:
    for lit in body:
        if isinstance(lit, ConstraintLit) and lit.name == "match":
            yield lit
        elif isinstance(lit, AggregateLit):
            yield from _constraints(lit.body)
