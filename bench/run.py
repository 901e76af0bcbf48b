"""Benchmark guestinspect's Datalog engine against pyDatalog and clingo on the same data.

    python bench/run.py                 # full sizes, all engines (several minutes)
    python bench/run.py --quick         # smaller sizes, a smoke run
    python bench/run.py --size tiny --engines ours --reference   # + brute-force check

Every (workload, engine) pair runs in its own child process (``--child``), which generates the
workload (fixed seeds), prepares the engine's input outside the timer (and imports the
engine there: ours' front end by compiling a one-line program), then times:

* ``load``: ours ``Program.from_text`` + ``Database`` + ``add_facts``; pyDatalog ``assert_fact``
  + ``load``; clingo ``Control.add`` (parsing program and fact text);
* ``eval``: ours ``db.run()``; pyDatalog ``ask`` of every output relation (top-down, it
  computes while answering); clingo ``ground`` + ``solve``;
* ``read``: turning the answers into Python sets of tuples (for clingo: ``Model.symbols`` and
  converting each ``Symbol``).

The reported time is ``load + eval``; ``read`` is shown separately. With ``--repeat N`` each
engine runs up to N times per workload (fewer once it has spent 20 s) and the fastest run counts.

Memory is the peak resident set size of the child (``ru_maxrss`` from ``os.wait4`` on that
child), which includes the interpreter, the engine's import and the generated input; it counts
memory allocated in C (clingo, pyDatalog's Cython parts), which ``tracemalloc`` would miss.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import lang  # noqa: E402
import workloads  # noqa: E402

ENGINES = ["ours", "pydatalog", "clingo"]
LABELS = {"ours": "ours", "pydatalog": "pyDatalog", "clingo": "clingo"}


# ---- the child side ---------------------------------------------------------------------


def _maxrss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_ours(spec: lang.Spec) -> tuple[dict[str, float], lang.Result]:
    from guestinspect.datalog import Database, Program

    # untimed, as every import: the front end (parser, checks) is imported by the first
    # compile, not with the package (a program from the cache needs none of it)
    Program.from_text(".decl Warm(x: number)")
    text = lang.to_souffle(spec)
    c0 = time.process_time()
    t0 = time.perf_counter()
    db = Database(Program.from_text(text, filename=f"<{spec.name}>"))
    for rel, tuples in spec.facts.items():
        db.add_facts(rel, tuples)
    t1 = time.perf_counter()
    db.run()
    t2 = time.perf_counter()
    c2 = time.process_time()
    result = {rel: set(db.tuples(rel)) for rel in spec.outputs}
    t3 = time.perf_counter()
    # cpu: the CPU time of load + eval (bench/cli_io.py compares it on a loaded machine)
    return {"load": t1 - t0, "eval": t2 - t1, "read": t3 - t2, "cpu": c2 - c0}, result


def run_pydatalog(spec: lang.Spec) -> tuple[dict[str, float], lang.Result]:
    from pyDatalog import pyDatalog

    text = lang.to_pydatalog(spec)
    idb = {r.head.rel for r in spec.rules}
    queries = {rel: f"r_{rel}({', '.join(f'Q{i}' for i in range(len(spec.types[rel])))})"
               for rel in spec.outputs}
    pyDatalog.clear()
    t0 = time.perf_counter()
    for rel in spec.types:
        if rel not in idb and not spec.facts.get(rel):
            # an undefined predicate makes ask() raise: define it, empty
            dummy = ("__none__",) * len(spec.types[rel])
            pyDatalog.assert_fact(f"r_{rel}", *dummy)
            pyDatalog.retract_fact(f"r_{rel}", *dummy)
    for rel, tuples in spec.facts.items():
        name = f"r_{rel}"
        for t in tuples:
            pyDatalog.assert_fact(name, *t)
    pyDatalog.load(text)
    t1 = time.perf_counter()
    answers = {rel: pyDatalog.ask(q) for rel, q in queries.items()}
    t2 = time.perf_counter()
    result: lang.Result = {
        rel: set() if a is None else {tuple(t) for t in a.answers} for rel, a in answers.items()
    }
    t3 = time.perf_counter()
    return {"load": t1 - t0, "eval": t2 - t1, "read": t3 - t2}, result


def run_clingo(spec: lang.Spec) -> tuple[dict[str, float], lang.Result]:
    import clingo

    text = lang.clingo_facts(spec) + lang.to_clingo(spec)
    names = {f"r_{rel}": rel for rel in spec.outputs}
    number = clingo.SymbolType.Number
    t0 = time.perf_counter()
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], text)
    t1 = time.perf_counter()
    ctl.ground([("base", [])])
    symbols: list[Any] = []
    with ctl.solve(yield_=True) as handle:
        for model in handle:
            t2 = time.perf_counter()
            symbols = model.symbols(shown=True)
            break
        else:
            raise RuntimeError("clingo found no model")
    result: lang.Result = {rel: set() for rel in spec.outputs}
    for s in symbols:
        result[names[s.name]].add(tuple(a.number if a.type == number else a.string
                                        for a in s.arguments))
    t3 = time.perf_counter()
    return {"load": t1 - t0, "eval": t2 - t1, "read": t3 - t2}, result


RUNNERS = {"ours": run_ours, "pydatalog": run_pydatalog, "clingo": run_clingo}


MODULES = {"ours": "guestinspect.datalog", "pydatalog": "pyDatalog.pyDatalog", "clingo": "clingo"}


def child_main(engine: str, size: str, workload: str) -> None:
    root = str(HERE.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    importlib.import_module(MODULES[engine])  # not timed, but counted in the base RSS
    spec = workloads.get(size, workload)
    base = _maxrss_kb()
    times, result = RUNNERS[engine](spec)
    count, dig = lang.digest(result)
    print(json.dumps({"times": times, "count": count, "digest": dig, "base_rss_kb": base,
                      "per_relation": {r: len(v) for r, v in result.items()}}))


# ---- the parent side ---------------------------------------------------------------------


def spawn(engine: str, size: str, workload: str, timeout: float) -> dict[str, Any]:
    """Run one child; its result plus ``peak_rss_kb`` (from wait4) or an ``error``."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", engine, size, workload],
            stdout=out, stderr=err, cwd=HERE.parent)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = -9
                return {"error": f"timeout after {timeout:.0f} s", "peak_rss_kb": usage.ru_maxrss}
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0 or not stdout.strip():
        lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
        return {"error": lines[-1] if lines else f"exit code {proc.returncode}",
                "stderr": stderr, "peak_rss_kb": usage.ru_maxrss}
    res: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    res["peak_rss_kb"] = usage.ru_maxrss
    return res


