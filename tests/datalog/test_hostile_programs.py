"""Hostile rule files, fact files and programs (issue 10, classes 8 and 10).

Every case is either one ``file:line:col`` error line or a correct result, within seconds:
through the API, and through ``guestinspect datalog`` and ``guestinspect rules check``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestinspect.cli import cli
from guestinspect.datalog import Database, DatalogError, Limits, Program, factfiles

# ---- programs ------------------------------------------------------------------------------


def wide_rule(n: int) -> str:
    """A valid rule of ``n`` body atoms (Python allows 20 nested blocks): a chain
    ``C0(x0, x1), C1(x1, x2), …`` with one path through it, and dead ends."""
    decls = "".join(f".decl C{i}(a: number, b: number)\nC{i}({i}, {i + 1}).\nC{i}({i - 1}, -1).\n"
                    for i in range(n))
    body = ", ".join(f"C{i}(x{i}, x{i + 1})" for i in range(n))
    return decls + f".decl A(a: number, b: number)\nA(x0, x{n}) :- {body}.\n"


def nested(depth: int) -> str:
    return "(" * depth + "1" + ")" * depth


DISJUNCTIONS = ".decl B(x: number)\nB(1).\n.decl A(x: number)\nA(x) :- " + ", ".join(
    "(B(x) ; B(x))" for _ in range(24)) + ".\n.output A\n"
COUNTING = ".decl N(x: number)\nN(0).\nN(x + 1) :- N(x).\n.output N\n"
CROSS = (".decl B(x: number)\nB(0).\nB(x + 1) :- B(x), x < 999.\n"
         ".decl A(x: number, y: number, z: number)\nA(x, y, z) :- B(x), B(y), B(z).\n"
         ".output A\n")
CROSS_FILTER = (".decl B(x: number)\nB(0).\nB(x + 1) :- B(x), x < 999.\n"
                ".decl A(x: number)\nA(x) :- B(x), B(y), B(z), x + y + z < 0.\n.output A\n")


def doubling_components(levels: int, facts: int = 1) -> str:
    """Each component instantiates the one below twice: 2^levels instances."""
    lines = [".comp C0 { .decl R(x: number) " + " ".join(f"R({i})." for i in range(facts)) + " }"]
    lines += [f".comp C{i} {{ .init a = C{i - 1} .init b = C{i - 1} }}"
              for i in range(1, levels + 1)]
    return "\n".join(lines) + f"\n.init top = C{levels}\n"


def chain_of_components(levels: int) -> str:
    lines = [".comp C0 { .decl R(x: number) R(1). }"]
    lines += [f".comp C{i} {{ .init a = C{i - 1} }}" for i in range(1, levels + 1)]
    return "\n".join(lines) + f"\n.init top = C{levels}\n"


def one_number(value: int) -> str:
    return f".decl A(x: number)\nA({value}).\n.output A\n"


# ---- the API -------------------------------------------------------------------------------


def errors_of(text: str, **kw: object) -> list[str]:
    with pytest.raises(DatalogError) as info:
        Program.from_text(text, filename="t.dl", **kw)  # type: ignore[arg-type]
    return info.value.errors


def run(text: str, limits: Limits | None = None) -> Database:
    db = Database(Program.from_text(text, filename="t.dl"), limits)
    db.run()
    return db


@pytest.mark.parametrize(("text", "error"), [
    (".decl A(x: number)\nA(\u00b2).\n", "t.dl:2:3: unexpected character '\u00b2'"),
    (".decl A(x: number)\nA(\u0663).\n", "t.dl:2:3: unexpected character '\u0663'"),
    (".decl A(x: number)\nA(0x).\n", "t.dl:2:3: hexadecimal number without digits after '0x'"),
    (".decl A(x: number)\nA(" + "9" * 5000 + ").\n",
     "t.dl:2:3: number literal out of range (it must fit in 64 bits)"),
    (".decl A(x: number)\nA(0x1" + "0" * 16 + ").\n",
     "t.dl:2:3: number literal out of range (it must fit in 64 bits)"),
    (".decl A(x: float)\nA(1.0e999).\n", "t.dl:2:3: float literal 1.0e999 is out of range"),
    (".type T <: T\n.decl A(x: T)\n", "t.dl:1:7: type 'T' is defined in terms of itself (T -> T)"),
    (".type T <: U\n.type U = V | number\n.type V <: T\n",
     "t.dl:1:7: type 'T' is defined in terms of itself (T -> U -> V -> T)"),
    (".decl A(x: number)\nA(x) :- x = " + nested(1000) + ".\n",
     "t.dl:2:"),  # the column where the limit is reached
    (".decl A(x: number)\nA(x) :- x = " + " + ".join(["1"] * 5000) + ".\n",
     "t.dl:2:13: expression nested too deeply (more than 64 levels of operators and functors)"),
    (".decl A(x: number)\nA(x) :- x = " + "bnot " * 5000 + "1.\n",
     "t.dl:2:13: expression nested too deeply (more than 64 levels of operators and functors)"),
    ('#include "a\\nb"\n', 't.dl:1:1: cannot include "a\\nb": file not found'),
    ('#include "a\nb"\n', "t.dl:1:10: unterminated string"),
    (DISJUNCTIONS, "t.dl:4:1: this clause expands to 16777216 rules (its disjunctions "
     "multiply), more than the limit of 10000 (raise it with --max-rules-per-clause or "
     "Limits(max_rules_per_clause=...))"),
])
def test_front_end_error_is_one_line_at_file_line_col(text: str, error: str) -> None:
    errs = errors_of(text)
    assert len(errs) == 1 and "\n" not in errs[0]
    assert errs[0].startswith(error)


def test_nesting_error_says_what_is_too_deep() -> None:
    [err] = errors_of(".decl A(x: number)\nA(x) :- x = " + nested(1000) + ".\n")
    assert err.endswith("nested too deeply (more than 200 levels of parentheses, operators "
                        "or aggregates)")
    [err] = errors_of(".decl A(x: number)\nA(x) :- " + "(" * 1000 + "A(x)" + ")" * 1000 + ".\n")
    assert "nested too deeply" in err


def test_valid_deep_programs_evaluate() -> None:
    db = run(".decl A(x: number)\nA(x) :- x = " + nested(150) + ".\n")
    assert db.tuples("A") == {(1,)}
    db = run(".decl B(x: number)\nB(7).\n.decl A(x: number)\nA(x) :- " + "(" * 150 + "B(x)"
             + ")" * 150 + ".\n")
    assert db.tuples("A") == {(7,)}
    db = run(".decl A(x: number)\nA(x) :- x = " + " + ".join(["1"] * 60) + ".\n")
    assert db.tuples("A") == {(60,)}


def test_long_chain_of_types_resolves() -> None:
    types = "".join(f".type T{i} <: T{i + 1}\n" for i in range(3000))
    db = run(types + ".type T3000 <: number\n.decl A(x: T0)\nA(5).\n")
    assert db.tuples("A") == {(5,)}


@pytest.mark.parametrize("n", [22, 40])
def test_rule_of_many_atoms_evaluates_and_explains(n: int) -> None:
    db = run(wide_rule(n))
    assert db.tuples("A") == {(0, n)}
    tree = db.explain("A", (0, n))
    assert tree is not None
    assert [(c.relation, c.tuple) for c in tree.children] == [
        (f"C{i}", (i, i + 1)) for i in range(n)]


def test_rule_of_too_many_atoms() -> None:
    assert errors_of(wide_rule(501)) == [
        "t.dl:1505:1: this rule has 501 body literals, more than 500"]
    assert run(wide_rule(500)).tuples("A") == {(0, 500)}


def test_rule_of_many_atoms_with_aggregates() -> None:
    n = 30
    decls = "".join(f".decl C{i}(a: number)\nC{i}({i}).\n" for i in range(n))
    atoms = ", ".join(f"C{i}(x{i})" for i in range(n))
    text = (decls + ".decl V(v: number)\nV(1).\nV(5).\nV(3).\n"
            ".decl A(a: number, b: number, c: float, d: number)\n"
            f"A(c, s, m, w) :- {atoms}, c = count : {{ V(_) }}, s = sum v : {{ V(v) }}, "
            f"m = mean v : {{ V(v) }}, w = max v : {{ V(v), {atoms} }}.\n")
    assert run(text).tuples("A") == {(3, 9, 3.0, 5)}


# ---- limits --------------------------------------------------------------------------------


def test_counting_rule_stops_at_the_tuple_limit() -> None:
    start = time.monotonic()
    with pytest.raises(DatalogError) as info:
        run(COUNTING, Limits(max_tuples=50_000))
    assert str(info.value) == ("t.dl:3:1: evaluation stopped in this rule: more than 50000 "
                               "tuples (raise it with --max-tuples or Limits(max_tuples=...))")
    assert time.monotonic() - start < 20


def test_cross_product_stops_inside_the_rule() -> None:
    start = time.monotonic()
    with pytest.raises(DatalogError) as info:
        run(CROSS, Limits(max_tuples=200_000))
    assert str(info.value).startswith("t.dl:5:1: evaluation stopped in this rule: more than "
                                      "200000 tuples")
    assert time.monotonic() - start < 20


def test_time_limit_stops_a_loop_that_derives_nothing() -> None:
    start = time.monotonic()
    with pytest.raises(DatalogError) as info:
        run(CROSS_FILTER, Limits(max_seconds=0.5))
    assert str(info.value) == ("t.dl:5:1: evaluation stopped in this rule: it took more than "
                               "0.5 s (raise it with --max-seconds or Limits(max_seconds=...))")
    assert time.monotonic() - start < 20


def test_limits_of_the_program_are_the_database_default() -> None:
    program = Program.from_text(COUNTING, filename="t.dl", limits=Limits(max_tuples=1000))
    with pytest.raises(DatalogError, match="more than 1000 tuples"):
        Database(program).run()
    db = Database(Program.from_text(one_number(1), filename="t.dl"), Limits(max_tuples=1))
    with pytest.raises(DatalogError, match="^cannot add the facts: more than 1 tuples"):
        db.add_facts("A", [(2,), (3,)])


def test_expanded_rules_limits() -> None:
    text = ".decl B(x: number)\n.decl A(x: number)\nA(x) :- (B(x) ; B(x)), (B(x) ; B(x)).\n"
    assert errors_of(text, limits=Limits(max_rules_per_clause=3)) == [
        "t.dl:3:1: this clause expands to 4 rules (its disjunctions multiply), more than the "
        "limit of 3 (raise it with --max-rules-per-clause or Limits(max_rules_per_clause=...))"]
    assert errors_of(text + text.splitlines()[2] + "\n", limits=Limits(max_rules=6)) == [
        "t.dl:4:1: the program has more than 6 rules once disjunctions are expanded (raise it "
        "with --max-rules or Limits(max_rules=...))"]
    assert len(Program.from_text(text, limits=Limits(max_rules_per_clause=4)).rules) == 4


# ---- rule and fact files -------------------------------------------------------------------


def test_rule_file_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dl"
    bad.write_bytes(b'.decl A(x: symbol)\nA("\xc3\xa9\xff").\n')
    with pytest.raises(DatalogError) as info:
        Program.from_files([bad])
    assert info.value.errors == [f"{bad}:2:5: not UTF-8 text (byte 0xff)"]


def test_includes_of_what_is_not_a_rule_file(tmp_path: Path) -> None:
    (tmp_path / "loop.dl").write_text('#include "loop.dl"\n.decl A(x: number)\nA(1).\n')
    assert Program.from_files([tmp_path / "loop.dl"]).declarations == {"A": (("x", "number"),)}
    (tmp_path / "sub").mkdir()
    os.mkfifo(tmp_path / "fifo.dl")
    main = tmp_path / "main.dl"
    main.write_text('#include "sub"\n#include "fifo.dl"\n#include "/dev/zero"\n')
    with pytest.raises(DatalogError) as info:
        Program.from_files([main])
    assert info.value.errors == [
        f'{main}:1:1: cannot include "{tmp_path}/sub": directory, not a file',
        f'{main}:2:1: cannot include "{tmp_path}/fifo.dl": not a regular file',
        f'{main}:3:1: cannot include "/dev/zero": not a regular file']
    with pytest.raises(DatalogError) as info:
        Program.from_files([tmp_path / "fifo.dl"])
    assert info.value.errors == [f"{tmp_path}/fifo.dl:1:1: cannot read file: not a regular file"]


def test_includes_nested_too_deeply(tmp_path: Path) -> None:
    for i in range(100):
        (tmp_path / f"f{i}.dl").write_text(f'#include "f{i + 1}.dl"\n')
    (tmp_path / "f100.dl").write_text(".decl A(x: number)\n")
    with pytest.raises(DatalogError) as info:
        Program.from_files([tmp_path / "f0.dl"])
    assert info.value.errors == [f'{tmp_path}/f64.dl:1:1: cannot include "f65.dl": includes '
                                 'nested more than 64 deep']


FACTS_PROGRAM = ".decl A(x: number, y: symbol)\n.input A\n.output A\n"


@pytest.mark.parametrize(("content", "error"), [
    (b"1\ta\n2\n", "A.facts:2:1: expected 2 fields separated by '\\t', found 1"),
    (b"1\ta\n2\t\xff\n", "A.facts:2:3: not UTF-8 text (byte 0xff)"),
    (b"1" * 5000 + b"\ta\n",
     "A.facts:1:1: number out of range (more than 64 bits): 11111111111111111111..."),
    (b"18446744073709551616\ta\n",
     "A.facts:1:1: number out of range (more than 64 bits): 18446744073709551616"),
    (b"x1\ta\n", "A.facts:1:1: not a number: 'x1'"),
    (b"1\t" + b"a" * 9000 + b"\n", "A.facts:1:1: line longer than 8192 bytes"),
])
def test_hostile_fact_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes,
                            error: str) -> None:
    monkeypatch.setattr(factfiles, "MAX_LINE_BYTES", 8192)
    (tmp_path / "A.facts").write_bytes(content)
    db = Database(Program.from_text(FACTS_PROGRAM, filename="t.dl"))
    with pytest.raises(DatalogError) as info:
        db.load_facts_dir(tmp_path)
    assert info.value.errors == [f"{tmp_path}/{error}"]


def test_fact_file_that_is_not_a_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "A.facts")
    db = Database(Program.from_text(FACTS_PROGRAM, filename="t.dl"))
    with pytest.raises(DatalogError) as info:
        db.load_facts_dir(tmp_path)
    assert info.value.errors == [f"{tmp_path}/A.facts:1:1: cannot read the fact file: "
                                 "not a regular file"]


def test_fact_file_stops_at_the_tuple_limit(tmp_path: Path) -> None:
    (tmp_path / "A.facts").write_text("1\ta\n2\tb\n3\tc\n")
    db = Database(Program.from_text(FACTS_PROGRAM, filename="t.dl"), Limits(max_tuples=2))
    with pytest.raises(DatalogError) as info:
        db.load_facts_dir(tmp_path)
    assert info.value.errors == [f"{tmp_path}/A.facts:3:1: cannot add the facts: more than 2 "
                                 "tuples (raise it with --max-tuples or Limits(max_tuples=...))"]


def test_good_fact_file_still_reads(tmp_path: Path) -> None:
    (tmp_path / "A.facts").write_bytes(b"1\ta\\tb\n-9223372036854775808\t\xc3\xa9\r\n0x10\t\n")
    db = Database(Program.from_text(FACTS_PROGRAM, filename="t.dl"))
    assert db.load_facts_dir(tmp_path) == 3
    assert db.tuples("A") == {(1, "a\tb"), (-2**63, "é"), (16, "")}


# ---- the command line ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    program: str | bytes
    error: str | None  # the one stderr line after "PROGRAM:"; None: a valid program
    output: str = ""  # stdout of `datalog -D -` for a valid program
    options: tuple[str, ...] = ()
    setup: Callable[[Path], None] | None = field(default=None, compare=False)
    check_only: bool = False  # `rules check` finds no error (the problem is at run time)


def _fifo_include(tmp: Path) -> None:
    os.mkfifo(tmp / "fifo.dl")


def _out(name: str, *rows: str) -> str:
    return f"---------------\n{name}\n===============\n" + "".join(r + "\n" for r in rows) + \
        "===============\n"


CASES = [
    Case("unicode digit", ".decl A(x: number)\nA(\u00b2).\n",
         "2:3: unexpected character '\u00b2'"),
    Case("0x without digits", ".decl A(x: number)\nA(0x).\n",
         "2:3: hexadecimal number without digits after '0x'"),
    Case("thousands of digits", one_number(int("9" * 4000)),
         "2:3: number literal out of range (it must fit in 64 bits)"),
    Case("float out of range", ".decl A(x: float)\nA(1.0e999).\n",
         "2:3: float literal 1.0e999 is out of range"),
    Case("type defined by itself", ".type T <: T\n.decl A(x: T)\n",
         "1:7: type 'T' is defined in terms of itself (T -> T)"),
    Case("cycle of types", ".type T <: U\n.type U <: T\n.decl A(x: T)\n",
         "1:7: type 'T' is defined in terms of itself (T -> U -> T)"),
    Case("1000 nested parentheses", ".decl A(x: number)\nA(" + nested(1000) + ").\n",
         "2:203: nested too deeply (more than 200 levels of parentheses, operators or "
         "aggregates)"),
    Case("100 nested parentheses", ".decl A(x: number)\nA(" + nested(100) + ").\n.output A\n",
         None, _out("A", "1")),
    Case("not UTF-8", b".decl A(x: symbol)\nA(\"\xff\").\n", "2:4: not UTF-8 text (byte 0xff)"),
    Case("include name with a newline", '#include "a\\nb"\n',
         '1:1: cannot include "a\\nb": file not found'),
    Case("include of a FIFO", '#include "fifo.dl"\n',
         '1:1: cannot include "{tmp}/fifo.dl": not a regular file', setup=_fifo_include),
    Case("include of a device", '#include "/dev/zero"\n',
         '1:1: cannot include "/dev/zero": not a regular file'),
    Case("24 body atoms", wide_rule(24) + ".output A\n", None, _out("A", "0\t24")),
    Case("include loop", '#include "prog.dl"\n' + one_number(3), None, _out("A", "3")),
    Case("24 disjunctions", DISJUNCTIONS,
         "4:1: this clause expands to 16777216 rules (its disjunctions multiply), more than "
         "the limit of 10000 (raise it with --max-rules-per-clause or "
         "Limits(max_rules_per_clause=...))"),
    Case("2^40 instances of components", doubling_components(40),
         "3:18: the program makes more than 10000 instances of components"),
    Case("instances of components make too many rules", doubling_components(12, 200),
         "1:31: the program has more than 100000 rules once components are instantiated "
         "(raise it with --max-rules or Limits(max_rules=...))"),
    Case("components instantiated 150 deep", chain_of_components(150),
         "52:19: components instantiated more than 100 deep (top.a.a…)"),
    Case("components nested 1000 deep", ".comp C {" * 1000 + "}" * 1000,
         "1:577: components nested too deeply (more than 64 levels)"),
    Case("component instantiating itself", ".comp A { .init x = A }\n.init a = A\n",
         "1:17: instantiation cycle: component 'A' instantiates itself (a.x)"),
    Case("component inheriting from itself", ".comp A : A { }\n.init a = A\n",
         "1:1: component 'A' inherits from itself"),
    Case("counting rule", COUNTING, "3:1: evaluation stopped in this rule: more than 100000 "
         "tuples (raise it with --max-tuples or Limits(max_tuples=...))",
         options=("--max-tuples", "100000"), check_only=True),
    Case("counting rule, time", COUNTING, "3:1: evaluation stopped in this rule: it took more "
         "than 1 s (raise it with --max-seconds or Limits(max_seconds=...))",
         options=("--max-seconds", "1"), check_only=True),
    Case("three-way cross product", CROSS, "5:1: evaluation stopped in this rule: more than "
         "1000000 tuples (raise it with --max-tuples or Limits(max_tuples=...))",
         options=("--max-tuples", "1000000"), check_only=True),
]


def test_cases_cover_the_issue() -> None:
    names = {c.name for c in CASES}
    for name in ("unicode digit", "0x without digits", "thousands of digits",
                 "type defined by itself", "1000 nested parentheses", "not UTF-8",
                 "include name with a newline", "float out of range", "24 body atoms",
                 "24 disjunctions", "counting rule", "three-way cross product",
                 "2^40 instances of components", "component instantiating itself"):
        assert name in names


def _invoke(args: list[str]) -> tuple[int, str, str, float]:
    start = time.monotonic()
    result = CliRunner().invoke(cli, args)
    elapsed = time.monotonic() - start
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr, elapsed


def _write(tmp: Path, case: Case) -> Path:
    prog = tmp / "prog.dl"
    if isinstance(case.program, bytes):
        prog.write_bytes(case.program)
    else:
        prog.write_text(case.program, encoding="utf-8")
    if case.setup is not None:
        case.setup(tmp)
    return prog


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_datalog_command(tmp_path: Path, case: Case) -> None:
    prog = _write(tmp_path, case)
    code, out, err, elapsed = _invoke(["datalog", str(prog), "-F", str(tmp_path), "-D", "-",
                                       *case.options])
    assert elapsed < 15
    if case.error is None:
        assert (code, err) == (0, "")
        assert out == case.output
    else:
        assert code == 1
        assert err.splitlines() == [f"{prog}:{case.error.format(tmp=tmp_path)}"]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rules_check_command(tmp_path: Path, case: Case) -> None:
    prog = _write(tmp_path, case)
    code, out, err, elapsed = _invoke(["rules", "check", "--alone", str(prog)])
    assert elapsed < 15
    if case.error is None or case.check_only:
        assert (code, err) == (0, "")
        assert out == "1 file(s) checked: no errors\n"
    else:
        assert code == 1 and out == ""
        assert err.splitlines() == [f"{prog}:{case.error.format(tmp=tmp_path)}"]


def test_inspection_takes_the_tuple_limit() -> None:
    snapshot = Path(__file__).resolve().parents[2] / "facts" / "synthetic" / "almalinux"
    code, out, err, _ = _invoke(["--facts", str(snapshot), "--max-tuples", "50"])
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith(f"guestinspect: error: {snapshot}: {snapshot}/")
    assert line.endswith(".facts:28:1: cannot add the facts: more than 50 tuples (raise it "
                         "with --max-tuples or Limits(max_tuples=...))")
    # above the snapshot's 226 base facts, below what the rules derive from them
    code, out, err, _ = _invoke(["--facts", str(snapshot), "--max-tuples", "400"])
    assert code == 1
    [line] = err.splitlines()
    assert line.startswith(f"guestinspect: error: {snapshot}: ")
    assert line.endswith(": evaluation stopped in this rule: more than 400 tuples (raise it "
                         "with --max-tuples or Limits(max_tuples=...))")
    code, out, err, _ = _invoke(["--facts", str(snapshot), "--max-tuples", "100000"])
    assert code == 0 and "<distro>almalinux</distro>" in out


def test_fact_files_found_by_one_listing_as_by_a_look_up_each(tmp_path: Path) -> None:
    """A missing file is no facts, a dangling symlink an error, and a ``filename=`` below the
    directory is looked up as it is (Database._load_facts_dir lists the directory once)."""
    program = Program.from_text(FACTS_PROGRAM + """
        .decl B(x: number)
        .input B(filename="sub/b.facts")
        .decl C(x: number)
        .input C
    """, filename="t.dl")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.facts").write_text("7\n")
    (tmp_path / "A.facts").write_text("1\ta\n")
    db = Database(program)
    assert db.load_facts_dir(tmp_path) == 2  # no C.facts: C is empty
    assert db.tuples("B") == {(7,)} and db.tuples("C") == set()
    (tmp_path / "C.facts").symlink_to(tmp_path / "nowhere")
    with pytest.raises(DatalogError) as info:
        Database(program).load_facts_dir(tmp_path)
    assert info.value.errors[0].startswith(f"{tmp_path}/C.facts:1:1: cannot read the fact file")
    assert Database(program).load_facts_dir(tmp_path / "absent") == 0
