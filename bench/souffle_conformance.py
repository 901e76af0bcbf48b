"""Soufflé's own tests (`tests/evaluation`, `tests/example`) through `guestinspect datalog`.

    python bench/souffle_conformance.py SOUFFLE_GIT_DIR [-j 2] [--timeout 60] [-v] [CASE ...]

SOUFFLE_GIT_DIR is a (bare) git directory of github.com/souffle-lang/souffle; the cases are
extracted from its HEAD into a temporary directory, never copied into this repository (a blob
the checkout lacks is left out). A case is a directory with a main ``.dl`` file and at least one
expected ``.csv`` (257 at souffle ``a1303be3c``); each runs as
``python -m guestinspect.datalog MAIN.dl -F FACTS -D OUT`` in a child process (facts from the
case's ``facts/`` or the case directory, at most ``-j`` at a time; the program cache off, each
program runs once) and each expected ``.csv`` is
compared with ours as a multiset of lines, numbers normalized (``1.50`` = ``1.5``, floats to 6
significant digits).

A case is *core* when its comment- and string-free text uses none of the EXTENSIONS among the
FEATURES (records, ADTs, components, subsumption, ``autoinc``, ``eqrel``, ``inline``, ...); the
summary gives the core and the overall figures.
A CASE argument is a case name (``fib``) or ``category/name``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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

#: What makes a case non-core: the language's extensions beyond plain relations, rules,
#: functors and aggregates (257 cases at souffle a1303be3c: 200 core, as issue 15 counts them).
EXTENSIONS = {"records", "ADTs", "components", "subsumption", "autoinc", "eqrel", ".functor",
              "inline", "lattice", "choice-domain", ".plan", "sqlite"}

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


CATEGORIES = ("evaluation", "example")


@dataclass
class Outcome:
    case: str
    status: str  # pass fail error timeout unsupported no-expected
    detail: str = ""
    seconds: float = 0.0
    features: list[str] = field(default_factory=list)

    @property
    def counted(self) -> bool:
        return self.status != "no-expected"

    @property
    def core(self) -> bool:
        return self.counted and not EXTENSIONS.intersection(self.features)


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


def main_dl(case: Path) -> Path | None:
    dl = case / f"{case.name}.dl"
    if dl.exists():
        return dl
    dls = sorted(case.glob("*.dl"))
    return dls[0] if len(dls) == 1 else None


def error_outcome(name: str, stderr: str, secs: float) -> Outcome:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if any(ln.startswith("Traceback") for ln in lines):
        return Outcome(name, "error", "traceback: " + (lines[-1] if lines else ""), secs)
    first = lines[0] if lines else "no message"
    status = "unsupported" if UNSUPPORTED.search(first) else "error"
    return Outcome(name, status, first, secs)


def run_case(case: Path, timeout: float) -> Outcome:
    name = f"{case.parent.name}/{case.name}"
    dl = main_dl(case)
    if dl is None or not list(case.glob("*.csv")):
        return Outcome(name, "no-expected", "no main .dl or no expected .csv")
    feats = features_used(case)
    facts = case / "facts" if (case / "facts").is_dir() else case
    with tempfile.TemporaryDirectory(prefix="out-") as out:
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "guestinspect.datalog", str(dl), "-F", str(facts),
                 "-D", out], capture_output=True, text=True, timeout=timeout, cwd=case,
                env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                     "GUESTINSPECT_NO_PROGRAM_CACHE": "1"})  # each case runs once
        except subprocess.TimeoutExpired:
            return Outcome(name, "timeout", f"> {timeout:.0f} s", timeout, feats)
        secs = time.perf_counter() - t0
        if proc.returncode != 0:
            o = error_outcome(name, proc.stderr, secs)
            o.features = feats
            return o
        problems = compare(case, Path(out))
    if problems:
        return Outcome(name, "fail", " | ".join(problems), secs, feats)
    return Outcome(name, "pass", "", secs, feats)


def extract(git_dir: Path, dest: Path) -> list[Path]:
    """Write the blobs under tests/evaluation and tests/example into dest; the case dirs."""
    git = ["git", f"--git-dir={git_dir}"]
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", "HEAD", "--",
                              *(f"tests/{c}" for c in CATEGORIES)],
                             check=True, capture_output=True).stdout
    entries = []
    for item in listing.split(b"\0"):
        if not item:
            continue
        meta, _, path = item.partition(b"\t")
        mode, kind, sha = meta.split(b" ")
        rel = Path(path.decode())
        if kind == b"blob" and mode != b"120000" and ".." not in rel.parts:
            entries.append((sha.decode(), rel))
    batch = subprocess.run([*git, "cat-file", "--batch"], check=True, capture_output=True,
                           input="".join(f"{sha}\n" for sha, _ in entries).encode()).stdout
    pos = 0
    for _, rel in entries:
        header_end = batch.index(b"\n", pos)
        header = batch[pos:header_end].split(b" ")
        pos = header_end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(batch[pos:pos + size])
        pos += size + 1
    return sorted(p for c in CATEGORIES for p in (dest / "tests" / c).iterdir() if p.is_dir())


def select(cases: list[Path], wanted: list[str]) -> list[Path]:
    if not wanted:
        return cases
    names = set(wanted)
    return [c for c in cases if c.name in names or f"{c.parent.name}/{c.name}" in names]


def summary(outcomes: list[Outcome]) -> str:
    counted = [o for o in outcomes if o.counted]
    core = [o for o in counted if o.core]
    counts = Counter(o.status for o in counted)

    def passed(group: list[Outcome]) -> int:
        return sum(o.status == "pass" for o in group)

    return (f"core {passed(core)}/{len(core)}, overall {passed(counted)}/{len(counted)}"
            f" (fail {counts['fail']}, error {counts['error']}, timeout {counts['timeout']},"
            f" unsupported {counts['unsupported']});"
            f" {len(outcomes) - len(counted)} directories without a main .dl or expected .csv")


def report(outcomes: list[Outcome], verbose: bool) -> None:
    width = max((len(o.case) for o in outcomes), default=4)
    print(f"{'case':<{width}}  {'status':<11}  {'s':>6}  detail")
    for o in outcomes:
        if (o.status == "pass" or not o.counted) and not verbose:
            continue
        secs = f"{o.seconds:6.2f}" if o.seconds else " " * 6
        feats = f"[{', '.join(o.features)}] " if o.features else ""
        print(f"{o.case:<{width}}  {o.status:<11}  {secs}  {feats}{o.detail[:200]}")
    print()
    print(summary(outcomes))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Soufflé's evaluation and example tests on our engine")
    ap.add_argument("git_dir", type=Path, help="souffle git directory")
    ap.add_argument("cases", nargs="*", help="only these cases (name or category/name)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="cases run at once")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list passing cases")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="souffle-tests-") as tmp:
        cases = select(extract(args.git_dir, Path(tmp)), args.cases)

        def one(case: Path) -> Outcome:
            o = run_case(case, args.timeout)
            print(f"{o.status:<11} {o.case}", file=sys.stderr, flush=True)
            return o

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            outcomes = list(pool.map(one, cases))
    report(outcomes, args.verbose)
    print(f"wall time {time.perf_counter() - t0:.0f} s, -j {args.jobs}")
    return 0 if all(o.status == "pass" for o in outcomes if o.counted) else 1


if __name__ == "__main__":
    sys.exit(main())
