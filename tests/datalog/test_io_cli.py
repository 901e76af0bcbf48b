"""Fact files (Soufflé's tab-separated format, with escapes), includes and the command line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from guestinspect.datalog import Database, Program
from guestinspect.datalog.cli import datalog

REPO = Path(__file__).resolve().parents[2]
PROGRAM = """// reachability
.decl Edge(x: symbol, y: symbol)
.input Edge
.decl W(x: symbol, n: number)
.input W(IO=file, filename="weights.csv", delimiter=",")
.decl Path(x: symbol, y: symbol)
.output Path
.decl Heavy(x: symbol)
.output Heavy(IO=file, filename="heavy.tsv")
/* a block
   comment */
Path(x, y) :- Edge(x, y).
Path(x, z) :- Path(x, y), Edge(y, z).
Heavy(x) :- W(x, n), n > 10.
"""


def write_program(tmp: Path) -> tuple[Path, Path]:
    prog = tmp / "reach.dl"
    prog.write_text(PROGRAM)
    facts = tmp / "facts"
    facts.mkdir()
    (facts / "Edge.facts").write_text("a\tb\nb\tc\n")
    (facts / "weights.csv").write_text("a,5\nb,11\n")
    return prog, facts


def test_load_facts_and_write_outputs(tmp_path: Path) -> None:
    prog, facts = write_program(tmp_path)
    db = Database(Program.from_files([prog]))
    assert db.load_facts_dir(facts) == 4
    db.run()
    out = tmp_path / "out"
    printed = io.StringIO()
    db.write_outputs(out, printed)
    assert printed.getvalue() == ""
    assert (out / "Path.csv").read_text() == "a\tb\na\tc\nb\tc\n"
    assert (out / "heavy.tsv").read_text() == "b\n"


def test_escapes_round_trip(tmp_path: Path) -> None:
    text = ".decl C(path: symbol, text: symbol, n: number)\n.input C\n"
    rows = {("/etc/a b", "line1\nline2\twith tab\\ and \r", 3), ("C:\\Windows", "", -1)}
    db = Database(Program.from_text(text))
    db.add_facts("C", rows)
    db.write_facts_dir(tmp_path)
    written = (tmp_path / "C.facts").read_text()
    assert written == ("/etc/a b\tline1\\nline2\\twith tab\\\\ and \\r\t3\n"
                       "C:\\\\Windows\t\t-1\n")
    db2 = Database(Program.from_text(text))
    db2.load_facts_dir(tmp_path)
    assert db2.tuples("C") == rows


def test_outputs_are_written_verbatim_as_soufflé_does(tmp_path: Path) -> None:
    text = ('.decl C(s: symbol, n: number)\n.output C\n.decl S(s: symbol)\n'
            '.output S(IO=stdout)\nC("two\\nlines", 1). C("C:\\\\Windows", 2). C("plain", 3).\n'
            'S("x\\ty").\n')
    db = Database(Program.from_text(text))
    db.run()
    printed = io.StringIO()
    db.write_outputs(tmp_path, printed)
    assert (tmp_path / "C.csv").read_text() == "C:\\Windows\t2\nplain\t3\ntwo\nlines\t1\n"
    assert "\nx\ty\n" in printed.getvalue()
    db.write_facts_dir(tmp_path / "snap", ["C"])  # the snapshot escapes, and reads back
    assert (tmp_path / "snap" / "C.facts").read_text().endswith("two\\nlines\t1\n")
    db2 = Database(Program.from_text(text.replace(".output C", ".input C")))
    db2.load_facts_dir(tmp_path / "snap")
    assert db2.tuples("C") == db.tuples("C")


def test_soufflé_file_without_backslash_escapes_reads_verbatim(tmp_path: Path) -> None:
    (tmp_path / "P.facts").write_text("C:\\Windows\\System32\t1.5\n")
    db = Database(Program.from_text(".decl P(p: symbol, f: float)\n.input P\n"))
    db.load_facts_dir(tmp_path)
    assert db.tuples("P") == {("C:\\Windows\\System32", 1.5)}


def test_bad_fact_file_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "E.facts").write_text("a\tb\nc\n")
    db = Database(Program.from_text(".decl E(x: symbol, y: symbol)\n.input E\n"))
    try:
        db.load_facts_dir(tmp_path)
    except Exception as e:
        assert str(e) == f"{tmp_path / 'E.facts'}:2:1: expected 2 fields separated by " \
            "'\\t', found 1"
    else:
        raise AssertionError("no error")


def test_include_relative_and_from_include_dir(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "decls.dl").write_text(".decl A(x: number)\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "rules.dl").write_text('#include "decls.dl"\nB(x) :- A(x).\n')
    main = tmp_path / "main.dl"
    main.write_text('#include "decls.dl"\n.decl B(x: number)\n#include "sub/rules.dl"\nA(1).\n')
    db = Database(Program.from_files([main], include_dirs=[tmp_path / "lib"]))
    db.run()
    assert db.tuples("B") == {(1,)}


def test_cli_runs_program_and_explains(tmp_path: Path) -> None:
    prog, facts = write_program(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(datalog, [str(prog), "-F", str(facts), "-D", str(out),
                                          "--explain", 'Path(a, "c")'])
    assert result.exit_code == 0, result.output
    assert (out / "Path.csv").read_text() == "a\tb\na\tc\nb\tc\n"
    assert result.output.splitlines() == [
        f'Path("a", "c")  <- {prog}:13:1: Path(x, z) :- Path(x, y), Edge(y, z).',
        f'  Path("a", "b")  <- {prog}:12:1: Path(x, y) :- Edge(x, y).',
        '    Edge("a", "b")  (base fact)',
        '  Edge("b", "c")  (base fact)',
    ]


def test_cli_reports_static_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dl"
    bad.write_text(".decl A(x: number)\nA(x) :- B(x).\n")
    result = CliRunner().invoke(datalog, [str(bad), "-D", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{bad}:2:9: undeclared relation 'B'" in result.output
    assert not list(tmp_path.glob("*.csv"))


def test_python_dash_m_runs_standalone(tmp_path: Path) -> None:
    prog, facts = write_program(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "guestinspect.datalog", str(prog), "-F",
                           str(facts), "-D", "-"], capture_output=True, text=True, env=env,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "a\tc" in proc.stdout.splitlines()
