"""Run Soufflé's own evaluation tests (tests/evaluation/*) against guestinspect's engine.

Usage: python tests/datalog/souffle_suite.py SOUFFLE_CHECKOUT/tests/evaluation [-v]

Each case is a directory NAME/ with NAME.dl, facts/ and the expected NAME-relation .csv
files. A case passes when every expected .csv equals (as a set of lines) what the engine
writes. Cases whose program uses features outside the supported subset are reported as
"unsupported" (the program is rejected with an error), the rest as passed or failed.
"""

from __future__ import annotations

import io
import signal
import sys
import tempfile
import traceback
from contextlib import redirect_stdout
from pathlib import Path

from guestinspect.datalog import Database, DatalogError, Program


def lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return sorted(line.rstrip("\r") for line in text.split("\n") if line.strip() != "")


class Timeout(BaseException):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Timeout()


def run_case(case: Path, seconds: int = 20) -> tuple[str, str]:
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        return _run_case(case)
    except Timeout:
        return "timeout", f"more than {seconds} s"
    finally:
        signal.alarm(0)


def _run_case(case: Path) -> tuple[str, str]:
    program_file = case / f"{case.name}.dl"
    if not program_file.exists():
        return "skipped", "no program"
    err_file = case / f"{case.name}.err"
    if err_file.exists() and err_file.read_text().strip():
        return "skipped", "expects diagnostics"
    expected = sorted(case.glob("*.csv"))
    try:
        program = Program.from_files([program_file], include_dirs=[case])
    except DatalogError as e:
        return "unsupported", e.errors[0]
    try:
        db = Database(program)
        facts = case / "facts"
        db.load_facts_dir(facts if facts.is_dir() else case)
        db.run()
        with tempfile.TemporaryDirectory() as out, redirect_stdout(io.StringIO()):
            db.write_outputs(out)
            for exp in expected:
                got = Path(out) / exp.name
                if not got.exists():
                    return "failed", f"{exp.name} not written"
                if lines(got) != lines(exp):
                    diff = set(lines(got)) ^ set(lines(exp))
                    return "failed", f"{exp.name} differs: {sorted(diff)[:3]}"
    except DatalogError as e:
        return "failed", e.errors[0]
    except Timeout:
        raise
    except Exception as e:  # report and go on
        return "failed", "".join(traceback.format_exception_only(e)).strip()
    return "passed", ""


def main() -> None:
    root = Path(sys.argv[1])
    verbose = "-v" in sys.argv
    counts: dict[str, int] = {}
    for case in sorted(p for p in root.iterdir() if p.is_dir()):
        status, why = run_case(case)
        counts[status] = counts.get(status, 0) + 1
        if verbose or status == "failed":
            print(f"{status:12} {case.name}: {why}")
    print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
