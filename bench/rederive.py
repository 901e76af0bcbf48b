"""Re-deriving a recorded guest: the time to evaluate the shipped program over each fact
snapshot (``facts/*``), as a fleet does for an image whose facts are cached.

For each snapshot: ``first`` is the evaluation by a freshly loaded program (every rule it
reaches is compiled then), ``later`` the median of ``-n`` evaluations by a program that has
evaluated it before (a fresh Database each time: facts loaded from the files, every rule
evaluated; only the compiled rules are reused), in wall-clock and CPU milliseconds (the CPU
time is the steadier figure on a loaded machine). Run: ``python -m bench.rederive [-n 9]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from guestinspect.inspection.driver import new_program, run_snapshot

FACTS = Path(__file__).resolve().parent.parent / "facts"
#: What one later re-derivation may take (issue 15), in milliseconds.
TARGET_MS = 30


def snapshots() -> list[Path]:
    """Every recorded snapshot directory (``facts/synthetic`` holds several)."""
    out: list[Path] = []
    for d in sorted(FACTS.iterdir()):
        if not d.is_dir():
            continue
        if any(d.glob("*.facts")):
            out.append(d)
        else:
            out.extend(sorted(s for s in d.iterdir() if s.is_dir() and any(s.glob("*.facts"))))
    return out


def timed(fn: object) -> tuple[float, float]:
    """(wall, CPU) seconds of ``fn()``."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("-n", type=int, default=9, help="evaluations per snapshot (median)")
    ap.add_argument("--only", action="append", default=[],
                    help="snapshot name (repeatable; default: all)")
    args = ap.parse_args()
    dirs = [d for d in snapshots() if not args.only or d.name in args.only]
    load0 = os.getloadavg()[0]
    start = time.perf_counter()
    shared = new_program()
    load = time.perf_counter() - start
    print(f"program loaded in {load * 1000:.0f} ms; {len(dirs)} snapshots, "
          f"median of {args.n}")
    print(f"{'snapshot':<30} {'first ms':>9} {'later ms':>9} {'later CPU ms':>13}")
    walls: list[float] = []
    cpus: list[float] = []
    for d in dirs:
        fresh = new_program()
        first, _ = timed(lambda: run_snapshot(fresh, d))  # noqa: B023
        run_snapshot(shared, d)
        runs = [timed(lambda: run_snapshot(shared, d)) for _ in range(args.n)]  # noqa: B023
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        walls.append(wall)
        cpus.append(cpu)
        name = d.relative_to(FACTS).as_posix()
        print(f"{name:<30} {first * 1000:>9.0f} {wall * 1000:>9.1f} {cpu * 1000:>13.1f}")
    wall, cpu = statistics.fmean(walls), statistics.fmean(cpus)
    print(f"{'mean (later)':<30} {'':>9} {wall * 1000:>9.1f} {cpu * 1000:>13.1f}")
    print(f"=> later re-derivations: {wall * 1000:.1f} ms wall, {cpu * 1000:.1f} ms CPU on "
          f"average (target <= {TARGET_MS} ms); {sum(c * 1000 <= TARGET_MS for c in cpus)} of "
          f"{len(cpus)} snapshots within it (CPU)")
    print(f"=> {60 / cpu:.0f} re-derivations per CPU minute; load average "
          f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
