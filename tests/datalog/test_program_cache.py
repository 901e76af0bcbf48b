"""The persistent program cache (datalog/program_cache.py): a hit is the program a fresh
compile gives, a changed file misses, a bad entry or an unsafe directory is compiled afresh,
silently."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from guestinspect.datalog import Database, Program, codegen, program_cache
from guestinspect.datalog.program_cache import load_files
from guestinspect.functors import FUNCTORS, RELATIONS
from guestinspect.inspection.driver import new_program, rules_dir, run_snapshot
from tests.oracles import ROOT


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The cache on, under a temporary XDG_CACHE_HOME; yields its directory."""
    monkeypatch.delenv("GUESTINSPECT_NO_PROGRAM_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    yield tmp_path / "xdg" / "guestinspect" / "programs"
    program_cache._pending.clear()


def _shipped() -> Program:
    return load_files([rules_dir() / "inspect.dl"], FUNCTORS, RELATIONS)


def _no_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> Program:
        raise AssertionError("compiled although the cache holds the program")

    monkeypatch.setattr(Program, "from_files", refuse)


def _contents(db: Database) -> dict[str, object]:
    return {name: db.tuples(name) for name in db.program.declarations
            if name not in db.program.modes} | \
        {"failures": db.failures.messages()}


@pytest.mark.parametrize("guest", ["debian12-lvm", "windows"])
def test_a_hit_evaluates_like_a_fresh_compile(cache: Path, guest: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    facts = ROOT / "facts" / guest
    fresh = run_snapshot(new_program(), facts)
    first = _shipped()  # compiled
    run_snapshot(first, facts)
    assert not cache.exists() or not list(cache.glob("*.pickle"))
    program_cache._save_pending()  # what exit does: the entry is written, with the code
    assert len(list(cache.glob("*.pickle"))) == 1
    # a new process: nothing compiled in memory; the rules' code comes from the entry
    monkeypatch.setattr(codegen, "_FACTORIES", {})
    monkeypatch.setattr(codegen, "_CODES", {})
    generated: list[object] = []
    real = codegen.rule_code
    monkeypatch.setattr("guestinspect.datalog.program.rule_code",
                        lambda *a: generated.append(a) or real(*a))
    with monkeypatch.context() as m:
        _no_compile(m)
        hit = _shipped()
    assert hit.cached_rules and hit is not first
    db = run_snapshot(hit, facts)
    assert generated == []
    assert _contents(db) == _contents(fresh)
    assert hit.warnings == fresh.program.warnings
    assert hit.strata == fresh.program.strata


def test_the_cli_prints_the_same_with_and_without_it(cache: Path) -> None:
    command = [sys.executable, "-c", "from guestinspect.cli import main; main()",
               "--facts", str(ROOT / "facts" / "debian12-lvm")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    outs = [subprocess.run(command, capture_output=True, env=env, check=True)
            for _ in range(2)]  # the first writes the entry, the second reads it
    off = subprocess.run(command, capture_output=True, check=True,
                         env={**env, "GUESTINSPECT_NO_PROGRAM_CACHE": "1"})
    assert len(list(cache.glob("*.pickle"))) == 1
    assert outs[0].stdout == outs[1].stdout == off.stdout and off.stdout
    assert outs[0].stderr == outs[1].stderr == off.stderr


RULES = """
#include "more.dl"
.decl Out(x: number)
.output Out
Out(x) :- Base(x).
"""


def _user_rules(directory: Path, value: int) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "main.dl").write_text(RULES)
    (directory / "more.dl").write_text(f".decl Base(x: number)\nBase({value}).\n")
    return directory / "main.dl"


def _process(paths: list[Path], include_dirs: list[Path] | None = None
             ) -> set[tuple[object, ...]]:
    """What a process does: load the program, evaluate it, and at exit write its entry."""
    db = Database(load_files(paths, include_dirs=include_dirs or []))
    db.run()
    program_cache._save_pending()
    return db.tuples("Out")


def test_a_changed_file_or_include_misses(cache: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    main = _user_rules(tmp_path / "rules", 1)
    assert _process([main]) == {(1,)}
    with monkeypatch.context() as m:
        _no_compile(m)
        assert _process([main]) == {(1,)}  # a hit
    _user_rules(tmp_path / "rules", 2)  # the included file changes
    assert _process([main]) == {(2,)}
    main.write_text(RULES + "Out(7).\n")  # the file itself
    assert _process([main]) == {(2,), (7,)}
    # an include found first elsewhere: an include directory's file now shadowed by the
    # including file's own directory
    other = tmp_path / "other"
    other.mkdir()
    (other / "extra.dl").write_text("Base(5).\n")
    main.write_text(RULES + '#include "extra.dl"\n')
    assert _process([main], include_dirs=[other]) == {(2,), (5,)}
    (main.parent / "extra.dl").write_text("Base(6).\n")
    assert _process([main], include_dirs=[other]) == {(2,), (6,)}


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "other version",
                                    "bit flip"])
def test_a_corrupt_entry_is_compiled_again_silently(
        cache: Path, tmp_path: Path, damage: str, capfd: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    main = _user_rules(tmp_path / "rules", 3)
    _process([main])
    (entry,) = cache.glob("*.pickle")
    data = entry.read_bytes()
    broken = {"truncated": data[: len(data) // 2], "garbage": os.urandom(len(data)),
              "empty": b"", "other version": data.replace(b"cache 1\n", b"cache 0\n", 1),
              "bit flip": data[:-10] + bytes([data[-10] ^ 1]) + data[-9:]}[damage]
    entry.write_bytes(broken)
    assert _process([main]) == {(3,)}
    assert capfd.readouterr() == ("", "")
    assert entry.read_bytes() != broken  # written again (and read below)
    with monkeypatch.context() as m:
        _no_compile(m)
        assert _process([main]) == {(3,)}


def test_an_unsafe_directory_or_entry_is_not_used(cache: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    main = _user_rules(tmp_path / "rules", 4)
    _process([main])
    assert cache.stat().st_mode & 0o777 == 0o700
    (entry,) = cache.glob("*.pickle")
    assert entry.stat().st_mode & 0o077 == 0

    def compiles() -> bool:
        calls: list[object] = []
        real = Program.from_files.__func__  # type: ignore[attr-defined]
        with monkeypatch.context() as m:
            m.setattr(Program, "from_files",
                      classmethod(lambda cls, *a, **k: calls.append(a) or real(cls, *a, **k)))
            assert _process([main]) == {(4,)}
        return bool(calls)

    assert not compiles()
    entry.chmod(0o666)  # an entry others may write
    assert compiles()
    entry.chmod(0o600)
    assert not compiles()
    cache.chmod(0o777)  # a directory others may write into
    assert compiles()
    cache.chmod(0o700)
    cache.parent.chmod(0o775)
    assert compiles()
    cache.parent.chmod(0o700)
    assert not compiles()
    if os.geteuid() == 0:  # a directory of another user
        os.chown(cache, 65534, -1)
        assert compiles()
        os.chown(cache, 0, -1)
        assert not compiles()
    monkeypatch.setenv("GUESTINSPECT_NO_PROGRAM_CACHE", "1")
    entry.unlink()
    assert compiles()
    assert not entry.exists()


def test_the_datalog_command_uses_it(cache: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``guestinspect datalog``: a second run of the same program reads it from the cache
    and writes the same files; a changed program is compiled again."""
    from click.testing import CliRunner

    from guestinspect.datalog.cli import datalog

    prog = tmp_path / "tc.dl"
    prog.write_text(".decl E(x: number, y: symbol)\n.input E\n.decl T(x: number, y: symbol)\n"
                    ".output T\nT(x, y) :- E(x, y).\nT(x, y) :- E(x, z), T(to_number(z), y).\n")
    facts = tmp_path / "facts"
    facts.mkdir()
    (facts / "E.facts").write_text("1\t2\n2\t3\n3\tx\n")

    def run(out: str) -> str:
        result = CliRunner().invoke(datalog, [str(prog), "-F", str(facts), "-D",
                                              str(tmp_path / out)])
        assert result.exit_code == 0, result.output
        program_cache._save_pending()  # what the process's exit does
        return (tmp_path / out / "T.csv").read_text()

    first = run("first")
    assert first == "1\t2\n1\t3\n1\tx\n2\t3\n2\tx\n3\tx\n"
    assert len(list(cache.glob("*.pickle"))) == 1
    with monkeypatch.context() as m:
        _no_compile(m)
        assert run("hit") == first
    prog.write_text(prog.read_text() + "T(0, \"y\").\n")
    assert run("changed") == "0\ty\n" + first


def test_a_hit_imports_no_front_end(cache: Path, tmp_path: Path) -> None:
    """``guestinspect datalog`` on a hit imports neither the parser nor the checks (their
    import is most of the start-up time a hit saves)."""
    prog = tmp_path / "p.dl"
    prog.write_text(".decl E(x: number)\n.input E\n.decl F(x: number)\n.output F\n"
                    "F(x + 1) :- E(x).\n")
    (tmp_path / "E.facts").write_text("1\n2\n")
    script = ("import sys\nfrom guestinspect.cli import main\ntry:\n    main()\nfinally:\n"
              "    print(*sorted(sys.modules), file=sys.stderr)\n")
    command = [sys.executable, "-c", script, "datalog", str(prog), "-F", str(tmp_path),
               "-D", str(tmp_path / "out")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [subprocess.run(command, capture_output=True, env=env, check=True, text=True)
            for _ in range(2)]  # the first compiles and writes the entry, the second hits
    assert (tmp_path / "out" / "F.csv").read_text() == "2\n3\n"
    front = {"guestinspect.datalog.parser", "guestinspect.datalog.lexer",
             "guestinspect.datalog.passes", "guestinspect.datalog.desugar"}
    assert front <= set(runs[0].stderr.split())
    assert not front & set(runs[1].stderr.split())