REPEAT_BUDGET = 20.0  # seconds: an engine slower than this per workload is not run again


def _total(r: dict[str, Any]) -> float:
    return float(r["times"]["load"] + r["times"]["eval"]) if "times" in r else 0.0


def _fmt_time(r: dict[str, Any] | None) -> str:
    if r is None:
        return "-"
    if "error" in r:
        return "ERR"
    return f"{r['times']['load'] + r['times']['eval']:.3f}"


def _fmt_mem(r: dict[str, Any] | None) -> str:
    if r is None or "peak_rss_kb" not in r:
        return "-"
    return f"{r['peak_rss_kb'] / 1024:.0f}"


def _ratio(num: dict[str, Any] | None, den: dict[str, Any] | None, key: str) -> str:
    if not num or not den or "error" in num or "error" in den:
        return "-"
    if key == "time":
        a = num["times"]["load"] + num["times"]["eval"]
        b = den["times"]["load"] + den["times"]["eval"]
    else:
        a, b = num["peak_rss_kb"], den["peak_rss_kb"]
    return f"{a / b:.1f}x" if b > 0 else "-"


def print_tables(rows: list[tuple[str, str, int | None, dict[str, dict[str, Any]]]],
                 engines: list[str]) -> None:
    print()
    print("time = load + eval (seconds); memory = peak RSS of the child (MiB)")
    print()
    head = ["workload", "size", "tuples"]
    head += [f"{LABELS[e]} s" for e in engines]
    if "ours" in engines and "pydatalog" in engines:
        head.append("pyDatalog/ours")
    if "ours" in engines and "clingo" in engines:
        head.append("clingo/ours")
    head += [f"{LABELS[e]} MiB" for e in engines]
    if "ours" in engines and "pydatalog" in engines:
        head.append("mem ours/pyDatalog")
    table = [head]
    for name, notes, count, res in rows:
        line = [name, notes, "-" if count is None else str(count)]
        line += [_fmt_time(res.get(e)) for e in engines]
        if "ours" in engines and "pydatalog" in engines:
            line.append(_ratio(res.get("pydatalog"), res.get("ours"), "time"))
        if "ours" in engines and "clingo" in engines:
            line.append(_ratio(res.get("clingo"), res.get("ours"), "time"))
        line += [_fmt_mem(res.get(e)) for e in engines]
        if "ours" in engines and "pydatalog" in engines:
            line.append(_ratio(res.get("ours"), res.get("pydatalog"), "mem"))
        table.append(line)
    _print_md(table)
    print()
    print("phases (seconds: load / eval / read); base = RSS before the timed part"
          " (MiB: interpreter, engine import, input data)")
    print()
    table = [["workload"] + [f"{LABELS[e]} load/eval/read" for e in engines]
             + [f"{LABELS[e]} base MiB" for e in engines]]
    for name, _notes, _count, res in rows:
        line = [name]
        for e in engines:
            r = res.get(e)
            if r is None or "error" in r:
                line.append("-" if r is None else "ERR: " + str(r["error"])[:60])
            else:
                t = r["times"]
                line.append(f"{t['load']:.3f} / {t['eval']:.3f} / {t['read']:.3f}")
        for e in engines:
            r = res.get(e)
            line.append("-" if r is None or "base_rss_kb" not in r
                        else f"{r['base_rss_kb'] / 1024:.0f}")
        table.append(line)
    _print_md(table)


