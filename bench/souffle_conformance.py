"""Run Soufflé's own evaluation tests (``tests/evaluation/*``) through guestinspect's engine.

    python bench/souffle_conformance.py /work/.mirror/souffle-lang+souffle/repo [-v] [CASE ...]

SOUFFLE_GIT_DIR is a (bare) git directory of github.com/souffle-lang/souffle; the cases are
extracted from its HEAD into a temporary directory, never copied into this repository. A case
whose sources use a feature outside our subset (records, ADTs, components, choice-domain, C
functors, subsumption, ``autoinc``, ``range``, lattices, ``inline``, ``eqrel``, ``.printsize``,
casts, ``+`` on string literals) is skipped by a scan of its comment- and string-free
text. Every other case runs in a child process (``Program.from_files``, ``load_facts_dir`` on
the case's ``facts/`` or the case directory, ``run``, ``write_outputs``) and each expected
``.csv`` is compared with ours as a multiset of lines, numbers normalized (``1.50`` = ``1.5``,
floats to 6 significant digits).
A case the engine rejects with a DatalogError saying "unsupported" / "not supported" is counted
as skipped too; any other error is a failure.
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FEATURES: list[tuple[str, re.Pattern[str]]] = [
    ("records", re.compile(r"\[|\bnil\b")),
    ("ADTs", re.compile(r"\$\s*\w|\.type\s+\w+\s*=\s*\w+\s*\{")),
    ("components", re.compile(r"\.(comp|init|override)\b")),
    (".plan", re.compile(r"\.plan\b")),
    ("choice-domain", re.compile(r"choice-domain")),
    (".functor", re.compile(r"\.functor\b|@")),
    ("subsumption", re.compile(r"^\s*\w+\s*\([^()]*\)\s*<=\s*\w+\s*\(", re.M)),
    ("autoinc", re.compile(r"\bautoinc\s*\(")),
    ("range", re.compile(r"\brange\s*\(")),
    ("lattice", re.compile(r"\.lattice\b|<:\s*lattice|\blattice\b")),
    ("inline", re.compile(r"\binline\b")),
    ("eqrel", re.compile(r"\beqrel\b")),
    (".printsize", re.compile(r"\.printsize\b")),
    ("casts as()", re.compile(r"\bas\s*\(")),
    (".limitsize", re.compile(r"\.limitsize\b")),
    ("sqlite", re.compile(r"sqlite")),
    ("'+' on symbols", re.compile(r'""\s*\+|\+\s*""')),  # string literals were emptied
]

UNSUPPORTED = re.compile(r"unsupported|not supported", re.I)


def strip_comments_and_strings(text: str) -> str:
    """The text with comments removed and string literals emptied (``"..."`` -> ``""``)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            out.append("\n" * text.count("\n", i, n if j < 0 else j))
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def features_used(case: Path) -> list[str]:
    found: list[str] = []
    for dl in sorted(case.rglob("*.dl")):
        text = strip_comments_and_strings(dl.read_text(errors="replace"))
        # `.output R(IO=file, filename="x")`-style options are ours too: ignore what is in them
        for name, pattern in FEATURES:
            if name not in found and pattern.search(text):
                found.append(name)
    return found


def normalize_field(f: str) -> str:
    try:
        return str(int(f))
    except ValueError:
        pass
    try:
        x = float(f)
    except ValueError:
        return f
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return format(x, ".6g")


def lines_of(path: Path) -> Counter[str]:
    c: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        line = line.rstrip("\r")
        if line.strip():
            c["\t".join(normalize_field(f) for f in line.split("\t"))] += 1
    return c


@dataclass
class Outcome:
    case: str
    status: str  # pass fail error timeout skip-feature skip-unsupported skip-no-expected
    detail: str = ""
    seconds: float = 0.0


def compare(expected_dir: Path, out_dir: Path) -> list[str]:
    problems: list[str] = []
    for exp in sorted(expected_dir.glob("*.csv")):
        got = out_dir / exp.name
        if not got.exists():
            problems.append(f"{exp.name}: not written")
            continue
        want, have = lines_of(exp), lines_of(got)
        if want != have:
            missing, extra = want - have, have - want
            msg = f"{exp.name}: {sum(missing.values())} missing, {sum(extra.values())} unexpected"
            if missing:
                msg += f"; e.g. missing {next(iter(missing))!r}"
            if extra:
                msg += f"; e.g. unexpected {next(iter(extra))!r}"
            problems.append(msg)
    return problems


