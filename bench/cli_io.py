"""The Datalog engine through its command line, as Soufflé users run it, against in-process.

    python bench/cli_io.py                  # full sizes, median of 3
    python bench/cli_io.py --size quick -n 5 --only tc-random,inspection

For each workload of ``bench/run.py`` (the same generator, fixed seeds) it writes the program
(``.input`` for every fact relation, ``.output`` for the answers) and the ``.facts`` files to a
temporary directory, then, in the same run:

* ``in-process``: what ``bench/run.py`` times for our engine (``Program.from_text`` +
  ``add_facts`` + ``run()``, in a fresh child process, facts from memory);
* ``CLI``: the wall-clock time of ``guestinspect datalog PROG -F FACTS -D OUT`` as a
  subprocess: interpreter start, imports, reading the ``.facts``, evaluation, writing every
  ``.csv``. Its output is read back and checked against the in-process answer (tuple count and
  hash);
* ``start``: ``guestinspect datalog --help`` (interpreter start and the command's imports).

The ratio CLI / in-process is printed per workload; the target is <= 2.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

import lang  # noqa: E402
import run  # noqa: E402
import workloads  # noqa: E402

from guestinspect.datalog.factfiles import parse_value, write_facts  # noqa: E402


def command() -> list[str]:
    """The ``guestinspect`` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "guestinspect"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from guestinspect.cli import main; main()"]


def write_case(spec: lang.Spec, root: Path) -> tuple[Path, Path]:
    """The program file and the fact directory of ``spec`` under ``root``."""
    prog = root / f"{spec.name}.dl"
    prog.write_text(lang.to_souffle(spec, with_inputs=True), encoding="utf-8")
    facts = root / "facts"
    facts.mkdir()
    for rel, tuples in spec.facts.items():
        write_facts(facts / f"{rel}.facts", tuples)
    return prog, facts


def read_answers(spec: lang.Spec, out: Path) -> lang.Result:
    """The ``.csv`` files the CLI wrote, as typed tuples."""
    result: lang.Result = {}
    for rel in spec.outputs:
        kinds = ["symbol" if t == "symbol" else "number" for t in spec.types[rel]]
        rows: set[tuple[Any, ...]] = set()
        with open(out / f"{rel}.csv", encoding="utf-8") as f:
            for line in f:
                fields = line.rstrip("\n").split("\t")
                rows.add(tuple(parse_value(v, k) for v, k in zip(fields, kinds, strict=True)))
        result[rel] = rows
    return result


def timed_cli(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed


def measure(w: workloads.Workload, size: str, n: int, env: dict[str, str]
            ) -> dict[str, Any]:
    spec = w.build()
    inproc: list[float] = []
    digest: tuple[int, str] | None = None
    for _ in range(n):
        r = run.spawn("ours", size, w.name, 900.0)
        if "error" in r:
            raise SystemExit(f"{w.name}: in-process run failed: {r['error']}")
        inproc.append(r["times"]["load"] + r["times"]["eval"])
        digest = (r["count"], r["digest"])
    cli: list[float] = []
    with tempfile.TemporaryDirectory(prefix="cli_io-") as tmp:
        prog, facts = write_case(spec, Path(tmp))
        out = Path(tmp) / "out"
        for _ in range(n):
            cli.append(timed_cli([*command(), "datalog", str(prog), "-F", str(facts),
                                  "-D", str(out)], env))
        got = lang.digest(read_answers(spec, out))
    if got != digest:
        raise SystemExit(f"{w.name}: the CLI's answer {got} differs from in-process {digest}")
    return {"name": w.name, "tuples": got[0], "in": statistics.median(inproc),
            "cli": statistics.median(cli)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--size", choices=sorted(workloads.SIZES), default="full")
    ap.add_argument("-n", type=int, default=3, help="runs of each (median)")
    ap.add_argument("--only", default="", help="comma-separated workload names")
    args = ap.parse_args(argv)
    only = {w for w in args.only.split(",") if w}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE.parent),
                                                    env.get("PYTHONPATH", "")) if p)
    load0 = os.getloadavg()[0]
    start = statistics.median(timed_cli([*command(), "datalog", "--help"], env)
                              for _ in range(max(args.n, 3)))
    rows = [measure(w, args.size, args.n, env) for w in workloads.SIZES[args.size]
            if not only or w.name in only]
    print(f"machine: {os.cpu_count()} CPUs, load average {load0:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end; Python {sys.version.split()[0]}; "
          f"size {args.size}; median of {args.n}")
    print(f"start: `guestinspect datalog --help` {start:.3f} s")
    print()
    table = [["workload", "tuples", "in-process s", "CLI s", "CLI/in-process"]]
    for r in rows:
        table.append([r["name"], str(r["tuples"]), f"{r['in']:.3f}", f"{r['cli']:.3f}",
                      f"{r['cli'] / r['in']:.2f}x"])
    run._print_md(table)
    worst = max(r["cli"] / r["in"] for r in rows)
    print()
    print(f"worst CLI/in-process: {worst:.2f}x (target <= 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
