"""The Datalog engine through its command line, as Soufflé users run it, against in-process.

    python bench/cli_io.py                  # full sizes, median of 3
    python bench/cli_io.py --size quick -n 5 --only tc-random,inspection

For each workload of ``bench/run.py`` (the same generator, fixed seeds) it writes the program
(``.input`` for every fact relation, ``.output`` for the answers) and the ``.facts`` files to a
temporary directory, then, in the same run:

* ``in-process``: what ``bench/run.py`` times for our engine (``Program.from_text`` +
  ``add_facts`` + ``run()``, in a fresh child process, facts from memory), wall-clock and CPU;
* ``CLI``: ``guestinspect datalog PROG -F FACTS -D OUT`` as a subprocess, wall-clock and the
  CPU time of the whole process (``os.wait4``): interpreter start, imports, reading the
  ``.facts``, evaluation, writing every ``.csv``. Its output is read back and checked against
  the in-process answer (tuple count and hash);
* ``start``: ``guestinspect datalog --help`` (interpreter start and the command's imports).

The ratio CLI / in-process is printed per workload, of wall-clock and of CPU times (the CPU
ratio is the steadier one on a loaded machine); the target is <= 2. The CLI runs as an
installed package does, with its modules' bytecode cached (``PYTHONPYCACHEPREFIX`` in the
temporary directory, filled by an untimed first run; ``PYTHONDONTWRITEBYTECODE`` is dropped
from its environment): else every run would compile the package's sources again. Likewise
the program cache (``$XDG_CACHE_HOME``, in the temporary directory too, so that the user's own
cache is left alone) holds each program after that first run, as it does for a user who runs
a program again (set ``GUESTINSPECT_NO_PROGRAM_CACHE=1`` to time the CLI without it).
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


def timed_cli(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of the command ``args`` (its process's user + system time)."""
    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): "
                             f"{err.read().strip()}")
    return elapsed, usage.ru_utime + usage.ru_stime


def measure(w: workloads.Workload, size: str, n: int, env: dict[str, str]
            ) -> dict[str, Any]:
    spec = w.build()
    inproc: list[tuple[float, float]] = []
    digest: tuple[int, str] | None = None
    cli: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="cli_io-") as tmp:
        prog, facts = write_case(spec, Path(tmp))
        out = Path(tmp) / "out"
        args = [*command(), "datalog", str(prog), "-F", str(facts), "-D", str(out)]
        timed_cli(args, env)  # untimed: fills the bytecode cache of what this run imports
        for _ in range(n):  # alternately, so that both see the same load
            r = run.spawn("ours", size, w.name, 900.0)
            if "error" in r:
                raise SystemExit(f"{w.name}: in-process run failed: {r['error']}")
            inproc.append((r["times"]["load"] + r["times"]["eval"], r["times"]["cpu"]))
            digest = (r["count"], r["digest"])
            cli.append(timed_cli(args, env))
        got = lang.digest(read_answers(spec, out))
    if got != digest:
        raise SystemExit(f"{w.name}: the CLI's answer {got} differs from in-process {digest}")
    return {"name": w.name, "tuples": got[0],
            "in": statistics.median(t[0] for t in inproc),
            "in_cpu": statistics.median(t[1] for t in inproc),
            "cli": statistics.median(t[0] for t in cli),
            "cli_cpu": statistics.median(t[1] for t in cli)}


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
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="cli_io-pyc-") as pyc:
        env["PYTHONPYCACHEPREFIX"] = pyc
        env["XDG_CACHE_HOME"] = pyc
        help_args = [*command(), "datalog", "--help"]
        timed_cli(help_args, env)  # untimed: fills the bytecode cache
        starts = [timed_cli(help_args, env) for _ in range(max(args.n, 3))]
        rows = [measure(w, args.size, args.n, env) for w in workloads.SIZES[args.size]
                if not only or w.name in only]
    print(f"machine: {os.cpu_count()} CPUs, load average {load0:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end; Python {sys.version.split()[0]}; "
          f"size {args.size}; median of {args.n}")
    print(f"start: `guestinspect datalog --help` {statistics.median(s[0] for s in starts):.3f}"
          f" s, CPU {statistics.median(s[1] for s in starts):.3f} s")
    print()
    table = [["workload", "tuples", "in-process s", "CLI s", "CLI/in-process",
              "in-process CPU s", "CLI CPU s", "CPU CLI/in-process"]]
    for r in rows:
        table.append([r["name"], str(r["tuples"]), f"{r['in']:.3f}", f"{r['cli']:.3f}",
                      f"{r['cli'] / r['in']:.2f}x", f"{r['in_cpu']:.3f}",
                      f"{r['cli_cpu']:.3f}", f"{r['cli_cpu'] / r['in_cpu']:.2f}x"])
    run._print_md(table)
    print()
    print(f"worst CLI/in-process: {max(r['cli'] / r['in'] for r in rows):.2f}x wall-clock, "
          f"{max(r['cli_cpu'] / r['in_cpu'] for r in rows):.2f}x CPU (target <= 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