def run_case(case: Path, timeout: float) -> Outcome:
    name = case.name
    dl = case / f"{name}.dl"
    if not dl.exists():
        dls = sorted(case.glob("*.dl"))
        if len(dls) != 1:
            return Outcome(name, "skip-no-expected", "no main .dl file")
        dl = dls[0]
    feats = features_used(case)
    if feats:
        return Outcome(name, "skip-feature", ", ".join(feats))
    if not list(case.glob("*.csv")):
        return Outcome(name, "skip-no-expected", "no expected .csv (stdout only)")
    facts = case / "facts" if (case / "facts").is_dir() else case
    with tempfile.TemporaryDirectory(prefix="out-") as out:
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--run-one", str(dl),
                 str(facts), out],
                capture_output=True, text=True, timeout=timeout, cwd=case)
        except subprocess.TimeoutExpired:
            return Outcome(name, "timeout", f"> {timeout:.0f} s", timeout)
        secs = time.perf_counter() - t0
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
            first = next((ln for ln in lines if ln.startswith("DatalogError: ")), None)
            if first is not None:
                status = "skip-unsupported" if UNSUPPORTED.search(first) else "error"
                return Outcome(name, status, first.removeprefix("DatalogError: "), secs)
            return Outcome(name, "error", lines[-1] if lines else f"exit {proc.returncode}",
                           secs)
        problems = compare(case, Path(out))
    if problems:
        return Outcome(name, "fail", " | ".join(problems), secs)
    return Outcome(name, "pass", "", secs)


def run_one(dl: str, facts: str, out: str) -> int:
    """Child: evaluate one program; a DatalogError is printed as one ``DatalogError:`` line."""
    sys.path.insert(0, str(ROOT))
    from guestinspect.datalog import Database, DatalogError, Program

    try:
        db = Database(Program.from_files([dl]))
        db.load_facts_dir(facts)
        db.run()
        db.write_outputs(out)
    except DatalogError as e:
        print("DatalogError: " + str(e).replace("\n", " "), file=sys.stderr)
        return 2
    return 0


def extract(git_dir: Path, dest: Path) -> Path:
    data = subprocess.run(["git", f"--git-dir={git_dir}", "archive", "--format=tar", "HEAD",
                           "tests/evaluation"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = [m for m in tar.getmembers()
                   if (m.isfile() or m.isdir()) and not m.name.startswith("/")
                   and ".." not in Path(m.name).parts]
        tar.extractall(dest, members=members)  # noqa: S202 (checked above; 3.11.2: no filter=)
    return dest / "tests" / "evaluation"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Soufflé evaluation tests on our engine")
    ap.add_argument("git_dir", nargs="?", type=Path, help="souffle git directory")
    ap.add_argument("cases", nargs="*", help="only these case names")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list skipped cases")
    ap.add_argument("--run-one", nargs=3, metavar=("DL", "FACTS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run_one:
        return run_one(*args.run_one)
    if args.git_dir is None:
        ap.error("SOUFFLE_GIT_DIR is required")
    with tempfile.TemporaryDirectory(prefix="souffle-eval-") as tmp:
        root = extract(args.git_dir, Path(tmp))
        cases = sorted(p for p in root.iterdir() if p.is_dir())
        if args.cases:
            cases = [c for c in cases if c.name in set(args.cases)]
        outcomes = []
        for case in cases:
            o = run_case(case, args.timeout)
            outcomes.append(o)
            print(f"{o.status:<17} {o.case}", file=sys.stderr, flush=True)
    counts = Counter(o.status for o in outcomes)
    attempted = counts["pass"] + counts["fail"] + counts["error"] + counts["timeout"]
    width = max((len(o.case) for o in outcomes), default=4)
    print(f"{'case':<{width}}  {'status':<16}  {'s':>6}  detail")
    for o in outcomes:
        if o.status.startswith("skip") and not args.verbose:
            continue
        secs = f"{o.seconds:6.2f}" if o.seconds else " " * 6
        print(f"{o.case:<{width}}  {o.status:<16}  {secs}  {o.detail[:200]}")
    print()
    print(f"passed {counts['pass']} / attempted {attempted}"
          f" (fail {counts['fail']}, error {counts['error']}, timeout {counts['timeout']});"
          f" skipped by feature {counts['skip-feature']},"
          f" engine-unsupported {counts['skip-unsupported']},"
          f" no expected .csv {counts['skip-no-expected']}; total {len(outcomes)} cases")
    return 0 if attempted == counts["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
