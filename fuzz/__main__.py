"""`python -m fuzz [TARGET ...]`: run the fuzz suite (docs/security.md)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from fuzz.runner import replay, run_target, worker
from fuzz.targets import load_all


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    p.add_argument("targets", nargs="*", help="target names or prefixes (default: all)")
    p.add_argument("--cases", type=int, default=100_000, help="cases per target")
    p.add_argument("--seconds", type=float, default=600.0, help="time limit per target")
    p.add_argument("--seed", type=int, default=1, help="run seed (the same seed, the same inputs)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds one case may take")
    p.add_argument("--list", action="store_true", help="list the targets")
    p.add_argument("--replay", type=Path, help="run one saved input (needs one target name)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--stop", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--until", type=float, default=0.0, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        worker(a.worker, a.seed, a.start, a.stop, time.monotonic() + a.until)
        return 0
    targets = load_all()
    if a.list:
        for name in targets:
            print(name)
        return 0
    chosen = [t for n, t in targets.items()
              if not a.targets or any(n == s or n.startswith(s + ".") for s in a.targets)]
    if a.replay:
        if len(chosen) != 1:
            p.error("--replay needs exactly one target")
        return replay(chosen[0].name, a.replay)
    if not chosen:
        p.error(f"no target matches {' '.join(a.targets)}")
    bad = 0
    print(f"{'target':32} {'cases':>8} {'seconds':>8} {'slowest':>8} findings", flush=True)
    for t in chosen:
        r = run_target(t, a.cases, a.seconds, a.seed, a.timeout)
        print(f"{r.name:32} {r.cases:8d} {r.seconds:8.1f} {r.slowest:8.3f} {len(r.findings)}",
              flush=True)
        for f in r.findings[:10]:
            print(f"  {f}")
        bad += len(r.findings)
    print(f"{len(chosen)} targets, {bad} findings")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