def _print_md(table: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for k, row in enumerate(table):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if k == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def _fastest(engine: str, size: str, name: str, timeout: float, repeat: int) -> dict[str, Any]:
    """The fastest of up to ``repeat`` runs (until REPEAT_BUDGET seconds are used; an error
    ends it), with the peak memory of them all."""
    r = spawn(engine, size, name, timeout)
    spent = _total(r)
    for _ in range(repeat - 1):
        if "error" in r or spent > REPEAT_BUDGET:
            break
        again = spawn(engine, size, name, timeout)
        spent += _total(again)
        if "error" in again:
            r = again
        elif _total(again) < _total(r):
            again["peak_rss_kb"] = max(again["peak_rss_kb"], r["peak_rss_kb"])
            r = again
        else:
            r["peak_rss_kb"] = max(again["peak_rss_kb"], r["peak_rss_kb"])
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (same as --size quick)")
    ap.add_argument("--size", choices=sorted(workloads.SIZES),
                    help="full (default), quick (= --quick) or tiny")
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help="comma-separated subset of " + ",".join(ENGINES))
    ap.add_argument("--only", default="", help="comma-separated workload names")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per child")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each engine up to N times (until it has used 20 s) and keep the"
                    " fastest run; peak memory is the maximum over the runs")
    ap.add_argument("--reference", action="store_true",
                    help="also check every result against a brute-force Python evaluation")
    ap.add_argument("--json", type=Path, help="write all raw results to this file")
    ap.add_argument("--child", nargs=3, metavar=("ENGINE", "SIZE", "WORKLOAD"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child_main(*args.child)
        return 0
    size = args.size or ("quick" if args.quick else "full")
    engines = [e for e in args.engines.split(",") if e]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        ap.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
    only = {w for w in args.only.split(",") if w}
    load0 = os.getloadavg()
    ok = True
    rows: list[tuple[str, str, int | None, dict[str, dict[str, Any]]]] = []
    raw: dict[str, Any] = {}
    for w in workloads.SIZES[size]:
        if only and w.name not in only:
            continue
        spec = w.build()
        res: dict[str, dict[str, Any]] = {}
        for e in engines:
            print(f"{w.name:<12} {LABELS[e]:<10} ...", end="", flush=True, file=sys.stderr)
            r = _fastest(e, size, w.name, args.timeout, args.repeat)
            res[e] = r
            if "error" in r:
                ok = False
                print(f" ERROR {r['error']}", file=sys.stderr)
                if r.get("stderr"):
                    print("    " + "\n    ".join(r["stderr"].strip().splitlines()[-15:]),
                          file=sys.stderr)
            else:
                t = r["times"]
                print(f" {t['load'] + t['eval']:.3f} s, {r['peak_rss_kb'] / 1024:.0f} MiB,"
                      f" {r['count']} tuples", file=sys.stderr)
        good = {e: r for e, r in res.items() if "error" not in r}
        if args.reference:
            count, dig = lang.digest(lang.naive_eval(spec))
            good["reference"] = {"count": count, "digest": dig}
        if len({(r["count"], r["digest"]) for r in good.values()}) > 1:
            ok = False
            print(f"MISMATCH on {w.name}: "
                  + ", ".join(f"{e}={r['count']} tuples/{r['digest']}" for e, r in good.items()),
                  file=sys.stderr)
            for e, r in good.items():
                if "per_relation" in r:
                    print(f"    {e}: {r['per_relation']}", file=sys.stderr)
        counts = {r["count"] for r in good.values()}
        rows.append((w.name, spec.notes, counts.pop() if len(counts) == 1 else None, res))
        raw[w.name] = {"notes": spec.notes, "results": res}
    print(f"machine: {os.cpu_count()} CPUs, load average at start {load0[0]:.1f},"
          f" at end {os.getloadavg()[0]:.1f}; Python {sys.version.split()[0]}; size {size};"
          f" repeat {args.repeat}")
    print_tables(rows, engines)
    if args.json:
        args.json.write_text(json.dumps(raw, indent=1))
    print()
    print("all engines agree" if ok else "FAILED: errors or mismatches above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
